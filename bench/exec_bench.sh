#!/usr/bin/env bash
# bench/exec_bench.sh: capgate exec side by side with plain and bubblewrap,
# in one run (a benchmark, not a test). Run as root from the source tree:
#   [R=runs] bench/exec_bench.sh [N]   N start-ups per row (default 200),
#                                      R runs of each workload (default 5)
#   ONLY=start bench/exec_bench.sh [N]  just the start-up rows
# Prints a table: start-up latency of /bin/true (bwrap, plain, capgate;
# one at a time and back to back, with ratios to bwrap from the same run),
# then two workloads confined vs unconfined, medians of R interleaved
# runs: a C build (make -j2 of 200 generated files) and `git status` on a
# tree of 20,000 files.
set -u
cd "$(dirname "$0")/.." || exit 2
CAPGATE=$(realpath "${CAPGATE:-build/bin/capgate}")
N=${1:-200}
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 2; }
W=$(mktemp -d /dev/shm/capgate-bench.XXXXXX)
# a lingering shared fsgate (CAPGATE_FSGATE_LINGER rows) ends with the bench;
# the fuse module's enable_uring goes back to what it was
URING=/sys/module/fuse/parameters/enable_uring
URING_WAS=$(cat "$URING" 2>/dev/null || true)
uring() { [ -w "$URING" ] && echo "$1" >"$URING"; }
trap 'pkill -f "fsgate --serve.*--policy $W/pol"; rm -rf "$W"; [ -z "$URING_WAS" ] || uring "$URING_WAS"' EXIT
uring N # the rows without "io_uring": fsgate reads /dev/fuse
mkdir -p "$W/pol"
cp -R policies/tunables policies/abstractions "$W/pol/"
# A realistic profile for a build and git: the tree read-write, the tool
# chain and libraries mapped and executed (ix), nothing else.
cat >"$W/pol/bench" <<P
#include <tunables/global>
profile bench {
  #include <abstractions/base>
  /usr/bin/** mrix,
  /usr/lib/** mrix,
  /usr/libexec/** mrix,
  /usr/include/** r,
  /usr/share/** r,
  /etc/** r,
  /tmp/** rw,
  /dev/shm/ r,
  $W/ r,
  $W/** rwlk,
  @{PROC}/** r,
  owner @{HOME}/.gitconfig r,
  owner @{HOME}/.config/git/{,**} r,
  network unix,
}
P

now() { date +%s.%N; }
per() { # per N START END -> ms per run
	awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", (b - a) * 1000 / n }'
}

# Start-up latency, two ways, by bench/exec_lat.c (fork, exec, reap):
# "single" runs one at a time with 50 ms of idle in between (what a user's
# one start sees), "loop" runs them back to back (kernel work deferred by
# one run, e.g. RCU callbacks, lands on the next). Median and mean of N
# runs, and the mean's ratio to bwrap's in the same column.
cc -O2 -o "$W/exec_lat" bench/exec_lat.c || exit 2
BWRAP_SINGLE="" BWRAP_LOOP=""
lat() { # lat LABEL CMD...
	local label=$1 s l
	shift
	s=$("$W/exec_lat" "$N" 50 -- "$@") || s="- -"
	l=$("$W/exec_lat" "$N" 0 -- "$@") || l="- -"
	set -- $s $l
	if [ "$label" = bwrap ]; then BWRAP_SINGLE=$2 BWRAP_LOOP=$4; fi
	printf '%-34s %7s %7s %6s   %7s %7s %6s\n' "$label" "$1" "$2" \
		"$(ratio "$2" "$BWRAP_SINGLE")" "$3" "$4" "$(ratio "$4" "$BWRAP_LOOP")"
}
ratio() { [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
ratio2() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

echo "# start-up latency of /bin/true, ms ($N runs each; ratio: mean / bwrap's mean)"
printf '%-34s %7s %7s %6s   %7s %7s %6s\n' "" "single" "" "" "loop" "" ""
printf '%-34s %7s %7s %6s   %7s %7s %6s\n' "workload" "median" "mean" "ratio" "median" "mean" "ratio"
if command -v bwrap >/dev/null; then
	lat bwrap bwrap --ro-bind / / --dev /dev --proc /proc /bin/true
else
	echo "bwrap: not installed (no ratios)"
fi
lat "plain /bin/true" /bin/true
lat "capgate exec --profile bench" "$CAPGATE" exec --policy "$W/pol" --profile bench -- /bin/true
# The shared fsgate kept between runs: its mount's caches stay warm.
CAPGATE_FSGATE_LINGER=600 "$CAPGATE" exec --policy "$W/pol" --profile bench -- /bin/true
CAPGATE_FSGATE_LINGER=600 lat "capgate exec, fsgate lingering" "$CAPGATE" exec --policy "$W/pol" --profile bench -- /bin/true
CAPGATE_NO_FSGATE=1 lat "capgate exec, without fsgate" "$CAPGATE" exec --policy "$W/pol" --profile bench -- /bin/true
if uring Y; then # fsgate over io_uring (man fsgate: PERFORMANCE)
	lat "capgate exec, FUSE over io_uring" "$CAPGATE" exec --policy "$W/pol" --profile bench -- /bin/true
	uring N
fi
[ "${ONLY:-}" = start ] && exit 0

# A C build: 200 small translation units and a link, make -j2.
mkdir -p "$W/src"
for i in $(seq 200); do
	printf '#include <stdio.h>\n#include <string.h>\nint f%d(const char *s) { return (int)strlen(s) + %d; }\n' "$i" "$i" >"$W/src/f$i.c"
done
{
	printf 'int main(void) { return 0; }\n'
} >"$W/src/main.c"
cat >"$W/src/Makefile" <<'M'
SRC = $(wildcard *.c)
prog: $(SRC:.c=.o)
	$(CC) -o $@ $^
clean:
	rm -f *.o prog
M
build() { make -s -C "$W/src" clean && make -s -j2 -C "$W/src"; }
gs() { git -C "$W/repo" status --porcelain; }
export -f build gs
export W

# Workloads: each variant R times, the variants taking turns within a
# round (so that the machine's load hits them alike); the median of each,
# and its ratio to the unconfined median.
R=${R:-5}
declare -A T
run1() { # run1 KEY ENV... -- CMD...: one timed run, appended to T[KEY]
	local key=$1 t0 t1
	shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	t0=$(now)
	env "${envs[@]}" "$@" >/dev/null 2>"$W/err" || { echo "# $key failed:" >&2; tail -3 "$W/err" >&2; }
	t1=$(now)
	T[$key]+="$(per 1 "$t0" "$t1") "
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
report() { # report LABEL KEY BASEKEY
	local m b
	m=$(echo "${T[$2]}" | median)
	b=$(echo "${T[$3]}" | median)
	printf '%-44s %10s ms %6s   (%s)\n' "$1" "$m" "$(ratio2 "$m" "$b")" "${T[$2]% }"
}
CG=("$CAPGATE" exec --policy "$W/pol" --profile bench -- /usr/bin/bash -c)
workload() { # workload NAME FUNC: R rounds of its variants
	local name=$1 f=$2
	# the lingering fsgate: one run to start and warm it
	CAPGATE_FSGATE_LINGER=600 "${CG[@]}" "$f" >/dev/null 2>&1
	for _ in $(seq "$R"); do
		run1 "$f,plain" -- bash -c "$f"
		run1 "$f,cg" -- "${CG[@]}" "$f"
		run1 "$f,nodirect" CAPGATE_DIRECT=0 -- "${CG[@]}" "$f"
		run1 "$f,linger" CAPGATE_FSGATE_LINGER=600 -- "${CG[@]}" "$f"
		run1 "$f,nofsgate" CAPGATE_NO_FSGATE=1 -- "${CG[@]}" "$f"
		if uring Y; then
			run1 "$f,uring" -- "${CG[@]}" "$f"
			uring N
		fi
	done
	report "$name, unconfined" "$f,plain" "$f,plain"
	report "$name, capgate exec" "$f,cg" "$f,plain"
	report "$name, capgate exec, CAPGATE_DIRECT=0" "$f,nodirect" "$f,plain"
	report "$name, capgate exec, fsgate lingering" "$f,linger" "$f,plain"
	report "$name, capgate exec without fsgate" "$f,nofsgate" "$f,plain"
	[ -z "${T[$f,uring]:-}" ] ||
		report "$name, capgate exec, FUSE over io_uring" "$f,uring" "$f,plain"
}

echo "# workloads: median of $R runs each (ratio: to unconfined's median; all runs in parentheses)"
build >/dev/null 2>&1
# Run from the source tree, as a build is: its tree and the tool chain's
# directories are direct subtrees (capgate(1)); CAPGATE_DIRECT=0 serves
# everything through fsgate. "without fsgate" binds the host's / as it
# is: the launcher's own share (exec and mmap supervision, namespaces,
# seccomp, cgroups).
cd "$W/src" || exit 2
workload "C build (200 files, make -j2)" build

# git status on 20,000 files.
mkdir -p "$W/repo"
(
	cd "$W/repo" || exit
	for d in $(seq 100); do
		mkdir -p "d$d"
		for f in $(seq 200); do echo "$d $f" >"d$d/f$f"; done
	done
	git init -q . && git add -A && git -c gc.auto=0 -c maintenance.auto=false -c user.email=b@x -c user.name=b commit -qm init
)
# Files written in the same second as the index are "racily clean": git
# re-reads them all until an index written a second later settles them,
# which would land on whichever timed run comes first.
sleep 1.1
gs >/dev/null
cd "$W/repo" || exit 2
workload "git status (20,000 files)" gs
