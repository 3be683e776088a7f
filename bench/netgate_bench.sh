#!/usr/bin/env bash
# netgate benchmark, in a network namespace of its own (loopback only):
#  1. ruleset install time for 1, 100 and 1,000 profiles (one cgroup each,
#     distinct rules, one `netgate attach --from` batch), and the time to
#     replace one binding with 1,000 loaded;
#  2. loopback TCP throughput and connect rate of an unconfined and a
#     confined client, side by side in the same run: with no netgate table,
#     with 1 profile loaded, with 1,000 profiles loaded.
# usage: bench/netgate_bench.sh [SECONDS_PER_MEASUREMENT] [REPEATS]
# Needs root, cgroup v2, a built tree (make). Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-1}
REPS=${2:-15}
NETGATE=$PWD/build/bin/netgate
[ -x "$NETGATE" ] || { echo "build first (make)" >&2; exit 2; }
mkdir -p build/bench
cc -O2 -Wall -o build/bench/tcpbench bench/netgate_tcpbench.c
BENCH=$PWD/build/bench/tcpbench
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
TAG=ngbench$$
NS=ngbench$$
WORK=$(mktemp -d /dev/shm/netgate-bench.XXXXXX)
NPROF=1000

cleanup() {
	set +e
	nsenter --net="/run/netns/$NS" "$NETGATE" detach --all 2>/dev/null
	[ -e "$CGROOT/$TAG/srv/cgroup.kill" ] && echo 1 >"$CGROOT/$TAG/srv/cgroup.kill"
	sleep 0.2
	for d in $(find "$CGROOT/$TAG" -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$NS"
ns() { nsenter --net="/run/netns/$NS" "$@"; }
ns ip link set lo up
mkdir -p "$WORK/pol" "$CGROOT/$TAG/srv" "$CGROOT/$TAG/free" "$CGROOT/$TAG/one"
for ((i = 0; i < NPROF; i++)); do
	cat >"$WORK/pol/p$i" <<EOP
profile p$i {
  network inet tcp peer=(port=$((10000 + i))),
  network inet tcp peer=(port=5001),
  network inet tcp peer=(port=5002),
  network inet udp,
  deny network inet tcp peer=(port=22),
}
EOP
	mkdir -p "$CGROOT/$TAG/c$i"
done

echo "== install time (one batch each, from an empty table; median of $REPS)"
printf '%-10s %14s %12s %14s %16s\n' profiles "plan+build ms" "commit ms" "netgate ms" "wall ms (+load)"
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for n in 1 100 1000; do
	: >"$WORK/b" ; : >"$WORK/c"; : >"$WORK/w"
	for ((r = 0; r < REPS; r++)); do
		ns "$NETGATE" detach --all
		for ((i = 0; i < n; i++)); do echo "$TAG/c$i p$i"; done >"$WORK/pairs"
		t0=$(date +%s%N)
		out=$(ns "$NETGATE" attach --policy "$WORK/pol" --from "$WORK/pairs" -v 2>&1)
		t1=$(date +%s%N)
		echo "$out" | sed -n 's/.*plan+build \([0-9]*\) us.*/\1/p' >>"$WORK/b"
		echo "$out" | sed -n 's/.*commit \([0-9]*\) us.*/\1/p' >>"$WORK/c"
		echo $(((t1 - t0) / 1000)) >>"$WORK/w"
	done
	b=$(median <"$WORK/b"); c=$(median <"$WORK/c"); w=$(median <"$WORK/w")
	printf '%-10s %14s %12s %14s %16s\n' "$n" "$(calc "$b/1000")" \
		"$(calc "$c/1000")" "$(calc "($b+$c)/1000")" "$(calc "$w/1000")"
done
out=$(ns "$NETGATE" attach --policy "$WORK/pol" --cgroup "$TAG/c5" --profile p7 -v 2>&1)
echo "replace one binding with $NPROF loaded: $(echo "$out" | sed -n 's/.*: \(read.*\)/\1/p')"
ns "$NETGATE" detach --all

echo
echo "== loopback TCP, ${SECS}s per measurement, median of $REPS"
(echo $BASHPID >"$CGROOT/$TAG/srv/cgroup.procs" && exec nsenter --net="/run/netns/$NS" "$BENCH" server 5001) >/dev/null 2>&1 &
disown
for _ in $(seq 50); do ns ss -Htln "sport = :5002" | grep -q . && break; sleep 0.1; done
run_in() { # CG MODE -> number
	ns bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$CGROOT/$TAG/$1" \
		"$BENCH" "$2" 127.0.0.1 $([ "$2" = stream ] && echo 5001 || echo 5002) "$SECS"
}
echo "$TAG/one p0" >"$WORK/pairs1"
{ echo "$TAG/one p0"; for ((i = 1; i < NPROF; i++)); do echo "$TAG/c$i p$i"; done; } >"$WORK/pairsN"
set_state() {
	ns "$NETGATE" detach --all
	case $1 in
	one) ns "$NETGATE" attach --policy "$WORK/pol" --from "$WORK/pairs1" ;;
	many) ns "$NETGATE" attach --policy "$WORK/pol" --from "$WORK/pairsN" ;;
	esac
}
# States interleaved within each repeat, so load drift on a shared machine
# hits all of them alike.
states="none one many"
for ((r = 0; r < REPS; r++)); do
	for st in $states; do
		set_state "$st"
		# alternate who goes first: the second of a pair may find the
		# server busier or warmer
		order="free one"
		[ $((r % 2)) = 1 ] && order="one free"
		for mode in stream connect; do
			for cg in $order; do run_in "$cg" "$mode" >>"$WORK/$st.$cg.$mode"; done
		done
	done
done
ns "$NETGATE" detach --all
pct() { calc "($2 - $1) * 100 / $1"; }
col() { awk -v c="$1" '{ print $c }'; } # column of a results file
printf '%-22s %9s %9s %7s  %9s %9s %7s\n' "" "MB/s free" "confined" "diff" \
	"conn/s" "confined" "diff"
for st in $states; do
	case $st in
	none) label="no netgate table" ;;
	one) label="1 profile loaded" ;;
	many) label="$NPROF profiles loaded" ;;
	esac
	for m in stream connect; do
		for cg in free one; do
			v[0]=$(col 1 <"$WORK/$st.$cg.$m" | median)
			v[1]=$(col 2 <"$WORK/$st.$cg.$m" | median)
			eval "${cg}_${m}_rate=\${v[0]} ${cg}_${m}_cpu=\${v[1]}"
		done
	done
	printf '%-22s %9s %9s %6s%%  %9s %9s %6s%%\n' "$label" \
		"$free_stream_rate" "$one_stream_rate" "$(pct "$free_stream_rate" "$one_stream_rate")" \
		"$free_connect_rate" "$one_connect_rate" "$(pct "$free_connect_rate" "$one_connect_rate")"
	printf '%-22s %9s %9s %6s%%  %9s %9s %6s%%\n' "  CPU us per MB / conn" \
		"$free_stream_cpu" "$one_stream_cpu" "$(pct "$free_stream_cpu" "$one_stream_cpu")" \
		"$free_connect_cpu" "$one_connect_cpu" "$(pct "$free_connect_cpu" "$one_connect_cpu")"
done
echo
echo "(\"free\" runs in an unbound cgroup, \"confined\" in one bound to p0; without a"
echo " table the \"confined\" client is not confined either: that row shows the noise)"
