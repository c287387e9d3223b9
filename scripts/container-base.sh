#!/usr/bin/env bash
# Builds the local base image the container tests use, because no registry is reachable here:
# Debian bookworm (minbase) from Debian's own mirror, with python3, imported into podman as
# localhost/llmspell-fleet-base:bookworm. Users build on a public base image instead (the
# Dockerfile takes its base as a build argument). Idempotent: an existing image is kept.
# Takes about 3 minutes and 200 MB the first time.
set -euo pipefail
IMAGE=${LLMSPELL_FLEET_BASE_IMAGE:-localhost/llmspell-fleet-base:bookworm}
ENGINE=${LLMSPELL_FLEET_CONTAINER_ENGINE:-podman}
if "$ENGINE" image exists "$IMAGE" 2>/dev/null; then
  echo "container-base: $IMAGE is there"
  exit 0
fi
MIRROR=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d /tmp/llmspell-fleet-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "container-base: debootstrap bookworm from $MIRROR (about 3 minutes)"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2
  echo "container-base: debootstrap failed; the full log is $root.log" >&2
  exit 1
}
rm -f "$root.log"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | "$ENGINE" import --change 'CMD ["/bin/bash"]' - "$IMAGE" >/dev/null
echo "container-base: built $IMAGE"
