// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * benchwl: the restore benchmark's workload. One region of one memory kind,
 * every page filled; after a restore, on SIGUSR1, it touches and checks
 * every 4K block and reports how long that took.
 *
 * Usage: benchwl --kind K --size BYTES --ready FILE --result FILE
 *
 *   --kind     shmem    MAP_SHARED|MAP_ANONYMOUS (4K pages)
 *              huge2m   MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB, 2M pages
 *              huge1g   MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_1GB
 *              anon     MAP_PRIVATE|MAP_ANONYMOUS (upstream lazy-pages)
 *   --ready    written atomically (our pid) once every page is filled
 *   --result   written atomically after each SIGUSR1, one JSON object:
 *              ok, t_start_ns and t_end_ns (CLOCK_MONOTONIC), touch_ns,
 *              blocks, and the touches slower than 5 us ("slow": page
 *              faults served by a handler): their count, p50, p99, max
 *   --full     check every word of each block, not its first and last
 *   --ws PCT   the working set SIGUSR2 touches: PCT% of the region's pages
 *              (of its page size), picked at random with a fixed seed, so
 *              that every restore of the same dump touches the same pages
 *              in the same order (default 10)
 *
 * On SIGUSR2 it touches only the working set, one 4K block of each of its
 * pages, in its order, and reports as for SIGUSR1 ("blocks": its pages).
 *
 * Every 4K block's words are derived from their offset, so a block restored
 * at the wrong place is detected. A touch reads the first and last word of
 * each 4K block (a hugepage is thus touched 512 times, faulting once).
 * SIGTERM (default action) ends it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << 26)
#endif

#define BLOCK	4096ul
#define WORDS	(BLOCK / sizeof(uint64_t))
#define SLOW_NS 5000
#define SEED	0x9e3779b97f4a7c15ull

struct wl {
	const char *kind;
	uint64_t size;
	const char *ready;
	const char *result;
	bool full;
	unsigned ws_pct;
	uint64_t psz;
	uint64_t *mem;
};

struct touch {
	uint64_t t_start, t_end, blocks, bad_off;
	uint64_t *slow, nr_slow;
	bool ok;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline uint64_t word_at(uint64_t off)
{
	return (off * SEED) ^ (off >> 7) ^ 0x5a5a5a5a5a5a5a5aull;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G':
		v <<= 10; /* fall through */
	case 'M':
		v <<= 10; /* fall through */
	case 'K':
		v <<= 10;
		end++;
		break;
	}
	if (*end || !v || v % BLOCK)
		return -1;
	*out = v;
	return 0;
}

static int map_region(struct wl *w)
{
	int flags = MAP_ANONYMOUS;
	void *p;

	if (!strcmp(w->kind, "shmem"))
		flags |= MAP_SHARED;
	else if (!strcmp(w->kind, "huge2m"))
		flags |= MAP_SHARED | MAP_HUGETLB;
	else if (!strcmp(w->kind, "huge1g"))
		flags |= MAP_SHARED | MAP_HUGETLB | MAP_HUGE_1GB;
	else if (!strcmp(w->kind, "anon"))
		flags |= MAP_PRIVATE;
	else
		return -1;
	p = mmap(NULL, w->size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "benchwl: mmap %s %" PRIu64 " bytes: %m\n", w->kind, w->size);
		return -1;
	}
	/* private anon stays in 4K pages, like upstream lazy-pages expects */
	if (flags & MAP_PRIVATE && madvise(p, w->size, MADV_NOHUGEPAGE))
		fprintf(stderr, "benchwl: madvise(MADV_NOHUGEPAGE): %m\n");
	w->mem = p;
	w->psz = flags & MAP_HUGETLB ? (flags & MAP_HUGE_1GB ? 1ul << 30 : 2ul << 20) : BLOCK;
	return 0;
}

static void fill(struct wl *w)
{
	uint64_t i, n = w->size / sizeof(uint64_t);

	for (i = 0; i < n; i++)
		w->mem[i] = word_at(i * sizeof(uint64_t));
}

static bool block_ok(const uint64_t *b, uint64_t off, bool full)
{
	uint64_t i;

	if (!full)
		return b[0] == word_at(off) && b[WORDS - 1] == word_at(off + BLOCK - 8);
	for (i = 0; i < WORDS; i++)
		if (b[i] != word_at(off + i * 8))
			return false;
	return true;
}

/* Touch every block; the time of each touch tells a fault from a hit */
static int touch_all(struct wl *w, struct touch *t)
{
	uint64_t i, prev, now, nblocks = w->size / BLOCK;

	memset(t, 0, sizeof(*t));
	t->slow = malloc(nblocks * sizeof(uint64_t));
	if (!t->slow)
		return -1;
	t->ok = true;
	t->t_start = prev = now_ns();
	for (i = 0; i < nblocks; i++) {
		if (!block_ok(w->mem + i * WORDS, i * BLOCK, w->full) && t->ok) {
			t->ok = false;
			t->bad_off = i * BLOCK;
		}
		now = now_ns();
		if (now - prev >= SLOW_NS)
			t->slow[t->nr_slow++] = now - prev;
		prev = now;
	}
	t->t_end = prev;
	t->blocks = nblocks;
	return 0;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The working set: ws_pct% of the pages (at least one), in a random order fixed by the seed */
static uint64_t *ws_pages(const struct wl *w, uint64_t *n)
{
	uint64_t i, j, tmp, s = SEED, nr = w->size / w->psz, *p = malloc(nr * sizeof(*p));

	if (!p)
		return NULL;
	for (i = 0; i < nr; i++)
		p[i] = i;
	*n = nr * w->ws_pct / 100 ? nr * w->ws_pct / 100 : 1;
	for (i = 0; i < *n; i++) { /* the first n of a Fisher-Yates shuffle */
		j = i + xorshift(&s) % (nr - i);
		tmp = p[i], p[i] = p[j], p[j] = tmp;
	}
	return p;
}

/* Touch one block of each working-set page, in the set's order */
static int touch_ws(struct wl *w, struct touch *t)
{
	uint64_t i, off, prev, now, n, *ws = ws_pages(w, &n);

	memset(t, 0, sizeof(*t));
	t->slow = malloc(n * sizeof(uint64_t));
	if (!ws || !t->slow) {
		free(ws);
		return -1;
	}
	t->ok = true;
	t->t_start = prev = now_ns();
	for (i = 0; i < n; i++) {
		off = ws[i] * w->psz;
		if (!block_ok(w->mem + off / sizeof(uint64_t), off, w->full) && t->ok) {
			t->ok = false;
			t->bad_off = off;
		}
		now = now_ns();
		if (now - prev >= SLOW_NS)
			t->slow[t->nr_slow++] = now - prev;
		prev = now;
	}
	t->t_end = prev;
	t->blocks = n;
	free(ws);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int write_atomic(const char *path, const char *buf)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	if (fputs(buf, f) < 0) {
		fclose(f);
		return -1;
	}
	if (fclose(f))
		return -1;
	return rename(tmp, path);
}

static int report(struct wl *w, struct touch *t)
{
	uint64_t p50 = 0, p99 = 0, max = 0, n = t->nr_slow;
	char buf[1024];

	if (n) {
		qsort(t->slow, n, sizeof(uint64_t), cmp_u64);
		p50 = t->slow[n / 2];
		p99 = t->slow[n * 99 / 100];
		max = t->slow[n - 1];
	}
	snprintf(buf, sizeof(buf),
		 "{\"ok\": %s, \"bad_offset\": %" PRIu64 ", \"t_start_ns\": %" PRIu64 ", \"t_end_ns\": %" PRIu64
		 ", \"touch_ns\": %" PRIu64 ", \"blocks\": %" PRIu64 ", \"slow\": %" PRIu64
		 ", \"slow_p50_ns\": %" PRIu64 ", \"slow_p99_ns\": %" PRIu64 ", \"slow_max_ns\": %" PRIu64 "}\n",
		 t->ok ? "true" : "false", t->bad_off, t->t_start, t->t_end, t->t_end - t->t_start, t->blocks, n, p50,
		 p99, max);
	free(t->slow);
	t->slow = NULL;
	return write_atomic(w->result, buf);
}

static int serve(struct wl *w)
{
	sigset_t set;
	struct touch t;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	if (write_atomic(w->ready, "ready\n")) {
		fprintf(stderr, "benchwl: cannot write %s: %m\n", w->ready);
		return -1;
	}
	for (;;) {
		/* sigwait survives a checkpoint: it is restarted after restore */
		if (sigwait(&set, &sig))
			continue;
		if ((sig == SIGUSR2 ? touch_ws(w, &t) : touch_all(w, &t)) || report(w, &t)) {
			fprintf(stderr, "benchwl: cannot report: %m\n");
			return -1;
		}
	}
}

static int parse_args(int argc, char **argv, struct wl *w)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "size", required_argument, NULL, 's' },
		{ "ready", required_argument, NULL, 'r' },
		{ "result", required_argument, NULL, 'o' },
		{ "full", no_argument, NULL, 'f' },
		{ "ws", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(w, 0, sizeof(*w));
	w->ws_pct = 10;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			w->kind = optarg;
			break;
		case 's':
			if (parse_size(optarg, &w->size))
				return -1;
			break;
		case 'r':
			w->ready = optarg;
			break;
		case 'o':
			w->result = optarg;
			break;
		case 'f':
			w->full = true;
			break;
		case 'w':
			w->ws_pct = atoi(optarg);
			if (w->ws_pct < 1 || w->ws_pct > 100)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return w->kind && w->size && w->ready && w->result ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct wl w;

	if (parse_args(argc, argv, &w)) {
		fprintf(stderr, "usage: benchwl --kind shmem|huge2m|huge1g|anon --size BYTES[KMG] "
				"--ready FILE --result FILE [--full] [--ws PCT]\n");
		return 1;
	}
	if (map_region(&w))
		return 2;
	fill(&w);
	return serve(&w) ? 2 : 0;
}
