// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore side: decide, per shared object, whether its content is deferred
 * to the lazy-pages daemon; otherwise restore it eagerly, still validated
 * against its digests, and log why it was not lazy.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>

#include "criu-plugin.h"
#include "eager.h"
#include "files-restore.h"
#include "kinds.h"
#include "kprobe.h"
#include "objects.h"
#include "log.h"
#include "lzimg.h"
#include "offer.h"
#include "pending.h"
#include "restore.h"

/*
 * No descriptor is kept: CRIU moves its service descriptors (the images
 * directory among them) in each restored task, so ask criu_get_image_dir()
 * at every use.
 */
struct lz_restore {
	const struct lz_config *cfg;
	struct lz_image *img;  /* geometry only; NULL: dumped without the plugin */
	struct lz_image *full; /* with the digests, loaded for the first eager object */
};

static struct lz_restore R;

/* For the restore's own timings in the log (make bench reads them) */
static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static uint64_t page_size(int fd)
{
	struct statfs st;

	return fstatfs(fd, &st) == 0 && st.f_type == HUGETLBFS_MAGIC ? (uint64_t)st.f_bsize : 4096;
}

/* The object's kind in the one vocabulary: the image's if it is there */
static const char *obj_kind(int fd, uint64_t shmid, int kind)
{
	const struct lz_obj *o = R.img ? lzimg_find(R.img, shmid) : NULL;

	return o ? lzimg_kind_name(o->kind) : lz_kind_name(kind, page_size(fd));
}

/* Why CRIU could not defer this object (CR_SHMEM_CAN_DEFER unset) */
static void no_defer_reason(int fd, int kind, char *why, size_t len)
{
	struct lz_kfeatures kf;
	bool huge = page_size(fd) > 4096;

	if (kind == CR_SHMEM_SYSV && !huge)
		snprintf(why, len, "userfaultfd cannot register 4K SysV mappings (only SHM_HUGETLB ones)");
	else if (lz_kprobe(&kf) == 0 && !(huge ? lz_kprobe_lazy_hugetlb(&kf, why, len) : lz_kprobe_lazy_shmem(&kf, why, len)))
		return; /* the probe said why */
	else
		snprintf(why, len, "not a --lazy-pages restore");
}

/*
 * Paths to the object's pages that bypass userfaultfd rule a lazy restore
 * out unless the user said the application does not take them: 0, or 1
 * with @why. *flags gets LZ_OBJ_FD_REACHABLE for an opted-in held object.
 */
static int bypassed(int fd, int kind, int flags, unsigned int *oflags, char *why, size_t len)
{
	int k = lz_kind_of(kind, page_size(fd));

	if ((flags & CR_SHMEM_FD_REACHABLE) && !(R.cfg->fd_lazy & (1u << k))) {
		snprintf(why, len, "a task holds it open, and read()/write() on the descriptor bypass userfaultfd "
				   "(LAZYSHM_FD_LAZY=%s defers it anyway)",
			 lzimg_kind_name(k));
		return 1;
	}
	if (kind == CR_SHMEM_SYSV && !R.cfg->sysv_lazy) {
		snprintf(why, len, "any process may shmat() a SysV segment anew, and userfaultfd does not see new "
				   "mappings (LAZYSHM_SYSV=lazy defers it anyway)");
		return 1;
	}
	if (flags & CR_SHMEM_FD_REACHABLE) {
		pr_warn("%s held open by a task is deferred (LAZYSHM_FD_LAZY): read(), write() and fallocate() "
			"through the descriptor see unfilled pages until it is resident\n",
			lzimg_kind_name(k));
		*oflags |= LZ_OBJ_FD_REACHABLE;
	}
	return 0;
}

/* 1 if deferred, 0 if not (and why), -1 if the daemon's answer was lost */
static int try_defer(int fd, uint64_t shmid, uint64_t size, int kind, int flags, unsigned int seals, char *why,
		     size_t len)
{
	unsigned int oflags = 0;

	if (!R.cfg->lazy) {
		snprintf(why, len, "LAZYSHM_MODE=eager");
		return 0;
	}
	if (seals & F_SEAL_WRITE) {
		snprintf(why, len, "it is sealed F_SEAL_WRITE: its mappings may not be written (no VM_MAYWRITE), and "
				   "userfaultfd registers no such mapping");
		return 0;
	}
	if (!(flags & CR_SHMEM_CAN_DEFER)) {
		no_defer_reason(fd, kind, why, len);
		return 0;
	}
	if (bypassed(fd, kind, flags, &oflags, why, len))
		return 0;
	return lz_offer(fd, shmid, size, kind, seals, oflags, why, len);
}

/*
 * The object with its digests, for an eager restore. The restore loads only
 * the geometry up front (a deferred object needs nothing more, and decoding
 * the digests of a big image would be most of the resume time).
 */
static const struct lz_obj *full_obj(uint64_t shmid)
{
	char err[LZIMG_ERRLEN];

	if (!R.img)
		return NULL;
	if (!R.full && lzimg_load(criu_get_image_dir(), &R.full, err, sizeof(err))) {
		pr_err("%s\n", err);
		R.full = NULL;
		return NULL;
	}
	return lzimg_find(R.full, shmid);
}

int lz_restore_shmem_content(int fd, uint64_t shmid, uint64_t size, int kind, int flags, unsigned int seals)
{
	const struct lz_obj *o = R.img ? lzimg_find(R.img, shmid) : NULL;
	const char *kn = obj_kind(fd, shmid, kind);
	double t0 = now_us();
	char why[256];
	int ret;

	ret = try_defer(fd, shmid, size, kind, flags, seals, why, sizeof(why));
	if (ret < 0) {
		/* the daemon may have taken it: never restore it eagerly behind its back */
		pr_err("%s %#" PRIx64 ": %s\n", kn, shmid, why);
		return -EIO;
	}
	if (ret) {
		pr_info("%s %#" PRIx64 " (%" PRIu64 " bytes) deferred to the lazy-pages daemon (offer round trip %.1f us)\n",
			kn, shmid, size, now_us() - t0);
		return 1;
	}
	if (o && o->remote) {
		pr_err("%s %#" PRIx64 " cannot be restored eagerly (%s): its content is not in the images, the dump's "
		       "source serves it to a lazy restore\n",
		       kn, shmid, why);
		return -EIO;
	}
	pr_info("%s %#" PRIx64 " restored eagerly: %s\n", kn, shmid, why);
	if (!o) {
		pr_warn("%s %#" PRIx64 " is not in the lazyshm image: CRIU restores it unvalidated\n", kn,
			shmid);
		return -ENOTSUP;
	}
	if (!R.cfg->validate)
		return -ENOTSUP;
	o = full_obj(shmid);
	if (!o)
		return -EIO;
	return lz_eager_restore(criu_get_image_dir(), o, fd, size);
}

/*
 * Hugepages of one size that can still be had: free ones not promised to
 * a mapping already (free_hugepages counts reserved ones too), plus what
 * overcommit still allows.
 */
static uint64_t hugepages_available(uint64_t psz)
{
	uint64_t v[4] = { 0, 0, 0, 0 };
	const char *names[4] = { "free_hugepages", "resv_hugepages", "nr_overcommit_hugepages", "surplus_hugepages" };
	char path[128];
	FILE *f;
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/%s", psz >> 10, names[i]);
		f = fopen(path, "r");
		if (!f || fscanf(f, "%" SCNu64, &v[i]) != 1)
			v[i] = 0;
		if (f)
			fclose(f);
	}
	return (v[0] > v[1] ? v[0] - v[1] : 0) + (v[2] > v[3] ? v[2] - v[3] : 0);
}

/* A named file still there as dumped keeps its pages: it is used as it is */
static bool file_in_place(const struct lz_obj *o)
{
	return lzimg_kind_is_file(o->kind) && lz_file_is_dumped_one(o, AT_FDCWD, o->name);
}

/* Fail the restore up front, naming the objects, rather than with SIGBUS later */
static int hugepages_preflight(void)
{
	uint64_t sizes[] = { 2ull << 20, 1ull << 30 };
	size_t i, j, n = lzimg_nr_objs(R.img);
	int ret = 0;

	for (j = 0; j < 2; j++) {
		uint64_t need = 0, have;

		for (i = 0; i < n; i++) {
			const struct lz_obj *o = lzimg_obj(R.img, i);

			if (o->page_size == sizes[j] && !file_in_place(o))
				need += o->nr_pages;
		}
		if (!need) /* no sysfs reads for a size no object has */
			continue;
		have = hugepages_available(sizes[j]);
		if (need <= have)
			continue;
		for (i = 0; i < n; i++) {
			const struct lz_obj *o = lzimg_obj(R.img, i);

			if (o->page_size == sizes[j] && !file_in_place(o))
				pr_err("%s %#" PRIx64 " needs %" PRIu64 " hugepages of %" PRIu64 " kB\n",
				       lzimg_kind_name(o->kind), o->shmid, o->nr_pages, sizes[j] >> 10);
		}
		pr_err("the restore needs %" PRIu64 " hugepages of %" PRIu64 " kB but only %" PRIu64
		       " can be had: raise /sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/nr_hugepages by %" PRIu64 "\n",
		       need, sizes[j] >> 10, have, sizes[j] >> 10, need - have);
		ret = -1;
	}
	return ret;
}

int lz_restore_init(const struct lz_config *cfg)
{
	double t0 = now_us(), t1, t2;
	char err[256];
	int ret;

	memset(&R, 0, sizeof(R));
	R.cfg = cfg;
	if (lz_offer_init())
		return -1;
	t1 = now_us();
	ret = lzimg_load_meta(criu_get_image_dir(), &R.img, err, sizeof(err));
	t2 = now_us();
	if (ret == -ENOENT) {
		pr_warn("no lazyshm image: shared memory is restored by CRIU, eagerly and unvalidated\n");
		R.img = NULL;
		return 0;
	}
	if (ret < 0) {
		pr_err("%s\n", err);
		return -1;
	}
	if (lz_refuse_pending(R.img, cfg->validate) || hugepages_preflight())
		return -1;
	pr_info("restore init: %.1f us (lazyshm image %.1f us, registry %.1f us, hugepage check %.1f us)\n",
		now_us() - t0, t2 - t1, t1 - t0, now_us() - t2);
	return 0;
}

int lz_restore_reg_file(uint32_t id, int root, const char *path, int flags, int *out_flags)
{
	struct lz_restore_ctx c = { .cfg = R.cfg, .img = R.img, .imgdir = criu_get_image_dir(), .full_obj = full_obj };

	return lz_restore_file(&c, id, root, path, flags, out_flags);
}

void lz_restore_fini(void)
{
	if (R.img)
		lzimg_free(R.img);
	if (R.full)
		lzimg_free(R.full);
	R.img = R.full = NULL;
}
