#!/usr/bin/env bash
# Makes sure this machine runs arm64 programs (CG2's nodes are arm64; em-sim runs pods and builds
# as linux/arm64 under qemu-user-static). Idempotent:
#   - qemu-aarch64 already registered and enabled with binfmt_misc: change nothing;
#   - else, as root on Debian: install qemu-user-static and binfmt-support, mount binfmt_misc if it
#     is not, and register qemu-aarch64 (its "F" flag lets containers use it);
#   - else: say what to install, and exit 1.
set -uo pipefail

BINFMT=/proc/sys/fs/binfmt_misc
PACKAGES=(qemu-user-static binfmt-support)

say() { printf 'ensure-arm64: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}
enabled() { [[ -f $BINFMT/qemu-aarch64 ]] && head -n1 "$BINFMT/qemu-aarch64" | grep -qx enabled; }

[[ $(uname -m) == aarch64 ]] && {
  say "this machine is arm64: nothing to emulate"
  exit 0
}
enabled && {
  say "arm64 emulation (qemu-aarch64) is registered and enabled"
  exit 0
}
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  die "arm64 emulation is missing and setting it up needs root on Debian: install ${PACKAGES[*]} (Debian/Ubuntu), make sure binfmt_misc is mounted ($BINFMT) and run update-binfmts --enable qemu-aarch64; or set platform.architecture: native"
fi

# shellcheck source=lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"
apt_install_missing "${PACKAGES[@]}"
if [[ ! -f $BINFMT/register ]]; then
  say "mounting binfmt_misc on $BINFMT"
  mount -t binfmt_misc binfmt_misc "$BINFMT" || die "could not mount binfmt_misc on $BINFMT (a container without privileges cannot): run the tests where binfmt_misc is available, or set platform.architecture: native"
fi
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
enabled || die "qemu-aarch64 is still not enabled in $BINFMT after installing ${PACKAGES[*]}: run update-binfmts --display qemu-aarch64 to see why"
say "arm64 emulation (qemu-aarch64) registered and enabled"
