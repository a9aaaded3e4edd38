#!/usr/bin/env bash
# Builds the base images our tests and the quick start build on, without pulling anything
# (no registry is reachable here). Each is a root file system assembled from this machine and
# imported with `docker import`:
#   c8y-ms-base/node:local    busybox, this machine's node and npm, its CA bundle
#   c8y-ms-base/python:local  busybox, this machine's python3 and its standard library
# The npm registry is reached through a TLS-inspecting proxy here, so the CA bundle is set as
# NODE_EXTRA_CA_CERTS and as npm's cafile: `npm ci` inside a build needs it.
# Idempotent: an image that exists is kept unless --force is given. Also imports into podman
# when podman is installed.
set -euo pipefail

force=0
[ "${1:-}" = "--force" ] && force=1

NODE_IMAGE=c8y-ms-base/node:local
PYTHON_IMAGE=c8y-ms-base/python:local
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

log() { printf '[base-images] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

have_image() { "$1" image inspect "$2" >/dev/null 2>&1; }

if [ ! -x /bin/busybox ] || ! /bin/busybox --list 2>/dev/null | grep -qx sh || ldd /bin/busybox >/dev/null 2>&1; then
  log "installing busybox-static"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null 2>&1 || {
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  }
fi

# Copies a binary or shared object and every library it links against into the root fs.
copy_with_libs() {
  local root=$1; shift
  for file in "$@"; do
    mkdir -p "$root$(dirname "$file")"
    cp -aL "$file" "$root$file"
    # Static binaries have no libraries: ldd fails and that is fine.
    { ldd "$file" 2>/dev/null || true; } | { grep -oE '/[^ ]+' || true; } | while read -r lib; do
      if [ ! -e "$root$lib" ]; then
        mkdir -p "$root$(dirname "$lib")"
        cp -aL "$lib" "$root$lib"
      fi
    done
  done
}

base_rootfs() {
  local root=$1
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/ssl/certs,tmp,root,home,var/tmp,app}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  # Scripts start with #!/usr/bin/env.
  ln -s ../../bin/busybox "$root/usr/bin/env"
  cp "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' > "$root/etc/group"
  printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
  mkdir -p "$root/home/node" && chown 1000:1000 "$root/home/node"
}

import_rootfs() {
  local root=$1 image=$2; shift 2
  local changes=()
  for change in "$@"; do changes+=(--change "$change"); done
  tar -C "$root" -c . | docker import "${changes[@]}" - "$image" >/dev/null
  if command -v podman >/dev/null 2>&1 && podman info >/dev/null 2>&1; then
    docker save "$image" | podman load >/dev/null 2>&1
  fi
}

build_node() {
  local root; root=$(mktemp -d); trap 'rm -rf "$root"' RETURN
  base_rootfs "$root"
  local node_bin; node_bin=$(readlink -f "$(command -v node)")
  copy_with_libs "$root" "$node_bin"
  [ "$node_bin" = /usr/bin/node ] || ln -sf "$node_bin" "$root/usr/bin/node"
  local npm_dir; npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  mkdir -p "$root/usr/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\nfund=false\naudit=false\n' > "$root/etc/npmrc"
  import_rootfs "$root" "$NODE_IMAGE" \
    'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
    "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
    "ENV NPM_CONFIG_GLOBALCONFIG=/etc/npmrc" \
    'WORKDIR /app' \
    'CMD ["node"]'
}

build_python() {
  local root; root=$(mktemp -d); trap 'rm -rf "$root"' RETURN
  base_rootfs "$root"
  # Debian's own interpreter, not a version manager's shim that may come first on PATH.
  local py=/usr/bin/python3.11
  [ -x "$py" ] || { log "$py not found on this machine; skipping $PYTHON_IMAGE"; return 0; }
  copy_with_libs "$root" "$py"
  mkdir -p "$root/usr/lib"
  cp -a /usr/lib/python3.11 "$root/usr/lib/python3.11"
  find "$root/usr/lib/python3.11" -name '__pycache__' -prune -exec rm -rf {} +
  rm -rf "$root/usr/lib/python3.11/test" "$root/usr/lib/python3.11/idlelib" "$root/usr/lib/python3.11/tkinter"
  copy_with_libs "$root" /usr/lib/python3.11/lib-dynload/*.so
  ln -sf python3.11 "$root/usr/bin/python3"
  ln -sf python3.11 "$root/usr/bin/python"
  import_rootfs "$root" "$PYTHON_IMAGE" \
    'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
    'ENV PYTHONDONTWRITEBYTECODE=1' \
    'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    'WORKDIR /app' \
    'CMD ["python3"]'
}

docker info >/dev/null 2>&1 || { log "docker is not running; run scripts/ensure-engine.sh first"; exit 1; }

for pair in "node:$NODE_IMAGE" "python:$PYTHON_IMAGE"; do
  kind=${pair%%:*}; image=${pair#*:}
  if [ "$force" -eq 0 ] && have_image docker "$image"; then
    log "$image exists"
    if command -v podman >/dev/null 2>&1 && podman info >/dev/null 2>&1 && ! have_image podman "$image"; then
      docker save "$image" | podman load >/dev/null 2>&1
    fi
    continue
  fi
  log "building $image"
  "build_$kind"
done
log "ready: $NODE_IMAGE $PYTHON_IMAGE"
