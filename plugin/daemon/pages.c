// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The page-state machine of lazily restored objects (objects.h): claims,
 * the end of a fill, removals, and the waits between threads. A page is
 * written only by the one thread that claimed it (UNFILLED -> FILLING,
 * under the state lock), and is mapped into a task only once FILLED.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>

#include "fill.h"
#include "log.h"
#include "objects.h"
#include "stats.h"

/* Under the state lock (or before the object is shared) */
void lz_page_set(struct lz_object *o, uint64_t i, uint8_t s)
{
	uint8_t old = o->state[i];

	if (old == LZ_PAGE_UNFILLED && s != LZ_PAGE_UNFILLED)
		o->unfilled[i / LZ_BLOCK]--;
	else if (old != LZ_PAGE_UNFILLED && s == LZ_PAGE_UNFILLED)
		o->unfilled[i / LZ_BLOCK]++;
	__atomic_store_n(&o->state[i], s, __ATOMIC_RELEASE);
}

/* Under the state lock: the first UNFILLED page at or after @i, or nr_pages */
static uint64_t next_unfilled(const struct lz_object *o, uint64_t i)
{
	while (i < o->nr_pages) {
		if (!o->unfilled[i / LZ_BLOCK]) {
			i = (i / LZ_BLOCK + 1) * LZ_BLOCK;
			continue;
		}
		if (o->state[i] == LZ_PAGE_UNFILLED)
			return i;
		i++;
	}
	return o->nr_pages;
}

/* Under the state lock: claim the UNFILLED run at first (up to end); its length */
static uint64_t claim_run(struct lz_object *o, uint64_t first, uint64_t end)
{
	uint64_t n = 0;

	while (first + n < end && o->state[first + n] == LZ_PAGE_UNFILLED)
		lz_page_set(o, first + n++, LZ_PAGE_FILLING);
	return n;
}

/* Under the state lock: a page removed while it was being written */
static int drop_written(struct lz_object *o, uint64_t i, bool written)
{
	uint64_t off = i * o->psz, len = o->psz;

	if (off + len > o->size)
		len = o->size - off;
	lz_page_set(o, i, LZ_PAGE_REMOVED);
	o->nr_done++;
	o->removed++;
	if (!written || !fallocate(o->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len)) {
		pr_debug("page %" PRIu64 " of %s %#" PRIx64 " filled during its removal: dropped again\n", i,
			 lz_obj_kind(o), o->shmid);
		return 0;
	}
	pr_perror("cannot drop page %" PRIu64 " of %s %#" PRIx64 " again", i, lz_obj_kind(o),
		  o->shmid);
	return -1;
}

/* Under the state lock: a run just written */
static void note_recent(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n)
{
	if (t->nr_recent == t->cap_recent) {
		size_t cap = t->cap_recent ? t->cap_recent * 2 : 16;
		struct lz_filled *r = realloc(t->recent, cap * sizeof(*r));

		if (!r) {
			t->recent_lost = true;
			return;
		}
		t->recent = r;
		t->cap_recent = cap;
	}
	t->recent[t->nr_recent++] = (struct lz_filled){ .obj = o, .first = first, .n = n };
}

void lz_objects_settled(struct lz_objects *t)
{
	pthread_mutex_lock(&t->state_lock);
	t->nr_recent = 0;
	t->recent_lost = false;
	pthread_mutex_unlock(&t->state_lock);
}

/* Under the state lock: the claimed run is written (ok) or given back */
static int finish_run(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, bool ok, bool fault)
{
	uint64_t i;
	int ret = 0;

	for (i = first; i < first + n; i++) {
		if (o->state[i] == LZ_PAGE_FILLING_REMOVED) {
			ret |= drop_written(o, i, ok);
			continue;
		}
		lz_page_set(o, i, ok ? LZ_PAGE_FILLED : LZ_PAGE_UNFILLED);
		if (!ok)
			continue;
		o->nr_done++;
		if (fault)
			o->filled_fault++;
		else
			o->filled_prefetch++;
	}
	/* a fault's fill is the main thread's, done before it returns */
	if (ok && !fault)
		note_recent(t, o, first, n);
	pthread_cond_broadcast(&t->state_cond);
	return ret;
}

static bool being_filled(const struct lz_object *o, uint64_t i)
{
	return o->state[i] == LZ_PAGE_FILLING || o->state[i] == LZ_PAGE_FILLING_REMOVED;
}

/* Under the state lock: until no page of [first, end) is being filled */
static void wait_filling(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t end)
{
	uint64_t i = first, t0;

	while (i < end) {
		if (!being_filled(o, i)) {
			i++;
			continue;
		}
		t0 = lz_now_ns();
		pthread_cond_wait(&t->state_cond, &t->state_lock);
		t->ns_wait += lz_now_ns() - t0;
		i = first;
	}
}

int lz_object_fill(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, int flags)
{
	uint64_t i = first, end = first + n, run;
	int ret = 0;

	if (end > o->nr_pages)
		end = o->nr_pages;
	pthread_mutex_lock(&t->state_lock);
	if (flags & LZ_FILL_WAIT)
		wait_filling(t, o, first, end);
	while (i < end && !ret) {
		run = claim_run(o, i, end);
		if (!run) {
			i++;
			continue;
		}
		pthread_mutex_unlock(&t->state_lock);
		ret = lz_fill_pages(t, o, i, run, t->filler);
		pthread_mutex_lock(&t->state_lock);
		if (finish_run(t, o, i, run, ret == 0, flags & LZ_FILL_FAULT))
			ret = -1;
		i += run;
	}
	pthread_mutex_unlock(&t->state_lock);
	return ret;
}

uint64_t lz_object_claim(struct lz_objects *t, struct lz_object *o, uint64_t from, uint64_t max, uint64_t *first)
{
	uint64_t i, n = 0;

	pthread_mutex_lock(&t->state_lock);
	i = next_unfilled(o, from);
	if (i < o->nr_pages)
		n = claim_run(o, i, o->nr_pages - i > max ? i + max : o->nr_pages);
	pthread_mutex_unlock(&t->state_lock);
	*first = i;
	return n;
}

uint64_t lz_object_claim_in(struct lz_objects *t, struct lz_object *o, uint64_t at, uint64_t len, uint64_t *first)
{
	uint64_t i, end = at + len < o->nr_pages ? at + len : o->nr_pages, n = 0;

	pthread_mutex_lock(&t->state_lock);
	i = next_unfilled(o, at);
	if (i < end)
		n = claim_run(o, i, end);
	pthread_mutex_unlock(&t->state_lock);
	*first = i;
	return n;
}

int lz_object_fill_claimed(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n,
			   struct lz_filler *f)
{
	int ret = lz_fill_pages(t, o, first, n, f);

	pthread_mutex_lock(&t->state_lock);
	if (finish_run(t, o, first, n, ret == 0, false))
		ret = -1;
	pthread_mutex_unlock(&t->state_lock);
	return ret;
}

int lz_object_fill_span(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t *n, uint64_t end,
			struct lz_filler *f)
{
	uint64_t at, m, last = first + *n;

	if (end > o->nr_pages)
		end = o->nr_pages;
	if (lz_object_fill_claimed(t, o, first, *n, f))
		return -1;
	/* holes, and pages filled or being filled by others, are passed over */
	while (last < end && (m = lz_object_claim_in(t, o, last, end - last, &at))) {
		if (lz_object_fill_claimed(t, o, at, m, f))
			return -1;
		last = at + m;
	}
	*n = last - first;
	return 0;
}

/* Under the state lock: FILLED page @i was written after its hole was punched */
static int drop_filled(struct lz_object *o, uint64_t i)
{
	uint64_t off = i * o->psz, len = o->psz;

	if (off + len > o->size)
		len = o->size - off;
	if (fallocate(o->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len)) {
		pr_perror("cannot drop page %" PRIu64 " of %s %#" PRIx64 " again", i, lz_obj_kind(o), o->shmid);
		return -1;
	}
	lz_page_set(o, i, LZ_PAGE_REMOVED);
	o->removed++;
	pr_debug("page %" PRIu64 " of %s %#" PRIx64 " filled while its removal was on its way: dropped again\n", i,
		 lz_obj_kind(o), o->shmid);
	return 0;
}

/*
 * Under the state lock. The application punches its hole only once
 * lazy-pages has read the REMOVE event (madvise_remove()), so a page of
 * [first, end) filled by another thread since the main thread last returned
 * to lazy-pages may have been written after the punch: drop it again. (For
 * a MADV_DONTNEED taken for a removal, that page then reads zeros, as the
 * unfilled ones do.)
 */
static int drop_recent(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t end)
{
	uint64_t i, lo, hi;
	size_t k;

	if (t->recent_lost) {
		pr_warn("%s %#" PRIx64 ": the fills since the last event are not known: every filled page of the "
			"removed range is dropped\n",
			lz_obj_kind(o), o->shmid);
		for (i = first; i < end; i++)
			if (o->state[i] == LZ_PAGE_FILLED && drop_filled(o, i))
				return -1;
		return 0;
	}
	for (k = 0; k < t->nr_recent; k++) {
		struct lz_filled *r = &t->recent[k];

		if (r->obj != o)
			continue;
		lo = r->first > first ? r->first : first;
		hi = r->first + r->n < end ? r->first + r->n : end;
		for (i = lo; i < hi; i++)
			if (o->state[i] == LZ_PAGE_FILLED && drop_filled(o, i))
				return -1;
	}
	return 0;
}

int lz_object_finish_claimed(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, bool ok,
			     bool fault)
{
	int ret;

	pthread_mutex_lock(&t->state_lock);
	ret = finish_run(t, o, first, n, ok, fault);
	pthread_mutex_unlock(&t->state_lock);
	return ret;
}

int lz_object_remove(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n)
{
	uint64_t i, end = first + n < o->nr_pages ? first + n : o->nr_pages;
	int ret;

	pthread_mutex_lock(&t->state_lock);
	for (i = first; i < end; i++) {
		if (o->state[i] == LZ_PAGE_FILLING) {
			lz_page_set(o, i, LZ_PAGE_FILLING_REMOVED);
			continue;
		}
		if (o->state[i] != LZ_PAGE_UNFILLED)
			continue;
		lz_page_set(o, i, LZ_PAGE_REMOVED);
		o->nr_done++;
		o->removed++;
	}
	/* the writers drop them; later faults must find them REMOVED */
	wait_filling(t, o, first, end);
	ret = drop_recent(t, o, first, end);
	pthread_mutex_unlock(&t->state_lock);
	return ret;
}
