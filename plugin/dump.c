// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dump side of the lazyshm plugin. Runs once CRIU has written every image:
 * it reads them back (memfd.img, ipcns-shm-*.img, mm-*.img and the shmem
 * page images), digests every page that has data and writes
 * lazyshm-shmem.img atomically, with the file objects files-dump.c stored
 * during the dump. Without file objects, a failure leaves no lazyshm image,
 * so a restore falls back to CRIU's eager path instead of trusting bad
 * digests. With file objects the dump has failed: their content is only in
 * lazyshm's pages files, which nothing can restore without the image.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "criu-plugin.h"
#include "log.h"

#include "dump.h"
#include "files-dump.h"
#include "lzimg.h"

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
	pr_info("dump: wrote %s: %zu objects, %" PRIu64 " page digests over %" PRIu64 " bytes in %" PRIu64 " ms\n",
		LZIMG_FILE, lzimg_nr_objs(img), lzimg_nr_digests(img), bytes, (now_us() - t0) / 1000);
	lzimg_free(img);
	return 0;
}

static int write_image(int dirfd)
{
	const struct lz_obj_spec *files = NULL;
	size_t nr_files = lz_dump_files_specs(&files);
	char err[LZIMG_ERRLEN] = "";

	if (dirfd < 0)
		snprintf(err, sizeof(err), "no image directory");
	else if (!lzimg_write_from_criu_with(dirfd, files, nr_files, err, sizeof(err)))
		return 0;
	pr_err("dump: can't write %s: %s\n", LZIMG_FILE, err);
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
	if (ret)
		return -1;
	return log_objects(dirfd, t0);
}
