// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-conformance: prove the userfaultfd semantics lazyshm relies on,
 * for every kind of shared memory it restores. Table-driven, like the
 * kernel's tools/testing/selftests/mm/uffd-unit-tests.c.
 *
 * Prints one line per (case, target): "pass: CASE/TARGET",
 * "skip: CASE/TARGET: reason" or "fail: CASE/TARGET: reason", then
 * "N passed, N failed, N skipped". Exit status 1 on any failure.
 * Needs root (hugepages, hugetlbfs mount, pagemap PFNs).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"

#define MB	   (1UL << 20)
#define WATCHDOG_S 120

static const struct target targets[T_NR] = {
	[T_MEMFD] = { T_MEMFD, "shmem-memfd", 4096, MAX_PAGES, false, true },
	[T_ANON] = { T_ANON, "anon-shared", 4096, MAX_PAGES, false, false },
	[T_SYSV] = { T_SYSV, "sysv", 4096, MAX_PAGES, false, false },
	[T_SYSV_HUGE] = { T_SYSV_HUGE, "sysv-hugetlb-2M", 2 * MB, MAX_PAGES,
			  true, false },
	[T_HUGE_MEMFD] = { T_HUGE_MEMFD, "hugetlb-memfd-2M", 2 * MB, MAX_PAGES,
			   true, true },
	[T_HUGE_FILE] = { T_HUGE_FILE, "hugetlbfs-file-2M", 2 * MB, MAX_PAGES,
			  true, true },
	[T_HUGE_1G] = { T_HUGE_1G, "hugetlb-1G", 1024 * MB, 2, true, true },
	[T_HUGE_PRIVATE] = { T_HUGE_PRIVATE, "hugetlb-private-2M", 2 * MB,
			     MAX_PAGES, true, true },
};

static const struct tcase cases[] = {
	{ "minor-absent-zero", FEAT_MINOR, T_SHARED, case_minor_absent },
	{ "missing-minor", FEAT_MINOR | FEAT_MISSING, T_SHARED,
	  case_missing_minor },
	{ "continue-map", FEAT_MINOR, T_SHARED, case_continue_map },
	{ "continue-partial", FEAT_MINOR, T_SHARED, case_continue_partial },
	{ "continue-errors", FEAT_MINOR, T_SHARED, case_continue_errors },
	{ "continue-dontwake", FEAT_MINOR, T_SHARED, case_continue_dontwake },
	{ "private-cow", FEAT_MINOR, TB(T_HUGE_PRIVATE), case_private_cow },
	{ "dontneed-remove", FEAT_MINOR, T_SHARED, case_dontneed_remove },
	{ "remove-event", FEAT_MINOR | UFFD_FEATURE_EVENT_REMOVE, T_SHARED,
	  case_remove_event },
	{ "fork", FEAT_MINOR | UFFD_FEATURE_EVENT_FORK, T_SHARED, case_fork },
	{ "wp-sync", UFFD_FEATURE_WP_HUGETLBFS_SHMEM, T_SHARED, case_wp_sync },
	{ "wp-unpopulated",
	  UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_WP_UNPOPULATED,
	  T_SHARED, case_wp_unpopulated },
	{ "wp-async-scan",
	  UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_WP_ASYNC, T_SHARED,
	  case_wp_async_scan },
	{ "close-while-blocked", FEAT_MINOR | FEAT_MISSING, T_SHARED,
	  case_close_blocked },
	{ "sysv-refused", FEAT_MINOR | FEAT_MISSING, TB(T_SYSV),
	  case_sysv_refused },
};

struct counts {
	int pass, fail, skip;
};

static void report(const char *status, const char *cname, const char *tname,
		   const char *why, int *counter)
{
	(*counter)++;
	if (why && why[0])
		printf("%s: %s/%s: %s\n", status, cname, tname, why);
	else
		printf("%s: %s/%s\n", status, cname, tname);
	if (fflush(stdout) == EOF)
		exit(3); /* nobody can read the result */
}

static void run_one(const struct tcase *tc, const struct target *t,
		    const struct env *env, struct counts *n)
{
	struct tctx c = { .t = t, .env = env };
	uint64_t missing;
	char why[96];

	if (env->skip[t->id][0]) {
		report("skip", tc->name, t->name, env->skip[t->id], &n->skip);
		return;
	}
	missing = feat_resolve(t, tc->features) & ~env->features;
	if (missing) {
		snprintf(why, sizeof(why), "kernel lacks UFFD_FEATURE_%s",
			 feat_missing_name(missing));
		report("skip", tc->name, t->name, why, &n->skip);
		return;
	}
	switch (tc->fn(&c)) {
	case R_PASS:
		report("pass", tc->name, t->name, NULL, &n->pass);
		break;
	case R_SKIP:
		report("skip", tc->name, t->name, c.why, &n->skip);
		break;
	default:
		report("fail", tc->name, t->name, c.why[0] ? c.why : "?",
		       &n->fail);
	}
}

int main(int argc, char **argv)
{
	struct counts n = { 0 };
	struct env env;
	size_t i;
	int t, ret;

	if (argc > 1) {
		fprintf(stderr, "usage: %s (no arguments; needs root)\n", argv[0]);
		return 2;
	}
	ret = env_setup(&env);
	if (ret < 0) {
		printf("fail: setup: %s\n0 passed, 1 failed, 0 skipped\n",
		       strerror(-ret));
		return 1;
	}
	alarm(WATCHDOG_S);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (t = 0; t < T_NR; t++)
			if (cases[i].targets & TB(t))
				run_one(&cases[i], &targets[t], &env, &n);
	printf("%d passed, %d failed, %d skipped\n", n.pass, n.fail, n.skip);
	return n.fail ? 1 : 0;
}
