// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * touchtree: a tree of tasks sharing one MAP_SHARED anonymous region, each
 * touching its own part of it, for the per-task presence test (92).
 *
 *   touchtree --size-mb N --ready FILE --result PREFIX
 *
 * The root writes a pattern into the first 7/8 of the pages (page i holds
 * words derived from i) and forks two children; child 1 reads pages
 * [0, N/32 MiB) (contiguous), child 2 reads every 256th page of the written
 * part. Every task then owns exactly that set of pages in its page tables.
 * FILE gets the three pids (root first), written once all tasks are set up.
 *
 * SIGUSR1 (to each task): the task reads its own set again, checks every
 * byte and writes PREFIX.<idx>: "OK <bytes>" or "BAD page <p>". Nothing
 * else is touched, so that each task's Rss of the region stays its set.
 * SIGTERM ends a task. The wait survives checkpoint/restore.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096ul

static volatile sig_atomic_t got_usr1, got_term;
static uint64_t *region;
static size_t nr_pages;

static uint64_t word(size_t page, size_t k)
{
	return (page * 0x9e3779b97f4a7c15ull) ^ (k * 0xbf58476d1ce4e5b9ull) ^ 0x746f756368ull;
}

static size_t written(void)
{
	return nr_pages / 8 * 7;
}

/* Is page p in task idx's set? */
static int mine(int idx, size_t p)
{
	if (idx == 0)
		return p < written();
	if (idx == 1)
		return p < nr_pages / 32;
	return p < written() && p % 256 == 0;
}

/* Read (and check, with @check) every page of the set: the first bad one, or -1 */
static long touch(int idx, int check)
{
	volatile uint64_t sink = 0;
	size_t p, k;

	for (p = 0; p < nr_pages; p++) {
		const uint64_t *w = region + p * (PG / 8);

		if (!mine(idx, p))
			continue;
		for (k = 0; k < (check ? PG / 8 : 1); k++) {
			sink += w[k];
			if (check && w[k] != word(p, k))
				return (long)p;
		}
	}
	(void)sink;
	return -1;
}

static int write_file(const char *path, const char *text)
{
	char tmp[4200];
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	if (close(fd) || !ok || rename(tmp, path))
		return -1;
	return 0;
}

static void report(int idx, const char *prefix)
{
	char path[4096], text[128];
	size_t p, n = 0;
	long bad = touch(idx, 1);

	for (p = 0; p < nr_pages; p++)
		n += mine(idx, p);
	if (bad >= 0)
		snprintf(text, sizeof(text), "BAD page %ld\n", bad);
	else
		snprintf(text, sizeof(text), "OK %zu\n", n * PG);
	snprintf(path, sizeof(path), "%s.%d", prefix, idx);
	if (write_file(path, text))
		perror("touchtree: result");
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static void serve(int idx, const char *prefix, const sigset_t *waitmask)
{
	while (!got_term) {
		if (sigsuspend(waitmask) && errno != EINTR)
			perror("touchtree: sigsuspend");
		if (got_usr1) {
			got_usr1 = 0;
			report(idx, prefix);
		}
	}
}

static int setup(size_t mb, sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;
	size_t p, k;

	nr_pages = mb * (1ul << 20) / PG;
	region = mmap(NULL, nr_pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return -1;
	for (p = 0; p < written(); p++)
		for (k = 0; k < PG / 8; k++)
			region[p * (PG / 8) + k] = word(p, k);
	if (sigemptyset(&block) || sigaddset(&block, SIGUSR1) || sigaddset(&block, SIGTERM) ||
	    sigprocmask(SIG_BLOCK, &block, waitmask) || sigdelset(waitmask, SIGUSR1) || sigdelset(waitmask, SIGTERM))
		return -1;
	return sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *ready = NULL, *prefix = NULL;
	int c, i, p[2], idx = 0;
	pid_t pids[3];
	sigset_t waitmask;
	size_t mb = 256;
	char buf[64];

	while ((c = getopt_long(argc, argv, "s:r:R:",
				(const struct option[]){ { "size-mb", 1, NULL, 's' }, { "ready", 1, NULL, 'r' }, { "result", 1, NULL, 'R' }, { 0 } },
				NULL)) != -1) {
		if (c == 's')
			mb = strtoul(optarg, NULL, 0);
		else if (c == 'r')
			ready = optarg;
		else if (c == 'R')
			prefix = optarg;
		else
			return 2;
	}
	if (!ready || !prefix || mb < 32 || setup(mb, &waitmask) || pipe(p)) {
		fprintf(stderr, "usage: touchtree --size-mb N (>= 32) --ready FILE --result PREFIX\n");
		return 2;
	}
	pids[0] = getpid();
	for (i = 1; i <= 2 && !idx; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return 2;
		if (pids[i] == 0) {
			idx = i;
			touch(idx, 0);
			if (write(p[1], "x", 1) != 1)
				_exit(2);
		}
	}
	close(p[1]);
	if (idx == 0) {
		if (read(p[0], buf, 1) != 1 || read(p[0], buf, 1) != 1)
			return 2;
		snprintf(buf, sizeof(buf), "%d\n%d\n%d\n", (int)pids[0], (int)pids[1], (int)pids[2]);
		if (write_file(ready, buf))
			return 2;
	}
	close(p[0]);
	serve(idx, prefix, &waitmask);
	if (idx == 0)
		for (i = 1; i <= 2; i++)
			if (kill(pids[i], SIGTERM) == 0)
				waitpid(pids[i], NULL, 0);
	return 0;
}
