/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Restore side and daemon: a lazyshm image whose digests are still pending
 * (the dump could not compute them after releasing the tasks) cannot
 * validate anything, lazily or eagerly; only LAZYSHM_VALIDATE=0 restores it.
 */
#ifndef __LAZYSHM_PENDING_H__
#define __LAZYSHM_PENDING_H__

#include <stdbool.h>

struct lz_image;

/* -1 (logged, naming an object, the cause and the way out) if @img has
 * pending digests and @validate is on; else 0 (with a warning if pending) */
int lz_refuse_pending(const struct lz_image *img, bool validate);

#endif /* __LAZYSHM_PENDING_H__ */
