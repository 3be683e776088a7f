# Helpers for the netgate bats suites: a work dir, cgroups under the
# detected cgroup2 root, network namespaces joined with nsenter (not
# `ip netns exec`, which remounts /sys and so hides the cgroup2 mount), and
# a teardown that undoes all of it even when a test fails.

NETGATE="$BATS_TEST_DIRNAME/../build/bin/netgate"
PROBE="$BATS_TEST_DIRNAME/netgate_probe.py"

cg_root() { awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts; }

ng_setup() {
	CGROOT=$(cg_root)
	[ -n "$CGROOT" ] || skip "no cgroup2 mount"
	TAG="ng$$t${BATS_TEST_NUMBER}"
	WORK=$(mktemp -d /dev/shm/netgate-test.XXXXXX)
	mkdir -p "$WORK/pol"
	CGS=()
	NSLIST=()
	PIDS=()
}

ng_teardown() {
	local p ns cg
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for cg in "${CGS[@]}"; do
		# Bindings first (in each namespace we made, and the host's).
		"$NETGATE" detach --cgroup "$cg" 2>/dev/null
		for ns in "${NSLIST[@]}"; do
			nsenter --net="/run/netns/$ns" "$NETGATE" detach --cgroup "$cg" 2>/dev/null
		done
	done
	# Deepest cgroups first; kill what is left in them.
	for ((i = ${#CGS[@]} - 1; i >= 0; i--)); do
		cg="$CGROOT/${CGS[i]}"
		[ -d "$cg" ] || continue
		[ -e "$cg/cgroup.kill" ] && echo 1 >"$cg/cgroup.kill" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
	done
	for ns in "${NSLIST[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "$WORK" ] && rm -rf "$WORK"
	true
}

# profile NAME <<< "rules": writes $WORK/pol/NAME as `profile NAME { rules }`.
profile() {
	{ echo "profile $1 {"; cat; echo "}"; } >"$WORK/pol/$1"
}

# mkcg NAME: a cgroup below the root, removed by teardown.
mkcg() {
	mkdir -p "$CGROOT/$1"
	CGS+=("$1")
}

# in_cg CG CMD...: run CMD with the calling shell's namespaces inside CG.
in_cg() {
	local cg=$1
	shift
	bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$CGROOT/$cg" "$@"
}

# in_ns NS CMD...: run CMD in netns NS.
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# Two namespaces joined by a veth pair:
#   $NSC (client side) 10.99.0.1, fd99::1
#   $NSV (server side) 10.99.0.2 and 10.99.0.3, fd99::2 and fd99::3
# both with lo up (127.0.0.1, ::1).
two_ns() {
	NSC="${TAG}c"
	NSV="${TAG}s"
	ip netns add "$NSC"
	NSLIST+=("$NSC")
	ip netns add "$NSV"
	NSLIST+=("$NSV")
	ip link add "${TAG}a" type veth peer name "${TAG}b"
	ip link set "${TAG}a" netns "$NSC"
	ip link set "${TAG}b" netns "$NSV"
	in_ns "$NSC" ip link set lo up
	in_ns "$NSV" ip link set lo up
	in_ns "$NSC" ip addr add 10.99.0.1/24 dev "${TAG}a"
	in_ns "$NSC" ip -6 addr add fd99::1/64 dev "${TAG}a" nodad
	in_ns "$NSC" ip link set "${TAG}a" up
	in_ns "$NSV" ip addr add 10.99.0.2/24 dev "${TAG}b"
	in_ns "$NSV" ip addr add 10.99.0.3/24 dev "${TAG}b"
	in_ns "$NSV" ip -6 addr add fd99::2/64 dev "${TAG}b" nodad
	# deprecated, so replies from the server choose fd99::2 as their source
	in_ns "$NSV" ip -6 addr add fd99::3/64 dev "${TAG}b" nodad preferred_lft 0
	in_ns "$NSV" ip link set "${TAG}b" up
}

# bg CMD...: start CMD in the background, in the (unconfined) cgroup
# ${TAG}srv that teardown kills, so nothing it forks outlives the test.
bg() {
	[ -d "$CGROOT/${TAG}srv" ] || mkcg "${TAG}srv"
	(echo "$BASHPID" >"$CGROOT/${TAG}srv/cgroup.procs" && "$@") >/dev/null 2>&1 &
	PIDS+=($!)
}

# Servers in the server namespace, answering on every address.
tcp_server() { # NS PORT
	bg in_ns "$1" socat "TCP6-LISTEN:$2,reuseaddr,fork,ipv6only=0" SYSTEM:'echo hi'
}
udp_server() { # NS PORT
	bg in_ns "$1" python3 "$PROBE" echo-udp "$2"
}
http_server() { # NS PORT
	bg in_ns "$1" python3 -m http.server --bind :: "$2" --directory "$WORK"
}

# wait_port NS PORT [udp]: until something listens.
wait_port() {
	local flag=-tln
	[ "${3:-}" = udp ] && flag=-uln
	for _ in $(seq 50); do
		in_ns "$1" ss -H $flag "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	echo "nothing listens on $2" >&2
	return 1
}

# attach NS CG PROFILE: bind in namespace NS.
attach() {
	in_ns "$1" "$NETGATE" attach --policy "$WORK/pol" --cgroup "$2" --profile "$3"
}

# probe NS CG ARGS...: the probe confined in CG inside NS; prints outcome.
probe() {
	local ns=$1 cg=$2
	shift 2
	in_ns "$ns" bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ \
		"$CGROOT/$cg" python3 "$PROBE" "$@"
}

# expect OUTCOME CMD...: run CMD, compare its printed outcome.
expect() {
	local want=$1 got
	shift
	got=$("$@" 2>&1 | tail -1)
	if [ "$got" != "$want" ]; then
		echo "expected $want, got '$got' from: $*" >&2
		return 1
	fi
}
