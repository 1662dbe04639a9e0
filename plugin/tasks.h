/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Restored tasks as the lazy-pages daemon sees them: a userfaultfd and the
 * registered ranges of the task that map lazily restored objects.
 */
#ifndef __LAZYSHM_TASKS_H__
#define __LAZYSHM_TASKS_H__

#include <stdbool.h>
#include <stdint.h>

#include "objects.h"

struct lz_range {
	uint64_t start, end; /* registered addresses in the task */
	uint64_t off;	     /* object offset mapped at start */
	struct lz_object *obj;
};

struct lz_task {
	int pid; /* restored task, or its ancestor for forked tasks */
	int uffd;
	bool loaded; /* ranges known (read from /proc once the task is final) */
	bool gone;
	struct lz_range *ranges;
	size_t nr, cap;
	/* CONTINUEs refused with EAGAIN while the task's mm was changing */
	struct {
		uint64_t addr, len;
	} retry[16];
	int nr_retry;
	struct lz_task *next;
};

struct lz_task *lz_task_new(int pid, int uffd);
void lz_task_free(struct lz_task *t);
/* Read the task's mappings of known objects from /proc/PID/maps */
int lz_task_load(struct lz_task *t, struct lz_objects *objs);
int lz_task_copy_ranges(struct lz_task *dst, const struct lz_task *src);
struct lz_range *lz_task_find(struct lz_task *t, uint64_t addr);
/* The task no longer has [start, end) registered */
int lz_task_drop(struct lz_task *t, uint64_t start, uint64_t end);
/* [from, from+len) moved to to */
int lz_task_remap(struct lz_task *t, uint64_t from, uint64_t to, uint64_t len);

#endif /* __LAZYSHM_TASKS_H__ */
