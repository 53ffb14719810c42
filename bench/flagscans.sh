#!/usr/bin/env bash
# flagscans.sh: times TCP scans of each kind (-sS -sF -sN -sX -sA -sW -sM, -sT) of one lab host, flagscan beside nmap.
#
# Run as root from anywhere: bench/flagscans.sh [--runs N] [--loss PCT] [--id ID]
#     [--kinds S,F,N,X,A,W,M] [--tools flagscan,nmap] [--ports LO-HI] [--timing 0-5|default] [--keep DIR]
# --ports: the ports scanned (default 1-65535); --timing: the -T template both tools get (default
# 4; "default" gives none, each tool's own default timing).
# Prints, per kind and tool, the median wall time, its ratio to flagscan's median for that kind
# and how many runs gave every port the state test/lab/layout.conf implies. See bench/README.md.
set -Eeuo pipefail

readonly BENCH_NAME=flagscans.sh
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT_LO=1
PORT_HI=65535
TIMING=4

RUNS=3
LAB_ID=51
KINDS=S,F,N,X,A,W,M
TOOLS=flagscan,nmap

# What a Linux target's ports give each kind, by the port's role in layout.conf (states only;
# test/live/live_support.hpp has the same table with reasons, checked against nmap and tcpdump).
# kind  open           closed      rejected  dropped
readonly KIND_TABLE="
S       open           closed      filtered  filtered
F       open|filtered  closed      filtered  open|filtered
N       open|filtered  closed      filtered  open|filtered
X       open|filtered  closed      filtered  open|filtered
A       unfiltered     unfiltered  filtered  filtered
W       closed         closed      filtered  filtered
M       closed         closed      filtered  open|filtered
T       open           closed      filtered  filtered
"

# Options beyond common.sh's (parse_common_args).
bench_option() {
    case $1 in
    --kinds) KINDS=${2:?}; OPTION_WORDS=2 ;;
    --ports)
        [[ ${2:?} =~ ^([0-9]+)-([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 1 && BASH_REMATCH[1] <= BASH_REMATCH[2] &&
            BASH_REMATCH[2] <= 65535)) || die "--ports needs LO-HI within 1-65535"
        PORT_LO=${BASH_REMATCH[1]} PORT_HI=${BASH_REMATCH[2]} OPTION_WORDS=2 ;;
    --timing)
        [[ ${2:?} =~ ^([0-5]|default)$ ]] || die "--timing needs 0 to 5 or 'default'"
        TIMING=$2 OPTION_WORDS=2 ;;
    esac
}

parse_args() {
    parse_common_args "$@"
    local kind letters=
    for kind in ${KINDS//,/ }; do
        kind=${kind#-}
        kind=${kind#s}
        [[ -n $(kind_states "$kind") ]] || die "unknown kind '$kind' (S, F, N, X, A, W, M, T; -sF and sF work too)"
        letters+=${letters:+,}$kind
    done
    [[ -n $letters ]] || die "--kinds needs at least one kind"
    KINDS=$letters
    set_lab_target
}

# KIND's states of an open, a closed, a rejected and a dropped port (KIND_TABLE's line without
# the kind; empty when unknown).
kind_states() {
    awk -v k="$1" 'NF && $1 == k { print $2, $3, $4, $5 }' <<<"$KIND_TABLE"
}

# --- the runs ---------------------------------------------------------------------------------

command_for() {
    local tool=$1 kind=$2 out=$3 timing=
    [[ $TIMING == default ]] || timing=" -T$TIMING"
    case $tool in
    flagscan) echo "$FLAGSCAN_BIN -s$kind -p $PORT_LO-$PORT_HI -Pn -n$timing -oJ $out $TARGET" ;;
    nmap) echo "nmap -s$kind -p $PORT_LO-$PORT_HI -Pn -n$timing -oX $out $TARGET" ;;
    esac
}

# Runs TOOL once with KIND; prints "seconds exact|wrong|error detail" (every port's state
# against the truth for KIND).
run_once() {
    local tool=$1 kind=$2 run=$3 stem
    stem=$WORK/$kind.$tool.$run
    # The command line is split into words on purpose.
    # shellcheck disable=SC2046
    time_command "$stem.log" $(command_for "$tool" "$kind" "$stem.out")
    map_verdict "$tool" tcp "$PORT_LO" "$PORT_HI" "$stem" "$WORK/$kind.expected"
}

# --- the table --------------------------------------------------------------------------------

print_table() {
    local kind
    tool_rows_header kind
    for kind in ${KINDS//,/ }; do tool_rows "$WORK/$kind." "-s$kind"; done
}

print_details() {
    local kind tool
    echo
    echo "truth: every port's state from test/lab/layout.conf by kind   (loss $LOSS%, target $TARGET, lab $LAB_ID)"
    echo "per-run: + all $((PORT_HI - PORT_LO + 1)) states as expected, - some state wrong, E tool failed or unreadable output"
    for tool in ${TOOLS//,/ }; do echo "  $tool: $(command_for "$tool" "<K>" OUT)"; done
    for kind in ${KINDS//,/ }; do
        for tool in ${TOOLS//,/ }; do
            awk -v k="-s$kind" -v t="$tool" '$2 != "exact" { print "    " k " " t " run " NR " not exact: " $0 }' \
                "$WORK/$kind.$tool.results"
        done
    done
    [[ -z $KEEP_DIR ]] || echo "outputs, logs and state maps kept in $WORK"
}

main() {
    parse_args "$@"
    check_tools "flagscan nmap"
    bench_begin
    local run kind tool
    for kind in ${KINDS//,/ }; do expected_map tcp "$PORT_LO" "$PORT_HI" "$(kind_states "$kind")" >"$WORK/$kind.expected"; done
    for ((run = 1; run <= RUNS; run++)); do
        # Interleaved, so slow drifts of a shared machine hit every kind and tool alike.
        for kind in ${KINDS//,/ }; do
            for tool in ${TOOLS//,/ }; do
                printf 'run %d/%d -s%s %-9s ' "$run" "$RUNS" "$kind" "$tool" >&2
                run_once "$tool" "$kind" "$run" >>"$WORK/$kind.$tool.results"
                tail -n1 "$WORK/$kind.$tool.results" >&2
            done
        done
    done
    print_table
    print_details
}

main "$@"
