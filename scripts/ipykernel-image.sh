#!/usr/bin/env bash
# Builds IMAGE: ipykernel in a venv at /opt/kernel on the local Debian base
# (scripts/container-base.sh). No registry is reachable where the tests run, so the Python
# packages come from a wheelhouse downloaded here from PyPI (cached) and are installed offline.
# Used by setup-containers.sh (podman backends) and kube-images.sh (pods). Usage: ipykernel-image.sh IMAGE
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:?usage: scripts/ipykernel-image.sh IMAGE}
BASE=${LLMSPELL_FLEET_BASE_IMAGE:-localhost/llmspell-fleet-base:bookworm}
WHEELS=${XDG_CACHE_HOME:-$HOME/.cache}/llmspell-fleet/wheels
scripts/container-base.sh
mkdir -p "$WHEELS"
pip=.venv/bin/pip
[ -x "$pip" ] || pip="python3 -m pip"
# The base image's python3 is Debian bookworm's 3.11.
$pip download --quiet --disable-pip-version-check --only-binary=:all: --python-version 3.11 \
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
  -d "$WHEELS" ipykernel
ctx=$(mktemp -d /tmp/llmspell-fleet-ipykernel-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp -r "$WHEELS" "$ctx/wheels"
cat >"$ctx/Containerfile" <<CONTAINERFILE
FROM $BASE
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/kernel && /opt/kernel/bin/pip install --quiet --no-index --find-links /tmp/wheels ipykernel && rm -rf /tmp/wheels
ENV PATH=/opt/kernel/bin:/usr/local/bin:/usr/bin:/bin
CMD ["python", "-m", "ipykernel_launcher", "--help"]
CONTAINERFILE
# runc and a nofile limit under the hard one: podman's defaults (crun, 1M files) fail here.
podman --runtime runc build --quiet --network none --ulimit "nofile=4096:4096" -t "$IMAGE" "$ctx" >/dev/null
echo "ipykernel-image: built $IMAGE"
