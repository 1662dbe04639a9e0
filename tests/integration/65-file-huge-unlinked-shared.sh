#!/usr/bin/env bash
# Two mappers, one file: an unlinked file on a hugetlbfs 2M mount, mapped
# MAP_SHARED by a parent and a forked child (no holes: every page has
# data). The restore must give both tasks the same file (one inode), the
# daemon must serve it as exactly one hugetlb-file object and fill every
# page once (filled_fault + filled_prefetch == the object's data pages, as
# counted in the lazyshm image), and both tasks verify every byte.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/file.sh"

lz_file_require lazy hugetlbfs
MB=32
PAGES=$((MB / 2))
lz_huge_file_setup $MB --unlink --children 1

lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"
lz_img_lists "$W" "$F" || lz_fail "the lazyshm image has no object for $F"
n=$(lz_img_count "$W" "$F")
[ "$n" = 1 ] || lz_fail "the lazyshm image has $n objects for the one file $F"

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
ROOT=$(cat "$W/restored.pid")
CHILD=$(lz_descendants "$ROOT")
[ -n "$CHILD" ] || lz_fail "the restored root has no child"
lz_file_verify "$W" 2 "restored tasks did not both verify the file's bytes"
i0=$(lz_maps_inode "$ROOT" "$F")
i1=$(lz_maps_inode "$CHILD" "$F")
[ -n "$i0" ] || lz_fail "the root does not map $F: $(grep -E "$(lz_re "$H")|memfd" "/proc/$ROOT/maps")"
[ "$i0" = "$i1" ] || lz_fail "parent and child map different files: '$i0' and '$i1'"
lz_maps "$ROOT" "$F" | grep -q "(deleted)" || lz_fail "the restored file is not unlinked: $(lz_maps "$ROOT" "$F")"
[ "$(lz_maps_dev "$ROOT" "$F")" = "$(mountpoint -d "$H")" ] || lz_fail "the restored file is not on the test mount"
lz_log "both tasks map dev:ino $i0 ($F (deleted))"
lz_file_deferred "$W" "$F" $((MB << 20)) || lz_fail "restore.log does not say that $F was deferred to the daemon"

lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
lz_log "stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch, removed}]' | jq -c .)"
[ "$(lz_stats "$W" '.objects | length')" = 1 ] && [ "$(lz_stats_kind "$W" hugetlb-file)" = 1 ] ||
	lz_fail "expected exactly one hugetlb-file object, the daemon had: $(lz_stats "$W" '[.objects[].kind]' | jq -c .)"
[ "$(lz_stats "$W" '.objects[0].pages')" = $PAGES ] || lz_fail "the object has $(lz_stats "$W" '.objects[0].pages') pages, not $PAGES"
lz_check_filled_once "$W" hugetlb-file || lz_fail "the file was not filled exactly once"
data=$(lz_img_data_pages "$W" "$F")
filled=$(lz_stats "$W" '.objects[0].filled_fault + .objects[0].filled_prefetch')
[ "$data" = "$filled" ] || lz_fail "the image has $data data pages, the daemon filled $filled"
lz_file_stop "$W" 2
lz_log "PASS: one unlinked hugetlbfs file shared by two tasks, restored as one file, $filled pages filled once"
