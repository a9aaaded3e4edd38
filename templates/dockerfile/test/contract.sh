#!/bin/sh
# Checks that the image keeps the platform's runtime contract, whatever language is inside:
#   1. it builds from this directory (linux/amd64 is what the platform runs);
#   2. started with the variables the platform sets, but with no platform to reach, it listens
#      on the port given in SERVER_PORT and GET /health answers 200 (a service stays up while the
#      platform is briefly unreachable);
#   3. on SIGTERM it stops by itself, with exit code 0, within 10 seconds.
# Usage: sh test/contract.sh [docker build options, e.g. --build-arg BASE_IMAGE=busybox:1.37]
# ENGINE=podman to use podman. C8Y_MS_NETWORK=host runs the container on the host network
# (for machines without a bridge network); otherwise the port is published on 127.0.0.1.
set -eu

engine="${ENGINE:-docker}"
image="contract-test-$$"
port=$((20000 + $$ % 20000))
container=""

fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
  [ -n "$container" ] && "$engine" rm -f "$container" >/dev/null 2>&1
  "$engine" rmi -f "$image" >/dev/null 2>&1 || true
}
trap cleanup EXIT

get() {
  if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null "$1"; else wget -q -O /dev/null "$1"; fi
}

cd "$(dirname "$0")/.."
echo "1. build"
if [ "${C8Y_MS_NETWORK:-}" = host ]; then network="--network host"; else network=""; fi
# shellcheck disable=SC2086 # $network is empty or two words on purpose
"$engine" build $network --platform linux/amd64 "$@" -t "$image" . >/dev/null || fail "the image did not build"

echo "2. GET /health"
set -- -e APPLICATION_NAME=contract-test -e C8Y_MICROSERVICE_ISOLATION=MULTI_TENANT \
  -e C8Y_BASEURL=http://127.0.0.1:9 -e C8Y_BOOTSTRAP_TENANT=t0 \
  -e C8Y_BOOTSTRAP_USER=servicebootstrap_contract-test -e C8Y_BOOTSTRAP_PASSWORD=contract-test
if [ "${C8Y_MS_NETWORK:-}" = host ]; then
  container=$("$engine" run -d --network host -e SERVER_PORT="$port" "$@" "$image")
else
  container=$("$engine" run -d -p "127.0.0.1:$port:80" -e SERVER_PORT=80 "$@" "$image")
fi
tries=0
until get "http://127.0.0.1:$port/health" 2>/dev/null; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { "$engine" logs "$container" >&2; fail "GET /health did not answer 200 within 30 seconds"; }
  [ "$("$engine" inspect -f '{{.State.Running}}' "$container")" = true ] || { "$engine" logs "$container" >&2; fail "the container stopped"; }
  sleep 0.5
done

echo "3. SIGTERM"
"$engine" stop -t 10 "$container" >/dev/null
code=$("$engine" inspect -f '{{.State.ExitCode}}' "$container")
[ "$code" = 0 ] || { "$engine" logs "$container" >&2; fail "after SIGTERM the container exited with $code, not 0 (137 means it ignored SIGTERM and was killed)"; }
echo "ok: the image keeps the runtime contract"
