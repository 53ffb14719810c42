#!/usr/bin/env bash
# record-sv.sh: records the -sV captures of pcap-fixtures/ (lab-flagscan-sv, lab-nmap-sv) on the
# services lab, with each tool's own XML of the very run, then writes each NAME.expected.
#
#   sudo bash pcap-fixtures/record-sv.sh BUILD_DIR [LAB_ID]
#
# LAB_ID (default 24) is a services lab (test/lab/lab.sh services up ID: target 10.77.ID.130,
# host side fsvhID). tcpdump runs on the host side of the veth with no snaplen limit (-s 0: the
# payloads are the evidence), filter "host 10.77.ID.130". Every tool gets -n and the literal lab
# address; nothing leaves the lab. NAME.expected is the replay's -oJ: the replay suite compares it
# byte for byte, and its ServiceVersions tests compare each port's service with the live XML.
set -Eeuo pipefail
set -m
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=capture-wait.sh
source "$HERE/capture-wait.sh"
ROOT="$(cd "$HERE/.." && pwd)"
BUILD="$(cd "${1:?usage: record-sv.sh BUILD_DIR [LAB_ID]}" && pwd)"
LAB=${2:-24}
TARGET=10.77.$LAB.130
IFACE=fsvh$LAB
PORTS=21,22,80,443,2121,2222,6379
[[ $(id -u) == 0 ]] || { echo "record-sv.sh: run as root" >&2; exit 1; }
WORK=$(mktemp -d /tmp/record-sv-XXXXXX)
trap 'bash "$ROOT/test/lab/lab.sh" services down "$LAB" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
bash "$ROOT/test/lab/lab.sh" services down "$LAB" >/dev/null 2>&1 || true
bash "$ROOT/test/lab/lab.sh" services up "$LAB"

# record NAME COMMAND...: COMMAND runs while tcpdump writes NAME.pcap.
record() {
    local name=$1 i
    shift
    rm -f "$HERE/$name.pcap"
    tcpdump -i "$IFACE" --immediate-mode -s 0 -U -Z root -w "$HERE/$name.pcap" "host $TARGET" 2>"$WORK/tcpdump.err" &
    local pid=$!
    wait_for_capture "$WORK/tcpdump.err" record-sv.sh || exit 1
    "$@" >/dev/null
    sleep 1.5
    kill -INT "$pid"
    wait "$pid" || true
    chmod 644 "$HERE/$name.pcap"
    echo "-sV" >"$HERE/$name.args"
    "$BUILD/flagscan" --replay "$HERE/$name.pcap" -n --all-ports -oJ - -sV >"$HERE/$name.expected"
    echo "== $name: $(stat -c %s "$HERE/$name.pcap") bytes"
}

record lab-flagscan-sv "$BUILD/flagscan" -sS -sV -p "$PORTS" -Pn -n -oX "$HERE/lab-flagscan-sv.live.xml" "$TARGET"
record lab-nmap-sv nmap -sS -sV -p "$PORTS" -Pn -n -oX "$HERE/lab-nmap-sv.live.xml" "$TARGET"
