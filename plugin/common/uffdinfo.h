/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a userfaultfd was opened with, read from /proc/self/fdinfo */
#ifndef __LAZYSHM_UFFDINFO_H__
#define __LAZYSHM_UFFDINFO_H__

#include <stdbool.h>

/* Does @uffd track writes (UFFD_FEATURE_WP_ASYNC: criu restore --track-mem)? */
bool lz_uffd_wp_async(int uffd);

#endif /* __LAZYSHM_UFFDINFO_H__ */
