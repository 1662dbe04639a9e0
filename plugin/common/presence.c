// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Page-table presence of the dumped tasks, see presence.h.
 *
 * CRIU names its objects by inode: a MAP_SHARED anonymous mapping, a memfd
 * and a SysV segment are inodes of the kernel's internal shmem mount (the
 * shmid is the inode number), their hugetlb variants inodes of an internal
 * hugetlbfs mount per page size. Those devices are found by creating a
 * memfd of each kind here. Files the plugin stored are known by st_dev and
 * st_ino. Every other mapping is not looked at.
 *
 * /proc/PID/pagemap has one entry per 4K page: bit 63 present, bit 62
 * swapped; a mapped huge page shows present in each of its 4K entries, so
 * one entry per huge page is read. A shmem page swapped out is no longer in
 * any page table: it counts as absent, as it is for the task.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "lzimg.h"
#include "objects.h"
#include "pidfd.h"
#include "presence.h"

#define PM_PRESENT (1ull << 63)
#define PM_SWAP	   (1ull << 62)
#define PM_CHUNK   (64 * 1024) /* pagemap entries read at once */
#define MAX_HUGE   2

struct frozen {
	int pidfd;
	uint32_t task; /* its pid in the images */
};

/* One mapping of an object being read */
struct mapping {
	uint64_t shmid, off, start, end, psz;
};

static struct {
	struct frozen *tasks;
	size_t nr_tasks;
	bool failed;
	bool probed;
	dev_t shm_dev;
	struct {
		dev_t dev;
		uint64_t psz;
	} huge[MAX_HUGE];
	struct lz_task_presence *recs;
	size_t nr_recs, cap_recs;
	struct lz_range *runs; /* of the record being built */
	size_t nr_runs, cap_runs;
} P;

/* The task's pid in its own pid namespace: the last NSpid of its status */
static int image_pid(int procdir, int real_pid, uint32_t *task)
{
	char line[256];
	int fd = openat(procdir, "status", O_RDONLY | O_CLOEXEC);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "r");

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*task = real_pid;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (;; p = end) {
			unsigned long v = strtoul(p, &end, 10);

			if (end == p)
				break;
			*task = v;
		}
	}
	fclose(f);
	return 0;
}

static int add_task(int pidfd, uint32_t task)
{
	struct frozen *n = realloc(P.tasks, (P.nr_tasks + 1) * sizeof(*n));

	if (!n)
		return -1;
	P.tasks = n;
	P.tasks[P.nr_tasks++] = (struct frozen){ .pidfd = pidfd, .task = task };
	return 0;
}

void lz_presence_task(int real_pid)
{
	int pidfd, dir = -1;
	uint32_t task;

	if (P.failed)
		return;
	pidfd = lz_pidfd_open(real_pid);
	if (pidfd >= 0)
		dir = lz_pidfd_procdir(pidfd);
	if (dir >= 0 && image_pid(dir, real_pid, &task) == 0 && add_task(pidfd, task) == 0) {
		close(dir);
		return;
	}
	pr_warn("dump: cannot read task %d (%s): no page presence is recorded, a lazy restore maps every page "
		"into every task\n",
		real_pid, strerror(errno));
	P.failed = true;
	if (dir >= 0)
		close(dir);
	if (pidfd >= 0)
		close(pidfd);
}

/* The devices of the kernel's internal shmem and hugetlbfs mounts */
static void probe_devices(void)
{
	static const struct {
		unsigned int flags;
		uint64_t psz;
	} huge[MAX_HUGE] = { { MFD_HUGETLB | (21u << 26), 2ull << 20 }, { MFD_HUGETLB | (30u << 26), 1ull << 30 } };
	struct stat st;
	size_t i;
	int fd;

	P.probed = true;
	fd = memfd_create("lazyshm-probe", MFD_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0)
		P.shm_dev = st.st_dev;
	if (fd >= 0)
		close(fd);
	for (i = 0; i < MAX_HUGE; i++) {
		fd = memfd_create("lazyshm-probe", MFD_CLOEXEC | huge[i].flags);
		if (fd >= 0 && fstat(fd, &st) == 0)
			P.huge[i].dev = st.st_dev, P.huge[i].psz = huge[i].psz;
		if (fd >= 0)
			close(fd);
	}
}

/* Which object a mapping of (dev, ino) is, and its page size: 1, or 0 */
static int resolve(dev_t dev, uint64_t ino, const struct lz_obj_spec *files, size_t nr, struct mapping *m)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (files[i].dev == dev && files[i].ino == ino) {
			m->shmid = files[i].shmid;
			m->psz = files[i].page_size;
			return 1;
		}
	m->shmid = ino;
	m->psz = 4096;
	if (P.shm_dev && dev == P.shm_dev)
		return 1;
	for (i = 0; i < MAX_HUGE; i++)
		if (P.huge[i].dev && dev == P.huge[i].dev) {
			m->psz = P.huge[i].psz;
			return 1;
		}
	return 0;
}

static int run_add(uint64_t page, uint64_t len)
{
	struct lz_range *r = P.nr_runs ? &P.runs[P.nr_runs - 1] : NULL;

	if (r && r->start + r->len == page) {
		r->len += len;
		return 0;
	}
	if (P.nr_runs == P.cap_runs) {
		size_t cap = P.cap_runs ? P.cap_runs * 2 : 64;

		r = realloc(P.runs, cap * sizeof(*r));
		if (!r)
			return -1;
		P.runs = r;
		P.cap_runs = cap;
	}
	P.runs[P.nr_runs++] = (struct lz_range){ .start = page, .len = len };
	return 0;
}

/* Entries of [m->start, m->end) present: into P.runs in 4K units of object offset */
static int read_pagemap(int pm, const struct mapping *m, uint64_t *buf)
{
	uint64_t step = m->psz / 4096, first = m->start / 4096, n = (m->end - m->start) / 4096, i, k, want;
	ssize_t got;

	for (i = 0; i < n; i += step == 1 ? PM_CHUNK : step) {
		want = step == 1 ? (n - i < PM_CHUNK ? n - i : PM_CHUNK) : 1;
		got = pread(pm, buf, want * 8, (first + i) * 8);
		if (got != (ssize_t)(want * 8))
			return -1;
		for (k = 0; k < want; k++)
			if ((buf[k] & (PM_PRESENT | PM_SWAP)) && run_add(m->off / 4096 + i + k, step))
				return -1;
	}
	return 0;
}

static int add_record(uint32_t task, uint64_t shmid)
{
	struct lz_range *runs = NULL;

	if (P.nr_recs == P.cap_recs) {
		size_t cap = P.cap_recs ? P.cap_recs * 2 : 16;
		struct lz_task_presence *n = realloc(P.recs, cap * sizeof(*n));

		if (!n)
			return -1;
		P.recs = n;
		P.cap_recs = cap;
	}
	if (P.nr_runs && !(runs = malloc(P.nr_runs * sizeof(*runs))))
		return -1;
	if (runs)
		memcpy(runs, P.runs, P.nr_runs * sizeof(*runs));
	P.recs[P.nr_recs++] = (struct lz_task_presence){ .task = task, .shmid = shmid, .nr_runs = P.nr_runs, .runs = runs };
	return 0;
}

/* One line of the task's maps: a record if it maps an object */
static int read_line(const struct frozen *t, int pm, const char *line, const struct lz_obj_spec *files, size_t nr,
		     uint64_t *buf)
{
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	struct mapping m;
	char perms[8];

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &off, &maj, &min, &ino) != 7)
		return 0;
	if (!resolve(makedev(maj, min), ino, files, nr, &m))
		return 0;
	m.start = start;
	m.end = end;
	m.off = off;
	P.nr_runs = 0;
	if (read_pagemap(pm, &m, buf))
		return -1;
	return add_record(t->task, m.shmid);
}

static int read_task(const struct frozen *t, const struct lz_obj_spec *files, size_t nr, uint64_t *buf)
{
	int dir = lz_pidfd_procdir(t->pidfd), fd = -1, pm = -1, ret = -1;
	char line[512];
	FILE *f = NULL;

	if (dir >= 0) {
		fd = openat(dir, "maps", O_RDONLY | O_CLOEXEC);
		pm = openat(dir, "pagemap", O_RDONLY | O_CLOEXEC);
		close(dir);
	}
	if (fd >= 0 && pm >= 0 && (f = fdopen(fd, "r")))
		fd = -1;
	for (ret = f ? 0 : -1; !ret && f && fgets(line, sizeof(line), f);)
		ret = read_line(t, pm, line, files, nr, buf);
	if (ret)
		pr_warn("dump: cannot read the page tables of task %u (%s): no page presence is recorded, a lazy "
			"restore maps every page into every task\n",
			t->task, strerror(errno));
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (pm >= 0)
		close(pm);
	return ret;
}

size_t lz_presence_collect(const struct lz_obj_spec *files, size_t nr_files, const struct lz_task_presence **out)
{
	uint64_t *buf;
	size_t i;

	*out = NULL;
	if (P.failed || !P.nr_tasks)
		return 0;
	if (!P.probed)
		probe_devices();
	buf = malloc(PM_CHUNK * sizeof(*buf));
	P.failed = !buf;
	for (i = 0; !P.failed && i < P.nr_tasks; i++)
		P.failed = read_task(&P.tasks[i], files, nr_files, buf) != 0;
	free(buf);
	if (P.failed)
		return 0;
	*out = P.recs;
	return P.nr_recs;
}

size_t lz_presence_nr_tasks(bool *all)
{
	*all = !P.failed;
	return P.nr_tasks;
}

int lz_presence_procdir(size_t i)
{
	return i < P.nr_tasks ? lz_pidfd_procdir(P.tasks[i].pidfd) : -1;
}

void lz_presence_fini(void)
{
	size_t i;

	for (i = 0; i < P.nr_tasks; i++)
		close(P.tasks[i].pidfd);
	for (i = 0; i < P.nr_recs; i++)
		free((void *)P.recs[i].runs);
	free(P.tasks);
	free(P.recs);
	free(P.runs);
	memset(&P, 0, sizeof(P));
}

/* The first of @p's runs that ends after @page */
static size_t run_after(const struct lz_presence *p, uint64_t page)
{
	size_t lo = 0, hi = p->nr_runs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->runs[mid].start + p->runs[mid].len <= page)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int lz_present_next(const struct lz_object *o, int task, bool forked, uint64_t *pos, uint64_t end, uint64_t *a,
		    uint64_t *b)
{
	const struct lz_presence *p = NULL;
	int recorded = o->digests && o->digests->nr_presence;
	size_t i;

	if (*pos >= end)
		return 0;
	if (recorded && !forked)
		p = lzimg_presence(o->digests, (uint32_t)task, &recorded);
	if (!recorded) {
		*a = *pos;
		*b = *pos = end;
		return 1;
	}
	i = p ? run_after(p, *pos) : 0;
	if (!p || i == p->nr_runs || p->runs[i].start >= end)
		return 0;
	*a = p->runs[i].start > *pos ? p->runs[i].start : *pos;
	*b = p->runs[i].start + p->runs[i].len < end ? p->runs[i].start + p->runs[i].len : end;
	*pos = *b;
	return 1;
}
