#!/usr/bin/env bash
# Makes sure a Docker engine answers, for the Docker tests and `em-sim images`. Idempotent:
#   - an engine already answers (or DOCKER_HOST is set): check it, change nothing;
#   - else, as root on Debian: install docker.io (plus busybox-static and mmdebstrap, which build
#     the catalog's stand-in images offline), start dockerd detached and wait until it answers;
#   - else: say what to install or start, and exit 1.
# There is no systemd on the machines this targets, so dockerd is started by hand, with its
# stdin, stdout and stderr redirected so that it never holds the caller's output open.
set -uo pipefail

LOG=/var/log/dockerd.log
# After a machine stopped with containers running, dockerd restores each of them before it answers
# (seen here: 2.5 min for 400), so the wait is long; progress is printed every 30 s.
WAIT_SECONDS=${ENSURE_DOCKER_TIMEOUT:-600}
PACKAGES=(docker.io busybox-static mmdebstrap ca-certificates)

say() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}
# A dockerd still starting may accept on its socket and hold the request: each probe is bounded.
engine_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

if [[ -n "${DOCKER_HOST:-}" ]]; then
  engine_answers && {
    say "the Docker engine at DOCKER_HOST=$DOCKER_HOST answers"
    exit 0
  }
  command -v docker >/dev/null 2>&1 || die "DOCKER_HOST=$DOCKER_HOST is set but the docker command is missing: install the Docker CLI (Debian: apt-get install docker.io)"
  die "DOCKER_HOST=$DOCKER_HOST is set but no Docker engine answers there (docker info fails): start the engine there, or unset DOCKER_HOST to use a local one"
fi

if engine_answers; then
  say "a Docker engine answers"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  die "no Docker engine answers, and installing or starting one needs root: run this script as root, or install Docker yourself (Debian: apt-get install ${PACKAGES[*]}) and start it (dockerd), or set DOCKER_HOST"
fi
if [[ ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null 2>&1; then
  die "no Docker engine answers, and this script installs one only on Debian (apt-get): install Docker Engine for this system and start it (dockerd), or set DOCKER_HOST; for offline stand-in images also install busybox (static) and mmdebstrap"
fi

# --- install what is missing ------------------------------------------------------------------
# shellcheck source=lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"
apt_install_missing "${PACKAGES[@]}"
command -v dockerd >/dev/null 2>&1 || die "dockerd is missing although docker.io is installed; reinstall it: apt-get install --reinstall docker.io"

# --- start dockerd, unless one is already starting -----------------------------------------------
# dockerd gives its containerd 15 s to come up. After a machine stopped with containers running,
# containerd first cleans up every dead shim (about 50 ms each here), and with a few hundred of them
# dockerd exits with "timeout waiting for containerd to start" although containerd goes on. Each
# new start carries on where the last one stopped (and reuses a containerd still running), so that
# exit is retried, up to ENSURE_DOCKER_ATTEMPTS starts, each waited for up to WAIT_SECONDS.
ATTEMPTS=${ENSURE_DOCKER_ATTEMPTS:-8}
pid=""
# With job control off, setsid execs dockerd in place, so $! is dockerd; the pid file covers the
# case where it had to fork.
alive() { kill -0 "$pid" 2>/dev/null || { [[ -s /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; }; }
# The log of the current start: the lines from its own marker on.
this_start() { awk -v marker="=== ensure-docker: start $attempt " 'index($0, "=== ensure-docker: start ") == 1 { on = index($0, marker) == 1 } on' "$LOG"; }
mark_start() { printf '=== ensure-docker: start %d at %s\n' "$attempt" "$(date -u +%FT%TZ)" >>"$LOG"; }
for ((attempt = 1; ; attempt++)); do
  if [[ -s /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    pid=$(cat /var/run/docker.pid)
    say "dockerd (pid $pid) is running but does not answer yet; waiting for it"
    mark_start
  else
    if ((attempt == 1)); then
      say "starting dockerd (log: $LOG)"
      : >"$LOG"
    fi
    mark_start
    setsid dockerd >>"$LOG" 2>&1 </dev/null &
    pid=$!
  fi
  started=$SECONDS
  deadline=$((SECONDS + WAIT_SECONDS))
  next_report=$((SECONDS + 30))
  exited=""
  until engine_answers; do
    if ((SECONDS >= next_report)); then
      next_report=$((SECONDS + 30))
      say "still waiting for dockerd ($((SECONDS - started)) s); its last line: $(tail -n 1 "$LOG" | cut -c1-160)"
    fi
    if ((SECONDS - started >= 2)) && ! alive; then
      exited=1
      break
    fi
    if ((SECONDS >= deadline)); then
      say "dockerd did not answer within ${WAIT_SECONDS} s; the end of $LOG:"
      tail -n 20 "$LOG" >&2
      die "no Docker engine answers after ${WAIT_SECONDS} s: see $LOG"
    fi
    sleep 0.5
  done
  [[ -z "$exited" ]] && break
  # grep -c reads to the end (grep -q would stop early, and pipefail read a cut-off awk as no match).
  if (($(this_start | grep -c 'timeout waiting for containerd to start') > 0)) && ((attempt < ATTEMPTS)); then
    shims=$(this_start | grep -c 'cleaning up dead shim')
    say "dockerd gave up waiting for its containerd (start $attempt of $ATTEMPTS; containerd cleaned up $shims dead shims of containers that ran when the machine last stopped); starting it again"
    sleep 1
    continue
  fi
  say "dockerd exited before it answered; the end of $LOG:"
  tail -n 20 "$LOG" >&2
  die "dockerd could not start: see $LOG"
done
say "dockerd answers (pid $pid)"
