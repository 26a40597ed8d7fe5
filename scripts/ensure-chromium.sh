#!/usr/bin/env bash
# Makes sure a Chromium is here for the dashboard's browser tests (test/docker/dashboard.test.ts),
# which drive it headless with playwright-core: Debian's `chromium` package, since
# `npx playwright install` cannot download a browser where the CDN is unreachable.
# EM_SIM_CHROMIUM names another Chromium or Chrome binary. Idempotent; says what to install where
# it cannot (not root, not Debian).
set -uo pipefail

BROWSER=${EM_SIM_CHROMIUM:-/usr/bin/chromium}
say() { printf 'ensure-chromium: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}
ready() { [[ -x $BROWSER ]] && "$BROWSER" --headless --no-sandbox --disable-gpu --version >/dev/null 2>&1; }

ready && exit 0
if [[ -n ${EM_SIM_CHROMIUM:-} ]]; then
  die "EM_SIM_CHROMIUM=$EM_SIM_CHROMIUM does not run: point it at a Chromium or Chrome binary"
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  die "$BROWSER is missing: install Chromium (Debian: apt-get install chromium), or set EM_SIM_CHROMIUM to a Chromium or Chrome binary"
fi
export DEBIAN_FRONTEND=noninteractive
say "installing chromium (the dashboard's browser tests drive it headless)"
apt-get install -y -q chromium >/dev/null ||
  { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } ||
  die "apt-get install chromium failed (see above)"
ready || die "$BROWSER still does not run after installing chromium"
