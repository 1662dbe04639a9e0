/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plugin inside `criu lazy-pages`: faults, events and prefetch. */
#ifndef __LAZYSHM_DAEMON_H__
#define __LAZYSHM_DAEMON_H__

#include <stdint.h>

#include "config.h"

int lz_daemon_init(const struct lz_config *cfg);
void lz_daemon_fini(int ret);
int lz_daemon_task(int pid, int pidfd, int uffd);
int lz_daemon_fault(int pid, int uffd, uint64_t address, uint64_t flags);
int lz_daemon_event(int pid, int uffd, int event, uint64_t a, uint64_t b, uint64_t c);
int lz_daemon_idle(int restored);
/* After each of the hooks above: lazy-pages reads its next message */
void lz_daemon_returns(void);

#endif /* __LAZYSHM_DAEMON_H__ */
