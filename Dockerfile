# llmspell-fleet in a container: the fleet manager in the foreground (with its HTTP API, the
# dashboard and /metrics), the router and every CLI command, and ipykernel so the fleet can run
# python backends inside it.
#
#   docker build -t llmspell-fleet .
#   docker run -d -v llmspell-fleet:/var/lib/llmspell-fleet -p 127.0.0.1:9464:9464 llmspell-fleet
#
# BASE_IMAGE is any Debian bookworm image with Node.js 20 (node and npm on PATH); the public
# node:20-bookworm-slim by default. Both stages use it, so one argument switches the whole build
# (the tests build on a local base, as no registry is reachable there).
# A TLS-intercepting proxy between the build and the npm registry: pass its CA certificate as
# the build secret `npm_ca` (`--secret id=npm_ca,src=/path/ca.crt`); it never enters a layer.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /opt/llmspell-fleet
COPY package.json package-lock.json ./
# Optional dependencies are installed here (esbuild's binary for this platform is one: the build
# bundles the router) and pruned below with the dev ones (tslab too: the image ships the python runtime).
RUN --mount=type=secret,id=npm_ca,required=false \
    NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY scripts/bundle.mjs scripts/build-stub.mjs ./scripts/
COPY native ./native
COPY src ./src
RUN npm run build && npm prune --omit=dev --omit=optional --no-audit --no-fund --loglevel=error

FROM ${BASE_IMAGE}
# python3-ipykernel from Debian: the fleet's `python` runtime (kernelspec python3). tini reaps
# the backends' orphaned children, which the manager (a Node process) would leave as zombies.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-ipykernel tini \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -c 'import ipykernel' \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/llmspell-fleet --no-create-home fleet \
 && install -d -m 0700 -o fleet -g fleet /var/lib/llmspell-fleet
WORKDIR /opt/llmspell-fleet
COPY --from=build /opt/llmspell-fleet/package.json ./
COPY --from=build /opt/llmspell-fleet/node_modules ./node_modules
COPY --from=build /opt/llmspell-fleet/dist ./dist
COPY kernelspec ./kernelspec
COPY container/fleet.toml /etc/llmspell-fleet/fleet.toml
RUN ln -s /opt/llmspell-fleet/dist/src/cli/main.js /usr/local/bin/llmspell-fleet \
 && chmod 0755 dist/src/cli/main.js
ENV LLMSPELL_FLEET_HOME=/var/lib/llmspell-fleet \
    LLMSPELL_FLEET_CONFIG=/etc/llmspell-fleet/fleet.toml
USER fleet
EXPOSE 9464
# Exits 0 when the manager answers on its socket and its HTTP API responds (Docker runs this on a
# timer; podman without systemd runs it on `podman healthcheck run`).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["llmspell-fleet", "service", "check"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["llmspell-fleet", "manager", "--foreground"]
