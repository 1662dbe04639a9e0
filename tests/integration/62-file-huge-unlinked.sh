#!/usr/bin/env bash
# The QEMU -mem-path pattern: a 64 MiB file on a hugetlbfs 2M mount is
# created, sized, mapped MAP_SHARED and unlinked at once. Upstream CRIU
# cannot dump it ("Can't dump ghost file ... increase limit", and sendfile()
# from hugetlbfs fails even with a higher --ghost-limit); with the plugin
# the dump must succeed with default CRIU options. The file disappears with
# the dumped task, so the content can only come from the images. The lazy
# restore recreates it on the same mount, unlinked again: the task maps
# "<path> (deleted)" on the test mount and verifies every byte.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
grep -q hugetlbfs /proc/filesystems || lz_skip "no hugetlbfs in this kernel"
MB=64
lz_reserve_hugepages $((MB / 2)) 2M || lz_skip "cannot reserve $((MB + 1)) available 2M hugepages"

W=$(lz_workdir)
W=$(cd "$W" && pwd -P) # paths are compared with what the kernel shows
H=$W/hugetlbfs
lz_mount_hugetlbfs "$H" 2M || lz_skip "cannot mount hugetlbfs"
lz_start_memkinds "$W" --kinds huge-file --hugetlbfs "$H" --huge-mb $MB --unlink ||
	lz_fail "workload did not start"
F=$H/memkinds-$(head -1 "$W/ready")-huge-file
[ -e "$F" ] && lz_fail "the workload did not unlink $F"
lz_maps "$LZ_WP" "$F" | grep -q "(deleted)" || lz_fail "the workload does not map $F (deleted)"

# no --ghost-limit: the plugin owns the content, CRIU's ghost limit does not apply
lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump of an unlinked hugetlbfs file failed with default CRIU options"
lz_img_lists "$W" "$F" || lz_fail "the lazyshm image has no object for $F"
ghost=$(cat "$W"/ghost-file-*.img 2>/dev/null | wc -c)
[ "$ghost" -lt $((1 << 20)) ] || lz_fail "CRIU's ghost images hold $ghost bytes: the content was copied by CRIU"
[ -z "$(ls -A "$H")" ] || lz_fail "the hugetlbfs is not empty before the restore: $(ls -A "$H")"

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
ROOT=$(cat "$W/restored.pid")
lz_file_deferred "$W" "$F" $((MB << 20)) ||
	lz_fail "restore.log does not say that $F was deferred to the daemon: $(grep -E 'lazyshm: .*file' "$W/restore.log" | head -3)"
lz_verify_all "$W" 1 || {
	lz_diag_lazy "$W"
	lz_fail "the restored task did not verify the file's bytes"
}
m=$(lz_maps "$ROOT" "$F") || lz_fail "the restored task does not map $F: $(grep -E "$(lz_re "$H")|memfd" "/proc/$ROOT/maps")"
echo "$m" | grep -q "(deleted)" || lz_fail "the restored file is not unlinked: $m"
[ "$(lz_maps_dev "$ROOT" "$F")" = "$(mountpoint -d "$H")" ] ||
	lz_fail "the restored file is not on the test mount ($(mountpoint -d "$H")): $m"
[ -z "$(ls -A "$H")" ] || lz_fail "the restore left files on the hugetlbfs: $(ls -A "$H")"
lz_log "restored task maps: $(echo "$m" | head -1)"

lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
[ "$(lz_stats_kind "$W" hugetlb-file)" = 1 ] ||
	lz_fail "expected one hugetlb-file object, the daemon had: $(lz_stats "$W" '[.objects[].kind]' | jq -c .)"
lz_check_filled_once "$W" hugetlb-file || lz_fail "the file was not filled exactly once"
lz_log "stats: $(lz_stats "$W" '[.objects[] | {kind, page_size, size, pages, filled_fault, filled_prefetch}]' | jq -c .)"
lz_verify_all "$W" 1 || lz_fail "memory differs after the daemon detached"
lz_stop_tasks "$ROOT"
lz_wait_gone "$ROOT" 10 || lz_fail "the restored root did not exit"
lz_log "PASS: unlinked hugetlbfs file dumped with default options, restored lazily as '(deleted)' on its mount"
