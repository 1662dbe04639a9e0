// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore side: decide, per shared object, whether its content is
 * deferred to the lazy-pages daemon, and log why when it is not.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <sys/vfs.h>

#include "criu-plugin.h"
#include "log.h"
#include "objects.h"
#include "registry.h"
#include "restore.h"

static bool is_hugetlb(int fd)
{
	struct statfs st;

	return fstatfs(fd, &st) == 0 && st.f_type == HUGETLBFS_MAGIC;
}

static const char *kind_name(int kind)
{
	return kind == CR_SHMEM_SYSV ? "SysV shm" : kind == CR_SHMEM_MEMFD ? "memfd" : "shared anonymous memory";
}

int lz_restore_shmem_content(const struct lz_config *cfg, int fd, uint64_t shmid, uint64_t size, int kind, int flags)
{
	char why[256];
	int ret;

	if (flags & CR_SHMEM_FD_REACHABLE) {
		pr_info("%s %#" PRIx64 " restored eagerly: a task holds it open, and read()/write() on the "
			"descriptor bypass userfaultfd\n",
			kind_name(kind), shmid);
		return -ENOTSUP;
	}
	if (!cfg->lazy) {
		pr_info("%s %#" PRIx64 " restored eagerly: LAZYSHM_MODE=eager\n", kind_name(kind), shmid);
		return -ENOTSUP;
	}
	if (!(flags & CR_SHMEM_CAN_DEFER) && kind == CR_SHMEM_SYSV && !is_hugetlb(fd)) {
		pr_info("%s %#" PRIx64 " restored eagerly: userfaultfd cannot register 4K SysV mappings "
			"(only SHM_HUGETLB ones)\n",
			kind_name(kind), shmid);
		return -ENOTSUP;
	}
	if (!(flags & CR_SHMEM_CAN_DEFER)) {
		pr_info("%s %#" PRIx64 " restored eagerly: not a --lazy-pages restore, or the kernel has no "
			"minor faults for this memory type\n",
			kind_name(kind), shmid);
		return -ENOTSUP;
	}

	ret = lz_registry_offer(criu_get_image_dir(), fd, shmid, size, kind, why, sizeof(why));
	if (ret == 1) {
		pr_info("%s %#" PRIx64 " (%" PRIu64 " bytes) deferred to the lazy-pages daemon\n", kind_name(kind),
			shmid, size);
		return 1;
	}
	pr_warn("%s %#" PRIx64 " restored eagerly: %s\n", kind_name(kind), shmid, why);
	return -ENOTSUP;
}
