/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Eager restore of a shared object by the plugin itself, so that every page
 * is checked against its dump-time digest even when nothing is lazy.
 */
#ifndef __LAZYSHM_EAGER_H__
#define __LAZYSHM_EAGER_H__

#include <stdint.h>

struct lz_obj;

/* 0 when restored and validated, a negative errno on failure */
int lz_eager_restore(int imgdir, const struct lz_obj *o, int fd, uint64_t size);

#endif /* __LAZYSHM_EAGER_H__ */
