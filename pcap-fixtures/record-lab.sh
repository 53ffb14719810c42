#!/usr/bin/env bash
# record-lab.sh: records the lab-* captures of pcap-fixtures/ and writes each .expected only
# after verify.py has checked the replay port by port (layout.conf, nmap -oX, the live -oJ).
#
#   sudo bash pcap-fixtures/record-lab.sh BUILD_DIR [LAB_ID]     record, verify, write .expected
#   bash pcap-fixtures/record-lab.sh --reverify BUILD_DIR         verify the captures there are
#   sudo bash pcap-fixtures/record-lab.sh --only udp BUILD_DIR [LAB_ID]
#
# --only tcp|udp limits either mode to one group of fixtures: udp = the lab-*udp* ones (UDP
# scans), tcp = every other lab-* one. The other group's captures and .expected files are not
# touched (--only udp re-records the UDP captures and leaves the TCP ones byte for byte as
# they are).
#
# --reverify needs no root and no lab: it replays the captures already in pcap-fixtures/ and
# writes each .expected again only if it still passes verify.py (layout.conf and the stored
# NAME.nmap.xml; the live scan's -oJ is not kept, so that check is left out).
#
# BUILD_DIR holds flagscan and test/lab/lab-listener (meson compile -C BUILD_DIR). LAB_ID is
# 30 unless given (30-39: the IDs set aside for fixtures). Needs nmap, tcpdump, hping3 and
# dumpcap (wireshark-common: the pcapng capture). Every packet goes to 10.77.LAB_ID.0/24, the
# lab's namespace, and nowhere else: every tool gets -n (no DNS) and a literal lab address.
# A capture whose replay fails verification gets no .expected: the script says why and goes on.
set -Eeuo pipefail
set -m  # background jobs in their own process groups, so SIGINT reaches tcpdump

REVERIFY=0
ONLY=all
while [[ ${1:-} == --* ]]; do
    case $1 in
    --reverify) REVERIFY=1; shift ;;
    --only)
        [[ ${2:-} == tcp || ${2:-} == udp ]] || { echo "record-lab.sh: --only takes tcp or udp" >&2; exit 2; }
        ONLY=$2
        shift 2
        ;;
    *) echo "record-lab.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=capture-wait.sh
source "$HERE/capture-wait.sh"
ROOT="$(cd "$HERE/.." && pwd)"
BUILD="$(cd "${1:?usage: record-lab.sh [--reverify] [--only tcp|udp] BUILD_DIR [LAB_ID]}" && pwd)"
LAB=${2:-30}
[[ $LAB =~ ^3[0-9]$ ]] || { echo "record-lab.sh: lab ID must be 30-39" >&2; exit 2; }
FLAGSCAN=$BUILD/flagscan
LAB_SH=$ROOT/test/lab/lab.sh
LAYOUT=$ROOT/test/lab/layout.conf
export FLAGSCAN_LAB_LISTENER=$BUILD/test/lab/lab-listener
NET=10.77.$LAB
TARGET=$NET.2
IFACE=fsh$LAB
FILTER="net $NET.0/24"
# Small enough for the repository, yet every layout.conf port is in both lists.
BIG=1-1100,3306,8080,8443,31337,50000,60000
SMALL=1-30,80,110-140,440-450,1000-1010,3306,8080,8443,31337,50000,60000
SUBNET_PORTS=22,80,113,135,443,1003,8080
# UDP: open 53 123 161 1900 31337, rejected 1004 5060, dropped 69 514 1008, and closed ones.
UDP_PORTS=7,9,53,69,123,161,514,1004,1008,1900,5060,31337,40000-40010
WORK=$(mktemp -d /tmp/record-lab-XXXXXX)
FAILED=()

cleanup() {
    ((REVERIFY)) || bash "$LAB_SH" down "$LAB" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
if ((!REVERIFY)); then
    tools=(nmap tcpdump python3)
    [[ $ONLY == udp ]] || tools+=(hping3 dumpcap)
    for tool in "${tools[@]}"; do
        command -v "$tool" >/dev/null || { echo "record-lab.sh: $tool is missing" >&2; exit 1; }
    done
    [[ $(id -u) == 0 ]] || { echo "record-lab.sh: run as root (lab, raw packets)" >&2; exit 1; }
    bash "$LAB_SH" down "$LAB" >/dev/null 2>&1 || true
    bash "$LAB_SH" up "$LAB"
fi

# start_capture HOW FILE: HOW is eth (tcpdump on the host veth), sll / sll2 (tcpdump -i any with
# that link type) or pcapng (dumpcap on the host veth). Sets CAPTURE_PID once it listens.
start_capture() {
    local how=$1 file=$2 i
    rm -f "$WORK/capture.err" "$file"
    case $how in
    eth) tcpdump -i "$IFACE" --immediate-mode -s 256 -U -Z root -w "$file" "$FILTER" 2>"$WORK/capture.err" & ;;
    sll) tcpdump -i any -y LINUX_SLL --immediate-mode -s 256 -U -Z root -w "$file" "$FILTER" 2>"$WORK/capture.err" & ;;
    sll2) tcpdump -i any -y LINUX_SLL2 --immediate-mode -s 256 -U -Z root -w "$file" "$FILTER" 2>"$WORK/capture.err" & ;;
    pcapng) dumpcap -i "$IFACE" -s 256 -f "$FILTER" -w "$file" 2>"$WORK/capture.err" & ;;
    esac
    CAPTURE_PID=$!
    wait_for_capture "$WORK/capture.err" record-lab.sh
}

stop_capture() {
    local i
    sleep 1.5  # late replies, and the last packets through dumpcap's 1 s buffer timeout
    kill -INT "$CAPTURE_PID"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$CAPTURE_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -TERM "$CAPTURE_PID" 2>/dev/null || true
    wait "$CAPTURE_PID" || true
    chmod 644 "$1"  # dumpcap makes its files 0600
}

# finish NAME EXT KIND HOSTS PORTS [verify.py options]: replays NAME.EXT as the test does, and
# writes NAME.expected when verify.py accepts the output.
finish() {
    local name=$1 ext=$2 kind=$3 hosts=$4 ports=$5
    shift 5
    local args=()
    [[ -f $HERE/$name.args ]] && read -ra args <"$HERE/$name.args"
    rm -f "$HERE/$name.expected"
    "$FLAGSCAN" --replay "$HERE/$name.$ext" -n --all-ports -oJ - "${args[@]}" >"$WORK/$name.jsonl" 2>"$WORK/$name.err" ||
        { echo "FAIL $name: replay exited non-zero: $(cat "$WORK/$name.err")"; FAILED+=("$name"); return 0; }
    echo "== $name ($(stat -c %s "$HERE/$name.$ext") bytes)"
    if python3 "$HERE/verify.py" "$WORK/$name.jsonl" --kind "$kind" --layout "$LAYOUT" --lab "$LAB" \
        --hosts "$hosts" --ports "$ports" "$@"; then
        cp "$WORK/$name.jsonl" "$HERE/$name.expected"
    else
        FAILED+=("$name")
    fi
}

# own_scan NAME KIND PORTS TARGET: flagscan's own -w capture, checked against its live -oJ too.
own_scan() {
    local name=$1 kind=$2 ports=$3 target=$4 hosts live=()
    if ((!REVERIFY)); then
        rm -f "$HERE/$name.pcap"
        "$FLAGSCAN" "-s$kind" -p "$ports" -Pn -n --all-ports -w "$HERE/$name.pcap" -oJ "$WORK/$name.live" "$target" >/dev/null
        live=(--live "$WORK/$name.live")
    fi
    if [[ $target == */28 ]]; then
        hosts=$(seq -s, -f "$NET.%g" 16 31)
    else
        hosts=$target
    fi
    finish "$name" pcap "$kind" "$hosts" "$ports" "${live[@]}"
}

# nmap_scan NAME HOW EXT KIND PORTS [NMAP_OPTION]: nmap -sKIND (with NMAP_OPTION, e.g. -f) captured
# by HOW, checked against nmap's -oX.
nmap_scan() {
    local name=$1 how=$2 ext=$3 kind=$4 ports=$5 extra=()
    [[ -n ${6:-} ]] && extra=("$6")
    if ((!REVERIFY)); then
        start_capture "$how" "$HERE/$name.$ext"
        nmap "-s$kind" "${extra[@]}" -p "$ports" -Pn -n -T4 -oX "$HERE/$name.nmap.xml" "$TARGET" >/dev/null
        stop_capture "$HERE/$name.$ext"
    fi
    finish "$name" "$ext" "$kind" "$TARGET" "$ports" --nmap-xml "$HERE/$name.nmap.xml"
}

# hping3 -p ++N sends one probe per port, N, N+1, ... from a new source port each.
hping_scan() {
    local name=$1 how=$2 flag=$3 kind=$4 start count ports=""
    ((REVERIFY)) || start_capture "$how" "$HERE/$name.pcap"
    for range in 20:20 110:30 440:10 1000:10; do
        start=${range%:*} count=${range#*:}
        ((REVERIFY)) || hping3 -n "$flag" -p "++$start" -c "$count" -i u5000 "$TARGET" >/dev/null 2>&1 || true
        ports+=${ports:+,}$start-$((start + count - 1))
    done
    ((REVERIFY)) || stop_capture "$HERE/$name.pcap"
    finish "$name" pcap "$kind" "$TARGET" "$ports"
}

# The TCP group: every lab-* fixture but the lab-*udp* ones.
if [[ $ONLY != udp ]]; then
    for f in "$HERE"/lab-*.expected; do
        [[ $f == *udp* || $f == *-sv.expected ]] || rm -f "$f"  # -sv: record-sv.sh's
    done
    own_scan lab-flagscan-syn S "$BIG" "$TARGET"
    own_scan lab-flagscan-syn-subnet S "$SUBNET_PORTS" "$NET.16/28"
    own_scan lab-flagscan-fin F "$SMALL" "$TARGET"
    echo "-sW" >"$HERE/lab-flagscan-window.args"
    own_scan lab-flagscan-window W "$SMALL" "$TARGET"

    nmap_scan lab-nmap-syn eth pcap S "$BIG"
    nmap_scan lab-nmap-fin eth pcap F "$SMALL"
    nmap_scan lab-nmap-null-sll2 sll2 pcap N "$SMALL"
    nmap_scan lab-nmap-xmas pcapng pcapng X "$SMALL"
    nmap_scan lab-nmap-ack eth pcap A "$SMALL"
    echo "-sW" >"$HERE/lab-nmap-window.args"
    nmap_scan lab-nmap-window eth pcap W "$SMALL"
    nmap_scan lab-nmap-maimon eth pcap M "$SMALL"
    nmap_scan lab-nmap-frag-syn eth pcap S "$SMALL" -f  # each SYN in 8-byte fragments: the replay reassembles

    hping_scan lab-hping3-syn-sll sll -S S
    hping_scan lab-hping3-fin eth -F F
fi

# The UDP group: lab-*udp*, kind U (the replay infers -sU: every probe is UDP). One port list
# holds every UDP class of layout.conf: open (the listener echoes each datagram), rejected
# (ICMP 3/13), dropped, and closed ones (ICMP 3/3). The lab's ICMP rate limit is off (lab.sh's
# default), so every closed port answers at once and the scans take seconds.
if [[ $ONLY != tcp ]]; then
    rm -f "$HERE"/lab-*udp*.expected "$HERE"/lab-*udp*.skip
    own_scan lab-flagscan-udp U "$UDP_PORTS" "$TARGET"
    nmap_scan lab-nmap-udp eth pcap U "$UDP_PORTS"
fi

if ((${#FAILED[@]})); then
    echo "record-lab.sh: no .expected for: ${FAILED[*]} (see above)" >&2
    exit 1
fi
echo "record-lab.sh: every lab capture verified (group: $ONLY)"
