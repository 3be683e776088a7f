#!/usr/bin/env bats
# netgate operations: idempotent attach/detach/list, atomic replacement
# under traffic, foreign tables untouched, stale bindings collected, nested
# cgroups, bad input, many bindings, and nothing left behind. Mostly in a
# network namespace of our own (its ruleset is ours alone); one test on the
# host's loopback.

load netgate_lib

setup() {
	ng_setup
	two_ns
	mkcg "$TAG"
}

teardown() {
	ng_teardown
}

ngc() { in_ns "$NSC" "$NETGATE" "$@"; }
pc() { probe "$NSC" "$TAG" "$@"; }
chains() { in_ns "$NSC" nft list table inet capgate 2>/dev/null | grep -c '^[[:space:]]*chain p' || true; }

@test "attach is idempotent, list reads the kernel back, detach twice, the table goes" {
	profile p <<<"network inet tcp,"
	ngc attach --policy "$WORK/pol" --cgroup "$TAG" --profile p
	ngc attach --policy "$WORK/pol" --cgroup "$CGROOT/$TAG" --profile p
	run ngc list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "/$TAG"$'\t'"p"$'\t'"id=$(stat -c %i "$CGROOT/$TAG") level=1 "* ]]
	[ "$(chains)" -eq 2 ]
	ngc detach --cgroup "$TAG"
	ngc detach --cgroup "$TAG"
	run in_ns "$NSC" nft list table inet capgate
	[ "$status" -ne 0 ]
	run ngc list
	[ "$status" -eq 0 ] && [ -z "$output" ]
}

@test "the same profile in two cgroups shares its chains" {
	profile p <<<"network inet tcp,"
	mkcg "$TAG/a"
	mkcg "$TAG/b"
	ngc attach --policy "$WORK/pol" --cgroup "$TAG/a" --profile p --cgroup "$TAG/b" --profile p
	run ngc list
	[ "${#lines[@]}" -eq 2 ]
	[ "$(chains)" -eq 2 ]
}

@test "a profile replaced under traffic: no moment of open access, no moment of refusal" {
	profile p <<'EOF2'
network tcp peer=(port=9998),
deny network tcp peer=(port=9999),
EOF2
	# same verdicts for 9998/9999, different rules (so different chains)
	profile q <<'EOF2'
network tcp peer=(port=9997),
network tcp peer=(port=9998),
deny network tcp peer=(port=9999),
EOF2
	tcp_server "$NSV" 9998
	tcp_server "$NSV" 9999
	wait_port "$NSV" 9999
	attach "$NSC" "$TAG" p
	cat >"$WORK/loop.py" <<'EOF2'
import socket, sys, time
res = {"9998 ok": 0, "9998 refused": 0, "9999 ok": 0, "9999 refused": 0}
end = time.time() + float(sys.argv[1])
while time.time() < end:
    for port in (9998, 9999):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(("10.99.0.2", port)); res["%d ok" % port] += 1
        except OSError:
            res["%d refused" % port] += 1
        s.close()
print(" ".join("%s=%d" % (k.replace(" ", "_"), v) for k, v in res.items()))
EOF2
	probe_loop() { in_ns "$NSC" bash -c 'echo $$ >"$1/cgroup.procs" && exec python3 "$2" 6' _ "$CGROOT/$TAG" "$WORK/loop.py" >"$WORK/loop.out"; }
	probe_loop &
	local loop=$!
	sleep 0.3
	local n=0 t0=$SECONDS
	while [ $((SECONDS - t0)) -lt 5 ]; do
		attach "$NSC" "$TAG" q
		attach "$NSC" "$TAG" p
		n=$((n + 2))
	done
	wait "$loop"
	cat "$WORK/loop.out"
	echo "replacements: $n"
	[ "$n" -ge 20 ]
	grep -q '9998_refused=0 ' "$WORK/loop.out"
	grep -q '9999_ok=0 ' "$WORK/loop.out"
	# and the loop really ran
	[ "$(sed -n 's/.*9998_ok=\([0-9]*\).*/\1/p' "$WORK/loop.out")" -ge 20 ]
	[ "$(chains)" -eq 2 ]
}

@test "a foreign table is left exactly as it was" {
	in_ns "$NSC" nft -f - <<'EOF2'
table inet foreign {
	set blocked { type ipv4_addr; elements = { 192.0.2.1 } }
	chain c { ip daddr @blocked counter drop; }
	chain out { type filter hook output priority 10; policy accept; ip daddr @blocked drop; }
}
EOF2
	local before after
	before=$(in_ns "$NSC" nft list table inet foreign)
	profile p <<<"network inet tcp,"
	profile q <<<"network inet udp,"
	tcp_server "$NSV" 8080
	wait_port "$NSV" 8080
	attach "$NSC" "$TAG" p
	expect ok pc tcp 10.99.0.2 8080
	attach "$NSC" "$TAG" q
	ngc detach --cgroup "$TAG"
	after=$(in_ns "$NSC" nft list table inet foreign)
	[ "$before" = "$after" ]
	run in_ns "$NSC" nft list table inet capgate
	[ "$status" -ne 0 ]
	in_ns "$NSC" nft delete table inet foreign
}

@test "bindings of cgroups that are gone are collected on the next attach" {
	profile p <<<"network inet tcp,"
	mkcg "$TAG/a"
	mkcg "$TAG/b"
	ngc attach --policy "$WORK/pol" --cgroup "$TAG/a" --profile p
	ngc attach --policy "$WORK/pol" --cgroup "$TAG/b" --profile p
	[ "$(ngc list | wc -l)" -eq 2 ]
	rmdir "$CGROOT/$TAG/b"
	ngc attach --policy "$WORK/pol" --cgroup "$TAG/a" --profile p
	run ngc list
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "/$TAG/a"* ]]
	# a cgroup made again under the old name is a new cgroup: not confined
	mkcg "$TAG/b"
	expect ok probe "$NSC" "$TAG/b" socket inet stream
	[ "$(ngc list | grep -c "/$TAG/b")" -eq 0 ]
}

@test "nested cgroups: the nearest confined ancestor decides" {
	profile web <<<"network tcp peer=(port=8080),"
	printf 'profile none {\n}\n' >"$WORK/pol/none"
	mkcg "$TAG/child"
	mkcg "$TAG/child/grand"
	mkcg "$TAG/other"
	tcp_server "$NSV" 8080
	tcp_server "$NSV" 8081
	wait_port "$NSV" 8081
	attach "$NSC" "$TAG" web
	attach "$NSC" "$TAG/child/grand" none
	expect ok probe "$NSC" "$TAG/child" tcp 10.99.0.2 8080
	expect ECONNREFUSED probe "$NSC" "$TAG/child" tcp 10.99.0.2 8081
	expect ECONNREFUSED probe "$NSC" "$TAG/child/grand" tcp 10.99.0.2 8080
	expect ok probe "$NSC" "$TAG/other" tcp 10.99.0.2 8080
	ngc detach --cgroup "$TAG/child/grand"
	expect ok probe "$NSC" "$TAG/child/grand" tcp 10.99.0.2 8080
}

@test "bad input is a clear error and changes nothing" {
	profile p <<<"network inet tcp,"
	printf 'profile bad {\n  network inet tcp port=99999,\n}\n' >"$WORK/bad"
	mkdir "$WORK/badpol" && mv "$WORK/bad" "$WORK/badpol/bad"
	run ngc attach --policy "$WORK/pol" --cgroup "$TAG/nonexistent" --profile p
	[ "$status" -ne 0 ] && [[ "$output" == *"No such file"* ]]
	run ngc attach --policy "$WORK/pol" --cgroup "$TAG" --profile nosuch
	[ "$status" -ne 0 ] && [[ "$output" == *"no profile nosuch"* ]]
	run ngc attach --policy "$WORK/badpol" --cgroup "$TAG" --profile bad
	[ "$status" -ne 0 ] && [[ "$output" == *"bad:2:"* ]]
	run ngc attach --policy "$WORK/pol" --cgroup "$TAG/../x" --profile p
	[ "$status" -ne 0 ] && [[ "$output" == *"Invalid argument"* ]]
	run ngc attach --policy "$WORK/pol" --cgroup "$TAG" --profile p --cgroup "$TAG"
	[ "$status" -ne 0 ]
	run ngc frobnicate
	[ "$status" -eq 2 ]
	run in_ns "$NSC" nft list table inet capgate
	[ "$status" -ne 0 ]
}

@test "many bindings in one transaction, and detach --all" {
	profile p <<<"network inet tcp,"
	profile q <<<"network inet udp,"
	for i in $(seq 300); do
		mkcg "$TAG/c$i"
		echo "$TAG/c$i $([ $((i % 2)) = 0 ] && echo p || echo q)"
	done >"$WORK/pairs"
	run ngc attach --policy "$WORK/pol" --from "$WORK/pairs" -v
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "$output" == *"300 binding(s)"*"1 tries"* ]]
	[ "$(ngc list | wc -l)" -eq 300 ]
	[ "$(chains)" -eq 4 ]
	tcp_server "$NSV" 8080
	wait_port "$NSV" 8080
	expect ok probe "$NSC" "$TAG/c2" tcp 10.99.0.2 8080
	expect ECONNREFUSED probe "$NSC" "$TAG/c3" tcp 10.99.0.2 8080
	# one bind program per distinct rule set, shared by its cgroups
	expect ok probe "$NSC" "$TAG/c2" bind-tcp 0.0.0.0 8090
	expect EPERM probe "$NSC" "$TAG/c2" bind-udp 0.0.0.0 8090
	expect EPERM probe "$NSC" "$TAG/c3" bind-tcp 0.0.0.0 8090
	expect ok probe "$NSC" "$TAG/c3" bind-udp 0.0.0.0 8090
	expect ok probe "$NSC" "$TAG/c299" bind-udp 0.0.0.0 8090
	expect EPERM probe "$NSC" "$TAG/c300" bind-udp 0.0.0.0 8090
	ngc detach --all
	run in_ns "$NSC" nft list table inet capgate
	[ "$status" -ne 0 ]
}

@test "concurrent attaches all land (a raced batch is retried, not lost)" {
	profile p <<<"network inet tcp,"
	profile q <<<"network inet udp,"
	local pids=() i
	for i in $(seq 16); do
		mkcg "$TAG/r$i"
		ngc attach --policy "$WORK/pol" --cgroup "$TAG/r$i" --profile $([ $((i % 2)) = 0 ] && echo p || echo q) &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	run ngc list
	echo "$output"
	[ "${#lines[@]}" -eq 16 ]
	[ "$(chains)" -eq 4 ]
	pids=()
	for i in $(seq 16); do
		ngc detach --cgroup "$TAG/r$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	run in_ns "$NSC" nft list table inet capgate
	[ "$status" -ne 0 ]
}

@test "host loopback: confined, then released, and nothing left behind" {
	local had=0
	nft list table inet capgate >/dev/null 2>&1 && had=1
	local port=$((20000 + RANDOM % 20000))
	bg socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'echo hi'
	bg socat "TCP-LISTEN:$((port + 1)),bind=127.0.0.1,reuseaddr,fork" SYSTEM:'echo hi'
	for _ in $(seq 50); do ss -Htln "sport = :$((port + 1))" | grep -q . && break; sleep 0.1; done
	profile p <<<"network inet tcp peer=(ip=127.0.0.1 port=$port),"
	"$NETGATE" attach --policy "$WORK/pol" --cgroup "$TAG" --profile p
	hp() { in_cg "$TAG" python3 "$PROBE" "$@"; }
	expect ok hp tcp 127.0.0.1 "$port"
	expect ECONNREFUSED hp tcp 127.0.0.1 $((port + 1))
	expect ECONNREFUSED hp tcp ::1 "$port"
	"$NETGATE" detach --cgroup "$TAG"
	expect ok hp tcp 127.0.0.1 $((port + 1))
	[ "$("$NETGATE" list | grep -c "/$TAG")" -eq 0 ]
	if [ "$had" = 0 ]; then
		run nft list table inet capgate
		[ "$status" -ne 0 ]
	fi
}
