// SPDX-License-Identifier: GPL-2.0
/*
 * lazyshm-kcheck: report what the running kernel offers lazyshm, and
 * whether lazy restore of shmem and of hugetlb memory is possible.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kprobe.h"

#define EXIT_NO_LAZY_SHMEM   1
#define EXIT_NO_LAZY_HUGETLB 2
#define EXIT_USAGE	     64

/* Features shown in the report: what lazyshm uses now or plans to. */
static const int shown_bits[] = { 4, 5, 9, 10, 1, 2, 3, 6, 7, 8, 11,
				  12, 13, 15, 14, 16, 0 };

struct verdict {
	bool shmem, hugetlb;
	char shmem_why[512], hugetlb_why[512];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lazyshm-kcheck [--json] [--no-mount] [--help]\n"
		"Report the userfaultfd features, access paths, hugepages and\n"
		"hugetlbfs of the running kernel, and whether lazyshm can\n"
		"restore shmem and hugetlb memory lazily.\n"
		"  --json      machine-readable output\n"
		"  --no-mount  do not test-mount hugetlbfs\n"
		"Exit status (bits, see docs/KERNEL.md):\n"
		"  0   lazy shmem and lazy hugetlb restore are both possible\n"
		"  1   bit 0: lazy shmem restore is impossible (reason on stderr)\n"
		"  2   bit 1: lazy hugetlb restore is impossible (reason on stderr)\n"
		"  3   both impossible\n"
		"  64  usage error\n");
}

static const char *yesno(bool b)
{
	return b ? "yes" : "no";
}

static const char *jbool(bool b)
{
	return b ? "true" : "false";
}

static const char *err_or_ok(bool ok, int err)
{
	return ok ? "ok" : strerror(err);
}

static void print_text_access(const struct lz_kfeatures *kf)
{
	printf("uffd access: %s\n", lz_kprobe_access_path(kf));
	printf("  userfaultfd(2)                    %s\n",
	       err_or_ok(kf->uffd_syscall, kf->uffd_syscall_errno));
	printf("  userfaultfd(UFFD_USER_MODE_ONLY)  %s\n",
	       err_or_ok(kf->uffd_user_mode_only, kf->uffd_user_mode_errno));
	printf("  /dev/userfaultfd                  %s\n",
	       err_or_ok(kf->uffd_dev, kf->uffd_dev_errno));
	printf("  vm.unprivileged_userfaultfd       %d\n",
	       kf->unprivileged_userfaultfd);
}

static void print_text_features(const struct lz_kfeatures *kf)
{
	uint64_t needs = lz_kprobe_shmem_needs() | lz_kprobe_hugetlb_needs();
	size_t i;
	int bit;

	if (!kf->api_ok) {
		printf("uffd features: UFFDIO_API failed: %s\n",
		       strerror(kf->api_errno));
		return;
	}
	printf("uffd features: 0x%llx (* = needed for lazy restore)\n",
	       (unsigned long long)kf->features);
	for (i = 0; i < sizeof(shown_bits) / sizeof(shown_bits[0]); i++) {
		bit = shown_bits[i];
		printf("  %c %-20s %-3s  (Linux %s)\n",
		       (needs & (1ULL << bit)) ? '*' : ' ',
		       lz_kfeature_name(bit),
		       yesno(kf->features & (1ULL << bit)),
		       lz_kfeature_since(bit));
	}
	printf("  event handshake (FORK|REMAP|REMOVE|UNMAP): %s\n",
	       err_or_ok(!kf->events_api_errno, kf->events_api_errno));
}

static void print_text(const struct lz_kfeatures *kf, const struct verdict *v)
{
	int i;

	printf("kernel: %s\n", kf->kernel_release);
	print_text_access(kf);
	print_text_features(kf);
	printf("hugepages:%s\n", kf->nr_hpage_sizes ? "" : " none");
	for (i = 0; i < kf->nr_hpage_sizes; i++)
		printf("  %8lu kB: %ld total, %ld free\n", kf->hpage[i].size_kb,
		       kf->hpage[i].nr, kf->hpage[i].free);
	printf("hugetlbfs: %s in /proc/filesystems, mount %s\n",
	       kf->hugetlbfs_listed ? "listed" : "not listed",
	       kf->hugetlbfs_mount < 0 ?
		       "not tried" :
		       err_or_ok(kf->hugetlbfs_mount, kf->hugetlbfs_mount_errno));
	printf("lazy shmem restore:   %s\n",
	       v->shmem ? "possible" : v->shmem_why);
	printf("lazy hugetlb restore: %s\n",
	       v->hugetlb ? "possible" : v->hugetlb_why);
}

/* Print @s as a JSON string. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_access(const struct lz_kfeatures *kf)
{
	printf("  \"uffd\": {\"path\": ");
	json_str(lz_kprobe_access_path(kf));
	printf(", \"syscall\": %s, \"syscall_errno\": %d, "
	       "\"user_mode_only\": %s, \"user_mode_only_errno\": %d, "
	       "\"dev\": %s, \"dev_errno\": %d, "
	       "\"unprivileged_userfaultfd\": %d},\n",
	       jbool(kf->uffd_syscall), kf->uffd_syscall_errno,
	       jbool(kf->uffd_user_mode_only), kf->uffd_user_mode_errno,
	       jbool(kf->uffd_dev),
	       kf->uffd_dev_errno, kf->unprivileged_userfaultfd);
}

static void json_features(const struct lz_kfeatures *kf)
{
	size_t i;
	int bit;

	printf("  \"api_ok\": %s, \"api_errno\": %d, \"events_api_errno\": %d,\n",
	       kf->api_ok ? "true" : "false", kf->api_errno,
	       kf->events_api_errno);
	printf("  \"features\": \"0x%llx\",\n  \"feature\": {",
	       (unsigned long long)kf->features);
	for (i = 0; i < sizeof(shown_bits) / sizeof(shown_bits[0]); i++) {
		bit = shown_bits[i];
		printf("%s\"%s\": %s", i ? ", " : "", lz_kfeature_name(bit),
		       (kf->features & (1ULL << bit)) ? "true" : "false");
	}
	printf("},\n");
}

static void json_verdict(const char *name, bool ok, const char *why, bool last)
{
	printf("    \"%s\": {\"possible\": %s, \"reason\": ", name,
	       ok ? "true" : "false");
	json_str(ok ? "" : why);
	printf("}%s\n", last ? "" : ",");
}

static void print_json(const struct lz_kfeatures *kf, const struct verdict *v)
{
	int i;

	printf("{\n  \"kernel\": ");
	json_str(kf->kernel_release);
	printf(",\n");
	json_access(kf);
	json_features(kf);
	printf("  \"hugepages\": [");
	for (i = 0; i < kf->nr_hpage_sizes; i++)
		printf("%s{\"size_kb\": %lu, \"total\": %ld, \"free\": %ld}",
		       i ? ", " : "", kf->hpage[i].size_kb, kf->hpage[i].nr,
		       kf->hpage[i].free);
	printf("],\n  \"hugetlbfs\": {\"listed\": %s, \"mount\": %s, "
	       "\"mount_errno\": %d},\n",
	       kf->hugetlbfs_listed ? "true" : "false",
	       kf->hugetlbfs_mount < 0 ? "null" :
	       kf->hugetlbfs_mount     ? "true" :
					 "false",
	       kf->hugetlbfs_mount_errno);
	printf("  \"lazy\": {\n");
	json_verdict("shmem", v->shmem, v->shmem_why, false);
	json_verdict("hugetlb", v->hugetlb, v->hugetlb_why, true);
	printf("  }\n}\n");
}

static int parse_args(int argc, char **argv, bool *json, bool *mount)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			*json = true;
		} else if (!strcmp(argv[i], "--no-mount")) {
			*mount = false;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "lazyshm-kcheck: unknown option %s\n",
				argv[i]);
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool json = false, mount = true;
	struct lz_kfeatures kf;
	struct verdict v;
	int ret = 0;

	if (parse_args(argc, argv, &json, &mount) < 0)
		return EXIT_USAGE;
	if (lz_kprobe(&kf) < 0) {
		fprintf(stderr, "lazyshm-kcheck: probe failed\n");
		return EXIT_NO_LAZY_SHMEM | EXIT_NO_LAZY_HUGETLB;
	}
	if (mount && kf.hugetlbfs_listed)
		(void)lz_kprobe_try_mount(&kf); /* result is stored in kf */
	v.shmem = lz_kprobe_lazy_shmem(&kf, v.shmem_why, sizeof(v.shmem_why));
	v.hugetlb = lz_kprobe_lazy_hugetlb(&kf, v.hugetlb_why,
					   sizeof(v.hugetlb_why));
	if (json)
		print_json(&kf, &v);
	else
		print_text(&kf, &v);
	if (!v.shmem) {
		fprintf(stderr, "lazy shmem impossible: %s\n", v.shmem_why);
		ret |= EXIT_NO_LAZY_SHMEM;
	}
	if (!v.hugetlb) {
		fprintf(stderr, "lazy hugetlb impossible: %s\n", v.hugetlb_why);
		ret |= EXIT_NO_LAZY_HUGETLB;
	}
	return ret;
}
