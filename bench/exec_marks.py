#!/usr/bin/env python3
"""exec_marks.py: where a `capgate exec` start-up spends its time, for builds
side by side.

    bench/exec_marks.py N POLICY_DIR PROFILE BINDIR [BINDIR...]

Each BINDIR holds a build's capgate and fsgate (build/bin of a worktree:
capgate runs the fsgate next to it). The builds take turns, N runs each, of
`capgate exec --policy POLICY_DIR --profile PROFILE -- /bin/true` with
CAPGATE_DEBUG=1; printed are the median of each milestone (ms since the
launcher's start, as CAPGATE_DEBUG shows them) and of the whole run's wall
time. Turns, not blocks: this machine's speed drifts by 10-30% within
minutes, which would bias one build's block against the other's.
"""
import os
import re
import statistics
import subprocess
import sys
import time

MARK = re.compile(r"capgate: +([0-9.]+) ms (.*)")


def run(bindir, policy, profile):
    env = dict(os.environ, CAPGATE_DEBUG="1")
    cmd = [os.path.join(bindir, "capgate"), "exec", "--policy", policy,
           "--profile", profile, "--", "/bin/true"]
    t = time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = (time.monotonic() - t) * 1000
    if p.returncode != 0:
        sys.exit("%s exited %d:\n%s" % (cmd[0], p.returncode, p.stderr.decode()))
    marks = {"(wall)": wall}
    for line in p.stderr.decode().splitlines():
        m = MARK.match(line)
        if m:
            marks[m.group(2)] = float(m.group(1))
    return marks


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    n, policy, profile, dirs = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    seen = {d: {} for d in dirs}
    for _ in range(n):
        for d in dirs:
            for k, v in run(d, policy, profile).items():
                seen[d].setdefault(k, []).append(v)
            time.sleep(0.03)
    med = {d: {k: statistics.median(v) for k, v in seen[d].items()} for d in dirs}
    keys = sorted({k for d in dirs for k in med[d]},
                  key=lambda k: min(med[d].get(k, 1e9) for d in dirs))
    print("%-36s" % "milestone (median ms)" + "".join("%12s" % ("build %d" % i)
                                                      for i in range(1, len(dirs) + 1)))
    for k in keys:
        print("%-36s" % k[:36] + "".join("%12.2f" % med[d][k] if k in med[d] else "%12s" % "-"
                                         for d in dirs))
    for i, d in enumerate(dirs, 1):
        print("build %d: %s" % (i, d))


if __name__ == "__main__":
    main()
