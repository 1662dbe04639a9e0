/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dump side for regular files on tmpfs and hugetlbfs (CRIU's DUMP_FILE
 * hook): which of them lazyshm owns (LAZYSHM_FILES, config.h), their content
 * in lazyshm-file-<id>.pages, and the list of their objects, which
 * lazyshm_dump_finish() (dump.c) adds to lazyshm-shmem.img.
 */
#ifndef __LAZYSHM_FILES_DUMP_H__
#define __LAZYSHM_FILES_DUMP_H__

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct lz_config;
struct lz_obj_spec;

/* At dump init, after lz_config_read(): take the files policy from cfg.
 * Without it the policy is LZ_FILES_DEFAULT. */
void lz_dump_files_init(const struct lz_config *cfg);

/*
 * The DUMP_FILE hook, called once per inode while the tasks are frozen.
 * 0: the content is stored in the images dir and the object listed (CRIU
 * then stores no content); -ENOTSUP: not ours (not a regular file on
 * tmpfs/hugetlbfs, or the policy leaves it to CRIU); another negative errno:
 * the content could not be stored, fail the dump (logged with the path).
 */
int lz_dump_file(int fd, uint32_t obj_id, const char *path, const struct stat *st, int64_t fs_type);

/* The file objects stored so far; valid until lz_dump_files_fini(). */
size_t lz_dump_files_specs(const struct lz_obj_spec **specs);

/* Free the list (the pages files stay). Safe to call more than once. */
void lz_dump_files_fini(void);

#endif /* __LAZYSHM_FILES_DUMP_H__ */
