#!/bin/sh
# em-sim's container entrypoint. Started as root (the default), it gives up root before em-sim
# starts: em-sim runs as the owner of its data directory (uid 1000 for the image's own volume; a
# mounted host folder keeps its owner, never chowned), with the Docker socket's group and only
# two capabilities, CAP_DAC_OVERRIDE and CAP_FOWNER, so that it can read and delete the files
# pods write as root into their volumes, as em-sim on a host run by root can (and reach the
# socket whatever its mode). Started with --user, or with EM_SIM_RUN_AS_ROOT=1, it runs em-sim
# as it is.
set -eu
data=${EM_SIM_DATA_DIR:-/var/lib/em-sim}
if [ "$(id -u)" = 0 ] && [ "${EM_SIM_RUN_AS_ROOT:-0}" != 1 ]; then
  mkdir -p "$data"
  uid=$(stat -c %u "$data")
  gid=$(stat -c %g "$data")
  if [ "$uid" = 0 ]; then
    # A fresh volume Docker made as root: it becomes the image's user's.
    chown 1000:1000 "$data"
    uid=1000
    gid=1000
  fi
  socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
  socket=${socket#unix://}
  groups=$gid
  if [ -S "$socket" ]; then
    groups="$gid,$(stat -c %g "$socket")"
  elif [ "${1:-}" = start ]; then
    echo "em-sim: no Docker socket at $socket: pods and builds will answer 503 (mount it: -v /var/run/docker.sock:/var/run/docker.sock)" >&2
  fi
  caps=+dac_override,+fowner
  exec /usr/bin/setpriv --reuid="$uid" --regid="$gid" --groups="$groups" \
    --inh-caps="$caps" --ambient-caps="$caps" --bounding-set=-all,"$caps" \
    -- node /app/bin/em-sim.js "$@"
fi
exec node /app/bin/em-sim.js "$@"
