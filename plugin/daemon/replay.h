/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Working-set replay. A lazy restore records, per object, the pages in the
 * order tasks first faulted on them, and writes them into the images
 * directory as lazyshm-access.img (LZIMG_ACCESS_FILE: the lazyshm image
 * format, objects with a HINT_ACCESS_ORDER hint), which lazyshm-img shows
 * and verifies like the other images. The next lazy restore of the same
 * images prefetches that working set first, then the rest.
 * LAZYSHM_REPLAY=on (default: replay a recorded set, record one if there
 * is none), off (neither), record (record again, replaying nothing).
 */
#ifndef __LAZYSHM_REPLAY_H__
#define __LAZYSHM_REPLAY_H__

#include <stdbool.h>
#include <stdint.h>

#include "objects.h"

enum { LZ_REPLAY_ON = 0,
       LZ_REPLAY_OFF = 1,
       LZ_REPLAY_RECORD = 2 };

struct lz_image;

struct lz_replay {
	int mode;
	struct lz_image *img; /* the recorded working set, NULL if none is replayed */
	bool record;
};

int lz_replay_init(struct lz_replay *r, int imgdir, int mode);
void lz_replay_fini(struct lz_replay *r);
/* LAZYSHM_REPLAY=record: no page is mapped ahead of the tasks' faults,
 * so that the recording has every page they touch */
bool lz_replay_exact(const struct lz_replay *r);
/* Is there a recorded working set to replay? */
bool lz_replay_has_ws(const struct lz_replay *r);
/* Give a newly registered object its recorded working set, and its recorder */
void lz_replay_attach(struct lz_replay *r, struct lz_object *o);
/* Main thread: a task faulted on page @page of @o */
void lz_replay_fault(struct lz_replay *r, struct lz_object *o, uint64_t page);
/* At the end of a lazy restore: write what was recorded */
int lz_replay_write(struct lz_replay *r, struct lz_objects *objs, int imgdir);
/* Prefetch threads: the next stretch of @o's working set, at most @max pages:
 * its length (0 when the working set is done), its first page in *first */
uint64_t lz_replay_next(struct lz_object *o, uint64_t max, uint64_t *first);
/* Has all of @o's working set (if any) been handed out? */
bool lz_replay_done(const struct lz_object *o);

#endif /* __LAZYSHM_REPLAY_H__ */
