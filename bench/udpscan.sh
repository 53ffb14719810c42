#!/usr/bin/env bash
# udpscan.sh: times a UDP scan (-sU) of one lab host's ports 1-1024, flagscan beside nmap.
#
# Run as root from anywhere: bench/udpscan.sh [--runs N] [-p LO-HI] [--linux-ratelimit]
#     [--settle SEC] [--loss PCT] [--id ID] [--tools flagscan,nmap] [--timeout SEC] [--keep DIR]
# Prints, per tool, the median wall time, its ratio to flagscan's median and how many runs gave
# every scanned port the state test/lab/layout.conf implies (open, closed, filtered,
# open|filtered). --linux-ratelimit keeps Linux's ICMP rate limit (1 error/s/destination):
# slow by nature, so it defaults to -p 1-100 (~2 min a run) and waits --settle 10 s before
# each run, so the target's ICMP budget is full again. See bench/README.md.
set -Eeuo pipefail

readonly BENCH_NAME=udpscan.sh
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=3
LOSS=0
LAB_ID=52
TOOLS=flagscan,nmap
PORTS=
LINUX_RATELIMIT=0
LIMIT=
SETTLE=
KEEP_DIR=
LO=
HI=

usage() {
    sed -n '4,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

parse_args() {
    while (($#)); do
        case $1 in
        --runs) RUNS=${2:?}; shift 2 ;;
        -p | --ports) PORTS=${2:?}; shift 2 ;;
        --linux-ratelimit) LINUX_RATELIMIT=1; shift ;;
        --loss) LOSS=${2:?}; shift 2 ;;
        --id) LAB_ID=${2:?}; shift 2 ;;
        --tools) TOOLS=${2:?}; shift 2 ;;
        --timeout) LIMIT=${2:?}; shift 2 ;;
        --settle) SETTLE=${2:?}; shift 2 ;;
        --keep) KEEP_DIR=${2:?}; shift 2 ;;
        -h | --help) usage ;;
        *) die "unknown argument '$1' (see --help)" ;;
        esac
    done
    [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer"
    if [[ -z $PORTS ]]; then
        if ((LINUX_RATELIMIT)); then PORTS=1-100; else PORTS=1-1024; fi
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

# --- the truth: every scanned port's state ----------------------------------------------------

# Writes "port state" for ports LO..HI from layout.conf's UDP roles.
expected_map() {
    awk -v open="$(lab_info open_udp)" -v rejected="$(lab_info rejected_udp)" \
        -v dropped="$(lab_info dropped_udp)" -v lo="$LO" -v hi="$HI" '
        function mark(list, s,    n, i, p) {
            n = split(list, p, " ")
            for (i = 1; i <= n; i++) if (!(p[i] in state)) state[p[i]] = s
        }
        BEGIN {
            # The namespace firewall acts before any socket: drop, then reject, then listeners.
            mark(dropped, "open|filtered"); mark(rejected, "filtered"); mark(open, "open")
            for (port = lo; port <= hi; port++) print port, ((port in state) ? state[port] : "closed")
        }'
}

# --- each tool's output as "port state" for ports LO..HI --------------------------------------

# flagscan's JSON lines list the ports outside the host's most common state; the host line's
# counts give that state. Fails (message on stderr) when the lines and the counts disagree.
flagscan_map() {
    awk -v lo="$LO" -v hi="$HI" '
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
        }' "$1"
}

# nmap's XML lists the ports outside its most common states and names the rest in
# <extraports state=...><extrareasons ports="1-21,23-79,..."/> (nmap 7.80 and later; an older
# nmap's single extraports group is placed on the ports not named). Fails when a port is named twice.
nmap_map() {
    awk -v lo="$LO" -v hi="$HI" '
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
        /<port protocol="udp"/ {
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
        }' "$1"
}

# "N ports differ: 69 open|filtered->closed, ..." (at most 6 listed) between two maps.
describe_diff() {
    paste -d' ' "$1" "$2" | awk '$2 != $4 {
            if (++n <= 6) list = list (n > 1 ? ", " : "") $1 " " $2 "->" $4
        }
        END { printf "%d ports differ: %s%s", n, list, (n > 6 ? ", ..." : "") }'
}

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

# Runs TOOL once; prints "seconds exact|wrong|error detail".
run_once() {
    local tool=$1 run=$2 out log map
    out=$WORK/$tool.$run.out
    log=$WORK/$tool.$run.log
    map=$WORK/$tool.$run.map
    # The command line is split into words on purpose.
    # shellcheck disable=SC2046
    time_command_within "$LIMIT" "$log" $(command_for "$tool" "$out")
    if ((STATUS != 0)); then
        echo "$ELAPSED error exit-$STATUS"
    elif [[ ! -s $out ]]; then
        echo "$ELAPSED error no-output"
    elif ! "${tool}_map" "$out" >"$map" 2>>"$log"; then
        echo "$ELAPSED error $(tail -n1 "$log")"
    elif cmp -s "$map" "$WORK/expected"; then
        echo "$ELAPSED exact"
    else
        echo "$ELAPSED wrong $(describe_diff "$WORK/expected" "$map") [$(describe_map "$map")]"
    fi
}

# --- the table --------------------------------------------------------------------------------

print_table() {
    local tool base runs med min max exact marks
    base=
    if [[ ,$TOOLS, == *,flagscan,* ]]; then base=$(cut -d' ' -f1 "$WORK/flagscan.results" | median); fi
    printf '\n%-9s %4s %9s %7s %7s %12s  %-7s %s\n' tool runs median_s min_s max_s vs_flagscan exact per-run
    for tool in ${TOOLS//,/ }; do
        read -r runs med min max exact marks < <(results_summary "$WORK/$tool.results")
        printf '%-9s %4s %9s %7s %7s %12s  %-7s %s\n' "$tool" "$runs" "$med" "$min" "$max" \
            "$(ratio "$med" "$base")" "$exact" "$marks"
    done
}

print_details() {
    local tool mode=off
    ((LINUX_RATELIMIT)) && mode="Linux default (1 error/s/destination)"
    echo
    echo "truth: $(describe_map "$WORK/expected")"
    echo "       (ports $PORTS of $TARGET, lab $LAB_ID, loss $LOSS%, ICMP rate limit $mode, ${SETTLE}s idle before each run)"
    echo "per-run: + every port's state as expected, - some state wrong, E tool failed, timed out (${LIMIT}s) or unreadable output"
    for tool in ${TOOLS//,/ }; do
        echo "  $tool: $(command_for "$tool" OUT)"
        awk '$2 != "exact" { print "    run " NR " not exact: " $0 }' "$WORK/$tool.results"
    done
    [[ -z $KEEP_DIR ]] || echo "outputs, logs and state maps kept in $WORK"
}

main() {
    parse_args "$@"
    check_tools "flagscan nmap"
    local run tool closed
    if ((LINUX_RATELIMIT)); then
        bench_begin_with --icmp-ratelimit default
    else
        bench_begin_with --icmp-ratelimit off
    fi
    expected_map >"$WORK/expected"
    if ((LINUX_RATELIMIT)); then
        closed=$(grep -c ' closed$' "$WORK/expected" || true)
        echo "ICMP rate limit on: $closed closed ports answer at ~1/s, so each run takes at least ~$((closed - 6)) s" >&2
    fi
    for ((run = 1; run <= RUNS; run++)); do
        # Interleaved, so slow drifts of a shared machine hit both tools alike.
        for tool in ${TOOLS//,/ }; do
            ((SETTLE == 0)) || sleep "$SETTLE"
            printf 'run %d/%d %-9s ' "$run" "$RUNS" "$tool" >&2
            run_once "$tool" "$run" >>"$WORK/$tool.results"
            tail -n1 "$WORK/$tool.results" >&2
        done
    done
    print_table
    print_details
}

main "$@"
