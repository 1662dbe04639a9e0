// SPDX-License-Identifier: GPL-2.0-or-later
/* Writing the content of claimed pages; see fill.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lzdigest.h"

#include "fill.h"
#include "log.h"
#include "lzimg.h"
#include "stats.h"

int lz_fill_init(struct lz_objects *t)
{
	struct uffdio_api api = { .api = UFFD_API };

	t->fill_uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (t->fill_uffd < 0)
		t->fill_uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (t->fill_uffd < 0 || ioctl(t->fill_uffd, UFFDIO_API, &api)) {
		pr_warn("no userfaultfd for the daemon's own fills (%s): pages are written without UFFDIO_COPY\n",
			strerror(errno));
		if (t->fill_uffd >= 0)
			close(t->fill_uffd);
		t->fill_uffd = -1;
	}
	return 0;
}

void lz_fill_fini(struct lz_objects *t)
{
	if (t->fill_uffd >= 0)
		close(t->fill_uffd);
	t->fill_uffd = -1;
}

int lz_fill_attach(struct lz_objects *t, struct lz_object *o, char *err, size_t errlen)
{
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	uint64_t len = o->nr_pages * o->psz;

	o->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
	if (o->map == MAP_FAILED) {
		o->map = NULL;
		snprintf(err, errlen, "cannot map %s %#" PRIx64 " (%" PRIu64 " bytes): %s", lz_obj_kind(o), o->shmid,
			 o->size, strerror(errno));
		return -1;
	}
	reg.range.start = (uintptr_t)o->map;
	reg.range.len = len;
	if (t->fill_uffd >= 0 && ioctl(t->fill_uffd, UFFDIO_REGISTER, &reg) == 0 &&
	    (reg.ioctls & (1ull << _UFFDIO_COPY))) {
		o->copy = true;
		return 0;
	}
	pr_info("%s %#" PRIx64 ": its pages are written without UFFDIO_COPY (%s)\n", lz_obj_kind(o), o->shmid,
		t->fill_uffd < 0 ? "no userfaultfd" : strerror(errno));
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int digest_check(struct lz_object *o, uint64_t idx, uint64_t want, uint64_t got)
{
	if (got == want)
		return 0;
	pr_err("digest mismatch in %s shmid %" PRIu64 " (%#" PRIx64 ") page %" PRIu64 " (offset %#" PRIx64
	       "): expected %016" PRIx64 ", image has %016" PRIx64 "; refusing to map it\n",
	       lz_obj_kind(o), o->shmid, o->shmid, idx, idx * o->psz, want, got);
	return -1;
}

/*
 * Check pages [first, first+n) of @o, whose content is at @src, before they
 * are written: the source is read, not the object's own mapping, which a
 * removal may empty under us (a read there would fault on the daemon's own
 * registration). The write that follows finds the pages cache-hot.
 */
static int validate(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, const char *src)
{
	uint64_t i, want, t0;
	int ret = 0;

	if (!t->validate || !o->digests)
		return 0;
	t0 = now_ns();
	for (i = 0; i < n && !ret; i++)
		if (lzimg_page_digest(o->digests, first + i, &want) == 1)
			ret = digest_check(o, first + i, want, LZ_XXH3_64(src + i * o->psz, o->psz));
	__atomic_add_fetch(&t->ns_digest, now_ns() - t0, __ATOMIC_RELAXED);
	return ret;
}

/* A page that existed before the daemon wrote it: the application's, kept */
static void kept(struct lz_object *o, uint64_t page)
{
	if (__atomic_fetch_add(&o->app_written, 1, __ATOMIC_RELAXED) == 0)
		pr_warn("%s %#" PRIx64 ": page %" PRIu64 " existed before the daemon wrote it (the application wrote "
			"it through a descriptor or a mapping userfaultfd does not see): it is kept as it is\n",
			lz_obj_kind(o), o->shmid, page);
}

/* UFFDIO_COPY of @n pages from @src at page @first */
static int copy_pages(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, const char *src)
{
	uint64_t done = 0, len = n * o->psz, base = first * o->psz;

	while (done < len) {
		struct uffdio_copy c = { .dst = (uintptr_t)o->map + base + done,
					 .src = (uintptr_t)src + done,
					 .len = len - done,
					 .mode = UFFDIO_COPY_MODE_DONTWAKE };

		if (ioctl(t->fill_uffd, UFFDIO_COPY, &c) == 0)
			break;
		done += c.copy > 0 ? (uint64_t)c.copy : 0;
		if (errno == EAGAIN)
			continue;
		if (errno == EEXIST) {
			kept(o, first + done / o->psz);
			done += o->psz;
			continue;
		}
		pr_perror("cannot copy into %s %#" PRIx64 " at %#" PRIx64, lz_obj_kind(o), o->shmid, base + done);
		return -1;
	}
	return 0;
}

/* Without UFFDIO_COPY: pwrite() for 4K pages (never beyond the size), memcpy() for huge ones */
static int write_pages(struct lz_object *o, uint64_t first, uint64_t n, const char *src)
{
	uint64_t off = first * o->psz, len = n * o->psz;
	ssize_t w;

	if (o->psz > 4096) {
		memcpy(o->map + off, src, len);
		return 0;
	}
	if (off + len > o->size)
		len = o->size - off;
	while (len) {
		w = pwrite(o->fd, src, len, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			pr_perror("cannot write %s %#" PRIx64 " at %#" PRIx64, lz_obj_kind(o), o->shmid, off);
			return -1;
		}
		src += w, off += w, len -= w;
	}
	return 0;
}

#define POPULATE_MIN (64 << 10)

/*
 * Map the image's pages at @src into the daemon before they are read: one
 * call instead of a fault per 64 KiB in the digest check, and, without
 * one, UFFDIO_COPY's source is then mapped (the kernel copies from an
 * unmapped source only by dropping its locks, faulting it in and trying
 * again). A cold image is read from disk here: the "read" stage.
 */
static void populate(struct lz_objects *t, const char *src, uint64_t len)
{
	uintptr_t s = (uintptr_t)src & ~4095ul, e = ((uintptr_t)src + len + 4095) & ~4095ul;
	uint64_t t0;

	/* below the kernel's fault-around (64 KiB), one fault costs less than the call */
	if (len < POPULATE_MIN || __atomic_load_n(&t->no_populate, __ATOMIC_RELAXED))
		return;
	t0 = now_ns();
	if (madvise((void *)s, e - s, MADV_POPULATE_READ) && errno == EINVAL)
		__atomic_store_n(&t->no_populate, true, __ATOMIC_RELAXED); /* the reads fault the pages in */
	__atomic_add_fetch(&t->ns_read, now_ns() - t0, __ATOMIC_RELAXED);
}

/*
 * The digest check and the copy go a piece at a time, a piece small enough
 * to stay in the CPU's cache between the two: one pass over memory, not two
 * (a whole 1 MiB run had left the cache by the time its copy read it).
 */
#define PIECE (128 << 10)

/* @n whole pages whose content is contiguous at @src: checked, then written, a piece at a time */
static int put_pages(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, const char *src)
{
	uint64_t step = o->psz < PIECE ? PIECE / o->psz : 1, i, k, t0;
	int ret = 0;

	populate(t, src, n * o->psz);
	for (i = 0; i < n && !ret; i += k) {
		k = n - i < step ? n - i : step;
		if (validate(t, o, first + i, k, src + i * o->psz))
			return -1;
		t0 = now_ns();
		ret = o->copy ? copy_pages(t, o, first + i, k, src + i * o->psz) :
				write_pages(o, first + i, k, src + i * o->psz);
		__atomic_add_fetch(&t->ns_copy, now_ns() - t0, __ATOMIC_RELAXED);
	}
	if (!ret)
		__atomic_add_fetch(&t->bytes_copied, n * o->psz, __ATOMIC_RELAXED);
	return ret;
}

/* The image's bytes [foff, foff+len) exist in the mapped pages image */
static int in_image(struct lz_object *o, uint64_t foff, uint64_t len)
{
	if (o->img && foff <= o->img_len && len <= o->img_len - foff)
		return 0;
	pr_err("the pages image of %s %#" PRIx64 " is truncated\n", lz_obj_kind(o), o->shmid);
	return -1;
}

/* The thread's buffer, of at least @len bytes */
static int bounce(struct lz_object *o, struct lz_filler *f, uint64_t len)
{
	if (f->len >= len)
		return 0;
	if (f->bounce)
		munmap(f->bounce, f->len);
	f->len = 0;
	f->bounce = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->bounce == MAP_FAILED) {
		f->bounce = NULL;
		pr_perror("no buffer for a page of %s %#" PRIx64, lz_obj_kind(o), o->shmid);
		return -1;
	}
	f->len = len;
	return 0;
}

/* A huge page whose data is not contiguous in the image, assembled in the thread's buffer */
static const char *assemble(struct lz_object *o, uint64_t page, struct lz_filler *f)
{
	uint64_t off = 0, base = page * o->psz, foff, len;

	if (bounce(o, f, o->psz))
		return NULL;
	while (off < o->psz) {
		int data = lz_pagesrc_locate(o->src, base + off, &foff, &len);

		len = len < o->psz - off ? len : o->psz - off;
		if (data && in_image(o, foff, len))
			return NULL;
		if (data)
			memcpy(f->bounce + off, o->img + foff, len);
		else
			memset(f->bounce + off, 0, len);
		off += len;
	}
	return f->bounce;
}

#define READ_CHUNK (1ULL << 20)

/*
 * An incremental dump's object: its data is in a chain of images (no single
 * one is mapped), read through the thread's buffer, a chunk at a time.
 */
static int fill_read(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, struct lz_filler *f)
{
	uint64_t per = o->psz >= READ_CHUNK ? 1 : READ_CHUNK / o->psz, k;

	if (bounce(o, f, per * o->psz))
		return -1;
	for (; n; first += k, n -= k) {
		k = n < per ? n : per;
		if (lz_pagesrc_read(o->src, first * o->psz, f->bounce, k * o->psz)) {
			pr_err("cannot read %s %#" PRIx64 " from its images: %s\n", lz_obj_kind(o), o->shmid,
			       lz_pagesrc_error(o->src));
			return -1;
		}
		if (put_pages(t, o, first, k, f->bounce))
			return -1;
	}
	return 0;
}

int lz_fill_put(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, const char *src)
{
	return put_pages(t, o, first, n, src);
}

int lz_fill_pages(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n, struct lz_filler *f)
{
	uint64_t p = first, end = first + n, foff = 0, len = 0, run;
	const char *src;

	if (o->remote && t->remote_fill) /* the pages are on the dump's source */
		return t->remote_fill(t, o, first, n);
	if (o->remote) {
		pr_err("%s %#" PRIx64 ": its pages are on the dump's source, which this daemon cannot reach\n",
		       lz_obj_kind(o), o->shmid);
		return -1;
	}
	if (!o->img && lz_pagesrc_chained(o->src))
		return fill_read(t, o, first, n, f);
	while (p < end) {
		run = lz_pagesrc_locate(o->src, p * o->psz, &foff, &len) ? len / o->psz : 0;
		if (run > end - p)
			run = end - p;
		if (!run) {
			/* its data does not cover the page from its start */
			src = assemble(o, p, f);
			if (!src || put_pages(t, o, p, 1, src))
				return -1;
			p++;
			continue;
		}
		if (in_image(o, foff, run * o->psz) || put_pages(t, o, p, run, o->img + foff))
			return -1;
		p += run;
	}
	return 0;
}

void lz_fill_readahead(struct lz_object *o, uint64_t first, uint64_t n)
{
	int fd = lz_pagesrc_pages_fd(o->src);
	uint64_t s, e;

	if (fd < 0 || lz_pagesrc_next_data(o->src, first * o->psz, &s, &e) != 1)
		return;
	if (s >= (first + n) * o->psz)
		return;
	/* the image keeps the data densely: its offset follows the object's */
	if (lz_pagesrc_locate(o->src, s, &s, &e) == 1 && posix_fadvise(fd, s, n * o->psz, POSIX_FADV_WILLNEED))
		pr_debug("readahead of %s %#" PRIx64 " refused\n", lz_obj_kind(o), o->shmid);
}

void lz_filler_fini(struct lz_filler *f)
{
	if (f->bounce)
		munmap(f->bounce, f->len);
	f->bounce = NULL;
	f->len = 0;
}
