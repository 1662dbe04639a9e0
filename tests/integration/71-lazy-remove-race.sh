#!/usr/bin/env bash
# The prefetch thread against the application's MADV_REMOVE, interleaved
# on purpose: LAZYSHM_TEST_FILL_DELAY_MS holds each chunk the thread claims
# (FILLING) for a second before writing it, and the application removes
# that chunk meanwhile. The thread's write lands after the kernel's removal;
# the daemon must drop those pages again, so that they read zeros, and the
# next chunk (still unfilled) must never be filled. A daemon that let the
# write stand would map the old content back: the task's check of the
# removed range fails.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"

W=$(lz_workdir)
# memfd of 4 MiB: 4 chunks of 256 pages; the thread starts with chunk 0
lz_start_memkinds "$W" --kinds memfd --size-mb 4 --on-usr2 remove:memfd:0:512 ||
	lz_fail "workload did not start"
lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"

LAZYSHM_TEST_FILL_DELAY_MS=1000 lz_lazy_restore "$W" || lz_fail "lazy restore failed"
ROOT=$(cat "$W/restored.pid")
grep -q "prefetch thread is slowed down for testing" "$W/lazy.log" || lz_fail "the testing knob was not taken"
sleep 0.3 # the thread has claimed chunk 0 and holds it for a second
kill -USR2 "$ROOT" || lz_fail "cannot signal the restored root"
lz_wait_file "$W/res.usr2.0" 30 || {
	lz_diag_lazy "$W"
	lz_fail "the root did not finish its removal (hung?)"
}
read -r st _ <"$W/res.usr2.0"
[ "$st" = OK ] || lz_fail "the removed pages do not read zeros: $(cat "$W/res.usr2.0")"
grep -q "filled during its removal: dropped again" "$W/lazy.log" ||
	lz_fail "the removal did not meet a chunk being filled: the interleaving was not tested"
lz_verify_all "$W" 1 || lz_fail "the task saw wrong bytes after the removal"
lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
lz_log "stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch, removed}]' | jq -c .)"
[ "$(lz_stats "$W" '[.objects[].removed] | add')" -ge 512 ] || lz_fail "fewer than 512 pages were counted removed"
lz_verify_all "$W" 1 || lz_fail "memory differs after the daemon detached"
lz_stop_tasks "$ROOT"
lz_wait_gone "$ROOT" 10 || lz_fail "the restored root did not exit"
lz_log "PASS: a chunk written during its removal is dropped again; removed pages read zeros"
