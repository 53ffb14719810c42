#!/usr/bin/env python3
"""detect_traffic.py: the benign lab traffic record-detect.sh captures (servers and clients).

Every address is given literally on the command line (no name is ever resolved); record-detect.sh
runs the servers inside the lab namespace and the clients on the host side of its veth, after
checking with `ip route get` that the server's address routes through that veth.

  serve-tcp ADDR PORT[,PORT...]   accept on each port; answer each line with "ok LINE", read to EOF
  serve-udp ADDR PORT             answer each datagram with a 48-byte NTP-like server reply
  ntp-client SRC DST PORT N GAP   N 48-byte NTP client requests (mode 3), GAP seconds apart
  dns-client SRC DST NAME...      one A query per name (UDP 53), waits for each answer
  ports-client SRC DST PORT,...   one short exchange per port ("hello", read "ok hello"), in order
  backup SRC DST PORT CHUNKS SIZE GAP   one connection sending CHUNKS x SIZE bytes, GAP s apart
  idle-sessions SRC DST PORT,... HOLD   one connection per port, one exchange each, then "ready";
                                  idle HOLD s with TCP keep-alives every second, then all closed
"""
import selectors
import socket
import struct
import sys
import time


def serve_tcp(addr, ports):
    sel = selectors.DefaultSelector()
    for port in ports.split(","):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, int(port)))
        s.listen(64)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "listen")
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data == "listen":
                conn, _ = key.fileobj.accept()
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, bytearray())
                continue
            conn, buf = key.fileobj, key.data
            try:
                data = conn.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(conn)
                conn.close()
                continue
            buf += data
            while b"\n" in buf:
                line, _, rest = bytes(buf).partition(b"\n")
                buf[:] = rest
                conn.sendall(b"ok " + line + b"\n")


def serve_udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(2048)
        # RFC 5905: LI 0, version 4, mode 4 (server), stratum 2; the client's transmit time
        # echoed as the origin timestamp.
        origin = data[40:48] if len(data) >= 48 else bytes(8)
        now = int((time.time() + 2208988800) * 2**32)
        reply = bytes([0x24, 2, 6, 0xEC]) + bytes(12) + struct.pack("!Q", now) + origin
        s.sendto(reply + struct.pack("!QQ", now, now), peer)


def ntp_client(src, dst, port, count, gap):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(2)
    for _ in range(int(count)):
        now = int((time.time() + 2208988800) * 2**32)
        s.sendto(bytes([0x23]) + bytes(39) + struct.pack("!Q", now), (dst, int(port)))
        try:
            s.recvfrom(2048)
        except socket.timeout:
            pass
        time.sleep(float(gap))


def dns_query(qid, name):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + struct.pack("!HH", 1, 1)


def dns_client(src, dst, names):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for i, name in enumerate(names):
        # A resolver library opens a new socket (a new source port) per lookup.
        s.close()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.settimeout(2)
        s.sendto(dns_query(0x1000 + i, name), (dst, 53))
        try:
            s.recvfrom(2048)
        except socket.timeout:
            pass
        time.sleep(0.02)


def ports_client(src, dst, ports):
    for port in ports.split(","):
        with socket.create_connection((dst, int(port)), timeout=3, source_address=(src, 0)) as c:
            c.sendall(b"hello\n")
            c.recv(100)
        time.sleep(0.05)


def backup(src, dst, port, chunks, size, gap):
    with socket.create_connection((dst, int(port)), timeout=5, source_address=(src, 0)) as c:
        block = b"b" * (int(size) - 1) + b"\n"
        for _ in range(int(chunks)):
            c.sendall(block)
            time.sleep(float(gap))
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass


def idle_sessions(src, dst, ports, hold):
    conns = []
    for port in ports.split(","):
        c = socket.create_connection((dst, int(port)), timeout=3, source_address=(src, 0))
        c.sendall(b"hello\n")
        c.recv(100)
        # Linux TCP keep-alive (tcp(7)): a bare ACK with seq - 1 after 1 s idle, then every second.
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        conns.append(c)
    print("ready", flush=True)
    time.sleep(float(hold))
    for c in conns:
        c.close()
        time.sleep(0.02)


def main(argv):
    commands = {
        "serve-tcp": (serve_tcp, 2), "serve-udp": (serve_udp, 2), "ntp-client": (ntp_client, 5),
        "ports-client": (ports_client, 3), "backup": (backup, 6), "idle-sessions": (idle_sessions, 4),
    }
    if len(argv) >= 4 and argv[1] == "dns-client":
        dns_client(argv[2], argv[3], argv[4:])
        return 0
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    commands[argv[1]][0](*argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
