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
 *                      all-eager    every kind CRIU 4.1.1 dumps by itself:
 *                                   anon,memfd,memfd-sealed,sysv,huge-anon,
 *                                   huge-memfd,huge-sysv,priv-huge,private
 *   --size-mb N      size of each 4K-page region in MiB (default 4)
 *   --huge-mb N      size of each hugetlb region in MiB (default 4)
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
 *                      region <kind> bytes <b> pages <p> holes <h> OK|FAIL
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
 *                      remove:KIND:PAGE:N    MADV_REMOVE: they read zeros
 *                      unmap:KIND:PAGE:N     munmap: no longer verified
 *                      mremap:KIND   move the whole region to a new address
 *                      fork          fork a child with the next task index;
 *                                    it knows what was done before the fork
 *                    then writes FILE.usr2.0 (--result): "OK actions"
 *                    or "FAIL <action>: <cause>". Verification afterwards
 *                    expects exactly that outcome.
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

#define SZ_4K	     (4096UL)
#define SZ_2M	     (2UL << 20)
#define SZ_1G	     (1UL << 30)
#define MAX_REGIONS  16
#define MAX_CHILDREN 64
#define MAX_SPANS    8

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
	int eager; /* part of all-eager */
};

/* The index in this table is part of the pattern: append only. */
static const struct kind kinds[] = {
	{ "anon", B_MMAP, MAP_SHARED | MAP_ANONYMOUS, SZ_4K, 0, 1 },
	{ "memfd", B_MEMFD, 0, SZ_4K, 0, 1 },
	{ "memfd-sealed", B_MEMFD, MFD_ALLOW_SEALING, SZ_4K, 1, 1 },
	{ "sysv", B_SYSV, 0, SZ_4K, 0, 1 },
	{ "huge-anon", B_MMAP, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, SZ_2M, 0, 1 },
	{ "huge-memfd", B_MEMFD, MFD_HUGETLB, SZ_2M, 0, 1 },
	{ "huge-file", B_FILE, 0, SZ_2M, 0, 0 },
	{ "huge-sysv", B_SYSV, SHM_HUGETLB, SZ_2M, 0, 1 },
	{ "huge1g-anon", B_MMAP, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB, SZ_1G, 0, 0 },
	{ "priv-huge", B_MMAP, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, SZ_2M, 0, 1 },
	{ "private", B_MMAP, MAP_PRIVATE | MAP_ANONYMOUS, SZ_4K, 0, 1 },
	{ "shm-file", B_FILE, 0, SZ_4K, 0, 0 },
};
#define NR_KINDS (int)(sizeof(kinds) / sizeof(kinds[0]))

/* What an --on-usr2 action did to a run of pages */
enum span_what { SPAN_ZERO,
		 SPAN_GONE };

struct span {
	uint64_t first, n;
	enum span_what what;
};

struct region {
	int kind;
	char *addr;
	unsigned long len;
	unsigned long pagesz;
	int fd;	    /* memfd-sealed, file kinds with --keep-fd, else -1 */
	int shmid;  /* SysV only, else -1 */
	char *path; /* file kinds, NULL once unlinked */
	struct span spans[MAX_SPANS];
	int nr_spans;
};

static struct {
	struct region regions[MAX_REGIONS];
	int nr_regions;
	unsigned long size_mb, huge_mb;
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

static int is_hole(uint64_t page)
{
	return cfg.holes && page % 5 == 1;
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
	fprintf(stderr, "usage: memkinds --kinds LIST [--size-mb N] [--huge-mb N] [--sysv-key K]\n"
			"       [--hugetlbfs DIR] [--shm-dir DIR] [--unlink] [--keep-fd] [--holes]\n"
			"       [--seed S] [--children N] [--ready FILE] [--result FILE] [--fd-read]\n"
			"       [--on-usr2 ACTIONS] [--rewrite STEP] [--rewrite-task T]\n"
			"kinds: anon memfd memfd-sealed sysv huge-anon huge-memfd huge-file huge-sysv\n"
			"       huge1g-anon priv-huge private shm-file all-eager\n"
			"(the comment block at the top of tests/workloads/memkinds.c has the details)\n");
}

static const struct option long_opts[] = {
	{ "kinds", required_argument, NULL, 'k' },
	{ "size-mb", required_argument, NULL, 's' },
	{ "huge-mb", required_argument, NULL, 'H' },
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
	if (cfg.size_mb == 0 || cfg.huge_mb == 0) {
		fprintf(stderr, "memkinds: region sizes must be at least 1 MiB\n");
		return -1;
	}
	for (i = 0; i < cfg.nr_regions; i++) {
		if (kinds[cfg.regions[i].kind].back == B_FILE && kinds[cfg.regions[i].kind].pagesz > SZ_4K &&
		    !cfg.hugetlbfs) {
			fprintf(stderr, "memkinds: huge-file needs --hugetlbfs DIR\n");
			return -1;
		}
	}
	return 0;
}

/* Size of a region: whole pages, at least the requested MiB. */
static unsigned long region_len(const struct kind *k)
{
	unsigned long mb = k->pagesz == SZ_4K ? cfg.size_mb : cfg.huge_mb;
	unsigned long len = mb << 20;

	return (len + k->pagesz - 1) / k->pagesz * k->pagesz;
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

static int map_fd(struct region *r, int fd)
{
	r->addr = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->addr == MAP_FAILED) {
		r->addr = NULL;
		return setup_err(r, "mmap");
	}
	return 0;
}

static int create_mmap(struct region *r)
{
	r->addr = mmap(NULL, r->len, PROT_READ | PROT_WRITE, kinds[r->kind].flags, -1, 0);
	if (r->addr == MAP_FAILED) {
		r->addr = NULL;
		return setup_err(r, "mmap");
	}
	return 0;
}

static int create_memfd(struct region *r)
{
	const struct kind *k = &kinds[r->kind];
	int fd, ret;

	fd = memfd_create(k->name, MFD_CLOEXEC | k->flags);
	if (fd < 0)
		return setup_err(r, "memfd_create");
	ret = ftruncate(fd, r->len) ? setup_err(r, "ftruncate") : map_fd(r, fd);
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
	ret = ftruncate(fd, r->len) ? setup_err(r, "ftruncate") : map_fd(r, fd);
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

static int create_region(struct region *r, int pos)
{
	const struct kind *k = &kinds[r->kind];

	r->pagesz = k->pagesz;
	r->len = region_len(k);
	switch (k->back) {
	case B_MMAP:
		return create_mmap(r);
	case B_MEMFD:
		return create_memfd(r);
	case B_SYSV:
		return create_sysv(r, pos);
	case B_FILE:
		return file_pagesz(r) ? -1 : create_file(r);
	}
	return -1;
}

static void fill_region(const struct region *r)
{
	uint64_t page, i, npages = r->len / r->pagesz, words = r->pagesz / 8;

	for (page = 0; page < npages; page++) {
		uint64_t *p = (uint64_t *)(r->addr + page * r->pagesz);
		uint64_t base = page_base(r->kind, page);

		if (is_hole(page))
			continue;
		for (i = 0; i < words; i++)
			p[i] = word_at(base, i);
	}
}

static int is_shared(const struct region *r)
{
	return !(kinds[r->kind].back == B_MMAP && (kinds[r->kind].flags & MAP_PRIVATE));
}

static uint64_t rw_seed(uint64_t gen)
{
	return cfg.seed ^ mix64(0x7277000000000000ULL | gen);
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
	int i, ret = is_hole(page) ? 0 : 1;

	*base = page_base(r->kind, page);
	if (cfg.rw_gen && is_shared(r) && page % cfg.rewrite_step == 0) {
		*base = page_base_seed(rw_seed(cfg.rw_gen), r->kind, page);
		ret = 1;
	}
	for (i = 0; i < r->nr_spans; i++) {
		const struct span *s = &r->spans[i];

		if (page >= s->first && page < s->first + s->n)
			ret = s->what == SPAN_GONE ? -1 : 0;
	}
	return ret;
}

/*
 * Compares page @page of @r, read at @p, with what it must hold; reads
 * every word. The first mismatch overall (*bad still 0) is described in
 * @first. Returns -1 on a mismatch.
 */
static int check_page(const struct region *r, uint64_t page, const uint64_t *p, const char *via, char *first,
		      size_t flen, int *bad)
{
	uint64_t base, i, words = r->pagesz / 8;
	int e = page_expect(r, page, &base), mism = 0;

	if (e < 0)
		return 0;
	for (i = 0; i < words; i++) {
		uint64_t want = e ? word_at(base, i) : 0;

		if (p[i] == want || mism++)
			continue;
		if (!(*bad)++)
			snprintf(first, flen,
				 "FAIL %s%s page %" PRIu64 " offset %" PRIu64 " expected 0x%016" PRIx64 " got 0x%016" PRIx64,
				 kinds[r->kind].name, via, page, i * 8, want, p[i]);
	}
	return mism ? -1 : 0;
}

/*
 * Reads every byte of the region. Puts its report line in line and, on a
 * mismatch, the first one in first. Returns 0 if everything matched.
 */
static int verify_region(const struct region *r, char *first, size_t flen, char *line, size_t llen)
{
	uint64_t page, npages = r->len / r->pagesz, holes = 0;
	int bad = 0;

	for (page = 0; page < npages; page++) {
		holes += is_hole(page);
		check_page(r, page, (const uint64_t *)(r->addr + page * r->pagesz), "", first, flen, &bad);
	}
	snprintf(line, llen, "region %s bytes %lu pages %" PRIu64 " holes %" PRIu64 " %s", kinds[r->kind].name, r->len,
		 npages, holes, bad ? "FAIL" : "OK");
	return bad ? -1 : 0;
}

/* --fd-read: the same comparison through pread() on the region's fd */
static int verify_fd(const struct region *r, char *first, size_t flen, char *line, size_t llen)
{
	uint64_t page, npages = r->len / r->pagesz;
	uint64_t *buf = malloc(r->pagesz);
	int bad = 0;

	if (!buf) {
		snprintf(first, flen, "FAIL %s (pread): no memory", kinds[r->kind].name);
		bad = 1;
	}
	for (page = 0; buf && page < npages; page++) {
		ssize_t n = pread(r->fd, buf, r->pagesz, page * r->pagesz);

		if (n != (ssize_t)r->pagesz) {
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

static unsigned long verified_bytes(const struct region *r)
{
	unsigned long len = r->len;
	int i;

	for (i = 0; i < r->nr_spans; i++)
		if (r->spans[i].what == SPAN_GONE)
			len -= r->spans[i].n * r->pagesz;
	return len;
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
	uint64_t page, i, n = 0;
	char out[128];
	int j;

	cfg.rw_gen++;
	for (j = 0; j < cfg.nr_regions; j++) {
		const struct region *r = &cfg.regions[j];
		uint64_t npages = r->len / r->pagesz, words = r->pagesz / 8;

		if (!is_shared(r))
			continue;
		for (page = 0; page < npages; page++) {
			uint64_t *p = (uint64_t *)(r->addr + page * r->pagesz);
			uint64_t base = page_base_seed(rw_seed(cfg.rw_gen), r->kind, page);

			if (!rewrites(page, idx) || page_gone(r, page))
				continue;
			for (i = 0; i < words; i++)
				p[i] = word_at(base, i);
			n++;
		}
	}
	snprintf(out, sizeof(out), "WROTE %" PRIu64 " gen %" PRIu64 "\n", n, cfg.rw_gen);
	fprintf(stderr, "memkinds[%d] pid %d: %s", idx, (int)getpid(), out);
	return write_result("w.", idx, out);
}

/* One --on-usr2 action: ACT[:KIND[:PAGE:N]] */
struct action {
	char act[16];
	char kind[32];
	unsigned long long first, n;
	struct region *r;
};

static int act_err(char *err, size_t elen, const struct action *a, const char *what)
{
	snprintf(err, elen, "%s:%s: %s%s%s", a->act, a->kind, what, errno ? ": " : "", errno ? strerror(errno) : "");
	return -1;
}

static int parse_action(const char *tok, struct action *a, char *err, size_t elen)
{
	int i, nf, want;

	memset(a, 0, sizeof(*a));
	errno = 0;
	nf = sscanf(tok, "%15[^:]:%31[^:]:%llu:%llu", a->act, a->kind, &a->first, &a->n);
	want = !strcmp(a->act, "fork") ? 1 : !strcmp(a->act, "mremap") ? 2 :
									 4;
	if (want == 4 && strcmp(a->act, "dontneed") && strcmp(a->act, "remove") && strcmp(a->act, "unmap"))
		return act_err(err, elen, a, "unknown action");
	if (nf != want || (want == 4 && !a->n))
		return act_err(err, elen, a, "wrong number of fields");
	for (i = 0; want > 1 && i < cfg.nr_regions; i++)
		if (!strcmp(kinds[cfg.regions[i].kind].name, a->kind))
			a->r = &cfg.regions[i];
	if (want > 1 && !a->r)
		return act_err(err, elen, a, "no region of that kind");
	if (want == 4 && (a->first >= a->r->len / a->r->pagesz || a->n > a->r->len / a->r->pagesz - a->first))
		return act_err(err, elen, a, "pages beyond the region");
	return 0;
}

/* Reads pages [first, first+n) and compares them with what they must hold */
static int check_range(const struct action *a, char *err, size_t elen)
{
	const struct region *r = a->r;
	uint64_t page;
	int bad = 0;

	for (page = a->first; page < a->first + a->n; page++)
		check_page(r, page, (const uint64_t *)(r->addr + page * r->pagesz), " (on-usr2)", err, elen, &bad);
	return bad ? -1 : 0;
}

static int add_span(const struct action *a, enum span_what what, char *err, size_t elen)
{
	struct region *r = a->r;

	if (r->nr_spans == MAX_SPANS) {
		errno = 0;
		return act_err(err, elen, a, "too many actions on one region");
	}
	r->spans[r->nr_spans++] = (struct span){ .first = a->first, .n = a->n, .what = what };
	return 0;
}

static int act_range(const struct action *a, char *err, size_t elen)
{
	char *p = a->r->addr + a->first * a->r->pagesz;
	size_t len = a->n * a->r->pagesz;

	if (!strcmp(a->act, "dontneed")) {
		/* the pages are read (so populated) first: then they must survive */
		if (check_range(a, err, elen))
			return -1;
		if (madvise(p, len, MADV_DONTNEED))
			return act_err(err, elen, a, "madvise(MADV_DONTNEED)");
		return check_range(a, err, elen);
	}
	if (!strcmp(a->act, "remove")) {
		if (madvise(p, len, MADV_REMOVE))
			return act_err(err, elen, a, "madvise(MADV_REMOVE)");
		return add_span(a, SPAN_ZERO, err, elen) ? -1 : check_range(a, err, elen);
	}
	if (munmap(p, len))
		return act_err(err, elen, a, "munmap");
	return add_span(a, SPAN_GONE, err, elen);
}

/* Moves the whole region to a fresh address aligned to its page size */
static int act_mremap(const struct action *a, char *err, size_t elen)
{
	struct region *r = a->r;
	size_t span = r->len + r->pagesz;
	char *res, *dst, *moved;

	res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return act_err(err, elen, a, "mmap of the destination");
	dst = (char *)(((uintptr_t)res + r->pagesz - 1) & ~(uintptr_t)(r->pagesz - 1));
	moved = mremap(r->addr, r->len, r->len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (moved == MAP_FAILED) {
		act_err(err, elen, a, "mremap");
		if (munmap(res, span))
			perror("memkinds: munmap");
		return -1;
	}
	if ((dst > res && munmap(res, dst - res)) ||
	    (res + span > dst + r->len && munmap(dst + r->len, res + span - (dst + r->len))))
		return act_err(err, elen, a, "munmap of the spare destination");
	fprintf(stderr, "memkinds: %s moved from %p to %p\n", a->kind, (void *)r->addr, (void *)moved);
	r->addr = moved;
	return 0;
}

/* Returns 1 in the child, 0 in the parent, -1 on failure */
static int act_fork(int *idx, const struct action *a, char *err, size_t elen)
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

/*
 * Runs (or, with @idx NULL, only checks) the --on-usr2 list. Returns 1 in
 * a child forked by it, 0 when done, -1 with @err set on a failure.
 */
static int run_actions(int *idx, char *err, size_t elen)
{
	char *copy = strdup(cfg.on_usr2), *tok, *save = NULL;
	struct action a;
	int ret = 0;

	if (!copy) {
		snprintf(err, elen, "strdup: %s", strerror(errno));
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		ret = parse_action(tok, &a, err, elen);
		if (ret || !idx)
			continue;
		if (!strcmp(a.act, "fork"))
			ret = act_fork(idx, &a, err, elen);
		else if (!strcmp(a.act, "mremap"))
			ret = act_mremap(&a, err, elen);
		else
			ret = act_range(&a, err, elen);
		fprintf(stderr, "memkinds[%d]: %s %s\n", *idx, tok, ret < 0 ? err : "done");
	}
	free(copy);
	return ret;
}

/* SIGUSR2 in the root: returns 1 in a child forked by an action */
static int on_usr2(int *idx)
{
	char err[512] = "", out[600];
	int ret = run_actions(idx, err, sizeof(err));

	if (ret == 1)
		return 1;
	if (ret)
		snprintf(out, sizeof(out), "FAIL %s\n", err);
	else
		snprintf(out, sizeof(out), "OK actions\n");
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

static int setup_regions(void)
{
	int i;

	for (i = 0; i < cfg.nr_regions; i++) {
		if (create_region(&cfg.regions[i], i))
			return -1;
		fill_region(&cfg.regions[i]);
	}
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
