// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-task view of the registered ranges that map lazily restored objects.
 * It is read once from /proc/PID/maps, when the restorer has put every
 * mapping in place, and then follows the task's unmap/remove/remap events;
 * a forked task starts with a copy of its parent's ranges.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <unistd.h>

#include "log.h"
#include "pidfd.h"
#include "tasks.h"

struct lz_task *lz_task_new(int pid, int pidfd, int uffd)
{
	struct lz_task *t = calloc(1, sizeof(*t));

	if (!t) {
		if (pidfd >= 0)
			close(pidfd);
		return NULL;
	}
	t->pid = pid;
	t->pidfd = pidfd;
	t->uffd = uffd;
	return t;
}

void lz_task_free(struct lz_task *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	lz_vmas_free(&t->ranges);
	lz_vmas_free(&t->priv);
	free(t->pend);
	free(t);
}

/* The task's /proc file @name, opened through its pidfd so that it cannot be another's */
static FILE *open_proc(struct lz_task *t, const char *name)
{
	int dir, fd;
	FILE *f;

	if (t->pidfd < 0) {
		pr_err("task %d (uffd %d) was forked after the restore: its mappings cannot be read\n", t->pid,
		       t->uffd);
		errno = ESRCH;
		return NULL;
	}
	dir = lz_pidfd_procdir(t->pidfd);
	if (dir < 0) {
		pr_perror("cannot reach task %d (uffd %d) through its pidfd", t->pid, t->uffd);
		return NULL;
	}
	fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	close(dir);
	if (fd < 0) {
		pr_perror("cannot read the mappings of task %d", t->pid);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		pr_perror("cannot read the mappings of task %d", t->pid);
		close(fd);
	}
	return f;
}

/* One line of /proc/PID/maps into the task's ranges */
static int load_line(struct lz_task *t, struct lz_objects *objs, const char *line)
{
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	struct lz_object *o;
	char perms[8];

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &off, &maj, &min, &ino) != 7)
		return 0;
	/* lazy-pages registers private anonymous memory: know it for what it is */
	if (perms[3] == 'p' && ino == 0)
		return lz_vmas_add(&t->priv, start, end, 0, NULL);
	/* not ino: a SysV segment with id 0 has inode 0 */
	o = maj || min ? lz_objects_find(objs, makedev(maj, min), ino) : NULL;
	return o ? lz_vmas_add(&t->ranges, start, end, off, o) : 0;
}

int lz_task_load(struct lz_task *t, struct lz_objects *objs)
{
	char line[512];
	FILE *f;
	int ret = 0;

	f = open_proc(t, "maps");
	if (!f)
		return -1;
	lz_vmas_clear(&t->ranges);
	lz_vmas_clear(&t->priv);
	while (!ret && fgets(line, sizeof(line), f))
		ret = load_line(t, objs, line);
	fclose(f);
	t->loaded = ret == 0;
	pr_debug("task %d (uffd %d): %zu lazy ranges\n", t->pid, t->uffd, t->ranges.nr);
	return ret;
}

int lz_task_addr_class(struct lz_task *t, uint64_t addr)
{
	unsigned long long start, end, ino;
	char perms[8], line[512];
	int ret = LZ_ADDR_UNMAPPED;
	FILE *f = open_proc(t, "maps");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %7s %*s %*s %llu", &start, &end, perms, &ino) != 4)
			continue;
		if (addr < start || addr >= end)
			continue;
		/* lazy-pages registers private anonymous memory only */
		ret = perms[3] == 'p' && ino == 0 ? LZ_ADDR_PRIVATE_ANON : LZ_ADDR_OTHER;
		break;
	}
	fclose(f);
	return ret;
}

int lz_task_copy_ranges(struct lz_task *dst, const struct lz_task *src)
{
	if (lz_vmas_copy(&dst->ranges, &src->ranges) || lz_vmas_copy(&dst->priv, &src->priv))
		return -1;
	dst->loaded = true;
	return 0;
}

struct lz_vma *lz_task_find(struct lz_task *t, uint64_t addr)
{
	return lz_vmas_find(&t->ranges, addr);
}

int lz_task_drop(struct lz_task *t, uint64_t start, uint64_t end)
{
	return lz_vmas_drop(&t->ranges, start, end) || lz_vmas_drop(&t->priv, start, end) ? -1 : 0;
}

int lz_task_remap(struct lz_task *t, uint64_t from, uint64_t to, uint64_t len)
{
	return lz_vmas_remap(&t->ranges, from, to, len) || lz_vmas_remap(&t->priv, from, to, len) ? -1 : 0;
}

int lz_task_vma_maywrite(struct lz_task *t, uint64_t addr)
{
	unsigned long long start, end;
	char line[512];
	bool in = false;
	int ret = -1;
	FILE *f = open_proc(t, "smaps");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = addr >= start && addr < end;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			ret = strstr(line, " mw") != NULL;
			break;
		}
	}
	fclose(f);
	return ret;
}
