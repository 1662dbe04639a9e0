/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fixed-size message with descriptors over a unix socket (SCM_RIGHTS). */
#ifndef __LAZYSHM_SCM_H__
#define __LAZYSHM_SCM_H__

#include <stddef.h>

#define LZ_SCM_MAX_FDS 4

/* 0 when all of @msg and the @nr descriptors of @fds were sent, -1 otherwise (errno set) */
int lz_send_fds(int sk, const void *msg, size_t len, const int *fds, int nr);
/*
 * 1 with @msg filled and the descriptors that came in @fds (up to @nr, the
 * others -1; *got tells how many came); 0 at EOF; -1 on error or a short
 * message (any descriptor that came is closed then).
 */
int lz_recv_fds(int sk, void *msg, size_t len, int *fds, int nr, int *got);

static inline int lz_send_fd(int sk, const void *msg, size_t len, int fd)
{
	return lz_send_fds(sk, msg, len, &fd, fd >= 0 ? 1 : 0);
}

static inline int lz_recv_fd(int sk, void *msg, size_t len, int *fd)
{
	int got;

	return lz_recv_fds(sk, msg, len, fd, 1, &got);
}

#endif /* __LAZYSHM_SCM_H__ */
