// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Inodes the frozen tasks hold open or map MAP_PRIVATE; see held.h. The
 * tasks are frozen while anything is dumped, so one scan serves the whole
 * dump: it runs at the first question, by when CHECKPOINT_DEVICES has named
 * every task.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "held.h"
#include "log.h"
#include "presence.h"

struct inode_set {
	struct {
		dev_t dev;
		ino_t ino;
	} * v;
	size_t n, cap;
};

static struct {
	bool scanned, failed;
	struct inode_set fds, priv;
} H;

static int set_add(struct inode_set *s, dev_t dev, ino_t ino)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *n = realloc(s->v, cap * sizeof(*s->v));

		if (!n)
			return -1;
		s->v = n;
		s->cap = cap;
	}
	s->v[s->n].dev = dev;
	s->v[s->n++].ino = ino;
	return 0;
}

static bool set_has(const struct inode_set *s, dev_t dev, ino_t ino)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].dev == dev && s->v[i].ino == ino)
			return true;
	return false;
}

/* Every descriptor of the task at @proc (O_PATH /proc/<pid>) */
static int scan_fds(int proc)
{
	int dfd = openat(proc, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;
	struct stat st;
	int ret = 0;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0)
			ret = set_add(&H.fds, st.st_dev, st.st_ino);
	}
	if (closedir(d))
		ret = -1;
	return ret;
}

/* Every private file mapping of the task at @proc */
static int scan_maps(int proc)
{
	int fd = openat(proc, "maps", O_RDONLY | O_CLOEXEC), ret = 0;
	FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
	unsigned int maj, min;
	char line[512], perm[8];
	unsigned long long ino;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*x-%*x %7s %*x %x:%x %llu", perm, &maj, &min, &ino) != 4)
			continue;
		if (ino && perm[3] == 'p')
			ret = set_add(&H.priv, makedev(maj, min), (ino_t)ino);
	}
	if (fclose(f))
		ret = -1;
	return ret;
}

static void scan(void)
{
	bool all;
	size_t i, n = lz_presence_nr_tasks(&all);
	int proc;

	H.scanned = true;
	H.failed = !all || !n;
	for (i = 0; i < n && !H.failed; i++) {
		proc = lz_presence_procdir(i);
		if (proc < 0 || scan_fds(proc) || scan_maps(proc))
			H.failed = true;
		if (proc >= 0)
			close(proc);
	}
	if (H.failed)
		pr_warn("dump: the frozen tasks' descriptors and mappings could not be read: objects they might hold "
			"open are dumped into the images\n");
}

int lz_held_fd(dev_t dev, ino_t ino)
{
	if (!H.scanned)
		scan();
	return H.failed ? -1 : set_has(&H.fds, dev, ino);
}

int lz_held_private(dev_t dev, ino_t ino)
{
	if (!H.scanned)
		scan();
	return H.failed ? -1 : set_has(&H.priv, dev, ino);
}

void lz_held_fini(void)
{
	free(H.fds.v);
	free(H.priv.v);
	memset(&H, 0, sizeof(H));
}
