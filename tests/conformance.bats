#!/usr/bin/env bats
# AppArmor's own parser test corpus through `capgate check`: agreement with
# each case's #=EXRESULT, per category. Classes this project enforces must
# agree on at least 99% of their cases, the others on at least 95%.

setup_file() {
	CORPUS=${CONFORMANCE_DIR:-$BATS_TEST_DIRNAME/../../shared/conformance/apparmor}
	[ -d "$CORPUS/tst/simple_tests" ] || CORPUS=/work/shared/conformance/apparmor
	export CORPUS
	"$BATS_TEST_DIRNAME/lib/conformance" -v "$BATS_TEST_DIRNAME/../build/bin/capgate" "$CORPUS" \
		>"$BATS_FILE_TMPDIR/agree" 2>"$BATS_FILE_TMPDIR/mismatches"
}

# category -> required percent
check() {
	local cat=$1 need=$2 line
	line=$(grep "^$cat " "$BATS_FILE_TMPDIR/agree")
	[ -n "$line" ] || { echo "no cases for $cat"; return 1; }
	set -- $line
	echo "# $cat: $2/$3 agree ($4%), need $need%" >&3
	grep "/$cat/" "$BATS_FILE_TMPDIR/mismatches" | sed 's/^/#   expected got: /' >&3 || true
	awk -v a="$2" -v t="$3" -v n="$need" 'BEGIN { exit !(100 * a >= n * t) }'
}

@test "corpus is present" { [ -d "$CORPUS/tst/simple_tests" ]; }
@test "conformance file >= 99%" { check file 99; }
@test "conformance link >= 99%" { check link 99; }
@test "conformance capability >= 99%" { check capability 99; }
@test "conformance network >= 99%" { check network 99; }
@test "conformance profile >= 99%" { check profile 99; }
@test "conformance vars >= 99%" { check vars 99; }
@test "conformance xtrans >= 99%" { check xtrans 99; }
@test "conformance rlimits >= 99%" { check rlimits 99; }
@test "conformance include_tests >= 99%" { check include_tests 99; }
@test "conformance bare_include_tests >= 99%" { check bare_include_tests 99; }
@test "conformance change_hat >= 99%" { check change_hat 99; }
@test "conformance conditional >= 99%" { check conditional 99; }
@test "conformance abi >= 99%" { check abi 99; }
@test "conformance all >= 99%" { check all 99; }
@test "conformance rewrite >= 99%" { check rewrite 99; }
@test "conformance regressions >= 99%" { check regressions 99; }
@test "conformance change_profile >= 99%" { check change_profile 99; }
@test "conformance dbus >= 99%" { check dbus 99; }
@test "conformance mount >= 99%" { check mount 99; }
@test "conformance mqueue >= 99%" { check mqueue 99; }
@test "conformance namespaces >= 99%" { check namespaces 99; }
@test "conformance ptrace >= 99%" { check ptrace 99; }
@test "conformance signal >= 99%" { check signal 99; }
@test "conformance unix >= 99%" { check unix 99; }
@test "conformance io_uring >= 99%" { check io_uring 99; }
@test "conformance xattrs >= 99%" { check xattrs 99; }
