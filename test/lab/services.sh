#!/usr/bin/env bash
# services.sh: starts and stops the lab's services host, real Debian daemons in their own namespace.
#
# Lab ID (0..99), beside lab.sh's lab of the same ID and independent of it:
#   namespace fssv<ID>; veth fsvh<ID> (host, 10.77.<ID>.129/30) <-> fsvn<ID> (namespace,
#   10.77.<ID>.130/30). Nothing else is routed: the namespace has no default route and reaches
#   only the host's .129 (lab.sh uses .0/30, .16/28, .32/27, .64/28 of the same /24).
#   IPv6 on the same veth (the -6 service tests): fsvh<ID> fd77:<ID>:5::1/64, fsvn<ID>
#   fd77:<ID>:5::2/64 (nodad, no router advertisements or solicitations; lab.sh's fd77:<ID>::/64
#   is another /64), and every daemon listens on fd77:<ID>:5::2 too, as the same program with the
#   same configuration (vsftpd and pyftpdlib as a second process bound to the IPv6 address).
#   services.conf (the truth) lists each port: the daemon, the service nmap names, the user ident
#   answers, the weaknesses planted and the checks a port is the safe case of. The daemons run
#   as Debian runs them, from configurations generated here and passed with each one's own
#   option (/etc is never touched): sshd -f (root, privsep user sshd), vsftpd CONFFILE (anonymous
#   with one writable directory on 21; anonymous off on 2100), pyftpdlib (test/lab/bounce_ftpd.py,
#   as nobody: bounce allowed, read-only), inetutils-inetd with telnetd (root: login on 23, no
#   login on 2323), nginx -c (master root, workers www-data: 80, 443 with a self-signed
#   certificate made at start; one with workers as root on 8080; one entirely as www-data
#   without server_tokens on 8081),
#   oidentd (113, drops to nobody), redis-server FILE (as redis), and test/lab/stub_services.py
#   (as nobody: 2222 closes every connection at once, 2201 sends an SSH-1.99 banner, 7001/udp
#   answers every datagram with data with a line nothing knows, an empty one with nothing). UDP: dnsmasq (DNS on 53, no upstream,
#   as dnsmasq), chronyd -x (NTP server on 123, never touches the clock, as _chrony), snmpd
#   (161, community public readable from the host side, as Debian-snmp).
#   State: /run/flagscan-lab/sv<ID> (configs, keys, pid files, logs, FTP roots, versions): down
#   kills the daemons by their pid files, then what is left in the namespace, and removes the
#   namespace, the veth and the state directory. up after a crashed run cleans first.
set -Eeuo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly CONF="${FLAGSCAN_SERVICES_CONF:-$SCRIPT_DIR/services.conf}"
readonly STATE_ROOT="${FLAGSCAN_LAB_STATE:-/run/flagscan-lab}"
UP_DONE=1
# shellcheck source=test/lab/ns_common.sh
source "$SCRIPT_DIR/ns_common.sh"

usage() {
    cat >&2 <<'EOF'
usage: services.sh up ID
       services.sh down ID
       services.sh info ID
ID is 0..99: the services host 10.77.ID.130 in namespace fssvID (lab.sh services ... does the same).
EOF
    exit 2
}

die() {
    echo "services.sh: $*" >&2
    exit 1
}

# --- services.conf --------------------------------------------------------------------

# Prints services.conf's rows without comments or blank lines.
conf_rows() {
    sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$CONF"
}

# The rows services.sh configures a daemon for, by name (services.conf may list more).
readonly NEEDED_ROWS="ftp ftp-bounce ftp-safe http http-root http-safe https ident redis ssh ssh1-stub tcpwrapped telnet telnet-safe dns ntp snmp udp-unknown"

# Fills PORT_OF (name -> port number), PORTS and UDP_PORTS (TCP and UDP, in file order) and
# PACKAGES (sorted, unique) in one pass.
load_conf() {
    local name port package rest line
    declare -gA PORT_OF=()
    PORTS=() UDP_PORTS=() PACKAGES=()
    while IFS= read -r line; do
        read -r name port package rest <<<"$line"
        PORT_OF[$name]=${port%/udp}
        if [[ $port == */udp ]]; then UDP_PORTS+=("${port%/udp}"); else PORTS+=("$port"); fi
        [[ " ${PACKAGES[*]} " == *" $package "* ]] || PACKAGES+=("$package")
    done < <(conf_rows)
    for name in $NEEDED_ROWS; do
        [[ -n ${PORT_OF[$name]:-} ]] || die "services.conf: no row named '$name'"
    done
}

# Dies on a malformed services.conf: 9 columns, ports 1..65535 (PORT/udp for UDP), names and
# ports unique.
validate_conf() {
    [[ -r $CONF ]] || die "cannot read $CONF"
    conf_rows | awk '
        NF != 9 { printf "services.conf: row %s: %d columns, want 9\n", $1, NF; bad = 1 }
        $2 !~ /^[0-9]+(\/udp)?$/ || $2 + 0 < 1 || $2 + 0 > 65535 { printf "services.conf: row %s: bad port %s\n", $1, $2; bad = 1 }
        names[$1]++ { printf "services.conf: name %s given twice\n", $1; bad = 1 }
        ports[$2]++ { printf "services.conf: port %s given twice\n", $2; bad = 1 }
        END { exit bad }' >&2 || die "malformed $CONF"
    load_conf
}

# --- names ----------------------------------------------------------------------------

set_names() {
    [[ $1 =~ ^[0-9]{1,2}$ ]] || die "lab ID must be 0..99, got '$1'"
    ID=$((10#$1))
    NS=fssv$ID
    HOST_IF=fsvh$ID
    NS_IF=fsvn$ID
    HOST_IP=10.77.$ID.129
    NS_IP=10.77.$ID.130
    SV=$STATE_ROOT/sv$ID
    HOST_IP6=fd77:$ID:5::1
    NS_IP6=fd77:$ID:5::2
}


require_root() { [[ $(id -u) == 0 ]] || die "must run as root (network namespaces, veth, daemons)"; }

require_tools() {
    local t
    for t in ip ss setsid setpriv timeout awk sed openssl ssh-keygen /usr/bin/python3 dpkg-query \
        /usr/sbin/sshd /usr/sbin/vsftpd /usr/sbin/inetutils-inetd /usr/sbin/telnetd \
        /usr/sbin/nginx /usr/sbin/oidentd /usr/bin/redis-server /usr/sbin/dnsmasq /usr/sbin/chronyd /usr/sbin/snmpd; do
        command -v "$t" >/dev/null || die "missing '$t' (bash tools/install-deps.sh installs it)"
    done
    /usr/bin/python3 -c 'import pyftpdlib' 2>/dev/null || die "missing python3-pyftpdlib (bash tools/install-deps.sh)"
    local user
    for user in sshd ftp www-data redis nobody dnsmasq _chrony Debian-snmp; do
        getent passwd "$user" >/dev/null || die "missing user '$user' (made by its Debian package)"
    done
}

# --- network --------------------------------------------------------------------------

make_links() {
    [[ -e /proc/sys/net/ipv6 ]] || die "the kernel has no IPv6 (/proc/sys/net/ipv6 is missing)"
    ip netns add "$NS"
    in_ns ip link set lo up
    # IPv6 without DAD or router advertisements (as lab.sh): the addresses work at once and no
    # router solicitation goes out. The veth takes the namespace's defaults.
    in_ns sh -c 'for c in all default lo; do for k in accept_ra=0 accept_dad=0 disable_ipv6=0; do
        echo "${k#*=}" >"/proc/sys/net/ipv6/conf/$c/${k%%=*}"; done; done'
    ip link add "$HOST_IF" type veth peer name "$NS_IF" netns "$NS"
    local key
    for key in accept_ra=0 accept_dad=0 disable_ipv6=0; do
        echo "${key#*=}" >"/proc/sys/net/ipv6/conf/$HOST_IF/${key%%=*}"
    done
    ip addr add "$HOST_IP/30" dev "$HOST_IF"
    ip -6 addr add "$HOST_IP6/64" dev "$HOST_IF" nodad
    ip link set "$HOST_IF" up
    in_ns ip addr add "$NS_IP/30" dev "$NS_IF"
    in_ns ip -6 addr add "$NS_IP6/64" dev "$NS_IF" nodad
    in_ns ip link set "$NS_IF" up
}

# --- state: configurations, keys, certificate, FTP roots -----------------------------

make_state() {
    install -d -m 0755 "$SV" "$SV/pids" "$SV/logs" "$SV/ssh" "$SV/tls" "$SV/www" "$SV/empty"
    ssh-keygen -q -t ed25519 -N '' -C "fssv$ID" -f "$SV/ssh/ssh_host_ed25519_key"
    ssh-keygen -q -t ecdsa -N '' -C "fssv$ID" -f "$SV/ssh/ssh_host_ecdsa_key"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=fssv$ID.flagscan.lab" \
        -keyout "$SV/tls/key.pem" -out "$SV/tls/cert.pem" 2>"$SV/logs/openssl.log"
    echo "<html><body>flagscan services host $ID</body></html>" >"$SV/www/index.html"
    # vsftpd's anonymous root: root-owned (vsftpd refuses a writable chroot), one writable dir.
    install -d -m 0755 "$SV/ftp"
    install -d -m 0755 -o ftp -g ftp "$SV/ftp/incoming"
    echo "flagscan services host: incoming/ is writable by anonymous" >"$SV/ftp/README"
    install -d -m 0755 "$SV/ftp-ro"
    echo "flagscan services host: read-only, bounce allowed" >"$SV/ftp-ro/README"
    : >"$SV/vsftpd-users.list"  # the safe vsftpd lets only these (none) log in
    install -d -m 0755 "$SV/nginx-tmp" "$SV/nginx-root-tmp"
    install -d -m 0755 -o www-data -g www-data "$SV/nginx-safe" "$SV/nginx-safe/tmp"
    install -d -m 0755 -o redis -g redis "$SV/redis"
    install -d -m 0755 -o Debian-snmp -g Debian-snmp "$SV/snmp"
    write_sshd_conf >"$SV/sshd_config"
    write_vsftpd_conf >"$SV/vsftpd.conf"
    write_vsftpd_safe_conf >"$SV/vsftpd-safe.conf"
    vsftpd_ipv6 <"$SV/vsftpd.conf" >"$SV/vsftpd6.conf"
    vsftpd_ipv6 <"$SV/vsftpd-safe.conf" >"$SV/vsftpd6-safe.conf"
    write_inetd_conf >"$SV/inetd.conf"
    # sleep: telnetd drops what the pty holds when the program exits at once.
    printf '#!/bin/sh\necho "telnet logins are disabled here"\nsleep 1\n' >"$SV/telnet-notice"
    chmod 0755 "$SV/telnet-notice"
    write_nginx_conf >"$SV/nginx.conf"
    write_nginx_root_conf >"$SV/nginx-root.conf"
    write_nginx_safe_conf >"$SV/nginx-safe.conf"
    write_oidentd_conf >"$SV/oidentd.conf"
    write_redis_conf >"$SV/redis.conf"
    write_chrony_conf >"$SV/chrony.conf"
    write_snmpd_conf >"$SV/snmpd.conf"
    write_versions >"$SV/versions"
    # The stubs run as nobody, who may not read the checkout (a clone under /root): copies.
    install -m 0755 "$SCRIPT_DIR/bounce_ftpd.py" "$SCRIPT_DIR/stub_services.py" "$SV/"
    # sshd's compiled-in privilege separation directory (Debian's ssh.service makes it too).
    install -d -m 0755 /run/sshd
}

write_sshd_conf() {
    cat <<EOF
Port ${PORT_OF[ssh]}
ListenAddress 0.0.0.0
ListenAddress [$NS_IP6]
HostKey $SV/ssh/ssh_host_ed25519_key
HostKey $SV/ssh/ssh_host_ecdsa_key
PidFile $SV/pids/sshd.self.pid
UsePAM no
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
EOF
}

# Common to both vsftpd: standalone in the foreground, no IPv6, no seccomp sandbox (3.0.3's
# breaks on newer kernels), a private empty chroot directory.
vsftpd_common() {
    cat <<EOF
listen=YES
listen_ipv6=NO
background=NO
seccomp_sandbox=NO
secure_chroot_dir=$SV/empty
xferlog_enable=YES
dirmessage_enable=NO
EOF
}

# The same vsftpd on the IPv6 address alone (vsftpd's listen and listen_ipv6 exclude each other).
vsftpd_ipv6() {
    sed -e 's/^listen=YES$/listen=NO/' -e "s/^listen_ipv6=NO\$/listen_ipv6=YES\nlisten_address6=$NS_IP6/"
}

# Port 21: anonymous login, incoming/ writable (upload, mkdir, rename, delete); vsftpd refuses
# PORT to any address but the client's (port_promiscuous=NO): the bounce check's safe case.
write_vsftpd_conf() {
    vsftpd_common
    cat <<EOF
listen_port=${PORT_OF[ftp]}
vsftpd_log_file=$SV/logs/vsftpd-xfer.log
anonymous_enable=YES
local_enable=NO
anon_root=$SV/ftp
write_enable=YES
anon_upload_enable=YES
anon_mkdir_write_enable=YES
anon_other_write_enable=YES
anon_umask=022
port_promiscuous=NO
EOF
}

# Port 2100: anonymous off; local users allowed only from an empty list, so nobody logs in.
write_vsftpd_safe_conf() {
    vsftpd_common
    cat <<EOF
listen_port=${PORT_OF[ftp-safe]}
vsftpd_log_file=$SV/logs/vsftpd-safe-xfer.log
anonymous_enable=NO
local_enable=YES
write_enable=NO
userlist_enable=YES
userlist_deny=NO
userlist_file=$SV/vsftpd-users.list
pam_service_name=vsftpd
EOF
}

# telnetd as Debian's inetd.conf line has it (without tcpd): a login prompt on 23; on 2323 a
# telnetd that runs a notice instead of login(1), so no login is ever offered. The same on the
# IPv6 address ("ADDRESS:PORT": inetd splits at the last colon; a wildcard tcp6 would take IPv4 too).
write_inetd_conf() {
    cat <<EOF
${PORT_OF[telnet]} stream tcp nowait root /usr/sbin/telnetd telnetd
${PORT_OF[telnet-safe]} stream tcp nowait root /usr/sbin/telnetd telnetd -h -E $SV/telnet-notice
$NS_IP6:${PORT_OF[telnet]} stream tcp6 nowait root /usr/sbin/telnetd telnetd
$NS_IP6:${PORT_OF[telnet-safe]} stream tcp6 nowait root /usr/sbin/telnetd telnetd -h -E $SV/telnet-notice
EOF
}

# Port 80 and 443: master root, workers www-data, server_tokens on (Debian's default). Linux
# gives an accepted socket the user of the process that called accept(), so ident answers
# www-data (a worker), not root: this is http-root-owner's safe case.
write_nginx_conf() {
    cat <<EOF
daemon off;
master_process on;
user www-data;
worker_processes 1;
pid $SV/pids/nginx.self.pid;
error_log $SV/logs/nginx-error.log;
events { worker_connections 64; }
http {
    default_type text/html;
    access_log $SV/logs/nginx-access.log;
$(nginx_temp_paths "$SV/nginx-tmp")
    server {
        listen ${PORT_OF[http]};
        listen [$NS_IP6]:${PORT_OF[http]};
        listen ${PORT_OF[https]} ssl;
        listen [$NS_IP6]:${PORT_OF[https]} ssl;
        ssl_certificate $SV/tls/cert.pem;
        ssl_certificate_key $SV/tls/key.pem;
        root $SV/www;
    }
}
EOF
}

# Port 8080: the planted misconfiguration, workers as root ("user root;"): ident answers root.
write_nginx_root_conf() {
    cat <<EOF
daemon off;
master_process on;
user root root;
worker_processes 1;
pid $SV/pids/nginx-root.self.pid;
error_log $SV/logs/nginx-root-error.log;
events { worker_connections 64; }
http {
    default_type text/html;
    access_log $SV/logs/nginx-root-access.log;
$(nginx_temp_paths "$SV/nginx-root-tmp")
    server {
        listen ${PORT_OF[http-root]};
        listen [$NS_IP6]:${PORT_OF[http-root]};
        root $SV/www;
    }
}
EOF
}

# Port 8081: master and worker as www-data, server_tokens off ("Server: nginx", no version).
write_nginx_safe_conf() {
    cat <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $SV/nginx-safe/nginx.pid;
error_log $SV/nginx-safe/error.log;
events { worker_connections 64; }
http {
    default_type text/html;
    server_tokens off;
    access_log $SV/nginx-safe/access.log;
$(nginx_temp_paths "$SV/nginx-safe/tmp")
    server {
        listen ${PORT_OF[http-safe]};
        listen [$NS_IP6]:${PORT_OF[http-safe]};
        root $SV/www;
    }
}
EOF
}

nginx_temp_paths() {
    local kind
    for kind in client_body proxy fastcgi uwsgi scgi; do
        echo "    ${kind}_temp_path $1/$kind;"
    done
}

# Debian's /etc/oidentd.conf: real user names only, nothing hidden or spoofed.
write_oidentd_conf() {
    cat <<'EOF'
default {
    default {
        deny spoof
        deny spoof_all
        deny spoof_privport
        deny random
        deny random_numeric
        deny numeric
        deny hide
        deny forward
    }
}
EOF
}

# No persistence, reachable from the host (protected-mode would answer -DENIED without a password).
write_redis_conf() {
    cat <<EOF
bind 0.0.0.0 $NS_IP6
port ${PORT_OF[redis]}
protected-mode no
daemonize no
supervised no
dir $SV/redis
logfile ""
save ""
appendonly no
EOF
}

# An NTP server for anyone, from the system clock it never sets (-x): no command port, no
# drift file, no sources (it answers unsynchronised).
write_chrony_conf() {
    cat <<EOF
port ${PORT_OF[ntp]}
bindaddress $NS_IP
bindaddress $NS_IP6
allow all
cmdport 0
pidfile $SV/pids/chronyd.self.pid
EOF
}

# SNMP on the namespace's address: community public readable from the host side (Debian's
# default allows it from localhost only), SNMPv3 engine discovery as every snmpd answers it.
write_snmpd_conf() {
    cat <<EOF
agentAddress udp:$NS_IP:${PORT_OF[snmp]},udp6:[$NS_IP6]:${PORT_OF[snmp]}
rocommunity public $HOST_IP
rocommunity6 public $HOST_IP6
sysLocation flagscan services host $ID
sysContact root@fssv$ID.flagscan.lab
EOF
}

# package=version for every Debian package services.conf names (dpkg-query's Version).
write_versions() {
    dpkg-query -W -f='${Package}=${Version}\n' "${PACKAGES[@]}" 2>/dev/null || true
}

# --- daemons --------------------------------------------------------------------------

# Starts NAME: COMMAND... in the namespace, in its own session, as the job whose pid the pid
# file keeps (ip netns exec, setsid and setpriv each exec the next), output in logs/NAME.log.
start() {
    local name=$1
    shift
    # Not through in_ns: a function would run in a subshell whose pid $! would be.
    ip netns exec "$NS" setsid "$@" >"$SV/logs/$name.log" 2>&1 </dev/null &
    echo "$!" >"$SV/pids/$name.pid"
}

# Prints the command prefix that runs the rest as USER, group GROUP (and the user's groups).
as_user() {
    echo "setpriv --reuid=$1 --regid=$2 --init-groups"
}

# Debian's python3 (/usr/bin), whose dist-packages hold pyftpdlib, whatever python3 PATH finds.
# shellcheck disable=SC2046 # as_user's prefix is one word per argument
start_daemons() {
    start sshd /usr/sbin/sshd -D -e -f "$SV/sshd_config"
    start vsftpd /usr/sbin/vsftpd "$SV/vsftpd.conf"
    start vsftpd-safe /usr/sbin/vsftpd "$SV/vsftpd-safe.conf"
    start vsftpd6 /usr/sbin/vsftpd "$SV/vsftpd6.conf"
    start vsftpd6-safe /usr/sbin/vsftpd "$SV/vsftpd6-safe.conf"
    start pyftpdlib $(as_user nobody nogroup) /usr/bin/python3 "$SV/bounce_ftpd.py" "${PORT_OF[ftp-bounce]}" "$SV/ftp-ro"
    start pyftpdlib6 $(as_user nobody nogroup) /usr/bin/python3 "$SV/bounce_ftpd.py" "${PORT_OF[ftp-bounce]}" "$SV/ftp-ro" "$NS_IP6"
    start inetd /usr/sbin/inetutils-inetd -d --pidfile="$SV/pids/inetd.self.pid" "$SV/inetd.conf"
    start nginx /usr/sbin/nginx -e "$SV/logs/nginx-error.log" -c "$SV/nginx.conf"
    start nginx-root /usr/sbin/nginx -e "$SV/logs/nginx-root-error.log" -c "$SV/nginx-root.conf"
    start nginx-safe $(as_user www-data www-data) /usr/sbin/nginx -e "$SV/nginx-safe/error.log" -c "$SV/nginx-safe.conf"
    start oidentd /usr/sbin/oidentd -i -S -C "$SV/oidentd.conf" -p "${PORT_OF[ident]}" -u nobody -g nogroup
    start redis $(as_user redis redis) /usr/bin/redis-server "$SV/redis.conf"
    start stubs $(as_user nobody nogroup) /usr/bin/python3 "$SV/stub_services.py" \
        "tcpwrapped:${PORT_OF[tcpwrapped]}" "banner:${PORT_OF[ssh1-stub]}:SSH-1.99-OpenSSH_3.9p1" \
        "udp:${PORT_OF[udp-unknown]}:flagscan lab: hello" "--ipv6=$NS_IP6"
    start dnsmasq /usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
        --bind-interfaces --listen-address="$NS_IP" --listen-address="$NS_IP6" --port="${PORT_OF[dns]}" --user=dnsmasq --group=nogroup \
        --pid-file="$SV/pids/dnsmasq.self.pid" --log-facility=-
    start chronyd /usr/sbin/chronyd -d -x -u _chrony -f "$SV/chrony.conf"
    start snmpd env SNMP_PERSISTENT_DIR="$SV/snmp" /usr/sbin/snmpd -f -Lo -C -c "$SV/snmpd.conf" \
        -u Debian-snmp -g Debian-snmp -p "$SV/pids/snmpd.self.pid"
}

# Waits until every port of services.conf listens in the namespace, on IPv4 and on IPv6; dies
# naming the missing ones, with the logs of the daemons that exited.
wait_listening() {
    local missing i
    for ((i = 0; i < 200; i++)); do
        missing=$(missing_ports "${PORTS[*]}" -Hltn4)$(missing_ports "${UDP_PORTS[*]}" -Hlun4 /udp)
        missing+=$(missing_ports "${PORTS[*]}" -Hltn6 " (IPv6)")$(missing_ports "${UDP_PORTS[*]}" -Hlun6 "/udp (IPv6)")
        [[ -n $missing ]] || return 0
        sleep 0.05
    done
    die "not listening after 10 s: ports$missing$(dead_daemons)"
}

# Prints the PORTS (a space-separated list) not listening inside the namespace, as ss OPTIONS
# lists sockets (-Hltn: TCP in LISTEN; -Hlun: bound UDP), each after a blank and before SUFFIX.
missing_ports() {
    local listening port out=""
    listening=" $(in_ns ss "$2" | awk '{n = split($4, a, ":"); print a[n]}' | tr '\n' ' ') "
    for port in $1; do
        [[ $listening == *" $port "* ]] || out+=" $port${3:-}"
    done
    echo "$out"
}

# Prints, for each daemon whose pid is gone, its name and its log's last lines.
dead_daemons() {
    local file name
    for file in "$SV"/pids/*.pid; do
        name=$(basename "$file" .pid)
        [[ $name != *.self ]] || continue
        running "$(cat "$file")" && continue
        printf '\n  %s exited: %s' "$name" "$(tail -n 3 "$SV/logs/$name.log" | tr '\n' ' ')"
    done
}

on_up_error() {
    echo "services.sh: up $ID failed at line $1: $2" >&2
}

on_up_exit() {
    local status=$?
    trap - ERR EXIT
    if ((!UP_DONE)); then
        echo "services.sh: up $ID failed; tearing down" >&2
        [[ -z ${FLAGSCAN_SERVICES_KEEP_FAILED:-} ]] && do_down >/dev/null 2>&1
        ((status != 0)) || status=1
    fi
    exit "$status"
}

do_up() {
    require_root
    require_tools
    validate_conf
    UP_DONE=0
    trap 'on_up_error $LINENO "$BASH_COMMAND"' ERR
    trap on_up_exit EXIT
    # A crashed run's namespace, veth, daemons or state are removed first.
    if ns_exists || ip link show "$HOST_IF" >/dev/null 2>&1 || [[ -e $SV ]]; then
        do_down >/dev/null
    fi
    make_links
    make_state
    start_daemons
    wait_listening
    UP_DONE=1
    echo "services $ID up: $NS, $HOST_IF $HOST_IP -> $NS_IP, $HOST_IP6 -> $NS_IP6, ports ${PORTS[*]} udp ${UDP_PORTS[*]}"
}

# --- down -----------------------------------------------------------------------------

# The daemons this script started, by their pid files, if each pid still lives in the namespace.
kill_started() {
    local file pid pids=() ns_pids
    [[ -d $SV/pids ]] || return 0
    ns_pids=" $(ip netns pids "$NS" 2>/dev/null | tr '\n' ' ') "
    for file in "$SV"/pids/*.pid; do
        [[ -r $file ]] || continue
        read -r pid <"$file"
        [[ $pid =~ ^[0-9]+$ && $ns_pids == *" $pid "* ]] && pids+=("$pid")
    done
    kill_and_wait "${pids[@]}"
}

do_down() {
    require_root
    if ns_exists; then
        kill_started
        kill_ns_pids  # what the daemons left (sessions, workers, telnetd)
    fi
    remove_namespace
    rm -rf "$SV"
    check_namespace_removed
    echo "services $ID down"
}

# --- info -----------------------------------------------------------------------------

do_info() {
    require_root
    echo "id=$ID"
    echo "namespace=$NS"
    echo "host_if=$HOST_IF"
    echo "ns_if=$NS_IF"
    echo "host_ip=$HOST_IP"
    echo "services_ip=$NS_IP"
    echo "host_ip6=$HOST_IP6"
    echo "services_ip6=$NS_IP6"
    echo "conf=$CONF"
    echo "state_dir=$SV"
    validate_conf
    echo "ports=${PORTS[*]}"
    echo "udp_ports=${UDP_PORTS[*]}"
    if ! ns_exists; then
        echo "state=down"
        return 0
    fi
    echo "state=up"
    local file
    for file in "$SV"/pids/*.pid; do
        [[ -r $file && $file != *.self.pid ]] && echo "pid_$(basename "$file" .pid)=$(cat "$file")"
    done
    echo "pids=$(ip netns pids "$NS" | tr '\n' ' ' | sed 's/ $//')"
    [[ ! -r $SV/versions ]] || sed 's/^/version_/' "$SV/versions"
}

# --- main -----------------------------------------------------------------------------

main() {
    (($# == 2)) || usage
    set_names "$2"
    case $1 in
    up) do_up ;;
    down) do_down ;;
    info) do_info ;;
    *) usage ;;
    esac
}

main "$@"
