// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Eager restore with validation: copy the data runs of CRIU's page images
 * into the object (holes stay unallocated), then check every data page
 * against the digest recorded at dump time. The cost is CRIU's own eager
 * copy plus one XXH3 pass over the data.
 */
#include <errno.h>
#include <inttypes.h>
#include <sys/mman.h>

#include "eager.h"
#include "log.h"
#include "lzimg.h"

static int copy_data(struct lz_pagesrc *src, char *map, uint64_t size, const struct lz_obj *o)
{
	uint64_t off = 0, s, e;
	int ret;

	while (off < size && lz_pagesrc_next_data(src, off, &s, &e) == 1) {
		if (s >= size)
			break;
		if (e > size)
			e = size;
		ret = lz_pagesrc_read(src, s, map + s, e - s);
		if (ret) {
			pr_err("cannot read %s %#" PRIx64 " bytes %#" PRIx64 "-%#" PRIx64 " from the images: %s\n",
			       lzimg_kind_name(o->kind), o->shmid, s, e, lz_pagesrc_error(src));
			return ret;
		}
		off = e;
	}
	return 0;
}

static int check_digests(const char *map, uint64_t size, const struct lz_obj *o)
{
	uint64_t idx, want, got, psz = o->page_size;

	for (idx = 0; idx < o->nr_pages && (idx + 1) * psz <= size; idx++) {
		if (lzimg_page_digest(o, idx, &want) != 1)
			continue;
		got = lz_digest(map + idx * psz, psz);
		if (got == want)
			continue;
		pr_err("digest mismatch in %s shmid %" PRIu64 " (%#" PRIx64 ") page %" PRIu64 " (offset %#" PRIx64
		       "): expected %016" PRIx64 ", image has %016" PRIx64 "; the restore stops\n",
		       lzimg_kind_name(o->kind), o->shmid, o->shmid, idx, idx * psz, want, got);
		return -EIO;
	}
	return 0;
}

int lz_eager_restore(int imgdir, const struct lz_obj *o, int fd, uint64_t size)
{
	struct lz_pagesrc *src = NULL;
	char err[256];
	char *map;
	int ret;

	if (o->nr_data_pages && !o->digests) {
		pr_err("%s %#" PRIx64 ": its digests are not loaded\n", lzimg_kind_name(o->kind), o->shmid);
		return -EINVAL;
	}
	if (lz_pagesrc_open_obj(imgdir, o, &src, err, sizeof(err))) {
		pr_err("%s\n", err);
		return -EIO;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		pr_perror("cannot map %s %#" PRIx64 " (%" PRIu64 " bytes) to restore it", lzimg_kind_name(o->kind),
			  o->shmid, size);
		goto out;
	}
	ret = copy_data(src, map, size, o);
	if (!ret)
		ret = check_digests(map, size, o);
	if (munmap(map, size))
		pr_perror("cannot unmap %s %#" PRIx64, lzimg_kind_name(o->kind), o->shmid);
	if (!ret)
		pr_info("%s %#" PRIx64 ": %" PRIu64 " data pages restored eagerly and validated\n",
			lzimg_kind_name(o->kind), o->shmid, o->nr_data_pages);
out:
	lz_pagesrc_close(src);
	return ret;
}
