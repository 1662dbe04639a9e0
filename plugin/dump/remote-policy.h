/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which objects the dump's source may serve itself: exactly those a restore
 * will be able to defer with the same settings (restore.c and
 * files-restore.c have the restore side's rules), since an object whose
 * content is not in the images can be restored in no other way.
 */
#ifndef __LAZYSHM_REMOTE_POLICY_H__
#define __LAZYSHM_REMOTE_POLICY_H__

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct lz_config;

/*
 * NULL if CRIU's object (@kind CR_SHMEM_*, @flags of DUMP_SHMEM_CONTENT,
 * pages of @psz bytes, @st its fstat) may be served by the source; else why
 * not, in @why.
 */
const char *lz_remote_why_local(const struct lz_config *cfg, int kind, int flags, uint64_t psz,
				const struct stat *st, char *why, size_t len);
/* The same for a file lazyshm owns (@huge: on hugetlbfs) */
const char *lz_remote_why_local_file(const struct lz_config *cfg, int huge, const struct stat *st, char *why,
				     size_t len);

#endif /* __LAZYSHM_REMOTE_POLICY_H__ */
