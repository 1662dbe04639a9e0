/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared objects whose content the lazy-pages daemon provides: each has a
 * second mapping in the daemon, a page source in CRIU's images, the
 * dump-time digests and a per-page state.
 */
#ifndef __LAZYSHM_OBJECTS_H__
#define __LAZYSHM_OBJECTS_H__

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kinds.h"
#include "lzimg.h"

struct lz_pagesrc;
struct lz_image;
struct lz_obj;

/*
 * Page states. A page is written by the daemon only while FILLING, which
 * one thread claims from UNFILLED; it may be mapped into a task (CONTINUE)
 * only once FILLED. States change under lz_objects.state_lock; a reader
 * without the lock uses lz_page_state().
 */
enum {
	LZ_PAGE_UNFILLED = 0,
	LZ_PAGE_FILLED = 1,  /* content written and validated */
	LZ_PAGE_REMOVED = 2, /* dropped by the application: reads as zeros */
	LZ_PAGE_FILLING = 3, /* being written by one thread */
	/* being written, and removed by the application meanwhile: the writer
	 * drops it again once written (its write may follow the kernel's) */
	LZ_PAGE_FILLING_REMOVED = 4,
	/* a hole in the images: zeros, never written, never allocated by the
	 * daemon; a task that touches it gets a zero page */
	LZ_PAGE_HOLE = 5,
};

/* Does the page read as zeros without the daemon ever writing it? */
static inline bool lz_page_zero(int state)
{
	return state == LZ_PAGE_HOLE || state == LZ_PAGE_REMOVED;
}

/* Pages per block of lz_object.unfilled */
#define LZ_BLOCK 1024

/* lz_object_fill() flags */
#define LZ_FILL_FAULT 1 /* count the pages as filled on fault */
#define LZ_FILL_WAIT  2 /* wait for pages another thread is filling */

struct lz_object {
	uint64_t shmid;
	int kind;	      /* CR_SHMEM_* or LZ_OBJ_FILE */
	uint64_t size;	      /* bytes, from fstat(): never changed */
	unsigned int seals;   /* memfd seals to apply at full residency */
	unsigned int flags;   /* LZ_OBJ_* */
	uint64_t app_written; /* pages found written by the application first */
	/* working-set replay (replay.c): what to prefetch first, and what is recorded */
	const struct lz_range *ws; /* runs of pages, in access order (lzimg.h) */
	uint64_t *ws_end;	   /* running total of pages up to the end of each run */
	size_t nr_ws;
	uint64_t ws_pos;      /* pages of the working set handed out (atomic) */
	uint8_t *faulted;     /* a bit per page: first faults recorded */
	struct lz_range *rec; /* runs of pages in first-fault order */
	size_t nr_rec, cap_rec;
	uint64_t psz;	   /* page size of the object */
	uint64_t nr_pages; /* of psz */
	dev_t dev;
	ino_t ino;
	int fd;
	char *map;	    /* the daemon's second mapping */
	bool copy;	    /* registered on fill_uffd: pages are created by UFFDIO_COPY */
	bool remote;	    /* its pages come from the dump's source over the network */
	uint8_t *state;	    /* LZ_PAGE_* per page */
	uint32_t *unfilled; /* UNFILLED pages per block of LZ_BLOCK: claims skip full blocks */
	uint64_t nr_done;   /* pages FILLED, REMOVED or HOLE */
	uint64_t next;	    /* prefetch cursor (prefetch thread) */
	uint64_t hint;	    /* where the last fault was + 1, 0 if none (atomic) */
	struct lz_pagesrc *src;
	const char *img; /* the pages image, mapped read-only (4K objects) */
	size_t img_len;
	const struct lz_obj *digests; /* NULL: no lazyshm image for it */
	uint64_t filled_fault, filled_prefetch, removed, holes;
	uint64_t zero_filled; /* zero pages given to tasks that touched holes */
};

/* A run of pages one fill wrote */
struct lz_filled {
	struct lz_object *obj;
	uint64_t first, n;
};

struct lz_objects {
	pthread_mutex_t lock;	    /* guards adding objects; they are never removed */
	pthread_mutex_t state_lock; /* page states and fill counters */
	pthread_cond_t state_cond;  /* a FILLING page changed state */
	struct lz_object **objs;
	size_t nr, cap;
	struct lz_image *img; /* lazyshm image (digests), may be NULL */
	bool validate;
	struct lz_filler *filler;			    /* the daemon's main thread's (fill.h) */
	int fill_uffd;					    /* the daemon's own, for UFFDIO_COPY into second mappings */
	uint64_t ns_read, ns_copy, ns_digest, bytes_copied; /* fill stages, all threads (atomic) */
	bool no_populate;				    /* MADV_POPULATE_READ refused (before 5.14) */
	uint64_t ns_wait;				    /* faults waiting for a page another thread fills (state lock) */
	/*
	 * The runs filled since the main thread last returned to lazy-pages
	 * (state lock): the REMOVE event lazy-pages reads next may come from a
	 * hole the application punched before one of them was written.
	 */
	struct lz_filled *recent;
	size_t nr_recent, cap_recent;
	bool recent_lost; /* no memory to note one: every FILLED page is suspect */
	/* the network page source of remote objects (remote-dest.h): writes
	 * claimed pages [first, first+n) of @o, 0 or -1; NULL: none */
	int (*remote_fill)(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n);
};

/* What the restore says of an object it hands over */
struct lz_object_desc {
	uint64_t shmid;
	uint64_t size;	    /* as the restore knows it; the object's own (fstat) wins */
	int kind;	    /* CR_SHMEM_* or LZ_OBJ_FILE */
	unsigned int seals; /* memfd seals, applied once every page is there */
	unsigned int flags; /* LZ_OBJ_* */
};

/* A task holds the object open: pages it wrote through its descriptor are never overwritten */
#define LZ_OBJ_FD_REACHABLE 1

int lz_objects_init(struct lz_objects *t, int imgdir, bool validate);
/* The main thread returns to lazy-pages: what was filled until now came before
 * any event it reads next (pages.c) */
void lz_objects_settled(struct lz_objects *t);
void lz_objects_fini(struct lz_objects *t);
/* Take object @fd (also on failure): 0, or -1 with @err (a second object
 * with the same shmid is refused) */
int lz_objects_add(struct lz_objects *t, int fd, const struct lz_object_desc *d, int imgdir, char *err,
		   size_t errlen, struct lz_object **out);
struct lz_object *lz_objects_find(struct lz_objects *t, dev_t dev, ino_t ino);
size_t lz_objects_count(struct lz_objects *t);
struct lz_object *lz_objects_get(struct lz_objects *t, size_t i);

static inline int lz_page_state(const struct lz_object *o, uint64_t i)
{
	return __atomic_load_n(&o->state[i], __ATOMIC_ACQUIRE);
}

/*
 * Fill the UNFILLED pages of [first, first+n) of @o (main thread). With
 * LZ_FILL_WAIT, pages another thread is filling are waited for, so that
 * on return every page of the range is FILLED or REMOVED; without it they
 * are skipped.
 */
int lz_object_fill(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, int flags);
/* Prefetch thread: claim up to @max UNFILLED pages at or after @from
 * (FILLING); returns how many, the first in *first (0: none left after from) */
uint64_t lz_object_claim(struct lz_objects *t, struct lz_object *o, uint64_t from, uint64_t max, uint64_t *first);
/* Prefetch thread: claim the first UNFILLED run in [at, at+len) only */
uint64_t lz_object_claim_in(struct lz_objects *t, struct lz_object *o, uint64_t at, uint64_t len, uint64_t *first);
/* Are the object's pages in the local images (not on a remote source)? */
static inline bool lz_object_local(const struct lz_object *o)
{
	return !o->remote;
}
/* Prefetch thread: write the pages it claimed, with its own filler (fill.h) */
struct lz_filler;
int lz_object_fill_claimed(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n,
			   struct lz_filler *f);
/* The network page source: pages it claimed are written (@ok) or given back */
int lz_object_finish_claimed(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, bool ok,
			     bool fault);
/*
 * Prefetch thread: fill the run [first, first+*n) it claimed, then claim
 * and fill the other UNFILLED runs before @end, across holes and pages
 * filled by others, so that a sparse window is one span for the main
 * thread to map (its FILLED pages), not one chunk per run. *n: the span.
 */
int lz_object_fill_span(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t *n, uint64_t end,
			struct lz_filler *f);
/* pages.c: change a page's state, under the state lock (or before the object is shared) */
void lz_page_set(struct lz_object *o, uint64_t i, uint8_t s);
/*
 * The application dropped [first, first+n): those pages are never filled.
 * Pages another thread is filling are dropped again by it once written
 * (its write may have followed the kernel's); this waits for that. 0.
 */
int lz_object_remove(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n);
/* Every page is there: apply the seals of sealed memfds (main thread, no
 * other thread using the objects any more) */
void lz_objects_seal(struct lz_objects *t);
/* The object's kind in the one vocabulary (kinds.h) */
const char *lz_obj_kind(const struct lz_object *o);

#endif /* __LAZYSHM_OBJECTS_H__ */
