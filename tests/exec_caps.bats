#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# capgate exec: capability lines (cg_capaudit.c). Root's `chown` under
# profiles with and without `capability chown`: the kernel refuses what was
# dropped, and the --log file gets AppArmor's line for it. Each test owns
# $W (on /dev/shm) and cleans up in teardown, also on failure.

CAPGATE="$BATS_TEST_DIRNAME/../build/bin/capgate"
SRC="$BATS_TEST_DIRNAME/.."

# The whole line AppArmor writes (lsm_audit.c puts two spaces before capname=).
line_re() { # KIND PROFILE COMM CAP CAPNAME
	printf '^type=AVC msg=audit\\([0-9]+\\.[0-9]{3}:[0-9]+\\): apparmor="%s" operation="capable" class="cap" profile="%s" pid=[0-9]+ comm="%s" capability=%s  capname="%s"$' "$@"
}

setup_file() {
	# Without BTF and fexit (or the cap_capable tracepoint) exec runs
	# without capability lines: the tests that need them skip.
	export CAPS_OFF=
	local d
	d=$(mktemp -d /dev/shm/capgate-caps-probe.XXXXXX)
	echo "profile probe { /usr/bin/true mrix, }" >"$d/probe"
	if CAPGATE_DEBUG=1 "$CAPGATE" exec --policy "$d" --profile probe -- /usr/bin/true 2>&1 |
		grep -q "no capability lines"; then
		CAPS_OFF=1
	fi
	rm -rf "$d"
}

setup() {
	W=$(mktemp -d /dev/shm/capgate-caps.XXXXXX)
	chmod 755 "$W"
	mkdir -p "$W/pol" "$W/data"
	cp -R "$SRC/policies/tunables" "$SRC/policies/abstractions" "$W/pol/"
	touch "$W/data/f" "$W/data/g"
	LOG="$W/log"
}

teardown() {
	rm -rf "$W"
}

prof() { # prof NAME [RULE...]: a profile that may run chown on $W/data
	local name=$1 r
	shift
	{
		echo "#include <tunables/global>"
		echo "profile $name {"
		echo "  #include <abstractions/base>"
		echo "  /usr/bin/${BINS:-{dash,chown,chgrp\}} mrix,"
		echo "  $W/data/** rw,"
		for r in "$@"; do echo "  $r"; done
		echo "}"
	} >"$W/pol/$name"
}

cx() { # cx PROFILE PROGRAM...: run confined, log to $LOG
	local p=$1
	shift
	"$CAPGATE" exec --policy "$W/pol" --profile "$p" --log "$LOG" -- "$@"
}

needs_lines() {
	[ -z "$CAPS_OFF" ] || skip "no capability lines on this kernel (see capgate(1))"
}

caplines() { grep -c 'operation="capable"' "$LOG" 2>/dev/null || true; }

@test "no capability chown: chown fails, one DENIED line (duplicates within a second dropped)" {
	needs_lines
	prof nochown
	run cx nochown /usr/bin/chown 65534 "$W/data/f" "$W/data/g"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Operation not permitted"* ]]
	cat "$LOG"
	grep -Eq "$(line_re DENIED nochown chown 0 chown)" "$LOG"
	[ "$(caplines)" -eq 1 ]
}

@test "capability chown: chown succeeds, no line" {
	needs_lines
	prof withchown "capability chown,"
	run cx withchown /usr/bin/chown 65534 "$W/data/f"
	[ "$status" -eq 0 ]
	[ "$(stat -c %u "$W/data/f")" -eq 65534 ]
	[ "$(caplines)" -eq 0 ]
}

@test "deny capability chown: chown fails, quietly; audit deny logs it" {
	needs_lines
	prof denychown "deny capability chown,"
	run cx denychown /usr/bin/chown 65534 "$W/data/f"
	[ "$status" -eq 1 ]
	[ "$(caplines)" -eq 0 ]
	prof auditdeny "audit deny capability chown,"
	run cx auditdeny /usr/bin/chown 65534 "$W/data/f"
	[ "$status" -eq 1 ]
	grep -Eq "$(line_re DENIED auditdeny chown 0 chown)" "$LOG"
}

@test "audit capability chown: chown succeeds with an AUDIT line" {
	needs_lines
	prof auditchown "audit capability chown,"
	run cx auditchown /usr/bin/chown 65534 "$W/data/f"
	[ "$status" -eq 0 ]
	cat "$LOG"
	grep -Eq "$(line_re AUDIT auditchown chown 0 chown)" "$LOG"
	[ "$(caplines)" -eq 1 ]
}

@test "--complain: chown succeeds with an ALLOWED line" {
	needs_lines
	prof nochown
	run "$CAPGATE" exec --complain --policy "$W/pol" --profile nochown --log "$LOG" -- \
		/usr/bin/chown 65534 "$W/data/f"
	[ "$status" -eq 0 ]
	[ "$(stat -c %u "$W/data/f")" -eq 65534 ]
	cat "$LOG"
	grep -Eq "$(line_re ALLOWED nochown chown 0 chown)" "$LOG"
}

@test "the kernel's silent checks get no line: python3 maps memory without sys_admin" {
	needs_lines
	prof py "/usr/bin/python3* mrix," "/usr/** mr," "/etc/** r," "@{PROC}/** r,"
	# Every private writable mapping asks for sys_admin (CAP_OPT_NOAUDIT);
	# the chown proves lines are written in this very run.
	run cx py /usr/bin/python3 -c "
import os, mmap
maps = [mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE) for _ in range(64)]
try: os.chown('$W/data/f', 65534, 65534)
except PermissionError: print('refused')"
	[ "$status" -eq 0 ]
	[ "$output" = refused ]
	cat "$LOG"
	grep -Eq "$(line_re DENIED py python3 0 chown)" "$LOG"
	! grep -q 'capname="sys_admin"' "$LOG" || false
}

@test "a label's lines name its profile; a ux child (unconfined) gets none" {
	needs_lines
	prof target
	BINS=dash prof parent "/usr/bin/chgrp Px -> target," "/usr/bin/chown ux,"
	run cx parent /usr/bin/dash -c "/usr/bin/chgrp 65534 $W/data/f; /usr/bin/chown 65534 $W/data/g; echo done"
	[[ "$output" == *done ]]
	cat "$LOG"
	grep -Eq "$(line_re DENIED target chgrp 0 chown)" "$LOG"
	# the ux child was refused too (unconfined keeps the dropped set) but
	# its cgroup is outside the instance
	[ "$(stat -c %u "$W/data/g")" -eq 0 ]
	! grep -q 'comm="chown"' "$LOG" || false
}
