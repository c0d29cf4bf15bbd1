#!/usr/bin/env bash
# npm packages (Mermaid, loaded from node_modules into Chromium; package-lock.json pins it); idempotent.
# Used by scripts/setup.sh and by the worker images in docker/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup/common.sh

want=$(sha256sum package-lock.json | cut -c1-16)
if [ -f "$STAMPS/npm" ] && [ "$(cat "$STAMPS/npm")" = "$want" ] && [ -d node_modules/mermaid ]; then
  log "npm packages: up to date"
  exit 0
fi
log "npm packages: installing from package-lock.json"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$STAMPS/npm"
