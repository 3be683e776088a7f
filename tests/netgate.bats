#!/usr/bin/env bats
# netgate: each rule form, allowed and denied, IPv4 and IPv6, TCP, UDP,
# ICMP and raw, with real servers in network namespaces joined by a veth
# pair (and their loopbacks). Clients run inside a test cgroup confined by
# `netgate attach`; the same client outside the cgroup is the control.

load netgate_lib

setup() {
	ng_setup
	two_ns
	mkcg "$TAG"
}

teardown() {
	ng_teardown
}

# probe from the client namespace, confined / unconfined
pc() { probe "$NSC" "$TAG" "$@"; }
pu() { in_ns "$NSC" python3 "$PROBE" "$@"; }

@test "network inet tcp: TCP over IPv4 only; refused at once otherwise" {
	profile p <<<"network inet tcp,"
	http_server "$NSV" 8080
	udp_server "$NSV" 5353
	wait_port "$NSV" 8080
	wait_port "$NSV" 5353 udp
	attach "$NSC" "$TAG" p
	expect ok pc tcp 10.99.0.2 8080
	expect ECONNREFUSED pc tcp fd99::2 8080
	expect EPERM pc udp 10.99.0.2 5353
	expect ok pu tcp fd99::2 8080
	expect ok pu udp 10.99.0.2 5353
	# fails at once, not after a timeout
	local t0=$SECONDS
	expect ECONNREFUSED pc tcp fd99::2 8080
	[ $((SECONDS - t0)) -le 1 ]
}

@test "network inet6 tcp: TCP over IPv6 only" {
	profile p <<<"network inet6 tcp,"
	tcp_server "$NSV" 8080
	wait_port "$NSV" 8080
	attach "$NSC" "$TAG" p
	expect ok pc tcp fd99::2 8080
	expect ECONNREFUSED pc tcp 10.99.0.2 8080
}

@test "network tcp: both families; UDP refused" {
	profile p <<<"network tcp,"
	tcp_server "$NSV" 8080
	udp_server "$NSV" 5353
	wait_port "$NSV" 8080
	attach "$NSC" "$TAG" p
	expect ok pc tcp 10.99.0.2 8080
	expect ok pc tcp fd99::2 8080
	expect EPERM pc udp fd99::2 5353
}

@test "network udp: UDP in both families; TCP refused" {
	profile p <<<"network udp,"
	tcp_server "$NSV" 8080
	udp_server "$NSV" 5353
	wait_port "$NSV" 8080
	wait_port "$NSV" 5353 udp
	attach "$NSC" "$TAG" p
	expect ok pc udp 10.99.0.2 5353
	expect ok pc udp fd99::2 5353
	expect ECONNREFUSED pc tcp 10.99.0.2 8080
	# ICMP errors about an allowed flow reach the socket (port unreachable)
	expect ECONNREFUSED pc udp 10.99.0.2 5999
	expect ECONNREFUSED pc udp fd99::2 5999
}

@test "network inet dgram: UDP over IPv4 only" {
	profile p <<<"network inet dgram,"
	udp_server "$NSV" 5353
	wait_port "$NSV" 5353 udp
	attach "$NSC" "$TAG" p
	expect ok pc udp 10.99.0.2 5353
	expect EPERM pc udp fd99::2 5353
}

@test "network inet raw and icmp: ICMP echo allowed or refused" {
	profile raw4 <<<"network inet raw,"
	profile icmp <<<"network icmp,"
	profile tcp <<<"network tcp,"
	attach "$NSC" "$TAG" raw4
	expect ok pc icmp 10.99.0.2
	expect EPERM pc icmp fd99::2
	attach "$NSC" "$TAG" icmp
	expect ok pc icmp 10.99.0.2
	expect ok pc icmp fd99::2
	attach "$NSC" "$TAG" tcp
	expect EPERM pc icmp 10.99.0.2
	expect EPERM pc icmp fd99::2
	expect ok pu icmp fd99::2
}

@test "deny wins over allow" {
	profile p <<'EOF2'
network tcp,
deny network tcp peer=(port=9999),
EOF2
	tcp_server "$NSV" 9998
	tcp_server "$NSV" 9999
	wait_port "$NSV" 9999
	attach "$NSC" "$TAG" p
	expect ok pc tcp 10.99.0.2 9998
	expect ok pc tcp fd99::2 9998
	expect ECONNREFUSED pc tcp 10.99.0.2 9999
	expect ECONNREFUSED pc tcp fd99::2 9999
	expect ok pu tcp 10.99.0.2 9999
}

@test "peer=(ip=...): one address allowed, its neighbour refused (IPv4, IPv6)" {
	profile p <<'EOF2'
network inet tcp peer=(ip=10.99.0.2),
network inet6 tcp peer=(ip=fd99::3),
EOF2
	tcp_server "$NSV" 8080
	wait_port "$NSV" 8080
	attach "$NSC" "$TAG" p
	expect ok pc tcp 10.99.0.2 8080
	expect ECONNREFUSED pc tcp 10.99.0.3 8080
	expect ok pc tcp fd99::3 8080
	expect ECONNREFUSED pc tcp fd99::2 8080
}

@test "peer=(port=lo-hi): inside the range allowed, outside refused" {
	profile p <<<"network tcp peer=(port=8000-8010),"
	tcp_server "$NSV" 8005
	tcp_server "$NSV" 8011
	wait_port "$NSV" 8011
	attach "$NSC" "$TAG" p
	expect ok pc tcp 10.99.0.2 8005
	expect ok pc tcp fd99::2 8005
	expect ECONNREFUSED pc tcp 10.99.0.2 8011
	expect ECONNREFUSED pc tcp fd99::2 8011
}

@test "peer port on UDP: one port allowed, another refused" {
	profile p <<<"network udp peer=(port=5353),"
	udp_server "$NSV" 5353
	udp_server "$NSV" 5354
	wait_port "$NSV" 5354 udp
	attach "$NSC" "$TAG" p
	expect ok pc udp 10.99.0.2 5353
	expect ok pc udp fd99::2 5353
	expect EPERM pc udp 10.99.0.2 5354
}

@test "ip= (local address): traffic from it allowed, from loopback refused" {
	profile p <<<"network inet tcp ip=10.99.0.1,"
	tcp_server "$NSV" 8080
	tcp_server "$NSC" 8081
	wait_port "$NSV" 8080
	wait_port "$NSC" 8081
	attach "$NSC" "$TAG" p
	expect ok pc tcp 10.99.0.2 8080
	expect ECONNREFUSED pc tcp 127.0.0.1 8081
	expect ok pu tcp 127.0.0.1 8081
}

@test "access connect: a client works, the same program cannot serve" {
	profile p <<<"network connect tcp,"
	tcp_server "$NSV" 8080
	wait_port "$NSV" 8080
	attach "$NSC" "$TAG" p
	attach "$NSV" "$TAG" p
	expect ok pc tcp 10.99.0.2 8080
	expect ok pc tcp fd99::2 8080
	# confined, ncat cannot even listen: bind() is refused (EPERM)
	run in_ns "$NSV" bash -c 'echo $$ >"$1/cgroup.procs" && exec timeout 5 ncat -l 9090' _ "$CGROOT/$TAG"
	[ "$status" -ne 0 ] && [[ "$output" == *"not permitted"* ]]
	expect EPERM probe "$NSV" "$TAG" bind-tcp :: 9090
}

@test "access (bind, listen, accept): a port the profile denies refuses connections (early demux on and off)" {
	# bind anywhere, but no listen/accept on 8081: the socket exists, and
	# the input hook refuses every connection to it
	profile p <<'EOF2'
network (bind, listen, accept) tcp,
deny network (listen, accept) tcp port=8081,
EOF2
	attach "$NSV" "$TAG" p
	bg probe "$NSV" "$TAG" listen-tcp :: 8080
	bg probe "$NSV" "$TAG" listen-tcp :: 8081
	wait_port "$NSV" 8080
	wait_port "$NSV" 8081
	for demux in 1 0; do
		in_ns "$NSV" sysctl -qw net.ipv4.tcp_early_demux=$demux
		expect ok pu tcp 10.99.0.2 8080
		expect ok pu tcp fd99::2 8080
		expect ECONNREFUSED pu tcp 10.99.0.2 8081
		expect ECONNREFUSED pu tcp fd99::2 8081
	done
	# the server's profile has no connect: it cannot call out
	tcp_server "$NSC" 7070
	wait_port "$NSC" 7070
	expect ECONNREFUSED probe "$NSV" "$TAG" tcp 10.99.0.1 7070
}

@test "UDP to a confined server: allowed port answers, denied port is unreachable" {
	profile p <<'EOF2'
network (bind, receive, send) udp,
deny network receive udp port=5354,
EOF2
	attach "$NSV" "$TAG" p
	bg probe "$NSV" "$TAG" echo-udp 5353
	bg probe "$NSV" "$TAG" echo-udp 5354
	wait_port "$NSV" 5353 udp
	wait_port "$NSV" 5354 udp
	expect ok pu udp 10.99.0.2 5353
	expect ok pu udp fd99::2 5353
	expect ECONNREFUSED pu udp 10.99.0.2 5354
	expect ECONNREFUSED pu udp fd99::2 5354
}

@test "bind() itself is refused (EPERM) for a port the profile does not allow" {
	profile p <<<"network (bind, listen, accept) tcp port=8080,"
	attach "$NSV" "$TAG" p
	expect ok probe "$NSV" "$TAG" bind-tcp :: 8080
	expect ok probe "$NSV" "$TAG" bind-tcp 10.99.0.2 8080
	expect EPERM probe "$NSV" "$TAG" bind-tcp :: 8081
	expect EPERM probe "$NSV" "$TAG" bind-tcp 0.0.0.0 8081
	expect EPERM probe "$NSV" "$TAG" bind-udp :: 8080
	# and a served port answers
	bg probe "$NSV" "$TAG" listen-tcp :: 8080
	wait_port "$NSV" 8080
	expect ok pu tcp 10.99.0.2 8080
	expect ok pu tcp fd99::2 8080
	# unconfined, the same binds work; detached, so do the confined ones
	expect ok in_ns "$NSV" python3 "$PROBE" bind-tcp :: 8081
	in_ns "$NSV" "$NETGATE" detach --cgroup "$TAG"
	expect ok probe "$NSV" "$TAG" bind-tcp :: 8081
}

@test "socket() is refused (EACCES) for a family or type the profile lacks" {
	profile p <<<"network inet stream,"
	x() { in_ns "$NSC" "$NETGATE" exec --policy "$WORK/pol" --profile p -- python3 "$PROBE" socket "$@"; }
	expect ok x inet stream
	expect EACCES x inet dgram
	expect EACCES x inet6 stream
	expect EACCES x unix stream
	expect EACCES x netlink raw
	expect EACCES x packet raw
	# and io_uring, which could create sockets
	run in_ns "$NSC" "$NETGATE" exec --policy "$WORK/pol" --profile p -- python3 -c '
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
p = ctypes.create_string_buffer(120)
r = libc.syscall(425, 1, p)
print("ok" if r >= 0 else errno.errorcode[ctypes.get_errno()])'
	[ "$output" = EACCES ]
}

@test "audit rules log and count; complain mode lets everything through" {
	profile a <<<"audit network inet tcp,"
	printf 'profile c flags=(complain) {\n}\n' >"$WORK/pol/c"
	tcp_server "$NSV" 8080
	wait_port "$NSV" 8080
	attach "$NSC" "$TAG" a
	expect ok pc tcp 10.99.0.2 8080
	run in_ns "$NSC" nft list table inet capgate
	[[ "$output" == *'log prefix "capgate AUDIT a" group 2718'* ]]
	[[ "$output" =~ counter\ packets\ [1-9] ]]
	attach "$NSC" "$TAG" c
	expect ok pc tcp 10.99.0.2 8080
	# sent (nothing listens: port unreachable), not dropped (EPERM)
	expect ECONNREFUSED pc udp 10.99.0.2 5353
	run in_ns "$NSC" nft list table inet capgate
	[[ "$output" == *'capgate ALLOWED c'* ]]
}

@test "a profile without network rules refuses everything" {
	printf 'profile n {\n  /tmp/** r,\n}\n' >"$WORK/pol/n"
	tcp_server "$NSV" 8080
	wait_port "$NSV" 8080
	attach "$NSC" "$TAG" n
	expect ECONNREFUSED pc tcp 10.99.0.2 8080
	expect EPERM pc udp 10.99.0.2 5353
	expect EPERM pc icmp 10.99.0.2
	expect ok pu tcp 10.99.0.2 8080
}

@test "netgate log writes AppArmor-format lines for denials and audit rules" {
	profile p <<'EOF2'
audit network inet tcp peer=(port=8080),
deny network inet tcp peer=(port=9998),
EOF2
	tcp_server "$NSV" 8080
	tcp_server "$NSV" 9998
	tcp_server "$NSV" 9999
	wait_port "$NSV" 9999
	bg in_ns "$NSC" "$NETGATE" log --log "$WORK/audit.log"
	sleep 0.3
	attach "$NSC" "$TAG" p
	expect ok pc tcp 10.99.0.2 8080
	expect ECONNREFUSED pc tcp 10.99.0.2 9999
	expect ECONNREFUSED pc tcp 10.99.0.2 9998
	for _ in $(seq 30); do grep -q 'fport=9999' "$WORK/audit.log" 2>/dev/null && break; sleep 0.1; done
	cat "$WORK/audit.log"
	grep -E '^type=AVC msg=audit\([0-9]+\.[0-9]{3}:[0-9]+\): apparmor="DENIED" operation="connect" class="net" error=-13 profile="p" laddr=10\.99\.0\.1 lport=[0-9]+ faddr=10\.99\.0\.2 fport=9999 family="inet" sock_type="stream" protocol="tcp"$' "$WORK/audit.log"
	grep -q 'apparmor="AUDIT" operation="connect" class="net" profile="p" .*fport=8080' "$WORK/audit.log"
	# a plain deny rule is quiet, as in AppArmor
	! grep -q 'fport=9998' "$WORK/audit.log" || false
}

@test "a socket made in the sandbox and passed out over a unix socket still meets the rules" {
	profile p <<<"network inet tcp peer=(port=8080),"
	tcp_server "$NSV" 8080
	tcp_server "$NSV" 8081
	wait_port "$NSV" 8081
	attach "$NSC" "$TAG" p
	cat >"$WORK/pass.py" <<'EOF2'
import os, socket, sys, errno
cg, port = sys.argv[1], int(sys.argv[2])
a, b = socket.socketpair()
if os.fork() == 0:
    with open(cg + "/cgroup.procs", "w") as f:
        f.write(str(os.getpid()))
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # made confined
    socket.send_fds(b, [b"x"], [s.fileno()])
    os._exit(0)
_, fds, _, _ = socket.recv_fds(a, 1, 1)
os.wait()
s = socket.socket(fileno=fds[0])  # used by an unconfined process
s.settimeout(3)
try:
    s.connect(("10.99.0.2", port)); print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, "TIMEOUT"))
EOF2
	expect ok in_ns "$NSC" python3 "$WORK/pass.py" "$CGROOT/$TAG" 8080
	expect ECONNREFUSED in_ns "$NSC" python3 "$WORK/pass.py" "$CGROOT/$TAG" 8081
	# and the profile (no unix rule) cannot make the unix socket that
	# would receive one from outside
	expect EACCES in_ns "$NSC" "$NETGATE" exec --policy "$WORK/pol" --profile p -- python3 "$PROBE" socket unix dgram
}
