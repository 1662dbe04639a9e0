/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging for the lazyshm plugin: CRIU's pr_* macros with our prefix, so
 * that every line the plugin writes into criu's logs is easy to grep.
 */
#ifndef __LAZYSHM_LOG_H__
#define __LAZYSHM_LOG_H__

#include "criu-log.h"

#ifdef LOG_PREFIX
#undef LOG_PREFIX
#endif
#define LOG_PREFIX "lazyshm: "

#endif /* __LAZYSHM_LOG_H__ */
