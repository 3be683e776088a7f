#!/usr/bin/env bats
# Data integrity under concurrency through fsgate (allow-all profile, and a
# realistic profile): a checksummed workload of writers, renamers and
# readers, then stress-ng's filesystem stressors with --verify. The daemon
# must still be alive and the mount sane at the end.

FSGATE="$BATS_TEST_DIRNAME/../build/bin/fsgate"

setup() {
	T=$(mktemp -d /dev/shm/fsgs.XXXXXX)
	chmod 755 "$T"
	S="$T/src" M="$T/mnt"
	mkdir -p "$T/pol" "$M" "$S/work"
	chmod 1777 "$S/work"
	cat >"$T/pol/all" <<EOF
profile all {
  / r,
  /** rwlkmix,
}
profile real {
  $S/ r,
  $S/work/ rw,
  owner $S/work/** rwk,
  $S/work/** r,
  deny $S/work/**/secret* rw,
}
EOF
}

teardown() {
	if grep -q " $M fuse" /proc/self/mounts; then
		fusermount3 -u "$M" 2>/dev/null || umount -l "$M"
	fi
	kill "$(cat "$T/pid")" 2>/dev/null || true
	rm -rf "$T"
}

start_fsgate() { # profile
	"$FSGATE" --policy "$T/pol" --profile "$1" --log "$T/log" -f "$S" "$M" \
		2>"$T/err" 3>&- &
	echo $! >"$T/pid"
	for _ in $(seq 100); do
		grep -q " $M fuse.fsgate " /proc/self/mounts && return 0
		sleep 0.05
	done
	return 1
}

alive() { kill -0 "$(cat "$T/pid")"; }

@test "stress: checksummed writers, renamers and readers (allow-all)" {
	start_fsgate all
	python3 "$BATS_TEST_DIRNAME/fsgate_stress.py" "$M/work" 15
	alive
	# what the daemon wrote is what the source holds
	python3 "$BATS_TEST_DIRNAME/fsgate_stress.py" "$S/work" 0
}

@test "stress: pushed page-cache content never races a write (read back what was just written)" {
	start_fsgate all
	run python3 "$BATS_TEST_DIRNAME/fsgate_push_race.py" "$M/work/f" 5000
	echo "$output"
	[ "$status" -eq 0 ]
	alive
}

@test "stress: checksummed workload as a non-root user under a realistic profile" {
	start_fsgate real
	setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		/usr/bin/python3 "$BATS_TEST_DIRNAME/fsgate_stress.py" "$M/work" 10
	alive
	[ ! -s "$T/log" ]
}

@test "stress: stress-ng filesystem stressors with --verify" {
	command -v stress-ng || skip "stress-ng not installed"
	start_fsgate all
	cd "$M/work"
	stress-ng --temp-path "$M/work" --verify --timeout 15s --metrics-brief \
		--hdd 2 --hdd-bytes 16M --dir 1 --link 1 --rename 1 --flock 2 \
		--lockf 2 --fallocate 1 --fallocate-bytes 16M --seek 1 \
		--seek-size 16M --chmod 1 --utime 1 --xattr 1 --filename 1 \
		--copy-file 1 --copy-file-bytes 128M --iomix 1 --iomix-bytes 16M \
		--readahead 1 --readahead-bytes 16M 2>&1 | tail -30
	[ "${PIPESTATUS[0]}" -eq 0 ]
	alive
	cd /
	ls "$M" >/dev/null
}
