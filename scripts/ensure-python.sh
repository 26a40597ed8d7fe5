#!/usr/bin/env bash
# Makes sure Debian's python3 has what the Python compatibility suite imports (requests; tqdm and
# requests-toolbelt too, which the provider's latest client uses), and sgp4 (Vallado's reference
# SGP4, the independent propagation the orbit test compares the telemetry twin with), and pytest
# (the em-sim-pytest plugin's example in clients/python/). PyPI is not reachable on the
# machines this targets, so the packages come from Debian. Idempotent; says what to install where
# it cannot (not root, not Debian).
set -uo pipefail

PYTHON=${EM_SIM_PYTHON:-/usr/bin/python3}
PACKAGES=(python3-requests python3-tqdm python3-requests-toolbelt python3-sgp4 python3-pytest)

say() { printf 'ensure-python: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}
ready() { [[ -x $PYTHON ]] && "$PYTHON" -c 'import requests, sgp4, pytest' >/dev/null 2>&1; }

ready && exit 0
if [[ -n ${EM_SIM_PYTHON:-} ]]; then
  die "EM_SIM_PYTHON=$EM_SIM_PYTHON cannot import requests, sgp4 and pytest: install them for that interpreter"
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  die "$PYTHON with requests and sgp4 is missing: install ${PACKAGES[*]} (Debian), or set EM_SIM_PYTHON to a python3 that has them"
fi
export DEBIAN_FRONTEND=noninteractive
say "installing ${PACKAGES[*]}"
# Lists that are missing or stale fail to find or download the packages: refresh them once and retry.
apt-get install -y -q python3-minimal "${PACKAGES[@]}" >/dev/null ||
  { apt-get update -q >/dev/null && apt-get install -y -q python3-minimal "${PACKAGES[@]}" >/dev/null; } ||
  die "apt-get install ${PACKAGES[*]} failed (see above)"
ready || die "$PYTHON still cannot import requests, sgp4 and pytest after installing ${PACKAGES[*]}"
