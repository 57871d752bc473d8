#!/usr/bin/env python3
"""Client-side helpers for bench/scale.sh (plain sockets, no dependencies).

    scale_tools.py load PORT N [CONNS]   SET key:%012d (100-byte values) for i in 0..N, pipelined
    scale_tools.py idle PORT N           hold N connections open (each answered one PING),
                                         print "ready", wait for SIGTERM
    scale_tools.py probe PORT KEY        GET KEY in a loop until SIGTERM, then print "max_gap_ms
                                         p99_ms gets worst_end_unix_time" (gap: between two replies)
    scale_tools.py discard PORT ARG...   send one command, read its whole reply without keeping
                                         it, print "seconds bytes"
    scale_tools.py start PORT CMD...     start CMD (a server on PORT) and print "PID MS": its
                                         process id, and the milliseconds until PING answered

Keys are named like redis-benchmark's `key:__rand_int__`, so `redis-benchmark
-r N -t get` reads the keys `load` wrote.
"""

import os
import selectors
import signal
import socket
import subprocess
import sys
import time

VALUE = (b"0123456789" * 10)[:100]


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def load(port, n, conns=4, chunk=2000):
    """Pipelines chunks of SETs on `conns` connections; each waits for its
    chunk's replies (+OK\\r\\n each) before sending the next."""
    head = b"*3\r\n$3\r\nSET\r\n$16\r\nkey:"
    tail = b"\r\n$100\r\n" + VALUE + b"\r\n"
    sel = selectors.DefaultSelector()
    nxt = 0
    pending = {}

    def send_next(s):
        nonlocal nxt
        if nxt >= n:
            return False
        hi = min(n, nxt + chunk)
        s.sendall(b"".join(head + b"%012d" % i + tail for i in range(nxt, hi)))
        pending[s] = 5 * (hi - nxt)
        nxt = hi
        return True

    socks = [connect(port) for _ in range(conns)]
    for s in socks:
        if send_next(s):
            sel.register(s, selectors.EVENT_READ)
    t0 = time.time()
    while pending:
        for key, _ in sel.select():
            s = key.fileobj
            data = s.recv(1 << 20)
            if not data:
                sys.exit("server closed the connection")
            if data[:1] != b"+":
                sys.exit("unexpected reply: %r" % data[:200])
            pending[s] -= len(data)
            if pending[s] <= 0:
                del pending[s]
                if not send_next(s):
                    sel.unregister(s)
    print("%.1f" % (time.time() - t0))


def idle(port, n):
    socks = []
    for _ in range(n):
        socks.append(connect(port))
    for s in socks:
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
    for s in socks:
        got = b""
        while not got.endswith(b"\r\n"):
            chunk = s.recv(64)
            if not chunk:
                sys.exit("connection closed: %r" % got)
            got += chunk
        if got != b"+PONG\r\n":
            sys.exit("unexpected reply: %r" % got)
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        signal.pause()


def read_reply(f):
    line = f.readline()
    if line[:1] == b"$":
        n = int(line[1:-2])
        if n >= 0:
            f.read(n + 2)
    elif line[:1] == b"-":
        sys.exit("error reply: %r" % line)
    return line


def probe(port, key):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = connect(port)
    f = s.makefile("rb")
    req = resp("GET", key)
    gaps = []
    worst, worst_at = 0.0, 0.0
    last = time.perf_counter()
    while not stop:
        s.sendall(req)
        read_reply(f)
        now = time.perf_counter()
        if now - last > worst:
            worst, worst_at = now - last, time.time()
        gaps.append(now - last)
        last = now
    gaps.sort()
    p99 = gaps[int(len(gaps) * 0.99)] if gaps else 0
    over5 = sum(1 for g in gaps if g > 0.005)
    # The Unix time at which the longest gap ended, to place it in a timeline;
    # then how many gaps were longer than 5 ms.
    print("%.1f %.2f %d %.3f %d" % (1000 * worst, 1000 * p99, len(gaps), worst_at, over5))


def discard(port, args):
    s = connect(port)
    t0 = time.perf_counter()
    # QUIT behind the command: the server closes the connection after both replies.
    s.sendall(resp(*args) + resp("QUIT"))
    total = 0
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        total += len(chunk)
    print("%.2f %d" % (time.perf_counter() - t0, total))


def start(port, cmd):
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd)
    while child.poll() is None:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            if s.recv(64) == b"+PONG\r\n":
                print(child.pid, "%.0f" % (1000 * (time.perf_counter() - t0)))
                return
        except OSError:
            pass
        time.sleep(0.002)
    sys.exit("server exited with status %d" % child.returncode)


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    rest = sys.argv[3:]
    if cmd == "load":
        load(port, int(rest[0]), int(rest[1]) if len(rest) > 1 else 4)
    elif cmd == "idle":
        idle(port, int(rest[0]))
    elif cmd == "probe":
        probe(port, rest[0])
    elif cmd == "discard":
        discard(port, rest)
    elif cmd == "start":
        start(port, rest)
    else:
        sys.exit(__doc__)
    os._exit(0)


if __name__ == "__main__":
    main()
