// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guardian: a child of the lazy-pages daemon that outlives it. See
 * guardian.h for why. It learns tasks over a socket pair and reads EOF
 * when the daemon is gone; a RELEASE message before that means success.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guardian.h"
#include "log.h"
#include "scm.h"

#define MAX_WATCHED 4096

enum { G_WATCH = 1, G_RELEASE = 2, G_FORGET = 3 };

struct g_msg {
	int type;
	int pid;
	int key; /* the daemon's descriptor of the userfaultfd */
};

struct g_state {
	int pids[MAX_WATCHED];
	int pidfds[MAX_WATCHED];
	int uffds[MAX_WATCHED];
	int keys[MAX_WATCHED];
	int nr;
};

static int parent_of(int pid)
{
	char path[64], buf[512], *p;
	int ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && sscanf(p + 2, "%*c %d", &ppid) != 1)
		ppid = -1;
	fclose(f);
	return ppid;
}

/* Kill every process descending from a watched task (tasks forked later) */
static void kill_descendants(struct g_state *s)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int i, pid, anc;

	if (!d)
		return;
	while ((de = readdir(d))) {
		pid = atoi(de->d_name);
		if (pid <= 0)
			continue;
		for (anc = parent_of(pid); anc > 1; anc = parent_of(anc)) {
			for (i = 0; i < s->nr && s->pids[i] != anc; i++)
				;
			if (i < s->nr) {
				kill(pid, SIGKILL);
				break;
			}
		}
	}
	closedir(d);
}

static void kill_tree(struct g_state *s)
{
	int i;

	pr_err("the lazy-pages daemon is gone before every page was restored: killing the %d restored task(s) "
	       "rather than letting them run on unrestored memory\n",
	       s->nr);
	kill_descendants(s);
	for (i = 0; i < s->nr; i++) {
		if (syscall(SYS_pidfd_send_signal, s->pidfds[i], SIGKILL, NULL, 0) && errno != ESRCH)
			pr_perror("cannot kill restored task %d", s->pids[i]);
	}
}

static void g_watch(struct g_state *s, const struct g_msg *m, int fd)
{
	if (s->nr >= MAX_WATCHED) {
		if (fd >= 0)
			close(fd);
		return;
	}
	s->pids[s->nr] = m->pid;
	s->pidfds[s->nr] = syscall(SYS_pidfd_open, m->pid, 0);
	s->uffds[s->nr] = fd;
	s->keys[s->nr] = m->key;
	s->nr++;
}

/* The daemon is done with a task: let its userfaultfd go */
static void g_forget(struct g_state *s, int key)
{
	int i;

	for (i = 0; i < s->nr; i++) {
		if (s->keys[i] != key)
			continue;
		if (s->uffds[i] >= 0)
			close(s->uffds[i]);
		if (s->pidfds[i] >= 0)
			close(s->pidfds[i]);
		s->nr--;
		s->pids[i] = s->pids[s->nr];
		s->pidfds[i] = s->pidfds[s->nr];
		s->uffds[i] = s->uffds[s->nr];
		s->keys[i] = s->keys[s->nr];
		return;
	}
}

static void guardian_main(int sk)
{
	struct g_state *s = calloc(1, sizeof(*s));
	struct g_msg m;
	int fd, ret;

	if (!s)
		_exit(1);
	/* The daemon's death must reach us as EOF, whatever signal it got */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	for (;;) {
		ret = lz_recv_fd(sk, &m, sizeof(m), &fd);
		if (ret == 1 && m.type == G_RELEASE)
			_exit(0);
		if (ret <= 0)
			break;
		/* keep the duplicated userfaultfd open: faults block, not zero-fill */
		if (m.type == G_WATCH)
			g_watch(s, &m, fd);
		else if (m.type == G_FORGET)
			g_forget(s, m.key);
	}
	kill_tree(s);
	_exit(2);
}

int lz_guardian_start(struct lz_guardian *g)
{
	int sp[2];

	g->pid = -1;
	g->sk = -1;
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
	pr_info("guardian %d watches the restored tree for the daemon's death\n", g->pid);
	return 0;
}

int lz_guardian_watch(struct lz_guardian *g, int pid, int uffd)
{
	struct g_msg m = { .type = G_WATCH, .pid = pid, .key = uffd };

	if (lz_send_fd(g->sk, &m, sizeof(m), uffd)) {
		pr_perror("cannot hand task %d to the guardian", pid);
		return -1;
	}
	return 0;
}

int lz_guardian_forget(struct lz_guardian *g, int uffd)
{
	struct g_msg m = { .type = G_FORGET, .key = uffd };

	if (send(g->sk, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m)) {
		pr_perror("cannot tell the guardian to forget userfaultfd %d", uffd);
		return -1;
	}
	return 0;
}

int lz_guardian_release(struct lz_guardian *g)
{
	struct g_msg m = { .type = G_RELEASE };
	int status;

	if (g->pid <= 0)
		return 0;
	if (send(g->sk, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m)) {
		pr_perror("cannot release the guardian");
		return -1;
	}
	close(g->sk);
	if (waitpid(g->pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		pr_err("the guardian did not exit cleanly (%#x)\n", status);
		return -1;
	}
	g->pid = -1;
	return 0;
}
