// SPDX-License-Identifier: GPL-2.0-or-later
/* Which objects the dump's source serves; see remote-policy.h. */
#include <stdbool.h>
#include <stdio.h>

#include "criu-plugin.h"

#include "config.h"
#include "held.h"
#include "kinds.h"
#include "kprobe.h"
#include "lzimg.h"
#include "remote-policy.h"

/* The settings and the kernel: the same for every object */
static const char *why_not_at_all(const struct lz_config *cfg, bool huge, char *why, size_t len)
{
	struct lz_kfeatures kf;

	if (!cfg->lazy)
		snprintf(why, len, "LAZYSHM_MODE=eager");
	else if (!cfg->remote)
		snprintf(why, len, "LAZYSHM_REMOTE=0");
	else if (lz_kprobe(&kf))
		snprintf(why, len, "the kernel's userfaultfd features could not be read");
	else if (huge ? lz_kprobe_lazy_hugetlb(&kf, why, len) : lz_kprobe_lazy_shmem(&kf, why, len))
		return NULL;
	return why; /* the probe said why */
}

/* A restore defers an object a task holds open only if LAZYSHM_FD_LAZY names its kind */
static const char *why_held(const struct lz_config *cfg, int lzkind, const struct stat *st, char *why, size_t len)
{
	int held = lz_held_fd(st->st_dev, st->st_ino);

	if (held < 0)
		snprintf(why, len, "the frozen tasks' descriptors could not be read (a task may hold it open)");
	else if (held && !(cfg->fd_lazy & (1u << lzkind)))
		snprintf(why, len, "a task holds it open, and a restore defers it only with LAZYSHM_FD_LAZY=%s",
			 lzimg_kind_name(lzkind));
	else
		return NULL;
	return why;
}

const char *lz_remote_why_local(const struct lz_config *cfg, int kind, int flags, uint64_t psz,
				const struct stat *st, char *why, size_t len)
{
	bool huge = psz > 4096;

	if (kind == CR_SHMEM_SYSV && !huge)
		snprintf(why, len, "userfaultfd cannot register 4K SysV mappings, a restore fills them eagerly");
	else if (flags & CR_SHMEM_UNMAPPED)
		snprintf(why, len, "no dumped task maps it, a restore fills it eagerly");
	else if (kind == CR_SHMEM_SYSV && !cfg->sysv_lazy)
		snprintf(why, len, "a restore fills SysV SHM_HUGETLB segments eagerly unless LAZYSHM_SYSV=lazy");
	else if (kind == CR_SHMEM_MEMFD && why_held(cfg, lz_kind_of(kind, psz), st, why, len))
		return why;
	else
		return why_not_at_all(cfg, huge, why, len);
	return why;
}

const char *lz_remote_why_local_file(const struct lz_config *cfg, int huge, const struct stat *st, char *why,
				     size_t len)
{
	int priv = lz_held_private(st->st_dev, st->st_ino);

	if (st->st_size == 0)
		snprintf(why, len, "it is empty");
	else if (st->st_nlink && cfg->files_named_eager)
		snprintf(why, len, "a restore fills named files eagerly unless LAZYSHM_FILES_NAMED=lazy");
	else if (priv)
		snprintf(why, len, priv < 0 ? "the frozen tasks' mappings could not be read" : "a task maps it MAP_PRIVATE, a restore fills it eagerly");
	else if (why_held(cfg, lz_kind_of(LZ_OBJ_FILE, huge ? 2 << 20 : 4096), st, why, len))
		return why;
	else
		return why_not_at_all(cfg, huge, why, len);
	return why;
}
