# common.sh: what the bench scripts share: paths, checks, options, the lab's life cycle, timing a
# scan, port-state maps, medians and the table.
#
# Sourced, not run: `source "$(dirname "${BASH_SOURCE[0]}")/common.sh"`. The sourcing script
# sets BENCH_NAME (the name in its messages) and RUNS, LAB_ID and TOOLS (the defaults
# parse_common_args overrides). Its header comment from line 4 on is its usage. It may
# define bench_option (its own options, for parse_common_args), bench_on_exit (which cleanup
# calls first), run_once TOOL RUN (for run_rounds) and command_for TOOL OUT (its command lines,
# for print_tool_runs).
# shellcheck shell=bash disable=SC2034 # TARGET, HOST_IF, STATUS, ELAPSED are read by the sourcing script

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
readonly BENCH_DIR REPO_ROOT
readonly LAB="$REPO_ROOT/test/lab/lab.sh"
FLAGSCAN_BIN="${FLAGSCAN_BIN:-$REPO_ROOT/build/flagscan}"
export FLAGSCAN_LAB_LISTENER="${FLAGSCAN_LAB_LISTENER:-$REPO_ROOT/build/test/lab/lab-listener}"
readonly SCAN_TIMEOUT=300

# The defaults of --loss and --keep; the sourcing script sets those of --runs, --id and --tools.
LOSS=0
KEEP_DIR=

WORK=
WAKE_PID=
LAB_UP=0
LAB_INFO=
OPTION_WORDS=0

die() {
    echo "${BENCH_NAME:-${0##*/}}: $*" >&2
    exit 1
}

# The running script's header comment from its 4th line ("Run as root ...") to its end, on
# stderr; exits 2.
usage() {
    awk 'NR >= 4 { if (!/^#/) exit; sub(/^# ?/, ""); print }' "${BASH_SOURCE[-1]}" >&2
    exit 2
}

# The options every script takes: --runs, --loss, --id, --tools, --keep and -h/--help. Any other
# word goes to the script's bench_option ARGS..., which sets OPTION_WORDS to the number of words
# it used (left 0: an unknown argument).
parse_common_args() {
    while (($#)); do
        case $1 in
        --runs) RUNS=${2:?}; shift 2 ;;
        --loss) LOSS=${2:?}; shift 2 ;;
        --id) LAB_ID=${2:?}; shift 2 ;;
        --tools) TOOLS=${2:?}; shift 2 ;;
        --keep) KEEP_DIR=${2:?}; shift 2 ;;
        -h | --help) usage ;;
        *)
            OPTION_WORDS=0
            if declare -F bench_option >/dev/null; then bench_option "$@"; fi
            ((OPTION_WORDS > 0)) || die "unknown argument '$1' (see --help)"
            shift "$OPTION_WORDS"
            ;;
        esac
    done
    [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer"
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
    stop_wake
    if ((LAB_UP)); then "$LAB" down "$LAB_ID" >/dev/null || echo "${BENCH_NAME:-${0##*/}}: lab down failed" >&2; fi
    if [[ -n $WORK && -z $KEEP_DIR ]]; then rm -rf "$WORK"; fi
    exit "$status"
}

# Cleanup on every exit, WORK (KEEP_DIR or a fresh temporary directory), then the lab (lab_up).
bench_begin() {
    work_begin
    lab_up
}

# bench_begin, with more `lab.sh up` options after --loss (e.g. --icmp-ratelimit default), and
# without TRUE_OPEN (lab_up_with).
bench_begin_with() {
    work_begin
    lab_up_with "$@"
}

# Cleanup on every exit, then WORK: KEEP_DIR or a fresh temporary directory.
work_begin() {
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    if [[ -n $KEEP_DIR ]]; then
        mkdir -p "$KEEP_DIR"
        WORK=$(cd "$KEEP_DIR" && pwd)
    else
        WORK=$(mktemp -d /tmp/flagscan-bench.XXXXXX)
    fi
}

# lab_up_with, and TRUE_OPEN: the open TCP ports, sorted.
lab_up() {
    lab_up_with
    TRUE_OPEN=$(lab_info open_tcp | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')
    [[ -n $TRUE_OPEN ]] || die "layout.conf has no open_tcp"
}

# The lab, with OPTIONS... after `lab.sh up ID --loss LOSS`; sets LAB_INFO and NS_MAC.
lab_up_with() {
    "$LAB" down "$LAB_ID" >/dev/null  # a lab left behind by an interrupted run
    LAB_UP=1
    "$LAB" up "$LAB_ID" --loss "$LOSS" "$@" >/dev/null
    LAB_INFO=$("$LAB" info "$LAB_ID")
    NS_MAC=$(lab_info ns_mac)
    [[ -n $NS_MAC ]] || die "cannot read the namespace's MAC from lab.sh info"
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

# Every address of RANGE (the lab's wide range or its first /P) whose last octet mod 4 is not in wide_dropped_mod4, one a line, sorted: the
# addresses that answer anything there (every one has the lab's ports): RANGE.
wide_up_addresses() {
    awk -v range="$1" -v dropped="$(lab_info wide_dropped_mod4)" '
        BEGIN {
            split(range, part, "[./]")
            n = split(dropped, d, " ")
            for (i = 1; i <= n; i++) drop[d[i] + 0] = 1
            count = 2 ^ (32 - part[5])
            for (k = 0; k < count; k++) {
                third = int(k / 256); last = k % 256
                if (!(last % 4 in drop)) print part[1] "." part[2] "." third "." last
            }
        }' | LC_ALL=C sort
}

# "(M missed, K extra, D duplicate) missed: first ... extra: first ..." of the sorted address
# list FOUND against the truth, $WORK/expected: FOUND.
describe_diff() {
    local found=$1 missed extra dups
    missed=$(LC_ALL=C comm -23 "$WORK/expected" <(uniq "$found"))
    extra=$(LC_ALL=C comm -13 "$WORK/expected" <(uniq "$found"))
    dups=$(uniq -d "$found" | grep -c . || true)
    printf '(%d missed, %d extra, %d duplicate)' "$(grep -c . <<<"$missed" || true)" \
        "$(grep -c . <<<"$extra" || true)" "$dups"
    [[ -z $missed ]] || printf ' missed: %s' "$(head -n4 <<<"$missed" | paste -sd' ')"
    [[ -z $extra ]] || printf ' extra: %s' "$(head -n4 <<<"$extra" | paste -sd' ')"
}

# --- the wake trickle -------------------------------------------------------------------------

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

# --- timing and statistics --------------------------------------------------------------------

# Runs COMMAND... under SCAN_TIMEOUT with its output in LOG; sets ELAPSED (seconds, 3 decimals,
# process start to exit) and STATUS (its exit status, 124 on timeout): LOG COMMAND...
time_command() {
    time_command_within "$SCAN_TIMEOUT" "$@"
}

# time_command with a time limit of LIMIT seconds instead of SCAN_TIMEOUT: LIMIT LOG COMMAND...
time_command_within() {
    local limit=$1 log=$2 start end
    shift 2
    STATUS=0
    start=$(date +%s%N)
    # --foreground: Ctrl-C reaches the scanner.
    timeout --foreground "$limit" "$@" >"$log" 2>&1 || STATUS=$?
    end=$(date +%s%N)
    ELAPSED=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
}

# RUNS rounds of `run_once TOOL RUN` over the tools of TOOLS, interleaved so that slow drifts of
# a shared machine hit every tool alike. Each verdict line goes to $WORK/TOOL.results and, after
# "run R/N TOOL" (TOOL padded to WIDTH), to stderr. BEFORE..., if given, runs before each run.
# WIDTH [BEFORE...].
run_rounds() {
    local width=$1 run tool
    shift
    for ((run = 1; run <= RUNS; run++)); do
        for tool in ${TOOLS//,/ }; do
            if (($#)); then "$@"; fi
            printf 'run %d/%d %-*s ' "$run" "$RUNS" "$width" "$tool" >&2
            run_once "$tool" "$run" >>"$WORK/$tool.results"
            tail -n1 "$WORK/$tool.results" >&2
        done
    done
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

# --- port states: the truth, each tool's output, the verdict (flagscans.sh, udpscan.sh) -------

# Writes "port state" for ports LO..HI from layout.conf's PROTO (tcp, udp) roles; STATES is the
# state of an open, a closed, a rejected and a dropped port, in that order: PROTO LO HI STATES.
expected_map() {
    awk -v states="$4" -v open="$(lab_info "open_$1")" -v rejected="$(lab_info "rejected_$1")" \
        -v dropped="$(lab_info "dropped_$1")" -v lo="$2" -v hi="$3" '
        function mark(list, role,    n, i, p) {
            n = split(list, p, " ")
            for (i = 1; i <= n; i++) if (!(p[i] in roles)) roles[p[i]] = role
        }
        BEGIN {
            split(states, state, " ")  # state[1] open, [2] closed, [3] rejected, [4] dropped
            # The namespace firewall acts before any socket: drop, then reject, then listeners.
            mark(dropped, 4); mark(rejected, 3); mark(open, 1)
            for (port = lo; port <= hi; port++) print port, state[(port in roles) ? roles[port] : 2]
        }'
}

# TOOL's output FILE as "port state" for PROTO ports LO..HI: TOOL PROTO LO HI FILE.
tool_map() {
    case $1 in
    flagscan) flagscan_map "$3" "$4" "$5" ;;
    nmap) nmap_map "$2" "$3" "$4" "$5" ;;
    *) echo "no port map for $1" >&2; return 1 ;;
    esac
}

# flagscan's JSON lines list the ports outside the host's most common state; the host line's
# counts give that state. Fails (message on stderr) when the lines and the counts disagree.
# LO HI FILE.
flagscan_map() {
    awk -v lo="$1" -v hi="$2" '
        match($0, /"port":[0-9]+/) {
            port = substr($0, RSTART + 7, RLENGTH - 7)
            if (!match($0, /"state":"[^"]*"/)) { bad = "a port line without a state"; next }
            if (port in state) bad = "port " port " listed twice"
            state[port] = substr($0, RSTART + 9, RLENGTH - 10)
            next
        }
        match($0, /"counts":\{[^}]*\}/) {
            hosts++
            n = split(substr($0, RSTART + 10, RLENGTH - 11), item, ",")
            for (i = 1; i <= n; i++) {
                split(item[i], kv, ":")
                gsub(/"/, "", kv[1])
                count[kv[1]] = kv[2] + 0
                if (common == "" || count[kv[1]] > count[common]) common = kv[1]
            }
        }
        END {
            if (hosts != 1) bad = hosts + 0 " host lines"
            for (port = lo; port <= hi; port++) {
                s = (port in state) ? state[port] : common
                seen[s]++
                print port, s
            }
            for (s in count) if (seen[s] + 0 != count[s]) bad = "counts say " count[s] " " s ", lines give " seen[s] + 0
            for (s in seen) if (!(s in count)) bad = "state " s " is missing from the counts"
            if (bad != "") { print "flagscan output: " bad > "/dev/stderr"; exit 1 }
        }' "$3"
}

# nmap's XML lists the ports outside its most common states and names the rest in
# <extraports state=...><extrareasons ports="1-21,23-79,..."/> (nmap 7.80 and later; an older
# nmap's single extraports group is placed on the ports not named). Fails when a port is named twice.
# PROTO LO HI FILE.
nmap_map() {
    awk -v proto="$1" -v lo="$2" -v hi="$3" '
        function set(port, s) {
            if (port in state) bad = "port " port " given twice"
            state[port] = s
        }
        /<extraports / {
            match($0, /state="[^"]*"/)
            extra = substr($0, RSTART + 7, RLENGTH - 8)
            match($0, /count="[0-9]+"/)
            extra_left = substr($0, RSTART + 7, RLENGTH - 8) + 0
        }
        /<extrareasons / && match($0, /ports="[^"]*"/) {
            n = split(substr($0, RSTART + 7, RLENGTH - 8), range, ",")
            for (i = 1; i <= n; i++) {
                if (split(range[i], ends, "-") == 1) ends[2] = ends[1]
                for (p = ends[1] + 0; p <= ends[2] + 0; p++) { set(p, extra); extra_left-- }
            }
        }
        /<\/extraports>/ { if (extra_left > 0) { unplaced++; unplaced_state = extra } }
        index($0, "<port protocol=\"" proto "\"") {
            match($0, /portid="[0-9]+"/)
            port = substr($0, RSTART + 8, RLENGTH - 9)
            match($0, /<state state="[^"]*"/)
            set(port, substr($0, RSTART + 14, RLENGTH - 15))
        }
        END {
            if (unplaced > 1) bad = unplaced " extraports groups without port lists"
            for (port = lo; port <= hi; port++) {
                if (port in state) print port, state[port]
                else if (unplaced == 1) print port, unplaced_state
                else { print port, "?"; bad = "port " port " has no state" }
            }
            if (bad != "") { print "nmap output: " bad > "/dev/stderr"; exit 1 }
        }' "$4"
}

# "N ports differ: 22 open|filtered->closed, ..." (at most 6 listed) between two maps.
describe_map_diff() {
    paste -d' ' "$1" "$2" | awk '$2 != $4 {
            if (++n <= 6) list = list (n > 1 ? ", " : "") $1 " " $2 "->" $4
        }
        END { printf "%d ports differ: %s%s", n, list, (n > 6 ? ", ..." : "") }'
}

# After time_command: "seconds exact|wrong|error detail" for TOOL's output STEM.out (PROTO ports
# LO..HI) against the map EXPECTED; the output's map goes to STEM.map, a map error to STEM.log.
# TOOL PROTO LO HI STEM EXPECTED.
map_verdict() {
    local tool=$1 proto=$2 lo=$3 hi=$4 stem=$5 expected=$6
    if ((STATUS != 0)); then
        echo "$ELAPSED error exit-$STATUS"
    elif [[ ! -s $stem.out ]]; then
        echo "$ELAPSED error no-output"
    elif ! tool_map "$tool" "$proto" "$lo" "$hi" "$stem.out" >"$stem.map" 2>>"$stem.log"; then
        echo "$ELAPSED error $(tail -n1 "$stem.log")"
    elif cmp -s "$stem.map" "$expected"; then
        echo "$ELAPSED exact"
    else
        echo "$ELAPSED wrong $(describe_map_diff "$expected" "$stem.map")"
    fi
}

# --- the table --------------------------------------------------------------------------------

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

# The header of tool_rows' table, after an empty line; with COLUMN, a first column so named.
# shellcheck disable=SC2120 # COLUMN is optional
tool_rows_header() {
    echo
    if (($#)); then printf '%-5s ' "$1"; fi
    printf '%-11s %4s %9s %7s %7s %12s  %-7s %s\n' tool runs median_s min_s max_s vs_flagscan exact per-run
}

# A table row a tool of TOOLS from its results file PREFIXTOOL.results, with the ratio of its
# median to flagscan's (PREFIXflagscan.results); with VALUE, each row starts with it (5 wide):
# PREFIX [VALUE].
tool_rows() {
    local prefix=$1 tool base runs med min max exact marks
    base=
    if [[ ,$TOOLS, == *,flagscan,* ]]; then base=$(cut -d' ' -f1 "${prefix}flagscan.results" | median); fi
    for tool in ${TOOLS//,/ }; do
        read -r runs med min max exact marks < <(results_summary "$prefix$tool.results")
        if (($# > 1)); then printf '%-5s ' "$2"; fi
        printf '%-11s %4s %9s %7s %7s %12s  %-7s %s\n' "$tool" "$runs" "$med" "$min" "$max" \
            "$(ratio "$med" "$base")" "$exact" "$marks"
    done
}

# For each tool of TOOLS: its command line (the script's command_for TOOL OUT) and its runs
# that were not exact ($WORK/TOOL.results).
print_tool_runs() {
    local tool
    for tool in ${TOOLS//,/ }; do
        echo "  $tool: $(command_for "$tool" OUT)"
        awk '$2 != "exact" { print "    run " NR " not exact: " $0 }' "$WORK/$tool.results"
    done
}
