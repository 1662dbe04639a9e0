/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The restored tree as a set of pidfds: the restored tasks, and the
 * processes found descending from them. Stopping it kills exactly these
 * processes: a pidfd cannot name another process, whatever pid numbers
 * the restored pid namespace reuses. A task that is the init of its own
 * pid namespace (a container) takes every process of the namespace with
 * it, orphans included.
 */
#ifndef __LAZYSHM_TREE_H__
#define __LAZYSHM_TREE_H__

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lz_tree {
	pthread_mutex_t lock;
	int *pidfds;
	pid_t *pids; /* in our pid namespace, while the member is alive */
	size_t nr, cap;
};

int lz_tree_init(struct lz_tree *t);
void lz_tree_fini(struct lz_tree *t);
/* Add a duplicate of @pidfd (if it is not there yet): 1 added, 0 known, -1 */
int lz_tree_add(struct lz_tree *t, int pidfd);
/* Add the children of every member, verified to be theirs: how many, or -1 */
int lz_tree_discover(struct lz_tree *t);
/* Stop everything (SIGSTOP), find every descendant, then SIGKILL all: how many */
size_t lz_tree_kill(struct lz_tree *t);
/* Have all members exited? Waits up to @ms for it */
bool lz_tree_wait_dead(struct lz_tree *t, int ms);
/* A lazily restored object, as /proc/PID/maps shows it */
struct lz_obj_id {
	uint64_t dev, ino;
};
/*
 * Add every process that maps one of @objs with a userfaultfd registration
 * (only restored processes and their descendants can): how many, or -1.
 * The last resort for processes forked and orphaned unseen.
 */
int lz_tree_adopt_mappers(struct lz_tree *t, const struct lz_obj_id *objs, size_t n);
/* How many members there are, and member @i's pidfd (owned by the tree) */
size_t lz_tree_nr(struct lz_tree *t);
int lz_tree_pidfd(struct lz_tree *t, size_t i);
/* The members still alive */
size_t lz_tree_alive(struct lz_tree *t);

#endif /* __LAZYSHM_TREE_H__ */
