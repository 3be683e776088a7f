"""fsgate_push_race.py FILE N: a writer rewrites FILE N times (new content
and length each time, through O_TRUNC or ftruncate) while two readers keep
opening and reading it; after each write the writer reads FILE back and
must see exactly what it wrote. fsgate pushes a small file's content into
the kernel's page cache at read opens: a push racing a write would leave
stale pages. Exits 1 on any stale read."""
import os
import sys
import time

path, n = sys.argv[1], int(sys.argv[2])
run = path + ".run"
open(run, "w").close()
readers = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        end = time.time() + 120
        while time.time() < end and os.path.exists(run):
            try:
                with open(path, "rb") as f:
                    f.read()
            except OSError:
                pass
        os._exit(0)
    readers.append(pid)
stale = 0
for i in range(n):
    data = (b"%08d" % i) * (256 + i % 300)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if i % 2 else 0), 0o644)
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))
    os.close(fd)
    with open(path, "rb") as f:
        if f.read() != data:
            stale += 1
os.unlink(run)
for pid in readers:
    os.waitpid(pid, 0)
print("stale reads: %d of %d" % (stale, n))
sys.exit(1 if stale else 0)
