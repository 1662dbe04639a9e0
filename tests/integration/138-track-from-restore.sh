#!/usr/bin/env bash
# The periodic checkpoint cycle, tracked across a lazy restore: a tracked
# chain is restored with --lazy-pages --track-mem. The daemon maps pages
# write-protected and, once done, hands the tasks' userfaultfds to the
# holder, which answers their later faults (minor ones while the test reads
# units the task had not mapped at the dump, missing ones after a punch). The first pre-dump on the
# restore's images then writes only what the restored tree wrote: for the
# anonymous shared memory too, whose inode the restore changed (its pages
# are left under its old id in the restore's images, CRIU patch 0030). The
# chain across the restore restores byte-identical, eagerly and lazily.
# With 2M hugepages to spare, a hugetlb region too.
# timeout: 300
. "$(dirname "$0")/../lib/track.sh"
trk_init
# SysV is restored eagerly by default (any process may shmat it anew): lazily here
export LAZYSHM_SYSV=lazy
KINDS=anon,sysv
if lz_reserve_hugepages 32 2M; then
	KINDS=$KINDS,huge-anon
else
	lz_log "no 2M hugepages to spare: 4K kinds only"
fi
trk_start --kinds $KINDS --size-mb 16 --huge-mb 32
export LAZYSHM_TRACKD_LOG=$W/trackd.log
trk_predump 1
trk_cmd write 50 1
# units the task does not map at the dump: after the lazy restore, its first
# touch of them is a minor fault, which the holder answers once the daemon
# is gone
trk_cmd drop 300 9
trk_dump 2 1
lz_lazy_restore "$W/d2" --track-mem || lz_fail "lazy restore failed"
P=$(cat "$W/d2/restored.pid")
lz_lazy_done "$W/d2" || lz_fail "lazy restore did not complete"
grep -q "tasks of the restored tree are tracked from the restore" "$W/d2/lazy.log" ||
	lz_fail "the restored tree was not handed to the holder: $(grep 'track:' "$W/d2/lazy.log" | tail -3)"
lz_log "$(grep -o 'track: [0-9]* tasks of the restored tree are tracked from the restore' "$W/d2/lazy.log")"
# every byte, after the daemon is gone: pages a task had not mapped yet
# fault, and the holder maps them
trk_cmd verify
lz_log "after the lazy restore: $TANS"
pgrep -f "lazyshm-trackd $LAZYSHM_TRACK_DIR" >/dev/null || lz_fail "no holder runs for the restored tree"
# a few units: in hugetlb each write dirties a 2 MiB page
trk_cmd write 3 2
trk_cmd punch 2 7
trk_predump 3 2
grep -q "track: the tree was restored from the parent images and tracked since" "$W/d3/dump.log" ||
	lz_fail "d3 did not use the restore's state: $(grep 'track:' "$W/d3/dump.log" | head -5)"
trk_expect_incremental "$W/d3" memfd
trk_expect_incremental "$W/d3" sysv
[[ $KINDS != *huge* ]] || trk_expect_incremental "$W/d3" hugetlb-memfd
grep -Eq "track: shmid [0-9]+ was shmid [0-9]+ in the parent images" "$W/d3/dump.log" ||
	lz_fail "d3: no object found under its id in the restore's images"
full=$(($(trk_image_bytes "$W/d1") + 0)) inc=$(($(trk_image_bytes "$W/d3") + 0))
lz_log "page data: d1 (the first, full) $full bytes, d3 (the first after the restore) $inc bytes"
[ "$inc" -lt $((full / 4)) ] || lz_fail "d3 holds $inc bytes of pages: not incremental"
# the punched units are holes now: reading them again maps zeros (missing faults)
trk_cmd verify
trk_cmd write 40 3
trk_dump 4 3
trk_expect_incremental "$W/d4" memfd
trk_expect_incremental "$W/d4" sysv
[[ $KINDS != *huge* ]] || trk_expect_incremental "$W/d4" hugetlb-memfd
grep -Eq "answered [1-9][0-9]* minor faults" "$W/trackd.log" ||
	lz_fail "the holder of the restored tree answered no minor fault: $(cat "$W/trackd.log")"
lz_log "$(grep -E "answered [1-9][0-9]* minor faults" "$W/trackd.log")"
trk_restore_verify "$W/d4"
echo "1 passed, 0 failed"
