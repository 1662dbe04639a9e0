// SPDX-License-Identifier: GPL-2.0
/*
 * cases_wp.c: uffd-wp on shmem and hugetlbfs (case 8): synchronous WP
 * faults, WP_UNPOPULATED, WP_ASYNC with PAGEMAP_SCAN.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "conf.h"

#define WPW (UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE)

/* Write a->val into page @pg in an actor; it must fault WP, then finish. */
static int wp_write_round(struct tctx *c, struct actor *a, struct region *r,
			  int uffd, int pg)
{
	char *p = r->map + (size_t)pg * r->page;
	unsigned char before = (unsigned char)r->alias[(size_t)pg * r->page];
	int ret = -1;

	TRY(c, actor_start(a, actor_write, p, r->page, 1));
	EXPECT(expect_pf(c, uffd, p, WPW));
	CHECK(c, !actor_wait(a, 50), "writer ran before the WP fault resolved");
	CHECK(c, (unsigned char)r->alias[(size_t)pg * r->page] == before,
	      "write landed under write protection");
	TRY(c, uffd_wp(uffd, p, r->page, false));
	CHECK(c, actor_wait(a, TIMEOUT_MS), "writer not woken by un-protect");
	CHECK(c, (unsigned char)r->alias[(size_t)pg * r->page] == a->val,
	      "write lost: alias holds 0x%02x",
	      (unsigned char)r->alias[(size_t)pg * r->page]);
	ret = 0;
out:
	return ret;
}

/* Case 8a: synchronous WP faults on populated pages; reads pass. */
int case_wp_sync(struct tctx *c)
{
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL, pg;
	struct region r;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	for (pg = 0; pg < r.npages; pg++)
		fill_page(r.map, r.page, pg, SEED); /* populate the PTEs */
	uffd = region_uffd(&r, UFFD_FEATURE_WP_HUGETLBFS_SHMEM, UFFDIO_REGISTER_MODE_WP);
	TRY(c, uffd);
	TRY(c, uffd_wp(uffd, r.map, r.len, true));
	TRY(c, start_read(c, &a, &r, 0, r.npages));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader of protected pages blocked");
	EXPECT(expect_quiet(c, uffd, 0));
	for (pg = 0; pg < r.npages; pg++)
		CHECK(c, page_is(a.got[pg], SEED, pg), "page %d read 0x%02x", pg,
		      a.got[pg][0]);
	a.val = 0x33;
	EXPECT(wp_write_round(c, &a, &r, uffd, 0));
	EXPECT(wp_write_round(c, &a, &r, uffd, r.npages - 1));
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/* Case 8b: WP_UNPOPULATED: protecting never-touched pages still faults. */
int case_wp_unpopulated(struct tctx *c)
{
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL;
	struct region r;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	uffd = region_uffd(&r, UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_WP_UNPOPULATED, UFFDIO_REGISTER_MODE_WP);
	TRY(c, uffd);
	TRY(c, uffd_wp(uffd, r.map, r.len, true));
	a.val = 0x35;
	EXPECT(wp_write_round(c, &a, &r, uffd, 0));
	TRY(c, start_read(c, &a, &r, 1, 1));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader of an unpopulated page blocked");
	CHECK(c, page_zero(a.got[0]), "unpopulated page read 0x%02x", a.got[0][0]);
	EXPECT(expect_quiet(c, uffd, 0));
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/* PAGEMAP_SCAN for written pages of @r; the region count or -errno. */
static int scan_written(struct region *r, uint64_t flags,
			struct page_region *vec, int vlen)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
		.start = (uintptr_t)r->map,
		.end = (uintptr_t)r->map + r->len,
		.vec = (uintptr_t)vec,
		.vec_len = vlen,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	int fd, ret;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ioctl(fd, PAGEMAP_SCAN, &arg);
	if (ret < 0)
		ret = -errno;
	else if (arg.walk_end != arg.end)
		ret = -EIO;
	close_fd(&fd);
	return ret;
}

/* Check that @vec (@n regions) lists exactly the odd pages of @r. */
static int check_odd(struct tctx *c, struct region *r,
		     const struct page_region *vec, int n)
{
	int i, ret = -1;
	uint64_t start;

	CHECK(c, n == r->npages / 2, "%d written regions, expected %d", n,
	      r->npages / 2);
	for (i = 0; i < n; i++) {
		start = (uintptr_t)r->map + (2 * i + 1) * r->page;
		CHECK(c, vec[i].start == start && vec[i].end == start + r->page && vec[i].categories == PAGE_IS_WRITTEN,
		      "region %d is [+0x%llx, +0x%llx) cat 0x%llx", i,
		      (unsigned long long)(vec[i].start - (uintptr_t)r->map),
		      (unsigned long long)(vec[i].end - (uintptr_t)r->map),
		      (unsigned long long)vec[i].categories);
	}
	ret = 0;
out:
	return ret;
}

/* Case 8c: WP_ASYNC: writes never fault; PAGEMAP_SCAN reports them. */
int case_wp_async_scan(struct tctx *c)
{
	const uint64_t rewp = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
	struct page_region vec[MAX_PAGES];
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL, pg, n;
	struct region r;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	for (pg = 0; pg < r.npages; pg++)
		fill_page(r.map, r.page, pg, SEED);
	uffd = region_uffd(&r, UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_WP_ASYNC, UFFDIO_REGISTER_MODE_WP);
	TRY(c, uffd);
	TRY(c, uffd_wp(uffd, r.map, r.len, true));
	n = scan_written(&r, 0, vec, MAX_PAGES);
	CHECK(c, n == 0, "after write-protect: %d written regions (%s)", n,
	      n < 0 ? strerror(-n) : "expected none");
	a.val = 0x44;
	for (pg = 1; pg < r.npages; pg += 2) {
		TRY(c, actor_start(&a, actor_write, r.map + pg * r.page, r.page, 1));
		CHECK(c, actor_wait(&a, TIMEOUT_MS), "async-WP write blocked");
	}
	EXPECT(expect_quiet(c, uffd, 0));
	n = scan_written(&r, 0, vec, MAX_PAGES);
	TRY(c, n);
	EXPECT(check_odd(c, &r, vec, n));
	n = scan_written(&r, rewp, vec, MAX_PAGES);
	TRY(c, n);
	EXPECT(check_odd(c, &r, vec, n));
	n = scan_written(&r, 0, vec, MAX_PAGES);
	CHECK(c, n == 0, "after WP_MATCHING: %d written regions", n);
	for (pg = 0; pg < r.npages; pg++)
		CHECK(c, (unsigned char)r.alias[pg * r.page] == (pg % 2 ? 0x44 : pat(SEED, pg, 0)),
		      "page %d holds 0x%02x", pg,
		      (unsigned char)r.alias[pg * r.page]);
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}
