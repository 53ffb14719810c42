#!/usr/bin/env bash
# Second command of the README (and CI): installs dependencies, builds, runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
status=0
meson test -C build --print-errorlogs --num-processes 2 || status=$?
# One closing line over every GoogleTest case of every suite (meson's JUnit log).
log=build/meson-logs/testlog.junit.xml
if [[ -f $log ]]; then
  sum() { grep -o "<testsuite [^>]*>" "$log" | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*" | awk '{s += $1} END {print s + 0}'; }
  total=$(sum tests) failed=$(( $(sum failures) + $(sum errors) )) skipped=$(sum skipped)
  echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
