// SPDX-License-Identifier: GPL-2.0-or-later
/* Processes known by pidfd; see pidfd.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pidfd.h"

int lz_pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

pid_t lz_pidfd_pid(int pidfd)
{
	char path[64], line[128];
	int pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid > 0 ? pid : -1;
}

bool lz_pidfd_alive(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	/* a pidfd becomes readable when its process exits */
	return poll(&p, 1, 0) == 0;
}

int lz_pidfd_procdir(int pidfd)
{
	pid_t pid = lz_pidfd_pid(pidfd);
	char path[64];
	int dir;

	if (pid < 0) {
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d", pid);
	dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	/* still alive: the pid was not reused, so the directory is its own */
	if (lz_pidfd_alive(pidfd))
		return dir;
	close(dir);
	errno = ESRCH;
	return -1;
}

int lz_pidfd_kill(int pidfd)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0 || errno == ESRCH)
		return 0;
	return -1;
}

bool lz_uffd_mm_alive(int uffd)
{
	/* any range: with the mm gone, the kernel answers ESRCH first */
	struct uffdio_continue c = { .range = { .start = 0x10000, .len = 4096 } };

	return ioctl(uffd, UFFDIO_CONTINUE, &c) == 0 || errno != ESRCH;
}
