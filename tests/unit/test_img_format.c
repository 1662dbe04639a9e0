// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lazyshm-shmem.img format: encode -> decode round trip, and every way a
 * damaged or hostile image must be refused with a clear error (never a
 * crash): truncation at every byte, wrong magic, wrong version, absurd
 * sizes and counts, overflowing offsets, duplicates, a missing image.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lazyshm.pb-c.h"
#include "lzimg.h"

static const struct lz_range memfd_runs[] = { { 0, 2 }, { 5, 1 }, { 9, 3 } };
static const uint64_t memfd_digests[] = { 11, 12, 15, 19, 20, 21 };
static const struct lz_range huge_runs[] = { { 1, 1 } };
static const uint64_t huge_digests[] = { 0xdeadbeefcafef00dULL };

/* A valid two-object image description; tests copy and damage it. */
static void good_specs(struct lz_obj_spec s[2])
{
	memset(s, 0, 2 * sizeof(*s));
	s[0] = (struct lz_obj_spec){ .shmid = 34, .kind = LZ_KIND_MEMFD, .name = "lztest", .page_size = 4096, .size = 12 * 4096 - 100, .nr_pages = 12, .nr_data_pages = 6, .nr_runs = 3, .runs = memfd_runs, .nr_digests = 6, .digests = memfd_digests, .hint_kind = LZ_HINT_RESIDENT, .nr_hint = 3, .hint = memfd_runs };
	s[1] = (struct lz_obj_spec){ .shmid = 7, .kind = LZ_KIND_HUGETLB_SYSV, .name = "SYSV00001234", .has_sysv_key = 1, .sysv_key = 0x1234, .hugetlb_flag = (21u << 26) | 04000, .page_size = 2u << 20, .size = 4u << 20, .nr_pages = 2, .nr_data_pages = 1, .nr_runs = 1, .runs = huge_runs, .nr_digests = 1, .digests = huge_digests };
}

static int parse(const void *buf, size_t len, char *err)
{
	struct lz_image *img = NULL;
	int ret;

	err[0] = '\0';
	ret = lzimg_parse(buf, len, NULL, &img, err, LZIMG_ERRLEN);
	if (ret == 0)
		lzimg_free(img);
	return ret;
}

/* Encode specs and expect the parser to refuse them with text containing want. */
static void expect_refused(const struct lz_obj_spec *s, size_t n, const char *want)
{
	char err[LZIMG_ERRLEN];
	void *buf = NULL;
	size_t len = 0;

	assert_int_equal(lzimg_encode(s, n, LZIMG_VERSION, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(parse(buf, len, err), -EINVAL);
	print_message("refused as expected: %s\n", err);
	assert_non_null(strstr(err, "lazyshm-shmem.img"));
	assert_non_null(strstr(err, want));
	free(buf);
}

static void test_round_trip(void **state)
{
	struct lz_obj_spec s[2];
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	const struct lz_obj *o;
	void *buf = NULL;
	uint64_t d;
	size_t len = 0;

	good_specs(s);
	assert_int_equal(lzimg_encode(s, 2, LZIMG_VERSION, &buf, &len, err, sizeof(err)), 0);
	assert_memory_equal(buf, "LZSH\x01\0\0\0", 8);
	assert_int_equal(lzimg_parse(buf, len, NULL, &img, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_objs(img), 2);
	assert_int_equal(lzimg_nr_digests(img), 7);
	o = lzimg_obj(img, 0); /* sorted by shmid */
	assert_int_equal(o->shmid, 7);
	assert_int_equal(o->kind, LZ_KIND_HUGETLB_SYSV);
	assert_string_equal(o->name, "SYSV00001234");
	assert_true(o->has_sysv_key);
	assert_int_equal(o->sysv_key, 0x1234);
	assert_int_equal(o->page_size, 2u << 20);
	assert_int_equal(o->hugetlb_flag, (21u << 26) | 04000);
	assert_int_equal(o->hint_kind, LZ_HINT_NONE);
	assert_int_equal(lzimg_page_digest(o, 0, &d), 0);
	assert_int_equal(lzimg_page_digest(o, 1, &d), 1);
	assert_true(d == 0xdeadbeefcafef00dULL);
	assert_null(lzimg_obj(img, 2));

	o = lzimg_find(img, 34);
	assert_non_null(o);
	assert_string_equal(o->name, "lztest");
	assert_int_equal(o->size, 12 * 4096 - 100);
	assert_int_equal(o->nr_pages, 12);
	assert_int_equal(o->nr_data_pages, 6);
	assert_int_equal(o->nr_runs, 3);
	assert_int_equal(o->hint_kind, LZ_HINT_RESIDENT);
	assert_int_equal(o->nr_hint, 3);
	assert_int_equal(o->hint[2].start, 9);
	{
		/* page -> digest for every page, holes included */
		static const int64_t want[12] = { 11, 12, -1, -1, -1, 15, -1, -1, -1, 19, 20, 21 };
		uint64_t i;

		for (i = 0; i < 12; i++) {
			int has = lzimg_page_digest(o, i, &d);

			assert_int_equal(has, want[i] >= 0);
			if (has)
				assert_int_equal(d, want[i]);
		}
		assert_int_equal(lzimg_page_digest(o, 12, &d), 0);
		assert_int_equal(lzimg_page_digest(o, UINT64_MAX, &d), 0);
	}
	assert_null(lzimg_find(img, 35));
	assert_null(lzimg_find(img, 0));
	lzimg_free(img);
	free(buf);
}

static void test_empty_image(void **state)
{
	char err[LZIMG_ERRLEN];
	struct lz_image *img = NULL;
	void *buf = NULL;
	size_t len = 0;

	assert_int_equal(lzimg_encode(NULL, 0, LZIMG_VERSION, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(lzimg_parse(buf, len, NULL, &img, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_objs(img), 0);
	assert_null(lzimg_find(img, 1));
	lzimg_free(img);
	free(buf);
}

static char *mkdtemp_dir(void)
{
	char *d = strdup("/tmp/lzimg-test-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_dir(char *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

static void test_write_load_missing(void **state)
{
	struct lz_obj_spec s[2];
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	char *dir = mkdtemp_dir();
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(dfd >= 0);
	assert_int_equal(lzimg_load(dfd, &img, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "lazyshm-shmem.img"));
	print_message("missing image: %s\n", err);

	good_specs(s);
	s[0].nr_pages = 13; /* invalid: lzimg_write must refuse and write nothing */
	assert_int_equal(lzimg_write(dfd, s, 2, err, sizeof(err)), -EINVAL);
	assert_int_equal(faccessat(dfd, "lazyshm-shmem.img", F_OK, 0), -1);
	assert_int_equal(faccessat(dfd, "lazyshm-shmem.img.tmp", F_OK, 0), -1);

	good_specs(s);
	assert_int_equal(lzimg_write(dfd, s, 2, err, sizeof(err)), 0);
	assert_int_equal(faccessat(dfd, "lazyshm-shmem.img.tmp", F_OK, 0), -1);
	assert_int_equal(lzimg_load(dfd, &img, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_objs(img), 2);
	assert_non_null(lzimg_find(img, 34));
	lzimg_free(img);
	close(dfd);
	rm_dir(dir);
}

static void file_specs(struct lz_obj_spec s[3]);

/* The geometry-only load: same objects, runs and files fields, no digests */
static void test_load_meta(void **state)
{
	struct lz_image *full = NULL, *meta = NULL;
	char err[LZIMG_ERRLEN] = "";
	struct lz_obj_spec s[3];
	char *dir = mkdtemp_dir();
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	uint64_t d;
	size_t i;

	assert_true(dfd >= 0);
	assert_int_equal(lzimg_load_meta(dfd, &meta, err, sizeof(err)), -ENOENT);
	file_specs(s);
	assert_int_equal(lzimg_write(dfd, s, 3, err, sizeof(err)), 0);
	assert_int_equal(lzimg_load(dfd, &full, err, sizeof(err)), 0);
	assert_int_equal(lzimg_load_meta(dfd, &meta, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_objs(meta), lzimg_nr_objs(full));
	assert_int_equal(lzimg_nr_digests(meta), lzimg_nr_digests(full));
	for (i = 0; i < lzimg_nr_objs(full); i++) {
		const struct lz_obj *f = lzimg_obj(full, i), *m = lzimg_obj(meta, i);

		assert_true(f->shmid == m->shmid);
		assert_int_equal(f->kind, m->kind);
		assert_true(f->size == m->size && f->nr_pages == m->nr_pages);
		assert_true(f->nr_data_pages == m->nr_data_pages);
		assert_int_equal(f->nr_runs, m->nr_runs);
		assert_memory_equal(f->runs, m->runs, f->nr_runs * sizeof(*f->runs));
		assert_string_equal(f->name, m->name);
		assert_int_equal(f->unlinked, m->unlinked);
		assert_true(f->ino == m->ino && f->ctime_ns == m->ctime_ns);
		assert_null(m->digests);
		if (m->nr_data_pages)
			assert_int_equal(lzimg_page_digest(m, m->runs[0].start, &d), -EINVAL);
	}
	lzimg_free(full);
	lzimg_free(meta);
	close(dfd);
	rm_dir(dir);
}

static void test_truncated(void **state)
{
	struct lz_obj_spec s[2];
	char err[LZIMG_ERRLEN];
	void *buf = NULL;
	size_t len = 0, cut;

	good_specs(s);
	assert_int_equal(lzimg_encode(s, 2, LZIMG_VERSION, &buf, &len, err, sizeof(err)), 0);
	for (cut = 0; cut < len; cut++) {
		void *copy = malloc(cut + 1); /* exact size: ASan sees any overread */

		memcpy(copy, buf, cut);
		assert_int_equal(parse(copy, cut, err), -EINVAL);
		assert_non_null(strstr(err, "lazyshm-shmem.img"));
		if (cut == 4 || cut == len - 1)
			print_message("cut at %zu: %s\n", cut, err);
		free(copy);
	}
	free(buf);
}

static void test_magic_version(void **state)
{
	struct lz_obj_spec s[2];
	char err[LZIMG_ERRLEN];
	uint8_t *buf = NULL;
	size_t len = 0;

	good_specs(s);
	assert_int_equal(lzimg_encode(s, 2, LZIMG_VERSION, (void **)&buf, &len, err, sizeof(err)), 0);
	buf[0] ^= 0x20;
	assert_int_equal(parse(buf, len, err), -EINVAL);
	assert_non_null(strstr(err, "bad magic"));
	print_message("%s\n", err);
	buf[0] ^= 0x20;
	buf[4] = 2; /* header version 2, head version 1 */
	assert_int_equal(parse(buf, len, err), -EINVAL);
	assert_non_null(strstr(err, "unsupported format version 2"));
	print_message("%s\n", err);
	free(buf);

	/* Both say 2: still refused by the header check. */
	assert_int_equal(lzimg_encode(s, 2, 2, (void **)&buf, &len, err, sizeof(err)), 0);
	assert_int_equal(parse(buf, len, err), -EINVAL);
	assert_non_null(strstr(err, "version"));
	buf[4] = 1; /* header 1, head 2 */
	assert_int_equal(parse(buf, len, err), -EINVAL);
	assert_non_null(strstr(err, "head says version 2"));
	print_message("%s\n", err);
	free(buf);
}

static void test_entry_length(void **state)
{
	struct lz_obj_spec s[2];
	char err[LZIMG_ERRLEN];
	uint8_t *buf = NULL, *big;
	size_t len = 0;

	good_specs(s);
	assert_int_equal(lzimg_encode(s, 2, LZIMG_VERSION, (void **)&buf, &len, err, sizeof(err)), 0);
	memset(buf + 8, 0xff, 4); /* head length 4 GiB - 1 */
	assert_int_equal(parse(buf, len, err), -EINVAL);
	assert_non_null(strstr(err, "claims 4294967295 bytes"));
	print_message("%s\n", err);
	free(buf);

	/* Trailing garbage after the last object. */
	assert_int_equal(lzimg_encode(s, 2, LZIMG_VERSION, (void **)&buf, &len, err, sizeof(err)), 0);
	big = calloc(1, len + 16);
	memcpy(big, buf, len);
	assert_int_equal(parse(big, len + 16, err), -EINVAL);
	assert_non_null(strstr(err, "unexpected bytes"));
	free(big);
	free(buf);
}

static void test_geometry(void **state)
{
	struct lz_obj_spec s[2];

	good_specs(s);
	s[0].nr_pages = 1000000; /* page count larger than size / page size */
	expect_refused(s, 2, "page count 1000000 inconsistent");

	good_specs(s);
	s[0].size = UINT64_MAX; /* overflowing size */
	expect_refused(s, 2, "inconsistent with size 18446744073709551615");

	good_specs(s);
	s[0].page_size = 12288;
	expect_refused(s, 2, "not a power of two");

	good_specs(s);
	s[0].page_size = 0;
	expect_refused(s, 2, "not a power of two");

	good_specs(s);
	s[1].page_size = 4096; /* hugetlb kind with 4K pages */
	s[1].nr_pages = 1024;
	expect_refused(s, 2, "does not fit kind hugetlb-sysv");

	good_specs(s);
	s[0].kind = 99;
	expect_refused(s, 2, "unknown kind 99");

	good_specs(s);
	s[1].shmid = 34;
	expect_refused(s, 2, "shmid 34 appears twice");
}

static void test_runs_digests(void **state)
{
	struct lz_range bad[3] = { { 0, 2 }, { 5, 1 }, { 9, 3 } };
	uint64_t many[8] = { 0 };
	struct lz_obj_spec s[2];

	good_specs(s);
	s[0].nr_digests = 7; /* more digests than pages with data */
	s[0].digests = many;
	expect_refused(s, 2, "more digests than pages");

	good_specs(s);
	s[0].nr_digests = 5;
	expect_refused(s, 2, "digests missing");

	good_specs(s);
	s[0].nr_data_pages = 7;
	expect_refused(s, 2, "nr_data_pages says 7");

	good_specs(s);
	s[0].runs = bad;
	bad[2].len = 4; /* pages 9..12 of a 12-page object */
	expect_refused(s, 2, "beyond the object's 12 pages");

	bad[2] = (struct lz_range){ UINT64_MAX - 1, 5 }; /* overflowing run end */
	expect_refused(s, 2, "beyond the object's 12 pages");

	bad[2] = (struct lz_range){ 5, 3 }; /* overlaps the previous run */
	expect_refused(s, 2, "not after the previous run");

	bad[2] = (struct lz_range){ 6, 3 }; /* adjacent: not canonical */
	expect_refused(s, 2, "not after the previous run");

	bad[2] = (struct lz_range){ 9, 0 };
	expect_refused(s, 2, "is empty");

	good_specs(s);
	s[0].hint = bad;
	bad[2] = (struct lz_range){ 11, 2 };
	expect_refused(s, 2, "hint_runs run 2");

	good_specs(s);
	s[1].hint_kind = 7;
	expect_refused(s, 2, "unknown hint kind 7");
}

/* Frame a raw head and raw objects, bypassing the encoder's pairing. */
static size_t frame(uint8_t *out, const LazyshmHead *h, const LazyshmObject *o)
{
	size_t pos = 8, n;

	memcpy(out, "LZSH\x01\0\0\0", 8);
	n = lazyshm_head__pack(h, out + pos + 4);
	memcpy(out + pos, &(uint32_t){ n }, 4);
	pos += 4 + n;
	if (o) {
		n = lazyshm_object__pack(o, out + pos + 4);
		memcpy(out + pos, &(uint32_t){ n }, 4);
		pos += 4 + n;
	}
	return pos;
}

static void test_raw_counts(void **state)
{
	LazyshmHead h = LAZYSHM_HEAD__INIT;
	LazyshmObject o = LAZYSHM_OBJECT__INIT;
	uint64_t runs[3] = { 0, 1, 2 }, dig[1] = { 5 };
	char err[LZIMG_ERRLEN];
	uint8_t buf[512];
	size_t len;

	h.version = 1;
	h.digest_algo = LAZYSHM_DIGEST_ALGO__XXH3_64;
	h.nr_objects = 4000000000u; /* absurd object count */
	len = frame(buf, &h, NULL);
	assert_int_equal(parse(buf, len, err), -EINVAL);
	assert_non_null(strstr(err, "claims 4000000000 objects"));
	print_message("%s\n", err);

	h.nr_objects = 1;
	h.nr_digests = 1;
	o.shmid = 9;
	o.kind = LAZYSHM_KIND__ANON_SHARED;
	o.page_size = 4096;
	o.size = 3 * 4096;
	o.nr_pages = 3;
	o.nr_data_pages = 1;
	o.n_data_runs = 3; /* odd: not (start, len) pairs */
	o.data_runs = runs;
	o.n_digests = 1;
	o.digests = dig;
	len = frame(buf, &h, &o);
	assert_int_equal(parse(buf, len, err), -EINVAL);
	assert_non_null(strstr(err, "odd number"));
	assert_non_null(strstr(err, "shmid 9"));
	print_message("%s\n", err);

	o.n_data_runs = 2;
	h.nr_digests = 2; /* head disagrees with the objects */
	len = frame(buf, &h, &o);
	assert_int_equal(parse(buf, len, err), -EINVAL);
	assert_non_null(strstr(err, "head says 2"));

	h.nr_digests = 1;
	h.digest_algo = 3;
	len = frame(buf, &h, &o);
	assert_int_equal(parse(buf, len, err), -EINVAL);
	assert_non_null(strstr(err, "unknown digest algorithm 3"));

	h.digest_algo = LAZYSHM_DIGEST_ALGO__XXH3_64;
	len = frame(buf, &h, &o);
	assert_int_equal(parse(buf, len, err), 0);
	/* Object body starts after the header, the head and two lengths;
	 * wire type 7 does not exist. */
	buf[16 + buf[8]] = 0x0f;
	assert_int_equal(parse(buf, len, err), -EINVAL);
	assert_non_null(strstr(err, "does not decode"));
	print_message("%s\n", err);
}

static const struct lz_range file_runs[] = { { 0, 1 }, { 3, 2 } };
static const uint64_t file_digests[] = { 101, 103, 104 };

/* A hugetlb file, an unlinked tmpfs file and a memfd. */
static void file_specs(struct lz_obj_spec s[3])
{
	memset(s, 0, 3 * sizeof(*s));
	s[0] = (struct lz_obj_spec){ .shmid = LZ_FILE_SHMID(3), .kind = LZ_KIND_HUGETLB_FILE, .name = "/mnt/huge/vm-ram", .page_size = 2u << 20, .size = 6u << 20, .nr_pages = 3, .nr_data_pages = 1, .nr_runs = 1, .runs = file_runs, .nr_digests = 1, .digests = file_digests, .hint_kind = LZ_HINT_RESIDENT, .nr_hint = 1, .hint = file_runs };
	s[0].remap_id = 3;
	s[0].mode = 0100640;
	s[0].uid = 1000;
	s[0].gid = 100;
	s[0].dev = 0x27;
	s[0].ino = 552130;
	s[0].ctime_ns = 1700000000123456789LL;
	s[0].boot_id = "0d64b2d8-4508-72c4-f98d-607c31dab1ce";
	s[0].pages_file = "lazyshm-file-3.pages";
	s[1] = (struct lz_obj_spec){ .shmid = LZ_FILE_SHMID(12), .kind = LZ_KIND_SHM_FILE, .name = "/dev/shm/unl", .page_size = 4096, .size = 5 * 4096 - 1, .nr_pages = 5, .nr_data_pages = 3, .nr_runs = 2, .runs = file_runs, .nr_digests = 3, .digests = file_digests };
	s[1].remap_id = 12;
	s[1].unlinked = 1;
	s[1].private_mapped = 1;
	s[1].mode = 0100600;
	s[1].pages_file = "lazyshm-file-12.pages";
	s[2] = (struct lz_obj_spec){ .shmid = 12, .kind = LZ_KIND_MEMFD, .name = "lztest", .page_size = 4096, .size = 5 * 4096, .nr_pages = 5 };
}

static void test_file_round_trip(void **state)
{
	struct lz_obj_spec s[3];
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	const struct lz_obj *o;
	void *buf = NULL;
	uint64_t d;
	size_t len = 0;

	file_specs(s);
	assert_int_equal(lzimg_encode(s, 3, LZIMG_VERSION, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(lzimg_parse(buf, len, NULL, &img, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_digests(img), 4);
	o = lzimg_find(img, LZ_FILE_SHMID(3));
	assert_non_null(o);
	assert_true(o->shmid == 0x8000000000000003ULL);
	assert_int_equal(o->kind, LZ_KIND_HUGETLB_FILE);
	assert_string_equal(o->name, "/mnt/huge/vm-ram");
	assert_int_equal(o->remap_id, 3);
	assert_false(o->unlinked);
	assert_false(o->private_mapped);
	assert_int_equal(o->mode, 0100640);
	assert_int_equal(o->uid, 1000);
	assert_int_equal(o->gid, 100);
	assert_int_equal(o->dev, 0x27);
	assert_int_equal(o->ino, 552130);
	assert_true(o->ctime_ns == 1700000000123456789LL);
	assert_string_equal(o->boot_id, "0d64b2d8-4508-72c4-f98d-607c31dab1ce");
	assert_string_equal(o->pages_file, "lazyshm-file-3.pages");
	assert_int_equal(lzimg_page_digest(o, 0, &d), 1);
	assert_int_equal(d, 101);
	o = lzimg_find(img, LZ_FILE_SHMID(12));
	assert_non_null(o);
	assert_int_equal(o->kind, LZ_KIND_SHM_FILE);
	assert_true(o->unlinked);
	assert_true(o->private_mapped);
	assert_int_equal(o->uid, 0);
	assert_null(o->boot_id);
	assert_string_equal(o->pages_file, "lazyshm-file-12.pages");
	o = lzimg_find(img, 12); /* a memfd with the same small number: no clash */
	assert_non_null(o);
	assert_null(o->pages_file);
	assert_int_equal(o->remap_id, 0);
	assert_true(lzimg_kind_is_file(LZ_KIND_SHM_FILE));
	assert_true(lzimg_kind_is_file(LZ_KIND_HUGETLB_FILE));
	assert_false(lzimg_kind_is_file(LZ_KIND_HUGETLB_MEMFD));
	assert_string_equal(lzimg_kind_name(LZ_KIND_HUGETLB_FILE), "hugetlb-file");
	assert_string_equal(lzimg_kind_name(LZ_KIND_SHM_FILE), "shm-file");
	lzimg_free(img);
	free(buf);
}

static void test_file_refused(void **state)
{
	static const char *const bad_names[] = { "../x", "lazyshm-file-3.pages/../x", "/tmp/lazyshm-file-3.pages",
						 "lazyshm-file-.pages", "lazyshm-file-3.pages.tmp", "lazyshm-file-3",
						 "lazyshm-file-3.pagesx", "lazyshm-file-+3.pages", "" };
	struct lz_obj_spec s[3];
	size_t i;

	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		file_specs(s);
		s[0].pages_file = bad_names[i];
		expect_refused(s, 3, "is not lazyshm-file-<N>.pages");
	}
	file_specs(s);
	s[0].pages_file = "lazyshm-file-4.pages"; /* another object's */
	expect_refused(s, 3, "does not belong to criu_remap_id 3");

	file_specs(s);
	s[0].pages_file = NULL;
	expect_refused(s, 3, "has no pages_file");

	file_specs(s);
	s[0].remap_id = 0; /* not encoded at all */
	s[0].shmid = LZ_FILE_SHMID(0);
	expect_refused(s, 3, "has no criu_remap_id");

	file_specs(s);
	s[1].shmid = 12 | (1ULL << 62); /* not 1 << 63 | remap id */
	expect_refused(s, 3, "shmid is not (1 << 63) | criu_remap_id 12");

	file_specs(s);
	s[0].size = (6u << 20) - 4096; /* hugetlbfs sizes are page multiples */
	expect_refused(s, 3, "is not a multiple of its page size 2097152");

	file_specs(s);
	s[0].name = "vm-ram";
	expect_refused(s, 3, "without an absolute path");

	file_specs(s);
	s[1].name = NULL;
	expect_refused(s, 3, "without an absolute path");

	file_specs(s);
	s[1].page_size = 2u << 20; /* tmpfs files have 4K pages */
	s[1].nr_pages = 1;
	s[1].nr_runs = 0;
	s[1].nr_data_pages = s[1].nr_digests = 0;
	expect_refused(s, 3, "does not fit kind shm-file");

	file_specs(s);
	s[2].pages_file = "lazyshm-file-12.pages";
	expect_refused(s, 3, "kind memfd carries a pages_file");

	file_specs(s);
	s[2].remap_id = 12;
	expect_refused(s, 3, "kind memfd carries a criu_remap_id");
}

static void test_digest_known_answer(void **state)
{
	static uint8_t page[4096];

	/* XXH3_64bits("") with seed 0, from the xxHash reference. */
	assert_true(lz_digest("", 0) == 0x2D06800538D394C2ULL);
	memset(page, 's', sizeof(page));
	/* Also pinned in the golden image (SysV page of 's'). */
	assert_true(lz_digest(page, sizeof(page)) == 0x2b1ab45d38d8941aULL);
	assert_string_equal(lzimg_kind_name(LZ_KIND_HUGETLB_MEMFD), "hugetlb-memfd");
	assert_string_equal(lzimg_kind_name(0), "unknown");
	assert_string_equal(lzimg_kind_name(1000), "unknown");
	assert_true(lzimg_kind_is_hugetlb(LZ_KIND_HUGETLB_FILE));
	assert_false(lzimg_kind_is_hugetlb(LZ_KIND_SHM_FILE));
}

static const struct lz_range pres_a[] = { { 0, 3 }, { 9, 2 } };
static const struct lz_range pres_b[] = { { 5, 1 } };

/* Pending digests and presence records survive a round trip */
static void test_pending_presence_round_trip(void **state)
{
	struct lz_presence pres[3] = { { 10, 2, pres_a }, { 11, 0, NULL }, { 42, 1, pres_b } };
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	const struct lz_obj *o;
	struct lz_obj_spec s[2];
	void *buf = NULL;
	size_t len = 0;
	int rec;

	(void)state;
	good_specs(s);
	s[0].digests_pending = 1;
	s[0].nr_digests = 0;
	s[0].digests = NULL;
	s[0].nr_presence = 3;
	s[0].presence = pres;
	assert_int_equal(lzimg_encode(s, 2, LZIMG_VERSION, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(lzimg_parse(buf, len, NULL, &img, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_pending(img), 1);
	assert_int_equal(lzimg_nr_digests(img), 1); /* the SysV object's only */
	o = lzimg_find(img, 34);
	assert_non_null(o);
	assert_true(o->digests_pending);
	assert_null(o->digests);
	assert_int_equal(o->nr_data_pages, 6);
	assert_int_equal(lzimg_page_digest(o, 0, &(uint64_t){ 0 }), -EINVAL);
	assert_int_equal(o->nr_presence, 3);
	assert_non_null(lzimg_presence(o, 10, &rec));
	assert_true(rec);
	assert_true(lzimg_presence_has(lzimg_presence(o, 10, &rec), 2));
	assert_false(lzimg_presence_has(lzimg_presence(o, 10, &rec), 3));
	assert_true(lzimg_presence_has(lzimg_presence(o, 10, &rec), 10));
	assert_int_equal(lzimg_presence(o, 11, &rec)->nr_runs, 0);
	assert_null(lzimg_presence(o, 12, &rec));
	assert_true(rec);
	assert_true(lzimg_presence_has(lzimg_presence(o, 42, &rec), 5));
	o = lzimg_find(img, 7);
	assert_false(o->digests_pending);
	assert_null(lzimg_presence(o, 10, &rec));
	assert_false(rec);
	lzimg_free(img);
	free(buf);
}

/* Presence records and pending marks are validated like the rest */
static void test_pending_presence_refused(void **state)
{
	static const struct lz_range beyond[] = { { 11, 2 } }, adjacent[] = { { 0, 2 }, { 2, 1 } };
	struct lz_presence dup[2] = { { 5, 0, NULL }, { 5, 0, NULL } };
	struct lz_presence down[2] = { { 6, 0, NULL }, { 5, 0, NULL } };
	struct lz_presence bad1[1] = { { 1, 1, beyond } }, bad2[1] = { { 1, 2, adjacent } };
	struct lz_obj_spec s[2];

	(void)state;
	good_specs(s);
	s[0].digests_pending = 1; /* with its 6 digests still there */
	expect_refused(s, 2, "marked pending");
	good_specs(s);
	s[0].nr_presence = 2;
	s[0].presence = dup;
	expect_refused(s, 2, "presence record 1 (task 5) is not after task 5");
	s[0].presence = down;
	expect_refused(s, 2, "is not after task 6");
	s[0].nr_presence = 1;
	s[0].presence = bad1;
	expect_refused(s, 2, "presence runs of task 1 run 0 (pages 11+2) lies beyond");
	s[0].presence = bad2;
	expect_refused(s, 2, "presence runs of task 1 run 1 starts at page 2");
}

/* Remote objects: no digests, no pages file, a dump id in the head */
static void remote_specs(struct lz_obj_spec s[3])
{
	file_specs(s);
	s[0].remote = 1; /* a hugetlb file the source serves */
	s[0].nr_digests = 0;
	s[0].digests = NULL;
	s[0].pages_file = NULL;
	good_specs(&s[1]);
	s[1].remote = 1; /* a memfd the source serves */
	s[1].nr_digests = 0;
	s[1].digests = NULL;
}

static const uint8_t dump_id[LZIMG_DUMP_ID_LEN] = { 0xde, 0xad, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };

/* The destination's view of a remote file object: its data runs, no data */
static void remote_geometry(int dfd, const struct lz_obj *o)
{
	char err[LZIMG_ERRLEN] = "", page[4096];
	struct lz_pagesrc *src = NULL;
	uint64_t b, e;

	assert_int_equal(lz_pagesrc_open_remote_obj(dfd, o, &src, err, sizeof(err)), 0);
	assert_int_equal(lz_pagesrc_next_data(src, 0, &b, &e), 1);
	assert_int_equal(b, 0);
	assert_int_equal(e, 2u << 20);
	assert_int_equal(lz_pagesrc_next_data(src, e, &b, &e), 0);
	assert_int_equal(lz_pagesrc_pages_fd(src), -1);
	assert_true(lz_pagesrc_read(src, 0, page, sizeof(page)) < 0);
	assert_non_null(strstr(lz_pagesrc_error(src), "the dump's source serves these pages"));
	lz_pagesrc_close(src);
}

static void test_remote_round_trip(void **state)
{
	struct lz_obj_spec s[3];
	struct lz_pagesrc *src = NULL;
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	const struct lz_obj *o;
	char *dir = mkdtemp_dir();
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	uint64_t dg;

	assert_true(dfd >= 0);
	remote_specs(s);
	/* a remote object needs the dump id */
	assert_int_equal(lzimg_write(dfd, s, 3, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no dump id"));
	assert_int_equal(lzimg_write_id(dfd, dump_id, s, 3, err, sizeof(err)), 0);
	assert_int_equal(lzimg_load(dfd, &img, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_remote(img), 2);
	assert_memory_equal(lzimg_dump_id(img), dump_id, LZIMG_DUMP_ID_LEN);
	assert_int_equal(lzimg_nr_digests(img), 1); /* the one of the hugetlb SysV segment, which is not remote */
	o = lzimg_find(img, LZ_FILE_SHMID(3));
	assert_non_null(o);
	assert_true(o->remote);
	assert_null(o->pages_file);
	assert_null(o->digests);
	assert_int_equal(lzimg_page_data(o, 0), 1);
	assert_int_equal(lzimg_page_data(o, 1), 0);
	assert_int_equal(lzimg_page_digest(o, 0, &dg), -EINVAL);
	remote_geometry(dfd, o);
	o = lzimg_find(img, 34);
	assert_true(o && o->remote && o->nr_data_pages == 6);
	assert_false(lzimg_find(img, 7)->remote);
	assert_int_equal(lz_pagesrc_open_remote_obj(dfd, lzimg_find(img, 7), &src, err, sizeof(err)), -EINVAL);
	/* nothing pending: the image stays as written (test 119 completes one with remote objects) */
	lzimg_free(img);
	assert_int_equal(lzimg_complete_digests(dfd, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(lzimg_load(dfd, &img, err, sizeof(err)), 0);
	assert_memory_equal(lzimg_dump_id(img), dump_id, LZIMG_DUMP_ID_LEN);
	assert_int_equal(lzimg_nr_remote(img), 2);
	lzimg_free(img);
	close(dfd);
	rm_dir(dir);
}

static void test_remote_refused(void **state)
{
	static const uint64_t six[6] = { 1, 2, 3, 4, 5, 6 };
	struct lz_obj_spec s[3];
	char err[LZIMG_ERRLEN] = "";
	char *dir = mkdtemp_dir();
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(dfd >= 0);
	remote_specs(s);
	s[1].nr_digests = 6;
	s[1].digests = six;
	assert_int_equal(lzimg_write_id(dfd, dump_id, s, 3, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "served by the dump's source, but has digests"));
	remote_specs(s);
	s[1].digests_pending = 1;
	assert_int_equal(lzimg_write_id(dfd, dump_id, s, 3, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pending"));
	remote_specs(s);
	s[0].pages_file = "lazyshm-file-3.pages";
	assert_int_equal(lzimg_write_id(dfd, dump_id, s, 3, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "but has a pages_file"));
	print_message("refused as expected: %s\n", err);
	close(dfd);
	rm_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_image),
		cmocka_unit_test(test_write_load_missing),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_magic_version),
		cmocka_unit_test(test_entry_length),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_runs_digests),
		cmocka_unit_test(test_raw_counts),
		cmocka_unit_test(test_digest_known_answer),
		cmocka_unit_test(test_file_round_trip),
		cmocka_unit_test(test_file_refused),
		cmocka_unit_test(test_load_meta),
		cmocka_unit_test(test_pending_presence_round_trip),
		cmocka_unit_test(test_remote_round_trip),
		cmocka_unit_test(test_remote_refused),
		cmocka_unit_test(test_pending_presence_refused),
	};

	return cmocka_run_group_tests_name("img_format", tests, NULL, NULL);
}
