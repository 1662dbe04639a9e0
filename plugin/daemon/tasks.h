/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Restored tasks as the lazy-pages daemon sees them: a userfaultfd, a pidfd,
 * the registered ranges of the task that map lazily restored objects, and
 * those of its private anonymous memory, which lazy-pages itself serves.
 */
#ifndef __LAZYSHM_TASKS_H__
#define __LAZYSHM_TASKS_H__

#include <stdbool.h>
#include <stdint.h>

#include "objects.h"
#include "vmas.h"

/* Pages of an object to map into a task once its address space settles */
/* Pages whose CONTINUE the kernel refused with EAGAIN, and where they were
 * mapped then: a thread may wait there, whatever became of the mapping */
struct lz_pending {
	struct lz_object *obj;
	uint64_t first, n;
	uint64_t addr, len;
};

struct lz_task {
	int pid;   /* in the restored pid namespace (for logs only); ancestor's for forked tasks */
	int pidfd; /* the task; -1 for tasks forked after the restore (not known yet) */
	int uffd;
	bool loaded; /* ranges known (read from /proc once the task is final) */
	bool gone;
	bool wp;	       /* its userfaultfd tracks writes (criu restore --track-mem) */
	const char *untracked; /* why the tracking from the restore cannot vouch for it, or NULL */
	struct lz_vmas ranges; /* of lazily restored objects */
	struct lz_vmas priv;   /* private anonymous memory: lazy-pages' own */
	/* mappings refused with EAGAIN while the task's mm was changing */
	struct lz_pending *pend;
	size_t nr_pend, cap_pend;
	struct lz_task *next;
};

/* Takes ownership of @pidfd (may be -1) */
struct lz_task *lz_task_new(int pid, int pidfd, int uffd);
void lz_task_free(struct lz_task *t);
/*
 * (Re)read the task's mappings from its /proc maps, reached through its
 * pidfd: 0, or -1 (a forked task without pidfd, a task that has exited, or
 * an error; errno says which).
 */
int lz_task_load(struct lz_task *t, struct lz_objects *objs);
/* What the task maps at @addr (through its pidfd): LZ_ADDR_*, or -1 */
enum { LZ_ADDR_UNMAPPED = 0,
       LZ_ADDR_PRIVATE_ANON = 1,
       LZ_ADDR_OTHER = 2 };
int lz_task_addr_class(struct lz_task *t, uint64_t addr);
/* May the VMA at @addr be written (VM_MAYWRITE, smaps "mw")? 1, 0, or -1 */
int lz_task_vma_maywrite(struct lz_task *t, uint64_t addr);
/* A forked child starts with its parent's ranges */
int lz_task_copy_ranges(struct lz_task *dst, const struct lz_task *src);
struct lz_vma *lz_task_find(struct lz_task *t, uint64_t addr);
/* The task no longer has [start, end) registered */
int lz_task_drop(struct lz_task *t, uint64_t start, uint64_t end);
/* [from, from+len) moved to to */
int lz_task_remap(struct lz_task *t, uint64_t from, uint64_t to, uint64_t len);

#endif /* __LAZYSHM_TASKS_H__ */
