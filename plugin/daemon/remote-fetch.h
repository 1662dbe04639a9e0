/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The network page source of the destination's lazy-pages daemon: one
 * thread that fetches the pages of remote objects (objects.h, o->remote)
 * from the dump's source over one session (remote-proto.h), and writes
 * them through the fill engine (fill.h) once each response's digest
 * checks out.
 *
 * Requests are pipelined: up to a window of prefetch bytes is in flight,
 * never one page at a time. A fault's request (lz_fetch_pages(), from the
 * main thread, for pages it claimed) is sent before any prefetch request
 * not sent yet: it waits only behind the window already in flight. The
 * prefetch claims chunks (2 MiB of 4K pages, or one huge page) after the
 * last fault of an object, then in order, object by object; each chunk it
 * completes is queued for the main thread to map (lz_fetch_pop()).
 *
 * Any error (the connection breaks, the source refuses or does not
 * answer, a digest does not match) fails the fetcher for good: its claims
 * are given back, waiting faults return -1, and lz_fetch_failed() says
 * why; the daemon then stops the tree. The thread never logs.
 */
#ifndef __LAZYSHM_REMOTE_FETCH_H__
#define __LAZYSHM_REMOTE_FETCH_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "objects.h"
#include "prefetch.h"
#include "xport.h"

/* What the fetcher did, for stats and logs */
struct lz_fetch_stats {
	uint64_t requests;	   /* GETs sent */
	uint64_t fault_requests;   /* ... of them for faults */
	uint64_t pages, bytes;	   /* received, checked and written */
	uint64_t max_inflight;	   /* requests in flight at once, at most */
	uint64_t ns_fault;	   /* faults' requests: from queued to written, summed */
	uint64_t ns_first, ns_end; /* first request sent, last response (CLOCK_MONOTONIC) */
};

struct lz_fetch;

struct lz_fetch_cfg {
	uint64_t window;     /* prefetch bytes in flight; 0: 8 MiB */
	unsigned timeout_ms; /* a response overdue that long fails the session; 0: LZ_XPORT_IDLE_MS */
};

/*
 * Start the thread on session @x (hello done; the fetcher owns it until
 * lz_fetch_stop()). 0 and *out, or -1 with @err.
 */
int lz_fetch_start(struct lz_objects *objs, struct lz_xport *x, const struct lz_fetch_cfg *cfg, struct lz_fetch **out,
		   char *err, size_t errlen);
/* The restore has finished: prefetch every remote page left */
void lz_fetch_go(struct lz_fetch *f);
/* Main thread: fetch and write pages [first, first+n) of @o, which it claimed (FILLING). 0, or -1 (failed). */
int lz_fetch_pages(struct lz_fetch *f, struct lz_object *o, uint64_t first, uint64_t n);
/* A completed prefetch chunk: 1 and *c, or 0 */
int lz_fetch_pop(struct lz_fetch *f, struct lz_chunk *c);
/* Readable when a chunk is queued (the main thread polls it) */
int lz_fetch_efd(const struct lz_fetch *f);
/* Prefetching has begun and no remote page is left to fetch */
bool lz_fetch_finished(struct lz_fetch *f);
/* Has the fetcher failed? true and the cause in @why */
bool lz_fetch_failed(struct lz_fetch *f, char *why, size_t len);
/* Stop the thread and free; *st gets its counters; the session is handed back (NULL if it broke) */
struct lz_xport *lz_fetch_stop(struct lz_fetch *f, struct lz_fetch_stats *st);

#endif /* __LAZYSHM_REMOTE_FETCH_H__ */
