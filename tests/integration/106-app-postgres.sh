#!/usr/bin/env bash
# PostgreSQL 15 (tests/lib/app-postgres.sh): an idle server with a table in
# shared_buffers (hugetlb main segment when hugepages can be had) is dumped,
# restored eagerly, then lazily from the same images; each time the table
# reads back identically and writes work. After the lazy restore the memory
# the server's shared objects have allocated (lz_app_objects_kb) must not
# exceed the eager restore's by more than 2 MiB + 2%.
. "$(dirname "$0")/../lib/app-postgres.sh"

lz_app_timeout 240
lz_pg_require
W=$(lz_workdir)
lz_pg_start
lz_pg_load
lz_pg_dump

lz_pg_restore eager eager
lz_pg_expect_main eager
lz_app_mem "$(cat "$W/restored.pid")" eager
lz_pg_no_crash eager
lz_app_keep_logs "$W" eager
lz_app_stop_tree "$W" || lz_fail "the eagerly restored server does not exit"

lz_pg_restore lazy lazy
lz_pg_expect_main lazy
lz_lazy_done "$W" || lz_fail "the lazy-pages daemon did not finish cleanly"
lz_app_stats "$W"
lz_pg_check lazy-after-daemon
lz_app_mem "$(cat "$W/restored.pid")" lazy
lz_pg_no_crash lazy
lz_log "lazy stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch, removed}]' | jq -c .)"
lz_app_keep_logs "$W" lazy
lz_app_metrics "postgres-huge_pages_$PG_HUGE"
e=$eager_obj l=$lazy_obj
lz_log "memory the server's shared objects allocated after the restore: eager $e kB, lazy $l kB"
[ "$l" -le $((e + 2048 + e / 50)) ] ||
	lz_fail "after the lazy restore the server's shared memory takes $l kB, after the eager one $e kB"
lz_app_stop_tree "$W" || lz_fail "the lazily restored server does not exit"
lz_log "PASS: postgres restored eagerly and lazily; the table read back identically, writes worked"
