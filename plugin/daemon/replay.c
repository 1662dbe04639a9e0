// SPDX-License-Identifier: GPL-2.0-or-later
/* Working-set replay; see replay.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "lzimg.h"
#include "replay.h"

int lz_replay_init(struct lz_replay *r, int imgdir, int mode)
{
	char err[LZIMG_ERRLEN];
	int ret;

	memset(r, 0, sizeof(*r));
	r->mode = mode;
	if (mode == LZ_REPLAY_OFF)
		return 0;
	r->record = true;
	if (mode == LZ_REPLAY_RECORD)
		return 0;
	ret = lzimg_load_file(imgdir, LZIMG_ACCESS_FILE, &r->img, err, sizeof(err));
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		/* a working set only orders the prefetch: a bad one is not fatal */
		pr_warn("%s; the prefetch follows the faults and the images instead\n", err);
		r->img = NULL;
		return 0;
	}
	r->record = false;
	pr_info("replaying the working set of %s: %zu objects\n", LZIMG_ACCESS_FILE, lzimg_nr_objs(r->img));
	return 0;
}

void lz_replay_fini(struct lz_replay *r)
{
	if (r->img)
		lzimg_free(r->img);
	r->img = NULL;
}

static int attach_ws(struct lz_object *o, const struct lz_obj *w)
{
	uint64_t sum = 0;
	size_t i;

	if (w->page_size != o->psz || w->nr_pages != o->nr_pages || w->hint_kind != LZ_HINT_ACCESS_ORDER) {
		pr_warn("%s %#" PRIx64 ": the recorded working set does not fit it: not replayed\n", lz_obj_kind(o),
			o->shmid);
		return 0;
	}
	o->ws_end = calloc(w->nr_hint ? w->nr_hint : 1, sizeof(*o->ws_end));
	if (!o->ws_end)
		return -1;
	for (i = 0; i < w->nr_hint; i++)
		o->ws_end[i] = sum += w->hint[i].len;
	o->ws = w->hint;
	/* last: prefetch threads may already see the object (lz_replay_next) */
	__atomic_store_n(&o->nr_ws, w->nr_hint, __ATOMIC_RELEASE);
	return 0;
}

bool lz_replay_exact(const struct lz_replay *r)
{
	return r->mode == LZ_REPLAY_RECORD;
}

bool lz_replay_has_ws(const struct lz_replay *r)
{
	return r->img != NULL;
}

void lz_replay_attach(struct lz_replay *r, struct lz_object *o)
{
	const struct lz_obj *w = r->img ? lzimg_find(r->img, o->shmid) : NULL;

	/* only the order of the prefetch depends on it: without memory, none */
	if (w && attach_ws(o, w))
		pr_warn("%s %#" PRIx64 ": no memory to replay its working set\n", lz_obj_kind(o), o->shmid);
	if (r->record && !(o->faulted = calloc(o->nr_pages / 8 + 1, 1)))
		pr_warn("%s %#" PRIx64 ": no memory to record its working set\n", lz_obj_kind(o), o->shmid);
}

void lz_replay_fault(struct lz_replay *r, struct lz_object *o, uint64_t page)
{
	struct lz_range *n, *last = o->nr_rec ? &o->rec[o->nr_rec - 1] : NULL;

	if (!o->faulted || (o->faulted[page / 8] & (1 << (page % 8))))
		return;
	o->faulted[page / 8] |= 1 << (page % 8);
	if (last && last->start + last->len == page) {
		last->len++;
		return;
	}
	if (o->nr_rec == o->cap_rec) {
		n = realloc(o->rec, (o->cap_rec ? o->cap_rec * 2 : 64) * sizeof(*n));
		if (!n)
			return; /* the working set stays shorter */
		o->rec = n;
		o->cap_rec = o->cap_rec ? o->cap_rec * 2 : 64;
	}
	o->rec[o->nr_rec++] = (struct lz_range){ .start = page, .len = 1 };
}

/* The run of the working set (of @nr runs) that holds position @pos */
static size_t run_at(const struct lz_object *o, size_t nr, uint64_t pos)
{
	size_t lo = 0, hi = nr, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (o->ws_end[mid] <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool lz_replay_done(const struct lz_object *o)
{
	size_t nr = __atomic_load_n(&o->nr_ws, __ATOMIC_ACQUIRE);

	return !nr || __atomic_load_n(&o->ws_pos, __ATOMIC_ACQUIRE) >= o->ws_end[nr - 1];
}

uint64_t lz_replay_next(struct lz_object *o, uint64_t max, uint64_t *first)
{
	size_t run, nr = __atomic_load_n(&o->nr_ws, __ATOMIC_ACQUIRE);
	uint64_t total = nr ? o->ws_end[nr - 1] : 0, pos, len;

	pos = __atomic_load_n(&o->ws_pos, __ATOMIC_ACQUIRE);
	do {
		if (pos >= total)
			return 0;
		run = run_at(o, nr, pos);
		/* a stretch stops at its run's end; the next call takes the next run */
		len = o->ws_end[run] - pos < max ? o->ws_end[run] - pos : max;
	} while (!__atomic_compare_exchange_n(&o->ws_pos, &pos, pos + len, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	*first = o->ws[run].start + (pos - (o->ws_end[run] - o->ws[run].len));
	return len;
}

/* The recorded working set of @o as an object of the access image */
static void to_spec(const struct lz_object *o, struct lz_obj_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->shmid = o->shmid;
	s->kind = lz_kind_of(o->kind, o->psz);
	if (o->digests)
		s->kind = o->digests->kind;
	s->page_size = o->psz;
	s->size = o->size;
	s->nr_pages = o->nr_pages;
	s->hint_kind = LZ_HINT_ACCESS_ORDER;
	s->nr_hint = o->nr_rec;
	s->hint = o->rec;
}

int lz_replay_write(struct lz_replay *r, struct lz_objects *objs, int imgdir)
{
	size_t i, n = 0, nr = lz_objects_count(objs);
	char err[LZIMG_ERRLEN];
	struct lz_obj_spec *s;
	int ret;

	if (!r->record)
		return 0;
	s = calloc(nr ? nr : 1, sizeof(*s));
	if (!s)
		return -1;
	for (i = 0; i < nr; i++) {
		struct lz_object *o = lz_objects_get(objs, i);

		if (o->nr_rec)
			to_spec(o, &s[n++]);
	}
	ret = n ? lzimg_write_file(imgdir, LZIMG_ACCESS_FILE, s, n, err, sizeof(err)) : 0;
	if (ret)
		pr_warn("cannot record the working set: %s\n", err);
	else if (n)
		pr_info("working set recorded in %s: %zu objects\n", LZIMG_ACCESS_FILE, n);
	free(s);
	return ret;
}
