// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mappings of a task that the tracking covers: shared mappings of the
 * shared memory objects CRIU pre-dumps (patch 0024): anonymous shared
 * memory, memfds and SysV segments, 4K and hugetlb. Files on tmpfs or
 * hugetlbfs are not: CRIU or lazyshm dumps them with their descriptors,
 * never from parent images.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lzimg.h"
#include "track.h"

/* The kind of a mapping by its name in /proc/PID/maps, or 0 */
static int kind_of(const char *name, bool huge)
{
	if (!strncmp(name, "/SYSV", 5) && strstr(name, " (deleted)"))
		return huge ? LZ_KIND_HUGETLB_SYSV : LZ_KIND_SYSV;
	if (!huge && !strcmp(name, "/dev/zero (deleted)"))
		return LZ_KIND_ANON_SHARED;
	/* compel's parasite blob is a memfd too, gone with the parasite */
	if (!strncmp(name, "/memfd:CRIUMFD", 14))
		return 0;
	if (!strncmp(name, "/memfd:", 7))
		return huge ? LZ_KIND_HUGETLB_MEMFD : LZ_KIND_MEMFD;
	if (huge && !strcmp(name, "/anon_hugepage (deleted)"))
		return LZ_KIND_HUGETLB_ANON;
	return 0;
}

/* Page size and filesystem of the mapping, through its map_files link */
static int map_fs(int procdir, uint64_t start, uint64_t end, uint32_t *psz, bool *huge)
{
	char path[64];
	struct statfs sf;
	int fd;

	snprintf(path, sizeof(path), "map_files/%" PRIx64 "-%" PRIx64, start, end);
	fd = openat(procdir, path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sf)) {
		close(fd);
		return -errno;
	}
	close(fd);
	*huge = sf.f_type == HUGETLBFS_MAGIC;
	if (!*huge && sf.f_type != TMPFS_MAGIC)
		return -ENOENT;
	*psz = *huge ? (uint32_t)sf.f_bsize : 4096;
	return 0;
}

/* One line of maps: 1 and *v if it is a tracked mapping, 0 if not */
static int parse_line(int procdir, const char *line, struct lz_trk_vma *v)
{
	unsigned int maj, min;
	char perms[8], name[256] = "";
	unsigned long long ino;
	bool huge = false;
	int ret;

	*v = (struct lz_trk_vma){ 0 };
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %llu %255[^\n]", &v->start, &v->end, perms,
		   &v->off, &maj, &min, &ino, name) < 7)
		return 0;
	/* SysV's inode number is its id: 0 is one */
	if (perms[3] != 's' || name[0] != '/' || (!ino && strncmp(name, "/SYSV", 5)))
		return 0;
	/* the name is enough for a candidate; the filesystem decides */
	if (!kind_of(name, false) && !kind_of(name, true))
		return 0;
	ret = map_fs(procdir, v->start, v->end, &v->psz, &huge);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	v->kind = kind_of(name, huge);
	v->dev = makedev(maj, min);
	v->ino = ino;
	return v->kind ? 1 : 0;
}

static int add(struct lz_trk_vma **vmas, size_t *nr, size_t *cap, const struct lz_trk_vma *v)
{
	struct lz_trk_vma *n;

	if (*nr == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		n = realloc(*vmas, *cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		*vmas = n;
	}
	(*vmas)[(*nr)++] = *v;
	return 0;
}

int lz_trk_maps(int procdir, struct lz_trk_vma **out, size_t *nr)
{
	size_t cap = 0, len = 0;
	struct lz_trk_vma v;
	char *line = NULL;
	int fd, ret = 0;
	FILE *f;

	*out = NULL;
	*nr = 0;
	fd = openat(procdir, "maps", O_RDONLY | O_CLOEXEC);
	f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return ret;
	}
	while (!ret && getline(&line, &len, f) > 0) {
		ret = parse_line(procdir, line, &v);
		if (ret > 0)
			ret = add(out, nr, &cap, &v);
	}
	free(line);
	fclose(f);
	if (ret < 0) {
		free(*out);
		*out = NULL;
		*nr = 0;
	}
	return ret < 0 ? ret : 0;
}
