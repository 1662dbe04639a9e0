// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lazyshm-trackd's service of the userfaultfds of a lazily restored tree
 * (criu restore --lazy-pages --track-mem). The lazy-pages daemon hands
 * each task's userfaultfd over once every page of the task is in place;
 * it still has the restore's registrations (missing and minor faults, and
 * the non-cooperative events), so someone must answer them as the kernel
 * would without a userfaultfd:
 *  - a missing fault (the page left the page cache since: a hole punched,
 *    MADV_REMOVE) gets a zero page, mapped writable, so that the tracking
 *    reports the page as written: it differs from the images;
 *  - a minor fault (the page is in the page cache, not mapped here yet) is
 *    mapped with UFFDIO_CONTINUE, write-protected when the descriptor
 *    tracks writes: a later write marks it;
 *  - events are read, which lets the faulting thread go on; a forked
 *    child's userfaultfd is closed: the child is not tracked (the next
 *    dump says so and dumps what it maps in full).
 * The page size is found by trying 4 KiB, 2 MiB and 1 GiB alignments.
 *
 * A removal (UFFD_EVENT_REMOVE: MADV_REMOVE, MADV_DONTNEED; a tracking
 * userfaultfd asks for it too) turns the range's protection off: the zap
 * would leave write-protect markers, and a page read back in afterwards
 * (zeros) would look unwritten, so that the next dump left the parent's
 * old content in its place. Unprotected, the range reads as written. The
 * kernel refuses UFFDIO_WRITEPROTECT while the event is pending (EAGAIN):
 * such ranges wait in a list that lz_serve_flush() retries, before the
 * holder answers any client.
 */
#include <errno.h>
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uffd-compat.h"
#include "serve.h"

static const uint64_t sizes[] = { 4096ULL, 2ULL << 20, 1ULL << 30 };

#define MAX_UNPROTECT 1024

static struct unprotect {
	int uffd;
	uint64_t start, len;
} pend[MAX_UNPROTECT];
static size_t nr_pend;

/* A source of zeros for huge pages: never written, so never allocated */
static void *zeros(uint64_t len)
{
	static void *z;

	if (!z) {
		z = mmap(NULL, 1ULL << 30, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (z == MAP_FAILED)
			z = NULL;
	}
	return len <= (1ULL << 30) ? z : NULL;
}

static bool done(int ret)
{
	/* mapped, mapped by a racing fault, or the task/mapping is gone */
	return ret == 0 || errno == EEXIST || errno == ESRCH || errno == ENOENT;
}

static int fill_zero(int uffd, uint64_t addr)
{
	struct uffdio_zeropage z = { .range = { .start = addr & ~(sizes[0] - 1), .len = sizes[0] } };
	size_t i;

	if (done(ioctl(uffd, UFFDIO_ZEROPAGE, &z)))
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* hugetlbfs has no zero page: copy zeros */
	for (i = 1; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct uffdio_copy c = {
			.dst = addr & ~(sizes[i] - 1), .src = (uintptr_t)zeros(sizes[i]), .len = sizes[i]
		};

		if (!c.src)
			return -ENOMEM;
		if (done(ioctl(uffd, UFFDIO_COPY, &c)))
			return 0;
		if (errno != EINVAL)
			return -errno;
	}
	return -EINVAL;
}

static int map_minor(int uffd, uint64_t addr, bool wp)
{
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct uffdio_continue c = {
			.range = { .start = addr & ~(sizes[i] - 1), .len = sizes[i] },
			.mode = wp ? UFFDIO_CONTINUE_MODE_WP : 0,
		};

		if (done(ioctl(uffd, UFFDIO_CONTINUE, &c)))
			return 0;
		if (errno != EINVAL)
			return -errno;
	}
	return -EINVAL;
}

/* 0 done, 1 not yet (the event is pending), -errno */
static int unprotect(int uffd, uint64_t start, uint64_t len)
{
	struct uffdio_writeprotect w = { .range = { .start = start, .len = len }, .mode = 0 };

	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &w) == 0 || errno == ENOENT || errno == ESRCH)
		return 0;
	return errno == EAGAIN ? 1 : -errno;
}

static int removed(int uffd, uint64_t start, uint64_t end)
{
	int ret = unprotect(uffd, start, end - start);

	if (ret <= 0)
		return ret;
	if (nr_pend == MAX_UNPROTECT)
		return -ENOSPC;
	pend[nr_pend++] = (struct unprotect){ .uffd = uffd, .start = start, .len = end - start };
	return 0;
}

size_t lz_serve_pending(void)
{
	return nr_pend;
}

int lz_serve_flush(int *failed)
{
	size_t i = nr_pend;
	int ret;

	*failed = -1;
	while (i-- > 0) {
		ret = unprotect(pend[i].uffd, pend[i].start, pend[i].len);
		if (ret == 1)
			continue;
		if (ret < 0) {
			*failed = pend[i].uffd;
			return ret;
		}
		pend[i] = pend[--nr_pend];
	}
	return 0;
}

int lz_serve_first(void)
{
	return nr_pend ? pend[0].uffd : -1;
}

void lz_serve_forget(int uffd)
{
	size_t i = nr_pend;

	while (i-- > 0)
		if (pend[i].uffd == uffd)
			pend[i] = pend[--nr_pend];
}

int lz_serve(int uffd, bool wp)
{
	struct uffd_msg m;
	ssize_t n;

	for (;;) {
		int ret = 0;

		n = read(uffd, &m, sizeof(m));
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n != sizeof(m))
			return -EIO;
		if (m.event == UFFD_EVENT_PAGEFAULT) {
			if (m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR)
				ret = map_minor(uffd, m.arg.pagefault.address, wp);
			else
				ret = fill_zero(uffd, m.arg.pagefault.address);
		} else if (m.event == UFFD_EVENT_FORK) {
			close((int)m.arg.fork.ufd);
		} else if (m.event == UFFD_EVENT_REMOVE && wp) {
			ret = removed(uffd, m.arg.remove.start, m.arg.remove.end);
		}
		if (ret) {
			fprintf(stderr, "lazyshm-trackd: can't answer event %u (at %#llx): %s\n", m.event,
				(unsigned long long)m.arg.pagefault.address, strerror(-ret));
			return ret;
		}
	}
}
