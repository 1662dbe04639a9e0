// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guardian: a child of the lazy-pages daemon that outlives it. See
 * guardian.h for why. It learns processes, userfaultfds and objects over a
 * socket pair and reads EOF when the daemon is gone; a RELEASE message
 * before that means success.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guardian.h"
#include "log.h"
#include "pidfd.h"
#include "scm.h"
#include "tree.h"

enum { G_WATCH = 1,
       G_RELEASE = 2,
       G_FORGET = 3,
       G_OBJECT = 4 };

#define G_HAS_PIDFD 1
#define G_HAS_UFFD  2

struct g_msg {
	int type;
	int key;   /* the daemon's descriptor of the userfaultfd */
	int flags; /* G_HAS_* : which descriptors came, pidfd first */
	uint64_t dev, ino;
};

struct g_uffd {
	int key, fd;
};

struct g_state {
	struct lz_tree tree;
	struct g_uffd *uffds;
	size_t nr_uffds, cap_uffds;
	struct lz_obj_id *objs;
	size_t nr_objs, cap_objs;
	int nr_tasks; /* watched with a pidfd of their own */
};

/* Grow an array of @size-byte items to hold one more; -1 if out of memory */
static int grow(void **arr, size_t *cap, size_t nr, size_t size)
{
	void *n;

	if (nr < *cap)
		return 0;
	n = realloc(*arr, (*cap ? *cap * 2 : 16) * size);
	if (!n)
		return -1;
	*arr = n;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

static void g_watch(struct g_state *s, const struct g_msg *m, const int *fds, int got)
{
	int i = 0, pidfd = -1, uffd = -1;

	if ((m->flags & G_HAS_PIDFD) && i < got)
		pidfd = fds[i++];
	if ((m->flags & G_HAS_UFFD) && i < got)
		uffd = fds[i++];
	if (pidfd >= 0) {
		if (lz_tree_add(&s->tree, pidfd) < 0)
			pr_err("guardian: no memory to watch a restored process\n");
		if (uffd >= 0)
			s->nr_tasks++;
		close(pidfd);
	}
	if (uffd < 0)
		return;
	/* keep the duplicated userfaultfd open: faults block, not zero-fill */
	if (grow((void **)&s->uffds, &s->cap_uffds, s->nr_uffds, sizeof(*s->uffds))) {
		pr_err("guardian: no memory to hold a userfaultfd\n");
		return;
	}
	s->uffds[s->nr_uffds++] = (struct g_uffd){ .key = m->key, .fd = uffd };
}

static void g_object(struct g_state *s, const struct g_msg *m)
{
	if (grow((void **)&s->objs, &s->cap_objs, s->nr_objs, sizeof(*s->objs))) {
		pr_err("guardian: no memory to remember an object\n");
		return;
	}
	s->objs[s->nr_objs++] = (struct lz_obj_id){ .dev = m->dev, .ino = m->ino };
}

/* The daemon is done with a task: let its userfaultfd go */
static void g_forget(struct g_state *s, int key)
{
	size_t i;

	for (i = 0; i < s->nr_uffds; i++) {
		if (s->uffds[i].key != key)
			continue;
		close(s->uffds[i].fd);
		s->uffds[i] = s->uffds[--s->nr_uffds];
		return;
	}
}

static size_t uffds_in_use(struct g_state *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nr_uffds; i++)
		n += lz_uffd_mm_alive(s->uffds[i].fd);
	return n;
}

/*
 * Kill every process of the tree, and keep the userfaultfds (faults block)
 * until every process using them is dead: a process not known by pidfd (a
 * task forked and orphaned unseen) is found by what it maps.
 */
static void fail_stop(struct g_state *s)
{
	struct timespec second = { 1, 0 };
	size_t left;
	int round;
	bool dead;

	pr_err("the lazy-pages daemon is gone before every page was restored: killing the %d restored task(s) "
	       "rather than letting them run on unrestored memory\n",
	       s->nr_tasks);
	for (round = 0;; round++) {
		lz_tree_kill(&s->tree);
		dead = lz_tree_wait_dead(&s->tree, 2000);
		left = uffds_in_use(s);
		if (dead && !left)
			break;
		if (round % 10 == 0)
			pr_err("guardian: %zu restored process(es), %zu userfaultfd(s) still in use; "
			       "looking for the processes that map lazily restored objects\n",
			       lz_tree_alive(&s->tree), left);
		if (lz_tree_adopt_mappers(&s->tree, s->objs, s->nr_objs) < 0)
			pr_err("guardian: cannot look for the processes mapping lazily restored objects\n");
		nanosleep(&second, NULL);
	}
	pr_info("guardian: every restored process is dead\n");
}

/* Keep stdio, the socket and CRIU's log, nothing else of the daemon's */
static int keep_only(int sk)
{
	int keep[2] = { sk, log_get_fd() }, lo = 3, i, t;

	if (keep[0] > keep[1]) {
		t = keep[0];
		keep[0] = keep[1];
		keep[1] = t;
	}
	for (i = 0; i < 2; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo && close_range(lo, keep[i] - 1, 0))
			return -1;
		lo = keep[i] + 1;
	}
	return close_range(lo, ~0U, 0);
}

static void guardian_main(int sk)
{
	struct g_state *s = calloc(1, sizeof(*s));
	int fds[LZ_SCM_MAX_FDS], got, ret;
	struct g_msg m;

	if (!s || lz_tree_init(&s->tree) || keep_only(sk))
		_exit(1);
	/* The daemon's death must reach us as EOF, whatever signal it got */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	for (;;) {
		ret = lz_recv_fds(sk, &m, sizeof(m), fds, 2, &got);
		if (ret == 1 && m.type == G_RELEASE)
			_exit(0);
		if (ret <= 0)
			break;
		if (m.type == G_WATCH)
			g_watch(s, &m, fds, got);
		else if (m.type == G_FORGET)
			g_forget(s, m.key);
		else if (m.type == G_OBJECT)
			g_object(s, &m);
	}
	fail_stop(s);
	_exit(2);
}

int lz_guardian_start(struct lz_guardian *g)
{
	int sp[2];

	g->pid = g->pidfd = g->sk = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
		pr_perror("cannot create the guardian's socket");
		return -1;
	}
	g->pid = fork();
	if (g->pid < 0) {
		pr_perror("cannot start the guardian");
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (g->pid == 0) {
		close(sp[0]);
		guardian_main(sp[1]);
	}
	close(sp[1]);
	g->sk = sp[0];
	g->pidfd = lz_pidfd_open(g->pid);
	if (g->pidfd < 0) {
		pr_perror("cannot open a pidfd of the guardian");
		return -1;
	}
	pr_info("guardian %d watches the restored tree for the daemon's death\n", g->pid);
	return 0;
}

static int send_msg(struct lz_guardian *g, const struct g_msg *m, const int *fds, int nr)
{
	if (lz_send_fds(g->sk, m, sizeof(*m), fds, nr)) {
		pr_perror("cannot tell the guardian (message %d)", m->type);
		return -1;
	}
	return 0;
}

int lz_guardian_watch(struct lz_guardian *g, int pidfd, int uffd, int key)
{
	struct g_msg m = { .type = G_WATCH, .key = key };
	int fds[2], nr = 0;

	if (pidfd >= 0) {
		m.flags |= G_HAS_PIDFD;
		fds[nr++] = pidfd;
	}
	if (uffd >= 0) {
		m.flags |= G_HAS_UFFD;
		fds[nr++] = uffd;
	}
	return send_msg(g, &m, fds, nr);
}

int lz_guardian_object(struct lz_guardian *g, uint64_t dev, uint64_t ino)
{
	struct g_msg m = { .type = G_OBJECT, .dev = dev, .ino = ino };

	return send_msg(g, &m, NULL, 0);
}

int lz_guardian_forget(struct lz_guardian *g, int key)
{
	struct g_msg m = { .type = G_FORGET, .key = key };

	return send_msg(g, &m, NULL, 0);
}

bool lz_guardian_exited(struct lz_guardian *g)
{
	return g->pidfd >= 0 && !lz_pidfd_alive(g->pidfd);
}

int lz_guardian_release(struct lz_guardian *g)
{
	struct g_msg m = { .type = G_RELEASE };
	int status;

	if (g->pid <= 0)
		return 0;
	if (send_msg(g, &m, NULL, 0))
		return -1;
	close(g->sk);
	g->sk = -1;
	if (waitpid(g->pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		pr_err("the guardian did not exit cleanly (%#x)\n", status);
		return -1;
	}
	close(g->pidfd);
	g->pid = g->pidfd = -1;
	return 0;
}
