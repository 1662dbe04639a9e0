/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address ranges of a task and what they map: the arithmetic of unmaps,
 * removals, moves and forks, with nothing of processes or the kernel in it.
 */
#ifndef __LAZYSHM_VMAS_H__
#define __LAZYSHM_VMAS_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lz_object;

struct lz_vma {
	uint64_t start, end; /* addresses in the task */
	uint64_t off;	     /* object offset mapped at start */
	struct lz_object *obj;
};

struct lz_vmas {
	struct lz_vma *r;
	size_t nr, cap;
};

void lz_vmas_free(struct lz_vmas *l);
void lz_vmas_clear(struct lz_vmas *l);
int lz_vmas_add(struct lz_vmas *l, uint64_t start, uint64_t end, uint64_t off, struct lz_object *o);
struct lz_vma *lz_vmas_find(struct lz_vmas *l, uint64_t addr);
/* [start, end) is no longer mapped: cut it out of every range */
int lz_vmas_drop(struct lz_vmas *l, uint64_t start, uint64_t end);
/* [from, from+len) moved to @to (what was at @to is gone) */
int lz_vmas_remap(struct lz_vmas *l, uint64_t from, uint64_t to, uint64_t len);
/* @dst gets a copy of @src (a fork) */
int lz_vmas_copy(struct lz_vmas *dst, const struct lz_vmas *src);

#endif /* __LAZYSHM_VMAS_H__ */
