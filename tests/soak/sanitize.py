#!/usr/bin/env python3
"""make sanitize: lazyshm under ASan/UBSan and valgrind.

1. The soak (tests/soak/soak.py, SANITIZE_CYCLES cycles, default 20, seed
   SANITIZE_SEED) with `criu lazy-pages` running the plugin built with
   -fsanitize=address,undefined (build/lib-asan/lazyshm_plugin.so) and the
   ASan runtime preloaded (CRIU itself is not instrumented; criu restore
   keeps the normal plugin: it turns its own processes into the restored
   tasks, which cannot carry a sanitizer runtime). Reports go to
   build/sanitize/logs/{asan,ubsan}.PID. Every ASan error and UBSan runtime
   error counts; a leak counts if a frame of its allocation stack is in
   lazyshm's code (plugin/, images/, the plugin's .so): CRIU's own leaks at
   exit are listed apart, they are not ours to fix.
2. lazyshm-img show, json and verify under valgrind (memcheck, leaks
   included) on real image dirs (a few soak cycles' dumps and
   images/golden/smoke), on the fuzz corpus (images/fuzz/corpus and
   images/fuzz/*.img) and on mutants of those (truncated, bytes flipped),
   each as an image dir. Every valgrind error counts; lazyshm-img may (and
   should) refuse a broken image, that is no error.

Prints the counts and exits 0 only if every count is 0 and the soak passed.
"""
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", os.path.join(TOP, "build"))
OUT = os.path.join(BUILD, "sanitize")
LOGS = os.path.join(OUT, "logs")
IMG = os.path.join(BUILD, "bin", "lazyshm-img")
SAN_LIB = os.path.join(BUILD, "lib-asan")
SOAK = os.path.join(TOP, "tests", "soak", "soak.py")
OURS = re.compile(r"(lazyshm_plugin\.so|[ /]plugin/[a-z_-]+\.[ch]|[ /]images/[a-z_-]+\.[ch]|lazyshm\.pb-c\.c)")


def log(msg):
    print(f"[sanitize] {msg}", flush=True)


def asan_runtime():
    so = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    return os.path.realpath(so) if so and os.path.exists(so) else None


# ---- 1. the soak with an instrumented daemon ----

def run_soak(cycles, seed):
    rt = asan_runtime()
    if not rt:
        sys.exit("[sanitize] FAIL: gcc's ASan runtime (libasan.so) is not installed")
    env = dict(os.environ)
    env.update({
        "SOAK_NAME": "sanitize-soak",
        "SOAK_WORK": os.path.join(OUT, "soak"),
        "SOAK_CYCLES": str(cycles),
        "SOAK_SEED": str(seed),
        "SOAK_LAZY_LIBDIR": SAN_LIB,
        # san-preload.c says why the second one
        "SOAK_LAZY_PRELOAD": f"{rt} {os.path.join(SAN_LIB, 'san-preload.so')}",
        # full allocation stacks (through libraries without frame
        # pointers), so that a leak can be told ours or CRIU's
        "ASAN_OPTIONS": f"log_path={LOGS}/asan:detect_leaks=1:fast_unwind_on_malloc=0",
        # a leak report must not change criu's exit status (the soak would
        # fail the cycle instead of counting the report)
        "LSAN_OPTIONS": "exitcode=0",
        "UBSAN_OPTIONS": f"print_stacktrace=1:log_path={LOGS}/ubsan",
        "SOAK_TIMEOUT": os.environ.get("SOAK_TIMEOUT", "200"),
    })
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, SOAK], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    out = r.stdout + r.stderr
    with open(os.path.join(OUT, "soak.log"), "w") as f:
        f.write(out)
    closing = [l for l in out.splitlines() if re.fullmatch(r"\d+ passed, \d+ failed(, \d+ skipped)?", l)]
    for l in out.splitlines():
        if re.search(r"cycle \d+ FAIL|self-test FAIL|FAILED|SKIP", l):
            log(f"  soak: {l}")
    log(f"soak under ASan/UBSan: {closing[-1] if closing else 'no closing line'} "
        f"in {time.monotonic() - t0:.0f} s (exit {r.returncode}; log build/sanitize/soak.log)")
    return r.returncode == 0


def split_reports(text):
    """ASan/LSan/UBSan reports of one log file, as (kind, text)."""
    out = [("asan", m.group(0)) for m in re.finditer(r"ERROR: AddressSanitizer: .*(?:\n.*){0,40}", text)]
    out += [("leak", m.group(0)) for m in
            re.finditer(r"^(?:Direct|Indirect) leak of .*?(?=\n\n|\nSUMMARY|\Z)", text, re.M | re.S)]
    out += [("ubsan", m.group(0)) for m in re.finditer(r"^.*runtime error: .*$(?:\n {4}#.*$)*", text, re.M)]
    return out


def count_reports():
    counts = {"asan": 0, "ubsan": 0, "leak-ours": 0, "leak-criu": 0}
    ours = []
    criu_bytes = 0
    for path in sorted(glob.glob(os.path.join(LOGS, "*"))):
        with open(path, errors="replace") as f:
            text = f.read()
        for kind, rep in split_reports(text):
            if kind == "leak":
                if OURS.search(rep):
                    counts["leak-ours"] += 1
                    ours.append((path, rep))
                else:
                    counts["leak-criu"] += 1
                    m = re.match(r"\w+ leak of (\d+) byte", rep)
                    criu_bytes += int(m.group(1)) if m else 0
            else:
                counts[kind] += 1
                ours.append((path, rep))
    for path, rep in ours:
        log(f"report in {os.path.relpath(path, TOP)}:\n{rep}\n")
    log(f"sanitizer reports: {counts['asan']} ASan errors, {counts['ubsan']} UBSan runtime errors, "
        f"{counts['leak-ours']} leaks with a lazyshm frame; not counted: {counts['leak-criu']} leaks of CRIU's "
        f"own ({criu_bytes} bytes, at the exit of criu lazy-pages; CRIU is not instrumented)")
    return counts["asan"] + counts["ubsan"] + counts["leak-ours"]


# ---- 2. lazyshm-img under valgrind ----

def real_dirs():
    """A few soak cycles' dumps (kept), and the committed golden dump."""
    work = os.path.join(OUT, "images")
    env = dict(os.environ, SOAK_NAME="sanitize-images", SOAK_WORK=work, SOAK_CYCLES="4",
               SOAK_SEED=os.environ.get("SANITIZE_SEED", "13"), SOAK_KILL_PCT="0", SOAK_KEEP="1",
               SOAK_SELFTEST="0", SOAK_MAX_PAGES="2048", SOAK_MAX_HUGE="2")
    r = subprocess.run([sys.executable, SOAK], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode:
        log(f"the soak that makes image dirs failed: {r.stdout.strip().splitlines()[-1:]}")
    dirs = sorted(d for d in glob.glob(os.path.join(work, "c*")) if os.path.exists(os.path.join(d, "lazyshm-shmem.img")))
    return dirs + [os.path.join(TOP, "images", "golden", "smoke")]


def mutants(dirs, n, rng):
    """Copies of image dirs with lazyshm-shmem.img or a pagemap-shmem image
    truncated or with bytes flipped; and each corpus file as the image of a dir."""
    base = os.path.join(OUT, "mutants")
    shutil.rmtree(base, ignore_errors=True)
    out = []
    corpus = sorted(glob.glob(os.path.join(TOP, "images", "fuzz", "corpus", "*")) +
                    glob.glob(os.path.join(TOP, "images", "fuzz", "*.img")) +
                    glob.glob(os.path.join(BUILD, "fuzz", "corpus", "*"))[:50])
    for i, f in enumerate(corpus):
        d = os.path.join(base, f"corpus-{i}")
        os.makedirs(d)
        name = "lazyshm-shmem.img" if open(f, "rb").read(4) == b"LZSH" else "pagemap-shmem-34.img"
        # a pagemap needs the lazyshm image of the dir it belongs to: the golden one
        shutil.copy(os.path.join(TOP, "images", "golden", "smoke", "lazyshm-shmem.img"), d)
        shutil.copy(f, os.path.join(d, name))
        out.append(d)
    small = [d for d in dirs if sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "pages-*.img"))) < 64 << 20]
    for i in range(n):
        src = rng.choice(small or dirs)
        d = os.path.join(base, f"mutant-{i}")
        os.makedirs(d)
        for f in glob.glob(os.path.join(src, "*.img")) + glob.glob(os.path.join(src, "*.pages")):
            shutil.copy(f, d)
        victims = sorted(glob.glob(os.path.join(d, "lazyshm-shmem.img")) + glob.glob(os.path.join(d, "pagemap-shmem-*.img")))
        v = rng.choice(victims)
        data = bytearray(open(v, "rb").read())
        if rng.random() < 0.4 and len(data) > 1:
            data = data[:rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 4)):
                if data:
                    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        with open(v, "wb") as f:
            f.write(data)
        out.append(d)
    return out


def valgrind(target):
    """Runs show, json and verify on target; returns (runs, errors)."""
    runs = errors = 0
    for cmd in ("show", "json", "verify"):
        r = subprocess.run(["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=all",
                            "--track-origins=yes", IMG, cmd, target], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
        runs += 1
        n = len(re.findall(r"^==\d+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|"
                           r"\d+ bytes in \d+ blocks are|Source and destination overlap|Argument)", r.stderr, re.M))
        if r.returncode == 99 or n or r.returncode < 0:
            errors += max(n, 1)
            log(f"valgrind: lazyshm-img {cmd} {os.path.relpath(target, TOP)}: exit {r.returncode}\n{r.stderr[-3000:]}")
    return runs, errors


def run_valgrind():
    if not shutil.which("valgrind"):
        sys.exit("[sanitize] FAIL: valgrind is not installed (scripts/install-deps.sh installs it)")
    t0 = time.monotonic()
    dirs = real_dirs()
    targets = dirs + mutants(dirs, int(os.environ.get("SANITIZE_MUTANTS", "24")), random.Random(7))
    runs = errors = 0
    for t in targets:
        r, e = valgrind(t)
        runs += r
        errors += e
    log(f"valgrind: {errors} errors in {runs} runs of lazyshm-img show/json/verify on {len(dirs)} real image dirs "
        f"and {len(targets) - len(dirs)} corpus files and mutants ({time.monotonic() - t0:.0f} s)")
    return errors


def main():
    if os.getuid() != 0:
        print("[sanitize] SKIP: needs root (criu dump/restore, hugepages)")
        sys.exit(77)
    for f in (os.path.join(SAN_LIB, "lazyshm_plugin.so"), os.path.join(SAN_LIB, "san-preload.so"), IMG):
        if not os.path.exists(f):
            sys.exit(f"[sanitize] FAIL: {f} is not built (make sanitize-build)")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(LOGS)
    cycles = int(os.environ.get("SANITIZE_CYCLES", "20"))
    seed = int(os.environ.get("SANITIZE_SEED", "13"))
    soak_ok = run_soak(cycles, seed)
    reports = count_reports()
    verrors = run_valgrind()
    ok = soak_ok and reports == 0 and verrors == 0
    log(f"{'PASS' if ok else 'FAIL'}: soak {'passed' if soak_ok else 'FAILED'}, {reports} sanitizer reports, "
        f"{verrors} valgrind errors")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
