#!/usr/bin/env python3
"""Checksummed concurrent workload for fsgate: writers create files whose
name carries the SHA-256 of their content (written under a temporary name,
fsynced, then renamed into place, sometimes over an older file), renamers
move files between directories, readers read whatever they find and check
it against its name. Any mismatch is corruption. Usage: DIR SECONDS
(SECONDS 0: only check what DIR holds)."""
import hashlib, os, random, sys, threading, time

root, secs = sys.argv[1], float(sys.argv[2])
dirs = [os.path.join(root, "d%d" % i) for i in range(4)]
for d in dirs:
    os.makedirs(d, exist_ok=True)
stop = time.time() + secs
errors, counts = [], {"w": 0, "r": 0, "m": 0}
lock = threading.Lock()

def writer(n):
    rnd = random.Random(n)
    while time.time() < stop:
        data = rnd.randbytes(rnd.choice([0, 1, 100, 4096, 65537, 300000]))
        h = hashlib.sha256(data).hexdigest()[:16]
        d = rnd.choice(dirs)
        tmp = os.path.join(d, ".tmp.%d.%d" % (n, rnd.getrandbits(32)))
        with open(tmp, "wb") as f:
            # several writes at odd sizes, some through pwrite
            pos = 0
            while pos < len(data):
                step = rnd.randint(1, 70000)
                f.write(data[pos:pos + step])
                pos += step
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(d, h))
        with lock:
            counts["w"] += 1

def reader(n):
    rnd = random.Random(1000 + n)
    while time.time() < stop:
        d = rnd.choice(dirs)
        for name in os.listdir(d):
            if name.startswith("."):
                continue
            try:
                with open(os.path.join(d, name), "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue
            if hashlib.sha256(data).hexdigest()[:16] != name:
                with lock:
                    errors.append("%s/%s: %d bytes, bad checksum" % (d, name, len(data)))
            with lock:
                counts["r"] += 1

def mover(n):
    rnd = random.Random(2000 + n)
    while time.time() < stop:
        a, b = rnd.sample(dirs, 2)
        names = [x for x in os.listdir(a) if not x.startswith(".")]
        if not names:
            time.sleep(0.01)
            continue
        name = rnd.choice(names)
        try:
            if rnd.random() < 0.2:
                os.unlink(os.path.join(a, name))
            else:
                os.rename(os.path.join(a, name), os.path.join(b, name))
        except FileNotFoundError:
            pass
        with lock:
            counts["m"] += 1

threads = [threading.Thread(target=f, args=(i,)) for i, f in
           enumerate([writer] * 4 + [reader] * 3 + [mover] * 2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
# a final full pass: every file must match its name
for d in dirs:
    for name in os.listdir(d):
        if name.startswith("."):
            errors.append("%s/%s: temporary left behind" % (d, name))
            continue
        data = open(os.path.join(d, name), "rb").read()
        if hashlib.sha256(data).hexdigest()[:16] != name:
            errors.append("%s/%s: bad checksum at the end" % (d, name))
print("writes=%(w)d reads=%(r)d moves=%(m)d" % counts)
for e in errors[:20]:
    print("ERROR", e)
idle = secs > 0 and (counts["w"] == 0 or counts["r"] == 0)
sys.exit(1 if errors or idle else 0)
