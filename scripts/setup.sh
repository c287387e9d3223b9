#!/usr/bin/env bash
# Installs everything llmspell-fleet and its tests need on a fresh machine, then builds.
# Idempotent: a second run only checks. No network beyond the npm, PyPI and Debian registries.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v python3 >/dev/null || need_apt+=(python3)
python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
# The kernel stub (native/kernel-stub.c) each notebook runs in front of the shared router host.
command -v cc >/dev/null || command -v gcc >/dev/null || need_apt+=(gcc libc6-dev)
# The llmspell adapter's network isolation: unshare and setpriv (util-linux), ip (iproute2).
command -v unshare >/dev/null || need_apt+=(util-linux)
command -v ip >/dev/null || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || need_apt+=(iproute2)
# The JupyterLab end-to-end test drives Debian's Chromium (playwright-core downloads no browser).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# The metrics end-to-end test scrapes the manager with Debian's Prometheus (and lints with its
# promtool); the test starts its own server on 127.0.0.1. Where Debian starts the packaged
# service (systemd), `systemctl disable --now prometheus` stops it; the tests do not need it.
command -v prometheus >/dev/null && command -v promtool >/dev/null || need_apt+=(prometheus)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js >= 20 is required (found $(node --version))" >&2
  exit 1
fi

echo "setup: npm packages"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi

echo "setup: Python venv with the Jupyter pieces (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
# This package is "type": "module"; without this, Node would read JupyterLab's own .js helpers
# under .venv as ES modules and they would fail (its build check prints errors at every start).
[ -f .venv/package.json ] || echo '{"type": "commonjs"}' > .venv/package.json
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Container backends' tests: podman + runc, the local base image and the ipykernel test image.
scripts/setup-containers.sh
# The fleet as a service: systemd-analyze, podman + podman-compose, the local images (issue #10).
scripts/setup-service.sh
# Kubernetes tests: etcd, containerd, kube-apiserver/kubelet/kwok built once into ~/.cache (about 35 min cold).
scripts/setup-kube.sh

echo "setup: build"
npm run --silent build
echo "setup: done"
