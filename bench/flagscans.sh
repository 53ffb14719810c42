#!/usr/bin/env bash
# flagscans.sh: times full 1-65535 TCP scans of each kind (-sS -sF -sN -sX -sA -sW -sM, -sT), flagscan beside nmap.
#
# Run as root from anywhere: bench/flagscans.sh [--runs N] [--loss PCT] [--id ID]
#     [--kinds S,F,N,X,A,W,M] [--tools flagscan,nmap] [--keep DIR]
# Prints, per kind and tool, the median wall time, its ratio to flagscan's median for that kind
# and how many runs gave all 65535 ports the state test/lab/layout.conf implies. See bench/README.md.
set -Eeuo pipefail

readonly BENCH_NAME=flagscans.sh
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

readonly MAX_PORT=65535

RUNS=3
LOSS=0
LAB_ID=51
KINDS=S,F,N,X,A,W,M
TOOLS=flagscan,nmap
KEEP_DIR=

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
        --kinds) KINDS=${2:?}; shift 2 ;;
        --tools) TOOLS=${2:?}; shift 2 ;;
        --keep) KEEP_DIR=${2:?}; shift 2 ;;
        -h | --help) usage ;;
        *) die "unknown argument '$1' (see --help)" ;;
        esac
    done
    [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer"
    local kind letters=
    for kind in ${KINDS//,/ }; do
        kind=${kind#-}
        kind=${kind#s}
        [[ -n $(kind_row "$kind") ]] || die "unknown kind '$kind' (S, F, N, X, A, W, M, T; -sF and sF work too)"
        letters+=${letters:+,}$kind
    done
    [[ -n $letters ]] || die "--kinds needs at least one kind"
    KINDS=$letters
    set_lab_target
}

# KIND's line of KIND_TABLE (empty when unknown).
kind_row() {
    awk -v k="$1" '$1 == k' <<<"$KIND_TABLE"
}

# --- the truth: every port's state for one kind -----------------------------------------------

# Writes "port state" for ports 1..MAX_PORT under KIND to stdout, from layout.conf's roles.
expected_map() {
    awk -v row="$(kind_row "$1")" -v open="$(lab_info open_tcp)" -v rejected="$(lab_info rejected_tcp)" \
        -v dropped="$(lab_info dropped_tcp)" -v max="$MAX_PORT" '
        function mark(list, role,    n, i, p) {
            n = split(list, p, " ")
            for (i = 1; i <= n; i++) if (!(p[i] in roles)) roles[p[i]] = role
        }
        BEGIN {
            split(row, state, " ")  # state[2] open, [3] closed, [4] rejected, [5] dropped
            # The namespace firewall acts before any socket: drop, then reject, then listeners.
            mark(dropped, 5); mark(rejected, 4); mark(open, 2)
            for (port = 1; port <= max; port++) print port, state[(port in roles) ? roles[port] : 3]
        }'
}

# --- each tool's output as "port state" for ports 1..MAX_PORT ---------------------------------

# flagscan's JSON lines list the ports outside the host's most common state; the host line's
# counts give that state. Fails (message on stderr) when the lines and the counts disagree.
flagscan_map() {
    awk -v max="$MAX_PORT" '
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
            for (port = 1; port <= max; port++) {
                s = (port in state) ? state[port] : common
                seen[s]++
                print port, s
            }
            for (s in count) if (seen[s] + 0 != count[s]) bad = "counts say " count[s] " " s ", lines give " seen[s] + 0
            for (s in seen) if (!(s in count)) bad = "state " s " is missing from the counts"
            if (bad != "") { print "flagscan output: " bad > "/dev/stderr"; exit 1 }
        }' "$1"
}

# nmap's XML lists the ports outside its most common states and names the rest in
# <extraports state=...><extrareasons ports="1-21,23-79,..."/> (nmap 7.80 and later; an older
# nmap's single extraports group is placed on the ports not named). Fails when a port is named twice.
nmap_map() {
    awk -v max="$MAX_PORT" '
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
        /<port protocol="tcp"/ {
            match($0, /portid="[0-9]+"/)
            port = substr($0, RSTART + 8, RLENGTH - 9)
            match($0, /<state state="[^"]*"/)
            set(port, substr($0, RSTART + 14, RLENGTH - 15))
        }
        END {
            if (unplaced > 1) bad = unplaced " extraports groups without port lists"
            for (port = 1; port <= max; port++) {
                if (port in state) print port, state[port]
                else if (unplaced == 1) print port, unplaced_state
                else { print port, "?"; bad = "port " port " has no state" }
            }
            if (bad != "") { print "nmap output: " bad > "/dev/stderr"; exit 1 }
        }' "$1"
}

# "N ports differ: 22 open|filtered->closed, ..." (at most 6 listed) between two maps.
describe_diff() {
    paste -d' ' "$1" "$2" | awk '$2 != $4 {
            if (++n <= 6) list = list (n > 1 ? ", " : "") $1 " " $2 "->" $4
        }
        END { printf "%d ports differ: %s%s", n, list, (n > 6 ? ", ..." : "") }'
}

# --- the runs ---------------------------------------------------------------------------------

command_for() {
    local tool=$1 kind=$2 out=$3
    case $tool in
    flagscan) echo "$FLAGSCAN_BIN -s$kind -p- -Pn -n -T4 -oJ $out $TARGET" ;;
    nmap) echo "nmap -s$kind -p- -Pn -n -T4 -oX $out $TARGET" ;;
    esac
}

# Runs TOOL once with KIND; prints "seconds exact|wrong|error detail".
run_once() {
    local tool=$1 kind=$2 run=$3 out log map
    out=$WORK/$kind.$tool.$run.out
    log=$WORK/$kind.$tool.$run.log
    map=$WORK/$kind.$tool.$run.map
    # The command line is split into words on purpose.
    # shellcheck disable=SC2046
    time_command "$log" $(command_for "$tool" "$kind" "$out")
    if ((STATUS != 0)); then
        echo "$ELAPSED error exit-$STATUS"
    elif [[ ! -s $out ]]; then
        echo "$ELAPSED error no-output"
    elif ! "${tool}_map" "$out" >"$map" 2>>"$log"; then
        echo "$ELAPSED error $(tail -n1 "$log")"
    elif cmp -s "$map" "$WORK/$kind.expected"; then
        echo "$ELAPSED exact"
    else
        echo "$ELAPSED wrong $(describe_diff "$WORK/$kind.expected" "$map")"
    fi
}

# --- the table --------------------------------------------------------------------------------

print_table() {
    local kind tool results base times med exact marks
    printf '\n%-5s %-9s %4s %9s %7s %7s %12s  %-7s %s\n' kind tool runs median_s min_s max_s vs_flagscan exact per-run
    for kind in ${KINDS//,/ }; do
        base=
        if [[ ,$TOOLS, == *,flagscan,* ]]; then base=$(cut -d' ' -f1 "$WORK/$kind.flagscan.results" | median); fi
        for tool in ${TOOLS//,/ }; do
            results=$WORK/$kind.$tool.results
            times=$(cut -d' ' -f1 "$results")
            med=$(median <<<"$times")
            exact=$(grep -c ' exact$' "$results" || true)
            marks=$(awk '{ printf "%s", ($2 == "exact" ? "+" : ($2 == "error" ? "E" : "-")) }' "$results")
            printf '%-5s %-9s %4s %9s %7s %7s %12s  %-7s %s\n' "-s$kind" "$tool" "$RUNS" "$med" \
                "$(sort -g <<<"$times" | head -n1)" "$(sort -g <<<"$times" | tail -n1)" \
                "$(ratio "$med" "$base")" "$exact/$RUNS" "$marks"
        done
    done
}

print_details() {
    local kind tool
    echo
    echo "truth: every port's state from test/lab/layout.conf by kind   (loss $LOSS%, target $TARGET, lab $LAB_ID)"
    echo "per-run: + all $MAX_PORT states as expected, - some state wrong, E tool failed or unreadable output"
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
    for kind in ${KINDS//,/ }; do expected_map "$kind" >"$WORK/$kind.expected"; done
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
