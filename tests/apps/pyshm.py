#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""pyshm: the Python workload of tests/integration/10[45]-app-python-*.sh.

    pyshm.py DIR SHM_MB ANON_MB WORKERS

Creates a multiprocessing.shared_memory.SharedMemory of SHM_MB MiB (a named
file in /dev/shm whose descriptor the process keeps open) and an anonymous
MAP_SHARED buffer of ANON_MB MiB (mmap.mmap(-1, ...)), fills both with
pseudo-random bytes from a seed, and starts a multiprocessing Pool of
WORKERS forked workers that attach the shared memory by name and inherit the
anonymous buffer. It records the SHA-256 of every MiB, writes its pid and
the workers' pids to DIR/ready (one a line) and the segment's name to
DIR/shm-name, then waits for SIGUSR1.

On SIGUSR1 it reads a tag from DIR/req and writes DIR/res.TAG:
  OK <bytes> <details>      every MiB hashed by the workers through their own
                            mappings, and by a process started now that
                            attaches the segment anew (shm_open + mmap), is
                            the dumped one
  BAD <what>                the first difference
SIGTERM ends it (the segment is unlinked).
"""
import hashlib
import mmap
import multiprocessing as mp
import os
import signal
import sys
import time
from multiprocessing import shared_memory

MIB = 1 << 20
_shm = None
_anon = None


def fill(buf, seed, nmib):
    for i in range(nmib):
        buf[i * MIB:(i + 1) * MIB] = hashlib.shake_256(b"%s-%d" % (seed, i)).digest(MIB)


def digests(buf, nmib):
    return [hashlib.sha256(buf[i * MIB:(i + 1) * MIB]).hexdigest() for i in range(nmib)]


def attach(name):
    global _shm
    _shm = shared_memory.SharedMemory(name=name)


def hash_chunk(job):
    which, i = job
    buf = _shm.buf if which == "shm" else _anon
    return which, i, os.getpid(), hashlib.sha256(buf[i * MIB:(i + 1) * MIB]).hexdigest()


def fresh_attach(name, nmib, q):
    """a process started after the restore maps the segment anew"""
    try:
        s = shared_memory.SharedMemory(name=name)
        q.put(digests(s.buf, nmib))
        s.close()
    except Exception as e:  # reported, never hidden
        q.put("error: %r" % e)


def verify(pool, name, want, nshm, nanon):
    t0 = time.monotonic()
    jobs = [("shm", i) for i in range(nshm)] + [("anon", i) for i in range(nanon)]
    pids = set()
    for which, i, pid, got in pool.map(hash_chunk, jobs, chunksize=4):
        pids.add(pid)
        if got != want[which][i]:
            return "BAD %s MiB %d differs in worker %d" % (which, i, pid)
    t1 = time.monotonic()
    q = mp.Queue()
    p = mp.Process(target=fresh_attach, args=(name, nshm, q))
    p.start()
    got = q.get(timeout=120)
    p.join(30)
    if isinstance(got, str):
        return "BAD fresh attach: %s" % got
    for i, d in enumerate(got):
        if d != want["shm"][i]:
            return "BAD shm MiB %d differs in a process that attached it anew" % i
    return "OK %d workers=%d workers_ms=%d fresh_attach_ms=%d" % (
        (nshm + nanon) * MIB, len(pids), (t1 - t0) * 1000, (time.monotonic() - t1) * 1000)


def main():
    global _anon
    d, nshm, nanon, nworkers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    seed = os.urandom(8).hex().encode()
    shm = shared_memory.SharedMemory(create=True, size=nshm * MIB)
    _anon = mmap.mmap(-1, nanon * MIB)
    fill(shm.buf, seed + b"-shm", nshm)
    fill(_anon, seed + b"-anon", nanon)
    want = {"shm": digests(shm.buf, nshm), "anon": digests(_anon, nanon)}
    pool = mp.Pool(nworkers, initializer=attach, initargs=(shm.name,))
    pids = set(r[2] for r in pool.map(hash_chunk, [("shm", 0)] * (4 * nworkers), chunksize=1))
    # signals wake the main thread through a pipe, whichever thread gets them
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)
    for sig in (signal.SIGUSR1, signal.SIGTERM):
        signal.signal(sig, lambda *a: None)
    with open(os.path.join(d, "shm-name"), "w") as f:
        f.write("/dev/shm/%s\n" % shm.name)
    with open(os.path.join(d, "ready.tmp"), "w") as f:
        f.write("%d\n" % os.getpid())
        for p in pool._pool:
            f.write("%d\n" % p.pid)
    os.rename(os.path.join(d, "ready.tmp"), os.path.join(d, "ready"))
    print("pyshm: seed %s, %d MiB shared_memory %s, %d MiB anon, workers %s" %
          (seed.decode(), nshm, shm.name, nanon, sorted(pids)), flush=True)
    while True:
        sig = os.read(rfd, 1)[0]
        if sig == signal.SIGTERM:
            break
        if sig != signal.SIGUSR1:
            continue
        with open(os.path.join(d, "req")) as f:
            tag = f.read().strip()
        res = verify(pool, shm.name, want, nshm, nanon)
        with open(os.path.join(d, "res.%s.tmp" % tag), "w") as f:
            f.write(res + "\n")
        os.rename(os.path.join(d, "res.%s.tmp" % tag), os.path.join(d, "res.%s" % tag))
    pool.terminate()
    shm.close()
    shm.unlink()


if __name__ == "__main__":
    main()
