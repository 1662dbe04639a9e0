/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kprobe.h: what the running kernel offers lazyshm.
 *
 * Plain C, no CRIU dependency, no global state: the CRIU plugin, the
 * lazyshm-kcheck CLI and the tests link the same object (kprobe.pic.o).
 *
 * Typical use (the plugin deciding between lazy and eager restore):
 *
 *	struct lz_kfeatures kf;
 *	char why[256];
 *
 *	if (lz_kprobe(&kf) < 0 || !lz_kprobe_lazy_shmem(&kf, why, sizeof(why)))
 *		pr_warn("shmem restored eagerly: %s\n", why);
 *
 * Every function is thread-safe and leaves no fd open behind it.
 */
#ifndef LAZYSHM_KPROBE_H
#define LAZYSHM_KPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uffd-compat.h"

#define LZ_MAX_HPAGE_SIZES 4

/* One directory of /sys/kernel/mm/hugepages. */
struct lz_hpage {
	unsigned long size_kb; /* 2048, 1048576, ... */
	long nr;	       /* nr_hugepages, -1 if unreadable */
	long free;	       /* free_hugepages, -1 if unreadable */
};

struct lz_kfeatures {
	char kernel_release[65]; /* uname -r */

	/* uffd access paths; the errno fields are 0 when the path works. */
	bool uffd_syscall; /* userfaultfd(2) handles kernel faults too */
	int uffd_syscall_errno;
	bool uffd_user_mode_only; /* userfaultfd(UFFD_USER_MODE_ONLY) works */
	int uffd_user_mode_errno;
	bool uffd_dev; /* /dev/userfaultfd + USERFAULTFD_IOC_NEW */
	int uffd_dev_errno;
	int unprivileged_userfaultfd; /* vm.unprivileged_userfaultfd, -1 unknown */

	/* UFFDIO_API handshake with features=0 on a full-mode uffd. */
	bool api_ok;
	int api_errno;
	uint64_t features; /* every UFFD_FEATURE_* the kernel offers */
	uint64_t ioctls;

	/*
	 * Handshake requesting the event features lazyshm enables (FORK,
	 * REMAP, REMOVE, UNMAP, as far as offered): EVENT_FORK needs
	 * CAP_SYS_PTRACE, so this can fail where the plain handshake works.
	 */
	int events_api_errno;

	int nr_hpage_sizes;
	struct lz_hpage hpage[LZ_MAX_HPAGE_SIZES];

	bool hugetlbfs_listed; /* "hugetlbfs" in /proc/filesystems */
	int hugetlbfs_mount;   /* 1 mounted, 0 failed, -1 not tried */
	int hugetlbfs_mount_errno;
};

/*
 * Fill @kf. Opens (and closes) a few uffds, reads /proc and /sys; does not
 * mount anything (see lz_kprobe_try_mount). Returns 0, or -EINVAL for a
 * NULL @kf: a missing capability is recorded in @kf, never an error.
 */
int lz_kprobe(struct lz_kfeatures *kf);

/*
 * Try to mount hugetlbfs on a fresh directory under /tmp and unmount it
 * again; needs CAP_SYS_ADMIN. Sets kf->hugetlbfs_mount and _errno and
 * returns kf->hugetlbfs_mount.
 */
int lz_kprobe_try_mount(struct lz_kfeatures *kf);

/*
 * Whether lazy restore is possible for shmem (memfd, MAP_SHARED anon,
 * SysV, tmpfs files) or for hugetlb (hugetlbfs files, MFD_HUGETLB,
 * MAP_HUGETLB shared). When not, a one-line reason goes to @why (may be
 * NULL). Hugepage availability is not checked here: it is a per-restore
 * question, and an eager restore needs the same pages.
 */
bool lz_kprobe_lazy_shmem(const struct lz_kfeatures *kf, char *why, size_t len);
bool lz_kprobe_lazy_hugetlb(const struct lz_kfeatures *kf, char *why,
			    size_t len);

/*
 * Open a userfaultfd: userfaultfd(2) first, then /dev/userfaultfd's
 * USERFAULTFD_IOC_NEW when the syscall is refused (EPERM) or absent.
 * @flags: O_CLOEXEC, O_NONBLOCK, UFFD_USER_MODE_ONLY. No UFFDIO_API is
 * done. Returns the fd or a negative errno (of the last path tried).
 */
int lz_kprobe_open_uffd(int flags);

/*
 * UFFDIO_API handshake on a fresh @fd requesting @features. On success
 * returns 0 and stores the kernel's answer in *@got_features and
 * *@got_ioctls (either may be NULL); otherwise a negative errno.
 */
int lz_kprobe_uffd_api(int fd, uint64_t features, uint64_t *got_features,
		       uint64_t *got_ioctls);

/* Features each memory kind needs for a lazy restore (for reporting). */
uint64_t lz_kprobe_shmem_needs(void);
uint64_t lz_kprobe_hugetlb_needs(void);

/*
 * Name ("MINOR_SHMEM") and first Linux release ("5.14") of feature bit
 * @bit (0..63); NULL for a bit this library does not know.
 */
const char *lz_kfeature_name(int bit);
const char *lz_kfeature_since(int bit);

/* "syscall", "/dev/userfaultfd", "user-mode-only" or "none". */
const char *lz_kprobe_access_path(const struct lz_kfeatures *kf);

#endif /* LAZYSHM_KPROBE_H */
