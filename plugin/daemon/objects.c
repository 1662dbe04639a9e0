// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's table of lazily restored shared objects, and the only code
 * that writes their content: through the daemon's second mapping, while a
 * page is still UNFILLED, and validated against its dump-time digest
 * before anything may map it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <inttypes.h>
#include <stdio.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "criu-plugin.h"
#include "fill.h"
#include "lzimg.h"
#include "objects.h"
#include "pending.h"
#include "log.h"

/* The kind's name in the one vocabulary: the lazyshm image's when the object is in it */
const char *lz_obj_kind(const struct lz_object *o)
{
	return o->digests ? lzimg_kind_name(o->digests->kind) : lz_kind_name(o->kind, o->psz);
}

int lz_objects_init(struct lz_objects *t, int imgdir, bool validate)
{
	char err[256];
	int ret;

	memset(t, 0, sizeof(*t));
	if (pthread_mutex_init(&t->lock, NULL))
		return -1;
	if (pthread_mutex_init(&t->state_lock, NULL))
		goto err_lock;
	if (pthread_cond_init(&t->state_cond, NULL))
		goto err_state_lock;
	t->validate = validate;
	t->filler = calloc(1, sizeof(*t->filler));
	if (!t->filler || lz_fill_init(t))
		goto err_cond;
	ret = lzimg_load(imgdir, &t->img, err, sizeof(err));
	if (ret == -ENOENT) {
		pr_warn("no lazyshm image in the images directory: pages are not validated\n");
		t->img = NULL;
		return 0;
	}
	if (ret == 0 && !lz_refuse_pending(t->img, validate))
		return 0;
	if (ret)
		pr_err("%s\n", err);
	lzimg_free(t->img);
	t->img = NULL;
	lz_fill_fini(t);
err_cond:
	free(t->filler);
	pthread_cond_destroy(&t->state_cond);
err_state_lock:
	pthread_mutex_destroy(&t->state_lock);
err_lock:
	pthread_mutex_destroy(&t->lock);
	return -1;
}

static void object_free(struct lz_object *o)
{
	if (o->img)
		munmap((void *)o->img, o->img_len);
	if (o->map)
		munmap(o->map, o->nr_pages * o->psz);
	if (o->src)
		lz_pagesrc_close(o->src);
	if (o->fd >= 0)
		close(o->fd);
	free(o->state);
	free(o->unfilled);
	free(o->ws_end);
	free(o->faulted);
	free(o->rec);
	free(o);
}

void lz_objects_fini(struct lz_objects *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		object_free(t->objs[i]);
	free(t->objs);
	free(t->recent);
	if (t->img)
		lzimg_free(t->img);
	lz_fill_fini(t);
	if (t->filler)
		lz_filler_fini(t->filler);
	free(t->filler);
	pthread_cond_destroy(&t->state_cond);
	pthread_mutex_destroy(&t->state_lock);
	pthread_mutex_destroy(&t->lock);
	memset(t, 0, sizeof(*t));
}

static int object_map(struct lz_object *o, char *err, size_t errlen)
{
	struct statfs sfs;
	struct stat st;

	if (fstat(o->fd, &st) || fstatfs(o->fd, &sfs)) {
		snprintf(err, errlen, "cannot stat shmem %#" PRIx64 ": %s", o->shmid, strerror(errno));
		return -1;
	}
	/* a SysV hugetlb segment's file is its size rounded up to huge pages */
	if ((uint64_t)st.st_size != o->size)
		pr_info("shmem %#" PRIx64 ": %" PRIu64 " bytes offered, the object has %lld\n", o->shmid, o->size,
			(long long)st.st_size);
	o->size = st.st_size;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->psz = sfs.f_type == HUGETLBFS_MAGIC ? (uint64_t)sfs.f_bsize : 4096;
	o->nr_pages = (o->size + o->psz - 1) / o->psz;

	o->state = calloc(o->nr_pages, 1);
	o->unfilled = calloc(o->nr_pages / LZ_BLOCK + 1, sizeof(*o->unfilled));
	if (!o->state || !o->unfilled) {
		snprintf(err, errlen, "no memory for the state of shmem %#" PRIx64, o->shmid);
		return -1;
	}
	return 0;
}

/* The pages image is mapped read-only: fill.c copies from it */
static int map_pages_image(struct lz_object *o, char *err, size_t errlen)
{
	int fd = lz_pagesrc_pages_fd(o->src);
	struct stat st;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "cannot stat the pages image of shmem %#" PRIx64 ": %s", o->shmid,
			 strerror(errno));
		return -1;
	}
	if (!st.st_size)
		return 0;
	o->img = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (o->img == MAP_FAILED) {
		o->img = NULL;
		snprintf(err, errlen, "cannot map the pages image of shmem %#" PRIx64 ": %s", o->shmid,
			 strerror(errno));
		return -1;
	}
	o->img_len = st.st_size;
	return 0;
}

/* The page source: CRIU's shmem images, or lazyshm's own pages file for files */
static int object_open_source(struct lz_objects *t, struct lz_object *o, int imgdir, char *err, size_t errlen)
{
	o->digests = t->img ? lzimg_find(t->img, o->shmid) : NULL;
	o->remote = o->digests && o->digests->remote;
	if (o->remote) /* the geometry here, the pages on the dump's source */
		return lz_pagesrc_open_remote_obj(imgdir, o->digests, &o->src, err, errlen);
	if (o->kind != LZ_OBJ_FILE)
		return lz_pagesrc_open(imgdir, o->shmid, &o->src, err, errlen);
	if (!o->digests) {
		snprintf(err, errlen, "file object %#" PRIx64 " has no entry in the lazyshm image", o->shmid);
		return -1;
	}
	return lz_pagesrc_open_obj(imgdir, o->digests, &o->src, err, errlen);
}

static int object_attach_images(struct lz_objects *t, struct lz_object *o, int imgdir, char *err, size_t errlen)
{
	if (object_open_source(t, o, imgdir, err, errlen) || map_pages_image(o, err, errlen))
		return -1;

	if (t->img && !o->digests) {
		snprintf(err, errlen, "shmem %#" PRIx64 " has no entry in the lazyshm image", o->shmid);
		return -1;
	}
	if (o->digests && o->digests->page_size != o->psz) {
		snprintf(err, errlen, "shmem %#" PRIx64 ": page size %" PRIu64 " now, %u in the lazyshm image",
			 o->shmid, o->psz, o->digests->page_size);
		return -1;
	}
	return 0;
}

/* Pages [a, b) are a hole of the images (before the object is shared): HOLE, never written */
static int mark_hole(struct lz_object *o, uint64_t a, uint64_t b, char *err, size_t errlen)
{
	uint64_t p, want, blk, end;

	for (p = a; o->digests && p < b; p++) {
		if (lzimg_page_digest(o->digests, p, &want) != 1)
			continue;
		snprintf(err, errlen,
			 "%s %#" PRIx64 ": page %" PRIu64 " has data in the lazyshm image but none in CRIU's "
			 "pagemap: the images lost it",
			 lz_obj_kind(o), o->shmid, p);
		return -1;
	}
	memset(o->state + a, LZ_PAGE_HOLE, b - a);
	for (p = a; p < b; p = end) {
		blk = p / LZ_BLOCK;
		end = (blk + 1) * LZ_BLOCK < b ? (blk + 1) * LZ_BLOCK : b;
		o->unfilled[blk] -= end - p;
	}
	o->nr_done += b - a;
	o->holes += b - a;
	return 0;
}

/*
 * Pages without data in the images are holes: they are never written, so
 * they stay unallocated, as after an eager restore. A page that lazyshm's
 * image has a digest for but CRIU's pagemap calls a hole lost its data.
 * Whole stretches at a time: this runs before the restore may go on.
 */
static int mark_holes(struct lz_object *o, char *err, size_t errlen)
{
	uint64_t off = 0, s, e, p = 0, a, b, blk;

	/* calloc()ed: UNFILLED everywhere; every page of a block counted */
	for (blk = 0; blk * LZ_BLOCK < o->nr_pages; blk++)
		o->unfilled[blk] = o->nr_pages - blk * LZ_BLOCK < LZ_BLOCK ? o->nr_pages - blk * LZ_BLOCK : LZ_BLOCK;
	while (p < o->nr_pages) {
		if (off < o->nr_pages * o->psz && lz_pagesrc_next_data(o->src, off, &s, &e) == 1) {
			a = s / o->psz;
			b = (e + o->psz - 1) / o->psz;
			off = e;
		} else {
			a = b = o->nr_pages; /* no data after p: the rest is a hole */
		}
		a = a < o->nr_pages ? a : o->nr_pages;
		b = b < o->nr_pages ? b : o->nr_pages;
		if (a > p && mark_hole(o, p, a, err, errlen))
			return -1;
		p = b > p ? b : p;
	}
	return 0;
}

static bool known_shmid(struct lz_objects *t, uint64_t shmid)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (t->objs[i]->shmid == shmid)
			return true;
	return false;
}

/* 0, -EEXIST for a second object of the same shmid, or -ENOMEM */
static int objects_append(struct lz_objects *t, struct lz_object *o)
{
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	if (known_shmid(t, o->shmid)) {
		ret = -EEXIST;
		goto out;
	}
	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct lz_object **n = realloc(t->objs, cap * sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		t->objs = n;
		t->cap = cap;
	}
	t->objs[t->nr++] = o;
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* Takes ownership of @fd, also on failure */
int lz_objects_add(struct lz_objects *t, int fd, const struct lz_object_desc *d, int imgdir, char *err,
		   size_t errlen, struct lz_object **out)
{
	struct lz_object *o = calloc(1, sizeof(*o));
	int ret;

	if (!o) {
		close(fd);
		snprintf(err, errlen, "no memory for shmem %#" PRIx64, d->shmid);
		return -1;
	}
	o->fd = fd;
	o->shmid = d->shmid;
	o->size = d->size;
	o->kind = d->kind;
	o->seals = d->seals;
	o->flags = d->flags;

	if (object_map(o, err, errlen) || lz_fill_attach(t, o, err, errlen) ||
	    object_attach_images(t, o, imgdir, err, errlen) || mark_holes(o, err, errlen))
		goto err;
	ret = objects_append(t, o);
	if (ret) {
		snprintf(err, errlen, ret == -EEXIST ? "shmem %#" PRIx64 " was offered already: a second offer is refused" : "no memory to track shmem %#" PRIx64,
			 d->shmid);
		goto err;
	}
	pr_info("object %s %#" PRIx64 ": %" PRIu64 " bytes in %" PRIu64 " pages of %" PRIu64 "%s\n",
		lz_obj_kind(o), o->shmid, o->size, o->nr_pages, o->psz,
		o->remote ? ", fetched from the dump's source" : o->digests ? ", digests loaded" :
									      ", not validated");
	*out = o;
	return 0;
err:
	object_free(o);
	return -1;
}

size_t lz_objects_count(struct lz_objects *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->nr;
	pthread_mutex_unlock(&t->lock);
	return n;
}

struct lz_object *lz_objects_get(struct lz_objects *t, size_t i)
{
	struct lz_object *o = NULL;

	pthread_mutex_lock(&t->lock);
	if (i < t->nr)
		o = t->objs[i];
	pthread_mutex_unlock(&t->lock);
	return o;
}

struct lz_object *lz_objects_find(struct lz_objects *t, dev_t dev, ino_t ino)
{
	struct lz_object *o = NULL;
	size_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nr; i++) {
		if (t->objs[i]->dev == dev && t->objs[i]->ino == ino) {
			o = t->objs[i];
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return o;
}

/* A sealed memfd's seals, now that its content is complete */
static void seal(struct lz_object *o)
{
	if (o->map && munmap(o->map, o->nr_pages * o->psz))
		pr_perror("cannot unmap %s %#" PRIx64, lz_obj_kind(o), o->shmid);
	o->map = NULL;
	if (fcntl(o->fd, F_ADD_SEALS, o->seals) == 0) {
		pr_info("%s %#" PRIx64 ": seals %#x applied\n", lz_obj_kind(o), o->shmid, o->seals);
		return;
	}
	pr_perror("%s %#" PRIx64 ": cannot apply its seals %#x; the application runs without them",
		  lz_obj_kind(o), o->shmid, o->seals);
}

void lz_objects_seal(struct lz_objects *t)
{
	size_t i, nr = lz_objects_count(t);

	for (i = 0; i < nr; i++) {
		struct lz_object *o = lz_objects_get(t, i);

		if (o->seals)
			seal(o);
	}
}
