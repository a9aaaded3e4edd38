#!/usr/bin/env bash
# The whole test suite on a fresh clone: installs dependencies, makes a container engine
# available (docker, plus podman for the podman tests), builds the offline base images, pushes
# them to a registry on 127.0.0.1, builds c8y-ms and runs every test. CI runs exactly this
# (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --no-audit --no-fund
scripts/ensure-engine.sh --podman
scripts/make-base-images.sh
# A registry on 127.0.0.1 holding those base images, for the --engine none tests.
scripts/ensure-registry.sh
# `npm test` builds dist/ first, then runs unit and integration tests.
npm test
