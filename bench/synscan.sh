#!/usr/bin/env bash
# synscan.sh: times a full 1-65535 SYN scan by flagscan, nmap and masscan against one lab namespace.
#
# Run as root from anywhere: bench/synscan.sh [--runs N] [--loss PCT] [--id ID]
#     [--tools flagscan,nmap,masscan] [--masscan-wait SEC] [--keep DIR]
# Prints, per tool, the median wall time, its ratio to flagscan's median and how many runs
# found exactly the open ports of test/lab/layout.conf. See bench/README.md.
set -Eeuo pipefail

readonly BENCH_NAME=synscan.sh
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=5
LOSS=0
LAB_ID=50
TOOLS=flagscan,nmap,masscan
MASSCAN_WAIT=1
KEEP_DIR=
WAKE_PID=

usage() {
    sed -n '4,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

parse_args() {
    while (($#)); do
        case $1 in
        --runs) RUNS=${2:?}; shift 2 ;;
        --loss) LOSS=${2:?}; shift 2 ;;
        --id) LAB_ID=${2:?}; shift 2 ;;
        --tools) TOOLS=${2:?}; shift 2 ;;
        --masscan-wait) MASSCAN_WAIT=${2:?}; shift 2 ;;
        --keep) KEEP_DIR=${2:?}; shift 2 ;;
        -h | --help) usage ;;
        *) die "unknown argument '$1' (see --help)" ;;
        esac
    done
    [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer"
    [[ $MASSCAN_WAIT =~ ^[0-9]+$ ]] || die "--masscan-wait needs whole seconds"
    set_lab_target
}

# --- the wake trickle -------------------------------------------------------------------------

# Called by common.sh's cleanup on every exit.
bench_on_exit() {
    stop_wake
}

# masscan 1.3.2's receive thread blocks in libpcap while no packet arrives, so on a quiet veth
# it never exits after --wait. A TCP connect to a closed lab port every 0.1 s (SYN + RST, ~20
# packets/s against 100k/s) wakes it; masscan discards those replies (wrong SYN cookie).
start_wake() {
    local port
    port=$(closed_port)
    (
        while :; do
            timeout 0.5 bash -c "exec 3<>/dev/tcp/$TARGET/$port" 2>/dev/null || true
            sleep 0.1
        done
    ) &
    WAKE_PID=$!
}

stop_wake() {
    if [[ -n $WAKE_PID ]]; then
        kill "$WAKE_PID" 2>/dev/null || true
        wait "$WAKE_PID" 2>/dev/null || true
        WAKE_PID=
    fi
}

# --- the three tools: command line, and the open ports in their output -----------------------

command_for() {
    local tool=$1 out=$2
    case $tool in
    flagscan) echo "$FLAGSCAN_BIN -sS -p- -Pn -n -T4 -oJ $out $TARGET" ;;
    nmap) echo "nmap -sS -p- -Pn -n -T4 -oG $out $TARGET" ;;
    masscan) echo "masscan -p1-65535 --rate 100000 -e $HOST_IF --router-mac $NS_MAC --wait $MASSCAN_WAIT -oL $out $TARGET" ;;
    esac
}

open_ports_in() {
    local tool=$1 out=$2
    [[ -s $out ]] || return 0
    case $tool in
    flagscan) grep '"state":"open"' "$out" | grep -o '"port":[0-9]*' | cut -d: -f2 ;;
    nmap) grep -o '[0-9]*/open/' "$out" | cut -d/ -f1 ;;
    masscan) awk '$1 == "open" { print $3 }' "$out" ;;
    esac | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# Runs TOOL once; prints "seconds exact|missed|error detail".
run_once() {
    local tool=$1 run=$2 out log found
    out=$WORK/$tool.$run.out
    log=$WORK/$tool.$run.log
    if [[ $tool == masscan ]]; then start_wake; fi
    # The command line is split into words on purpose.
    # shellcheck disable=SC2046
    time_command "$log" $(command_for "$tool" "$out")
    stop_wake
    found=$(open_ports_in "$tool" "$out")
    if ((STATUS != 0)); then
        echo "$ELAPSED error exit-$STATUS"
    elif [[ $found == "$TRUE_OPEN" ]]; then
        echo "$ELAPSED exact"
    else
        echo "$ELAPSED wrong found:[${found}]"
    fi
}

# --- the table --------------------------------------------------------------------------------

print_table() {
    local tool base times marks exact med ratio
    base=
    if [[ ,$TOOLS, == *,flagscan,* ]]; then base=$(cut -d' ' -f1 "$WORK/flagscan.results" | median); fi
    printf '\n%-9s %4s %9s %7s %7s %12s  %-7s %s\n' tool runs median_s min_s max_s vs_flagscan exact per-run
    for tool in ${TOOLS//,/ }; do
        times=$(cut -d' ' -f1 "$WORK/$tool.results")
        med=$(median <<<"$times")
        ratio=$(ratio "$med" "$base")
        exact=$(grep -c ' exact$' "$WORK/$tool.results" || true)
        marks=$(awk '{ printf "%s", ($2 == "exact" ? "+" : ($2 == "error" ? "E" : "-")) }' "$WORK/$tool.results")
        printf '%-9s %4s %9s %7s %7s %12s  %-7s %s\n' "$tool" "$RUNS" "$med" \
            "$(sort -g <<<"$times" | head -n1)" "$(sort -g <<<"$times" | tail -n1)" "$ratio" \
            "$exact/$RUNS" "$marks"
    done
}

print_details() {
    local tool
    echo
    echo "true open set: $TRUE_OPEN   (loss $LOSS%, target $TARGET, lab $LAB_ID)"
    echo "per-run: + exact open set, - wrong open set, E tool failed"
    for tool in ${TOOLS//,/ }; do
        echo "  $tool: $(command_for "$tool" OUT)"
        awk '$2 != "exact" { print "    run " NR " not exact: " $0 }' "$WORK/$tool.results"
    done
    [[ -z $KEEP_DIR ]] || echo "outputs and logs kept in $WORK"
}

main() {
    parse_args "$@"
    check_tools "flagscan nmap masscan"
    bench_begin
    local run tool
    for ((run = 1; run <= RUNS; run++)); do
        # Interleaved, so slow drifts of a shared machine hit every tool alike.
        for tool in ${TOOLS//,/ }; do
            printf 'run %d/%d %-9s ' "$run" "$RUNS" "$tool" >&2
            run_once "$tool" "$run" >>"$WORK/$tool.results"
            tail -n1 "$WORK/$tool.results" >&2
        done
    done
    print_table
    print_details
}

main "$@"
