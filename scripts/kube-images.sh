#!/usr/bin/env bash
# Builds the two images the kubelet tests run, because no registry is reachable here, and saves
# them as archives a test's own containerd imports (`ctr -n k8s.io images import`):
#   localhost/llmspell-fleet-kube-pause:1     the pod sandbox (a static Go program that waits
#                                             for SIGTERM), containerd's sandbox_image
#   localhost/llmspell-fleet-kube-ipykernel:1 ipykernel in a venv at /opt/kernel on the local
#                                             Debian base (scripts/container-base.sh), installed
#                                             offline from a wheelhouse downloaded here from PyPI
# into ~/.cache/llmspell-fleet/kube/images/. Idempotent: existing archives are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${LLMSPELL_KUBE_IMAGES:-$HOME/.cache/llmspell-fleet/kube/images}
PAUSE=localhost/llmspell-fleet-kube-pause:1
KERNEL=localhost/llmspell-fleet-kube-ipykernel:1
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
# runc and a nofile limit under the hard one: podman's defaults (crun, 1M files) fail here.
build=(podman --runtime runc build --quiet --network none --ulimit "nofile=4096:4096")
if [ -f "$CACHE/pause.tar" ] && [ -f "$CACHE/ipykernel.tar" ]; then
  echo "kube-images: cached"
  exit 0
fi
mkdir -p "$CACHE"
ctx=$(mktemp -d /tmp/llmspell-fleet-kube-images.XXXXXX)
trap 'rm -rf "$ctx"' EXIT

if [ ! -f "$CACHE/pause.tar" ]; then
  mkdir "$ctx/pause"
  cat >"$ctx/pause/pause.go" <<'GO'
// The pod sandbox's only process: holds the pod's namespaces until the kubelet stops it.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
GO
  (cd "$ctx/pause" && CGO_ENABLED=0 GOFLAGS= GO111MODULE=off "$GO" build -trimpath -ldflags "-s -w" -o pause pause.go)
  printf 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n' >"$ctx/pause/Containerfile"
  "${build[@]}" -t "$PAUSE" "$ctx/pause" >/dev/null
  podman save --quiet --format docker-archive -o "$CACHE/pause.tar.part" "$PAUSE"
  mv "$CACHE/pause.tar.part" "$CACHE/pause.tar"
  echo "kube-images: built $PAUSE"
fi

if [ ! -f "$CACHE/ipykernel.tar" ]; then
  scripts/ipykernel-image.sh "$KERNEL"
  podman save --quiet --format docker-archive -o "$CACHE/ipykernel.tar.part" "$KERNEL"
  mv "$CACHE/ipykernel.tar.part" "$CACHE/ipykernel.tar"
  echo "kube-images: built $KERNEL"
fi
