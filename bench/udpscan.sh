#!/usr/bin/env bash
# udpscan.sh: times a UDP scan (-sU) of one lab host's ports 1-1024, flagscan beside nmap.
#
# Run as root from anywhere: bench/udpscan.sh [--runs N] [-p LO-HI] [--linux-ratelimit | --global-budget]
#     [--settle SEC] [--loss PCT] [--id ID] [--tools flagscan,nmap] [--timeout SEC] [--keep DIR]
# Prints, per tool, the median wall time, its ratio to flagscan's median and how many runs gave
# every scanned port the state test/lab/layout.conf implies (open, closed, filtered,
# open|filtered). --linux-ratelimit keeps Linux's ICMP rate limit (1 error/s/destination):
# slow by nature, so it defaults to -p 1-100 (~2 min a run) and waits --settle 10 s before
# each run, so the target's ICMP budget is full again. --global-budget keeps only Linux's
# host-wide ICMP budget (icmp_msgs_per_sec 1000, burst 50; no per-destination limit: lab.sh
# --icmp-ratelimit global): defaults to -p 1-2048, whose floor is ~2 s. See bench/README.md.
set -Eeuo pipefail

readonly BENCH_NAME=udpscan.sh
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=3
LAB_ID=52
TOOLS=flagscan,nmap
PORTS=
LINUX_RATELIMIT=0
GLOBAL_BUDGET=0
LIMIT=
SETTLE=
LO=
HI=

# Options beyond common.sh's (parse_common_args).
bench_option() {
    case $1 in
    -p | --ports) PORTS=${2:?}; OPTION_WORDS=2 ;;
    --linux-ratelimit) LINUX_RATELIMIT=1; OPTION_WORDS=1 ;;
    --global-budget) GLOBAL_BUDGET=1; OPTION_WORDS=1 ;;
    --timeout) LIMIT=${2:?}; OPTION_WORDS=2 ;;
    --settle) SETTLE=${2:?}; OPTION_WORDS=2 ;;
    esac
}

parse_args() {
    parse_common_args "$@"
    ((LINUX_RATELIMIT + GLOBAL_BUDGET < 2)) || die "--linux-ratelimit and --global-budget exclude each other"
    if [[ -z $PORTS ]]; then
        if ((LINUX_RATELIMIT)); then PORTS=1-100; elif ((GLOBAL_BUDGET)); then PORTS=1-2048; else PORTS=1-1024; fi
    fi
    [[ $PORTS =~ ^([0-9]+)(-([0-9]+))?$ ]] || die "-p takes LO-HI (one range), got '$PORTS'"
    LO=$((10#${BASH_REMATCH[1]}))
    HI=$((10#${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}))
    ((LO >= 1 && LO <= HI && HI <= 65535)) || die "-p: need 1 <= LO <= HI <= 65535, got '$PORTS'"
    PORTS=$LO-$HI
    if [[ -z $LIMIT ]]; then
        # Under the Linux limit each closed port costs about a second (more with retries).
        if ((LINUX_RATELIMIT)); then LIMIT=$((300 + 3 * (HI - LO + 1))); else LIMIT=$SCAN_TIMEOUT; fi
    fi
    [[ $LIMIT =~ ^[1-9][0-9]*$ ]] || die "--timeout needs whole seconds"
    # Linux refills a destination's ICMP budget at 1 error/s up to a burst of 6: a scan started
    # right after another one finds it empty, and its first probes to closed ports go unanswered.
    if [[ -z $SETTLE ]]; then
        if ((LINUX_RATELIMIT)); then SETTLE=10; else SETTLE=0; fi
    fi
    [[ $SETTLE =~ ^[0-9]+$ ]] || die "--settle needs whole seconds"
    set_lab_target
}

# --- a state map in one line (the truth, and a wrong run's map) -------------------------------

# "open 53 123 ... | filtered 1004 | open|filtered 69 514 1008 | closed: 1017" from a map (at
# most 12 ports a state are listed).
describe_map() {
    awk '{ n[$2]++; if ($2 != "closed" && n[$2] <= 12) list[$2] = list[$2] " " $1 }
        END {
            split("open filtered open|filtered", order, " ")
            for (i = 1; i <= 3; i++) {
                s = order[i]
                printf "%s%s%s | ", s, (s in list ? list[s] : " -"), (n[s] > 12 ? " ... (" n[s] " in all)" : "")
            }
            for (s in n) if (s != "open" && s != "filtered" && s != "open|filtered" && s != "closed") printf "%s: %d | ", s, n[s]
            printf "closed: %d", n["closed"]
        }' "$1"
}

# --- the runs ---------------------------------------------------------------------------------

command_for() {
    local tool=$1 out=$2
    case $tool in
    flagscan) echo "$FLAGSCAN_BIN -sU -p $PORTS -n -T4 -oJ $out $TARGET" ;;
    nmap) echo "nmap -sU -p $PORTS -n -T4 -oX $out $TARGET" ;;
    esac
}

# Runs TOOL once; prints "seconds exact|wrong|error detail" (a wrong map's detail ends with
# [describe_map]).
run_once() {
    local tool=$1 run=$2 stem verdict
    stem=$WORK/$tool.$run
    # The command line is split into words on purpose.
    # shellcheck disable=SC2046
    time_command_within "$LIMIT" "$stem.log" $(command_for "$tool" "$stem.out")
    verdict=$(map_verdict "$tool" udp "$LO" "$HI" "$stem" "$WORK/expected")
    if [[ $verdict == "$ELAPSED wrong "* ]]; then verdict+=" [$(describe_map "$stem.map")]"; fi
    echo "$verdict"
}

# Waits SETTLE seconds (run_rounds calls it before each run).
settle() {
    ((SETTLE == 0)) || sleep "$SETTLE"
}

# --- the table --------------------------------------------------------------------------------

print_details() {
    local mode=off
    ((LINUX_RATELIMIT)) && mode="Linux default (1 error/s/destination)"
    ((GLOBAL_BUDGET)) && mode="host-wide only (1000 errors/s, burst 50)"
    echo
    echo "truth: $(describe_map "$WORK/expected")"
    echo "       (ports $PORTS of $TARGET, lab $LAB_ID, loss $LOSS%, ICMP rate limit $mode, ${SETTLE}s idle before each run)"
    echo "per-run: + every port's state as expected, - some state wrong, E tool failed, timed out (${LIMIT}s) or unreadable output"
    print_tool_runs
    [[ -z $KEEP_DIR ]] || echo "outputs, logs and state maps kept in $WORK"
}

main() {
    parse_args "$@"
    check_tools "flagscan nmap"
    local closed
    if ((LINUX_RATELIMIT)); then
        bench_begin_with --icmp-ratelimit default
    elif ((GLOBAL_BUDGET)); then
        bench_begin_with --icmp-ratelimit global
    else
        bench_begin_with --icmp-ratelimit off
    fi
    expected_map udp "$LO" "$HI" "open closed filtered open|filtered" >"$WORK/expected"
    if ((LINUX_RATELIMIT)); then
        closed=$(grep -c ' closed$' "$WORK/expected" || true)
        echo "ICMP rate limit on: $closed closed ports answer at ~1/s, so each run takes at least ~$((closed - 6)) s" >&2
    fi
    run_rounds 9 settle
    tool_rows_header
    tool_rows "$WORK/"
    print_details
}

main "$@"
