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
