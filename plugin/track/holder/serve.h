/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lazyshm-trackd: answering the faults and events of a lazily restored
 * tree's userfaultfds once the lazy-pages daemon handed them over */
#ifndef __LAZYSHM_TRACKD_SERVE_H__
#define __LAZYSHM_TRACKD_SERVE_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Answer what @uffd has to say (non-blocking): 0, or -errno (then the
 * holder closes it, and the kernel answers the faults itself) */
int lz_serve(int uffd, bool wp);
struct lz_serve_stats {
	unsigned long long minor, missing, events;
};
const struct lz_serve_stats *lz_serve_stats(void);
/* The ranges removed since the last clear, in the tasks of their userfaultfds */
struct lz_removed {
	int uffd;
	uint64_t start, end;
};
const struct lz_removed *lz_serve_removed(size_t *nr);
void lz_serve_removed_clear(void);
/* A userfaultfd is closed: forget its ranges */
void lz_serve_forget(int uffd);

#endif /* __LAZYSHM_TRACKD_SERVE_H__ */
