// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * plugin/registry.c and plugin/scm.c: the object registry's protocol over
 * a socket pair, with a fake take callback: an offer taken, one declined
 * (the reason comes back), malformed messages (wrong magic, missing or
 * extra descriptors, a short message: the connection is dropped and every
 * descriptor that came is closed), an offer to a peer that closes without
 * answering; then the listening socket in a directory: mode 0600, one
 * daemon per directory, peers of another uid refused (as root), the socket
 * gone once stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry.h"
#include "scm.h"

#include "lz-log-stub.h"


/* What the fake take callback saw, and what it answers */
struct taker {
	int calls;
	struct lz_offer o;
	ino_t ino; /* of the descriptor it was given */
	int decline;
};

static int take(void *arg, int fd, const struct lz_offer *o, char *why, size_t len)
{
	struct taker *t = arg;
	struct stat st;

	t->calls++;
	t->o = *o;
	t->ino = fstat(fd, &st) ? 0 : st.st_ino;
	close(fd); /* it owns the descriptor either way */
	if (!t->decline)
		return 0;
	snprintf(why, len, "the test declines shmem %#llx", (unsigned long long)o->shmid);
	return -1;
}

static int nr_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

static ino_t ino_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* The restore side in a thread: lz_registry_offer() of a fresh memfd */
struct offerer {
	pthread_t th;
	int sk, memfd, ret;
	struct lz_offer o;
	char why[256];
};

static void *offer_thread(void *arg)
{
	struct offerer *c = arg;

	c->ret = lz_registry_offer(c->sk, c->memfd, &c->o, c->why, sizeof(c->why));
	return NULL;
}

static void start_offer(struct offerer *c, int sk, uint64_t shmid)
{
	memset(c, 0, sizeof(*c));
	c->sk = sk;
	c->memfd = memfd_create("offered", MFD_CLOEXEC);
	assert_true(c->memfd >= 0);
	c->o = (struct lz_offer){ .kind = 3, .seals = 0xe, .shmid = shmid, .size = 1 << 20 };
	assert_int_equal(pthread_create(&c->th, NULL, offer_thread, c), 0);
}

static void finish_offer(struct offerer *c)
{
	assert_int_equal(pthread_join(c->th, NULL), 0);
	close(c->memfd);
}

static void pair(int sp[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
}

static void test_taken(void **state)
{
	struct taker t = { 0 };
	struct offerer c;
	int sp[2];

	pair(sp);
	start_offer(&c, sp[0], 0x1234);
	assert_int_equal(lz_registry_serve(sp[1], take, &t), 0);
	assert_int_equal(pthread_join(c.th, NULL), 0);
	assert_int_equal(c.ret, 1);
	assert_string_equal(c.why, "taken by the lazy-pages daemon");
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.o.shmid, 0x1234);
	assert_int_equal(t.o.kind, 3);
	assert_int_equal(t.o.seals, 0xe);
	assert_int_equal(t.o.size, 1 << 20);
	/* the daemon got the offered memfd itself */
	assert_int_equal(t.ino, ino_of(c.memfd));
	close(c.memfd);
	close(sp[0]);
	/* the connection's end: serve says so */
	assert_int_equal(lz_registry_serve(sp[1], take, &t), -1);
	assert_int_equal(t.calls, 1);
	close(sp[1]);
}

static void test_declined(void **state)
{
	struct taker t = { .decline = 1 };
	struct offerer c;
	int sp[2], before = nr_fds();

	pair(sp);
	start_offer(&c, sp[0], 0x99);
	lz_log_reset();
	assert_int_equal(lz_registry_serve(sp[1], take, &t), 0);
	finish_offer(&c);
	assert_int_equal(c.ret, 0);
	assert_string_equal(c.why, "the test declines shmem 0x99");
	assert_true(lz_log_has("declined shmem 0x99: the test declines shmem 0x99"));
	close(sp[0]);
	close(sp[1]);
	assert_int_equal(nr_fds(), before); /* the reply socket and the memfd are closed */
}

/* Sends @m with @nfd descriptors (memfds and, with @reply, a reply socket
 * whose other end comes back in *keep); serves it; the descriptors must all
 * be closed after and the reply socket see EOF */
static void serve_bad(const void *m, size_t len, int nfd, int reply)
{
	struct taker t = { 0 };
	int sp[2], rp[2], fds[4], i, before, keep = -1;
	char c;

	assert_true(nfd <= 4);
	pair(sp);
	before = nr_fds();
	for (i = 0; i < nfd; i++) {
		fds[i] = memfd_create("bad", MFD_CLOEXEC);
		assert_true(fds[i] >= 0);
	}
	if (reply && nfd) {
		close(fds[nfd - 1]);
		pair(rp);
		fds[nfd - 1] = rp[1];
		keep = rp[0];
	}
	assert_int_equal(lz_send_fds(sp[0], m, len, fds, nfd), 0);
	for (i = 0; i < nfd; i++)
		close(fds[i]);
	lz_log_reset();
	assert_int_equal(lz_registry_serve(sp[1], take, &t), -1);
	assert_int_equal(t.calls, 0);
	if (keep >= 0) {
		/* no answer, and the daemon's copy is closed: EOF */
		assert_int_equal(recv(keep, &c, 1, MSG_DONTWAIT), 0);
		close(keep);
	}
	assert_int_equal(nr_fds(), before);
	close(sp[0]);
	close(sp[1]);
}

static void test_bad_magic(void **state)
{
	struct lz_reg_msg m = { .magic = 0xdeadbeef, .o = { .kind = 3, .shmid = 5 } };

	serve_bad(&m, sizeof(m), 2, 1);
	assert_true(lz_log_has("malformed offer on the object registry (magic 0xdeadbeef, 2 descriptors)"));
}

static void test_missing_fds(void **state)
{
	struct lz_reg_msg m = { .magic = LZ_REG_MAGIC, .o = { .kind = 3, .shmid = 5 } };

	serve_bad(&m, sizeof(m), 1, 0); /* the object, no reply socket */
	assert_true(lz_log_has("1 descriptors"));
	serve_bad(&m, sizeof(m), 0, 0);
	assert_true(lz_log_has("0 descriptors"));
}

static void test_extra_fds(void **state)
{
	struct lz_reg_msg m = { .magic = LZ_REG_MAGIC, .o = { .kind = 3, .shmid = 5 } };
	struct {
		int32_t status;
		char why[256];
	} r;
	struct taker t = { 0 };
	int sp[2], rp[2], fds[4], i, before;

	/* two more descriptors than the protocol has: closed, the offer served */
	pair(sp);
	before = nr_fds();
	pair(rp);
	fds[0] = memfd_create("obj", MFD_CLOEXEC);
	fds[1] = rp[1];
	fds[2] = memfd_create("extra", MFD_CLOEXEC);
	fds[3] = memfd_create("extra", MFD_CLOEXEC);
	assert_int_equal(lz_send_fds(sp[0], &m, sizeof(m), fds, 4), 0);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	assert_int_equal(lz_registry_serve(sp[1], take, &t), 0);
	assert_int_equal(t.calls, 1);
	assert_int_equal(recv(rp[0], &r, sizeof(r), 0), sizeof(r));
	assert_int_equal(r.status, 1);
	close(rp[0]);
	assert_int_equal(nr_fds(), before);
	close(sp[0]);
	close(sp[1]);
}

static void test_short_message(void **state)
{
	struct lz_reg_msg m = { .magic = LZ_REG_MAGIC, .o = { .kind = 3, .shmid = 5 } };
	char big[sizeof(m) + 16] = { 0 };

	serve_bad(&m, sizeof(m) - 4, 2, 1);
	serve_bad(big, sizeof(big), 2, 1); /* too long: truncated, refused too */
}

/* A peer that takes the offer's descriptors and closes them without answering */
static void *mute_peer(void *arg)
{
	int sk = *(int *)arg, fds[2], got, i;
	struct lz_reg_msg m;

	if (lz_recv_fds(sk, &m, sizeof(m), fds, 2, &got) == 1)
		for (i = 0; i < got; i++)
			close(fds[i]);
	return NULL;
}

static void test_offer_no_answer(void **state)
{
	struct lz_offer o = { .kind = 3, .shmid = 7, .size = 4096 };
	int sp[2], memfd = memfd_create("o", MFD_CLOEXEC);
	char why[256] = "";
	pthread_t th;

	assert_true(memfd >= 0);
	pair(sp);
	assert_int_equal(pthread_create(&th, NULL, mute_peer, &sp[1]), 0);
	assert_int_equal(lz_registry_offer(sp[0], memfd, &o, why, sizeof(why)), -1);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_non_null(strstr(why, "did not answer the offer: connection closed"));
	close(sp[0]);
	close(sp[1]);
	/* a daemon that is gone: the offer cannot be sent */
	pair(sp);
	close(sp[1]);
	assert_int_equal(lz_registry_offer(sp[0], memfd, &o, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot reach the lazy-pages daemon"));
	close(sp[0]);
	close(memfd);
}

struct dirfix {
	char dir[64];
	int dfd;
};

static int setup_dir(void **state)
{
	struct dirfix *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	strcpy(d->dir, "/tmp/lzreg-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	d->dfd = open(d->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(d->dfd >= 0);
	*state = d;
	return 0;
}

static int teardown_dir(void **state)
{
	struct dirfix *d = *state;

	unlinkat(d->dfd, LZ_REGISTRY_SOCK, 0);
	close(d->dfd);
	assert_int_equal(rmdir(d->dir), 0);
	free(d);
	return 0;
}

static void test_listen(void **state)
{
	struct dirfix *d = *state;
	struct taker t = { 0 };
	struct lz_registry *reg, *second;
	struct offerer c;
	char why[256];
	struct stat st;
	int sk, err;

	/* no daemon: -ENOENT, which the restore reports as "no daemon" */
	assert_int_equal(lz_registry_connect(d->dfd, &err, why, sizeof(why)), -1);
	assert_int_equal(err, ENOENT);
	reg = lz_registry_start(d->dfd, take, &t);
	assert_non_null(reg);
	assert_int_equal(fstatat(d->dfd, LZ_REGISTRY_SOCK, &st, 0), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	/* one daemon per directory */
	lz_log_reset();
	second = lz_registry_start(d->dfd, take, &t);
	assert_null(second);
	assert_true(lz_log_has("another lazy-pages daemon serves this work directory"));
	sk = lz_registry_connect(d->dfd, &err, why, sizeof(why));
	assert_true(sk >= 0);
	start_offer(&c, sk, 0x42);
	finish_offer(&c);
	assert_int_equal(c.ret, 1);
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.o.shmid, 0x42);
	close(sk);
	lz_registry_stop(reg);
	assert_int_equal(fstatat(d->dfd, LZ_REGISTRY_SOCK, &st, 0), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_stale_socket(void **state)
{
	struct dirfix *d = *state;
	struct taker t = { 0 };
	struct lz_registry *reg;
	int fd;

	/* a socket file nobody listens on (a daemon that died) is replaced */
	fd = openat(d->dfd, ".", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(mknodat(fd, LZ_REGISTRY_SOCK, S_IFSOCK | 0644, 0), 0);
	close(fd);
	reg = lz_registry_start(d->dfd, take, &t);
	assert_non_null(reg);
	lz_registry_stop(reg);
}

/* In a child of uid 65534: connect and offer; its exit status says how far it got */
static int other_uid_offer(int dfd)
{
	struct lz_offer o = { .kind = 3, .shmid = 0x65534, .size = 4096 };
	char why[256];
	int err, sk, memfd, ret;

	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return 10;
	sk = lz_registry_connect(dfd, &err, why, sizeof(why));
	if (sk < 0)
		return err == EACCES ? 20 : err == EPERM ? 21 :
							   22;
	memfd = memfd_create("intruder", MFD_CLOEXEC);
	ret = lz_registry_offer(sk, memfd, &o, why, sizeof(why));
	return ret == 1 ? 30 : ret == 0 ? 31 :
					  32;
}

static int run_as_other(int dfd)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(other_uid_offer(dfd));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void wait_log(const char *s)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 300 && !lz_log_has(s); i++)
		nanosleep(&ts, NULL);
}

static void test_other_uid(void **state)
{
	struct dirfix *d = *state;
	struct taker t = { 0 };
	struct lz_registry *reg;
	int fd;

	if (geteuid() != 0)
		skip();
	/* the directory must be searchable by the other user */
	fd = openat(d->dfd, ".", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0755), 0);
	reg = lz_registry_start(d->dfd, take, &t);
	assert_non_null(reg);
	/* mode 0600: it cannot even connect */
	assert_int_equal(run_as_other(d->dfd), 20);
	/* open to all: the daemon refuses the peer by its credentials */
	assert_int_equal(fchmodat(fd, LZ_REGISTRY_SOCK, 0666, 0), 0);
	lz_log_reset();
	/* the client itself refuses a daemon of another uid (EPERM) before offering */
	assert_int_equal(run_as_other(d->dfd), 21);
	wait_log("of uid 65534");
	assert_true(lz_log_has("refused a connection from pid"));
	assert_true(lz_log_has("of uid 65534 (only uid 0 may offer objects)"));
	assert_int_equal(t.calls, 0);
	lz_registry_stop(reg);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taken),
		cmocka_unit_test(test_declined),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_missing_fds),
		cmocka_unit_test(test_extra_fds),
		cmocka_unit_test(test_short_message),
		cmocka_unit_test(test_offer_no_answer),
		cmocka_unit_test_setup_teardown(test_listen, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_stale_socket, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_other_uid, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
