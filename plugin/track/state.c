// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lazyshm-track.img, in the image directory of every tracked run: the
 * epoch (a random id the holder also keeps: the tracking is relative to
 * these images as long as both agree) and each task's tracked mappings, so
 * that the next run sees what was mapped, unmapped or forked since. Text,
 * one record a line:
 *   lazyshm-track 1
 *   epoch <32 hex digits>
 *   task <pidfd inode> <pid> <mappings>
 *   vma <start> <end> <offset> <dev> <ino> <page size> <kind> [<parent ino>]   (hex)
 * A parent ino names the object in the images the state is relative to,
 * when it had another inode there (a restore gives anonymous shared memory
 * a new one); 0 or absent: the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "track.h"

#define MAGIC_LINE "lazyshm-track 1\n"

static int read_epoch(const char *line, uint8_t *epoch)
{
	unsigned int b;
	int i;

	if (strncmp(line, "epoch ", 6) || strlen(line) < 6 + 2 * LZ_TRK_EPOCH_LEN)
		return -EINVAL;
	for (i = 0; i < LZ_TRK_EPOCH_LEN; i++) {
		if (sscanf(line + 6 + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		epoch[i] = b;
	}
	return 0;
}

static int read_task(FILE *f, struct lz_trk_task *t)
{
	struct lz_trk_vma *v;
	char line[256];
	size_t i;

	if (t->nr > (1u << 20))
		return -EINVAL;
	t->vmas = calloc(t->nr ? t->nr : 1, sizeof(*t->vmas));
	if (!t->vmas)
		return -ENOMEM;
	for (i = 0; i < t->nr; i++) {
		int n;

		v = &t->vmas[i];
		if (!fgets(line, sizeof(line), f))
			return -EINVAL;
		n = sscanf(line, "vma %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx32 " %x %" SCNx64,
			   &v->start, &v->end, &v->off, &v->dev, &v->ino, &v->psz, &v->kind, &v->parent_ino);
		if (n != 7 && n != 8)
			return -EINVAL;
	}
	return 0;
}

static int read_all(FILE *f, struct lz_trk_state *s)
{
	struct lz_trk_task *t;
	char line[256];
	int ret;

	if (!fgets(line, sizeof(line), f) || strcmp(line, MAGIC_LINE))
		return -EINVAL;
	if (!fgets(line, sizeof(line), f) || read_epoch(line, s->epoch))
		return -EINVAL;
	while (fgets(line, sizeof(line), f)) {
		t = realloc(s->tasks, (s->nr + 1) * sizeof(*t));
		if (!t)
			return -ENOMEM;
		s->tasks = t;
		t = &s->tasks[s->nr];
		memset(t, 0, sizeof(*t));
		if (sscanf(line, "task %" SCNu64 " %d %zu", &t->pino, &t->pid, &t->nr) != 3)
			return -EINVAL;
		s->nr++;
		ret = read_task(f, t);
		if (ret)
			return ret;
	}
	return ferror(f) ? -EIO : 0;
}

int lz_trk_state_read(int dirfd, const char *name, struct lz_trk_state *s)
{
	int fd, ret;
	FILE *f;

	memset(s, 0, sizeof(*s));
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	ret = read_all(f, s);
	fclose(f);
	if (ret)
		lz_trk_state_free(s);
	return ret;
}

static void write_all(FILE *f, const struct lz_trk_state *s)
{
	const struct lz_trk_vma *v;
	size_t i, j;

	fputs(MAGIC_LINE "epoch ", f);
	for (i = 0; i < LZ_TRK_EPOCH_LEN; i++)
		fprintf(f, "%02x", s->epoch[i]);
	fputc('\n', f);
	for (i = 0; i < s->nr; i++) {
		fprintf(f, "task %" PRIu64 " %d %zu\n", s->tasks[i].pino, s->tasks[i].pid, s->tasks[i].nr);
		for (j = 0; j < s->tasks[i].nr; j++) {
			v = &s->tasks[i].vmas[j];
			fprintf(f, "vma %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx32 " %x",
				v->start, v->end, v->off, v->dev, v->ino, v->psz, v->kind);
			if (v->parent_ino)
				fprintf(f, " %" PRIx64, v->parent_ino);
			fputc('\n', f);
		}
	}
}

int lz_trk_state_write(int dirfd, const struct lz_trk_state *s)
{
	return lz_trk_state_write_as(dirfd, LZ_TRK_FILE, s);
}

int lz_trk_state_write_as(int dirfd, const char *name, const struct lz_trk_state *s)
{
	char tmp[PATH_MAX];
	int fd, ret = 0;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	write_all(f, s);
	if (fflush(f) || fsync(fd))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret && renameat(dirfd, tmp, dirfd, name))
		ret = -errno;
	if (ret)
		unlinkat(dirfd, tmp, 0);
	return ret;
}

const struct lz_trk_task *lz_trk_state_task(const struct lz_trk_state *s, uint64_t pino)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (s->tasks[i].pino == pino)
			return &s->tasks[i];
	return NULL;
}

void lz_trk_state_free(struct lz_trk_state *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		free(s->tasks[i].vmas);
	free(s->tasks);
	memset(s, 0, sizeof(*s));
}
