#!/usr/bin/env bats
# fsgate end to end: a real profile over a temporary tree on tmpfs, one
# allowed and one denied case per permission, DAC as other users, owner,
# deny and audit rules, exact log lines, complain mode, fail-closed.
# Each test owns $T and unmounts in teardown, also when it fails.

FSGATE="$BATS_TEST_DIRNAME/../build/bin/fsgate"
NOBODY=65534

setup() {
	T=$(mktemp -d /dev/shm/fsgt.XXXXXX)
	chmod 755 "$T"
	S="$T/src" M="$T/mnt"
	mkdir -p "$T/pol" "$M" "$S"/{r,n,w,a,k,l,x,nox,own}
	chmod 777 "$S/w" "$S/own"
	echo hello >"$S/r/file"
	echo nope >"$S/n/file"
	echo secret >"$S/r/secret"
	echo loud >"$S/r/loud"
	echo watched >"$S/r/watched"
	echo 0600 >"$S/r/private" && chmod 600 "$S/r/private"
	echo 0600 >"$S/r/nobodys" && chmod 600 "$S/r/nobodys" && chown $NOBODY "$S/r/nobodys"
	echo wk >"$S/k/wk"
	echo log >"$S/a/log"
	echo lock >"$S/k/file"
	echo link >"$S/l/file"
	cp /bin/true "$S/x/prog" && cp /bin/true "$S/nox/prog"
	echo mine >"$S/own/mine" && chown $NOBODY "$S/own/mine"
	echo roots >"$S/own/roots" && chmod 666 "$S/own/roots"
	cat >"$T/pol/t" <<EOF
profile t {
  $S/ r,
  $S/r/ r,
  $S/r/** r,
  $S/w/ rw,
  $S/w/** rw,
  $S/a/ r,
  $S/a/** ra,
  $S/k/ r,
  $S/k/** rk,
  $S/k/wk rwk,
  $S/l/ rw,
  $S/l/** rwl,
  $S/x/ r,
  $S/x/** rix,
  $S/nox/ r,
  $S/nox/** r,
  $S/own/ rw,
  owner $S/own/** rw,
  $S/own/** r,
  deny $S/r/secret r,
  audit deny $S/r/loud r,
  audit $S/r/watched r,
}
EOF
}

teardown() {
	if grep -q " $M fuse" /proc/self/mounts; then
		fusermount3 -u "$M" 2>/dev/null || umount -l "$M"
	fi
	if [ -f "$T/pid" ]; then
		kill "$(cat "$T/pid")" 2>/dev/null || true
	fi
	rm -rf "$T"
}

# start_fsgate [fsgate options...]: mounts $S at $M, waits for the mount.
start_fsgate() {
	local on=() # START_CPU=N: the daemon kept to CPU N
	[ -z "${START_CPU:-}" ] || on=(taskset -c "$START_CPU")
	"${on[@]}" "$FSGATE" --policy "$T/pol" --profile t --log "$T/log" -f "$@" "$S" "$M" \
		2>"$T/err" 3>&- &
	echo $! >"$T/pid"
	for _ in $(seq 100); do
		grep -q " $M fuse.fsgate " /proc/self/mounts && return 0
		sleep 0.05
	done
	cat "$T/err" >&2
	return 1
}

as_nobody() { setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- "$@"; }

# The log line for a denial, without the time stamp and pid.
logline() { # kind op name req den fsuid ouid comm
	printf 'apparmor="%s" operation="%s" class="file" profile="t" name="%s" pid=[0-9]+ comm="%s" requested_mask="%s" denied_mask="%s" fsuid=%s ouid=%s$' \
		"$1" "$2" "$3" "$8" "$4" "$5" "$6" "$7"
}

@test "fsgate: --help documents the command line" {
	run "$FSGATE" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--policy DIR --profile NAME"* ]]
	[[ "$output" == *"--cgroup CGPATH"* ]]
	run "$FSGATE" --policy "$T/pol" "$S" "$M"
	[ "$status" -ne 0 ]
}

@test "fsgate: a malformed profile or a missing profile is a clear error" {
	echo 'profile bad { /x rw' >"$T/pol/bad"
	run "$FSGATE" --policy "$T/pol" --profile t -f "$S" "$M"
	[ "$status" -eq 1 ]
	[[ "$output" == *bad* ]]
	rm "$T/pol/bad"
	run "$FSGATE" --policy "$T/pol" --profile t -f "$T" "$M"
	[ "$status" -eq 1 ]
	[[ "$output" == *"inside SOURCE"* ]]
	run "$FSGATE" --policy "$T/pol" --profile nosuch -f "$S" "$M"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no profile 'nosuch'"* ]]
	! grep -q " $M " /proc/self/mounts || false
}

@test "fsgate: r allows reading and listing, and its absence denies both" {
	start_fsgate
	[ "$(cat "$M/r/file")" = hello ]
	ls "$M/r" | grep -qx file
	run cat "$M/n/file"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	run ls "$M/n"
	[ "$status" -ne 0 ]
	grep -Eq "$(logline DENIED open "$S/n/file" r r 0 0 cat)" "$T/log"
	grep -Eq "$(logline DENIED open "$S/n/" r r 0 0 ls)" "$T/log"
}

@test "fsgate: w allows create, write, mkdir, rename, unlink; without it all fail" {
	start_fsgate
	echo one >"$M/w/f"
	[ "$(cat "$S/w/f")" = one ]
	mkdir "$M/w/d"
	mv "$M/w/f" "$M/w/d/g"
	[ -f "$S/w/d/g" ]
	truncate -s 0 "$M/w/d/g"
	chmod 600 "$M/w/d/g"
	touch -d @1000000000 "$M/w/d/g"
	[ "$(stat -c %Y "$S/w/d/g")" = 1000000000 ]
	rm "$M/w/d/g"
	rmdir "$M/w/d"
	! ( echo x >"$M/r/new" ) 2>/dev/null || false
	! ( echo x >"$M/r/file" ) 2>/dev/null || false
	! mkdir "$M/r/d" 2>/dev/null || false
	! rm -f "$M/r/file" 2>/dev/null || false
	! mv "$M/r/file" "$M/w/stolen" 2>/dev/null || false
	! mv "$M/w/../w" "$M/r/w2" 2>/dev/null || false
	! chmod 600 "$M/r/file" 2>/dev/null || false
	! touch "$M/r/file" 2>/dev/null || false
	! truncate -s 0 "$M/r/file" 2>/dev/null || false
	! setfattr -n user.x -v 1 "$M/r/file" 2>/dev/null || false
	! ln -s file "$M/r/sym" 2>/dev/null || false
	! mkfifo "$M/r/fifo" 2>/dev/null || false
	[ "$(cat "$S/r/file")" = hello ]
	[ ! -e "$S/r/new" ] && [ ! -e "$S/w/stolen" ] && [ ! -e "$S/r/d" ]
	grep -Eq "$(logline DENIED mkdir "$S/r/d/" c c 0 0 mkdir)" "$T/log"
	grep -Eq "$(logline DENIED unlink "$S/r/file" d d 0 0 rm)" "$T/log"
	grep -Eq "$(logline DENIED rename_src "$S/r/file" d d 0 0 mv) target=\"$S/w/stolen\"" "$T/log" ||
		grep -Eq "operation=\"rename_src\" class=\"file\" profile=\"t\" name=\"$S/r/file\".* target=\"$S/w/stolen\"" "$T/log"
}

@test "fsgate: a allows O_APPEND writes only" {
	start_fsgate
	echo more >>"$M/a/log"
	[ "$(tail -1 "$S/a/log")" = more ]
	! ( echo over >"$M/a/log" ) 2>/dev/null || false
	! truncate -s 0 "$M/a/log" 2>/dev/null || false
	! rm -f "$M/a/log" 2>/dev/null || false
	! mv "$M/a/log" "$M/a/log2" 2>/dev/null || false
	# An O_RDWR open without O_APPEND asks for w.
	! python3 -c "import os; os.open('$M/a/log', os.O_RDWR)" 2>/dev/null || false
	# Clearing O_APPEND afterwards cannot overwrite: the daemon's fd appends.
	python3 - "$M/a/log" <<'EOF'
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
fcntl.fcntl(fd, fcntl.F_SETFL, 0)
os.pwrite(fd, b"XX", 0)
os.close(fd)
EOF
	[ "$(head -c 3 "$S/a/log")" = "log" ]
	[ "$(wc -l <"$S/a/log")" -eq 2 ]
	grep -Eq "$(logline DENIED open "$S/a/log" w w 0 0 bash)" "$T/log"
}

@test "fsgate: k allows flock and fcntl locks; without k they fail" {
	start_fsgate
	flock -s "$M/k/file" true
	python3 -c "import fcntl; f=open('$M/k/file'); fcntl.lockf(f, fcntl.LOCK_SH)"
	! flock -s "$M/r/file" true 2>/dev/null || false
	! python3 -c "import fcntl; f=open('$M/r/file'); fcntl.lockf(f, fcntl.LOCK_SH)" 2>/dev/null || false
	grep -Eq "$(logline DENIED file_lock "$S/r/file" k k 0 0 flock)" "$T/log"
}

@test "fsgate: fcntl locks conflict between processes and go away on close" {
	start_fsgate
	python3 - "$M/k/wk" <<'EOF'
import fcntl, subprocess, sys
p = sys.argv[1]
other = "import fcntl,sys; f=open(sys.argv[1],'r+'); fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB)"
f = open(p, "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
assert subprocess.run([sys.executable, "-c", other, p], stderr=subprocess.DEVNULL).returncode != 0, "lock not held"
f.close()
assert subprocess.run([sys.executable, "-c", other, p]).returncode == 0, "lock not released"
g = open(p, "r+")
fcntl.flock(g, fcntl.LOCK_EX)
other = "import fcntl,sys; f=open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_SH|fcntl.LOCK_NB)"
assert subprocess.run([sys.executable, "-c", other, p], stderr=subprocess.DEVNULL).returncode != 0, "flock not held"
EOF
	# An exclusive lock needs w as well (AppArmor asks for k and w).
	! python3 -c "import fcntl; f=open('$M/k/file'); fcntl.flock(f, fcntl.LOCK_EX)" 2>/dev/null || false
}

@test "fsgate: a blocking fcntl lock waits for the holder, then gets the lock" {
	start_fsgate
	python3 - "$M/k/wk" <<'EOF'
import fcntl, subprocess, sys, time
p = sys.argv[1]
f = open(p, "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
wait = ("import fcntl,sys,time; f=open(sys.argv[1],'r+'); t=time.time(); "
        "fcntl.lockf(f, fcntl.LOCK_EX); print(time.time()-t)")
w = subprocess.Popen([sys.executable, "-c", wait, p], stdout=subprocess.PIPE, text=True)
time.sleep(0.5)
assert w.poll() is None, "the waiter did not wait"
# the mount still answers while a request waits for a lock
assert open(p).read() == "wk\n"
f.close()
out, _ = w.communicate(timeout=10)
assert w.returncode == 0 and float(out) >= 0.4, out
EOF
}

@test "fsgate: many blocking lock waits on one CPU leave the mount answering there" {
	[ "$(nproc)" -ge 2 ] || skip "needs two CPUs"
	start_fsgate
	python3 - "$M/k/wk" "$M/r/file" <<'EOF'
import fcntl, os, subprocess, sys, time
p, other = sys.argv[1], sys.argv[2]
f = open(p, "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
wait = "import fcntl,sys; f=open(sys.argv[1],'r+'); fcntl.lockf(f, fcntl.LOCK_EX)"
# more waiters than a CPU's ring has entries (uring.c), all on CPU 0
ws = [subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", wait, p]) for _ in range(8)]
time.sleep(1)
assert all(w.poll() is None for w in ws), "the waiters did not wait"
r = subprocess.run(["taskset", "-c", "0", "cat", other], capture_output=True, text=True, timeout=10)
assert r.stdout == "hello\n", r
f.close()
for w in ws:
    assert w.wait(timeout=20) == 0
EOF
}

# tests/run's second pass sets the fuse module's enable_uring and
# FSGATE_TEST_URING=1: every test of this file then runs over io_uring.
@test "fsgate: requests come through io_uring when the kernel offers it" {
	[ "${FSGATE_TEST_URING:-}" = 1 ] || skip "tests/run's io_uring pass runs it"
	FSGATE_STATS=1 start_fsgate
	pid=$(cat "$T/pid")
	grep -qx fsgate-ring /proc/"$pid"/task/*/comm
	cat "$M/r/file" "$M/k/wk" >/dev/null
	ls -l "$M/r" >/dev/null
	fusermount3 -u "$M"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$pid" 2>/dev/null
	grep -Eq '^ring: [1-9][0-9]*$' "$T/err"
	# FSGATE_NO_URING=1: through /dev/fuse only
	FSGATE_NO_URING=1 start_fsgate
	cat "$M/r/file" >/dev/null
	! grep -qx fsgate-ring /proc/"$(cat "$T/pid")"/task/*/comm
	fusermount3 -u "$M"
	# fsgate kept to CPU 0: CPU 1's queue is served from CPU 0's ring
	if [ "$(nproc)" -ge 2 ]; then
		sleep 0.2
		START_CPU=0 start_fsgate
		[ "$(grep -lx fsgate-ring /proc/"$(cat "$T/pid")"/task/*/comm | wc -l)" -eq 1 ]
		[ "$(taskset -c 1 cat "$M/r/file")" = hello ]
		[ "$(taskset -c 0 cat "$M/r/file")" = hello ]
	fi
}

@test "fsgate: l allows link(2); without l, or granting more than the target, denied" {
	start_fsgate
	ln "$M/l/file" "$M/l/hard"
	[ "$(stat -c %i "$S/l/hard")" = "$(stat -c %i "$S/l/file")" ]
	[ "$(stat -c %h "$M/l/file")" = 2 ]
	[ "$(stat -c %i "$M/l/hard")" = "$(stat -c %i "$M/l/file")" ]
	! ln "$M/w/../l/file" "$M/w/hard" 2>/dev/null || false
	! ln "$M/r/file" "$M/l/fromr" 2>/dev/null || false
	[ ! -e "$S/w/hard" ] && [ ! -e "$S/l/fromr" ]
	grep -Eq "operation=\"link\" class=\"file\" profile=\"t\" name=\"$S/w/hard\".*target=\"$S/l/file\"" "$T/log"
}

@test "fsgate: x allows exec; without an x mode execve fails with EACCES" {
	start_fsgate
	"$M/x/prog"
	run "$M/nox/prog"
	[ "$status" -eq 126 ]
	[[ "$output" == *"Permission denied"* ]]
	grep -Eq "$(logline DENIED exec "$S/nox/prog" x x 0 0 bash)" "$T/log" ||
		grep -Eq "operation=\"exec\" class=\"file\" profile=\"t\" name=\"$S/nox/prog\".*requested_mask=\"x\" denied_mask=\"x\"" "$T/log"
}

@test "fsgate: owner rules apply when the caller owns the file" {
	start_fsgate
	as_nobody sh -c "echo changed >'$M/own/mine'"
	[ "$(cat "$S/own/mine")" = changed ]
	! as_nobody sh -c "echo changed >'$M/own/roots'" 2>/dev/null || false
	[ "$(cat "$S/own/roots")" = roots ]
	# A new file belongs to its creator, so owner rules allow creating it.
	as_nobody sh -c "echo new >'$M/own/new'"
	[ "$(stat -c %u:%g "$S/own/new")" = "$NOBODY:$NOBODY" ]
	grep -Eq "$(logline DENIED open "$S/own/roots" w w $NOBODY 0 sh)" "$T/log"
}

@test "fsgate: a read-only open by file handle (no cached fd) is decided as any other" {
	# --max-fds 1 (16, the least): after a first look at the files below,
	# the 60 files read next push their fds out of the cache; the kernel
	# keeps their names (--entry-timeout), so the second look opens them
	# without a LOOKUP: by handle first, decided on what the opened file
	# shows.
	for i in $(seq 60); do echo "$i" >"$S/r/f$i"; done
	start_fsgate --max-fds 1 --entry-timeout 600
	for round in 1 2; do
		[ "$(cat "$M/r/file")" = hello ]
		! cat "$M/n/file" 2>/dev/null || false
		! cat "$M/r/secret" 2>/dev/null || false
		! as_nobody cat "$M/r/private" 2>/dev/null || false
		[ "$(as_nobody cat "$M/own/mine")" = mine ]
		cat "$M"/r/f* >/dev/null # the fds of the files above leave the cache
	done
	grep -Eq "$(logline DENIED open "$S/n/file" r r 0 0 cat)" "$T/log"
	! grep -q "name=\"$S/r/secret\"" "$T/log" || false
	[ "$(grep -c DENIED "$T/log")" -eq 2 ]
}

@test "fsgate: DAC stays in force with the caller's credentials and capabilities" {
	start_fsgate
	# Another user is refused a 0600 file (and that is not a policy denial).
	! as_nobody cat "$M/r/private" 2>/dev/null || false
	! grep -q private "$T/log" 2>/dev/null || false
	as_nobody cat "$M/r/nobodys" >/dev/null
	# root without dac_override is refused a 0600 file of another user.
	cat "$M/r/nobodys" >/dev/null
	! setpriv --inh-caps=-all --bounding-set=-dac_override,-dac_read_search \
		cat "$M/r/nobodys" 2>/dev/null || false
	# Files created by a user belong to it; a setgid directory gives its group.
	as_nobody sh -c "umask 027; echo x >'$M/w/u'; mkdir '$M/w/ud'"
	[ "$(stat -c %u:%g:%a "$S/w/u")" = "$NOBODY:$NOBODY:640" ]
	[ "$(stat -c %u:%a "$S/w/ud")" = "$NOBODY:750" ]
	mkdir "$M/w/sg" && chgrp 100 "$M/w/sg" && chmod 2777 "$M/w/sg"
	as_nobody sh -c "echo x >'$M/w/sg/f'; mkdir '$M/w/sg/d'"
	[ "$(stat -c %g "$S/w/sg/f")" = 100 ]
	[ "$(stat -c %g:%A "$S/w/sg/d")" = "100:drwxr-sr-x" ]
	# The sticky bit: nobody cannot remove root's file in a sticky directory.
	chmod 1777 "$M/w" && echo r >"$M/w/rootfile" && chmod 666 "$M/w/rootfile"
	! as_nobody rm -f "$M/w/rootfile" 2>/dev/null || false
	[ -e "$S/w/rootfile" ]
}

@test "fsgate: POSIX ACLs take part in DAC, as natively (deny and grant); default ACLs replace the umask" {
	# an ACL entry can take away what the mode bits give others, or give
	# what they withhold; both must hold through fsgate as on the source
	echo open >"$S/r/acl_denied" && chmod 644 "$S/r/acl_denied"
	setfacl -m u:nobody:--- "$S/r/acl_denied"
	echo shut >"$S/r/acl_granted" && chmod 600 "$S/r/acl_granted"
	setfacl -m u:nobody:r "$S/r/acl_granted"
	mkdir "$S/w/dacl" && chmod 777 "$S/w/dacl"
	setfacl -d -m u::rwx,g::rwx,o::rwx "$S/w/dacl"
	start_fsgate
	! as_nobody cat "$S/r/acl_denied" 2>/dev/null || false # natively
	! as_nobody cat "$M/r/acl_denied" 2>/dev/null || false
	[ "$(as_nobody cat "$M/r/acl_granted")" = shut ]
	# a default ACL: the new file's mode follows it, not the umask
	as_nobody sh -c "umask 077; echo x >'$M/w/dacl/f'; mkdir '$M/w/dacl/d'; umask 022; echo y >'$M/w/plainf'"
	[ "$(stat -c %a "$S/w/dacl/f")" = 666 ]
	[ "$(stat -c %a "$S/w/dacl/d")" = 777 ]
	[ "$(stat -c %a "$S/w/plainf")" = 644 ]
	# setting an ACL through the mount needs w, and lands on the source
	setfacl -m u:nobody:rw "$M/w/plainf"
	getfacl -p "$S/w/plainf" | grep -q "user:nobody:rw-"
	! setfacl -m u:nobody:rw "$M/r/file" 2>/dev/null || false
}

@test "fsgate: deny rules are quiet, audit deny logs, audit logs allowed uses" {
	start_fsgate
	! cat "$M/r/secret" 2>/dev/null || false
	! cat "$M/r/loud" 2>/dev/null || false
	cat "$M/r/watched" >/dev/null
	! grep -q "name=\"$S/r/secret\"" "$T/log" || false
	grep -Eq "$(logline DENIED open "$S/r/loud" r r 0 0 cat)" "$T/log"
	grep -Eq "apparmor=\"AUDIT\" operation=\"open\" class=\"file\" profile=\"t\" name=\"$S/r/watched\" pid=[0-9]+ comm=\"cat\" requested_mask=\"r\" fsuid=0 ouid=0$" "$T/log"
}

@test "fsgate: exact log line for a denial" {
	start_fsgate
	! cat "$M/n/file" 2>/dev/null || false
	line=$(grep "name=\"$S/n/file\"" "$T/log")
	[[ "$line" =~ ^type=AVC\ msg=audit\([0-9]+\.[0-9]{3}:[0-9]+\):\ apparmor=\"DENIED\"\ operation=\"open\"\ class=\"file\"\ profile=\"t\"\ name=\"$S/n/file\"\ pid=[0-9]+\ comm=\"cat\"\ requested_mask=\"r\"\ denied_mask=\"r\"\ fsuid=0\ ouid=0$ ]]
	# A name with a space is hex-encoded, as the kernel does.
	echo x >"$S/n/a b"
	! cat "$M/n/a b" 2>/dev/null || false
	hex=$(printf '%s' "$S/n/a b" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
	grep -q " name=$hex pid=" "$T/log"
}

@test "fsgate: denials are rate-limited" {
	start_fsgate --log-burst 5
	for i in $(seq 50); do cat "$M/n/file" 2>/dev/null || true; done
	sleep 1.1
	cat "$M/n/file" 2>/dev/null || true
	n=$(grep -c 'apparmor="DENIED"' "$T/log")
	[ "$n" -le 11 ]
	grep -Eq 'operation="ratelimit" info="suppressed [0-9]+"' "$T/log"
}

@test "fsgate: complain mode logs ALLOWED and allows" {
	start_fsgate --complain
	cat "$M/n/file" >/dev/null
	echo x >"$M/r/new"
	[ -f "$S/r/new" ]
	grep -Eq "$(logline ALLOWED open "$S/n/file" r r 0 0 cat)" "$T/log"
	grep -Eq "apparmor=\"ALLOWED\" operation=\"open\" class=\"file\" profile=\"t\" name=\"$S/r/new\"" "$T/log"
}

@test "fsgate: symlinks are resolved by the kernel, each step decided" {
	ln -s ../n/file "$S/w/tosecret"
	ln -s ../r/file "$S/w/tor"
	start_fsgate
	[ "$(cat "$M/w/tor")" = hello ]
	! cat "$M/w/tosecret" 2>/dev/null || false
	[ "$(readlink "$M/w/tosecret")" = ../n/file ]
}

@test "fsgate: kill -9 of the daemon fails closed with ENOTCONN" {
	start_fsgate
	cat "$M/r/file" >/dev/null
	kill -9 "$(cat "$T/pid")"
	sleep 0.2
	run cat "$M/r/file"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not connected"* ]]
	run ls "$M"
	[ "$status" -ne 0 ]
}

@test "fsgate: SIGTERM unmounts, also a mount point given by a relative name" {
	# libfuse moves the daemon to / before it serves: the unmount at the
	# end must not resolve "mnt" there (it left a dead mount behind)
	(cd "$T" && exec "$FSGATE" --policy pol --profile t -f src mnt 2>"$T/err" 3>&-) &
	echo $! >"$T/pid"
	for _ in $(seq 100); do
		grep -q " $M fuse.fsgate " /proc/self/mounts && break
		sleep 0.05
	done
	[ "$(cat "$M/r/file")" = hello ]
	kill -TERM "$(cat "$T/pid")"
	for _ in $(seq 100); do
		kill -0 "$(cat "$T/pid")" 2>/dev/null || break
		sleep 0.05
	done
	! kill -0 "$(cat "$T/pid")" 2>/dev/null
	! grep -q " $M fuse" /proc/self/mounts
}

@test "fsgate: --cgroup confines members, labels sub-cgroups, passes others through" {
	cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	[ -n "$cgroot" ] || skip "no cgroup2"
	cg="$cgroot/fsgt.${T##*.}"
	mkdir "$cg" "$cg/u" "$cg/nosuch"
	cat >>"$T/pol/t" <<EOF
profile u {
  $S/ r,
  $S/n/ r,
  $S/n/** r,
}
EOF
	start_fsgate --cgroup "$cg"
	incg() { # cgroup cmd...: run cmd inside a cgroup
		local g=$1; shift
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$g" "$@"
	}
	status=0
	cat "$M/n/file" >/dev/null || status=$?         # outside: unconfined
	! incg "$cg" cat "$M/n/file" 2>/dev/null || status=1   # t: denied
	incg "$cg" cat "$M/r/file" >/dev/null || status=2      # t: allowed
	incg "$cg/u" cat "$M/n/file" >/dev/null || status=3    # u: allowed
	! incg "$cg/u" cat "$M/r/file" 2>/dev/null || status=4 # u: denied
	! incg "$cg/nosuch" cat "$M/r/file" 2>/dev/null || status=5 # unknown label
	rmdir "$cg/u" "$cg/nosuch" "$cg"
	[ "$status" -eq 0 ]
	grep -Eq 'profile="u" name="'"$S"'/r/file"' "$T/log"
}

@test "fsgate: no FUSE mount is left behind by these tests" {
	! grep -q "fsgate:/dev/shm/fsgt\." /proc/self/mounts || false
}

@test "fsgate: serves a /dev/fd/N mount made by a launcher, with --prefix" {
	# What capgate exec does: open /dev/fuse, mount it, hand the fd over.
	python3 - "$FSGATE" "$T" "$S" "$M" <<'EOF'
import ctypes, os, subprocess, sys, time
fsgate, T, S, M = sys.argv[1:5]
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/dev/fuse", os.O_RDWR)
opts = "fd=%d,rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other" % fd
if libc.mount(b"fsgate", M.encode(), b"fuse.fsgate", 6, opts.encode()) != 0:  # nosuid|nodev
    sys.exit("mount: %s" % os.strerror(ctypes.get_errno()))
p = subprocess.Popen([fsgate, "--policy", T + "/pol", "--profile", "t", "--log", T + "/log",
                      "--prefix", S, "-f", S, "/dev/fd/%d" % fd], pass_fds=[fd])
os.close(fd)
open(T + "/pid", "w").write(str(p.pid))
EOF
	[ "$(cat "$M/r/file")" = hello ]
	! cat "$M/n/file" 2>/dev/null || false
	grep -Eq "$(logline DENIED open "$S/n/file" r r 0 0 cat)" "$T/log"
}

@test "fsgate: profile flags kill, default_allow and unconfined" {
	cat >"$T/pol/t" <<EOF
profile t flags=(kill) {
  $S/ r,
  $S/r/** r,
}
EOF
	start_fsgate
	cat "$M/r/file" >/dev/null
	run cat "$M/n/file"
	[ "$status" -eq 137 ] # SIGKILL
	grep -Eq "apparmor=\"DENIED\" operation=\"open\" class=\"file\" info=\"killed\" profile=\"t\" name=\"$S/n/file\"" "$T/log"
	fusermount3 -u "$M"
	cat >"$T/pol/t" <<EOF
profile t flags=(default_allow) {
  deny $S/r/secret r,
}
EOF
	start_fsgate
	cat "$M/n/file" >/dev/null
	! cat "$M/r/secret" 2>/dev/null || false
	fusermount3 -u "$M"
	cat >"$T/pol/t" <<EOF
profile t flags=(unconfined) {
}
EOF
	start_fsgate
	cat "$M/n/file" "$M/r/secret" >/dev/null
}

@test "fsgate: O_CREAT on a name that appeared beside fsgate is a plain open" {
	start_fsgate
	# the kernel caches the absence of r/late for a while
	! cat "$M/r/late" 2>/dev/null || false
	echo late >"$S/r/late"
	python3 -c "import os; os.close(os.open('$M/r/late', os.O_RDONLY | os.O_CREAT))"
	! grep -q "name=\"$S/r/late\"" "$T/log" || false
}

@test "fsgate: writing, truncating and O_TRUNC clear setuid and setgid as natively (unless CAP_FSETID)" {
	start_fsgate
	local f="$S/w/suid" how
	for how in "echo more >>'$M/w/suid'" "truncate -s 1 '$M/w/suid'" ": >'$M/w/suid'"; do
		echo hi >"$f" && chown $NOBODY:$NOBODY "$f" && chmod 6775 "$f"
		sleep 1.1 # the kernel's attribute cache: the mode it knows is the new one
		as_nobody sh -c "$how"
		[ "$(stat -c %a "$f")" = 775 ] || { echo "$how kept $(stat -c %a "$f")"; false; }
	done
	# root holds CAP_FSETID: its truncation keeps them, as natively
	chmod 6775 "$f"
	sleep 1.1
	: >"$M/w/suid"
	truncate -s 2 "$M/w/suid"
	[ "$(stat -c %a "$f")" = 6775 ]
}
