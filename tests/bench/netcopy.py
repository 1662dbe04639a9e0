#!/usr/bin/env python3
"""Copy an images directory from one host to another over TCP, as a
migration's "copy the images" step would (tests/bench/migrate.sh): tar on
both ends, one connection, splice() between tar's pipe and the socket.

usage: netcopy.py recv PORT DIR        (returns once DIR is complete)
       netcopy.py send HOST PORT DIR   (after recv listens: it retries)
"""
import os
import socket
import subprocess
import sys
import time

CHUNK = 1 << 20


def pump(src_fd, dst_fd, to_socket):
    """Move everything from src_fd to dst_fd; one of them is a pipe."""
    while True:
        try:
            n = os.splice(src_fd, dst_fd, CHUNK)
        except OSError:  # no splice() for this pair: read and write
            data = os.read(src_fd, CHUNK)
            n = len(data)
            if n:
                view = memoryview(data)
                while view:
                    view = view[os.write(dst_fd, view):]
        if n == 0:
            return


def recv(port, dest):
    lsk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsk.bind(("0.0.0.0", port))
    lsk.listen(1)
    print("listening", flush=True)
    conn, _ = lsk.accept()
    lsk.close()
    tar = subprocess.Popen(["tar", "-x", "-C", dest, "-f", "-"], stdin=subprocess.PIPE)
    pump(conn.fileno(), tar.stdin.fileno(), False)
    tar.stdin.close()
    conn.close()
    return tar.wait()


def send(host, port, src):
    for _ in range(200):
        try:
            conn = socket.create_connection((host, port))
            break
        except OSError:
            time.sleep(0.01)
    else:
        print("netcopy: cannot connect to %s:%d" % (host, port), file=sys.stderr)
        return 1
    tar = subprocess.Popen(["tar", "-c", "-C", src, "-f", "-", "."], stdout=subprocess.PIPE)
    pump(tar.stdout.fileno(), conn.fileno(), True)
    conn.shutdown(socket.SHUT_WR)
    conn.close()
    return tar.wait()


def main(argv):
    if len(argv) == 4 and argv[1] == "recv":
        return recv(int(argv[2]), argv[3])
    if len(argv) == 5 and argv[1] == "send":
        return send(argv[2], int(argv[3]), argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
