// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel side of write tracking (kernel/conformance case 8 proves it on
 * this kernel): a userfaultfd with WP_ASYNC | WP_UNPOPULATED |
 * WP_HUGETLBFS_SHMEM, mappings registered MODE_WP and write-protected, then
 * PAGEMAP_SCAN over PAGE_IS_WRITTEN with PM_SCAN_WP_MATCHING |
 * PM_SCAN_CHECK_WPASYNC, which lists the written pages and re-protects
 * them in the same walk. Gotchas of 6.18 handled here:
 *  - WP_MATCHING does not re-protect 1G pages: UFFDIO_WRITEPROTECT does;
 *  - a match on unpopulated hugetlb holes can deadlock: PAGE_IS_WRITTEN
 *    is always required (category_mask);
 *  - walk_end is not "done" when the vector fills (more than its regions):
 *    the walk goes on from walk_end until it reaches the end;
 *  - partial protection of a huge page is refused: only whole mappings and
 *    whole reported regions are protected.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "uffd-compat.h"

#include "track.h"

#define WP_FEATURES (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED | UFFD_FEATURE_WP_HUGETLBFS_SHMEM)
#define VEC_LEN	    512
#define GIB	    (1ULL << 30)

/* Removals are reported too: the holder turns the protection of a removed
 * range off (holder/serve.c), or a page read back in would look unwritten */
int lz_wp_api(int uffd)
{
	struct uffdio_api api = { .api = UFFD_API, .features = WP_FEATURES | UFFD_FEATURE_EVENT_REMOVE };

	if (ioctl(uffd, UFFDIO_API, &api))
		return -errno;
	return (api.features & WP_FEATURES) == WP_FEATURES ? 0 : -EOPNOTSUPP;
}

int lz_wp_register(int uffd, uint64_t start, uint64_t len)
{
	struct uffdio_register r = { .range = { .start = start, .len = len }, .mode = UFFDIO_REGISTER_MODE_WP };

	return ioctl(uffd, UFFDIO_REGISTER, &r) ? -errno : 0;
}

int lz_wp_protect(int uffd, uint64_t start, uint64_t len)
{
	struct uffdio_writeprotect w = { .range = { .start = start, .len = len }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &w) ? -errno : 0;
}

/* One PAGEMAP_SCAN call from *pos: the regions found, *pos moved on */
static int scan_once(int pmfd, uint64_t *pos, uint64_t end, uint64_t flags, struct page_region *vec)
{
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.flags = flags,
		.start = *pos,
		.end = end,
		.vec = (uintptr_t)vec,
		.vec_len = VEC_LEN,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	int n = ioctl(pmfd, PAGEMAP_SCAN, &a);

	if (n < 0)
		return -errno;
	if (a.walk_end <= *pos && n == 0)
		return -EIO; /* no progress */
	*pos = a.walk_end;
	return n;
}

int lz_wp_collect(int pmfd, int uffd, const struct lz_trk_vma *v, lz_wp_cb cb, void *arg)
{
	uint64_t flags = PM_SCAN_CHECK_WPASYNC, pos = v->start;
	struct page_region vec[VEC_LEN];
	bool giant = v->psz >= GIB;
	int n, i, ret;

	if (!giant)
		flags |= PM_SCAN_WP_MATCHING;
	while (pos < v->end) {
		n = scan_once(pmfd, &pos, v->end, flags, vec);
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			cb(vec[i].start, vec[i].end, arg);
			if (!giant)
				continue;
			ret = lz_wp_protect(uffd, vec[i].start, vec[i].end - vec[i].start);
			if (ret)
				return ret;
		}
	}
	return 0;
}
