// SPDX-License-Identifier: GPL-2.0-or-later
/* Tracking a lazily restored tree from its restore; see handover.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handover.h"
#include "log.h"
#include "pidfd.h"
#include "track.h"

static void off(struct lz_handover *h, const char *why, int err)
{
	if (!h->off)
		pr_warn("track: the restored tree is not tracked from its restore (%s%s%s): its next dump is full\n",
			why, err ? ": " : "", err ? strerror(-err) : "");
	h->off = true;
}

static pid_t ppid_of(int pidfd)
{
	char line[128];
	pid_t ppid = -1;
	int dir, fd;
	FILE *f;

	dir = lz_pidfd_procdir(pidfd);
	fd = dir < 0 ? -1 : openat(dir, "status", O_RDONLY | O_CLOEXEC);
	f = fd < 0 ? NULL : fdopen(fd, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %d", &ppid) == 1)
			break;
	if (f)
		fclose(f);
	else if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);
	return ppid;
}

/* The restored task whose parent is none of the others: the tree's root,
 * whose pidfd names the holder (as the dump's -t names it) */
static int root_pidfd(struct lz_task *tasks)
{
	struct lz_task *t, *u;

	for (t = tasks; t; t = t->next) {
		pid_t ppid = t->pidfd >= 0 ? ppid_of(t->pidfd) : -1;
		bool child = false;

		if (ppid < 0)
			continue;
		for (u = tasks; u && !child; u = u->next)
			child = u != t && u->pidfd >= 0 && lz_pidfd_pid(u->pidfd) == ppid;
		if (!child)
			return t->pidfd;
	}
	return -1;
}

/* Once: the epoch of the restore's images, and the holder */
static int start(struct lz_handover *h, struct lz_task *tasks)
{
	int root = root_pidfd(tasks), ret;
	struct lz_trk_state img;

	ret = lz_trk_state_read(h->imgdir, LZ_TRK_FILE, &img);
	if (ret) {
		off(h, ret == -ENOENT ? "the restore's images were not written by a tracked dump (pre-dump, "
					"dump --track-mem)" :
					"the restore's images' " LZ_TRK_FILE " does not read",
		    ret == -ENOENT ? 0 : ret);
		return -1;
	}
	/* the images' tasks are the dumped ones: the state is the restored ones */
	memcpy(h->st.epoch, img.epoch, sizeof(h->st.epoch));
	lz_trk_state_free(&img);
	if (root < 0) {
		off(h, "the root of the restored tree is not found", 0);
		return -1;
	}
	h->root = fcntl(root, F_DUPFD_CLOEXEC, 3);
	ret = h->root < 0 ? -errno : lz_holder_open(h->root, true);
	if (ret < 0) {
		off(h, "no holder", ret);
		return -1;
	}
	h->sk = ret;
	return 0;
}

/* The task's tracked mappings now, named by the object they had in the images */
static int snapshot(struct lz_task *t, struct lz_trk_task *out)
{
	int dir = lz_pidfd_procdir(t->pidfd), ret;
	size_t i;

	if (dir < 0)
		return -errno;
	ret = lz_trk_maps(dir, &out->vmas, &out->nr);
	close(dir);
	for (i = 0; !ret && i < out->nr; i++) {
		struct lz_vma *r = lz_task_find(t, out->vmas[i].start);

		if (r && r->obj->shmid != out->vmas[i].ino)
			out->vmas[i].parent_ino = r->obj->shmid;
	}
	out->pino = lz_pidfd_ino(t->pidfd);
	out->pid = lz_pidfd_pid(t->pidfd);
	return ret;
}

static int keep(struct lz_handover *h, struct lz_trk_task *task)
{
	struct lz_trk_task *n = realloc(h->st.tasks, (h->st.nr + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	h->st.tasks = n;
	n[h->st.nr++] = *task;
	return 0;
}

int lz_handover_task(struct lz_handover *h, struct lz_task *tasks, struct lz_task *t)
{
	struct lz_trk_task task = { 0 };
	int ret;

	if (!t->wp || t->pidfd < 0 || h->off)
		return 0;
	if (!h->started) {
		h->started = true;
		if (start(h, tasks))
			return 0;
	}
	ret = snapshot(t, &task);
	if (!ret)
		ret = lz_holder_add(h->sk, t->pidfd, t->uffd);
	if (!ret && t->untracked)
		pr_info("track: task %d is held, but what it maps will be dumped in full next time: %s\n", task.pid,
			t->untracked);
	else if (!ret)
		ret = keep(h, &task);
	if (ret) {
		free(task.vmas);
		off(h, "a task cannot be handed to the holder", ret);
		return 0;
	}
	if (t->untracked)
		free(task.vmas);
	return 0;
}

void lz_handover_untrack(struct lz_task *t, uint64_t start, uint64_t end, const char *why)
{
	/* lazy-pages' private memory is dumped in full anyway; any shared
	 * mapping, lazily restored or not (CRIU protects both), counts */
	if (t->wp && !t->untracked && !lz_vmas_find(&t->priv, start))
		t->untracked = why;
}

/* Where the holder keeps the restored tree's state, and the epoch */
static int publish(struct lz_handover *h)
{
	char path[PATH_MAX];
	int ret;

	ret = lz_holder_restored_path(h->root, path, sizeof(path));
	if (!ret)
		ret = lz_trk_state_write_as(AT_FDCWD, path, &h->st);
	if (!ret)
		ret = lz_holder_epoch(h->sk, h->st.epoch);
	return ret;
}

void lz_handover_end(struct lz_handover *h, bool ok)
{
	int ret;

	if (h->sk >= 0 && !h->off && ok) {
		ret = publish(h);
		if (ret)
			off(h, "its state cannot be recorded", ret);
		else
			pr_info("track: %zu tasks of the restored tree are tracked from the restore: the next "
				"dump with --prev-images-dir naming these images may leave what did not change there\n",
				h->st.nr);
	}
	if (h->sk >= 0)
		close(h->sk);
	if (h->root >= 0)
		close(h->root);
	lz_trk_state_free(&h->st);
	h->sk = h->root = -1;
	h->off = true;
}

void lz_handover_init(struct lz_handover *h, int imgdir)
{
	memset(h, 0, sizeof(*h));
	h->imgdir = imgdir;
	h->sk = h->root = -1;
}
