/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fail-stop for the lazy phase. If the lazy-pages daemon dies, the kernel
 * closes its userfaultfds and every pending or future touch of a page the
 * daemon has not populated maps it as it is: zeros. A guardian process
 * holds a duplicate of every userfaultfd, so faults keep blocking instead,
 * and a pidfd of every restored process. Unless the daemon said it
 * finished, it kills them all when the daemon goes, and lets the
 * userfaultfds go only once every process using them is dead. The daemon
 * watches the guardian in turn (lz_guardian_exited) and stops the tree
 * itself if the guardian dies first.
 */
#ifndef __LAZYSHM_GUARDIAN_H__
#define __LAZYSHM_GUARDIAN_H__

#include <stdbool.h>
#include <stdint.h>

struct lz_guardian {
	int pid;
	int pidfd; /* of the guardian, for the daemon to watch */
	int sk;
};

int lz_guardian_start(struct lz_guardian *g);
/*
 * Watch a restored process: a pidfd of it (-1 for a task forked after the
 * restore, whose pid is not known) and a duplicate of its userfaultfd (-1
 * for a process found descending from the tree, whose userfaultfd is its
 * parent's or unknown). @key names it for lz_guardian_forget().
 */
int lz_guardian_watch(struct lz_guardian *g, int pidfd, int uffd, int key);
/* A lazily restored object (its dev and inode), for the guardian to
 * recognize processes that map it when stopping the tree */
int lz_guardian_object(struct lz_guardian *g, uint64_t dev, uint64_t ino);
/* The daemon is done with the task of @key: close the duplicate */
int lz_guardian_forget(struct lz_guardian *g, int key);
/* Everything is populated: let the guardian go without killing anyone */
int lz_guardian_release(struct lz_guardian *g);
/* Has the guardian died (it never exits before lz_guardian_release)? */
bool lz_guardian_exited(struct lz_guardian *g);

#endif /* __LAZYSHM_GUARDIAN_H__ */
