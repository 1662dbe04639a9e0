/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mapping pages into a task: UFFDIO_CONTINUE of pages the daemon filled
 * (in the background only those the task had at dump), a zero page for a
 * touched hole, and the retry of mappings the kernel
 * refused while the task's address space was changing (EAGAIN), kept by
 * object and page so that they mean the same after a move.
 */
#ifndef __LAZYSHM_MAPPER_H__
#define __LAZYSHM_MAPPER_H__

#include <stdbool.h>
#include <stdint.h>

#include "stats.h"
#include "tasks.h"

/* Map the FILLED pages among [first, first+n) of the range's object: 0 or -1 */
int lz_map_filled(struct lz_stats *s, struct lz_task *t, struct lz_vma *r, uint64_t first, uint64_t n);
/*
 * The same for the pages the task had in its page tables at dump (the
 * presence records of lazyshm-shmem.img, by the task's pid in the images):
 * a task without a record (forked after the restore, or without a mapping
 * of the object at dump) gets none, and only faults map pages into it. An
 * object without any record maps every FILLED page, as lz_map_filled().
 */
int lz_map_present(struct lz_stats *s, struct lz_task *t, struct lz_vma *r, uint64_t first, uint64_t n);
/*
 * Resolve the fault on @page of the range's object: with @zero, a zero page
 * (the page reads as zeros and is not in the page cache), else CONTINUE.
 * A page found in the page cache after all is CONTINUEd. 0 or -1.
 */
int lz_map_fault(struct lz_stats *s, struct lz_task *t, struct lz_vma *r, uint64_t page, bool zero);
/* Retry what EAGAIN refused (after the task's event): 0 or -1 */
int lz_map_retry(struct lz_stats *s, struct lz_task *t);
void lz_map_fini(void);

#endif /* __LAZYSHM_MAPPER_H__ */
