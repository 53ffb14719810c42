#!/usr/bin/env bash
# Installs what flagscan needs to build, test and benchmark on Debian 12 (run as root).
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config          # build
  libpcap-dev libnet1-dev libcxxopts-dev    # libraries
  libpcre2-dev                              # -sV: nmap-service-probes' regexes
  libssl-dev                                # TLS for service probes (OpenSSL)
  libgtest-dev                              # tests
  clang libclang-rt-14-dev llvm             # fuzzing: libFuzzer + sanitizer runtimes, llvm-symbolizer
  iproute2 nftables util-linux              # the namespace lab (ip, nft, setpriv)
  nmap                                      # nmap-services (top ports, service names); comparisons
  tcpdump                                   # the live suite captures nmap's scans to replay them
  libxml2-utils ndiff                       # -oX checks: xmllint against nmap.dtd, ndiff against nmap's XML
  openmpi-bin                               # the live suite launches --shard auto ranks with mpirun
  # The services host (test/lab/services.sh): real daemons for -sV, ident, FTP bounce, checks.
  openssh-server vsftpd python3-pyftpdlib inetutils-inetd inetutils-telnetd nginx-light
  oidentd redis-server openssl
  dnsmasq-base chrony snmpd                 # its UDP daemons: DNS on 53, NTP on 123, SNMP on 161
)
[[ "${1:-}" == "--bench" ]] && packages+=(masscan hyperfine zmap)

# A maintainer script (sshd, nginx, vsftpd, redis, oidentd, inetd, chrony, snmpd) starts the daemon it installs
# on the host's interfaces unless /usr/sbin/policy-rc.d exits 101, which invoke-rc.d and
# deb-systemd-invoke obey: one that forbids every start stands for the install, then the old one
# (a container's own, often) is put back, or none. The lab starts its own copies in a namespace.
readonly policy=/usr/sbin/policy-rc.d policy_saved=/usr/sbin/policy-rc.d.flagscan-saved
forbid_service_starts() {
  [[ -e $policy && ! -e $policy_saved ]] && mv "$policy" "$policy_saved"
  printf '#!/bin/sh\n# flagscan install-deps: no service starts during the install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
}
restore_policy() {
  rm -f "$policy"
  if [[ -e $policy_saved ]]; then mv "$policy_saved" "$policy"; fi
}

# Names any of the lab's daemons listening in the host's own network namespace (none should).
warn_running_daemons() {
  local found
  found=$(ss -Hltunp 2>/dev/null | grep -E '"(sshd|nginx|vsftpd|redis-server|oidentd|inetd|dnsmasq|chronyd|snmpd)"' || true)
  [[ -z $found ]] || echo "install-deps: warning: a daemon listens on the host (not started by the lab):" "$found" >&2
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if ((EUID != 0)); then echo "install-deps: run as root to install: ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  forbid_service_starts
  trap restore_policy EXIT
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
  restore_policy
  trap - EXIT
  warn_running_daemons
fi
