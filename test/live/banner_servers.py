#!/usr/bin/env python3
"""Misbehaving and well-behaved TCP services for the conversation tests, run inside a lab namespace.

usage: banner_servers.py CERT KEY   (ports 4001-4008; prints "ready" once all listen)
"""
import socket
import ssl
import struct
import sys
import threading
import time

BANNER = b"SSH-2.0-FlagLab_1.0\r\n"
HOLD = 15  # seconds a connection is kept open when the service has nothing more to say


def banner(conn):
    conn.sendall(BANNER)
    time.sleep(HOLD)


def silent(conn):
    time.sleep(HOLD)


def accept_close(conn):
    pass  # closed at once: tcpwrapped


def flood(conn):
    chunk = b"F" * 65536
    for _ in range(160):  # 10 MB
        conn.sendall(chunk)
    time.sleep(HOLD)


def never_stop(conn):
    chunk = b"N" * 4096
    while True:
        conn.sendall(chunk)


def reset_mid_banner(conn):
    conn.sendall(b"220 half a ban")
    time.sleep(0.2)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def two_parts(conn):
    conn.sendall(b"220-first part\r\n")
    time.sleep(0.1)
    conn.sendall(b"220 second part\r\n")
    time.sleep(HOLD)


def tls_banner(conn, context):
    with context.wrap_socket(conn, server_side=True) as tls:
        tls.sendall(b"TLS-BANNER hello\r\n")
        time.sleep(HOLD)


def serve(port, handler):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(1024)

    def loop():
        while True:
            conn, _ = listener.accept()

            def run(c=conn):
                try:
                    handler(c)
                except (OSError, ssl.SSLError):
                    pass
                finally:
                    c.close()

            threading.Thread(target=run, daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def main():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    handlers = {4001: banner, 4002: silent, 4003: accept_close, 4004: flood, 4005: never_stop,
                4006: reset_mid_banner, 4007: lambda c: tls_banner(c, context), 4008: two_parts}
    for port, handler in handlers.items():
        serve(port, handler)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


main()
