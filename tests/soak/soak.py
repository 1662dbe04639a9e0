#!/usr/bin/env python3
"""Randomized soak of lazyshm: dump -> lazy restore cycles of tests/soak/soakwl.

Every cycle draws, from SOAK_SEED and its number, a tree of 1-4 tasks sharing
regions of random kinds and sizes (odd memfd and SysV sizes, holes), dumps it,
restores it with `criu restore --lazy-pages` and the plugin (the daemon's
prefetcher slowed down by LAZYSHM_TEST_FILL_DELAY_MS so that pages stay
unfilled; LAZYSHM_SYSV=lazy in some cycles), and while pages are still
unfilled makes the tasks write, MADV_DONTNEED, MADV_REMOVE, mremap, fork and
exit. Every task then checks every byte against the model the workload keeps.
Some cycles kill -9 the lazy-pages daemon mid-phase: then every restored task
must be dead within seconds, none may have reported a wrong result, and
nothing may be left behind.

Settings (environment):
  SOAK_CYCLES=N         cycles to run (default 100)
  SOAK_SEED=S           the seed (default: from the clock); printed at start
                        and in every failure, replay with the same value
  SOAK_FIRST=I          number of the first cycle (default 0): SOAK_SEED=S
                        SOAK_FIRST=I SOAK_CYCLES=1 replays cycle I alone
  SOAK_TIMEOUT=SECS     timeout of one cycle (default 150)
  SOAK_KILL_PCT=P       percent of cycles that kill the daemon (default 25)
  SOAK_MAX_PAGES=N      upper bound of a 4K region's pages (default 16384)
  SOAK_MAX_HUGE=N       upper bound of a 2M region's pages (default 12)
  SOAK_KEEP=1           keep every cycle's work dir (failed ones are kept anyway)
  SOAK_WORK=DIR         work dir (default build/test-work/soak)
  SOAK_LAZY_LIBDIR=DIR  plugin dir of `criu lazy-pages` (default build/lib)
  SOAK_LAZY_PRELOAD=SO  LD_PRELOAD of `criu lazy-pages` only (sanitizers)
  SOAK_NAME=NAME        the name in log lines (default soak)
  SOAK_LIST=1           print the cycles' parameters and exit
  SOAK_SELFTEST=0       skip the self-test (a cycle with a byte corrupted
                        after the restore, which the checker must report;
                        it counts as one passed or failed cycle)
Exit status: 0 if every cycle passed, 1 if any failed, 77 if the machine
cannot run lazy restores (the reason is printed).
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

TOP = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", os.path.join(TOP, "build"))
CRIU = os.environ.get("CRIU", os.path.join(BUILD, "criu-4.1.1", "criu", "criu"))
LIBDIR = os.path.join(BUILD, "lib")
SOAKWL = os.path.join(BUILD, "tests", "bin", "soakwl")
NAME = os.environ.get("SOAK_NAME", "soak")
SYSV_KEY = 0x50414B00

K4 = 4096
M2 = 2 << 20
G1 = 1 << 30
# kind -> (page size, shared); soakwl's table has the same names
KINDS = {
    "anon": (K4, True),
    "memfd": (K4, True),
    "sysv": (K4, True),
    "huge-anon": (M2, True),
    "huge-memfd": (M2, True),
    "huge-sysv": (M2, True),
    "huge1g-anon": (G1, True),
    "private": (K4, False),
}
KIND_WEIGHTS = [("anon", 3), ("memfd", 3), ("sysv", 1.5), ("huge-anon", 2), ("huge-memfd", 2),
                ("huge-sysv", 1.5), ("private", 1.5), ("huge1g-anon", 0.3)]
MAX_LIVE = 6



def log(msg):
    print(f"[{NAME}] {msg}", flush=True)


def env_int(name, default):
    v = os.environ.get(name, "")
    if not v:
        return default
    if not re.fullmatch(r"[0-9]+", v):
        sys.exit(f"[{NAME}] {name} must be a whole number, not '{v}'")
    return int(v)


class CycleFail(Exception):
    pass


# ---- processes ----

def proc_state(pid):
    """The state letter of pid, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def exited(pid):
    return proc_state(pid) in (None, "Z", "X")


def procs_of(workdir):
    """Our live processes of a cycle, found by what does not read their
    memory (/proc/PID/cmdline of a restored task may lie on a page the lazy
    restore has not filled yet): soakwl tasks by their executable and working
    directory, criu and its daemon and guardian by a command line naming
    the cycle's work dir. They are then signalled by pid."""
    needle = workdir.encode()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            ours = os.readlink(f"/proc/{d}/exe") == SOAKWL and os.readlink(f"/proc/{d}/cwd") == workdir
            if not ours and os.readlink(f"/proc/{d}/exe") == CRIU:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
                ours = any(a == needle or a.startswith(needle + b"/") for a in args)
        except OSError:
            continue
        if ours and not exited(int(d)):
            out.append(int(d))
    return out


def describe_procs(pids):
    return ", ".join(f"{p} ({os.path.basename(os.readlink(f'/proc/{p}/exe')) if os.path.exists(f'/proc/{p}/exe') else '?'}"
                     f" {proc_state(p)})" for p in pids)


def kill_pids(pids, sig=signal.SIGKILL):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def wait_until(cond, secs, step=0.05):
    end = time.monotonic() + secs
    while True:
        if cond():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(step)


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


# ---- hugepages (the rules of lz_reserve_hugepages_avail, tests/lib/common.sh) ----

HP_DIR = {M2: "/sys/kernel/mm/hugepages/hugepages-2048kB", G1: "/sys/kernel/mm/hugepages/hugepages-1048576kB"}


def hp_avail(sz):
    d = HP_DIR[sz]
    return int(read(f"{d}/free_hugepages", "0")) - int(read(f"{d}/resv_hugepages", "0"))


class HugePool:
    """Hugepages a cycle asked the kernel for; give() puts the pool back."""

    def __init__(self):
        self.old = {}

    def reserve(self, n, sz):
        d = HP_DIR[sz]
        if not os.access(f"{d}/nr_hugepages", os.W_OK):
            return f"{d}/nr_hugepages is not writable"
        avail = hp_avail(sz)
        if avail >= n:
            return None
        old = int(read(f"{d}/nr_hugepages"))
        self.old.setdefault(sz, old)
        want = old + n - avail
        for attempt in range(2):
            try:
                with open(f"{d}/nr_hugepages", "w") as f:
                    f.write(str(want))
            except OSError:
                pass
            if hp_avail(sz) >= n:
                return None
            if attempt == 0:  # fragmented: drop the clean page cache, compact, retry
                os.sync()
                for path in ("/proc/sys/vm/drop_caches", "/proc/sys/vm/compact_memory"):
                    try:
                        with open(path, "w") as f:
                            f.write("1")
                    except OSError:
                        pass
        return f"only {hp_avail(sz)} of {n} {sz >> 20} MiB hugepages available after asking for {want}"

    def give(self):
        """Puts the pools back; returns a complaint if one cannot shrink."""
        bad = []
        for sz, old in self.old.items():
            path = f"{HP_DIR[sz]}/nr_hugepages"
            try:
                with open(path, "w") as f:
                    f.write(str(old))
            except OSError as e:
                bad.append(f"{path}: {e}")
                continue
            now = int(read(path, "-1"))
            if now != old:
                # pages in use cannot go: ours are gone with our processes
                # (checked before), so others hold them; the kernel gives
                # them back (as surplus pages) when they are freed
                log(f"note: {path} stays at {now}, not {old}: hugepages in use by others")
        self.old = {}
        return "; ".join(bad)


# ---- one cycle's parameters ----

def pick_size(rng, kind, maxp, maxh):
    psz = KINDS[kind][0]
    if psz == G1:
        return G1
    if psz == M2:
        return M2 * rng.randint(1, maxh)
    pages = int(round(2 ** rng.uniform(0, max(0.0, (maxp.bit_length() - 1)))))
    pages = max(1, min(pages, maxp))
    if kind in ("memfd", "sysv") and rng.random() < 0.6:
        odd = rng.choice([1, 8, 100, 4095, 10000, rng.randint(1, 3 * K4 - 1)])
        if odd % K4 == 0:
            odd += 8
        return (pages - 1) * K4 + odd  # not a whole number of pages
    return pages * K4


def gen_cycle(seed, num, maxp, maxh, kill_pct):
    rng = random.Random(f"lazyshm-soak/{seed}/{num}")
    c = {"num": num, "seed": rng.getrandbits(63)}
    names = [k for k, _ in KIND_WEIGHTS]
    weights = [w for _, w in KIND_WEIGHTS]
    regions = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choices(names, weights)[0]
        if kind == "huge1g-anon" and any(r[0] == kind for r in regions):
            kind = "huge-anon"
        holes = rng.choice([0, 0, 0, 100, 500, 900, 1000])
        regions.append([kind, pick_size(rng, kind, maxp, maxh), holes])
    c["regions"] = regions
    c["tasks"] = rng.randint(1, 4)
    c["delay"] = rng.choice([0, 2, 10, 30])
    c["sysv_lazy"] = rng.random() < 0.5
    c["rounds"] = rng.randint(1, 4)
    c["kill"] = None
    if rng.random() * 100 < kill_pct:
        # a lazy phase long enough to be killed in: one big lazy region (if
        # there is room) and a slow prefetcher; the kill comes before the
        # first verification, which would fill everything
        c["delay"] = max(c["delay"], 50)
        if len(regions) < 4:
            regions.append([rng.choice(["anon", "memfd"]), K4 * min(16384, 2 * max(maxp, 4096)), 0])
        c["kill"] = {"round": 0, "at": rng.choice(["act", "verify", "before"]), "ms": rng.randint(0, 100)}
    c["rng"] = rng  # draws the lazy phase's actions as it goes
    return c


def describe(c):
    regs = " ".join(f"{k}:{s}{'/h' + str(h) if h else ''}" for k, s, h in c["regions"])
    kill = c["kill"]
    k = f" kill@round{kill['round']}-{kill['at']}+{kill['ms']}ms" if kill else ""
    return (f"[{regs}] tasks={c['tasks']} delay={c['delay']}ms sysv={'lazy' if c['sysv_lazy'] else 'eager'}"
            f" rounds={c['rounds']}{k}")


def draw_actions(rng, c, idx, live_n):
    """The act-phase tokens of one task (see soakwl.c)."""
    regs = c["regions"]
    toks = []
    for _ in range(rng.randint(1, 4)):
        r = rng.randrange(len(regs))
        shared = KINDS[regs[r][0]][1]
        ops = [("w", 3), ("r", 1), ("d", 1.5), ("D", 1.5), ("m", 0.7)]
        if shared:
            ops.append(("x", 1.5))
        op = rng.choices([o for o, _ in ops], [w for _, w in ops])[0]
        toks.append(f"m:{r}" if op == "m" else f"{op}:{r}:{rng.randint(1, 8)}")
    if live_n < MAX_LIVE and rng.random() < 0.2:
        toks.insert(rng.randrange(len(toks) + 1), "f")
    if idx != 0 and live_n > 1 and rng.random() < 0.12:
        toks.append("e")
    return toks


# ---- the cycle ----

class Cycle:
    def __init__(self, soak, c):
        self.soak = soak
        self.c = c
        self.w = os.path.join(soak.work, f"c{c['num']:04d}")
        self.deadline = time.monotonic() + soak.timeout
        self.pool = HugePool()
        self.wl = None
        self.seq = 0
        self.live = {}  # task index -> pid
        self.pending = None  # the command sent and not yet answered
        self.killed = False
        self.notes = []
        self.skips = []

    def left(self):
        return self.deadline - time.monotonic()

    def check_time(self, what):
        if self.left() <= 0:
            self.diag()
            raise CycleFail(f"timeout ({self.soak.timeout} s) {what}")

    def wait(self, cond, secs, what):
        secs = min(secs, max(0.0, self.left()))
        if not wait_until(cond, secs):
            self.check_time(what)
            return False
        return True

    # -- setup --
    def reserve(self):
        regs = self.c["regions"]
        n1g = sum(1 for k, _, _ in regs if KINDS[k][0] == G1)
        if n1g:
            # as test 59: the dump's private mapping takes as many again
            why = self.pool.reserve(2 * n1g, G1)
            if why:
                self.skips.append(f"1G hugepages: {why}; huge1g-anon replaced by huge-anon")
                for r in regs:
                    if r[0] == "huge1g-anon":
                        r[0], r[1] = "huge-anon", M2
        n2m = sum(s // M2 for k, s, _ in regs if KINDS[k][0] == M2)
        if n2m:
            # the dump reads hugetlb objects through a private mapping: twice
            # the pages, and one more for CRIU's probe
            why = self.pool.reserve(2 * n2m + 1, M2)
            if why:
                self.skips.append(f"2M hugepages: {why}; huge regions dropped")
                regs[:] = [r for r in regs if KINDS[r[0]][0] != M2] or [["anon", 64 * K4, 0]]

    def start_workload(self):
        args = ["setsid", "unshare", "--ipc", SOAKWL, "--dir", self.w, "--seed", str(self.c["seed"]),
                "--tasks", str(self.c["tasks"]), "--sysv-key", hex(SYSV_KEY)]
        for k, s, h in self.c["regions"]:
            args += ["--region", f"{k}:{s}:{h}"]
        with open(os.path.join(self.w, "workload.log"), "w") as out:
            self.wl = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=self.w)
        ready = os.path.join(self.w, "ready")
        if not self.wait(lambda: os.path.exists(ready) or self.wl.poll() is not None, 60, "starting the workload"):
            raise CycleFail("the workload did not get ready in 60 s")
        if not os.path.exists(ready):
            raise CycleFail(f"the workload did not start: {read(os.path.join(self.w, 'workload.log')).strip()}")
        pids = [int(x) for x in read(ready).split()]
        self.live = dict(enumerate(pids))

    def criu(self, args, logname, env=None):
        try:
            r = subprocess.run([CRIU] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, timeout=max(1.0, self.left()), env=env)
        except subprocess.TimeoutExpired:
            raise CycleFail(f"criu {args[0]} timed out")
        if r.returncode:
            tail = read(os.path.join(self.w, logname)).splitlines()[-8:]
            raise CycleFail(f"criu {args[0]} failed ({r.returncode}): " + " | ".join(tail))

    def dump(self):
        root = self.live[0]
        self.criu(["dump", "-D", self.w, "-t", str(root), "--libdir", LIBDIR, "-v4", "-o", "dump.log",
                   "--shell-job"], "dump.log")
        self.wl.wait(timeout=10)
        # a zombie holds its pid, which the restore needs: wait until every
        # dumped task is reaped (orphans by PID 1, which takes a while)
        pids = list(self.live.values())
        if not self.wait(lambda: all(proc_state(p) is None for p in pids), 15, "after the dump"):
            raise CycleFail(f"dumped tasks still exist 15 s after the dump: "
                            f"{[p for p in pids if proc_state(p) is not None]}")

    def env(self):
        e = dict(os.environ)
        for k in ("LAZYSHM_TEST_FILL_DELAY_MS", "LAZYSHM_SYSV", "LD_PRELOAD"):
            e.pop(k, None)
        if self.c["delay"]:
            e["LAZYSHM_TEST_FILL_DELAY_MS"] = str(self.c["delay"])
        if self.c["sysv_lazy"]:
            e["LAZYSHM_SYSV"] = "lazy"
        return e

    def hugepages_back(self):
        """The restore needs each object's hugepages once: wait for the dumped
        tree's to come back, and ask again if others took them meanwhile."""
        for sz in (M2, G1):
            n = sum(s // sz for k, s, _ in self.c["regions"] if KINDS[k][0] == sz)
            if n and not wait_until(lambda: hp_avail(sz) >= n, 10):
                why = self.pool.reserve(n, sz)
                if why:
                    raise CycleFail(f"the restore's hugepages: {why} (taken by another test?)")

    def restore(self):
        self.hugepages_back()
        lenv = self.env()
        if self.soak.preload:
            lenv["LD_PRELOAD"] = self.soak.preload
        self.criu(["lazy-pages", "-D", self.w, "--libdir", self.soak.lazy_libdir, "-v4", "-o", "lazy.log", "-d",
                   "--pidfile", os.path.join(self.w, "lazy.pid")], "lazy.log", env=lenv)
        self.daemon = int(read(os.path.join(self.w, "lazy.pid")).strip())
        self.criu(["restore", "-D", self.w, "--libdir", LIBDIR, "-v4", "-o", "restore.log", "--shell-job", "-d",
                   "--pidfile", os.path.join(self.w, "restored.pid"), "--lazy-pages"], "restore.log",
                  env=self.env())
        self.t_restored = time.monotonic()
        rlog = read(os.path.join(self.w, "restore.log"))
        self.deferred = rlog.count("deferred to the lazy-pages daemon")
        if int(read(os.path.join(self.w, "restored.pid")).strip()) != self.live[0]:
            raise CycleFail("the restored root has another pid")

    # -- commands --
    def command(self, acts):
        """acts: index -> token list. Returns index -> ack line (None: no ack)."""
        self.seq += 1
        rng = self.c["rng"]
        order = sorted(self.live)
        lines = [str(self.seq)]
        for rank, idx in enumerate(order):
            if idx in acts:
                lines.append(f"{idx} {rank} {len(order)} {rng.getrandbits(62)} {' '.join(acts[idx])}")
        tmp = os.path.join(self.w, "cmd.tmp")
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(tmp, os.path.join(self.w, "cmd"))
        with open(os.path.join(self.w, "cmds.log"), "a") as f:  # for the post-mortem of a failure
            f.write("\n".join(lines) + "\n")
        for toks in acts.values():
            for t in toks:
                self.soak.ops[t[0]] = self.soak.ops.get(t[0], 0) + 1
        self.pending = dict(acts)
        for idx in acts:
            kill_pids([self.live[idx]], signal.SIGUSR2)

    def collect(self, acts, secs=60):
        acks = {}

        def done():
            for idx in acts:
                if idx in acks:
                    continue
                gone = exited(self.live[idx])  # before the ack: a task writes it, then exits
                a = read(os.path.join(self.w, f"ack.{self.seq}.{idx}"), None)
                if a is not None:
                    acks[idx] = a.strip()
                elif gone:
                    acks[idx] = None
            return len(acks) == len(acts)

        if not self.wait(done, secs, f"waiting for command {self.seq}"):
            self.diag()
            raise CycleFail(f"command {self.seq}: no answer in {secs} s from task(s) "
                            f"{sorted(set(acts) - set(acks))}")
        self.pending = None
        for a in acks.values():
            m = re.search(r" (\d+) dontneed page\(s\) read zeros", a or "")
            if m:
                self.soak.totals["dontneed_zero"] += int(m.group(1))
        return acks

    def apply_acks(self, acks, what):
        for idx, a in sorted(acks.items()):
            if a is None:
                errs = [l for l in read(os.path.join(self.w, "lazy.log")).splitlines() if "Error" in l]
                raise CycleFail(f"{what}: task {idx} (pid {self.live[idx]}) died without answering"
                                + (f"; lazy.log: {errs[0]}" if errs else ""))
            if a.startswith("FAIL"):
                raise CycleFail(f"{what}: task {idx}: {a}")
            m = re.search(r" forked (\d+) (\d+)", a)
            if m:
                self.live[int(m.group(1))] = int(m.group(2))
            if a.startswith("EXIT"):
                pid = self.live.pop(idx)
                self.wait(lambda: exited(pid), 10, "waiting for an exiting task")

    def act_phase(self):
        rng = self.c["rng"]
        return {idx: draw_actions(rng, self.c, idx, len(self.live)) for idx in sorted(self.live)}

    # -- the daemon kill --
    def kill_daemon(self, when):
        kill = self.c["kill"]
        time.sleep(kill["ms"] / 1000.0)
        self.guardians = [p for p in procs_of(self.w) if p != self.daemon and p not in self.live.values()]
        self.populated_before = "every lazily restored page is populated" in read(os.path.join(self.w, "lazy.log"))
        kill_pids([self.daemon])
        self.killed = True
        self.notes.append(f"daemon killed {time.monotonic() - self.t_restored:.2f} s after the restore ({when})")

    def check_failstop(self):
        """After the kill: the tree dead (or, if the daemon had finished, alive and right)."""
        pids = list(self.live.values())
        if self.wait(lambda: all(exited(p) for p in procs_of(self.w) if p != self.daemon), 8, "after the kill"):
            self.check_acks_ok()
            llog = read(os.path.join(self.w, "lazy.log"))
            if self.deferred and "the lazy-pages daemon is gone before every page was restored" not in llog:
                raise CycleFail("the tree died after the daemon's kill, but lazy.log does not say why: "
                                + " | ".join(llog.splitlines()[-3:]))
            if os.path.exists(os.path.join(self.w, "lazyshm-stats.json")) and not self.populated_before:
                raise CycleFail("stats were written as if the lazy phase had completed")
            self.notes.append("fail-stop: every restored task dead")
            return
        alive = [p for p in procs_of(self.w) if p != self.daemon]
        if self.populated_before or not self.deferred:
            self.notes.append("the daemon had finished before the kill: the tree lives on")
            if self.pending:
                self.apply_acks(self.collect(self.pending), "the command during the kill")
            self.final_verify()
            return
        self.diag()
        raise CycleFail(f"processes survive the daemon's kill by 8 s: {describe_procs(alive)}")

    def check_acks_ok(self):
        for name in sorted(os.listdir(self.w)):
            if name.startswith("ack.") and ".tmp." not in name:
                a = read(os.path.join(self.w, name)).strip()
                if a.startswith("FAIL"):
                    raise CycleFail(f"{name}: a task reported a wrong result: {a}")

    # -- the lazy phase --
    def lazy_phase(self):
        """Act phases, some followed by a verification (a verification reads
        everything, so it fills what is left: the actions before the first
        one meet unfilled pages), and maybe the daemon's kill."""
        kill = self.c["kill"]
        rng = self.c["rng"]
        for rnd in range(self.c["rounds"]):
            if kill and kill["round"] == rnd and kill["at"] == "before":
                self.kill_daemon("before the actions")
                return
            acts = self.act_phase()
            self.command(acts)
            if kill and kill["round"] == rnd and kill["at"] == "act":
                self.kill_daemon("during the actions")
                return
            self.apply_acks(self.collect(acts), f"round {rnd} actions")
            if kill and kill["round"] == rnd and kill["at"] == "verify":
                self.command({idx: ["v"] for idx in self.live})
                self.kill_daemon("during a verification")
                return
            if rng.random() < 0.35:
                acts = {idx: ["v"] for idx in self.live}
                self.command(acts)
                self.apply_acks(self.collect(acts), f"round {rnd} verification")

    def lazy_done(self):
        """The daemon's own end: exits by itself, at full residency, with stats."""
        if not self.wait(lambda: exited(self.daemon), 90, "waiting for the daemon to finish"):
            self.diag()
            raise CycleFail("the lazy-pages daemon did not finish in 90 s")
        llog = read(os.path.join(self.w, "lazy.log"))
        if self.deferred and "every lazily restored page is populated" not in llog:
            errs = [l for l in llog.splitlines() if "Error" in l][:2]
            raise CycleFail("the daemon did not reach full residency: "
                            + (" | ".join(errs) if errs else "no error in lazy.log"))
        if self.deferred and not os.path.exists(os.path.join(self.w, "lazyshm-stats.json")):
            raise CycleFail("no lazyshm-stats.json")
        self.stats()

    def final_verify(self):
        acts = {idx: ["v"] for idx in self.live}
        self.command(acts)
        self.apply_acks(self.collect(acts), "final verification")

    def stats(self):
        try:
            with open(os.path.join(self.w, "lazyshm-stats.json")) as f:
                st = json.load(f)
        except (OSError, ValueError):
            return
        objs = st.get("objects", [])
        tot = {k: sum(o.get(k, 0) for o in objs) for k in ("pages", "filled_fault", "filled_prefetch", "removed")}
        self.notes.append(f"{len(objs)} lazy object(s): {tot['pages']} pages, {tot['filled_fault']} by fault, "
                          f"{tot['filled_prefetch']} prefetched, {tot['removed']} removed")
        self.soak.totals["faults"] += tot["filled_fault"]
        self.soak.totals["removed"] += tot["removed"]

    # CRIU's complaints that are not lazyshm's: root lacks CAP_SYS_RESOURCE here
    BENIGN = ("rlimit: Can't setup RLIMIT_NOFILE",)

    def check_logs(self):
        for name in ("restore.log", "lazy.log"):
            bad = [l for l in read(os.path.join(self.w, name)).splitlines()
                   if ("Error" in l or "digest mismatch" in l) and "hook" not in l
                   and not any(b in l for b in self.BENIGN)]
            if bad:
                raise CycleFail(f"{name} has errors: " + " | ".join(bad[:3]))

    def diag(self):
        d = getattr(self, "daemon", None)
        if d:
            log(f"  daemon {d}: {'gone' if exited(d) else 'alive, ' + read(f'/proc/{d}/wchan')}")
        for idx, p in sorted(self.live.items()):
            log(f"  task {idx} pid {p}: state {proc_state(p)} wchan {read(f'/proc/{p}/wchan')}")
        for l in read(os.path.join(self.w, "lazy.log")).splitlines():
            if "Error" in l or "lazyshm: summary" in l:
                log(f"  lazy.log: {l}")

    def corrupt(self):
        """The self-test: once a verification has passed (and so mapped every
        page: /proc/PID/mem gets EIO on a page userfaultfd has yet to serve),
        flip the first byte of region 0 in the root behind the model's back."""
        acts = {idx: ["v"] for idx in self.live}
        self.command(acts)
        self.apply_acks(self.collect(acts), "the self-test's first verification")
        f = read(os.path.join(self.w, "regions")).split()
        addr = int(f[2], 16)
        with open(f"/proc/{self.live[0]}/mem", "r+b", buffering=0) as m:
            m.seek(addr)
            b = m.read(1)[0]
            m.seek(addr)
            m.write(bytes([b ^ 0x5A]))
        acts = {idx: ["v"] for idx in self.live}
        self.command(acts)
        self.apply_acks(self.collect(acts), "the self-test's verification")

    def run(self):
        os.makedirs(self.w)
        self.reserve()
        self.start_workload()
        self.dump()
        self.restore()
        if self.c.get("selftest"):
            self.corrupt()
            raise CycleFail("the self-test's corrupted byte went unnoticed")
        self.lazy_phase()
        if self.killed:
            self.check_failstop()
            return
        self.lazy_done()
        self.final_verify()
        self.check_logs()

    # -- cleanup --
    def cleanup(self):
        """Processes, SysV segments, mounts, hugepages; returns complaints."""
        bad = []
        left = procs_of(self.w)
        if left:
            kill_pids(left)
        if self.wl:
            try:
                self.wl.kill()
                self.wl.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if not wait_until(lambda: not procs_of(self.w), 15):
            bad.append(f"processes left: {describe_procs(procs_of(self.w))}")
        bad += self.sysv_leftovers() + self.mount_leftovers()
        if glob_dev_shm():
            bad.append(f"/dev/shm files left: {glob_dev_shm()}")
        why = self.pool.give()
        if why:
            bad.append(why)
        return bad

    def sysv_leftovers(self):
        bad = []
        for line in read("/proc/sysvipc/shm").splitlines()[1:]:
            f = line.split()
            if len(f) > 1 and SYSV_KEY <= int(f[0]) < SYSV_KEY + 16:
                bad.append(f"SysV segment key {int(f[0]):#x} id {f[1]} left in the host namespace")
                subprocess.run(["ipcrm", "-m", f[1]], stderr=subprocess.DEVNULL)
        return bad

    def mount_leftovers(self):
        bad = []
        for line in read("/proc/self/mountinfo").splitlines():
            mp = line.split()[4]
            if mp == self.w or mp.startswith(self.w + "/"):
                bad.append(f"mount left: {mp}")
                subprocess.run(["umount", "-l", mp], stderr=subprocess.DEVNULL)
        return bad


def glob_dev_shm():
    try:
        return [n for n in os.listdir("/dev/shm") if n.startswith("soakwl")]
    except OSError:
        return []


# ---- the soak ----

class Soak:
    def __init__(self):
        self.cycles = env_int("SOAK_CYCLES", 100)
        seed = os.environ.get("SOAK_SEED", "")
        self.seed = int(seed) if seed else int(time.time() * 1000) % 1000000007
        self.first = env_int("SOAK_FIRST", 0)
        self.timeout = env_int("SOAK_TIMEOUT", 150)
        self.kill_pct = env_int("SOAK_KILL_PCT", 25)
        self.maxp = max(1, env_int("SOAK_MAX_PAGES", 16384))
        self.maxh = max(1, env_int("SOAK_MAX_HUGE", 12))
        self.keep = os.environ.get("SOAK_KEEP", "") == "1"
        self.work = os.path.realpath(os.environ.get("SOAK_WORK", os.path.join(BUILD, "test-work", NAME)))
        self.lazy_libdir = os.environ.get("SOAK_LAZY_LIBDIR", LIBDIR)
        self.preload = os.environ.get("SOAK_LAZY_PRELOAD", "")
        self.passed = self.failed = 0
        self.failures = []
        self.skips = {}
        self.totals = {"faults": 0, "removed": 0, "kills": 0, "failstops": 0, "dontneed_zero": 0}
        self.cur = None
        self.ops = {}  # action letter -> how many were sent

    def preflight(self):
        if os.getuid() != 0:
            return "needs root (criu dump/restore, hugepages)"
        for f in (CRIU, SOAKWL, os.path.join(self.lazy_libdir, "lazyshm_plugin.so")):
            if not os.path.exists(f):
                sys.exit(f"[{NAME}] FAIL: {f} is not built (make build)")
        r = subprocess.run([CRIU, "check", "--feature", "lazy_shmem"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode:
            return "no minor faults on shmem/hugetlbfs here (criu check --feature lazy_shmem)"
        return None

    def selftest(self):
        """One cycle with a byte of region 0 corrupted after the restore: the
        checker must catch it, or the soak could not fail."""
        c = gen_cycle(self.seed, "selftest", self.maxp, self.maxh, 0)
        c["num"], c["selftest"] = 9999, True
        cy = Cycle(self, c)
        self.cur = cy
        try:
            cy.run()
            err = "the cycle passed"
        except CycleFail as e:
            err = str(e)
        except Exception as e:
            err = f"driver error: {type(e).__name__}: {e}"
        bad = cy.cleanup()
        self.cur = None
        # the root's report names region 0, page 0, offset 0
        if re.search(r"task 0: FAIL verify: 1 bad page\(s\); first: region 0 \([^)]*\) page 0 offset 0:", err) \
                and not bad:
            self.passed += 1
            log(f"self-test ok: a byte flipped after the restore was caught ({err})")
            shutil.rmtree(cy.w, ignore_errors=True)
        else:
            self.failed += 1
            self.failures.append(("self-test", err + ("; left behind: " + "; ".join(bad) if bad else "")))
            log(f"self-test FAIL: the corrupted byte was not reported as expected: {err} {describe(c)}")

    def one(self, num):
        c = gen_cycle(self.seed, num, self.maxp, self.maxh, self.kill_pct)
        cy = Cycle(self, c)
        self.cur = cy
        t0 = time.monotonic()
        err = None
        try:
            cy.run()
        except CycleFail as e:
            err = str(e)
        except Exception as e:  # a bug of the driver is a failed cycle too
            err = f"driver error: {type(e).__name__}: {e}"
        bad = cy.cleanup()
        self.cur = None
        if bad and not err:
            err = "left behind: " + "; ".join(bad)
        elif bad:
            err += " (and left behind: " + "; ".join(bad) + ")"
        for s in cy.skips:
            self.skips[s.split(":")[0]] = s
            log(f"SKIP PART: cycle {num}: {s}")
        dt = time.monotonic() - t0
        self.totals["kills"] += cy.killed
        self.totals["failstops"] += any(n.startswith("fail-stop") for n in cy.notes)
        what = describe(c)
        if err:
            self.failed += 1
            self.failures.append((num, err))
            log(f"cycle {num} FAIL ({dt:.1f} s) {what}: {err} [SOAK_SEED={self.seed} cycle {num}; "
                f"replay: SOAK_SEED={self.seed} SOAK_FIRST={num} "
                f"SOAK_CYCLES=1 make soak; kept {cy.w}]")
        else:
            self.passed += 1
            log(f"cycle {num} ok ({dt:.1f} s) {what}" + ("; " + "; ".join(cy.notes) if cy.notes else ""))
            if not self.keep:
                shutil.rmtree(cy.w, ignore_errors=True)

    def list(self):
        for num in range(self.first, self.first + self.cycles):
            print(f"cycle {num}: {describe(gen_cycle(self.seed, num, self.maxp, self.maxh, self.kill_pct))}")
        return 0

    def run(self):
        if os.environ.get("SOAK_LIST", "") == "1":
            return self.list()
        why = self.preflight()
        if why:
            log(f"SKIP: {why}")
            return 77
        log(f"seed {self.seed}: cycles {self.first}..{self.first + self.cycles - 1}, timeout {self.timeout} s a "
            f"cycle, daemon kill in {self.kill_pct}% (SOAK_SEED={self.seed} replays this run)")
        if self.preload:
            log(f"criu lazy-pages runs with LD_PRELOAD={self.preload}, plugin from {self.lazy_libdir}")
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work, exist_ok=True)
        t0 = time.monotonic()
        if os.environ.get("SOAK_SELFTEST", "1") == "1":
            self.selftest()
        for num in range(self.first, self.first + self.cycles):
            self.one(num)
        log(f"{self.passed + self.failed} cycles in {time.monotonic() - t0:.0f} s, seed {self.seed}: "
            f"{self.totals['kills']} daemon kills ({self.totals['failstops']} fail-stops), "
            f"{self.totals['faults']} pages filled by fault, {self.totals['removed']} removed while unfilled, "
            f"{self.totals['dontneed_zero']} read zeros after MADV_DONTNEED (the documented limit)")
        names = {"w": "write", "r": "read", "d": "dontneed", "D": "dontneed-unread", "x": "remove", "m": "mremap",
                 "f": "fork", "e": "exit", "v": "verify"}
        log("actions sent: " + ", ".join(f"{names.get(k, k)} {n}" for k, n in sorted(self.ops.items())))
        for num, err in self.failures:
            log(f"FAILED cycle {num} (SOAK_SEED={self.seed} SOAK_FIRST={num} SOAK_CYCLES=1): {err}")
        if not self.keep and not self.failures:
            shutil.rmtree(self.work, ignore_errors=True)
        tail = f", {len(self.skips)} skipped" if self.skips else ""
        print(f"{self.passed} passed, {self.failed} failed{tail}", flush=True)
        return 1 if self.failed else 0

    def abort(self, signum, frame):
        if self.cur:
            self.cur.cleanup()
        print(f"{self.passed} passed, {self.failed + 1} failed", flush=True)
        log(f"interrupted by signal {signum} (seed {self.seed})")
        os._exit(1)


def main():
    soak = Soak()
    signal.signal(signal.SIGTERM, soak.abort)
    signal.signal(signal.SIGINT, soak.abort)
    sys.exit(soak.run())


if __name__ == "__main__":
    main()
