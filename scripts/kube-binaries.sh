#!/usr/bin/env bash
# Builds the Kubernetes binaries the Kubernetes tests start, because none is packaged and no
# release download is reachable here: kube-apiserver and kubelet from the Go module proxy, and
# kwok (simulated nodes and pods) with its stage files. They land in a cache outside the repo,
# ~/.cache/llmspell-fleet/kube/v<version>/{bin,stages}, and are rebuilt only when missing.
#
# `go install k8s.io/kubernetes/cmd/...` is refused ("contains replace directives"), so this
# builds from a small wrapper module that requires k8s.io/kubernetes and repeats its replace
# lines, pointed at the staging modules' published versions (v0.<minor>.<patch>). The list is
# read from k8s.io/kubernetes's own go.mod, not typed here.
#
# Slow the first time (about 30 minutes on 2 busy cores, mostly kube-apiserver); seconds after.
# Prints the cache directory on its last line.
set -euo pipefail
KUBE_VERSION=${LLMSPELL_KUBE_VERSION:-1.34.4}
KWOK_VERSION=${LLMSPELL_KWOK_VERSION:-0.8.0}
CACHE=${LLMSPELL_KUBE_CACHE:-$HOME/.cache/llmspell-fleet/kube/v$KUBE_VERSION}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$GO" ] || { echo "kube-binaries: no Go toolchain (set GO=/path/to/go)" >&2; exit 1; }
# The module cache and build cache persist across runs, so a rebuild after a cache wipe of
# ~/.cache/llmspell-fleet only relinks. -buildvcs=false: the wrapper is not a repository.
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local
export GOCACHE=${GOCACHE:-$HOME/.cache/go-build}

bin=$CACHE/bin
stages=$CACHE/stages
have() { [ -x "$bin/$1" ]; }
if have kube-apiserver && have kubelet && have kwok && [ -f "$stages/.complete" ]; then
  echo "kube-binaries: cached"
  echo "$CACHE"
  exit 0
fi
mkdir -p "$bin" "$stages"
started=$(date +%s)

if ! have kube-apiserver || ! have kubelet; then
  staging_version="v0.${KUBE_VERSION#1.}"
  wrapper=$CACHE/wrapper
  rm -rf "$wrapper"
  mkdir -p "$wrapper"
  echo "kube-binaries: reading k8s.io/kubernetes v$KUBE_VERSION's go.mod"
  gomod=$(cd "$wrapper" && "$GO" mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",\?$/\1/p')
  [ -f "$gomod" ] || { echo "kube-binaries: could not download k8s.io/kubernetes v$KUBE_VERSION" >&2; exit 1; }
  {
    echo "module llmspell-fleet/kube-binaries"
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
    grep '^godebug ' "$gomod" || true
    echo
    echo "require k8s.io/kubernetes v$KUBE_VERSION"
    echo
    # Every `k8s.io/x => ./staging/src/k8s.io/x` line becomes `k8s.io/x => k8s.io/x v0.Y.Z`.
    sed -n "s#^\t*\(k8s\.io/[A-Za-z0-9._/-]*\) => \./staging/src/.*#replace \1 => \1 $staging_version#p" "$gomod"
  } > "$wrapper/go.mod"
  count=$(grep -c '^replace ' "$wrapper/go.mod")
  [ "$count" -gt 20 ] || { echo "kube-binaries: only $count staging replaces found in $gomod" >&2; exit 1; }
  echo "kube-binaries: building kube-apiserver and kubelet v$KUBE_VERSION ($count staging modules; about 30 minutes the first time)"
  minor=${KUBE_VERSION#1.}; minor=${minor%%.*}
  ldflags="-s -w"
  for v in "k8s.io/component-base/version.gitVersion=v$KUBE_VERSION" \
           "k8s.io/component-base/version.gitMajor=1" \
           "k8s.io/component-base/version.gitMinor=$minor" \
           "k8s.io/component-base/version.gitTreeState=clean"; do
    ldflags="$ldflags -X $v"
  done
  (cd "$wrapper" && "$GO" build -trimpath -ldflags "$ldflags" -o "$bin/" \
     k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubelet)
fi

if ! have kwok; then
  echo "kube-binaries: building kwok v$KWOK_VERSION"
  GOBIN=$bin "$GO" install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
fi

if [ ! -f "$stages/.complete" ]; then
  # kwok exits with "no stages found" without these: node/fast and node/heartbeat make its
  # nodes Ready, pod/fast moves pods to Running (and deletes them promptly).
  kwok_dir=$(cd "$CACHE" && GOFLAGS= "$GO" mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",\?$/\1/p')
  for s in node-fast node-heartbeat pod-fast; do
    src=$kwok_dir/kustomize/stage/${s%%-*}/${s#*-}
    [ -d "$src" ] || { echo "kube-binaries: kwok stage directory $src is missing" >&2; exit 1; }
    for f in "$src"/*.yaml; do
      case $f in */kustomization.yaml) continue ;; esac
      cp "$f" "$stages/$s-$(basename "$f")"
    done
  done
  chmod u+w "$stages"/*.yaml
  touch "$stages/.complete"
fi
echo "kube-binaries: done in $(( $(date +%s) - started )) s"
echo "$CACHE"
