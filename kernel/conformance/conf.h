/* SPDX-License-Identifier: GPL-2.0 */
/*
 * conf.h: shared declarations of the uffd conformance suite.
 *
 * Each case (a row of the table in main.c) runs once per memory target it
 * names, on a fresh region, and returns R_PASS, R_SKIP or R_FAIL with a
 * reason in c->why. Every wait is bounded (TIMEOUT_MS); a thread left
 * blocked in a fault is released by closing the uffd.
 */
#ifndef LAZYSHM_CONF_H
#define LAZYSHM_CONF_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "kprobe.h"

#define TIMEOUT_MS 3000 /* any wait for the kernel */
#define QUIET_MS   200	/* window in which no event may arrive */
#define MAX_PAGES  4
#define NR_SPOTS   3 /* bytes checked per page: first, middle, last */

enum target_id {
	T_MEMFD,	/* shmem memfd */
	T_ANON,		/* MAP_SHARED|MAP_ANONYMOUS */
	T_SYSV,		/* SysV shm, 4K */
	T_SYSV_HUGE,	/* SysV shm, SHM_HUGETLB 2M */
	T_HUGE_MEMFD,	/* memfd MFD_HUGETLB 2M */
	T_HUGE_FILE,	/* file on a private hugetlbfs mount, 2M */
	T_HUGE_1G,	/* memfd MFD_HUGETLB|MFD_HUGE_1GB */
	T_HUGE_PRIVATE, /* MAP_PRIVATE of a 2M hugetlb memfd */
	T_NR
};

#define TB(t)	 (1u << (t))
#define T_SHMEM	 (TB(T_MEMFD) | TB(T_ANON))
#define T_HUGE	 (TB(T_SYSV_HUGE) | TB(T_HUGE_MEMFD) | TB(T_HUGE_FILE) | TB(T_HUGE_1G))
#define T_SHARED (T_SHMEM | T_HUGE)

struct target {
	enum target_id id;
	const char *name;
	size_t page;
	int npages;
	bool hugetlb;
	bool has_fd; /* fallocate() possible on r->fd */
};

/* A fresh object mapped twice: map (registered) and alias (never). */
struct region {
	const struct target *t;
	size_t page, len;
	int npages;
	char *map;
	char *alias;
	int fd;
	bool sysv;
};

struct env {
	uint64_t features; /* UFFDIO_API answer for features=0 */
	char hugetlbfs_dir[64];
	char skip[T_NR][160]; /* non-empty: target unavailable, and why */
};

struct tctx {
	const struct target *t;
	const struct env *env;
	char why[320];
};

enum { R_PASS,
       R_FAIL,
       R_SKIP };

/* Pseudo feature bits a case may name: resolved per target. */
#define FEAT_MINOR   (1ULL << 62) /* MINOR_SHMEM or MINOR_HUGETLBFS */
#define FEAT_MISSING (1ULL << 61) /* MISSING_SHMEM or MISSING_HUGETLBFS */

struct tcase {
	const char *name;
	uint64_t features;
	unsigned int targets;
	int (*fn)(struct tctx *c);
};

/* Fail the case with a reason; the function must have an "out" label. */
#define CHECK(c, cond, ...)                                                \
	do {                                                               \
		if (!(cond)) {                                             \
			snprintf((c)->why, sizeof((c)->why), __VA_ARGS__); \
			goto out;                                          \
		}                                                          \
	} while (0)

/* Fail the case when @expr (returning 0 or -errno) fails. */
#define TRY(c, expr)                                                          \
	do {                                                                  \
		int __r = (expr);                                             \
		if (__r < 0) {                                                \
			snprintf((c)->why, sizeof((c)->why), "%s: %s", #expr, \
				 strerror(-__r));                             \
			goto out;                                             \
		}                                                             \
	} while (0)

/* Fail the case when @call (an expect_* helper) already set the reason. */
#define EXPECT(call)              \
	do {                      \
		if ((call) < 0)   \
			goto out; \
	} while (0)

#define SEED 0x5a

/* A thread (or, via fn, a forked child) that touches registered memory. */
struct actor {
	pthread_t th;
	bool started, joined;
	int (*fn)(struct actor *a);
	char *addr; /* first page */
	int pg;	    /* its index in the region (for patterns) */
	size_t page;
	int npages;	    /* pages to read or write */
	unsigned char val;  /* byte to write */
	int advice;	    /* for actor_madvise */
	int ret;	    /* fn's result */
	pid_t pid;	    /* for actor_fork */
	unsigned char seed; /* for the child's check */
	unsigned char got[MAX_PAGES][NR_SPOTS];
};

/* util.c */
uint64_t feat_resolve(const struct target *t, uint64_t f);
const char *feat_missing_name(uint64_t missing);
unsigned char pat(unsigned char seed, int page, int spot);
size_t spot_off(size_t page, int spot);
void fill_page(char *base, size_t page, int pg, unsigned char seed);
bool page_is(const unsigned char *got, unsigned char seed, int pg);
bool page_zero(const unsigned char *got);
int uffd_new(uint64_t features);
int uffd_reg(int fd, void *addr, size_t len, uint64_t mode);
int uffd_cont(int fd, void *addr, size_t len, uint64_t mode, int64_t *mapped);
int uffd_wake(int fd, void *addr, size_t len);
int uffd_wp(int fd, void *addr, size_t len, bool protect);
int wait_msg(int fd, int ms, struct uffd_msg *m);
int expect_pf(struct tctx *c, int fd, void *addr, uint64_t flags);
int expect_event(struct tctx *c, int fd, int event, void *start, size_t len);
int expect_quiet(struct tctx *c, int fd, int ms);
void close_fd(int *fd);
uint64_t pagemap_pfn(void *addr);

/* actor.c */
int actor_read(struct actor *a);
int actor_write(struct actor *a);
int actor_madvise(struct actor *a);
int actor_fork(struct actor *a);
int actor_start(struct actor *a, int (*fn)(struct actor *), char *addr,
		size_t page, int npages);
bool actor_wait(struct actor *a, int ms);
void actor_reap(struct actor *a);
int start_read(struct tctx *c, struct actor *a, struct region *r, int pg,
	       int npages);

/* region.c */
int region_create(struct tctx *c, struct region *r);
void region_destroy(struct region *r);
/* A uffd with @features, registered over the whole region with @mode: fd or -errno */
int region_uffd(struct region *r, uint64_t features, uint64_t mode);
/* The usual end of a case: close the uffd, reap the actor, drop the region */
void case_cleanup(int *uffd, struct actor *a, struct region *r);

/* env.c */
int env_setup(struct env *env);
bool hugepages_top_up(size_t page, long n);

/* cases_*.c */
int case_minor_absent(struct tctx *c);
int case_missing_minor(struct tctx *c);
int case_continue_map(struct tctx *c);
int case_continue_partial(struct tctx *c);
int case_continue_errors(struct tctx *c);
int case_continue_dontwake(struct tctx *c);
int case_private_cow(struct tctx *c);
int case_dontneed_remove(struct tctx *c);
int case_remove_event(struct tctx *c);
int case_fork(struct tctx *c);
int case_close_blocked(struct tctx *c);
int case_sysv_refused(struct tctx *c);
int case_wp_sync(struct tctx *c);
int case_wp_unpopulated(struct tctx *c);
int case_wp_async_scan(struct tctx *c);

#endif /* LAZYSHM_CONF_H */
