/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dump's source serving shared objects to one destination session
 * (remote-proto.h) from a thread of its own: GET -> pread() of the object's
 * descriptor, whole pages, digest, send. Independent of CRIU: the thread
 * never logs (CRIU's log is not thread-safe); it keeps a short record of
 * what happened, which lz_serve_stop() hands back to be logged.
 */
#ifndef __LAZYSHM_REMOTE_SERVE_H__
#define __LAZYSHM_REMOTE_SERVE_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "remote-proto.h"
#include "xport.h"

/* One object the source serves; the server reads @fd, it does not own it */
struct lz_serve_obj {
	uint64_t shmid;
	int kind; /* enum lz_kind, for the record */
	uint64_t size;
	uint32_t page_size;
	int fd;
};

struct lz_serve_cfg {
	struct lz_xport_cfg xport; /* cancel_fd is the server's own */
	const char *addr;	   /* NULL: any address */
	uint16_t port;
	uint8_t dump_id[LZ_RP_DUMP_ID_LEN];
};

/* What a session came to */
struct lz_serve_stats {
	bool session; /* a destination said hello */
	bool done;    /* ... and DONE: every page is resident there */
	bool failed;  /* ... or FAIL, or the session broke */
	uint64_t gets, errors, pages, bytes;
	uint64_t done_ms; /* when DONE came, in ms after the start */
	char peer[64];
	char log[2048]; /* one line per event, in order */
};

struct lz_server;

/* Listen on cfg->addr:cfg->port and start the thread. 0 and *out, or -errno with @err. */
int lz_serve_start(const struct lz_serve_cfg *cfg, const struct lz_serve_obj *objs, size_t nr, struct lz_server **out,
		   char *err, size_t errlen);
/* Has the session ended (DONE, FAIL, or broken)? */
bool lz_serve_finished(struct lz_server *s);
/*
 * Wait up to @linger_ms for the session to end by itself, then stop the
 * thread, close the socket, fill *st and free. NULL is fine.
 */
void lz_serve_stop(struct lz_server *s, unsigned linger_ms, struct lz_serve_stats *st);

#endif /* __LAZYSHM_REMOTE_SERVE_H__ */
