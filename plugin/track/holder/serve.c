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
 * userfaultfd asks for it too) is recorded, for the next dump to count the
 * range as written: the zap takes the page table entries that held the
 * "written" state (on hugetlb a written page zapped reads as unwritten),
 * and a page read back in afterwards looks unwritten too (zeros, or the
 * content a write left), so that the dump would leave the parent's old
 * content in its place.
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

#define MAX_REMOVED 65536

static struct lz_removed rm[MAX_REMOVED];
static size_t nr_rm;

static struct lz_serve_stats st;

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

/*
 * After a mapping ioctl on [addr, addr+len): 0 when the fault is over
 * (mapped; the task or mapping gone; mapped already, or the mm changing
 * under an event: the thread is woken, to fault again if it must), 1 to
 * try another page size (EINVAL), or -errno
 */
static int outcome(int uffd, int ret, uint64_t addr, uint64_t len)
{
	struct uffdio_range w = { .start = addr, .len = len };

	if (ret == 0 || errno == ESRCH || errno == ENOENT)
		return 0;
	if (errno == EAGAIN || errno == EEXIST)
		return ioctl(uffd, UFFDIO_WAKE, &w) && errno != ESRCH && errno != ENOENT ? -errno : 0;
	return errno == EINVAL ? 1 : -errno;
}

static int fill_zero(int uffd, uint64_t addr)
{
	struct uffdio_zeropage z = { .range = { .start = addr & ~(sizes[0] - 1), .len = sizes[0] } };
	size_t i;
	int ret;

	ret = outcome(uffd, ioctl(uffd, UFFDIO_ZEROPAGE, &z), z.range.start, z.range.len);
	/* hugetlbfs has no zero page: copy zeros */
	for (i = 1; ret == 1 && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct uffdio_copy c = {
			.dst = addr & ~(sizes[i] - 1), .src = (uintptr_t)zeros(sizes[i]), .len = sizes[i]
		};

		if (!c.src)
			return -ENOMEM;
		ret = outcome(uffd, ioctl(uffd, UFFDIO_COPY, &c), c.dst, c.len);
	}
	return ret == 1 ? -EINVAL : ret;
}

/*
 * 4 KiB pages: the faulting page and the ones after it up to the next
 * AROUND boundary at once, as the kernel's own fault-around would map them
 * (every page is in the page cache by now, and each fault answered here
 * costs ~50 us against ~0.2 us), fewer where the mapping ends. True if the
 * faulting page is mapped.
 */
#define AROUND (1ULL << 20)
static bool map_around(int uffd, uint64_t addr, bool wp)
{
	uint64_t start = addr & ~(sizes[0] - 1), len = ((addr | (AROUND - 1)) + 1) - start;

	for (; len > sizes[0]; len = (len / 2) & ~(sizes[0] - 1)) {
		struct uffdio_continue c = {
			.range = { .start = start, .len = len },
			.mode = wp ? UFFDIO_CONTINUE_MODE_WP : 0,
		};

		if (ioctl(uffd, UFFDIO_CONTINUE, &c) == 0 || c.mapped > 0)
			return true;
		if (errno != ENOENT) /* EINVAL: huge pages; else: one page, below */
			return false;
	}
	return false;
}

static int map_minor(int uffd, uint64_t addr, bool wp)
{
	size_t i;
	int ret = 1;

	if (map_around(uffd, addr, wp))
		return 0;
	for (i = 0; ret == 1 && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct uffdio_continue c = {
			.range = { .start = addr & ~(sizes[i] - 1), .len = sizes[i] },
			.mode = wp ? UFFDIO_CONTINUE_MODE_WP : 0,
		};

		ret = outcome(uffd, ioctl(uffd, UFFDIO_CONTINUE, &c), c.range.start, c.range.len);
	}
	return ret == 1 ? -EINVAL : ret;
}

/* A full list lets the task go (-ENOSPC): its next dump is full */
static int removed(int uffd, uint64_t start, uint64_t end)
{
	struct lz_removed *last = nr_rm ? &rm[nr_rm - 1] : NULL;

	/* a run of removals (one madvise per page, or one range again) is one range */
	if (last && last->uffd == uffd && start <= last->end && end >= last->start) {
		last->start = start < last->start ? start : last->start;
		last->end = end > last->end ? end : last->end;
		return 0;
	}
	if (nr_rm == MAX_REMOVED)
		return -ENOSPC;
	rm[nr_rm++] = (struct lz_removed){ .uffd = uffd, .start = start, .end = end };
	return 0;
}

const struct lz_removed *lz_serve_removed(size_t *nr)
{
	*nr = nr_rm;
	return rm;
}

void lz_serve_removed_clear(void)
{
	nr_rm = 0;
}

const struct lz_serve_stats *lz_serve_stats(void)
{
	return &st;
}

void lz_serve_forget(int uffd)
{
	size_t i = nr_rm;

	while (i-- > 0)
		if (rm[i].uffd == uffd)
			rm[i] = rm[--nr_rm];
}

static int answer(int uffd, const struct uffd_msg *m, bool wp)
{
	if (m->event == UFFD_EVENT_PAGEFAULT && (m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR)) {
		st.minor++;
		return map_minor(uffd, m->arg.pagefault.address, wp);
	}
	if (m->event == UFFD_EVENT_PAGEFAULT) {
		st.missing++;
		return fill_zero(uffd, m->arg.pagefault.address);
	}
	st.events++;
	if (m->event == UFFD_EVENT_FORK)
		close((int)m->arg.fork.ufd);
	else if (m->event == UFFD_EVENT_REMOVE && wp)
		return removed(uffd, m->arg.remove.start, m->arg.remove.end);
	return 0;
}

int lz_serve(int uffd, bool wp)
{
	struct uffd_msg m;
	ssize_t n;
	int ret;

	for (;;) {
		n = read(uffd, &m, sizeof(m));
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n != sizeof(m))
			return -EIO;
		ret = answer(uffd, &m, wp);
		if (ret) {
			fprintf(stderr, "lazyshm-trackd: can't answer event %u (at %#llx): %s\n", m.event,
				(unsigned long long)m.arg.pagefault.address, strerror(-ret));
			return ret;
		}
	}
}
