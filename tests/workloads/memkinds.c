/*
 * memkinds: a process tree that owns one memory region of each requested
 * kind, fills it with a known pattern and verifies it on demand. The
 * integration tests checkpoint and restore it and then ask every task to
 * compare its memory byte for byte.
 *
 * Usage: memkinds --kinds LIST [options]
 *
 *   --kinds LIST     comma-separated kinds (each at most once):
 *                      anon         MAP_SHARED|MAP_ANONYMOUS, 4K pages
 *                      memfd        memfd, fd closed after mmap
 *                      memfd-sealed memfd with F_SEAL_GROW|F_SEAL_SHRINK,
 *                                   fd kept open
 *                      sysv         SysV shm, 4K pages, attached
 *                      huge-anon    MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB, 2M
 *                      huge-memfd   memfd MFD_HUGETLB, 2M
 *                      huge-file    file on the hugetlbfs at --hugetlbfs,
 *                                   MAP_SHARED
 *                      huge-sysv    SysV shm SHM_HUGETLB, 2M
 *                      huge1g-anon  MAP_SHARED|MAP_HUGETLB|MAP_HUGE_1GB
 *                                   (size rounded up to whole 1G pages)
 *                      priv-huge    MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB, 2M
 *                      private      MAP_PRIVATE|MAP_ANONYMOUS, 4K
 *                      shm-file     file in --shm-dir, MAP_SHARED
 *                      memfd-rosealed
 *                                   memfd filled through a temporary
 *                                   mapping, then sealed F_SEAL_WRITE|
 *                                   F_SEAL_GROW|F_SEAL_SHRINK, mapped
 *                                   PROT_READ MAP_SHARED, fd closed
 *                      memfd-fwsealed
 *                                   the same with F_SEAL_FUTURE_WRITE only
 *                      huge-memfd-rosealed
 *                                   memfd-rosealed with MFD_HUGETLB, 2M
 *                      all-eager    every kind CRIU 4.1.1 dumps by itself:
 *                                   anon,memfd,memfd-sealed,sysv,huge-anon,
 *                                   huge-memfd,huge-sysv,priv-huge,private
 *                    Read-only kinds (*-rosealed, memfd-fwsealed) are never
 *                    written after setup: --rewrite leaves them alone.
 *   --size-mb N      size of each 4K-page region in MiB (default 4; 0 only
 *                    with --odd-bytes, for the memfd kinds)
 *   --huge-mb N      size of each hugetlb region in MiB (default 4)
 *   --odd-bytes N    4K memfd kinds (memfd, memfd-sealed, memfd-rosealed,
 *                    memfd-fwsealed) get --size-mb MiB + N bytes: an object
 *                    whose size is not page aligned (e.g. --size-mb 0
 *                    --odd-bytes 10000). Verification covers exactly that
 *                    many bytes; the mapping's last page is partial.
 *   --sparse MB      write only MB MiB of each region, spread evenly (one
 *                    page every pages/(MB MiB/page size) pages, from page
 *                    0); every other page is a hole: verification expects
 *                    zeros there (e.g. --size-mb 512 --sparse 4)
 *   --sysv-key K     base SysV key (default 0x4c5a0000); the region at
 *                    position i of the kinds list uses key K+i
 *   --hugetlbfs DIR  hugetlbfs mount for huge-file
 *   --shm-dir DIR    directory for shm-file (default /dev/shm)
 *   --unlink         unlink the files of file kinds right after mmap
 *   --keep-fd        file kinds (huge-file, shm-file) keep their descriptor
 *                    open after mmap (without it, it is closed at once);
 *                    every task holds it, the children inherit it at fork.
 *                    With --unlink the fd is the only path to the file.
 *   --holes          leave every page with index % 5 == 1 untouched (a hole);
 *                    verification expects zeros there
 *   --seed S         pattern seed (default 1)
 *   --children N     fork N children once everything is filled; they share
 *                    the shared regions (and get COW copies of private ones)
 *   --ready FILE     written atomically when everything is filled and every
 *                    child is up: one pid per line, task index order (root
 *                    is task 0, children 1..N)
 *   --result FILE    on SIGUSR1 every task verifies every region and writes
 *                    FILE.<taskindex> atomically. First line:
 *                      OK <bytes verified>
 *                      FAIL <kind> page <n> offset <o> expected <x> got <y>
 *                    then one line per region:
 *                      region <kind> bytes <b> pages <p> holes <h> size <s> OK|FAIL
 *                    where <s> is the size of the object the region maps
 *                    now, as fstat() sees it through /proc/self/map_files
 *                    (- for private memory), so a grown or shrunk object
 *                    shows
 *
 *   --fd-read        tasks that hold a region's fd open (memfd-sealed, and
 *                    file kinds with --keep-fd) also pread() the whole
 *                    region through the fd, before reading the mapping, and
 *                    compare it the same way; the result file gets a line
 *                    "fdread <kind> bytes <b> OK|FAIL"
 *   --on-usr2 LIST   on SIGUSR2 the root performs these actions, in order
 *                    (PAGE and N count the region's pages):
 *                      dontneed:KIND:PAGE:N  read and check the pages, then
 *                                 MADV_DONTNEED them and check them again:
 *                                 their content must be unchanged
 *                      dontneed-ro:KIND:PAGE:N  MADV_DONTNEED on pages of a
 *                                 read-only kind that were never touched,
 *                                 then check them: the content must stay
 *                      dontneed-any:KIND:PAGE:N  MADV_DONTNEED on pages
 *                                 never touched, of any mapping; then each
 *                                 page must hold its content or zeros (what
 *                                 it holds is expected from then on); the
 *                                 result gets a line "dontneed-any KIND
 *                                 PAGE N: <z> zero <c> content"
 *                      remove:KIND:PAGE:N    MADV_REMOVE: they read zeros
 *                      unmap:KIND:PAGE:N     munmap: no longer verified
 *                      mprotect:KIND:PAGE:N  mprotect(PROT_READ): the VMA
 *                                 is split; the pages are checked (do not
 *                                 combine with --rewrite)
 *                      mremap:KIND   move the whole region to a new address
 *                      grow:KIND     4K memfd and file kinds (mremap cannot
 *                                 grow hugetlb mappings): at setup the
 *                                 object gets twice the region's size, its
 *                                 second half filled through a temporary
 *                                 mapping and left unmapped (a free gap
 *                                 after the region); the action grows the
 *                                 mapping in place over the gap with
 *                                 mremap (no MREMAP_MAYMOVE) and checks
 *                                 the new half; the region is then twice
 *                                 as big
 *                      forkgrow:KIND fork a child (next task index) that
 *                                 does grow:KIND and writes its own
 *                                 FILE.usr2.<its index>; the root goes on
 *                                 (without growing); like fork, the child
 *                                 knows only what was done before it
 *                      dontunmap:KIND  mremap(MREMAP_MAYMOVE|
 *                                 MREMAP_DONTUNMAP) to a new address; both
 *                                 the new and the old mapping are verified
 *                                 from then on
 *                      shmat:KIND    SysV kinds: attach the segment anew at
 *                                 a new address and check it there; both
 *                                 attachments are verified from then on
 *                      reopen-write:KIND:PAGE  file kinds with a path:
 *                                 open the file anew and write page PAGE
 *                                 with another pattern (pwrite on tmpfs;
 *                                 through a mapping of the new fd on
 *                                 hugetlbfs, which has no write()); then
 *                                 read it back through the region
 *                      reopen-punch:KIND:PAGE  the same, with fallocate
 *                                 (PUNCH_HOLE|KEEP_SIZE) of page PAGE
 *                                 through a new fd: it reads zeros
 *                      churn:KIND:T  T threads read and check every page
 *                                 of the region (each its own slice) while
 *                                 one more thread, until they are done,
 *                                 MADV_DONTNEEDs its first page (read
 *                                 first, so it keeps its content),
 *                                 mprotect()s it back and forth and maps
 *                                 and unmaps a private page, in a loop
 *                      fork          fork a child with the next task index;
 *                                    it knows what was done before the fork
 *                      exit          every task exits, the children first,
 *                                    the root last (after its result)
 *                    then writes FILE.usr2.0 (--result): "OK actions"
 *                    or "FAIL <action>: <cause>" (more lines may follow).
 *                    Verification afterwards expects exactly that outcome.
 *   --rewrite STEP   on SIGUSR2 every task starts a new generation g (1, 2,
 *                    ...) and writes the pattern of seed S+g into every
 *                    page with index % STEP == 0 of every shared region;
 *                    task i writes those with (index / STEP) % tasks == i,
 *                    or all of them if it is the --rewrite-task. Then it
 *                    writes FILE.w.<taskindex>: "WROTE <pages> gen <g>".
 *                    Verification expects the generation-g pattern there.
 *   --rewrite-task T only task T writes (the others report WROTE 0)
 *
 * Files of file kinds are named DIR/memkinds-<rootpid>-<kind>.
 *
 * Every page gets its own pattern of 64-bit words derived from (kind index,
 * page index, seed), so a page that lands at the wrong place is detected.
 * A "page" is the region's page size (4K, 2M or 1G). Verification reads
 * every byte.
 *
 * After setup every task waits for signals (sigsuspend in a loop, so the
 * wait survives checkpoint/restore): SIGUSR1 verifies again, SIGUSR2 runs
 * --rewrite and --on-usr2, SIGTERM exits 0. The root forwards SIGTERM to its children, reaps them and removes the
 * SysV segments and the files it created. No fd stays open except stdio,
 * the memfd-sealed fd and, with --keep-fd, those of file kinds: an open fd
 * lets read()/write() reach the pages without page tables, which is a
 * different restore problem that only these are meant to exercise.
 *
 * Exit status: 0 after SIGTERM, 1 on a usage error, 2 if a region or a
 * child cannot be set up (the message names the kind and the cause).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << 26)
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define SZ_4K	     (4096UL)
#define SZ_2M	     (2UL << 20)
#define SZ_1G	     (1UL << 30)
#define MAX_REGIONS  16
#define MAX_CHILDREN 64
#define MAX_SPANS    32
#define MAX_CHURN    256
#define RO_SEALS     (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

enum backing { B_MMAP,
	       B_MEMFD,
	       B_SYSV,
	       B_FILE };

struct kind {
	const char *name;
	enum backing back;
	int flags; /* mmap, memfd_create or shmget flags */
	unsigned long pagesz;
	int sealed;
	int eager;	       /* part of all-eager */
	unsigned int ro_seals; /* read-only memfd: sealed so after filling */
};

/* The index in this table is part of the pattern: append only. */
static const struct kind kinds[] = {
	{ "anon", B_MMAP, MAP_SHARED | MAP_ANONYMOUS, SZ_4K, 0, 1, 0 },
	{ "memfd", B_MEMFD, 0, SZ_4K, 0, 1, 0 },
	{ "memfd-sealed", B_MEMFD, MFD_ALLOW_SEALING, SZ_4K, 1, 1, 0 },
	{ "sysv", B_SYSV, 0, SZ_4K, 0, 1, 0 },
	{ "huge-anon", B_MMAP, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, SZ_2M, 0, 1, 0 },
	{ "huge-memfd", B_MEMFD, MFD_HUGETLB, SZ_2M, 0, 1, 0 },
	{ "huge-file", B_FILE, 0, SZ_2M, 0, 0, 0 },
	{ "huge-sysv", B_SYSV, SHM_HUGETLB, SZ_2M, 0, 1, 0 },
	{ "huge1g-anon", B_MMAP, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB, SZ_1G, 0, 0, 0 },
	{ "priv-huge", B_MMAP, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, SZ_2M, 0, 1, 0 },
	{ "private", B_MMAP, MAP_PRIVATE | MAP_ANONYMOUS, SZ_4K, 0, 1, 0 },
	{ "shm-file", B_FILE, 0, SZ_4K, 0, 0, 0 },
	{ "memfd-rosealed", B_MEMFD, MFD_ALLOW_SEALING, SZ_4K, 0, 0, RO_SEALS },
	{ "memfd-fwsealed", B_MEMFD, MFD_ALLOW_SEALING, SZ_4K, 0, 0, F_SEAL_FUTURE_WRITE },
	{ "huge-memfd-rosealed", B_MEMFD, MFD_HUGETLB | MFD_ALLOW_SEALING, SZ_2M, 0, 0, RO_SEALS },
};
#define NR_KINDS (int)(sizeof(kinds) / sizeof(kinds[0]))

/* What an --on-usr2 action did to a run of pages */
enum span_what { SPAN_ZERO,
		 SPAN_GONE,
		 SPAN_NEW }; /* holds the pattern of new_seed() */

struct span {
	uint64_t first, n;
	enum span_what what;
};

struct region {
	int kind;
	char *addr;
	unsigned long len;    /* bytes mapped and verified (not page aligned with --odd-bytes) */
	unsigned long objlen; /* bytes of the object: 2 * len for grow:KIND until it grows */
	unsigned long pagesz;
	unsigned long sparse_stride; /* --sparse: one page in this many has data; 0 none */
	char *alias;		     /* a second mapping of the same pages (dontunmap, shmat) */
	int ro;			     /* mapped PROT_READ: never written after setup */
	int fd;			     /* memfd-sealed, file kinds with --keep-fd, else -1 */
	int shmid;		     /* SysV only, else -1 */
	char *path;		     /* file kinds, NULL once unlinked */
	struct span spans[MAX_SPANS];
	int nr_spans;
};

static struct {
	struct region regions[MAX_REGIONS];
	int nr_regions;
	unsigned long size_mb, huge_mb, odd_bytes, sparse_mb;
	key_t sysv_key;
	const char *hugetlbfs, *shm_dir, *ready, *result;
	int unlink_files, holes, nr_children, fd_read, keep_fd;
	uint64_t seed;
	const char *on_usr2;
	unsigned long rewrite_step;
	int rewrite_task;	      /* -1: every task writes its share */
	int nr_tasks;		      /* root + --children, fixed at start */
	uint64_t rw_gen;	      /* rewrite generations done */
	pid_t pids[MAX_CHILDREN + 1]; /* task index -> pid */
} cfg = {
	.size_mb = 4,
	.huge_mb = 4,
	.sysv_key = 0x4c5a0000,
	.shm_dir = "/dev/shm",
	.seed = 1,
	.rewrite_task = -1,
};

static volatile sig_atomic_t got_usr1, got_usr2, got_term;

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t page_base_seed(uint64_t seed, int kind, uint64_t page)
{
	return mix64(seed ^ mix64(((uint64_t)kind << 48) ^ page));
}

static uint64_t page_base(int kind, uint64_t page)
{
	return page_base_seed(cfg.seed, kind, page);
}

static uint64_t word_at(uint64_t base, uint64_t i)
{
	return base + i * 0xd6e8feb86659fd93ULL;
}

static int is_hole(const struct region *r, uint64_t page)
{
	if (cfg.holes && page % 5 == 1)
		return 1;
	return r->sparse_stride && page % r->sparse_stride;
}

/* Pages of the region as mapped now; the last one may be partial */
static uint64_t region_pages(const struct region *r)
{
	return (r->len + r->pagesz - 1) / r->pagesz;
}

/* Bytes of the mapping: whole pages */
static unsigned long map_len(unsigned long len, unsigned long pagesz)
{
	return (len + pagesz - 1) / pagesz * pagesz;
}

/* Bytes of page @page that belong to the object (@len bytes) */
static unsigned long page_bytes(unsigned long len, unsigned long pagesz, uint64_t page)
{
	unsigned long off = page * pagesz;

	return len - off < pagesz ? len - off : pagesz;
}

/* Writes the pattern of @base into @bytes bytes at @p (a partial last word too) */
static void put_pattern(char *p, uint64_t base, unsigned long bytes)
{
	uint64_t i, words = bytes / 8, w;

	for (i = 0; i < words; i++)
		((uint64_t *)p)[i] = word_at(base, i);
	if (bytes % 8) {
		w = word_at(base, words);
		memcpy(p + words * 8, &w, bytes % 8);
	}
}

static int find_kind(const char *name)
{
	int i;

	for (i = 0; i < NR_KINDS; i++)
		if (!strcmp(kinds[i].name, name))
			return i;
	return -1;
}

static int add_kind(int k)
{
	int i;

	for (i = 0; i < cfg.nr_regions; i++) {
		if (cfg.regions[i].kind == k) {
			fprintf(stderr, "memkinds: kind %s given twice\n", kinds[k].name);
			return -1;
		}
	}
	if (cfg.nr_regions == MAX_REGIONS) {
		fprintf(stderr, "memkinds: more than %d regions\n", MAX_REGIONS);
		return -1;
	}
	cfg.regions[cfg.nr_regions].kind = k;
	cfg.regions[cfg.nr_regions].fd = -1;
	cfg.regions[cfg.nr_regions].shmid = -1;
	cfg.nr_regions++;
	return 0;
}

static int parse_kinds(const char *list)
{
	char *copy, *tok, *save = NULL;
	int k, ret = 0;

	copy = strdup(list);
	if (!copy) {
		perror("memkinds: strdup");
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all-eager")) {
			for (k = 0; k < NR_KINDS && !ret; k++)
				if (kinds[k].eager)
					ret = add_kind(k);
			continue;
		}
		k = find_kind(tok);
		if (k < 0) {
			fprintf(stderr, "memkinds: unknown kind '%s'\n", tok);
			ret = -1;
		} else {
			ret = add_kind(k);
		}
	}
	free(copy);
	if (!ret && !cfg.nr_regions) {
		fprintf(stderr, "memkinds: --kinds is empty\n");
		ret = -1;
	}
	return ret;
}

static int parse_num(const char *opt, const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || end == s || *end || *out > max) {
		fprintf(stderr, "memkinds: bad value '%s' for --%s\n", s, opt);
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: memkinds --kinds LIST [--size-mb N] [--huge-mb N] [--odd-bytes N]\n"
			"       [--sparse MB] [--sysv-key K] [--hugetlbfs DIR] [--shm-dir DIR] [--unlink]\n"
			"       [--keep-fd] [--holes] [--seed S] [--children N] [--ready FILE]\n"
			"       [--result FILE] [--fd-read] [--on-usr2 ACTIONS] [--rewrite STEP]\n"
			"       [--rewrite-task T]\n"
			"kinds: anon memfd memfd-sealed sysv huge-anon huge-memfd huge-file huge-sysv\n"
			"       huge1g-anon priv-huge private shm-file memfd-rosealed memfd-fwsealed\n"
			"       huge-memfd-rosealed all-eager\n"
			"actions (--on-usr2, comma-separated): dontneed:KIND:PAGE:N dontneed-ro:KIND:PAGE:N\n"
			"       dontneed-any:KIND:PAGE:N remove:KIND:PAGE:N unmap:KIND:PAGE:N\n"
			"       mprotect:KIND:PAGE:N mremap:KIND grow:KIND forkgrow:KIND dontunmap:KIND\n"
			"       shmat:KIND reopen-write:KIND:PAGE reopen-punch:KIND:PAGE churn:KIND:THREADS\n"
			"       fork exit\n"
			"(the comment block at the top of tests/workloads/memkinds.c has the details)\n");
}

static const struct option long_opts[] = {
	{ "kinds", required_argument, NULL, 'k' },
	{ "size-mb", required_argument, NULL, 's' },
	{ "huge-mb", required_argument, NULL, 'H' },
	{ "odd-bytes", required_argument, NULL, 'O' },
	{ "sparse", required_argument, NULL, 'Z' },
	{ "sysv-key", required_argument, NULL, 'K' },
	{ "hugetlbfs", required_argument, NULL, 'f' },
	{ "shm-dir", required_argument, NULL, 'd' },
	{ "unlink", no_argument, NULL, 'u' },
	{ "keep-fd", no_argument, NULL, 'P' },
	{ "holes", no_argument, NULL, 'o' },
	{ "seed", required_argument, NULL, 'S' },
	{ "children", required_argument, NULL, 'c' },
	{ "ready", required_argument, NULL, 'r' },
	{ "result", required_argument, NULL, 'R' },
	{ "fd-read", no_argument, NULL, 'F' },
	{ "on-usr2", required_argument, NULL, 'A' },
	{ "rewrite", required_argument, NULL, 'W' },
	{ "rewrite-task", required_argument, NULL, 'T' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The options of the lazy-phase tests */
static int parse_opt_events(int c, const char *arg)
{
	unsigned long long v;
	int ret = 0;

	switch (c) {
	case 'O':
		ret = parse_num("odd-bytes", arg, 1 << 30, &v);
		cfg.odd_bytes = v;
		break;
	case 'Z':
		ret = parse_num("sparse", arg, 1 << 20, &v);
		cfg.sparse_mb = v;
		if (!ret && !v) {
			fprintf(stderr, "memkinds: --sparse needs at least 1 MiB written\n");
			ret = -1;
		}
		break;
	case 'F':
		cfg.fd_read = 1;
		break;
	case 'A':
		cfg.on_usr2 = arg;
		break;
	case 'W':
		ret = parse_num("rewrite", arg, 1 << 30, &v);
		cfg.rewrite_step = v;
		if (!ret && !v) {
			fprintf(stderr, "memkinds: --rewrite needs a step of at least 1\n");
			ret = -1;
		}
		break;
	case 'T':
		ret = parse_num("rewrite-task", arg, MAX_CHILDREN, &v);
		cfg.rewrite_task = (int)v;
		break;
	default:
		ret = -1;
	}
	return ret;
}

static int parse_opt(int c, const char *arg)
{
	unsigned long long v;
	int ret = 0;

	switch (c) {
	case 'k':
		return parse_kinds(arg);
	case 's':
		ret = parse_num("size-mb", arg, 1 << 20, &v);
		cfg.size_mb = v;
		break;
	case 'H':
		ret = parse_num("huge-mb", arg, 1 << 20, &v);
		cfg.huge_mb = v;
		break;
	case 'K':
		ret = parse_num("sysv-key", arg, INT32_MAX - MAX_REGIONS, &v);
		cfg.sysv_key = (key_t)v;
		break;
	case 'S':
		ret = parse_num("seed", arg, UINT64_MAX, &v);
		cfg.seed = v;
		break;
	case 'c':
		ret = parse_num("children", arg, MAX_CHILDREN, &v);
		cfg.nr_children = v;
		break;
	case 'f':
		cfg.hugetlbfs = arg;
		break;
	case 'd':
		cfg.shm_dir = arg;
		break;
	case 'r':
		cfg.ready = arg;
		break;
	case 'R':
		cfg.result = arg;
		break;
	case 'u':
		cfg.unlink_files = 1;
		break;
	case 'P':
		cfg.keep_fd = 1;
		break;
	case 'o':
		cfg.holes = 1;
		break;
	default:
		ret = parse_opt_events(c, arg);
	}
	return ret;
}

/* Kinds whose size --odd-bytes changes */
static int is_odd_kind(const struct kind *k)
{
	return k->back == B_MEMFD && k->pagesz == SZ_4K;
}

static int parse_args(int argc, char **argv)
{
	int c, i;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage();
			exit(0);
		}
		if (parse_opt(c, optarg))
			return -1;
	}
	if (optind != argc || !cfg.nr_regions) {
		if (!cfg.nr_regions)
			fprintf(stderr, "memkinds: --kinds is required\n");
		return -1;
	}
	if (cfg.huge_mb == 0) {
		fprintf(stderr, "memkinds: region sizes must be at least 1 MiB\n");
		return -1;
	}
	for (i = 0; i < cfg.nr_regions; i++) {
		const struct kind *k = &kinds[cfg.regions[i].kind];

		if (!cfg.size_mb && k->pagesz == SZ_4K && !(is_odd_kind(k) && cfg.odd_bytes)) {
			fprintf(stderr, "memkinds: --size-mb 0 is only for 4K memfd kinds with --odd-bytes\n");
			return -1;
		}
		if (kinds[cfg.regions[i].kind].back == B_FILE && kinds[cfg.regions[i].kind].pagesz > SZ_4K &&
		    !cfg.hugetlbfs) {
			fprintf(stderr, "memkinds: huge-file needs --hugetlbfs DIR\n");
			return -1;
		}
	}
	return 0;
}

/*
 * Size of a region: whole pages, at least the requested MiB; 4K memfd
 * kinds get --odd-bytes more (not page aligned then).
 */
static unsigned long region_len(const struct kind *k)
{
	unsigned long mb = k->pagesz == SZ_4K ? cfg.size_mb : cfg.huge_mb;
	unsigned long len = mb << 20;

	if (is_odd_kind(k))
		return len + cfg.odd_bytes;
	return (len + k->pagesz - 1) / k->pagesz * k->pagesz;
}

/* Does an --on-usr2 action grow this region (grow:KIND, forkgrow:KIND)? */
static int wants_grow(const struct region *r)
{
	const char *name = kinds[r->kind].name, *p = cfg.on_usr2;
	size_t n = strlen(name);

	while (p && (p = strstr(p, "grow:"))) {
		p += strlen("grow:");
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* --sparse: one page in sparse_stride has data, from page 0 */
static void set_sparse(struct region *r)
{
	uint64_t pages = (r->objlen + r->pagesz - 1) / r->pagesz, written;

	if (!cfg.sparse_mb)
		return;
	written = (cfg.sparse_mb << 20) / r->pagesz;
	written = written ? written : 1;
	r->sparse_stride = pages > written ? pages / written : 1;
}

static int setup_err(const struct region *r, const char *what)
{
	int err = errno;
	const struct kind *k = &kinds[r->kind];

	fprintf(stderr, "memkinds: cannot create %s region (%lu MiB, %lu KiB pages): %s: %s%s\n", k->name,
		r->len >> 20, r->pagesz >> 10, what, strerror(err),
		(err == ENOMEM || err == ENOSPC) && k->pagesz > SZ_4K ? " (not enough free hugepages?)" : "");
	return -1;
}

/* The whole object, writable: it is filled through this mapping */
static int map_fd(struct region *r, int fd)
{
	r->addr = mmap(NULL, map_len(r->objlen, r->pagesz), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->addr == MAP_FAILED) {
		r->addr = NULL;
		return setup_err(r, "mmap");
	}
	return 0;
}

/* Every page of the object gets its pattern, holes excepted */
static void fill_region(const struct region *r)
{
	uint64_t page, npages = (r->objlen + r->pagesz - 1) / r->pagesz;

	for (page = 0; page < npages; page++)
		if (!is_hole(r, page))
			put_pattern(r->addr + page * r->pagesz, page_base(r->kind, page),
				    page_bytes(r->objlen, r->pagesz, page));
}

/*
 * The object is mapped whole and filled. grow:KIND: only its first half
 * stays mapped, with a free gap after it. Read-only kinds: the filling
 * mapping goes, the seals come, and the object is mapped PROT_READ.
 */
static int finish_object(struct region *r, int fd)
{
	const struct kind *k = &kinds[r->kind];
	unsigned long mlen = map_len(r->len, r->pagesz), olen = map_len(r->objlen, r->pagesz);

	if (olen > mlen && munmap(r->addr + mlen, olen - mlen))
		return setup_err(r, "munmap of the object's second half");
	if (!k->ro_seals)
		return 0;
	if (munmap(r->addr, mlen))
		return setup_err(r, "munmap of the filling mapping");
	r->addr = NULL;
	if (fcntl(fd, F_ADD_SEALS, k->ro_seals))
		return setup_err(r, "F_ADD_SEALS");
	r->addr = mmap(NULL, mlen, PROT_READ, MAP_SHARED, fd, 0);
	if (r->addr == MAP_FAILED) {
		r->addr = NULL;
		return setup_err(r, "mmap(PROT_READ) of the sealed memfd");
	}
	r->ro = 1;
	return 0;
}

static int create_mmap(struct region *r)
{
	r->addr = mmap(NULL, map_len(r->len, r->pagesz), PROT_READ | PROT_WRITE, kinds[r->kind].flags, -1, 0);
	if (r->addr == MAP_FAILED) {
		r->addr = NULL;
		return setup_err(r, "mmap");
	}
	fill_region(r);
	return 0;
}

static int create_memfd(struct region *r)
{
	const struct kind *k = &kinds[r->kind];
	int fd, ret;

	fd = memfd_create(k->name, MFD_CLOEXEC | k->flags);
	if (fd < 0)
		return setup_err(r, "memfd_create");
	ret = ftruncate(fd, r->objlen) ? setup_err(r, "ftruncate") : map_fd(r, fd);
	if (!ret) {
		fill_region(r);
		ret = finish_object(r, fd);
	}
	if (!ret && k->sealed && fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK))
		ret = setup_err(r, "F_ADD_SEALS");
	if (!ret && k->sealed) {
		r->fd = fd;
		return 0;
	}
	/* Plain memfd: close it, only the mapping must reach the pages. */
	if (close(fd) && !ret)
		ret = setup_err(r, "close");
	return ret;
}

static int create_sysv(struct region *r, int pos)
{
	int flags = IPC_CREAT | IPC_EXCL | 0600 | kinds[r->kind].flags;
	void *p;

	r->shmid = shmget(cfg.sysv_key + pos, r->len, flags);
	if (r->shmid < 0)
		return setup_err(r, "shmget");
	p = shmat(r->shmid, NULL, 0);
	if (p == (void *)-1) {
		setup_err(r, "shmat");
		if (shmctl(r->shmid, IPC_RMID, NULL))
			perror("memkinds: shmctl(IPC_RMID)");
		r->shmid = -1;
		return -1;
	}
	r->addr = p;
	fill_region(r);
	return 0;
}

static int create_file(struct region *r)
{
	const struct kind *k = &kinds[r->kind];
	const char *dir = k->pagesz == SZ_4K ? cfg.shm_dir : cfg.hugetlbfs;
	int fd, ret;

	if (asprintf(&r->path, "%s/memkinds-%d-%s", dir, (int)getpid(), k->name) < 0) {
		r->path = NULL;
		return setup_err(r, "asprintf");
	}
	fd = open(r->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return setup_err(r, r->path);
	ret = ftruncate(fd, r->objlen) ? setup_err(r, "ftruncate") : map_fd(r, fd);
	if (!ret) {
		fill_region(r);
		ret = finish_object(r, fd);
	}
	if (!ret && cfg.keep_fd)
		r->fd = fd; /* --keep-fd: held by every task, inherited at fork */
	else if (close(fd) && !ret)
		ret = setup_err(r, "close");
	if (!ret && cfg.unlink_files) {
		if (unlink(r->path))
			return setup_err(r, "unlink");
		free(r->path);
		r->path = NULL;
	}
	return ret;
}

/* The page size of a hugetlbfs mount is its f_bsize. */
static int file_pagesz(struct region *r)
{
	struct statfs st;

	if (kinds[r->kind].pagesz == SZ_4K)
		return 0;
	if (statfs(cfg.hugetlbfs, &st))
		return setup_err(r, cfg.hugetlbfs);
	if (st.f_type != 0x958458f6 /* HUGETLBFS_MAGIC */) {
		errno = EINVAL;
		return setup_err(r, "--hugetlbfs is not a hugetlbfs mount");
	}
	r->pagesz = st.f_bsize;
	r->len = (cfg.huge_mb << 20) / r->pagesz * r->pagesz;
	if (!r->len)
		r->len = r->pagesz;
	return 0;
}

/* Creates the region and fills it */
static int create_region(struct region *r, int pos)
{
	const struct kind *k = &kinds[r->kind];

	r->pagesz = k->pagesz;
	r->len = region_len(k);
	if (k->back == B_FILE && file_pagesz(r))
		return -1;
	r->objlen = wants_grow(r) ? 2 * r->len : r->len;
	set_sparse(r);
	switch (k->back) {
	case B_MMAP:
		return create_mmap(r);
	case B_MEMFD:
		return create_memfd(r);
	case B_SYSV:
		return create_sysv(r, pos);
	case B_FILE:
		return create_file(r);
	}
	return -1;
}

static int is_shared(const struct region *r)
{
	return !(kinds[r->kind].back == B_MMAP && (kinds[r->kind].flags & MAP_PRIVATE));
}

static uint64_t rw_seed(uint64_t gen)
{
	return cfg.seed ^ mix64(0x7277000000000000ULL | gen);
}

/* The pattern reopen-write puts into a page */
static uint64_t new_seed(void)
{
	return cfg.seed ^ mix64(0x6e65770000000000ULL);
}

static int page_gone(const struct region *r, uint64_t page)
{
	int i, gone = 0;

	for (i = 0; i < r->nr_spans; i++)
		if (page >= r->spans[i].first && page < r->spans[i].first + r->spans[i].n)
			gone = r->spans[i].what == SPAN_GONE;
	return gone;
}

/*
 * What page @page of @r must hold now: -1 nothing (unmapped), 0 zeros, 1
 * the words of *base. Later --on-usr2 actions win over earlier ones.
 */
static int page_expect(const struct region *r, uint64_t page, uint64_t *base)
{
	int i, ret = is_hole(r, page) ? 0 : 1;

	*base = page_base(r->kind, page);
	if (cfg.rw_gen && is_shared(r) && !r->ro && page % cfg.rewrite_step == 0) {
		*base = page_base_seed(rw_seed(cfg.rw_gen), r->kind, page);
		ret = 1;
	}
	for (i = 0; i < r->nr_spans; i++) {
		const struct span *s = &r->spans[i];

		if (page < s->first || page >= s->first + s->n)
			continue;
		ret = s->what == SPAN_GONE ? -1 : s->what == SPAN_ZERO ? 0 :
									 1;
		if (s->what == SPAN_NEW)
			*base = page_base_seed(new_seed(), r->kind, page);
	}
	return ret;
}

/* Word @i of @p, and of @want, limited to the @bytes of the page that exist */
static uint64_t word_in(const char *p, uint64_t i, unsigned long bytes, uint64_t *want)
{
	unsigned long n = bytes - i * 8 < 8 ? bytes - i * 8 : 8;
	uint64_t got = 0;

	if (n == 8)
		return ((const uint64_t *)p)[i];
	memcpy(&got, p + i * 8, n);
	*want &= (1ULL << (n * 8)) - 1;
	return got;
}

/*
 * Compares page @page of @r, read at @p, with what it must hold; reads
 * every byte of it that the object has. The first mismatch overall (*bad
 * still 0) is described in @first. Returns -1 on a mismatch.
 */
static int check_page(const struct region *r, uint64_t page, const char *p, const char *via, char *first, size_t flen,
		      int *bad)
{
	unsigned long bytes = page_bytes(r->len, r->pagesz, page);
	uint64_t base, i, words = (bytes + 7) / 8;
	int e = page_expect(r, page, &base), mism = 0;

	if (e < 0)
		return 0;
	for (i = 0; i < words; i++) {
		uint64_t want = e ? word_at(base, i) : 0;
		uint64_t got = word_in(p, i, bytes, &want);

		if (got == want || mism++)
			continue;
		if (!(*bad)++)
			snprintf(first, flen,
				 "FAIL %s%s page %" PRIu64 " offset %" PRIu64 " expected 0x%016" PRIx64 " got 0x%016" PRIx64,
				 kinds[r->kind].name, via, page, i * 8, want, got);
	}
	return mism ? -1 : 0;
}

/*
 * The size of the object mapped at @r->addr now, by fstat() through
 * /proc/self/map_files of the VMA there: "-" for private memory, "?" if
 * it cannot be had.
 */
static void object_size(const struct region *r, char *out, size_t len)
{
	unsigned long s = 0, e = 0, a = (unsigned long)r->addr;
	char line[512], path[96];
	struct stat st;
	int found = 0;
	FILE *f;

	snprintf(out, len, is_shared(r) ? "?" : "-");
	if (!is_shared(r) || !(f = fopen("/proc/self/maps", "re")))
		return;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%lx-%lx", &s, &e) == 2 && a >= s && a < e;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", s, e);
	if (found && stat(path, &st) == 0)
		snprintf(out, len, "%lld", (long long)st.st_size);
}

/*
 * Reads every byte of the region (and of its second mapping). Puts its
 * report line in line and, on a mismatch, the first one in first. Returns
 * 0 if everything matched.
 */
static int verify_region(const struct region *r, char *first, size_t flen, char *line, size_t llen)
{
	uint64_t page, npages = region_pages(r), holes = 0;
	char size[32];
	int bad = 0;

	for (page = 0; page < npages; page++) {
		holes += is_hole(r, page);
		check_page(r, page, r->addr + page * r->pagesz, "", first, flen, &bad);
		if (r->alias)
			check_page(r, page, r->alias + page * r->pagesz, " (second mapping)", first, flen, &bad);
	}
	object_size(r, size, sizeof(size));
	snprintf(line, llen, "region %s bytes %lu pages %" PRIu64 " holes %" PRIu64 " size %s %s", kinds[r->kind].name,
		 r->len, npages, holes, size, bad ? "FAIL" : "OK");
	return bad ? -1 : 0;
}

/* --fd-read: the same comparison through pread() on the region's fd */
static int verify_fd(const struct region *r, char *first, size_t flen, char *line, size_t llen)
{
	uint64_t page, npages = region_pages(r);
	char *buf = malloc(r->pagesz);
	int bad = 0;

	if (!buf) {
		snprintf(first, flen, "FAIL %s (pread): no memory", kinds[r->kind].name);
		bad = 1;
	}
	for (page = 0; buf && page < npages; page++) {
		size_t want = page_bytes(r->len, r->pagesz, page);
		ssize_t n = pread(r->fd, buf, want, page * r->pagesz);

		if (n != (ssize_t)want) {
			snprintf(first, flen, "FAIL %s (pread) page %" PRIu64 ": %s", kinds[r->kind].name, page,
				 n < 0 ? strerror(errno) : "short read");
			bad++;
			break;
		}
		check_page(r, page, buf, " (pread)", first, flen, &bad);
	}
	free(buf);
	snprintf(line, llen, "fdread %s bytes %lu %s", kinds[r->kind].name, r->len, bad ? "FAIL" : "OK");
	return bad ? -1 : 0;
}

static int write_atomic(const char *path, const char *buf)
{
	char tmp[4096];
	size_t len = strlen(buf), off = 0;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		fprintf(stderr, "memkinds: path too long: %s\n", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "memkinds: open %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	while (off < len && !ret) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = -1;
		else
			off += n;
	}
	if (close(fd))
		ret = -1;
	if (!ret && rename(tmp, path))
		ret = -1;
	if (ret) {
		fprintf(stderr, "memkinds: writing %s: %s\n", path, strerror(errno));
		if (unlink(tmp) && errno != ENOENT)
			perror("memkinds: unlink");
	}
	return ret;
}

/* Writes @text to FILE.<suffix><idx> (--result FILE), atomically */
static int write_result(const char *suffix, int idx, const char *text)
{
	char path[4096];

	if (!cfg.result)
		return 0;
	if (snprintf(path, sizeof(path), "%s.%s%d", cfg.result, suffix, idx) >= (int)sizeof(path)) {
		fprintf(stderr, "memkinds: --result path too long\n");
		return -1;
	}
	return write_atomic(path, text);
}

/* Bytes a verification reads: the region's (and its second mapping's) */
static unsigned long verified_bytes(const struct region *r)
{
	unsigned long len = 0;
	uint64_t page;

	for (page = 0; page < region_pages(r); page++)
		if (!page_gone(r, page))
			len += page_bytes(r->len, r->pagesz, page);
	return r->alias ? 2 * len : len;
}

static int verify_all(int idx)
{
	char first[256] = "", line[256], body[MAX_REGIONS * 2 * 256] = "", out[sizeof(body) + 256];
	unsigned long total = 0;
	int i, bad = 0;

	for (i = 0; i < cfg.nr_regions; i++) {
		const struct region *r = &cfg.regions[i];
		char f[256] = "";

		/* through the fd first: before the mapping has faulted anything in */
		if (cfg.fd_read && r->fd >= 0) {
			if (verify_fd(r, f, sizeof(f), line, sizeof(line)) && !bad++)
				memcpy(first, f, sizeof(first));
			strcat(body, line);
			strcat(body, "\n");
		}
		if (verify_region(r, f, sizeof(f), line, sizeof(line)) && !bad++)
			memcpy(first, f, sizeof(first));
		total += verified_bytes(r);
		strcat(body, line);
		strcat(body, "\n");
	}
	if (!bad)
		snprintf(first, sizeof(first), "OK %lu", total);
	fprintf(stderr, "memkinds[%d] pid %d: %s\n", idx, (int)getpid(), first);
	snprintf(out, sizeof(out), "%s\n%s", first, body);
	return write_result("", idx, out);
}

/* --rewrite: does task @idx write page @page? */
static int rewrites(uint64_t page, int idx)
{
	if (page % cfg.rewrite_step)
		return 0;
	if (cfg.rewrite_task >= 0)
		return idx == cfg.rewrite_task;
	return (int)((page / cfg.rewrite_step) % cfg.nr_tasks) == idx;
}

/* Writes the pattern of generation cfg.rw_gen into this task's pages */
static int rewrite_all(int idx)
{
	uint64_t page, n = 0;
	char out[128];
	int j;

	cfg.rw_gen++;
	for (j = 0; j < cfg.nr_regions; j++) {
		const struct region *r = &cfg.regions[j];

		if (!is_shared(r) || r->ro)
			continue;
		for (page = 0; page < region_pages(r); page++) {
			uint64_t base = page_base_seed(rw_seed(cfg.rw_gen), r->kind, page);

			if (!rewrites(page, idx) || page_gone(r, page))
				continue;
			put_pattern(r->addr + page * r->pagesz, base, page_bytes(r->len, r->pagesz, page));
			n++;
		}
	}
	snprintf(out, sizeof(out), "WROTE %" PRIu64 " gen %" PRIu64 "\n", n, cfg.rw_gen);
	fprintf(stderr, "memkinds[%d] pid %d: %s", idx, (int)getpid(), out);
	return write_result("w.", idx, out);
}

/* One --on-usr2 action: ACT[:KIND[:PAGE[:N]]] */
struct action {
	char act[16];
	char kind[32];
	unsigned long long first, n;
	struct region *r;
};

/* Runs one action: 0, 1 in a child it forked, -1 with @err set */
typedef int (*act_fn)(int *idx, struct action *a, char *err, size_t elen);

/* Lines the actions add to the --on-usr2 result, after its first */
static char act_info[1024];

static int act_err(char *err, size_t elen, const struct action *a, const char *what)
{
	snprintf(err, elen, "%s:%s: %s%s%s", a->act, a->kind, what, errno ? ": " : "", errno ? strerror(errno) : "");
	return -1;
}

/* Reads pages [first, first+n) and compares them with what they must hold */
static int check_range(const struct action *a, char *err, size_t elen)
{
	const struct region *r = a->r;
	uint64_t page;
	int bad = 0;

	for (page = a->first; page < a->first + a->n; page++)
		check_page(r, page, r->addr + page * r->pagesz, " (on-usr2)", err, elen, &bad);
	return bad ? -1 : 0;
}

/* Pages [first, first+n) of the region hold @what from now on */
static int add_span_at(const struct action *a, uint64_t first, uint64_t n, enum span_what what, char *err,
		       size_t elen)
{
	struct region *r = a->r;

	if (r->nr_spans == MAX_SPANS) {
		errno = 0;
		return act_err(err, elen, a, "too many actions on one region");
	}
	r->spans[r->nr_spans++] = (struct span){ .first = first, .n = n, .what = what };
	return 0;
}

static int add_span(const struct action *a, enum span_what what, char *err, size_t elen)
{
	return add_span_at(a, a->first, a->n, what, err, elen);
}

/* dontneed (@read_first: the pages are populated first) and dontneed-ro */
static int range_dontneed(const struct action *a, char *p, size_t len, int read_first, char *err, size_t elen)
{
	if (read_first && check_range(a, err, elen))
		return -1;
	if (madvise(p, len, MADV_DONTNEED))
		return act_err(err, elen, a, "madvise(MADV_DONTNEED)");
	/* private memory reads zeros after it; shared memory keeps its content */
	if (!is_shared(a->r) && add_span(a, SPAN_ZERO, err, elen))
		return -1;
	return check_range(a, err, elen);
}

/* dontneed, dontneed-ro, remove, unmap, mprotect of pages [first, first+n) */
static int act_range(int *idx, struct action *a, char *err, size_t elen)
{
	char *p = a->r->addr + a->first * a->r->pagesz;
	size_t len = a->n * a->r->pagesz;

	if (!strcmp(a->act, "dontneed") || !strcmp(a->act, "dontneed-ro"))
		return range_dontneed(a, p, len, !strcmp(a->act, "dontneed"), err, elen);
	if (!strcmp(a->act, "remove")) {
		if (madvise(p, len, MADV_REMOVE))
			return act_err(err, elen, a, "madvise(MADV_REMOVE)");
		return add_span(a, SPAN_ZERO, err, elen) ? -1 : check_range(a, err, elen);
	}
	if (!strcmp(a->act, "mprotect")) {
		if (mprotect(p, len, PROT_READ))
			return act_err(err, elen, a, "mprotect(PROT_READ)");
		return check_range(a, err, elen);
	}
	if (munmap(p, len))
		return act_err(err, elen, a, "munmap");
	return add_span(a, SPAN_GONE, err, elen);
}

/* What page @page holds: 2 nothing is expected there but zeros, 1 its content, 0 zeros, -1 else */
static int page_class(const struct region *r, uint64_t page)
{
	const char *p = r->addr + page * r->pagesz;
	unsigned long i, bytes = page_bytes(r->len, r->pagesz, page);
	uint64_t base;
	char e[256];
	int bad = 0;

	if (page_expect(r, page, &base) != 1)
		return 2;
	if (!check_page(r, page, p, "", e, sizeof(e), &bad))
		return 1;
	for (i = 0; i < bytes && !p[i]; i++)
		;
	return i == bytes ? 0 : -1;
}

/* dontneed-any: MADV_DONTNEED on pages never touched; content or zeros */
static int act_dontneed_any(int *idx, struct action *a, char *err, size_t elen)
{
	struct region *r = a->r;
	uint64_t page, zero = 0, content = 0, run = 0;
	int cls = 0, bad = 0;
	size_t o;

	if (madvise(r->addr + a->first * r->pagesz, a->n * r->pagesz, MADV_DONTNEED))
		return act_err(err, elen, a, "madvise(MADV_DONTNEED)");
	for (page = a->first; page <= a->first + a->n; page++) {
		cls = page < a->first + a->n ? page_class(r, page) : 2;
		if (cls != 0 && run && add_span_at(a, page - run, run, SPAN_ZERO, err, elen))
			return -1;
		run = cls == 0 ? run + 1 : 0;
		zero += cls == 0;
		content += cls == 1;
		if (cls < 0) {
			check_page(r, page, r->addr + page * r->pagesz, " (dontneed-any)", err, elen, &bad);
			return -1;
		}
	}
	o = strlen(act_info);
	snprintf(act_info + o, sizeof(act_info) - o, "dontneed-any %s %llu %llu: %" PRIu64 " zero %" PRIu64 " content\n",
		 a->kind, a->first, a->n, zero, content);
	return 0;
}

/* Moves the whole region to a fresh address aligned to its page size */
static int act_mremap(int *idx, struct action *a, char *err, size_t elen)
{
	struct region *r = a->r;
	size_t len = map_len(r->len, r->pagesz), span = len + r->pagesz;
	char *res, *dst, *moved;

	res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return act_err(err, elen, a, "mmap of the destination");
	dst = (char *)(((uintptr_t)res + r->pagesz - 1) & ~(uintptr_t)(r->pagesz - 1));
	moved = mremap(r->addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (moved == MAP_FAILED) {
		act_err(err, elen, a, "mremap");
		if (munmap(res, span))
			perror("memkinds: munmap");
		return -1;
	}
	if ((dst > res && munmap(res, dst - res)) ||
	    (res + span > dst + len && munmap(dst + len, res + span - (dst + len))))
		return act_err(err, elen, a, "munmap of the spare destination");
	fprintf(stderr, "memkinds: %s moved from %p to %p\n", a->kind, (void *)r->addr, (void *)moved);
	r->addr = moved;
	return 0;
}

/* grow: mremap in place over the gap left at setup, then check the new half */
static int act_grow(int *idx, struct action *a, char *err, size_t elen)
{
	struct region *r = a->r;
	unsigned long old = map_len(r->len, r->pagesz), len = map_len(r->objlen, r->pagesz);
	struct action half = *a;
	char *p;

	errno = 0;
	if (len <= old)
		return act_err(err, elen, a, "the region has grown already");
	p = mremap(r->addr, old, len, 0);
	if (p == MAP_FAILED)
		return act_err(err, elen, a, "mremap in place over the gap after the region");
	r->len = r->objlen;
	fprintf(stderr, "memkinds: %s grown in place at %p from %lu to %lu bytes\n", a->kind, (void *)p, old, len);
	half.first = old / r->pagesz;
	half.n = (len - old) / r->pagesz;
	return check_range(&half, err, elen);
}

/* Returns 1 in the child, 0 in the parent, -1 on failure */
static int act_fork(int *idx, struct action *a, char *err, size_t elen)
{
	int n = cfg.nr_children + 1;
	pid_t pid;

	if (n > MAX_CHILDREN) {
		errno = 0;
		return act_err(err, elen, a, "too many children");
	}
	pid = fork();
	if (pid < 0)
		return act_err(err, elen, a, "fork");
	if (pid == 0) {
		*idx = n;
		cfg.nr_children = 0; /* its siblings are not its to stop */
		return 1;
	}
	cfg.pids[n] = pid;
	cfg.nr_children = n;
	return 0;
}

/* forkgrow: a new child grows the region and reports in FILE.usr2.<index> */
static int act_forkgrow(int *idx, struct action *a, char *err, size_t elen)
{
	char out[600];
	int ret = act_fork(idx, a, err, elen);

	if (ret != 1)
		return ret;
	ret = act_grow(idx, a, err, elen);
	fprintf(stderr, "memkinds[%d]: grow:%s in the forked child %s\n", *idx, a->kind, ret ? err : "done");
	snprintf(out, sizeof(out), ret ? "FAIL %s\n" : "OK actions\n", err);
	if (write_result("usr2.", *idx, out))
		fprintf(stderr, "memkinds[%d]: could not write the forkgrow result\n", *idx);
	return 1;
}

/* dontunmap: the region moves, its old mapping stays; both are verified */
static int act_dontunmap(int *idx, struct action *a, char *err, size_t elen)
{
	struct region *r = a->r;
	size_t len = map_len(r->len, r->pagesz);
	struct action all = *a;
	char *moved;

	errno = 0;
	if (r->alias)
		return act_err(err, elen, a, "the region has a second mapping already");
	moved = mremap(r->addr, len, len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	if (moved == MAP_FAILED)
		return act_err(err, elen, a, "mremap(MREMAP_MAYMOVE|MREMAP_DONTUNMAP)");
	fprintf(stderr, "memkinds: %s moved from %p to %p, the old mapping kept\n", a->kind, (void *)r->addr,
		(void *)moved);
	r->alias = r->addr;
	r->addr = moved;
	all.first = 0;
	all.n = region_pages(r);
	return check_range(&all, err, elen);
}

/* shmat: the segment attached anew, checked there; both are verified */
static int act_shmat(int *idx, struct action *a, char *err, size_t elen)
{
	struct region *r = a->r;
	uint64_t page;
	int bad = 0;
	void *p;

	errno = 0;
	if (r->alias)
		return act_err(err, elen, a, "the region has a second mapping already");
	p = shmat(r->shmid, NULL, 0);
	if (p == (void *)-1)
		return act_err(err, elen, a, "shmat of the segment anew");
	fprintf(stderr, "memkinds: %s segment %d attached anew at %p\n", a->kind, r->shmid, p);
	r->alias = p;
	for (page = 0; page < region_pages(r); page++)
		check_page(r, page, r->alias + page * r->pagesz, " (attached anew)", err, elen, &bad);
	return bad ? -1 : 0;
}

/* reopen-write: page @off of the file gets the new pattern through @fd */
static int reopen_write(const struct action *a, int fd, off_t off, char *err, size_t elen)
{
	const struct region *r = a->r;
	unsigned long bytes = page_bytes(r->len, r->pagesz, a->first);
	uint64_t base = page_base_seed(new_seed(), r->kind, a->first);
	char *buf;
	ssize_t n;

	errno = 0;
	if (r->pagesz == SZ_4K) {
		buf = malloc(bytes);
		if (!buf)
			return act_err(err, elen, a, "no memory");
		put_pattern(buf, base, bytes);
		n = pwrite(fd, buf, bytes, off);
		free(buf);
		return n == (ssize_t)bytes ? 0 : act_err(err, elen, a, n < 0 ? "pwrite" : "short pwrite");
	}
	/* hugetlbfs has no write(): through a mapping of the new descriptor */
	buf = mmap(NULL, r->pagesz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	if (buf == MAP_FAILED)
		return act_err(err, elen, a, "mmap of the new descriptor");
	put_pattern(buf, base, bytes);
	return munmap(buf, r->pagesz) ? act_err(err, elen, a, "munmap") : 0;
}

/* reopen-write, reopen-punch: through a descriptor opened anew by path */
static int act_reopen(int *idx, struct action *a, char *err, size_t elen)
{
	struct region *r = a->r;
	off_t off = a->first * r->pagesz;
	int fd, ret;

	fd = open(r->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return act_err(err, elen, a, "open by its path");
	if (!strcmp(a->act, "reopen-punch"))
		ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, r->pagesz) ?
			      act_err(err, elen, a, "fallocate(PUNCH_HOLE)") :
			      add_span(a, SPAN_ZERO, err, elen);
	else
		ret = reopen_write(a, fd, off, err, elen) ? -1 : add_span(a, SPAN_NEW, err, elen);
	if (close(fd) && !ret)
		ret = act_err(err, elen, a, "close");
	return ret ? -1 : check_range(a, err, elen);
}

/* churn: one reader's slice, or the thread that changes the mm */
struct churn {
	const struct region *r;
	uint64_t first, n; /* reader: its pages; mm changer: n counts its rounds */
	int bad;
	char err[256];
	int *stop;
};

/*
 * Downwards: the daemon sends its prefetch ahead of a fault (upwards), and a
 * reader going up would wait on each chunk the (test-slowed) prefetch claims
 * there; a reader going down meets only chunks it reaches last.
 */
static void *churn_reader(void *arg)
{
	struct churn *c = arg;
	uint64_t page, i;

	for (i = c->n; i > 0; i--) {
		page = c->first + i - 1;
		check_page(c->r, page, c->r->addr + page * c->r->pagesz, " (churn reader)", c->err, sizeof(c->err),
			   &c->bad);
	}
	return NULL;
}

/* Until told to stop: MADV_DONTNEED of page 0 (read first), mprotect, mmap/munmap */
static void *churn_mm(void *arg)
{
	struct churn *c = arg;
	char *p = c->r->addr, *m;
	size_t psz = c->r->pagesz;

	check_page(c->r, 0, p, " (churn)", c->err, sizeof(c->err), &c->bad);
	while (!c->bad && !__atomic_load_n(c->stop, __ATOMIC_ACQUIRE)) {
		if (madvise(p, psz, MADV_DONTNEED) || mprotect(p, psz, PROT_READ) ||
		    mprotect(p, psz, PROT_READ | PROT_WRITE)) {
			snprintf(c->err, sizeof(c->err), "churn: madvise/mprotect: %s", strerror(errno));
			c->bad = 1;
			break;
		}
		m = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || munmap(m, SZ_4K)) {
			snprintf(c->err, sizeof(c->err), "churn: mmap/munmap: %s", strerror(errno));
			c->bad = 1;
			break;
		}
		check_page(c->r, 0, p, " (churn)", c->err, sizeof(c->err), &c->bad);
		c->n++;
	}
	return NULL;
}

/* Starts thread @c[0] (the mm changer), then the @nt readers; how many started */
static uint64_t churn_start(struct churn *c, pthread_t *th, uint64_t nt, uint64_t npages)
{
	uint64_t i;

	if (pthread_create(&th[0], NULL, churn_mm, &c[0]))
		return 0;
	for (i = 1; i <= nt; i++) {
		c[i].r = c[0].r;
		c[i].first = (i - 1) * npages / nt;
		c[i].n = i * npages / nt - c[i].first;
		if (pthread_create(&th[i], NULL, churn_reader, &c[i]))
			break;
	}
	return i;
}

static int act_churn(int *idx, struct action *a, char *err, size_t elen)
{
	uint64_t i, nt = a->first, started;
	struct churn c[MAX_CHURN + 1];
	pthread_t th[MAX_CHURN + 1];
	int stop = 0, bad = 0;
	size_t o;

	memset(c, 0, sizeof(c));
	c[0] = (struct churn){ .r = a->r, .stop = &stop };
	started = churn_start(c, th, nt, region_pages(a->r));
	for (i = 1; i < started; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	if (started)
		pthread_join(th[0], NULL);
	for (i = 0; i < started; i++)
		if (c[i].bad && !bad++)
			snprintf(err, elen, "%s", c[i].err);
	if (started != nt + 1) {
		errno = EAGAIN;
		return act_err(err, elen, a, "cannot start the threads");
	}
	o = strlen(act_info);
	snprintf(act_info + o, sizeof(act_info) - o, "churn %s: %" PRIu64 " readers, %" PRIu64 " mm changes\n", a->kind,
		 nt, c[0].n);
	return bad ? -1 : 0;
}

/* exit: the root stops its children and exits once its result is written */
static int act_exit(int *idx, struct action *a, char *err, size_t elen)
{
	got_term = 1;
	return 0;
}

#define BACK(b) (1 << (b))

static const struct act_def {
	const char *name;
	int fields; /* ACT:KIND:PAGE:N is 4 */
	int pages;  /* its numbers are pages of the region */
	int backs;  /* BACK()s it works on, 0 any */
	act_fn run;
} acts[] = {
	{ "dontneed", 4, 1, 0, act_range },
	{ "dontneed-ro", 4, 1, 0, act_range },
	{ "dontneed-any", 4, 1, 0, act_dontneed_any },
	{ "remove", 4, 1, 0, act_range },
	{ "unmap", 4, 1, 0, act_range },
	{ "mprotect", 4, 1, 0, act_range },
	{ "mremap", 2, 0, 0, act_mremap },
	{ "grow", 2, 0, BACK(B_MEMFD) | BACK(B_FILE), act_grow },
	{ "forkgrow", 2, 0, BACK(B_MEMFD) | BACK(B_FILE), act_forkgrow },
	{ "dontunmap", 2, 0, 0, act_dontunmap },
	{ "shmat", 2, 0, BACK(B_SYSV), act_shmat },
	{ "reopen-write", 3, 1, BACK(B_FILE), act_reopen },
	{ "reopen-punch", 3, 1, BACK(B_FILE), act_reopen },
	{ "churn", 3, 0, 0, act_churn },
	{ "fork", 1, 0, 0, act_fork },
	{ "exit", 1, 0, 0, act_exit },
};

/* Why action @d cannot run on its region, or NULL */
static const char *action_refused(const struct act_def *d, const struct action *a)
{
	const struct region *r = a->r;

	if (d->backs && !(d->backs & BACK(kinds[r->kind].back)))
		return "not an action for that kind";
	if (d->pages && (a->first >= region_pages(r) || a->n > region_pages(r) - a->first))
		return "pages beyond the region";
	if ((d->run == act_grow || d->run == act_forkgrow) && (r->ro || r->len % r->pagesz || r->pagesz != SZ_4K))
		return "only writable 4K regions of whole pages can grow";
	if ((d->run == act_grow || d->run == act_forkgrow) && r->objlen <= r->len)
		return "the region has grown already";
	if (!strcmp(d->name, "dontneed-ro") && !r->ro)
		return "the region is not mapped read-only";
	if (d->run == act_churn && (r->ro || !a->first || a->first > MAX_CHURN))
		return r->ro ? "the region is read-only" : "from 1 to 256 threads";
	if (d->run == act_reopen && !r->path)
		return "the file has no path (--unlink)";
	return NULL;
}

static int parse_action(const char *tok, struct action *a, const struct act_def **def, char *err, size_t elen)
{
	const struct act_def *d = NULL;
	const char *why;
	int i, nf;

	memset(a, 0, sizeof(*a));
	errno = 0;
	nf = sscanf(tok, "%15[^:]:%31[^:]:%llu:%llu", a->act, a->kind, &a->first, &a->n);
	for (i = 0; i < (int)(sizeof(acts) / sizeof(acts[0])); i++)
		if (!strcmp(acts[i].name, a->act))
			d = &acts[i];
	if (!d)
		return act_err(err, elen, a, "unknown action");
	if (nf != d->fields || (d->fields == 4 && !a->n))
		return act_err(err, elen, a, "wrong number of fields");
	if (d->fields == 3 && d->pages)
		a->n = 1;
	for (i = 0; d->fields > 1 && i < cfg.nr_regions; i++)
		if (!strcmp(kinds[cfg.regions[i].kind].name, a->kind))
			a->r = &cfg.regions[i];
	if (d->fields > 1 && !a->r)
		return act_err(err, elen, a, "no region of that kind");
	why = a->r ? action_refused(d, a) : NULL;
	*def = d;
	return why ? act_err(err, elen, a, why) : 0;
}

/*
 * Runs (or, with @idx NULL, only checks) the --on-usr2 list. Returns 1 in
 * a child forked by it, 0 when done, -1 with @err set on a failure.
 */
static int run_actions(int *idx, char *err, size_t elen)
{
	char *copy = strdup(cfg.on_usr2), *tok, *save = NULL;
	const struct act_def *d;
	struct action a;
	int ret = 0;

	if (!copy) {
		snprintf(err, elen, "strdup: %s", strerror(errno));
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		ret = parse_action(tok, &a, &d, err, elen);
		if (ret || !idx)
			continue;
		ret = d->run(idx, &a, err, elen);
		fprintf(stderr, "memkinds[%d]: %s %s\n", *idx, tok, ret < 0 ? err : "done");
	}
	free(copy);
	return ret;
}

/* SIGUSR2 in the root: returns 1 in a child forked by an action */
static int on_usr2(int *idx)
{
	char err[512] = "", out[sizeof(act_info) + 600];
	int ret;

	act_info[0] = '\0';
	ret = run_actions(idx, err, sizeof(err));
	if (ret == 1)
		return 1;
	if (ret)
		snprintf(out, sizeof(out), "FAIL %s\n%s", err, act_info);
	else
		snprintf(out, sizeof(out), "OK actions\n%s", act_info);
	if (write_result("usr2.", *idx, out))
		fprintf(stderr, "memkinds: could not write the --on-usr2 result\n");
	return 0;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else
		got_term = 1;
}

/* The signals the tasks serve: blocked except while waiting */
static int served_signals(sigset_t *set)
{
	return sigemptyset(set) || sigaddset(set, SIGUSR1) || sigaddset(set, SIGUSR2) || sigaddset(set, SIGTERM);
}

/* Handlers are installed and both signals blocked before any fork. */
static int setup_signals(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	if (served_signals(&block) || sigprocmask(SIG_BLOCK, &block, waitmask)) {
		perror("memkinds: sigprocmask");
		return -1;
	}
	if (sigdelset(waitmask, SIGUSR1) || sigdelset(waitmask, SIGUSR2) || sigdelset(waitmask, SIGTERM) ||
	    sigemptyset(&sa.sa_mask) || sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGUSR2, &sa, NULL) ||
	    sigaction(SIGTERM, &sa, NULL)) {
		perror("memkinds: sigaction");
		return -1;
	}
	return 0;
}

/* Returns the task index: a child forked by --on-usr2 serves with its own */
static int serve(int idx, const sigset_t *waitmask)
{
	sigset_t block;

	if (served_signals(&block))
		perror("memkinds: sigset");
	while (!got_term) {
		/* Returns -1/EINTR, also when interrupted by a checkpoint. */
		if (sigsuspend(waitmask) && errno != EINTR)
			perror("memkinds: sigsuspend");
		/* A restore may bring back another mask: block again. */
		if (sigprocmask(SIG_BLOCK, &block, NULL))
			perror("memkinds: sigprocmask");
		if (got_usr2) {
			got_usr2 = 0;
			if (cfg.rewrite_step && rewrite_all(idx))
				fprintf(stderr, "memkinds[%d]: could not write the rewrite result\n", idx);
			if (cfg.on_usr2 && idx == 0)
				on_usr2(&idx);
		}
		if (got_usr1) {
			got_usr1 = 0;
			if (verify_all(idx))
				fprintf(stderr, "memkinds[%d]: could not write the result\n", idx);
		}
	}
	return idx;
}

static void stop_children(void)
{
	int i, status;

	for (i = 1; i <= cfg.nr_children; i++) {
		if (cfg.pids[i] <= 0)
			continue;
		if (kill(cfg.pids[i], SIGTERM) && errno != ESRCH)
			perror("memkinds: kill");
		while (waitpid(cfg.pids[i], &status, 0) < 0 && errno == EINTR)
			;
	}
}

static void release_regions(void)
{
	int i;

	for (i = 0; i < cfg.nr_regions; i++) {
		struct region *r = &cfg.regions[i];

		if (r->shmid >= 0 && shmctl(r->shmid, IPC_RMID, NULL))
			fprintf(stderr, "memkinds: removing %s segment %d: %s\n", kinds[r->kind].name, r->shmid,
				strerror(errno));
		if (r->path && unlink(r->path) && errno != ENOENT)
			fprintf(stderr, "memkinds: unlink %s: %s\n", r->path, strerror(errno));
	}
}

/* Forks the children; returns the task index (0 in the root). */
static int spawn_children(void)
{
	int i, p[2], up = 0;
	char c;

	cfg.pids[0] = getpid();
	if (!cfg.nr_children)
		return 0;
	if (pipe2(p, O_CLOEXEC)) {
		perror("memkinds: pipe");
		return -1;
	}
	for (i = 1; i <= cfg.nr_children; i++) {
		cfg.pids[i] = fork();
		if (cfg.pids[i] < 0) {
			fprintf(stderr, "memkinds: fork of child %d: %s\n", i, strerror(errno));
			break;
		}
		if (cfg.pids[i] == 0) {
			int ok = close(p[0]) == 0 && write(p[1], "x", 1) == 1;

			if (close(p[1]) || !ok)
				_exit(2);
			return i;
		}
	}
	if (close(p[1]))
		perror("memkinds: close");
	while (up < cfg.nr_children && read(p[0], &c, 1) == 1)
		up++;
	if (close(p[0]))
		perror("memkinds: close");
	return up == cfg.nr_children ? 0 : -1;
}

static int write_ready(void)
{
	char buf[(MAX_CHILDREN + 1) * 16] = "";
	int i, off = 0;

	if (!cfg.ready)
		return 0;
	for (i = 0; i <= cfg.nr_children; i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%d\n", (int)cfg.pids[i]);
	return write_atomic(cfg.ready, buf);
}

/* Regions that grow:KIND last: nothing set up after them takes their gap */
static int setup_regions(void)
{
	int i, pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < cfg.nr_regions; i++)
			if (wants_grow(&cfg.regions[i]) == pass && create_region(&cfg.regions[i], i))
				return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char err[512] = "";
	sigset_t waitmask;
	int idx;

	if (parse_args(argc, argv)) {
		usage();
		return 1;
	}
	if (setup_signals(&waitmask))
		return 2;
	if (setup_regions()) {
		release_regions();
		return 2;
	}
	cfg.nr_tasks = cfg.nr_children + 1;
	if (cfg.on_usr2 && run_actions(NULL, err, sizeof(err))) {
		fprintf(stderr, "memkinds: --on-usr2: %s\n", err);
		release_regions();
		return 1;
	}
	idx = spawn_children();
	if (idx < 0 || (idx == 0 && write_ready())) {
		stop_children();
		release_regions();
		return 2;
	}
	idx = serve(idx, &waitmask);
	if (idx == 0) {
		stop_children();
		release_regions();
	}
	return 0;
}
