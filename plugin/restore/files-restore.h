/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin inside `criu restore`: the hugetlbfs and tmpfs files it owns. */
#ifndef __LAZYSHM_FILES_RESTORE_H__
#define __LAZYSHM_FILES_RESTORE_H__

#include <stdint.h>

#include "config.h"

struct lz_image;
struct lz_obj;

struct lz_restore_ctx {
	const struct lz_config *cfg;
	const struct lz_image *img; /* geometry only */
	int imgdir;
	/* the object with its digests, for an eager restore; NULL on error */
	const struct lz_obj *(*full_obj)(uint64_t shmid);
};

/* RESTORE_REG_FILE: a descriptor of file object @id at @path (relative to
 * @root), created if needed; CR_FILE_DEFERRED in *@out_flags if the
 * lazy-pages daemon provides its content. A negative error otherwise. */
int lz_restore_file(const struct lz_restore_ctx *c, uint32_t id, int root, const char *path, int flags,
		    int *out_flags);
/* 1 if the named file @path is still the one that was dumped */
int lz_file_is_dumped_one(const struct lz_obj *o, int root, const char *path);

#endif /* __LAZYSHM_FILES_RESTORE_H__ */
