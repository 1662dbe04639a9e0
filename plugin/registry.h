/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The channel on which `criu restore` hands each deferred shared object to
 * the lazy-pages daemon: a descriptor of the object (SCM_RIGHTS) and its
 * identity. The daemon answers only once it can serve the object, so a
 * task never runs on an object the daemon does not know.
 */
#ifndef __LAZYSHM_REGISTRY_H__
#define __LAZYSHM_REGISTRY_H__

#include <stddef.h>
#include <stdint.h>

#include "objects.h"

struct lz_registry;

/* Restore side: 1 if the daemon took the object, 0 if it declined, -1 if
 * there is no daemon to ask; @why says why not. */
int lz_registry_offer(int imgdir, int fd, uint64_t shmid, uint64_t size, int kind, char *why, size_t len);

/* Daemon side: serve offers in a thread until stopped */
struct lz_registry *lz_registry_start(int imgdir, struct lz_objects *objs);
void lz_registry_stop(struct lz_registry *r);

#endif /* __LAZYSHM_REGISTRY_H__ */
