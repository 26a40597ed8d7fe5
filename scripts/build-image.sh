#!/usr/bin/env bash
# Builds em-sim's container image from the top-level Dockerfile and tags it em-sim:VERSION and
# em-sim:latest (or the one tag EM_SIM_IMAGE names).
#   - A registry answers (node:20-bookworm-slim can be pulled): plain `docker build .`.
#   - None does (as on the machines this targets), or --offline: offline, from what this machine
#     has: a base image of its own Node.js binary, busybox (static) and setpriv with the libraries
#     they load (docker import), and the production node_modules already installed here, handed
#     to the same Dockerfile as node_modules.tar. The Node.js binary is this machine's, so the
#     native better-sqlite3 module built for it loads in the image.
# Idempotent: an image already built from the same sources (by content) is kept (--force rebuilds it).
# Prints the image's tag on stdout, progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'build-image: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

mode=auto
force=0
for arg in "$@"; do
  case $arg in
    --offline) mode=offline ;;
    --registry) mode=registry ;;
    --force) force=1 ;;
    -h | --help)
      sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument $arg (expected --offline, --registry, --force)" ;;
  esac
done

command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 || die "no Docker engine answers: run bash scripts/ensure-docker.sh (as root on Debian), or start one"
version=$(node -p "require('./package.json').version")
tag=${EM_SIM_IMAGE:-em-sim:$version}

# What the image is made of, hashed (every file the context takes, by content; git or not): the
# same sources give the same image, which is then kept.
sources_hash=$(
  {
    find Dockerfile .dockerignore docker/entrypoint.sh scripts/bundle.mjs bin src ui package.json package-lock.json -type f -print0 | sort -z | xargs -0 sha256sum
    node -p process.version
    uname -m
  } | sha256sum | cut -c1-16
)
previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
# Tags em-sim:latest too, and removes the image this build replaced (left untagged otherwise).
tag_latest() {
  [[ -n ${EM_SIM_IMAGE:-} ]] || docker tag "$tag" em-sim:latest
  if [[ -n $previous && $previous != $(docker image inspect -f '{{.Id}}' "$tag") ]]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
  fi
}
if [[ $force == 0 ]] && [[ $(docker image inspect -f '{{ index .Config.Labels "em-sim.sources" }}' "$tag" 2>/dev/null || true) == "$sources_hash" ]]; then
  tag_latest
  say "$tag is up to date (sources $sources_hash)"
  echo "$tag"
  exit 0
fi

# A failed classic build keeps the steps that succeeded as untagged images: this build's last
# step image (from its own output) is removed, and with it the untagged steps below it.
build() {
  local log
  log=$(mktemp)
  if ! docker build --force-rm "$@" 2>&1 | tee "$log" >&2; then # pipefail: docker build's status
    local last
    last=$(grep -oE '^ ---> [0-9a-f]{12}$' "$log" | tail -1 | cut -c7-)
    if [[ -n $last && -z $(docker image inspect -f '{{join .RepoTags ","}}' "$last" 2>/dev/null) ]]; then
      docker rmi "$last" >/dev/null 2>&1 || true
    fi
    rm -f "$log"
    die "docker build failed (see above)"
  fi
  rm -f "$log"
}

if [[ $mode != offline ]]; then
  if timeout 120 docker pull -q node:20-bookworm-slim >/dev/null 2>&1 || docker image inspect node:20-bookworm-slim >/dev/null 2>&1; then
    say "building $tag from node:20-bookworm-slim"
    build --label "em-sim.sources=$sources_hash" -t "$tag" .
    tag_latest
    echo "$tag"
    exit 0
  fi
  [[ $mode == registry ]] && die "node:20-bookworm-slim cannot be pulled (no registry answers): build offline with --offline"
  say "no registry answers: building offline from this machine's Node.js"
fi

# ---- offline: a base image of this machine's node, busybox and setpriv ----------------------------
node_bin=$(readlink -f "$(command -v node)")
busybox_bin=$(command -v busybox || true)
[[ -n $busybox_bin ]] || busybox_bin=$(ls /bin/busybox /usr/bin/busybox 2>/dev/null | head -1 || true)
setpriv_bin=$(command -v setpriv || true)
tar_bin=$(readlink -f "$(command -v tar)")
tar --version 2>/dev/null | grep -q 'GNU tar' || die "the offline build needs GNU tar: apt-get install tar"
[[ -n $busybox_bin && -n $setpriv_bin ]] || die "the offline build needs busybox (static) and setpriv: apt-get install busybox-static util-linux"
file "$busybox_bin" 2>/dev/null | grep -q 'static' || ldd "$busybox_bin" 2>&1 | grep -q 'not a dynamic' || die "$busybox_bin is not static: apt-get install busybox-static"
node_version=$(node -p process.versions.node)
# Bumped when what goes into the base changes (r2: GNU tar; r3: no em-sim.role label to inherit).
base="em-sim-node-base:${node_version}-r3-$(uname -m)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! docker image inspect "$base" >/dev/null 2>&1; then
  say "making $base from $node_bin, $busybox_bin and $setpriv_bin"
  root=$work/root
  mkdir -p "$root"/{bin,usr/bin,usr/local/bin,etc,tmp,root,home/node,var/lib}
  chmod 1777 "$root/tmp"
  cp "$busybox_bin" "$root/bin/busybox"
  for applet in $("$busybox_bin" --list); do
    # setpriv is util-linux's (busybox's lacks --reuid); busybox's sh runs its own applets first.
    [[ -e $root/bin/$applet || $applet == setpriv || $applet == tar ]] || ln -s busybox "$root/bin/$applet"
  done
  cp "$node_bin" "$root/usr/local/bin/node"
  cp "$setpriv_bin" "$root/usr/bin/setpriv"
  # GNU tar: em-sim makes the services relay's and busybox stand-ins' root filesystems with it
  # (busybox's tar lacks --owner); first on PATH, before busybox's applets in /bin.
  cp "$tar_bin" "$root/usr/bin/tar"
  # The shared libraries node and setpriv load, at the paths the dynamic loader looks in.
  for lib in $({ ldd "$node_bin"; ldd "$setpriv_bin"; ldd "$tar_bin"; } | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' >"$root/etc/group"
  chown 1000:1000 "$root/home/node"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'CMD ["node"]' \
    --change "LABEL em-sim.node-base=$node_version" - "$base" >/dev/null
fi

# ---- offline: the build context, with the production node_modules as a tar -----------------------
[[ -d node_modules ]] || die "node_modules is missing: run npm ci first (the offline image takes the modules installed here)"
context=$work/context
mkdir -p "$context/docker"
cp -r Dockerfile .dockerignore bin src ui package.json package-lock.json "$context/"
cp docker/entrypoint.sh "$context/docker/"
mkdir -p "$context/scripts"
cp scripts/bundle.mjs "$context/scripts/"
# Every production package's folder (npm ls --omit=dev), without native build leftovers.
# A package nested in another's folder is in the tar with it (listed twice, tar would link it to itself).
npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s|^$PWD/||p" | grep '^node_modules/' | sort -u |
  awk 'kept == "" || index($0, kept "/") != 1 { print; kept = $0 }' >"$work/packages"
[[ -s $work/packages ]] || die "npm ls --omit=dev listed no packages: run npm ci first"
tar -c -f "$context/node_modules.tar" --exclude='node_modules/better-sqlite3/build/Release/obj*' \
  --exclude='node_modules/better-sqlite3/deps' --exclude='node_modules/better-sqlite3/src' \
  --exclude='*.md' --exclude='*.d.ts' --exclude='*.map' -T "$work/packages"
say "building $tag on $base ($(du -sh "$context/node_modules.tar" | cut -f1) of node_modules)"
build --build-arg "NODE_IMAGE=$base" --label "em-sim.sources=$sources_hash" -t "$tag" "$context"
tag_latest
echo "$tag"
