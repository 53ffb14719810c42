#!/usr/bin/env bash
# lab.sh: builds, tunes and removes flagscan's network-namespace scan lab (the truth: layout.conf).
#
# Lab ID (0..99):
#   namespace fslab<ID>; veth fsh<ID> (host, 10.77.<ID>.1/30) <-> fsn<ID> (namespace, 10.77.<ID>.2/30)
#   10.77.<ID>.16/28 routed from the host via 10.77.<ID>.2 and local (AnyIP) inside the namespace.
#   Wide range 10.<100+ID>.0.0/16 (for /16 benchmarks): routed and local the same way; nft drops
#   every packet to its addresses whose last octet mod 4 is in wide_dropped_mod4.
#   Huge range 10.<192 + 16*(ID mod 4)>.0.0/12 (2^20 addresses, for the internet-scale live
#   test): only on request (`lab.sh huge ID`), routed and local the same way; down removes it.
#   On-link segment 10.77.<ID>.32/27 (for ARP discovery): the host veth also holds .33/27, the
#   namespace veth one real address per lan_hosts offset (so it answers ARP for them); for the
#   lan_silent offsets nft (table arp fslab) drops ARP requests and (table ip fslab) IP packets.
#   Ports: lab-listener holds open_tcp (listen) and open_udp (echoes each datagram); nft table
#   ip fslab drops/rejects the dropped_*/rejected_* ports; the egress chain carries --loss.
#   Slow hosts 10.77.<ID>.64/28 (the kernel has no netem): routed from the host via 10.77.<ID>.2,
#   then forwarded by the namespace into the TUN device fst<ID>, where slow-responder answers
#   like a Linux host with the same port keys, each address after its own delay. slow_hosts in
#   layout.conf: OFFSET:MS, 0:50 1:200 2:500 3:1500 -> .64 50 ms, .65 200 ms, .66 500 ms, .67
#   1500 ms; the other addresses of the /28 answer nothing. --loss does not reach them (their
#   replies are forwarded, not sent by the namespace). Its pid: <state dir>/slow-responder.pid.
# IPv6 (ULA, fd77:<ID>::/64, the ID's decimal digits written as the hex group): fsh<ID> holds
#   fd77:<ID>::1/64, fsn<ID> fd77:<ID>::2/64 (both nodad, no router advertisements or
#   solicitations); fd77:<ID>::100/120 is routed from the host via fd77:<ID>::2 and local
#   (AnyIP) inside the namespace, the IPv6 twin of the /28: offset k -> fd77:<ID>::100 + k (hex),
#   dropped_hosts 4 11 -> fd77:<ID>::104 and fd77:<ID>::10b drop everything. The same port layout
#   (the listener holds [::]:PORT too; nft table ip6 fslab drops, or rejects with icmpv6 type
#   admin-prohibited, as table ip fslab does), closed UDP ports answer ICMPv6 port unreachable,
#   --loss and `lab.sh loss` drop the same share of IPv6 (neighbour discovery excepted, as ARP
#   is for IPv4), --icmp-ratelimit off also sets net.ipv6.icmp.ratelimit 0. `lab.sh up` checks
#   with `ip -6 route get` that these addresses route into the lab and nowhere else. IPv4 only:
#   the wide and huge ranges, the on-link segment and the slow hosts.
# Nothing is routed anywhere else: the namespace has no default route.
# The services host (real daemons, 10.77.<ID>.128/30, namespace fssv<ID>) is test/lab/services.sh,
# also run as `lab.sh services up|down|info ID`.
set -Eeuo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT
readonly LAYOUT="${FLAGSCAN_LAB_LAYOUT:-$SCRIPT_DIR/layout.conf}"
readonly STATE_ROOT="${FLAGSCAN_LAB_STATE:-/run/flagscan-lab}"
LISTENER="${FLAGSCAN_LAB_LISTENER:-$REPO_ROOT/build/test/lab/lab-listener}"
RESPONDER="${FLAGSCAN_LAB_SLOW_RESPONDER:-}"  # empty: slow-responder beside the listener
LOSS=0
ICMP_RATELIMIT=off
UP_DONE=1
# shellcheck source=test/lab/ns_common.sh
source "$SCRIPT_DIR/ns_common.sh"

usage() {
    cat >&2 <<'EOF'
usage: lab.sh up ID [--loss PCT] [--icmp-ratelimit off|default|global] [--listener PATH]
                   [--slow-responder PATH]
       lab.sh loss ID PCT
       lab.sh down ID
       lab.sh info ID
       lab.sh huge ID                     (AnyIP over a /12: see above)
       lab.sh services up|down|info ID   (the services host: test/lab/services.sh)
ID is 0..99. The listener defaults to $FLAGSCAN_LAB_LISTENER, else build/test/lab/lab-listener;
the slow responder to $FLAGSCAN_LAB_SLOW_RESPONDER, else slow-responder beside the listener.
EOF
    exit 2
}

die() {
    echo "lab.sh: $*" >&2
    exit 1
}

# --- layout ---------------------------------------------------------------------------

# Prints the space-separated value of KEY from layout.conf (empty if absent).
layout_get() {
    local key=$1 line k v
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%%#*}
        [[ $line == *=* ]] || continue
        k=${line%%=*} v=${line#*=}
        k=${k//[[:space:]]/}
        if [[ $k == "$key" ]]; then
            # shellcheck disable=SC2086 # unquoted on purpose: collapses whitespace
            echo $v
            return
        fi
    done <"$LAYOUT"
}

# Checks that KEY holds integers in [LO, HI] and prints them.
layout_ints() {
    local key=$1 lo=$2 hi=$3 v
    for v in $(layout_get "$key"); do
        if ! [[ $v =~ ^[0-9]{1,5}$ ]] || ((10#$v < lo || 10#$v > hi)); then
            die "layout.conf: $key: '$v' is not an integer in $lo..$hi"
        fi
    done
    layout_get "$key"
}

# Dies on a malformed layout.conf, before anything is built.
validate_layout() {
    local checks
    checks=$(layout_ints open_tcp 1 65535)
    checks=$(layout_ints rejected_tcp 1 65535)
    checks=$(layout_ints dropped_tcp 1 65535)
    checks=$(layout_ints dropped_hosts 0 15)
    checks=$(layout_ints open_udp 1 65535)
    checks=$(layout_ints rejected_udp 1 65535)
    checks=$(layout_ints dropped_udp 1 65535)
    checks=$(layout_ints wide_dropped_mod4 0 3)
    checks=$(layout_ints lan_hosts 2 30)
    checks=$(layout_ints lan_silent 2 30)
    checks=$(slow_hosts)
    : "$checks"
    validate_lan_silent
}

# Checks slow_hosts (OFFSET:MS, offset 0..15 inside the slow /28, delay 0..60000 ms, each offset
# once) and prints "OFFSET MS" lines.
slow_hosts() {
    local entry off ms seen=" "
    for entry in $(layout_get slow_hosts); do
        if ! [[ $entry =~ ^([0-9]{1,2}):([0-9]{1,5})$ ]]; then
            die "layout.conf: slow_hosts: '$entry' is not OFFSET:MS"
        fi
        off=$((10#${BASH_REMATCH[1]})) ms=$((10#${BASH_REMATCH[2]}))
        ((off <= 15 && ms <= 60000)) || die "layout.conf: slow_hosts: '$entry': offset 0..15, delay 0..60000 ms"
        [[ $seen != *" $off "* ]] || die "layout.conf: slow_hosts: offset $off given twice"
        seen+="$off "
        echo "$off $ms"
    done
}

# Dies unless every lan_silent offset is also a lan_hosts offset.
validate_lan_silent() {
    local hosts off
    hosts=" $(layout_get lan_hosts) "
    for off in $(layout_get lan_silent); do
        [[ $hosts == *" $off "* ]] || die "layout.conf: lan_silent: '$off' is not one of lan_hosts"
    done
}

# Prints "a, b, c" for an nft set literal from space-separated words.
comma_list() {
    local words joined
    read -ra words <<<"$*"
    joined="${words[*]}"
    echo "${joined// /, }"
}

# --- names ----------------------------------------------------------------------------

set_names() {
    [[ $1 =~ ^[0-9]{1,2}$ ]] || die "lab ID must be 0..99, got '$1'"
    ID=$((10#$1))
    NS=fslab$ID
    HOST_IF=fsh$ID
    NS_IF=fsn$ID
    NET=10.77.$ID
    HOST_IP=$NET.1
    NS_IP=$NET.2
    SUBNET=$NET.16/28
    WIDE=10.$((100 + ID)).0.0/16
    HUGE=10.$((192 + 16 * (ID % 4))).0.0/12
    LAN=$NET.32/27
    LAN_HOST_IP=$NET.33
    SLOW=$NET.64/28
    SLOW_IF=fst$ID
    STATE_DIR=$STATE_ROOT/$ID
    NET6=fd77:$ID:
    NET6_PREFIX=$NET6:/64
    HOST_IP6=$NET6:1
    NS_IP6=$NET6:2
    SUBNET6=$NET6:100/120
}

# Prints the IPv6 /120's address for offset $1 (0..255): fd77:ID::100 + offset, in hex.
subnet6_address() {
    printf '%s:1%02x\n' "$NET6" "$((10#$1))"
}

# Prints the on-link segment's addresses for the offsets in layout KEY.
lan_addresses() {
    local offsets off out=()
    offsets=$(layout_ints "$1" 2 30)
    for off in $offsets; do out+=("$NET.$((32 + 10#$off))"); done
    echo "${out[*]}"
}

# Prints "ADDR:MS" for each slow host (the responder's arguments, lab.sh info's slow_hosts).
slow_addresses() {
    local off ms out=()
    while read -r off ms; do
        [[ -n $off ]] && out+=("$NET.$((64 + off)):$ms")
    done <<<"$(slow_hosts)"
    echo "${out[*]}"
}


# Writes VALUE to /proc/sys/PATH inside the namespace (no dependency on procps' sysctl).
ns_sysctl() {
    in_ns sh -c "echo $2 > /proc/sys/$1" || die "cannot set $1=$2 in $NS"
}

require_root() { [[ $(id -u) == 0 ]] || die "must run as root (network namespaces, veth, nftables)"; }

require_tools() {
    local t
    for t in ip nft setsid timeout awk sed; do
        command -v "$t" >/dev/null || die "missing tool '$t'"
    done
}

# --- up -------------------------------------------------------------------------------

make_links() {
    ip netns add "$NS"
    ns_ipv6_conf
    in_ns ip link set lo up
    ip link add "$HOST_IF" type veth peer name "$NS_IF" netns "$NS"
    host_ipv6_conf
    ip addr add "$HOST_IP/30" dev "$HOST_IF"
    ip link set "$HOST_IF" up
    in_ns ip addr add "$NS_IP/30" dev "$NS_IF"
    in_ns ip link set "$NS_IF" up
    # AnyIP: every address of the /28 is local inside the namespace.
    in_ns ip route add local "$SUBNET" dev lo
    ip route add "$SUBNET" via "$NS_IP" dev "$HOST_IF"
    # The wide range is AnyIP too: every address of the /16 is local inside the namespace.
    in_ns ip route add local "$WIDE" dev lo
    ip route add "$WIDE" via "$NS_IP" dev "$HOST_IF"
    make_lan
    make_ipv6
}

# IPv6 on in the namespace before its veth exists (the veth takes the namespace's defaults):
# no DAD, no router advertisements, so the lab's addresses work at once and captures see no
# router solicitations.
ns_ipv6_conf() {
    [[ -e /proc/sys/net/ipv6 ]] || die "the kernel has no IPv6 (/proc/sys/net/ipv6 is missing)"
    local conf
    for conf in all default lo; do
        ns_sysctl "net/ipv6/conf/$conf/accept_ra" 0
        ns_sysctl "net/ipv6/conf/$conf/accept_dad" 0
        ns_sysctl "net/ipv6/conf/$conf/disable_ipv6" 0
    done
}

# The same for the host's veth alone (no host-wide setting changes).
host_ipv6_conf() {
    local key value dir=/proc/sys/net/ipv6/conf/$HOST_IF
    [[ -d $dir ]] || die "no IPv6 configuration for $HOST_IF"
    for key in accept_ra=0 accept_dad=0 disable_ipv6=0; do
        value=${key#*=} key=${key%%=*}
        echo "$value" >"$dir/$key" || die "cannot set $dir/$key=$value"
    done
}

# fd77:ID::1 (host) and ::2 (namespace) on the veth; the /120 routed and AnyIP like the /28.
# Dies (the EXIT trap tears down) unless each lab address routes through the lab's veth.
make_ipv6() {
    [[ -z $(ip -6 route show exact "$NET6_PREFIX") ]] || die "$NET6_PREFIX is already routed on the host"
    [[ -z $(ip -6 route show exact "$SUBNET6") ]] || die "$SUBNET6 is already routed on the host"
    ip -6 addr add "$HOST_IP6/64" dev "$HOST_IF" nodad
    in_ns ip -6 addr add "$NS_IP6/64" dev "$NS_IF" nodad
    in_ns ip -6 route add local "$SUBNET6" dev lo
    # Each address of the /120 also held by lo: an ICMPv6 error (port unreachable, nft's
    # reject) leaves from the address its probe reached only if that address is assigned
    # (icmp6_send, RFC 4443 2.2), as IPv4's does from an AnyIP one. Else nmap calls a closed
    # UDP port of the /120 filtered (port unreachable from fd77:ID::2, another host).
    local off
    for ((off = 0; off < 256; off++)); do
        printf 'address add %s:1%02x/128 dev lo nodad\n' "$NET6" "$off"  # subnet6_address, no fork
    done | in_ns ip -6 -batch -
    ip -6 route add "$SUBNET6" via "$NS_IP6" dev "$HOST_IF"
    local addr
    for addr in "$NS_IP6" "$(subnet6_address 0)" "$(subnet6_address 255)"; do
        assert_lab_route6 "$addr"
    done
}

# Dies unless the host sends to ADDR ($1) through the lab's veth (never the real network).
assert_lab_route6() {
    local route
    route=$(ip -6 -o route get "$1" 2>&1) || die "ip -6 route get $1: $route"
    [[ $route == *" dev $HOST_IF "* ]] || die "$1 does not route into lab $ID: $route"
}

# On-link segment: the host veth holds .33/27; each lan_hosts address is real on the namespace veth.
make_lan() {
    local addr
    ip addr add "$LAN_HOST_IP/27" dev "$HOST_IF"
    for addr in $(lan_addresses lan_hosts); do
        in_ns ip addr add "$addr/27" dev "$NS_IF"
    done
}

set_icmp_limits() {
    [[ $ICMP_RATELIMIT == default ]] && return 0
    if [[ $ICMP_RATELIMIT == global ]]; then
        # Only the host-wide budget (icmp_global_allow: icmp_msgs_per_sec 1000, icmp_msgs_burst 50,
        # the defaults) limits errors: no per-destination limit (inet_peer_xrlim_allow).
        ns_sysctl net/ipv4/icmp_ratelimit 0
        ns_sysctl net/ipv6/icmp/ratelimit 0
        return 0
    fi
    # So every rejected port answers: no per-destination limit, no global token bucket.
    ns_sysctl net/ipv4/icmp_ratelimit 0
    ns_sysctl net/ipv4/icmp_ratemask 0
    ns_sysctl net/ipv4/icmp_msgs_per_sec 1000000
    ns_sysctl net/ipv4/icmp_msgs_burst 1000000
    # ICMPv6's per-destination limit (ms; the global bucket above is shared with IPv4).
    ns_sysctl net/ipv6/icmp/ratelimit 0
}

# Prints the namespace's nftables ruleset built from layout.conf.
ruleset() {
    local silent
    silent=$(lan_addresses lan_silent)
    echo "table ip fslab {"
    echo "  chain input {"
    echo "    type filter hook input priority 0; policy accept;"
    host_rules "$silent"
    port_rules tcp
    port_rules udp
    echo "  }"
    echo "  chain egress {"
    echo "    type filter hook output priority 0; policy accept;"
    echo "  }"
    echo "}"
    arp_ruleset "$silent"
    ruleset6
}

# Prints the namespace's table ip6 fslab: the IPv6 twin of table ip fslab's host and port rules.
ruleset6() {
    local offsets off hosts=()
    offsets=$(layout_ints dropped_hosts 0 15)
    for off in $offsets; do hosts+=("$(subnet6_address "$off")"); done
    echo "table ip6 fslab {"
    echo "  chain input {"
    echo "    type filter hook input priority 0; policy accept;"
    if ((${#hosts[@]})); then
        echo "    ip6 daddr { $(comma_list "${hosts[*]}") } drop"
    fi
    port_rules tcp icmpv6
    port_rules udp icmpv6
    echo "  }"
    echo "  chain egress {"
    echo "    type filter hook output priority 0; policy accept;"
    echo "  }"
    echo "}"
}

# Prints the input rules dropping whole addresses: dropped_hosts, the wide range's, lan_silent.
host_rules() {
    local silent=$1 offsets hosts=() off rem
    offsets=$(layout_ints dropped_hosts 0 15)
    for off in $offsets; do hosts+=("$NET.$((16 + 10#$off))"); done
    if ((${#hosts[@]})); then
        echo "    ip daddr { $(comma_list "${hosts[*]}") } drop"
    fi
    for rem in $(layout_ints wide_dropped_mod4 0 3); do
        echo "    ip daddr $WIDE ip daddr & 0.0.0.3 == 0.0.0.$((10#$rem)) drop"
    done
    if [[ -n $silent ]]; then
        echo "    ip daddr { $(comma_list "$silent") } drop"
    fi
}

# Prints the input rules for PROTO (tcp or udp): dropped_PROTO, then rejected_PROTO, rejected
# with ICMP ($2: icmp, the default, or icmpv6) type admin-prohibited.
port_rules() {
    local proto=$1 icmp=${2:-icmp} dropped rejected
    dropped=$(layout_ints "dropped_$proto" 1 65535)
    rejected=$(layout_ints "rejected_$proto" 1 65535)
    if [[ -n $dropped ]]; then
        echo "    $proto dport { $(comma_list "$dropped") } drop"
    fi
    if [[ -n $rejected ]]; then
        echo "    $proto dport { $(comma_list "$rejected") } reject with $icmp type admin-prohibited"
    fi
}

# Prints the arp table that leaves ARP requests for the SILENT addresses unanswered (none if empty).
arp_ruleset() {
    [[ -n $1 ]] || return 0
    echo "table arp fslab {"
    echo "  chain input {"
    echo "    type filter hook input priority 0; policy accept;"
    echo "    arp operation request arp daddr ip { $(comma_list "$1") } drop"
    echo "  }"
    echo "}"
}

# Prints the listener's arguments: each open_tcp port bare (TCP), each open_udp port as udp:PORT.
listener_args() {
    local port args=()
    for port in $(layout_ints open_tcp 1 65535); do args+=("$port"); done
    for port in $(layout_ints open_udp 1 65535); do args+=("udp:$port"); done
    echo "${args[*]}"
}

# Waits until background job PID (program PROGRAM) prints "ready" into LOG; dies if it exits first.
wait_ready() {
    local pid=$1 program=$2 log=$3 i status
    for ((i = 0; i < 100; i++)); do
        if grep -qx ready "$log"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            status=0
            wait "$pid" || status=$?
            die "$program exited with status $status: $(tr '\n' ' ' <"$log")"
        fi
        sleep 0.05
    done
    die "$program not ready after 5 s: $(tr '\n' ' ' <"$log")"
}

start_listener() {
    local open
    open=$(listener_args)
    [[ -n $open ]] || return 0
    mkdir -p "$STATE_DIR"
    : >"$STATE_DIR/listener.log"  # exists before the background job opens it
    # setsid: the listener outlives this script and the caller's process group; down kills it.
    # shellcheck disable=SC2086 # one argument per port
    ip netns exec "$NS" setsid "$LISTENER" $open >"$STATE_DIR/listener.log" 2>&1 </dev/null &
    wait_ready $! "listener $LISTENER" "$STATE_DIR/listener.log"
}

# Prints slow-responder's port options from layout.conf: --open-tcp 22,80 ... (lists may be empty).
responder_port_args() {
    local proto role
    for proto in tcp udp; do
        for role in open rejected dropped; do
            echo "--$role-$proto $(layout_ints "${role}_$proto" 1 65535 | tr ' ' ',')"
        done
    done
}

# The slow hosts: slow-responder owns the TUN device (it goes when the process goes); the
# namespace forwards between its veth and the device, the host routes the /28 to the namespace.
start_slow_responder() {
    local hosts log=$STATE_DIR/slow-responder.log
    hosts=$(slow_addresses)
    [[ -n $hosts ]] || return 0
    mkdir -p "$STATE_DIR"
    : >"$log"
    # shellcheck disable=SC2046,SC2086 # one argument per host and per option word
    ip netns exec "$NS" setsid "$RESPONDER" "$SLOW_IF" $hosts $(responder_port_args) >"$log" 2>&1 </dev/null &
    echo $! >"$STATE_DIR/slow-responder.pid"
    wait_ready "$(cat "$STATE_DIR/slow-responder.pid")" "slow responder $RESPONDER" "$log"
    # IPv4 only, as before the lab had IPv6: no MLD reports or link-local address into the TUN.
    ns_sysctl "net/ipv6/conf/$SLOW_IF/disable_ipv6" 1
    in_ns ip link set "$SLOW_IF" up
    in_ns ip route add "$SLOW" dev "$SLOW_IF"
    ns_sysctl "net/ipv4/conf/$NS_IF/forwarding" 1
    ns_sysctl "net/ipv4/conf/$SLOW_IF/forwarding" 1
    ip route add "$SLOW" via "$NS_IP" dev "$HOST_IF"
}

# One real TCP handshake into the lab proves routing, the listener and the firewall agree.
check_reachable() {
    local port
    port=$(layout_ints open_tcp 1 65535 | awk '{print $1}')
    [[ -n $port ]] || return 0
    timeout 5 bash -c "exec 3<>/dev/tcp/$NS_IP/$port" 2>/dev/null ||
        die "cannot connect to $NS_IP:$port from the host"
    timeout 5 bash -c "exec 3<>/dev/tcp/$NS_IP6/$port" 2>/dev/null ||
        die "cannot connect to [$NS_IP6]:$port from the host"
    local slow
    slow=$(slow_addresses | awk '{print $1}')
    slow=${slow%%:*}
    [[ -z $slow ]] || timeout 70 bash -c "exec 3<>/dev/tcp/$slow/$port" 2>/dev/null ||
        die "cannot connect to the slow host $slow:$port from the host"
}

check_loss() {
    if ! [[ $1 =~ ^[0-9]{1,3}$ ]] || ((10#$1 > 100)); then
        die "loss must be an integer 0..100, got '$1'"
    fi
}

set_loss() {
    local pct family
    check_loss "$1"
    pct=$((10#$1))
    for family in ip ip6; do
        in_ns nft flush chain "$family" fslab egress
        # Neighbour discovery stays whole, as ARP does for IPv4 (an ip table never sees ARP).
        [[ $family == ip || pct -eq 0 ]] ||
            in_ns nft add rule ip6 fslab egress icmpv6 type '{ nd-neighbor-solicit, nd-neighbor-advert }' accept
        if ((pct == 100)); then
            in_ns nft add rule "$family" fslab egress counter drop comment '"loss 100"'
        elif ((pct > 0)); then
            in_ns nft add rule "$family" fslab egress numgen random mod 100 '<' "$pct" counter drop comment "\"loss $pct\""
        fi
    done
}

# Names the failing command; the EXIT trap then tears the half-built lab down.
on_up_error() {
    echo "lab.sh: up $ID failed at line $1: $2" >&2
}

on_up_exit() {
    local status=$?
    trap - ERR EXIT
    if ((!UP_DONE)); then
        echo "lab.sh: up $ID failed; tearing down" >&2
        do_down >/dev/null 2>&1 || true
        ((status != 0)) || status=1
    fi
    exit "$status"
}

do_up() {
    require_root
    require_tools
    [[ -r $LAYOUT ]] || die "cannot read layout $LAYOUT"
    [[ -x $LISTENER ]] || die "listener not found at $LISTENER (build it, set FLAGSCAN_LAB_LISTENER or pass --listener)"
    [[ -z $(layout_get slow_hosts) || -x $RESPONDER ]] ||
        die "slow responder not found at $RESPONDER (build it, set FLAGSCAN_LAB_SLOW_RESPONDER or pass --slow-responder)"
    ! ns_exists || die "lab $ID is already up (namespace $NS exists); run: lab.sh down $ID"
    ! ip link show "$HOST_IF" >/dev/null 2>&1 || die "interface $HOST_IF already exists; run: lab.sh down $ID"
    validate_layout
    UP_DONE=0
    trap 'on_up_error $LINENO "$BASH_COMMAND"' ERR
    trap on_up_exit EXIT
    make_links
    set_icmp_limits
    ruleset | in_ns nft -f -
    start_listener
    start_slow_responder
    check_reachable
    set_loss "$LOSS"
    UP_DONE=1
    echo "lab $ID up: $NS, $HOST_IF $HOST_IP -> $NS_IP, $SUBNET, slow $SLOW, IPv6 $HOST_IP6 -> $NS_IP6, $SUBNET6, loss $LOSS%, icmp ratelimit $ICMP_RATELIMIT"
}

# --- down -----------------------------------------------------------------------------

# Kills the slow responder by the pid lab.sh up recorded, if it is still that program.
kill_slow_responder() {
    local file=$STATE_DIR/slow-responder.pid pid i
    [[ -r $file ]] || return 0
    pid=$(cat "$file")
    [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == slow-responder ]] || return 0
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
        [[ -e /proc/$pid ]] || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
}

do_down() {
    require_root
    kill_slow_responder
    if ns_exists; then
        kill_ns_pids
    fi
    ip route del "$SUBNET" 2>/dev/null || true
    ip route del "$WIDE" 2>/dev/null || true
    if [[ $(ip route show exact "$HUGE") == *"dev $HOST_IF"* ]]; then ip route del "$HUGE"; fi
    ip route del "$SLOW" 2>/dev/null || true
    ip -6 route del "$SUBNET6" dev "$HOST_IF" 2>/dev/null || true
    remove_namespace
    rm -rf "$STATE_DIR"
    check_namespace_removed
    [[ -z $(ip route show exact "$WIDE") ]] || die "route to $WIDE still exists"
    [[ -z $(ip route show exact "$SLOW") ]] || die "route to $SLOW still exists"
    [[ -z $(ip -6 route show exact "$SUBNET6") ]] || die "route to $SUBNET6 still exists"
    [[ -z $(ip -6 route show exact "$NET6_PREFIX") ]] || die "route to $NET6_PREFIX still exists"
    echo "lab $ID down"
}

# --- the huge range, loss, info -----------------------------------------------------------

# AnyIP over 2^20 addresses: every one answers as the lab target does (its open ports listen
# on every local address). Refused when another lab holds the same /12.
do_huge() {
    require_root
    ns_exists || die "lab $ID is not up"
    [[ -z $(ip route show exact "$HUGE") ]] || die "$HUGE is already routed (another lab with the same ID mod 4?)"
    in_ns ip route add local "$HUGE" dev lo
    ip route add "$HUGE" via "$NS_IP" dev "$HOST_IF"
    echo "huge=$HUGE"
}

do_loss() {
    require_root
    check_loss "$1"
    ns_exists || die "lab $ID is not up"
    set_loss "$1"
    echo "lab $ID loss $((10#$1))%"
}

current_loss() {
    in_ns nft list chain ip fslab egress 2>/dev/null |
        sed -n 's/.*comment "loss \([0-9]*\)".*/\1/p' | head -n1 | grep . || echo 0
}

do_info() {
    require_root
    echo "id=$ID"
    echo "namespace=$NS"
    echo "host_if=$HOST_IF"
    echo "ns_if=$NS_IF"
    echo "host_ip=$HOST_IP"
    echo "ns_ip=$NS_IP"
    echo "subnet=$SUBNET"
    echo "layout=$LAYOUT"
    local key
    for key in open_tcp rejected_tcp dropped_tcp dropped_hosts; do
        echo "$key=$(layout_get "$key")"
    done
    for key in open_udp rejected_udp dropped_udp; do
        echo "$key=$(layout_get "$key")"
    done
    echo "wide=$WIDE"
    echo "huge=$HUGE"
    echo "wide_dropped_mod4=$(layout_get wide_dropped_mod4)"
    echo "lan=$LAN"
    echo "lan_host_ip=$LAN_HOST_IP"
    echo "lan_hosts=$(lan_addresses lan_hosts)"
    echo "lan_silent=$(lan_addresses lan_silent)"
    echo "slow=$SLOW"
    echo "slow_if=$SLOW_IF"
    echo "slow_hosts=$(slow_addresses)"
    echo "host_ip6=$HOST_IP6"
    echo "ns_ip6=$NS_IP6"
    echo "prefix6=$NET6_PREFIX"
    echo "subnet6=$SUBNET6"
    local off hosts6=()
    for off in $(layout_get dropped_hosts); do hosts6+=("$(subnet6_address "$off")"); done
    echo "dropped_hosts6=${hosts6[*]}"
    if ! ns_exists; then
        echo "state=down"
        return 0
    fi
    echo "state=up"
    echo "host_mac=$(cat "/sys/class/net/$HOST_IF/address" 2>/dev/null)"
    echo "ns_mac=$(in_ns cat "/sys/class/net/$NS_IF/address")"
    echo "loss=$(current_loss)"
    echo "pids=$(ip netns pids "$NS" | tr '\n' ' ' | sed 's/ $//')"
    echo "slow_responder_pid=$(cat "$STATE_DIR/slow-responder.pid" 2>/dev/null)"
}

# --- main -----------------------------------------------------------------------------

main() {
    local cmd=${1:-} args=()
    [[ -n $cmd ]] || usage
    shift
    [[ $cmd != services ]] || exec bash "$SCRIPT_DIR/services.sh" "$@"
    while (($#)); do
        case $1 in
        --loss) LOSS=${2:?--loss needs PCT}; shift 2 ;;
        --icmp-ratelimit) ICMP_RATELIMIT=${2:?--icmp-ratelimit needs off|default|global}; shift 2 ;;
        --listener) LISTENER=${2:?--listener needs PATH}; shift 2 ;;
        --slow-responder) RESPONDER=${2:?--slow-responder needs PATH}; shift 2 ;;
        -h | --help) usage ;;
        -*) die "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
        esac
    done
    [[ -n $RESPONDER ]] || RESPONDER="$(dirname "$LISTENER")/slow-responder"
    [[ $ICMP_RATELIMIT =~ ^(off|default|global)$ ]] || die "--icmp-ratelimit takes off, default or global"
    check_loss "$LOSS"
    ((${#args[@]} >= 1)) || usage
    set_names "${args[0]}"
    case $cmd in
    up) ((${#args[@]} == 1)) || usage; do_up ;;
    down) ((${#args[@]} == 1)) || usage; do_down ;;
    info) ((${#args[@]} == 1)) || usage; do_info ;;
    loss) ((${#args[@]} == 2)) || usage; do_loss "${args[1]}" ;;
    huge) ((${#args[@]} == 1)) || usage; do_huge ;;
    *) usage ;;
    esac
}

main "$@"
