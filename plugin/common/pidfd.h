/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Processes are known by pidfd only (or, for a task forked after the
 * restore, by its userfaultfd). A pid number that CRIU gives the
 * daemon is the task's pid in the restored pid namespace: in a container
 * it names another process, or none, here. Everything that reads /proc or
 * signals goes through a pidfd.
 */
#ifndef __LAZYSHM_PIDFD_H__
#define __LAZYSHM_PIDFD_H__

#include <stdbool.h>
#include <sys/types.h>

/* pidfd_open(pid, 0); -1 with errno on failure */
int lz_pidfd_open(pid_t pid);
/* The process's pid in our pid namespace, or -1 if it has exited */
pid_t lz_pidfd_pid(int pidfd);
/* Has the process not exited yet? */
bool lz_pidfd_alive(int pidfd);
/*
 * An O_PATH descriptor of /proc/<pid> of the process, opened so that it
 * cannot name another one (the pidfd is checked alive after the open);
 * -1 if the process has exited (errno ESRCH) or on error.
 */
int lz_pidfd_procdir(int pidfd);
/* SIGKILL through the pidfd: 0, also if it has exited already, or -1 */
int lz_pidfd_kill(int pidfd);
/* Does the memory of userfaultfd @uffd still belong to a live process? */
bool lz_uffd_mm_alive(int uffd);

#endif /* __LAZYSHM_PIDFD_H__ */
