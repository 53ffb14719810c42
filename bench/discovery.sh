#!/usr/bin/env bash
# discovery.sh: times host discovery (-sn) of the lab's /16 by flagscan, nmap, masscan and zmap.
#
# Run as root from anywhere: bench/discovery.sh [--runs N] [--range /P] [--loss PCT] [--id ID]
#     [--tools flagscan,flagscan-pe,nmap,masscan,zmap,nmap-pe] [--zmap-rate PPS] [--zmap-cooldown SEC]
#     [--timeout SEC] [--keep DIR]
# Prints, per tool, the median wall time, its ratios to flagscan's median (default probes) and to
# flagscan -PE's (ICMP echo only, zmap's probe), and how many runs found exactly the addresses of
# the range that test/lab/layout.conf says answer. See bench/README.md.
set -Eeuo pipefail

readonly BENCH_NAME=discovery.sh
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

readonly KNOWN_TOOLS="flagscan flagscan-pe nmap nmap-pe masscan zmap"

RUNS=3
LAB_ID=53
TOOLS=flagscan,flagscan-pe,nmap,masscan,zmap
PREFIX=16
ZMAP_RATE=100000
ZMAP_COOLDOWN=1
LIMIT=900
RANGE=

# Options beyond common.sh's (parse_common_args).
bench_option() {
    case $1 in
    --range) PREFIX=${2:?}; OPTION_WORDS=2 ;;
    --zmap-rate) ZMAP_RATE=${2:?}; OPTION_WORDS=2 ;;
    --zmap-cooldown) ZMAP_COOLDOWN=${2:?}; OPTION_WORDS=2 ;;
    --timeout) LIMIT=${2:?}; OPTION_WORDS=2 ;;
    esac
}

parse_args() {
    parse_common_args "$@"
    PREFIX=${PREFIX#/}
    if ! [[ $PREFIX =~ ^[0-9]+$ ]] || ((10#$PREFIX < 16 || 10#$PREFIX > 30)); then
        die "--range takes a prefix length /16../30 (the lab's range starting at .0.0), got '$PREFIX'"
    fi
    PREFIX=$((10#$PREFIX))
    [[ $ZMAP_RATE =~ ^[1-9][0-9]*$ ]] || die "--zmap-rate needs packets per second"
    [[ $ZMAP_COOLDOWN =~ ^[0-9]+$ ]] || die "--zmap-cooldown needs whole seconds"
    [[ $LIMIT =~ ^[1-9][0-9]*$ ]] || die "--timeout needs whole seconds"
    set_lab_target
    # The lab's wide range, 10.(100+ID).0.0/16, or its first /PREFIX: routed only into the lab.
    RANGE=10.$((100 + 10#$LAB_ID)).0.0/$PREFIX
}

# Root, and every tool of TOOLS (flagscan-pe and nmap-pe are flagscan and nmap with -PE).
check_discovery_tools() {
    local tool saved=$TOOLS
    for tool in ${TOOLS//,/ }; do
        [[ " $KNOWN_TOOLS " == *" $tool "* ]] || die "unknown tool '$tool' (${KNOWN_TOOLS// /, })"
    done
    TOOLS=$(tr ',' '\n' <<<"$TOOLS" | sed 's/-pe$//' | sort -u | paste -sd,)
    check_tools "flagscan nmap masscan zmap"
    TOOLS=$saved
}

# Dies unless the kernel sends RANGE to the lab's veth (zmap is given the same interface).
check_route() {
    local route
    route=$(ip -o route get "${RANGE%/*}")
    [[ $route == *" dev $HOST_IF "* ]] || die "$RANGE is not routed into the lab: $route"
}

# --- the tools: command line, and the addresses they found up ---------------------------------

command_for() {
    local tool=$1 out=$2
    case $tool in
    flagscan) echo "$FLAGSCAN_BIN -sn -n -T4 -oJ $out $RANGE" ;;
    flagscan-pe) echo "$FLAGSCAN_BIN -sn -PE -n -T4 -oJ $out $RANGE" ;;
    nmap) echo "nmap -sn -n -T4 -oG $out $RANGE" ;;
    nmap-pe) echo "nmap -sn -PE -n -T4 -oG $out $RANGE" ;;
    # masscan --ping: ICMP echo, as zmap's icmp_echoscan (its receive thread needs the wake trickle).
    masscan) echo "masscan --ping --rate $ZMAP_RATE -e $HOST_IF --router-mac $NS_MAC --wait $ZMAP_COOLDOWN -oL $out $RANGE" ;;
    # Never zmap's defaults: its interface, source and gateway would be the host's default route.
    # -b /dev/null replaces /etc/zmap/blacklist.conf, which blocks 10.0.0.0/8.
    zmap) echo "zmap -q -M icmp_echoscan -i $HOST_IF -S 10.77.$((10#$LAB_ID)).1 -G $NS_MAC -b /dev/null -r $ZMAP_RATE -c $ZMAP_COOLDOWN -o $out $RANGE" ;;
    esac
}

# The addresses TOOL's output calls up, one a line, sorted (duplicates kept: they are an error).
up_in() {
    local tool=$1 out=$2
    [[ -s $out ]] || return 0
    case $tool in
    flagscan*) grep '"status":"up"' "$out" | sed -n 's/.*"ip":"\([0-9.]*\)".*/\1/p' ;;
    nmap*) awk '/Status: Up/ { print $2 }' "$out" ;;
    masscan) awk '$1 == "open" && $2 == "icmp" { print $4 }' "$out" ;;
    zmap) grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "$out" ;;
    esac | LC_ALL=C sort
}

# Runs TOOL once; prints "seconds exact|wrong|error count detail".
run_once() {
    local tool=$1 run=$2 out log found n
    out=$WORK/$tool.$run.out
    log=$WORK/$tool.$run.log
    found=$WORK/$tool.$run.up
    if [[ $tool == masscan ]]; then start_wake; fi
    # The command line is split into words on purpose.
    # shellcheck disable=SC2046
    time_command_within "$LIMIT" "$log" $(command_for "$tool" "$out")
    stop_wake
    up_in "$tool" "$out" >"$found"
    n=$(grep -c . "$found" || true)
    if ((STATUS != 0)); then
        echo "$ELAPSED error $n exit-$STATUS"
    elif cmp -s "$found" "$WORK/expected"; then
        echo "$ELAPSED exact $n"
    else
        echo "$ELAPSED wrong $n up $(describe_diff "$found")"
    fi
}

# --- the table --------------------------------------------------------------------------------

print_table() {
    local tool base base_pe runs med min max exact marks found
    base=''
    base_pe=''
    if [[ ,$TOOLS, == *,flagscan,* ]]; then base=$(cut -d' ' -f1 "$WORK/flagscan.results" | median); fi
    if [[ ,$TOOLS, == *,flagscan-pe,* ]]; then base_pe=$(cut -d' ' -f1 "$WORK/flagscan-pe.results" | median); fi
    printf '\n%-12s %4s %9s %8s %8s %12s %15s  %-9s %-7s %s\n' tool runs median_s min_s max_s \
        vs_flagscan vs_flagscan-PE up exact per-run
    for tool in ${TOOLS//,/ }; do
        read -r runs med min max exact marks < <(results_summary "$WORK/$tool.results")
        found=$(cut -d' ' -f3 "$WORK/$tool.results" | median | sed 's/\.0*$//')
        printf '%-12s %4s %9s %8s %8s %12s %15s  %-9s %-7s %s\n' "$tool" "$runs" "$med" "$min" "$max" \
            "$(ratio "$med" "$base")" "$(ratio "$med" "$base_pe")" "$found" "$exact" "$marks"
    done
}

print_details() {
    echo
    echo "truth: $(grep -c . "$WORK/expected") of $((1 << (32 - PREFIX))) addresses of $RANGE up" \
        "(last octet mod 4 not in {$(lab_info wide_dropped_mod4)})   (lab $LAB_ID, loss $LOSS%)"
    echo "up: median count found up; per-run: + exactly the true set, - some address missed or extra, E tool failed or timed out (${LIMIT}s)"
    print_tool_runs
    [[ -z $KEEP_DIR ]] || echo "outputs, logs and up lists kept in $WORK"
}

main() {
    parse_args "$@"
    check_discovery_tools
    bench_begin_with --icmp-ratelimit off
    check_route
    wide_up_addresses "$RANGE" >"$WORK/expected"
    run_rounds 12
    print_table
    print_details
}

main "$@"
