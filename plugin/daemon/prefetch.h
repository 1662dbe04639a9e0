/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lazy-pages daemon's prefetch thread; see prefetch.c. */
#ifndef __LAZYSHM_PREFETCH_H__
#define __LAZYSHM_PREFETCH_H__

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fill.h"
#include "objects.h"

#define LZ_PREFETCH_QUEUE 1024

/* Pages [first, first+n) of obj are filled (FILLED, or REMOVED since) */
struct lz_chunk {
	struct lz_object *obj;
	uint64_t first, n;
};

#define LZ_PREFETCH_MAX_THREADS 8

struct lz_prefetch;

/* One filling thread */
struct lz_worker {
	pthread_t thread;
	struct lz_prefetch *p;
	struct lz_filler filler; /* the thread's own (fill.h) */
};

struct lz_prefetch {
	struct lz_worker w[LZ_PREFETCH_MAX_THREADS];
	unsigned nr_threads, nr_running; /* started; not finished yet (atomic) */
	struct lz_objects *objs;
	int efd;	      /* eventfd: readable when a chunk is queued */
	pthread_mutex_t lock; /* the queue */
	pthread_cond_t cond;  /* the queue has room, or stop */
	uint64_t gen;	      /* objects handed over so far (atomic) */
	struct lz_chunk q[LZ_PREFETCH_QUEUE];
	unsigned head, nr;
	bool stop, failed, started;
	bool restored;	   /* the restore has finished: completed chunks are queued (atomic) */
	unsigned delay_ms; /* between claiming a chunk and writing it (tests) */
};

/* Start @threads threads filling every UNFILLED page of every object;
 * @delay_ms: see LAZYSHM_TEST_FILL_DELAY_MS in config.h, 0 normally */
int lz_prefetch_start(struct lz_prefetch *p, struct lz_objects *objs, unsigned threads, unsigned delay_ms);
/* The same, before the restore has finished: the threads fill only the
 * recorded working set of the objects handed over, and queue nothing,
 * until lz_prefetch_restored() */
int lz_prefetch_start_early(struct lz_prefetch *p, struct lz_objects *objs, unsigned threads, unsigned delay_ms);
/* Registry thread: an object was handed over (its working set attached) */
void lz_prefetch_added(struct lz_prefetch *p);
/* Main thread: the restore has finished. The pages filled so far are not
 * queued: the caller maps every FILLED page after this returns */
void lz_prefetch_restored(struct lz_prefetch *p);
/* 1 and the next completed chunk, or 0 if none is queued */
int lz_prefetch_pop(struct lz_prefetch *p, struct lz_chunk *c);
/* No page is left for the threads to fill (they have exited) */
bool lz_prefetch_finished(struct lz_prefetch *p);
/* A page could not be filled (digest mismatch, bad image): fail-stop */
bool lz_prefetch_failed(struct lz_prefetch *p);
/* Stop and join the threads (each finishes the chunk it is writing) */
void lz_prefetch_stop(struct lz_prefetch *p);

#endif /* __LAZYSHM_PREFETCH_H__ */
