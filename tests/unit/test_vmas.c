// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * plugin/ranges.c: a task's address ranges and what they map, through the
 * arithmetic of unmaps (cut at the start, at the end, in the middle, whole,
 * several at once), moves (partial, onto other ranges, overlapping) and
 * forks (copies).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmas.h"

/* Stand-ins for objects: only their addresses matter */
static int obj_a, obj_b, obj_c;
#define A ((struct lz_object *)&obj_a)
#define B ((struct lz_object *)&obj_b)
#define C ((struct lz_object *)&obj_c)

#define K(x) ((uint64_t)(x) << 12)

static int by_start(const void *x, const void *y)
{
	const struct lz_vma *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

/* The ranges of @l, sorted, must be exactly @want */
static void expect(struct lz_vmas *l, const struct lz_vma *want, size_t n)
{
	struct lz_vma *got = malloc((l->nr + 1) * sizeof(*got));
	size_t i;

	assert_non_null(got);
	memcpy(got, l->r, l->nr * sizeof(*got));
	qsort(got, l->nr, sizeof(*got), by_start);
	assert_int_equal(l->nr, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(got[i].start, want[i].start);
		assert_int_equal(got[i].end, want[i].end);
		assert_int_equal(got[i].off, want[i].off);
		assert_ptr_equal(got[i].obj, want[i].obj);
	}
	free(got);
}

/* [1, 5) of A at offset 0, [8, 10) of B at offset 16, [10, 12) of C at 0 (pages) */
static void three(struct lz_vmas *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(lz_vmas_add(l, K(1), K(5), 0, A), 0);
	assert_int_equal(lz_vmas_add(l, K(8), K(10), K(16), B), 0);
	assert_int_equal(lz_vmas_add(l, K(10), K(12), 0, C), 0);
}

static void test_add_find(void **state)
{
	struct lz_vmas l;
	size_t i;

	three(&l);
	assert_ptr_equal(lz_vmas_find(&l, K(1))->obj, A);
	assert_ptr_equal(lz_vmas_find(&l, K(5) - 1)->obj, A);
	assert_null(lz_vmas_find(&l, K(5))); /* the end is not in it */
	assert_null(lz_vmas_find(&l, K(1) - 1));
	assert_null(lz_vmas_find(&l, K(7)));
	assert_ptr_equal(lz_vmas_find(&l, K(9))->obj, B);
	assert_ptr_equal(lz_vmas_find(&l, K(10))->obj, C);
	/* growing past the first allocation keeps every range */
	for (i = 0; i < 100; i++)
		assert_int_equal(lz_vmas_add(&l, K(100 + 2 * i), K(101 + 2 * i), K(i), A), 0);
	assert_int_equal(l.nr, 103);
	assert_int_equal(lz_vmas_find(&l, K(100 + 2 * 57))->off, K(57));
	assert_null(lz_vmas_find(&l, K(101 + 2 * 57)));
	lz_vmas_clear(&l);
	assert_int_equal(l.nr, 0);
	assert_null(lz_vmas_find(&l, K(1)));
	lz_vmas_free(&l);
	assert_null(l.r);
}

static void test_drop_start(void **state)
{
	const struct lz_vma want[] = { { K(2), K(5), K(1), A }, { K(8), K(10), K(16), B }, { K(10), K(12), 0, C } };
	struct lz_vmas l;

	three(&l);
	assert_int_equal(lz_vmas_drop(&l, 0, K(2)), 0);
	expect(&l, want, 3);
	lz_vmas_free(&l);
}

static void test_drop_end(void **state)
{
	const struct lz_vma want[] = { { K(1), K(4), 0, A }, { K(8), K(10), K(16), B }, { K(10), K(11), 0, C } };
	struct lz_vmas l;

	three(&l);
	assert_int_equal(lz_vmas_drop(&l, K(4), K(6)), 0);
	assert_int_equal(lz_vmas_drop(&l, K(11), K(20)), 0);
	expect(&l, want, 3);
	lz_vmas_free(&l);
}

static void test_drop_middle(void **state)
{
	const struct lz_vma want[] = {
		{ K(1), K(2), 0, A }, { K(3), K(5), K(2), A }, { K(8), K(10), K(16), B }, { K(10), K(12), 0, C }
	};
	struct lz_vmas l;

	three(&l);
	assert_int_equal(lz_vmas_drop(&l, K(2), K(3)), 0);
	expect(&l, want, 4);
	lz_vmas_free(&l);
}

static void test_drop_whole(void **state)
{
	const struct lz_vma want[] = { { K(9), K(10), K(17), B } };
	struct lz_vmas l;

	three(&l);
	/* nothing there: nothing changes */
	assert_int_equal(lz_vmas_drop(&l, K(5), K(8)), 0);
	assert_int_equal(l.nr, 3);
	/* A whole, B's start and C whole in one drop (slots are refilled while dropping) */
	assert_int_equal(lz_vmas_drop(&l, K(1), K(5)), 0);
	assert_int_equal(lz_vmas_drop(&l, K(10), K(12)), 0);
	assert_int_equal(lz_vmas_drop(&l, K(7), K(9)), 0);
	expect(&l, want, 1);
	assert_int_equal(lz_vmas_drop(&l, 0, K(1000)), 0);
	assert_int_equal(l.nr, 0);
	lz_vmas_free(&l);
}

static void test_drop_many(void **state)
{
	const struct lz_vma want[] = { { K(1), K(3), 0, A }, { K(11), K(12), K(1), C } };
	struct lz_vmas l;

	three(&l);
	/* one drop over the end of A, all of B and the start of C */
	assert_int_equal(lz_vmas_drop(&l, K(3), K(11)), 0);
	expect(&l, want, 2);
	lz_vmas_free(&l);
}

static void test_remap_whole(void **state)
{
	const struct lz_vma want[] = { { K(8), K(10), K(16), B }, { K(10), K(12), 0, C }, { K(101), K(105), 0, A } };
	struct lz_vmas l;

	three(&l);
	assert_int_equal(lz_vmas_remap(&l, K(1), K(101), K(4)), 0);
	expect(&l, want, 3);
	assert_null(lz_vmas_find(&l, K(1)));
	lz_vmas_free(&l);
}

static void test_remap_partial(void **state)
{
	/* [2, 4) of A moves to [50, 52); [1, 2) and [4, 5) stay */
	const struct lz_vma want[] = { { K(1), K(2), 0, A },
					 { K(4), K(5), K(3), A },
					 { K(8), K(10), K(16), B },
					 { K(10), K(12), 0, C },
					 { K(50), K(52), K(1), A } };
	struct lz_vmas l;

	three(&l);
	assert_int_equal(lz_vmas_remap(&l, K(2), K(50), K(2)), 0);
	expect(&l, want, 5);
	lz_vmas_free(&l);
}

static void test_remap_onto(void **state)
{
	/* [9, 11) (the end of B, the start of C) moves onto A's [2, 4): what was there is gone */
	const struct lz_vma want[] = { { K(1), K(2), 0, A }, { K(2), K(3), K(17), B }, { K(3), K(4), 0, C }, { K(4), K(5), K(3), A }, { K(8), K(9), K(16), B }, { K(11), K(12), K(1), C } };
	struct lz_vmas l;

	three(&l);
	assert_int_equal(lz_vmas_remap(&l, K(9), K(2), K(2)), 0);
	expect(&l, want, 6);
	lz_vmas_free(&l);
}

static void test_remap_overlap(void **state)
{
	/* source and destination overlap: A [1, 5) moves up by two pages */
	const struct lz_vma want[] = { { K(3), K(7), 0, A }, { K(8), K(10), K(16), B }, { K(10), K(12), 0, C } };
	struct lz_vmas l;

	three(&l);
	assert_int_equal(lz_vmas_remap(&l, K(1), K(3), K(4)), 0);
	expect(&l, want, 3);
	lz_vmas_free(&l);
}

static void test_remap_nothing(void **state)
{
	/* moving unknown memory onto C drops C's part there */
	const struct lz_vma want[] = { { K(1), K(5), 0, A }, { K(8), K(10), K(16), B }, { K(11), K(12), K(1), C } };
	struct lz_vmas l;

	three(&l);
	assert_int_equal(lz_vmas_remap(&l, K(200), K(10), K(1)), 0);
	expect(&l, want, 3);
	lz_vmas_free(&l);
}

static void test_copy(void **state)
{
	const struct lz_vma want[] = { { K(1), K(5), 0, A }, { K(8), K(10), K(16), B }, { K(10), K(12), 0, C } };
	struct lz_vmas src, dst = { 0 };

	three(&src);
	assert_int_equal(lz_vmas_add(&dst, K(500), K(501), 0, B), 0);
	assert_int_equal(lz_vmas_copy(&dst, &src), 0);
	expect(&dst, want, 3); /* what dst had is replaced */
	/* the copy is its own: changing the parent leaves the child alone */
	assert_int_equal(lz_vmas_drop(&src, 0, K(100)), 0);
	expect(&dst, want, 3);
	/* an empty source gives an empty copy */
	assert_int_equal(lz_vmas_copy(&dst, &src), 0);
	assert_int_equal(dst.nr, 0);
	lz_vmas_free(&src);
	lz_vmas_free(&dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find),
		cmocka_unit_test(test_drop_start),
		cmocka_unit_test(test_drop_end),
		cmocka_unit_test(test_drop_middle),
		cmocka_unit_test(test_drop_whole),
		cmocka_unit_test(test_drop_many),
		cmocka_unit_test(test_remap_whole),
		cmocka_unit_test(test_remap_partial),
		cmocka_unit_test(test_remap_onto),
		cmocka_unit_test(test_remap_overlap),
		cmocka_unit_test(test_remap_nothing),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
