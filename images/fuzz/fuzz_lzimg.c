// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the lazyshm image parsers.
 *
 * Inputs starting with "LZSH" go to lzimg_parse() (lazyshm-shmem.img); every
 * other input goes to lz_pagesrc_parse() (a CRIU pagemap-shmem image). On
 * success the lookups the restore side uses are exercised over the whole
 * parsed range, so that an index the parser let through can't be used to
 * read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lzimg.h"

/* Presence records: ascending tasks found by lookup, runs inside the object;
 * a pending object has no digests. */
static void exercise_presence(const struct lz_obj *o)
{
	size_t i, k;
	int rec;

	if (o->digests_pending && o->digests)
		__builtin_trap();
	/* a remote object has no digests and is never pending */
	if (o->remote && (o->digests || o->digests_pending))
		__builtin_trap();
	for (i = 0; i < o->nr_presence; i++) {
		const struct lz_presence *p = &o->presence[i];

		if ((i && p->task <= o->presence[i - 1].task) || lzimg_presence(o, p->task, &rec) != p || !rec)
			__builtin_trap();
		for (k = 0; k < p->nr_runs; k++)
			if (p->runs[k].start + p->runs[k].len > o->nr_pages ||
			    !lzimg_presence_has(p, p->runs[k].start + p->runs[k].len - 1) ||
			    (k && p->runs[k].start <= p->runs[k - 1].start + p->runs[k - 1].len))
				__builtin_trap();
		lzimg_presence_has(p, UINT64_MAX);
	}
	lzimg_presence(o, UINT32_MAX, &rec);
}

static void exercise_image(struct lz_image *img)
{
	size_t i, n = lzimg_nr_objs(img);
	uint64_t d, sum = 0;

	for (i = 0; i < n; i++) {
		const struct lz_obj *o = lzimg_obj(img, i);
		uint64_t p, step;

		if (lzimg_find(img, o->shmid) != o)
			__builtin_trap();
		exercise_presence(o);
		/* Every page of small objects, a sample of big ones. */
		step = o->nr_pages > 4096 ? o->nr_pages / 4096 : 1;
		for (p = 0; p < o->nr_pages; p += step)
			if (lzimg_page_digest(o, p, &d))
				sum += d;
		for (p = 0; p < o->nr_runs; p++)
			if (!lzimg_page_digest(o, o->runs[p].start + o->runs[p].len - 1, &d))
				__builtin_trap();
		lzimg_page_digest(o, o->nr_pages, &d);
		lzimg_page_digest(o, UINT64_MAX, &d);
		for (p = 0; p < o->nr_hint; p++)
			if (o->hint[p].start + o->hint[p].len > o->nr_pages)
				__builtin_trap();
		/* A file object's pages file is a plain name in the images dir; a remote one has none. */
		if ((lzimg_kind_is_file(o->kind) && !o->remote) != (o->pages_file != NULL) ||
		    (o->pages_file && (strchr(o->pages_file, '/') || o->pages_file[0] == '.')) ||
		    (lzimg_kind_is_file(o->kind) && o->shmid != LZ_FILE_SHMID(o->remap_id)))
			__builtin_trap();
	}
	lzimg_find(img, sum);
}

static void exercise_pagesrc(struct lz_pagesrc *src)
{
	uint64_t off = 0, s, e, end = lz_pagesrc_data_end(src);
	uint8_t buf[64];
	int guard = 0;

	while (lz_pagesrc_next_data(src, off, &s, &e) && guard++ < 1024) {
		if (e <= s || s < off)
			__builtin_trap();
		if (!lz_pagesrc_has_data(src, s, 1))
			__builtin_trap();
		off = e;
	}
	lz_pagesrc_has_data(src, end, 4096);
	/* Holes read as zeros without the pages image; data fails cleanly. */
	lz_pagesrc_read(src, end, buf, sizeof(buf));
	lz_pagesrc_read(src, 0, buf, sizeof(buf));
	lz_pagesrc_read(src, UINT64_MAX - 8, buf, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[LZIMG_ERRLEN];

	if (size >= 4 && !memcmp(data, "LZSH", 4)) {
		struct lz_image *img = NULL;

		if (lzimg_parse(data, size, "fuzz.img", &img, err, sizeof(err)) == 0) {
			exercise_image(img);
			lzimg_free(img);
		}
		/* the geometry-only decoder (restore side) strips the digests itself */
		img = NULL;
		if (lzimg_parse_meta(data, size, "fuzz.img", &img, err, sizeof(err)) == 0)
			lzimg_free(img);
	} else {
		struct lz_pagesrc *src = NULL;

		if (lz_pagesrc_parse(data, size, "fuzz-pagemap.img", &src, err, sizeof(err)) == 0) {
			exercise_pagesrc(src);
			lz_pagesrc_close(src);
		}
	}
	return 0;
}
