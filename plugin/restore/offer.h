/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The restore side of the object registry: one connection to the
 * lazy-pages daemon, made by `criu restore` itself before any task exists
 * and kept in CRIU's fdstore, from which every restored task offers its
 * objects.
 */
#ifndef __LAZYSHM_OFFER_H__
#define __LAZYSHM_OFFER_H__

#include <stddef.h>
#include <stdint.h>

/* In the main criu process, from the work directory: 0, or -1 on error
 * (no daemon is not one: offers are then declined, saying so) */
int lz_offer_init(void);
/* 1 the daemon took the object, 0 not (@why), -1 its answer was lost (@why):
 * it may own the object, which must then not be restored behind its back */
int lz_offer(int fd, uint64_t shmid, uint64_t size, int kind, unsigned int seals, unsigned int flags, char *why,
	     size_t len);

#endif /* __LAZYSHM_OFFER_H__ */
