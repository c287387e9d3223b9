#!/usr/bin/env bash
# What the "fleet as a service" tests need (test/e2e/service-*.test.ts): systemd-analyze to
# verify the user unit, podman + podman-compose to build and run the image and the compose
# stack, and local images in place of the public ones no registry here can serve:
#   localhost/llmspell-fleet-node:20-bookworm  the local Debian base + this host's Node 20 and npm
#                                              (stands in for node:20-bookworm-slim)
#   localhost/llmspell-fleet-prometheus:local  the local Debian base + Debian's prometheus binary
#                                              (stands in for prom/prometheus)
#   localhost/llmspell-fleet:test              the Dockerfile built on the Node base, once, so its
#                                              npm and apt layers are in podman's cache when the
#                                              test rebuilds it from the current sources.
# Idempotent: images that exist are kept (remove one to rebuild it). First run: about 6 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE=${LLMSPELL_FLEET_CONTAINER_ENGINE:-podman}
BASE=localhost/llmspell-fleet-base:bookworm
NODE_BASE=localhost/llmspell-fleet-node:20-bookworm
PROM_IMAGE=localhost/llmspell-fleet-prometheus:local
FLEET_IMAGE=localhost/llmspell-fleet:test
# This machine's runc may not raise limits above the caller's (no CAP_SYS_RESOURCE); these fit.
ULIMITS=(--ulimit nofile=16384:16384 --ulimit nproc=32768:32768)

need_apt=()
command -v systemd-analyze >/dev/null || need_apt+=(systemd)
command -v podman >/dev/null || need_apt+=(podman)
command -v runc >/dev/null || need_apt+=(runc)
command -v podman-compose >/dev/null || need_apt+=(podman-compose)
command -v debootstrap >/dev/null || need_apt+=(debootstrap)
command -v prometheus >/dev/null || need_apt+=(prometheus)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-service: installing Debian packages: ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
# podman's default runtime (crun) fails on hybrid cgroups; the same file setup-containers.sh writes.
conf=/etc/containers/containers.conf.d/50-llmspell-fleet.conf
if [ ! -f "$conf" ]; then
  mkdir -p "$(dirname "$conf")"
  printf '[engine]\nruntime = "runc"\n' >"$conf"
fi

scripts/container-base.sh

context=$(mktemp -d /tmp/llmspell-fleet-service.XXXXXX)
trap 'rm -rf "$context"' EXIT

if ! "$ENGINE" image exists "$NODE_BASE"; then
  node_bin=$(command -v node)
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  echo "setup-service: building $NODE_BASE from $BASE with $node_bin ($(node --version)) and $npm_dir"
  mkdir "$context/node"
  cp "$node_bin" "$context/node/node"
  cp -a "$npm_dir" "$context/node/npm"
  # The same paths as the official node images: /usr/local/bin and /usr/local/lib/node_modules.
  cat >"$context/node/Containerfile" <<EOF
FROM $BASE
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version && npm --version
EOF
  "$ENGINE" build -q "${ULIMITS[@]}" --network host -t "$NODE_BASE" "$context/node" >/dev/null
fi

if ! "$ENGINE" image exists "$PROM_IMAGE"; then
  echo "setup-service: building $PROM_IMAGE from $BASE with $(command -v prometheus)"
  mkdir "$context/prom"
  cp "$(command -v prometheus)" "$context/prom/prometheus"
  # As prom/prometheus: the binary is the entrypoint, the compose file gives its flags.
  cat >"$context/prom/Containerfile" <<EOF
FROM $BASE
COPY prometheus /bin/prometheus
RUN install -d -m 0777 /prometheus && /bin/prometheus --version
USER nobody
ENTRYPOINT ["/bin/prometheus"]
EOF
  "$ENGINE" build -q "${ULIMITS[@]}" --network host -t "$PROM_IMAGE" "$context/prom" >/dev/null
fi

if ! "$ENGINE" image exists "$FLEET_IMAGE"; then
  echo "setup-service: building $FLEET_IMAGE from the Dockerfile on $NODE_BASE (npm ci + apt; a few minutes)"
  "$ENGINE" build -q "${ULIMITS[@]}" --network host --build-arg "BASE_IMAGE=$NODE_BASE" \
    --secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt -t "$FLEET_IMAGE" . >/dev/null
fi
echo "setup-service: done"
