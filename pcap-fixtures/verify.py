#!/usr/bin/env python3
"""verify.py: checks a replay's JSON lines against the lab's truth before it becomes a .expected.

Used by record-lab.sh (run by hand, as root) for every lab capture; never by the test suite.

  verify.py REPLAY.jsonl --kind S|F|N|X|A|W|M|U --layout test/lab/layout.conf --lab 30
            --hosts 10.77.30.2[,...] --ports 1-30,80,... [--nmap-xml X.xml] [--live LIVE.jsonl]

Checks, each one a hard failure:
  * every (host, port) scanned is listed exactly once (the replay ran with --all-ports);
  * its state and reason are what test/lab/layout.conf implies for that scan type on a Linux
    stack (the same table as test/live/live_support.hpp: open / closed / rejected / dropped),
    from the *_tcp keys for the TCP kinds and the *_udp keys for U (UDP); every port line
    carries the scan's protocol ("proto": "tcp" or "udp");
  * with --nmap-xml: nmap's own state and reason for every scanned port of that same run (its
    protocol="tcp" ports for the TCP kinds, protocol="udp" ones for U)
    (ports nmap folded into <extraports> are placed from <extrareasons ports=...>, or from the
    scanned list when nmap gave no list);
  * with --live: the replay's output is byte for byte the live scan's -oJ output.
Prints one line per check and exits 1 on the first failed one.
"""
import argparse
import json
import sys
import xml.etree.ElementTree as ET

# state, reason per role: open, closed, rejected (ICMP 3/13), dropped. RFC 793 p.65-66 on Linux.
SYN_ACK = ("open", "syn-ack")
CLOSED = ("closed", "reset")
UNFILTERED = ("unfiltered", "reset")
ADMIN = ("filtered", "admin-prohibited")
FILTERED = ("filtered", "no-response")
OPEN_FILTERED = ("open|filtered", "no-response")
# UDP (RFC 768, RFC 1122 3.2.2.1): a reply datagram means a listener; ICMP 3/3 means none.
UDP_RESPONSE = ("open", "udp-response")
PORT_UNREACH = ("closed", "port-unreach")
KINDS = {
    "S": (SYN_ACK, CLOSED, ADMIN, FILTERED),
    "F": (OPEN_FILTERED, CLOSED, ADMIN, OPEN_FILTERED),
    "N": (OPEN_FILTERED, CLOSED, ADMIN, OPEN_FILTERED),
    "X": (OPEN_FILTERED, CLOSED, ADMIN, OPEN_FILTERED),
    "A": (UNFILTERED, UNFILTERED, ADMIN, FILTERED),
    "W": (CLOSED, CLOSED, ADMIN, FILTERED),
    "M": (CLOSED, CLOSED, ADMIN, OPEN_FILTERED),
    "U": (UDP_RESPONSE, PORT_UNREACH, ADMIN, OPEN_FILTERED),
}


def protocol(kind):
    return "udp" if kind == "U" else "tcp"


def parse_ports(text):
    ports = []
    for item in text.split(","):
        first, _, last = item.partition("-")
        ports.extend(range(int(first), int(last or first) + 1))
    return ports


def load_layout(path):
    layout = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if "=" in line:
                key, value = line.split("=", 1)
                if ":" in value:  # OFFSET:MS pairs (slow_hosts): no port set, not read here
                    continue
                layout[key.strip()] = {int(v) for v in value.split()}
    return layout


def expected_from_layout(layout, lab, kind, hosts, ports):
    opened, closed, rejected, dropped = KINDS[kind]
    proto = protocol(kind)
    # The /28 10.77.LAB.16 of IPv4, the /120 fd77:LAB::100 of IPv6: dropped_hosts are offsets in both.
    offsets = layout.get("dropped_hosts", set())
    dropped_hosts = {f"10.77.{lab}.{16 + off}" for off in offsets} | {f"fd77:{lab}::{0x100 + off:x}" for off in offsets}
    out = {}
    for host in hosts:
        for port in ports:
            if host in dropped_hosts or port in layout.get(f"dropped_{proto}", set()):
                verdict = dropped
            elif port in layout.get(f"rejected_{proto}", set()):
                verdict = rejected
            elif port in layout.get(f"open_{proto}", set()):
                verdict = opened
            else:
                verdict = closed
            out[(host, port)] = verdict
    return out


def read_replay(path, proto):
    ports, hosts = {}, {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            obj = json.loads(line)
            if "port" in obj:
                if obj.get("proto") != proto:
                    fail(f"{path}:{number}: proto {obj.get('proto')!r}, the scan's is {proto!r}")
                key = (obj["ip"], obj["port"])
                if key in ports:
                    fail(f"{path}:{number}: {key} listed twice")
                ports[key] = (obj["state"], obj["reason"])
            else:
                hosts[obj["ip"]] = obj
    return ports, hosts


def read_nmap(path, scanned, proto):
    verdicts = {}
    for host in ET.parse(path).getroot().iter("host"):
        ip = next(a.get("addr") for a in host.iter("address") if a.get("addrtype") == "ipv4")
        unplaced = []
        for ports in host.iter("ports"):
            for extra in ports.iter("extraports"):
                state, count = extra.get("state"), int(extra.get("count"))
                for reasons in extra.iter("extrareasons"):
                    if reasons.get("proto", proto) != proto:
                        fail(f"{path}: {ip}: extrareasons for {reasons.get('proto')}, the scan is {proto}")
                    if reasons.get("ports"):
                        for port in parse_ports(reasons.get("ports")):
                            verdicts[(ip, port)] = (state, reasons.get("reason"))
                            count -= 1
                if count:
                    unplaced.append((state, count))
            for port in ports.iter("port"):
                if port.get("protocol") != proto:
                    continue
                st = port.find("state")
                verdicts[(ip, int(port.get("portid")))] = (st.get("state"), st.get("reason"))
        if unplaced:
            if len(unplaced) > 1:
                fail(f"{path}: {ip}: several extraports groups without port lists")
            rest = [p for p in scanned if (ip, p) not in verdicts]
            if len(rest) != unplaced[0][1]:
                fail(f"{path}: {ip}: extraports count {unplaced[0][1]} but {len(rest)} unlisted ports")
            for port in rest:
                verdicts[(ip, port)] = (unplaced[0][0], "")
    return verdicts


def compare(what, expected, got, ignore_empty_reason=False):
    bad = []
    for key in sorted(set(expected) | set(got)):
        e, g = expected.get(key), got.get(key)
        if e is not None and g is not None and ignore_empty_reason and "" in (e[1], g[1]):
            e, g = e[0], g[0]
        if e != g:
            bad.append(f"  {key[0]}:{key[1]}: {what} says {e}, replay says {g}")
    if bad:
        fail(f"replay disagrees with {what} on {len(bad)} ports:\n" + "\n".join(bad[:40]))
    print(f"ok: {len(expected)} ports agree with {what}")


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("replay")
    parser.add_argument("--kind", required=True, choices=sorted(KINDS))
    parser.add_argument("--layout", required=True)
    parser.add_argument("--lab", required=True, type=int)
    parser.add_argument("--hosts", required=True)
    parser.add_argument("--ports", required=True)
    parser.add_argument("--nmap-xml")
    parser.add_argument("--live")
    args = parser.parse_args()

    hosts, ports = args.hosts.split(","), parse_ports(args.ports)
    proto = protocol(args.kind)
    got, host_lines = read_replay(args.replay, proto)
    if set(host_lines) != set(hosts):
        fail(f"host lines for {sorted(host_lines)}, expected {sorted(hosts)}")
    truth = expected_from_layout(load_layout(args.layout), args.lab, args.kind, hosts, ports)
    compare("layout.conf", truth, got)
    for ip, line in host_lines.items():
        counts = {}
        for (host, _), (state, _) in got.items():
            if host == ip:
                counts[state] = counts.get(state, 0) + 1
        listed = {k: v for k, v in line["counts"].items() if v}
        if listed != counts:
            fail(f"{ip}: host line counts {line['counts']} but ports say {counts}")
    print(f"ok: host lines of {len(host_lines)} hosts agree with their ports")
    if args.nmap_xml:
        compare("nmap -oX", read_nmap(args.nmap_xml, ports, proto), got, ignore_empty_reason=True)
    if args.live:
        if verdict_lines(args.live) != verdict_lines(args.replay):
            fail(f"replay output differs from the live scan's {args.live}")
        print("ok: replay's host and port lines are byte for byte the live scan's -oJ (in any order)")


def verdict_lines(path):
    """The host and port lines of a -oJ file, sorted: a live scan writes each host as it finishes,
    a replay in address order. A live scan's also has a "scan" line first (its seed, targets and
    shard, for merge) and a "summary" line last, which a replay has no value for. A host line's
    reason "user-set" is the live command's -Pn, which no packet in the capture shows."""
    with open(path, "rb") as f:
        lines = [line for line in f if json.loads(line).get("type") not in ("scan", "summary")]
    return sorted(line.replace(b'"reason":"user-set",', b"") if b'"status"' in line else line for line in lines)


if __name__ == "__main__":
    main()
