/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uffd-compat.h: userfaultfd and PAGEMAP_SCAN definitions that Debian
 * bookworm's kernel headers (Linux 6.1 UAPI) lack.
 *
 * Values are copied from the upstream UAPI headers
 * (include/uapi/linux/userfaultfd.h and include/uapi/linux/fs.h). Each one
 * is guarded with #ifndef so newer system headers win. Whether the running
 * kernel implements a feature is a separate question: ask UFFDIO_API (see
 * kprobe.h); a defined constant says nothing about the kernel.
 */
#ifndef LAZYSHM_UFFD_COMPAT_H
#define LAZYSHM_UFFD_COMPAT_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/fs.h>
#include <linux/userfaultfd.h>

/* Feature bits added after 6.1. */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13) /* Linux 6.4 */
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14) /* Linux 6.6 */
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15) /* Linux 6.7 */
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16) /* Linux 6.8 */
#endif

/* UFFDIO_CONTINUE_MODE_WP: install the PTE write-protected (Linux 6.3). */
#ifndef UFFDIO_CONTINUE_MODE_WP
#define UFFDIO_CONTINUE_MODE_WP ((__u64)1 << 1)
#endif

/* UFFDIO_POISON (Linux 6.6): mark a range so that touching it raises SIGBUS. */
#ifndef UFFDIO_POISON
#define _UFFDIO_POISON (0x08)
struct uffdio_poison {
	struct uffdio_range range;
#define UFFDIO_POISON_MODE_DONTWAKE ((__u64)1 << 0)
	__u64 mode;
	/* Written by the kernel: bytes poisoned, or a negative errno. */
	__s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif

/* UFFDIO_MOVE (Linux 6.8): move pages of private anonymous memory. */
#ifndef UFFDIO_MOVE
#define _UFFDIO_MOVE (0x05)
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
#define UFFDIO_MOVE_MODE_DONTWAKE	 ((__u64)1 << 0)
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ((__u64)1 << 1)
	__u64 mode;
	/* Written by the kernel: bytes moved, or a negative errno. */
	__s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif

/*
 * PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux 6.7, together with
 * UFFD_FEATURE_WP_ASYNC). Bookworm's <linux/fs.h> has none of it.
 */
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED  (1 << 0)
#define PAGE_IS_WRITTEN	   (1 << 1)
#define PAGE_IS_FILE	   (1 << 2)
#define PAGE_IS_PRESENT	   (1 << 3)
#define PAGE_IS_SWAPPED	   (1 << 4)
#define PAGE_IS_PFNZERO	   (1 << 5)
#define PAGE_IS_HUGE	   (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)

/* One output region: [start, end) whose pages share @categories. */
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

#define PM_SCAN_WP_MATCHING   (1 << 0) /* write-protect the matched pages */
#define PM_SCAN_CHECK_WPASYNC (1 << 1) /* abort on a page without async WP */

struct pm_scan_arg {
	__u64 size; /* sizeof(struct pm_scan_arg) */
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end; /* written by the kernel: where the walk stopped */
	__u64 vec;	/* struct page_region array */
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

#endif /* LAZYSHM_UFFD_COMPAT_H */
