// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dump side of the lazyshm plugin, in two steps so that the tasks' freeze
 * does not grow with their memory:
 *  - DUMP_FINISH, tasks frozen: CRIU has written every image; read the
 *    objects back from memfd.img, ipcns-shm-*.img, mm-*.img and the shmem
 *    pagemaps (not the pages), add the page-table presence of every task
 *    (presence.c) and write lazyshm-shmem.img atomically, with the file
 *    objects files-dump.c stored during the dump (complete, digests
 *    included) and CRIU's objects with their digests pending. Without file
 *    objects, a failure leaves no lazyshm image, so a restore falls back to
 *    CRIU's eager path. With file objects the dump has failed: their content
 *    is only in lazyshm's pages files, which nothing can restore without
 *    the image.
 *  - DUMP_RELEASED, tasks running again (or killed): digest the pending
 *    objects' pages and rewrite the image without the pending marks. If that
 *    fails the image stays pending, and restores refuse to validate it.
 * A --lazy-pages dump digests at DUMP_FINISH instead, before the page
 * server starts: its tasks stay frozen until the destination's restore has
 * ended, and the destination needs the digests of the objects in the
 * images (a hybrid migration's, or those a restore could not defer) as soon
 * as it has the images; it fails if they cannot be computed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "cr_options.h"
#include "criu-plugin.h"
#include "log.h"

#include "dump.h"
#include "files-dump.h"
#include "lzimg.h"
#include "presence.h"
#include "remote-src.h"

static uint64_t now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Read the image back (the reader re-validates it) and log each object. */
static int log_objects(int dirfd, uint64_t t0)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	uint64_t bytes = 0;
	size_t i;
	int ret;

	ret = lzimg_load(dirfd, &img, err, sizeof(err));
	if (ret) {
		pr_err("written %s does not load back: %s\n", LZIMG_FILE, err);
		return -1;
	}
	for (i = 0; i < lzimg_nr_objs(img); i++) {
		const struct lz_obj *o = lzimg_obj(img, i);

		pr_info("dump: %s shmid %" PRIu64 " \"%s\": page size %u, size %" PRIu64 ", %" PRIu64
			" of %" PRIu64 " pages with data\n",
			lzimg_kind_name(o->kind), o->shmid, o->name, o->page_size, o->size, o->nr_data_pages, o->nr_pages);
		bytes += o->nr_data_pages * o->page_size;
	}
	pr_info("dump: wrote %s: %zu objects, %" PRIu64 " bytes with data, %" PRIu64
		" page digests (%zu objects' pending until the tasks are released) in %" PRIu64 " ms\n",
		LZIMG_FILE, lzimg_nr_objs(img), bytes, lzimg_nr_digests(img), lzimg_nr_pending(img),
		(now_us() - t0) / 1000);
	lzimg_free(img);
	return 0;
}

/*
 * Digest the pending objects' pages and rewrite the image (@when: for the
 * log). 0 (also with no lazyshm image: DUMP_FINISH said why), or -1 with
 * "restores of this dump cannot be validated: ..." in the log.
 */
static int complete_digests(const char *when)
{
	uint64_t t0 = now_us(), pages = 0;
	int dirfd = criu_get_image_dir(), ret;
	char err[LZIMG_ERRLEN] = "";
	size_t objs = 0;

	if (dirfd < 0)
		snprintf(err, sizeof(err), "no image directory");
	ret = dirfd < 0 ? -EBADF : lzimg_complete_digests(dirfd, &objs, &pages, err, sizeof(err));
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		pr_err("restores of this dump cannot be validated: the page digests of %s could not be computed "
		       "%s: %s (LAZYSHM_VALIDATE=0 restores it unvalidated)\n",
		       LZIMG_FILE, when, err);
		return -1;
	}
	if (objs)
		pr_info("dump: digests of %zu objects, %" PRIu64 " pages, written in %" PRIu64 " ms %s\n", objs,
			pages, (now_us() - t0) / 1000, when);
	return 0;
}

static int write_image(int dirfd)
{
	struct lz_index_input in = { .digests_pending = 1 };
	const struct lz_obj_spec *files = NULL;
	size_t nr_files = lz_dump_files_specs(&files);
	char err[LZIMG_ERRLEN] = "";
	int nr_remote = lz_remote_finish(&in);

	if (nr_remote < 0)
		return 1;
	in.extra = files;
	in.nr_extra = nr_files;
	in.nr_presence = lz_presence_collect(files, nr_files, &in.presence);
	if (dirfd < 0)
		snprintf(err, sizeof(err), "no image directory");
	else if (!lzimg_write_from_criu_in(dirfd, &in, err, sizeof(err)))
		return 0;
	pr_err("dump: can't write %s: %s\n", LZIMG_FILE, err);
	if (nr_remote)
		pr_err("dump: the content of %d shared object(s) the source was to serve is not in the images, which "
		       "no restore can use without %s: the dump fails\n",
		       nr_remote, LZIMG_FILE);
	if (nr_remote)
		return 1;
	if (nr_files)
		pr_err("dump: the content of %zu file(s) on tmpfs/hugetlbfs (first: %s) is only in "
		       "lazyshm-file-*.pages, which no restore can use without %s: the dump fails\n",
		       nr_files, files[0].name, LZIMG_FILE);
	return -1;
}

int lazyshm_dump_finish(void)
{
	uint64_t t0 = now_us();
	int dirfd = criu_get_image_dir(), ret;

	ret = write_image(dirfd);
	lz_dump_files_fini();
	lz_presence_fini();
	if (ret)
		return ret;
	if (log_objects(dirfd, t0))
		return -1;
	/* the destination copies the images while the tasks stay frozen */
	if (opts.lazy_pages && complete_digests("before the page server starts"))
		return 1;
	/* before CRIU's lazy page server starts: the destination may come at once */
	return lz_remote_start() ? 1 : 0;
}

int lazyshm_dump_released(void)
{
	return complete_digests("after the tasks were released") ? -EIO : 0;
}
