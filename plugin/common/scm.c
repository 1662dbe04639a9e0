// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Passing descriptors between the plugin's processes: restore to daemon
 * (registry.c) and daemon to guardian (guardian.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scm.h"

int lz_send_fds(int sk, const void *msg, size_t len, const int *fds, int nr)
{
	char cbuf[CMSG_SPACE(sizeof(int) * LZ_SCM_MAX_FDS)] = { 0 };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (nr < 0 || nr > LZ_SCM_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	if (nr) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nr);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nr);
	}
	do
		n = sendmsg(sk, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && n != (ssize_t)len)
		errno = EMSGSIZE;
	return n == (ssize_t)len ? 0 : -1;
}

/* Take the descriptors of @mh into @fds (at most @nr; extra ones closed) */
static int take_fds(struct msghdr *mh, int *fds, int nr)
{
	struct cmsghdr *c;
	int got = 0, i, n, fd;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < nr)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	return got;
}

int lz_recv_fds(int sk, void *msg, size_t len, int *fds, int nr, int *got)
{
	char cbuf[CMSG_SPACE(sizeof(int) * LZ_SCM_MAX_FDS)];
	struct iovec iov = { .iov_base = msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n;
	int i;

	for (i = 0; i < nr; i++)
		fds[i] = -1;
	*got = 0;
	do
		n = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		*got = take_fds(&mh, fds, nr);
	if (n == (ssize_t)len && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return 1;
	for (i = 0; i < *got; i++) {
		close(fds[i]);
		fds[i] = -1;
	}
	*got = 0;
	if (n > 0)
		errno = EBADMSG;
	return n == 0 ? 0 : -1;
}
