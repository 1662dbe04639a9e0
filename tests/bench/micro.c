// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * micro: the physical limits a lazy restore is measured against. Each test
 * prints one JSON object per line:
 *
 *   uffd_rt       MINOR fault + UFFDIO_CONTINUE round trip seen by the
 *                 faulting thread; handler thread poll()s or spins
 *   uffd_fill_rt  MISSING fault, handler writes the page through a second
 *                 mapping (allocating it), then UFFDIO_CONTINUE: what a
 *                 lazyshm fault must do at minimum
 *   first_touch   plain first touch of a page already in the page cache
 *   continue_bw   UFFDIO_CONTINUE of whole 4 MiB ranges of cached pages
 *   memcpy_bw     memcpy between pre-faulted buffers
 *   fill_bw       memcpy into a fresh shmem/hugetlb mapping (page
 *                 allocation + zeroing + copy: what prefetch writes into)
 *   pread_bw      pread() of a file in page cache, into a pre-faulted
 *                 buffer and into a fresh shmem/hugetlb mapping, per chunk
 *   xxh3_bw       XXH3_64bits, runtime-dispatched as lazyshm uses it (page digest validation)
 *   fill_method   the ways to fill a fresh object from an image in the page
 *                 cache, 1 and 2 threads (micro_fill.c)
 *
 * Usage: micro --file PATH [--quick]; PATH is a scratch file on the images'
 * filesystem (created, removed at the end). 2M tests need ~200 free 2M
 * hugepages and are reported as skipped without them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lzdigest.h"

#include "micro.h"

#define BW_SIZE (256ul << 20)

static double gbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / (double)ns : 0;
}

static int bw_memcpy(void)
{
	char *a = malloc(BW_SIZE), *b = malloc(BW_SIZE);
	uint64_t best = UINT64_MAX, t;
	int i;

	if (!a || !b) {
		free(a);
		free(b);
		return -1;
	}
	memset(a, 1, BW_SIZE);
	memset(b, 2, BW_SIZE);
	for (i = 0; i < 5; i++) {
		t = mb_now_ns();
		memcpy(b, a, BW_SIZE);
		t = mb_now_ns() - t;
		best = t < best ? t : best;
	}
	printf("{\"test\": \"memcpy_bw\", \"bytes\": %lu, \"gbps\": %.2f}\n", BW_SIZE, gbps(BW_SIZE, best));
	free(a);
	free(b);
	return 0;
}

static int bw_xxh3(void)
{
	char *a = malloc(BW_SIZE);
	uint64_t best = UINT64_MAX, t, sum = 0, off;
	int i;

	if (!a)
		return -1;
	memset(a, 3, BW_SIZE);
	for (i = 0; i < 3; i++) {
		t = mb_now_ns();
		for (off = 0; off < BW_SIZE; off += 4096)
			sum += LZ_XXH3_64(a + off, 4096);
		t = mb_now_ns() - t;
		best = t < best ? t : best;
	}
	printf("{\"test\": \"xxh3_bw\", \"bytes\": %lu, \"gbps\": %.2f, \"sum\": %" PRIu64 "}\n", BW_SIZE,
	       gbps(BW_SIZE, best), sum & 1);
	free(a);
	return 0;
}

/* memcpy into a fresh mapping of a new object: allocation + zero + copy */
static int bw_fill(uint64_t psz)
{
	char *src = malloc(BW_SIZE), *dst;
	struct mb_obj o;
	uint64_t t;

	if (!src)
		return -1;
	memset(src, 4, BW_SIZE);
	if (mb_obj_new(&o, psz, BW_SIZE)) {
		free(src);
		return mb_skip("fill_bw", psz);
	}
	dst = mb_obj_map(&o);
	t = mb_now_ns();
	if (dst)
		memcpy(dst, src, BW_SIZE);
	t = mb_now_ns() - t;
	if (dst)
		printf("{\"test\": \"fill_bw\", \"page_size\": %" PRIu64 ", \"gbps\": %.2f}\n", psz,
		       gbps(BW_SIZE, t));
	mb_obj_free(&o);
	free(src);
	return dst ? 0 : -1;
}

static int run_all(const char *file, bool quick)
{
	uint64_t psz[] = { 4096, 2ul << 20 };
	uint64_t chunks[] = { 64ul << 10, 4ul << 20, 64ul << 20 };
	int i, j, ret = 0;

	ret |= bw_memcpy();
	ret |= bw_xxh3();
	for (i = 0; i < 2; i++) {
		ret |= mb_uffd_rt(psz[i], false, false, quick);
		ret |= mb_uffd_rt(psz[i], true, false, quick);
		ret |= mb_uffd_rt(psz[i], false, true, quick);
		ret |= mb_first_touch(psz[i]);
		ret |= mb_continue_bw(psz[i]);
		ret |= bw_fill(psz[i]);
	}
	if (mb_pread_setup(file, BW_SIZE))
		return -1;
	for (j = 0; j < 3; j++) {
		ret |= mb_pread_bw(file, BW_SIZE, chunks[j], 0);
		for (i = 0; i < 2; i++)
			ret |= mb_pread_bw(file, BW_SIZE, chunks[j], psz[i]);
	}
	ret |= mb_fill_methods(file, BW_SIZE);
	if (unlink(file))
		perror("micro: unlink");
	return ret ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *file = NULL;
	bool quick = false;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0); /* progress survives a timeout */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--file") && i + 1 < argc)
			file = argv[++i];
		else if (!strcmp(argv[i], "--quick"))
			quick = true;
		else
			file = NULL, i = argc;
	}
	if (!file) {
		fprintf(stderr, "usage: micro --file SCRATCH [--quick]\n");
		return 1;
	}
	return run_all(file, quick) ? 2 : 0;
}
