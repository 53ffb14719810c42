#!/usr/bin/env bash
# bench/offline.sh: probes crafted per second and peak memory of `flagscan --offline` (nothing is
# sent: no root, no lab) for the scans of issue 13: one port over all of IPv4, one port over a
# /8, and every port over a /16 (2^32 probes, run for a fixed time and stopped with SIGINT).
#
#   bench/offline.sh                 # all three; the /0 takes minutes (about 10 at 6 M/s)
#   bench/offline.sh --quick         # the /8 and a 60 s slice of the /16 x 65535 only
#   bench/offline.sh --slice 120     # seconds of the /16 x 65535 run (default 60)
#
# Prints, per run: probes, seconds, probes/s (wall clock, and per second of CPU used: the
# figure for one core when the machine is shared) and the peak resident set (GNU time's
# "Maximum resident set size"). Uses build/flagscan or $FLAGSCAN_BIN.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${FLAGSCAN_BIN:-$here/build/flagscan}
quick=0
slice=60
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) quick=1 ;;
        --slice) slice=$2; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "bench/offline.sh: unknown option $1" >&2; exit 1 ;;
    esac
    shift
done
[[ -x $bin ]] || { echo "bench/offline.sh: no flagscan binary at $bin (build it first)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench/offline.sh: needs GNU time (/usr/bin/time, package 'time')" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run LABEL TIMEOUT ARGS...: one offline run (under `timeout -s INT` when TIMEOUT > 0), its JSON
# summary line and GNU time's report read back into one result line.
run() {
    local label=$1 limit=$2 name
    shift 2
    name=$(tr -c 'a-zA-Z0-9\n' _ <<<"$label")
    local cmd=("$bin" --offline -n -oJ "$work/$name.jsonl" --seed 1 "$@")
    if [[ $limit -gt 0 ]]; then cmd=(timeout -s INT "$limit" "${cmd[@]}"); fi
    /usr/bin/time -v -o "$work/$name.time" "${cmd[@]}" > /dev/null 2> "$work/$name.err" || true
    local json probes seconds rate rss cpu per_cpu
    json=$(tail -1 "$work/$name.jsonl")
    probes=$(sed -E 's/.*"probes":([0-9]+).*/\1/' <<<"$json")
    seconds=$(sed -E 's/.*"seconds":([0-9.]+).*/\1/' <<<"$json")
    rate=$(sed -E 's/.*"rate":([0-9]+).*/\1/' <<<"$json")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
    cpu=$(awk -F': ' '/User time|System time/ {t += $2} END {print t}' "$work/$name.time")
    per_cpu=$(awk -v p="$probes" -v c="$cpu" 'BEGIN {printf "%.0f", (c > 0 ? p / c : 0)}')
    printf '%-24s %12s probes %9s s %10s probes/s (%10s per CPU-second) %7s KiB max RSS%s\n' "$label" "$probes" \
        "$seconds" "$rate" "$per_cpu" "$rss" \
        "$(grep -q '"complete":false' <<<"$json" && echo ' (stopped by SIGINT)')"
    echo "    ${cmd[*]}"
}

echo "flagscan --offline on $(nproc) cores, $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
run "-p 80 10.0.0.0/8" 0 -p 80 10.0.0.0/8
run "-p 1-65535 10.0.0.0/16" "$slice" -p 1-65535 10.0.0.0/16
if [[ $quick -eq 0 ]]; then run "-p 80 0.0.0.0/0" 0 -p 80 0.0.0.0/0; fi
