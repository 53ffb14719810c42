#!/usr/bin/env bash
# First command of the README: installs dependencies, builds, starts lab 1 and scans it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
FLAGSCAN_LAB_LISTENER=build/test/lab/lab-listener bash test/lab/lab.sh up 1
build/flagscan -sS -p- -Pn -n --reason 10.77.1.2
echo
echo "The lab is still up: try 'build/flagscan -sS -p 1-1024 -n 10.77.1.16/28' (pings first),"
echo "'build/flagscan -sU -p 1-1024 -n 10.77.1.2' (UDP) or 'build/flagscan -sn -n 10.101.0.0/16' (discovery)."
echo "Tear it down with: bash test/lab/lab.sh down 1"
