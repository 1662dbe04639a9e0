/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing the content of claimed pages (pages.c decides which): copied
 * from the images into the object through the daemon's second mapping,
 * then checked against the dump-time digest before anything may map them.
 *
 * The second mapping is registered for missing faults on a userfaultfd of
 * the daemon's own, so that a page is created by UFFDIO_COPY: the kernel
 * copies into a fresh page without zeroing it first, and refuses (EEXIST)
 * to replace a page that exists already, which can then only be one the
 * application wrote through a path userfaultfd does not see. Where the
 * kernel refuses the registration, pages are written as before (pwrite()
 * for 4K pages, memcpy() for huge ones).
 */
#ifndef __LAZYSHM_FILL_H__
#define __LAZYSHM_FILL_H__

#include <stddef.h>
#include <stdint.h>

#include "objects.h"

/* What a filling thread keeps: a buffer for huge pages whose data is not contiguous in the image */
struct lz_filler {
	char *bounce;
	uint64_t len;
};

int lz_fill_init(struct lz_objects *t);
void lz_fill_fini(struct lz_objects *t);
/* The object's second mapping, registered if it can be: 0, or -1 with @err */
int lz_fill_attach(struct lz_objects *t, struct lz_object *o, char *err, size_t errlen);
/* Write and check claimed pages [first, first+n) of @o: 0, or -1 (a digest
 * mismatch, an unreadable image) */
int lz_fill_pages(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, struct lz_filler *f);
/* Write and check claimed pages [first, first+n) of @o whose content is at
 * @src (the network page source's buffer): 0 or -1 */
int lz_fill_put(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, const char *src);
/* Ask for the image of pages [first, first+n) to be read ahead */
void lz_fill_readahead(struct lz_object *o, uint64_t first, uint64_t n);
void lz_filler_fini(struct lz_filler *f);

#endif /* __LAZYSHM_FILL_H__ */
