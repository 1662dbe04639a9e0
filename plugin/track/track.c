// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Write tracking across CRIU runs (track.h). In each tracked run
 * (pre-dump, dump --track-mem):
 *  - first task (the root; the whole tree is frozen then): the holder of
 *    the tree (lazyshm-trackd, started if none), the parent images'
 *    lazyshm-track.img; the chain holds if both name the same epoch. The
 *    holder's epoch is cleared before the first scan: the scans re-protect
 *    pages, so until this run's images are complete no other run may count
 *    on them. Then every task of the tree (/proc children) is scanned at
 *    once, because a dump writes memfd-dumped objects with the files of the
 *    first task that has them, before CRIU reaches the other tasks: its
 *    tracked mappings are scanned and re-protected (wp.c) into their
 *    objects' written pages, new mappings registered and protected, and
 *    what cannot be vouched for marks its object full; then /proc for
 *    writers outside the tracking.
 *  - every task: one new to the holder gets a userfaultfd made in it
 *    (CRIU's parasite), and its mappings registered and protected.
 *  - every shared object CRIU dumps with parent images: its written pages,
 *    plus the pages the parent images have no data for.
 *  - the end: lazyshm-track.img with a new epoch, given to the holder too.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "criu-plugin.h"
#include "uffd-compat.h"

#include "log.h"
#include "lzimg.h"
#include "pidfd.h"
#include "track.h"

#define PARENT_STATE "parent/" LZ_TRK_FILE

static struct {
	bool active, finalized;
	bool restored; /* t.parent is the state a lazy restore of the parent images left */
	int criu, root, root_pidfd, sk;
	struct lz_trk_state parent;
	const char *no_chain; /* why the parent images cannot be used, or NULL */
	struct lz_trk_held *held;
	size_t nr_held;
	struct lz_trk_range *removed; /* by the tasks since the last run (the holder saw them) */
	size_t nr_removed;
	struct lz_trk_state cur;
	int *pids;
	int *pending; /* tasks that need a userfaultfd of their own */
	size_t nr_pending;
} t = { .root_pidfd = -1, .sk = -1 };

static bool epoch_zero(const uint8_t *e)
{
	static const uint8_t zero[LZ_TRK_EPOCH_LEN];

	return !memcmp(e, zero, LZ_TRK_EPOCH_LEN);
}

/*
 * A tree restored lazily from the parent images with --track-mem: its
 * holder has been tracking it since, and the restore left the restored
 * tasks' mappings beside the holder's socket (plugin/daemon/handover.c).
 * Those, not the dumped tasks the parent images list, are what this run
 * compares with.
 */
static void restored_state(const uint8_t *epoch)
{
	struct lz_trk_state r;
	char path[PATH_MAX];
	int ret;

	ret = lz_holder_restored_path(t.root_pidfd, path, sizeof(path));
	if (!ret)
		ret = lz_trk_state_read(AT_FDCWD, path, &r);
	if (ret) {
		if (ret != -ENOENT)
			pr_warn("track: the state the restore left (%s) does not read: %s\n", path, strerror(-ret));
		return;
	}
	if (memcmp(r.epoch, epoch, LZ_TRK_EPOCH_LEN)) {
		lz_trk_state_free(&r);
		return;
	}
	lz_trk_state_free(&t.parent);
	t.parent = r;
	t.restored = true;
	pr_info("track: the tree was restored from the parent images and tracked since: %zu tasks as the restore "
		"left them\n",
		r.nr);
}

/* Does the holder's tracking start at the parent images? */
static void check_chain(int imgdir, const uint8_t *epoch, bool holder_was_there)
{
	int ret = lz_trk_state_read(imgdir, PARENT_STATE, &t.parent);

	if (ret == -ENOENT)
		t.no_chain = "no tracked parent images (first iteration, or the parent was not tracked)";
	else if (ret)
		t.no_chain = "the parent images' " LZ_TRK_FILE " does not read";
	else if (!holder_was_there)
		t.no_chain = "the tracking holder of the tree is gone (killed, or the tree was restored): "
			     "writes since the parent images are unknown";
	else if (epoch_zero(epoch) || memcmp(epoch, t.parent.epoch, LZ_TRK_EPOCH_LEN))
		t.no_chain = "the tracking is not relative to the parent images (another run came in between, "
			     "or one failed)";
	if (t.no_chain)
		pr_info("track: every tracked object will be dumped in full: %s\n", t.no_chain);
	else
		restored_state(epoch);
}

static int init(int pid)
{
	static const uint8_t zero[LZ_TRK_EPOCH_LEN];
	uint8_t epoch[LZ_TRK_EPOCH_LEN] = { 0 };
	bool was_there;
	uint32_t nr;
	int ret;

	t.criu = getpid();
	t.root_pidfd = lz_pidfd_open(pid);
	if (t.root_pidfd < 0)
		return -errno;
	ret = lz_holder_open(t.root_pidfd, false);
	was_there = ret >= 0;
	if (ret == -ENOENT)
		ret = lz_holder_open(t.root_pidfd, true);
	if (ret < 0)
		return ret;
	t.sk = ret;
	ret = lz_holder_hello(t.sk, epoch, &nr);
	if (!ret)
		ret = lz_holder_list(t.sk, &t.held, &t.nr_held);
	if (!ret)
		ret = lz_holder_removed(t.sk, &t.removed, &t.nr_removed);
	if (!ret)
		ret = lz_holder_epoch(t.sk, zero);
	if (ret)
		return ret;
	check_chain(criu_get_image_dir(), epoch, was_there);
	pr_info("track: holder with %zu tasks; tracking relative to the parent images: %s\n", t.nr_held,
		t.no_chain ? "no" : "yes");
	return 0;
}

static int held_uffd(uint64_t pino)
{
	size_t i;

	/* a task that called execve() since has another mm: that uffd is dead */
	for (i = 0; i < t.nr_held; i++)
		if (t.held[i].pino == pino && lz_uffd_mm_alive(t.held[i].uffd))
			return t.held[i].uffd;
	return -1;
}

/* A userfaultfd made in the task, handed to the holder; -errno */
static int new_uffd(int pid, int pidfd)
{
	int uffd, ret;

	uffd = cr_plugin_task_userfaultfd(pid, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0)
		return uffd;
	ret = lz_wp_api(uffd);
	if (!ret)
		ret = lz_holder_add(t.sk, pidfd, uffd);
	if (ret) {
		close(uffd);
		return ret;
	}
	return uffd;
}

static bool same_vma(const struct lz_trk_vma *a, const struct lz_trk_vma *b)
{
	return a->start == b->start && a->end == b->end && a->off == b->off && a->dev == b->dev && a->ino == b->ino;
}

static bool has_vma(const struct lz_trk_task *task, const struct lz_trk_vma *v)
{
	size_t i;

	for (i = 0; task && i < task->nr; i++)
		if (same_vma(&task->vmas[i], v))
			return true;
	return false;
}

struct hit {
	struct lz_trk_obj *o;
	const struct lz_trk_vma *v;
};

static void on_written(uint64_t start, uint64_t end, void *arg)
{
	struct hit *h = arg;

	lz_trk_obj_written(h->o, h->v->off + (start - h->v->start), end - start);
}

/* Collect and re-protect one mapping; register and protect a new one */
static void track_vma(int pid, int pmfd, int uffd, const struct lz_trk_vma *v, const struct lz_trk_task *prev)
{
	struct hit h = { .o = lz_trk_obj_get(v), .v = v };
	int ret;

	if (!h.o) {
		lz_trk_objs_full("no memory");
		return;
	}
	if (t.no_chain)
		lz_trk_obj_full(h.o, "%s", t.no_chain);
	else if (!prev)
		lz_trk_obj_full(h.o, "task %d was not tracked since the parent images (new, or forked: "
				     "the tracking does not follow forks)",
				pid);
	else if (!has_vma(prev, v))
		lz_trk_obj_full(h.o, "mapped anew by task %d at %" PRIx64 "-%" PRIx64 " since the parent images", pid,
				v->start, v->end);
	if (uffd < 0)
		return;
	ret = lz_wp_collect(pmfd, uffd, v, on_written, &h);
	if (ret == -EPERM) {
		if (!t.no_chain && has_vma(prev, v))
			lz_trk_obj_full(h.o, "task %d's mapping %" PRIx64 "-%" PRIx64 " lost its write protection "
					     "(PAGEMAP_SCAN: EPERM)",
					pid, v->start, v->end);
		ret = lz_wp_register(uffd, v->start, v->end - v->start);
		if (!ret)
			ret = lz_wp_protect(uffd, v->start, v->end - v->start);
	}
	if (ret)
		lz_trk_obj_full(h.o, "can't track task %d's mapping %" PRIx64 "-%" PRIx64 ": %s", pid, v->start,
				v->end, strerror(-ret));
}

/*
 * What the task removed since (MADV_REMOVE, MADV_DONTNEED) counts as
 * written: the zap took the entries that said so, and a page read back in
 * would look unwritten, the parent images' content no longer being there.
 */
static void track_removed(uint64_t pino, const struct lz_trk_vma *vmas, size_t nr)
{
	struct lz_trk_obj *o;
	uint64_t s, e;
	size_t i, j;

	for (i = 0; i < t.nr_removed; i++) {
		if (t.removed[i].pino != pino)
			continue;
		for (j = 0; j < nr; j++) {
			s = t.removed[i].start > vmas[j].start ? t.removed[i].start : vmas[j].start;
			e = t.removed[i].end < vmas[j].end ? t.removed[i].end : vmas[j].end;
			o = s < e ? lz_trk_obj_get(&vmas[j]) : NULL;
			if (o)
				lz_trk_obj_written(o, vmas[j].off + (s - vmas[j].start), e - s);
		}
	}
}

/* Mappings of the parent images gone now: writes through them may be lost */
static void track_gone(int pid, const struct lz_trk_task *prev, const struct lz_trk_task *now)
{
	struct lz_trk_obj *o;
	size_t i;

	for (i = 0; prev && i < prev->nr; i++) {
		if (has_vma(now, &prev->vmas[i]))
			continue;
		o = lz_trk_obj_get(&prev->vmas[i]);
		if (o)
			lz_trk_obj_full(o, "task %d unmapped or moved %" PRIx64 "-%" PRIx64 " since the parent images: "
					   "its writes there are not tracked any more",
					pid, prev->vmas[i].start,
					prev->vmas[i].end);
	}
}

static int add_pid(int **set, size_t *nr, int pid)
{
	int *p = realloc(*set, (*nr + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	*set = p;
	p[(*nr)++] = pid;
	return 0;
}

static bool has_pid(const int *set, size_t nr, int pid)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (set[i] == pid)
			return true;
	return false;
}

static int add_task(int pid, uint64_t pino, struct lz_trk_vma *vmas, size_t nr)
{
	struct lz_trk_task *n = realloc(t.cur.tasks, (t.cur.nr + 1) * sizeof(*n));
	size_t nr_pids = t.cur.nr;

	if (!n)
		return -ENOMEM;
	t.cur.tasks = n;
	if (add_pid(&t.pids, &nr_pids, pid))
		return -ENOMEM;
	t.cur.tasks[t.cur.nr++] = (struct lz_trk_task){ .pino = pino, .pid = pid, .nr = nr, .vmas = vmas };
	return 0;
}

static int track_one(int pid)
{
	const struct lz_trk_task *prev;
	struct lz_trk_vma *vmas = NULL;
	int pidfd, procdir = -1, pmfd = -1, uffd, ret;
	size_t nr = 0, i;
	uint64_t pino;

	pidfd = lz_pidfd_open(pid);
	if (pidfd >= 0)
		procdir = lz_pidfd_procdir(pidfd);
	if (procdir < 0) {
		ret = -errno;
		goto out;
	}
	pino = lz_pidfd_ino(pidfd);
	ret = lz_trk_maps(procdir, &vmas, &nr);
	pmfd = ret ? -1 : openat(procdir, "pagemap", O_RDONLY | O_CLOEXEC);
	if (ret || pmfd < 0) {
		ret = ret ?: -errno;
		goto out;
	}
	uffd = held_uffd(pino);
	prev = lz_trk_state_task(&t.parent, pino);
	if (uffd < 0 && nr) {
		ret = add_pid(&t.pending, &t.nr_pending, pid);
		if (ret)
			goto out;
		prev = NULL; /* whatever the images say, this task was not tracked */
	}
	for (i = 0; i < nr; i++)
		track_vma(pid, pmfd, uffd, &vmas[i], prev);
	track_removed(pino, vmas, nr);
	ret = add_task(pid, pino, vmas, nr);
	if (!ret) {
		track_gone(pid, prev, &t.cur.tasks[t.cur.nr - 1]);
		vmas = NULL;
		pr_info("track: task %d: %zu tracked mappings\n", pid, nr);
	}
out:
	free(vmas);
	if (pmfd >= 0)
		close(pmfd);
	if (procdir >= 0)
		close(procdir);
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

/* The tree below @root, frozen: every task's children, breadth first */
static int tree_pids(int root, int **out, size_t *nr)
{
	char path[64], *line = NULL, *tok, *save;
	size_t len = 0, i;
	int ret;

	ret = add_pid(out, nr, root);
	for (i = 0; !ret && i < *nr; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (*out)[i], (*out)[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (!ret && getline(&line, &len, f) > 0)
			for (tok = strtok_r(line, " \n", &save); !ret && tok; tok = strtok_r(NULL, " \n", &save))
				if (!has_pid(*out, *nr, atoi(tok)))
					ret = add_pid(out, nr, atoi(tok));
		fclose(f);
	}
	free(line);
	return ret;
}

static void finalize(void);

/* The whole tree, before CRIU dumps anything of it */
static void track_tree(int root)
{
	int *pids = NULL, ret;
	size_t nr = 0, i;

	ret = tree_pids(root, &pids, &nr);
	for (i = 0; !ret && i < nr; i++) {
		ret = track_one(pids[i]);
		if (ret)
			pr_warn("track: task %d: %s\n", pids[i], strerror(-ret));
	}
	free(pids);
	if (ret) {
		/* a task's mappings are unknown: nothing this run saw can be trusted */
		t.no_chain = "a task of the tree could not be read";
		lz_trk_objs_full("%s", t.no_chain);
	}
	finalize();
}

/* A task new to the holder: its own userfaultfd, its mappings protected */
static void start_task(int pid)
{
	const struct lz_trk_task *task = NULL;
	int pidfd = lz_pidfd_open(pid), uffd = -ESRCH, ret = 0;
	size_t i;

	for (i = 0; i < t.cur.nr; i++)
		if (t.cur.tasks[i].pid == pid)
			task = &t.cur.tasks[i];
	if (pidfd >= 0 && task)
		uffd = new_uffd(pid, pidfd);
	ret = uffd < 0 ? uffd : 0;
	for (i = 0; !ret && i < task->nr; i++) {
		ret = lz_wp_register(uffd, task->vmas[i].start, task->vmas[i].end - task->vmas[i].start);
		if (!ret)
			ret = lz_wp_protect(uffd, task->vmas[i].start, task->vmas[i].end - task->vmas[i].start);
	}
	if (ret)
		pr_warn("track: task %d cannot be tracked (its objects will be dumped in full next time too): %s\n",
			pid, strerror(-ret));
	else
		pr_info("track: task %d is tracked from now on\n", pid);
	if (pidfd >= 0)
		close(pidfd);
}

/* Once per run: the holder, the parent images, the whole tree */
static void start(int root)
{
	int ret;

	if (t.active || t.criu)
		return;
	t.active = true;
	ret = init(root);
	if (ret) {
		pr_warn("track: no write tracking of shared memory in this run: holder: %s; "
			"every object is dumped in full\n",
			strerror(-ret));
		t.active = false;
	} else
		track_tree(root);
}

void lz_track_root(int pid)
{
	if (!t.root)
		t.root = pid;
}

int lz_track_task(int pid, int flags)
{
	if (!(flags & CR_TASK_MEM_TRACK))
		return -ENOTSUP;
	start(t.root ? t.root : pid);
	if (!t.active)
		return -ENOTSUP;
	if (has_pid(t.pending, t.nr_pending, pid))
		start_task(pid);
	return 0;
}

/* Once every task was seen: the tasks gone since the parent, and /proc */
static void finalize(void)
{
	size_t i, j;
	struct lz_trk_obj *o;

	if (t.finalized)
		return;
	t.finalized = true;
	for (i = 0; !t.no_chain && i < t.parent.nr; i++) {
		if (lz_trk_state_task(&t.cur, t.parent.tasks[i].pino))
			continue;
		for (j = 0; j < t.parent.tasks[i].nr; j++) {
			o = lz_trk_obj_get(&t.parent.tasks[i].vmas[j]);
			if (o)
				lz_trk_obj_full(o, "task %d of the parent images is gone: the writes it made are not "
						   "tracked any more",
						t.parent.tasks[i].pid);
		}
	}
	lz_trk_outside(t.pids, t.cur.nr, t.criu);
}

/* CRIU's kind of shared object against ours */
static bool kind_matches(int cr_kind, int kind)
{
	/*
	 * CRIU dumps anonymous shared memory as memfds where it can, and a
	 * restored one is a memfd (named "/dev/zero") that CRIU dumps as
	 * anonymous shared memory: the inode is the identity, not the name.
	 */
	if (cr_kind == CR_SHMEM_MEMFD || cr_kind == CR_SHMEM_ANON)
		return kind == LZ_KIND_ANON_SHARED || kind == LZ_KIND_HUGETLB_ANON || kind == LZ_KIND_MEMFD ||
		       kind == LZ_KIND_HUGETLB_MEMFD;
	if (cr_kind == CR_SHMEM_SYSV)
		return kind == LZ_KIND_SYSV || kind == LZ_KIND_HUGETLB_SYSV;
	return false;
}

static void set_bits(unsigned long *bits, uint64_t from, uint64_t to)
{
	const unsigned b = 8 * sizeof(*bits);

	for (; from < to; from++)
		bits[from / b] |= 1UL << (from % b);
}

/* The pages with no data in the parent images cannot be left there */
static int parent_holes(uint64_t shmid, uint64_t nbits, unsigned long *bits)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_pagesrc *src = NULL;
	uint64_t off = 0, s, e;
	int pdir, ret;

	pdir = openat(criu_get_image_dir(), "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pdir < 0)
		return -errno;
	ret = lz_pagesrc_open(pdir, shmid, &src, err, sizeof(err));
	close(pdir);
	if (ret) {
		pr_warn("track: shmid %" PRIu64 ": the parent images do not read: %s\n", shmid, err);
		return ret;
	}
	while (off < nbits * LZ_TRK_PAGE && lz_pagesrc_next_data(src, off, &s, &e) == 1) {
		set_bits(bits, off / LZ_TRK_PAGE, s / LZ_TRK_PAGE);
		off = e;
	}
	if (off < nbits * LZ_TRK_PAGE)
		set_bits(bits, off / LZ_TRK_PAGE, nbits);
	lz_pagesrc_close(src);
	return 0;
}

/* The object's id in the parent images: another one if it was restored
 * from them with a new inode (anonymous shared memory); 0 if the same */
static uint64_t parent_ino_of(uint64_t shmid)
{
	size_t i, j;

	for (i = 0; i < t.parent.nr; i++)
		for (j = 0; j < t.parent.tasks[i].nr; j++)
			if (t.parent.tasks[i].vmas[j].ino == shmid && t.parent.tasks[i].vmas[j].parent_ino)
				return t.parent.tasks[i].vmas[j].parent_ino;
	return 0;
}

int lz_track_parent_id(uint64_t shmid, int cr_kind, uint64_t *parent_id)
{
	uint64_t id;

	if (t.root)
		start(t.root);
	if (!t.active || t.no_chain)
		return -ENOTSUP;
	id = parent_ino_of(shmid);
	if (!id)
		return -ENOTSUP;
	*parent_id = id;
	pr_info("track: shmid %" PRIu64 " was shmid %" PRIu64 " in the parent images (restored from them)\n", shmid,
		id);
	return 0;
}

int lz_track_written(uint64_t shmid, uint64_t size, int cr_kind, unsigned long *bits)
{
	uint64_t nbits = (size + LZ_TRK_PAGE - 1) / LZ_TRK_PAGE, n;
	struct lz_trk_obj *o;

	/* a dump writes memfd-dumped objects while collecting the first task's
	 * mappings, before DUMP_TASK_MEM: CRIU asks only when it tracks memory */
	if (t.root)
		start(t.root);
	if (!t.active)
		return -ENOTSUP;
	o = lz_trk_obj_find(shmid, 0);
	if (!o || !kind_matches(cr_kind, lz_trk_obj_kind(o)) || lz_trk_obj_find(shmid, 1)) {
		pr_info("track: shmid %" PRIu64 " is dumped in full: %s\n", shmid,
			!o			  ? "no tracked task maps it" :
			lz_trk_obj_find(shmid, 1) ? "another object has the same inode number" :
						    "CRIU dumps it as another kind of memory than it is mapped as");
		return -ENOTSUP;
	}
	if (lz_trk_obj_reason(o)) {
		pr_info("track: %s shmid %" PRIu64 " is dumped in full: %s\n", lzimg_kind_name(lz_trk_obj_kind(o)),
			shmid, lz_trk_obj_reason(o));
		return -ENOTSUP;
	}
	if (parent_holes(parent_ino_of(shmid) ?: shmid, nbits, bits))
		return -ENOTSUP;
	n = lz_trk_obj_copy(o, bits, nbits);
	pr_info("track: %s shmid %" PRIu64 ": %" PRIu64 " of %" PRIu64 " pages written since the parent images "
		"(or not there); the others stay there\n",
		lzimg_kind_name(lz_trk_obj_kind(o)), shmid, n, nbits);
	return 0;
}

/* The restore's state served its one run: these images replace it */
static void drop_restored_state(void)
{
	char path[PATH_MAX];

	if (!lz_holder_restored_path(t.root_pidfd, path, sizeof(path)) && unlink(path) && errno != ENOENT)
		pr_warn("track: can't remove %s: %s\n", path, strerror(errno));
}

/* The run's images are complete: they are what the tracking is now relative to */
void lz_track_finish(int ret)
{
	int err;

	if (!t.active || t.sk < 0 || ret)
		return;
	finalize();
	if (getrandom(t.cur.epoch, sizeof(t.cur.epoch), 0) != sizeof(t.cur.epoch)) {
		pr_warn("track: no random epoch: %s; the next dump will be full\n", strerror(errno));
		return;
	}
	err = lz_trk_state_write(criu_get_image_dir(), &t.cur);
	if (!err)
		err = lz_holder_epoch(t.sk, t.cur.epoch);
	if (err) {
		pr_warn("track: can't record the tracking state (%s): the next dump will be full\n", strerror(-err));
		return;
	}
	if (t.restored)
		drop_restored_state();
	pr_info("track: %zu tasks, %zu objects tracked: the next dump may leave what did not change in these "
		"images\n",
		t.cur.nr, lz_trk_objs_nr());
}

/*
 * The dump killed the tree (no -R): nothing is left to track, and the
 * holder's pidfds would keep the tasks' pid numbers taken, so that a
 * restore into them fails (EEXIST): stop it now, not when it notices.
 */
void lz_track_released(void)
{
	struct pollfd p = { .fd = t.root_pidfd, .events = POLLIN };

	if (t.active && t.sk >= 0 && t.root_pidfd >= 0 && poll(&p, 1, 500) == 1) {
		if (lz_holder_stop(t.sk))
			pr_warn("track: the holder of the dead tree does not stop: it will when it sees its tasks gone\n");
		else
			pr_info("track: the tree is gone: its holder stopped\n");
	}
	lz_track_fini();
}

void lz_track_fini(void)
{
	size_t i;

	for (i = 0; i < t.nr_held; i++) {
		close(t.held[i].pidfd);
		close(t.held[i].uffd);
	}
	free(t.held);
	free(t.removed);
	free(t.pids);
	free(t.pending);
	lz_trk_state_free(&t.parent);
	lz_trk_state_free(&t.cur);
	lz_trk_objs_free();
	if (t.sk >= 0)
		close(t.sk);
	if (t.root_pidfd >= 0)
		close(t.root_pidfd);
	memset(&t, 0, sizeof(t));
	t.sk = t.root_pidfd = -1;
}
