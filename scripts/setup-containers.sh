#!/usr/bin/env bash
# Container backends' set-up (README "Container backends"): podman with runc, the local base
# image (scripts/container-base.sh) and the test kernel image localhost/llmspell-fleet-test-ipykernel,
# which runs ipykernel from a venv. No registry is reachable where the tests run, so the
# image's Python packages come from a wheelhouse downloaded here from PyPI and copied in.
# Idempotent; a second run only checks (about a second).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${LLMSPELL_FLEET_TEST_KERNEL_IMAGE:-localhost/llmspell-fleet-test-ipykernel}

need_apt=()
command -v podman >/dev/null || need_apt+=(podman)
command -v runc >/dev/null || need_apt+=(runc)
# `--init` runs catatonit as the container's pid 1, so SIGTERM and SIGINT reach the kernel.
command -v catatonit >/dev/null || [ -x /usr/libexec/podman/catatonit ] || need_apt+=(catatonit)
command -v debootstrap >/dev/null || need_apt+=(debootstrap)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-containers: installing Debian packages: ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# crun (podman's default) fails on cgroup v1 hybrid hosts. runc refuses to start a container whose
# rlimits exceed what it may set (here: nofile over the hard limit, nproc over 4096), and podman's
# defaults for root do exceed them, so the defaults are written down too.
conf=/etc/containers/containers.conf.d/50-llmspell-fleet.conf
if [ "$(id -u)" = 0 ] && ! grep -qs nproc "$conf"; then
  hard=$(ulimit -Hn)
  { [ "$hard" = unlimited ] || [ "$hard" -gt 20000 ]; } && hard=20000
  mkdir -p "$(dirname "$conf")"
  printf '[engine]\nruntime = "runc"\n[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=4096:4096"]\n' "$hard" "$hard" >"$conf"
  echo "setup-containers: wrote $conf"
fi

scripts/container-base.sh

if podman image exists "$IMAGE"; then
  echo "setup-containers: $IMAGE is there"
  exit 0
fi
echo "setup-containers: building $IMAGE"
scripts/ipykernel-image.sh "$IMAGE"
