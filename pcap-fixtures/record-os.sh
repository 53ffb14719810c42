#!/usr/bin/env bash
# record-os.sh: records nmap -O of the lab target (os-nmap-linux.pcap) and nmap's fingerprint of
# it (os-nmap-linux.fingerprint), the ground truth of flagscan's OS fingerprint tests (issue 15).
#
#   sudo bash pcap-fixtures/record-os.sh BUILD_DIR [LAB_ID] [nmap|flagscan|all] [LOSS]
#
# The third argument picks what is recorded (default all): `nmap` the capture above, `flagscan`
# flagscan's own -O of the same ports (os-flagscan-linux.pcap; its .args is -O and its .expected
# the replay's JSON, written only when the replayed fingerprint's tests equal the live run's).
# LOSS (a percent, default 0): the lab drops that share of the target's packets (lab.sh loss), so
# the tries lose probes and nmap resends them (OPS/WIN and T1 resends of SEQ packets among
# them); the files are then named os-nmap-linux-loss.* and os-flagscan-linux-loss.*.
# LAB_ID (default 27) is a lab.sh scan lab with test/lab/layout.conf: target 10.77.ID.2, TCP 22
# and 80 open, TCP 1 closed (RST), every UDP port not listed in layout.conf closed (ICMP 3/3).
# nmap scans only those three TCP ports (-p 1,22,80), so its OS scan has an open and a closed
# TCP port and picks a closed UDP port itself. Capture: tcpdump on the host side of the lab veth,
# whole packets (U1's reply quotes the whole 328-byte probe), filter `host 10.77.ID.2`.
# Network safety: nmap gets a literal lab address and -n, and nothing is sent before
# `ip route get` has shown that the address routes through the lab's veth.
# Outputs beside this script: os-nmap-linux.pcap, os-nmap-linux.nmap (-oN), os-nmap-linux.xml
# (-oX), os-nmap-linux.fingerprint (nmap's fingerprint from the XML, one test a line, unwrapped).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=capture-wait.sh
source "$HERE/capture-wait.sh"
ROOT="$(cd "$HERE/.." && pwd)"
BUILD="$(cd "${1:?usage: record-os.sh BUILD_DIR [LAB_ID] [nmap|flagscan|all] [LOSS]}" && pwd)"
LAB=${2:-27}
WHAT=${3:-all}
LOSS=${4:-0}
[[ $LOSS =~ ^[0-9]{1,2}$ ]] || { echo "record-os.sh: LOSS is a percent, 0..99" >&2; exit 2; }
SUFFIX=""
((LOSS == 0)) || SUFFIX=-loss
[[ $WHAT =~ ^(nmap|flagscan|all)$ ]] || { echo "record-os.sh: record nmap, flagscan or all" >&2; exit 2; }
[[ $LAB =~ ^[0-9]{1,2}$ ]] || { echo "record-os.sh: lab ID is 0..99" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "record-os.sh: run as root (lab, raw packets)" >&2; exit 1; }
command -v nmap >/dev/null && command -v tcpdump >/dev/null || { echo "record-os.sh: needs nmap and tcpdump" >&2; exit 1; }
LAB_SH=$ROOT/test/lab/lab.sh
export FLAGSCAN_LAB_LISTENER=$BUILD/test/lab/lab-listener
export FLAGSCAN_LAB_SLOW_RESPONDER=$BUILD/test/lab/slow-responder

TARGET=10.77.$LAB.2
IFACE=fsh$LAB
NAME=os-nmap-linux$SUFFIX
WORK=$(mktemp -d /tmp/record-os-XXXXXX)
CAPTURE_PID=""

cleanup() {
    [[ -n $CAPTURE_PID ]] && kill -INT "$CAPTURE_PID" 2>/dev/null || true
    bash "$LAB_SH" down "$LAB" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# assert_lab_route ADDR IFACE: dies unless the kernel sends to ADDR through IFACE (the lab veth).
assert_lab_route() {
    local route
    route=$(ip -o route get "$1")
    [[ $route == *" dev $2 "* ]] || { echo "record-os.sh: $1 does not route through $2: $route" >&2; exit 1; }
}

start_capture() {
    local file=$1 i
    rm -f "$file"
    tcpdump -i "$IFACE" --immediate-mode -s 0 -U -Z root -n -w "$file" "host $TARGET" 2>"$WORK/tcpdump.err" &
    CAPTURE_PID=$!
    wait_for_capture "$WORK/tcpdump.err" record-os.sh || exit 1
}

stop_capture() {
    sleep 1.5  # late replies
    kill -INT "$CAPTURE_PID"
    wait "$CAPTURE_PID" || true
    CAPTURE_PID=""
    chmod 644 "$1"
    echo "== $(basename "$1"): $(stat -c %s "$1") bytes"
}

# nmap's <osfingerprint fingerprint="OS:SCAN(...)OS:..."> unwrapped: one test a line.
write_fingerprint() {
    python3 - "$1" "$2" <<'EOF'
import re, sys, xml.etree.ElementTree as ET
fps = [e.get("fingerprint") for e in ET.parse(sys.argv[1]).iter("osfingerprint")]
if not fps:
    sys.exit("record-os.sh: nmap's XML holds no <osfingerprint>")
text = "".join(line[3:] if line.startswith("OS:") else line for line in fps[0].splitlines())
tests = re.findall(r"[A-Z0-9]+\([^)]*\)", text)
open(sys.argv[2], "w").write("".join(t + "\n" for t in tests))
EOF
}

# The fingerprint's tests of a flagscan -oJ file (its "os" object), one a line, unwrapped.
json_fingerprint() {
    python3 - "$1" <<'EOF'
import json, re, sys
for line in open(sys.argv[1]):
    os_ = json.loads(line).get("os")
    if os_ and os_.get("fingerprint"):
        text = "".join(l[3:] if l.startswith("OS:") else l for l in os_["fingerprint"].splitlines())
        print("\n".join(re.findall(r"[A-Z0-9]+\([^)]*\)", text)))
EOF
}

record_nmap() {
    start_capture "$HERE/$NAME.pcap"
    # -d: nmap writes its fingerprint (-oX <osfingerprint>) even when it matches a database entry.
    nmap -n -Pn -O -d -p 1,22,80 -oN "$HERE/$NAME.nmap" -oX "$HERE/$NAME.xml" "$TARGET" >"$WORK/nmap.out"
    stop_capture "$HERE/$NAME.pcap"
    write_fingerprint "$HERE/$NAME.xml" "$HERE/$NAME.fingerprint"
    chmod 644 "$HERE/$NAME".*
    cat "$HERE/$NAME.fingerprint"
}

# flagscan's own -O of the same ports; the replay must give the live run's fingerprint, every
# test but SCAN (whose TM is the clock's when the verdict is written, a moment apart).
record_flagscan() {
    local name=os-flagscan-linux$SUFFIX
    start_capture "$HERE/$name.pcap"
    "$BUILD/flagscan" -sS -n -Pn -O --os-fingerprint -p 1,22,80 -oJ "$WORK/live.json" "$TARGET" >"$WORK/flagscan.out"
    stop_capture "$HERE/$name.pcap"
    echo "-O" >"$HERE/$name.args"
    TZ=UTC "$BUILD/flagscan" --replay "$HERE/$name.pcap" -n --all-ports -oJ - -O >"$WORK/replay.json"
    json_fingerprint "$WORK/live.json" | tail -n +2 >"$WORK/live.fp"
    json_fingerprint "$WORK/replay.json" | tail -n +2 >"$WORK/replay.fp"
    [[ -s $WORK/live.fp ]] || { echo "record-os.sh: the live -O gave no fingerprint" >&2; exit 1; }
    diff "$WORK/live.fp" "$WORK/replay.fp" || { echo "record-os.sh: the replay's fingerprint is not the live one's" >&2; exit 1; }
    cp "$WORK/replay.json" "$HERE/$name.expected"
    chmod 644 "$HERE/$name".*
    json_fingerprint "$WORK/replay.json"
}

bash "$LAB_SH" down "$LAB" >/dev/null 2>&1 || true
bash "$LAB_SH" up "$LAB"
assert_lab_route "$TARGET" "$IFACE"
((LOSS == 0)) || bash "$LAB_SH" loss "$LAB" "$LOSS"
[[ $WHAT == flagscan ]] || record_nmap
[[ $WHAT == nmap ]] || record_flagscan
bash "$LAB_SH" down "$LAB"
