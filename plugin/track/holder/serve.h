/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lazyshm-trackd: answering the faults and events of a lazily restored
 * tree's userfaultfds once the lazy-pages daemon handed them over */
#ifndef __LAZYSHM_TRACKD_SERVE_H__
#define __LAZYSHM_TRACKD_SERVE_H__

#include <stdbool.h>

/* Answer what @uffd has to say (non-blocking): 0, or -errno (then the
 * holder closes it, and the kernel answers the faults itself) */
int lz_serve(int uffd, bool wp);

#endif /* __LAZYSHM_TRACKD_SERVE_H__ */
