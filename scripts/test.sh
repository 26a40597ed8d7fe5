#!/usr/bin/env bash
# The README's test command: makes sure what the tests need is here, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  printf 'scripts/test.sh: %s\n' "$*" >&2
  exit 1
}

[[ -d node_modules ]] || npm ci --no-audit --no-fund
npx tsc --noEmit
# The bundle em-sim starts from (bin/em-sim.js falls back to the sources when it is older).
node scripts/bundle.mjs
# The Docker tests need an engine, arm64 emulation (pods run as linux/arm64 like CG2's nodes) and
# the onboard catalog's images (pulled, else built offline as stand-ins: the first time takes minutes).
bash scripts/ensure-docker.sh || fail "no Docker engine for the Docker tests (see the line above)"
bash scripts/ensure-arm64.sh || fail "no arm64 emulation for the Docker tests (see the line above)"
# One image of every stand-in family the tests run (each family's root is shared by all its tags).
TEST_IMAGES=(alpine:latest alpine:3.19 busybox:latest debian:bookworm-slim ubuntu:22.04 ubuntu:24.04
  python:3.10 python:3.10-slim python:3.11-alpine python:3.12-alpine node:18-slim node:20-alpine node:20-slim
  distroless-static:latest distroless-base:latest distroless-python3-debian12:latest distroless-nodejs20-debian12:latest)
node bin/em-sim.js images "${TEST_IMAGES[@]}" || fail "the catalog images the Docker tests use could not be made ready (see above)"
# The Python compatibility suite and the orbit test need Debian's python3 with requests and sgp4.
bash scripts/ensure-python.sh || fail "no python3 with requests and sgp4 for the Python suite and the orbit test (see the line above)"
# The dashboard's browser tests drive Debian's Chromium headless (playwright-core).
bash scripts/ensure-chromium.sh || fail "no Chromium for the dashboard's browser tests (see the line above)"
# The untagged <none> images on the engine before the run: the tests (and the simulator under
# test) must not add any (a replaced build or catalog tag removes the image it moved away from).
dangling() { docker images --filter dangling=true --quiet --no-trunc | sort; }
before=$(dangling)
npx vitest run "$@"
left=$(comm -13 <(printf '%s\n' "$before") <(dangling) | grep . || true)
[[ -z "$left" ]] || fail "the tests left untagged <none> images on the engine: $(echo $left | tr '\n' ' '); whatever replaced or untagged them must remove them (docker image inspect ID shows what they were)"
