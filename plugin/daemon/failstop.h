/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's side of fail-stop: the restored tree as pidfds (tree.c),
 * the guardian that stops it if the daemon dies (guardian.c), and a thread
 * that stops it if the guardian dies first. Nothing here is ever done to a
 * process known only by a pid number.
 */
#ifndef __LAZYSHM_FAILSTOP_H__
#define __LAZYSHM_FAILSTOP_H__

#include <pthread.h>
#include <stdbool.h>

#include "guardian.h"
#include "objects.h"
#include "tree.h"

struct lz_failstop {
	struct lz_guardian guard;
	struct lz_tree tree;
	pthread_t watcher;
	int stop_efd; /* stops the watcher */
	bool watching;
	int discover_left;   /* rounds of looking for forked children */
	size_t members_sent; /* tree members the guardian knows */
	size_t objs_sent;    /* objects the guardian knows */
};

int lz_failstop_start(struct lz_failstop *f);
/* A restored task arrived: @pidfd is the daemon's, @uffd its userfaultfd */
int lz_failstop_task(struct lz_failstop *f, int pidfd, int uffd);
/* A task forked: the child's userfaultfd now, the child itself once found */
int lz_failstop_fork(struct lz_failstop *f, int child_uffd);
/* The daemon closes @uffd: so does the guardian */
int lz_failstop_forget(struct lz_failstop *f, int uffd);
/* Idle time: find forked children, tell the guardian of new objects */
int lz_failstop_idle(struct lz_failstop *f, struct lz_objects *objs);
/* Every page is resident: the guardian goes, nobody is stopped */
int lz_failstop_release(struct lz_failstop *f);
/* The daemon fails: stop the tree now, and return once it is dead */
void lz_failstop_abort(struct lz_failstop *f);
void lz_failstop_fini(struct lz_failstop *f);

#endif /* __LAZYSHM_FAILSTOP_H__ */
