/* SPDX-License-Identifier: GPL-2.0-or-later */
/* micro: shared helpers of the microbenchmarks (see micro.c). */
#ifndef LAZYSHM_BENCH_MICRO_H
#define LAZYSHM_BENCH_MICRO_H

#include <stdbool.h>
#include <stdint.h>

/* A shared object: a memfd, hugetlb (2M) when page_size says so */
struct mb_obj {
	int fd;
	uint64_t psz, size;
	void *maps[2];
	int nr_maps;
};

uint64_t mb_now_ns(void);
int mb_obj_new(struct mb_obj *o, uint64_t psz, uint64_t size);
/* A new MAP_SHARED mapping of the whole object (NULL on failure) */
char *mb_obj_map(struct mb_obj *o);
void mb_obj_free(struct mb_obj *o);
/* Print a "skipped" line for a test that lacks hugepages; returns 0 */
int mb_skip(const char *test, uint64_t psz);
/* Sort @v and print count/p50/p99/mean of it as JSON fields */
void mb_print_lat(uint64_t *v, uint64_t n);

int mb_uffd_rt(uint64_t psz, bool spin, bool fill, bool quick);
int mb_first_touch(uint64_t psz);
int mb_continue_bw(uint64_t psz);
int mb_pread_setup(const char *file, uint64_t size);
int mb_pread_bw(const char *file, uint64_t size, uint64_t chunk, uint64_t psz);
/* The ways to fill a fresh object from @file's first @size bytes (micro_fill.c) */
int mb_fill_methods(const char *file, uint64_t size);

#endif
