#!/usr/bin/env bash
# The main job, from a fresh clone: install and build c8y-ms, make a container engine and the
# offline base image available, then scaffold a service into a temporary directory, pack it,
# start the local sandbox platform, deploy the service, wait until it is Up, and call its
# health endpoint through the platform's gateway path /service/<name>/health.
#
# Where no container engine can be started, it says so and still shows validate and deploy
# (into a sandbox that does not run containers) with a prebuilt sample image. --no-engine
# takes that path on purpose, e.g. to try c8y-ms on a laptop without Docker.
set -euo pipefail
use_engine=1
for arg in "$@"; do
  case "$arg" in
    --no-engine) use_engine=0 ;;
    *) echo "usage: $0 [--no-engine]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
repo=$PWD

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }

step "Installing dependencies and building c8y-ms"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

engine=$use_engine
if [ "$engine" -eq 1 ]; then
  step "Making a container engine available"
  if ! scripts/ensure-engine.sh; then
    engine=0
    printf '\nNo container engine could be started here: the demo continues without one.\n' >&2
  fi
fi
[ "$engine" -eq 1 ] || printf 'It validates and deploys a prebuilt sample image; the sandbox stores it but does not run it.\n' >&2
[ "$engine" -eq 1 ] && scripts/make-base-images.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/c8y-ms-demo.XXXXXX")
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ] && kill -0 "$sandbox_pid" 2>/dev/null; then
    kill -TERM "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  # The image pack built; the sandbox removes the copies it ran itself.
  [ "$engine" -eq 1 ] && docker rmi --force "$name:1.0.0-SNAPSHOT" >/dev/null 2>&1
  return 0
}
trap cleanup EXIT

c8y_ms() { node "$repo/bin/c8y-ms.js" "$@"; }
export CI=true # never prompt: this is a script
# Containers on machines without a bridge network may only use the host network.
export C8Y_MS_NETWORK=${C8Y_MS_NETWORK:-host}

name=demo-service
service="$work/$name"

step "Scaffolding $name from the node template"
show c8y_ms init "$service" --template node --name "$name" --yes --no-install --no-git

step "Validating its manifest"
show c8y_ms validate "$service"

step "Starting the sandbox (a local Cumulocity platform)"
sandbox_args=(sandbox --port 0 --data-dir "$work/sandbox" --json)
[ "$engine" -eq 1 ] || sandbox_args+=(--no-containers)
printf '$ c8y-ms %s\n' "${sandbox_args[*]}" >&2
# node itself in the background (not the c8y_ms function, which would run in a subshell), so
# $! is the sandbox and the clean-up's SIGTERM reaches it.
node "$repo/bin/c8y-ms.js" "${sandbox_args[@]}" >"$work/sandbox.json" 2>"$work/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 1 100); do
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$work/sandbox.json" 2>/dev/null && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sandbox.log" >&2; exit 1; }
  sleep 0.2
done
read_ready() { node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const a = r.users.find((u) => u.role === "admin"); console.log(eval(process.argv[2]))' "$work/sandbox.json" "$1"; }
C8Y_HOST=$(read_ready r.url)
C8Y_TENANT=$(read_ready a.tenant)
C8Y_USER=$(read_ready a.user)
C8Y_PASSWORD=$(read_ready a.password)
export C8Y_HOST C8Y_TENANT C8Y_USER C8Y_PASSWORD
printf 'Sandbox at %s, tenant %s, user %s\n' "$C8Y_HOST" "$C8Y_TENANT" "$C8Y_USER" >&2

if [ "$engine" -eq 1 ]; then
  step "Packing: build the image for linux/amd64, save it, zip it with the manifest"
  # Nothing can be pulled here: build on the offline base image instead of node:22-alpine.
  show c8y_ms pack "$service" --build-arg BASE_IMAGE=c8y-ms-base/node:local

  step "Deploying into the sandbox and waiting until the service is Up"
  show c8y_ms deploy "$service"/dist/*.zip --wait --timeout 180

  step "Calling the service through the gateway: /service/$name/health"
  printf '$ curl -u "$C8Y_TENANT/$C8Y_USER:***" %s/service/%s/health\n' "$C8Y_HOST" "$name" >&2
  curl -fsS -u "$C8Y_TENANT/$C8Y_USER:$C8Y_PASSWORD" "$C8Y_HOST/service/$name/health"
  printf '\n' >&2

  step "Status"
  show c8y_ms status "$name"
else
  step "Packing the prebuilt sample image (no engine needed for an existing image tar)"
  node scripts/sample-image.mjs "$work/sample-image.tar" "$name:sample"
  show c8y_ms pack "$service" --image-tar "$work/sample-image.tar"

  step "Validating the zip as the platform will see it"
  show c8y_ms validate "$service"/dist/*.zip

  step "Deploying into the sandbox (stored and subscribed; not run without an engine)"
  show c8y_ms deploy "$service"/dist/*.zip

  step "Status"
  show c8y_ms status "$name"
fi

step "Done"
printf 'The sandbox, the temporary project and its image are removed now. To keep exploring, run:\n' >&2
printf '  node bin/c8y-ms.js sandbox        # then c8y-ms init / pack / deploy against it\n' >&2
