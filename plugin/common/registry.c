// SPDX-License-Identifier: GPL-2.0-or-later
/* The object registry, both sides; see registry.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "registry.h"
#include "scm.h"

#define MAX_CONNS 16

struct lz_registry {
	int dirfd; /* the work directory, for the socket's removal */
	int sk;
	int stop[2];
	int conns[MAX_CONNS];
	int nr_conns;
	lz_take_fn take;
	void *arg;
	pthread_t thread;
	bool running;
	bool bound; /* the socket file is ours to remove */
};

static int set_timeouts(int sk)
{
	struct timeval tv = { .tv_sec = LZ_REGISTRY_TIMEOUT_MS / 1000, .tv_usec = LZ_REGISTRY_TIMEOUT_MS % 1000 * 1000 };

	return setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	       setsockopt(sk, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Is the peer of @sk of our own uid? Its credentials in *cr */
static bool peer_ok(int sk, struct ucred *cr)
{
	socklen_t len = sizeof(*cr);

	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, cr, &len))
		return false;
	return cr->uid == geteuid();
}

static int sock_addr(int dirfd, struct sockaddr_un *sa, socklen_t *len)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* through /proc, so that the directory needs no short path */
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd, LZ_REGISTRY_SOCK);
	if (n >= (int)sizeof(sa->sun_path))
		return -1;
	*len = offsetof(struct sockaddr_un, sun_path) + n + 1;
	return 0;
}

int lz_registry_connect(int dirfd, int *err, char *why, size_t len)
{
	struct sockaddr_un sa;
	struct ucred cr;
	socklen_t salen;
	int sk;

	*err = 0;
	if (sock_addr(dirfd, &sa, &salen)) {
		*err = ENAMETOOLONG;
		snprintf(why, len, "cannot name the registry socket");
		return -1;
	}
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0 || connect(sk, (struct sockaddr *)&sa, salen)) {
		*err = errno;
		snprintf(why, len, "no lazy-pages daemon with the lazyshm plugin in the work directory (%s: %s)",
			 LZ_REGISTRY_SOCK, strerror(errno));
		goto err;
	}
	if (!peer_ok(sk, &cr)) {
		*err = EPERM;
		snprintf(why, len, "%s belongs to pid %d of uid %u, not to a lazy-pages daemon of ours", LZ_REGISTRY_SOCK,
			 cr.pid, cr.uid);
		goto err;
	}
	if (set_timeouts(sk)) {
		*err = errno;
		snprintf(why, len, "cannot set the registry's timeouts: %s", strerror(errno));
		goto err;
	}
	return sk;
err:
	if (sk >= 0)
		close(sk);
	return -1;
}

int lz_registry_offer(int sk, int fd, const struct lz_offer *o, char *why, size_t len)
{
	struct lz_reg_msg m = { .magic = LZ_REG_MAGIC, .o = *o };
	struct lz_reg_reply r;
	int sp[2], fds[2];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) || set_timeouts(sp[0])) {
		snprintf(why, len, "cannot make a reply socket: %s", strerror(errno));
		return -1;
	}
	fds[0] = fd;
	fds[1] = sp[1];
	if (lz_send_fds(sk, &m, sizeof(m), fds, 2)) {
		snprintf(why, len, "cannot reach the lazy-pages daemon: %s", strerror(errno));
		n = -1;
		goto out;
	}
	close(sp[1]);
	sp[1] = -1;
	n = recv(sp[0], &r, sizeof(r), 0);
	if (n != sizeof(r)) {
		snprintf(why, len, "the lazy-pages daemon did not answer the offer: %s",
			 n < 0 ? strerror(errno) : "connection closed");
		n = -1;
		goto out;
	}
	r.why[sizeof(r.why) - 1] = '\0';
	snprintf(why, len, "%s", r.why);
	n = r.status == 1;
out:
	close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	return n;
}

static void reply(int rsk, int status, const char *why)
{
	struct lz_reg_reply r = { .status = status };

	snprintf(r.why, sizeof(r.why), "%s", why);
	if (send(rsk, &r, sizeof(r), MSG_NOSIGNAL | MSG_DONTWAIT) != sizeof(r))
		pr_perror("cannot answer an offer on the object registry");
}

int lz_registry_serve(int conn, lz_take_fn take, void *arg)
{
	char why[sizeof(((struct lz_reg_reply *)0)->why)] = "";
	int fds[2], got, ret, i;
	struct lz_reg_msg m;

	ret = lz_recv_fds(conn, &m, sizeof(m), fds, 2, &got);
	if (ret <= 0)
		return -1; /* EOF, or a message of the wrong size */
	if (m.magic != LZ_REG_MAGIC || got != 2) {
		pr_err("malformed offer on the object registry (magic %#x, %d descriptors)\n", m.magic, got);
		for (i = 0; i < got; i++)
			close(fds[i]);
		return -1;
	}
	if (take(arg, fds[0], &m.o, why, sizeof(why)) == 0) {
		reply(fds[1], 1, "taken by the lazy-pages daemon");
	} else {
		pr_warn("declined shmem %#" PRIx64 ": %s\n", m.o.shmid, why);
		reply(fds[1], 0, why);
	}
	close(fds[1]);
	return 0;
}

static void drop_conn(struct lz_registry *reg, int i)
{
	close(reg->conns[i]);
	reg->conns[i] = reg->conns[--reg->nr_conns];
}

/* A new connection: only from a process of our uid, and a bounded number */
static void accept_conn(struct lz_registry *reg)
{
	int sk = accept4(reg->sk, NULL, NULL, SOCK_CLOEXEC);
	struct ucred cr;

	if (sk < 0)
		return;
	if (!peer_ok(sk, &cr)) {
		pr_err("object registry: refused a connection from pid %d of uid %u (only uid %u may offer objects)\n",
		       cr.pid, cr.uid, geteuid());
		close(sk);
		return;
	}
	if (reg->nr_conns == MAX_CONNS || set_timeouts(sk)) {
		pr_err("object registry: refused a connection from pid %d: %s\n", cr.pid,
		       reg->nr_conns == MAX_CONNS ? "too many connections" : strerror(errno));
		close(sk);
		return;
	}
	reg->conns[reg->nr_conns++] = sk;
}

static void *registry_thread(void *arg)
{
	struct lz_registry *reg = arg;
	struct pollfd p[MAX_CONNS + 2];
	int i, n;

	for (;;) {
		p[0] = (struct pollfd){ .fd = reg->stop[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = reg->sk, .events = POLLIN };
		for (i = 0; i < reg->nr_conns; i++)
			p[i + 2] = (struct pollfd){ .fd = reg->conns[i], .events = POLLIN };
		n = reg->nr_conns;
		if (poll(p, n + 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_perror("object registry poll");
			break;
		}
		if (p[0].revents)
			break;
		/* backwards: drop_conn() moves the last connection into the slot */
		for (i = n - 1; i >= 0; i--)
			if (p[i + 2].revents && lz_registry_serve(reg->conns[i], reg->take, reg->arg))
				drop_conn(reg, i);
		if (p[1].revents)
			accept_conn(reg);
	}
	return NULL;
}

/* Bind LZ_REGISTRY_SOCK in @dirfd, mode 0600; a stale one is replaced, a live one refused */
static int bind_sock(struct lz_registry *reg)
{
	struct sockaddr_un sa;
	socklen_t salen;
	mode_t old;
	int ret, probe, err;
	char why[128];

	if (sock_addr(reg->dirfd, &sa, &salen))
		return -1;
	probe = lz_registry_connect(reg->dirfd, &err, why, sizeof(why));
	if (probe >= 0 || err == EPERM) {
		if (probe >= 0)
			close(probe);
		pr_err("another lazy-pages daemon serves this work directory (%s is live)\n", LZ_REGISTRY_SOCK);
		return -1;
	}
	if (unlinkat(reg->dirfd, LZ_REGISTRY_SOCK, 0) && errno != ENOENT)
		return -1;
	old = umask(0177);
	ret = bind(reg->sk, (struct sockaddr *)&sa, salen);
	umask(old);
	reg->bound = ret == 0;
	return ret;
}

struct lz_registry *lz_registry_start(int dirfd, lz_take_fn take, void *arg)
{
	struct lz_registry *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	reg->take = take;
	reg->arg = arg;
	reg->stop[0] = reg->stop[1] = -1;
	reg->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	reg->sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (reg->dirfd < 0 || reg->sk < 0 || bind_sock(reg) || listen(reg->sk, 16) || pipe2(reg->stop, O_CLOEXEC)) {
		pr_perror("cannot start the object registry at %s in the work directory", LZ_REGISTRY_SOCK);
		goto err;
	}
	if (pthread_create(&reg->thread, NULL, registry_thread, reg)) {
		pr_err("cannot start the object registry thread\n");
		goto err;
	}
	reg->running = true;
	pr_info("object registry listening at %s in the work directory\n", LZ_REGISTRY_SOCK);
	return reg;
err:
	lz_registry_stop(reg);
	return NULL;
}

void lz_registry_stop(struct lz_registry *reg)
{
	int i;

	if (!reg)
		return;
	/* the thread may be serving an offer: it sees the stop after it */
	if (reg->running && (write(reg->stop[1], "x", 1) != 1 || pthread_join(reg->thread, NULL))) {
		pr_perror("cannot stop the object registry thread; leaving it what it uses");
		return;
	}
	for (i = 0; i < reg->nr_conns; i++)
		close(reg->conns[i]);
	if (reg->sk >= 0)
		close(reg->sk);
	if (reg->bound && unlinkat(reg->dirfd, LZ_REGISTRY_SOCK, 0) && errno != ENOENT)
		pr_perror("cannot remove %s", LZ_REGISTRY_SOCK);
	if (reg->stop[0] >= 0) {
		close(reg->stop[0]);
		close(reg->stop[1]);
	}
	if (reg->dirfd >= 0)
		close(reg->dirfd);
	free(reg);
}
