/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Plugin settings. CRIU plugins have no command-line options, so they are
 * read from the environment of `criu restore` / `criu lazy-pages`:
 *   LAZYSHM_MODE=lazy|eager   defer shared memory (default) or not
 *   LAZYSHM_VALIDATE=1|0      check page digests before mapping (default 1)
 */
#ifndef __LAZYSHM_CONFIG_H__
#define __LAZYSHM_CONFIG_H__

#include <stdbool.h>

struct lz_config {
	bool lazy;
	bool validate;
};

int lz_config_read(struct lz_config *c);

#endif /* __LAZYSHM_CONFIG_H__ */
