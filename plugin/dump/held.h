/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dump side: which inodes the frozen tasks hold open as descriptors, and
 * which they map MAP_PRIVATE, read once from /proc/PID/fd and
 * /proc/PID/maps of the tasks presence.c remembers. The remote source
 * (remote-src.c) mirrors with them what a restore will be able to defer:
 * a restore defers no object a task holds open (read() and write() bypass
 * userfaultfd) unless LAZYSHM_FD_LAZY says so, and no file a task maps
 * MAP_PRIVATE.
 */
#ifndef __LAZYSHM_HELD_H__
#define __LAZYSHM_HELD_H__

#include <sys/types.h>

/* 1 if some frozen task holds the inode open as a descriptor, 0 if none, -1 if unknown */
int lz_held_fd(dev_t dev, ino_t ino);
/* 1 if some frozen task maps the inode MAP_PRIVATE, 0 if none, -1 if unknown */
int lz_held_private(dev_t dev, ino_t ino);
void lz_held_fini(void);

#endif /* __LAZYSHM_HELD_H__ */
