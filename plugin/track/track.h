/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Write tracking of shared memory for incremental dumps (pre-dump,
 * --track-mem), on kernels without soft-dirty bits: userfaultfd write
 * protection in async mode (Linux 6.7+), one userfaultfd per task made in
 * the task (CRIU's DUMP_TASK_MEM), held between CRIU runs by
 * lazyshm-trackd, and PAGEMAP_SCAN to collect and re-protect the written
 * pages. Anything the tracking cannot see makes its object dumped in full,
 * and the log says why. One concern per file:
 *   track.c    the hooks: per task, per object, the end of a run
 *   wp.c       the kernel: UFFDIO_API/REGISTER/WRITEPROTECT, PAGEMAP_SCAN
 *   maps.c     a task's tracked mappings (/proc/PID/maps)
 *   objs.c     this run's objects and their written pages
 *   state.c    lazyshm-track.img: what the images of a run were tracked with
 *   holder.c   the client of lazyshm-trackd, and its start
 *   outside.c  mappings and descriptors outside the tracking (/proc)
 */
#ifndef __LAZYSHM_TRACK_H__
#define __LAZYSHM_TRACK_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "trackd-proto.h"

#define LZ_TRK_FILE "lazyshm-track.img"
#define LZ_TRK_PAGE 4096ULL /* CRIU's bitmap unit */

/* One tracked mapping of a task: a shared mapping of an object lazyshm
 * tracks (anon-shared, sysv, hugetlb-anon, hugetlb-sysv) */
struct lz_trk_vma {
	uint64_t start, end; /* addresses */
	uint64_t off;	     /* offset in the object, bytes */
	uint64_t dev, ino;   /* the object; ino is CRIU's shmid */
	uint64_t parent_ino; /* its shmid in the images tracked against, if not ino; or 0 */
	uint32_t psz;	     /* page size */
	int kind;	     /* enum lz_kind */
};

/* A task as a run saw it: identity (pidfd inode) and tracked mappings */
struct lz_trk_task {
	uint64_t pino;
	int pid;
	size_t nr;
	struct lz_trk_vma *vmas;
};

/* What lazyshm-track.img records about the run that wrote an image dir */
struct lz_trk_state {
	uint8_t epoch[LZ_TRK_EPOCH_LEN];
	size_t nr;
	struct lz_trk_task *tasks;
};

/* wp.c */
int lz_wp_api(int uffd);
int lz_wp_register(int uffd, uint64_t start, uint64_t len);
int lz_wp_protect(int uffd, uint64_t start, uint64_t len);
typedef void (*lz_wp_cb)(uint64_t start, uint64_t end, void *arg);
/* The written pages of [start, end) of the task whose pagemap is @pmfd,
 * re-protected (1G pages with UFFDIO_WRITEPROTECT on @uffd); 0, -EPERM
 * if a part of the range is not registered, -errno */
int lz_wp_collect(int pmfd, int uffd, const struct lz_trk_vma *v, lz_wp_cb cb, void *arg);

/* maps.c: the tracked mappings of the task whose /proc dir is @procdir */
int lz_trk_maps(int procdir, struct lz_trk_vma **out, size_t *nr);

/* objs.c */
struct lz_trk_obj;
struct lz_trk_obj *lz_trk_obj_get(const struct lz_trk_vma *v);
struct lz_trk_obj *lz_trk_obj_find(uint64_t ino, int nth);
void lz_trk_obj_written(struct lz_trk_obj *o, uint64_t off, uint64_t len);
/* The object is dumped in full: the first reason is kept and logged */
void lz_trk_obj_full(struct lz_trk_obj *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lz_trk_objs_full(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *lz_trk_obj_reason(const struct lz_trk_obj *o);
uint64_t lz_trk_obj_dev(const struct lz_trk_obj *o);
int lz_trk_obj_kind(const struct lz_trk_obj *o);
/* Copy the written pages into CRIU's bitmap of @nbits pages; their count */
uint64_t lz_trk_obj_copy(const struct lz_trk_obj *o, unsigned long *bits, uint64_t nbits);
size_t lz_trk_objs_nr(void);
struct lz_trk_obj *lz_trk_objs_at(size_t i);
void lz_trk_objs_free(void);

/* state.c */
int lz_trk_state_read(int dirfd, const char *name, struct lz_trk_state *s);
int lz_trk_state_write(int dirfd, const struct lz_trk_state *s);
int lz_trk_state_write_as(int dirfd, const char *name, const struct lz_trk_state *s);
const struct lz_trk_task *lz_trk_state_task(const struct lz_trk_state *s, uint64_t pino);
void lz_trk_state_free(struct lz_trk_state *s);

/* holder.c */
struct lz_trk_held {
	uint64_t pino;
	int pidfd, uffd;
};
/* Connect to the holder of the tree whose root has pidfd @root (start one
 * if @start and none answers): the socket, or -errno (-ENOENT: none) */
int lz_holder_open(int root_pidfd, bool start);
int lz_holder_hello(int sk, uint8_t *epoch, uint32_t *nr);
int lz_holder_list(int sk, struct lz_trk_held **out, size_t *nr);
int lz_holder_add(int sk, int pidfd, int uffd);
/* A range a task (pidfd inode @pino) removed since the last run */
struct lz_trk_range {
	uint64_t pino, start, end;
};
int lz_holder_removed(int sk, struct lz_trk_range **out, size_t *nr);
int lz_holder_epoch(int sk, const uint8_t *epoch);
int lz_holder_stop(int sk);
/* Where a lazy restore leaves the state of the tree of @root_pidfd for its holder */
int lz_holder_restored_path(int root_pidfd, char *buf, size_t len);
uint64_t lz_pidfd_ino(int pidfd);

/* outside.c: objects mapped by processes outside the tree (@tree: its
 * pids) or held open as a descriptor by any process: dumped in full */
void lz_trk_outside(const int *tree, size_t nr, int criu);

/* track.c: the hooks; lz_track_root() names the root of a dump's tree
 * (its first frozen task, CHECKPOINT_DEVICES) */
void lz_track_root(int pid);
int lz_track_task(int pid, int flags);
int lz_track_written(uint64_t shmid, uint64_t size, int kind, unsigned long *bits);
/* The object's id in the parent images, if it was restored from them under
 * a new one (DUMP_SHMEM_PARENT); -ENOTSUP: the same id */
int lz_track_parent_id(uint64_t shmid, int cr_kind, uint64_t *parent_id);
void lz_track_finish(int ret);
/* A dump's tasks were resumed or killed: a dead tree's holder is stopped */
void lz_track_released(void);
void lz_track_fini(void);

#endif /* __LAZYSHM_TRACK_H__ */
