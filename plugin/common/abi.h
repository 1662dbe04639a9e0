/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Does this CRIU speak lazyshm's hooks? Hook numbers are not stable across
 * CRIU versions: a CRIU without lazyshm's patches (a distribution's, finding
 * the plugin in /usr/lib/criu) would call them with other arguments.
 */
#ifndef __LAZYSHM_ABI_H__
#define __LAZYSHM_ABI_H__

/* 0 if every hook the plugin registers has here the number it was built with */
int lz_abi_check(void);

#endif /* __LAZYSHM_ABI_H__ */
