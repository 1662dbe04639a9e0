// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * micro: read bandwidth of an image-like file in the page cache, into a
 * pre-faulted buffer and into a fresh shmem/hugetlb object (the prefetch
 * path: pread from pages-*.img into the daemon's second mapping).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "micro.h"

int mb_pread_setup(const char *file, uint64_t size)
{
	uint64_t chunk = 1 << 20, off;
	char *buf = malloc(chunk);
	int fd, ret = 0;

	fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !buf) {
		fprintf(stderr, "micro: cannot create %s: %m\n", file);
		free(buf);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	memset(buf, 0x77, chunk);
	for (off = 0; off < size && !ret; off += chunk)
		ret = pwrite(fd, buf, chunk, off) == (ssize_t)chunk ? 0 : -1;
	/* read it back once: every page is in the page cache from here */
	for (off = 0; off < size && !ret; off += chunk)
		ret = pread(fd, buf, chunk, off) == (ssize_t)chunk ? 0 : -1;
	if (ret)
		fprintf(stderr, "micro: cannot write %s: %m\n", file);
	free(buf);
	close(fd);
	return ret;
}

static int read_all(int fd, char *dst, uint64_t size, uint64_t chunk)
{
	uint64_t off;

	for (off = 0; off < size; off += chunk) {
		if (pread(fd, dst + off, chunk, off) != (ssize_t)chunk) {
			perror("micro: pread");
			return -1;
		}
	}
	return 0;
}

/* psz 0: into a pre-faulted buffer; else into a fresh object's mapping */
int mb_pread_bw(const char *file, uint64_t size, uint64_t chunk, uint64_t psz)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC), ret = -1;
	struct mb_obj o = { .fd = -1 };
	char *dst = NULL;
	uint64_t t;

	if (fd < 0)
		return -1;
	if (!psz) {
		dst = malloc(size);
		if (dst)
			memset(dst, 0, size);
	} else if (mb_obj_new(&o, psz, size) == 0) {
		dst = mb_obj_map(&o);
	} else {
		close(fd);
		return mb_skip("pread_bw", psz);
	}
	if (!dst)
		goto out;
	t = mb_now_ns();
	ret = read_all(fd, dst, size, chunk);
	t = mb_now_ns() - t;
	if (!ret)
		printf("{\"test\": \"pread_bw\", \"into\": \"%s\", \"page_size\": %" PRIu64 ", \"chunk\": %" PRIu64
		       ", \"gbps\": %.2f}\n",
		       psz ? "fresh" : "buffer", psz, chunk, (double)size / t);
out:
	if (psz && o.fd >= 0)
		mb_obj_free(&o);
	else if (!psz)
		free(dst);
	close(fd);
	return ret;
}
