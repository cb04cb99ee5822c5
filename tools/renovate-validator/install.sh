#!/usr/bin/env bash
# npm test's pretest: installs Renovate's validator and the Node 24 it runs on (npm ci), unless node_modules here
# was installed from this very package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
if ! cmp -s package-lock.json node_modules/.installed-from-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-from-lock
fi
