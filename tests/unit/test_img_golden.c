// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Golden images (images/golden/): decode lazyshm images written by an
 * earlier build from a real dump and check known values, so that format,
 * encoder or digest drift is caught. See images/golden/README.md.
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

#include "lzimg.h"

#define GOLDEN LZ_TOP "/images/golden/smoke"

struct want {
	uint64_t shmid;
	int kind;
	const char *name;
	uint32_t page_size;
	uint64_t size;
	uint64_t nr_pages;
	uint64_t nr_data_pages;
	uint64_t first_page;
	uint64_t first_digest;
};

static const struct want want[] = {
	{ 0, LZ_KIND_SYSV, "SYSV00001234", 4096, 20480, 5, 1, 2, 0x2b1ab45d38d8941aULL },
	{ 33, LZ_KIND_ANON_SHARED, "/dev/zero", 4096, 1048576, 256, 5, 0, 0x88a30670e919701eULL },
	{ 34, LZ_KIND_MEMFD, "lztest", 4096, 122980, 31, 2, 1, 0xd822e84ad862bbd1ULL },
	{ 34649, LZ_KIND_HUGETLB_ANON, "/anon_hugepage", 2 << 20, 4 << 20, 2, 2, 0, 0x8c67b1fb5f66cbacULL },
	{ 34650, LZ_KIND_HUGETLB_MEMFD, "lzhuge", 2 << 20, 2 << 20, 1, 1, 0, 0xdc0c5fb6aba7fe54ULL },
};

static int golden_dir(void)
{
	int dfd = open(GOLDEN, O_RDONLY | O_DIRECTORY);

	if (dfd < 0)
		fail_msg("can't open %s", GOLDEN);
	return dfd;
}

static void test_decode_known_values(void **state)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	int dfd = golden_dir();
	size_t i;

	if (lzimg_load(dfd, &img, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(lzimg_nr_objs(img), 5);
	assert_int_equal(lzimg_nr_digests(img), 11);
	for (i = 0; i < 5; i++) {
		const struct lz_obj *o = lzimg_obj(img, i);
		uint64_t d;

		assert_int_equal(o->shmid, want[i].shmid);
		assert_ptr_equal(lzimg_find(img, want[i].shmid), o);
		assert_int_equal(o->kind, want[i].kind);
		assert_string_equal(o->name, want[i].name);
		assert_int_equal(o->page_size, want[i].page_size);
		assert_int_equal(o->size, want[i].size);
		assert_int_equal(o->nr_pages, want[i].nr_pages);
		assert_int_equal(o->nr_data_pages, want[i].nr_data_pages);
		assert_int_equal(o->hint_kind, LZ_HINT_RESIDENT);
		assert_int_equal(lzimg_page_digest(o, want[i].first_page, &d), 1);
		assert_true(d == want[i].first_digest);
	}
	assert_int_equal(lzimg_obj(img, 0)->sysv_key, 0x1234);
	assert_int_equal(lzimg_obj(img, 3)->hugetlb_flag, (21u << 26) | 4);
	lzimg_free(img);
	close(dfd);
}

/* The digests are XXH3 of the page content the workload wrote. */
static void test_digests_of_known_content(void **state)
{
	static uint8_t page[4096];

	memset(page, 's', sizeof(page));
	assert_true(lz_digest(page, sizeof(page)) == want[0].first_digest);
	memset(page, 'a', sizeof(page));
	assert_true(lz_digest(page, sizeof(page)) == want[1].first_digest);
	memset(page, 'm', sizeof(page));
	assert_true(lz_digest(page, sizeof(page)) == want[2].first_digest);
}

/* Re-verify the two objects whose CRIU page images are kept. */
static void test_against_criu_pages(void **state)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	int dfd = golden_dir();
	uint64_t shmids[] = { 0, 34 }, d, actual, p;
	size_t i;

	assert_int_equal(lzimg_load(dfd, &img, err, sizeof(err)), 0);
	for (i = 0; i < 2; i++) {
		const struct lz_obj *o = lzimg_find(img, shmids[i]);
		struct lz_pagesrc *s = NULL;
		uint64_t checked = 0;

		if (lz_pagesrc_open(dfd, shmids[i], &s, err, sizeof(err)))
			fail_msg("%s", err);
		for (p = 0; p < o->nr_pages; p++) {
			assert_int_equal(lz_pagesrc_digest(s, p, o->page_size, &actual), 0);
			if (lzimg_page_digest(o, p, &d)) {
				assert_true(actual == d);
				checked++;
			} else {
				assert_int_equal(lz_pagesrc_has_data(s, p * o->page_size, o->page_size), 0);
			}
		}
		assert_int_equal(checked, o->nr_data_pages);
		lz_pagesrc_close(s);
	}
	lzimg_free(img);
	close(dfd);
}

/* Encoding the decoded objects again must give the same bytes. */
static void test_reencode_identical(void **state)
{
	struct lz_obj_spec spec[5];
	struct lz_range runs[5][4];
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	void *file = NULL, *buf = NULL;
	size_t flen = 0, len = 0, i, k;
	int dfd = golden_dir(), fd;
	ssize_t n;

	assert_int_equal(lzimg_load(dfd, &img, err, sizeof(err)), 0);
	for (i = 0; i < 5; i++) {
		const struct lz_obj *o = lzimg_obj(img, i);

		assert_true(o->nr_runs <= 4);
		for (k = 0; k < o->nr_runs; k++)
			runs[i][k] = (struct lz_range){ o->runs[k].start, o->runs[k].len };
		spec[i] = (struct lz_obj_spec){ .shmid = o->shmid, .kind = o->kind, .name = o->name, .has_sysv_key = o->has_sysv_key, .sysv_key = o->sysv_key, .hugetlb_flag = o->hugetlb_flag, .page_size = o->page_size, .size = o->size, .nr_pages = o->nr_pages, .nr_data_pages = o->nr_data_pages, .nr_runs = o->nr_runs, .runs = runs[i], .nr_digests = o->nr_data_pages, .digests = o->digests, .hint_kind = o->hint_kind, .nr_hint = o->nr_hint, .hint = o->hint };
	}
	assert_int_equal(lzimg_encode(spec, 5, LZIMG_VERSION, &buf, &len, err, sizeof(err)), 0);
	fd = openat(dfd, LZIMG_FILE, O_RDONLY);
	assert_true(fd >= 0);
	file = malloc(len + 1);
	n = read(fd, file, len + 1);
	assert_true(n >= 0);
	flen = n;
	close(fd);
	assert_int_equal(flen, len);
	assert_memory_equal(file, buf, len);
	free(file);
	free(buf);
	lzimg_free(img);
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_known_values),
		cmocka_unit_test(test_digests_of_known_content),
		cmocka_unit_test(test_against_criu_pages),
		cmocka_unit_test(test_reencode_identical),
	};

	return cmocka_run_group_tests_name("img_golden", tests, NULL, NULL);
}
