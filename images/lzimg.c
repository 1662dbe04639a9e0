// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reader of lazyshm-shmem.img: framing, protobuf decode, and a strict
 * validation of every object, so that the restore side can index digests
 * without further checks. Never trusts a length or a count from the file.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include "lzdigest.h"

#include "lazyshm.pb-c.h"
#include "lzimg-int.h"
#include "lzimg.h"

_Static_assert((int)LZ_KIND_ANON_SHARED == (int)LAZYSHM_KIND__ANON_SHARED, "kind");
_Static_assert((int)LZ_KIND_MEMFD == (int)LAZYSHM_KIND__MEMFD, "kind");
_Static_assert((int)LZ_KIND_SYSV == (int)LAZYSHM_KIND__SYSV, "kind");
_Static_assert((int)LZ_KIND_HUGETLB_ANON == (int)LAZYSHM_KIND__HUGETLB_ANON, "kind");
_Static_assert((int)LZ_KIND_HUGETLB_MEMFD == (int)LAZYSHM_KIND__HUGETLB_MEMFD, "kind");
_Static_assert((int)LZ_KIND_HUGETLB_SYSV == (int)LAZYSHM_KIND__HUGETLB_SYSV, "kind");
_Static_assert((int)LZ_KIND_HUGETLB_FILE == (int)LAZYSHM_KIND__HUGETLB_FILE, "kind");
_Static_assert((int)LZ_KIND_SHM_FILE == (int)LAZYSHM_KIND__SHM_FILE, "kind");
_Static_assert((int)LZ_DIGEST_XXH3_64 == (int)LAZYSHM_DIGEST_ALGO__XXH3_64, "algo");
_Static_assert((int)LZ_HINT_ACCESS_ORDER == (int)LAZYSHM_HINT_KIND__HINT_ACCESS_ORDER, "hint");

struct lz_image {
	bool meta; /* loaded without the digests (lzimg_load_meta) */
	LazyshmHead *head;
	size_t nr_objs;
	LazyshmObject **msgs; /* owned protobuf messages, in file order */
	struct lz_obj *objs;  /* sorted by shmid */
	uint64_t nr_digests;
	size_t nr_pending; /* objects with digests_pending */
	size_t nr_remote;  /* objects served by the dump's source */
};

/* The error context of one object being validated. */
struct objctx {
	bool meta;
	const char *fname;
	size_t index;
	uint64_t shmid;
	char *err;
	size_t errlen;
};

#define OBJERR(c, fmt, ...)                                                                                    \
	lz_seterr((c)->err, (c)->errlen, EINVAL, "%s: object #%zu (shmid %llu): " fmt, (c)->fname, (c)->index, \
		  (unsigned long long)(c)->shmid, ##__VA_ARGS__)

uint64_t lz_digest(const void *buf, size_t len)
{
	return LZ_XXH3_64(buf, len);
}

const char *lzimg_kind_name(int kind)
{
	static const char *const names[] = {
		[LZ_KIND_ANON_SHARED] = "anon-shared",
		[LZ_KIND_MEMFD] = "memfd",
		[LZ_KIND_SYSV] = "sysv",
		[LZ_KIND_HUGETLB_ANON] = "hugetlb-anon",
		[LZ_KIND_HUGETLB_MEMFD] = "hugetlb-memfd",
		[LZ_KIND_HUGETLB_SYSV] = "hugetlb-sysv",
		[LZ_KIND_HUGETLB_FILE] = "hugetlb-file",
		[LZ_KIND_SHM_FILE] = "shm-file",
	};

	if (kind < LZ_KIND_ANON_SHARED || kind > LZ_KIND_MAX)
		return "unknown";
	return names[kind];
}

int lzimg_kind_is_hugetlb(int kind)
{
	return kind == LZ_KIND_HUGETLB_ANON || kind == LZ_KIND_HUGETLB_MEMFD || kind == LZ_KIND_HUGETLB_SYSV ||
	       kind == LZ_KIND_HUGETLB_FILE;
}

int lzimg_kind_is_file(int kind)
{
	return kind == LZ_KIND_HUGETLB_FILE || kind == LZ_KIND_SHM_FILE;
}

const char *lzimg_hint_name(int hint_kind)
{
	switch (hint_kind) {
	case LZ_HINT_NONE:
		return "none";
	case LZ_HINT_RESIDENT:
		return "resident";
	case LZ_HINT_ACCESS_ORDER:
		return "access-order";
	}
	return "unknown";
}

static int check_geometry(struct objctx *c, const LazyshmObject *m, struct lz_obj *o)
{
	uint64_t ps = m->page_size, nr;

	if ((int)m->kind < LZ_KIND_ANON_SHARED || (int)m->kind > LZ_KIND_MAX)
		return OBJERR(c, "unknown kind %d", (int)m->kind);
	if (ps < LZIMG_MIN_PAGESZ || ps > LZIMG_MAX_PAGESZ || (ps & (ps - 1)))
		return OBJERR(c, "page size %llu is not a power of two in [4K, 2G]", (unsigned long long)ps);
	if (lzimg_kind_is_hugetlb(m->kind) != (ps > LZIMG_MIN_PAGESZ))
		return OBJERR(c, "page size %llu does not fit kind %s", (unsigned long long)ps, lzimg_kind_name(m->kind));
	nr = m->size / ps + (m->size % ps != 0);
	if (m->nr_pages != nr)
		return OBJERR(c, "page count %llu inconsistent with size %llu / page size %llu (expected %llu)",
			      (unsigned long long)m->nr_pages, (unsigned long long)m->size, (unsigned long long)ps,
			      (unsigned long long)nr);
	if (m->has_digest_algo && m->digest_algo != LAZYSHM_DIGEST_ALGO__XXH3_64)
		return OBJERR(c, "unknown digest algorithm %d", (int)m->digest_algo);
	o->shmid = m->shmid;
	o->kind = m->kind;
	o->page_size = m->page_size;
	o->size = m->size;
	o->nr_pages = nr;
	o->name = m->name ? m->name : "";
	o->has_sysv_key = m->has_sysv_key;
	o->sysv_key = m->sysv_key;
	o->hugetlb_flag = m->hugetlb_flag;
	o->digest_algo = LZ_DIGEST_XXH3_64;
	return 0;
}

/* "lazyshm-file-" digits ".pages": a plain name in the images directory. */
static int pages_file_name_ok(const char *s)
{
	static const char prefix[] = "lazyshm-file-";
	size_t digits;

	if (strncmp(s, prefix, sizeof(prefix) - 1))
		return 0;
	s += sizeof(prefix) - 1;
	digits = strspn(s, "0123456789");
	return digits > 0 && digits <= 10 && !strcmp(s + digits, ".pages");
}

/* Files on hugetlbfs/tmpfs: identity and pages file; nothing of it for
 * the other kinds. */
static int check_file(struct objctx *c, const LazyshmObject *m, struct lz_obj *o)
{
	const char *kn = lzimg_kind_name(m->kind);
	char want[64];

	if (!lzimg_kind_is_file(m->kind)) {
		if (m->pages_file || m->has_criu_remap_id)
			return OBJERR(c, "kind %s carries a %s (file kinds only)", kn,
				      m->pages_file ? "pages_file" : "criu_remap_id");
		return 0;
	}
	if (!m->name || m->name[0] != '/')
		return OBJERR(c, "%s object without an absolute path", kn);
	if (!m->has_criu_remap_id)
		return OBJERR(c, "%s \"%s\" has no criu_remap_id", kn, m->name);
	if (m->shmid != LZ_FILE_SHMID(m->criu_remap_id))
		return OBJERR(c, "%s \"%s\": shmid is not (1 << 63) | criu_remap_id %u", kn, m->name, m->criu_remap_id);
	if (m->remote && m->pages_file)
		return OBJERR(c, "%s \"%s\" is served by the dump's source but has a pages_file", kn, m->name);
	if (!m->remote && !m->pages_file)
		return OBJERR(c, "%s \"%s\" has no pages_file", kn, m->name);
	if (m->remote)
		; /* content on the dump's source */
	else if (!pages_file_name_ok(m->pages_file))
		return OBJERR(c, "%s \"%s\": pages_file \"%.64s\" is not lazyshm-file-<N>.pages", kn, m->name,
			      m->pages_file);
	snprintf(want, sizeof(want), LZ_FILE_PAGES_FMT, m->criu_remap_id);
	if (m->pages_file && strcmp(m->pages_file, want))
		return OBJERR(c, "%s \"%s\": pages_file %s does not belong to criu_remap_id %u (%s)", kn, m->name,
			      m->pages_file, m->criu_remap_id, want);
	if (m->kind == LAZYSHM_KIND__HUGETLB_FILE && m->size % m->page_size)
		return OBJERR(c, "%s \"%s\": size %llu is not a multiple of its page size %u", kn, m->name,
			      (unsigned long long)m->size, m->page_size);
	o->remap_id = m->criu_remap_id;
	o->unlinked = m->unlinked;
	o->mode = m->mode;
	o->uid = m->uid;
	o->gid = m->gid;
	o->dev = m->dev;
	o->ino = m->ino;
	o->ctime_ns = m->ctime_ns;
	o->boot_id = m->boot_id;
	o->pages_file = m->pages_file;
	o->private_mapped = m->private_mapped;
	return 0;
}

/* Check (start, len) pairs: len > 0, inside nr_pages; if ascending, also
 * strictly ascending and not adjacent. Returns the page total in *total. */
static int check_pairs(struct objctx *c, const char *what, const uint64_t *v, size_t n, uint64_t nr_pages,
		       int ascending, uint64_t *total)
{
	uint64_t sum = 0, prev_end = 0;
	size_t i;

	if (n % 2)
		return OBJERR(c, "%s has an odd number (%zu) of values", what, n);
	for (i = 0; i < n; i += 2) {
		uint64_t start = v[i], len = v[i + 1];

		if (len == 0)
			return OBJERR(c, "%s run %zu is empty", what, i / 2);
		if (start >= nr_pages || len > nr_pages - start)
			return OBJERR(c, "%s run %zu (pages %llu+%llu) lies beyond the object's %llu pages", what, i / 2,
				      (unsigned long long)start, (unsigned long long)len, (unsigned long long)nr_pages);
		if (ascending && i && start <= prev_end)
			return OBJERR(c, "%s run %zu starts at page %llu, not after the previous run's end %llu", what,
				      i / 2, (unsigned long long)start, (unsigned long long)prev_end);
		prev_end = start + len;
		sum += len; /* cannot overflow: ascending runs are disjoint in [0, nr_pages) */
		if (!ascending && sum < len)
			return OBJERR(c, "%s page total overflows", what);
	}
	*total = sum;
	return 0;
}

static int build_runs(struct objctx *c, const LazyshmObject *m, struct lz_obj *o)
{
	struct lz_run *runs = NULL;
	uint64_t total, first = 0;
	size_t i;
	int ret;

	ret = check_pairs(c, "data_runs", m->data_runs, m->n_data_runs, o->nr_pages, 1, &total);
	if (ret)
		return ret;
	if (total != m->nr_data_pages)
		return OBJERR(c, "data runs cover %llu pages but nr_data_pages says %llu", (unsigned long long)total,
			      (unsigned long long)m->nr_data_pages);
	if (m->digests_pending && m->n_digests)
		return OBJERR(c, "%zu digests, but its digests are marked pending", m->n_digests);
	if (m->remote && (m->n_digests || m->digests_pending))
		return OBJERR(c, "served by the dump's source, but %s", m->n_digests ? "has digests" : "its digests are pending");
	if (m->n_digests != total && !c->meta && !m->digests_pending && !m->remote)
		return OBJERR(c, "%zu digests for %llu pages with data (%s)", m->n_digests, (unsigned long long)total,
			      m->n_digests > total ? "more digests than pages" : "digests missing");
	if (m->n_data_runs) {
		runs = calloc(m->n_data_runs / 2, sizeof(*runs));
		if (!runs)
			return lz_seterr(c->err, c->errlen, ENOMEM, "%s: no memory for %zu runs", c->fname, m->n_data_runs / 2);
	}
	for (i = 0; i < m->n_data_runs / 2; i++) {
		runs[i].start = m->data_runs[2 * i];
		runs[i].len = m->data_runs[2 * i + 1];
		runs[i].first = first;
		first += runs[i].len;
	}
	o->nr_data_pages = total;
	o->nr_runs = m->n_data_runs / 2;
	o->runs = runs;
	o->digests_pending = m->digests_pending;
	o->remote = m->remote;
	o->digests = c->meta || m->digests_pending || m->remote ? NULL : m->digests;
	return 0;
}

/* Presence records: tasks strictly ascending, runs as strict as data_runs */
static int build_presence(struct objctx *c, const LazyshmObject *m, struct lz_obj *o)
{
	struct lz_presence *p = NULL;
	struct lz_range *r;
	char what[48];
	uint64_t total;
	size_t i, k;

	if (m->n_presence && !(p = calloc(m->n_presence, sizeof(*p))))
		return lz_seterr(c->err, c->errlen, ENOMEM, "%s: no memory for %zu presence records", c->fname,
				 m->n_presence);
	o->presence = p;
	o->nr_presence = m->n_presence;
	for (i = 0; i < m->n_presence; i++) {
		const LazyshmPresence *e = m->presence[i];

		if (i && e->task <= p[i - 1].task)
			return OBJERR(c, "presence record %zu (task %u) is not after task %u", i, e->task, p[i - 1].task);
		p[i].task = e->task;
		snprintf(what, sizeof(what), "presence runs of task %u", e->task);
		if (check_pairs(c, what, e->runs, e->n_runs, o->nr_pages, 1, &total))
			return -EINVAL;
		if (!e->n_runs)
			continue;
		r = calloc(e->n_runs / 2, sizeof(*r));
		if (!r)
			return lz_seterr(c->err, c->errlen, ENOMEM, "%s: no memory for presence runs", c->fname);
		for (k = 0; k < e->n_runs / 2; k++)
			r[k] = (struct lz_range){ .start = e->runs[2 * k], .len = e->runs[2 * k + 1] };
		p[i].runs = r;
		p[i].nr_runs = e->n_runs / 2;
	}
	return 0;
}

static int build_hint(struct objctx *c, const LazyshmObject *m, struct lz_obj *o)
{
	struct lz_range *hint = NULL;
	int kind = m->has_hint_kind ? (int)m->hint_kind : LZ_HINT_NONE;
	uint64_t total;
	size_t i;
	int ret;

	if (kind < LZ_HINT_NONE || kind > LZ_HINT_ACCESS_ORDER)
		return OBJERR(c, "unknown hint kind %d", kind);
	if (kind == LZ_HINT_NONE && m->n_hint_runs)
		return OBJERR(c, "hint runs without a hint kind");
	ret = check_pairs(c, "hint_runs", m->hint_runs, m->n_hint_runs, o->nr_pages, kind == LZ_HINT_RESIDENT, &total);
	if (ret)
		return ret;
	if (m->n_hint_runs) {
		hint = calloc(m->n_hint_runs / 2, sizeof(*hint));
		if (!hint)
			return lz_seterr(c->err, c->errlen, ENOMEM, "%s: no memory for the hint", c->fname);
	}
	for (i = 0; i < m->n_hint_runs / 2; i++) {
		hint[i].start = m->hint_runs[2 * i];
		hint[i].len = m->hint_runs[2 * i + 1];
	}
	o->hint_kind = kind;
	o->nr_hint = m->n_hint_runs / 2;
	o->hint = hint;
	return 0;
}

static int parse_head(struct lz_cursor *cur, LazyshmHead **out, char *err, size_t errlen)
{
	const uint8_t *msg;
	LazyshmHead *h;
	size_t mlen;
	int ret;

	ret = lz_cursor_next(cur, cur->len, &msg, &mlen, err, errlen);
	if (ret == 0)
		return lz_seterr(err, errlen, EINVAL, "%s: truncated: no head entry", cur->fname);
	if (ret < 0)
		return ret;
	h = lazyshm_head__unpack(NULL, mlen, msg);
	if (!h)
		return lz_seterr(err, errlen, EINVAL, "%s: head entry does not decode", cur->fname);
	ret = -EINVAL;
	if (h->version != LZIMG_VERSION)
		lz_seterr(err, errlen, EINVAL, "%s: head says version %u, file header says %u", cur->fname, h->version,
			  LZIMG_VERSION);
	else if (h->digest_algo != LAZYSHM_DIGEST_ALGO__XXH3_64)
		lz_seterr(err, errlen, EINVAL, "%s: unknown digest algorithm %d", cur->fname, (int)h->digest_algo);
	else if (h->has_dump_id && h->dump_id.len != LZIMG_DUMP_ID_LEN)
		lz_seterr(err, errlen, EINVAL, "%s: dump id of %zu bytes, not %u", cur->fname, h->dump_id.len,
			  LZIMG_DUMP_ID_LEN);
	else if (h->nr_objects > (cur->len - cur->pos) / 4)
		lz_seterr(err, errlen, EINVAL, "%s: head claims %u objects, the %zu bytes left can't hold them",
			  cur->fname, h->nr_objects, cur->len - cur->pos);
	else
		ret = 0;
	if (ret) {
		lazyshm_head__free_unpacked(h, NULL);
		return ret;
	}
	*out = h;
	return 0;
}

static int read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	unsigned shift;

	for (*v = 0, shift = 0; *pos < len && shift < 64; shift += 7) {
		uint8_t b = p[(*pos)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/*
 * Copy a lazyshm_object message without its digests (field 10): a restore
 * that defers everything needs only the geometry, and decoding 8 bytes per
 * page of a big object would be most of the resume time. Malformed input
 * is copied as it is, for the decoder to refuse.
 */
static size_t strip_digests(const uint8_t *msg, size_t len, uint8_t *out)
{
	size_t pos = 0, start, o = 0;
	uint64_t key, n;

	while (pos < len) {
		start = pos;
		if (read_varint(msg, len, &pos, &key))
			goto rest;
		switch (key & 7) {
		case 0:
			if (read_varint(msg, len, &pos, &n))
				goto rest;
			break;
		case 1:
			pos += 8;
			break;
		case 2:
			if (read_varint(msg, len, &pos, &n) || n > len - pos)
				goto rest;
			pos += n;
			break;
		case 5:
			pos += 4;
			break;
		default:
			goto rest;
		}
		if (pos > len)
			goto rest;
		if ((key >> 3) != 10) {
			memcpy(out + o, msg + start, pos - start);
			o += pos - start;
		}
	}
	return o;
rest:
	memcpy(out + o, msg + start, len - start);
	return o + len - start;
}

static LazyshmObject *unpack_obj(bool meta, const uint8_t *msg, size_t mlen)
{
	LazyshmObject *m;
	uint8_t *tmp;

	if (!meta)
		return lazyshm_object__unpack(NULL, mlen, msg);
	tmp = malloc(mlen ? mlen : 1);
	if (!tmp)
		return NULL;
	m = lazyshm_object__unpack(NULL, strip_digests(msg, mlen, tmp), tmp);
	free(tmp);
	return m;
}

static int parse_obj(struct lz_cursor *cur, struct lz_image *img, size_t i, char *err, size_t errlen)
{
	struct objctx c = { .meta = img->meta, .fname = cur->fname, .index = i, .err = err, .errlen = errlen };
	const uint8_t *msg;
	size_t mlen;
	int ret;

	ret = lz_cursor_next(cur, cur->len, &msg, &mlen, err, errlen);
	if (ret == 0)
		return lz_seterr(err, errlen, EINVAL, "%s: truncated: %zu of %zu objects present", cur->fname, i,
				 img->nr_objs);
	if (ret < 0)
		return ret;
	img->msgs[i] = unpack_obj(img->meta, msg, mlen);
	if (!img->msgs[i])
		return lz_seterr(err, errlen, EINVAL, "%s: object #%zu does not decode (corrupt entry of %zu bytes)",
				 cur->fname, i, mlen);
	c.shmid = img->msgs[i]->shmid;
	ret = check_geometry(&c, img->msgs[i], &img->objs[i]);
	if (!ret)
		ret = check_file(&c, img->msgs[i], &img->objs[i]);
	if (!ret)
		ret = build_runs(&c, img->msgs[i], &img->objs[i]);
	if (!ret)
		ret = build_hint(&c, img->msgs[i], &img->objs[i]);
	if (!ret)
		ret = build_presence(&c, img->msgs[i], &img->objs[i]);
	if (ret)
		return ret;
	if (img->objs[i].digests_pending)
		img->nr_pending++;
	else if (img->objs[i].remote)
		img->nr_remote++;
	else
		img->nr_digests += img->objs[i].nr_data_pages;
	return 0;
}

static int cmp_obj(const void *a, const void *b)
{
	const struct lz_obj *x = a, *y = b;

	return x->shmid < y->shmid ? -1 : x->shmid > y->shmid;
}

static int finish(struct lz_cursor *cur, struct lz_image *img, char *err, size_t errlen)
{
	size_t i;

	if (cur->pos != cur->len)
		return lz_seterr(err, errlen, EINVAL, "%s: %zu unexpected bytes after the last object", cur->fname,
				 cur->len - cur->pos);
	if (img->nr_digests != img->head->nr_digests)
		return lz_seterr(err, errlen, EINVAL, "%s: objects hold %llu digests, head says %llu", cur->fname,
				 (unsigned long long)img->nr_digests, (unsigned long long)img->head->nr_digests);
	if (img->nr_remote && !img->head->has_dump_id)
		return lz_seterr(err, errlen, EINVAL,
				 "%s: %zu objects are served by the dump's source, but the head has no dump id",
				 cur->fname, img->nr_remote);
	if (img->nr_objs)
		qsort(img->objs, img->nr_objs, sizeof(*img->objs), cmp_obj);
	for (i = 1; i < img->nr_objs; i++)
		if (img->objs[i].shmid == img->objs[i - 1].shmid)
			return lz_seterr(err, errlen, EINVAL, "%s: shmid %llu appears twice", cur->fname,
					 (unsigned long long)img->objs[i].shmid);
	return 0;
}

static int parse_file_header(struct lz_cursor *cur, char *err, size_t errlen)
{
	uint32_t magic, version;

	if (cur->len < 8)
		return lz_seterr(err, errlen, EINVAL, "%s: truncated: %zu bytes, too short for the header", cur->fname,
				 cur->len);
	magic = lz_get_le32(cur->buf);
	version = lz_get_le32(cur->buf + 4);
	if (magic != LZIMG_MAGIC)
		return lz_seterr(err, errlen, EINVAL, "%s: bad magic %#x, expected %#x (\"LZSH\")", cur->fname, magic,
				 LZIMG_MAGIC);
	if (version != LZIMG_VERSION)
		return lz_seterr(err, errlen, EINVAL, "%s: unsupported format version %u (this build reads %u)",
				 cur->fname, version, LZIMG_VERSION);
	cur->pos = 8;
	return 0;
}

static int parse(bool meta, const void *buf, size_t len, const char *fname, struct lz_image **out, char *err,
		 size_t errlen)
{
	struct lz_cursor cur = { .buf = buf, .len = len, .pos = 0, .fname = fname ? fname : LZIMG_FILE };
	struct lz_image *img;
	size_t i;
	int ret;

	ret = parse_file_header(&cur, err, errlen);
	if (ret)
		return ret;
	img = calloc(1, sizeof(*img));
	if (!img)
		return lz_seterr(err, errlen, ENOMEM, "%s: no memory", cur.fname);
	img->meta = meta;
	ret = parse_head(&cur, &img->head, err, errlen);
	if (ret)
		goto fail;
	img->nr_objs = img->head->nr_objects;
	img->msgs = calloc(img->nr_objs + 1, sizeof(*img->msgs));
	img->objs = calloc(img->nr_objs + 1, sizeof(*img->objs));
	if (!img->msgs || !img->objs) {
		ret = lz_seterr(err, errlen, ENOMEM, "%s: no memory for %zu objects", cur.fname, img->nr_objs);
		goto fail;
	}
	for (i = 0; i < img->nr_objs; i++) {
		ret = parse_obj(&cur, img, i, err, errlen);
		if (ret)
			goto fail;
	}
	ret = finish(&cur, img, err, errlen);
	if (ret)
		goto fail;
	*out = img;
	return 0;
fail:
	lzimg_free(img);
	return ret;
}

int lzimg_parse(const void *buf, size_t len, const char *fname, struct lz_image **out, char *err, size_t errlen)
{
	return parse(false, buf, len, fname, out, err, errlen);
}

int lzimg_parse_meta(const void *buf, size_t len, const char *fname, struct lz_image **out, char *err,
		     size_t errlen)
{
	return parse(true, buf, len, fname, out, err, errlen);
}

int lzimg_load_meta(int dirfd, struct lz_image **out, char *err, size_t errlen)
{
	struct stat st;
	void *map;
	int fd, ret;

	fd = openat(dirfd, LZIMG_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lz_seterr(err, errlen, errno, "%s: can't open: %s", LZIMG_FILE, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > LZIMG_MAX_FILE || !st.st_size) {
		close(fd);
		return lz_seterr(err, errlen, EINVAL, "%s: not a regular file of 1 to %llu bytes", LZIMG_FILE,
				 (unsigned long long)LZIMG_MAX_FILE);
	}
	/* mapped, not read: no copy of the digests it skips */
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return lz_seterr(err, errlen, errno, "%s: can't map: %s", LZIMG_FILE, strerror(errno));
	ret = lzimg_parse_meta(map, st.st_size, LZIMG_FILE, out, err, errlen);
	munmap(map, st.st_size);
	return ret;
}

int lzimg_load_file(int dirfd, const char *name, struct lz_image **out, char *err, size_t errlen)
{
	void *buf = NULL;
	size_t len = 0;
	int ret;

	ret = lz_read_file(dirfd, name, LZIMG_MAX_FILE, &buf, &len, err, errlen);
	if (ret)
		return ret;
	ret = lzimg_parse(buf, len, name, out, err, errlen);
	free(buf);
	return ret;
}

int lzimg_load(int dirfd, struct lz_image **out, char *err, size_t errlen)
{
	return lzimg_load_file(dirfd, LZIMG_FILE, out, err, errlen);
}

void lzimg_free(struct lz_image *img)
{
	size_t i;

	if (!img)
		return;
	for (i = 0; img->objs && i < img->nr_objs; i++) {
		const struct lz_obj *o = &img->objs[i];
		size_t k;

		free((void *)o->runs);
		free((void *)o->hint);
		for (k = 0; o->presence && k < o->nr_presence; k++)
			free((void *)o->presence[k].runs);
		free((void *)o->presence);
	}
	for (i = 0; img->msgs && i < img->nr_objs; i++)
		if (img->msgs[i])
			lazyshm_object__free_unpacked(img->msgs[i], NULL);
	if (img->head)
		lazyshm_head__free_unpacked(img->head, NULL);
	free(img->msgs);
	free(img->objs);
	free(img);
}

size_t lzimg_nr_objs(const struct lz_image *img)
{
	return img->nr_objs;
}

uint64_t lzimg_nr_digests(const struct lz_image *img)
{
	return img->nr_digests;
}

size_t lzimg_nr_pending(const struct lz_image *img)
{
	return img->nr_pending;
}

size_t lzimg_nr_remote(const struct lz_image *img)
{
	return img->nr_remote;
}

const uint8_t *lzimg_dump_id(const struct lz_image *img)
{
	return img->head->has_dump_id ? img->head->dump_id.data : NULL;
}

const struct lz_presence *lzimg_presence(const struct lz_obj *o, uint32_t task, int *recorded)
{
	size_t lo = 0, hi = o->nr_presence;

	*recorded = o->nr_presence != 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->presence[mid].task == task)
			return &o->presence[mid];
		if (o->presence[mid].task < task)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int lzimg_presence_has(const struct lz_presence *p, uint64_t idx)
{
	size_t lo = 0, hi = p->nr_runs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->runs[mid].start <= idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && idx - p->runs[lo - 1].start < p->runs[lo - 1].len;
}

const struct lz_obj *lzimg_obj(const struct lz_image *img, size_t i)
{
	return i < img->nr_objs ? &img->objs[i] : NULL;
}

const struct lz_obj *lzimg_find(const struct lz_image *img, uint64_t shmid)
{
	size_t lo = 0, hi = img->nr_objs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (img->objs[mid].shmid == shmid)
			return &img->objs[mid];
		if (img->objs[mid].shmid < shmid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The run holding page idx, or NULL for a hole */
static const struct lz_run *run_of(const struct lz_obj *o, uint64_t idx)
{
	size_t lo = 0, hi = o->nr_runs;

	/* Find the last run starting at or before idx. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->runs[mid].start <= idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	lo--;
	if (idx - o->runs[lo].start >= o->runs[lo].len)
		return NULL;
	return &o->runs[lo];
}

int lzimg_page_data(const struct lz_obj *o, uint64_t idx)
{
	return run_of(o, idx) != NULL;
}

int lzimg_page_digest(const struct lz_obj *o, uint64_t idx, uint64_t *digest)
{
	const struct lz_run *r;

	if (!o->digests && o->nr_data_pages)
		return -EINVAL; /* loaded with lzimg_load_meta(), pending or remote */
	r = run_of(o, idx);
	if (!r)
		return 0;
	*digest = o->digests[r->first + (idx - r->start)];
	return 1;
}
