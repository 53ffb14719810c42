#!/usr/bin/env python3
"""bounce_ftpd.py: the services lab's pyftpdlib server: anonymous, read-only, PORT to any address (FTP bounce)."""
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main(argv):
    if len(argv) not in (3, 4) or not argv[1].isdigit():
        print("usage: bounce_ftpd.py PORT ROOT [ADDRESS]", file=sys.stderr)
        return 2
    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(argv[2], perm="elr")  # list and read only: ftp-writable's safe case

    class BounceHandler(FTPHandler):
        pass

    BounceHandler.authorizer = authorizer
    # The weakness the lab plants: PORT to a third host, and to its privileged ports, is obeyed.
    BounceHandler.permit_foreign_addresses = True
    BounceHandler.permit_privileged_ports = True
    # ADDRESS (an IPv6 one: a second server beside the IPv4 one), else every IPv4 address.
    server = FTPServer((argv[3] if len(argv) == 4 else "0.0.0.0", int(argv[1])), BounceHandler)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
