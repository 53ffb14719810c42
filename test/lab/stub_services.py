#!/usr/bin/env python3
"""stub_services.py: the services lab's stand-ins for what no Debian daemon does (tcpwrapped, an SSH-1 banner)."""
import socket
import sys
import threading

USAGE = "usage: stub_services.py tcpwrapped:PORT | banner:PORT:TEXT ..."


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


def parse(arg):
    """'tcpwrapped:PORT' -> (PORT, None); 'banner:PORT:TEXT' -> (PORT, TEXT); None when malformed."""
    kind, _, rest = arg.partition(":")
    port, _, text = rest.partition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    if kind == "tcpwrapped" and not text:
        return int(port), None
    if kind == "banner" and text:
        return int(port), text
    return None


def main(argv):
    specs = [parse(a) for a in argv[1:]]
    if not specs or None in specs:
        print(USAGE, file=sys.stderr)
        return 2
    threads = []
    for port, banner in specs:
        sock = socket.create_server(("0.0.0.0", port), reuse_port=False)
        threads.append(threading.Thread(target=serve, args=(sock, banner), daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
