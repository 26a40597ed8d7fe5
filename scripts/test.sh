#!/usr/bin/env bash
# The README's test command: makes sure what the tests need is here, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -d node_modules ]] || npm ci --no-audit --no-fund
npx tsc --noEmit
npx vitest run "$@"
