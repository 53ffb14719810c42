#!/usr/bin/env bash
# bench/live_memory.sh: peak memory of live scans that grow with the target set (issue 13), on
# the lab only: one port over the lab's /12 (2^20 AnyIP addresses, `lab.sh huge`), and P ports
# over its wide /16 (-Pn: the wide range's dropped quarter is scanned too).
#
# Run as root:
#   bench/live_memory.sh                       # build/flagscan, /16 x 1000 ports
#   bench/live_memory.sh --ports 100           # a quicker /16 run
#   bench/live_memory.sh --before OLD_BINARY   # the same scans with an older flagscan beside
#   bench/live_memory.sh --before-slice 30     # the older one stopped (SIGINT) after 30 s
#   bench/live_memory.sh --id 61               # lab ID (default 61)
#
# Prints per binary and scan: seconds, hosts with the open port found, peak resident set (GNU
# time), and the ratio of the older binary's peak to this one's. No timing is asserted.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${FLAGSCAN_BIN:-$here/build/flagscan}
before=""
before_slice=0
ports=1000
id=61
while (($#)); do
    case $1 in
    --ports) ports=$2; shift ;;
    --before) before=$2; shift ;;
    --before-slice) before_slice=$2; shift ;;
    --id) id=$2; shift ;;
    -h | --help) sed -n '4,14p' "$0"; exit 0 ;;
    *) echo "bench/live_memory.sh: unknown option $1" >&2; exit 1 ;;
    esac
    shift
done
[[ $(id -u) == 0 ]] || { echo "bench/live_memory.sh: run as root (the lab)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench/live_memory.sh: needs GNU time (package 'time')" >&2; exit 1; }
export FLAGSCAN_LAB_LISTENER=${FLAGSCAN_LAB_LISTENER:-$here/build/test/lab/lab-listener}
lab=$here/test/lab/lab.sh
work=$(mktemp -d)
cleanup() { bash "$lab" down "$id" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

bash "$lab" up "$id" >/dev/null
huge=$(bash "$lab" huge "$id" | sed -n 's/^huge=//p')
wide=$(bash "$lab" info "$id" | sed -n 's/^wide=//p')
port=$(bash "$lab" info "$id" | sed -n 's/^open_tcp=//p' | cut -d' ' -f1)
# Never a packet outside the lab: both ranges must route through its veth.
for range in "$huge" "$wide"; do
    ip route get "${range%/*}" | grep -q "dev fsh$id " || { echo "bench/live_memory.sh: $range is not routed into lab $id" >&2; exit 1; }
done

# measure LABEL BINARY SLICE ARGS...: one scan, grepable output to a pipe that counts the hosts
# whose port is open; SLICE > 0 stops it with SIGINT after that many seconds.
measure() {
    local label=$1 binary=$2 slice=$3
    shift 3
    local limit=()
    ((slice > 0)) && limit=(timeout -s INT "$slice")
    local started=$SECONDS
    local open
    open=$("${limit[@]}" /usr/bin/time -f %M -o "$work/rss" "$binary" -n -Pn --seed 5 -oG - "$@" 2>/dev/null |
        grep -c '/open/tcp/' || true)
    local rss_kb
    rss_kb=$(tail -n1 "$work/rss" | grep -o '^[0-9]*' || echo 0)
    printf '%-8s %-34s %6s s  %9s hosts open  peak %8.1f MiB\n' "$label" "$*" "$((SECONDS - started))" "$open" \
        "$(echo "$rss_kb / 1024" | bc -l)"
    echo "$rss_kb" >"$work/last"
}

declare -A after_kb before_kb
for scan in "-p $port $huge" "-p 1-$ports $wide"; do
    # shellcheck disable=SC2086 # the scan's words
    measure now "$bin" 0 $scan
    after_kb[$scan]=$(cat "$work/last")
    if [[ -n $before ]]; then
        # shellcheck disable=SC2086
        measure before "$before" "$before_slice" $scan
        before_kb[$scan]=$(cat "$work/last")
    fi
done
if [[ -n $before ]]; then
    for scan in "${!after_kb[@]}"; do
        printf 'peak memory, before / now, %-34s %6.1fx\n' "$scan" "$(echo "${before_kb[$scan]} / ${after_kb[$scan]}" | bc -l)"
    done
fi
