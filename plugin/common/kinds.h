/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one vocabulary of memory kinds, shared by the logs, lazyshm-stats.json,
 * lazyshm-img and the docs: the lazyshm image's kinds (lzimg_kind_name():
 * anon-shared, memfd, sysv, hugetlb-anon, hugetlb-memfd, hugetlb-sysv,
 * hugetlb-file, shm-file).
 */
#ifndef __LAZYSHM_KINDS_H__
#define __LAZYSHM_KINDS_H__

#include <stdbool.h>
#include <stdint.h>

/* A hugetlbfs or tmpfs file owned by lazyshm (not one of CRIU's CR_SHMEM_*) */
#define LZ_OBJ_FILE 0x100

/* The image kind (enum lz_kind) of what CRIU calls @cr_kind (CR_SHMEM_* or
 * LZ_OBJ_FILE) with pages of @psz bytes */
int lz_kind_of(int cr_kind, uint64_t psz);
const char *lz_kind_name(int cr_kind, uint64_t psz);
/* Parse a comma-separated list of kind names into a bit mask (1 << kind):
 * 0, or -1 naming the unknown one in @bad */
int lz_kinds_parse(const char *list, uint32_t *mask, char *bad, size_t len);

#endif /* __LAZYSHM_KINDS_H__ */
