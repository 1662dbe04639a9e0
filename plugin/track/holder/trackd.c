// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lazyshm-trackd: holds the userfaultfds that track writes to a tree's
 * shared memory (plugin/track/) between CRIU runs, with a pidfd of each
 * task, and hands copies to the plugin (protocol: trackd-proto.h).
 *
 *   lazyshm-trackd SOCKET            (started by the plugin: the listening
 *                                     socket is descriptor 3)
 *   lazyshm-trackd --stop SOCKET     stop the holder of SOCKET
 *   lazyshm-trackd --status SOCKET   print its epoch and task count
 *
 * It exits when every task it holds has exited, on STOP or SIGTERM, and
 * removes its socket (and a lazy restore's state beside it) then. Closing
 * the userfaultfds ends the tracking: the next dump finds no holder and
 * dumps everything in full. A userfaultfd that has something to say (one
 * of a lazily restored tree) is answered (serve.c).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "scm.h"
#include "serve.h"
#include "uffdinfo.h"
#include "trackd-proto.h"

struct held {
	int pidfd;
	int uffd;
	bool wp; /* the userfaultfd tracks writes: map minor faults write-protected */
};

static struct held held[LZ_TRK_MAX_TASKS];
static size_t nr_held;
static uint8_t epoch[LZ_TRK_EPOCH_LEN];
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	stopping = 1;
}

static void drop(size_t i)
{
	lz_serve_forget(held[i].uffd);
	close(held[i].pidfd);
	close(held[i].uffd);
	held[i] = held[--nr_held];
}

static int timeouts(int sk)
{
	struct timeval tv = { .tv_sec = LZ_TRK_TIMEOUT_S };

	if (setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(sk, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -1;
	return 0;
}

/* The peer is of our uid (SO_PEERCRED), and answers in time */
static int peer_ok(int sk)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cr, &len) || len != sizeof(cr))
		return 0;
	if (cr.uid != getuid()) {
		fprintf(stderr, "lazyshm-trackd: refusing a client of uid %u (pid %d)\n", cr.uid, cr.pid);
		return 0;
	}
	return timeouts(sk) == 0;
}

static int reply(int sk, struct lz_trk_msg *m, int status, const int *fds, int nr)
{
	m->status = status;
	return lz_send_fds(sk, m, sizeof(*m), fds, nr);
}

static int do_list(int sk, struct lz_trk_msg *m)
{
	size_t i;

	m->nr = nr_held;
	if (reply(sk, m, 0, NULL, 0))
		return -1;
	for (i = 0; i < nr_held; i++) {
		int fds[2] = { held[i].pidfd, held[i].uffd };

		m->nr = i;
		if (reply(sk, m, 0, fds, 2))
			return -1;
	}
	return 0;
}

static int do_add(int sk, struct lz_trk_msg *m, int *fds, int got)
{
	if (got != 2)
		return reply(sk, m, -EINVAL, NULL, 0);
	if (nr_held == LZ_TRK_MAX_TASKS)
		return reply(sk, m, -ENOSPC, NULL, 0);
	held[nr_held].pidfd = fds[0];
	held[nr_held].uffd = fds[1];
	held[nr_held].wp = lz_uffd_wp_async(fds[1]);
	nr_held++;
	fds[0] = fds[1] = -1;
	return reply(sk, m, 0, NULL, 0);
}

/* Read what every userfaultfd has to say now: a client must see every
 * removal raised before it came (its tasks are frozen by then) */
static void drain(void)
{
	struct pollfd p;
	size_t i = nr_held;

	while (i-- > 0) {
		p = (struct pollfd){ .fd = held[i].uffd, .events = POLLIN };
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN) && lz_serve(held[i].uffd, held[i].wp))
			drop(i);
	}
}

static uint64_t pidfd_ino(int pidfd)
{
	struct stat st;

	return fstat(pidfd, &st) ? 0 : (uint64_t)st.st_ino;
}

/* The ranges removed since the last call, each with its task's pidfd inode */
static int do_removed(int sk, struct lz_trk_msg *m)
{
	const struct lz_removed *r;
	size_t n, i, j;

	r = lz_serve_removed(&n);
	m->nr = n;
	if (reply(sk, m, 0, NULL, 0))
		return -1;
	for (i = 0; i < n; i++) {
		for (j = 0; j < nr_held && held[j].uffd != r[i].uffd; j++)
			;
		m->pino = j < nr_held ? pidfd_ino(held[j].pidfd) : 0;
		m->start = r[i].start;
		m->end = r[i].end;
		if (reply(sk, m, 0, NULL, 0))
			return -1;
	}
	lz_serve_removed_clear();
	return 0;
}

/* One request: 1 to go on, 0 at the client's end or STOP, -1 on error */
static int request(int sk)
{
	int fds[2] = { -1, -1 }, got = 0, ret;
	struct lz_trk_msg m;

	ret = lz_recv_fds(sk, &m, sizeof(m), fds, 2, &got);
	if (ret <= 0)
		return ret;
	if (m.magic != LZ_TRK_MAGIC || m.version != LZ_TRK_VERSION)
		ret = reply(sk, &m, -EPROTO, NULL, 0);
	else if (m.op == LZ_TRK_HELLO) {
		m.nr = nr_held;
		memcpy(m.epoch, epoch, sizeof(epoch));
		ret = reply(sk, &m, 0, NULL, 0);
	} else if (m.op == LZ_TRK_ADD)
		ret = do_add(sk, &m, fds, got);
	else if (m.op == LZ_TRK_LIST)
		ret = do_list(sk, &m);
	else if (m.op == LZ_TRK_REMOVED)
		ret = do_removed(sk, &m);
	else if (m.op == LZ_TRK_EPOCH) {
		memcpy(epoch, m.epoch, sizeof(epoch));
		ret = reply(sk, &m, 0, NULL, 0);
	} else if (m.op == LZ_TRK_STOP) {
		/* closed before the reply: the pids they pin are free once it comes */
		while (nr_held)
			drop(nr_held - 1);
		stopping = 1;
		ret = reply(sk, &m, 0, NULL, 0);
	} else
		ret = reply(sk, &m, -EINVAL, NULL, 0);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return ret ? -1 : !stopping;
}

static void serve(int lsk)
{
	int sk = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);

	if (sk < 0)
		return;
	drain();
	if (peer_ok(sk))
		while (request(sk) > 0)
			;
	close(sk);
}

/* Answer the userfaultfds that spoke; drop the tasks that exited, and
 * those whose faults cannot be answered; 1 if any task is left */
static int prune(struct pollfd *p)
{
	size_t n = nr_held, i = n;

	/* downwards: drop() moves the last one into i, seen already */
	while (i-- > 0) {
		struct pollfd *u = &p[n + 1 + i];

		if (!p[i + 1].revents && (u->revents & POLLIN) && lz_serve(held[i].uffd, held[i].wp))
			u->revents |= POLLERR;
		if (p[i + 1].revents || (u->revents & (POLLERR | POLLHUP)))
			drop(i);
	}
	return nr_held > 0;
}

static int run(int lsk)
{
	static struct pollfd p[2 * LZ_TRK_MAX_TASKS + 1];
	int ever = 0;
	size_t i;

	while (!stopping) {
		p[0] = (struct pollfd){ .fd = lsk, .events = POLLIN };
		for (i = 0; i < nr_held; i++) {
			p[i + 1] = (struct pollfd){ .fd = held[i].pidfd, .events = POLLIN };
			p[nr_held + 1 + i] = (struct pollfd){ .fd = held[i].uffd, .events = POLLIN };
		}
		if (poll(p, 2 * nr_held + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (!prune(p) && ever)
			break;
		if (p[0].revents & POLLIN)
			serve(lsk);
		ever |= nr_held > 0;
	}
	return 0;
}

/* --stop / --status: a client of our own */
static int client(const char *path, uint32_t op)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct lz_trk_msg m = { .magic = LZ_TRK_MAGIC, .version = LZ_TRK_VERSION, .op = op };
	int sk, fd = -1, i;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0 || timeouts(sk) || connect(sk, (struct sockaddr *)&sa, sizeof(sa)) || !peer_ok(sk) ||
	    lz_send_fds(sk, &m, sizeof(m), NULL, 0) || lz_recv_fd(sk, &m, sizeof(m), &fd) != 1) {
		fprintf(stderr, "lazyshm-trackd: no holder answers at %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (op == LZ_TRK_HELLO) {
		printf("tasks %u epoch ", m.nr);
		for (i = 0; i < LZ_TRK_EPOCH_LEN; i++)
			printf("%02x", m.epoch[i]);
		printf("\n");
	}
	close(sk);
	return m.status ? 1 : 0;
}

/* The state a lazy restore left beside the socket (lz_trk_restored_name) */
static void remove_restored(const char *sock)
{
	char path[4096];
	size_t len = strlen(sock);

	if (len < 5 || strcmp(sock + len - 5, ".sock") || len + 16 > sizeof(path))
		return;
	snprintf(path, sizeof(path), "%.*s" LZ_TRK_RESTORED_SUFFIX, (int)(len - 5), sock);
	if (unlink(path) && errno != ENOENT)
		fprintf(stderr, "lazyshm-trackd: can't remove %s: %s\n", path, strerror(errno));
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	int ret;

	if (argc == 3 && !strcmp(argv[1], "--stop"))
		return client(argv[2], LZ_TRK_STOP);
	if (argc == 3 && !strcmp(argv[1], "--status"))
		return client(argv[2], LZ_TRK_HELLO);
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: lazyshm-trackd SOCKET (listening socket on fd 3) | --stop SOCKET | --status SOCKET\n");
		return 64;
	}
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	ret = run(3);
	close(3);
	if (lz_serve_stats()->minor + lz_serve_stats()->missing + lz_serve_stats()->events)
		fprintf(stderr, "lazyshm-trackd: answered %llu minor faults, %llu missing faults, %llu events\n",
			lz_serve_stats()->minor, lz_serve_stats()->missing, lz_serve_stats()->events);
	if (unlink(argv[1]) && errno != ENOENT)
		fprintf(stderr, "lazyshm-trackd: can't remove %s: %s\n", argv[1], strerror(errno));
	remove_restored(argv[1]);
	return ret;
}
