/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin inside `criu restore`: which shared objects become lazy. */
#ifndef __LAZYSHM_RESTORE_H__
#define __LAZYSHM_RESTORE_H__

#include <stdint.h>

#include "config.h"

int lz_restore_shmem_content(const struct lz_config *cfg, int fd, uint64_t shmid, uint64_t size, int kind,
			     int flags);

#endif /* __LAZYSHM_RESTORE_H__ */
