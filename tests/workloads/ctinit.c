/*
 * ctinit: PID 1 of the test containers (tests/lib/container.sh).
 *
 * Usage: ctinit PROGRAM [ARGS...]
 *
 * Starts PROGRAM as its only child, then reaps every child it gets (its
 * own and the orphans the kernel hands it) until SIGTERM, when it exits 0.
 * It is a child subreaper, so that orphans come to it also in a container
 * without a PID namespace of its own (`--pid host`).
 * It forks exactly once and never again: the PIDs the container's tasks
 * get inside their namespace are known to the tests (a shell loop of
 * `sleep` would take a new PID every round). Its stdio is whatever the
 * container gets; PROGRAM's output goes where the caller redirects it.
 *
 * Exit status: 0 after SIGTERM, 1 on a usage error, 2 if PROGRAM cannot be
 * started.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_term;

static void on_signal(int sig)
{
	if (sig == SIGTERM)
		got_term = 1;
}

/* SIGCHLD and SIGTERM are blocked except while waiting in sigsuspend() */
static int setup_signals(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	if (sigemptyset(&block) || sigaddset(&block, SIGCHLD) || sigaddset(&block, SIGTERM) ||
	    sigprocmask(SIG_BLOCK, &block, waitmask) || sigemptyset(&sa.sa_mask) ||
	    sigaction(SIGCHLD, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		perror("ctinit: signals");
		return -1;
	}
	if (sigdelset(waitmask, SIGCHLD) || sigdelset(waitmask, SIGTERM)) {
		perror("ctinit: sigdelset");
		return -1;
	}
	return 0;
}

static pid_t start(char **argv, const sigset_t *waitmask)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("ctinit: fork");
		return -1;
	}
	if (pid == 0) {
		if (sigprocmask(SIG_SETMASK, waitmask, NULL))
			perror("ctinit: sigprocmask");
		execv(argv[0], argv);
		fprintf(stderr, "ctinit: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	sigset_t waitmask;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: ctinit PROGRAM [ARGS...]\n");
		return 1;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		perror("ctinit: PR_SET_CHILD_SUBREAPER");
		return 2;
	}
	if (setup_signals(&waitmask) || start(argv + 1, &waitmask) < 0)
		return 2;
	while (!got_term) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			;
		if (pid < 0 && errno != ECHILD)
			perror("ctinit: waitpid");
		/* also returns -1/EINTR when a checkpoint interrupts it */
		if (sigsuspend(&waitmask) && errno != EINTR)
			perror("ctinit: sigsuspend");
	}
	return 0;
}
