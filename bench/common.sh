# common.sh: what the bench scripts share: paths, checks, the lab's life cycle, timing a scan, medians.
#
# Sourced, not run: `source "$(dirname "${BASH_SOURCE[0]}")/common.sh"`. The sourcing script
# sets BENCH_NAME (the name in its messages) and, before calling bench_begin, LAB_ID, LOSS,
# TOOLS and KEEP_DIR. It may define bench_on_exit, which cleanup calls first.
# shellcheck shell=bash disable=SC2034 # TARGET, HOST_IF, STATUS, ELAPSED are read by the sourcing script

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
readonly BENCH_DIR REPO_ROOT
readonly LAB="$REPO_ROOT/test/lab/lab.sh"
FLAGSCAN_BIN="${FLAGSCAN_BIN:-$REPO_ROOT/build/flagscan}"
export FLAGSCAN_LAB_LISTENER="${FLAGSCAN_LAB_LISTENER:-$REPO_ROOT/build/test/lab/lab-listener}"
readonly SCAN_TIMEOUT=300

WORK=
LAB_UP=0
LAB_INFO=

die() {
    echo "${BENCH_NAME:-${0##*/}}: $*" >&2
    exit 1
}

# TARGET and HOST_IF of lab LAB_ID.
set_lab_target() {
    TARGET=10.77.$((10#$LAB_ID)).2
    HOST_IF=fsh$((10#$LAB_ID))
}

# Root, and every tool of the comma-separated TOOLS, which must be one of the words in KNOWN.
check_tools() {
    local known=$1 tool
    [[ $(id -u) == 0 ]] || die "must run as root (raw sockets, network namespaces)"
    for tool in ${TOOLS//,/ }; do
        [[ " $known " == *" $tool "* ]] || die "unknown tool '$tool' (${known// /, })"
        case $tool in
        flagscan) [[ -x $FLAGSCAN_BIN ]] || die "flagscan not found at $FLAGSCAN_BIN (build it or set FLAGSCAN_BIN)" ;;
        *) command -v "$tool" >/dev/null || die "$tool is not installed" ;;
        esac
    done
}

# --- lab, work directory and cleanup ----------------------------------------------------------

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if declare -F bench_on_exit >/dev/null; then bench_on_exit; fi
    if ((LAB_UP)); then "$LAB" down "$LAB_ID" >/dev/null || echo "${BENCH_NAME:-${0##*/}}: lab down failed" >&2; fi
    if [[ -n $WORK && -z $KEEP_DIR ]]; then rm -rf "$WORK"; fi
    exit "$status"
}

# Cleanup on every exit, WORK (KEEP_DIR or a fresh temporary directory), then the lab.
bench_begin() {
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    if [[ -n $KEEP_DIR ]]; then
        mkdir -p "$KEEP_DIR"
        WORK=$(cd "$KEEP_DIR" && pwd)
    else
        WORK=$(mktemp -d /tmp/flagscan-bench.XXXXXX)
    fi
    lab_up
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

# A port that is neither open, rejected nor dropped.
closed_port() {
    local used port=9
    used=$(echo "$(lab_info open_tcp) $(lab_info rejected_tcp) $(lab_info dropped_tcp)" | tr ' ' '\n')
    while grep -qx "$port" <<<"$used"; do port=$((port + 1)); done
    echo "$port"
}

# --- timing and statistics --------------------------------------------------------------------

# Runs COMMAND... under SCAN_TIMEOUT with its output in LOG; sets ELAPSED (seconds, 3 decimals,
# process start to exit) and STATUS (its exit status, 124 on timeout).
time_command() {
    local log=$1 start end
    shift
    STATUS=0
    start=$(date +%s%N)
    # --foreground: Ctrl-C reaches the scanner.
    timeout --foreground "$SCAN_TIMEOUT" "$@" >"$log" 2>&1 || STATUS=$?
    end=$(date +%s%N)
    ELAPSED=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
}

# The median of the numbers on stdin, one a line ("nan" when none).
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
        else if (NR % 2) printf "%.3f", v[(NR + 1) / 2];
        else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# A / B as "1.23x", or "-" when B is empty.
ratio() {
    if [[ -z $2 ]]; then
        echo -
    else
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
    fi
}

# --- added for udpscan.sh and discovery.sh (the functions above are unchanged) ------------------

# bench_begin, with more `lab.sh up` options after --loss (e.g. --icmp-ratelimit default).
bench_begin_with() {
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    if [[ -n $KEEP_DIR ]]; then
        mkdir -p "$KEEP_DIR"
        WORK=$(cd "$KEEP_DIR" && pwd)
    else
        WORK=$(mktemp -d /tmp/flagscan-bench.XXXXXX)
    fi
    lab_up_with "$@"
}

# lab_up, with more `lab.sh up` options; sets LAB_INFO and NS_MAC (not TRUE_OPEN: no TCP needed).
lab_up_with() {
    "$LAB" down "$LAB_ID" >/dev/null  # a lab left behind by an interrupted run
    LAB_UP=1
    "$LAB" up "$LAB_ID" --loss "$LOSS" "$@" >/dev/null
    LAB_INFO=$("$LAB" info "$LAB_ID")
    NS_MAC=$(lab_info ns_mac)
    [[ -n $NS_MAC ]] || die "cannot read the namespace's MAC from lab.sh info"
}

# time_command with a time limit of LIMIT seconds instead of SCAN_TIMEOUT: LIMIT LOG COMMAND...
time_command_within() {
    local limit=$1 log=$2 start end
    shift 2
    STATUS=0
    start=$(date +%s%N)
    timeout --foreground "$limit" "$@" >"$log" 2>&1 || STATUS=$?
    end=$(date +%s%N)
    ELAPSED=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
}

# One table row from a results file ("seconds verdict detail" a line, verdict exact, wrong or
# error): prints "runs median min max exact/runs marks" (marks: + exact, - wrong, E error).
results_summary() {
    local results=$1 times runs
    times=$(cut -d' ' -f1 "$results")
    runs=$(grep -c . "$results" || true)
    printf '%s %s %s %s %s/%s %s\n' "$runs" "$(median <<<"$times")" \
        "$(sort -g <<<"$times" | head -n1)" "$(sort -g <<<"$times" | tail -n1)" \
        "$(awk '$2 == "exact"' "$results" | grep -c . || true)" "$runs" \
        "$(awk '{ printf "%s", ($2 == "exact" ? "+" : ($2 == "error" ? "E" : "-")) }' "$results")"
}
