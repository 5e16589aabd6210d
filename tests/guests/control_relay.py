#!/usr/bin/env python3
"""Runs a guest process with a control channel that shell tests can reach.

    control_relay.py SOCKPATH CMD [ARGS...]

Makes a socket pair, passes one end to CMD as an inherited descriptor
(every "{fd}" in ARGS becomes its number: `--control-fd {fd}`), and relays
between the other end and one client at a time on the Unix socket
SOCKPATH. Everything CMD sends (answers, notifications) is also appended
to SOCKPATH.log. stdin/stdout/stderr are CMD's. Exits with CMD's status.

    control_relay.py --send SOCKPATH JSON    sends one line, prints the answer
"""
import os
import select
import socket
import subprocess
import sys


def send(path, line):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    s.sendall(line.encode() + b"\n")
    data = b""
    while b"\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    print(data.decode(errors="replace").strip())
    return 0 if data else 1


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--send":
        if len(sys.argv) != 4:
            sys.exit(__doc__)
        return send(sys.argv[2], sys.argv[3])
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, cmd = sys.argv[1], sys.argv[2:]
    ours, theirs = socket.socketpair()
    cmd = [a.replace("{fd}", str(theirs.fileno())) for a in cmd]
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)
    child = subprocess.Popen(cmd, pass_fds=(theirs.fileno(),))
    theirs.close()
    log = open(path + ".log", "ab", buffering=0)
    client = None
    try:
        while child.poll() is None:
            fds = [ours, listener] + ([client] if client else [])
            ready, _, _ = select.select(fds, [], [], 0.2)
            if listener in ready:
                conn, _ = listener.accept()
                if client:
                    client.close()
                client = conn
            if ours in ready:
                data = ours.recv(65536)
                if not data:
                    continue
                log.write(data)
                if client:
                    try:
                        client.sendall(data)
                    except OSError:
                        client.close()
                        client = None
            if client and client in ready:
                data = client.recv(65536)
                if data:
                    ours.sendall(data)
                else:
                    client.close()
                    client = None
    except KeyboardInterrupt:
        child.kill()
    finally:
        listener.close()
        if os.path.exists(path):
            os.unlink(path)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
