#!/usr/bin/env bash
# An unlinked file on a tmpfs (a private mount in the work directory), with
# holes, mapped MAP_SHARED by a parent and a child, dumped with the default
# LAZYSHM_FILES policy and default CRIU options (upstream refuses it: "Can't
# dump ghost file ... increase limit"). The file disappears with the dumped
# tasks. The lazy restore recreates it on the same mount, unlinked again;
# the daemon fills it and both tasks verify every byte.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
MB=64
SIZE=$((MB << 20))

W=$(lz_workdir)
W=$(cd "$W" && pwd -P) # paths are compared with what the kernel shows
T=$W/tmpfs
lz_mount_tmpfs "$T" 256m || lz_skip "cannot mount a tmpfs"
lz_start_memkinds "$W" --kinds shm-file --shm-dir "$T" --size-mb $MB --unlink --holes --children 1 ||
	lz_fail "workload did not start"
F=$T/memkinds-$(head -1 "$W/ready")-shm-file
[ -e "$F" ] && lz_fail "the workload did not unlink $F"
lz_maps "$LZ_WP" "$F" | grep -q "(deleted)" || lz_fail "the workload does not map $F (deleted)"

lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump of an unlinked tmpfs file failed with default CRIU options"
lz_img_lists "$W" "$F" || lz_fail "the lazyshm image has no object for $F"
ghost=$(cat "$W"/ghost-file-*.img 2>/dev/null | wc -c)
[ "$ghost" -lt $((1 << 20)) ] || lz_fail "CRIU's ghost images hold $ghost bytes: the content was copied by CRIU"
[ -z "$(ls -A "$T")" ] || lz_fail "the tmpfs is not empty before the restore: $(ls -A "$T")"

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
ROOT=$(cat "$W/restored.pid")
lz_file_deferred "$W" "$F" $SIZE ||
	lz_fail "restore.log does not say that $F was deferred to the daemon: $(grep -E 'lazyshm: .*file' "$W/restore.log" | head -3)"
lz_verify_all "$W" 2 || {
	lz_diag_lazy "$W"
	lz_fail "restored tasks did not both verify the file's bytes"
}
first=""
for p in $ROOT $(lz_descendants "$ROOT"); do
	m=$(lz_maps "$p" "$F") || lz_fail "task $p does not map $F: $(grep -E "$(lz_re "$T")|memfd" "/proc/$p/maps")"
	echo "$m" | grep -q "(deleted)" || lz_fail "task $p: the restored file is not unlinked: $m"
	[ "$(lz_maps_dev "$p" "$F")" = "$(mountpoint -d "$T")" ] || lz_fail "task $p: the file is not on the test tmpfs: $m"
	i=$(lz_maps_inode "$p" "$F")
	[ -z "$first" ] || [ "$i" = "$first" ] || lz_fail "the tasks map two files: $first and $i"
	first=$i
done
[ -z "$(ls -A "$T")" ] || lz_fail "the restore left files on the tmpfs: $(ls -A "$T")"

lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
[ "$(lz_stats_kind "$W" shm-file)" = 1 ] ||
	lz_fail "expected one shm-file object, the daemon had: $(lz_stats "$W" '[.objects[].kind]' | jq -c .)"
lz_check_filled_once "$W" shm-file || lz_fail "the file was not filled exactly once"
lz_log "stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch}]' | jq -c .)"
lz_verify_all "$W" 2 || lz_fail "memory differs after the daemon detached"
lz_stop_tasks "$ROOT"
lz_wait_gone "$ROOT" 10 || lz_fail "the restored root did not exit"
lz_log "PASS: unlinked tmpfs file dumped with default options, restored lazily as '(deleted)', one file in both tasks"
