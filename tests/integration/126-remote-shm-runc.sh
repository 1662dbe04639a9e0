#!/usr/bin/env bash
# runc's lazy migration flow (116) with a container whose memory is shared:
# anonymous shmem, a memfd, MAP_SHARED hugetlb, a hugetlb memfd and SysV
# SHM_HUGETLB (LAZYSHM_SYSV=lazy for runc's criu and the daemon). `runc
# checkpoint --lazy-pages --page-server ADDR:PORT` must write none of
# their pages (the source serves them on PORT + 1), `criu lazy-pages
# --page-server` and `runc restore --lazy-pages` on the destination fetch
# them over the link; every byte is verified in the restored container,
# the daemon says DONE, runc checkpoint succeeds and the source container
# is gone.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"
. "$(dirname "$0")/../lib/container.sh"

ct_require
rm_require
command -v jq >/dev/null || lz_skip "needs jq"
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
# three hugetlb objects of 8 MiB on both hosts at once
ct_hugepages 25 || lz_skip "cannot get 51 free 2M hugepages"
export LAZYSHM_SYSV=lazy
rm_setup
ct_init
rc_init
ct_spec --net-host -- --kinds anon,memfd,huge-anon,huge-memfd,huge-sysv,private --size-mb 32 --huge-mb 8 \
	--holes --children 1
ct_plugin_via env
CT_ENV+=(LAZYSHM_SYSV=lazy)
ct_start
SRC_PIDS=$(ct_ps)
rm_throttle 200mbit
rc_checkpoint
grep -q "lazyshm: dump: serving 5 shared objects to the destination on [^ ]*:$((RM_PORT + 1))" \
	"$RC_SRC_WORK/dump.log" || lz_fail "runc's criu does not serve the 5 shared objects: $(grep 'goes into the images' "$RC_SRC_WORK/dump.log")"
bytes=$(cat "$RC_SRC_IMG"/pages-*.img | wc -c)
[ "$bytes" -lt $((8 << 20)) ] || lz_fail "the images hold $bytes bytes of pages"
rc_to_destination
ct_restore --lazy-pages || lz_fail "runc restore --lazy-pages failed"
lz_log "destination: container $CT_ID restored"
ct_verify || lz_fail "the restored container's memory differs"
lz_wait_gone "$(cat "$CT_WORK/lazy.pid")" 60 || lz_fail "the lazy-pages daemon did not finish"
grep -q Error "$CT_WORK/lazy.log" && lz_fail "lazy.log has errors: $(grep Error "$CT_WORK/lazy.log" | head -3)"
grep -q "remote: told the dump's source $RM_SRC_ADDR:$((RM_PORT + 1)): DONE" "$CT_WORK/lazy.log" ||
	lz_fail "the daemon did not tell the source DONE: $(grep 'remote:' "$CT_WORK/lazy.log" | tail -3)"
fetched=$(jq '.remote.pages' "$CT_IMG/lazyshm-stats.json")
[ "$fetched" -gt 0 ] || lz_fail "stats: no page fetched from the source"
lz_log "destination: $fetched pages fetched from the source"

rc=$(rc_checkpoint_rc 60)
[ "$rc" = 0 ] || lz_fail "runc checkpoint failed ($rc): $(cat "$CT_W/checkpoint.out") $(ct_runc_log)"
grep -q "remote: $RM_DST_ADDR:[0-9]* has every page: DONE" "$RC_SRC_WORK/dump.log" ||
	lz_fail "the source did not log the DONE"
rm_wait_gone 10 $SRC_PIDS || lz_fail "the source container's processes survive: $SRC_PIDS"
lz_log "source: runc checkpoint succeeded, the source container is gone"
ct_verify || lz_fail "the memory differs after the daemon exited"
lz_lazy_ran
lz_log "PASS"
