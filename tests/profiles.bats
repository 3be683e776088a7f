#!/usr/bin/env bats
# Every profile of Debian's apparmor, apparmor-profiles and
# apparmor-profiles-extra packages compiles with the packages' own
# tunables and abstractions (-I /etc/apparmor.d).

@test "Debian's shipped profiles all pass capgate check" {
	[ -d /etc/apparmor.d/tunables ] || skip "apparmor package not installed"
	local n=0 bad=0
	for f in /etc/apparmor.d/* /usr/share/apparmor/extra-profiles/*; do
		[ -f "$f" ] || continue
		case "$f" in */README) continue ;; esac
		n=$((n + 1))
		if ! "$BATS_TEST_DIRNAME/../build/bin/capgate" check -I /etc/apparmor.d "$f" >/dev/null 2>"$BATS_TEST_TMPDIR/err"; then
			bad=$((bad + 1))
			echo "# $f: $(grep -m1 error "$BATS_TEST_TMPDIR/err")" >&3
		fi
	done
	echo "# $((n - bad))/$n Debian profiles pass" >&3
	[ "$n" -gt 20 ]
	[ "$bad" -eq 0 ]
}

@test "the profiles we ship compile without errors" {
	run "$BATS_TEST_DIRNAME/../build/bin/capgate" check "$BATS_TEST_DIRNAME/../policies"
	echo "$output"
	[ "$status" -eq 0 ]
	! grep -q ': error: ' <<<"$output" || false
}

@test "capgate check reports file:line:col errors and exits 1" {
	d=$(mktemp -d /dev/shm/cgcheck.XXXXXX)
	printf 'profile bad {\n  /etc/passwd rq,\n  capability frobnicate,\n}\n' >"$d/bad"
	run "$BATS_TEST_DIRNAME/../build/bin/capgate" check "$d/bad"
	rm -rf "$d"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "bad:2:15: error: Invalid mode 'rq'" <<<"$output"
	grep -q "bad:3:14: error: Invalid capability frobnicate" <<<"$output"
}

@test "capgate query prints mode strings" {
	d=$(mktemp -d /dev/shm/cgquery.XXXXXX)
	printf 'profile q {\n  /etc/** r,\n  /usr/bin/* ix,\n  /var/log/q rwk,\n  /usr/lib/** mr,\n  network inet stream,\n}\n' >"$d/q"
	cg="$BATS_TEST_DIRNAME/../build/bin/capgate"
	r1=$("$cg" query --policy "$d" --profile q /var/log/q)
	r2=$("$cg" query --policy "$d" --profile q /usr/lib/libc.so)
	r3=$("$cg" query --policy "$d" --profile q /usr/bin/ls)
	r4=$("$cg" query --policy "$d" --profile q /root/x)
	r5=$("$cg" query --policy "$d" --profile q --network inet stream)
	r6=$("$cg" query --policy "$d" --profile q --network inet6 stream)
	rm -rf "$d"
	echo "$r1 $r2 $r3 $r4 $r5 $r6"
	[ "$r1" = rwk ] && [ "$r2" = mr ] && [ "$r3" = ix ] && [ "$r4" = - ]
	[ "$r5" = allow ] && [ "$r6" = deny ]
}
