// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * This run's tracked objects: every shared object a tracked mapping of a
 * task maps, keyed by (dev, ino), with the 4K pages written since the
 * parent images (a bitmap laid out as CRIU's: bit n of word n / BITS) or
 * the reason it must be dumped in full.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "lzimg.h"
#include "track.h"

#define BITS (8 * sizeof(unsigned long))

struct lz_trk_obj {
	uint64_t dev, ino;
	int kind;
	uint32_t psz;
	uint64_t nbits; /* 4K pages covered by the bitmap */
	unsigned long *bits;
	uint64_t written; /* pages set */
	char *full;	  /* why it is dumped in full, or NULL */
};

static struct lz_trk_obj *objs;
static size_t nr_objs;

static int grow(struct lz_trk_obj *o, uint64_t nbits)
{
	size_t old = (o->nbits + BITS - 1) / BITS, new = (nbits + BITS - 1) / BITS;
	unsigned long *b;

	if (nbits <= o->nbits)
		return 0;
	b = realloc(o->bits, new * sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(b + old, 0, (new - old) * sizeof(*b));
	o->bits = b;
	o->nbits = nbits;
	return 0;
}

struct lz_trk_obj *lz_trk_obj_get(const struct lz_trk_vma *v)
{
	struct lz_trk_obj *o;
	size_t i;

	for (i = 0; i < nr_objs; i++)
		if (objs[i].dev == v->dev && objs[i].ino == v->ino)
			break;
	if (i == nr_objs) {
		o = realloc(objs, (nr_objs + 1) * sizeof(*o));
		if (!o)
			return NULL;
		objs = o;
		objs[nr_objs++] = (struct lz_trk_obj){ .dev = v->dev, .ino = v->ino, .kind = v->kind, .psz = v->psz };
	}
	o = &objs[i];
	if (grow(o, (v->off + (v->end - v->start) + LZ_TRK_PAGE - 1) / LZ_TRK_PAGE))
		return NULL;
	return o;
}

/* The @nth object (0, 1, ...) of inode @ino: CRIU names objects by ino */
struct lz_trk_obj *lz_trk_obj_find(uint64_t ino, int nth)
{
	size_t i;

	for (i = 0; i < nr_objs; i++)
		if (objs[i].ino == ino && nth-- == 0)
			return &objs[i];
	return NULL;
}

void lz_trk_obj_written(struct lz_trk_obj *o, uint64_t off, uint64_t len)
{
	uint64_t p, end = (off + len + LZ_TRK_PAGE - 1) / LZ_TRK_PAGE;

	if (grow(o, end)) {
		lz_trk_obj_full(o, "no memory for its written pages");
		return;
	}
	for (p = off / LZ_TRK_PAGE; p < end; p++) {
		if (o->bits[p / BITS] & (1UL << (p % BITS)))
			continue;
		o->bits[p / BITS] |= 1UL << (p % BITS);
		o->written++;
	}
}

static void vfull(struct lz_trk_obj *o, const char *fmt, va_list ap)
{
	char buf[256];

	if (o->full)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	o->full = strdup(buf);
	if (!o->full)
		o->full = (char *)"no memory"; /* never freed: see lz_trk_objs_free() */
	pr_info("track: %s shmid %" PRIu64 " will be dumped in full: %s\n", lzimg_kind_name(o->kind), o->ino,
		o->full);
}

void lz_trk_obj_full(struct lz_trk_obj *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfull(o, fmt, ap);
	va_end(ap);
}

void lz_trk_objs_full(const char *fmt, ...)
{
	va_list ap;
	size_t i;

	for (i = 0; i < nr_objs; i++) {
		va_start(ap, fmt);
		vfull(&objs[i], fmt, ap);
		va_end(ap);
	}
}

const char *lz_trk_obj_reason(const struct lz_trk_obj *o)
{
	return o->full;
}

uint64_t lz_trk_obj_dev(const struct lz_trk_obj *o)
{
	return o->dev;
}

int lz_trk_obj_kind(const struct lz_trk_obj *o)
{
	return o->kind;
}

uint64_t lz_trk_obj_copy(const struct lz_trk_obj *o, unsigned long *bits, uint64_t nbits)
{
	uint64_t words = (nbits + BITS - 1) / BITS, mine = (o->nbits + BITS - 1) / BITS, i, n = 0;

	for (i = 0; i < words && i < mine; i++) {
		bits[i] |= o->bits[i];
		n += __builtin_popcountl(bits[i]);
	}
	return n;
}

size_t lz_trk_objs_nr(void)
{
	return nr_objs;
}

struct lz_trk_obj *lz_trk_objs_at(size_t i)
{
	return i < nr_objs ? &objs[i] : NULL;
}

void lz_trk_objs_free(void)
{
	size_t i;

	for (i = 0; i < nr_objs; i++) {
		free(objs[i].bits);
		if (objs[i].full && strcmp(objs[i].full, "no memory"))
			free(objs[i].full);
	}
	free(objs);
	objs = NULL;
	nr_objs = 0;
}
