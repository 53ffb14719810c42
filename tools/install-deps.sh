#!/usr/bin/env bash
# Installs what flagscan needs to build, test and benchmark on Debian 12 (run as root).
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config          # build
  libpcap-dev libnet1-dev libcxxopts-dev    # libraries
  libssl-dev                                # TLS for service probes (OpenSSL)
  libgtest-dev                              # tests
  clang libclang-rt-14-dev llvm             # fuzzing: libFuzzer + sanitizer runtimes, llvm-symbolizer
  iproute2 nftables util-linux              # the namespace lab (ip, nft, setpriv)
  nmap                                      # nmap-services (top ports, service names); comparisons
  tcpdump                                   # the live suite captures nmap's scans to replay them
  libxml2-utils ndiff                       # -oX checks: xmllint against nmap.dtd, ndiff against nmap's XML
)
[[ "${1:-}" == "--bench" ]] && packages+=(masscan hyperfine zmap)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if ((EUID != 0)); then echo "install-deps: run as root to install: ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
