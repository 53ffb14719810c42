#!/usr/bin/env bash
# synscan.sh: times a full 1-65535 SYN scan by flagscan, nmap and masscan against one lab namespace.
#
# Run as root from anywhere: bench/synscan.sh [--runs N] [--loss PCT] [--id ID]
#     [--tools flagscan,nmap,masscan] [--masscan-wait SEC] [--keep DIR]
# Prints, per tool, the median wall time, its ratio to flagscan's median and how many runs
# found exactly the open ports of test/lab/layout.conf. See bench/README.md.
set -Eeuo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT
readonly LAB="$REPO_ROOT/test/lab/lab.sh"
FLAGSCAN_BIN="${FLAGSCAN_BIN:-$REPO_ROOT/build/flagscan}"
export FLAGSCAN_LAB_LISTENER="${FLAGSCAN_LAB_LISTENER:-$REPO_ROOT/build/test/lab/lab-listener}"
readonly SCAN_TIMEOUT=300

RUNS=5
LOSS=0
LAB_ID=50
TOOLS=flagscan,nmap,masscan
MASSCAN_WAIT=1
KEEP_DIR=
WORK=
WAKE_PID=
LAB_UP=0
LAB_INFO=

die() {
    echo "synscan.sh: $*" >&2
    exit 1
}

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
    TARGET=10.77.$((10#$LAB_ID)).2
    HOST_IF=fsh$((10#$LAB_ID))
}

check_tools() {
    local tool
    [[ $(id -u) == 0 ]] || die "must run as root (raw sockets, network namespaces)"
    for tool in ${TOOLS//,/ }; do
        case $tool in
        flagscan) [[ -x $FLAGSCAN_BIN ]] || die "flagscan not found at $FLAGSCAN_BIN (build it or set FLAGSCAN_BIN)" ;;
        nmap | masscan) command -v "$tool" >/dev/null || die "$tool is not installed" ;;
        *) die "unknown tool '$tool' (flagscan, nmap, masscan)" ;;
        esac
    done
}

# --- lab and cleanup --------------------------------------------------------------------------

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_wake
    if ((LAB_UP)); then "$LAB" down "$LAB_ID" >/dev/null || echo "synscan.sh: lab down failed" >&2; fi
    if [[ -n $WORK && -z $KEEP_DIR ]]; then rm -rf "$WORK"; fi
    exit "$status"
}

lab_up() {
    "$LAB" down "$LAB_ID" >/dev/null  # a lab left behind by an interrupted run
    LAB_UP=1
    "$LAB" up "$LAB_ID" --loss "$LOSS" >/dev/null
    LAB_INFO=$("$LAB" info "$LAB_ID")
    NS_MAC=$(lab_info ns_mac)
    TRUE_OPEN=$(lab_info open_tcp | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')
    [[ -n $NS_MAC ]] || die "cannot read the namespace's MAC from lab.sh info"
    [[ -n $TRUE_OPEN ]] || die "layout.conf has no open_tcp"
}

# Prints KEY's value from `lab.sh info` (the lab's addresses and layout.conf).
lab_info() {
    sed -n "s/^$1=//p" <<<"$LAB_INFO"
}

# A port that is neither open, rejected nor dropped: the wake trickle's RST source.
closed_port() {
    local used port=9
    used=$(echo "$(lab_info open_tcp) $(lab_info rejected_tcp) $(lab_info dropped_tcp)" | tr ' ' '\n')
    while grep -qx "$port" <<<"$used"; do port=$((port + 1)); done
    echo "$port"
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
    local tool=$1 run=$2 out log start end status=0 found
    out=$WORK/$tool.$run.out
    log=$WORK/$tool.$run.log
    if [[ $tool == masscan ]]; then start_wake; fi
    start=$(date +%s%N)
    # --foreground: Ctrl-C reaches the scanner. The command line is split into words on purpose.
    # shellcheck disable=SC2046
    timeout --foreground "$SCAN_TIMEOUT" $(command_for "$tool" "$out") >"$log" 2>&1 || status=$?
    end=$(date +%s%N)
    stop_wake
    found=$(open_ports_in "$tool" "$out")
    local seconds
    seconds=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
    if ((status != 0)); then
        echo "$seconds error exit-$status"
    elif [[ $found == "$TRUE_OPEN" ]]; then
        echo "$seconds exact"
    else
        echo "$seconds wrong found:[${found}]"
    fi
}

# --- statistics and the table -----------------------------------------------------------------

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
        else if (NR % 2) printf "%.3f", v[(NR + 1) / 2];
        else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

print_table() {
    local tool base times marks exact med ratio
    base=
    if [[ ,$TOOLS, == *,flagscan,* ]]; then base=$(cut -d' ' -f1 "$WORK/flagscan.results" | median); fi
    printf '\n%-9s %4s %9s %7s %7s %12s  %-7s %s\n' tool runs median_s min_s max_s vs_flagscan exact per-run
    for tool in ${TOOLS//,/ }; do
        times=$(cut -d' ' -f1 "$WORK/$tool.results")
        med=$(median <<<"$times")
        ratio=-
        [[ -n $base ]] && ratio=$(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')
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
    check_tools
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    if [[ -n $KEEP_DIR ]]; then
        mkdir -p "$KEEP_DIR"
        WORK=$(cd "$KEEP_DIR" && pwd)
    else
        WORK=$(mktemp -d /tmp/flagscan-bench.XXXXXX)
    fi
    lab_up
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
