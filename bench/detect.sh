#!/usr/bin/env bash
# bench/detect.sh: packets per second of `flagscan detect` over big captures, on one core (no
# root, no network: the captures are written by `flagscan --offline -w`, which sends nothing).
#
#   bench/detect.sh              # a 1,048,560-probe SYN scan (16 hosts x 65535 ports), a
#                                # 1,000,000-packet flood from 250,000 sources (LRU evictions)
#                                # and 262,144 scanning sources of 12 ports each (alerts cut)
#   bench/detect.sh --runs 5     # median of 5 runs each (default 3)
#
# Prints, per capture: packets, the median wall time, packets/s, packets per CPU-second and the
# peak resident set. Uses build/flagscan or $FLAGSCAN_BIN; the detector runs pinned to CPU 0
# (taskset) when taskset is there. Goal (issue 14): >= 1,000,000 packets/s.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${FLAGSCAN_BIN:-$here/build/flagscan}
runs=3
while [[ $# -gt 0 ]]; do
    case $1 in
        --runs) runs=$2; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "bench/detect.sh: unknown option $1" >&2; exit 1 ;;
    esac
    shift
done
[[ -x $bin ]] || { echo "bench/detect.sh: no flagscan binary at $bin (build it first)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench/detect.sh: needs GNU time (/usr/bin/time, package 'time')" >&2; exit 1; }
pin=()
command -v taskset > /dev/null && pin=(taskset -c 0)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One scanner: flagscan's own SYN probes (written, never sent) to every port of a /28.
"$bin" --offline -n --seed 1 -p 1-65535 -w "$work/scan.pcap" 10.77.99.0/28 > /dev/null 2>&1
# Many sources (an Internet-facing sensor): the first million of those probes with their source
# addresses rewritten over 250,000 sources, 4 probes each, by a small Python pass.
python3 - "$work/scan.pcap" "$work/flood.pcap" <<'PY'
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, 'rb') as f, open(dst, 'wb') as out:
    header = f.read(24)
    out.write(header)
    n = 0
    while n < 1_000_000:
        rec = f.read(16)
        if len(rec) < 16:
            break
        ts_s, ts_us, incl, orig = struct.unpack('<IIII', rec)
        data = bytearray(f.read(incl))
        # Raw IPv4 (link type 101, as --offline -w writes): source address at 12; spread over
        # 250,000 sources (10.200.0.0/14), the IP header checksum fixed for the change (RFC 1624:
        # one's-complement arithmetic).
        ip = 0
        old = struct.unpack('>HH', data[ip + 12: ip + 16])
        s = (10 << 24) | (200 << 16) | (n % 250_000)
        new = (s >> 16, s & 0xffff)
        data[ip + 12: ip + 16] = struct.pack('>I', s)
        csum = struct.unpack('>H', data[ip + 10: ip + 12])[0]
        total = (~csum & 0xffff) + (~old[0] & 0xffff) + (~old[1] & 0xffff) + new[0] + new[1]
        while total >> 16:
            total = (total & 0xffff) + (total >> 16)
        data[ip + 10: ip + 12] = struct.pack('>H', ~total & 0xffff)
        out.write(struct.pack('<IIII', ts_s, ts_us, incl, orig))
        out.write(data)
        n += 1
PY

# Many scanners (a sensor under a distributed botnet scan): 262,144 sources, each sending 12 SYNs
# to one target back to back, none answered: every one is a scan, four times --max-sources.
python3 - "$work/scanners.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], 'wb') as out:
    out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))  # raw IPv4
    t = 1_800_000_000 * 1_000_000
    for s in range(262_144):
        src = struct.pack('>I', (10 << 24) | (200 << 16) | s)
        for port in range(1, 13):
            ip = bytearray(struct.pack('>BBHHHBBH4s4s', 0x45, 0, 40, s & 0xffff, 0, 50, 6, 0, src, bytes([10, 77, 99, 2])))
            total = sum(struct.unpack('>10H', ip))
            while total >> 16:
                total = (total & 0xffff) + (total >> 16)
            ip[10:12] = struct.pack('>H', ~total & 0xffff)
            tcp = struct.pack('>HHIIBBHHH', 40000, port, 12345, 0, 0x50, 0x02, 1024, 0, 0)
            out.write(struct.pack('<IIII', t // 1_000_000, t % 1_000_000, 40, 40) + bytes(ip) + tcp)
            t += 5
PY

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

bench() {
    local label=$1 file=$2 packets
    shift 2
    : > "$work/times"
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %U %S %M' -o "$work/t" "${pin[@]}" "$bin" detect "$@" "$file" -oJ "$work/out.jsonl" > /dev/null
        cat "$work/t" >> "$work/times"
    done
    packets=$(sed -nE 's/.*"type":"summary","packets":([0-9]+).*/\1/p' "$work/out.jsonl")
    local wall cpu rss
    wall=$(awk '{print $1}' "$work/times" | median)
    cpu=$(awk '{print $2 + $3}' "$work/times" | median)
    rss=$(awk '{print $4}' "$work/times" | median)
    awk -v l="$label" -v p="$packets" -v w="$wall" -v c="$cpu" -v r="$rss" 'BEGIN {
        printf "%-36s %9d packets %6.2f s %10.0f packets/s %10.0f per CPU-second %7d KiB max RSS\n",
               l, p, w, (w > 0 ? p / w : 0), (c > 0 ? p / c : 0), r }'
    tail -1 "$work/out.jsonl"
}

echo "flagscan detect on $(nproc) cores (pinned: ${pin[*]:-no}), $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench "one SYN scan, 16 hosts x 65535 ports" "$work/scan.pcap"
bench "250,000 sources (--max-sources 65536)" "$work/flood.pcap"
bench "262,144 scanners, 12 ports each" "$work/scanners.pcap"
