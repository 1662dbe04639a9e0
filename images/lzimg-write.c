// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writer of lazyshm-shmem.img: encoding of object specs into the framed
 * protobuf stream, semantic checks, and an atomic write into the image dir.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lazyshm.pb-c.h"
#include "lzimg-int.h"
#include "lzimg.h"

/* Flatten (start, len) ranges into a newly allocated pair array. */
static uint64_t *flatten(const struct lz_range *r, size_t n)
{
	uint64_t *v;
	size_t i;

	v = calloc(n * 2 + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		v[2 * i] = r[i].start;
		v[2 * i + 1] = r[i].len;
	}
	return v;
}

/* File fields: explicit for file kinds, only when set for the others (so
 * that tests can build images the reader must refuse). */
static void file_to_msg(const struct lz_obj_spec *s, LazyshmObject *m)
{
	int file = lzimg_kind_is_file(s->kind);

	m->has_criu_remap_id = s->remap_id != 0;
	m->criu_remap_id = s->remap_id;
	m->has_unlinked = file || s->unlinked;
	m->unlinked = !!s->unlinked;
	m->has_mode = file || s->mode;
	m->mode = s->mode;
	m->has_uid = file || s->uid;
	m->uid = s->uid;
	m->has_gid = file || s->gid;
	m->gid = s->gid;
	m->has_dev = file || s->dev;
	m->dev = s->dev;
	m->has_ino = file || s->ino;
	m->ino = s->ino;
	m->has_ctime_ns = file || s->ctime_ns;
	m->ctime_ns = s->ctime_ns;
	m->boot_id = (char *)s->boot_id;
	m->pages_file = (char *)s->pages_file;
	m->has_private_mapped = file || s->private_mapped;
	m->private_mapped = !!s->private_mapped;
}

static void spec_to_msg(const struct lz_obj_spec *s, LazyshmObject *m, uint64_t *runs, uint64_t *hint)
{
	m->shmid = s->shmid;
	m->kind = s->kind;
	m->name = (char *)s->name;
	m->has_sysv_key = s->has_sysv_key;
	m->sysv_key = s->sysv_key;
	m->page_size = s->page_size;
	m->size = s->size;
	m->nr_pages = s->nr_pages;
	m->nr_data_pages = s->nr_data_pages;
	m->n_data_runs = s->nr_runs * 2;
	m->data_runs = runs;
	m->n_digests = s->nr_digests;
	m->digests = (uint64_t *)s->digests;
	m->has_hint_kind = s->hint_kind != LZ_HINT_NONE || s->nr_hint;
	m->hint_kind = s->hint_kind;
	m->n_hint_runs = s->nr_hint * 2;
	m->hint_runs = hint;
	m->has_hugetlb_flag = s->hugetlb_flag != 0;
	m->hugetlb_flag = s->hugetlb_flag;
	file_to_msg(s, m);
}

/* The presence messages of an object, flattened; what pres_free() frees */
struct pres_msgs {
	LazyshmPresence *msgs;
	LazyshmPresence **ptrs;
	size_t n;
};

static void pres_free(struct pres_msgs *p)
{
	size_t i;

	for (i = 0; p->msgs && i < p->n; i++)
		free(p->msgs[i].runs);
	free(p->msgs);
	free(p->ptrs);
}

static int pres_to_msgs(const struct lz_obj_spec *s, struct pres_msgs *p)
{
	size_t i;

	p->n = s->nr_presence;
	p->msgs = calloc(p->n + 1, sizeof(*p->msgs));
	p->ptrs = calloc(p->n + 1, sizeof(*p->ptrs));
	if (!p->msgs || !p->ptrs)
		return -1;
	for (i = 0; i < p->n; i++) {
		lazyshm_presence__init(&p->msgs[i]);
		p->msgs[i].task = s->presence[i].task;
		p->msgs[i].runs = flatten(s->presence[i].runs, s->presence[i].nr_runs);
		if (!p->msgs[i].runs)
			return -1;
		p->msgs[i].n_runs = s->presence[i].nr_runs * 2;
		p->ptrs[i] = &p->msgs[i];
	}
	return 0;
}

/* Append one u32-prefixed object message at *pos of buf (sized by caller). */
static int pack_obj(const struct lz_obj_spec *s, uint8_t *buf, size_t *pos, char *err, size_t errlen)
{
	LazyshmObject m = LAZYSHM_OBJECT__INIT;
	struct pres_msgs pres = { 0 };
	uint64_t *runs, *hint;
	size_t n;
	int ret = 0;

	runs = flatten(s->runs, s->nr_runs);
	hint = flatten(s->hint, s->nr_hint);
	if (!runs || !hint || pres_to_msgs(s, &pres)) {
		ret = lz_seterr(err, errlen, ENOMEM, "%s: no memory to encode shmid %llu", LZIMG_FILE,
				(unsigned long long)s->shmid);
		goto out;
	}
	spec_to_msg(s, &m, runs, hint);
	m.has_digests_pending = s->digests_pending != 0;
	m.digests_pending = !!s->digests_pending;
	m.has_remote = s->remote != 0;
	m.remote = !!s->remote;
	m.n_presence = pres.n;
	m.presence = pres.ptrs;
	n = lazyshm_object__get_packed_size(&m);
	if (buf) {
		lz_put_le32(buf + *pos, (uint32_t)n);
		lazyshm_object__pack(&m, buf + *pos + 4);
	}
	if (n > UINT32_MAX)
		ret = lz_seterr(err, errlen, EFBIG, "%s: shmid %llu encodes to %zu bytes, more than an entry can hold",
				LZIMG_FILE, (unsigned long long)s->shmid, n);
	*pos += 4 + n;
out:
	pres_free(&pres);
	free(runs);
	free(hint);
	return ret;
}

static size_t pack_head(const struct lz_obj_spec *objs, size_t nr, uint32_t version, const uint8_t *dump_id,
			uint8_t *buf)
{
	LazyshmHead h = LAZYSHM_HEAD__INIT;
	size_t i, n;

	h.has_dump_id = dump_id != NULL;
	h.dump_id.data = (uint8_t *)dump_id;
	h.dump_id.len = dump_id ? LZIMG_DUMP_ID_LEN : 0;
	h.version = version;
	h.digest_algo = LAZYSHM_DIGEST_ALGO__XXH3_64;
	h.nr_objects = nr;
	h.has_total_size = 1;
	for (i = 0; i < nr; i++) {
		h.nr_digests += objs[i].nr_digests;
		h.total_size += objs[i].size;
	}
	n = lazyshm_head__get_packed_size(&h);
	if (buf) {
		lz_put_le32(buf, LZIMG_MAGIC);
		lz_put_le32(buf + 4, version);
		lz_put_le32(buf + 8, (uint32_t)n);
		lazyshm_head__pack(&h, buf + 12);
	}
	return 12 + n;
}

/* Two passes: size everything, then pack into one buffer. */
static int encode(const struct lz_obj_spec *objs, size_t nr, uint32_t version, const uint8_t *dump_id, void **buf,
		  size_t *len, char *err, size_t errlen)
{
	uint8_t *b = NULL;
	size_t pos, i, total;
	int pass, ret;

	if (nr > UINT32_MAX)
		return lz_seterr(err, errlen, EFBIG, "%s: too many objects (%zu)", LZIMG_FILE, nr);
	for (pass = 0; pass < 2; pass++) {
		pos = pack_head(objs, nr, version, dump_id, b);
		for (i = 0; i < nr; i++) {
			ret = pack_obj(&objs[i], b, &pos, err, errlen);
			if (ret) {
				free(b);
				return ret;
			}
		}
		if (pass == 0) {
			total = pos;
			b = malloc(total);
			if (!b)
				return lz_seterr(err, errlen, ENOMEM, "%s: no memory for %zu bytes", LZIMG_FILE, total);
		}
	}
	*buf = b;
	*len = total;
	return 0;
}

int lzimg_encode(const struct lz_obj_spec *objs, size_t nr, uint32_t version, void **buf, size_t *len, char *err,
		 size_t errlen)
{
	return encode(objs, nr, version, NULL, buf, len, err, errlen);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

static int write_file_atomic(int dirfd, const char *name, const void *buf, size_t len, char *err, size_t errlen)
{
	char tmp[256];
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return lz_seterr(err, errlen, ENAMETOOLONG, "%s: name too long", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return lz_seterr(err, errlen, errno, "%s: can't create: %s", tmp, strerror(errno));
	ret = write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && renameat(dirfd, tmp, dirfd, name) < 0)
		ret = -errno;
	if (ret) {
		lz_seterr(err, errlen, -ret, "%s: write failed: %s", name, strerror(-ret));
		if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
			return ret; /* the first error is the one to report */
	}
	return ret;
}

static int write_named(int dirfd, const char *name, const uint8_t *dump_id, const struct lz_obj_spec *objs, size_t nr,
		       char *err, size_t errlen)
{
	struct lz_image *img = NULL;
	void *buf = NULL;
	size_t len = 0;
	int ret;

	ret = encode(objs, nr, LZIMG_VERSION, dump_id, &buf, &len, err, errlen);
	if (ret)
		return ret;
	/* Never write what the reader would refuse. */
	ret = lzimg_parse(buf, len, name, &img, err, errlen);
	if (ret)
		goto out;
	lzimg_free(img);
	ret = write_file_atomic(dirfd, name, buf, len, err, errlen);
out:
	free(buf);
	return ret;
}

int lzimg_write_file(int dirfd, const char *name, const struct lz_obj_spec *objs, size_t nr, char *err,
		     size_t errlen)
{
	return write_named(dirfd, name, NULL, objs, nr, err, errlen);
}

int lzimg_write_id(int dirfd, const uint8_t *dump_id, const struct lz_obj_spec *objs, size_t nr, char *err,
		   size_t errlen)
{
	return write_named(dirfd, LZIMG_FILE, dump_id, objs, nr, err, errlen);
}

int lzimg_write(int dirfd, const struct lz_obj_spec *objs, size_t nr, char *err, size_t errlen)
{
	return lzimg_write_id(dirfd, NULL, objs, nr, err, errlen);
}
