#!/usr/bin/env bash
# PostgreSQL 15 dumped with LAZYSHM_FILES=all: the plugin owns its dynamic
# shared memory segments (named /dev/shm files, mapped by the postmaster and
# its children, descriptors closed). They are removed after the dump, as on
# another host, so the restores must recreate them from the images. After
# each restore, new connections fork new backends that attach the segments
# anew (shm_open + mmap: pgstat's DSA segment) and a parallel query forks
# workers; every answer must be right and no server process may crash.
# A recreated file the daemon serves lazily must read right also through a
# mapping made after the restore: the lazy restore slows the prefetch
# (LAZYSHM_TEST_FILL_DELAY_MS=100 per chunk, ~15 s in all) so that the new
# backends attach the segments while pages are still unfilled, and the
# daemon must not have found any page of them written or read before it
# filled it. The segments are restored eagerly by default (named files);
# with LAZYSHM_FILES_NAMED=lazy (set by hand) this test fails.
. "$(dirname "$0")/../lib/app-postgres.sh"

# _new_backends TAG: several new backends read stats and the table, one
# with a parallel plan
_new_backends() {
	local tag=$1 i sum
	for i in 1 2 3; do
		lz_pg_psql "SELECT count(*) FROM pg_stat_user_tables; SELECT sum(numbackends) FROM pg_stat_database" \
			>/dev/null || lz_fail "$tag: a new backend ($i) could not read the statistics: $(tail -3 "$W/pg.log")"
	done
	sum=$(lz_pg_psql "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;
		SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
		SELECT md5(string_agg(v, ',' ORDER BY id)) FROM t") || lz_fail "$tag: a parallel query failed: $(tail -3 "$W/pg.log")"
	[ "$sum" = "$PG_SUM" ] || lz_fail "$tag: a parallel query reads the table differently: $sum"
	lz_pg_no_crash "$tag"
	lz_log "$tag: 3 new backends read the statistics, a parallel query read t identically, no crash"
}

lz_app_timeout 240
lz_pg_require
W=$(lz_workdir)
lz_pg_start
lz_pg_load
lz_pg_dump LAZYSHM_FILES=all
for f in $(cat "$PG/dsm-files"); do
	lz_img_lists "$W" "$f" || lz_fail "with LAZYSHM_FILES=all the lazyshm image has no object for $f"
done

lz_pg_restore eager eager no-dsm
_new_backends eager
lz_app_mem "$(cat "$W/restored.pid")" eager
lz_app_keep_logs "$W" eager
lz_app_stop_tree "$W" || lz_fail "the eagerly restored server does not exit"

LAZYSHM_TEST_FILL_DELAY_MS=100 lz_pg_restore lazy lazy no-dsm
lz_exited "$(cat "$W/lazy.pid")" && lz_fail "the daemon finished before the new backends ran: slow the prefetch more"
grep -E "lazyshm: file /?dev/shm/PostgreSQL" "$W/restore.log" | sed 's/.*lazyshm: /restore: /' | head -4
_new_backends lazy
lz_lazy_done "$W" || lz_fail "the lazy-pages daemon did not finish cleanly"
# a page the daemon found in the page cache before it filled it was reached
# outside userfaultfd (a segment mapped anew by a new backend): its dumped
# content is lost, whether the server noticed or not
! grep -E "existed before the daemon wrote it" "$W/lazy.log" >"$W/kept.txt" ||
	lz_fail "server processes reached unfilled pages of $(grep -c . "$W/kept.txt") object(s) outside userfaultfd (a" \
		"segment mapped anew after the restore): $(head -1 "$W/kept.txt" | sed 's/.*lazyshm: //')"
lz_app_stats "$W"
_new_backends lazy-after-daemon
lz_app_mem "$(cat "$W/restored.pid")" lazy
lz_log "lazy stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch, removed}]' | jq -c .)"
lz_app_keep_logs "$W" lazy
lz_app_metrics postgres-files-all
lz_app_stop_tree "$W" || lz_fail "the lazily restored server does not exit"
lz_log "PASS: postgres with plugin-owned DSM segments restored eagerly and lazily; new backends and parallel workers read right"
