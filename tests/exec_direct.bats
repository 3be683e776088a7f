#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Direct subtrees (cg_plan.h): a system directory whose every path gets the
# same read-only verdict is the host's, bound read-only, not fsgate's. What
# it allows must work, what it refuses must be refused as AppArmor does:
# EACCES and one line, from the supervisor (writes, locks).
# /usr/include/linux comes with the C library's headers (linux-libc-dev),
# which the build needs anyway.

CAPGATE="$BATS_TEST_DIRNAME/../build/bin/capgate"
SRC="$BATS_TEST_DIRNAME/.."
D=/usr/include/linux

setup() {
	W=$(mktemp -d /dev/shm/capgate-direct.XXXXXX)
	mkdir -p "$W/pol"
	cp -R "$SRC/policies/tunables" "$SRC/policies/abstractions" "$W/pol/"
	LOG="$W/log"
	local p name mode extra
	for p in d:r dk:rk dhole:r; do
		name=${p%%:*} mode=${p#*:} extra=""
		[ "$name" = dhole ] && extra="  deny $D/types.h r,"
		cat >"$W/pol/$name" <<EOF
#include <tunables/global>
profile $name {
  #include <abstractions/base>
  /usr/bin/{dash,cat,touch,mkdir,rm,flock,ls} mrix,
  @{PROC}/@{pid}/mountinfo r,
  $D/{,**} $mode,
$extra
}
EOF
	done
	sum=$(md5sum "$D/types.h")
}

teardown() {
	rm -rf "$W"
}

cx() { # cx PROFILE PROGRAM...: run confined, log to $LOG
	local prof=$1
	shift
	"$CAPGATE" exec --policy "$W/pol" --profile "$prof" --log "$LOG" -- "$@"
}

mounted() { # mounted PROFILE: the sandbox's mount line for $D
	cx "$1" /usr/bin/dash -c "cat /proc/self/mountinfo" | awk -v d="$D" '$5 == d'
}

@test "a directory read whole is the host's, read-only and noexec; reads and listings work" {
	run mounted d
	[[ "$output" == *" $D ro,"*noexec* ]]
	run cx d /usr/bin/dash -c "cat $D/types.h; ls $D"
	[ "$status" -eq 0 ]
	[[ "$output" == *_LINUX_TYPES_H* ]]
	[[ "$output" == *"errno.h"* ]]
	[ ! -s "$LOG" ]
}

@test "writes there fail with EACCES and AppArmor's lines, not EROFS; the host's files stay" {
	run cx d /usr/bin/dash -c "touch $D/new; mkdir $D/sub; rm $D/types.h; echo x >>$D/types.h; exit 0"
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" != *"Read-only"* ]]
	grep -q "apparmor=\"DENIED\" operation=\"open\" class=\"file\" .*profile=\"d\" name=\"$D/new\" .*requested_mask=\"w\" denied_mask=\"w\"" "$LOG"
	grep -q "operation=\"mkdir\" .*name=\"$D/sub/\" .*requested_mask=\"c\"" "$LOG"
	grep -q "operation=\"unlink\" .*name=\"$D/types.h\" .*requested_mask=\"d\"" "$LOG"
	grep -q "operation=\"open\" .*name=\"$D/types.h\" .*requested_mask=\"a\"" "$LOG"
	[ "$(grep -c apparmor= "$LOG")" -eq 4 ]
	[ "$(md5sum "$D/types.h")" = "$sum" ]
	[ ! -e "$D/new" ] && [ ! -e "$D/sub" ]
}

@test "locks there need k: refused with a file_lock line without it, taken with it" {
	run cx d /usr/bin/flock -s "$D/types.h" /usr/bin/dash -c "echo locked"
	[ "$status" -ne 0 ]
	[[ "$output" != *locked* ]]
	grep -q "operation=\"file_lock\" .*profile=\"d\" name=\"$D/types.h\" .*requested_mask=\"k\"" "$LOG"
	rm -f "$LOG"
	run cx dk /usr/bin/flock -s "$D/types.h" /usr/bin/dash -c "echo locked"
	[ "$status" -eq 0 ]
	[ "$output" = locked ]
	[ ! -s "$LOG" ]
}

@test "a hole in the tree keeps it in fsgate, which refuses the hole; CAPGATE_DIRECT=0 keeps all there" {
	run mounted dhole
	[ -z "$output" ]
	run cx dhole /usr/bin/cat "$D/types.h"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	[ ! -s "$LOG" ] # a plain deny is quiet
	run cx dhole /usr/bin/cat "$D/errno.h"
	[ "$status" -eq 0 ]
	CAPGATE_DIRECT=0 run mounted d
	[ -z "$output" ]
	# in fsgate, the same write is refused the same way
	rm -f "$LOG"
	CAPGATE_DIRECT=0 run cx d /usr/bin/touch "$D/new"
	[ "$status" -ne 0 ]
	grep -q "operation=\"open\" .*profile=\"d\" name=\"$D/new\" .*denied_mask=\"w\"" "$LOG"
}

# The working directory: a build's tree, read-write.
work_policy() {
	mkdir -p "$W/work/proj/sub"
	echo data >"$W/work/proj/f"
	local p name extra
	for p in wl:rwl w:rw; do
		name=${p%%:*}
		cat >"$W/pol/$name" <<EOF
#include <tunables/global>
profile $name {
  #include <abstractions/base>
  /usr/bin/{dash,cat,mv,rm,ln,mkdir,chmod} mrix,
  @{PROC}/@{pid}/mountinfo r,
  $D/{,**} r,
  $W/work/ r,
  $W/work/** ${p#*:},
}
EOF
	done
}

@test "the working directory's uniform tree is the host's, read-write; links need l; exec needs x" {
	work_policy
	cd "$W/work/proj"
	run cx wl /usr/bin/dash -c "cat /proc/self/mountinfo"
	# $W/work/ is a glob root (its own verdict is r): the tree below it is bound
	[[ "$output" == *" $W/work/proj rw,"*noexec* ]]
	# (with a read-only one beside it, writes go past the supervisor)
	[[ "$output" == *" $D ro,"* ]]
	[[ "$output" != *" $W/work rw"* ]]
	run cx wl /usr/bin/dash -c "echo new >g; echo more >>g; mv g sub/h; ln sub/h l; chmod 600 l; rm f; mkdir d; cat sub/h"
	[ "$status" -eq 0 ]
	[ "$output" = "new
more" ]
	[ -e sub/h ] && [ ! -e f ] && [ -d d ] && [ "$(stat -c %h sub/h)" -eq 2 ]
	[ ! -s "$LOG" ]
	# without l, link(2) is refused as AppArmor does
	run cx w /usr/bin/ln sub/h l2
	[ "$status" -ne 0 ]
	[ ! -e l2 ]
	grep -q "operation=\"link\" .*profile=\"w\" name=\"$W/work/proj/l2\" .*requested_mask=\"l\"" "$LOG"
	# no x: the supervisor refuses the exec with its line (the mount is noexec too)
	printf '#!/bin/sh\necho ran\n' >s
	chmod 755 s
	run cx w /usr/bin/dash -c "./s"
	[[ "$output" != *ran* ]]
	grep -q "operation=\"exec\" .*name=\"$W/work/proj/s\"" "$LOG"
}
