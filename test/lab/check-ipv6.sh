#!/usr/bin/env bash
# check-ipv6.sh: brings a scan lab up, checks with nmap -6 that its IPv6 side equals layout.conf, tears it down.
#
# usage: check-ipv6.sh [ID]   (root; default ID 71; the lab must be down; nmap, python3 needed)
# Every nmap run is -n and aimed only at the lab's own ULA addresses, and only after
# `ip -6 route get` has shown that each of them routes through the lab's veth fsh<ID>.
# Checks (each difference printed, exit 1 if any):
#   -sS --reason on fd77:ID::2, two answering /120 addresses and each dropped host: every port
#     of the layout plus a few closed ones has the layout's state and reason;
#   -sU --reason on the same hosts (open_udp, rejected_udp, dropped_udp, three closed ports);
#   -sU over 100 closed ports of one /120 address: all closed (ICMPv6 rate limit off);
#   -sn over fd77:ID::100/120: exactly the addresses that are not dropped_hosts;
#   lab.sh loss ID 100: a /120 address is down to -sn and port 22 filtered; loss 0: back.
# Exit status: 0 all equal, 1 a difference, 2 the lab or a tool failed.
set -Eeuo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR LAB_SH="$SCRIPT_DIR/lab.sh"
ID=${1:-71}
WORK=""
LAB_UP=0
FAILURES=0

fail_tool() {
    echo "check-ipv6.sh: $*" >&2
    exit 2
}

cleanup() {
    if ((LAB_UP)); then
        bash "$LAB_SH" down "$ID" >/dev/null || echo "check-ipv6.sh: lab.sh down $ID failed" >&2
    fi
    [[ -z $WORK ]] || rm -rf "$WORK"
}

# Value of KEY in `lab.sh info ID`'s output (saved in $WORK/info).
info() { sed -n "s/^$1=//p" "$WORK/info"; }

# Dies unless the host sends to ADDR through the lab's veth: nothing reaches the real network.
assert_lab_route() {
    local route
    route=$(ip -6 -o route get "$1") || fail_tool "ip -6 route get $1 failed"
    [[ $route == *" dev $HOST_IF "* ]] || fail_tool "$1 does not route through $HOST_IF: $route"
}

# nmap -6 -n with ARGS against TARGETS (after the route check), XML into $WORK/nmap.xml.
run_nmap() {
    local -a args=() targets=()
    while (($#)) && [[ $1 != -- ]]; do args+=("$1"); shift; done
    shift
    targets=("$@")
    local t
    for t in "${targets[@]}"; do assert_lab_route "${t%/*}"; done
    timeout 300 nmap -6 -n "${args[@]}" -oX "$WORK/nmap.xml" "${targets[@]}" >"$WORK/nmap.out" 2>&1 ||
        fail_tool "nmap ${args[*]} ${targets[*]} failed: $(tail -n 3 "$WORK/nmap.out")"
}

# Prints "ADDR PORT/PROTO STATE REASON" for every port in $WORK/nmap.xml, extraports
# included when nmap names their ports (<extrareasons ports=...>, nmap 7.80 and later).
nmap_ports() {
    python3 - "$WORK/nmap.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

def expand(spec):
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        yield from range(int(lo), int(hi or lo) + 1)

for host in ET.parse(sys.argv[1]).getroot().iter("host"):
    addr = host.find("address").get("addr")
    for port in host.iter("port"):
        state = port.find("state")
        print(addr, f"{port.get('portid')}/{port.get('protocol')}", state.get("state"), state.get("reason"))
    for extra in host.iter("extraports"):
        for why in extra.iter("extrareasons"):
            for p in expand(why.get("ports", "")):
                print(addr, f"{p}/{why.get('proto')}", extra.get("state"), why.get("reason"))
EOF
}

# Prints the addresses nmap -sn found up in $WORK/nmap.xml.
nmap_up_hosts() {
    python3 - "$WORK/nmap.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET
for host in ET.parse(sys.argv[1]).getroot().iter("host"):
    if host.find("status").get("state") == "up":
        print(host.find("address").get("addr"))
EOF
}

# Compares EXPECTED with ACTUAL (files of lines, order ignored) under NAME; counts a difference.
compare() {
    local name=$1 expected=$2 actual=$3
    if diff <(sort "$expected") <(sort "$actual") >"$WORK/diff"; then
        echo "ok: $name ($(wc -l <"$expected") lines)"
    else
        echo "DIFFERENT: $name (< layout, > nmap):"
        sed 's/^/    /' "$WORK/diff"
        FAILURES=$((FAILURES + 1))
    fi
}

# " a b c " membership.
in_list() { [[ " $2 " == *" $1 "* ]]; }

# Prints the expected "ADDR PORT/PROTO STATE REASON" lines for PROTO (tcp|udp) on ADDR;
# DROPPED=1 for a dropped host (every port silent).
expected_ports() {
    local proto=$1 addr=$2 dropped=$3 port open rejected silent closed
    open=$(info "open_$proto") rejected=$(info "rejected_$proto") silent=$(info "dropped_$proto")
    closed="7 1000 40000"
    [[ $proto == udp ]] || closed="1 23 65535"
    for port in $open $rejected $silent $closed; do
        if ((dropped)) && [[ $proto == tcp ]]; then echo "$addr $port/$proto filtered no-response"
        elif ((dropped)); then echo "$addr $port/$proto open|filtered no-response"
        elif in_list "$port" "$open" && [[ $proto == tcp ]]; then echo "$addr $port/$proto open syn-ack"
        elif in_list "$port" "$open"; then echo "$addr $port/$proto open udp-response"
        elif in_list "$port" "$rejected"; then echo "$addr $port/$proto filtered admin-prohibited"
        elif in_list "$port" "$silent" && [[ $proto == tcp ]]; then echo "$addr $port/$proto filtered no-response"
        elif in_list "$port" "$silent"; then echo "$addr $port/$proto open|filtered no-response"
        elif [[ $proto == tcp ]]; then echo "$addr $port/$proto closed reset"
        else echo "$addr $port/$proto closed port-unreach"
        fi
    done
}

# The port list of expected_ports' lines for PROTO ("22,80,...").
port_list() { expected_ports "$1" x 0 | awk '{split($2, p, "/"); print p[1]}' | paste -sd, -; }

check_ports() {
    local proto=$1 flag=$2 addr
    : >"$WORK/expected"
    for addr in "${ANSWERING[@]}"; do expected_ports "$proto" "$addr" 0 >>"$WORK/expected"; done
    for addr in "${DROPPED[@]}"; do expected_ports "$proto" "$addr" 1 >>"$WORK/expected"; done
    run_nmap "$flag" -Pn --reason --max-retries 2 -p "$(port_list "$proto")" -- "${ANSWERING[@]}" "${DROPPED[@]}"
    nmap_ports >"$WORK/actual"
    compare "nmap -6 $flag: layout's $proto ports" "$WORK/expected" "$WORK/actual"
}

check_udp_burst() {
    local addr=${ANSWERING[1]} port
    for ((port = 2000; port < 2100; port++)); do echo "$addr $port/udp closed port-unreach"; done >"$WORK/expected"
    run_nmap -sU -Pn --reason --max-retries 0 -p 2000-2099 -- "$addr"
    nmap_ports >"$WORK/actual"
    compare "nmap -6 -sU: 100 closed ports at once (ICMPv6 rate limit off)" "$WORK/expected" "$WORK/actual"
}

check_ping_sweep() {
    local off addr
    : >"$WORK/expected"
    for ((off = 0; off < 256; off++)); do
        addr=$(printf '%s:1%02x' "${NS_IP6%:*}" "$off")
        in_list "$off" "$(info dropped_hosts)" || echo "$addr" >>"$WORK/expected"
    done
    run_nmap -sn -- "$(info subnet6)"
    nmap_up_hosts >"$WORK/actual"
    compare "nmap -6 -sn $(info subnet6): the hosts not dropped" "$WORK/expected" "$WORK/actual"
}

# With 100% loss a /120 address is down and port 22 filtered; back to 0% it answers again.
check_loss() {
    local addr=${ANSWERING[1]} pct state
    for pct in 100 0; do
        bash "$LAB_SH" loss "$ID" "$pct" >/dev/null || fail_tool "lab.sh loss $ID $pct failed"
        run_nmap -sS -Pn --reason --max-retries 1 -p 22 -- "$addr"
        state=$(nmap_ports | awk '{print $3}')
        if [[ $pct == 0 ]]; then echo "$addr 22/tcp open"; else echo "$addr 22/tcp filtered"; fi >"$WORK/expected"
        echo "$addr 22/tcp $state" >"$WORK/actual"
        compare "loss $pct%: -sS port 22" "$WORK/expected" "$WORK/actual"
        run_nmap -sn -- "$addr"
        if [[ $pct == 0 ]]; then echo "$addr" >"$WORK/expected"; else : >"$WORK/expected"; fi
        nmap_up_hosts >"$WORK/actual"
        compare "loss $pct%: -sn" "$WORK/expected" "$WORK/actual"
    done
}

main() {
    [[ $ID =~ ^[0-9]{1,2}$ ]] || fail_tool "lab ID must be 0..99, got '$ID'"
    [[ $(id -u) == 0 ]] || fail_tool "must run as root"
    local t
    for t in nmap python3 ip; do command -v "$t" >/dev/null || fail_tool "missing tool '$t'"; done
    WORK=$(mktemp -d)
    trap cleanup EXIT
    # A failed up tears itself down; a lab that was already up is someone else's: left alone.
    bash "$LAB_SH" up "$ID" || fail_tool "lab.sh up $ID failed"
    LAB_UP=1
    bash "$LAB_SH" info "$ID" >"$WORK/info" || fail_tool "lab.sh info $ID failed"
    HOST_IF=$(info host_if) NS_IP6=$(info ns_ip6)
    local prefix=${NS_IP6%:*} off
    ANSWERING=("$NS_IP6" "$prefix:100" "$prefix:1ff")
    DROPPED=()
    for off in $(info dropped_hosts6); do DROPPED+=("$off"); done
    check_ports tcp -sS
    check_ports udp -sU
    check_udp_burst
    check_ping_sweep
    check_loss
    if ((FAILURES)); then
        echo "check-ipv6.sh: $FAILURES check(s) differ from the layout" >&2
        exit 1
    fi
    echo "check-ipv6.sh: lab $ID's IPv6 side equals the layout"
}

main
