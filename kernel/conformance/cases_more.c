// SPDX-License-Identifier: GPL-2.0
/*
 * cases_more.c: private hugetlb COW, page drops and REMOVE events, fork,
 * closing the uffd under a blocked fault, SysV (cases 5-7, 9).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"

#define MINOR UFFD_PAGEFAULT_FLAG_MINOR

/* Case 5: private hugetlb: CONTINUE maps the page-cache page read-only. */
int case_private_cow(struct tctx *c)
{
	uint64_t pfn_map, pfn_cache, pfn_cow;
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL;
	struct region r;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	fill_page(r.alias, r.page, 0, SEED);
	uffd = region_uffd(&r, feat_resolve(c->t, FEAT_MINOR), UFFDIO_REGISTER_MODE_MINOR);
	TRY(c, uffd);
	TRY(c, start_read(c, &a, &r, 0, 1));
	EXPECT(expect_pf(c, uffd, r.map, MINOR));
	TRY(c, uffd_cont(uffd, r.map, r.page, 0, NULL));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader not woken: timeout");
	CHECK(c, page_is(a.got[0], SEED, 0), "page 0 read 0x%02x", a.got[0][0]);
	pfn_map = pagemap_pfn(r.map);
	pfn_cache = pagemap_pfn(r.alias);
	CHECK(c, pfn_map && pfn_map == pfn_cache,
	      "CONTINUE mapped pfn 0x%llx, page cache has 0x%llx",
	      (unsigned long long)pfn_map, (unsigned long long)pfn_cache);

	a.val = 0x11;
	TRY(c, actor_start(&a, actor_write, r.map, r.page, 1));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "writer blocked");
	EXPECT(expect_quiet(c, uffd, 0));
	pfn_cow = pagemap_pfn(r.map);
	CHECK(c, pfn_cow && pfn_cow != pfn_map,
	      "write did not COW (pfn 0x%llx before, 0x%llx after)",
	      (unsigned long long)pfn_map, (unsigned long long)pfn_cow);
	CHECK(c, r.map[0] == 0x11 && (unsigned char)r.map[r.page - 1] == pat(SEED, 0, 2),
	      "private copy holds 0x%02x/0x%02x", (unsigned char)r.map[0],
	      (unsigned char)r.map[r.page - 1]);
	CHECK(c, (unsigned char)r.alias[0] == pat(SEED, 0, 0),
	      "page cache copy changed to 0x%02x", (unsigned char)r.alias[0]);
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/* Resolve a MINOR fault on page 0 and check what the reader saw. */
static int minor_round(struct tctx *c, struct actor *a, struct region *r,
		       int uffd)
{
	int ret = -1;

	TRY(c, start_read(c, a, r, 0, 1));
	EXPECT(expect_pf(c, uffd, r->map, MINOR));
	TRY(c, uffd_cont(uffd, r->map, r->page, 0, NULL));
	CHECK(c, actor_wait(a, TIMEOUT_MS), "reader not woken: timeout");
	CHECK(c, page_is(a->got[0], SEED, 0), "page 0 read 0x%02x",
	      a->got[0][0]);
	ret = 0;
out:
	return ret;
}

/*
 * Case 6a: MADV_DONTNEED only zaps the PTE (MINOR fault again, content
 * kept); MADV_REMOVE drops the page (zero, no fault, under MINOR-only).
 */
int case_dontneed_remove(struct tctx *c)
{
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL;
	struct region r;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	fill_page(r.alias, r.page, 0, SEED);
	uffd = region_uffd(&r, feat_resolve(c->t, FEAT_MINOR), UFFDIO_REGISTER_MODE_MINOR);
	TRY(c, uffd);
	EXPECT(minor_round(c, &a, &r, uffd));
	CHECK(c, madvise(r.map, r.page, MADV_DONTNEED) == 0,
	      "MADV_DONTNEED: %s", strerror(errno));
	EXPECT(minor_round(c, &a, &r, uffd));
	CHECK(c, madvise(r.map, r.page, MADV_REMOVE) == 0, "MADV_REMOVE: %s",
	      strerror(errno));
	TRY(c, start_read(c, &a, &r, 0, 1));
	CHECK(c, actor_wait(&a, TIMEOUT_MS),
	      "reader after MADV_REMOVE blocked: a fault was delivered");
	EXPECT(expect_quiet(c, uffd, 0));
	CHECK(c, page_zero(a.got[0]), "removed page read 0x%02x", a.got[0][0]);
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/* madvise(@advice) page 0 in an actor; expect UFFD_EVENT_REMOVE for it. */
static int remove_round(struct tctx *c, struct actor *a, struct region *r,
			int uffd, int advice)
{
	int ret = -1;

	a->advice = advice;
	TRY(c, actor_start(a, actor_madvise, r->map, r->page, 1));
	EXPECT(expect_event(c, uffd, UFFD_EVENT_REMOVE, r->map, r->page));
	CHECK(c, actor_wait(a, TIMEOUT_MS), "madvise not released: timeout");
	CHECK(c, a->ret == 0, "madvise(%d): %s", advice, strerror(-a->ret));
	ret = 0;
out:
	return ret;
}

/*
 * Case 6b: with EVENT_REMOVE, MADV_DONTNEED and MADV_REMOVE raise
 * UFFD_EVENT_REMOVE; an fd-level hole punch raises nothing, yet drops
 * the page.
 */
int case_remove_event(struct tctx *c)
{
	int uffd = -1, ret = R_FAIL, last;
	struct actor a = { 0 };
	struct region r;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	last = r.npages - 1;
	fill_page(r.alias, r.page, 0, SEED);
	fill_page(r.alias, r.page, last, SEED);
	uffd = region_uffd(&r, feat_resolve(c->t, FEAT_MINOR) | UFFD_FEATURE_EVENT_REMOVE, UFFDIO_REGISTER_MODE_MINOR);
	TRY(c, uffd);
	EXPECT(remove_round(c, &a, &r, uffd, MADV_DONTNEED));
	EXPECT(remove_round(c, &a, &r, uffd, MADV_REMOVE));
	TRY(c, start_read(c, &a, &r, 0, 1));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader after MADV_REMOVE blocked");
	CHECK(c, page_zero(a.got[0]), "removed page read 0x%02x", a.got[0][0]);
	if (r.t->has_fd) {
		CHECK(c, fallocate(r.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, last * r.page, r.page) == 0,
		      "PUNCH_HOLE: %s", strerror(errno));
		EXPECT(expect_quiet(c, uffd, QUIET_MS));
		TRY(c, start_read(c, &a, &r, last, 1));
		CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader after punch blocked");
		CHECK(c, page_zero(a.got[0]), "punched page read 0x%02x",
		      a.got[0][0]);
	}
	EXPECT(expect_quiet(c, uffd, 0));
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/* Wait for child *@pid within @ms; 0 (and *@pid = 0) or -errno. */
static int wait_child(pid_t *pid, int ms, int *status)
{
	struct pollfd p = { .events = POLLIN };
	int ret;

	p.fd = syscall(SYS_pidfd_open, *pid, 0);
	if (p.fd < 0)
		return -errno;
	ret = poll(&p, 1, ms);
	if (ret < 0)
		ret = -errno;
	close_fd(&p.fd);
	if (ret <= 0)
		return ret ? ret : -ETIMEDOUT;
	if (waitpid(*pid, status, 0) < 0)
		return -errno;
	*pid = 0;
	return 0;
}

static void kill_child(pid_t *pid)
{
	if (*pid <= 0)
		return;
	if (kill(*pid, SIGKILL) < 0 || waitpid(*pid, NULL, 0) < 0)
		perror("reaping child");
	*pid = 0;
}

/* Case 7: the forked child inherits MINOR; its faults go to the new uffd. */
int case_fork(struct tctx *c)
{
	int uffd = -1, child_uffd = -1, ret = R_FAIL, status = 0;
	struct actor a = { 0 };
	struct uffd_msg m;
	struct region r;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	fill_page(r.alias, r.page, 0, SEED);
	uffd = region_uffd(&r, feat_resolve(c->t, FEAT_MINOR) | UFFD_FEATURE_EVENT_FORK, UFFDIO_REGISTER_MODE_MINOR);
	TRY(c, uffd);
	a.seed = SEED;
	a.pg = 0;
	TRY(c, actor_start(&a, actor_fork, r.map, r.page, 1));
	TRY(c, wait_msg(uffd, TIMEOUT_MS, &m));
	CHECK(c, m.event == UFFD_EVENT_FORK, "expected FORK, got event 0x%x",
	      m.event);
	child_uffd = m.arg.fork.ufd;
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "fork not released: timeout");
	CHECK(c, a.ret == 0 && a.pid > 0, "fork: %s", strerror(-a.ret));
	EXPECT(expect_pf(c, child_uffd, r.map, MINOR));
	TRY(c, uffd_cont(child_uffd, r.map, r.page, 0, NULL));
	TRY(c, wait_child(&a.pid, TIMEOUT_MS, &status));
	CHECK(c, WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child saw wrong data (status 0x%x)", status);
	EXPECT(expect_quiet(c, uffd, 0));
	ret = R_PASS;
out:
	close_fd(&child_uffd);
	close_fd(&uffd);
	kill_child(&a.pid);
	actor_reap(&a);
	region_destroy(&r);
	return ret;
}

/*
 * Case 9: close the uffd while a thread is blocked in a fault (the
 * handler-death hazard). Observed: the thread is woken, the fault retried
 * without uffd: a MINOR fault maps the page-cache page, a MISSING fault
 * allocates a zero page that stays in the page cache.
 */
int case_close_blocked(struct tctx *c)
{
	const uint64_t mode = UFFDIO_REGISTER_MODE_MISSING |
			      UFFDIO_REGISTER_MODE_MINOR;
	uint64_t feat = feat_resolve(c->t, FEAT_MINOR | FEAT_MISSING);
	struct actor a = { 0 };
	int uffd = -1, ret = R_FAIL;
	struct region r;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	fill_page(r.alias, r.page, 0, SEED);
	uffd = region_uffd(&r, feat, mode);
	TRY(c, uffd);
	TRY(c, start_read(c, &a, &r, 0, 1));
	EXPECT(expect_pf(c, uffd, r.map, MINOR));
	close_fd(&uffd);
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "close left the MINOR faulter blocked");
	CHECK(c, page_is(a.got[0], SEED, 0),
	      "after close the MINOR faulter read 0x%02x", a.got[0][0]);

	uffd = region_uffd(&r, feat, mode);
	TRY(c, uffd);
	TRY(c, start_read(c, &a, &r, 1, 1));
	EXPECT(expect_pf(c, uffd, r.map + r.page, 0));
	close_fd(&uffd);
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "close left the MISSING faulter blocked");
	CHECK(c, page_zero(a.got[0]), "after close the MISSING faulter read 0x%02x",
	      a.got[0][0]);

	/* The zero page is now in the page cache: a new uffd sees MINOR. */
	CHECK(c, madvise(r.map + r.page, r.page, MADV_DONTNEED) == 0,
	      "MADV_DONTNEED: %s", strerror(errno));
	uffd = region_uffd(&r, feat, mode);
	TRY(c, uffd);
	TRY(c, start_read(c, &a, &r, 1, 1));
	EXPECT(expect_pf(c, uffd, r.map + r.page, MINOR));
	TRY(c, uffd_cont(uffd, r.map + r.page, r.page, 0, NULL));
	CHECK(c, actor_wait(&a, TIMEOUT_MS), "reader not woken: timeout");
	CHECK(c, page_zero(a.got[0]), "page 1 read 0x%02x", a.got[0][0]);
	ret = R_PASS;
out:
	case_cleanup(&uffd, &a, &r);
	return ret;
}

/* SysV shm (4K): the kernel refuses every registration mode. */
int case_sysv_refused(struct tctx *c)
{
	static const uint64_t modes[] = { UFFDIO_REGISTER_MODE_MISSING,
					  UFFDIO_REGISTER_MODE_MINOR,
					  UFFDIO_REGISTER_MODE_WP };
	uint64_t feat = feat_resolve(c->t, FEAT_MINOR | FEAT_MISSING);
	int uffd = -1, ret = R_FAIL, err;
	struct region r;
	size_t i;

	if (region_create(c, &r) < 0)
		return R_FAIL;
	feat |= c->env->features & UFFD_FEATURE_WP_HUGETLBFS_SHMEM;
	uffd = uffd_new(feat);
	TRY(c, uffd);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (modes[i] == UFFDIO_REGISTER_MODE_WP &&
		    !(feat & UFFD_FEATURE_WP_HUGETLBFS_SHMEM))
			continue;
		err = uffd_reg(uffd, r.map, r.len, modes[i]);
		CHECK(c, err == -EINVAL,
		      "UFFDIO_REGISTER mode %llu on SysV shm: %s, expected "
		      "EINVAL: the kernel now allows it, update docs/KERNEL.md",
		      (unsigned long long)modes[i],
		      err ? strerror(-err) : "success");
	}
	ret = R_PASS;
out:
	close_fd(&uffd);
	region_destroy(&r);
	return ret;
}
