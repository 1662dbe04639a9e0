#!/usr/bin/env bash
# Restores of hugetlbfs files that the plugin must refuse before any task
# runs (criu restore exits non-zero, no task of the dumped tree is alive,
# none wrote a result), with the message that says what to do:
# a. hugepage shortage: a 32 MiB unlinked file (16 pages of 2M) and fewer
#    than 16 available 2M hugepages at restore: the preflight names the
#    file object ("hugetlb-file <shmid> needs 16 hugepages of 2048 kB") and
#    by how much to raise nr_hugepages; nothing is created on the mount.
# b. a named file replaced between dump and restore by another file of the
#    same size at the same path: "file <path> exists but is not the dumped
#    one"; the stale file is left alone. Then the same images restore with
#    LAZYSHM_FILES_EXISTING=replace in `criu restore`'s environment (the
#    daemon does not get it): the file is recreated from the images and
#    the tasks verify every byte.
# c. (a named file left in place, untouched, is "used as it is": covered
#    by 57-kind-huge-file.sh, which dumps exactly that and verifies both
#    tasks; not repeated here.)
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/file.sh"
# named files are restored eagerly by default (any process may open them by
# path): these cases are about the opt-in
export LAZYSHM_FILES_NAMED=lazy

lz_file_require lazy hugetlbfs
HP=/sys/kernel/mm/hugepages/hugepages-2048kB
[ "$(cat $HP/nr_overcommit_hugepages 2>/dev/null || echo 0)" = 0 ] ||
	lz_skip "nr_overcommit_hugepages is set: a shortage of 2M hugepages cannot be made by shrinking the pool"
MB=32
PAGES=$((MB / 2))
lz_file_reserve $MB
OLD=$(cat $HP/nr_hugepages)
lz_on_exit "echo $OLD > $HP/nr_hugepages"

lz_file_workdir

# the shmid of the one hugetlb-file object in DIR's lazyshm image, as 0x...
# (from `lazyshm-img show`: the json has it as a number above 2^53, which
# jq rounds)
file_shmid() {
	"$BUILD/bin/lazyshm-img" show "$1" | sed -n 's/^shmid \(0x[0-9a-f]*\): hugetlb-file .*/\1/p'
}

# a. hugepage shortage
D=$W/shortage
H=$W/huge-shortage
lz_huge_file_start "$D" "$H" $MB --unlink --holes || lz_fail "shortage: workload did not start"
lz_dump_gone "$D" "$LZ_WP" || lz_fail "shortage: dump failed"
ID=$(file_shmid "$D")
[ -n "$ID" ] && [ "$(echo "$ID" | wc -l)" = 1 ] ||
	lz_fail "shortage: not one hugetlb-file object in the image: $("$BUILD/bin/lazyshm-img" show "$D" | grep '^shmid')"
lz_wait_hugepages $PAGES 2M 10 || lz_fail "shortage: the dumped tree's hugepages did not come back"

# shrink the pool to PAGES/2 available ones: concurrent tests share it, so
# keep this window short
nr=$(cat $HP/nr_hugepages)
echo $((nr - ($(lz_hp_avail 2M) - PAGES / 2))) >$HP/nr_hugepages
avail=$(lz_hp_avail 2M)
lz_log "shortage: pool shrunk to $(cat $HP/nr_hugepages) pages, $avail available, the file needs $PAGES"
if [ "$avail" -ge $PAGES ]; then
	echo "$OLD" >$HP/nr_hugepages
	lz_fail "shortage: could not shrink the available hugepages below $PAGES"
fi
# not in a pipeline: lz_lazy_restore must register the daemon for cleanup
lz_lazy_restore "$D" >"$D/restore.out" 2>&1
rc=$?
echo "$OLD" >$HP/nr_hugepages
[ "$rc" != 0 ] || lz_fail "shortage: the restore succeeded with $avail of $PAGES hugepages available"
lz_no_task_ran "$D" || lz_fail "shortage: a task ran after the failed restore"
grep -qE "lazyshm: hugetlb-file $ID needs $PAGES hugepages of 2048 kB$" "$D/restore.log" ||
	lz_fail "shortage: restore.log does not say 'hugetlb-file $ID needs $PAGES hugepages of 2048 kB': $(grep -E 'Error|lazyshm' "$D/restore.log" | grep -v hook | tail -5)"
MSG="raise $HP/nr_hugepages by $((PAGES - avail))"
grep -qE "lazyshm: the restore needs $PAGES hugepages of 2048 kB but only $avail can be had: $(lz_re "$MSG")$" "$D/restore.log" ||
	lz_fail "shortage: restore.log does not say '... only $avail can be had: $MSG': $(grep -E 'Error|lazyshm' "$D/restore.log" | grep -v hook | tail -5)"
grep -q "deferred" "$D/restore.log" && lz_fail "shortage: something was deferred by the refused restore"
[ -z "$(ls -A "$H")" ] || lz_fail "shortage: the failed restore created files on the hugetlbfs: $(ls -A "$H")"
lz_log "shortage: criu restore exited with $rc, no task ran: $(grep -hE 'lazyshm: (hugetlb-file .*needs|the restore needs)' "$D/restore.log" | sed 's/.*lazyshm: //' | tr '\n' ';')"
lz_restore_reset "$D" failed || lz_fail "shortage: cannot clean up the failed attempt"
unused=$(($(cat $HP/free_hugepages) - $(cat $HP/resv_hugepages)))
lz_log "shortage: pool back at $(cat $HP/nr_hugepages) pages ($unused available)"

# b. a named file replaced by another one of the same size
D=$W/replaced
H=$W/huge-replaced
lz_huge_file_start "$D" "$H" $MB --holes --children 1 || lz_fail "replaced: workload did not start"
FRE=$(lz_re "${F#/}")
lz_dump_gone "$D" "$LZ_WP" || lz_fail "replaced: dump failed"
[ -e "$F" ] || lz_fail "replaced: the named file $F is gone after the dump"
ino0=$(stat -c %i "$F")
rm "$F"
# hugetlbfs has no write(): a new file of the same size, with no pages
truncate -s $((MB << 20)) "$F" || lz_fail "replaced: cannot create a new $F"
ino1=$(stat -c %i "$F")
[ "$ino1" != "$ino0" ] || lz_fail "replaced: the new file got the old inode $ino0"
lz_log "replaced: $F is now inode $ino1 (dumped: $ino0), $(stat -c %s "$F") bytes"

lz_lazy_restore "$D" >"$D/restore.out" 2>&1
rc=$?
[ "$rc" != 0 ] || lz_fail "replaced: the restore succeeded over another file at $F"
lz_no_task_ran "$D" || lz_fail "replaced: a task ran after the failed restore"
MSG="exists but is not the dumped one (device or inode differs): remove it, or set LAZYSHM_FILES_EXISTING=replace to recreate it from the images, or =use to keep it"
grep -qE "lazyshm: file /?$FRE $(lz_re "$MSG")\$" "$D/restore.log" ||
	lz_fail "replaced: restore.log does not say '$F exists but is not the dumped one': $(grep -E 'Error|lazyshm' "$D/restore.log" | grep -v hook | tail -5)"
[ "$(stat -c %i "$F" 2>/dev/null)" = "$ino1" ] && [ "$(stat -c %s "$F")" = $((MB << 20)) ] ||
	lz_fail "replaced: the refused restore touched the file at $F"
[ "$(ls -A "$H")" = "$(basename "$F")" ] || lz_fail "replaced: the failed restore left other files: $(ls -A "$H")"
lz_log "replaced: criu restore exited with $rc, no task ran: $(grep -hE 'lazyshm: file .*exists but' "$D/restore.log" | sed 's/.*lazyshm: //' | head -1)"
lz_restore_reset "$D" failed || lz_fail "replaced: cannot clean up the failed attempt"

# the same images, LAZYSHM_FILES_EXISTING=replace for `criu restore` only
"$CRIU" lazy-pages -D "$D" --libdir "$LIBDIR" -v4 -o lazy.log -d --pidfile "$D/lazy.pid" ||
	lz_fail "replaced: criu lazy-pages failed: $(tail -5 "$D/lazy.log")"
lz_track_pid "$(cat "$D/lazy.pid")"
LAZYSHM_FILES_EXISTING=replace lz_criu_restore "$D" --lazy-pages ||
	lz_fail "replaced: the restore failed with LAZYSHM_FILES_EXISTING=replace"
ROOT=$(cat "$D/restored.pid")
grep -qE "lazyshm: file /?$FRE is not the dumped one \([^)]*\): replaced from the images" "$D/restore.log" ||
	lz_fail "replaced: restore.log does not say that $F was replaced from the images: $(grep -E 'lazyshm: .*file' "$D/restore.log" | head -3)"
lz_file_deferred "$D" "$F" $((MB << 20)) || lz_fail "replaced: restore.log does not say that $F was deferred to the daemon"
lz_file_verify "$D" 2 "replaced: restored tasks did not verify the file's bytes"
ino2=$(stat -c %i "$F" 2>/dev/null) || lz_fail "replaced: $F is not there after the restore"
[ "$ino2" != "$ino1" ] || lz_fail "replaced: the stale file $F (inode $ino1) was kept"
[ "$(lz_maps_inode "$ROOT" "$F" | awk '{print $2}')" = "$ino2" ] ||
	lz_fail "replaced: the root does not map $F (inode $ino2): $(lz_maps "$ROOT" "$F")"
[ "$(stat -c %s "$F")" = $((MB << 20)) ] || lz_fail "replaced: $F has $(stat -c %s "$F") bytes"
lz_log "replaced: $(grep -hE 'lazyshm: file .*(replaced|deferred|restored eagerly)' "$D/restore.log" | sed 's/.*lazyshm: //' | tr '\n' ';')"
lz_lazy_done "$D" || lz_fail "replaced: the daemon did not finish cleanly"
lz_file_stop "$D" 2 replaced
[ -z "$(ls -A "$H")" ] || lz_fail "replaced: files left on the hugetlbfs after the tasks exited: $(ls -A "$H")"
lz_log "replaced: restored over the stale file with LAZYSHM_FILES_EXISTING=replace, inode $ino2"
lz_log "PASS"
