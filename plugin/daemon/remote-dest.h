/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Remote post-copy, the destination (criu lazy-pages --page-server): when
 * lazyshm-shmem.img has objects the dump's source serves (remote), the
 * daemon opens a session of its own with the source at --address and
 * --port + 1 (LAZYSHM_REMOTE_PORT), TLS with CRIU's --tls options, and
 * fetches their pages on fault and by prefetch (remote-fetch.h). Once
 * every page is resident it says DONE, and the source releases its
 * objects; if the lazy phase fails it says FAIL. See docs/REMOTE.md.
 */
#ifndef __LAZYSHM_REMOTE_DEST_H__
#define __LAZYSHM_REMOTE_DEST_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct lz_config;
struct lz_object;
struct lz_objects;

/*
 * Daemon init, objects table ready: connect and say hello when the image
 * has remote objects. Never fails the init: a source that cannot be
 * reached is logged, and every remote object is refused then
 * (lz_dest_refuse()), so that the restore fails and the source is told.
 */
void lz_dest_init(struct lz_objects *objs, const struct lz_config *cfg);
/* The restore offers object @shmid: NULL if it may be taken, or why not */
const char *lz_dest_refuse(uint64_t shmid);
/* The restore has finished: prefetch */
void lz_dest_go(void);
/* Map each prefetched chunk with @map (the daemon's continue_everywhere()): 0, or -1 */
int lz_dest_drain(int (*map)(struct lz_object *o, uint64_t first, uint64_t n));
/* The eventfd the main thread waits on besides the prefetch's, or -1 */
int lz_dest_efd(void);
/* 1 every remote page is fetched (or there are none), 0 not yet, -1 failed (the cause logged) */
int lz_dest_state(void);
/*
 * End the session: DONE if @done (every page resident, or the tree gone),
 * else FAIL; logs what was fetched. Idempotent.
 */
void lz_dest_end(bool done);
/* The "remote" member of lazyshm-stats.json (no trailing comma), if there was a session */
void lz_dest_json(FILE *f);

#endif /* __LAZYSHM_REMOTE_DEST_H__ */
