// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lazyshm side of `criu lazy-pages`.
 *
 * A fault on a lazily restored object is resolved by populating the page
 * through the daemon's second mapping (objects.c), then mapping it into
 * the faulting task with UFFDIO_CONTINUE. Missing and minor faults differ
 * only in whether the page already existed. In idle time the remaining
 * pages are populated in order and mapped with range CONTINUEs into every
 * task that had them in its page tables at dump, so that applications
 * rarely fault at all and no task's Rss covers what it never touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "criu-plugin.h"
#include "daemon.h"
#include "failstop.h"
#include "handover.h"
#include "log.h"
#include "mapper.h"
#include "pidfd.h"
#include "objects.h"
#include "prefetch.h"
#include "registry.h"
#include "remote-dest.h"
#include "replay.h"
#include "stats.h"
#include "tasks.h"
#include "uffdinfo.h"
#include "uffd-compat.h"

#define FAULT_AROUND (64 << 10)
/* Longest sleep between two looks at the prefetch queue */
#define IDLE_WAIT_MS 10

struct lz_daemon {
	bool active;
	bool restored;
	bool resident;
	bool tree_gone;		  /* every restored task exited before full residency */
	uint64_t next_exit_check; /* ns */
	int imgdir;
	struct lz_objects objs;
	struct lz_registry *reg;
	struct lz_failstop fs;
	struct lz_replay replay;
	struct lz_task *tasks;
	struct lz_stats *stats;
	struct lz_prefetch pf; /* started when the restore has finished, or with the daemon */
	bool pf_early;	       /* with the daemon: a working set is replayed (set before the registry runs) */
	unsigned fill_delay_ms;
	unsigned fill_threads;
	struct pollfd *pfd; /* wait_activity()'s, kept across calls */
	size_t pfd_cap;
	struct lz_handover ho; /* tracking from the restore */
};

static struct lz_daemon D;

static struct lz_task *task_by_uffd(int uffd)
{
	struct lz_task *t;

	for (t = D.tasks; t; t = t->next)
		if (t->uffd == uffd && !t->gone)
			return t;
	return NULL;
}

static int task_ready(struct lz_task *t)
{
	return t->loaded ? 0 : lz_task_load(t, &D.objs);
}

static int task_retry(struct lz_task *t)
{
	return lz_map_retry(D.stats, t);
}

/* The registry hands over an object (in its thread) */
static int take_object(void *arg, int fd, const struct lz_offer *o, char *why, size_t len)
{
	struct lz_object_desc d = {
		.shmid = o->shmid, .size = o->size, .kind = o->kind, .seals = o->seals, .flags = o->flags
	};

	const char *refused = lz_dest_refuse(o->shmid);
	struct lz_object *obj;

	if (refused) {
		snprintf(why, len, "shmem %#" PRIx64 ": %s", o->shmid, refused);
		close(fd);
		return -1;
	}
	if (lz_objects_add(&D.objs, fd, &d, D.imgdir, why, len, &obj))
		return -1;
	lz_replay_attach(&D.replay, obj);
	if (D.pf_early)
		lz_prefetch_added(&D.pf); /* its working set is filled from now on */
	return 0;
}

/* The registry lives in the work directory, as CRIU's lazy-pages.socket */
static struct lz_registry *start_registry(void)
{
	struct lz_registry *reg;
	int wd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (wd < 0) {
		pr_perror("cannot open the work directory");
		return NULL;
	}
	reg = lz_registry_start(wd, take_object, NULL);
	close(wd);
	return reg;
}

int lz_daemon_init(const struct lz_config *cfg)
{
	memset(&D, 0, sizeof(D));
	D.imgdir = criu_get_image_dir();
	lz_handover_init(&D.ho, D.imgdir);
	D.fill_delay_ms = cfg->test_fill_delay_ms;
	D.fill_threads = cfg->fill_threads;
	if (D.fill_delay_ms)
		pr_warn("LAZYSHM_TEST_FILL_DELAY_MS=%u: the prefetch thread is slowed down for testing\n",
			D.fill_delay_ms);
	D.stats = calloc(1, sizeof(*D.stats));
	if (!D.stats)
		return -1;
	if (lz_objects_init(&D.objs, D.imgdir, cfg->validate))
		goto err;
	if (lz_replay_init(&D.replay, D.imgdir, cfg->replay))
		goto err_objs;
	lz_dest_init(&D.objs, cfg);
	D.stats->extra_json = lz_dest_json;
	/* the guardian first: it must not inherit the registry's thread */
	if (lz_failstop_start(&D.fs))
		goto err_fs;
	/* a working set to replay is filled while the restore goes on */
	D.pf_early = lz_replay_has_ws(&D.replay);
	if (D.pf_early && lz_prefetch_start_early(&D.pf, &D.objs, D.fill_threads, D.fill_delay_ms))
		goto err_fs;
	D.reg = start_registry();
	if (!D.reg)
		goto err_pf;
	D.active = true;
	pr_info("lazy-pages: serving shmem and hugetlbfs objects%s\n",
		cfg->validate ? ", validating page digests" : ", digest validation disabled");
	return 0;
err_pf:
	lz_prefetch_stop(&D.pf);
err_fs:
	/* a guardian already started reads EOF and exits: there is no tree yet */
	lz_failstop_fini(&D.fs);
	lz_dest_end(false);
	lz_replay_fini(&D.replay);
err_objs:
	lz_objects_fini(&D.objs);
err:
	free(D.stats);
	return -1;
}

void lz_daemon_fini(int ret)
{
	struct lz_task *t, *n;

	if (!D.active)
		return;
	lz_dest_end(ret == 0 && (D.resident || D.tree_gone));
	lz_prefetch_stop(&D.pf);
	lz_registry_stop(D.reg);
	if (ret == 0 && (D.resident || D.tree_gone || !lz_objects_count(&D.objs))) {
		lz_stats_summary(D.stats, &D.objs, D.imgdir);
		if (lz_replay_write(&D.replay, &D.objs, D.imgdir))
			pr_warn("the next restore of these images prefetches without a working set\n");
		if (lz_failstop_release(&D.fs))
			pr_err("could not release the guardian\n");
	} else {
		lz_failstop_abort(&D.fs);
	}
	lz_failstop_fini(&D.fs);
	lz_handover_end(&D.ho, ret == 0 && D.resident);
	for (t = D.tasks; t; t = n) {
		n = t->next;
		lz_task_free(t);
	}
	lz_replay_fini(&D.replay);
	lz_objects_fini(&D.objs);
	lz_map_fini();
	free(D.stats);
	free(D.pfd);
	D.active = false;
}

int lz_daemon_task(int pid, int pidfd, int uffd)
{
	struct lz_task *t;
	int fd;

	if (!D.active)
		return -ENOTSUP;
	if (pidfd < 0) {
		pr_err("task %d came without a pidfd: it cannot be told from other processes, refusing it\n", pid);
		return -EINVAL;
	}
	fd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
	t = fd < 0 ? NULL : lz_task_new(pid, fd, uffd);
	if (!t)
		return -ENOMEM;
	t->wp = lz_uffd_wp_async(uffd);
	if (t->wp && !D.tasks)
		pr_info("track: the restore tracks writes (--track-mem): pages are mapped write-protected\n");
	if (!D.stats->t_start)
		D.stats->t_start = lz_now_ns();
	t->next = D.tasks;
	D.tasks = t;
	return lz_failstop_task(&D.fs, t->pidfd, uffd) || lz_failstop_idle(&D.fs, &D.objs) ? -EIO : 0;
}

/* Populate the faulting page if needed, then map it into the task */
static int serve_fault(struct lz_task *t, struct lz_vma *r, uint64_t page, uint64_t flags)
{
	struct lz_object *o = r->obj;
	bool missing = !(flags & UFFD_PAGEFAULT_FLAG_MINOR), filled = false;
	int state = lz_page_state(o, page);

	/*
	 * The prefetch thread goes on after what the fault-around fills, and,
	 * for huge pages (no fault-around), one page further: the task's next
	 * fault is then filled here while that thread fills the page after it,
	 * instead of waiting here for the page that thread is filling.
	 */
	__atomic_store_n(&o->hint, page + 1 + (FAULT_AROUND / o->psz ?: 1), __ATOMIC_RELEASE);
	if (state != LZ_PAGE_FILLED && !lz_page_zero(state)) { /* unfilled, or being filled */
		if (lz_object_fill(&D.objs, o, page, 1, LZ_FILL_FAULT | LZ_FILL_WAIT))
			return -1;
		filled = lz_page_state(o, page) == LZ_PAGE_FILLED;
	}
	if (missing)
		D.stats->faults_missing++;
	else
		D.stats->faults_minor++;
	lz_replay_fault(&D.replay, o, page);
	/*
	 * A missing fault is on a page absent from the page cache: unless it was
	 * just filled, it reads as zeros (a hole, a page the application
	 * removed, or one dropped through a descriptor). A minor one is on a
	 * page that is there.
	 */
	return lz_map_fault(D.stats, t, r, page, missing && !filled);
}

/*
 * Once the faulting thread runs again, map the pages that follow it in
 * the same range: a task that touched one page is likely to touch the
 * next ones, and each fault costs ~100x a plain touch. Pages the prefetch
 * thread is filling are left to it.
 */
static int fault_around(struct lz_task *t, struct lz_vma *r, uint64_t page)
{
	struct lz_object *o = r->obj;
	uint64_t psz = o->psz, n = FAULT_AROUND / psz;

	/* a recording maps nothing ahead: every page a task touches then faults, and is recorded */
	if (n < 2 || lz_replay_exact(&D.replay) || lz_page_state(o, page) != LZ_PAGE_FILLED)
		return 0;
	page++;
	n--;
	if (page + n > o->nr_pages)
		n = o->nr_pages > page ? o->nr_pages - page : 0;
	if (!n || lz_object_fill(&D.objs, o, page, n, LZ_FILL_FAULT))
		return n ? -1 : 0;
	return lz_map_filled(D.stats, t, r, page, n);
}

/* The range of @t that maps @address; the task's mappings are read again
 * once if none does (a mapping grown in place by mremap raises no event) */
static struct lz_vma *find_range(struct lz_task *t, uint64_t address)
{
	struct lz_vma *r = lz_task_find(t, address);

	/* lazy-pages' own memory, as the task's mappings said */
	if (r || t->pidfd < 0 || lz_vmas_find(&t->priv, address))
		return r;
	pr_info("task %d: fault at %#" PRIx64 " outside its known ranges: reading its mappings again\n", t->pid,
		address);
	if (lz_task_load(t, &D.objs))
		return NULL;
	return lz_task_find(t, address);
}

/*
 * No object of ours maps @address. lazy-pages may serve it only if it is its
 * own private anonymous memory: it would map a zero page, which in shared
 * memory means a page the application wrote, or will read, is lost.
 */
static int decline_fault(struct lz_task *t, uint64_t address, uint64_t flags)
{
	int cls;

	if (flags & UFFD_PAGEFAULT_FLAG_MINOR) {
		pr_err("task %d: minor fault at %#" PRIx64 " in no lazily restored object: stopping\n", t->pid,
		       address);
		return -EFAULT;
	}
	if (lz_vmas_find(&t->priv, address))
		return -ENOTSUP;
	/* a task forked after the restore: only what its parent mapped is known */
	if (t->pidfd < 0) {
		pr_err("task %d (uffd %d, forked after the restore): fault at %#" PRIx64 " outside every range "
		       "known from its parent: stopping rather than risking a zero page in shared memory\n",
		       t->pid, t->uffd, address);
		return -EFAULT;
	}
	cls = lz_task_addr_class(t, address);
	if (cls == LZ_ADDR_PRIVATE_ANON || cls == LZ_ADDR_UNMAPPED)
		return -ENOTSUP;
	pr_err("task %d: fault at %#" PRIx64 " in a %s mapping that no lazily restored object covers: stopping "
	       "rather than letting a zero page be mapped\n",
	       t->pid, address, cls < 0 ? "unreadable" : "shared or file");
	return -EFAULT;
}

void lz_daemon_returns(void)
{
	if (D.active)
		lz_objects_settled(&D.objs);
}

int lz_daemon_fault(int pid, int uffd, uint64_t address, uint64_t flags)
{
	uint64_t t0 = lz_now_ns(), page;
	struct lz_task *t;
	struct lz_vma *r;

	if (!D.active)
		return -ENOTSUP;
	t = task_by_uffd(uffd);
	if (!t || task_ready(t))
		return t ? -EIO : -ENOTSUP;
	r = find_range(t, address);
	if (!r)
		return decline_fault(t, address, flags);

	page = (r->off + (address - r->start)) / r->obj->psz;
	if (page >= r->obj->nr_pages) {
		pr_err("task %d: fault at %#" PRIx64 " is page %" PRIu64 " of %s %#" PRIx64 ", which has %" PRIu64
		       ": stopping\n",
		       t->pid, address, page, lz_obj_kind(r->obj), r->obj->shmid, r->obj->nr_pages);
		return -EFAULT;
	}
	if (serve_fault(t, r, page, flags))
		return -EIO;
	lz_stats_fault(D.stats, lz_now_ns() - t0);
	return fault_around(t, r, page) ? -EIO : 0;
}

static int task_fork(struct lz_task *parent, int child_uffd)
{
	struct lz_task *t;

	/*
	 * The child's ranges are the parent's as the events read so far left
	 * them, not its mappings now: the kernel lets the parent go on once
	 * this event is read (it may have exited, or moved a mapping whose
	 * REMAP event comes next). A parent never loaded is loaded now.
	 */
	if (task_ready(parent)) {
		pr_err("task %d forked, and its mappings cannot be read (%s): its child's faults could not be "
		       "told apart\n",
		       parent->pid, strerror(errno));
		return -1;
	}
	t = lz_task_new(parent->pid, -1, child_uffd);
	if (!t)
		return -1;
	t->wp = lz_uffd_wp_async(child_uffd);
	if (lz_task_copy_ranges(t, parent)) {
		lz_task_free(t);
		return -1;
	}
	t->next = D.tasks;
	D.tasks = t;
	return lz_failstop_fork(&D.fs, child_uffd);
}

/*
 * A REMOVE event comes from MADV_REMOVE or MADV_DONTNEED, for one VMA.
 * MADV_REMOVE needs a shared VMA that may be written (VM_MAYWRITE): on any
 * other it was MADV_DONTNEED, which drops page table entries only, and the
 * pages keep their content. On a VMA that may be written, the two cannot
 * be told apart (docs/KERNEL.md): it is taken for a removal.
 */
static bool dontneed_only(struct lz_task *t, uint64_t start)
{
	struct lz_vma *r = lz_task_find(t, start);
	int mw;

	/*
	 * A memfd sealed against writes at dump refuses MADV_REMOVE (EPERM):
	 * its seals wait for full residency here, but the advice was DONTNEED.
	 */
	if (r && (r->obj->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		return true;
	mw = t->pidfd >= 0 ? lz_task_vma_maywrite(t, start) : -1;
	if (mw == 0)
		pr_debug("task %d: REMOVE of %#" PRIx64 " in a VMA that may not be written: MADV_DONTNEED, the content "
			 "stays\n",
			 t->pid, start);
	return mw == 0;
}

/* The application dropped [start, end): its unpopulated pages read zeros */
static int task_remove(struct lz_task *t, uint64_t start, uint64_t end)
{
	size_t i;

	if (dontneed_only(t, start))
		return 0;
	for (i = 0; i < t->ranges.nr; i++) {
		struct lz_vma *r = &t->ranges.r[i];
		uint64_t s = r->start > start ? r->start : start;
		uint64_t e = r->end < end ? r->end : end;
		uint64_t psz = r->obj->psz, first, last;

		if (s >= e)
			continue;
		first = (r->off + (s - r->start) + psz - 1) / psz;
		last = (r->off + (e - r->start)) / psz;
		if (last > first && lz_object_remove(&D.objs, r->obj, first, last - first))
			return -1;
	}
	return 0;
}

/* The daemon closes @t's userfaultfd: the guardian must too; a task the
 * daemon is @done with is handed to the holder first (tracking from the
 * restore), and once no task is left the holder learns what it holds */
static int task_done(struct lz_task *t, bool done)
{
	struct lz_task *u;

	if (done && lz_handover_task(&D.ho, D.tasks, t))
		return -EIO;
	t->gone = true;
	if (lz_failstop_forget(&D.fs, t->uffd))
		return -EIO;
	for (u = D.tasks; u && u->gone; u = u->next)
		;
	if (!u)
		lz_handover_end(&D.ho, true);
	return 0;
}

int lz_daemon_event(int pid, int uffd, int event, uint64_t a, uint64_t b, uint64_t c)
{
	struct lz_task *t;
	int ret = 0;

	if (!D.active)
		return -ENOTSUP;
	t = task_by_uffd(uffd);
	if (!t)
		return -ENOTSUP;

	switch (event) {
	case CR_LAZY_EVENT_EXIT:
	case CR_LAZY_EVENT_DONE:
		return task_done(t, event == CR_LAZY_EVENT_DONE);
	case UFFD_EVENT_FORK:
		ret = task_fork(t, (int)a);
		break;
	case UFFD_EVENT_REMOVE:
		if (task_ready(t))
			return -EIO;
		lz_handover_untrack(t, a, b, "it removed pages of shared memory during the lazy restore");
		/* the range stays registered (CRIU patch 0005): later faults come here */
		ret = task_remove(t, a, b);
		break;
	case UFFD_EVENT_UNMAP:
		lz_handover_untrack(t, a, b, "it unmapped shared memory during the lazy restore");
		ret = t->loaded ? lz_task_drop(t, a, b) : 0;
		break;
	case UFFD_EVENT_REMAP:
		lz_handover_untrack(t, a, a + c, "it moved shared memory during the lazy restore");
		ret = t->loaded ? lz_task_remap(t, a, b, c) : 0;
		break;
	}
	if (ret == 0)
		ret = task_retry(t);
	return ret ? -EIO : 0;
}

/* A task is ready to be mapped into: 1, 0 if it has exited, -1 on error */
static int task_usable(struct lz_task *t)
{
	if (t->gone)
		return 0;
	if (task_ready(t)) {
		if (errno != ESRCH)
			return -1;
		t->gone = true; /* exited: its exit event follows */
		return 0;
	}
	return task_retry(t) ? -1 : 1;
}

/* Map the FILLED pages of [first, first+n) of @o into every task that maps
 * them and had them in its page tables at dump (lz_map_present) */
static int continue_everywhere(struct lz_object *o, uint64_t first, uint64_t n)
{
	struct lz_task *t;
	size_t i;
	int ret;

	for (t = D.tasks; t; t = t->next) {
		ret = task_usable(t);
		if (ret <= 0) {
			if (ret < 0)
				return -1;
			continue;
		}
		for (i = 0; i < t->ranges.nr; i++)
			if (t->ranges.r[i].obj == o && lz_map_present(D.stats, t, &t->ranges.r[i], first, n))
				return -1;
	}
	return 0;
}

/* The restore has finished: map what the prefetch filled meanwhile (a working set) */
static int map_early(void)
{
	size_t i, nr = lz_objects_count(&D.objs);

	lz_prefetch_restored(&D.pf);
	for (i = 0; i < nr; i++) {
		struct lz_object *o = lz_objects_get(&D.objs, i);

		if (continue_everywhere(o, 0, o->nr_pages))
			return -1;
	}
	return 0;
}

/* Map every chunk the prefetch threads and the network page source have completed */
static int drain_prefetched(void)
{
	struct lz_chunk c;

	while (lz_prefetch_pop(&D.pf, &c))
		if (continue_everywhere(c.obj, c.first, c.n))
			return -1;
	return lz_dest_drain(continue_everywhere);
}

/*
 * Nothing to do until a task faults or the prefetch thread completes a
 * chunk: sleep on both (at most IDLE_WAIT_MS, so that lazy-pages' own
 * work for private memory is not held up) instead of spinning on a CPU
 * the application and the prefetch thread need.
 */
static void wait_activity(void)
{
	struct lz_task *t;
	size_t n = 1;
	uint64_t v;

	for (t = D.tasks; t; t = t->next)
		n++;
	n++; /* the network page source's */
	if (n > D.pfd_cap) {
		struct pollfd *p = realloc(D.pfd, n * sizeof(*p));

		if (!p) {
			/* no memory for the tasks' descriptors: sleep on the prefetch alone */
			struct pollfd e = { .fd = D.pf.efd, .events = POLLIN };

			if (poll(&e, 1, IDLE_WAIT_MS) < 0 && errno != EINTR)
				pr_perror("poll");
			return;
		}
		D.pfd = p;
		D.pfd_cap = n;
	}
	D.pfd[0] = (struct pollfd){ .fd = D.pf.efd, .events = POLLIN };
	D.pfd[1] = (struct pollfd){ .fd = lz_dest_efd(), .events = POLLIN }; /* -1: ignored by poll() */
	for (n = 2, t = D.tasks; t; t = t->next)
		if (!t->gone)
			D.pfd[n++] = (struct pollfd){ .fd = t->uffd, .events = POLLIN };
	if (poll(D.pfd, n, IDLE_WAIT_MS) > 0 && (D.pfd[0].revents & POLLIN) && read(D.pf.efd, &v, sizeof(v)) < 0 &&
	    errno != EAGAIN)
		pr_perror("prefetch eventfd");
}

/*
 * Once the prefetch thread has exited, every page should be FILLED or
 * REMOVED. Fill and map here whatever is not (a page a fault had claimed
 * while the thread passed by is done by then): 1 if all is, 0, or -1.
 */
static int all_done(void)
{
	size_t i, nr = lz_objects_count(&D.objs);
	int done = 1;

	for (i = 0; i < nr; i++) {
		struct lz_object *o = lz_objects_get(&D.objs, i);
		bool left;

		pthread_mutex_lock(&D.objs.state_lock);
		left = o->nr_done != o->nr_pages;
		pthread_mutex_unlock(&D.objs.state_lock);
		if (!left)
			continue;
		if (lz_object_fill(&D.objs, o, 0, o->nr_pages, LZ_FILL_WAIT) ||
		    continue_everywhere(o, 0, o->nr_pages))
			return -1;
		done = 0;
	}
	return done;
}

/* Has every restored task exited? Looked at every EXIT_CHECK_NS */
#define EXIT_CHECK_NS (100 * 1000 * 1000ull)
static bool tree_exited(void)
{
	uint64_t now = lz_now_ns();
	struct lz_task *t;

	if (now < D.next_exit_check)
		return false;
	D.next_exit_check = now + EXIT_CHECK_NS;
	for (t = D.tasks; t; t = t->next) {
		if (t->gone)
			continue;
		if (t->pidfd >= 0 ? lz_pidfd_alive(t->pidfd) : lz_uffd_mm_alive(t->uffd))
			return false;
		t->gone = true;
	}
	return D.tasks != NULL;
}

/* Nobody maps the objects any more: stop filling them and let them go */
static void end_with_tree(void)
{
	lz_dest_end(true); /* the source need not keep anything for us */
	lz_prefetch_stop(&D.pf);
	D.tree_gone = true;
	pr_info("every restored task has exited before full residency: the lazy phase ends, nothing is left to "
		"serve\n");
}

/*
 * The restore has finished: every task has its final mappings. Read those
 * of the tasks not read yet, so that a fork is not the first time (a
 * parent that forks may exit before its FORK event is handled).
 */
static int load_restored(void)
{
	struct lz_task *t;

	for (t = D.tasks; t; t = t->next) {
		if (t->gone || t->loaded || t->pidfd < 0 || !lz_task_load(t, &D.objs))
			continue;
		if (errno != ESRCH)
			return -1;
		t->gone = true; /* exited: its exit event follows */
	}
	return 0;
}

/* CONTINUEs refused with EAGAIN: the mm has settled when its event was
 * read and its author ran, which may be after the event's own retry */
static int retry_pending(void)
{
	struct lz_task *t;

	for (t = D.tasks; t; t = t->next)
		if (!t->gone && t->nr_pend && task_retry(t))
			return -1;
	return 0;
}

int lz_daemon_idle(int restored)
{
	int remote;

	if (!D.active)
		return -ENOTSUP;
	if (lz_failstop_idle(&D.fs, &D.objs))
		return -EIO;
	if (!restored || D.resident || D.tree_gone)
		return 0;
	if (D.restored && tree_exited()) {
		end_with_tree();
		return 0;
	}
	if (!D.restored) {
		if (load_restored())
			return -EIO;
		D.restored = true;
		D.stats->t_restored = lz_now_ns();
		if (D.pf.started ? map_early() : lz_prefetch_start(&D.pf, &D.objs, D.fill_threads, D.fill_delay_ms))
			return -EIO;
		lz_dest_go();
	}
	if (retry_pending() || drain_prefetched())
		return -EIO;
	if (lz_prefetch_failed(&D.pf)) {
		pr_err("the prefetch thread could not fill a page: stopping\n");
		return -EIO;
	}
	remote = lz_dest_state();
	if (remote < 0)
		return -EIO;
	if (lz_prefetch_finished(&D.pf) && remote) {
		int done = drain_prefetched() ? -1 : all_done();

		if (done < 0)
			return -EIO;
		if (!done)
			return 1;
		D.resident = true;
		D.stats->t_resident = lz_now_ns();
		pr_info("every lazily restored page is populated\n");
		lz_dest_end(true);
		lz_objects_seal(&D.objs);
		return 0;
	}
	lz_stats_progress(D.stats, &D.objs);
	wait_activity();
	return 1;
}
