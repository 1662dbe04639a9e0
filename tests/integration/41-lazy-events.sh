#!/usr/bin/env bash
# Events during the lazy phase. Right after `criu restore` returns, while
# the daemon is still populating, the restored root gets SIGUSR2 and
# (memkinds --on-usr2): MADV_DONTNEEDs pages it has just read (they must
# keep their content), MADV_REMOVEs never-touched pages (they must read
# zeros, also once the prefetcher has passed: nothing stale comes back),
# munmaps a range, mremaps two whole regions (4K and 2M) and forks. The
# root and the new child then verify every byte they still map; the daemon
# must reach full residency and exit, and both verify again after that.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
# 2 x 64M of 2M pages, and the restore may overlap the dumped tree's exit
lz_reserve_hugepages_avail 128 2M || lz_skip "cannot reserve 128 free 2M hugepages"

W=$(lz_workdir)
lz_on_exit "_lz_kill_listed '$W/forked'"
# region pages: anon/memfd 32768 x 4K, huge-anon/huge-memfd 32 x 2M
# A region that got REMOVE events (from MADV_DONTNEED or MADV_REMOVE) must
# still be mremap()able whole: lazy-pages leaves removed ranges registered
# instead of splitting the VMA (anon below, and private memory, which CRIU
# itself serves: CRIU patch 0005; its DONTNEEDed pages read zeros).
A=dontneed:memfd:1000:64,remove:memfd:30000:256,unmap:memfd:8192:4096
A+=,dontneed:huge-anon:3:2,remove:huge-anon:20:4,remove:anon:100:16,mremap:anon,mremap:huge-memfd
A+=,dontneed:private:40:8,mremap:private,fork
ACTIONS=${ACTIONS:-$A} # ACTIONS=... overrides the list (for diagnosis)
lz_start_memkinds "$W" --kinds anon,memfd,huge-anon,huge-memfd,private --size-mb 128 --huge-mb 64 \
	--holes --on-usr2 "$ACTIONS" || lz_fail "workload did not start"
lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"

# the prefetch a little slowed (5 ms a chunk, about 2 s in all): the events
# must meet unfilled pages, which a quiet machine fills in ~0.3 s
LAZYSHM_TEST_FILL_DELAY_MS=5 lz_lazy_restore "$W" || lz_fail "lazy restore failed"
ROOT=$(cat "$W/restored.pid")
kill -USR2 "$ROOT" || lz_fail "cannot signal the restored root"
lz_wait_file "$W/res.usr2.0" 30 || {
	lz_diag_lazy "$W"
	lz_fail "the root did not finish its actions (hung?)"
}
lz_descendants "$ROOT" >"$W/forked"
read -r st _ <"$W/res.usr2.0"
[ "$st" = OK ] || lz_fail "actions during the lazy phase: $(cat "$W/res.usr2.0")"
[ "$(wc -l <"$W/forked")" = 1 ] || lz_fail "expected one forked child, have: $(cat "$W/forked")"

lz_verify_all "$W" 2 || {
	lz_diag_lazy "$W"
	lz_fail "a task saw wrong bytes after the events"
}
lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
lz_log "stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch, removed}]' | jq -c .)"
# the REMOVE of never-touched pages arrived while they were unfilled
[ "$(lz_stats "$W" '[.objects[].removed] | add')" -gt 0 ] ||
	lz_fail "no page was dropped while unfilled: the events came after the lazy phase"
grep -E "Error|digest mismatch" "$W/lazy.log" | grep -v "hook" | head -3 | grep -q . &&
	lz_fail "lazy.log has errors: $(grep -E 'Error' "$W/lazy.log" | head -3)"

# the daemon is gone: every page is in the page cache; nothing stale returned
lz_verify_all "$W" 2 || lz_fail "memory differs after the daemon detached"
lz_stop_tasks "$ROOT"
lz_wait_gone "$ROOT" 10 || lz_fail "the restored root did not exit"
[ -z "$(cat "$W/forked" | xargs -r ps -o pid= -p)" ] || lz_fail "the forked child outlived the root"
lz_log "PASS"
