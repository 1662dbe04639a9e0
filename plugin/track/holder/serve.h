/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lazyshm-trackd: answering the faults and events of a lazily restored
 * tree's userfaultfds once the lazy-pages daemon handed them over */
#ifndef __LAZYSHM_TRACKD_SERVE_H__
#define __LAZYSHM_TRACKD_SERVE_H__

#include <stdbool.h>
#include <stddef.h>

/* Answer what @uffd has to say (non-blocking): 0, or -errno (then the
 * holder closes it, and the kernel answers the faults itself) */
int lz_serve(int uffd, bool wp);
/* Removed ranges whose protection is still to be turned off: how many */
size_t lz_serve_pending(void);
/* Retry them: 0, or -errno with the userfaultfd that failed in *@failed */
int lz_serve_flush(int *failed);
/* The userfaultfd of the first of them, or -1 */
int lz_serve_first(void);
/* A userfaultfd is closed: forget its ranges */
void lz_serve_forget(int uffd);

#endif /* __LAZYSHM_TRACKD_SERVE_H__ */
