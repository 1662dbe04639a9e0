// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * trackwl: the workload of the incremental-dump tests (130-139, bench).
 * One region per kind, a model of every 4K unit (its version: the content
 * is a function of region, unit and version; version 0 is a hole, zeros),
 * and commands that write it in the ways the tracking must see or fall
 * back on.
 *
 *   trackwl --kinds LIST --dir DIR [--size-mb N] [--huge-mb N] [--holes N]
 *     kinds: anon (MAP_SHARED anonymous), sysv (4K SysV), huge-anon (2M),
 *            huge1g-anon (1G); every --holes'th unit (default 7; 0: none)
 *            starts as a hole
 *   DIR/ready holds the pid once set up. A command is DIR/cmd (written
 *   atomically: "SEQ VERB ARGS"), then SIGUSR1; the answer is DIR/done.SEQ:
 *   "OK ..." or "BAD ...". Verbs:
 *     write N SEED    N units of every region rewritten (seeded choice)
 *     fdwrite         unit 3 of the first region written with pwrite()
 *                     through /proc/self/map_files, the descriptor kept open
 *     fork N SEED     a child writes N units of every region, then sleeps
 *     map N SEED      a second mapping of the first region (mremap of size
 *                     0, or shmat), N units written through it
 *     punch N SEED    N units of every region removed (MADV_REMOVE; for
 *                     hugetlb, the huge page that holds the unit): holes
 *     drop N SEED     the same units' page table entries dropped
 *                     (MADV_DONTNEED): the content stays, unmapped here
 *     verify          every byte of every region against the model
 *     loop SECONDS    (bench) rewrite units in a loop; "OK <GiB/s>"
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UNIT	4096UL
#define MAX_REG 4
#define HUGE_2M (2UL << 20)
#define HUGE_1G (1UL << 30)
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << 26)
#endif

struct region {
	const char *kind;
	char *map;
	size_t len;
	int shmid; /* SysV, or -1 */
	uint32_t *ver;
};

static struct region reg[MAX_REG];
static int nr_reg, keep_fd = -1, holes = 7;
static const char *dir;
static volatile sig_atomic_t got_cmd;

static uint64_t word(int r, size_t unit, uint32_t v, size_t i)
{
	return ((uint64_t)unit * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)v * 0xC2B2AE3D27D4EB4Full) ^ ((uint64_t)r << 56) ^
	       i;
}

static void fill(int r, size_t u, uint32_t v, char *dst)
{
	uint64_t *w = (uint64_t *)dst;
	size_t i;

	for (i = 0; i < UNIT / 8; i++)
		w[i] = v ? word(r, u, v, i) : 0;
}

static int map_region(struct region *g, size_t mb, size_t hmb)
{
	int fl = MAP_SHARED | MAP_ANONYMOUS;

	g->shmid = -1;
	g->len = mb << 20;
	if (!strcmp(g->kind, "sysv")) {
		g->shmid = shmget(IPC_PRIVATE, g->len, IPC_CREAT | 0600);
		g->map = g->shmid < 0 ? MAP_FAILED : shmat(g->shmid, NULL, 0);
		return g->map == MAP_FAILED || g->map == (void *)-1 ? -1 : 0;
	}
	if (!strcmp(g->kind, "huge-anon")) {
		g->len = ((hmb << 20) + HUGE_2M - 1) & ~(HUGE_2M - 1);
		fl |= MAP_HUGETLB;
	} else if (!strcmp(g->kind, "huge1g-anon")) {
		g->len = ((hmb << 20) + HUGE_1G - 1) & ~(HUGE_1G - 1);
		fl |= MAP_HUGETLB | MAP_HUGE_1GB;
	} else if (strcmp(g->kind, "anon"))
		return -1;
	g->map = mmap(NULL, g->len, PROT_READ | PROT_WRITE, fl, -1, 0);
	return g->map == MAP_FAILED ? -1 : 0;
}

static int setup(char *kinds, size_t mb, size_t hmb)
{
	char *k, *save = NULL;
	size_t u;

	for (k = strtok_r(kinds, ",", &save); k && nr_reg < MAX_REG; k = strtok_r(NULL, ",", &save)) {
		struct region *g = &reg[nr_reg];

		g->kind = k;
		if (map_region(g, mb, hmb)) {
			fprintf(stderr, "trackwl: can't map %s: %s\n", k, strerror(errno));
			return -1;
		}
		g->ver = calloc(g->len / UNIT, sizeof(*g->ver));
		if (!g->ver)
			return -1;
		for (u = 0; u < g->len / UNIT; u++) {
			g->ver[u] = holes && u % holes == 3 ? 0 : 1;
			if (g->ver[u])
				fill(nr_reg, u, 1, g->map + u * UNIT);
		}
		nr_reg++;
	}
	return nr_reg ? 0 : -1;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* N units of every region get a new version; written at @base (or not) */
static void write_units(long n, uint64_t seed, char *base0, int do_write)
{
	int r;
	long i;

	for (r = 0; r < nr_reg; r++) {
		uint64_t s = seed * 2654435761u + r + 1;
		char *base = r == 0 && base0 ? base0 : reg[r].map;

		for (i = 0; i < n; i++) {
			size_t u = rnd(&s) % (reg[r].len / UNIT);

			reg[r].ver[u]++;
			if (do_write)
				fill(r, u, reg[r].ver[u], base + u * UNIT);
		}
	}
}

static size_t page_of(const struct region *g)
{
	return !strcmp(g->kind, "huge-anon") ? HUGE_2M : !strcmp(g->kind, "huge1g-anon") ? HUGE_1G :
											   UNIT;
}

static int punch(long n, uint64_t seed, int advice, char *out, size_t len)
{
	int r;
	long i;

	for (r = 0; r < nr_reg; r++) {
		uint64_t s = seed * 2654435761u + r + 1;
		size_t psz = page_of(&reg[r]), u, k;

		for (i = 0; i < n; i++) {
			u = (rnd(&s) % (reg[r].len / UNIT)) & ~(psz / UNIT - 1);
			if (madvise(reg[r].map + u * UNIT, psz, advice))
				return snprintf(out, len, "BAD madvise %s: %s", reg[r].kind, strerror(errno)), -1;
			for (k = 0; advice == MADV_REMOVE && k < psz / UNIT; k++)
				reg[r].ver[u + k] = 0;
		}
	}
	snprintf(out, len, "OK");
	return 0;
}

static int verify(char *out, size_t len)
{
	static char buf[UNIT];
	uint64_t bytes = 0;
	size_t u;
	int r;

	for (r = 0; r < nr_reg; r++)
		for (u = 0; u < reg[r].len / UNIT; u++, bytes += UNIT) {
			fill(r, u, reg[r].ver[u], buf);
			if (memcmp(buf, reg[r].map + u * UNIT, UNIT)) {
				snprintf(out, len, "BAD %s unit %zu (version %u) differs", reg[r].kind, u, reg[r].ver[u]);
				return -1;
			}
		}
	snprintf(out, len, "OK %" PRIu64 " bytes in %d regions", bytes, nr_reg);
	return 0;
}

static int fdwrite(char *out, size_t len)
{
	struct region *g = &reg[0];
	char path[96], buf[UNIT];

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)g->map,
		 (unsigned long)g->map + g->len);
	keep_fd = open(path, O_RDWR | O_CLOEXEC);
	if (keep_fd < 0)
		return snprintf(out, len, "BAD open %s: %s", path, strerror(errno)), -1;
	g->ver[3]++;
	fill(0, 3, g->ver[3], buf);
	if (pwrite(keep_fd, buf, UNIT, 3 * UNIT) != UNIT)
		return snprintf(out, len, "BAD pwrite: %s", strerror(errno)), -1;
	snprintf(out, len, "OK fd %d", keep_fd);
	return 0;
}

static int do_fork(long n, uint64_t seed, char *out, size_t len)
{
	int p[2];
	pid_t c;
	char b;

	if (pipe(p))
		return -1;
	c = fork();
	if (c == 0) {
		write_units(n, seed, NULL, 1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (c < 0 || read(p[0], &b, 1) != 1)
		return snprintf(out, len, "BAD fork"), -1;
	close(p[0]);
	write_units(n, seed, NULL, 0); /* the model follows the child's writes */
	snprintf(out, len, "OK child %d", c);
	return 0;
}

static int do_map(long n, uint64_t seed, char *out, size_t len)
{
	struct region *g = &reg[0];
	char *m;

	if (g->shmid >= 0)
		m = shmat(g->shmid, NULL, 0);
	else
		m = mremap(g->map, 0, g->len, MREMAP_MAYMOVE);
	if (m == MAP_FAILED || m == (void *)-1)
		return snprintf(out, len, "BAD second mapping: %s", strerror(errno)), -1;
	write_units(n, seed, m, 1);
	snprintf(out, len, "OK second mapping at %p", (void *)m);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Rewrite every unit of the first region, again and again: its GiB/s */
static void loop(double secs, char *out, size_t len)
{
	struct region *g = &reg[0];
	double t0 = now(), t;
	uint64_t bytes = 0;
	size_t u;

	do {
		for (u = 0; u < g->len / UNIT; u++)
			memset(g->map + u * UNIT, (int)(bytes >> 12), UNIT);
		bytes += g->len;
		t = now();
	} while (t - t0 < secs);
	for (u = 0; u < g->len / UNIT; u++) { /* the model is void now: make it true again */
		g->ver[u]++;
		fill(0, u, g->ver[u], g->map + u * UNIT);
	}
	snprintf(out, len, "OK %.3f", bytes / (t - t0) / (1 << 30));
}

static void command(void)
{
	char line[256], out[256] = "BAD unknown command", verb[32] = "", path[512], tmp[520];
	unsigned long long seq = 0, seed = 0;
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cmd", dir);
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f) || sscanf(line, "%llu %31s %ld %llu", &seq, verb, &n, &seed) < 2)
		snprintf(out, sizeof(out), "BAD no command");
	if (f)
		fclose(f);
	if (!strcmp(verb, "write"))
		write_units(n, seed, NULL, 1), snprintf(out, sizeof(out), "OK");
	else if (!strcmp(verb, "fdwrite"))
		fdwrite(out, sizeof(out));
	else if (!strcmp(verb, "fork"))
		do_fork(n, seed, out, sizeof(out));
	else if (!strcmp(verb, "map"))
		do_map(n, seed, out, sizeof(out));
	else if (!strcmp(verb, "punch"))
		punch(n, seed, MADV_REMOVE, out, sizeof(out));
	else if (!strcmp(verb, "drop"))
		punch(n, seed, MADV_DONTNEED, out, sizeof(out));
	else if (!strcmp(verb, "verify"))
		verify(out, sizeof(out));
	else if (!strcmp(verb, "loop"))
		loop(n, out, sizeof(out));
	snprintf(tmp, sizeof(tmp), "%s/done.tmp", dir);
	snprintf(path, sizeof(path), "%s/done.%llu", dir, seq);
	f = fopen(tmp, "w");
	if (f) {
		fprintf(f, "%s\n", out);
		fclose(f);
		rename(tmp, path);
	}
}

static void on_usr1(int s)
{
	got_cmd = 1;
}

int main(int argc, char **argv)
{
	static struct option opts[] = { { "kinds", 1, 0, 'k' }, { "dir", 1, 0, 'd' }, { "size-mb", 1, 0, 's' }, { "huge-mb", 1, 0, 'h' }, { "holes", 1, 0, 'o' }, { 0 } };
	char *kinds = NULL, path[512], tmp[520];
	size_t mb = 4, hmb = 4;
	sigset_t block, old;
	FILE *f;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k')
			kinds = optarg;
		else if (c == 'd')
			dir = optarg;
		else if (c == 's')
			mb = strtoul(optarg, NULL, 0);
		else if (c == 'h')
			hmb = strtoul(optarg, NULL, 0);
		else if (c == 'o')
			holes = atoi(optarg);
		else
			return 64;
	}
	if (!kinds || !dir || setup(kinds, mb, hmb))
		return 1;
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	snprintf(tmp, sizeof(tmp), "%s/ready.tmp", dir);
	snprintf(path, sizeof(path), "%s/ready", dir);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) || rename(tmp, path))
		return 1;
	for (;;) {
		while (!got_cmd)
			sigsuspend(&old);
		got_cmd = 0;
		command();
	}
}
