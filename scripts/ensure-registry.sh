#!/usr/bin/env bash
# A registry on 127.0.0.1 holding the offline base images, for the --engine none tests:
# installs Debian's docker-registry and skopeo when missing, starts the registry on
# 127.0.0.1:${C8Y_MS_TEST_REGISTRY_PORT:-5055} (plain HTTP, anonymous, its own storage under
# /var/lib/c8y-ms-test-registry) and pushes c8y-ms-base/node:local and c8y-ms-base/python:local
# from docker with skopeo. Run it after scripts/make-base-images.sh.
# Idempotent: a running registry is kept, an image already pushed is not pushed again.
set -euo pipefail

PORT=${C8Y_MS_TEST_REGISTRY_PORT:-5055}
ADDR=127.0.0.1:$PORT
STORE=/var/lib/c8y-ms-test-registry
CONFIG=$STORE/config.yml
IMAGES=(c8y-ms-base/node:local c8y-ms-base/python:local)

log() { printf '[registry] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  }
}

answers() { curl -fsS -o /dev/null "http://$ADDR/v2/" 2>/dev/null; }

command -v curl >/dev/null 2>&1 || apt_install curl
command -v docker-registry >/dev/null 2>&1 || apt_install docker-registry
command -v skopeo >/dev/null 2>&1 || apt_install skopeo

if answers; then
  log "registry is running on $ADDR"
else
  as_root mkdir -p "$STORE/data"
  # Its own configuration: loopback only, no auth, nothing shared with the package's service.
  as_root tee "$CONFIG" >/dev/null <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STORE/data
  delete:
    enabled: true
http:
  addr: $ADDR
EOF
  log "starting docker-registry on $ADDR"
  as_root sh -c "nohup docker-registry serve '$CONFIG' >/tmp/c8y-ms-registry.log 2>&1 &"
  for _ in $(seq 1 30); do answers && break; sleep 0.5; done
  answers || { log "the registry did not come up; see /tmp/c8y-ms-registry.log"; tail -20 /tmp/c8y-ms-registry.log >&2 || true; exit 1; }
fi

for image in "${IMAGES[@]}"; do
  if skopeo inspect --tls-verify=false "docker://$ADDR/$image" >/dev/null 2>&1; then
    log "$ADDR/$image is there"
    continue
  fi
  docker image inspect "$image" >/dev/null 2>&1 || { log "docker has no $image; run scripts/make-base-images.sh first"; exit 1; }
  log "pushing $image"
  # gzip layers, as registries serve official images.
  skopeo copy -q --dest-tls-verify=false --dest-compress-format gzip "docker-daemon:$image" "docker://$ADDR/$image"
done
log "ready: ${IMAGES[*]/#/$ADDR/}"
