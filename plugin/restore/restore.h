/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin inside `criu restore`: which shared objects become lazy. */
#ifndef __LAZYSHM_RESTORE_H__
#define __LAZYSHM_RESTORE_H__

#include <stdint.h>

#include "config.h"

/* Load the digests and check that the hugepages the dump needs exist */
int lz_restore_init(const struct lz_config *cfg);
void lz_restore_fini(void);
int lz_restore_reg_file(uint32_t id, int root, const char *path, int flags, int *out_flags);
int lz_restore_shmem_content(int fd, uint64_t shmid, uint64_t size, int kind, int flags, unsigned int seals);

#endif /* __LAZYSHM_RESTORE_H__ */
