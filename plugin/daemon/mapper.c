// SPDX-License-Identifier: GPL-2.0-or-later
/* Mapping pages into a task; see mapper.h. */
#include <errno.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "log.h"
#include "mapper.h"
#include "presence.h"
#include "uffd-compat.h"

/* The source of zero huge pages: never written, so never allocated */
static struct {
	void *p;
	uint64_t len;
} Z;

static uint64_t page_addr(const struct lz_vma *r, uint64_t page)
{
	return r->start + page * r->obj->psz - r->off;
}

static int pend(struct lz_task *t, struct lz_vma *r, uint64_t first, uint64_t n)
{
	if (t->nr_pend == t->cap_pend) {
		size_t cap = t->cap_pend ? t->cap_pend * 2 : 16;
		struct lz_pending *p = realloc(t->pend, cap * sizeof(*p));

		if (!p) {
			pr_err("task %d: no memory to retry a mapping\n", t->pid);
			return -1;
		}
		t->pend = p;
		t->cap_pend = cap;
	}
	t->pend[t->nr_pend++] = (struct lz_pending){
		.obj = r->obj, .first = first, .n = n, .addr = page_addr(r, first), .len = n * r->obj->psz
	};
	return 0;
}

static int wake(struct lz_task *t, uint64_t addr, uint64_t len)
{
	struct uffdio_range w = { .start = addr, .len = len };

	if (ioctl(t->uffd, UFFDIO_WAKE, &w) == 0 || errno == ESRCH || errno == ENOENT)
		return 0;
	pr_perror("task %d: UFFDIO_WAKE %#" PRIx64, t->pid, addr);
	return -1;
}

/* An error of a mapping ioctl: 1 skip the page (and wake), 0 stop quietly, -1 */
static int map_error(struct lz_task *t, const char *op, uint64_t addr)
{
	switch (errno) {
	case ESRCH:
	case ENOSPC:
		t->gone = true; /* exited: nothing to map any more */
		return 0;
	case ENOENT:
		return 0; /* unmapped meanwhile: an UNMAP event follows */
	case EEXIST:
	case EFAULT:
		return 1; /* mapped already, or gone from the page cache: the task faults */
	case ENOMEM:
		/* without lazyshm the task would get SIGBUS; here the tree stops */
		pr_err("task %d: %s at %#" PRIx64 ": no memory for the page (for huge pages: no free one in the "
		       "pool, see nr_hugepages): stopping\n",
		       t->pid, op, addr);
		return -1;
	}
	pr_perror("task %d: %s at %#" PRIx64, t->pid, op, addr);
	return -1;
}

/* CONTINUE pages [first, first+n) of @r, all FILLED; what EAGAIN refuses is kept for later */
static int continue_run(struct lz_stats *s, struct lz_task *t, struct lz_vma *r, uint64_t first, uint64_t n)
{
	uint64_t psz = r->obj->psz, start = page_addr(r, first), addr = start, len = n * psz, done;
	bool need_wake = false;
	int ret;

	while (len) {
		/* tracked from the restore: written pages show once the task writes them */
		struct uffdio_continue c = { .range = { .start = addr, .len = len },
					     .mode = t->wp ? UFFDIO_CONTINUE_MODE_WP : 0 };
		uint64_t t0 = lz_now_ns();

		s->continues++;
		ret = ioctl(t->uffd, UFFDIO_CONTINUE, &c);
		s->ns_continue += lz_now_ns() - t0;
		if (ret == 0) {
			s->continue_pages += len / psz;
			break;
		}
		done = c.mapped > 0 ? (uint64_t)c.mapped : 0;
		s->continue_pages += done / psz;
		addr += done;
		len -= done;
		/* a partial CONTINUE also says EAGAIN: go on from where it stopped */
		if (errno == EAGAIN && done)
			continue;
		if (errno == EAGAIN) { /* the mm is changing: after its event */
			s->continue_deferred++;
			return pend(t, r, first + (addr - start) / psz, len / psz);
		}
		ret = map_error(t, "UFFDIO_CONTINUE", addr);
		if (ret < 0)
			return -1;
		if (!ret)
			break;
		need_wake = true;
		addr += psz;
		len = len > psz ? len - psz : 0;
	}
	return need_wake ? wake(t, start, n * psz) : 0;
}

int lz_map_filled(struct lz_stats *s, struct lz_task *t, struct lz_vma *r, uint64_t first, uint64_t n)
{
	struct lz_object *o = r->obj;
	uint64_t psz = o->psz, lo = r->off / psz, hi = (r->off + (r->end - r->start)) / psz, p, run;

	lo = lo > first ? lo : first;
	hi = hi < first + n ? hi : first + n;
	for (p = lo; p < hi && !t->gone; p += run) {
		run = 1;
		if (lz_page_state(o, p) != LZ_PAGE_FILLED)
			continue;
		while (p + run < hi && lz_page_state(o, p + run) == LZ_PAGE_FILLED)
			run++;
		if (continue_run(s, t, r, p, run))
			return -1;
	}
	return 0;
}

int lz_map_present(struct lz_stats *s, struct lz_task *t, struct lz_vma *r, uint64_t first, uint64_t n)
{
	uint64_t pos = first, a, b;

	/* a task forked after the restore has no record: its pid is its ancestor's */
	while (lz_present_next(r->obj, t->pid, t->pidfd < 0, &pos, first + n, &a, &b))
		if (lz_map_filled(s, t, r, a, b - a))
			return -1;
	return 0;
}

static void *zero_source(uint64_t len)
{
	if (Z.len >= len)
		return Z.p;
	if (Z.p)
		munmap(Z.p, Z.len);
	Z.p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	Z.len = Z.p == MAP_FAILED ? 0 : len;
	if (Z.p == MAP_FAILED) {
		Z.p = NULL;
		pr_perror("cannot map %" PRIu64 " bytes of zeros", len);
	}
	return Z.p;
}

/* A zero page where the task touched a page that reads as zeros */
static int zero_page(struct lz_stats *s, struct lz_task *t, struct lz_vma *r, uint64_t page)
{
	uint64_t psz = r->obj->psz, addr = page_addr(r, page);
	struct uffdio_zeropage z = { .range = { .start = addr, .len = psz } };
	struct uffdio_copy c = { .dst = addr, .len = psz };
	int ret;

	if (psz == 4096) {
		ret = ioctl(t->uffd, UFFDIO_ZEROPAGE, &z);
	} else {
		/* hugetlbfs has no UFFDIO_ZEROPAGE */
		c.src = (uintptr_t)zero_source(psz);
		if (!c.src)
			return -1;
		ret = ioctl(t->uffd, UFFDIO_COPY, &c);
	}
	if (ret == 0) {
		r->obj->zero_filled++;
		return 0;
	}
	if (errno == EEXIST) /* in the page cache after all */
		return continue_run(s, t, r, page, 1);
	if (errno == EAGAIN) /* it faults again once its mm has settled */
		return wake(t, addr, psz);
	ret = map_error(t, psz == 4096 ? "UFFDIO_ZEROPAGE" : "UFFDIO_COPY", addr);
	return ret < 0 ? -1 : ret ? wake(t, addr, psz) :
				    0;
}

int lz_map_fault(struct lz_stats *s, struct lz_task *t, struct lz_vma *r, uint64_t page, bool zero)
{
	return zero ? zero_page(s, t, r, page) : continue_run(s, t, r, page, 1);
}

int lz_map_retry(struct lz_stats *s, struct lz_task *t)
{
	struct lz_pending *p = t->pend;
	size_t n = t->nr_pend, i, j;
	int ret = 0;

	if (!n)
		return 0;
	t->pend = NULL;
	t->nr_pend = t->cap_pend = 0;
	for (i = 0; i < n && !ret; i++) {
		size_t again = t->nr_pend;

		for (j = 0; j < t->ranges.nr && !ret; j++)
			if (t->ranges.r[j].obj == p[i].obj)
				ret = lz_map_filled(s, t, &t->ranges.r[j], p[i].first, p[i].n);
		/*
		 * What was not mapped now (removed, unmapped or remapped
		 * meanwhile, or refused again) has a thread waiting on the
		 * fault it read: it faults again, and that fault is served.
		 */
		if (!ret && t->nr_pend == again && !t->gone)
			ret = wake(t, p[i].addr, p[i].len);
	}
	free(p);
	return ret;
}

void lz_map_fini(void)
{
	if (Z.p)
		munmap(Z.p, Z.len);
	Z.p = NULL;
	Z.len = 0;
}
