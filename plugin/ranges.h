/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address ranges of a task and what they map: the arithmetic of unmaps,
 * removals, moves and forks, with nothing of processes or the kernel in it.
 */
#ifndef __LAZYSHM_RANGES_H__
#define __LAZYSHM_RANGES_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lz_object;

struct lz_range {
	uint64_t start, end; /* addresses in the task */
	uint64_t off;	     /* object offset mapped at start */
	struct lz_object *obj;
};

struct lz_ranges {
	struct lz_range *r;
	size_t nr, cap;
};

void lz_ranges_free(struct lz_ranges *l);
void lz_ranges_clear(struct lz_ranges *l);
int lz_ranges_add(struct lz_ranges *l, uint64_t start, uint64_t end, uint64_t off, struct lz_object *o);
struct lz_range *lz_ranges_find(struct lz_ranges *l, uint64_t addr);
/* Do the ranges cover all of [start, end)? */
bool lz_ranges_cover(struct lz_ranges *l, uint64_t start, uint64_t end);
/* [start, end) is no longer mapped: cut it out of every range */
int lz_ranges_drop(struct lz_ranges *l, uint64_t start, uint64_t end);
/* [from, from+len) moved to @to (what was at @to is gone) */
int lz_ranges_remap(struct lz_ranges *l, uint64_t from, uint64_t to, uint64_t len);
/* @dst gets a copy of @src (a fork) */
int lz_ranges_copy(struct lz_ranges *dst, const struct lz_ranges *src);

#endif /* __LAZYSHM_RANGES_H__ */
