// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * micro: the ways to fill a fresh shmem/hugetlb object from an image in
 * the page cache, the limits lazyshm's prefetch is measured against
 * (docs/PERFORMANCE.md). Each prints "fill_method" with a "method":
 *
 *   uffd_copy        UFFDIO_COPY from the mapped image into a mapping
 *                    registered MISSING (no zeroing), 1 or 2 threads
 *   uffd_copy_xxh3   the same, each 1 MiB (or huge page) digested first,
 *                    as the daemon does: the copy reads it from the cache
 *   pwrite           pwrite() of 1 MiB chunks from the mapped image (4K
 *                    only: hugetlbfs has no write())
 *   populate_memcpy  MADV_POPULATE_WRITE (allocates and zeroes), then memcpy
 *
 * The source image is mapped and populated first: its reading is not timed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lzdigest.h"
#include "micro.h"

#define CHUNK (1ul << 20)

enum { M_COPY,
       M_COPY_XXH3,
       M_PWRITE,
       M_POPULATE };
static const char *const names[] = { "uffd_copy", "uffd_copy_xxh3", "pwrite", "populate_memcpy" };

struct fill {
	int method, uffd, fd;
	uint64_t psz, size, chunk, next; /* next: atomic */
	const char *src;
	char *dst;
	int err;
};

static int copy(struct fill *f, uint64_t off, uint64_t len)
{
	struct uffdio_copy c = { .dst = (uintptr_t)f->dst + off, .src = (uintptr_t)f->src + off, .len = len };

	return ioctl(f->uffd, UFFDIO_COPY, &c);
}

static int fill_one(struct fill *f, uint64_t off, uint64_t *sum)
{
	uint64_t i;

	switch (f->method) {
	case M_COPY_XXH3:
		for (i = 0; i < f->chunk; i += f->psz)
			*sum += LZ_XXH3_64(f->src + off + i, f->psz);
		/* fall through */
	case M_COPY:
		return copy(f, off, f->chunk);
	case M_PWRITE:
		return pwrite(f->fd, f->src + off, f->chunk, off) == (ssize_t)f->chunk ? 0 : -1;
	default:
		if (madvise(f->dst + off, f->chunk, MADV_POPULATE_WRITE))
			return -1;
		memcpy(f->dst + off, f->src + off, f->chunk);
		return 0;
	}
}

static void *fill_thread(void *arg)
{
	struct fill *f = arg;
	uint64_t off, sum = 0;

	while ((off = __atomic_fetch_add(&f->next, f->chunk, __ATOMIC_RELAXED)) < f->size) {
		if (fill_one(f, off, &sum)) {
			f->err = errno;
			break;
		}
	}
	return (void *)(uintptr_t)(sum & 1);
}

static int register_missing(struct fill *f)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register r = { .range = { .start = (uintptr_t)f->dst, .len = f->size },
				     .mode = UFFDIO_REGISTER_MODE_MISSING };

	f->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (f->uffd < 0 || ioctl(f->uffd, UFFDIO_API, &api) || ioctl(f->uffd, UFFDIO_REGISTER, &r)) {
		perror("micro: userfaultfd for fill_method");
		return -1;
	}
	return 0;
}

static int run(struct fill *f, int threads, uint64_t *ns)
{
	pthread_t t[2];
	int i, n = 0;

	*ns = mb_now_ns();
	for (i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, fill_thread, f) == 0)
			n++;
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	*ns = mb_now_ns() - *ns;
	if (n != threads || f->err) {
		fprintf(stderr, "micro: fill_method %s: %s\n", names[f->method], strerror(f->err ? f->err : EAGAIN));
		return -1;
	}
	return 0;
}

/* One method, @threads threads, into a fresh object of @psz pages from the image @src */
static int fill_method(const char *src, uint64_t size, uint64_t psz, int method, int threads)
{
	struct fill f = { .method = method, .uffd = -1, .psz = psz, .size = size, .src = src };
	struct mb_obj o;
	uint64_t ns;
	int ret = -1;

	f.chunk = psz > CHUNK ? psz : CHUNK;
	if (mb_obj_new(&o, psz, size))
		return mb_skip("fill_method", psz);
	f.fd = o.fd;
	f.dst = mb_obj_map(&o);
	if (f.dst && (method > M_COPY_XXH3 || register_missing(&f) == 0) && run(&f, threads, &ns) == 0) {
		printf("{\"test\": \"fill_method\", \"method\": \"%s\", \"page_size\": %" PRIu64 ", \"threads\": %d"
		       ", \"gbps\": %.2f}\n",
		       names[method], psz, threads, (double)size / ns);
		ret = 0;
	}
	if (f.uffd >= 0)
		close(f.uffd);
	mb_obj_free(&o);
	return ret;
}

int mb_fill_methods(const char *file, uint64_t size)
{
	uint64_t psz[] = { 4096, 2ul << 20 };
	int fd = open(file, O_RDONLY | O_CLOEXEC), i, m, t, ret = 0;
	char *src;

	if (fd < 0)
		return -1;
	src = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (src == MAP_FAILED || madvise(src, size, MADV_POPULATE_READ)) {
		perror("micro: mapping the image for fill_method");
		return -1;
	}
	for (i = 0; i < 2; i++)
		for (m = M_COPY; m <= M_POPULATE; m++)
			for (t = 1; t <= 2; t++)
				if (!(m == M_PWRITE && psz[i] > 4096))
					ret |= fill_method(src, size, psz[i], m, t);
	munmap(src, size);
	return ret;
}
