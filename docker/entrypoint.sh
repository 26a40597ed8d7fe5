#!/bin/sh
# em-sim's container entrypoint. Started as root (the default), it gives up root before em-sim
# starts: em-sim runs as uid 1000 with the Docker socket's group (whatever gid the host gave the
# socket) and only two capabilities, CAP_DAC_OVERRIDE and CAP_FOWNER, so that it can read and
# delete the files pods write as root into their volumes, as em-sim on a host run by root can.
# Started with --user, or with EM_SIM_RUN_AS_ROOT=1, it runs em-sim as it is.
set -eu
data=${EM_SIM_DATA_DIR:-/var/lib/em-sim}
if [ "$(id -u)" = 0 ] && [ "${EM_SIM_RUN_AS_ROOT:-0}" != 1 ]; then
  socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
  socket=${socket#unix://}
  groups=1000
  if [ -S "$socket" ]; then groups="1000,$(stat -c %g "$socket")"; fi
  mkdir -p "$data"
  chown 1000:1000 "$data"
  caps=+dac_override,+fowner
  exec /usr/bin/setpriv --reuid=1000 --regid=1000 --groups="$groups" \
    --inh-caps="$caps" --ambient-caps="$caps" --bounding-set=-all,"$caps" \
    -- node /app/bin/em-sim.js "$@"
fi
exec node /app/bin/em-sim.js "$@"
