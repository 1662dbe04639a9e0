// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reader of CRIU's shmem page images: pagemap-shmem-<shmid>.img (a
 * PagemapHead, then PagemapEntry runs whose vaddr is the byte offset inside
 * the object) and pages-<pages_id>.img (the data of the PE_PRESENT runs, in
 * entry order). Pages not in any run are holes: zeros at restore.
 *
 * Incremental dumps (pre-dump, --track-mem): PE_PARENT entries are pages
 * left in the parent images, the `parent` directory link of the image
 * directory, whose pagemap of the same object says where they are (maybe
 * in its own parent: a chain). Each run then reads its own pages image;
 * such a source has no single pages image (lz_pagesrc_pages_fd() is -1).
 * A head with parent_id names the object by that id in the parent images
 * (it was restored from them under a new id): its PE_PARENT pages are in
 * the parent's pagemap-shmem-<parent_id>.img, and so on down the chain.
 *
 * The whole pagemap is indexed at open; a read is a binary search plus
 * pread()s straight into the caller's buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lzdigest.h"

#include "pagemap.pb-c.h"

#include "lzimg-int.h"
#include "lzimg.h"

#define CRIU_PAGE_SIZE 4096ULL
#define SCRATCH_SIZE   (256u << 10)
#define MAX_CHAIN      64 /* parent links followed at most */

struct pm_run {
	uint64_t off;	   /* object offset of the first byte */
	uint64_t end;	   /* object offset after the last byte */
	uint64_t file_off; /* offset of the first byte in the pages image */
	uint32_t src;	   /* 0: pages_fd, k: fds[k - 1] (a parent's) */
};

/* A range of PE_PARENT pages, resolved from the parent images at open */
struct pm_range {
	uint64_t off, end;
};

struct lz_pagesrc {
	int pages_fd;
	int *fds; /* the parent images' pages images */
	size_t nr_fds;
	struct pm_range *parent; /* PE_PARENT ranges until resolved */
	size_t nr_parent;
	int has_parent_id;  /* the head names the object's id in the parent images */
	uint64_t parent_id; /* that id */
	uint64_t own_bytes; /* of pages_fd */
	int remote;	    /* PE_LAZY runs only: the dump's source serves the pages */
	char pmname[256];   /* the pagemap image, or a file object's path */
	char pgname[64];
	size_t nr;
	size_t cap;
	struct pm_run *runs;
	uint64_t data_bytes;
	uint8_t *scratch;
	XXH3_state_t *xxh;
	char err[LZIMG_ERRLEN];
};

static int add_run_at(struct lz_pagesrc *s, uint64_t off, uint64_t len, uint64_t file_off, uint32_t src, char *err,
		      size_t errlen)
{
	struct pm_run *r = s->nr ? &s->runs[s->nr - 1] : NULL;

	if (r && r->end == off && r->src == src && r->file_off + (r->end - r->off) == file_off) {
		r->end += len; /* contiguous in the object and in the file */
		s->data_bytes += len;
		return 0;
	}
	if (s->nr == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		r = realloc(s->runs, cap * sizeof(*r));
		if (!r)
			return lz_seterr(err, errlen, ENOMEM, "%s: no memory for %zu runs", s->pmname, cap);
		s->runs = r;
		s->cap = cap;
	}
	r = &s->runs[s->nr++];
	r->off = off;
	r->end = off + len;
	r->file_off = file_off;
	r->src = src;
	s->data_bytes += len;
	return 0;
}

/* Pages of this image's pages file, densely in entry order */
static int add_run(struct lz_pagesrc *s, uint64_t off, uint64_t len, char *err, size_t errlen)
{
	int ret = add_run_at(s, off, len, s->own_bytes, 0, err, errlen);

	if (!ret)
		s->own_bytes += len;
	return ret;
}

static int add_parent(struct lz_pagesrc *s, uint64_t off, uint64_t len, char *err, size_t errlen)
{
	struct pm_range *r = realloc(s->parent, (s->nr_parent + 1) * sizeof(*r));

	if (!r)
		return lz_seterr(err, errlen, ENOMEM, "%s: no memory for parent ranges", s->pmname);
	s->parent = r;
	r[s->nr_parent++] = (struct pm_range){ .off = off, .end = off + len };
	return 0;
}

static int check_entry(struct lz_pagesrc *s, const PagemapEntry *pe, size_t i, uint64_t prev_end, char *err,
		       size_t errlen)
{
	uint32_t flags = pe->has_flags ? pe->flags : CRIU_PE_PRESENT;

	if (!pe->has_flags && pe->has_in_parent && pe->in_parent)
		flags = CRIU_PE_PARENT;
	if (s->remote && (flags & (CRIU_PE_LAZY | CRIU_PE_PRESENT)) != CRIU_PE_LAZY)
		return lz_seterr(err, errlen, EINVAL,
				 "%s: entry %zu at %#" PRIx64 ": flags %#x, but the dump's source serves this object (PE_LAZY only)",
				 s->pmname, i, pe->vaddr, flags);
	if (!s->remote && (flags & CRIU_PE_LAZY) && !(flags & CRIU_PE_PRESENT))
		return lz_seterr(err, errlen, EOPNOTSUPP,
				 "%s: entry %zu at %#" PRIx64 ": pages not in the images: the dump's source serves them (criu dump --lazy-pages)",
				 s->pmname, i, pe->vaddr);
	if (!s->remote && !(flags & (CRIU_PE_PRESENT | CRIU_PE_PARENT)))
		return lz_seterr(err, errlen, EOPNOTSUPP, "%s: entry %zu at %#" PRIx64 ": pages not in the image (flags %#x)",
				 s->pmname, i, pe->vaddr, flags);
	if (pe->vaddr % CRIU_PAGE_SIZE)
		return lz_seterr(err, errlen, EINVAL, "%s: entry %zu: offset %#" PRIx64 " is not page aligned", s->pmname,
				 i, pe->vaddr);
	if (pe->vaddr > UINT64_MAX - (uint64_t)pe->nr_pages * CRIU_PAGE_SIZE)
		return lz_seterr(err, errlen, EINVAL, "%s: entry %zu: offset %#" PRIx64 " + %u pages overflows", s->pmname,
				 i, pe->vaddr, pe->nr_pages);
	if (pe->vaddr < prev_end)
		return lz_seterr(err, errlen, EINVAL, "%s: entry %zu: offset %#" PRIx64 " overlaps or precedes the previous entry (ends at %#" PRIx64 ")",
				 s->pmname, i, pe->vaddr, prev_end);
	return 0;
}

static bool entry_in_parent(const PagemapEntry *pe)
{
	if (!pe->has_flags)
		return pe->has_in_parent && pe->in_parent;
	return (pe->flags & CRIU_PE_PARENT) && !(pe->flags & CRIU_PE_PRESENT);
}

static int parse_entries(struct lz_pagesrc *s, struct lz_cursor *cur, char *err, size_t errlen)
{
	uint64_t prev_end = 0;
	const uint8_t *msg;
	PagemapEntry *pe;
	size_t mlen, i;
	int ret;

	for (i = 0;; i++) {
		ret = lz_cursor_next(cur, LZ_MAX_CRIU_ENTRY, &msg, &mlen, err, errlen);
		if (ret <= 0)
			return ret;
		pe = pagemap_entry__unpack(NULL, mlen, msg);
		if (!pe)
			return lz_seterr(err, errlen, EINVAL, "%s: entry %zu does not decode", s->pmname, i);
		ret = check_entry(s, pe, i, prev_end, err, errlen);
		if (!ret && pe->nr_pages) {
			prev_end = pe->vaddr + (uint64_t)pe->nr_pages * CRIU_PAGE_SIZE;
			if (entry_in_parent(pe))
				ret = add_parent(s, pe->vaddr, (uint64_t)pe->nr_pages * CRIU_PAGE_SIZE, err, errlen);
			else
				ret = add_run(s, pe->vaddr, (uint64_t)pe->nr_pages * CRIU_PAGE_SIZE, err, errlen);
		}
		pagemap_entry__free_unpacked(pe, NULL);
		if (ret)
			return ret;
	}
}

static int parse_pagemap(struct lz_pagesrc *s, const void *buf, size_t len, uint32_t *pages_id, char *err,
			 size_t errlen)
{
	struct lz_cursor cur = { .buf = buf, .len = len, .pos = 0, .fname = s->pmname };
	const uint8_t *msg;
	PagemapHead *h;
	size_t mlen;
	int ret;

	ret = lz_cursor_criu_magic(&cur, CRIU_PAGEMAP_MAGIC, err, errlen);
	if (ret)
		return ret;
	ret = lz_cursor_next(&cur, LZ_MAX_CRIU_ENTRY, &msg, &mlen, err, errlen);
	if (ret == 0)
		return lz_seterr(err, errlen, EINVAL, "%s: truncated: no pagemap head", s->pmname);
	if (ret < 0)
		return ret;
	h = pagemap_head__unpack(NULL, mlen, msg);
	if (!h)
		return lz_seterr(err, errlen, EINVAL, "%s: pagemap head does not decode", s->pmname);
	*pages_id = h->pages_id;
	s->has_parent_id = h->has_parent_id;
	s->parent_id = h->parent_id;
	pagemap_head__free_unpacked(h, NULL);
	snprintf(s->pgname, sizeof(s->pgname), "pages-%u.img", *pages_id);
	return parse_entries(s, &cur, err, errlen);
}

static int parse_src(const void *buf, size_t len, const char *fname, int remote, struct lz_pagesrc **out, char *err,
		     size_t errlen)
{
	struct lz_pagesrc *s;
	uint32_t pages_id;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return lz_seterr(err, errlen, ENOMEM, "%s: no memory", fname);
	s->pages_fd = -1;
	s->remote = remote;
	snprintf(s->pmname, sizeof(s->pmname), "%s", fname);
	ret = parse_pagemap(s, buf, len, &pages_id, err, errlen);
	if (ret) {
		lz_pagesrc_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

static int open_pages(int dirfd, struct lz_pagesrc *s, char *err, size_t errlen)
{
	struct stat st;

	s->pages_fd = openat(dirfd, s->pgname, O_RDONLY | O_CLOEXEC);
	if (s->pages_fd < 0)
		return lz_seterr(err, errlen, errno, "%s: can't open %s: %s", s->pmname, s->pgname, strerror(errno));
	if (fstat(s->pages_fd, &st) < 0)
		return lz_seterr(err, errlen, errno, "%s: can't stat: %s", s->pgname, strerror(errno));
	if ((uint64_t)st.st_size < s->own_bytes)
		return lz_seterr(err, errlen, EINVAL, "%s: truncated: %lld bytes, %s needs %llu", s->pgname,
				 (long long)st.st_size, s->pmname, (unsigned long long)s->own_bytes);
	return 0;
}

int lz_pagesrc_parse(const void *buf, size_t len, const char *fname, struct lz_pagesrc **out, char *err, size_t errlen)
{
	int ret = parse_src(buf, len, fname, 0, out, err, errlen);

	if (ret || !(*out)->nr_parent)
		return ret;
	lz_pagesrc_close(*out);
	*out = NULL;
	return lz_seterr(err, errlen, EOPNOTSUPP, "%s: pages are in parent images: open it from its directory", fname);
}

static int add_fd(struct lz_pagesrc *s, int fd)
{
	int *n = realloc(s->fds, (s->nr_fds + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->fds = n;
	s->fds[s->nr_fds++] = fd;
	return 0;
}

/* Move the parent's pages images into @s: the src number of its src 0 */
static int take_fds(struct lz_pagesrc *s, struct lz_pagesrc *p, uint32_t *base)
{
	size_t i;

	*base = s->nr_fds + 1;
	if (add_fd(s, p->pages_fd))
		return -ENOMEM;
	p->pages_fd = -1;
	for (i = 0; i < p->nr_fds; i++) {
		if (add_fd(s, p->fds[i]))
			return -ENOMEM;
		p->fds[i] = -1;
	}
	return 0;
}

static size_t find_run(const struct lz_pagesrc *s, uint64_t off);

/* The parent's runs covering [r->off, r->end): all of it must be data there */
static int take_range(struct lz_pagesrc *s, const struct lz_pagesrc *p, const struct pm_range *r, uint32_t base,
		      char *err, size_t errlen)
{
	uint64_t pos = r->off, a, b;
	size_t i;
	int ret;

	for (i = find_run(p, pos); i < p->nr && pos < r->end; i++) {
		const struct pm_run *pr = &p->runs[i];

		a = pr->off > pos ? pr->off : pos;
		b = pr->end < r->end ? pr->end : r->end;
		if (a != pos)
			break;
		ret = add_run_at(s, a, b - a, pr->file_off + (a - pr->off), base + pr->src, err, errlen);
		if (ret)
			return ret;
		pos = b;
	}
	if (pos < r->end)
		return lz_seterr(err, errlen, EINVAL,
				 "%s: corrupt image chain: bytes %#" PRIx64 "-%#" PRIx64
				 " are in the parent images, which have no data there",
				 s->pmname, pos, r->end);
	return 0;
}

static int cmp_run(const void *a, const void *b)
{
	const struct pm_run *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int open_depth(int dirfd, uint64_t shmid, int remote, struct lz_pagesrc **out, int depth, char *err,
		      size_t errlen);

/* Resolve the PE_PARENT ranges of @s from dirfd's `parent` images, object @parent_id there */
static int resolve_parent(int dirfd, struct lz_pagesrc *s, uint64_t parent_id, int depth, char *err, size_t errlen)
{
	struct lz_pagesrc *p = NULL;
	uint32_t base;
	size_t i;
	int pdir, ret;

	if (!s->nr_parent)
		return 0;
	if (depth >= MAX_CHAIN)
		return lz_seterr(err, errlen, ELOOP, "%s: more than %d parent images", s->pmname, MAX_CHAIN);
	pdir = openat(dirfd, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pdir < 0)
		return lz_seterr(err, errlen, errno, "%s: pages are in the parent images, but there is no parent "
						     "directory: %s",
				 s->pmname, strerror(errno));
	ret = open_depth(pdir, parent_id, 0, &p, depth + 1, err, errlen);
	close(pdir);
	if (!ret && take_fds(s, p, &base))
		ret = lz_seterr(err, errlen, ENOMEM, "%s: no memory", s->pmname);
	for (i = 0; !ret && i < s->nr_parent; i++)
		ret = take_range(s, p, &s->parent[i], base, err, errlen);
	lz_pagesrc_close(p);
	if (!ret)
		qsort(s->runs, s->nr, sizeof(*s->runs), cmp_run);
	return ret;
}

int lz_pagesrc_open(int dirfd, uint64_t shmid, struct lz_pagesrc **out, char *err, size_t errlen)
{
	return open_depth(dirfd, shmid, 0, out, 0, err, errlen);
}

int lz_pagesrc_open_remote(int dirfd, uint64_t shmid, struct lz_pagesrc **out, char *err, size_t errlen)
{
	return open_depth(dirfd, shmid, 1, out, 0, err, errlen);
}

static int open_depth(int dirfd, uint64_t shmid, int remote, struct lz_pagesrc **out, int depth, char *err,
		      size_t errlen)
{
	struct lz_pagesrc *s = NULL;
	char name[64];
	void *buf = NULL;
	size_t len = 0;
	int ret;

	snprintf(name, sizeof(name), "pagemap-shmem-%llu.img", (unsigned long long)shmid);
	ret = lz_read_file(dirfd, name, 1ULL << 32, &buf, &len, err, errlen);
	if (ret)
		return ret;
	ret = parse_src(buf, len, name, remote, &s, err, errlen);
	free(buf);
	if (ret || remote) {
		*out = ret ? NULL : s;
		return ret;
	}
	ret = open_pages(dirfd, s, err, errlen);
	if (!ret)
		ret = resolve_parent(dirfd, s, s->has_parent_id ? s->parent_id : shmid, depth, err, errlen);
	if (ret) {
		lz_pagesrc_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

/* The header and length of a file object's pages file. */
static int check_file_pages(struct lz_pagesrc *s, const struct lz_obj *o, char *err, size_t errlen)
{
	uint8_t h[32];
	struct stat st;
	uint64_t want;
	ssize_t n;

	if (fstat(s->pages_fd, &st) < 0)
		return lz_seterr(err, errlen, errno, "%s (object %s): can't stat: %s", s->pgname, o->name, strerror(errno));
	n = pread(s->pages_fd, h, sizeof(h), 0);
	if (n < 0)
		return lz_seterr(err, errlen, errno, "%s (object %s): can't read the header: %s", s->pgname, o->name,
				 strerror(errno));
	if (n < (ssize_t)sizeof(h) || st.st_size < LZ_FILE_PAGES_HDR)
		return lz_seterr(err, errlen, EINVAL, "%s (object %s): truncated: %lld bytes, shorter than its header",
				 s->pgname, o->name, (long long)st.st_size);
	if (lz_get_le32(h) != LZ_FILE_PAGES_MAGIC || lz_get_le32(h + 4) != LZ_FILE_PAGES_VERSION)
		return lz_seterr(err, errlen, EINVAL, "%s (object %s): corrupt: magic %#x version %u, expected %#x (\"LZFP\") version %u",
				 s->pgname, o->name, lz_get_le32(h), lz_get_le32(h + 4), LZ_FILE_PAGES_MAGIC,
				 LZ_FILE_PAGES_VERSION);
	if (lz_get_le32(h + 8) != o->remap_id || lz_get_le32(h + 12) != o->page_size ||
	    lz_get_le64(h + 16) != o->nr_data_pages || lz_get_le64(h + 24) != o->size)
		return lz_seterr(err, errlen, EINVAL,
				 "%s (object %s): corrupt: header says id %u, page size %u, %llu data pages, size %llu; the image says %u, %u, %llu, %llu",
				 s->pgname, o->name, lz_get_le32(h + 8), lz_get_le32(h + 12),
				 (unsigned long long)lz_get_le64(h + 16), (unsigned long long)lz_get_le64(h + 24), o->remap_id,
				 o->page_size, (unsigned long long)o->nr_data_pages, (unsigned long long)o->size);
	want = LZ_FILE_PAGES_HDR + o->nr_data_pages * o->page_size; /* bounded by o->size, checked by the caller */
	if ((uint64_t)st.st_size != want)
		return lz_seterr(err, errlen, EINVAL, "%s (object %s): %s: %lld bytes, its %llu pages of %u need %llu",
				 s->pgname, o->name, (uint64_t)st.st_size < want ? "truncated" : "corrupt",
				 (long long)st.st_size, (unsigned long long)o->nr_data_pages, o->page_size,
				 (unsigned long long)want);
	return 0;
}

/* One run per data run of the object, the last clipped to its size. */
static int file_runs(struct lz_pagesrc *s, const struct lz_obj *o, char *err, size_t errlen)
{
	uint64_t ps = o->page_size;
	size_t i;

	s->runs = calloc(o->nr_runs + 1, sizeof(*s->runs));
	if (!s->runs)
		return lz_seterr(err, errlen, ENOMEM, "%s (object %s): no memory for %zu runs", s->pgname, o->name,
				 o->nr_runs);
	s->cap = o->nr_runs + 1;
	for (i = 0; i < o->nr_runs; i++) {
		struct pm_run *r = &s->runs[s->nr++];

		r->off = o->runs[i].start * ps;
		r->end = (o->runs[i].start + o->runs[i].len) * ps;
		if (r->end > o->size)
			r->end = o->size;
		r->file_off = LZ_FILE_PAGES_HDR + o->runs[i].first * ps;
		s->data_bytes += r->end - r->off;
	}
	return 0;
}

static int open_file_obj(int dirfd, const struct lz_obj *o, struct lz_pagesrc *s, char *err, size_t errlen)
{
	int ret;

	snprintf(s->pmname, sizeof(s->pmname), "%s", o->name);
	if (!o->pages_file || strchr(o->pages_file, '/') || strlen(o->pages_file) >= sizeof(s->pgname))
		return lz_seterr(err, errlen, EINVAL, "%s object %s: no valid pages file name", lzimg_kind_name(o->kind),
				 o->name);
	snprintf(s->pgname, sizeof(s->pgname), "%s", o->pages_file);
	/* nr_pages = ceil(size / page_size) (loader), so these can't overflow. */
	if (o->size > INT64_MAX || o->nr_data_pages > o->nr_pages)
		return lz_seterr(err, errlen, EINVAL, "%s (object %s): corrupt: size %llu, %llu data pages", s->pgname,
				 o->name, (unsigned long long)o->size, (unsigned long long)o->nr_data_pages);
	s->pages_fd = openat(dirfd, s->pgname, O_RDONLY | O_CLOEXEC);
	if (s->pages_fd < 0)
		return lz_seterr(err, errlen, errno, "%s (object %s): can't open: %s", s->pgname, o->name, strerror(errno));
	ret = check_file_pages(s, o, err, errlen);
	if (!ret)
		ret = file_runs(s, o, err, errlen);
	return ret;
}

int lz_pagesrc_open_obj(int dirfd, const struct lz_obj *o, struct lz_pagesrc **out, char *err, size_t errlen)
{
	struct lz_pagesrc *s;
	int ret;

	if (o->remote)
		return lz_seterr(err, errlen, EOPNOTSUPP,
				 "%s %#llx \"%s\": its content is not in the images, the dump's source serves it",
				 lzimg_kind_name(o->kind), (unsigned long long)o->shmid, o->name);
	if (!lzimg_kind_is_file(o->kind))
		return lz_pagesrc_open(dirfd, o->shmid, out, err, errlen);
	s = calloc(1, sizeof(*s));
	if (!s)
		return lz_seterr(err, errlen, ENOMEM, "%s: no memory", o->name);
	s->pages_fd = -1;
	ret = open_file_obj(dirfd, o, s, err, errlen);
	if (ret) {
		lz_pagesrc_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

int lz_pagesrc_open_remote_obj(int dirfd, const struct lz_obj *o, struct lz_pagesrc **out, char *err, size_t errlen)
{
	struct lz_pagesrc *s;
	int ret;

	if (!o->remote)
		return lz_seterr(err, errlen, EINVAL, "%s %#llx \"%s\": its content is in the images, not remote",
				 lzimg_kind_name(o->kind), (unsigned long long)o->shmid, o->name);
	if (!lzimg_kind_is_file(o->kind))
		return lz_pagesrc_open_remote(dirfd, o->shmid, out, err, errlen);
	s = calloc(1, sizeof(*s));
	if (!s)
		return lz_seterr(err, errlen, ENOMEM, "%s: no memory", o->name);
	s->pages_fd = -1;
	s->remote = 1;
	snprintf(s->pmname, sizeof(s->pmname), "%s", o->name);
	snprintf(s->pgname, sizeof(s->pgname), "(remote)");
	ret = file_runs(s, o, err, errlen);
	if (ret) {
		lz_pagesrc_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

void lz_pagesrc_close(struct lz_pagesrc *src)
{
	if (!src)
		return;
	if (src->pages_fd >= 0)
		close(src->pages_fd);
	while (src->nr_fds--)
		if (src->fds[src->nr_fds] >= 0)
			close(src->fds[src->nr_fds]);
	free(src->fds);
	free(src->parent);
	free(src->runs);
	free(src->scratch);
	if (src->xxh)
		XXH3_freeState(src->xxh);
	free(src);
}

const char *lz_pagesrc_error(const struct lz_pagesrc *src)
{
	return src->err;
}

uint64_t lz_pagesrc_data_bytes(const struct lz_pagesrc *src)
{
	return src->data_bytes;
}

uint64_t lz_pagesrc_data_end(const struct lz_pagesrc *src)
{
	return src->nr ? src->runs[src->nr - 1].end : 0;
}

/* Index of the first run ending after off (nr if none). */
static size_t find_run(const struct lz_pagesrc *s, uint64_t off)
{
	size_t lo = 0, hi = s->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->runs[mid].end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int pread_all(struct lz_pagesrc *s, const struct pm_run *r, uint8_t *dst, size_t len, uint64_t foff)
{
	int fd = r->src ? s->fds[r->src - 1] : s->pages_fd;

	while (len) {
		ssize_t n = pread(fd, dst, len, foff);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lz_seterr(s->err, sizeof(s->err), errno, "%s: read of %zu bytes at %llu failed: %s", s->pgname,
					 len, (unsigned long long)foff, strerror(errno));
		if (n == 0)
			return lz_seterr(s->err, sizeof(s->err), EIO, "%s: ends at %llu, %s expects data there (truncated?)",
					 s->pgname, (unsigned long long)foff, s->pmname);
		dst += n;
		len -= n;
		foff += n;
	}
	return 0;
}

int lz_pagesrc_read(struct lz_pagesrc *src, uint64_t off, void *dst, size_t len)
{
	uint8_t *d = dst;
	size_t i;
	int ret;

	if (off > UINT64_MAX - len)
		return lz_seterr(src->err, sizeof(src->err), EINVAL, "%s: read at %llu + %zu overflows", src->pmname,
				 (unsigned long long)off, len);
	if (src->pages_fd < 0 && src->nr)
		return lz_seterr(src->err, sizeof(src->err), EBADF, "%s: %s", src->pmname,
				 src->remote ? "the dump's source serves these pages, they are not in the images" :
					       "no pages image open");
	for (i = find_run(src, off); len; i++) {
		const struct pm_run *r = i < src->nr ? &src->runs[i] : NULL;
		uint64_t hole = r ? (r->off > off ? r->off - off : 0) : len;
		size_t n;

		n = hole < len ? hole : len;
		memset(d, 0, n);
		d += n, off += n, len -= n;
		if (!len)
			break;
		n = r->end - off < len ? r->end - off : len;
		ret = pread_all(src, r, d, n, r->file_off + (off - r->off));
		if (ret)
			return ret;
		d += n, off += n, len -= n;
	}
	return 0;
}

int lz_pagesrc_locate(struct lz_pagesrc *src, uint64_t off, uint64_t *file_off, uint64_t *len)
{
	size_t i = find_run(src, off);

	if (i >= src->nr) {
		*len = UINT64_MAX - off;
		return 0;
	}
	if (src->runs[i].off > off) {
		*len = src->runs[i].off - off;
		return 0;
	}
	*file_off = src->runs[i].file_off + (off - src->runs[i].off);
	*len = src->runs[i].end - off;
	return 1;
}

int lz_pagesrc_pages_fd(const struct lz_pagesrc *src)
{
	return src->nr_fds ? -1 : src->pages_fd; /* a chain has none of its own */
}

int lz_pagesrc_chained(const struct lz_pagesrc *src)
{
	return src->nr_fds > 0;
}

int lz_pagesrc_next_data(struct lz_pagesrc *src, uint64_t off, uint64_t *start, uint64_t *end)
{
	size_t i = find_run(src, off);

	if (i >= src->nr)
		return 0;
	*start = src->runs[i].off > off ? src->runs[i].off : off;
	*end = src->runs[i].end;
	return 1;
}

int lz_pagesrc_has_data(struct lz_pagesrc *src, uint64_t off, size_t len)
{
	uint64_t s, e;

	if (!len || !lz_pagesrc_next_data(src, off, &s, &e))
		return 0;
	return s - off < len;
}

int lz_pagesrc_digest(struct lz_pagesrc *src, uint64_t idx, uint32_t page_size, uint64_t *digest)
{
	uint64_t off, done;
	int ret;

	if (!page_size || idx > UINT64_MAX / page_size - 1)
		return lz_seterr(src->err, sizeof(src->err), EINVAL, "%s: page %llu of %u bytes is out of range",
				 src->pmname, (unsigned long long)idx, page_size);
	if (!src->scratch) {
		src->scratch = malloc(SCRATCH_SIZE);
		src->xxh = XXH3_createState();
		if (!src->scratch || !src->xxh)
			return lz_seterr(src->err, sizeof(src->err), ENOMEM, "%s: no memory", src->pmname);
	}
	off = idx * page_size;
	if (XXH3_64bits_reset(src->xxh) != XXH_OK)
		return lz_seterr(src->err, sizeof(src->err), EINVAL, "xxhash: reset failed");
	for (done = 0; done < page_size; done += SCRATCH_SIZE) {
		size_t n = page_size - done < SCRATCH_SIZE ? page_size - done : SCRATCH_SIZE;

		ret = lz_pagesrc_read(src, off + done, src->scratch, n);
		if (ret)
			return ret;
		if (LZ_XXH3_UPDATE(src->xxh, src->scratch, n) != XXH_OK)
			return lz_seterr(src->err, sizeof(src->err), EINVAL, "xxhash: update failed");
	}
	*digest = XXH3_64bits_digest(src->xxh);
	return 0;
}
