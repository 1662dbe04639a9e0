/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lzguest: the program a QEMU guest runs (statically linked, from a busybox
 * initramfs) for the real-application tests (tests/integration/10x-app-qemu-*).
 *
 *   lzguest MIB
 *
 * Fills MIB MiB of its memory with a pattern derived from a random seed and
 * prints on stdout (the guest's serial console)
 *   LZREADY seed=<hex> mib=<n> fill_ms=<n>
 * Then, for every line read on stdin (a second serial port, the trigger: its
 * echo is turned off, so that the host side only writes to it), it checks
 * every byte and prints
 *   LZCHECK n=<count> seed=<hex> OK mib=<n> ms=<n>
 * or, at the first wrong word,
 *   LZCHECK n=<count> seed=<hex> BAD offset=<n> want=<hex> got=<hex>
 * The memory is guest RAM, i.e. QEMU's memory backend on the host: a check
 * after a restore proves that the backend came back with its content.
 * After each check it rewrites one word per MiB (the pattern stays the same),
 * so that every check also writes guest RAM.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static uint64_t word(uint64_t seed, uint64_t i)
{
	uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static long ms_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint64_t get_seed(void)
{
	uint64_t s = 0;
	FILE *f = fopen("/dev/urandom", "r");

	if (!f || fread(&s, sizeof(s), 1, f) != 1)
		s = (uint64_t)ms_now() * 0x2545f4914f6cdd1dULL;
	if (f)
		fclose(f);
	return s;
}

/* Index of the first wrong word, or n if all are right */
static size_t check(const uint64_t *m, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i] != word(seed, i))
			return i;
	return n;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	size_t n = (mib << 20) / sizeof(uint64_t), i, bad;
	uint64_t seed = get_seed(), *m;
	unsigned long count = 0;
	struct termios tio;
	char line[256];
	long t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (tcgetattr(0, &tio) == 0) {
		tio.c_lflag &= ~(ECHO | ECHONL);
		if (tcsetattr(0, TCSANOW, &tio))
			printf("LZWARN cannot turn the echo off: %s\n", strerror(errno));
	}
	m = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (m == MAP_FAILED) {
		printf("LZERROR mmap %zu MiB: %s\n", mib, strerror(errno));
		return 1;
	}
	t = ms_now();
	for (i = 0; i < n; i++)
		m[i] = word(seed, i);
	printf("LZREADY seed=%016llx mib=%zu fill_ms=%ld\n", (unsigned long long)seed, mib, ms_now() - t);
	while (fgets(line, sizeof(line), stdin)) {
		count++;
		t = ms_now();
		bad = check(m, n, seed);
		if (bad < n) {
			printf("LZCHECK n=%lu seed=%016llx BAD offset=%zu want=%016llx got=%016llx\n", count,
			       (unsigned long long)seed, bad * sizeof(uint64_t), (unsigned long long)word(seed, bad),
			       (unsigned long long)m[bad]);
			continue;
		}
		for (i = 0; i < n; i += (1 << 20) / sizeof(uint64_t))
			m[i] = word(seed, i);
		printf("LZCHECK n=%lu seed=%016llx OK mib=%zu ms=%ld\n", count, (unsigned long long)seed, mib,
		       ms_now() - t);
	}
	printf("LZERROR stdin closed\n");
	return 1;
}
