// SPDX-License-Identifier: GPL-2.0-or-later
/* The restored tree as a set of pidfds; see tree.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pidfd.h"
#include "tree.h"

int lz_tree_init(struct lz_tree *t)
{
	memset(t, 0, sizeof(*t));
	return pthread_mutex_init(&t->lock, NULL) ? -1 : 0;
}

void lz_tree_fini(struct lz_tree *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		close(t->pidfds[i]);
	free(t->pidfds);
	free(t->pids);
	pthread_mutex_destroy(&t->lock);
	memset(t, 0, sizeof(*t));
}

/* Is the live process @pid a member? (under the lock) */
static bool known(struct lz_tree *t, pid_t pid)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (t->pids[i] == pid && lz_pidfd_alive(t->pidfds[i]))
			return true;
	return false;
}

/* Under the lock; takes @fd */
static int append(struct lz_tree *t, int fd, pid_t pid)
{
	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		int *n = realloc(t->pidfds, cap * sizeof(*n));
		pid_t *p = n ? realloc(t->pids, cap * sizeof(*p)) : NULL;

		if (n)
			t->pidfds = n;
		if (!p) {
			close(fd);
			return -1;
		}
		t->pids = p;
		t->cap = cap;
	}
	t->pidfds[t->nr] = fd;
	t->pids[t->nr++] = pid;
	return 1;
}

/* Under the lock; takes @fd: 1 added, 0 known or gone, -1 */
static int add_locked(struct lz_tree *t, int fd)
{
	pid_t pid = lz_pidfd_pid(fd);

	if (pid < 0 || known(t, pid)) {
		close(fd);
		return 0;
	}
	return append(t, fd, pid);
}

int lz_tree_add(struct lz_tree *t, int pidfd)
{
	int fd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3), ret;

	if (fd < 0)
		return -1;
	pthread_mutex_lock(&t->lock);
	ret = add_locked(t, fd);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* The parent of the process whose /proc directory is @dir, or -1 */
static pid_t parent_of(int dir)
{
	char buf[512], *p;
	int fd = openat(dir, "stat", O_RDONLY | O_CLOEXEC), ppid = -1;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* the command name may hold anything: the state follows its last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/*
 * Under the lock: if @pid's parent is member @i, add it. Opened by pid, it
 * is checked through its own pidfd to be the child of a member still alive,
 * so a reused pid is never taken for one.
 */
static int adopt(struct lz_tree *t, pid_t pid, size_t i)
{
	int fd = lz_pidfd_open(pid), dir;
	pid_t ppid;

	if (fd < 0)
		return 0;
	dir = lz_pidfd_procdir(fd);
	ppid = dir < 0 ? -1 : parent_of(dir);
	if (dir >= 0)
		close(dir);
	if (ppid != t->pids[i] || !lz_pidfd_alive(t->pidfds[i])) {
		close(fd);
		return 0;
	}
	return add_locked(t, fd);
}

/* Under the lock: the member that is @ppid, or -1 */
static ssize_t member_of(struct lz_tree *t, pid_t ppid)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (t->pids[i] == ppid)
			return i;
	return -1;
}

/* Under the lock: one pass over /proc */
static int discover_locked(struct lz_tree *t)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int added = 0, ret, dir;
	ssize_t i;
	pid_t pid;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		pid = atoi(de->d_name);
		if (pid <= 0 || known(t, pid))
			continue;
		dir = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		i = dir < 0 ? -1 : member_of(t, parent_of(dir));
		if (dir >= 0)
			close(dir);
		if (i < 0)
			continue;
		ret = adopt(t, pid, i);
		if (ret < 0) {
			added = -1;
			break;
		}
		added += ret;
	}
	closedir(d);
	return added;
}

int lz_tree_discover(struct lz_tree *t)
{
	int ret;

	pthread_mutex_lock(&t->lock);
	ret = discover_locked(t);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static void signal_all(struct lz_tree *t, int sig)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (syscall(SYS_pidfd_send_signal, t->pidfds[i], sig, NULL, 0) && errno != ESRCH)
			pr_perror("cannot send signal %d to restored process %d", sig, t->pids[i]);
}

size_t lz_tree_kill(struct lz_tree *t)
{
	int rounds, n;
	size_t nr;

	pthread_mutex_lock(&t->lock);
	/* stopped, nobody forks away while the descendants are looked for */
	for (rounds = 0; rounds < 64; rounds++) {
		signal_all(t, SIGSTOP);
		n = discover_locked(t);
		if (n <= 0)
			break;
	}
	signal_all(t, SIGKILL);
	nr = t->nr;
	pthread_mutex_unlock(&t->lock);
	return nr;
}

size_t lz_tree_alive(struct lz_tree *t)
{
	size_t i, n = 0;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nr; i++)
		n += lz_pidfd_alive(t->pidfds[i]);
	pthread_mutex_unlock(&t->lock);
	return n;
}

bool lz_tree_wait_dead(struct lz_tree *t, int ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int waited;

	for (waited = 0; lz_tree_alive(t); waited += 10) {
		if (waited >= ms)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

static bool is_obj(const struct lz_obj_id *objs, size_t n, unsigned maj, unsigned min, uint64_t ino)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (objs[i].ino == ino && major(objs[i].dev) == maj && minor(objs[i].dev) == min)
			return true;
	return false;
}

/* Does the process of /proc directory @dir map one of @objs with uffd registration? */
static bool maps_registered(int dir, const struct lz_obj_id *objs, size_t n)
{
	int fd = openat(dir, "smaps", O_RDONLY | O_CLOEXEC);
	unsigned long long ino;
	unsigned maj, min;
	char line[512];
	bool cur = false, found = false;
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*x-%*x %*s %*x %x:%x %llu", &maj, &min, &ino) == 3)
			cur = is_obj(objs, n, maj, min, ino);
		else if (cur && !strncmp(line, "VmFlags:", 8))
			found = strstr(line, " ui") || strstr(line, " um");
	}
	fclose(f);
	return found;
}

int lz_tree_adopt_mappers(struct lz_tree *t, const struct lz_obj_id *objs, size_t n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int added = 0, dir, fd;
	pid_t pid;

	if (!d)
		return -1;
	pthread_mutex_lock(&t->lock);
	while ((de = readdir(d))) {
		pid = atoi(de->d_name);
		if (pid <= 0 || pid == getpid() || known(t, pid))
			continue;
		fd = lz_pidfd_open(pid);
		dir = fd < 0 ? -1 : lz_pidfd_procdir(fd);
		if (dir >= 0 && maps_registered(dir, objs, n)) {
			/* add_locked() takes the pidfd */
			if (add_locked(t, fd) > 0) {
				pr_warn("process %d maps a lazily restored object: stopped with the tree\n", pid);
				added++;
			}
			fd = -1;
		}
		if (fd >= 0)
			close(fd);
		if (dir >= 0)
			close(dir);
	}
	pthread_mutex_unlock(&t->lock);
	closedir(d);
	return added;
}

size_t lz_tree_nr(struct lz_tree *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->nr;
	pthread_mutex_unlock(&t->lock);
	return n;
}

int lz_tree_pidfd(struct lz_tree *t, size_t i)
{
	int fd = -1;

	pthread_mutex_lock(&t->lock);
	if (i < t->nr)
		fd = t->pidfds[i];
	pthread_mutex_unlock(&t->lock);
	return fd;
}
