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
. "$(dirname "$0")/../lib/file.sh"

lz_file_require lazy hugetlbfs
MB=64
lz_huge_file_setup $MB --unlink
lz_file_dump_unlinked "$W" "$H" hugetlbfs

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
ROOT=$(cat "$W/restored.pid")
lz_file_check_deferred "$W" $((MB << 20))
lz_file_verify "$W" 1 "the restored task did not verify the file's bytes"
m=$(lz_maps "$ROOT" "$F") || lz_fail "the restored task does not map $F: $(grep -E "$(lz_re "$H")|memfd" "/proc/$ROOT/maps")"
echo "$m" | grep -q "(deleted)" || lz_fail "the restored file is not unlinked: $m"
[ "$(lz_maps_dev "$ROOT" "$F")" = "$(mountpoint -d "$H")" ] ||
	lz_fail "the restored file is not on the test mount ($(mountpoint -d "$H")): $m"
[ -z "$(ls -A "$H")" ] || lz_fail "the restore left files on the hugetlbfs: $(ls -A "$H")"
lz_log "restored task maps: $(echo "$m" | head -1)"

lz_file_end "$W" hugetlb-file 1 "kind, page_size, size, pages, filled_fault, filled_prefetch"
lz_log "PASS: unlinked hugetlbfs file dumped with default options, restored lazily as '(deleted)' on its mount"
