#!/usr/bin/env python3
"""netgate_probe: one network action, its outcome on stdout.

  tcp HOST PORT        connect (and read a line if the server sends one)
  udp HOST PORT        send a datagram, wait for the echo
  icmp HOST            ICMP echo over a raw socket
  socket FAMILY TYPE   create a socket (inet inet6 unix netlink packet;
                       stream dgram raw)
  listen-tcp HOST PORT serve: accept connections, answer "hi" (until killed)
  echo-udp PORT        serve: answer each datagram with "pong", IPv4 and IPv6
  bind-tcp HOST PORT   bind (and listen) a TCP socket
  bind-udp HOST PORT   bind a UDP socket
Prints "ok", or the errno name (ECONNREFUSED, EPERM, EACCES, ...), or
TIMEOUT; exits 0 only for ok. Times out after 3 s.
"""
import errno, socket, struct, sys, time

def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET

def out(r):
    print(r)
    sys.exit(0 if r == "ok" else 1)

def err(e):
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "TIMEOUT"
    return errno.errorcode.get(e.errno, str(e.errno))

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

def main(a):
    op = a[0]
    try:
        if op == "tcp":
            s = socket.socket(fam(a[1]), socket.SOCK_STREAM)
            s.settimeout(3)
            s.connect((a[1], int(a[2])))
            s.settimeout(0.5)
            try:
                s.recv(64)
            except (socket.timeout, TimeoutError):
                pass
            out("ok")
        if op == "udp":
            s = socket.socket(fam(a[1]), socket.SOCK_DGRAM)
            s.settimeout(3)
            s.connect((a[1], int(a[2])))
            s.send(b"ping\n")
            s.recv(64)
            out("ok")
        if op == "icmp":
            f = fam(a[1])
            v6 = f == socket.AF_INET6
            s = socket.socket(f, socket.SOCK_RAW,
                              socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
            s.settimeout(3)
            hdr = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, 0x4e47, 1) + b"netgate"
            if not v6:
                hdr = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
            s.sendto(hdr, (a[1], 0))
            end = time.time() + 3
            while time.time() < end:
                d = s.recv(1500)
                t = d[0] if v6 else d[(d[0] & 15) * 4]
                if t == (129 if v6 else 0):
                    out("ok")
            out("TIMEOUT")
        if op == "socket":
            fams = {"inet": socket.AF_INET, "inet6": socket.AF_INET6, "unix": socket.AF_UNIX,
                    "netlink": socket.AF_NETLINK, "packet": socket.AF_PACKET}
            types = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM,
                     "raw": socket.SOCK_RAW}
            socket.socket(fams[a[1]], types[a[2]])
            out("ok")
        if op == "listen-tcp":
            s = socket.socket(fam(a[1]), socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a[1], int(a[2])))
            s.listen(64)
            print("listening", flush=True)
            while True:
                c, _ = s.accept()
                try:
                    c.sendall(b"hi\n")
                except OSError:
                    pass
                c.close()
        if op in ("bind-tcp", "bind-udp"):
            s = socket.socket(fam(a[1]), socket.SOCK_STREAM if op == "bind-tcp" else socket.SOCK_DGRAM)
            s.bind((a[1], int(a[2])))
            out("ok")
        if op == "echo-udp":
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", int(a[1])))
            while True:
                d, peer = s.recvfrom(1500)
                try:
                    s.sendto(b"pong\n", peer)
                except OSError:
                    pass
    except OSError as e:
        out(err(e))
    out("usage")

main(sys.argv[1:])
