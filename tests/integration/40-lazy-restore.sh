#!/usr/bin/env bash
# Lazy restore of every shared memory kind with three tasks sharing it:
# shmem and hugetlb objects are deferred to the lazy-pages daemon, every
# task then verifies every byte, and the daemon's stats prove the content
# arrived after the restore (by fault and by prefetch).
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "kernel lacks minor faults on shmem/hugetlbfs (criu check --feature lazy_shmem)"
grep -q hugetlbfs /proc/filesystems || lz_skip "no hugetlbfs in this kernel"
# huge-anon 32M + huge-memfd 32M + huge-sysv 32M = 48 pages, and the restore
# maps them while the dumped ones may still be freed: ask for twice that
lz_reserve_hugepages 48 2M || lz_skip "cannot reserve 97 available 2M hugepages"

W=$(lz_workdir)
KINDS=anon,memfd,memfd-sealed,sysv,huge-anon,huge-memfd,huge-sysv,private
lz_sysv_cleanup_keys 0x4c5a4000
setsid unshare --ipc "$TBIN/memkinds" --kinds $KINDS --size-mb 64 --huge-mb 32 --holes --children 2 \
	--sysv-key 0x4c5a4000 --ready "$W/ready" --result "$W/res" >"$W/workload.log" 2>&1 </dev/null &
WP=$!
disown $WP # criu dump kills it; bash still reaps it
lz_kill_listed_at_exit "$W/ready" # the whole tree, also when the dump fails
lz_wait_file "$W/ready" 30 || lz_fail "workload did not start: $(cat "$W/workload.log")"

lz_criu_dump "$W" $WP || lz_fail "dump failed"
# every dumped pid must be free before the restore (children are reaped by init)
for p in $(cat "$W/ready"); do
	lz_wait_gone "$p" 10 || lz_fail "dumped task $p still exists"
done
[ -f "$W/lazyshm-shmem.img" ] || lz_fail "the plugin wrote no lazyshm image at dump"

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
lz_verify_all "$W" 3 || {
	lz_diag_lazy "$W"
	lz_fail "restored tasks did not all verify their memory"
}

lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
# kinds that must have been deferred, and those that must not
for k in "memfd .* deferred" "hugetlb-\(anon\|memfd\) .*33554432 bytes) deferred"; do
	grep -q "$k" "$W/restore.log" || lz_fail "restore log lacks: $k"
done
grep -qE "lazyshm: sysv (0x)?[0-9a-f]+ restored eagerly: userfaultfd cannot register 4K SysV" "$W/restore.log" ||
	lz_fail "4K SysV was not restored eagerly with its reason"
grep -qE "lazyshm: hugetlb-sysv (0x)?[0-9a-f]+ restored eagerly: any process may shmat\(\) a SysV segment anew" "$W/restore.log" ||
	lz_fail "the SysV SHM_HUGETLB segment was not restored eagerly (the default) with its reason"
grep -q "restored eagerly: a task holds it open" "$W/restore.log" ||
	lz_fail "the memfd held open was not restored eagerly with its reason"
jq -e '[.objects[] | .filled_fault + .filled_prefetch] | add > 0' "$W/lazyshm-stats.json" >/dev/null ||
	lz_fail "stats show no page populated by the daemon"
lz_log "stats: $(jq -c '{faults_minor, faults_missing, continue_calls, full_residency_after_restore_ms}' "$W/lazyshm-stats.json")"

# after the daemon is gone every page is in the page cache: verify again
lz_verify_all "$W" 3 || lz_fail "memory differs after the daemon detached"
kill -TERM "$(cat "$W/restored.pid")"
lz_wait_gone "$(cat "$W/restored.pid")" 10
lz_log "PASS"
