#!/usr/bin/env bash
# Multi-process: a parent and two children share every object. Right after
# the restore child 1 (and only it) writes a marker pattern into every 7th
# page of every shared region (memkinds --rewrite 7 --rewrite-task 1); the
# parent and child 2 must see those bytes. Each object is filled once: the
# daemon's filled_fault + filled_prefetch equals its pages (not 3x).
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
lz_reserve_hugepages_avail 64 2M || lz_skip "cannot reserve 64 free 2M hugepages"

W=$(lz_workdir)
lz_start_memkinds "$W" --kinds anon,memfd,huge-anon,huge-memfd --size-mb 64 --huge-mb 32 --holes \
	--children 2 --rewrite 7 --rewrite-task 1 || lz_fail "workload did not start"
lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
lz_signal_tree "$W" USR2 || lz_fail "cannot signal the restored tree"
lz_wait_results "$W" w. 3 30 || {
	lz_diag_lazy "$W"
	lz_fail "the tasks did not answer SIGUSR2"
}
grep -q "^WROTE [1-9][0-9]* gen 1$" "$W/res.w.1" || lz_fail "child 1 wrote nothing: $(cat "$W/res.w.1")"
grep -q "^WROTE 0 gen 1$" "$W/res.w.0" || lz_fail "the parent wrote: $(cat "$W/res.w.0")"
lz_log "child 1: $(cat "$W/res.w.1")"
lz_verify_all "$W" 3 || {
	lz_diag_lazy "$W"
	lz_fail "the tasks do not all see child 1's writes and the restored bytes"
}
lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"

n=$(lz_stats "$W" '.objects | length')
[ "$n" = 4 ] || lz_fail "expected 4 lazily restored objects, the daemon had $n"
bad=$(lz_stats "$W" '[.objects[] | select(.filled_fault + .filled_prefetch + .holes != .pages or .removed != 0)] | length')
lz_log "stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch}]' | jq -c .)"
[ "$bad" = 0 ] || lz_fail "an object was not filled exactly once per page"
lz_verify_all "$W" 3 || lz_fail "memory differs after the daemon detached"
lz_stop_tasks "$(cat "$W/restored.pid")"
lz_log "PASS"
