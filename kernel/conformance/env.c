// SPDX-License-Identifier: GPL-2.0
/*
 * env.c: what the suite borrows from the machine, and gives back.
 *
 * Hugepages: the suite raises nr_hugepages by what it needs and, at exit
 * (normal, failure or fatal signal), lowers it by what it added. Lowering
 * by the delta instead of writing the old value back keeps pages that a
 * concurrent test reserved meanwhile. hugetlbfs is mounted in a private
 * mount namespace, unmounted at exit. Cleanup uses only async-signal-safe
 * calls, and only in the suite's own process (not in forked children).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "conf.h"

#define HP_2M_NEED 16 /* 4-page regions, a private one doubles */
#define HP_1G_NEED 2

struct hp_pool {
	const char *path;
	long added;
};

static struct hp_pool pools[] = {
	{ "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", 0 },
	{ "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", 0 },
};
static char mount_dir[64];
static pid_t owner;

/* Async-signal-safe read of a decimal file; -1 on error. */
static long sig_read_long(const char *path)
{
	char buf[32];
	long v = 0;
	ssize_t n, i;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	if (close(fd) < 0 || n <= 0)
		return -1;
	for (i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (buf[i] - '0');
	return i ? v : -1;
}

/* Async-signal-safe write of a decimal value. */
static int sig_write_long(const char *path, long v)
{
	char buf[24];
	int fd, i = sizeof(buf);
	ssize_t n;

	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v && i > 0);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, buf + i, sizeof(buf) - i);
	if (close(fd) < 0 || n != (ssize_t)sizeof(buf) - i)
		return -1;
	return 0;
}

static void sig_puts(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0)
		return; /* nowhere left to report it */
}

/* Give back what the suite borrowed. Async-signal-safe, idempotent. */
static void env_cleanup(void)
{
	size_t i;
	long cur;

	if (getpid() != owner)
		return;
	for (i = 0; i < sizeof(pools) / sizeof(pools[0]); i++) {
		if (!pools[i].added)
			continue;
		cur = sig_read_long(pools[i].path);
		if (cur < 0 || sig_write_long(pools[i].path,
					      cur > pools[i].added ?
						      cur - pools[i].added :
						      0) < 0)
			sig_puts("uffd-conformance: cannot restore nr_hugepages\n");
		pools[i].added = 0;
	}
	if (mount_dir[0]) {
		if (umount2(mount_dir, MNT_DETACH) < 0 || rmdir(mount_dir) < 0)
			sig_puts("uffd-conformance: cannot remove hugetlbfs mount\n");
		mount_dir[0] = '\0';
	}
}

static void on_signal(int sig)
{
	if (sig == SIGALRM)
		sig_puts("fail: watchdog: suite exceeded its time limit\n");
	env_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int install_cleanup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				    SIGALRM, SIGSEGV, SIGBUS, SIGABRT };
	struct sigaction sa = { .sa_handler = on_signal };
	size_t i;

	owner = getpid();
	if (atexit(env_cleanup))
		return -ENOMEM;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

/* Raise pool @i by @need; returns (and records) how many were added. */
static long reserve(int i, long need)
{
	long before, after, delta;

	before = sig_read_long(pools[i].path);
	if (before < 0)
		return 0;
	if (sig_write_long(pools[i].path, before + need) < 0)
		return 0;
	after = sig_read_long(pools[i].path);
	delta = after > before ? after - before : 0;
	pools[i].added += delta;
	return delta;
}

/*
 * Hugepages are a machine-wide pool: a concurrent test may take the free
 * pages this suite reserved. Add @n more pages of @page bytes; whether any
 * were added.
 */
bool hugepages_top_up(size_t page, long n)
{
	return reserve(page > (2UL << 20), n) > 0;
}

/*
 * 1G pages need 1G of contiguous memory, which a full page cache breaks
 * up even when most memory is free: drop the clean page cache and compact.
 */
static int make_room(void)
{
	fprintf(stderr, "note: dropping the page cache and compacting memory for 1G hugepages\n");
	sync();
	if (sig_write_long("/proc/sys/vm/drop_caches", 1) < 0 ||
	    sig_write_long("/proc/sys/vm/compact_memory", 1) < 0)
		return -1;
	return 0;
}

static void reserve_hugepages(struct env *env)
{
	static const int huge2m[] = { T_SYSV_HUGE, T_HUGE_MEMFD, T_HUGE_FILE,
				      T_HUGE_PRIVATE };
	long got;
	size_t i;

	got = reserve(0, HP_2M_NEED);
	if (got < HP_2M_NEED)
		for (i = 0; i < sizeof(huge2m) / sizeof(huge2m[0]); i++)
			snprintf(env->skip[huge2m[i]], sizeof(env->skip[0]),
				 "could reserve only %ld of %d 2M hugepages",
				 got, HP_2M_NEED);
	got = reserve(1, HP_1G_NEED);
	if (got < HP_1G_NEED && make_room() == 0)
		got += reserve(1, HP_1G_NEED - got);
	if (got < HP_1G_NEED)
		snprintf(env->skip[T_HUGE_1G], sizeof(env->skip[0]),
			 "could reserve only %ld of %d 1G hugepages", got,
			 HP_1G_NEED);
}

static void mount_hugetlbfs(struct env *env)
{
	char *skip = env->skip[T_HUGE_FILE];
	char dir[] = "/tmp/lazyshm-conf-XXXXXX";

	if (skip[0])
		return;
	/* A private namespace: the mount dies with the suite, even on kill -9. */
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fprintf(stderr, "note: no private mount namespace: %s\n",
			strerror(errno));
	if (!mkdtemp(dir)) {
		snprintf(skip, sizeof(env->skip[0]), "mkdtemp: %s",
			 strerror(errno));
		return;
	}
	if (mount("none", dir, "hugetlbfs", MS_NOSUID | MS_NODEV,
		  "pagesize=2M") < 0) {
		snprintf(skip, sizeof(env->skip[0]), "mount hugetlbfs: %s",
			 strerror(errno));
		if (rmdir(dir) < 0)
			perror("rmdir");
		return;
	}
	snprintf(mount_dir, sizeof(mount_dir), "%s", dir);
	snprintf(env->hugetlbfs_dir, sizeof(env->hugetlbfs_dir), "%s", dir);
}

/* Called once, before any thread exists. */
int env_setup(struct env *env)
{
	int fd, ret;

	memset(env, 0, sizeof(*env));
	ret = install_cleanup();
	if (ret < 0)
		return ret;
	fd = lz_kprobe_open_uffd(O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fd;
	ret = lz_kprobe_uffd_api(fd, 0, &env->features, NULL);
	close_fd(&fd);
	if (ret < 0)
		return ret;
	reserve_hugepages(env);
	mount_hugetlbfs(env);
	return 0;
}
