/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fixed-size message with one descriptor over a unix socket (SCM_RIGHTS). */
#ifndef __LAZYSHM_SCM_H__
#define __LAZYSHM_SCM_H__

#include <stddef.h>

/* 0 when all of @msg and @fd were sent, -1 otherwise (errno set) */
int lz_send_fd(int sk, const void *msg, size_t len, int fd);
/* 1 with @msg filled and *fd the descriptor or -1 if none came; 0 at EOF;
 * -1 on error or a short message */
int lz_recv_fd(int sk, void *msg, size_t len, int *fd);

#endif /* __LAZYSHM_SCM_H__ */
