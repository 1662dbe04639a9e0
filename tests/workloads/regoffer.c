// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * regoffer: a process that is not `criu restore` offering an object to a
 * lazy-pages daemon's object registry, the way plugin/registry.c does it
 * (struct lz_reg_msg of plugin/common/registry.h, then the object's fd and a reply socket by SCM_RIGHTS).
 * The tests run it as another user: the daemon must never take its memfd.
 *
 * Usage: regoffer --dir WORKDIR [--shmid ID] [--size BYTES] [--timeout S]
 *
 * Connects to WORKDIR/lazyshm.sock (LZ_REGISTRY_SOCK), offers a fresh memfd
 * of BYTES bytes (default 1 MiB) as memfd object ID (default 0x7777), and
 * waits up to S seconds (default 10) for the answer. Prints one line and
 * exits with:
 *   0  answered: "taken: <why>" or "declined: <why>"
 *   3  "connect: <error>": the socket could not be reached
 *   4  "dropped: <error>": connected, but the daemon closed the connection
 *      or the reply socket without answering (a refused peer)
 *   5  "timeout": no answer and no close within S seconds
 *   1  usage error, 2 setup error
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "../../plugin/common/registry.h"

#define KIND_MEMFD 3 /* CR_SHMEM_MEMFD */

static struct {
	const char *dir;
	unsigned long long shmid, size, timeout;
} opt = { .shmid = 0x7777, .size = 1 << 20, .timeout = 10 };

static int usage(void)
{
	fprintf(stderr, "usage: regoffer --dir WORKDIR [--shmid ID] [--size BYTES] [--timeout S]\n"
			"(the comment at the top of tests/workloads/regoffer.c has the details)\n");
	return 1;
}

static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "shmid", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long *num;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'd') {
			opt.dir = optarg;
			continue;
		}
		num = c == 'i' ? &opt.shmid : c == 's' ? &opt.size :
				      c == 't'	       ? &opt.timeout :
							 NULL;
		if (!num)
			return -1;
		errno = 0;
		*num = strtoull(optarg, &end, 0);
		if (errno || end == optarg || *end) {
			fprintf(stderr, "regoffer: bad number '%s'\n", optarg);
			return -1;
		}
	}
	return optind == argc && opt.dir && opt.timeout ? 0 : -1;
}

/* Connected to DIR/lazyshm.sock (named through /proc: no path length limit), or -1 */
static int connect_registry(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int dir = open(opt.dir, O_PATH | O_DIRECTORY | O_CLOEXEC), sk, n;

	if (dir < 0) {
		printf("connect: cannot open %s: %s\n", opt.dir, strerror(errno));
		return -1;
	}
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dir, LZ_REGISTRY_SOCK);
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0 || connect(sk, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + n + 1)) {
		printf("connect: %s/%s: %s\n", opt.dir, LZ_REGISTRY_SOCK, strerror(errno));
		if (sk >= 0)
			close(sk);
		sk = -1;
	}
	close(dir);
	return sk;
}

static int send_offer(int sk, int memfd, int reply)
{
	struct lz_reg_msg m = { .magic = LZ_REG_MAGIC,
			     .o = { .kind = KIND_MEMFD, .seals = 0, .shmid = opt.shmid, .size = opt.size } };
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int fds[2] = { memfd, reply };

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	return sendmsg(sk, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(m) ? 0 : -1;
}

/* The answer on @rsk: the exit status */
static int read_answer(int rsk)
{
	struct timeval tv = { .tv_sec = opt.timeout };
	struct lz_reg_reply r;
	ssize_t n;

	if (setsockopt(rsk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		perror("regoffer: SO_RCVTIMEO");
		return 2;
	}
	n = recv(rsk, &r, sizeof(r), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		printf("timeout\n");
		return 5;
	}
	if (n != (ssize_t)sizeof(r)) {
		printf("dropped: %s\n", n < 0 ? strerror(errno) : "the reply socket was closed without an answer");
		return 4;
	}
	r.why[sizeof(r.why) - 1] = '\0';
	printf("%s: %s\n", r.status == 1 ? "taken" : "declined", r.why);
	return 0;
}

int main(int argc, char **argv)
{
	int sk, memfd, sp[2], ret;

	if (parse_args(argc, argv))
		return usage();
	memfd = memfd_create("regoffer", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, opt.size) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
		perror("regoffer: setup");
		return 2;
	}
	sk = connect_registry();
	if (sk < 0)
		return 3;
	if (send_offer(sk, memfd, sp[1])) {
		printf("dropped: sendmsg: %s\n", strerror(errno));
		return 4;
	}
	/* only the daemon holds the reply socket's other end now */
	close(sp[1]);
	close(memfd);
	ret = read_answer(sp[0]);
	close(sp[0]);
	close(sk);
	return ret;
}
