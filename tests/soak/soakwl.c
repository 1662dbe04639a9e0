/*
 * soakwl: the workload of the randomized soak (tests/soak/soak.py). A tree
 * of tasks shares memory regions of the kinds lazyshm restores and keeps a
 * model of what every page must hold, so that whatever the driver makes it
 * do during a lazy restore (writes, MADV_DONTNEED, MADV_REMOVE, mremap,
 * fork, exit) each task can check every byte of every region afterwards.
 *
 * Usage: soakwl --dir DIR --seed S --tasks N --region KIND:BYTES:HOLES...
 *
 *   --region KIND:BYTES:HOLES  one region (up to 8): KIND is one of anon,
 *                    memfd, sysv, huge-anon, huge-memfd, huge-sysv,
 *                    huge1g-anon, private; BYTES its size (any size for
 *                    memfd and sysv, whole pages for the others); HOLES the
 *                    share of pages, in permille, left unwritten before the
 *                    dump (they must read zeros)
 *   --tasks N        the root forks N-1 children before it is ready
 *   --sysv-key K     the key of the first SysV region (default 0x50414b00)
 *
 * The model lives in DIR/model, a regular file every task maps MAP_SHARED:
 * CRIU restores that mapping from the file, outside lazyshm, so it survives
 * whatever happens to the regions. One 32-bit entry a page: the generation
 * of its pattern, or "zeros", or "that generation or zeros" (below). A
 * shared region has one entry a page, a private one an entry a page a task.
 *
 * When every task is up, the root writes DIR/regions (a line a region:
 * "INDEX KIND ADDRESS BYTES") and DIR/ready (one pid a line, task index
 * order). Then the tasks wait for SIGUSR2 (SIGTERM ends them): on it a
 * task reads DIR/cmd, whose first line is a sequence number SEQ and whose
 * other lines are "IDX RANK NLIVE SEED ACTION...", runs the actions of its
 * own line and writes DIR/ack.SEQ.IDX atomically: "OK <what it did>" or
 * "FAIL <what was wrong>". Actions (R: the region index, N: how many):
 *   v        verify: read every byte of every region, compare with the model
 *   r:R:N    read and check N random ranges
 *   w:R:N    write a new generation of the pattern into N random ranges
 *   d:R:N    read N random ranges, MADV_DONTNEED them, check them again
 *   D:R:N    MADV_DONTNEED N random ranges not read first: a page the lazy
 *            restore never filled may read zeros afterwards (the daemon sees
 *            a REMOVE event either way: a documented limit), so the model
 *            accepts that generation or zeros, and the first verification
 *            pins what it saw; private memory reads zeros
 *   x:R:N    MADV_REMOVE N random ranges: they must read zeros (shared only)
 *   m:R      move this task's mapping of the region (mremap)
 *   f        fork a child; it gets the next task index, a copy of this task's
 *            private model, and answers the following commands
 *            (the ack says "forked IDX PID")
 *   e        exit (the ack says "EXIT")
 * Ranges of shared regions lie in the blocks of the task's RANK among NLIVE
 * live tasks (64 pages for 4K regions, one page for huge ones), so that the
 * tasks act on disjoint pages; private regions are each task's own.
 *
 * Exit status: 0 after SIGTERM, 1 on a usage error, 2 if setup failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << 26)
#endif

#define SZ_4K	    (4096UL)
#define SZ_2M	    (2UL << 20)
#define SZ_1G	    (1UL << 30)
#define MAX_REGIONS 8
#define MAX_TASKS   32
#define MODEL_HDR   4096
#define MODEL_MAGIC 0x736f616b776c3031ULL

#define M_GEN	0x00ffffffu
#define M_ZERO	0x01000000u /* all zeros */
#define M_MAYBE 0x02000000u /* the generation's pattern or all zeros */

enum backing { B_MMAP,
	       B_MEMFD,
	       B_SYSV };

struct kind {
	const char *name;
	enum backing back;
	int flags;
	unsigned long pagesz;
	int shared;
};

static const struct kind kinds[] = {
	{ "anon", B_MMAP, MAP_SHARED | MAP_ANONYMOUS, SZ_4K, 1 },
	{ "memfd", B_MEMFD, 0, SZ_4K, 1 },
	{ "sysv", B_SYSV, 0, SZ_4K, 1 },
	{ "huge-anon", B_MMAP, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, SZ_2M, 1 },
	{ "huge-memfd", B_MEMFD, MFD_HUGETLB, SZ_2M, 1 },
	{ "huge-sysv", B_SYSV, SHM_HUGETLB, SZ_2M, 1 },
	{ "huge1g-anon", B_MMAP, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB, SZ_1G, 1 },
	{ "private", B_MMAP, MAP_PRIVATE | MAP_ANONYMOUS, SZ_4K, 0 },
};
#define NR_KINDS (int)(sizeof(kinds) / sizeof(kinds[0]))

struct region {
	int kind;
	uint64_t size; /* the object's size in bytes */
	unsigned long pagesz;
	uint64_t npages;
	unsigned holes; /* permille */
	char *addr;	/* this task's mapping, npages * pagesz */
	int shmid;
	uint64_t moff; /* offset of its entries in the model */
};

struct model_hdr {
	uint64_t magic;
	uint32_t next_idx;
	int32_t pids[MAX_TASKS];
};

static struct {
	struct region regions[MAX_REGIONS];
	int nr_regions, nr_tasks, idx;
	const char *dir;
	uint64_t seed;
	key_t sysv_key;
	char *model;
	size_t model_len;
} cfg = { .sysv_key = 0x50414b00 };

static volatile sig_atomic_t got_usr2, got_term, got_chld;

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The first word of page @p of region @r in generation @gen */
static uint64_t page_base(int r, uint64_t p, uint32_t gen)
{
	return mix64(cfg.seed ^ mix64(((uint64_t)r << 56) ^ ((uint64_t)gen << 32) ^ p));
}

static uint64_t word_at(uint64_t base, uint64_t i)
{
	return base + i * 0xd6e8feb86659fd93ULL;
}

static struct model_hdr *hdr(void)
{
	return (struct model_hdr *)cfg.model;
}

/* The model entry of page @p of region @r as task @idx sees it */
static uint32_t *entry(int r, uint64_t p, int idx)
{
	const struct region *g = &cfg.regions[r];
	uint64_t slot = kinds[g->kind].shared ? 0 : (uint64_t)idx;

	return (uint32_t *)(cfg.model + g->moff) + slot * g->npages + p;
}

static uint32_t ent_load(int r, uint64_t p)
{
	return __atomic_load_n(entry(r, p, cfg.idx), __ATOMIC_RELAXED);
}

static void ent_store(int r, uint64_t p, uint32_t v)
{
	__atomic_store_n(entry(r, p, cfg.idx), v, __ATOMIC_RELAXED);
}

/* Bytes of page @p that lie inside the object (the rest must read zeros) */
static uint64_t valid_bytes(const struct region *g, uint64_t p)
{
	uint64_t start = p * g->pagesz;

	return g->size - start < g->pagesz ? g->size - start : g->pagesz;
}

static int is_hole(int r, uint64_t p)
{
	const struct region *g = &cfg.regions[r];

	return g->holes && mix64(cfg.seed ^ 0x686f6c65ULL ^ ((uint64_t)r << 40) ^ p) % 1000 < g->holes;
}

/* The word @i of a page holding @base's pattern in its first @valid bytes */
static uint64_t want_word(uint64_t base, uint64_t i, uint64_t valid)
{
	uint64_t w = word_at(base, i), off = i * 8;

	if (off >= valid)
		return 0;
	if (valid - off < 8)
		w &= (1ULL << (8 * (valid - off))) - 1;
	return w;
}

/* Writes generation @gen of the pattern into page @p of region @r */
static void write_page(int r, uint64_t p, uint32_t gen)
{
	const struct region *g = &cfg.regions[r];
	uint64_t *w = (uint64_t *)(g->addr + p * g->pagesz), base = page_base(r, p, gen);
	uint64_t i, valid = valid_bytes(g, p), words = (valid + 7) / 8;

	for (i = 0; i < words; i++)
		w[i] = want_word(base, i, valid);
}

struct mismatch {
	int bad_pages;
	char first[320];
};

static void note_mismatch(struct mismatch *m, int r, uint64_t p, uint64_t i, uint32_t e, uint64_t want, uint64_t got)
{
	const struct region *g = &cfg.regions[r];

	if (m->bad_pages++)
		return;
	snprintf(m->first, sizeof(m->first),
		 "region %d (%s, %" PRIu64 " bytes) page %" PRIu64 " offset %" PRIu64 ": expected 0x%016" PRIx64
		 " got 0x%016" PRIx64 " (model: %s gen %u)",
		 r, kinds[g->kind].name, g->size, p, i * 8, want, got,
		 (e & M_ZERO) ? "zeros" : (e & M_MAYBE) ? "zeros or" :
							  "",
		 e & M_GEN);
}

/*
 * Compares page @p of region @r with the model, every word; pins a
 * "generation or zeros" entry to what it found. Returns 1 if the page reads
 * zeros where the model allowed either, else 0; -1 on a mismatch.
 */
static int check_page(int r, uint64_t p, struct mismatch *m)
{
	const struct region *g = &cfg.regions[r];
	const uint64_t *w = (const uint64_t *)(g->addr + p * g->pagesz);
	uint32_t e = ent_load(r, p);
	uint64_t i, words = g->pagesz / 8, valid = valid_bytes(g, p), base = page_base(r, p, e & M_GEN);
	int zero = (e & M_ZERO) || ((e & M_MAYBE) && w[0] == 0 && valid);

	for (i = 0; i < words; i++) {
		uint64_t want = zero ? 0 : want_word(base, i, valid);

		if (w[i] != want) {
			note_mismatch(m, r, p, i, e, want, w[i]);
			return -1;
		}
	}
	if (e & M_MAYBE)
		__atomic_compare_exchange_n(entry(r, p, cfg.idx), &e, zero ? M_ZERO : (e & M_GEN), 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	return (e & M_MAYBE) && zero;
}

/* The object's size as the kernel has it (memfd: a grown file shows) */
static int check_size(int r, struct mismatch *m)
{
	const struct region *g = &cfg.regions[r];
	char path[64];
	struct stat st;

	if (!kinds[g->kind].shared)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)g->addr,
		 (unsigned long)(g->addr + g->npages * g->pagesz));
	if (stat(path, &st)) {
		snprintf(m->first, sizeof(m->first), "region %d (%s): stat %s: %s", r, kinds[g->kind].name, path,
			 strerror(errno));
		return -1;
	}
	if ((uint64_t)st.st_size != g->size) {
		snprintf(m->first, sizeof(m->first), "region %d (%s): the object has %lld bytes, not %" PRIu64, r,
			 kinds[g->kind].name, (long long)st.st_size, g->size);
		return -1;
	}
	return 0;
}

static int write_atomic(const char *path, const char *buf)
{
	char tmp[4200];
	size_t len = strlen(buf), off = 0;
	int fd, ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "soakwl: open %s: %s\n", tmp, strerror(errno));
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
	if (close(fd) || ret || rename(tmp, path)) {
		fprintf(stderr, "soakwl: writing %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- actions ---- */

struct act_ctx {
	int rank, nlive;
	uint64_t rng;
	char out[1024]; /* what was done, for the ack */
	size_t olen;
	char err[512];
};

static uint64_t rnd(struct act_ctx *c, uint64_t n)
{
	c->rng = mix64(c->rng);
	return n ? c->rng % n : 0;
}

static void say(struct act_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct act_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->olen >= sizeof(c->out) - 1)
		return;
	va_start(ap, fmt);
	c->olen += vsnprintf(c->out + c->olen, sizeof(c->out) - c->olen, fmt, ap);
	va_end(ap);
	if (c->olen > sizeof(c->out) - 1)
		c->olen = sizeof(c->out) - 1;
}

static int fail(struct act_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct act_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * A random range [*first, *first + *n) of region @r this task may touch:
 * in one of its blocks for a shared region. 0, or 1 if it has none.
 */
static int pick_range(struct act_ctx *c, int r, uint64_t *first, uint64_t *n)
{
	const struct region *g = &cfg.regions[r];
	uint64_t bs = g->pagesz == SZ_4K ? 64 : 1, nb = (g->npages + bs - 1) / bs, mine, b, end;

	if (!kinds[g->kind].shared) {
		*first = rnd(c, g->npages);
		*n = 1 + rnd(c, g->npages - *first < 256 ? g->npages - *first : 256);
		return 0;
	}
	if ((uint64_t)c->rank >= nb)
		return 1;
	mine = (nb - c->rank + c->nlive - 1) / c->nlive;
	b = c->rank + rnd(c, mine) * c->nlive;
	*first = b * bs + rnd(c, bs);
	if (*first >= g->npages)
		*first = b * bs;
	end = (b + 1) * bs < g->npages ? (b + 1) * bs : g->npages;
	*n = 1 + rnd(c, end - *first);
	return 0;
}

static int check_range(struct act_ctx *c, int r, uint64_t first, uint64_t n, const char *when)
{
	struct mismatch m = { 0 };
	uint64_t p;

	for (p = first; p < first + n; p++)
		check_page(r, p, &m);
	return m.bad_pages ? fail(c, "%s: %s", when, m.first) : 0;
}

static char *range_addr(int r, uint64_t first)
{
	return cfg.regions[r].addr + first * cfg.regions[r].pagesz;
}

static int do_write(struct act_ctx *c, int r, uint64_t first, uint64_t n)
{
	uint64_t p;

	for (p = first; p < first + n; p++) {
		uint32_t gen = ((ent_load(r, p) & M_GEN) + 1) & M_GEN;

		write_page(r, p, gen);
		ent_store(r, p, gen);
	}
	return 0;
}

/* MADV_DONTNEED; @read_first: the pages are read (so filled) first */
static int do_dontneed(struct act_ctx *c, int r, uint64_t first, uint64_t n, int read_first)
{
	int shared = kinds[cfg.regions[r].kind].shared;
	uint64_t p;

	if (read_first && check_range(c, r, first, n, "before MADV_DONTNEED"))
		return -1;
	if (madvise(range_addr(r, first), n * cfg.regions[r].pagesz, MADV_DONTNEED))
		return fail(c, "madvise(MADV_DONTNEED) region %d: %s", r, strerror(errno));
	for (p = first; p < first + n; p++) {
		uint32_t e = ent_load(r, p);

		if (!shared)
			ent_store(r, p, M_ZERO);
		else if (!read_first && !(e & M_ZERO))
			ent_store(r, p, e | M_MAYBE);
	}
	return read_first && shared ? check_range(c, r, first, n, "after MADV_DONTNEED") : 0;
}

static int do_remove(struct act_ctx *c, int r, uint64_t first, uint64_t n)
{
	uint64_t p;

	if (!kinds[cfg.regions[r].kind].shared)
		return fail(c, "MADV_REMOVE on private region %d", r);
	if (madvise(range_addr(r, first), n * cfg.regions[r].pagesz, MADV_REMOVE))
		return fail(c, "madvise(MADV_REMOVE) region %d: %s", r, strerror(errno));
	for (p = first; p < first + n; p++)
		ent_store(r, p, M_ZERO);
	return check_range(c, r, first, n, "after MADV_REMOVE");
}

/* Moves this task's mapping of the region to a fresh address aligned to its page size */
static int do_mremap(struct act_ctx *c, int r)
{
	struct region *g = &cfg.regions[r];
	size_t len = g->npages * g->pagesz, span = len + g->pagesz;
	char *res, *dst, *moved;

	res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return fail(c, "mmap of an mremap destination: %s", strerror(errno));
	dst = (char *)(((uintptr_t)res + g->pagesz - 1) & ~(uintptr_t)(g->pagesz - 1));
	moved = mremap(g->addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (moved == MAP_FAILED) {
		fail(c, "mremap of region %d (%s): %s", r, kinds[g->kind].name, strerror(errno));
		munmap(res, span);
		return -1;
	}
	if ((dst > res && munmap(res, dst - res)) ||
	    (res + span > dst + len && munmap(dst + len, res + span - (dst + len))))
		return fail(c, "munmap of the spare destination: %s", strerror(errno));
	g->addr = moved;
	return 0;
}

/* A new task @to starts with the private model of task @from */
static void copy_private(int from, int to)
{
	int r;

	for (r = 0; r < cfg.nr_regions; r++)
		if (!kinds[cfg.regions[r].kind].shared)
			memcpy(entry(r, 0, to), entry(r, 0, from), cfg.regions[r].npages * 4);
}

/* Returns 1 in the child, 0 in the parent, -1 on failure */
static int do_fork(struct act_ctx *c)
{
	uint32_t idx = __atomic_fetch_add(&hdr()->next_idx, 1, __ATOMIC_RELAXED);
	pid_t pid;

	if (idx >= MAX_TASKS)
		return fail(c, "fork: more than %d tasks", MAX_TASKS);
	copy_private(cfg.idx, idx);
	pid = fork();
	if (pid < 0)
		return fail(c, "fork: %s", strerror(errno));
	if (pid == 0) {
		cfg.idx = idx;
		hdr()->pids[idx] = getpid();
		return 1;
	}
	say(c, " forked %u %d", idx, (int)pid);
	return 0;
}

static int parse_rn(const char *tok, int *r, uint64_t *n)
{
	unsigned long long v = 1;
	int nf = sscanf(tok + 1, ":%d:%llu", r, &v);

	*n = v;
	return (nf < 1 || *r < 0 || *r >= cfg.nr_regions) ? -1 : 0;
}

static int verify_all(struct act_ctx *c);

/* One range action @op, @times times */
static int range_action(struct act_ctx *c, char op, int r, uint64_t times)
{
	uint64_t first, n, t, pages = 0;
	int ret = 0;

	for (t = 0; t < times && !ret; t++) {
		if (pick_range(c, r, &first, &n))
			break;
		pages += n;
		switch (op) {
		case 'r':
			ret = check_range(c, r, first, n, "read");
			break;
		case 'w':
			ret = do_write(c, r, first, n);
			break;
		case 'd':
		case 'D':
			ret = do_dontneed(c, r, first, n, op == 'd');
			break;
		case 'x':
			ret = do_remove(c, r, first, n);
			break;
		}
	}
	say(c, " %c%d:%" PRIu64, op, r, pages);
	return ret;
}

/* Runs one action token; 1 in a forked child, 2 to exit, -1 on failure */
static int run_token(struct act_ctx *c, const char *tok)
{
	uint64_t n;
	int r;

	switch (tok[0]) {
	case 'v':
		return verify_all(c);
	case 'f':
		return do_fork(c);
	case 'e':
		return 2;
	case 'm':
		if (parse_rn(tok, &r, &n))
			break;
		say(c, " m%d", r);
		return do_mremap(c, r);
	case 'r':
	case 'w':
	case 'd':
	case 'D':
	case 'x':
		if (parse_rn(tok, &r, &n))
			break;
		return range_action(c, tok[0], r, n);
	}
	return fail(c, "bad action '%s'", tok);
}

/* ---- verification ---- */

static int verify_all(struct act_ctx *c)
{
	struct mismatch m = { 0 };
	uint64_t bytes = 0, zeroed = 0, p;
	int r, z, bad_size = 0;

	for (r = 0; r < cfg.nr_regions; r++) {
		const struct region *g = &cfg.regions[r];

		if (!bad_size && check_size(r, &m))
			bad_size = 1;
		for (p = 0; p < g->npages; p++) {
			z = check_page(r, p, &m);
			zeroed += z > 0;
		}
		bytes += g->npages * g->pagesz;
	}
	if (m.bad_pages)
		return fail(c, "verify: %d bad page(s); first: %s", m.bad_pages, m.first);
	if (bad_size)
		return fail(c, "verify: %s", m.first);
	say(c, " verified %" PRIu64 " bytes, %" PRIu64 " dontneed page(s) read zeros", bytes, zeroed);
	return 0;
}

/* ---- commands ---- */

static char *read_cmd(void)
{
	char path[4096], *buf = malloc(65536);
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	snprintf(path, sizeof(path), "%s/cmd", cfg.dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, 65535);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		fprintf(stderr, "soakwl[%d]: reading %s: %s\n", cfg.idx, path, strerror(errno));
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

/* This task's line of the command, its parts in @c; NULL if none */
static char *my_line(char *buf, unsigned long *seq, struct act_ctx *c)
{
	char *save = NULL, *line = strtok_r(buf, "\n", &save);
	unsigned long long s;
	int idx, off;

	if (!line || sscanf(line, "%lu", seq) != 1)
		return NULL;
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (sscanf(line, "%d %d %d %llu %n", &idx, &c->rank, &c->nlive, &s, &off) == 4 && idx == cfg.idx) {
			c->rng = mix64(s ^ (uint64_t)idx);
			return line + off;
		}
	}
	return NULL;
}

static void ack(unsigned long seq, const char *text)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/ack.%lu.%d", cfg.dir, seq, cfg.idx);
	if (write_atomic(path, text))
		fprintf(stderr, "soakwl[%d]: could not write %s\n", cfg.idx, path);
}

/* Runs the actions of this task's line; returns 1 in a forked child, 2 to exit */
static int on_command(void)
{
	struct act_ctx c = { 0 };
	char *buf = read_cmd(), *acts, *tok, *save = NULL, text[2048];
	unsigned long seq = 0;
	int ret = 0;

	acts = buf ? my_line(buf, &seq, &c) : NULL;
	if (!acts) {
		fprintf(stderr, "soakwl[%d]: no command for this task\n", cfg.idx);
		free(buf);
		return 0;
	}
	for (tok = strtok_r(acts, " ", &save); tok && !ret; tok = strtok_r(NULL, " ", &save))
		ret = run_token(&c, tok);
	free(buf);
	if (ret == 1)
		return 1; /* the new child answers nothing of this command */
	if (ret < 0)
		snprintf(text, sizeof(text), "FAIL %s\n", c.err);
	else
		snprintf(text, sizeof(text), "%s%s\n", ret == 2 ? "EXIT" : "OK", c.out);
	fprintf(stderr, "soakwl[%d] pid %d cmd %lu: %s", cfg.idx, (int)getpid(), seq, text);
	ack(seq, text);
	return ret;
}

/* ---- setup ---- */

static int parse_region(const char *arg)
{
	char name[32];
	unsigned long long size;
	unsigned holes;
	struct region *g = &cfg.regions[cfg.nr_regions];
	int k;

	if (cfg.nr_regions == MAX_REGIONS || sscanf(arg, "%31[^:]:%llu:%u", name, &size, &holes) != 3 ||
	    holes > 1000 || !size)
		return -1;
	for (k = 0; k < NR_KINDS && strcmp(kinds[k].name, name); k++)
		;
	if (k == NR_KINDS)
		return -1;
	g->kind = k;
	g->size = size;
	g->pagesz = kinds[k].pagesz;
	g->npages = (size + g->pagesz - 1) / g->pagesz;
	g->holes = holes;
	g->shmid = -1;
	if (kinds[k].back != B_MEMFD && kinds[k].back != B_SYSV && size % g->pagesz)
		return -1;
	if (kinds[k].pagesz > SZ_4K && size % g->pagesz)
		return -1;
	cfg.nr_regions++;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "tasks", required_argument, NULL, 't' },
		{ "region", required_argument, NULL, 'r' },
		{ "sysv-key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cfg.nr_tasks = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cfg.dir = optarg;
			break;
		case 's':
			cfg.seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			cfg.nr_tasks = atoi(optarg);
			break;
		case 'k':
			cfg.sysv_key = (key_t)strtol(optarg, NULL, 0);
			break;
		case 'r':
			if (parse_region(optarg)) {
				fprintf(stderr, "soakwl: bad --region '%s'\n", optarg);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	return (optind != argc || !cfg.dir || !cfg.nr_regions || cfg.nr_tasks < 1 || cfg.nr_tasks > MAX_TASKS) ? -1 : 0;
}

static int setup_err(int r, const char *what)
{
	const struct region *g = &cfg.regions[r];

	fprintf(stderr, "soakwl: cannot create region %d (%s, %" PRIu64 " bytes): %s: %s\n", r, kinds[g->kind].name,
		g->size, what, strerror(errno));
	return -1;
}

static int create_region(int r)
{
	struct region *g = &cfg.regions[r];
	const struct kind *k = &kinds[g->kind];
	size_t len = g->npages * g->pagesz;
	int fd;

	if (k->back == B_SYSV) {
		g->shmid = shmget(cfg.sysv_key + r, g->size, IPC_CREAT | IPC_EXCL | 0600 | k->flags);
		if (g->shmid < 0)
			return setup_err(r, "shmget");
		g->addr = shmat(g->shmid, NULL, 0);
		return g->addr == (void *)-1 ? setup_err(r, "shmat") : 0;
	}
	if (k->back == B_MMAP) {
		g->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, k->flags, -1, 0);
		return g->addr == MAP_FAILED ? setup_err(r, "mmap") : 0;
	}
	fd = memfd_create(k->name, MFD_CLOEXEC | k->flags);
	if (fd < 0)
		return setup_err(r, "memfd_create");
	if (ftruncate(fd, g->size)) {
		close(fd);
		return setup_err(r, "ftruncate");
	}
	g->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd); /* only the mapping reaches the pages */
	return g->addr == MAP_FAILED ? setup_err(r, "mmap") : 0;
}

static int setup_model(void)
{
	char path[4096];
	uint64_t off = MODEL_HDR;
	int r, fd;

	for (r = 0; r < cfg.nr_regions; r++) {
		struct region *g = &cfg.regions[r];

		g->moff = off;
		off += (kinds[g->kind].shared ? 1 : MAX_TASKS) * g->npages * 4;
		off = (off + 7) & ~7ULL;
	}
	cfg.model_len = off;
	snprintf(path, sizeof(path), "%s/model", cfg.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, off)) {
		fprintf(stderr, "soakwl: model %s: %s\n", path, strerror(errno));
		return -1;
	}
	cfg.model = mmap(NULL, off, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (cfg.model == MAP_FAILED) {
		fprintf(stderr, "soakwl: mmap of the model: %s\n", strerror(errno));
		return -1;
	}
	hdr()->magic = MODEL_MAGIC;
	hdr()->next_idx = cfg.nr_tasks;
	return 0;
}

static int setup_regions(void)
{
	uint64_t p;
	int r;

	for (r = 0; r < cfg.nr_regions; r++) {
		if (create_region(r))
			return -1;
		for (p = 0; p < cfg.regions[r].npages; p++) {
			if (is_hole(r, p)) {
				ent_store(r, p, M_ZERO);
			} else {
				write_page(r, p, 0);
				ent_store(r, p, 0);
			}
		}
	}
	return 0;
}

static void release_sysv(void)
{
	int r;

	for (r = 0; r < cfg.nr_regions; r++)
		if (cfg.regions[r].shmid >= 0 && shmctl(cfg.regions[r].shmid, IPC_RMID, NULL))
			perror("soakwl: shmctl(IPC_RMID)");
}

/* ---- tasks ---- */

static void on_signal(int sig)
{
	if (sig == SIGUSR2)
		got_usr2 = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

static int served_signals(sigset_t *set)
{
	return sigemptyset(set) || sigaddset(set, SIGUSR2) || sigaddset(set, SIGTERM) || sigaddset(set, SIGCHLD);
}

/* Handlers are installed and the signals blocked (but while waiting) before any fork */
static int setup_signals(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	if (served_signals(&block) || sigprocmask(SIG_BLOCK, &block, waitmask) || sigdelset(waitmask, SIGUSR2) ||
	    sigdelset(waitmask, SIGTERM) || sigdelset(waitmask, SIGCHLD) || sigemptyset(&sa.sa_mask) ||
	    sigaction(SIGUSR2, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) || sigaction(SIGCHLD, &sa, NULL)) {
		perror("soakwl: signals");
		return -1;
	}
	return 0;
}

static void serve(const sigset_t *waitmask)
{
	sigset_t block;

	if (served_signals(&block))
		perror("soakwl: sigset");
	while (!got_term) {
		/* -1/EINTR, also when a checkpoint interrupted it */
		if (sigsuspend(waitmask) && errno != EINTR)
			perror("soakwl: sigsuspend");
		/* a restore may bring back another mask */
		if (sigprocmask(SIG_BLOCK, &block, NULL))
			perror("soakwl: sigprocmask");
		if (got_chld) {
			got_chld = 0;
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		}
		if (got_usr2) {
			got_usr2 = 0;
			if (on_command() == 2)
				return;
		}
	}
}

/* Forks the initial children; returns 0 in the root once they are all up */
static int spawn_children(void)
{
	int i, p[2], up = 0;
	char ch;

	hdr()->pids[0] = getpid();
	if (pipe2(p, O_CLOEXEC)) {
		perror("soakwl: pipe");
		return -1;
	}
	for (i = 1; i < cfg.nr_tasks; i++) {
		pid_t pid;

		copy_private(0, i);
		pid = fork();

		if (pid < 0) {
			perror("soakwl: fork");
			break;
		}
		if (pid == 0) {
			cfg.idx = i;
			hdr()->pids[i] = getpid();
			close(p[0]);
			if (write(p[1], "x", 1) != 1)
				_exit(2);
			close(p[1]);
			return 0;
		}
	}
	close(p[1]);
	while (up < cfg.nr_tasks - 1 && read(p[0], &ch, 1) == 1)
		up++;
	close(p[0]);
	return up == cfg.nr_tasks - 1 ? 0 : -1;
}

/* DIR/regions: "INDEX KIND ADDRESS BYTES" a region, then DIR/ready */
static int write_ready(void)
{
	char buf[MAX_REGIONS * 96 + MAX_TASKS * 16] = "", path[4096];
	int i, off = 0;

	for (i = 0; i < cfg.nr_regions; i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%d %s %#lx %" PRIu64 "\n", i,
				kinds[cfg.regions[i].kind].name, (unsigned long)cfg.regions[i].addr, cfg.regions[i].size);
	snprintf(path, sizeof(path), "%s/regions", cfg.dir);
	if (write_atomic(path, buf))
		return -1;
	for (i = 0, off = 0; i < cfg.nr_tasks; i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%d\n", (int)hdr()->pids[i]);
	snprintf(path, sizeof(path), "%s/ready", cfg.dir);
	return write_atomic(path, buf);
}

int main(int argc, char **argv)
{
	sigset_t waitmask;

	if (parse_args(argc, argv)) {
		fprintf(stderr, "usage: soakwl --dir DIR --seed S [--tasks N] [--sysv-key K] --region KIND:BYTES:HOLES...\n"
				"(the comment at the top of tests/soak/soakwl.c has the details)\n");
		return 1;
	}
	if (setup_signals(&waitmask) || setup_model())
		return 2;
	if (setup_regions() || spawn_children()) {
		release_sysv();
		return 2;
	}
	if (cfg.idx == 0 && write_ready()) {
		release_sysv();
		return 2;
	}
	serve(&waitmask);
	if (cfg.idx == 0 && got_term)
		release_sysv();
	return 0;
}
