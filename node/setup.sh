#!/usr/bin/env bash
# Installs what a heatmesh node and its tests need on a Debian machine, and nothing twice.
# Run by `npm start` and `npm test` (their pre-scripts), so a fresh clone needs no other step.
#   1. Debian packages: the build libraries node-canvas compiles against (it has no prebuilt
#      binary reachable here), bpftrace for the eBPF backend, chromium for the web UI's browser
#      test (test/e2e/ui.test.ts drives it with playwright-core). Installed only when missing and
#      only when we are root; otherwise we say what is missing and go on (the daemon falls
#      back to other backends; canvas then fails to build and says so).
#   2. npm packages: `npm ci` when package.json or package-lock.json changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(build-essential pkg-config libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev bpftrace chromium)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (need root to install): ${missing[*]}" >&2
  fi
fi

# npm keeps node_modules/.package-lock.json in step with what it installed: when it is newer
# than package.json and package-lock.json, node_modules is what the lock asks for.
hidden=node_modules/.package-lock.json
if [ ! -f "$hidden" ] || [ package.json -nt "$hidden" ] || [ package-lock.json -nt "$hidden" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
