// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dump side for files on tmpfs and hugetlbfs (the DUMP_FILE hook): read the
 * file's content while the tasks are frozen, write it densely into
 * lazyshm-file-<id>.pages with one XXH3 digest per data page, and describe
 * it as a file object for lazyshm-shmem.img (see lzimg.h).
 *
 * tmpfs: SEEK_DATA/SEEK_HOLE tell the pages that exist; they are read in
 * chunks of up to 2 MiB. The seeks run on a private description of the file
 * (reopened through /proc/self/fd), so the dumped task's file position is
 * never moved.
 *
 * hugetlbfs: SEEK_DATA reports the whole file as data, so every huge page is
 * read, in slices of at most 2 MiB (a 1G page needs no 1G buffer), and one
 * that reads as zeros is a hole. pread() of a hole allocates nothing; the
 * file is never mmapped (that would fault pages in and need free hugepages).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "lzdigest.h"

#include "lzimg-int.h"
#include "lzimg.h"

#define CHUNK	     (2u << 20)
#define BOOT_ID_FILE "/proc/sys/kernel/random/boot_id"

struct fdump {
	int src;	  /* the file, read with pread() only */
	int out;	  /* the temporary pages file */
	const char *path; /* for error texts */
	int kind;
	uint32_t ps;
	uint64_t size;
	uint8_t *buf; /* CHUNK bytes */
	XXH3_state_t *xxh;
	struct lz_range *runs;
	size_t nr_runs, cap_runs;
	uint64_t *dig;
	uint64_t nr_data, cap_dig;
	char *err;
	size_t errlen;
};

/* Kind and page size from the file system the file lives on. */
static int fs_geometry(struct fdump *d, int fd, const struct stat *st)
{
	struct statfs sfs;
	uint64_t ps;

	if (!S_ISREG(st->st_mode))
		return lz_seterr(d->err, d->errlen, EINVAL, "%s: not a regular file (mode %#o)", d->path, st->st_mode);
	if (fstatfs(fd, &sfs) < 0)
		return lz_seterr(d->err, d->errlen, errno, "%s: statfs failed: %s", d->path, strerror(errno));
	if ((uint64_t)sfs.f_type == TMPFS_MAGIC) {
		d->kind = LZ_KIND_SHM_FILE;
		d->ps = LZIMG_MIN_PAGESZ;
		return 0;
	}
	if ((uint64_t)sfs.f_type != HUGETLBFS_MAGIC)
		return lz_seterr(d->err, d->errlen, EINVAL, "%s: not on tmpfs or hugetlbfs (file system type %#llx)",
				 d->path, (unsigned long long)sfs.f_type);
	ps = sfs.f_bsize;
	if (ps <= LZIMG_MIN_PAGESZ || ps > LZIMG_MAX_PAGESZ || (ps & (ps - 1)))
		return lz_seterr(d->err, d->errlen, EINVAL, "%s: hugetlbfs page size %llu is not supported", d->path,
				 (unsigned long long)ps);
	if (st->st_size % ps)
		return lz_seterr(d->err, d->errlen, EINVAL, "%s: size %lld is not a multiple of its huge page size %llu",
				 d->path, (long long)st->st_size, (unsigned long long)ps);
	d->kind = LZ_KIND_HUGETLB_FILE;
	d->ps = ps;
	return 0;
}

/* Our own open file description of fd: seeking it moves nobody's position. */
static int reopen_private(struct fdump *d, int fd, const struct stat *st)
{
	char link[64];
	struct stat now;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	d->src = open(link, O_RDONLY | O_CLOEXEC);
	if (d->src < 0)
		return lz_seterr(d->err, d->errlen, errno, "%s: can't reopen it through %s: %s", d->path, link,
				 strerror(errno));
	if (fstat(d->src, &now) < 0)
		return lz_seterr(d->err, d->errlen, errno, "%s: stat after reopen failed: %s", d->path, strerror(errno));
	if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return lz_seterr(d->err, d->errlen, EINVAL, "%s: reopened as another file (inode %llu, expected %llu)",
				 d->path, (unsigned long long)now.st_ino, (unsigned long long)st->st_ino);
	return 0;
}

/* A new data run [start, start + len) after the last one */
static int new_run(struct fdump *d, uint64_t start, uint64_t len)
{
	if (d->nr_runs == d->cap_runs) {
		size_t cap = d->cap_runs ? d->cap_runs * 2 : 16;
		struct lz_range *r = realloc(d->runs, cap * sizeof(*r));

		if (!r)
			return lz_seterr(d->err, d->errlen, ENOMEM, "%s: no memory for %zu runs", d->path, cap);
		d->runs = r;
		d->cap_runs = cap;
	}
	d->runs[d->nr_runs++] = (struct lz_range){ .start = start, .len = len };
	return 0;
}

/* Page idx (of ps bytes) has data with digest dg; pages come ascending. */
static int add_page(struct fdump *d, uint64_t idx, uint64_t dg)
{
	struct lz_range *r = d->nr_runs ? &d->runs[d->nr_runs - 1] : NULL;

	if (d->nr_data == d->cap_dig) {
		uint64_t cap = d->cap_dig ? d->cap_dig * 2 : 256;
		uint64_t *n = realloc(d->dig, cap * sizeof(*n));

		if (!n)
			return lz_seterr(d->err, d->errlen, ENOMEM, "%s: no memory for %llu digests", d->path,
					 (unsigned long long)cap);
		d->dig = n;
		d->cap_dig = cap;
	}
	d->dig[d->nr_data++] = dg;
	if (r && r->start + r->len == idx) {
		r->len++;
		return 0;
	}
	return new_run(d, idx, 1);
}

/* len bytes of the file at off into d->buf; what lies past the size is zeros. */
static int read_full(struct fdump *d, uint64_t off, size_t len)
{
	size_t want = off >= d->size ? 0 : (d->size - off < len ? d->size - off : len), done = 0;

	while (done < want) {
		ssize_t n = pread(d->src, d->buf + done, want - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lz_seterr(d->err, d->errlen, errno, "%s: read of %zu bytes at %llu failed: %s", d->path,
					 want - done, (unsigned long long)(off + done), strerror(errno));
		if (n == 0)
			return lz_seterr(d->err, d->errlen, EIO, "%s: ends at %llu, before its size %llu (truncated meanwhile?)",
					 d->path, (unsigned long long)(off + done), (unsigned long long)d->size);
		done += n;
	}
	memset(d->buf + want, 0, len - want);
	return 0;
}

static int pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* len bytes of d->buf to data page k of the pages file, at offset within it. */
static int put(struct fdump *d, uint64_t k, uint64_t within, size_t len)
{
	uint64_t off = LZ_FILE_PAGES_HDR + k * d->ps + within;
	int ret = pwrite_all(d->out, d->buf, len, off);

	if (ret)
		return lz_seterr(d->err, d->errlen, -ret, "pages file of %s: write of %zu bytes at %llu failed: %s",
				 d->path, len, (unsigned long long)off, strerror(-ret));
	return 0;
}

/* tmpfs: 4K pages [first, end), all with data, in chunks. */
static int copy_pages(struct fdump *d, uint64_t first, uint64_t end)
{
	uint64_t p, i, n;
	int ret;

	for (p = first; p < end; p += n) {
		n = end - p < CHUNK / LZIMG_MIN_PAGESZ ? end - p : CHUNK / LZIMG_MIN_PAGESZ;
		ret = read_full(d, p * LZIMG_MIN_PAGESZ, n * LZIMG_MIN_PAGESZ);
		if (!ret)
			ret = put(d, d->nr_data, 0, n * LZIMG_MIN_PAGESZ);
		for (i = 0; !ret && i < n; i++)
			ret = add_page(d, p + i, LZ_XXH3_64(d->buf + i * LZIMG_MIN_PAGESZ, LZIMG_MIN_PAGESZ));
		if (ret)
			return ret;
	}
	return 0;
}

static int dump_tmpfs(struct fdump *d)
{
	uint64_t off = 0;
	off_t data, hole;
	int ret;

	while (off < d->size) {
		data = lseek(d->src, off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* no data after off */
		if (data < 0)
			return lz_seterr(d->err, d->errlen, errno, "%s: SEEK_DATA at %llu failed: %s", d->path,
					 (unsigned long long)off, strerror(errno));
		if ((uint64_t)data >= d->size)
			break;
		hole = lseek(d->src, data, SEEK_HOLE);
		if (hole < 0)
			return lz_seterr(d->err, d->errlen, errno, "%s: SEEK_HOLE at %lld failed: %s", d->path,
					 (long long)data, strerror(errno));
		if ((uint64_t)hole > d->size)
			hole = d->size;
		off = ((uint64_t)hole + LZIMG_MIN_PAGESZ - 1) / LZIMG_MIN_PAGESZ * LZIMG_MIN_PAGESZ;
		ret = copy_pages(d, (uint64_t)data / LZIMG_MIN_PAGESZ, off / LZIMG_MIN_PAGESZ);
		if (ret)
			return ret;
	}
	return 0;
}

static int all_zero(const uint8_t *b, size_t len)
{
	return !b[0] && !memcmp(b, b + 1, len - 1);
}

/* hugetlbfs: huge page p, digested slice by slice; all zeros is a hole. */
static int dump_huge_page(struct fdump *d, uint64_t p)
{
	uint64_t done;
	int data = 0, ret;

	if (XXH3_64bits_reset(d->xxh) != XXH_OK)
		return lz_seterr(d->err, d->errlen, EINVAL, "%s: xxhash reset failed", d->path);
	for (done = 0; done < d->ps; done += CHUNK) {
		size_t n = d->ps - done < CHUNK ? d->ps - done : CHUNK;

		ret = read_full(d, p * d->ps + done, n);
		if (ret)
			return ret;
		if (LZ_XXH3_UPDATE(d->xxh, d->buf, n) != XXH_OK)
			return lz_seterr(d->err, d->errlen, EINVAL, "%s: xxhash update failed", d->path);
		if (all_zero(d->buf, n))
			continue; /* left sparse in the pages file: reads as zeros */
		data = 1;
		ret = put(d, d->nr_data, done, n);
		if (ret)
			return ret;
	}
	return data ? add_page(d, p, XXH3_64bits_digest(d->xxh)) : 0;
}

static int dump_hugetlb(struct fdump *d)
{
	uint64_t p;
	int ret;

	d->xxh = XXH3_createState();
	if (!d->xxh)
		return lz_seterr(d->err, d->errlen, ENOMEM, "%s: no memory for the hash state", d->path);
	for (p = 0; p < d->size / d->ps; p++) {
		ret = dump_huge_page(d, p);
		if (ret)
			return ret;
	}
	return 0;
}

/* Length, header, fsync, close, rename: the pages file is complete or absent. */
static int finish_pages(struct fdump *d, int dirfd, uint32_t id, const char *tmp, const char *name)
{
	uint8_t h[LZ_FILE_PAGES_HDR] = { 0 };
	int fd = d->out, ret = 0;

	lz_put_le32(h, LZ_FILE_PAGES_MAGIC);
	lz_put_le32(h + 4, LZ_FILE_PAGES_VERSION);
	lz_put_le32(h + 8, id);
	lz_put_le32(h + 12, d->ps);
	lz_put_le64(h + 16, d->nr_data);
	lz_put_le64(h + 24, d->size);
	d->out = -1;
	if (ftruncate(fd, LZ_FILE_PAGES_HDR + d->nr_data * d->ps) < 0)
		ret = -errno;
	if (!ret)
		ret = pwrite_all(fd, h, sizeof(h), 0);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && renameat(dirfd, tmp, dirfd, name) < 0)
		ret = -errno;
	if (ret)
		return lz_seterr(d->err, d->errlen, -ret, "%s (content of %s): write failed: %s", name, d->path,
				 strerror(-ret));
	return 0;
}

int lzimg_boot_id(char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(BOOT_ID_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	if (close(fd) < 0 && n >= 0)
		n = -errno;
	if (n <= 0)
		return n ? (int)n : -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int read_boot_id(struct fdump *d, char **out)
{
	char buf[128];
	int ret = lzimg_boot_id(buf, sizeof(buf));

	if (ret)
		return lz_seterr(d->err, d->errlen, -ret, "%s: can't read %s: %s", d->path, BOOT_ID_FILE,
				 strerror(-ret));
	*out = strdup(buf);
	if (!*out)
		return lz_seterr(d->err, d->errlen, ENOMEM, "%s: no memory", d->path);
	return 0;
}

/* Move the results into *s (all malloc()ed; lzimg_spec_free() frees them). */
/* @name NULL: a remote object, its content stays on the dump's source */
static int fill_spec(struct fdump *d, uint32_t id, const char *name, const struct stat *st, struct lz_obj_spec *s)
{
	char *boot_id = NULL;
	int ret;

	ret = read_boot_id(d, &boot_id);
	if (ret)
		return ret;
	s->boot_id = boot_id;
	s->name = strdup(d->path);
	s->pages_file = name ? strdup(name) : NULL;
	s->remote = !name;
	if (!s->name || (name && !s->pages_file))
		return lz_seterr(d->err, d->errlen, ENOMEM, "%s: no memory", d->path);
	s->shmid = LZ_FILE_SHMID(id);
	s->kind = d->kind;
	s->page_size = d->ps;
	s->size = d->size;
	s->nr_pages = d->size / d->ps + (d->size % d->ps != 0);
	s->nr_data_pages = d->nr_data;
	s->nr_digests = d->dig ? d->nr_data : 0;
	s->runs = s->hint = d->runs;
	s->nr_runs = s->nr_hint = d->nr_runs;
	s->hint_kind = LZ_HINT_RESIDENT;
	s->digests = d->dig;
	d->runs = NULL;
	d->dig = NULL;
	s->remap_id = id;
	s->unlinked = st->st_nlink == 0;
	s->mode = st->st_mode;
	s->uid = st->st_uid;
	s->gid = st->st_gid;
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	return 0;
}

static int dump_content(struct fdump *d, int dirfd, int fd, const struct stat *st, const char *tmp)
{
	d->buf = aligned_alloc(LZIMG_MIN_PAGESZ, CHUNK);
	if (!d->buf)
		return lz_seterr(d->err, d->errlen, ENOMEM, "%s: no memory for a %u-byte buffer", d->path, CHUNK);
	d->out = openat(dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (d->out < 0)
		return lz_seterr(d->err, d->errlen, errno, "%s (content of %s): can't create: %s", tmp, d->path,
				 strerror(errno));
	if (d->kind == LZ_KIND_HUGETLB_FILE) {
		d->src = fd; /* pread() only: the shared description is not touched */
		return dump_hugetlb(d);
	}
	return reopen_private(d, fd, st) ?: dump_tmpfs(d);
}

/* Release what d holds; after a failure (ret) remove the pages file name. */
static int fdump_end(struct fdump *d, int fd, int ret, int dirfd, const char *file)
{
	if (d->out >= 0 && close(d->out) < 0 && !ret)
		ret = lz_seterr(d->err, d->errlen, errno, "%s: close failed: %s", file, strerror(errno));
	if (d->src >= 0 && d->src != fd && close(d->src) < 0 && !ret)
		ret = lz_seterr(d->err, d->errlen, errno, "%s: close of the reopened file failed: %s", d->path,
				strerror(errno));
	if (ret && unlinkat(dirfd, file, 0) < 0 && errno != ENOENT && d->err) {
		size_t n = strlen(d->err);

		snprintf(d->err + n, d->errlen - n, "; %s could not be removed: %s", file, strerror(errno));
	}
	free(d->buf);
	free(d->runs);
	free(d->dig);
	if (d->xxh)
		XXH3_freeState(d->xxh);
	return ret;
}

int lzimg_dump_file(int dirfd, int fd, uint32_t id, const char *path, const struct stat *st, struct lz_obj_spec *spec,
		    char *err, size_t errlen)
{
	struct fdump d = { .src = -1, .out = -1, .path = path, .size = st->st_size, .err = err, .errlen = errlen };
	char name[64], tmp[80];
	int ret;

	memset(spec, 0, sizeof(*spec));
	if (id == 0)
		return lz_seterr(err, errlen, EINVAL, "%s: object id 0 (CRIU's ids start at 1)", path);
	ret = fs_geometry(&d, fd, st);
	if (ret)
		return ret;
	snprintf(name, sizeof(name), LZ_FILE_PAGES_FMT, id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	ret = dump_content(&d, dirfd, fd, st, tmp);
	if (!ret)
		ret = finish_pages(&d, dirfd, id, tmp, name);
	if (ret)
		return fdump_end(&d, fd, ret, dirfd, tmp);
	ret = fill_spec(&d, id, name, st, spec);
	if (ret)
		lzimg_spec_free(spec);
	return fdump_end(&d, fd, ret, dirfd, name);
}

/* Pages [first, end) have data (remote objects: no digests), ascending */
static int add_range(struct fdump *d, uint64_t first, uint64_t end)
{
	struct lz_range *r = d->nr_runs ? &d->runs[d->nr_runs - 1] : NULL;

	if (first >= end)
		return 0;
	d->nr_data += end - first;
	if (r && r->start + r->len >= first) {
		r->len = end - r->start;
		return 0;
	}
	return new_run(d, first, end - first);
}

/* The data runs of a tmpfs file from SEEK_DATA/SEEK_HOLE, reading nothing */
static int remote_tmpfs_runs(struct fdump *d)
{
	uint64_t off = 0, ps = LZIMG_MIN_PAGESZ;
	off_t data, hole;
	int ret = 0;

	while (!ret && off < d->size) {
		data = lseek(d->src, off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		hole = data < 0 ? -1 : lseek(d->src, data, SEEK_HOLE);
		if (hole < 0)
			return lz_seterr(d->err, d->errlen, errno, "%s: SEEK_DATA/SEEK_HOLE at %llu failed: %s", d->path,
					 (unsigned long long)off, strerror(errno));
		if ((uint64_t)data >= d->size)
			break;
		if ((uint64_t)hole > d->size)
			hole = d->size;
		off = ((uint64_t)hole + ps - 1) / ps * ps;
		ret = add_range(d, (uint64_t)data / ps, off / ps);
	}
	return ret;
}

int lzimg_dump_file_remote(int fd, uint32_t id, const char *path, const struct stat *st, struct lz_obj_spec *spec,
			   char *err, size_t errlen)
{
	struct fdump d = { .src = -1, .out = -1, .path = path, .size = st->st_size, .err = err, .errlen = errlen };
	int ret;

	memset(spec, 0, sizeof(*spec));
	if (id == 0)
		return lz_seterr(err, errlen, EINVAL, "%s: object id 0 (CRIU's ids start at 1)", path);
	ret = fs_geometry(&d, fd, st);
	if (!ret && d.kind == LZ_KIND_HUGETLB_FILE)
		ret = add_range(&d, 0, d.size / d.ps); /* no SEEK_DATA on hugetlbfs; its size is whole pages */
	else if (!ret)
		ret = reopen_private(&d, fd, st) ?: remote_tmpfs_runs(&d);
	if (!ret)
		ret = fill_spec(&d, id, NULL, st, spec);
	if (ret)
		lzimg_spec_free(spec);
	if (d.src >= 0 && d.src != fd)
		close(d.src);
	free(d.runs);
	return ret;
}

void lzimg_spec_free(struct lz_obj_spec *spec)
{
	if (spec->hint != spec->runs)
		free((void *)spec->hint);
	free((void *)spec->runs);
	free((void *)spec->digests);
	free((void *)spec->name);
	free((void *)spec->boot_id);
	free((void *)spec->pages_file);
	memset(spec, 0, sizeof(*spec));
}
