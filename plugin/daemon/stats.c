// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Observability of the lazy phase: per-object fill counts, CONTINUE calls,
 * fault service latency percentiles and time to full residency. Written to
 * the daemon's log and to lazyshm-stats.json in the images directory.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "stats.h"

uint64_t lz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void lz_stats_fault(struct lz_stats *s, uint64_t ns)
{
	s->lat_ns[s->nr_lat++ % LZ_LAT_SAMPLES] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void latency(struct lz_stats *s, uint64_t *p50, uint64_t *p99)
{
	uint64_t n = s->nr_lat < LZ_LAT_SAMPLES ? s->nr_lat : LZ_LAT_SAMPLES;

	*p50 = *p99 = 0;
	if (!n)
		return;
	qsort(s->lat_ns, n, sizeof(uint64_t), cmp_u64);
	*p50 = s->lat_ns[n / 2];
	*p99 = s->lat_ns[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
}

static double ms_since(uint64_t t0, uint64_t t)
{
	return t && t0 ? (double)(t - t0) / 1e6 : -1;
}

static void json_objects(FILE *f, struct lz_objects *objs)
{
	size_t i, n = lz_objects_count(objs);

	fprintf(f, "  \"objects\": [\n");
	for (i = 0; i < n; i++) {
		struct lz_object *o = lz_objects_get(objs, i);

		fprintf(f,
			"    {\"shmid\": %" PRIu64 ", \"kind\": \"%s\", \"page_size\": %" PRIu64 ", \"size\": %" PRIu64
			", \"pages\": %" PRIu64 ", \"filled_fault\": %" PRIu64 ", \"filled_prefetch\": %" PRIu64
			", \"removed\": %" PRIu64 ", \"holes\": %" PRIu64 ", \"zero_filled\": %" PRIu64
			", \"validated\": %s, \"remote\": %s}%s\n",
			o->shmid, lz_obj_kind(o), o->psz, o->size, o->nr_pages, o->filled_fault,
			o->filled_prefetch, o->removed, o->holes, o->zero_filled,
			o->digests && objs->validate ? "true" : "false", o->remote ? "true" : "false",
			i + 1 < n ? "," : "");
	}
	fprintf(f, "  ],\n");
}

static void write_json(struct lz_stats *s, struct lz_objects *objs, int imgdir, uint64_t p50, uint64_t p99)
{
	int fd = openat(imgdir, "lazyshm-stats.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		pr_perror("cannot write lazyshm-stats.json");
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "{\n");
	json_objects(f, objs);
	if (s->extra_json)
		s->extra_json(f);
	fprintf(f,
		"  \"faults_minor\": %" PRIu64 ",\n  \"faults_missing\": %" PRIu64 ",\n  \"continue_calls\": %" PRIu64
		",\n  \"continue_pages\": %" PRIu64 ",\n  \"continue_deferred\": %" PRIu64 ",\n  \"fault_p50_us\": %.1f,\n  \"fault_p99_us\": %.1f,\n"
		"  \"restored_ms\": %.3f,\n  \"full_residency_ms\": %.3f,\n  \"full_residency_after_restore_ms\": %.3f,\n"
		"  \"stage_ms\": {\"read\": %.3f, \"copy\": %.3f, \"digest\": %.3f, \"continue\": %.3f, \"fault_wait\": %.3f},\n"
		"  \"bytes_copied\": %" PRIu64 "\n}\n",
		s->faults_minor, s->faults_missing, s->continues, s->continue_pages, s->continue_deferred, p50 / 1e3,
		p99 / 1e3, ms_since(s->t_start, s->t_restored), ms_since(s->t_start, s->t_resident),
		ms_since(s->t_restored, s->t_resident), objs->ns_read / 1e6, objs->ns_copy / 1e6, objs->ns_digest / 1e6, s->ns_continue / 1e6,
		objs->ns_wait / 1e6, objs->bytes_copied);
	if (fclose(f))
		pr_perror("cannot write lazyshm-stats.json");
}

void lz_stats_summary(struct lz_stats *s, struct lz_objects *objs, int imgdir)
{
	size_t i, n = lz_objects_count(objs);
	uint64_t p50, p99;

	latency(s, &p50, &p99);
	for (i = 0; i < n; i++) {
		struct lz_object *o = lz_objects_get(objs, i);

		pr_info("summary: %s %#" PRIx64 " page size %" PRIu64 " size %" PRIu64 ": %" PRIu64
			" pages filled on fault, %" PRIu64 " by prefetch, %" PRIu64 " dropped by the application, %" PRIu64
			" holes (%" PRIu64 " touched)\n",
			lz_obj_kind(o), o->shmid, o->psz, o->size, o->filled_fault, o->filled_prefetch,
			o->removed, o->holes, o->zero_filled);
	}
	pr_info("summary: %" PRIu64 " minor + %" PRIu64 " missing faults, %" PRIu64 " CONTINUE calls (%" PRIu64
		" pages), fault service p50 %.1f us p99 %.1f us, full residency %.1f ms after the restore\n",
		s->faults_minor, s->faults_missing, s->continues, s->continue_pages, p50 / 1e3, p99 / 1e3,
		ms_since(s->t_restored, s->t_resident));
	write_json(s, objs, imgdir, p50, p99);
}

void lz_stats_progress(struct lz_stats *s, struct lz_objects *objs)
{
	uint64_t now = lz_now_ns(), done = 0, total = 0;
	size_t i, n = lz_objects_count(objs);

	if (now - s->last_progress < 1000000000ull)
		return;
	s->last_progress = now;
	for (i = 0; i < n; i++) {
		struct lz_object *o = lz_objects_get(objs, i);

		done += o->nr_done * o->psz;
		total += o->nr_pages * o->psz;
	}
	pr_info("progress: %" PRIu64 " of %" PRIu64 " MiB populated\n", done >> 20, total >> 20);
}
