// SPDX-License-Identifier: GPL-2.0-or-later
/* Address ranges of a task; see ranges.h. */
#include <stdlib.h>
#include <string.h>

#include "vmas.h"

void lz_vmas_free(struct lz_vmas *l)
{
	free(l->r);
	memset(l, 0, sizeof(*l));
}

void lz_vmas_clear(struct lz_vmas *l)
{
	l->nr = 0;
}

int lz_vmas_add(struct lz_vmas *l, uint64_t start, uint64_t end, uint64_t off, struct lz_object *o)
{
	if (l->nr == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct lz_vma *n = realloc(l->r, cap * sizeof(*n));

		if (!n)
			return -1;
		l->r = n;
		l->cap = cap;
	}
	l->r[l->nr++] = (struct lz_vma){ .start = start, .end = end, .off = off, .obj = o };
	return 0;
}

struct lz_vma *lz_vmas_find(struct lz_vmas *l, uint64_t addr)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		if (addr >= l->r[i].start && addr < l->r[i].end)
			return &l->r[i];
	return NULL;
}

/* Cut [start, end) out of range @i; may split it in two */
static int range_cut(struct lz_vmas *l, size_t i, uint64_t start, uint64_t end)
{
	struct lz_vma r = l->r[i];

	if (start <= r.start && end >= r.end) {
		l->r[i] = l->r[--l->nr];
		return 0;
	}
	if (start <= r.start) {
		l->r[i].off += end - r.start;
		l->r[i].start = end;
		return 0;
	}
	l->r[i].end = start;
	if (end < r.end)
		return lz_vmas_add(l, end, r.end, r.off + (end - r.start), r.obj);
	return 0;
}

int lz_vmas_drop(struct lz_vmas *l, uint64_t start, uint64_t end)
{
	size_t i = 0, before;

	while (i < l->nr) {
		if (l->r[i].end <= start || l->r[i].start >= end) {
			i++;
			continue;
		}
		before = l->nr;
		if (range_cut(l, i, start, end))
			return -1;
		/* a removed slot now holds another range: look at it again */
		if (l->nr >= before)
			i++;
	}
	return 0;
}

int lz_vmas_remap(struct lz_vmas *l, uint64_t from, uint64_t to, uint64_t len)
{
	uint64_t end = from + len, s, e;
	struct lz_vma *moved;
	size_t i, nr = 0;
	int ret = -1;

	moved = calloc(l->nr ? l->nr : 1, sizeof(*moved));
	if (!moved)
		return -1;
	for (i = 0; i < l->nr; i++) {
		s = l->r[i].start > from ? l->r[i].start : from;
		e = l->r[i].end < end ? l->r[i].end : end;
		if (s >= e)
			continue;
		moved[nr++] = (struct lz_vma){ .start = s - from + to, .end = e - from + to, .off = l->r[i].off + (s - l->r[i].start), .obj = l->r[i].obj };
	}
	if (lz_vmas_drop(l, from, end) || lz_vmas_drop(l, to, to + len))
		goto out;
	for (i = 0; i < nr; i++)
		if (lz_vmas_add(l, moved[i].start, moved[i].end, moved[i].off, moved[i].obj))
			goto out;
	ret = 0;
out:
	free(moved);
	return ret;
}

int lz_vmas_copy(struct lz_vmas *dst, const struct lz_vmas *src)
{
	size_t i;

	lz_vmas_clear(dst);
	for (i = 0; i < src->nr; i++)
		if (lz_vmas_add(dst, src->r[i].start, src->r[i].end, src->r[i].off, src->r[i].obj))
			return -1;
	return 0;
}
