#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# capgate exec end to end: real programs under real profiles. The seeds'
# sample profile for a program foo (child profile, ^bar hat, px/Px/ux/ix/Cx
# transitions) is realized with small scripts; capabilities, rlimits, m,
# attachment, complain mode, exit codes, signals and cleanup after kill -9.
# Each test owns $W (on tmpfs) and cleans up in teardown, also on failure.

CAPGATE="$BATS_TEST_DIRNAME/../build/bin/capgate"
SRC="$BATS_TEST_DIRNAME/.."

cg_root() { awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts; }

setup_file() {
	export HW
	HW=$(mktemp -d /dev/shm/capgate-exec-bin.XXXXXX)
	cc -O -o "$HW/helper" "$SRC/tests/exec_helper.c"
	cc -shared -fPIC -o "$HW/preload.so" "$SRC/tests/exec_preload.c"
}

teardown_file() {
	rm -rf "$HW"
}

setup() {
	W=$(mktemp -d /dev/shm/capgate-exec.XXXXXX)
	chmod 755 "$W"
	mkdir -p "$W/pol" "$W/bin" "$W/data" "$W/www"
	cp -R "$SRC/policies/tunables" "$SRC/policies/abstractions" "$W/pol/"
	cp "$HW/helper" "$HW/preload.so" "$W/"
	LOG="$W/log"
	PIDS=()
	# A script that reports its cgroup label, environment and capabilities.
	cat >"$W/bin/show" <<'EOF'
#!/bin/sh
echo "cg=$(sed -n 's|^0::/capgate/[0-9]*-[0-9]*||p' /proc/self/cgroup)"
echo "LD_PRELOAD=${LD_PRELOAD-unset} TMPDIR=${TMPDIR-unset}"
echo "caps=$(sed -n 's/^CapEff:\t//p' /proc/self/status)"
EOF
	for t in ix px Px ux cx pix bar none; do cp "$W/bin/show" "$W/bin/${t}_t"; done
	cat >"$W/bin/foo" <<'EOF'
#!/bin/sh
exec "$@"
EOF
	chmod 755 "$W"/bin/*
	cat >"$W/pol/foo" <<EOF
#include <tunables/global>
# The seeds' sample, for a program foo.
profile foo $W/bin/foo {
  #include <abstractions/base>
  capability chown,
  /usr/bin/dash mrix,
  /usr/bin/{cat,env,sed,grep} mrix,
  $W/bin/foo r,
  $W/helper mrix,
  $W/bin/ix_t rix,
  $W/bin/px_t px -> target,
  $W/bin/Px_t Px -> target,
  $W/bin/ux_t ux,
  $W/bin/cx_t Cx -> child,
  $W/bin/pix_t rpix,
  $W/data/ r,
  $W/data/** rw,
  $W/preload.so mr,
  @{PROC}/@{pid}/cgroup r,

  profile child {
    #include <abstractions/base>
    /usr/bin/{dash,sed} mrix,
    $W/bin/cx_t r,
    @{PROC}/@{pid}/cgroup r,
  }

  ^bar {
    #include <abstractions/base>
    /usr/bin/dash mrix,
    $W/bin/bar_t px -> target,
  }
}
profile target {
  #include <abstractions/base>
  /usr/bin/{dash,sed} mrix,
  $W/bin/*_t r,
  $W/preload.so mr,
  @{PROC}/@{pid}/cgroup r,
}
profile caps_none {
  #include <abstractions/base>
  network inet stream,
  $W/helper mrix,
  $W/data/** rw,
}
profile caps_some {
  #include <abstractions/base>
  capability chown,
  capability net_bind_service,
  capability dac_override,
  network inet stream,
  $W/helper mrix,
  $W/data/** rw,
}
profile limits {
  #include <abstractions/base>
  set rlimit nofile <= 100,
  $W/helper mrix,
}
profile nom {
  #include <abstractions/base>
  /usr/bin/dash mrix,
  $W/preload.so r,
}
profile ixfast {
  #include <abstractions/base>
  /usr/bin/dash mrix,
  /usr/bin/true mrix,
  /usr/bin/false mr,
}
profile ixslow {
  /etc/ld.so.cache r,
  /{usr/,}lib{,32,64,x32}/** mr,
  /{usr/,}lib/@{multiarch}/** mr,
  /dev/null rw,
  /usr/bin/dash mrix,
  /usr/bin/true mrix,
}
profile userns {
  #include <abstractions/base>
  userns,
  $W/helper mrix,
}
EOF
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	# a shared fsgate of this test's policy left lingering by a failed
	# test: stop it and remove what a killed one leaves (socket, cgroup)
	local left
	left=$(pgrep -af "fsgate --serve .*--policy $W/pol" | sed -n 's/.*--serve \([^ ]*\).*/\1/p')
	if [ -n "$left" ]; then
		pkill -9 -f "fsgate --serve .*--policy $W/pol"
		sleep 0.3
		for s in $left; do
			rm -f "$s"
			rmdir "$(cg_root)/capgate/$(basename "$s" .sock)" 2>/dev/null
		done
		rmdir "$(cg_root)/capgate" 2>/dev/null
	fi
	rm -rf "$W"
}

cx() { # cx PROFILE PROGRAM...: run confined, log to $LOG
	local prof=$1
	shift
	"$CAPGATE" exec --policy "$W/pol" --profile "$prof" --log "$LOG" -- "$@"
}

@test "exit status is the program's; 127 not found, 126 cannot execute, 125 launcher errors" {
	run cx foo /usr/bin/dash -c 'exit 42'
	[ "$status" -eq 42 ]
	run cx foo /usr/bin/dash -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
	run -127 cx foo "$W/nonexistent"
	chmod 644 "$W/bin/none_t"
	run cx foo "$W/bin/none_t"
	[ "$status" -eq 126 ]
	# Not a regular file: refused, and nothing (init's prefetch) hangs on it.
	mkfifo "$W/bin/fifo_t"
	run timeout 20 "$CAPGATE" exec --policy "$W/pol" --profile foo --log "$LOG" -- "$W/bin/fifo_t"
	[ "$status" -eq 126 ]
	run cx no_such_profile /usr/bin/true
	[ "$status" -eq 125 ]
	[[ "$output" == *"no profile named 'no_such_profile'"* ]]
	echo "profile broken { /x rw a, }" >"$W/pol/broken"
	run cx foo /usr/bin/true
	[ "$status" -eq 125 ]
	rm "$W/pol/broken"
	run "$CAPGATE" exec --policy "$W/pol"
	[ "$status" -eq 125 ]
}

@test "files: allowed and denied, with the AppArmor line" {
	echo hi >"$W/data/ok"
	echo secret >"$W/secret"
	run cx foo /usr/bin/cat "$W/data/ok"
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	run cx foo /usr/bin/cat "$W/secret"
	[ "$status" -eq 1 ]
	grep -q "apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"foo\" name=\"$W/secret\".*requested_mask=\"r\" denied_mask=\"r\"" "$LOG"
}

@test "fresh /proc in a pid namespace, /sys read-only, /dev has only allowed nodes" {
	run cx foo "$W/helper" pid
	[ "$output" = 2 ]
	run cx foo /usr/bin/dash -c 'echo x > /sys/kernel/mm/ksm/run'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	run cx foo /usr/bin/dash -c 'echo > /dev/null && echo null-ok; test -e /dev/sda && echo sda; test -e /dev/mem && echo mem; true'
	[ "$output" = null-ok ]
	run cx foo /usr/bin/dash -c 'echo 0 > /sys/fs/cgroup/unified/cgroup.procs'
	[ "$status" -ne 0 ]
}

@test "ix inherits the profile and keeps the environment" {
	run env LD_PRELOAD= TMPDIR=/x "$CAPGATE" exec --policy "$W/pol" --profile foo -- "$W/bin/foo" "$W/bin/ix_t"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "cg=" ]]
	[[ "${lines[1]}" == *"TMPDIR=/x" ]]
	[[ "${lines[2]}" == "caps=0000000000000001" ]]
}

@test "ix of an ELF program whose loader has x needs no exec stop; without x on the loader it takes one" {
	# The ix execs of true run directly (fsgate checks x on the program
	# and ld.so) or through the exec window. So does the launcher's own
	# first exec (dash): when the profile gives it ix as well, the
	# program is born in the instance cgroup; else it enters at that
	# exec's stop (a transition).
	run env CAPGATE_DEBUG=1 "$CAPGATE" exec --policy "$W/pol" --profile ixfast -- /usr/bin/dash -c '/usr/bin/true && /usr/bin/true && echo ok'
	[ "$status" -eq 0 ]
	[[ "$output" == *ok* ]]
	[[ "$output" == *"supervised 3 execs (0 transitions)"* ]]
	# a first program without x in its profile still runs (the launcher's
	# exec, as aa-exec's), through a transition
	run env CAPGATE_DEBUG=1 "$CAPGATE" exec --policy "$W/pol" --profile ixfast -- /usr/bin/false
	[ "$status" -eq 1 ]
	[[ "$output" == *"supervised 1 execs (1 transitions)"* ]]
	run env CAPGATE_DEBUG=1 "$CAPGATE" exec --policy "$W/pol" --profile ixslow -- /usr/bin/dash -c '/usr/bin/true && /usr/bin/true && echo ok'
	[ "$status" -eq 0 ]
	[[ "$output" == *ok* ]]
	[[ "$output" == *"supervised 3 execs (3 transitions)"* ]]
	# no x: still refused, with the line
	run cx ixfast /usr/bin/dash -c '/usr/bin/false'
	[ "$status" -eq 126 ]
	grep -q "operation=\"exec\" class=\"file\" error=-13 profile=\"ixfast\" name=\"/usr/bin/false\"" "$LOG"
}

@test "ix: a symlink swapped between a program with x and one without never runs the latter" {
	# The supervisor decides on the path it resolves; fsgate's check of
	# the kernel's own exec open is what stops the swapped-in program.
	mkdir -p "$W/d" && chmod 777 "$W/d"
	printf '#include <fcntl.h>\n#include <unistd.h>\nint main(void){int fd=open("%s/d/BAD_RAN",O_CREAT|O_WRONLY,0644);return fd<0;}\n' "$W" >"$W/bad.c"
	cc -O -o "$W/bad" "$W/bad.c"
	cp /usr/bin/true "$W/good"
	cat >"$W/pol/race" <<EOF
#include <tunables/global>
profile race {
  #include <abstractions/base>
  /usr/bin/{dash,ln} mrix,
  $W/good mrix,
  $W/bad mr,
  $W/d/ rw,
  $W/d/** rwl,
}
EOF
	run cx race /usr/bin/dash -c "
( i=0; while [ \$i -lt 1200 ]; do ln -sfn $W/good $W/d/l; ln -sfn $W/bad $W/d/l; i=\$((i+1)); done ) &
ok=0; i=0; while [ \$i -lt 600 ]; do $W/d/l 2>/dev/null && ok=\$((ok+1)); i=\$((i+1)); done; wait; echo ok=\$ok"
	[ "$status" -eq 0 ]
	[[ "$output" == ok=* ]]
	[ "${output#ok=}" -gt 0 ] # good ran
	[ ! -e "$W/d/BAD_RAN" ]   # bad never did
}

@test "px moves to the target profile and keeps LD_PRELOAD; Px scrubs it" {
	# foo sets LD_PRELOAD itself (not the launcher's environment, which
	# would preload into capgate too)
	run env TMPDIR=/x "$CAPGATE" exec --policy "$W/pol" --profile foo -- "$W/bin/foo" /usr/bin/env LD_PRELOAD="$W/preload.so" "$W/bin/px_t"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cg=/target"* ]]
	[[ "$output" == *"LD_PRELOAD=$W/preload.so TMPDIR=/x"* ]]
	[[ "$output" == *PRELOADED* ]]
	[[ "$output" == *"caps=0000000000000000"* ]] # target has no capability
	run env TMPDIR=/x "$CAPGATE" exec --policy "$W/pol" --profile foo -- "$W/bin/foo" /usr/bin/env LD_PRELOAD="$W/preload.so" "$W/bin/Px_t"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cg=/target"* ]]
	[[ "$output" == *"LD_PRELOAD=unset TMPDIR=unset"* ]]
	[[ "$output" != *PRELOADED* ]]
}

@test "ux runs unconfined, Cx enters the child profile (scrubbed), pix falls back to inherit" {
	run env TMPDIR=/x "$CAPGATE" exec --policy "$W/pol" --profile foo -- "$W/bin/foo" "$W/bin/ux_t"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cg=.ux"* ]]
	[[ "$output" == *"TMPDIR=/x"* ]]
	run env TMPDIR=/x "$CAPGATE" exec --policy "$W/pol" --profile foo -- "$W/bin/foo" "$W/bin/cx_t"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cg=/foo%2f%2fchild"* ]]
	[[ "$output" == *"TMPDIR=unset"* ]]
	run cx foo "$W/bin/foo" "$W/bin/pix_t"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cg="$'\n'* ]]
}

@test "exec without x is denied with an exec line; px to a missing profile is denied" {
	run cx foo "$W/bin/foo" "$W/bin/none_t"
	[ "$status" -eq 126 ]
	grep -q "operation=\"exec\" class=\"file\" error=-13 profile=\"foo\" name=\"$W/bin/none_t\"" "$LOG"
	sed -i 's/px -> target,/px -> missing,/' "$W/pol/foo"
	run cx foo "$W/bin/foo" "$W/bin/px_t"
	[ "$status" -eq 126 ]
	grep -q "info=\"profile not found\"" "$LOG"
}

@test "socket() of a family or type the profile lacks: EACCES and a create line" {
	# caps_none: network inet stream only
	run cx caps_none "$W/helper" socket 2 1 0
	[ "$output" = ok ]
	run cx caps_none "$W/helper" socket 2 2 17
	[ "$output" = "fail EACCES" ]
	grep -q 'apparmor="DENIED" operation="create" class="net" error=-13 profile="caps_none" .*comm="helper" family="inet" sock_type="dgram" protocol=17 requested_mask="create" denied_mask="create"' "$LOG"
	run cx caps_none "$W/helper" socket 10 1 6
	[ "$output" = "fail EACCES" ]
	grep -q 'operation="create" .*family="inet6" sock_type="stream" protocol=6' "$LOG"
	[ "$(grep -c 'operation="create"' "$LOG")" -eq 2 ]
}

@test "the ^bar hat's px transition" {
	run cx foo//bar /usr/bin/dash -c "$W/bin/bar_t"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cg=/target"* ]]
}

@test "capability chown, net_bind_service and dac_override: present and absent" {
	echo x >"$W/data/f"
	echo private >"$W/data/p" && chmod 600 "$W/data/p" && chown 65534 "$W/data/p"
	run cx caps_some "$W/helper" chown "$W/data/f"
	[ "$output" = ok ]
	run cx caps_none "$W/helper" chown "$W/data/f"
	[ "$output" = "fail EPERM" ]
	run cx caps_some "$W/helper" bind 80
	[ "$output" = ok ]
	run cx caps_none "$W/helper" bind 80
	[ "$output" = "fail EACCES" ]
	run cx caps_some "$W/helper" read "$W/data/p"
	[ "$output" = ok ]
	run cx caps_none "$W/helper" read "$W/data/p"
	[ "$output" = "fail EACCES" ]
	# and no exec gives them back: the sets are empty even for root
	run cx caps_none /usr/bin/grep Cap /proc/self/status
	[[ "$output" != *ffff* ]]
}

@test "set rlimit nofile lowers the limit" {
	run cx limits "$W/helper" nofile
	[ "$output" = "100 100" ]
}

@test "m: a library without m cannot be mapped executable" {
	run cx nom /usr/bin/dash -c "LD_PRELOAD=$W/preload.so exec /usr/bin/dash -c true"
	[[ "$output" == *"failed to map segment"* ]]
	[[ "$output" != *PRELOADED* ]]
	grep -q "operation=\"file_mmap\" class=\"file\".*profile=\"nom\" name=\"$W/preload.so\".*requested_mask=\"m\"" "$LOG"
	run cx target /usr/bin/dash -c "LD_PRELOAD=$W/preload.so exec /usr/bin/dash -c true"
	[[ "$output" == *PRELOADED* ]]
}

@test "no user namespaces unless allowed; no mount; clone3 is ENOSYS; no TIOCSTI" {
	run cx caps_none "$W/helper" userns
	[ "$output" = "fail EPERM" ]
	run cx userns "$W/helper" userns
	[ "$output" = ok ]
	run cx caps_some "$W/helper" mount
	[ "$output" = "fail EPERM" ]
	run cx caps_none "$W/helper" clone3
	[ "$output" = "fail ENOSYS" ]
}

@test "attachment by path picks the profile" {
	run "$CAPGATE" exec --policy "$W/pol" --log "$LOG" -- "$W/bin/foo" /usr/bin/cat /etc/shadow
	[ "$status" -eq 1 ]
	grep -q "profile=\"foo\" name=\"/etc/shadow\"" "$LOG"
	run "$CAPGATE" exec --policy "$W/pol" -- /usr/bin/true
	[ "$status" -eq 125 ]
	[[ "$output" == *"no profile"*"attaches to /usr/bin/true"* ]]
}

@test "complain mode: everything runs, would-be denials logged ALLOWED" {
	run "$CAPGATE" exec --complain --policy "$W/pol" --profile foo --log "$LOG" -- /usr/bin/dash -c "cat /etc/hostname >/dev/null && $W/bin/none_t >/dev/null && echo fine"
	[ "$status" -eq 0 ]
	[ "$output" = fine ]
	grep -q 'apparmor="ALLOWED" operation="open".*name="/etc/hostname"' "$LOG"
	grep -q "apparmor=\"ALLOWED\" operation=\"exec\".*name=\"$W/bin/none_t\"" "$LOG"
}

@test "complain mode: a would-be network denial connects and is logged ALLOWED" {
	local p=18392
	python3 -c 'import socket,sys,time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(30)' "$p" &
	PIDS+=($!)
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.05; done
	# netto allows one other port only: enforced, the connect is refused
	cat >"$W/pol/net" <<EOF
#include <tunables/global>
profile netto {
  #include <abstractions/base>
  network inet stream peer=(ip=127.0.0.1 port=1),
  $W/helper mrix,
}
EOF
	run cx netto "$W/helper" connect $p
	[ "$output" = "fail ECONNREFUSED" ]
	grep -q "apparmor=\"DENIED\" operation=\"connect\" class=\"net\".*profile=\"netto\".*fport=$p" "$LOG"
	run "$CAPGATE" exec --complain --policy "$W/pol" --profile netto --log "$LOG" -- "$W/helper" connect $p
	[ "$output" = ok ]
	grep -q "apparmor=\"ALLOWED\" operation=\"connect\" class=\"net\".*profile=\"netto\".*fport=$p" "$LOG"
}

@test "signals are forwarded" {
	"$CAPGATE" exec --policy "$W/pol" --profile foo -- /usr/bin/dash -c 'trap "echo got-term; exit 7" TERM; while :; do sleep 0.05 2>/dev/null || :; done' >"$W/out" 2>&1 &
	local l=$!
	PIDS+=("$l")
	sleep 0.5
	kill -TERM "$l"
	local st=0
	wait "$l" || st=$?
	[ "$st" -eq 7 ]
	grep -q got-term "$W/out"
}

@test "signals the caller ignores stay ignored in the program (nohup), as after a plain exec" {
	# SIGHUP (bit 0) and SIGQUIT (bit 2) ignored by the caller, SIGINT not
	run bash -c 'trap "" HUP QUIT; exec "$0" exec --policy "$1/pol" --profile foo -- /usr/bin/dash -c "grep SigIgn /proc/self/status"' "$CAPGATE" "$W"
	[ "$status" -eq 0 ]
	local ign=$((16#$(echo "$output" | awk '/SigIgn/ { print $2 }')))
	[ $((ign & 1)) -eq 1 ] && [ $((ign & 4)) -eq 4 ] && [ $((ign & 2)) -eq 0 ]
}

@test "python3 http.server confined to one directory and one port" {
	local p1=18380 p2=18381
	echo public >"$W/www/index.txt"
	echo secret >"$W/www/secret.txt"
	cat >"$W/pol/pyserve" <<EOF
#include <tunables/global>
profile pyserve {
  #include <abstractions/base>
  network inet stream ip=127.0.0.1 port=$p1,
  network inet stream ip=127.0.0.1 port=$p2,
  deny network inet stream ip=127.0.0.1 port=$p2,
  network unix,
  /usr/bin/python3* mrix,
  /usr/lib/python3*/ r,
  /usr/lib/python3*/** mr,
  /usr/local/lib/python3*/ r,
  /etc/mime.types r,
  /usr/share/mime/** r,
  $W/www/ r,
  $W/www/** r,
  deny $W/www/secret.txt r,
  @{PROC}/@{pid}/** r,
}
EOF
	serve() {
		"$CAPGATE" exec --policy "$W/pol" --profile pyserve --log "$LOG" -- \
			/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$W/www" "$1" >"$W/srv$1" 2>&1 &
		PIDS+=($!)
	}
	get() { python3 -c 'import sys,urllib.request as u
try: print(u.urlopen(sys.argv[1], timeout=3).read().decode().strip())
except Exception as e: print("error", getattr(e, "code", type(e).__name__))' "$1"; }
	serve $p1
	for _ in $(seq 100); do [ "$(get http://127.0.0.1:$p1/index.txt)" = public ] && break; sleep 0.1; done
	serve $p2
	for _ in $(seq 100); do grep -q "Serving\|Error" "$W/srv$p2" && break; sleep 0.1; done
	echo "== $p1" && cat "$W/srv$p1" && echo "== $p2" && cat "$W/srv$p2" && cat "$LOG" # shown when the test fails
	[ "$(get http://127.0.0.1:$p1/index.txt)" = public ]
	[ "$(get http://127.0.0.1:$p1/secret.txt)" = "error 404" ]
	# The second port: bind(2) refused (netgate's BPF hook) or, without
	# it, every connection refused.
	run get http://127.0.0.1:$p2/index.txt
	[[ "$output" == error* ]]
	[[ "$output" != "error 404" ]]
}

@test "nothing is left after kill -9 of the launcher, and the next start collects it" {
	local root
	root=$(cg_root)
	"$CAPGATE" exec --policy "$W/pol" --profile foo -- /usr/bin/dash -c 'while :; do read x </dev/null; done; sleep 86399' >"$W/out" 2>&1 &
	local l=$!
	PIDS+=("$l")
	local inst=""
	for _ in $(seq 100); do
		inst=$(ls -d "$root"/capgate/"$l"-* 2>/dev/null | head -1)
		[ -n "$inst" ] && grep -q . "$inst/cgroup.procs" && break
		sleep 0.05
	done
	grep -q . "$inst/cgroup.procs"
	local prog
	prog=$(head -1 "$inst/cgroup.procs")
	kill -9 "$l"
	wait "$l" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$prog" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$prog" 2>/dev/null || false           # the program died with the launcher
	# so did fsgate, which ends when its last launcher's connection closes
	for _ in $(seq 100); do pgrep -f "fsgate .*--policy $W/pol" >/dev/null || break; sleep 0.05; done
	! pgrep -f "fsgate .*--policy $W/pol" >/dev/null || false
	[ -d "$inst" ]                           # its cgroup waits for the next start
	run cx foo /usr/bin/true
	[ "$status" -eq 0 ]
	[ ! -d "$inst" ]
	! nft list table inet capgate 2>/dev/null | grep -q "capgate/$l-" || false
}

@test "a finished sandbox leaves no cgroup, FUSE daemon or nft binding" {
	run cx foo /usr/bin/true
	[ "$status" -eq 0 ]
	# no instance cgroup, and the parent went with the last instance
	! compgen -G "$(cg_root)/capgate/*-*" >/dev/null || false
	[ ! -d "$(cg_root)/capgate" ]
	! pgrep -f "fsgate .*--policy $W/pol" >/dev/null || false
	! nft list table inet capgate 2>/dev/null | grep -q "profile" || false
}

@test "no nft rules for a profile whose every inet socket socket(2) refuses; rules for one with inet" {
	cat >>"$W/pol/foo" <<EOF
profile nonet {
  #include <abstractions/base>
  /usr/bin/sleep mrix,
}
profile netbound {
  #include <abstractions/base>
  network inet stream,
  /usr/bin/sleep mrix,
}
EOF
	"$CAPGATE" exec --policy "$W/pol" --profile nonet -- /usr/bin/sleep 30 &
	local a=$!
	PIDS+=("$a")
	"$CAPGATE" exec --policy "$W/pol" --profile netbound -- /usr/bin/sleep 30 &
	local b=$!
	PIDS+=("$b")
	local root i
	root=$(cg_root)
	for i in $(seq 100); do
		grep -qs . "$root"/capgate/"$a"-*/cgroup.procs && grep -qs . "$root"/capgate/"$b"-*/cgroup.procs && break
		sleep 0.05
	done
	grep -qs . "$root"/capgate/"$a"-*/cgroup.procs
	grep -qs . "$root"/capgate/"$b"-*/cgroup.procs
	local t
	t=$(nft list table inet capgate)
	echo "$t" | grep -q "capgate/$b-"
	! echo "$t" | grep -q "capgate/$a-" || false
	kill "$a" "$b" # forwarded: the programs end, and so do the launchers
	wait "$a" || true
	wait "$b" || true
	! nft list table inet capgate 2>/dev/null | grep -q "capgate/$b-" || false
	# nonet's inet sockets: still refused, with the line
	run cx foo "$W/helper" socket 2 1 6
	[ "$output" = "fail EACCES" ]
	grep -q 'operation="create" class="net" error=-13 profile="foo" .*family="inet"' "$LOG"
}

@test "no launcher process outlives it for long (the netlink release child ends), none keeps its output" {
	# $(...) returns at EOF on stdout: a child keeping it would hold this up.
	local out
	out=$(timeout 10 "$CAPGATE" exec --policy "$W/pol" --profile foo -- /usr/bin/dash -c 'echo hi')
	[ "$out" = hi ]
	# The release child has the launcher's command line; it waits for one
	# RCU grace period at most.
	local i
	for i in $(seq 40); do
		pgrep -f "exec --policy $W/pol --profile foo" >/dev/null || break
		sleep 0.05
	done
	! pgrep -f "exec --policy $W/pol --profile foo" >/dev/null || false
}

@test "a terminal stays usable: interactive bash with job control; no TIOCSTI" {
	command -v script >/dev/null || skip "no script(1)"
	cat >"$W/pol/tty" <<EOF
#include <tunables/global>
profile tty {
  #include <abstractions/base>
  /usr/bin/{bash,sleep} mrix,
  $W/helper mrix,
}
EOF
	run script -qec "$CAPGATE exec --policy $W/pol --profile tty -- /usr/bin/bash --norc -ic 'case \$- in *m*) echo monitor-on;; esac; sleep 0.2 & jobs; wait; echo job-done'" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *monitor-on* ]]
	[[ "$output" == *"Running"*"sleep 0.2"* ]]
	[[ "$output" == *job-done* ]]
	run script -qec "$CAPGATE exec --policy $W/pol --profile tty -- $W/helper tiocsti" /dev/null
	[[ "$output" == *"fail EPERM"* ]]
}

@test "systemd's NOTIFY_SOCKET reaches the notify socket from inside" {
	command -v systemd-notify >/dev/null || skip "no systemd-notify"
	cat >"$W/pol/notify" <<EOF
#include <tunables/global>
profile notify {
  #include <abstractions/base>
  /usr/bin/systemd-notify mrix,
  network unix dgram,
}
EOF
	python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(10)
open(sys.argv[2], "w").write(s.recv(100).decode())' "$W/notify.sock" "$W/got" &
	PIDS+=($!)
	for _ in $(seq 50); do [ -S "$W/notify.sock" ] && break; sleep 0.05; done
	NOTIFY_SOCKET="$W/notify.sock" run cx notify /usr/bin/systemd-notify --ready
	echo "$output"; cat "$LOG"
	[ "$status" -eq 0 ]
	for _ in $(seq 50); do [ -s "$W/got" ] && break; sleep 0.05; done
	grep -q READY=1 "$W/got"
}

@test "after px, network rules, socket creation and rlimits are the target's" {
	local p1=18390 p2=18391
	cp "$W/helper" "$W/helper2"
	cat >"$W/pol/net" <<EOF
#include <tunables/global>
profile netfrom {
  #include <abstractions/base>
  network inet stream,
  network inet dgram,
  $W/helper mrix,
  $W/helper2 px -> netto,
}
profile netto {
  #include <abstractions/base>
  network inet stream peer=(ip=127.0.0.1 port=$p1),
  network inet6 stream,
  set rlimit nofile <= 50,
  $W/helper2 mr,
}
EOF
	for p in $p1 $p2; do
		python3 -c 'import socket,sys,time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(30)' "$p" &
		PIDS+=($!)
	done
	for p in $p1 $p2; do
		for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.05; done
	done
	run cx netfrom "$W/helper" connect $p2
	[ "$output" = ok ]
	run cx netfrom "$W/helper" exec "$W/helper2" connect $p1
	[ "$output" = ok ]
	run cx netfrom "$W/helper" exec "$W/helper2" connect $p2
	[ "$output" = "fail ECONNREFUSED" ]
	grep -q "operation=\"connect\" class=\"net\".*profile=\"netto\".*fport=$p2" "$LOG"
	run cx netfrom "$W/helper" exec "$W/helper2" nofile
	[ "$output" = "50 50" ]
	# socket(2) follows too: udp is netfrom's only, inet6 netto's only
	run cx netfrom "$W/helper" socket 2 2 17
	[ "$output" = ok ]
	run cx netfrom "$W/helper" socket 10 1 6
	[ "$output" = "fail EACCES" ]
	run cx netfrom "$W/helper" exec "$W/helper2" socket 2 2 17
	[ "$output" = "fail EACCES" ]
	grep -q 'operation="create" class="net" error=-13 profile="netto" .*family="inet" sock_type="dgram" protocol=17' "$LOG"
	run cx netfrom "$W/helper" exec "$W/helper2" socket 10 1 6
	[ "$output" = ok ]
}

@test "if fsgate dies the sandbox fails closed (ENOTCONN), and still ends cleanly" {
	echo data >"$W/data/f"
	"$CAPGATE" exec --policy "$W/pol" --profile foo -- /usr/bin/dash -c \
		"while cat $W/data/f >/dev/null 2>&1; do :; done; cat $W/data/f; exit 3" >"$W/out" 2>&1 &
	local l=$!
	PIDS+=("$l")
	local fs=""
	for _ in $(seq 100); do
		fs=$(pgrep -f "fsgate .*--policy $W/pol") && break
		sleep 0.05
	done
	[ -n "$fs" ]
	sleep 0.2
	kill -9 $fs
	local st=0
	wait "$l" || st=$?
	[ "$st" -eq 3 ]
	grep -q "Transport endpoint is not connected" "$W/out"
}

# Two instances of one policy, each with its own profile and log.
share_policy() {
	echo a >"$W/data/a"
	echo b >"$W/data/b"
	cat >"$W/pol/share" <<EOF2
#include <tunables/global>
profile sa {
  #include <abstractions/base>
  /usr/bin/{dash,cat,sleep} mrix,
  $W/data/a r,
}
profile sb {
  #include <abstractions/base>
  /usr/bin/{dash,cat} mrix,
  $W/data/b r,
}
EOF2
}
nfsgate() { pgrep -f "fsgate .*--policy $W/pol" | wc -l; }

@test "instances of one policy share one fsgate, each with its own profile and log; other cgroups under capgate/ get nothing" {
	share_policy
	"$CAPGATE" exec --policy "$W/pol" --profile sa --log "$W/log1" -- /usr/bin/dash -c \
		"cat $W/data/a; while [ ! -e $W/go ]; do sleep 0.05; done; cat $W/data/b" >"$W/out1" 2>&1 &
	local l=$!
	PIDS+=("$l")
	for _ in $(seq 100); do grep -q a "$W/out1" && break; sleep 0.05; done
	grep -qx a "$W/out1"
	run "$CAPGATE" exec --policy "$W/pol" --profile sb --log "$W/log2" -- /usr/bin/dash -c \
		"cat $W/data/b; cat $W/data/a"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = b ]
	[[ "${lines[1]}" == *"Permission denied"* ]]
	[ "$(nfsgate)" -eq 1 ]                     # the second one shared it
	# A process of a cgroup under capgate/ that no launcher registered
	# (one whose launcher was just killed) is refused everything; one from
	# elsewhere (the host's root entering the namespace) passes through.
	# The sandbox's own dash (a short-lived sleep could end before nsenter
	# opens its namespace).
	local prog cg
	prog=$(pgrep -a -x dash | grep -F "$W/go" | awk '{print $1; exit}')
	[ -n "$prog" ]
	cg="$(cg_root)/capgate/1-1"
	mkdir "$cg"
	run dash -c "echo \$\$ >$cg/cgroup.procs; exec nsenter --mount=/proc/$prog/ns/mnt /usr/bin/cat $W/data/a"
	rmdir "$cg"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	run nsenter --mount="/proc/$prog/ns/mnt" /usr/bin/cat "$W/data/b"
	[ "$output" = b ]
	touch "$W/go"
	local st=0
	wait "$l" || st=$?
	[ "$st" -eq 1 ]
	grep -q 'profile="sb" name="'"$W"'/data/a"' "$W/log2"
	! grep -q 'profile="sa"' "$W/log2" || false
	grep -q 'profile="sa" name="'"$W"'/data/b"' "$W/log1"
	! grep -q 'profile="sb"' "$W/log1" || false
	[ "$(nfsgate)" -eq 0 ]                     # gone with its last instance
	! compgen -G "$(cg_root)/capgate/fsgate-*" >/dev/null || false
}

@test "the shared fsgate takes registrations only from outside the sandboxes" {
	share_policy
	CAPGATE_FSGATE_LINGER=3 "$CAPGATE" exec --policy "$W/pol" --profile sa -- /usr/bin/true
	local sock cg
	sock=$(pgrep -af "fsgate --serve .*--policy $W/pol" | sed -n 's/.*--serve \([^ ]*\).*/\1/p' | head -1)
	[ -S "$sock" ]
	reg() { python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
try:  # a refusal closes at once: before our send, or before our read
    s.send(b"hello\n")
    print(s.recv(200).decode() or "closed")
except (BrokenPipeError, ConnectionResetError):
    print("closed")' "$sock"; }
	export -f reg
	export sock
	# from here (a launcher's place): an answer, here a refusal of the message
	run reg
	[[ "$output" == *"malformed registration"* ]]
	# from a cgroup under capgate/ (a confined root process): none at all
	cg="$(cg_root)/capgate/1-1"
	mkdir "$cg"
	run bash -c "echo \$\$ >$cg/cgroup.procs; reg"
	rmdir "$cg"
	[ "$output" = closed ]
	# it still ends with its linger, leaving nothing
	for _ in $(seq 60); do [ -e "$sock" ] || break; sleep 0.1; done
	[ ! -e "$sock" ]
}

@test "CAPGATE_FSGATE_LINGER keeps the shared fsgate for the next start, then it ends and leaves nothing" {
	share_policy
	export CAPGATE_FSGATE_LINGER=2
	run "$CAPGATE" exec --policy "$W/pol" --profile sa -- /usr/bin/cat "$W/data/a"
	[ "$output" = a ]
	local pid
	pid=$(pgrep -f "fsgate --serve.*--policy $W/pol")
	[ -n "$pid" ]
	run "$CAPGATE" exec --policy "$W/pol" --profile sb -- /usr/bin/cat "$W/data/b"
	[ "$output" = b ]
	[ "$(pgrep -f "fsgate --serve.*--policy $W/pol")" = "$pid" ]
	local sock
	sock=$(tr '\0' ' ' <"/proc/$pid/cmdline" | awk '{ print $3 }')
	[ -S "$sock" ]
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$pid" 2>/dev/null || false
	[ ! -e "$sock" ]
	! compgen -G "$(cg_root)/capgate/fsgate-*" >/dev/null || false
}

@test "a changed policy gets a new fsgate; the old one serves its instance to the end" {
	share_policy
	"$CAPGATE" exec --policy "$W/pol" --profile sa -- /usr/bin/dash -c \
		"while [ ! -e $W/go ]; do sleep 0.05; done; cat $W/data/a; cat $W/data/b" >"$W/out1" 2>&1 &
	local l=$!
	PIDS+=("$l")
	for _ in $(seq 100); do [ "$(nfsgate)" -eq 1 ] && break; sleep 0.05; done
	sed -i "s|^  $W/data/b r,|  $W/data/{a,b} r,|" "$W/pol/share"
	run "$CAPGATE" exec --policy "$W/pol" --profile sb -- /usr/bin/cat "$W/data/a"
	[ "$output" = a ]                          # the new policy's rule
	touch "$W/go"
	local st=0
	wait "$l" || st=$?
	[ "$st" -eq 1 ]                            # the old instance kept its own
	grep -qx a "$W/out1"
	grep -q "Permission denied" "$W/out1"
	for _ in $(seq 40); do [ "$(nfsgate)" -eq 0 ] && break; sleep 0.05; done
	[ "$(nfsgate)" -eq 0 ]
}

@test "a relative --policy works (the shared fsgate runs in /)" {
	share_policy
	run sh -c "cd '$W' && CAPGATE_FSGATE_LINGER=1 '$CAPGATE' exec --policy pol --profile sa -- /usr/bin/cat '$W/data/a'"
	[ "$status" -eq 0 ]
	[ "$output" = a ]
	local pid
	pid=$(pgrep -f "fsgate --serve.*--policy $W/pol") # it serves (no fallback)
	for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$pid" 2>/dev/null || false
}

@test "the launcher that started the shared fsgate may end first; the others keep it, and watch the fsgate itself" {
	share_policy
	"$CAPGATE" exec --policy "$W/pol" --profile sa -- /usr/bin/dash -c \
		"while [ ! -e $W/go1 ]; do sleep 0.05; done" 2>"$W/err1" &
	local first=$!
	PIDS+=("$first")
	for _ in $(seq 100); do [ "$(nfsgate)" -eq 1 ] && break; sleep 0.05; done
	"$CAPGATE" exec --policy "$W/pol" --profile sa -- /usr/bin/dash -c \
		"while [ ! -e $W/go2 ]; do sleep 0.05; done; cat $W/data/a" >"$W/out2" 2>"$W/err2" &
	local second=$!
	PIDS+=("$second")
	sleep 0.5
	touch "$W/go1"
	wait "$first"
	sleep 0.5                                  # the second must not think fsgate died
	[ "$(nfsgate)" -eq 1 ]
	touch "$W/go2"
	wait "$second"
	grep -qx a "$W/out2"
	! grep -q "fsgate exited" "$W/err2" || false
	for _ in $(seq 40); do [ "$(nfsgate)" -eq 0 ] && break; sleep 0.05; done
	[ "$(nfsgate)" -eq 0 ]
}

@test "a lingering fsgate shows the next program what the host changed meanwhile (fanotify)" {
	share_policy
	cat >>"$W/pol/share" <<EOF2
profile sab {
  #include <abstractions/base>
  /usr/bin/{dash,cat} mrix,
  $W/data/* r,
}
EOF2
	echo old >"$W/data/b"
	export CAPGATE_FSGATE_LINGER=2
	run "$CAPGATE" exec --policy "$W/pol" --profile sab -- /usr/bin/cat "$W/data/a" "$W/data/b"
	[ "${lines[0]}" = a ] && [ "${lines[1]}" = old ]
	# within the kernel's one-second name and attribute cache
	rm "$W/data/a"
	echo new >"$W/data/b.tmp" && mv "$W/data/b.tmp" "$W/data/b"
	run "$CAPGATE" exec --policy "$W/pol" --profile sab -- /usr/bin/dash -c \
		"[ -e $W/data/a ] && echo stale; cat $W/data/b"
	[ "$output" = new ]
	local pid
	pid=$(pgrep -f "fsgate --serve.*--policy $W/pol")
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
}
