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

#include "lzdigest.h"

#include "criu-plugin.h"
#include "lzimg.h"
#include "objects.h"
#include "log.h"

/* The kind's name in the one vocabulary: the lazyshm image's when the object is in it */
const char *lz_obj_kind(const struct lz_object *o)
{
	return o->digests ? lzimg_kind_name(o->digests->kind) : lz_obj_kind(o);
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
	t->xxh = XXH3_createState();
	if (!t->xxh)
		goto err_cond;
	ret = lzimg_load(imgdir, &t->img, err, sizeof(err));
	if (ret == -ENOENT) {
		pr_warn("no lazyshm image in the images directory: pages are not validated\n");
		t->img = NULL;
		return 0;
	}
	if (ret == 0)
		return 0;
	pr_err("%s\n", err);
	XXH3_freeState(t->xxh);
err_cond:
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
	if (o->map && o->map != MAP_FAILED)
		munmap(o->map, o->nr_pages * o->psz);
	if (o->src)
		lz_pagesrc_close(o->src);
	if (o->fd >= 0)
		close(o->fd);
	free(o->state);
	free(o->unfilled);
	free(o);
}

void lz_objects_fini(struct lz_objects *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		object_free(t->objs[i]);
	free(t->objs);
	if (t->img)
		lzimg_free(t->img);
	XXH3_freeState(t->xxh);
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

	/* 4K objects are written through the descriptor (map_pages_image) */
	if (o->psz > 4096)
		o->map = mmap(NULL, o->nr_pages * o->psz, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
	if (o->map == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %s %#" PRIx64 " (%" PRIu64 " bytes): %s",
			 lz_obj_kind(o), o->shmid, o->size, strerror(errno));
		return -1;
	}
	o->state = calloc(o->nr_pages, 1);
	o->unfilled = calloc(o->nr_pages / LZ_BLOCK + 1, sizeof(*o->unfilled));
	if (!o->state || !o->unfilled) {
		snprintf(err, errlen, "no memory for the state of shmem %#" PRIx64, o->shmid);
		return -1;
	}
	return 0;
}

/*
 * The pages image is mapped read-only. 4K objects are filled with write()
 * from it: one copy from page cache to page cache, no page table entry and
 * no zeroing of the destination. hugetlbfs has no write(), so huge pages
 * are copied into the second mapping, hashed slice by slice on the way.
 */
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

/* Under the state lock (or before the object is shared) */
static void set_state(struct lz_object *o, uint64_t i, uint8_t s)
{
	uint8_t old = o->state[i];

	if (old == LZ_PAGE_UNFILLED && s != LZ_PAGE_UNFILLED)
		o->unfilled[i / LZ_BLOCK]--;
	else if (old != LZ_PAGE_UNFILLED && s == LZ_PAGE_UNFILLED)
		o->unfilled[i / LZ_BLOCK]++;
	__atomic_store_n(&o->state[i], s, __ATOMIC_RELEASE);
}

/* Under the state lock: the first UNFILLED page at or after @i, or nr_pages */
static uint64_t next_unfilled(const struct lz_object *o, uint64_t i)
{
	while (i < o->nr_pages) {
		if (!o->unfilled[i / LZ_BLOCK]) {
			i = (i / LZ_BLOCK + 1) * LZ_BLOCK;
			continue;
		}
		if (o->state[i] == LZ_PAGE_UNFILLED)
			return i;
		i++;
	}
	return o->nr_pages;
}

/*
 * Pages without data in the images are holes: they are never written, so
 * they stay unallocated, as after an eager restore. A page that lazyshm's
 * image has a digest for but CRIU's pagemap calls a hole lost its data.
 */
static int mark_holes(struct lz_object *o, char *err, size_t errlen)
{
	uint64_t off = 0, s, e, p, want;

	/* calloc()ed: UNFILLED everywhere, with matching counts */
	for (p = 0; p < o->nr_pages; p++)
		o->unfilled[p / LZ_BLOCK]++;
	for (p = 0; p < o->nr_pages; p++)
		set_state(o, p, LZ_PAGE_HOLE);
	while (off < o->nr_pages * o->psz && lz_pagesrc_next_data(o->src, off, &s, &e) == 1) {
		for (p = s / o->psz; p < o->nr_pages && p * o->psz < e; p++)
			set_state(o, p, LZ_PAGE_UNFILLED);
		off = e;
	}
	for (p = 0; p < o->nr_pages; p++) {
		if (o->state[p] != LZ_PAGE_HOLE)
			continue;
		if (o->digests && lzimg_page_digest(o->digests, p, &want) == 1) {
			snprintf(err, errlen,
				 "%s %#" PRIx64 ": page %" PRIu64 " has data in the lazyshm image but none in CRIU's "
				 "pagemap: the images lost it",
				 lz_obj_kind(o), o->shmid, p);
			return -1;
		}
		o->nr_done++;
		o->holes++;
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
		   size_t errlen)
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

	if (object_map(o, err, errlen) || object_attach_images(t, o, imgdir, err, errlen) ||
	    mark_holes(o, err, errlen))
		goto err;
	ret = objects_append(t, o);
	if (ret) {
		snprintf(err, errlen, ret == -EEXIST ? "shmem %#" PRIx64 " was offered already: a second offer is refused" : "no memory to track shmem %#" PRIx64,
			 d->shmid);
		goto err;
	}
	pr_info("object %s %#" PRIx64 ": %" PRIu64 " bytes in %" PRIu64 " pages of %" PRIu64 "%s\n",
		lz_obj_kind(o), o->shmid, o->size, o->nr_pages, o->psz,
		o->digests ? ", digests loaded" : ", not validated");
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

static int digest_check(struct lz_object *o, uint64_t idx, uint64_t want, uint64_t got)
{
	if (got == want)
		return 0;

	pr_err("digest mismatch in %s shmid %" PRIu64 " (%#" PRIx64 ") page %" PRIu64 " (offset %#" PRIx64
	       "): expected %016" PRIx64 ", image has %016" PRIx64 "; refusing to map it\n",
	       lzimg_kind_name(o->digests->kind), o->shmid, o->shmid, idx, idx * o->psz, want, got);
	return -1;
}

/* Check page idx, whose content is at @data, against its digest */
static int page_validate(struct lz_object *o, uint64_t idx, const char *data)
{
	uint64_t want;

	if (!o->digests || lzimg_page_digest(o->digests, idx, &want) != 1)
		return 0;
	return digest_check(o, idx, want, lz_digest(data, o->psz));
}

#define HUGE_SLICE (256 << 10)

/* Copy huge page idx into the second mapping, hashing each slice while it is in cache */
static int copy_huge_page(struct lz_objects *t, struct lz_object *o, uint64_t idx, XXH3_state_t *xxh)
{
	uint64_t base = idx * o->psz, off = 0, foff = 0, len, want = 0;
	bool check = t->validate && o->digests && lzimg_page_digest(o->digests, idx, &want) == 1;
	char *dst = o->map + base;
	int data;

	if (check && XXH3_64bits_reset(xxh) != XXH_OK)
		return -1;
	while (off < o->psz) {
		data = lz_pagesrc_locate(o->src, base + off, &foff, &len);
		len = len < o->psz - off ? len : o->psz - off;
		len = len < HUGE_SLICE ? len : HUGE_SLICE;
		if (data && (!o->img || foff > o->img_len || len > o->img_len - foff)) {
			pr_err("the pages image of %s %#" PRIx64 " is truncated\n", lz_obj_kind(o),
			       o->shmid);
			return -1;
		}
		if (data)
			memcpy(dst + off, o->img + foff, len);
		else
			memset(dst + off, 0, len);
		if (check && LZ_XXH3_UPDATE(xxh, dst + off, len) != XXH_OK)
			return -1;
		off += len;
	}
	return check ? digest_check(o, idx, want, XXH3_64bits_digest(xxh)) : 0;
}

/* Fill a run of UNFILLED huge pages through the second mapping */
static int fill_run(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, XXH3_state_t *xxh)
{
	uint64_t i;

	for (i = first; i < first + n; i++)
		if (copy_huge_page(t, o, i, xxh))
			return -1;
	return 0;
}

static int write_all(struct lz_object *o, const char *buf, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(o->fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_perror("cannot write %s %#" PRIx64 " at %#" PRIx64, lz_obj_kind(o), o->shmid,
				  off);
			return -1;
		}
		buf += n, off += n, len -= n;
	}
	return 0;
}

/*
 * One stretch of data or hole at @off, at most @max bytes (never beyond
 * the UNFILLED run): validated, then written. *len gets its length.
 */
static int write_segment(struct lz_objects *t, struct lz_object *o, uint64_t off, uint64_t max, uint64_t *len)
{
	uint64_t foff = 0, i;
	int data = lz_pagesrc_locate(o->src, off, &foff, len);

	if (*len > max)
		*len = max;
	if (!data || !o->img) {
		/* holes are LZ_PAGE_HOLE from the start, never claimed */
		pr_err("%s %#" PRIx64 ": no data in the images at %#" PRIx64 " for a page to fill\n",
		       lz_obj_kind(o), o->shmid, off);
		return -1;
	}
	if (foff > o->img_len || *len > o->img_len - foff) {
		pr_err("the pages image of %s %#" PRIx64 " is truncated\n", lz_obj_kind(o), o->shmid);
		return -1;
	}
	for (i = 0; t->validate && i < *len; i += o->psz)
		if (page_validate(o, (off + i) / o->psz, o->img + foff + i))
			return -1;
	return write_all(o, o->img + foff, *len, off);
}

static int write_run(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n)
{
	uint64_t off = first * o->psz, end = (first + n) * o->psz, len;

	/* the last page may be partial: never grow the object */
	if (end > o->size)
		end = o->size;

	while (off < end) {
		if (write_segment(t, o, off, end - off, &len))
			return -1;
		off += len;
	}
	return 0;
}

static int write_absent(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, XXH3_state_t *xxh)
{
	return o->psz == 4096 ? write_run(t, o, first, n) : fill_run(t, o, first, n, xxh);
}

/* Is page @i in the page cache already? */
static bool page_present(struct lz_object *o, uint64_t i)
{
	unsigned char v = 0;
	off_t off = i * o->psz;

	if (o->psz == 4096)
		return lseek(o->fd, off, SEEK_DATA) == off;
	/* one byte per base page: ask for the first, a huge page is there or not */
	return mincore(o->map + off, 4096, &v) == 0 && (v & 1);
}

/*
 * A task holds the object open (LAZYSHM_FD_LAZY): it may have written a
 * page through its descriptor before the daemon got to it. Such a page is
 * the application's, never overwritten. (What remains: a write landing
 * between the check and the daemon's own, and a punch of a page the
 * daemon had not filled yet, which leaves no trace to see.)
 */
static int write_claimed(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, XXH3_state_t *xxh)
{
	uint64_t i = first, run;

	if (!(o->flags & LZ_OBJ_FD_REACHABLE))
		return write_absent(t, o, first, n, xxh);
	while (i < first + n) {
		if (page_present(o, i)) {
			__atomic_add_fetch(&o->app_written, 1, __ATOMIC_RELAXED);
			i++;
			continue;
		}
		for (run = 1; i + run < first + n && !page_present(o, i + run); run++)
			;
		if (write_absent(t, o, i, run, xxh))
			return -1;
		i += run;
	}
	return 0;
}

/* Under the state lock: claim the UNFILLED run at first (up to end); its length */
static uint64_t claim_run(struct lz_object *o, uint64_t first, uint64_t end)
{
	uint64_t n = 0;

	while (first + n < end && o->state[first + n] == LZ_PAGE_UNFILLED)
		set_state(o, first + n++, LZ_PAGE_FILLING);
	return n;
}

/* Under the state lock: a page removed while it was being written */
static int drop_written(struct lz_object *o, uint64_t i, bool written)
{
	uint64_t off = i * o->psz, len = o->psz;

	if (off + len > o->size)
		len = o->size - off;
	set_state(o, i, LZ_PAGE_REMOVED);
	o->nr_done++;
	o->removed++;
	if (!written || !fallocate(o->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len)) {
		pr_debug("page %" PRIu64 " of %s %#" PRIx64 " filled during its removal: dropped again\n", i,
			 lz_obj_kind(o), o->shmid);
		return 0;
	}
	pr_perror("cannot drop page %" PRIu64 " of %s %#" PRIx64 " again", i, lz_obj_kind(o),
		  o->shmid);
	return -1;
}

/* Under the state lock: the claimed run is written (ok) or given back */
static int finish_run(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, bool ok, bool fault)
{
	uint64_t i;
	int ret = 0;

	for (i = first; i < first + n; i++) {
		if (o->state[i] == LZ_PAGE_FILLING_REMOVED) {
			ret |= drop_written(o, i, ok);
			continue;
		}
		set_state(o, i, ok ? LZ_PAGE_FILLED : LZ_PAGE_UNFILLED);
		if (!ok)
			continue;
		o->nr_done++;
		if (fault)
			o->filled_fault++;
		else
			o->filled_prefetch++;
	}
	pthread_cond_broadcast(&t->state_cond);
	return ret;
}

static bool being_filled(const struct lz_object *o, uint64_t i)
{
	return o->state[i] == LZ_PAGE_FILLING || o->state[i] == LZ_PAGE_FILLING_REMOVED;
}

/* Under the state lock: until no page of [first, end) is being filled */
static void wait_filling(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t end)
{
	uint64_t i = first;

	while (i < end) {
		if (!being_filled(o, i)) {
			i++;
			continue;
		}
		pthread_cond_wait(&t->state_cond, &t->state_lock);
		i = first;
	}
}

int lz_object_fill(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, int flags)
{
	uint64_t i = first, end = first + n, run;
	int ret = 0;

	if (end > o->nr_pages)
		end = o->nr_pages;
	pthread_mutex_lock(&t->state_lock);
	if (flags & LZ_FILL_WAIT)
		wait_filling(t, o, first, end);
	while (i < end && !ret) {
		run = claim_run(o, i, end);
		if (!run) {
			i++;
			continue;
		}
		pthread_mutex_unlock(&t->state_lock);
		ret = write_claimed(t, o, i, run, t->xxh);
		pthread_mutex_lock(&t->state_lock);
		if (finish_run(t, o, i, run, ret == 0, flags & LZ_FILL_FAULT))
			ret = -1;
		i += run;
	}
	pthread_mutex_unlock(&t->state_lock);
	return ret;
}

uint64_t lz_object_claim(struct lz_objects *t, struct lz_object *o, uint64_t from, uint64_t max, uint64_t *first)
{
	uint64_t i, n = 0;

	pthread_mutex_lock(&t->state_lock);
	i = next_unfilled(o, from);
	if (i < o->nr_pages)
		n = claim_run(o, i, o->nr_pages - i > max ? i + max : o->nr_pages);
	pthread_mutex_unlock(&t->state_lock);
	*first = i;
	return n;
}

int lz_object_fill_claimed(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, void *xxh)
{
	int ret = write_claimed(t, o, first, n, xxh);

	pthread_mutex_lock(&t->state_lock);
	if (finish_run(t, o, first, n, ret == 0, false))
		ret = -1;
	pthread_mutex_unlock(&t->state_lock);
	return ret;
}

int lz_object_remove(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n)
{
	uint64_t i, end = first + n < o->nr_pages ? first + n : o->nr_pages;

	pthread_mutex_lock(&t->state_lock);
	for (i = first; i < end; i++) {
		if (o->state[i] == LZ_PAGE_FILLING) {
			set_state(o, i, LZ_PAGE_FILLING_REMOVED);
			continue;
		}
		if (o->state[i] != LZ_PAGE_UNFILLED)
			continue;
		set_state(o, i, LZ_PAGE_REMOVED);
		o->nr_done++;
		o->removed++;
	}
	/* the writers drop them; later faults must find them REMOVED */
	wait_filling(t, o, first, end);
	pthread_mutex_unlock(&t->state_lock);
	return 0;
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
