// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The plugin's side of lazyshm-trackd (trackd-proto.h): find the holder
 * of a tree by its root task, start one, and talk to it. The socket is a
 * file of mode 0600 in a directory of mode 0700 of ours; both ends check
 * SO_PEERCRED and time out.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "scm.h"
#include "track.h"

#ifndef LZ_TRACKD_DEFAULT
#define LZ_TRACKD_DEFAULT "/opt/lazyshm/bin/lazyshm-trackd"
#endif

uint64_t lz_pidfd_ino(int pidfd)
{
	struct stat st;

	return fstat(pidfd, &st) ? 0 : (uint64_t)st.st_ino;
}

/* Our directory for sockets: created 0700, refused if anyone else may write it */
static int sock_dir(char *dir, size_t len)
{
	const char *d = getenv("LAZYSHM_TRACK_DIR");
	struct stat st;

	snprintf(dir, len, "%s", d && *d ? d : LZ_TRK_DIR);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		pr_err("track: %s must be a directory of uid %u with mode 0700\n", dir, geteuid());
		return -EPERM;
	}
	return 0;
}

static int timeouts(int sk)
{
	struct timeval tv = { .tv_sec = LZ_TRK_TIMEOUT_S };

	if (setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(sk, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

static int sock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(struct ucred);
	struct ucred cr;
	int sk, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	ret = timeouts(sk);
	if (!ret && connect(sk, (struct sockaddr *)&sa, sizeof(sa)))
		ret = -errno;
	if (!ret && getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		ret = -errno;
	if (!ret && cr.uid != getuid()) {
		pr_err("track: the holder at %s runs as uid %u, not ours: refused\n", path, cr.uid);
		ret = -EPERM;
	}
	if (ret)
		close(sk);
	return ret ? ret : sk;
}

static void trackd_path(char *buf, size_t len)
{
	const char *env = getenv("LAZYSHM_TRACKD");
	char so[PATH_MAX];
	Dl_info di;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	/* the build tree (build/lib/ and build/bin/) or an install */
	if (dladdr((void *)trackd_path, &di) && di.dli_fname) {
		snprintf(so, sizeof(so), "%s", di.dli_fname);
		snprintf(buf, len, "%s/../bin/lazyshm-trackd", dirname(so));
		if (!access(buf, X_OK))
			return;
	}
	snprintf(buf, len, "%s", LZ_TRACKD_DEFAULT);
}

/* In the holder's process: descriptor 3 is the socket, nothing else stays */
static void exec_holder(int lsk, const char *exe, const char *path)
{
	const char *log = getenv("LAZYSHM_TRACKD_LOG");
	sigset_t none;
	int null;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		_exit(127);
	if (dup2(log && *log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0600) : null, 2) < 0)
		_exit(127);
	if (dup2(lsk, 3) != 3)
		_exit(127);
	syscall(SYS_close_range, 4, ~0U, 0);
	execl(exe, "lazyshm-trackd", path, (char *)NULL);
	_exit(127);
}

/*
 * Start the holder detached (its own session, not our child): the first
 * child is a clone without exit signal, so that no SIGCHLD reaches CRIU,
 * whose handler exits while a task is infected.
 */
static int spawn(int lsk, const char *exe, const char *path)
{
	pid_t pid = syscall(SYS_clone, 0, NULL, NULL, NULL, NULL);
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setsid();
		pid = fork();
		if (pid == 0)
			exec_holder(lsk, exe, path);
		_exit(pid < 0);
	}
	if (waitpid(pid, &st, __WALL) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -ECHILD;
	return 0;
}

static int start(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char exe[PATH_MAX];
	int lsk, ret = 0;
	mode_t um;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_err("track: socket path %s is too long\n", path);
		return -ENAMETOOLONG;
	}
	trackd_path(exe, sizeof(exe));
	if (access(exe, X_OK)) {
		pr_err("track: no holder program at %s (LAZYSHM_TRACKD): %s\n", exe, strerror(errno));
		return -ENOENT;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	lsk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lsk < 0)
		return -errno;
	um = umask(077);
	if (bind(lsk, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) || listen(lsk, 8))
		ret = -errno;
	umask(um);
	if (!ret)
		ret = spawn(lsk, exe, path);
	close(lsk);
	if (ret)
		pr_err("track: can't start %s at %s: %s\n", exe, path, strerror(-ret));
	else
		pr_info("track: started the holder %s at %s\n", exe, path);
	return ret;
}

int lz_holder_open(int root_pidfd, bool do_start)
{
	char dir[PATH_MAX - 64], path[PATH_MAX];
	int ret, sk;

	ret = sock_dir(dir, sizeof(dir));
	if (ret)
		return ret;
	lz_trk_sock_name(path, sizeof(path), dir, (unsigned long long)lz_pidfd_ino(root_pidfd));
	sk = sock_connect(path);
	if (sk >= 0 || !do_start || (sk != -ENOENT && sk != -ECONNREFUSED))
		return sk == -ECONNREFUSED ? -ENOENT : sk;
	ret = start(path);
	return ret ? ret : sock_connect(path);
}

int lz_holder_restored_path(int root_pidfd, char *buf, size_t len)
{
	char dir[PATH_MAX - 64];
	int ret = sock_dir(dir, sizeof(dir));

	if (!ret)
		lz_trk_restored_name(buf, len, dir, (unsigned long long)lz_pidfd_ino(root_pidfd));
	return ret;
}

static int call(int sk, struct lz_trk_msg *m, uint32_t op, const int *fds, int nr)
{
	int fd = -1;

	m->magic = LZ_TRK_MAGIC;
	m->version = LZ_TRK_VERSION;
	m->op = op;
	if (lz_send_fds(sk, m, sizeof(*m), fds, nr) || lz_recv_fd(sk, m, sizeof(*m), &fd) != 1)
		return errno ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	return m->status;
}

int lz_holder_hello(int sk, uint8_t *epoch, uint32_t *nr)
{
	struct lz_trk_msg m = { 0 };
	int ret = call(sk, &m, LZ_TRK_HELLO, NULL, 0);

	if (ret)
		return ret;
	memcpy(epoch, m.epoch, LZ_TRK_EPOCH_LEN);
	*nr = m.nr;
	return 0;
}

int lz_holder_add(int sk, int pidfd, int uffd)
{
	struct lz_trk_msg m = { 0 };
	int fds[2] = { pidfd, uffd };

	return call(sk, &m, LZ_TRK_ADD, fds, 2);
}

int lz_holder_stop(int sk)
{
	struct lz_trk_msg m = { 0 };

	return call(sk, &m, LZ_TRK_STOP, NULL, 0);
}

int lz_holder_epoch(int sk, const uint8_t *epoch)
{
	struct lz_trk_msg m = { 0 };

	memcpy(m.epoch, epoch, LZ_TRK_EPOCH_LEN);
	return call(sk, &m, LZ_TRK_EPOCH, NULL, 0);
}

int lz_holder_removed(int sk, struct lz_trk_range **out, size_t *nr)
{
	struct lz_trk_msg m = { 0 };
	size_t i, n;
	int ret;

	*out = NULL;
	*nr = 0;
	ret = call(sk, &m, LZ_TRK_REMOVED, NULL, 0);
	if (ret)
		return ret;
	if (m.nr > (1u << 20))
		return -EPROTO;
	*out = calloc(m.nr ? m.nr : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0, n = m.nr; i < n; i++) {
		int fd = -1;

		if (lz_recv_fd(sk, &m, sizeof(m), &fd) != 1)
			return -EIO;
		if (fd >= 0)
			close(fd);
		(*out)[i] = (struct lz_trk_range){ .pino = m.pino, .start = m.start, .end = m.end };
		*nr = i + 1;
	}
	return 0;
}

static int list_one(int sk, struct lz_trk_held *h)
{
	struct lz_trk_msg m;
	int fds[2] = { -1, -1 }, got = 0;

	if (lz_recv_fds(sk, &m, sizeof(m), fds, 2, &got) != 1 || got != 2) {
		if (fds[0] >= 0)
			close(fds[0]);
		return -EIO;
	}
	h->pidfd = fds[0];
	h->uffd = fds[1];
	h->pino = lz_pidfd_ino(fds[0]);
	return 0;
}

int lz_holder_list(int sk, struct lz_trk_held **out, size_t *nr)
{
	struct lz_trk_msg m = { 0 };
	size_t i;
	int ret;

	*out = NULL;
	*nr = 0;
	ret = call(sk, &m, LZ_TRK_LIST, NULL, 0);
	if (ret)
		return ret;
	if (m.nr > LZ_TRK_MAX_TASKS)
		return -EPROTO;
	*out = calloc(m.nr ? m.nr : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < m.nr && !ret; i++)
		ret = list_one(sk, &(*out)[i]);
	*nr = ret ? i - 1 : m.nr;
	return ret;
}
