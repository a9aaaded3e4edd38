#!/bin/sh
# The skeleton service: busybox's httpd serves /health from service/www. Replace it with your
# program; keep what this script shows: listen on SERVER_PORT (80 by default), log to stdout or
# stderr (httpd -v logs each request to stderr), and exit when the platform sends SIGTERM.
set -eu

port="${SERVER_PORT:-80}"
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $1 $2"; }

httpd -f -v -p "$port" -h /service/www &
server=$!

# A shell that is the container's main process gets SIGTERM; pass it on and wait for the server.
trap 'log INFO "Signal received: stopping"; kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; log INFO Stopped; exit 0' TERM INT

log INFO "${APPLICATION_NAME:-service} listening on port $port (${C8Y_MICROSERVICE_ISOLATION:-MULTI_TENANT})"
wait "$server"
