#!/usr/bin/env bash
# os.sh: times -O of the lab target, flagscan beside nmap, and compares their fingerprints and top guesses.
#
# Run as root from anywhere: bench/os.sh [--runs N] [--loss PCT] [--id ID] [--tools flagscan,nmap] [--keep DIR]
#                                       [--hosts N]
# Brings up the scan lab (test/lab/lab.sh up ID: target 10.77.ID.2), runs `flagscan -O` and
# `nmap -O` (-n -Pn -p OPEN,OPEN2,CLOSED: two open ports and a closed one of test/lab/layout.conf)
# N times, interleaved, and prints per tool the median wall time and its ratio to flagscan's.
# A flagscan run is "exact" when its fingerprint's tests other than SEQ equal those of the nmap
# run of the same round and its top OS guess is one nmap ranks within 2 percent of its own top
# (SEQ holds per-run random ISN and timestamp values, and they flip the lab target's two best
# guesses, 96% and 95%, from run to run in either tool). With --loss, the lab drops that
# percentage of packets (retries). --hosts N (default 1, at most 13) scans the target and N-1 more
# addresses of its stack (10.77.ID.17 on, AnyIP, but the filtered .20 and .27): hosts OS-scanned
# side by side. See bench/README.md.
set -Eeuo pipefail

readonly BENCH_NAME=os.sh
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=3
LAB_ID=54
TOOLS=flagscan,nmap
PORTS=
HOSTS=1
TARGETS=

bench_option() {
    case $1 in
    --hosts) HOSTS=${2:?}; OPTION_WORDS=2 ;;
    esac
}

command_for() {
    local tool=$1 out=$2
    case $tool in
    flagscan) echo "$FLAGSCAN_BIN -O -n -Pn -p $PORTS -oX $out $TARGETS" ;;
    nmap) echo "nmap -O -n -Pn -p $PORTS -oX $out $TARGETS" ;;
    esac
}

# Line 1: the top <osmatch> ("name accuracy%", or "-"); then the fingerprint's tests but SEQ and
# SCAN, one a line, from an -oX file (nmap's format, which both write), of its first host. Every
# <osmatch> as "accuracy<TAB>name" into FILE.matches.
os_of() {
    python3 - "$1" <<'PY'
import re, sys
import xml.etree.ElementTree as ET
host = ET.parse(sys.argv[1]).getroot().find("host")
os = host.find("os") if host is not None else None
if os is None:
    sys.exit("no <os> element")
match = os.find("osmatch")
print(f'{match.get("name")} {match.get("accuracy")}%' if match is not None else "-")
with open(sys.argv[1] + ".matches", "w") as out:
    for m in os.iter("osmatch"):
        out.write(f'{m.get("accuracy")}\t{m.get("name")}\n')
fp = os.find("osfingerprint")
text = "".join(line[3:] if line.startswith("OS:") else line for line in fp.get("fingerprint", "").split("\n")) if fp is not None else ""
for test in re.findall(r"([A-Z0-9]+)\(([^)]*)\)", text):
    if test[0] not in ("SEQ", "SCAN"):
        print(f"{test[0]}({test[1]})")
PY
}

# Runs TOOL once; prints "seconds exact|error detail" (flagscan's verdict is revised against
# nmap's run of the same round once both ran: compare_rounds).
run_once() {
    local tool=$1 run=$2 stem
    stem=$WORK/$tool.$run
    # The command line is split into words on purpose.
    # shellcheck disable=SC2046
    time_command "$stem.log" $(command_for "$tool" "$stem.xml")
    if ((STATUS != 0)); then
        echo "$ELAPSED error exit status $STATUS"
    elif ! os_of "$stem.xml" >"$stem.os" 2>"$stem.parse"; then
        echo "$ELAPSED error unreadable -oX ($(head -c 200 "$stem.parse"))"
    else
        echo "$ELAPSED exact"
    fi
}

# 0 when each tool's top guess is among the other's matches within 2 percent of the other's top.
tops_agree() {  # FLAGSCAN_MATCHES NMAP_MATCHES
    python3 - "$1" "$2" <<'PY'
import sys
def read(path):
    rows = [line.rstrip("\n").split("\t", 1) for line in open(path) if "\t" in line]
    return [(int(a), n) for a, n in rows]
ours, nmap = read(sys.argv[1]), read(sys.argv[2])
def near(top, other):
    return bool(top) and bool(other) and any(n == top[0][1] and a >= other[0][0] - 2 for a, n in other)
sys.exit(0 if near(ours, nmap) and near(nmap, ours) else 1)
PY
}

# Each flagscan run against the nmap run of its round: a top guess nmap ranks lower, or another
# test line, makes it "wrong" (the tests named; "top" for the guess).
compare_rounds() {
    [[ ,$TOOLS, == *,flagscan,* && ,$TOOLS, == *,nmap,* ]] || return 0
    local run verdicts=() line differ
    for ((run = 1; run <= RUNS; run++)); do
        line=$(sed -n "${run}p" "$WORK/flagscan.results")
        if [[ $line == *" exact" && -s $WORK/nmap.$run.os ]]; then
            differ=$(diff <(tail -n +2 "$WORK/nmap.$run.os") <(tail -n +2 "$WORK/flagscan.$run.os") |
                awk '/^[<>]/ { sub(/\(.*/, "", $2); print $2 }' | sort -u | paste -sd, -)
            tops_agree "$WORK/flagscan.$run.xml.matches" "$WORK/nmap.$run.xml.matches" || differ=${differ:+$differ,}top
            [[ -z $differ ]] || line="${line% exact} wrong $differ"
        fi
        verdicts+=("$line")
    done
    printf '%s\n' "${verdicts[@]}" >"$WORK/flagscan.results"
}

# The last round's top guesses, side by side.
print_guesses() {
    local last=$RUNS
    [[ -s $WORK/flagscan.$last.os && -s $WORK/nmap.$last.os ]] || return 0
    echo
    echo "top guess, last round: nmap $(head -1 "$WORK/nmap.$last.os"); flagscan $(head -1 "$WORK/flagscan.$last.os")"
}

main() {
    parse_common_args "$@"
    check_tools "flagscan nmap"
    command -v python3 >/dev/null || die "python3 is needed to read the -oX files"
    bench_begin
    set_lab_target
    local open
    read -r -a open <<<"$TRUE_OPEN"
    ((${#open[@]} >= 2)) || die "layout.conf has fewer than two open TCP ports"
    PORTS=${open[0]},${open[1]},$(closed_port)
    [[ $HOSTS =~ ^[1-9][0-9]?$ ]] && ((HOSTS <= 13)) || die "--hosts needs 1-13"
    TARGETS=$TARGET
    local last
    # .20 and .27 drop everything (layout.conf's filtered hosts): not OS targets.
    for last in 17 18 19 21 22 23 24 25 26 28 29 30; do
        (($(wc -w <<<"$TARGETS") < HOSTS)) && TARGETS+=" ${TARGET%.*}.$last"
    done
    run_rounds 9
    compare_rounds
    print_guesses
    tool_rows_header
    tool_rows "$WORK/"
    echo
    echo "-O of $TARGETS (lab $LAB_ID, loss $LOSS%), ports $PORTS; per-run: + the same tests and top guess as nmap's run of the same round, - not, E failed"
    print_tool_runs
    [[ -z $KEEP_DIR ]] || echo "outputs and logs kept in $WORK"
}

main "$@"
