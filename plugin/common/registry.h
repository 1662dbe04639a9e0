/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The channel on which `criu restore` hands each deferred shared object to
 * the lazy-pages daemon: a descriptor of the object and its identity. The
 * daemon answers only once it can serve the object, so a task never runs
 * on an object the daemon does not know.
 *
 * The daemon listens on LZ_REGISTRY_SOCK in its work directory (mode 0600,
 * next to CRIU's lazy-pages.socket) and accepts only peers of its own uid
 * (SO_PEERCRED). `criu restore` connects once, from its work directory,
 * before any task exists; its tasks reach that connection whatever mount
 * or network namespace they are in by then. Each offer carries its own
 * reply socket (a socket pair), so tasks offering at once never read each
 * other's answers.
 */
#ifndef __LAZYSHM_REGISTRY_H__
#define __LAZYSHM_REGISTRY_H__

#include <stddef.h>
#include <stdint.h>

#define LZ_REGISTRY_SOCK "lazyshm.sock"
/* How long either side waits for the other */
#define LZ_REGISTRY_TIMEOUT_MS 30000

struct lz_offer {
	int32_t kind;	/* CR_SHMEM_* or LZ_OBJ_FILE */
	uint32_t seals; /* memfd seals to apply once the content is complete */
	uint32_t flags; /* LZ_OBJ_* */
	uint32_t pad;
	uint64_t shmid;
	uint64_t size; /* bytes */
};

/*
 * The wire format: an offer is one SEQPACKET message, struct lz_reg_msg,
 * with two descriptors (the object, then the offer's own reply socket); the
 * answer, on that socket, is one struct lz_reg_reply.
 */
#define LZ_REG_MAGIC 0x4c5a5232 /* LZR2 */

struct lz_reg_msg {
	uint32_t magic;
	struct lz_offer o;
};

struct lz_reg_reply {
	int32_t status; /* 1 taken, 0 declined */
	char why[256];
};

/*
 * Restore side. Connect to the daemon's registry in @dirfd: the socket, or
 * -1 with @why (no daemon there: -ENOENT in *err, anything else: another
 * errno) — the caller decides whether that is fatal.
 */
int lz_registry_connect(int dirfd, int *err, char *why, size_t len);
/* Offer object @fd on connection @sk: 1 taken, 0 declined (@why says why),
 * -1 if the answer did not come (@why): the daemon may own it then */
int lz_registry_offer(int sk, int fd, const struct lz_offer *o, char *why, size_t len);

/*
 * Daemon side. @take is called in the registry's thread for each offer:
 * 0 taken (it owns @fd then), or -1 with @why (@fd is closed).
 */
typedef int (*lz_take_fn)(void *arg, int fd, const struct lz_offer *o, char *why, size_t len);
struct lz_registry *lz_registry_start(int dirfd, lz_take_fn take, void *arg);
void lz_registry_stop(struct lz_registry *r);
/* Serve one message of connection @conn: 0, or -1 if the connection is to
 * be closed (EOF, a malformed message) */
int lz_registry_serve(int conn, lz_take_fn take, void *arg);

#endif /* __LAZYSHM_REGISTRY_H__ */
