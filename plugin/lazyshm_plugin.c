// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lazyshm: CRIU plugin that restores shmem and hugetlbfs memory lazily.
 *
 * This file only registers the plugin and routes each CRIU stage and hook
 * to the file that owns the concern:
 *   dump.c     (criu dump)        per-page digests of shared objects;
 *                                 files-dump.c stores owned files;
 *                                 presence.c reads the tasks' page tables
 *   restore.c  (criu restore)     which objects are deferred; eager.c
 *                                 restores the others, validated;
 *                                 files-restore.c recreates owned files
 *   daemon.c   (criu lazy-pages)  faults, events, prefetch, fail-stop
 *   track.c    (dump, pre-dump)   write tracking of shared memory for
 *                                 incremental dumps (plugin/track/)
 */
#include <errno.h>

#include "abi.h"
#include "config.h"
#include "criu-plugin.h"
#include "daemon.h"
#include "dump.h"
#include "files-dump.h"
#include "log.h"
#include "presence.h"
#include "remote-src.h"
#include "restore.h"
#include "track.h"

#define LAZYSHM_VERSION "0.1"

static struct lz_config cfg;

static const char *stage_name(int stage)
{
	switch (stage) {
	case CR_PLUGIN_STAGE__DUMP:
		return "dump";
	case CR_PLUGIN_STAGE__PRE_DUMP:
		return "pre-dump";
	case CR_PLUGIN_STAGE__RESTORE:
		return "restore";
	case CR_PLUGIN_STAGE__LAZY_PAGES:
		return "lazy-pages";
	default:
		return "unknown";
	}
}

static int lazyshm_plugin_init(int stage)
{
	if (lz_abi_check())
		return -1;
	pr_info("lazyshm plugin %s initialized for %s\n", LAZYSHM_VERSION, stage_name(stage));
	if (lz_config_read(&cfg))
		return -1;
	if (stage == CR_PLUGIN_STAGE__LAZY_PAGES)
		return lz_daemon_init(&cfg);
	if (stage == CR_PLUGIN_STAGE__RESTORE)
		return lz_restore_init(&cfg);
	if (stage == CR_PLUGIN_STAGE__DUMP) {
		lz_dump_files_init(&cfg);
		return lz_remote_init(&cfg);
	}
	return 0;
}

static void lazyshm_plugin_fini(int stage, int ret)
{
	if (stage == CR_PLUGIN_STAGE__DUMP) {
		/* CRIU's lazy session, if any, has ended */
		lz_remote_fini();
		lz_dump_files_fini();
		lz_presence_fini();
	}
	/*
	 * A pre-dump has no DUMP_FINISH: its images are complete here. (A
	 * dump's tracking ends at DUMP_RELEASED, once the tasks are released.)
	 */
	if (stage == CR_PLUGIN_STAGE__PRE_DUMP) {
		lz_track_finish(ret);
		lz_track_fini();
	}
	if (stage == CR_PLUGIN_STAGE__LAZY_PAGES)
		lz_daemon_fini(ret);
	if (stage == CR_PLUGIN_STAGE__RESTORE)
		lz_restore_fini();
	pr_info("lazyshm plugin finished %s (ret %d)\n", stage_name(stage), ret);
}

__attribute__((visibility("default"))) CR_PLUGIN_REGISTER("lazyshm", lazyshm_plugin_init, lazyshm_plugin_fini)

	static int lazyshm_plugin_restore_shmem_content(int fd, uint64_t shmid, uint64_t size, int kind, int flags,
							unsigned int seals)
{
	return lz_restore_shmem_content(fd, shmid, size, kind, flags, seals);
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__RESTORE_SHMEM_CONTENT, lazyshm_plugin_restore_shmem_content)

/* With --lazy-pages: may the dump's source serve this object itself? (remote-src.c) */
static int lazyshm_plugin_dump_shmem_content(int fd, uint64_t shmid, uint64_t size, int kind, int flags)
{
	return lz_remote_dump_shmem(fd, shmid, size, kind, flags);
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__DUMP_SHMEM_CONTENT, lazyshm_plugin_dump_shmem_content)

static int lazyshm_plugin_dump_reg_file(int fd, uint32_t obj_id, const char *path, const struct stat *st,
					int64_t fs_type)
{
	return lz_dump_file(fd, obj_id, path, st, fs_type);
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__DUMP_REG_FILE, lazyshm_plugin_dump_reg_file)

/*
 * CRIU's images are complete: index them. Without an index, a restore of
 * CRIU's own objects falls back to its eager, unvalidated path; but the
 * content of the files lazyshm stored is nowhere else: then the dump fails.
 */
static int lazyshm_plugin_dump_finish(int ret)
{
	const struct lz_obj_spec *files;
	size_t nr_files = lz_dump_files_specs(&files);

	if (ret) {
		lz_dump_files_fini();
		return 0;
	}
	lz_track_finish(ret);
	ret = lazyshm_dump_finish();
	if (ret > 0) /* objects whose content is only in the tasks: the index is a must */
		return -EIO;
	if (ret == 0)
		return 0;
	if (nr_files)
		return -EIO;
	pr_err("lazyshm images were not written: restores of this dump are not validated\n");
	return 0;
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__DUMP_FINISH, lazyshm_plugin_dump_finish)

/* The tasks run again: the digests CRIU's objects still lack (dump.c) */
static int lazyshm_plugin_dump_released(int ret)
{
	lz_track_released();
	return ret ? 0 : lazyshm_dump_released();
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__DUMP_RELEASED, lazyshm_plugin_dump_released)

/* Every frozen task, by its real pid: remember it to read its page tables
 * at DUMP_FINISH (presence.c). Never ours alone: other plugins get it too. */
static int lazyshm_plugin_checkpoint_devices(int pid)
{
	lz_presence_task(pid);
	lz_track_root(pid);
	return -ENOTSUP;
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__CHECKPOINT_DEVICES, lazyshm_plugin_checkpoint_devices)

static int lazyshm_plugin_restore_reg_file(uint32_t obj_id, int root_fd, const char *path, int flags, int *out_flags)
{
	return lz_restore_reg_file(obj_id, root_fd, path, flags, out_flags);
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__RESTORE_REG_FILE, lazyshm_plugin_restore_reg_file)

static int lazyshm_plugin_lazy_pages_task(int pid, int pidfd, int uffd)
{
	int ret = lz_daemon_task(pid, pidfd, uffd);

	lz_daemon_returns();
	return ret;
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__LAZY_PAGES_TASK, lazyshm_plugin_lazy_pages_task)

static int lazyshm_plugin_lazy_pages_fault(int pid, int uffd, uint64_t address, uint64_t flags)
{
	int ret = lz_daemon_fault(pid, uffd, address, flags);

	lz_daemon_returns();
	return ret;
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__LAZY_PAGES_FAULT, lazyshm_plugin_lazy_pages_fault)

static int lazyshm_plugin_lazy_pages_event(int pid, int uffd, int event, uint64_t a, uint64_t b, uint64_t c)
{
	int ret = lz_daemon_event(pid, uffd, event, a, b, c);

	lz_daemon_returns();
	return ret;
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__LAZY_PAGES_EVENT, lazyshm_plugin_lazy_pages_event)

static int lazyshm_plugin_lazy_pages_idle(int restored)
{
	int ret = lz_daemon_idle(restored);

	lz_daemon_returns();
	return ret;
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__LAZY_PAGES_IDLE, lazyshm_plugin_lazy_pages_idle)

/* A frozen task of a dump or pre-dump, parasite in: its tracked memory (track.c) */
static int lazyshm_plugin_dump_task_mem(int pid, int flags)
{
	return lz_track_task(pid, flags);
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__DUMP_TASK_MEM, lazyshm_plugin_dump_task_mem)

/* A shared object with parent images: the pages written since (track.c) */
static int lazyshm_plugin_dump_shmem_written(uint64_t shmid, uint64_t size, int kind, unsigned long *written)
{
	return lz_track_written(shmid, size, kind, written);
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__DUMP_SHMEM_WRITTEN, lazyshm_plugin_dump_shmem_written)

/* A shared object with parent images: its id there, if restored from them (track.c) */
static int lazyshm_plugin_dump_shmem_parent(uint64_t shmid, int kind, uint64_t *parent_id)
{
	return lz_track_parent_id(shmid, kind, parent_id);
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__DUMP_SHMEM_PARENT, lazyshm_plugin_dump_shmem_parent)
