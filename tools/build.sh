#!/usr/bin/env bash
# Configures (once) and builds flagscan and the lab's helper programs in build/ (`meson compile
# -C build` builds the test suites too; tools/test.sh builds what each suite needs).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/build.ninja ]] || meson setup build >/dev/null
meson compile -C build flagscan lab-listener slow-responder >/dev/null
