/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tracking a lazily restored tree from its restore (criu restore
 * --lazy-pages --track-mem; CRIU patch 0029 opens the tasks' userfaultfds
 * with asynchronous write protection and registers and protects the
 * deferred shared mappings before the tasks run). The mapper then maps
 * pages write-protected, so that only the tasks' own writes show, and
 * once the daemon is done with a task its userfaultfd goes to
 * lazyshm-trackd (plugin/track/holder), which answers its later faults.
 * At the end, the holder gets the epoch of the restore's images and, beside
 * its socket, the restored tasks' tracked mappings (lazyshm-track.img's
 * format, each named by the object it had in the images): the tree's next
 * dump with those images as parent then writes only what changed.
 *
 * What the tracking cannot vouch for is left to a full dump: a task that
 * removed, unmapped or moved shared memory during the lazy phase is held
 * but not recorded; a task forked meanwhile is unknown.
 */
#ifndef __LAZYSHM_HANDOVER_H__
#define __LAZYSHM_HANDOVER_H__

#include <stdbool.h>

#include "tasks.h"
#include "track.h"

struct lz_handover {
	bool started, off;
	int imgdir;
	int sk;	  /* the holder, or -1 */
	int root; /* pidfd of the tree's root, or -1 */
	struct lz_trk_state st;
};

void lz_handover_init(struct lz_handover *h, int imgdir);
/* The daemon is done with @t (of @tasks): hand its userfaultfd over; 0
 * (a failure only turns the tracking off, with the reason) */
int lz_handover_task(struct lz_handover *h, struct lz_task *tasks, struct lz_task *t);
/* An event on [start, end) of @t that the tracking cannot follow (unless
 * the range is lazy-pages' private memory) */
void lz_handover_untrack(struct lz_task *t, uint64_t start, uint64_t end, const char *why);
/* Every task is done (@ok) or the daemon stops: publish, or give up */
void lz_handover_end(struct lz_handover *h, bool ok);

#endif /* __LAZYSHM_HANDOVER_H__ */
