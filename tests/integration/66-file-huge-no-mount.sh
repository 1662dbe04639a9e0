#!/usr/bin/env bash
# The hugetlbfs a file was dumped from is not mounted at restore (another
# host, or unmounted since):
# 1. an unlinked file has no path anyone can open: the plugin recreates it
#    as a hugetlb memfd ("recreated as a hugetlb memfd"), the restore
#    succeeds and the task verifies every byte;
# 2. a named file must come back at its path: the restore fails before any
#    task runs, restore.log gives the exact command to run
#    ("mount -t hugetlbfs -o pagesize=2M none <dir>"), no restored task is
#    left and nothing is created in the unmounted directory;
# 3. after running that command, the same images restore: the file is back
#    at its path and the tasks verify.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/file.sh"

lz_file_require lazy hugetlbfs
MB=32
lz_file_reserve $MB
lz_file_workdir

# unmount DIR (the dumped tasks are gone, nothing holds it); the directory stays
unmount() {
	umount "$1" || lz_fail "cannot unmount $1: $(fuser -vm "$1" 2>&1 | tail -3)"
	! mountpoint -q "$1" || lz_fail "$1 is still a mount point"
}

# 1. unlinked
D=$W/unlinked
H=$W/huge-unlinked
lz_huge_file_start "$D" "$H" $MB --unlink --children 1 || lz_fail "unlinked: workload did not start"
lz_dump_gone "$D" "$LZ_WP" || lz_fail "unlinked: dump failed"
unmount "$H"
# another 2M hugetlbfs may legitimately receive the file instead of a memfd
OTHER=$(findmnt -n -t hugetlbfs -o TARGET | tr '\n' ' ')
lz_lazy_restore "$D" || lz_fail "unlinked: the restore failed without the hugetlbfs mount"
ROOT=$(cat "$D/restored.pid")
if [ -z "$OTHER" ]; then
	grep -q "recreated as a hugetlb memfd" "$D/restore.log" ||
		lz_fail "unlinked: restore.log does not say 'recreated as a hugetlb memfd': $(grep -E 'lazyshm: .*file' "$D/restore.log" | head -3)"
else
	lz_log "unlinked: other hugetlbfs mounts exist ($OTHER): not requiring the memfd fallback"
fi
lz_log "unlinked: $(grep -hE 'lazyshm: .*(recreated|deferred)' "$D/restore.log" | head -2 | sed 's/.*lazyshm: //' | tr '\n' ';')"
lz_file_verify "$D" 2 "unlinked: restored tasks did not verify the file's bytes"
lz_log "unlinked: root maps $(grep -E 'memfd:|hugetlb|\(deleted\)' "/proc/$ROOT/maps" | awk '{print $1, $6, $7, $8}' | head -1)"
[ -z "$(ls -A "$H")" ] || lz_fail "unlinked: the restore created files in the unmounted $H: $(ls -A "$H")"
lz_lazy_done "$D" || lz_fail "unlinked: the daemon did not finish cleanly"
lz_file_stop "$D" 2 unlinked
lz_log "unlinked: restored without its hugetlbfs mount, identical in both tasks"

# 2. named
D=$W/named
H=$W/huge-named
lz_huge_file_start "$D" "$H" $MB --holes --children 1 || lz_fail "named: workload did not start"
lz_dump_gone "$D" "$LZ_WP" || lz_fail "named: dump failed"
unmount "$H" # the file goes with it
# not in a pipeline: lz_lazy_restore must register the daemon for cleanup
lz_lazy_restore "$D" >"$D/restore.out" 2>&1
rc=$?
[ "$rc" != 0 ] || lz_fail "named: the restore succeeded with $H unmounted"
sleep 0.5
[ -z "$(lz_tree_alive "$D")" ] || lz_fail "named: restored tasks run after a failed restore: $(lz_tree_alive "$D")"
ls "$D"/res.* >/dev/null 2>&1 && lz_fail "named: a task resumed"
MSG="mount -t hugetlbfs -o pagesize=2M none $H"
grep -qF "$MSG" "$D/restore.log" ||
	lz_fail "named: restore.log does not say '$MSG': $(grep -E 'Error|lazyshm' "$D/restore.log" | grep -v hook | tail -5)"
[ -z "$(ls -A "$H")" ] || lz_fail "named: the failed restore created files in the unmounted $H: $(ls -A "$H")"
lz_log "named: criu restore exited with $rc, no task alive: $(grep -hF "$MSG" "$D/restore.log" | head -1 | sed 's/.*lazyshm: //')"

# 3. do what the message says, and restore the same images again
p=$(cat "$D/lazy.pid" 2>/dev/null) && kill -9 "$p" 2>/dev/null
[ -z "$p" ] || lz_wait_gone "$p" 10 || lz_fail "named: the first lazy-pages daemon does not exit"
for f in restore.log lazy.log; do mv "$D/$f" "$D/failed-$f"; done
rm -f "$D/lazy.pid" "$D/restored.pid"
lz_mount_hugetlbfs "$H" 2M || lz_fail "cannot mount hugetlbfs again at $H"
lz_lazy_restore "$D" || lz_fail "named: the restore failed after '$MSG'"
[ "$(stat -c %s "$F" 2>/dev/null)" = $((MB << 20)) ] || lz_fail "named: $F was not recreated with $((MB << 20)) bytes"
lz_file_verify "$D" 2 "named: restored tasks did not verify the file's bytes"
lz_lazy_done "$D" || lz_fail "named: the daemon did not finish cleanly"
lz_file_stop "$D" 2 named
lz_log "named: restored at $F once the hugetlbfs was mounted as told"
lz_log "PASS"
