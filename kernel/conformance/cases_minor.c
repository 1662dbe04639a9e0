// SPDX-License-Identifier: GPL-2.0
/*
 * cases_minor.c: MINOR/MISSING faults and UFFDIO_CONTINUE (cases 1-4).
 *
 * The main thread is the fault handler; an actor thread touches the
 * registered mapping; the "daemon" writes through the alias mapping.
 */
#include <errno.h>

#include "conf.h"

#define MINOR UFFD_PAGEFAULT_FLAG_MINOR

/* Case 1a: MINOR-only, absent page: zeros, and no fault delivered. */
int case_minor_absent(struct tctx *c)
{
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL;
	struct region r;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	uffd = region_uffd(&r, feat_resolve(c->t, FEAT_MINOR), UFFDIO_REGISTER_MODE_MINOR);
	TRY(c, uffd);
	TRY(c, start_read(c, &a, &r, 0, 1));
	CHECK(c, actor_wait(&a, TIMEOUT_MS),
	      "reader of an absent page blocked: a fault was delivered");
	EXPECT(expect_quiet(c, uffd, 0));
	CHECK(c, page_zero(a.got[0]), "absent page read 0x%02x, not zero",
	      a.got[0][0]);
	CHECK(c, !r.alias[0] && !r.alias[r.page - 1],
	      "alias does not see the zero page");
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/*
 * Case 1b: MISSING|MINOR. An absent page raises a MISSING fault, resolved
 * the lazyshm way (write through the alias, then CONTINUE); a present page
 * raises a MINOR fault.
 */
int case_missing_minor(struct tctx *c)
{
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL;
	struct region r;
	int64_t mapped;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	fill_page(r.alias, r.page, 1, SEED);
	uffd = region_uffd(&r, feat_resolve(c->t, FEAT_MINOR | FEAT_MISSING), UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR);
	TRY(c, uffd);
	TRY(c, start_read(c, &a, &r, 0, 1));
	EXPECT(expect_pf(c, uffd, r.map, 0));
	CHECK(c, !actor_wait(&a, 50), "reader ran before the fault was resolved");
	fill_page(r.alias, r.page, 0, SEED);
	TRY(c, uffd_cont(uffd, r.map, r.page, 0, &mapped));
	CHECK(c, mapped == (int64_t)r.page, "mapped %lld", (long long)mapped);
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader not woken: timeout");
	CHECK(c, page_is(a.got[0], SEED, 0), "page 0 read 0x%02x after CONTINUE",
	      a.got[0][0]);

	TRY(c, start_read(c, &a, &r, 1, 1));
	EXPECT(expect_pf(c, uffd, r.map + r.page, MINOR));
	TRY(c, uffd_cont(uffd, r.map + r.page, r.page, 0, NULL));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader not woken: timeout");
	CHECK(c, page_is(a.got[0], SEED, 1), "page 1 read 0x%02x", a.got[0][0]);
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/* Case 2: CONTINUE of the whole range wakes the reader and maps it all. */
int case_continue_map(struct tctx *c)
{
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL, pg;
	struct region r;
	int64_t mapped;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	for (pg = 0; pg < r.npages; pg++)
		fill_page(r.alias, r.page, pg, SEED);
	uffd = region_uffd(&r, feat_resolve(c->t, FEAT_MINOR), UFFDIO_REGISTER_MODE_MINOR);
	TRY(c, uffd);
	TRY(c, start_read(c, &a, &r, 0, 1));
	EXPECT(expect_pf(c, uffd, r.map, MINOR));
	TRY(c, uffd_cont(uffd, r.map, r.len, 0, &mapped));
	CHECK(c, mapped == (int64_t)r.len, "mapped %lld of %zu",
	      (long long)mapped, r.len);
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader not woken: timeout");
	CHECK(c, page_is(a.got[0], SEED, 0), "page 0 read 0x%02x", a.got[0][0]);

	/* The rest was mapped by the same CONTINUE: no more faults. */
	TRY(c, start_read(c, &a, &r, 0, r.npages));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader of mapped pages blocked");
	EXPECT(expect_quiet(c, uffd, 0));
	for (pg = 0; pg < r.npages; pg++)
		CHECK(c, page_is(a.got[pg], SEED, pg), "page %d read 0x%02x", pg,
		      a.got[pg][0]);
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/*
 * Case 2b: CONTINUE over a range whose last page is absent maps the pages
 * before it, reports them in `mapped`, and fails with EAGAIN.
 */
int case_continue_partial(struct tctx *c)
{
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL, pg, last, err;
	struct region r;
	int64_t mapped;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	last = r.npages - 1;
	for (pg = 0; pg < last; pg++)
		fill_page(r.alias, r.page, pg, SEED);
	uffd = region_uffd(&r, feat_resolve(c->t, FEAT_MINOR), UFFDIO_REGISTER_MODE_MINOR);
	TRY(c, uffd);
	err = uffd_cont(uffd, r.map, r.len, 0, &mapped);
	CHECK(c, err == -EAGAIN, "CONTINUE with an absent last page: %s",
	      err ? strerror(-err) : "success");
	CHECK(c, mapped == (int64_t)(last * r.page), "mapped %lld, expected %zu",
	      (long long)mapped, last * r.page);
	TRY(c, start_read(c, &a, &r, 0, r.npages));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader blocked");
	EXPECT(expect_quiet(c, uffd, 0));
	for (pg = 0; pg < last; pg++)
		CHECK(c, page_is(a.got[pg], SEED, pg), "page %d read 0x%02x", pg,
		      a.got[pg][0]);
	CHECK(c, page_zero(a.got[last]), "absent last page not zero");
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/* Case 3: CONTINUE on an absent page: EFAULT; on a mapped one: EEXIST. */
int case_continue_errors(struct tctx *c)
{
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL, err;
	struct region r;
	int64_t mapped;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	fill_page(r.alias, r.page, 1, SEED);
	uffd = region_uffd(&r, feat_resolve(c->t, FEAT_MINOR), UFFDIO_REGISTER_MODE_MINOR);
	TRY(c, uffd);
	err = uffd_cont(uffd, r.map, r.page, 0, &mapped);
	CHECK(c, err == -EFAULT && mapped == -EFAULT,
	      "absent page: %s, mapped %lld (expected EFAULT)",
	      err ? strerror(-err) : "success", (long long)mapped);
	TRY(c, uffd_cont(uffd, r.map + r.page, r.page, 0, &mapped));
	CHECK(c, mapped == (int64_t)r.page, "mapped %lld", (long long)mapped);
	err = uffd_cont(uffd, r.map + r.page, r.page, 0, &mapped);
	CHECK(c, err == -EEXIST && mapped == -EEXIST,
	      "mapped page: %s, mapped %lld (expected EEXIST)",
	      err ? strerror(-err) : "success", (long long)mapped);
	TRY(c, start_read(c, &a, &r, 1, 1));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader of a mapped page blocked");
	CHECK(c, page_is(a.got[0], SEED, 1), "page 1 read 0x%02x", a.got[0][0]);
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/* Case 4: CONTINUE with DONTWAKE maps but leaves the reader asleep. */
int case_continue_dontwake(struct tctx *c)
{
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL;
	struct region r;
	int64_t mapped;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	fill_page(r.alias, r.page, 0, SEED);
	uffd = region_uffd(&r, feat_resolve(c->t, FEAT_MINOR), UFFDIO_REGISTER_MODE_MINOR);
	TRY(c, uffd);
	TRY(c, start_read(c, &a, &r, 0, 1));
	EXPECT(expect_pf(c, uffd, r.map, MINOR));
	TRY(c, uffd_cont(uffd, r.map, r.page, UFFDIO_CONTINUE_MODE_DONTWAKE,
			 &mapped));
	CHECK(c, mapped == (int64_t)r.page, "mapped %lld", (long long)mapped);
	CHECK(c, !actor_wait(&a, QUIET_MS), "DONTWAKE woke the reader");
	TRY(c, uffd_wake(uffd, r.map, r.page));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "UFFDIO_WAKE: reader still asleep");
	CHECK(c, page_is(a.got[0], SEED, 0), "page 0 read 0x%02x", a.got[0][0]);
	EXPECT(expect_quiet(c, uffd, 0));
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}
