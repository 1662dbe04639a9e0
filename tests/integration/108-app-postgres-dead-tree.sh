#!/usr/bin/env bash
# PostgreSQL 15 restored lazily with a slow prefetch (LAZYSHM_TEST_FILL_DELAY_MS),
# so that the daemon still has pages to fill, then the whole restored tree is
# killed: the lazy-pages daemon must notice that nobody is left to serve and
# exit within 10 s, not outlive the tree, and the hugepages of the server's
# main segment (huge_pages=on) must be free again, as before the restore
# (issue 16, problem 4: the daemon held them 80 s, and a restart of the
# server failed: "could not map anonymous shared memory").
. "$(dirname "$0")/../lib/app-postgres.sh"

lz_app_timeout 180
lz_pg_require
W=$(lz_workdir)
lz_pg_start
lz_pg_load
lz_pg_dump
[ "$PG_HUGE" = on ] && hp0=$(_hp_free 2M)
LAZYSHM_TEST_FILL_DELAY_MS=300 lz_pg_restore lazy lazy
lp=$(cat "$W/lazy.pid")
lz_exited "$lp" && lz_fail "the daemon finished before the test could kill the tree: slow the prefetch more"
root=$(cat "$W/restored.pid")
tree=($(lz_descendants "$root") "$root")
kill -9 "${tree[@]}"
t0=$(lz_now_ms)
for p in "${tree[@]}"; do
	lz_wait_gone "$p" 10 || lz_fail "restored task $p does not die"
done
lz_log "the restored tree (${#tree[@]} tasks) is dead"
lz_wait_gone "$lp" 10 || {
	lz_diag_lazy "$W"
	lz_fail "the lazy-pages daemon $lp outlives the dead tree by more than 10 s"
}
lz_log "the daemon exited $(($(lz_now_ms) - t0)) ms after the tree was killed: $(grep -E 'lazyshm: ' "$W/lazy.log" | grep -v hook | tail -2 | tr '\n' ' ')"
if [ "$PG_HUGE" = on ]; then
	lz_wait_hugepages "$hp0" 2M 10 ||
		lz_fail "$(_hp_free 2M) hugepages free 10 s after the daemon exited, $hp0 before the restore"
	lz_log "the main segment's hugepages are free again ($(_hp_free 2M) free, $hp0 before the restore)"
fi
lz_log "PASS: the lazy-pages daemon does not outlive a dead postgres tree"
