// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * splitmap: one shared object mapped as several VMAs.
 *
 *   splitmap --kind memfd|anon|huge-memfd --size-mb N --ready FILE --result FILE
 *
 * Maps the object MAP_SHARED, fills every 4K block with a pattern of its
 * index, then mprotect()s every other quarter read-only so the mapping is
 * split into four VMAs of one object (the memfd's descriptor is closed).
 * Writes FILE (--ready) when set up; on SIGUSR1 reads every byte and writes
 * "OK <bytes>" or "FAIL block <n> got <x>" to the --result FILE; SIGTERM
 * exits. Used to check that every VMA of a lazily restored object is
 * registered, not only the first one.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct cfg {
	const char *kind, *ready, *result;
	size_t size;
};

static uint64_t pattern(size_t block, size_t word)
{
	return (block * 0x9e3779b97f4a7c15ull) ^ (word + 1) * 0xbf58476d1ce4e5b9ull;
}

static char *map_object(const struct cfg *c)
{
	int huge = !strcmp(c->kind, "huge-memfd"), fd = -1;
	char *p;

	if (strcmp(c->kind, "anon")) {
		fd = memfd_create("splitmap", huge ? MFD_HUGETLB : 0);
		if (fd < 0 || ftruncate(fd, c->size)) {
			perror("splitmap: memfd");
			return NULL;
		}
	}
	p = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);
	if (fd >= 0)
		close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		return -1;
	return rename(tmp, path);
}

static void verify(const struct cfg *c, const char *p)
{
	size_t b, w, nw = 4096 / 8;
	char line[128];

	for (b = 0; b < c->size / 4096; b++) {
		const uint64_t *q = (const uint64_t *)(p + b * 4096);

		for (w = 0; w < nw; w++) {
			if (q[w] == pattern(b, w))
				continue;
			snprintf(line, sizeof(line), "FAIL block %zu got %#llx\n", b, (unsigned long long)q[w]);
			if (write_file(c->result, line))
				perror("splitmap: result");
			return;
		}
	}
	snprintf(line, sizeof(line), "OK %zu\n", c->size);
	if (write_file(c->result, line))
		perror("splitmap: result");
}

static int parse(int argc, char **argv, struct cfg *c)
{
	static const struct option opts[] = { { "kind", 1, 0, 'k' }, { "size-mb", 1, 0, 's' }, { "ready", 1, 0, 'r' }, { "result", 1, 0, 'R' }, { 0, 0, 0, 0 } };
	int o;

	*c = (struct cfg){ .kind = "memfd", .size = 64 << 20 };
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'k')
			c->kind = optarg;
		else if (o == 's')
			c->size = (size_t)atoi(optarg) << 20;
		else if (o == 'r')
			c->ready = optarg;
		else if (o == 'R')
			c->result = optarg;
		else
			return -1;
	}
	return c->ready && c->result && c->size >= (8 << 20) ? 0 : -1;
}

int main(int argc, char **argv)
{
	size_t b, w, q;
	sigset_t set, old;
	struct cfg c;
	char *p;
	int sig;

	if (parse(argc, argv, &c)) {
		fprintf(stderr, "usage: splitmap --kind memfd|anon|huge-memfd --size-mb N(>=8) --ready F --result F\n");
		return 1;
	}
	p = map_object(&c);
	if (!p)
		return 2;
	for (b = 0; b < c.size / 4096; b++)
		for (w = 0; w < 4096 / 8; w++)
			((uint64_t *)(p + b * 4096))[w] = pattern(b, w);
	for (q = 1; q < 4; q += 2)
		if (mprotect(p + q * (c.size / 4), c.size / 4, PROT_READ)) {
			perror("splitmap: mprotect");
			return 2;
		}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, &old) || write_file(c.ready, "ready\n"))
		return 2;
	for (;;) {
		if (sigwait(&set, &sig))
			return 2;
		if (sig == SIGTERM)
			return 0;
		verify(&c, p);
	}
}
