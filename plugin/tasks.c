// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-task view of the registered ranges that map lazily restored objects.
 * It is read once from /proc/PID/maps, when the restorer has put every
 * mapping in place, and then follows the task's unmap/remove/remap events;
 * a forked task starts with a copy of its parent's ranges.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "tasks.h"

struct lz_task *lz_task_new(int pid, int uffd)
{
	struct lz_task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->pid = pid;
	t->uffd = uffd;
	return t;
}

void lz_task_free(struct lz_task *t)
{
	free(t->ranges);
	free(t);
}

static int range_add(struct lz_task *t, uint64_t start, uint64_t end, uint64_t off, struct lz_object *o)
{
	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct lz_range *n = realloc(t->ranges, cap * sizeof(*n));

		if (!n)
			return -1;
		t->ranges = n;
		t->cap = cap;
	}
	t->ranges[t->nr++] = (struct lz_range){ .start = start, .end = end, .off = off, .obj = o };
	return 0;
}

int lz_task_load(struct lz_task *t, struct lz_objects *objs)
{
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	char path[64], line[512];
	struct lz_object *o;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
	f = fopen(path, "r");
	if (!f) {
		pr_perror("cannot read the mappings of task %d", t->pid);
		return -1;
	}
	t->nr = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu", &start, &end, &off, &maj, &min, &ino) != 6)
			continue;
		/* not ino: a SysV segment with id 0 has inode 0 */
		o = maj || min ? lz_objects_find(objs, makedev(maj, min), ino) : NULL;
		if (o && range_add(t, start, end, off, o)) {
			ret = -1;
			break;
		}
	}
	fclose(f);
	t->loaded = ret == 0;
	pr_debug("task %d (uffd %d): %zu lazy ranges\n", t->pid, t->uffd, t->nr);
	return ret;
}

int lz_task_copy_ranges(struct lz_task *dst, const struct lz_task *src)
{
	size_t i;

	for (i = 0; i < src->nr; i++) {
		const struct lz_range *r = &src->ranges[i];

		if (range_add(dst, r->start, r->end, r->off, r->obj))
			return -1;
	}
	dst->loaded = true;
	return 0;
}

struct lz_range *lz_task_find(struct lz_task *t, uint64_t addr)
{
	size_t i;

	for (i = 0; i < t->nr; i++) {
		if (addr >= t->ranges[i].start && addr < t->ranges[i].end)
			return &t->ranges[i];
	}
	return NULL;
}

/* Cut [start, end) out of range @i; may split it in two */
static int range_cut(struct lz_task *t, size_t i, uint64_t start, uint64_t end)
{
	struct lz_range r = t->ranges[i];

	if (start <= r.start && end >= r.end) {
		t->ranges[i] = t->ranges[--t->nr];
		return 0;
	}
	if (start <= r.start) {
		t->ranges[i].off += end - r.start;
		t->ranges[i].start = end;
		return 0;
	}
	t->ranges[i].end = start;
	if (end < r.end)
		return range_add(t, end, r.end, r.off + (end - r.start), r.obj);
	return 0;
}

int lz_task_drop(struct lz_task *t, uint64_t start, uint64_t end)
{
	size_t i = 0;

	while (i < t->nr) {
		struct lz_range *r = &t->ranges[i];
		size_t before = t->nr;

		if (r->end <= start || r->start >= end) {
			i++;
			continue;
		}
		if (range_cut(t, i, start, end))
			return -1;
		/* a removed slot now holds another range: look at it again */
		if (t->nr >= before)
			i++;
	}
	return 0;
}

int lz_task_remap(struct lz_task *t, uint64_t from, uint64_t to, uint64_t len)
{
	uint64_t end = from + len;
	struct lz_range *moved;
	size_t i, nr = 0;
	int ret = -1;

	moved = calloc(t->nr ? t->nr : 1, sizeof(*moved));
	if (!moved)
		return -1;
	for (i = 0; i < t->nr; i++) {
		struct lz_range *r = &t->ranges[i];
		uint64_t s = r->start > from ? r->start : from;
		uint64_t e = r->end < end ? r->end : end;

		if (s >= e)
			continue;
		moved[nr++] = (struct lz_range){ .start = s - from + to, .end = e - from + to,
						 .off = r->off + (s - r->start), .obj = r->obj };
	}
	if (lz_task_drop(t, from, end))
		goto out;
	for (i = 0; i < nr; i++) {
		if (range_add(t, moved[i].start, moved[i].end, moved[i].off, moved[i].obj))
			goto out;
	}
	ret = 0;
out:
	free(moved);
	return ret;
}
