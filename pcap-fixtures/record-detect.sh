#!/usr/bin/env bash
# record-detect.sh: records the detect-* captures of pcap-fixtures/ (scans and benign traffic
# in the lab) for `flagscan detect`'s replay tests; their expectations are the hand-written
# NAME.detect files beside them (pcap-fixtures/README.md), never generated from the output.
#
#   sudo bash pcap-fixtures/record-detect.sh BUILD_DIR [SCAN_LAB_ID [BENIGN_LAB_ID]]
#   sudo bash pcap-fixtures/record-detect.sh --only NAME[,NAME...] BUILD_DIR ...
#
# SCAN_LAB_ID (default 23) is a lab.sh scan lab with test/lab/layout.conf: target
# 10.77.ID.2, the /28 10.77.ID.16/28. BENIGN_LAB_ID (default 24) is a lab.sh lab built from
# a layout with no listener and no firewall rules (written here), in whose namespace this script
# runs its own servers: HTTP (python3 http.server on 80), DNS (dnsmasq on 53, no upstream,
# answering from a hosts file), sshd on 22 (a throwaway host key and client key), an NTP-like
# UDP server on 123, a TCP sink on 873 and short services on 5000-5014 (detect_traffic.py).
# Captures: tcpdump on the host side of the lab veth, snaplen 128, immediate mode, filter
# `net 10.77.ID.0/24`. Network safety: every tool gets a literal lab address (and -n where it
# has one) and nothing is sent before `ip route get` has shown that the address routes through
# the lab's veth. masscan, zmap and hping3 (recording only) are installed here with apt-get.
# --only re-records the named captures and leaves the others byte for byte as they are.
set -Eeuo pipefail
set -m  # background jobs in their own process groups

ONLY=""
if [[ ${1:-} == --only ]]; then
    ONLY=",${2:?--only needs NAME[,NAME...]},"
    shift 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=capture-wait.sh
source "$HERE/capture-wait.sh"
ROOT="$(cd "$HERE/.." && pwd)"
BUILD="$(cd "${1:?usage: record-detect.sh [--only NAMES] BUILD_DIR [SCAN_LAB_ID [BENIGN_LAB_ID]]}" && pwd)"
SCAN_LAB=${2:-23}
BENIGN_LAB=${3:-24}
for id in "$SCAN_LAB" "$BENIGN_LAB"; do
    [[ $id =~ ^[0-9]{1,2}$ ]] || { echo "record-detect.sh: lab IDs are 0..99" >&2; exit 2; }
done
[[ $SCAN_LAB != "$BENIGN_LAB" ]] || { echo "record-detect.sh: two different lab IDs" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "record-detect.sh: run as root (labs, raw packets)" >&2; exit 1; }
FLAGSCAN=$BUILD/flagscan
LAB_SH=$ROOT/test/lab/lab.sh
TRAFFIC=$HERE/detect_traffic.py
export FLAGSCAN_LAB_LISTENER=$BUILD/test/lab/lab-listener
export FLAGSCAN_LAB_SLOW_RESPONDER=$BUILD/test/lab/slow-responder

S=10.77.$SCAN_LAB      # the scan lab: target $S.2, AnyIP /28 $S.16/28, host side $S.1 and $S.33
S_IF=fsh$SCAN_LAB
B=10.77.$BENIGN_LAB    # the benign lab: servers on $B.2 (and $B.16/28), clients $B.1, $B.33, $B.50-53
B_IF=fsh$BENIGN_LAB
B_NS=fslab$BENIGN_LAB
WORK=$(mktemp -d /tmp/record-detect-XXXXXX)
chmod 755 "$WORK"  # dnsmasq reads its hosts file as user dnsmasq
EXTRA_ADDRS=()         # "ADDR/32 IFACE" added to host-side veths (gone with the veth anyway)
SERVER_PIDS=()

cleanup() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    ip netns del "fsdc$SCAN_LAB" 2>/dev/null || true  # the live decoy (scan_nmap_decoys)
    bash "$LAB_SH" down "$SCAN_LAB" >/dev/null 2>&1 || true
    FLAGSCAN_LAB_LAYOUT=$WORK/benign.conf bash "$LAB_SH" down "$BENIGN_LAB" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

wanted() { [[ -z $ONLY || $ONLY == *",$1,"* ]]; }

install_tools() {
    local missing=() p
    for p in masscan zmap hping3 dnsmasq-base openssh-server openssh-client tcpdump nmap curl; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    # policy-rc.d: no daemon may start on the host's interfaces during the install (as install-deps.sh).
    local policy=/usr/sbin/policy-rc.d
    [[ -e $policy ]] && { echo "record-detect.sh: $policy exists; install ${missing[*]} by hand" >&2; exit 1; }
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        { rm -f "$policy"; exit 1; }
    rm -f "$policy"
}

# assert_lab_route ADDR IFACE: dies unless the kernel sends to ADDR through IFACE (the lab veth).
assert_lab_route() {
    local route
    route=$(ip -o route get "$1")
    [[ $route == *" dev $2 "* ]] || { echo "record-detect.sh: $1 does not route through $2: $route" >&2; exit 1; }
}

# start_capture IFACE NET FILE [extra filter]: sets CAPTURE_PID once tcpdump listens.
start_capture() {
    local iface=$1 net=$2 file=$3 extra=${4:-} i filter
    filter="net $net.0/24${extra:+ and ($extra)}"
    rm -f "$file" "$file.err"
    tcpdump -i "$iface" --immediate-mode -s 128 -U -Z root -n -w "$file" "$filter" 2>"$file.err" &
    CAPTURE_PID=$!
    wait_for_capture "$file.err" record-detect.sh || exit 1
}

stop_capture() {
    local pid=$1 file=$2
    sleep 1.5  # late replies
    kill -INT "$pid"
    wait "$pid" || true
    rm -f "$file.err"
    chmod 644 "$file"
    echo "== $(basename "$file"): $(stat -c %s "$file") bytes"
}

# capture NAME IFACE NET COMMAND...: COMMAND's traffic on IFACE into NAME.pcap.
capture() {
    local name=$1 iface=$2 net=$3
    shift 3
    wanted "$name" || return 0
    start_capture "$iface" "$net" "$HERE/$name.pcap"
    "$@"
    stop_capture "$CAPTURE_PID" "$HERE/$name.pcap"
}

add_address() {  # ADDR IFACE: one more host-side source address on a lab veth
    ip addr add "$1/32" dev "$2"
    EXTRA_ADDRS+=("$1 $2")
}

# ---- the scans (scan lab) -------------------------------------------------------------------

ns_mac() { ip netns exec "fslab$1" cat "/sys/class/net/fsn$1/address"; }

scan_nmap_connect() { nmap -sT -p 1-150,443,3306,8080 -Pn -n -T4 "$S.2" >/dev/null; }
scan_nmap_ping() { nmap -sn -n -T4 "$S.16/28" >/dev/null; }
scan_flagscan_syn() { "$FLAGSCAN" -sS -p 1-200 -Pn -n "$S.2" >/dev/null; }
# 20 ports, none dropped (no retries), one every 3 s: ~60 s, 1-2 ports in any 5 s.
SLOW_PORTS=20-30,80,110-112,440-443,3306
scan_nmap_slow() { nmap -sS --scan-delay 3s -p "$SLOW_PORTS" -Pn -n "$S.2" >/dev/null; }

scan_masscan() {
    # masscan's own stack: the veth, its address, and the namespace's MAC as the next hop (the
    # target is on the veth's link). Its SYN,ACKs reach the host's kernel, which answers RST.
    # Debian's masscan 1.3.2 never exits on a veth (its receive thread waits on, "waiting -600
    # secs"): it is stopped with SIGINT 6 s after the start (200 probes take 0.7 s, --wait 2), and
    # killed 3 s later when it waits on after that too (it does, now and then: 137).
    local status=0
    timeout --signal=INT --kill-after=3 6 masscan -p 1-200 --rate 300 --wait 2 --adapter "$S_IF" \
        --adapter-ip "$S.1" --router-mac "$(ns_mac "$SCAN_LAB")" "$S.2" >/dev/null 2>"$WORK/masscan.err" || status=$?
    ((status == 0 || status == 124 || status == 137)) || { tail -c 2000 "$WORK/masscan.err" >&2; return 1; }
}

scan_zmap() {
    # zmap's default blocklist (/etc/zmap/blocklist.conf) holds 10/8: its own, empty, instead;
    # the allowlist holds the lab /28 only, so no other address can be chosen.
    : >"$WORK/zmap-blocklist"
    echo "$S.16/28" >"$WORK/zmap-allowlist"
    zmap -p 80 -i "$S_IF" -S "$S.1" -G "$(ns_mac "$SCAN_LAB")" -r 50 -c 2 -q \
        -b "$WORK/zmap-blocklist" -w "$WORK/zmap-allowlist" -o "$WORK/zmap.out" "$S.16/28" 2>"$WORK/zmap.err" ||
        { cat "$WORK/zmap.err" >&2; return 1; }
}

scan_hping3() {
    # --scan: one SYN per port of the range. Debian's hping3 3.a2.ds2-10 aborts ("buffer overflow
    # detected", SIGABRT: 134) after its last probe, once it prints the open ports: accepted when
    # it printed both open ports of 1-200 (22 and 80), i.e. it scanned to the end.
    # Its scan mode forks a second process that sends on after the abort: hping3 runs as a job of
    # its own process group (set -m), which is ended whole once the first process is gone.
    local status=0 pid
    hping3 -n --scan 1-200 -S "$S.2" >"$WORK/hping3.out" 2>&1 &
    pid=$!
    wait "$pid" || status=$?
    sleep 1  # the replies to the last probes
    kill -- "-$pid" 2>/dev/null || true
    while pgrep -g "$pid" >/dev/null; do sleep 0.05; done
    ((status == 0 || status == 134)) && grep -q "^ *22 " "$WORK/hping3.out" && grep -q "^ *80 " "$WORK/hping3.out" ||
        { cat "$WORK/hping3.out" >&2; return 1; }
}

# Three sources, 8 ports each (below a 10-port threshold), the same target, at once.
DIST_SOURCES=("$S.1" "$S.33" "$S.50")
DIST_SLICES=(1-8 9-16 17-24)
scan_nmap_distributed() {
    local i pids=()
    for i in 0 1 2; do
        nmap -sS -p "${DIST_SLICES[i]}" -Pn -n -T4 -S "${DIST_SOURCES[i]}" -e "$S_IF" "$S.2" >/dev/null 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
}

# nmap -D: two decoys in the lab's on-link /27 besides the real source ($S.1): $S.40, which no
# machine holds (the target's ARP for it goes unanswered), and $S.51, a live one: a namespace of
# its own on a macvlan over the host veth (its own MAC on the lab's link, so its kernel answers
# ARP and resets the target's SYN+ACKs, as a real bystander would). Never a decoy outside the lab.
DECOY_NS=fsdc$SCAN_LAB
DECOY_IF=fsdm$SCAN_LAB
ABSENT_DECOY=$S.40
LIVE_DECOY=$S.51
live_decoy_up() {
    ip netns add "$DECOY_NS"
    ip link add "$DECOY_IF" link "$S_IF" type macvlan mode bridge
    ip link set "$DECOY_IF" netns "$DECOY_NS"
    ip -n "$DECOY_NS" addr add "$LIVE_DECOY/27" dev "$DECOY_IF"
    ip -n "$DECOY_NS" link set lo up
    ip -n "$DECOY_NS" link set "$DECOY_IF" up
    ip -n "$DECOY_NS" route add "$S.2/32" dev "$DECOY_IF"  # the target, on the same link: its RSTs reach it
}
live_decoy_down() { ip netns del "$DECOY_NS" 2>/dev/null || true; }
scan_nmap_decoys() {
    live_decoy_up
    nmap -sS -D "$ABSENT_DECOY,$LIVE_DECOY" -p 1-100 -Pn -n -T4 -e "$S_IF" "$S.2" >/dev/null
    sleep 1  # the target's last ARP tries for the absent decoy
    live_decoy_down
}

# nmap -sn of on-link addresses (the host veth's .33/27): nmap asks by ARP alone, from .33.
ARP_SWEEP=$S.34-63
scan_nmap_arp_sweep() { nmap -sn -n -T4 -e "$S_IF" --exclude "$S.50" "$ARP_SWEEP" >/dev/null; }
# nmap -f: every probe in 8-byte IP fragments (the TCP flags ride in the second piece).
scan_nmap_fragments() { nmap -sS -f -p 1-100 -Pn -n -T4 "$S.2" >/dev/null; }
FLAGSCAN_UDP_PORTS=7,9,53,69,123,161,514,1004,1008,1900,5060,31337,40000-40010
scan_flagscan_udp() { "$FLAGSCAN" -sU -p "$FLAGSCAN_UDP_PORTS" -Pn -n "$S.2" >/dev/null; }

# Three sources sweeping port 22 over the /28, each its own slice of hosts (6, 5 and 5: each below
# a 10-host threshold), at once.
DIST_HOST_SLICES=("$S.16-21" "$S.22-26" "$S.27-31")
scan_nmap_distributed_hosts() {
    local i pids=()
    for i in 0 1 2; do
        nmap -sS -p 22 -Pn -n -T4 -S "${DIST_SOURCES[i]}" -e "$S_IF" "${DIST_HOST_SLICES[i]}" >/dev/null 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
}

# The distributed scan, also as two sensors saw it: sensor A the first source, sensor B the others.
record_distributed() {
    wanted detect-nmap-distributed || return 0
    local a b all
    start_capture "$S_IF" "$S" "$HERE/detect-nmap-distributed.pcap"
    all=$CAPTURE_PID
    start_capture "$S_IF" "$S" "$HERE/detect-sensor-a.pcap" "host $S.1"
    a=$CAPTURE_PID
    start_capture "$S_IF" "$S" "$HERE/detect-sensor-b.pcap" "host $S.33 or host $S.50"
    b=$CAPTURE_PID
    scan_nmap_distributed
    stop_capture "$all" "$HERE/detect-nmap-distributed.pcap"
    stop_capture "$a" "$HERE/detect-sensor-a.pcap"
    stop_capture "$b" "$HERE/detect-sensor-b.pcap"
}

record_scans() {
    bash "$LAB_SH" down "$SCAN_LAB" >/dev/null 2>&1 || true
    bash "$LAB_SH" up "$SCAN_LAB"
    assert_lab_route "$S.2" "$S_IF"
    local a
    for a in $(seq 16 31); do assert_lab_route "$S.$a" "$S_IF"; done
    for a in $(seq 34 63); do assert_lab_route "$S.$a" "$S_IF"; done  # the on-link /27: decoys, ARP sweep
    add_address "$S.50" "$S_IF"
    capture detect-nmap-connect "$S_IF" "$S" scan_nmap_connect
    capture detect-nmap-ping-sweep "$S_IF" "$S" scan_nmap_ping
    capture detect-masscan "$S_IF" "$S" scan_masscan
    capture detect-zmap "$S_IF" "$S" scan_zmap
    capture detect-hping3-scan "$S_IF" "$S" scan_hping3
    capture detect-flagscan-syn "$S_IF" "$S" scan_flagscan_syn
    capture detect-nmap-slow "$S_IF" "$S" scan_nmap_slow
    record_distributed
    capture detect-nmap-decoys "$S_IF" "$S" scan_nmap_decoys
    capture detect-nmap-arp-sweep "$S_IF" "$S" scan_nmap_arp_sweep
    capture detect-nmap-fragments "$S_IF" "$S" scan_nmap_fragments
    capture detect-flagscan-udp "$S_IF" "$S" scan_flagscan_udp
    capture detect-nmap-distributed-hosts "$S_IF" "$S" scan_nmap_distributed_hosts
    bash "$LAB_SH" down "$SCAN_LAB"
}

# ---- benign traffic (benign lab) -------------------------------------------------------------

write_benign_layout() {
    cat >"$WORK/benign.conf" <<'EOF'
# record-detect.sh's benign lab: no listener, no firewall rules, one on-link namespace address
# (.34) so that the namespace reaches the host side's extra client addresses on its /27.
open_tcp=
rejected_tcp=
dropped_tcp=
dropped_hosts=
open_udp=
rejected_udp=
dropped_udp=
wide_dropped_mod4=
lan_hosts=2
lan_silent=
slow_hosts=
EOF
}

# in_benign NAME COMMAND...: a server in the benign namespace; waits until it listens.
in_benign() {
    local name=$1 i
    shift
    ip netns exec "$B_NS" "$@" >"$WORK/$name.log" 2>&1 </dev/null &
    SERVER_PIDS+=($!)
}

wait_port() {  # PROTO PORT: until something in the benign namespace listens there
    local i flag=-Hltn
    [[ $1 == udp ]] && flag=-Hlun
    for ((i = 0; i < 100; i++)); do
        ip netns exec "$B_NS" ss "$flag" "sport = :$2" | grep -q . && return 0
        sleep 0.05
    done
    echo "record-detect.sh: nothing listens on $1/$2 in $B_NS" >&2
    exit 1
}

start_benign_servers() {
    mkdir -p "$WORK/www" "$WORK/ssh"
    local p
    for p in index.html style.css app.js logo.png about.html news.html; do
        head -c 700 /dev/zero | tr '\0' 'x' >"$WORK/www/$p"
    done
    in_benign http python3 -m http.server 80 --bind 0.0.0.0 --directory "$WORK/www"
    # DNS: names from a hosts file, no upstream, no /etc/hosts, only on the lab address.
    for p in $(seq 1 60); do echo "10.77.$BENIGN_LAB.$((100 + p % 20)) host$p.lab.example"; done >"$WORK/hosts"
    chmod 644 "$WORK/hosts"
    in_benign dnsmasq /usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
        --addn-hosts="$WORK/hosts" --bind-interfaces --listen-address="$B.2" --port=53 \
        --user=dnsmasq --group=nogroup --pid-file= --log-facility=-
    # sshd: a throwaway host key, key-only root login with a throwaway client key, on $B.2 only.
    ssh-keygen -q -t ed25519 -N "" -f "$WORK/ssh/host_key"
    ssh-keygen -q -t ed25519 -N "" -f "$WORK/ssh/client_key"
    cp "$WORK/ssh/client_key.pub" "$WORK/ssh/authorized_keys"
    cat >"$WORK/ssh/sshd_config" <<EOF
Port 22
ListenAddress $B.2
HostKey $WORK/ssh/host_key
PidFile none
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $WORK/ssh/authorized_keys
StrictModes no
UseDNS no
EOF
    install -d -m 0755 /run/sshd
    in_benign sshd /usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config"
    in_benign ntp python3 "$TRAFFIC" serve-udp "$B.2" 123
    in_benign backup python3 "$TRAFFIC" serve-tcp "$B.2" 873
    in_benign services python3 "$TRAFFIC" serve-tcp "$B.2" "$(seq -s, 5000 5014)"
    wait_port tcp 80; wait_port udp 53; wait_port tcp 22; wait_port udp 123; wait_port tcp 873; wait_port tcp 5014
}

CLIENTS=("$B.1" "$B.33" "$B.50" "$B.51" "$B.52" "$B.53")

# Six clients, 40 page loads in all (a page, then its style, script, image), a few 404s.
benign_web() {
    local i c path
    for i in $(seq 0 9); do
        c=${CLIENTS[i % 6]}
        for path in index.html style.css app.js logo.png; do
            curl -s -o /dev/null --noproxy '*' --interface "$c" "http://$B.2/$path"
        done
        ((i % 3)) || curl -s -o /dev/null --noproxy '*' --interface "$c" "http://$B.2/missing-$i.html"
        sleep 0.1
    done
}

# One client browsing 16 "sites" (the AnyIP /28), two pages each, within a few seconds.
benign_browse() {
    local a path
    for a in $(seq 16 31); do
        for path in index.html news.html; do
            curl -s -o /dev/null --noproxy '*' --interface "$B.33" "http://$B.$a/$path"
        done
    done
}

# Three clients browsing at once, each its own five or six "sites" of the /28 (disjoint host
# slices of port 80, like a distributed sweep's), every page served.
benign_browsers() {
    local i a path pids=()
    local clients=("$B.33" "$B.50" "$B.51") first=(16 22 27) last=(21 26 31)
    for i in 0 1 2; do
        (for a in $(seq "${first[i]}" "${last[i]}"); do
            for path in index.html news.html; do
                curl -s -o /dev/null --noproxy '*' --interface "${clients[i]}" "http://$B.$a/$path"
            done
        done) &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
}

benign_dns() {
    local names=() i
    for i in $(seq 1 60); do names+=("host$i.lab.example"); done
    names+=(unknown1.lab.example unknown2.lab.example)
    python3 "$TRAFFIC" dns-client "$B.50" "$B.2" "${names[@]}"
    python3 "$TRAFFIC" dns-client "$B.51" "$B.2" host1.lab.example host2.lab.example host3.lab.example
}

# An ssh session: key login, then a remote command printing 20 lines over 3 s.
benign_ssh() {
    ssh -n -i "$WORK/ssh/client_key" -b "$B.33" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
            -o CheckHostIP=no -o BatchMode=yes -o LogLevel=ERROR "root@$B.2" \
            'for i in $(seq 1 20); do echo "tick $i"; sleep 0.15; done' >/dev/null
}

benign_ntp() {
    python3 "$TRAFFIC" ntp-client "$B.1" "$B.2" 123 12 0.25
    python3 "$TRAFFIC" ntp-client "$B.52" "$B.2" 123 6 0.25
}

benign_backup() { python3 "$TRAFFIC" backup "$B.53" "$B.2" 873 150 4096 0.03; }

# A client's health check of its own 15 services, every one answering.
benign_services() { python3 "$TRAFFIC" ports-client "$B.1" "$B.2" "$(seq -s, 5000 5014)"; }

# 15 sessions of one client opened before the capture starts (their SYNs and data are not in
# it): keep-alive ACKs for 6 s, each acknowledged by the server, then every one closed.
record_idle_sessions() {
    wanted detect-benign-idle-sessions || return 0
    local pid i
    python3 "$TRAFFIC" idle-sessions "$B.1" "$B.2" "$(seq -s, 5000 5014)" 6 >"$WORK/idle.out" 2>&1 &
    pid=$!
    for ((i = 0; i < 100; i++)); do
        grep -qs ready "$WORK/idle.out" && break
        sleep 0.05
    done
    grep -qs ready "$WORK/idle.out" || { cat "$WORK/idle.out" >&2; exit 1; }
    start_capture "$B_IF" "$B" "$HERE/detect-benign-idle-sessions.pcap"
    wait "$pid"
    stop_capture "$CAPTURE_PID" "$HERE/detect-benign-idle-sessions.pcap"
}

record_benign() {
    write_benign_layout
    export FLAGSCAN_LAB_LAYOUT=$WORK/benign.conf
    bash "$LAB_SH" down "$BENIGN_LAB" >/dev/null 2>&1 || true
    bash "$LAB_SH" up "$BENIGN_LAB"
    unset FLAGSCAN_LAB_LAYOUT
    assert_lab_route "$B.2" "$B_IF"
    local a
    for a in $(seq 16 31); do assert_lab_route "$B.$a" "$B_IF"; done
    for a in 50 51 52 53; do add_address "$B.$a" "$B_IF"; done
    start_benign_servers
    capture detect-benign-web "$B_IF" "$B" benign_web
    capture detect-benign-browse "$B_IF" "$B" benign_browse
    capture detect-benign-browsers "$B_IF" "$B" benign_browsers
    capture detect-benign-dns "$B_IF" "$B" benign_dns
    capture detect-benign-ssh "$B_IF" "$B" benign_ssh
    capture detect-benign-ntp "$B_IF" "$B" benign_ntp
    capture detect-benign-backup "$B_IF" "$B" benign_backup
    capture detect-benign-services "$B_IF" "$B" benign_services
    record_idle_sessions
    local pid
    for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    SERVER_PIDS=()
    FLAGSCAN_LAB_LAYOUT=$WORK/benign.conf bash "$LAB_SH" down "$BENIGN_LAB"
}

install_tools
record_scans
record_benign
echo "record-detect.sh: done; the .detect files are written by hand (pcap-fixtures/README.md)"
