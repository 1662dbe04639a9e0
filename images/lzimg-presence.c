// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dump side: turn the page-table presence the plugin read from each frozen
 * task (4096-byte units of object offset, per task and shmid) into each
 * object's presence records (page_size units, one per task, merged and
 * clipped to the object), as lazyshm-shmem.img stores them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lzimg-int.h"
#include "lzimg.h"

static int cmp_input(const void *a, const void *b)
{
	const struct lz_task_presence *x = *(const struct lz_task_presence *const *)a;
	const struct lz_task_presence *y = *(const struct lz_task_presence *const *)b;

	if (x->shmid != y->shmid)
		return x->shmid < y->shmid ? -1 : 1;
	return x->task < y->task ? -1 : x->task > y->task;
}

static int cmp_range(const void *a, const void *b)
{
	const struct lz_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Runs [r, r+n) in 4K units into page units of @ps inside @nr_pages, sorted
 * and merged in place (overlapping or adjacent runs become one): the count */
static size_t to_pages(struct lz_range *r, size_t n, uint64_t ps, uint64_t nr_pages)
{
	uint64_t per = ps / 4096, s, e;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		s = r[i].start / per;
		e = r[i].len > UINT64_MAX - r[i].start ? UINT64_MAX / per : (r[i].start + r[i].len + per - 1) / per;
		e = e < nr_pages ? e : nr_pages;
		if (s < e)
			r[k++] = (struct lz_range){ .start = s, .len = e - s };
	}
	if (k > 1)
		qsort(r, k, sizeof(*r), cmp_range);
	for (i = 1, n = k, k = n ? 1 : 0; i < n; i++) {
		struct lz_range *last = &r[k - 1];

		if (r[i].start <= last->start + last->len) {
			e = r[i].start + r[i].len;
			if (e > last->start + last->len)
				last->len = e - last->start;
		} else {
			r[k++] = r[i];
		}
	}
	return k;
}

/* The inputs [in[i], in[j]) share o's shmid: one record per task into b */
static void attach_one(struct lz_obj_spec *o, const struct lz_task_presence **in, size_t i, size_t j,
		       struct lz_presence_build *b)
{
	struct lz_presence *first = &b->recs[b->nr_recs];
	size_t k, n;

	o->presence = first;
	o->nr_presence = 0;
	while (i < j) {
		struct lz_range *runs = &b->runs[b->nr_runs];
		uint32_t task = in[i]->task;

		for (n = 0; i < j && in[i]->task == task; i++) {
			for (k = 0; k < in[i]->nr_runs; k++)
				runs[n++] = in[i]->runs[k];
		}
		n = to_pages(runs, n, o->page_size, o->nr_pages);
		b->recs[b->nr_recs++] = (struct lz_presence){ .task = task, .nr_runs = n, .runs = n ? runs : NULL };
		b->nr_runs += n;
		o->nr_presence++;
	}
}

static size_t upper(const struct lz_task_presence **in, size_t n, uint64_t shmid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (in[mid]->shmid <= shmid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t lower(const struct lz_task_presence **in, size_t n, uint64_t shmid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (in[mid]->shmid < shmid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int lz_presence_attach(struct lz_obj_spec *objs, size_t nr, const struct lz_task_presence *in, size_t nin,
		       struct lz_presence_build *b, char *err, size_t errlen)
{
	const struct lz_task_presence **sorted;
	size_t i, runs = 0;

	memset(b, 0, sizeof(*b));
	if (!nin)
		return 0;
	for (i = 0; i < nin; i++) {
		if (in[i].nr_runs > SIZE_MAX / sizeof(struct lz_range) - runs - 1)
			return lz_seterr(err, errlen, EOVERFLOW, "presence records: too many runs");
		runs += in[i].nr_runs;
	}
	sorted = calloc(nin, sizeof(*sorted));
	b->recs = calloc(nin, sizeof(*b->recs));
	b->runs = calloc(runs + 1, sizeof(*b->runs));
	if (!sorted || !b->recs || !b->runs) {
		free(sorted);
		lz_presence_free(b);
		return lz_seterr(err, errlen, ENOMEM, "presence records: no memory for %zu runs", runs);
	}
	for (i = 0; i < nin; i++)
		sorted[i] = &in[i];
	qsort(sorted, nin, sizeof(*sorted), cmp_input);
	for (i = 0; i < nr; i++) {
		size_t lo = lower(sorted, nin, objs[i].shmid), hi = upper(sorted, nin, objs[i].shmid);

		if (lo < hi && objs[i].page_size >= 4096 && !objs[i].nr_presence)
			attach_one(&objs[i], sorted, lo, hi, b);
	}
	free(sorted);
	return 0;
}

void lz_presence_free(struct lz_presence_build *b)
{
	free(b->recs);
	free(b->runs);
	memset(b, 0, sizeof(*b));
}
