#!/usr/bin/env bash
# Remote post-copy of shared memory between two hosts (network namespaces
# over veth, tests/lib/remote.sh): a tree of three tasks with anonymous
# shmem, a memfd, MAP_SHARED|MAP_HUGETLB 2M, a hugetlb memfd, SysV
# SHM_HUGETLB (LAZYSHM_SYSV=lazy) and an unlinked hugetlbfs file, plus
# private memory (tests/lib/remote-shm.sh). `criu dump --lazy-pages`
# writes none of their pages into the images; the destination's daemon
# fetches them from the source on fault and by prefetch over a link slowed
# down to 400 Mbit/s, so that the tasks fault pages in before the
# prefetch is done. Every task verifies every byte on the destination;
# the stats show every data page of the remote objects fetched over the
# network, some on fault; the daemon says DONE, the source logs it, the
# dump succeeds and the source's tasks are gone.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"
. "$(dirname "$0")/../lib/remote-shm.sh"

W=$(lz_workdir)
rs_require "$W" 16
[ "${REMOTE_TLS:-0}" = 1 ] && rs_tls "$W"
rm_setup
rm_throttle 400mbit
rs_start "$W" 48 16
rm_migrate "$W" $RS_TASKS
rs_check_source "$W"
if [ "${REMOTE_TLS:-0}" = 1 ]; then
	grep -q "remote: $RS_NR_REMOTE object(s) fetched from the dump's source $RM_SRC_ADDR:$((RM_PORT + 1)) (TLS)" \
		"$W/dst/lazy.log" || lz_fail "the daemon's session with the source is not over TLS"
fi
rm_migration_succeeds "$W" $RS_TASKS
if [ "${REMOTE_TLS:-0}" = 1 ]; then
	grep -q "remote: session with $RM_DST_ADDR:[0-9]* (TLS)" "$W/src/dump.log" ||
		lz_fail "the source's session with the destination is not over TLS"
fi
lz_lazy_done "$W/dst" || lz_fail "the lazy restore did not complete"
S=$W/dst/lazyshm-stats.json
jq -e "[.objects[] | select(.remote)] | length == $RS_NR_REMOTE" "$S" >/dev/null || lz_fail "stats: not $RS_NR_REMOTE remote objects"
want=$(jq '[.objects[] | select(.remote) | .pages - .holes] | add' "$S")
got=$(jq '[.objects[] | select(.remote) | .filled_fault + .filled_prefetch] | add' "$S")
fetched=$(jq '.remote.pages' "$S")
faults=$(jq '.remote.fault_requests' "$S")
lz_log "stats: $got of $want data pages filled, $fetched fetched from the source ($faults requests for faults)"
[ "$got" = "$want" ] || lz_fail "stats: $got pages filled, the remote objects have $want data pages"
[ "$fetched" = "$want" ] || lz_fail "stats: $fetched pages fetched from the source, $want expected"
[ "$faults" -gt 0 ] || lz_fail "stats: no page was fetched on fault"
grep -q "remote: told the dump's source $RM_SRC_ADDR:$((RM_PORT + 1)): DONE" "$W/dst/lazy.log" ||
	lz_fail "the daemon did not tell the source DONE"
grep -q "remote: $RM_DST_ADDR:[0-9]* has every page: DONE" "$W/src/dump.log" ||
	lz_fail "the source did not log the DONE: $(grep 'remote:' "$W/src/dump.log" | tail -3)"
lz_log "PASS"
