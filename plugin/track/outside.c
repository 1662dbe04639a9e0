// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the tracking cannot see: writes by a process outside the dumped
 * tree (its mappings have no write protection of ours) and writes through
 * a descriptor (write(), fallocate() never fault). Once per run, with the
 * tree frozen, /proc is read: an object mapped by a process outside the
 * tree, or held open as a descriptor by any process but CRIU, is dumped in
 * full. A process that mapped or opened an object, wrote and went away
 * between two runs is not seen (docs/KERNEL.md).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "lzimg.h"
#include "track.h"

static int lz_proc_dir(int pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static uint64_t ipcns_of(int pdir)
{
	struct stat st;

	return fstatat(pdir, "ns/ipc", &st, 0) ? 0 : (uint64_t)st.st_ino;
}

static bool is_sysv(const struct lz_trk_obj *o)
{
	return lz_trk_obj_kind(o) == LZ_KIND_SYSV || lz_trk_obj_kind(o) == LZ_KIND_HUGETLB_SYSV;
}

/* The tracked object (dev, ino) names in a process of IPC namespace @ns:
 * a SysV segment's inode number is its id, unique in its namespace only */
static struct lz_trk_obj *match(uint64_t dev, uint64_t ino, uint64_t ns, uint64_t tree_ns)
{
	struct lz_trk_obj *o;
	int n;

	for (n = 0; (o = lz_trk_obj_find(ino, n)); n++)
		if (lz_trk_obj_dev(o) == dev && (!is_sysv(o) || ns == tree_ns))
			return o;
	return NULL;
}

static void comm_of(int pdir, char *buf, size_t len)
{
	int fd = openat(pdir, "comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static void maps_of(int pdir, int pid, uint64_t tree_ns)
{
	uint64_t ns = ipcns_of(pdir);
	unsigned int maj, min;
	unsigned long long ino;
	struct lz_trk_obj *o;
	char line[512], perms[8], comm[32];
	FILE *f;
	int fd;

	fd = openat(pdir, "maps", O_RDONLY | O_CLOEXEC);
	f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*x-%*x %7s %*x %x:%x %llu", perms, &maj, &min, &ino) != 4)
			continue;
		o = match(makedev(maj, min), ino, ns, tree_ns);
		if (!o)
			continue;
		comm_of(pdir, comm, sizeof(comm));
		lz_trk_obj_full(o, "mapped by process %d (%s) outside the dumped tree: its writes are not tracked", pid,
				comm);
	}
	fclose(f);
}

static bool candidate(const char *link)
{
	return !strncmp(link, "/dev/zero", 9) || !strncmp(link, "/SYSV", 5) || !strncmp(link, "/anon_hugepage", 14) ||
	       !strncmp(link, "/memfd:", 7);
}

static void fds_of(int pdir, int pid, uint64_t tree_ns)
{
	uint64_t ns = ipcns_of(pdir);
	char link[256], name[300], comm[32];
	struct lz_trk_obj *o;
	struct dirent *de;
	struct stat st;
	ssize_t n;
	DIR *d;
	int fd;

	fd = openat(pdir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		snprintf(name, sizeof(name), "fd/%s", de->d_name);
		n = readlinkat(pdir, name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!candidate(link) || fstatat(pdir, name, &st, 0))
			continue;
		o = match(st.st_dev, st.st_ino, ns, tree_ns);
		if (!o)
			continue;
		comm_of(pdir, comm, sizeof(comm));
		lz_trk_obj_full(o, "held open as descriptor %s by process %d (%s): writes through it are not tracked",
				de->d_name, pid, comm);
	}
	closedir(d);
}

static bool in(const int *set, size_t nr, int pid)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (set[i] == pid)
			return true;
	return false;
}

void lz_trk_outside(const int *tree, size_t nr, int criu)
{
	uint64_t tree_ns = 0;
	struct dirent *de;
	int pid, pdir;
	DIR *d;

	if (!lz_trk_objs_nr() || !nr)
		return;
	pdir = lz_proc_dir(tree[0]);
	if (pdir >= 0) {
		tree_ns = ipcns_of(pdir);
		close(pdir);
	}
	d = opendir("/proc");
	if (!d) {
		lz_trk_objs_full("can't read /proc to look for writers outside the tracking");
		return;
	}
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pid == criu || pid == getpid())
			continue;
		pdir = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pdir < 0)
			continue;
		if (!in(tree, nr, pid))
			maps_of(pdir, pid, tree_ns);
		fds_of(pdir, pid, tree_ns);
		close(pdir);
	}
	closedir(d);
}
