// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The remote source over loopback: xport (plain and TLS with a throwaway CA
 * made by openssl here), the protocol's encoding and checks, the server
 * (remote-serve.c) serving memfds and the client (remote-client.c)
 * fetching them: content and digests, ERROR responses after which the
 * session goes on, another dump's destination refused, certificates of
 * another CA or for another name refused, idle timeouts and cancellation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "remote-client.h"
#include "remote-proto.h"
#include "remote-serve.h"
#include "xport.h"

#define PS 4096u

static char pki[64]; /* the throwaway CA's directory */
static uint16_t next_port = 0;
static const uint8_t ID[LZ_RP_DUMP_ID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static uint16_t port(void)
{
	if (!next_port)
		next_port = 20000 + getpid() % 20000;
	return next_port++;
}

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* CA, a second CA, and certificates for 127.0.0.1 signed by each */
static int make_pki(void **state)
{
	snprintf(pki, sizeof(pki), "/tmp/lzrp-pki.XXXXXX");
	if (!mkdtemp(pki))
		return -1;
	return sh("cd %s && for ca in ca rogue; do "
		  "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
		  "-subj /CN=$ca -keyout $ca-key.pem -out $ca.pem >/dev/null 2>&1 || exit 1; "
		  "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 "
		  "-keyout $ca-leaf-key.pem -out $ca-leaf.csr >/dev/null 2>&1 || exit 1; "
		  "printf 'subjectAltName=IP:127.0.0.1\\n' > ext; "
		  "openssl x509 -req -in $ca-leaf.csr -CA $ca.pem -CAkey $ca-key.pem -CAcreateserial -days 1 "
		  "-extfile ext -out $ca-leaf.pem >/dev/null 2>&1 || exit 1; done",
		  pki) ?
		       -1 :
		       0;
}

static int drop_pki(void **state)
{
	return sh("rm -rf %s", pki) ? -1 : 0;
}

static const char *pki_file(const char *name, const char *suffix)
{
	static char paths[32][128];
	static unsigned n;
	char *p = paths[n++ % 32];

	snprintf(p, 128, "%s/%s%s", pki, name, suffix);
	return p;
}

static struct lz_xport_tls tls(const char *ca, const char *leaf, const char *name)
{
	struct lz_xport_tls t = { .on = true, .verify_name = name };

	t.cacert = pki_file(ca, ".pem");
	t.cert = pki_file(leaf, "-leaf.pem");
	t.key = pki_file(leaf, "-leaf-key.pem");
	return t;
}

/* A memfd of @size bytes, page i filled with byte i + seed, with a hole at page 1 */
static int object(uint64_t size, int seed)
{
	int fd = memfd_create("lzrp-test", MFD_CLOEXEC);
	uint8_t page[PS];
	uint64_t off;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	for (off = 0; off < size; off += PS) {
		if (off / PS == 1)
			continue;
		memset(page, (int)(off / PS + seed), sizeof(page));
		assert_int_equal(pwrite(fd, page, size - off < PS ? size - off : PS, off),
				 (ssize_t)(size - off < PS ? size - off : PS));
	}
	return fd;
}

struct fixture {
	struct lz_serve_obj objs[3];
	struct lz_server *srv;
	uint16_t port;
};

static void serve(struct fixture *f, const struct lz_xport_tls *t)
{
	struct lz_serve_cfg sc = { .addr = "127.0.0.1", .port = f->port = port() };
	char err[256] = "";

	f->objs[0] = (struct lz_serve_obj){ .shmid = 7, .kind = 2, .size = 3 * PS + 100, .page_size = PS, .fd = object(3 * PS + 100, 1) };
	f->objs[1] = (struct lz_serve_obj){ .shmid = 1ull << 63 | 3, .kind = 8, .size = 4096 * PS, .page_size = PS, .fd = object(4096 * PS, 9) };
	/* a page larger than a response's buffer, as a 1G hugetlb page is */
	f->objs[2] = (struct lz_serve_obj){ .shmid = 9, .kind = 5, .size = 2 * LZ_RP_MAX_BYTES, .page_size = 2 * LZ_RP_MAX_BYTES, .fd = object(2 * LZ_RP_MAX_BYTES, 3) };
	memcpy(sc.dump_id, ID, sizeof(ID));
	sc.xport.idle_ms = 5000;
	if (t)
		sc.xport.tls = *t;
	assert_int_equal(lz_serve_start(&sc, f->objs, 3, &f->srv, err, sizeof(err)), 0);
}

static void unserve(struct fixture *f, struct lz_serve_stats *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	lz_serve_stop(f->srv, 3000, st);
	for (i = 0; i < 3; i++)
		close(f->objs[i].fd);
}

static struct lz_xport *dial(struct fixture *f, const struct lz_xport_tls *t, char *err, size_t len, int *ret)
{
	struct lz_xport_cfg c = { .idle_ms = 5000, .cancel_fd = -1 };
	struct lz_xport *x = NULL;

	if (t)
		c.tls = *t;
	*ret = lz_xport_connect("127.0.0.1", f->port, &c, &x, err, len);
	return x;
}

/* Every page of @o fetched and compared with the memfd's content */
static void fetch_all(struct lz_xport *x, const struct lz_serve_obj *o)
{
	uint64_t pages = (o->size + o->page_size - 1) / o->page_size, p, n, max = lz_rp_max_count(o->page_size);
	uint8_t *got = malloc(max * o->page_size), *want = malloc(max * o->page_size);
	char err[256] = "";
	int status = 0;

	assert_non_null(got);
	assert_non_null(want);
	for (p = 0; p < pages; p += n) {
		n = pages - p < max ? pages - p : max;
		assert_int_equal(lz_rc_get(x, (uint32_t)p, o->shmid, p, n, o->page_size, got, &status, err, sizeof(err)),
				 1);
		memset(want, 0, n * o->page_size);
		assert_true(pread(o->fd, want, n * o->page_size, p * o->page_size) >= 0);
		assert_memory_equal(got, want, n * o->page_size);
	}
	free(got);
	free(want);
}

static void session(const struct lz_xport_tls *st, const struct lz_xport_tls *ct)
{
	struct fixture f;
	struct lz_serve_stats s;
	struct lz_xport *x;
	uint8_t buf[2 * PS];
	char err[256] = "";
	int ret, status = 0, i;

	serve(&f, st);
	x = dial(&f, ct, err, sizeof(err), &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(lz_xport_tls(x), st != NULL);
	assert_int_equal(lz_rc_hello(x, ID, err, sizeof(err)), 0);
	for (i = 0; i < 3; i++)
		fetch_all(x, &f.objs[i]);
	/* out of range, unknown object, too many pages: ERROR, and the session goes on */
	assert_int_equal(lz_rc_get(x, 1, 7, 3, 2, PS, buf, &status, err, sizeof(err)), 0);
	assert_int_equal(status, -ERANGE);
	assert_non_null(strstr(err, "outside the object's 4 pages"));
	assert_int_equal(lz_rc_get(x, 2, 8, 0, 1, PS, buf, &status, err, sizeof(err)), 0);
	assert_int_equal(status, -ENOENT);
	assert_int_equal(lz_rc_get(x, 3, 1ull << 63 | 3, 0, lz_rp_max_count(PS) + 1, PS, NULL, &status, err,
				   sizeof(err)),
			 0);
	assert_non_null(strstr(err, "at most"));
	fetch_all(x, &f.objs[0]); /* still served */
	lz_xport_close(x);
	unserve(&f, &s);
	assert_true(s.session);
	assert_false(s.done);
	assert_true(s.failed); /* closed without DONE */
	assert_int_equal(s.errors, 3);
}

static void test_proto_roundtrip(void **state)
{
	struct lz_rp_resp r = { LZ_RP_DATA, 0, 5, PS, 7, 2, 3, 3 * PS, 0x1122334455667788ull }, r2;
	struct lz_rp_req q = { LZ_RP_GET, 5, 7, 2, 3 }, q2;
	uint8_t b[LZ_RP_RESP_SIZE];
	char why[256];

	lz_rp_put_req(b, &q);
	assert_int_equal(b[0], LZ_RP_GET); /* little-endian */
	lz_rp_get_req(b, &q2);
	assert_memory_equal(&q, &q2, sizeof(q));
	lz_rp_put_resp(b, &r);
	assert_int_equal(b[48], 0x88);
	lz_rp_get_resp(b, &r2);
	assert_memory_equal(&r, &r2, sizeof(r));
	assert_int_equal(lz_rp_check_resp(&r, &q, PS, why, sizeof(why)), 0);
	r2.len = 2 * PS;
	assert_int_equal(lz_rp_check_resp(&r2, &q, PS, why, sizeof(why)), -EPROTO);
	r2 = r;
	r2.tag = 6;
	assert_int_equal(lz_rp_check_resp(&r2, &q, PS, why, sizeof(why)), -EPROTO);
	assert_int_equal(lz_rp_max_count(PS), LZ_RP_MAX_BYTES / PS);
	assert_int_equal(lz_rp_max_count(1u << 30), 1);
}

static void test_plain(void **state)
{
	struct fixture f;
	struct lz_serve_stats s;
	struct lz_xport *x;
	char err[256] = "";
	int ret;

	session(NULL, NULL);
	/* a full session ending with DONE */
	serve(&f, NULL);
	x = dial(&f, NULL, err, sizeof(err), &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(lz_rc_hello(x, ID, err, sizeof(err)), 0);
	fetch_all(x, &f.objs[0]);
	assert_int_equal(lz_rc_end(x, true, err, sizeof(err)), 0);
	lz_xport_close(x);
	unserve(&f, &s);
	assert_true(s.done);
	assert_false(s.failed);
	assert_int_equal(s.pages, 4);
	assert_int_equal(s.bytes, 4 * PS);
}

static void test_other_dump(void **state)
{
	uint8_t other[LZ_RP_DUMP_ID_LEN] = { 0 };
	struct lz_serve_stats s;
	struct lz_xport *x;
	struct fixture f;
	char err[256] = "";
	int ret;

	serve(&f, NULL);
	x = dial(&f, NULL, err, sizeof(err), &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(lz_rc_hello(x, other, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "another dump"));
	lz_xport_close(x);
	/* the source goes on waiting for its own destination */
	x = dial(&f, NULL, err, sizeof(err), &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(lz_rc_hello(x, ID, err, sizeof(err)), 0);
	assert_int_equal(lz_rc_end(x, false, err, sizeof(err)), 0);
	lz_xport_close(x);
	unserve(&f, &s);
	assert_true(s.session && s.failed && !s.done);
	assert_non_null(strstr(s.log, "refused"));
	assert_non_null(strstr(s.log, "FAIL"));
}

static void test_tls(void **state)
{
	struct lz_xport_tls st = tls("ca", "ca", "127.0.0.1"), ct = tls("ca", "ca", "127.0.0.1");

	session(&st, &ct);
}

static void test_tls_refused(void **state)
{
	struct lz_xport_tls st = tls("ca", "ca", NULL), rogue = tls("ca", "rogue", NULL), wrong = tls("ca", "ca", "10.9.9.9");
	struct lz_serve_stats s;
	struct lz_xport *x;
	struct fixture f;
	char err[256] = "";
	int ret;

	serve(&f, &st);
	/* a client certificate of another CA: the server refuses the handshake */
	x = dial(&f, &rogue, err, sizeof(err), &ret);
	if (!ret)
		assert_int_not_equal(lz_rc_hello(x, ID, err, sizeof(err)), 0);
	lz_xport_close(x);
	/* a server certificate not for the name the client expects */
	x = dial(&f, &wrong, err, sizeof(err), &ret);
	assert_int_equal(ret, -EACCES);
	assert_non_null(strstr(err, "refused for 10.9.9.9"));
	assert_null(x);
	/* without TLS at all */
	x = dial(&f, NULL, err, sizeof(err), &ret);
	if (!ret)
		assert_int_not_equal(lz_rc_hello(x, ID, err, sizeof(err)), 0);
	lz_xport_close(x);
	unserve(&f, &s);
	assert_false(s.session);
	assert_non_null(strstr(s.log, "tls"));
}

static void test_timeouts(void **state)
{
	struct lz_xport_cfg c = { .idle_ms = 200, .cancel_fd = -1 };
	uint16_t p = port();
	char err[256] = "";
	struct lz_xport *x = NULL, *srv = NULL;
	uint8_t b[8];
	uint64_t one = 1;
	int lsk = lz_xport_listen("127.0.0.1", p, err, sizeof(err)), efd = eventfd(0, EFD_CLOEXEC);

	assert_true(lsk >= 0);
	assert_true(efd >= 0);
	/* nobody accepts: a peer that never answers times out */
	assert_int_equal(lz_xport_connect("127.0.0.1", p, &c, &x, err, sizeof(err)), 0);
	assert_int_equal(lz_xport_recv(x, b, sizeof(b), err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "127.0.0.1"));
	lz_xport_close(x);
	/* an accept cancelled */
	c.cancel_fd = efd;
	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(lz_xport_accept(lsk, &c, -1, &srv, err, sizeof(err)), -ECANCELED);
	/* nothing listens: connect fails naming the peer */
	c.cancel_fd = -1;
	close(lsk);
	assert_true(lz_xport_connect("127.0.0.1", p, &c, &x, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "connect to 127.0.0.1"));
	close(efd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_roundtrip),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_other_dump),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_tls_refused),
		cmocka_unit_test(test_timeouts),
	};

	return cmocka_run_group_tests(tests, make_pki, drop_pki);
}
