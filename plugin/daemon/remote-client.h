/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The destination's side of the remote protocol (remote-proto.h), one
 * request at a time: for lazy-pages' fetcher, the tests and lzfetch.
 * Independent of CRIU. Errors are one line in @err naming the peer.
 */
#ifndef __LAZYSHM_REMOTE_CLIENT_H__
#define __LAZYSHM_REMOTE_CLIENT_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "remote-proto.h"
#include "xport.h"

/* Hello as the destination of dump @id. 0, or -ESTALE (another dump), -EPROTO, -errno with @err. */
int lz_rc_hello(struct lz_xport *x, const uint8_t id[LZ_RP_DUMP_ID_LEN], char *err, size_t errlen);
/*
 * GET pages [first, first + count) of @shmid, pages of @page_size bytes,
 * into @buf (count * page_size bytes). 1: the pages are in @buf and match
 * the digest the source sent; 0: the source refused the request, *status
 * is its -errno and @err its text (the session goes on); -errno: the
 * session is broken (@err says why; -EBADMSG for a digest mismatch).
 */
int lz_rc_get(struct lz_xport *x, uint32_t tag, uint64_t shmid, uint64_t first, uint64_t count, uint32_t page_size,
	      void *buf, int *status, char *err, size_t errlen);
/* DONE (@done: every page is resident) or FAIL. 0 or -errno with @err. */
int lz_rc_end(struct lz_xport *x, bool done, char *err, size_t errlen);

#endif /* __LAZYSHM_REMOTE_CLIENT_H__ */
