/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The protocol between the plugin and lazyshm-trackd, the holder of the
 * userfaultfds that track writes to a tree's shared memory between CRIU
 * runs (a userfaultfd dies with its last descriptor, and no descriptor of
 * it may stay in the application, which CRIU could not dump).
 *
 * A SOCK_SEQPACKET socket, a file of mode 0600 in a directory of mode 0700
 * (LZ_TRK_DIR, or LAZYSHM_TRACK_DIR), named after the tree's root task
 * (lz_trk_sock_name()). Both ends check SO_PEERCRED (same uid) and time
 * out after LZ_TRK_TIMEOUT_S. Every request and reply is one struct
 * lz_trk_msg:
 *   HELLO  -> status, nr = tasks held, epoch
 *   ADD    with [pidfd, uffd] -> status (the holder keeps them)
 *   LIST   -> nr, then nr replies with [pidfd, uffd] each (copies)
 *   EPOCH  epoch -> status (the images the tracking is relative to; zeros:
 *          none, e.g. while a CRIU run has re-protected pages it has not
 *          written yet)
 *   REMOVED -> nr, then nr replies with pino, start, end each: the ranges
 *          the tasks removed (UFFD_EVENT_REMOVE) since the last REMOVED,
 *          which the next dump counts as written
 *   STOP   -> status once every descriptor is closed; the holder exits
 * The holder drops a task when its pidfd says it exited, and exits when
 * it holds no task any more.
 */
#ifndef __LAZYSHM_TRACKD_PROTO_H__
#define __LAZYSHM_TRACKD_PROTO_H__

#include <stdint.h>
#include <stdio.h>

#define LZ_TRK_MAGIC	 0x4b52544cu /* "LTRK" read as a little-endian u32 */
#define LZ_TRK_VERSION	 2u
#define LZ_TRK_DIR	 "/run/lazyshm"
#define LZ_TRK_TIMEOUT_S 5
#define LZ_TRK_EPOCH_LEN 16
#define LZ_TRK_MAX_TASKS 4096

enum lz_trk_op {
	LZ_TRK_HELLO = 1,
	LZ_TRK_ADD = 2,
	LZ_TRK_LIST = 3,
	LZ_TRK_EPOCH = 4,
	LZ_TRK_STOP = 5,
	LZ_TRK_REMOVED = 6,
};

struct lz_trk_msg {
	uint32_t magic;
	uint32_t version;
	uint32_t op;
	int32_t status; /* replies: 0 or -errno */
	uint32_t nr;
	uint32_t pad;
	uint8_t epoch[LZ_TRK_EPOCH_LEN];
	uint64_t pino, start, end; /* REMOVED replies */
};

/* The socket's name for a tree whose root task's pidfd has inode @ino
 * (pidfs: unique per process for the boot) */
static inline void lz_trk_sock_name(char *buf, size_t len, const char *dir, unsigned long long ino)
{
	snprintf(buf, len, "%s/track-%llu.sock", dir, ino);
}

/* Beside the socket: the state of a lazily restored tree as the restore
 * left it (lazyshm-track.img's format), removed by the holder at its end */
#define LZ_TRK_RESTORED_SUFFIX ".restored"
static inline void lz_trk_restored_name(char *buf, size_t len, const char *dir, unsigned long long ino)
{
	snprintf(buf, len, "%s/track-%llu" LZ_TRK_RESTORED_SUFFIX, dir, ino);
}

#endif /* __LAZYSHM_TRACKD_PROTO_H__ */
