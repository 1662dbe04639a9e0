#!/usr/bin/env bash
# A named file on a hugetlbfs 2M mount (with holes), mapped MAP_SHARED by a
# parent and a child, is dumped with the default LAZYSHM_FILES policy and
# deleted before the restore: only the images hold its content. The lazy
# restore recreates it at its path with its size, defers its content to the
# daemon, both tasks map that one file and verify every byte, before and
# after the daemon detaches.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
grep -q hugetlbfs /proc/filesystems || lz_skip "no hugetlbfs in this kernel"
MB=32
lz_reserve_hugepages $((MB / 2)) 2M || lz_skip "cannot reserve $((MB + 1)) available 2M hugepages"

W=$(lz_workdir)
W=$(cd "$W" && pwd -P) # paths are compared with what the kernel shows
H=$W/hugetlbfs
lz_mount_hugetlbfs "$H" 2M || lz_skip "cannot mount hugetlbfs"
lz_start_memkinds "$W" --kinds huge-file --hugetlbfs "$H" --huge-mb $MB --holes --children 1 ||
	lz_fail "workload did not start"
F=$H/memkinds-$(head -1 "$W/ready")-huge-file
[ -f "$F" ] || lz_fail "the workload did not create $F"
SIZE=$(stat -c %s "$F")
[ "$SIZE" = $((MB << 20)) ] || lz_fail "$F has $SIZE bytes, expected $((MB << 20))"

lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"
lz_img_lists "$W" "$F" || lz_fail "the lazyshm image has no object for $F"
rm -f "$F" || lz_fail "cannot remove $F"
[ -z "$(ls -A "$H")" ] || lz_fail "the hugetlbfs is not empty before the restore: $(ls -A "$H")"

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
ROOT=$(cat "$W/restored.pid")
CHILD=$(lz_descendants "$ROOT")
[ -f "$F" ] || lz_fail "$F was not recreated at its path"
[ "$(stat -c %s "$F")" = "$SIZE" ] || lz_fail "$F was recreated with $(stat -c %s "$F") bytes, not $SIZE"
lz_file_deferred "$W" "$F" "$SIZE" || lz_fail "restore.log does not say that $F was deferred to the daemon: $(grep -E 'lazyshm: .*file' "$W/restore.log" | head -3)"
lz_verify_all "$W" 2 || {
	lz_diag_lazy "$W"
	lz_fail "restored tasks did not both verify the file's bytes"
}

# one file: the same inode in both tasks, at its path (not deleted)
ino=$(stat -c '%i' "$F")
for p in $ROOT $CHILD; do
	m=$(lz_maps "$p" "$F") || lz_fail "task $p does not map $F: $(grep -F "$H" "/proc/$p/maps")"
	echo "$m" | grep -q "(deleted)" && lz_fail "task $p maps a deleted file: $m"
	[ "$(echo "$m" | awk '{print $5}' | sort -u)" = "$ino" ] || lz_fail "task $p maps another inode than $F ($ino): $m"
done

lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
[ "$(lz_stats_kind "$W" hugetlb-file)" = 1 ] ||
	lz_fail "expected one hugetlb-file object, the daemon had: $(lz_stats "$W" '[.objects[].kind]' | jq -c .)"
lz_check_filled_once "$W" hugetlb-file || lz_fail "the file was not filled exactly once"
lz_log "stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch}]' | jq -c .)"
lz_verify_all "$W" 2 || lz_fail "memory differs after the daemon detached"
lz_stop_tasks "$ROOT"
lz_wait_gone "$ROOT" 10 || lz_fail "the restored root did not exit"
lz_log "PASS: named hugetlbfs file recreated at its path, filled lazily, identical in both tasks"
