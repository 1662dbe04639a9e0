// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * benchrun: time one `criu restore -d` of the bench workload and what
 * follows it, then give the pids back.
 *
 * Usage: benchrun --pidfile F --result F [--daemon-pidfile F]
 *                 [--timeout SEC] [--signal usr1|usr2] -- criu restore ...
 *        benchrun --drop-cache DIR
 *
 * It becomes a child subreaper, so the restored task is its child once
 * criu has exited and is reaped at once (PID 1 here reaps slowly, and the
 * next restore needs the pid). Steps:
 *   t0 = CLOCK_MONOTONIC; run the command; t1 when it returned
 *   SIGUSR1 to the restored task (it touches every page and writes --result;
 *   with --signal usr2, SIGUSR2: it touches its working set only)
 *   wait for --result, and for the lazy-pages daemon to exit (pidfd)
 *   SIGKILL the task, reap it
 * and prints one JSON object: t0_ns, resume_ns (t1 - t0), daemon_exit_ns
 * (from t0; -1 without a daemon), timens_offset_ns (the restored task's
 * CLOCK_MONOTONIC minus ours) and the workload's own result.
 * With --pidns (the migration bench, tests/bench/migrate.sh), the command
 * runs in a new PID and mount namespace whose init is benchrun's child
 * (a fresh /proc there), as on a host where the dumped tasks' PIDs are
 * free: the source's tasks still hold them. The daemon's pidfd is taken
 * before. t0_realtime_ns is t0 on CLOCK_REALTIME, to compare with the
 * source's timestamps.
 * Exit status: 0, 1 on usage, 2 if the command failed, 3 on a timeout.
 *
 * --drop-cache DIR writes back and drops the page cache of every regular
 * file in DIR (fdatasync + POSIX_FADV_DONTNEED), for a restore from cold
 * images: only those files' pages go, the rest of the machine keeps its cache.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct run {
	const char *pidfile, *result, *daemon_pidfile;
	int timeout_s;
	int sig;
	char **cmd;
	uint64_t t0, t1, t_daemon, t0_real;
	bool pidns;
	int pidfd; /* the daemon's, taken before a --pidns; -1 */
	pid_t task;
	int64_t timens;
	char res[1024];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	int pid = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &pid) != 1)
		pid = -1;
	fclose(f);
	return pid;
}

/*
 * CRIU restores tasks into a new time namespace whose CLOCK_MONOTONIC
 * continues from the dump: the workload's timestamps are shifted by it.
 */
static int64_t timens_offset(pid_t pid)
{
	char path[64], clk[32];
	long long sec, nsec;
	int64_t off = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/timens_offsets", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fscanf(f, "%31s %lld %lld", clk, &sec, &nsec) == 3)
		if (!strcmp(clk, "monotonic"))
			off = sec * 1000000000ll + nsec;
	fclose(f);
	return off;
}

static int run_cmd(struct run *r)
{
	struct timespec rt;
	int status;
	pid_t pid;

	r->t0 = now_ns();
	if (clock_gettime(CLOCK_REALTIME, &rt))
		return -1;
	r->t0_real = (uint64_t)rt.tv_sec * 1000000000ull + rt.tv_nsec;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(r->cmd[0], r->cmd);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	r->t1 = now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "benchrun: %s failed (status %#x)\n", r->cmd[0], status);
		return -1;
	}
	return 0;
}

static int read_result(struct run *r)
{
	FILE *f = fopen(r->result, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(r->res, 1, sizeof(r->res) - 1, f);
	fclose(f);
	while (n && (r->res[n - 1] == '\n' || r->res[n - 1] == ' '))
		n--;
	r->res[n] = '\0';
	return n ? 0 : -1;
}

/* Wait for the workload's result and for the daemon to exit */
static int wait_done(struct run *r, int pidfd)
{
	uint64_t deadline = r->t1 + (uint64_t)r->timeout_s * 1000000000ull;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	bool have_res = false;

	while (!have_res || pidfd >= 0) {
		if (now_ns() > deadline)
			return -1;
		if (pidfd >= 0 && poll(&p, 1, 2) > 0) {
			r->t_daemon = now_ns();
			close(pidfd);
			pidfd = -1;
		} else if (pidfd < 0) {
			usleep(2000);
		}
		if (!have_res && access(r->result, F_OK) == 0)
			have_res = read_result(r) == 0;
	}
	return 0;
}

/* Kill and reap the restored task; reap whatever else was reparented */
static void reap_all(struct run *r)
{
	if (r->task > 0) {
		kill(r->task, SIGKILL);
		if (waitpid(r->task, NULL, 0) < 0 && errno != ECHILD)
			perror("benchrun: waitpid");
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static int measure(struct run *r)
{
	pid_t dpid = -1;
	int pidfd = -1, ret;

	unlink(r->result);
	if (run_cmd(r))
		return 2;
	r->task = read_pid(r->pidfile);
	if (r->task <= 0 || kill(r->task, r->sig)) {
		fprintf(stderr, "benchrun: no restored task in %s\n", r->pidfile);
		return 2;
	}
	r->timens = timens_offset(r->task);
	if (r->pidfd >= 0) {
		pidfd = r->pidfd;
	} else if (r->daemon_pidfile) {
		dpid = read_pid(r->daemon_pidfile);
		pidfd = dpid > 0 ? (int)syscall(SYS_pidfd_open, dpid, 0) : -1;
		if (pidfd < 0)
			r->t_daemon = now_ns(); /* already gone */
	}
	ret = wait_done(r, pidfd);
	reap_all(r);
	if (ret) {
		fprintf(stderr, "benchrun: timed out after %d s\n", r->timeout_s);
		return 3;
	}
	printf("{\"t0_ns\": %" PRIu64 ", \"t0_realtime_ns\": %" PRIu64 ", \"resume_ns\": %" PRIu64
	       ", \"daemon_exit_ns\": %" PRId64 ", \"timens_offset_ns\": %" PRId64 ", \"app\": %s}\n",
	       r->t0, r->t0_real, r->t1 - r->t0, r->t_daemon ? (int64_t)(r->t_daemon - r->t0) : -1, r->timens,
	       r->res);
	return 0;
}

/* --pidns: measure() in the init of a new PID namespace, which ends with it */
static int in_pidns(struct run *r)
{
	int status;
	pid_t child;

	if (r->daemon_pidfile) {
		pid_t dpid = read_pid(r->daemon_pidfile);

		r->pidfd = dpid > 0 ? (int)syscall(SYS_pidfd_open, dpid, 0) : -1;
		if (r->pidfd < 0) {
			fprintf(stderr, "benchrun: the daemon of %s is gone before the restore\n", r->daemon_pidfile);
			return 2;
		}
	}
	if (unshare(CLONE_NEWPID | CLONE_NEWNS)) {
		perror("benchrun: unshare");
		return 1;
	}
	fflush(stdout);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) || mount("proc", "/proc", "proc", 0, NULL)) {
			perror("benchrun: a /proc of the new PID namespace");
			_exit(1);
		}
		status = measure(r);
		fflush(stdout);
		_exit(status);
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return 2;
	return WEXITSTATUS(status);
}

/* Drop the page cache of DIR's regular files: 0, or -1 naming the file */
static int drop_cache(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int fd, ret = 0;

	if (!d) {
		perror("benchrun: opendir");
		return -1;
	}
	while ((e = readdir(d))) {
		struct stat st;

		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (fdatasync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))) {
			fprintf(stderr, "benchrun: cannot drop the cache of %s/%s: %m\n", dir, e->d_name);
			ret = -1;
		}
		close(fd);
	}
	closedir(d);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pidfile", required_argument, NULL, 'p' },
		{ "result", required_argument, NULL, 'r' },
		{ "daemon-pidfile", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "pidns", no_argument, NULL, 'n' },
		{ "signal", required_argument, NULL, 's' },
		{ "drop-cache", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r = { .timeout_s = 300, .pidfd = -1, .sig = SIGUSR1 };
	int c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'p')
			r.pidfile = optarg;
		else if (c == 'r')
			r.result = optarg;
		else if (c == 'd')
			r.daemon_pidfile = optarg;
		else if (c == 't')
			r.timeout_s = atoi(optarg);
		else if (c == 'n')
			r.pidns = true;
		else if (c == 's' && (!strcmp(optarg, "usr1") || !strcmp(optarg, "usr2")))
			r.sig = strcmp(optarg, "usr1") ? SIGUSR2 : SIGUSR1;
		else if (c == 'c')
			return drop_cache(optarg) ? 2 : 0;
		else
			return 1;
	}
	if (!r.pidfile || !r.result || optind >= argc || r.timeout_s <= 0) {
		fprintf(stderr, "usage: benchrun --pidfile F --result F [--daemon-pidfile F] [--timeout S] [--pidns] -- "
				"CMD...\n");
		return 1;
	}
	r.cmd = argv + optind;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		perror("benchrun: PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	return r.pidns ? in_pidns(&r) : measure(&r);
}
