#!/usr/bin/env bash
# synscan.sh: times a full 1-65535 SYN scan of one lab host (or, with --wide, port 80 over the
# lab's /16) by flagscan, nmap, masscan and zmap against one lab namespace.
#
# Run as root from anywhere: bench/synscan.sh [--runs N] [--loss PCT] [--id ID] [--wide]
#     [--tools flagscan,flagscan-t4,nmap,masscan,zmap] [--masscan-wait SEC] [--keep DIR]
# Prints, per tool, the median wall time, its ratio to flagscan's median (default timing, as a
# new user runs it) and how many runs found exactly what test/lab/layout.conf says is open: the
# open ports of the host, or with --wide the addresses of the /16 whose port 80 is open.
# zmap 2.1 (Debian 12) scans one port per run: it takes part with --wide only. See bench/README.md.
set -Eeuo pipefail

readonly BENCH_NAME=synscan.sh
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

readonly KNOWN_TOOLS="flagscan flagscan-t4 nmap masscan zmap"

RUNS=5
LAB_ID=50
TOOLS=
MASSCAN_WAIT=1
WIDE=0
RANGE=

# Options beyond common.sh's (parse_common_args).
bench_option() {
    case $1 in
    --masscan-wait) MASSCAN_WAIT=${2:?}; OPTION_WORDS=2 ;;
    --wide) WIDE=1; OPTION_WORDS=1 ;;
    esac
}

parse_args() {
    parse_common_args "$@"
    [[ $MASSCAN_WAIT =~ ^[0-9]+$ ]] || die "--masscan-wait needs whole seconds"
    if [[ -z $TOOLS ]]; then
        TOOLS=flagscan,flagscan-t4,nmap,masscan
        ((WIDE == 0)) || TOOLS+=,zmap
    fi
    if ((WIDE == 0)) && [[ ,$TOOLS, == *,zmap,* ]]; then
        die "zmap 2.1 scans one port per run: it takes part with --wide (port 80 over the /16)"
    fi
    set_lab_target
    RANGE=10.$((100 + 10#$LAB_ID)).0.0/16  # the lab's wide range: routed only into the lab
}

# Root, and every tool of TOOLS (flagscan-t4 is flagscan with -T4).
check_syn_tools() {
    local tool saved=$TOOLS
    for tool in ${TOOLS//,/ }; do
        [[ " $KNOWN_TOOLS " == *" $tool "* ]] || die "unknown tool '$tool' (${KNOWN_TOOLS// /, })"
    done
    TOOLS=$(tr ',' '\n' <<<"$TOOLS" | sed 's/-t4$//' | sort -u | paste -sd,)
    check_tools "flagscan nmap masscan zmap"
    TOOLS=$saved
}

# --- the tools: command line, and what they found open ----------------------------------------

command_for() {
    local tool=$1 out=$2 what ports
    if ((WIDE)); then what=$RANGE ports=80; else what=$TARGET ports=1-65535; fi
    case $tool in
    flagscan) echo "$FLAGSCAN_BIN -sS -p $ports -Pn -n -oJ $out $what" ;;
    flagscan-t4) echo "$FLAGSCAN_BIN -sS -p $ports -Pn -n -T4 -oJ $out $what" ;;
    nmap) echo "nmap -sS -p $ports -Pn -n -T4 -oG $out $what" ;;
    masscan) echo "masscan -p$ports --rate 100000 -e $HOST_IF --router-mac $NS_MAC --wait $MASSCAN_WAIT -oL $out $what" ;;
    # Never zmap's defaults: its interface, source and gateway would be the host's default route.
    # -b /dev/null replaces /etc/zmap/blacklist.conf, which blocks 10.0.0.0/8.
    zmap) echo "zmap -q -M tcp_synscan -p $ports -i $HOST_IF -S 10.77.$((10#$LAB_ID)).1 -G $NS_MAC -b /dev/null -r 100000 -c 1 -o $out $what" ;;
    esac
}

# "IP PORT" for every open port in TOOL's output, one a line.
open_in() {
    local tool=$1 out=$2
    [[ -s $out ]] || return 0
    case $tool in
    flagscan*) grep '"state":"open"' "$out" | sed -n 's/.*"ip":"\([0-9.]*\)".*"port":\([0-9]*\).*/\1 \2/p' ;;
    nmap) awk '/Ports:/ { n = split($0, f, /[ ,]+/); for (i = 1; i <= n; i++) if (f[i] ~ /^[0-9]+\/open\//) { split(f[i], p, "/"); print $2, p[1] } }' "$out" ;;
    masscan) awk '$1 == "open" { print $4, $3 }' "$out" ;;
    zmap) grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "$out" | sed 's/$/ 80/' ;;
    esac
}

# What TOOL found, as the truth is written: the sorted open ports of the host on one line, or
# with --wide the sorted addresses whose port 80 is open, one a line.
found_in() {
    if ((WIDE)); then
        open_in "$@" | awk '$2 == 80 { print $1 }' | LC_ALL=C sort
    else
        open_in "$@" | awk '{ print $2 }' | sort -n | paste -sd' '
    fi
}

# Runs TOOL once; prints "seconds exact|wrong|error detail".
run_once() {
    local tool=$1 run=$2 out log found
    out=$WORK/$tool.$run.out
    log=$WORK/$tool.$run.log
    found=$WORK/$tool.$run.found
    if [[ $tool == masscan ]]; then start_wake; fi
    # The command line is split into words on purpose.
    # shellcheck disable=SC2046
    time_command "$log" $(command_for "$tool" "$out")
    stop_wake
    found_in "$tool" "$out" >"$found"
    if ((STATUS != 0)); then
        echo "$ELAPSED error exit-$STATUS"
    elif cmp -s "$found" "$WORK/expected"; then
        echo "$ELAPSED exact"
    elif ((WIDE)); then
        echo "$ELAPSED wrong $(describe_diff "$found")"
    else
        echo "$ELAPSED wrong found:[$(<"$found")]"
    fi
}

# --- the table --------------------------------------------------------------------------------

print_details() {
    echo
    if ((WIDE)); then
        echo "truth: port 80 open on $(grep -c . "$WORK/expected") of the 65536 addresses of $RANGE" \
            "(loss $LOSS%, lab $LAB_ID)"
    else
        echo "true open set: $(<"$WORK/expected")   (loss $LOSS%, target $TARGET, lab $LAB_ID)"
    fi
    echo "per-run: + exact, - wrong, E tool failed"
    print_tool_runs
    [[ -z $KEEP_DIR ]] || echo "outputs and logs kept in $WORK"
}

main() {
    parse_args "$@"
    check_syn_tools
    bench_begin
    if ((WIDE)); then wide_up_addresses "$RANGE" >"$WORK/expected"; else echo "$TRUE_OPEN" >"$WORK/expected"; fi
    run_rounds 11
    tool_rows_header
    tool_rows "$WORK/"
    print_details
}

main "$@"
