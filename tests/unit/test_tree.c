// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * plugin/tree.c (and pidfd.c) on real processes forked by the test: a
 * member known by its pidfd, its descendants found by lz_tree_discover()
 * (and nobody else's), the whole tree stopped and killed, and a pid reused
 * by a process that is not a member: neither it nor its children are ever
 * taken for members or signalled (the reuse is made with ns_last_pid, as
 * root; skipped if another process takes the pid first every time).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pidfd.h"
#include "tree.h"

#include "lz-log-stub.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * A child that forks @grandchildren processes (which pause), writes their
 * pids to @wfd and pauses. Returns its pid; the grandchildren's come in *gc.
 */
static pid_t spawn(int grandchildren, pid_t *gc)
{
	int p[2], i;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		for (i = 0; i < grandchildren; i++) {
			pid_t g = fork();

			if (g == 0) {
				for (;;)
					pause();
			}
			if (write(p[1], &g, sizeof(g)) != sizeof(g))
				_exit(1);
		}
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	for (i = 0; i < grandchildren; i++)
		assert_int_equal(read(p[0], &gc[i], sizeof(gc[i])), sizeof(gc[i]));
	close(p[0]);
	return pid;
}

static bool alive(pid_t pid)
{
	char path[64], st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
		st = 0;
	fclose(f);
	return st && st != 'Z' && st != 'X';
}

static void reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void test_add(void **state)
{
	struct lz_tree t;
	pid_t gc, child = spawn(0, &gc);
	int fd = lz_pidfd_open(child);

	assert_true(fd >= 0);
	assert_int_equal(lz_pidfd_pid(fd), child);
	assert_true(lz_pidfd_alive(fd));
	assert_int_equal(lz_tree_init(&t), 0);
	assert_int_equal(lz_tree_add(&t, fd), 1);
	assert_int_equal(lz_tree_add(&t, fd), 0); /* known */
	assert_int_equal(lz_tree_nr(&t), 1);
	assert_int_not_equal(lz_tree_pidfd(&t, 0), fd); /* its own duplicate */
	assert_int_equal(lz_tree_pidfd(&t, 1), -1);
	assert_int_equal(lz_tree_alive(&t), 1);
	reap(child);
	assert_false(lz_pidfd_alive(fd));
	assert_int_equal(lz_pidfd_pid(fd), -1);
	assert_int_equal(lz_pidfd_procdir(fd), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(lz_tree_alive(&t), 0);
	assert_true(lz_tree_wait_dead(&t, 0));
	/* a process that has exited is not added */
	assert_int_equal(lz_tree_add(&t, fd), 0);
	close(fd);
	lz_tree_fini(&t);
}

static void test_discover(void **state)
{
	pid_t gc[3], other_gc, child = spawn(3, gc), other = spawn(1, &other_gc);
	int fd = lz_pidfd_open(child), i;
	struct lz_tree t;

	assert_true(fd >= 0);
	assert_int_equal(lz_tree_init(&t), 0);
	assert_int_equal(lz_tree_add(&t, fd), 1);
	/* the member's three children, not the test's other child nor its child */
	assert_int_equal(lz_tree_discover(&t), 3);
	assert_int_equal(lz_tree_nr(&t), 4);
	assert_int_equal(lz_tree_discover(&t), 0);
	assert_int_equal(lz_tree_alive(&t), 4);
	/* stopped and killed: the member and every descendant, nothing else */
	assert_int_equal(lz_tree_kill(&t), 4);
	assert_true(lz_tree_wait_dead(&t, 5000));
	for (i = 0; i < 3; i++)
		assert_false(alive(gc[i]));
	assert_true(alive(other));
	assert_true(alive(other_gc));
	reap(child);
	kill(other_gc, SIGKILL);
	reap(other);
	close(fd);
	lz_tree_fini(&t);
}

static void test_kill_finds_late_children(void **state)
{
	pid_t gc, child = spawn(1, &gc);
	int fd = lz_pidfd_open(child);
	struct lz_tree t;

	/* never discovered before: the kill looks for descendants itself */
	assert_int_equal(lz_tree_init(&t), 0);
	assert_int_equal(lz_tree_add(&t, fd), 1);
	assert_int_equal(lz_tree_kill(&t), 2);
	assert_true(lz_tree_wait_dead(&t, 5000));
	assert_false(alive(gc));
	reap(child);
	close(fd);
	lz_tree_fini(&t);
}

/* Writes @v to /proc/sys/kernel/ns_last_pid: 0, or -1 */
static int set_last_pid(pid_t v)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC), n, ret;

	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%d", (int)v);
	ret = write(fd, buf, n) == n ? 0 : -1;
	close(fd);
	return ret;
}

/* A child of the test that gets pid @want (a reused pid), forking one child: its pid, or -1 */
static pid_t spawn_at(pid_t want, pid_t *gc)
{
	int tries;
	pid_t pid;

	for (tries = 0; tries < 50; tries++) {
		if (set_last_pid(want - 1))
			return -1;
		pid = spawn(1, gc);
		if (pid == want)
			return pid;
		kill(*gc, SIGKILL);
		reap(pid);
		sleep_ms(10);
	}
	return -1;
}

static void test_reused_pid(void **state)
{
	pid_t gc, member_gc, member = spawn(1, &member_gc), reused;
	int fd = lz_pidfd_open(member);
	struct lz_tree t;

	if (geteuid() != 0)
		skip();
	assert_int_equal(lz_tree_init(&t), 0);
	assert_int_equal(lz_tree_add(&t, fd), 1);
	/* the member exits and its pid is freed; its child goes to init */
	kill(member_gc, SIGKILL);
	reap(member);
	assert_false(lz_pidfd_alive(fd));
	/* another process gets the pid, with a child of its own */
	reused = spawn_at(member, &gc);
	if (reused < 0) {
		close(fd);
		lz_tree_fini(&t);
		print_message("could not get pid %d again (ns_last_pid): skipped\n", member);
		skip();
	}
	/* its child's parent has the member's pid: it is not the member's child */
	assert_int_equal(lz_tree_discover(&t), 0);
	assert_int_equal(lz_tree_nr(&t), 1);
	assert_int_equal(lz_tree_alive(&t), 0);
	/* and a kill of the tree signals neither */
	lz_tree_kill(&t);
	sleep_ms(100);
	assert_true(alive(reused));
	assert_true(alive(gc));
	kill(gc, SIGKILL);
	reap(reused);
	close(fd);
	lz_tree_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_discover),
		cmocka_unit_test(test_kill_finds_late_children),
		cmocka_unit_test(test_reused_pid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
