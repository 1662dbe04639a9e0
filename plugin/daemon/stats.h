/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Counters and fault latency of the lazy phase, as a log summary and JSON. */
#ifndef __LAZYSHM_STATS_H__
#define __LAZYSHM_STATS_H__

#include <stdint.h>
#include <stdio.h>

#include "objects.h"

#define LZ_LAT_SAMPLES 65536

struct lz_stats {
	uint64_t t_start;    /* first task registered, ns */
	uint64_t t_restored; /* restore finished */
	uint64_t t_resident; /* every page populated */
	uint64_t faults_minor, faults_missing, continues, continue_pages;
	uint64_t continue_deferred;	 /* CONTINUEs refused with EAGAIN (mm changing), retried later */
	uint64_t ns_continue;		 /* in UFFDIO_CONTINUE, main thread */
	uint64_t lat_ns[LZ_LAT_SAMPLES]; /* fault service times, a ring */
	uint64_t nr_lat;
	uint64_t last_progress;
	void (*extra_json)(FILE *f); /* more members of lazyshm-stats.json (remote-dest.h), or NULL */
};

uint64_t lz_now_ns(void);
void lz_stats_fault(struct lz_stats *s, uint64_t ns);
void lz_stats_summary(struct lz_stats *s, struct lz_objects *objs, int imgdir);
void lz_stats_progress(struct lz_stats *s, struct lz_objects *objs);

#endif /* __LAZYSHM_STATS_H__ */
