#!/usr/bin/env python3
"""stub_services.py: the services lab's stand-ins for what no Debian daemon does (tcpwrapped, an SSH-1 banner, an unknown UDP service)."""
import socket
import sys
import threading

USAGE = "usage: stub_services.py [--ipv6=ADDRESS] tcpwrapped:PORT | banner:PORT:TEXT | udp:PORT:TEXT ..."


def serve(sock, banner):
    """Accepts forever; tcpwrapped (banner None) closes at once, else sends BANNER CRLF and waits."""
    while True:
        conn, _ = sock.accept()
        if banner is None:
            conn.close()
            continue
        threading.Thread(target=talk, args=(conn, banner), daemon=True).start()


def talk(conn, banner):
    """Sends the banner, then reads until the client closes or 10 s pass in silence."""
    with conn:
        conn.settimeout(10)
        try:
            conn.sendall(banner.encode() + b"\r\n")
            while conn.recv(4096):
                pass
        except OSError:
            pass


def answer_datagrams(sock, text):
    """Answers every datagram that holds data with TEXT CRLF; an empty one (what a UDP scan sends
    to a port nmap-payloads does not list) gets nothing, so -sU says open|filtered and -sV open."""
    while True:
        data, peer = sock.recvfrom(65535)
        if data:
            sock.sendto(text.encode() + b"\r\n", peer)


def parse(arg):
    """'tcpwrapped:PORT' -> (tcpwrapped, PORT, None); 'banner:PORT:TEXT' and 'udp:PORT:TEXT' ->
    (kind, PORT, TEXT); None when malformed."""
    kind, _, rest = arg.partition(":")
    port, _, text = rest.partition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    if kind == "tcpwrapped" and not text:
        return kind, int(port), None
    if kind in ("banner", "udp") and text:
        return kind, int(port), text
    return None


def main(argv):
    """Each stub on 0.0.0.0, and with --ipv6=ADDRESS on that IPv6 address as well."""
    args = argv[1:]
    addresses = [(socket.AF_INET, "0.0.0.0")]
    if args and args[-1].startswith("--ipv6="):
        addresses.append((socket.AF_INET6, args.pop()[len("--ipv6="):]))
    specs = [parse(a) for a in args]
    if not specs or None in specs:
        print(USAGE, file=sys.stderr)
        return 2
    threads = []
    for (family, address) in addresses:
        for kind, port, text in specs:
            if kind == "udp":
                sock = socket.socket(family, socket.SOCK_DGRAM)
                sock.bind((address, port))
                threads.append(threading.Thread(target=answer_datagrams, args=(sock, text), daemon=True))
                continue
            sock = socket.create_server((address, port), family=family, reuse_port=False)
            threads.append(threading.Thread(target=serve, args=(sock, text), daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
