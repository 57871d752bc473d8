#!/usr/bin/env python3
"""Capture Redis's own command metadata as data for redsql's command table.

Connects to a real redis-server (default 127.0.0.1:6379), switches to RESP3 and
writes the raw replies of `COMMAND INFO` and `COMMAND DOCS` (for every command
Redis knows) to src/commands/redis-commands.resp. redsql parses that file at
start-up: arity, flags, key positions, subcommands and the documentation shown by
`COMMAND DOCS` (and so redis-cli's hints) come from Redis itself.

Usage: tools/gen_command_table.py [port]
"""
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")


def raw_value(f):
    """Read one RESP3 value and return its raw bytes."""
    line = f.readline()
    t = line[:1]
    out = bytearray(line)
    if t in b"+-:_,#(":
        return bytes(out)
    if t in b"$=!":
        n = int(line[1:-2])
        if n >= 0:
            out += f.read(n + 2)
        return bytes(out)
    if t in b"*~>":
        n = int(line[1:-2])
        for _ in range(max(n, 0)):
            out += raw_value(f)
        return bytes(out)
    if t == b"%" or t == b"|":
        n = int(line[1:-2])
        for _ in range(2 * n):
            out += raw_value(f)
        return bytes(out)
    raise SystemExit("unexpected RESP type %r" % line)


def cmd(*args):
    req = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        req += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(req)
    return raw_value(f)


cmd("HELLO", "3")
version = cmd("INFO", "server").split(b"redis_version:")[1].split(b"\r\n")[0].decode()
info = cmd("COMMAND", "INFO")
docs = cmd("COMMAND", "DOCS")
path = "src/commands/redis-commands.resp"
with open(path, "wb") as out:
    out.write(info)
    out.write(docs)
print("wrote %s from Redis %s (%d + %d bytes)" % (path, version, len(info), len(docs)))

# Redis's configuration parameters and their defaults (CONFIG GET *), as
# tab-separated lines: redsql reports them and accepts CONFIG SET for them.
# Parameters that describe the machine (dir, pidfile, ...) are set by redsql itself.
cfg = cmd("CONFIG", "GET", "*")


def parse_flat(raw):
    # RESP3 map of bulk strings: %N then $len\r\nname\r\n$len\r\nvalue\r\n pairs.
    pos = raw.index(b"\r\n") + 2
    out = []
    while pos < len(raw):
        vals = []
        for _ in range(2):
            end = raw.index(b"\r\n", pos)
            n = int(raw[pos + 1:end])
            vals.append(raw[end + 2:end + 2 + n].decode())
            pos = end + 2 + n + 2
        out.append(vals)
    return sorted(out)


with open("src/server/redis-config.tsv", "w") as out:
    for name, value in parse_flat(cfg):
        out.write("%s\t%s\n" % (name, value))
print("wrote src/server/redis-config.tsv")
