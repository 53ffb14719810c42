#!/usr/bin/env bash
# record-lab6.sh: records the IPv6 lab6-* captures of pcap-fixtures/ (nmap -6's and flagscan -6's on the lab's IPv6 side).
#
#   sudo bash pcap-fixtures/record-lab6.sh BUILD_DIR [LAB_ID]   record, then write each .expected
#   sudo bash pcap-fixtures/record-lab6.sh --only nmap|flagscan BUILD_DIR [LAB_ID]   one tool's only
#   bash pcap-fixtures/record-lab6.sh --expected-only BUILD_DIR   no root: .expected from the captures there are
#
# Brings scan lab LAB_ID up (test/lab/lab.sh: fd77:ID::1 on the host veth fshID, fd77:ID::2 in
# the namespace, fd77:ID::100/120 routed into it; the ports of test/lab/layout.conf), checks with
# `ip -6 route get` that every target routes through fshID, and records each nmap -6 scan with
# tcpdump on fshID (snaplen 256, filter `ip6`: nmap's neighbor solicitation and its answer are in
# the captures too), keeping nmap's own -oX as NAME.nmap.xml. Then NAME.expected is the replay's
# `--replay NAME.pcap -n --all-ports -oJ -` by BUILD_DIR/flagscan (its JSON must write IPv6 hosts
# by address: TargetSet::address_text). The suite's Ipv6Replay.StatesEqualNmaps checks every
# port's state and reason against NAME.nmap.xml. Every nmap run is -n with literal lab addresses.
# flagscan's own lab6-flagscan-* captures are its -w files of `flagscan -6 -n -Pn --all-ports`
# scans, checked with verify.py: every port as layout.conf says, and the replay's host and port
# lines byte for byte the live scan's -oJ.
set -Eeuo pipefail
set -m

EXPECTED_ONLY=0 ONLY=
[[ ${1:-} == --expected-only ]] && { EXPECTED_ONLY=1; shift; }
[[ ${1:-} == --only ]] && { ONLY=${2:?--only takes nmap or flagscan}; shift 2; }
[[ -z $ONLY || $ONLY == nmap || $ONLY == flagscan ]] || { echo "record-lab6.sh: --only takes nmap or flagscan" >&2; exit 2; }
NMAP_NAMES=(lab6-nmap-syn lab6-nmap-fin lab6-nmap-ack lab6-nmap-udp lab6-nmap-syn-prefix)
OWN_NAMES=(lab6-flagscan-syn lab6-flagscan-udp lab6-flagscan-syn-prefix)
case $ONLY in
    nmap) NAMES=("${NMAP_NAMES[@]}") ;;
    flagscan) NAMES=("${OWN_NAMES[@]}") ;;
    *) NAMES=("${NMAP_NAMES[@]}" "${OWN_NAMES[@]}") ;;
esac

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=capture-wait.sh
source "$HERE/capture-wait.sh"
ROOT="$(cd "$HERE/.." && pwd)"
BUILD="$(cd "${1:?usage: record-lab6.sh BUILD_DIR [LAB_ID]}" && pwd)"
LAB=${2:-75}
[[ $LAB =~ ^[0-9]{1,2}$ ]] || { echo "record-lab6.sh: lab ID must be 0-99" >&2; exit 2; }
FLAGSCAN=$BUILD/flagscan
LAB_SH=$ROOT/test/lab/lab.sh
export FLAGSCAN_LAB_LISTENER=$BUILD/test/lab/lab-listener
IFACE=fsh$LAB
TARGET=fd77:$LAB::2
PREFIX=fd77:$LAB::100/124  # 16 of the /120, two of them dropped hosts (::104, ::10b)
# Every layout.conf TCP kind: open 22 80 443 8080, closed 20 21 23-25, rejected 113 1003,
# dropped 135 1007 50000.
TCP_PORTS=20-25,80,113,135,443,1003,1007,8080,50000
# UDP: open 53 123 161, rejected 1004 5060, dropped 69 1008, closed 7 9.
UDP_PORTS=7,9,53,69,123,161,1004,1008,5060

# The replay's JSON of each capture, as the suite runs it.
write_expected() {
    local name
    for name in "${NAMES[@]}"; do
        "$FLAGSCAN" --replay "$HERE/$name.pcap" -n --all-ports -oJ - >"$HERE/$name.expected"
        echo "== $name: $(stat -c %s "$HERE/$name.pcap") bytes, $(grep -c '"port"' "$HERE/$name.expected") ports replayed"
    done
}
if ((EXPECTED_ONLY)); then
    write_expected
    exit 0
fi
WORK=$(mktemp -d /tmp/record-lab6-XXXXXX)

cleanup() {
    bash "$LAB_SH" down "$LAB" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
for tool in nmap tcpdump; do
    command -v "$tool" >/dev/null || { echo "record-lab6.sh: $tool is missing" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "record-lab6.sh: run as root (lab, raw packets)" >&2; exit 1; }
bash "$LAB_SH" down "$LAB" >/dev/null 2>&1 || true
bash "$LAB_SH" up "$LAB" >/dev/null

# Dies unless ADDR routes through the lab's veth: nothing reaches the real network.
assert_lab_route() {
    local route
    route=$(ip -6 -o route get "$1")
    [[ $route == *" dev $IFACE "* ]] || { echo "record-lab6.sh: $1 does not route through $IFACE: $route" >&2; exit 1; }
}

# record NAME TARGET NMAP_ARGS...: nmap -6 -n under tcpdump.
record() {
    local name=$1 target=$2
    shift 2
    assert_lab_route "${target%/*}"
    rm -f "$HERE/$name.pcap" "$HERE/$name.expected" "$WORK/capture.err"
    tcpdump -i "$IFACE" --immediate-mode -s 256 -U -Z root -w "$HERE/$name.pcap" ip6 2>"$WORK/capture.err" &
    local pid=$!
    wait_for_capture "$WORK/capture.err" record-lab6.sh
    timeout 300 nmap -6 -n -Pn -T4 "$@" -oX "$HERE/$name.nmap.xml" "$target" >"$WORK/$name.nmap.out"
    sleep 1.5  # late replies
    kill -INT "$pid"
    wait "$pid" || true
    chmod 644 "$HERE/$name.pcap" "$HERE/$name.nmap.xml"
}

# own_scan NAME KIND PORTS TARGET HOSTS: flagscan -6's own -w capture of TARGET, verified
# (verify.py: layout.conf's verdicts for HOSTS, the replay's lines the live scan's -oJ).
own_scan() {
    local name=$1 kind=$2 ports=$3 target=$4 hosts=$5
    assert_lab_route "${target%/*}"
    rm -f "$HERE/$name.pcap" "$HERE/$name.expected"
    "$FLAGSCAN" -6 "-s$kind" -p "$ports" -Pn -n --all-ports -w "$HERE/$name.pcap" -oJ "$WORK/$name.live" "$target" >/dev/null
    chmod 644 "$HERE/$name.pcap"
    "$FLAGSCAN" --replay "$HERE/$name.pcap" -n --all-ports -oJ "$WORK/$name.replay" >/dev/null
    python3 "$HERE/verify.py" "$WORK/$name.replay" --kind "$kind" --layout "$ROOT/test/lab/layout.conf" --lab "$LAB" \
        --hosts "$hosts" --ports "$ports" --live "$WORK/$name.live"
}

if [[ $ONLY != flagscan ]]; then
    record lab6-nmap-syn "$TARGET" -sS -p "$TCP_PORTS"
    record lab6-nmap-fin "$TARGET" -sF -p "$TCP_PORTS"
    record lab6-nmap-ack "$TARGET" -sA -p "$TCP_PORTS"
    record lab6-nmap-udp "$TARGET" -sU -p "$UDP_PORTS"
    record lab6-nmap-syn-prefix "$PREFIX" -sS -p 22,23,113,135
fi
if [[ $ONLY != nmap ]]; then
    own_scan lab6-flagscan-syn S "$TCP_PORTS" "$TARGET" "$TARGET"
    own_scan lab6-flagscan-udp U "$UDP_PORTS" "$TARGET" "$TARGET"
    own_scan lab6-flagscan-syn-prefix S 22,23,113,135 "$PREFIX" "$(printf "fd77:$LAB::%x," {256..271} | sed 's/,$//')"
fi
write_expected
