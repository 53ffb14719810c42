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
LAB_ID=50
TOOLS=flagscan,nmap,masscan
MASSCAN_WAIT=1
WAKE_PID=

# Options beyond common.sh's (parse_common_args).
bench_option() {
    case $1 in
    --masscan-wait) MASSCAN_WAIT=${2:?}; OPTION_WORDS=2 ;;
    esac
}

parse_args() {
    parse_common_args "$@"
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

print_details() {
    echo
    echo "true open set: $TRUE_OPEN   (loss $LOSS%, target $TARGET, lab $LAB_ID)"
    echo "per-run: + exact open set, - wrong open set, E tool failed"
    print_tool_runs
    [[ -z $KEEP_DIR ]] || echo "outputs and logs kept in $WORK"
}

main() {
    parse_args "$@"
    check_tools "flagscan nmap masscan"
    bench_begin
    run_rounds 9
    tool_rows_header
    tool_rows "$WORK/"
    print_details
}

main "$@"
