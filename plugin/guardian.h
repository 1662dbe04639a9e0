/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fail-stop for the lazy phase. If the lazy-pages daemon dies, the kernel
 * closes its userfaultfds and every pending or future touch of a page the
 * daemon has not populated maps it as it is: zeros. A guardian process
 * holds a duplicate of every userfaultfd, so faults keep blocking instead,
 * and kills the restored tree unless the daemon said it finished.
 */
#ifndef __LAZYSHM_GUARDIAN_H__
#define __LAZYSHM_GUARDIAN_H__

struct lz_guardian {
	int pid;
	int sk;
};

int lz_guardian_start(struct lz_guardian *g);
/* Watch a restored task: its pid and a duplicate of its userfaultfd */
int lz_guardian_watch(struct lz_guardian *g, int pid, int uffd);
/* The daemon is done with the task of @uffd: close the duplicate */
int lz_guardian_forget(struct lz_guardian *g, int uffd);
/* Everything is populated: let the guardian go without killing anyone */
int lz_guardian_release(struct lz_guardian *g);

#endif /* __LAZYSHM_GUARDIAN_H__ */
