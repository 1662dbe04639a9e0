/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CRIU's print_on_level() for plugin objects linked into a unit test (their
 * pr_* calls end there): the lines are kept, so that a test can check what
 * was logged, and echoed to stderr with LZ_UNIT_LOG=1. Include once, in the
 * test's .c file, after <cmocka.h>.
 */
#ifndef __LAZYSHM_LZ_LOG_STUB_H__
#define __LAZYSHM_LZ_LOG_STUB_H__

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	pthread_mutex_t lock;
	char buf[256 << 10];
	size_t len;
} lz_log = { .lock = PTHREAD_MUTEX_INITIALIZER };

void print_on_level(unsigned int loglevel, const char *format, ...);

void print_on_level(unsigned int loglevel, const char *format, ...)
{
	size_t room;
	va_list ap;
	int n;

	pthread_mutex_lock(&lz_log.lock);
	room = sizeof(lz_log.buf) - lz_log.len;
	va_start(ap, format);
	n = vsnprintf(lz_log.buf + lz_log.len, room, format, ap);
	va_end(ap);
	if (n > 0 && getenv("LZ_UNIT_LOG"))
		fprintf(stderr, "log[%u]: %s", loglevel, lz_log.buf + lz_log.len);
	if (n > 0)
		lz_log.len += (size_t)n < room ? (size_t)n : room - 1;
	pthread_mutex_unlock(&lz_log.lock);
}

static inline void lz_log_reset(void)
{
	pthread_mutex_lock(&lz_log.lock);
	lz_log.len = 0;
	lz_log.buf[0] = '\0';
	pthread_mutex_unlock(&lz_log.lock);
}

/* Has a line containing @s been logged since the last reset? */
static inline bool lz_log_has(const char *s)
{
	bool found;

	pthread_mutex_lock(&lz_log.lock);
	found = strstr(lz_log.buf, s) != NULL;
	pthread_mutex_unlock(&lz_log.lock);
	return found;
}

#endif /* __LAZYSHM_LZ_LOG_STUB_H__ */
