#!/usr/bin/env bash
# service_versions.sh: times -sV of the services lab's daemons, flagscan beside nmap, and compares what each names.
#
# Run as root from anywhere: bench/service_versions.sh [--runs N] [-p PORTS] [--id ID]
#     [--tools flagscan,nmap] [--keep DIR]
# Brings up the services host (test/lab/lab.sh services up ID: real sshd, vsftpd, nginx,
# telnetd, oidentd, redis ... at 10.77.ID.130), runs `flagscan -sV` and `nmap -sV` (-n -Pn, the
# same ports: every port of test/lab/services.conf unless -p) N times, interleaved, and prints
# per port the service name, product, version and tunnel of both (from their -oX) and whether
# they agree, then per tool the median wall time and its ratio to flagscan's. A flagscan run is
# "exact" when every port agrees with the nmap run of the same round. See bench/README.md.
set -Eeuo pipefail

readonly BENCH_NAME=service_versions.sh
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=3
LAB_ID=53
TOOLS=flagscan,nmap
PORTS=
SERVICES_UP=0

bench_option() {
    case $1 in
    -p | --ports) PORTS=${2:?}; OPTION_WORDS=2 ;;
    esac
}

# The services host goes down with the script (common.sh's cleanup calls this first).
bench_on_exit() {
    if ((SERVICES_UP)); then "$LAB" services down "$LAB_ID" >/dev/null || echo "$BENCH_NAME: services down failed" >&2; fi
}

services_up() {
    "$LAB" services down "$LAB_ID" >/dev/null 2>&1 || true  # one left by an interrupted run
    SERVICES_UP=1
    "$LAB" services up "$LAB_ID" >/dev/null
    TARGET=10.77.$((10#$LAB_ID)).130
    if [[ -z $PORTS ]]; then
        PORTS=$(awk '!/^#/ && NF >= 2 { print $2 }' "$REPO_ROOT/test/lab/services.conf" | sort -n | paste -sd, -)
    fi
    [[ $PORTS =~ ^[0-9,-]+$ ]] || die "-p takes a port list, got '$PORTS'"
}

command_for() {
    local tool=$1 out=$2
    case $tool in
    flagscan) echo "$FLAGSCAN_BIN -sV -n -Pn -p $PORTS -oX $out $TARGET" ;;
    nmap) echo "nmap -sV -n -Pn -p $PORTS -oX $out $TARGET" ;;
    esac
}

# "port<TAB>name<TAB>product<TAB>version<TAB>tunnel" ("-" when empty) for every port of an -oX file (nmap's
# format, which both write), sorted by port; fails on a file it cannot read.
services_of() {
    python3 - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET
rows = []
for port in ET.parse(sys.argv[1]).getroot().iter("port"):
    service = port.find("service")
    get = (lambda key: service.get(key, "")) if service is not None else (lambda key: "")
    rows.append((int(port.get("portid")), get("name"), get("product"), get("version"), get("tunnel")))
for row in sorted(rows):  # "-" for an empty field: join and diff keep the columns
    print("\t".join(str(field) or "-" for field in row))
EOF
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
    elif ! services_of "$stem.xml" >"$stem.services" 2>"$stem.parse"; then
        echo "$ELAPSED error unreadable -oX ($(head -c 200 "$stem.parse"))"
    else
        echo "$ELAPSED exact"
    fi
}

# Each flagscan run against the nmap run of its round: a port whose name, product, version or
# tunnel differ makes it "wrong" (the ports listed).
compare_rounds() {
    [[ ,$TOOLS, == *,flagscan,* && ,$TOOLS, == *,nmap,* ]] || return 0
    local run verdicts=() line differ
    for ((run = 1; run <= RUNS; run++)); do
        line=$(sed -n "${run}p" "$WORK/flagscan.results")
        if [[ $line == *" exact" && -s $WORK/nmap.$run.services ]]; then
            differ=$(diff "$WORK/nmap.$run.services" "$WORK/flagscan.$run.services" | awk '/^[<>]/ { print $2 }' | sort -un | paste -sd, -)
            [[ -z $differ ]] || line="${line% exact} wrong ports $differ"
        fi
        verdicts+=("$line")
    done
    printf '%s\n' "${verdicts[@]}" >"$WORK/flagscan.results"
}

# Per port, the last round's answers of both tools side by side.
print_ports() {
    local last=$RUNS
    [[ -s $WORK/flagscan.$last.services && -s $WORK/nmap.$last.services ]] || return 0
    echo
    printf '%-6s %-5s  %-42s %-42s\n' port agree "nmap -sV (name product version)" "flagscan -sV"
    join -t $'\t' -a1 -a2 -e '?' -o 0,1.2,1.3,1.4,1.5,2.2,2.3,2.4,2.5 \
        <(sort -t $'\t' -k1,1 "$WORK/nmap.$last.services") <(sort -t $'\t' -k1,1 "$WORK/flagscan.$last.services") |
        sort -n |
        awk -F'\t' '{
            for (i = 2; i <= 9; i++) if ($i == "-") $i = ""
            theirs = ($5 != "" ? $5 "/" : "") $2 " " $3 " " $4
            ours = ($9 != "" ? $9 "/" : "") $6 " " $7 " " $8
            agree = ($2 == $6 && $3 == $7 && $4 == $8 && $5 == $9) ? "yes" : "NO"
            printf "%-6s %-5s  %-42s %-42s\n", $1, agree, theirs, ours
        }'
}

main() {
    parse_common_args "$@"
    check_tools "flagscan nmap"
    command -v python3 >/dev/null || die "python3 is needed to read the -oX files"
    work_begin
    services_up
    run_rounds 9
    compare_rounds
    print_ports
    tool_rows_header
    tool_rows "$WORK/"
    echo
    echo "ports $PORTS of $TARGET (services lab $LAB_ID); per-run: + every port as nmap's run of the same round, - some port not, E failed"
    print_tool_runs
    [[ -z $KEEP_DIR ]] || echo "outputs and logs kept in $WORK"
}

main "$@"
