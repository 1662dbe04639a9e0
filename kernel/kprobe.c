// SPDX-License-Identifier: GPL-2.0
/*
 * kprobe.c: probe the running kernel for what lazy shmem/hugetlb restore
 * needs. See kprobe.h for the API and docs/KERNEL.md for the versions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kprobe.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define EVENT_FEATURES                                        \
	(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | \
	 UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP)

static const struct {
	const char *name;
	const char *since;
} feature_table[] = {
	[0] = { "PAGEFAULT_FLAG_WP", "5.7" },
	[1] = { "EVENT_FORK", "4.11" },
	[2] = { "EVENT_REMAP", "4.11" },
	[3] = { "EVENT_REMOVE", "4.11" },
	[4] = { "MISSING_HUGETLBFS", "4.11" },
	[5] = { "MISSING_SHMEM", "4.11" },
	[6] = { "EVENT_UNMAP", "4.11" },
	[7] = { "SIGBUS", "4.14" },
	[8] = { "THREAD_ID", "4.14" },
	[9] = { "MINOR_HUGETLBFS", "5.13" },
	[10] = { "MINOR_SHMEM", "5.14" },
	[11] = { "EXACT_ADDRESS", "5.18" },
	[12] = { "WP_HUGETLBFS_SHMEM", "5.19" },
	[13] = { "WP_UNPOPULATED", "6.4" },
	[14] = { "POISON", "6.6" },
	[15] = { "WP_ASYNC", "6.7" },
	[16] = { "MOVE", "6.8" },
};

const char *lz_kfeature_name(int bit)
{
	if (bit < 0 || bit >= (int)ARRAY_SIZE(feature_table))
		return NULL;
	return feature_table[bit].name;
}

const char *lz_kfeature_since(int bit)
{
	if (bit < 0 || bit >= (int)ARRAY_SIZE(feature_table))
		return NULL;
	return feature_table[bit].since;
}

uint64_t lz_kprobe_shmem_needs(void)
{
	return UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MINOR_SHMEM |
	       EVENT_FEATURES;
}

uint64_t lz_kprobe_hugetlb_needs(void)
{
	return UFFD_FEATURE_MISSING_HUGETLBFS | UFFD_FEATURE_MINOR_HUGETLBFS |
	       EVENT_FEATURES;
}

static int open_uffd_dev(int flags)
{
	int dev, fd, err;

	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, flags);
	err = errno;
	if (close(dev) < 0 && fd >= 0) {
		err = errno;
		(void)close(fd);
		return -err;
	}
	return fd < 0 ? -err : fd;
}

static int sys_uffd(int flags)
{
	int fd = syscall(SYS_userfaultfd, flags);

	return fd < 0 ? -errno : fd;
}

int lz_kprobe_open_uffd(int flags)
{
	int fd;

	fd = sys_uffd(flags);
	if (fd >= 0 || (fd != -EPERM && fd != -ENOSYS))
		return fd;
	return open_uffd_dev(flags);
}

int lz_kprobe_uffd_api(int fd, uint64_t features, uint64_t *got_features,
		       uint64_t *got_ioctls)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };

	if (ioctl(fd, UFFDIO_API, &api) < 0)
		return -errno;
	if (got_features)
		*got_features = api.features;
	if (got_ioctls)
		*got_ioctls = api.ioctls;
	return 0;
}

/* Result of one way of opening a uffd (fd or -errno): 0 or the errno. */
static int try_open(int fd)
{
	if (fd < 0)
		return -fd;
	if (close(fd) < 0)
		return errno;
	return 0;
}

static void probe_access(struct lz_kfeatures *kf)
{
	int fl = O_CLOEXEC | O_NONBLOCK;

	kf->uffd_syscall_errno = try_open(sys_uffd(fl));
	kf->uffd_syscall = kf->uffd_syscall_errno == 0;
	kf->uffd_user_mode_errno =
		try_open(sys_uffd(fl | UFFD_USER_MODE_ONLY));
	kf->uffd_user_mode_only = kf->uffd_user_mode_errno == 0;
	kf->uffd_dev_errno = try_open(open_uffd_dev(fl));
	kf->uffd_dev = kf->uffd_dev_errno == 0;
}

/* Handshake on a fresh full-mode uffd; 0 or a positive errno. */
static int handshake(uint64_t want, uint64_t *features, uint64_t *ioctls)
{
	int fd, ret;

	fd = lz_kprobe_open_uffd(O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -fd;
	ret = lz_kprobe_uffd_api(fd, want, features, ioctls);
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	return -ret;
}

static void probe_api(struct lz_kfeatures *kf)
{
	kf->api_errno = handshake(0, &kf->features, &kf->ioctls);
	kf->api_ok = kf->api_errno == 0;
	if (!kf->api_ok) {
		kf->features = 0;
		kf->events_api_errno = kf->api_errno;
		return;
	}
	kf->events_api_errno =
		handshake(kf->features & EVENT_FEATURES, NULL, NULL);
}

static int read_long(const char *path, long *val)
{
	char buf[32];
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (err)
		return err;
	buf[n] = '\0';
	errno = 0;
	*val = strtol(buf, NULL, 10);
	return errno ? -errno : 0;
}

static void add_hpage(struct lz_kfeatures *kf, const char *dir,
		      unsigned long kb)
{
	struct lz_hpage *hp;
	char path[96];
	int i;

	if (kf->nr_hpage_sizes >= LZ_MAX_HPAGE_SIZES)
		return;
	/* Keep the array sorted by size. */
	for (i = kf->nr_hpage_sizes; i > 0 && kf->hpage[i - 1].size_kb > kb;
	     i--)
		kf->hpage[i] = kf->hpage[i - 1];
	hp = &kf->hpage[i];
	kf->nr_hpage_sizes++;
	hp->size_kb = kb;
	snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
	if (read_long(path, &hp->nr) < 0)
		hp->nr = -1;
	snprintf(path, sizeof(path), "%s/free_hugepages", dir);
	if (read_long(path, &hp->free) < 0)
		hp->free = -1;
}

static void probe_hugepages(struct lz_kfeatures *kf)
{
	const char *base = "/sys/kernel/mm/hugepages";
	struct dirent *de;
	unsigned long kb;
	char dir[80];
	DIR *d;

	d = opendir(base);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "hugepages-%lukB", &kb) != 1 ||
		    strlen(de->d_name) > 40)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", base, de->d_name);
		add_hpage(kf, dir, kb);
	}
	if (closedir(d) < 0)
		return; /* nothing useful to do; the sizes are read */
}

static void probe_filesystems(struct lz_kfeatures *kf)
{
	char line[128];
	FILE *f;

	f = fopen("/proc/filesystems", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "\thugetlbfs\n"))
			kf->hugetlbfs_listed = true;
	}
	if (fclose(f) == EOF)
		return; /* read-only stream: nothing is lost */
}

int lz_kprobe(struct lz_kfeatures *kf)
{
	struct utsname un;
	long val;

	if (!kf)
		return -EINVAL;
	memset(kf, 0, sizeof(*kf));
	kf->hugetlbfs_mount = -1;
	kf->unprivileged_userfaultfd = -1;
	if (uname(&un) == 0)
		snprintf(kf->kernel_release, sizeof(kf->kernel_release), "%s",
			 un.release);
	if (read_long("/proc/sys/vm/unprivileged_userfaultfd", &val) == 0)
		kf->unprivileged_userfaultfd = (int)val;
	probe_access(kf);
	probe_api(kf);
	probe_hugepages(kf);
	probe_filesystems(kf);
	return 0;
}

int lz_kprobe_try_mount(struct lz_kfeatures *kf)
{
	char dir[] = "/tmp/lazyshm-kprobe-XXXXXX";
	int err = 0;

	if (!mkdtemp(dir)) {
		err = errno;
		goto out;
	}
	if (mount("none", dir, "hugetlbfs", MS_NOSUID | MS_NODEV, NULL) < 0)
		err = errno;
	else if (umount2(dir, MNT_DETACH) < 0)
		err = errno;
	if (rmdir(dir) < 0 && !err)
		err = errno;
out:
	kf->hugetlbfs_mount_errno = err;
	kf->hugetlbfs_mount = err == 0;
	return kf->hugetlbfs_mount;
}

/* "kernel lacks UFFD_FEATURE_A (5.13+), UFFD_FEATURE_B (5.14+)" */
static void format_missing(char *buf, size_t len, uint64_t missing)
{
	const char *sep = "";
	size_t n;
	int bit;

	n = snprintf(buf, len, "kernel lacks");
	for (bit = 0; bit < 64 && n < len; bit++) {
		if (!(missing & (1ULL << bit)))
			continue;
		n += snprintf(buf + n, len - n, "%s UFFD_FEATURE_%s (%s+)", sep,
			      lz_kfeature_name(bit) ?: "?",
			      lz_kfeature_since(bit) ?: "?");
		sep = ",";
	}
}

/* Common checks for both memory kinds; false with a reason in @why. */
static bool lazy_possible(const struct lz_kfeatures *kf, uint64_t needs,
			  char *why, size_t len)
{
	char *buf = why, tmp[1];

	if (!why || !len) {
		buf = tmp;
		len = sizeof(tmp);
	}
	if (!kf->uffd_syscall && !kf->uffd_dev) {
		snprintf(buf, len,
			 "no full-mode userfaultfd: userfaultfd(2): %s, "
			 "/dev/userfaultfd: %s (needs root, CAP_SYS_PTRACE, "
			 "vm.unprivileged_userfaultfd=1 or access to "
			 "/dev/userfaultfd, Linux 6.1+)",
			 strerror(kf->uffd_syscall_errno),
			 strerror(kf->uffd_dev_errno));
		return false;
	}
	if (!kf->api_ok) {
		snprintf(buf, len, "UFFDIO_API failed: %s",
			 strerror(kf->api_errno));
		return false;
	}
	if ((kf->features & needs) != needs) {
		format_missing(buf, len, needs & ~kf->features);
		return false;
	}
	if (kf->events_api_errno) {
		snprintf(buf, len,
			 "UFFDIO_API with EVENT_FORK|REMAP|REMOVE|UNMAP "
			 "failed: %s (EVENT_FORK needs CAP_SYS_PTRACE)",
			 strerror(kf->events_api_errno));
		return false;
	}
	return true;
}

bool lz_kprobe_lazy_shmem(const struct lz_kfeatures *kf, char *why, size_t len)
{
	if (why && len)
		why[0] = '\0';
	return lazy_possible(kf, lz_kprobe_shmem_needs(), why, len);
}

bool lz_kprobe_lazy_hugetlb(const struct lz_kfeatures *kf, char *why,
			    size_t len)
{
	if (why && len)
		why[0] = '\0';
	if (!kf->hugetlbfs_listed && kf->nr_hpage_sizes == 0) {
		if (why && len)
			snprintf(why, len,
				 "kernel has no hugetlbfs (CONFIG_HUGETLBFS)");
		return false;
	}
	return lazy_possible(kf, lz_kprobe_hugetlb_needs(), why, len);
}

const char *lz_kprobe_access_path(const struct lz_kfeatures *kf)
{
	if (kf->uffd_syscall)
		return "syscall";
	if (kf->uffd_dev)
		return "/dev/userfaultfd";
	if (kf->uffd_user_mode_only)
		return "user-mode-only";
	return "none";
}
