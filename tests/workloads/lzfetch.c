// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lzfetch: a destination of remote post-copy for tests. Reads the dump id
 * and the remote objects from DIR/lazyshm-shmem.img, connects to the dump's
 * source, fetches every page of every remote object (the source's digest
 * is checked by lz_rc_get()), and with --check EAGER compares each page
 * with the digest of the same object's page in EAGER/lazyshm-shmem.img (an
 * eager dump of the same tasks), a hole there with zeros. Then DONE.
 *
 *   lzfetch --images DIR --host H --port P [--check EAGER] [--bad]
 *           [--tls --cacert F --cert F --key F [--name N]]
 *
 * --bad first asks for a page past an object's end and for an unknown
 * object, expects an ERROR for each, and goes on.
 * Last line: "lzfetch: OK <objects> objects <pages> pages <bytes> bytes";
 * exit 0, or 1 with "lzfetch: FAIL <cause>".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lzdigest.h"

#include "lzimg.h"
#include "remote-client.h"

struct args {
	const char *images, *host, *check;
	uint16_t port;
	int bad;
	struct lz_xport_tls tls;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	printf("lzfetch: FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 1;
}

static struct lz_image *load(const char *dir, int meta)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0) {
		fail("%s: %s", dir, strerror(errno));
		return NULL;
	}
	ret = meta ? lzimg_load_meta(fd, &img, err, sizeof(err)) : lzimg_load(fd, &img, err, sizeof(err));
	close(fd);
	if (ret) {
		fail("%s", err);
		return NULL;
	}
	return img;
}

static int all_zero(const uint8_t *p, size_t n)
{
	while (n && !*p)
		p++, n--;
	return n == 0;
}

/* Page @idx of @o (fetched into @p) against the eager dump's object @e */
static int compare(const struct lz_obj *o, const struct lz_obj *e, uint64_t idx, const uint8_t *p)
{
	uint64_t dg;
	int has;

	if (!e)
		return fail("shmid %#" PRIx64 " (%s) is not in the eager dump", o->shmid, lzimg_kind_name(o->kind));
	has = lzimg_page_digest(e, idx, &dg);
	if (has < 0)
		return fail("the eager dump has no digests for shmid %#" PRIx64, o->shmid);
	if (has ? LZ_XXH3_64(p, o->page_size) != dg : !all_zero(p, o->page_size))
		return fail("shmid %#" PRIx64 " (%s) page %" PRIu64 ": fetched content differs from the eager dump's",
			    o->shmid, lzimg_kind_name(o->kind), idx);
	return 0;
}

static int fetch_obj(struct lz_xport *x, const struct lz_obj *o, const struct lz_image *eager, uint64_t *bytes)
{
	uint64_t max = lz_rp_max_count(o->page_size), p, n, k;
	uint8_t *buf = malloc(max * o->page_size);
	char err[512] = "";
	int status = 0, ret = 0;

	if (!buf)
		return fail("no memory");
	for (p = 0; !ret && p < o->nr_pages; p += n) {
		n = o->nr_pages - p < max ? o->nr_pages - p : max;
		if (lz_rc_get(x, (uint32_t)p, o->shmid, p, n, o->page_size, buf, &status, err, sizeof(err)) != 1)
			ret = fail("%s", err);
		for (k = 0; !ret && eager && k < n; k++)
			ret = compare(o, lzimg_find(eager, o->shmid), p + k, buf + k * o->page_size);
		*bytes += n * o->page_size;
	}
	free(buf);
	return ret;
}

/* Requests the source must refuse, after which it must go on serving */
static int bad_requests(struct lz_xport *x, const struct lz_obj *o)
{
	uint8_t *buf = malloc(o->page_size);
	char err[512] = "";
	int status = 0, r1, r2, s1;

	if (!buf)
		return fail("no memory");
	r1 = lz_rc_get(x, 1, o->shmid, o->nr_pages, 1, o->page_size, buf, &status, err, sizeof(err));
	s1 = status;
	if (r1 == 0)
		printf("lzfetch: refused as expected: %s\n", err);
	r2 = lz_rc_get(x, 2, 0x7fffffffffffull, 0, 1, o->page_size, buf, &status, err, sizeof(err));
	if (r2 == 0)
		printf("lzfetch: refused as expected: %s\n", err);
	free(buf);
	if (r1 != 0 || s1 != -ERANGE)
		return fail("a page past the end of shmid %#" PRIx64 " got %d (status %d), not an ERANGE error", o->shmid,
			    r1, s1);
	if (r2 != 0 || status != -ENOENT)
		return fail("an unknown object got %d (status %d), not an ENOENT error", r2, status);
	return 0;
}

static int session(const struct args *a, const struct lz_image *img, const struct lz_image *eager)
{
	struct lz_xport_cfg c = { .tls = a->tls, .idle_ms = 30000, .cancel_fd = -1 };
	uint64_t bytes = 0, pages = 0;
	struct lz_xport *x = NULL;
	char err[512] = "";
	size_t i, nr = 0;
	int ret = 0;

	if (lz_xport_connect(a->host, a->port, &c, &x, err, sizeof(err)) || lz_rc_hello(x, lzimg_dump_id(img), err, sizeof(err))) {
		lz_xport_close(x);
		return fail("%s", err);
	}
	for (i = 0; !ret && i < lzimg_nr_objs(img); i++) {
		const struct lz_obj *o = lzimg_obj(img, i);

		if (!o->remote)
			continue;
		if (a->bad && !nr)
			ret = bad_requests(x, o);
		if (!ret)
			ret = fetch_obj(x, o, eager, &bytes);
		pages += o->nr_pages;
		nr++;
	}
	if (!ret && lz_rc_end(x, true, err, sizeof(err)))
		ret = fail("%s", err);
	lz_xport_close(x);
	if (!ret)
		printf("lzfetch: OK %zu objects %" PRIu64 " pages %" PRIu64 " bytes%s\n", nr, pages, bytes,
		       eager ? ", every page as in the eager dump" : "");
	return ret;
}

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option o[] = {
		{ "images", 1, NULL, 'i' },
		{ "host", 1, NULL, 'h' },
		{ "port", 1, NULL, 'p' },
		{ "check", 1, NULL, 'c' },
		{ "bad", 0, NULL, 'b' },
		{ "tls", 0, NULL, 't' },
		{ "cacert", 1, NULL, 'A' },
		{ "cert", 1, NULL, 'C' },
		{ "key", 1, NULL, 'K' },
		{ "name", 1, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'i':
			a->images = optarg;
			break;
		case 'h':
			a->host = optarg;
			break;
		case 'p':
			a->port = (uint16_t)atoi(optarg);
			break;
		case 'c':
			a->check = optarg;
			break;
		case 'b':
			a->bad = 1;
			break;
		case 't':
			a->tls.on = true;
			break;
		case 'A':
			a->tls.cacert = optarg;
			break;
		case 'C':
			a->tls.cert = optarg;
			break;
		case 'K':
			a->tls.key = optarg;
			break;
		case 'N':
			a->tls.verify_name = optarg;
			break;
		default:
			return -1;
		}
	}
	return a->images && a->host && a->port ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct lz_image *img, *eager = NULL;
	struct args a = { 0 };
	int ret;

	if (parse(argc, argv, &a)) {
		fprintf(stderr, "usage: lzfetch --images DIR --host H --port P [--check EAGER] [--bad] [--tls --cacert F "
				"--cert F --key F [--name N]]\n");
		return 2;
	}
	img = load(a.images, 1);
	if (!img)
		return 1;
	if (!lzimg_nr_remote(img)) {
		lzimg_free(img);
		return fail("%s has no remote objects", a.images);
	}
	if (a.check && !(eager = load(a.check, 0))) {
		lzimg_free(img);
		return 1;
	}
	ret = session(&a, img, eager);
	lzimg_free(img);
	if (eager)
		lzimg_free(eager);
	return ret;
}
