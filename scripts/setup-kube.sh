#!/usr/bin/env bash
# Kubernetes tests' set-up (README "Kubernetes (groundwork)"): Debian's etcd, containerd and
# runc; kube-apiserver, kubelet and kwok built from the Go module proxy (scripts/kube-binaries.sh,
# about 30 minutes on 2 cores the first time); the pause and ipykernel images the kubelet test
# runs (scripts/kube-images.sh, about 2 minutes plus the base image's 3). Everything built is
# cached under ~/.cache/llmspell-fleet/kube. Idempotent; a second run only checks (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v etcd >/dev/null || need_apt+=(etcd-server)
command -v containerd >/dev/null && command -v ctr >/dev/null || need_apt+=(containerd)
command -v runc >/dev/null || need_apt+=(runc)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v podman >/dev/null || need_apt+=(podman)
command -v debootstrap >/dev/null || need_apt+=(debootstrap)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-kube: installing Debian packages: ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# Kubernetes 1.34 needs Go 1.24 or newer; Debian 12's golang-go (1.19) is too old.
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
if ! [ -x "$GO" ] || ! "$GO" version | grep -qE 'go1\.(2[4-9]|[3-9][0-9])'; then
  echo "setup-kube: Go 1.24 or newer is needed to build Kubernetes (found: $("$GO" version 2>/dev/null || echo none)); install it from go.dev/dl and set GO=/path/to/go" >&2
  exit 1
fi
export GO

started=$(date +%s)
nice -n 19 scripts/kube-binaries.sh | sed -e 's/^/  /'
scripts/kube-images.sh | sed -e 's/^/  /'
echo "setup-kube: done in $(( $(date +%s) - started )) s"
