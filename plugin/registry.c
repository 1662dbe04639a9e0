// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore-side client and daemon-side server of the object registry. The
 * socket is abstract and named after the images directory, which both
 * `criu restore` and `criu lazy-pages` are given.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
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

#define LZ_REG_MAGIC 0x4c5a5247 /* LZRG */

struct lz_reg_msg {
	uint32_t magic;
	int32_t kind;
	uint64_t shmid;
	uint64_t size;
};

struct lz_reg_reply {
	int32_t status; /* 1 taken, 0 declined */
	char why[256];
};

struct lz_registry {
	int sk;
	int stop[2];
	int imgdir;
	pthread_t thread;
	struct lz_objects *objs;
};

static int registry_addr(int imgdir, struct sockaddr_un *sa, socklen_t *len)
{
	struct stat st;
	int n;

	if (fstat(imgdir, &st))
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "lazyshm-%lx-%lx", (unsigned long)st.st_dev,
		     (unsigned long)st.st_ino);
	*len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
	return 0;
}

int lz_registry_offer(int imgdir, int fd, uint64_t shmid, uint64_t size, int kind, char *why, size_t len)
{
	struct lz_reg_msg m = { .magic = LZ_REG_MAGIC, .kind = kind, .shmid = shmid, .size = size };
	struct lz_reg_reply r;
	struct sockaddr_un sa;
	socklen_t salen;
	int sk, ret = -1;

	if (registry_addr(imgdir, &sa, &salen)) {
		snprintf(why, len, "cannot stat the images directory: %s", strerror(errno));
		return -1;
	}
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0 || connect(sk, (struct sockaddr *)&sa, salen)) {
		snprintf(why, len, "no lazy-pages daemon with the lazyshm plugin for these images (%s)", strerror(errno));
		goto out;
	}
	if (lz_send_fd(sk, &m, sizeof(m), fd) || recv(sk, &r, sizeof(r), 0) != sizeof(r)) {
		snprintf(why, len, "the lazy-pages daemon did not answer: %s", strerror(errno));
		goto out;
	}
	r.why[sizeof(r.why) - 1] = '\0';
	snprintf(why, len, "%s", r.why);
	ret = r.status == 1;
out:
	if (sk >= 0)
		close(sk);
	return ret;
}

static int recv_offer(int sk, struct lz_reg_msg *m, int *fd)
{
	return lz_recv_fd(sk, m, sizeof(*m), fd) == 1 && m->magic == LZ_REG_MAGIC && *fd >= 0 ? 0 : -1;
}

static void serve_one(struct lz_registry *reg, int sk)
{
	struct lz_reg_reply r = { .status = 0 };
	struct lz_reg_msg m;
	int fd;

	if (recv_offer(sk, &m, &fd)) {
		pr_err("malformed offer on the object registry\n");
		if (fd >= 0)
			close(fd);
		return;
	}
	if (lz_objects_add(reg->objs, fd, m.shmid, m.size, m.kind, reg->imgdir, r.why, sizeof(r.why)) == 0) {
		r.status = 1;
		snprintf(r.why, sizeof(r.why), "taken by the lazy-pages daemon");
	} else {
		pr_warn("declined shmem %#" PRIx64 ": %s\n", m.shmid, r.why);
	}
	if (send(sk, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
		pr_perror("cannot answer the offer of shmem %#" PRIx64, m.shmid);
}

static void *registry_thread(void *arg)
{
	struct lz_registry *reg = arg;
	struct pollfd p[2] = { { .fd = reg->sk, .events = POLLIN }, { .fd = reg->stop[0], .events = POLLIN } };
	int sk;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_perror("object registry poll");
			break;
		}
		if (p[1].revents)
			break;
		sk = accept4(reg->sk, NULL, NULL, SOCK_CLOEXEC);
		if (sk < 0)
			continue;
		serve_one(reg, sk);
		close(sk);
	}
	return NULL;
}

struct lz_registry *lz_registry_start(int imgdir, struct lz_objects *objs)
{
	struct lz_registry *reg = calloc(1, sizeof(*reg));
	struct sockaddr_un sa;
	socklen_t salen;

	if (!reg)
		return NULL;
	reg->objs = objs;
	reg->imgdir = imgdir;
	reg->stop[0] = reg->stop[1] = -1;
	reg->sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (reg->sk < 0 || registry_addr(imgdir, &sa, &salen) || bind(reg->sk, (struct sockaddr *)&sa, salen) ||
	    listen(reg->sk, 16) || pipe2(reg->stop, O_CLOEXEC)) {
		pr_perror("cannot start the object registry");
		goto err;
	}
	if (pthread_create(&reg->thread, NULL, registry_thread, reg)) {
		pr_err("cannot start the object registry thread\n");
		goto err;
	}
	return reg;
err:
	if (reg->sk >= 0)
		close(reg->sk);
	if (reg->stop[0] >= 0) {
		close(reg->stop[0]);
		close(reg->stop[1]);
	}
	free(reg);
	return NULL;
}

void lz_registry_stop(struct lz_registry *reg)
{
	if (!reg)
		return;
	if (write(reg->stop[1], "x", 1) != 1)
		pr_perror("cannot stop the object registry");
	else if (pthread_join(reg->thread, NULL))
		pr_err("cannot join the object registry thread\n");
	close(reg->stop[0]);
	close(reg->stop[1]);
	close(reg->sk);
	free(reg);
}
