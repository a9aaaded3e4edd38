#!/usr/bin/env bash
# Makes a container engine available on a machine like our CI runners: Debian, root, no
# bridge networking allowed. Installs docker.io when missing, starts dockerd without a bridge
# or iptables rules (containers use --network host), and waits until `docker info` answers.
# With --podman it also installs podman and sets it to the vfs storage driver.
# Idempotent: running it again on a ready machine changes nothing.
set -euo pipefail

want_podman=0
for arg in "$@"; do
  case "$arg" in
    --podman) want_podman=1 ;;
    *) echo "usage: $0 [--podman]" >&2; exit 2 ;;
  esac
done

log() { printf '[engine] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  }
}

if docker info >/dev/null 2>&1; then
  log "docker is running"
else
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    log "starting dockerd (no bridge, no iptables)"
    as_root sh -c 'nohup dockerd --bridge=none --iptables=false --ip-masq=false >/tmp/c8y-ms-dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see /tmp/c8y-ms-dockerd.log"; tail -20 /tmp/c8y-ms-dockerd.log >&2 || true; exit 1; }
  log "docker is running"
fi

if [ "$want_podman" -eq 1 ]; then
  command -v podman >/dev/null 2>&1 || apt_install podman
  conf=/etc/containers/storage.conf
  if [ ! -f "$conf" ]; then
    # overlay needs kernel features these machines lack; vfs always works.
    as_root mkdir -p /etc/containers
    printf '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n' | as_root tee "$conf" >/dev/null
  fi
  containers_conf=/etc/containers/containers.conf
  if [ ! -f "$containers_conf" ]; then
    # podman's default ulimits exceed what these machines allow, and `podman run` then fails
    # with "error setting rlimit". Stay within the open-files hard limit, and cap processes at
    # the platform's own thread quota (10240, platform.md §2).
    as_root mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=10240:10240"]\n' \
      "$(ulimit -Hn)" "$(ulimit -Hn)" | as_root tee "$containers_conf" >/dev/null
  fi
  podman info >/dev/null 2>&1 || { log "podman is installed but 'podman info' fails"; podman info >&2 || true; exit 1; }
  log "podman is ready"
fi
