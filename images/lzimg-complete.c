// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Digests of an object's data pages, and the second half of a dump: the
 * objects the plugin wrote with their digests pending (while the tasks
 * were frozen) get them from CRIU's page images, and the image is
 * rewritten atomically without the pending marks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lzimg-int.h"
#include "lzimg.h"

int lz_digest_runs(struct lz_pagesrc *src, const struct lz_obj_spec *o, uint64_t **out, char *err, size_t errlen)
{
	uint64_t *dig, total = 0, k = 0, p;
	size_t i;
	int ret;

	for (i = 0; i < o->nr_runs; i++)
		total += o->runs[i].len;
	dig = calloc(total + 1, sizeof(*dig));
	if (!dig)
		return lz_seterr(err, errlen, ENOMEM, "shmid %llu: no memory for %llu digests",
				 (unsigned long long)o->shmid, (unsigned long long)total);
	for (i = 0; i < o->nr_runs; i++) {
		for (p = o->runs[i].start; p < o->runs[i].start + o->runs[i].len; p++) {
			ret = lz_pagesrc_digest(src, p, o->page_size, &dig[k++]);
			if (ret) {
				free(dig);
				return lz_seterr(err, errlen, -ret, "%s", lz_pagesrc_error(src));
			}
		}
	}
	*out = dig;
	return 0;
}

int lzimg_obj_to_spec(const struct lz_obj *o, struct lz_obj_spec *s)
{
	struct lz_range *runs = calloc(o->nr_runs + 1, sizeof(*runs));
	size_t i;

	if (!runs)
		return -ENOMEM;
	for (i = 0; i < o->nr_runs; i++)
		runs[i] = (struct lz_range){ .start = o->runs[i].start, .len = o->runs[i].len };
	*s = (struct lz_obj_spec){
		.shmid = o->shmid,
		.kind = o->kind,
		.name = o->name,
		.has_sysv_key = o->has_sysv_key,
		.sysv_key = o->sysv_key,
		.hugetlb_flag = o->hugetlb_flag,
		.page_size = o->page_size,
		.size = o->size,
		.nr_pages = o->nr_pages,
		.nr_data_pages = o->nr_data_pages,
		.nr_runs = o->nr_runs,
		.runs = runs,
		.nr_digests = o->digests ? o->nr_data_pages : 0,
		.digests = o->digests,
		.hint_kind = o->hint_kind,
		.nr_hint = o->nr_hint,
		.hint = o->hint,
		.remap_id = o->remap_id,
		.unlinked = o->unlinked,
		.mode = o->mode,
		.uid = o->uid,
		.gid = o->gid,
		.dev = o->dev,
		.ino = o->ino,
		.ctime_ns = o->ctime_ns,
		.boot_id = o->boot_id,
		.pages_file = o->pages_file,
		.private_mapped = o->private_mapped,
		.digests_pending = o->digests_pending,
		.remote = o->remote,
		.nr_presence = o->nr_presence,
		.presence = o->presence,
	};
	return 0;
}

void lzimg_obj_spec_release(struct lz_obj_spec *s)
{
	free((void *)s->runs);
	s->runs = NULL;
	s->nr_runs = 0;
}

/* Digest pending object @s from its page source in place */
static int complete_one(int dirfd, const struct lz_obj *o, struct lz_obj_spec *s, char *err, size_t errlen)
{
	struct lz_pagesrc *src = NULL;
	uint64_t *dig = NULL;
	int ret;

	if (o->nr_data_pages) {
		ret = lz_pagesrc_open_obj(dirfd, o, &src, err, errlen);
		if (ret)
			return ret;
		ret = lz_digest_runs(src, s, &dig, err, errlen);
		lz_pagesrc_close(src);
		if (ret)
			return ret;
	}
	s->digests = dig;
	s->nr_digests = o->nr_data_pages;
	s->digests_pending = 0;
	return 0;
}

static int complete_all(int dirfd, const struct lz_image *img, struct lz_obj_spec *specs, uint64_t *pages, char *err,
			size_t errlen)
{
	size_t i, n = lzimg_nr_objs(img);
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		const struct lz_obj *o = lzimg_obj(img, i);

		ret = lzimg_obj_to_spec(o, &specs[i]);
		if (ret)
			return lz_seterr(err, errlen, ENOMEM, "%s: no memory to rewrite it", LZIMG_FILE);
		if (!o->digests_pending)
			continue;
		ret = complete_one(dirfd, o, &specs[i], err, errlen);
		*pages += o->nr_data_pages;
	}
	if (!ret)
		ret = lzimg_write_id(dirfd, lzimg_dump_id(img), specs, n, err, errlen);
	return ret;
}

int lzimg_complete_digests(int dirfd, size_t *nr_objs, uint64_t *nr_pages, char *err, size_t errlen)
{
	struct lz_obj_spec *specs = NULL;
	struct lz_image *img = NULL;
	uint64_t pages = 0;
	size_t i, n, pending;
	int ret;

	ret = lzimg_load(dirfd, &img, err, errlen);
	if (ret)
		return ret;
	n = lzimg_nr_objs(img);
	pending = lzimg_nr_pending(img);
	if (pending) {
		specs = calloc(n + 1, sizeof(*specs));
		ret = specs ? complete_all(dirfd, img, specs, &pages, err, errlen) :
			      lz_seterr(err, errlen, ENOMEM, "%s: no memory to rewrite it", LZIMG_FILE);
	}
	for (i = 0; specs && i < n; i++) {
		if (lzimg_obj(img, i)->digests_pending)
			free((void *)specs[i].digests);
		lzimg_obj_spec_release(&specs[i]);
	}
	free(specs);
	lzimg_free(img);
	if (nr_objs)
		*nr_objs = ret ? 0 : pending;
	if (nr_pages)
		*nr_pages = ret ? 0 : pages;
	return ret;
}
