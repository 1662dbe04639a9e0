// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * DUMP_FILE: store the content of files on tmpfs and hugetlbfs that lazyshm
 * owns (CRIU 4.1.1 would keep only their path, or fail on unlinked ones
 * above --ghost-limit), and keep their objects for lazyshm-shmem.img.
 *
 * CRIU calls the hook for every regular file a dumped task maps or holds,
 * binaries and libraries included: anything not on tmpfs/hugetlbfs returns
 * -ENOTSUP before any work.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>

#include "criu-plugin.h"
#include "log.h"

#include "config.h"
#include "files-dump.h"
#include "lzimg.h"
#include "remote-src.h"

struct files_dump {
	int policy; /* enum lz_files_policy */
	struct lz_obj_spec *specs;
	size_t nr, cap;
};

static struct files_dump F = { .policy = LZ_FILES_DEFAULT };

void lz_dump_files_init(const struct lz_config *cfg)
{
	F.policy = cfg->files_policy;
	pr_info("dump: files on tmpfs/hugetlbfs: LAZYSHM_FILES=%s\n", lz_files_policy_name(F.policy));
}

/* Does the policy give this file (on tmpfs or hugetlbfs) to lazyshm? */
static int wanted(int huge, const char *path, const struct stat *st)
{
	if (F.policy == LZ_FILES_NONE || !S_ISREG(st->st_mode))
		return 0;
	if (huge || st->st_nlink == 0 || F.policy == LZ_FILES_ALL)
		return 1;
	pr_info("dump: file %s on tmpfs is named: left to CRIU, which keeps only its path (LAZYSHM_FILES=all "
		"stores it; a restore then recreates it and fills it before the tasks run, since any process may "
		"open it by its path: LAZYSHM_FILES_NAMED=lazy defers it anyway)\n",
		path);
	return 0;
}

static int list_slot(uint32_t obj_id, const char *path)
{
	struct lz_obj_spec *n;
	size_t i;

	for (i = 0; i < F.nr; i++) {
		if (F.specs[i].remap_id == obj_id) {
			pr_err("dump: file %s: object id %u was already stored for %s\n", path, obj_id, F.specs[i].name);
			return -EEXIST;
		}
	}
	if (F.nr < F.cap)
		return 0;
	n = realloc(F.specs, (F.cap ? F.cap * 2 : 8) * sizeof(*n));
	if (!n) {
		pr_err("dump: file %s: no memory for the object list\n", path);
		return -ENOMEM;
	}
	F.specs = n;
	F.cap = F.cap ? F.cap * 2 : 8;
	return 0;
}

int lz_dump_file(int fd, uint32_t obj_id, const char *path, const struct stat *st, int64_t fs_type)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_obj_spec *s;
	int huge = (uint32_t)fs_type == HUGETLBFS_MAGIC, dirfd, ret;

	if (!huge && (uint32_t)fs_type != TMPFS_MAGIC)
		return -ENOTSUP;
	if (!wanted(huge, path, st))
		return -ENOTSUP;
	ret = list_slot(obj_id, path);
	if (ret)
		return ret;
	dirfd = criu_get_image_dir();
	if (dirfd < 0) {
		pr_err("dump: file %s: no image directory\n", path);
		return -EBADF;
	}
	s = &F.specs[F.nr];
	ret = lz_remote_file(fd, obj_id, path, st, huge, s);
	if (ret < 0)
		return ret == -ENOTSUP ? -EIO : ret;
	if (ret) {
		F.nr++;
		pr_info("dump: file %s (%s, %s): %" PRIu64 " of %" PRIu64 " pages with data, served by the dump's "
			"source\n",
			path, lzimg_kind_name(s->kind), s->unlinked ? "unlinked" : "named", s->nr_data_pages, s->nr_pages);
		return 0;
	}
	ret = lzimg_dump_file(dirfd, fd, obj_id, path, st, s, err, sizeof(err));
	if (ret) {
		pr_err("dump: file %s: can't store its content: %s\n", path, err);
		return ret == -ENOTSUP ? -EIO : ret; /* -ENOTSUP would hand it back to CRIU */
	}
	F.nr++;
	pr_info("dump: file %s (%s, %s): %" PRIu64 " of %" PRIu64 " pages with data, %" PRIu64 " bytes stored\n", path,
		lzimg_kind_name(s->kind), s->unlinked ? "unlinked" : "named", s->nr_data_pages, s->nr_pages,
		s->nr_data_pages * s->page_size);
	return 0;
}

size_t lz_dump_files_specs(const struct lz_obj_spec **specs)
{
	*specs = F.specs;
	return F.nr;
}

void lz_dump_files_fini(void)
{
	size_t i;

	for (i = 0; i < F.nr; i++)
		lzimg_spec_free(&F.specs[i]);
	free(F.specs);
	F.specs = NULL;
	F.nr = F.cap = 0;
}
