/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Remote post-copy, the dump's source (criu dump --lazy-pages): the shared
 * objects a lazy restore will be able to defer are not written into the
 * images; the source keeps a descriptor of each and serves their pages to
 * the destination's lazy-pages daemon (remote-serve.h, remote-proto.h) from
 * DUMP_FINISH until CRIU's own lazy session has ended. Every other object
 * is dumped as before, and the log says why. See docs/REMOTE.md.
 */
#ifndef __LAZYSHM_REMOTE_SRC_H__
#define __LAZYSHM_REMOTE_SRC_H__

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct lz_config;
struct lz_index_input;
struct lz_obj_spec;

/* DUMP init, after lz_config_read(): 0, or -1 (logged) */
int lz_remote_init(const struct lz_config *cfg);
/*
 * DUMP_SHMEM_CONTENT: 1 if the source serves the object (its descriptor is
 * kept), -ENOTSUP if CRIU dumps it (why is logged). In the child CRIU forks
 * for SysV segments, the kept descriptor goes to the dumping process.
 */
int lz_remote_dump_shmem(int fd, uint64_t shmid, uint64_t size, int kind, int flags);
/*
 * A file lazyshm owns (files-dump.c, DUMP_REG_FILE; @huge: on hugetlbfs):
 * 1 if the source serves it (*spec is its remote object, see
 * lzimg_dump_file_remote()), 0 if its content is to be stored in the images
 * (why is logged), -errno on error (logged).
 */
int lz_remote_file(int fd, uint32_t id, const char *path, const struct stat *st, int huge, struct lz_obj_spec *spec);
/*
 * DUMP_FINISH, before the index is written: collect what the SysV child
 * sent and give the index the remote shmids of CRIU's objects and the dump
 * id (both valid until lz_remote_fini()). Returns the number of objects
 * the source serves (files included), or -1 (logged): the dump fails then.
 */
int lz_remote_finish(struct lz_index_input *in);
/* DUMP_FINISH, once the index is written: start serving (when there is anything to serve). 0 or -1 (logged). */
int lz_remote_start(void);
/* fini(DUMP): CRIU's lazy session has ended; stop serving, log how the session went, close the objects. */
void lz_remote_fini(void);

#endif /* __LAZYSHM_REMOTE_SRC_H__ */
