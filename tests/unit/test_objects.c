// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * plugin/objects.c: the daemon's page-state machine on small 4K memfd
 * objects, with synthetic CRIU page images the test writes itself: holes
 * (HOLE from the start, never written nor allocated; an image whose
 * digests have data where CRIU's pagemap has a hole is refused), fills on
 * fault, claims of the prefetch thread, removals of unfilled, filled and
 * being-filled pages (FILLING_REMOVED: the writer drops its write again),
 * fills that wait for another thread, fills that fail (digest mismatch)
 * and give the pages back, an object whose size is not page aligned (it
 * never grows), pages a task wrote through its descriptor first (kept),
 * and the seals applied at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "criu-plugin.h"
#include "pagemap.pb-c.h"

#include "lzimg.h"
#include "objects.h"

#include "criu-img-util.h"
#include "lz-log-stub.h"

#define PG	     4096ULL
#define COMMON_MAGIC 0x54564319u
#define PM_MAGIC     0x56084025u
#define PE_PRESENT   4u
#define SHMID	     7
#define NPAGES	     16
#define ODD_SHMID    9
#define ODD_SIZE     10000ULL
#define BAD_PAGE     3	/* its digest in the lazyshm image is wrong */
#define LOST_SHMID   11 /* its lazyshm image has data where CRIU's pagemap has a hole */

/* Object SHMID: data at pages 0-5, 8-9 and 15, holes elsewhere */
static const struct lz_range data_runs[] = { { 0, 6 }, { 8, 2 }, { 15, 1 } };
#define NR_DATA	 9
#define NR_HOLES (NPAGES - NR_DATA)

struct fixture {
	char dir[64];
	int dfd;
	int fd; /* the object, for the test's own checks */
	struct lz_objects t;
	struct lz_object *o;
};

/* Byte i of the pages image of object @shmid */
static uint8_t pat(uint64_t i, uint64_t shmid)
{
	return (uint8_t)(i * 13 + i / PG + shmid);
}

/* Where object page @p is in the pages image (-1: a hole) */
static int64_t img_page(uint64_t p)
{
	uint64_t k = 0;
	size_t i;

	for (i = 0; i < sizeof(data_runs) / sizeof(data_runs[0]); i++) {
		if (p >= data_runs[i].start && p < data_runs[i].start + data_runs[i].len)
			return k + p - data_runs[i].start;
		k += data_runs[i].len;
	}
	return -1;
}

static void write_pagemap(int dfd, uint64_t shmid, uint32_t pages_id, const struct lz_range *runs, size_t n)
{
	PagemapHead h = PAGEMAP_HEAD__INIT;
	char name[64];
	size_t i;
	int fd;

	snprintf(name, sizeof(name), "pagemap-shmem-%llu.img", (unsigned long long)shmid);
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	put32(fd, COMMON_MAGIC);
	put32(fd, PM_MAGIC);
	h.pages_id = pages_id;
	put_msg(fd, &h.base);
	for (i = 0; i < n; i++) {
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		pe.vaddr = runs[i].start * PG;
		pe.nr_pages = runs[i].len;
		pe.has_flags = 1;
		pe.flags = PE_PRESENT;
		put_msg(fd, &pe.base);
	}
	assert_int_equal(close(fd), 0);
}

static void write_pages(int dfd, uint32_t pages_id, uint64_t npages, uint64_t shmid)
{
	uint8_t *b = malloc(npages * PG);
	char name[64];
	uint64_t i;
	int fd;

	assert_non_null(b);
	for (i = 0; i < npages * PG; i++)
		b[i] = pat(i, shmid);
	snprintf(name, sizeof(name), "pages-%u.img", pages_id);
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, npages * PG), (ssize_t)(npages * PG));
	assert_int_equal(close(fd), 0);
	free(b);
}

/*
 * lazyshm-shmem.img: object SHMID with the right digests except BAD_PAGE's,
 * and object LOST_SHMID with three data pages where CRIU's pagemap has two
 */
static void write_digests(int dfd)
{
	static const struct lz_range lost_runs[] = { { 0, 3 } };
	uint64_t digests[NR_DATA], lost[3] = { 1, 2, 3 }, p;
	uint8_t page[PG];
	size_t k = 0, i;
	char err[LZIMG_ERRLEN];
	struct lz_obj_spec spec[2] = { { .shmid = SHMID,
					 .kind = LZ_KIND_MEMFD,
					 .page_size = PG,
					 .size = NPAGES * PG,
					 .nr_pages = NPAGES,
					 .nr_data_pages = NR_DATA,
					 .nr_runs = 3,
					 .runs = data_runs,
					 .nr_digests = NR_DATA,
					 .digests = digests },
				       { .shmid = LOST_SHMID,
					 .kind = LZ_KIND_MEMFD,
					 .page_size = PG,
					 .size = 3 * PG,
					 .nr_pages = 3,
					 .nr_data_pages = 3,
					 .nr_runs = 1,
					 .runs = lost_runs,
					 .nr_digests = 3,
					 .digests = lost } };

	for (p = 0; p < NPAGES; p++) {
		if (img_page(p) < 0)
			continue;
		for (i = 0; i < PG; i++)
			page[i] = pat(img_page(p) * PG + i, SHMID);
		digests[k++] = lz_digest(page, PG) ^ (p == BAD_PAGE);
	}
	if (lzimg_write(dfd, spec, 2, err, sizeof(err)))
		fail_msg("lzimg_write: %s", err);
}

/* A memfd of @size bytes offered as object @shmid; f->fd keeps a descriptor of it */
/* A memfd of @size bytes (*fd: a descriptor of it, or -1) offered as object @shmid: 0, or -1 with @err */
static int offer(struct fixture *f, uint64_t shmid, uint64_t size, unsigned int seals, unsigned int flags, int *fd,
		 char *err, size_t len)
{
	struct lz_object_desc d = { .shmid = shmid, .size = size, .kind = CR_SHMEM_MEMFD, .seals = seals, .flags = flags };
	int mfd = memfd_create("test-objects", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, size), 0);
	*fd = dup(mfd);
	assert_true(*fd >= 0);
	struct lz_object *o;

	return lz_objects_add(&f->t, mfd, &d, f->dfd, err, len, &o);
}

static void add_object_flags(struct fixture *f, uint64_t shmid, uint64_t size, unsigned int seals, unsigned int flags)
{
	char err[256] = "";

	if (offer(f, shmid, size, seals, flags, &f->fd, err, sizeof(err)))
		fail_msg("lz_objects_add: %s", err);
	f->o = lz_objects_get(&f->t, lz_objects_count(&f->t) - 1);
	assert_non_null(f->o);
}

static void add_object(struct fixture *f, uint64_t shmid, uint64_t size, unsigned int seals)
{
	add_object_flags(f, shmid, size, seals, 0);
}

static int setup_common(void **state, bool validate)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/lzobj-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->dfd >= 0);
	write_pagemap(f->dfd, SHMID, 1, data_runs, 3);
	write_pages(f->dfd, 1, NR_DATA, SHMID);
	write_pagemap(f->dfd, ODD_SHMID, 2, (const struct lz_range[]){ { 0, 3 } }, 1);
	write_pages(f->dfd, 2, 3, ODD_SHMID);
	write_pagemap(f->dfd, LOST_SHMID, 3, (const struct lz_range[]){ { 0, 2 } }, 1);
	write_pages(f->dfd, 3, 2, LOST_SHMID);
	if (validate)
		write_digests(f->dfd);
	lz_log_reset();
	assert_int_equal(lz_objects_init(&f->t, f->dfd, validate), 0);
	add_object(f, SHMID, NPAGES * PG, 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, false);
}

static int setup_validate(void **state)
{
	return setup_common(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "pagemap-shmem-7.img", "pages-1.img", "pagemap-shmem-9.img", "pages-2.img",
				"pagemap-shmem-11.img", "pages-3.img", LZIMG_FILE };
	size_t i;

	lz_objects_fini(&f->t);
	close(f->fd);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlinkat(f->dfd, names[i], 0);
	close(f->dfd);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

/* Page @p of the object holds what the image says (zeros for a hole) */
static void expect_content(struct fixture *f, uint64_t shmid, uint64_t p, uint64_t bytes)
{
	uint8_t buf[PG];
	int64_t k = shmid == SHMID ? img_page(p) : (int64_t)p;
	uint64_t i;

	assert_int_equal(pread(f->fd, buf, bytes, p * PG), (ssize_t)bytes);
	for (i = 0; i < bytes; i++)
		if (buf[i] != (k < 0 ? 0 : pat(k * PG + i, shmid)))
			fail_msg("object %llu page %llu byte %llu: %#x", (unsigned long long)shmid,
				 (unsigned long long)p, (unsigned long long)i, buf[i]);
}

/* Page @p reads zeros */
static void expect_zero(struct fixture *f, uint64_t p)
{
	uint8_t buf[PG], zero[PG] = { 0 };

	assert_int_equal(pread(f->fd, buf, PG, p * PG), (ssize_t)PG);
	assert_memory_equal(buf, zero, PG);
}

/* How many pages the object has in memory (written or fallocate()d) */
static uint64_t nr_allocated(struct fixture *f)
{
	struct stat st;

	assert_int_equal(fstat(f->fd, &st), 0);
	return st.st_blocks * 512 / PG;
}

static void expect_states(struct lz_object *o, uint64_t first, uint64_t n, int state)
{
	uint64_t i;

	for (i = first; i < first + n; i++)
		if (lz_page_state(o, i) != state)
			fail_msg("page %llu is in state %d, not %d", (unsigned long long)i, lz_page_state(o, i), state);
}

/* The states of object SHMID when nothing was filled: UNFILLED data, HOLE elsewhere */
static void expect_initial(struct lz_object *o, uint64_t first, uint64_t n)
{
	uint64_t p;

	for (p = first; p < first + n; p++)
		expect_states(o, p, 1, img_page(p) < 0 ? LZ_PAGE_HOLE : LZ_PAGE_UNFILLED);
}

static void test_add(void **state)
{
	struct fixture *f = *state;
	struct lz_object_desc d = { .shmid = SHMID, .size = PG, .kind = CR_SHMEM_MEMFD };
	char err[256] = "";
	struct stat st;
	struct lz_object *o;
	int fd;

	assert_int_equal(f->o->nr_pages, NPAGES);
	assert_int_equal(f->o->psz, PG);
	assert_int_equal(f->o->size, NPAGES * PG);
	/* holes are known from the start, done, and never allocated */
	expect_initial(f->o, 0, NPAGES);
	assert_int_equal(f->o->holes, NR_HOLES);
	assert_int_equal(f->o->nr_done, NR_HOLES);
	assert_int_equal(nr_allocated(f), 0);
	assert_true(lz_log_has("no lazyshm image in the images directory"));
	assert_true(lz_log_has("object memfd 0x7: 65536 bytes in 16 pages of 4096"));
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_ptr_equal(lz_objects_find(&f->t, st.st_dev, st.st_ino), f->o);
	assert_null(lz_objects_find(&f->t, st.st_dev, st.st_ino + 1));
	/* a second object with the same shmid is refused, and its fd closed */
	fd = memfd_create("second", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, PG), 0);
	assert_int_equal(lz_objects_add(&f->t, fd, &d, f->dfd, err, sizeof(err), &o), -1);
	assert_non_null(strstr(err, "was offered already"));
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(lz_objects_count(&f->t), 1);
	/* an object without page images is refused, naming them */
	d.shmid = 1234;
	fd = memfd_create("no-images", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, PG), 0);
	assert_int_equal(lz_objects_add(&f->t, fd, &d, f->dfd, err, sizeof(err), &o), -1);
	assert_non_null(strstr(err, "pagemap-shmem-1234.img"));
}

static void test_fill_fault(void **state)
{
	struct fixture *f = *state;
	uint64_t p;

	assert_int_equal(lz_object_fill(&f->t, f->o, 2, 3, LZ_FILL_FAULT), 0);
	expect_states(f->o, 2, 3, LZ_PAGE_FILLED);
	expect_initial(f->o, 0, 2);
	expect_initial(f->o, 5, NPAGES - 5);
	for (p = 2; p < 5; p++)
		expect_content(f, SHMID, p, PG);
	assert_int_equal(nr_allocated(f), 3);
	assert_int_equal(f->o->filled_fault, 3);
	assert_int_equal(f->o->nr_done, NR_HOLES + 3);
	/* a hole is never written: it stays a hole, unallocated */
	assert_int_equal(lz_object_fill(&f->t, f->o, 6, 1, LZ_FILL_FAULT), 0);
	expect_states(f->o, 6, 1, LZ_PAGE_HOLE);
	assert_int_equal(nr_allocated(f), 3);
	/* filled pages are never written again; only page 5 is left in 2-6 */
	assert_int_equal(lz_object_fill(&f->t, f->o, 2, 5, LZ_FILL_FAULT), 0);
	assert_int_equal(f->o->filled_fault, 4);
	/* a range beyond the object is clipped */
	assert_int_equal(lz_object_fill(&f->t, f->o, 14, 100, 0), 0);
	expect_states(f->o, 14, 1, LZ_PAGE_HOLE);
	expect_states(f->o, 15, 1, LZ_PAGE_FILLED);
	expect_content(f, SHMID, 15, PG);
	assert_int_equal(f->o->filled_prefetch, 1);
	assert_int_equal(f->o->nr_done, NR_HOLES + 5);
	assert_int_equal(nr_allocated(f), 5);
	expect_zero(f, 6);
}

static void test_claim(void **state)
{
	struct fixture *f = *state;
	uint64_t first = 99, n, p;

	n = lz_object_claim(&f->t, f->o, 0, 4, &first);
	assert_int_equal(n, 4);
	assert_int_equal(first, 0);
	expect_states(f->o, 0, 4, LZ_PAGE_FILLING);
	/* claimed pages are not claimed again; a claim stops at a hole */
	n = lz_object_claim(&f->t, f->o, 0, 4, &first);
	assert_int_equal(first, 4);
	assert_int_equal(n, 2);
	/* a fill without LZ_FILL_WAIT skips what another thread is filling */
	assert_int_equal(lz_object_fill(&f->t, f->o, 0, 9, LZ_FILL_FAULT), 0);
	expect_states(f->o, 0, 6, LZ_PAGE_FILLING);
	expect_states(f->o, 6, 2, LZ_PAGE_HOLE);
	expect_states(f->o, 8, 1, LZ_PAGE_FILLED);
	assert_int_equal(nr_allocated(f), 1);
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, 0, 4, f->t.filler), 0);
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, 4, 2, f->t.filler), 0);
	expect_states(f->o, 0, 6, LZ_PAGE_FILLED);
	for (p = 0; p < 9; p++)
		expect_content(f, SHMID, p, PG);
	assert_int_equal(f->o->filled_prefetch, 6);
	assert_int_equal(f->o->filled_fault, 1);
	/* claims skip holes */
	n = lz_object_claim(&f->t, f->o, 9, 100, &first);
	assert_int_equal(first, 9);
	assert_int_equal(n, 1);
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, 9, n, f->t.filler), 0);
	n = lz_object_claim(&f->t, f->o, 10, 100, &first);
	assert_int_equal(first, 15);
	assert_int_equal(n, 1);
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, 15, n, f->t.filler), 0);
	/* nothing left */
	assert_int_equal(lz_object_claim(&f->t, f->o, 0, 4, &first), 0);
	assert_int_equal(first, NPAGES);
	assert_int_equal(f->o->nr_done, NPAGES);
	assert_int_equal(nr_allocated(f), NR_DATA);
}

/* A prefetch span goes across holes and pages filled by others, never into them */
static void test_fill_span(void **state)
{
	struct fixture *f = *state;
	uint64_t first = 99, n, p;

	/* page 9 is another thread's, page 1 is filled on fault */
	assert_int_equal(lz_object_claim(&f->t, f->o, 9, 1, &first), 1);
	assert_int_equal(lz_object_fill(&f->t, f->o, 1, 1, LZ_FILL_FAULT), 0);
	n = lz_object_claim(&f->t, f->o, 0, NPAGES, &first);
	assert_int_equal(first, 0);
	assert_int_equal(n, 1); /* the claim itself stops at page 1 */
	assert_int_equal(lz_object_fill_span(&f->t, f->o, first, &n, NPAGES, f->t.filler), 0);
	/* one span to the last page it filled, over the holes at 6-7 and 10-14 */
	assert_int_equal(n, NPAGES);
	expect_states(f->o, 0, 6, LZ_PAGE_FILLED);
	expect_states(f->o, 6, 2, LZ_PAGE_HOLE);
	expect_states(f->o, 8, 1, LZ_PAGE_FILLED);
	expect_states(f->o, 9, 1, LZ_PAGE_FILLING);
	expect_states(f->o, 10, 5, LZ_PAGE_HOLE);
	expect_states(f->o, 15, 1, LZ_PAGE_FILLED);
	assert_int_equal(f->o->filled_fault, 1);
	assert_int_equal(f->o->filled_prefetch, 7);
	/* holes stay unallocated, the other thread's page unwritten */
	assert_int_equal(nr_allocated(f), NR_DATA - 1);
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, 9, 1, f->t.filler), 0);
	for (p = 0; p < NPAGES; p++)
		expect_content(f, SHMID, p, PG);
	assert_int_equal(f->o->nr_done, NPAGES);
}

/* A span ends at its end */
static void test_fill_span_end(void **state)
{
	struct fixture *f = *state;
	uint64_t first = 99, n;

	assert_int_equal(lz_object_claim(&f->t, f->o, 0, 2, &first), 2);
	n = 2;
	assert_int_equal(lz_object_fill_span(&f->t, f->o, 0, &n, 9, f->t.filler), 0);
	assert_int_equal(n, 9);
	expect_states(f->o, 0, 6, LZ_PAGE_FILLED);
	expect_states(f->o, 8, 1, LZ_PAGE_FILLED);
	expect_states(f->o, 9, 1, LZ_PAGE_UNFILLED);
	expect_states(f->o, 15, 1, LZ_PAGE_UNFILLED);
	assert_int_equal(nr_allocated(f), 7);
}

static void test_remove(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(lz_object_fill(&f->t, f->o, 0, 2, LZ_FILL_FAULT), 0);
	assert_int_equal(lz_object_remove(&f->t, f->o, 0, 4), 0);
	/* filled pages are the application's: a removal leaves their state alone */
	expect_states(f->o, 0, 2, LZ_PAGE_FILLED);
	expect_states(f->o, 2, 2, LZ_PAGE_REMOVED);
	assert_int_equal(f->o->removed, 2);
	assert_int_equal(f->o->nr_done, NR_HOLES + 4);
	/* removed pages are never filled: they stay zero, and unallocated */
	assert_int_equal(lz_object_fill(&f->t, f->o, 0, 4, LZ_FILL_FAULT | LZ_FILL_WAIT), 0);
	expect_states(f->o, 2, 2, LZ_PAGE_REMOVED);
	assert_int_equal(nr_allocated(f), 2);
	assert_int_equal(f->o->filled_fault, 2);
	assert_true(lz_page_zero(LZ_PAGE_REMOVED));
	assert_true(lz_page_zero(LZ_PAGE_HOLE));
	assert_false(lz_page_zero(LZ_PAGE_FILLED));
	/* holes stay holes: nothing to remove there */
	assert_int_equal(lz_object_remove(&f->t, f->o, 6, 2), 0);
	expect_states(f->o, 6, 2, LZ_PAGE_HOLE);
	assert_int_equal(f->o->removed, 2);
	/* a removal past the end is clipped */
	assert_int_equal(lz_object_remove(&f->t, f->o, 14, 10), 0);
	expect_states(f->o, 14, 1, LZ_PAGE_HOLE);
	expect_states(f->o, 15, 1, LZ_PAGE_REMOVED);
	assert_int_equal(f->o->removed, 3);
	assert_int_equal(f->o->nr_done, NR_HOLES + 5);
}

/*
 * A page the prefetch thread wrote since the main thread last returned to
 * lazy-pages may have landed in a hole the application punched before the
 * REMOVE event came: the removal drops it again. What was there before the
 * main thread returned (lz_objects_settled) is the application's.
 */
static void test_remove_after_recent_fill(void **state)
{
	struct fixture *f = *state;
	uint64_t first, n;

	n = lz_object_claim(&f->t, f->o, 0, 2, &first);
	assert_int_equal(n, 2);
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, first, n, f->t.filler), 0);
	lz_objects_settled(&f->t);
	n = lz_object_claim(&f->t, f->o, 2, 2, &first);
	assert_int_equal(n, 2);
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, first, n, f->t.filler), 0);
	assert_int_equal(nr_allocated(f), 4);
	assert_int_equal(lz_object_remove(&f->t, f->o, 0, 4), 0);
	expect_states(f->o, 0, 2, LZ_PAGE_FILLED);
	expect_states(f->o, 2, 2, LZ_PAGE_REMOVED);
	assert_int_equal(nr_allocated(f), 2);
	assert_int_equal(f->o->removed, 2);
	assert_int_equal(f->o->nr_done, NR_HOLES + 4);
	expect_content(f, SHMID, 0, PG);
}

struct bg {
	pthread_t th;
	struct fixture *f;
	uint64_t first, n;
	int flags, ret;
	int done; /* atomic */
};

static void *bg_remove(void *arg)
{
	struct bg *b = arg;

	b->ret = lz_object_remove(&b->f->t, b->f->o, b->first, b->n);
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *bg_fill(void *arg)
{
	struct bg *b = arg;

	b->ret = lz_object_fill(&b->f->t, b->f->o, b->first, b->n, b->flags);
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait (up to 5 s) until page @p is in @state */
static void wait_state(struct lz_object *o, uint64_t p, int state)
{
	int i;

	for (i = 0; i < 500 && lz_page_state(o, p) != state; i++)
		sleep_ms(10);
	assert_int_equal(lz_page_state(o, p), state);
}

static void test_filling_removed(void **state)
{
	struct fixture *f = *state;
	struct bg b = { .f = f, .first = 1, .n = 2 };
	uint64_t first;

	/* the prefetch thread has claimed 0-3; the application removes 1-2 */
	assert_int_equal(lz_object_claim(&f->t, f->o, 0, 4, &first), 4);
	assert_int_equal(pthread_create(&b.th, NULL, bg_remove, &b), 0);
	wait_state(f->o, 1, LZ_PAGE_FILLING_REMOVED);
	wait_state(f->o, 2, LZ_PAGE_FILLING_REMOVED);
	expect_states(f->o, 0, 1, LZ_PAGE_FILLING);
	expect_states(f->o, 3, 1, LZ_PAGE_FILLING);
	/* the removal is answered only once the writer has dropped them */
	sleep_ms(100);
	assert_int_equal(__atomic_load_n(&b.done, __ATOMIC_ACQUIRE), 0);
	/* the write lands after the kernel's removal: dropped again */
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, 0, 4, f->t.filler), 0);
	assert_int_equal(pthread_join(b.th, NULL), 0);
	assert_int_equal(b.ret, 0);
	expect_states(f->o, 0, 1, LZ_PAGE_FILLED);
	expect_states(f->o, 1, 2, LZ_PAGE_REMOVED);
	expect_states(f->o, 3, 1, LZ_PAGE_FILLED);
	assert_int_equal(nr_allocated(f), 2); /* 1 and 2 punched again */
	expect_zero(f, 1);
	expect_zero(f, 2);
	expect_content(f, SHMID, 0, PG);
	expect_content(f, SHMID, 3, PG);
	assert_true(lz_log_has("filled during its removal: dropped again"));
	assert_int_equal(f->o->removed, 2);
	assert_int_equal(f->o->filled_prefetch, 2);
	assert_int_equal(f->o->nr_done, NR_HOLES + 4);
}

static void test_fill_waits(void **state)
{
	struct fixture *f = *state;
	struct bg b = { .f = f, .first = 5, .n = 1, .flags = LZ_FILL_FAULT | LZ_FILL_WAIT };
	uint64_t first;

	assert_int_equal(lz_object_claim(&f->t, f->o, 5, 1, &first), 1);
	/* a fault on a page being filled waits for it */
	assert_int_equal(pthread_create(&b.th, NULL, bg_fill, &b), 0);
	sleep_ms(100);
	assert_int_equal(__atomic_load_n(&b.done, __ATOMIC_ACQUIRE), 0);
	expect_states(f->o, 5, 1, LZ_PAGE_FILLING);
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, 5, 1, f->t.filler), 0);
	assert_int_equal(pthread_join(b.th, NULL), 0);
	assert_int_equal(b.ret, 0);
	expect_states(f->o, 5, 1, LZ_PAGE_FILLED);
	expect_content(f, SHMID, 5, PG);
	/* filled once, by the one that claimed it */
	assert_int_equal(f->o->filled_prefetch, 1);
	assert_int_equal(f->o->filled_fault, 0);
}

static void test_failed_fill(void **state)
{
	struct fixture *f = *state;
	struct bg b = { .f = f, .first = BAD_PAGE, .n = 1 };
	uint64_t first;

	assert_non_null(f->o->digests);
	/* a page that does not match its digest is never mapped: back to UNFILLED */
	assert_int_equal(lz_object_fill(&f->t, f->o, BAD_PAGE, 1, LZ_FILL_FAULT), -1);
	expect_states(f->o, BAD_PAGE, 1, LZ_PAGE_UNFILLED);
	assert_true(lz_log_has("digest mismatch"));
	assert_int_equal(f->o->nr_done, NR_HOLES);
	/* its neighbours are fine */
	assert_int_equal(lz_object_fill(&f->t, f->o, 0, BAD_PAGE, LZ_FILL_FAULT), 0);
	expect_states(f->o, 0, BAD_PAGE, LZ_PAGE_FILLED);
	/* the prefetch thread's failure gives its claim back too */
	assert_int_equal(lz_object_claim(&f->t, f->o, BAD_PAGE, 1, &first), 1);
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, BAD_PAGE, 1, f->t.filler), -1);
	expect_states(f->o, BAD_PAGE, 1, LZ_PAGE_UNFILLED);
	/* removed while a failing fill held it: removed, nothing to drop */
	assert_int_equal(lz_object_claim(&f->t, f->o, BAD_PAGE, 1, &first), 1);
	assert_int_equal(pthread_create(&b.th, NULL, bg_remove, &b), 0);
	wait_state(f->o, BAD_PAGE, LZ_PAGE_FILLING_REMOVED);
	assert_int_equal(lz_object_fill_claimed(&f->t, f->o, BAD_PAGE, 1, f->t.filler), -1);
	assert_int_equal(pthread_join(b.th, NULL), 0);
	expect_states(f->o, BAD_PAGE, 1, LZ_PAGE_REMOVED);
	assert_int_equal(f->o->removed, 1);
	assert_int_equal(f->o->filled_fault, BAD_PAGE);
}

static void test_odd_size(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	close(f->fd);
	add_object(f, ODD_SHMID, ODD_SIZE, 0);
	assert_int_equal(f->o->nr_pages, 3);
	assert_int_equal(lz_object_fill(&f->t, f->o, 0, 3, LZ_FILL_FAULT), 0);
	expect_states(f->o, 0, 3, LZ_PAGE_FILLED);
	expect_content(f, ODD_SHMID, 0, PG);
	expect_content(f, ODD_SHMID, 2, ODD_SIZE - 2 * PG);
	/* the image has the whole last page: the object must not grow to it */
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, ODD_SIZE);
	assert_int_equal(lz_object_fill(&f->t, f->o, 2, 5, LZ_FILL_FAULT | LZ_FILL_WAIT), 0);
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_size, ODD_SIZE);
}

static void test_lost_data(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	int fd;

	/* the digests say page 2 had data, CRIU's pagemap says hole: refused, not zero-filled */
	assert_int_equal(offer(f, LOST_SHMID, 3 * PG, 0, 0, &fd, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "page 2 has data in the lazyshm image but none in CRIU's pagemap"));
	close(fd);
	assert_int_equal(lz_objects_count(&f->t), 1);
}

static void test_fd_written(void **state)
{
	struct fixture *f = *state;
	uint8_t mine[PG], buf[PG];

	/* a task holds it open and wrote page 1 through the descriptor first */
	close(f->fd);
	add_object_flags(f, ODD_SHMID, ODD_SIZE, 0, LZ_OBJ_FD_REACHABLE);
	memset(mine, 0xa5, sizeof(mine));
	assert_int_equal(pwrite(f->fd, mine, PG, PG), (ssize_t)PG);
	assert_int_equal(lz_object_fill(&f->t, f->o, 0, 3, LZ_FILL_FAULT), 0);
	expect_states(f->o, 0, 3, LZ_PAGE_FILLED);
	/* the application's page is kept, the others come from the images */
	assert_int_equal(pread(f->fd, buf, PG, PG), (ssize_t)PG);
	assert_memory_equal(buf, mine, PG);
	expect_content(f, ODD_SHMID, 0, PG);
	expect_content(f, ODD_SHMID, 2, ODD_SIZE - 2 * PG);
	assert_int_equal(f->o->app_written, 1);
}

static void test_seal(void **state)
{
	struct fixture *f = *state;
	unsigned int seals = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;

	close(f->fd);
	add_object(f, ODD_SHMID, ODD_SIZE, seals);
	assert_int_equal(fcntl(f->fd, F_GET_SEALS), 0);
	assert_int_equal(lz_object_fill(&f->t, f->o, 0, 3, 0), 0);
	lz_objects_seal(&f->t);
	assert_int_equal(fcntl(f->fd, F_GET_SEALS), (int)seals);
	assert_true(lz_log_has("seals 0xe applied"));
	/* the first object has none: left alone */
	assert_int_equal(fcntl(lz_objects_get(&f->t, 0)->fd, F_GET_SEALS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_span, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_span_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_after_recent_fill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filling_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_fill, setup_validate, teardown),
		cmocka_unit_test_setup_teardown(test_odd_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_data, setup_validate, teardown),
		cmocka_unit_test_setup_teardown(test_fd_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
