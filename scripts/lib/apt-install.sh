# Sourced by the ensure-*.sh scripts (which define say and die): installs the Debian packages
# named that are not installed yet, running apt-get update first when the package lists do not
# know one of them, or once more when stale lists make the download fail. Needs root.
apt_install_missing() {
  local missing=() pkg known=1
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  export DEBIAN_FRONTEND=noninteractive
  for pkg in "${missing[@]}"; do
    apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]' || known=0
  done
  if ((known == 0)); then
    say "apt-get update (the package lists do not know ${missing[*]} yet)"
    apt-get update -q || die "apt-get update failed: Debian's package mirror must be reachable to install ${missing[*]}"
    apt-get install -y -q "${missing[@]}" || die "apt-get install ${missing[*]} failed (see above)"
  else
    say "installing ${missing[*]}"
    apt-get install -y -q "${missing[@]}" || { apt-get update -q && apt-get install -y -q "${missing[@]}"; } || die "apt-get install ${missing[*]} failed (see above)"
  fi
}
