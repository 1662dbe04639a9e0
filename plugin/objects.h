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

struct lz_pagesrc;
struct lz_image;
struct lz_obj;

/* Page states. A page is written by the daemon only while UNFILLED. */
enum {
	LZ_PAGE_UNFILLED = 0,
	LZ_PAGE_FILLED = 1,  /* content written and validated */
	LZ_PAGE_REMOVED = 2, /* dropped by the application: reads as zeros */
};

/* A hugetlbfs or tmpfs file owned by lazyshm (not one of CRIU's CR_SHMEM_*) */
#define LZ_OBJ_FILE 0x100

struct lz_object {
	uint64_t shmid;
	int kind;	    /* CR_SHMEM_* or LZ_OBJ_FILE */
	uint64_t size;	    /* bytes */
	uint64_t psz;	    /* page size of the object */
	uint64_t nr_pages;  /* of psz */
	dev_t dev;
	ino_t ino;
	int fd;
	char *map;	    /* the daemon's second mapping (huge pages only) */
	uint8_t *state;	    /* LZ_PAGE_* per page */
	uint64_t nr_done;   /* pages no longer UNFILLED */
	uint64_t next;	    /* prefetch cursor */
	struct lz_pagesrc *src;
	const char *img;     /* the pages image, mapped read-only (4K objects) */
	size_t img_len;
	const struct lz_obj *digests; /* NULL: no lazyshm image for it */
	uint64_t filled_fault, filled_prefetch, removed;
};

struct lz_objects {
	pthread_mutex_t lock; /* guards adding objects; they are never removed */
	struct lz_object **objs;
	size_t nr, cap;
	struct lz_image *img; /* lazyshm image (digests), may be NULL */
	bool validate;
	void *xxh; /* XXH3 state for hashing huge pages while they are copied */
};

int lz_objects_init(struct lz_objects *t, int imgdir, bool validate);
void lz_objects_fini(struct lz_objects *t);
int lz_objects_add(struct lz_objects *t, int fd, uint64_t shmid, uint64_t size, int kind, int imgdir, char *err,
		   size_t errlen);
struct lz_object *lz_objects_find(struct lz_objects *t, dev_t dev, ino_t ino);
size_t lz_objects_count(struct lz_objects *t);
struct lz_object *lz_objects_get(struct lz_objects *t, size_t i);

/* Make pages [first, first+n) of @o FILLED (or leave them REMOVED). */
int lz_object_fill(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, bool on_fault);
/* Allocate zeroed pages for REMOVED pages a task faults on */
int lz_object_materialize(struct lz_object *o, uint64_t first, uint64_t n);
/* The application dropped [first, first+n): never fill those pages */
void lz_object_remove(struct lz_object *o, uint64_t first, uint64_t n);
const char *lz_kind_name(int kind, uint64_t psz);

#endif /* __LAZYSHM_OBJECTS_H__ */
