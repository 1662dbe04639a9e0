// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon's side of fail-stop; see failstop.h. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "failstop.h"
#include "log.h"

/* Rounds of idle time (about 10 ms each) spent looking for forked children */
#define DISCOVER_ROUNDS 20
/* How long a dying tree gets before the daemon gives up waiting */
#define DEATH_WAIT_MS 10000

static void stop_tree(struct lz_failstop *f, const char *why)
{
	size_t n = lz_tree_kill(&f->tree);

	pr_err("%s: stopping the %zu process(es) of the restored tree\n", why, n);
	if (!lz_tree_wait_dead(&f->tree, DEATH_WAIT_MS))
		pr_err("%zu restored process(es) still alive after %d ms\n", lz_tree_alive(&f->tree), DEATH_WAIT_MS);
}

/* The guardian never exits before it is released: if it does, nobody would
 * stop the tree should the daemon die too, so stop it now */
static void *watch_guardian(void *arg)
{
	struct lz_failstop *f = arg;
	struct pollfd p[2] = { { .fd = f->guard.pidfd, .events = POLLIN }, { .fd = f->stop_efd, .events = POLLIN } };

	while (poll(p, 2, -1) < 0 && errno == EINTR)
		;
	if (p[1].revents || !p[0].revents)
		return NULL;
	stop_tree(f, "the guardian died");
	pr_err("the lazy-pages daemon stops: without a guardian the tree is not fail-stop\n");
	_exit(1);
}

int lz_failstop_start(struct lz_failstop *f)
{
	memset(f, 0, sizeof(*f));
	f->stop_efd = -1;
	f->guard.pid = f->guard.pidfd = f->guard.sk = -1;
	if (lz_tree_init(&f->tree))
		return -1;
	/* the guardian first: it must not inherit the daemon's threads */
	if (lz_guardian_start(&f->guard))
		return -1;
	f->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (f->stop_efd < 0 || pthread_create(&f->watcher, NULL, watch_guardian, f)) {
		pr_perror("cannot watch the guardian");
		return -1;
	}
	f->watching = true;
	return 0;
}

int lz_failstop_task(struct lz_failstop *f, int pidfd, int uffd)
{
	/* sync_guardian() sends it again later: the guardian knows it then */
	if (lz_tree_add(&f->tree, pidfd) < 0)
		return -1;
	return lz_guardian_watch(&f->guard, pidfd, uffd, uffd);
}

int lz_failstop_fork(struct lz_failstop *f, int child_uffd)
{
	f->discover_left = DISCOVER_ROUNDS;
	return lz_guardian_watch(&f->guard, -1, child_uffd, child_uffd);
}

int lz_failstop_forget(struct lz_failstop *f, int uffd)
{
	return lz_guardian_forget(&f->guard, uffd);
}

/* New tree members and objects: tell the guardian */
static int sync_guardian(struct lz_failstop *f, struct lz_objects *objs)
{
	size_t nr = lz_tree_nr(&f->tree), n = lz_objects_count(objs);
	struct lz_object *o;

	for (; f->members_sent < nr; f->members_sent++)
		if (lz_guardian_watch(&f->guard, lz_tree_pidfd(&f->tree, f->members_sent), -1, -1))
			return -1;
	for (; f->objs_sent < n; f->objs_sent++) {
		o = lz_objects_get(objs, f->objs_sent);
		if (lz_guardian_object(&f->guard, o->dev, o->ino))
			return -1;
	}
	return 0;
}

int lz_failstop_idle(struct lz_failstop *f, struct lz_objects *objs)
{
	/* a forked child shows up once its parent's fork() returns */
	if (f->discover_left > 0) {
		f->discover_left--;
		if (lz_tree_discover(&f->tree) < 0)
			pr_warn("cannot look for the children of restored tasks\n");
	}
	return sync_guardian(f, objs);
}

static void stop_watcher(struct lz_failstop *f)
{
	uint64_t one = 1;

	if (!f->watching)
		return;
	if (write(f->stop_efd, &one, sizeof(one)) != sizeof(one) || pthread_join(f->watcher, NULL))
		pr_perror("cannot stop watching the guardian");
	f->watching = false;
}

int lz_failstop_release(struct lz_failstop *f)
{
	stop_watcher(f);
	return lz_guardian_release(&f->guard);
}

void lz_failstop_abort(struct lz_failstop *f)
{
	stop_watcher(f);
	stop_tree(f, "lazy-pages failed before every page was restored");
}

/* Let an unreleased guardian read EOF (it stops what is left of the tree)
 * and reap it, waiting a bounded time */
static void end_guardian(struct lz_failstop *f)
{
	struct timespec ms10 = { 0, 10 * 1000 * 1000 };
	int i;

	if (f->guard.sk < 0)
		return;
	close(f->guard.sk);
	f->guard.sk = -1;
	for (i = 0; i < DEATH_WAIT_MS / 10; i++) {
		if (waitpid(f->guard.pid, NULL, WNOHANG) == f->guard.pid)
			break;
		nanosleep(&ms10, NULL);
	}
	if (f->guard.pidfd >= 0)
		close(f->guard.pidfd);
	f->guard.pidfd = -1;
}

void lz_failstop_fini(struct lz_failstop *f)
{
	stop_watcher(f);
	end_guardian(f);
	if (f->stop_efd >= 0)
		close(f->stop_efd);
	lz_tree_fini(&f->tree);
}
