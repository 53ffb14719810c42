#!/usr/bin/env bash
# Second command of the README (and CI): installs dependencies, builds, runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
meson test -C build --print-errorlogs --num-processes 2
