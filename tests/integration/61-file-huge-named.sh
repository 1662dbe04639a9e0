#!/usr/bin/env bash
# A named file on a hugetlbfs 2M mount (with holes), mapped MAP_SHARED by a
# parent and a child, is dumped with the default LAZYSHM_FILES policy and
# deleted before the restore: only the images hold its content. The lazy
# restore recreates it at its path with its size, mode and owner (set to
# 0640 and 1:1 before the dump, so they differ from what a plain create
# gives), defers its content to the
# daemon, both tasks map that one file and verify every byte, before and
# after the daemon detaches.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/file.sh"
# named files are restored eagerly by default (any process may open them by
# path): these cases are about the opt-in
export LAZYSHM_FILES_NAMED=lazy

lz_file_require lazy hugetlbfs
MB=32
lz_huge_file_setup $MB --holes --children 1
[ -f "$F" ] || lz_fail "the workload did not create $F"
SIZE=$(stat -c %s "$F")
[ "$SIZE" = $((MB << 20)) ] || lz_fail "$F has $SIZE bytes, expected $((MB << 20))"
chmod 0640 "$F" && chown 1:1 "$F" || lz_fail "cannot set the mode and owner of $F"

lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"
lz_img_lists "$W" "$F" || lz_fail "the lazyshm image has no object for $F"
rm -f "$F" || lz_fail "cannot remove $F"
[ -z "$(ls -A "$H")" ] || lz_fail "the hugetlbfs is not empty before the restore: $(ls -A "$H")"

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
ROOT=$(cat "$W/restored.pid")
CHILD=$(lz_descendants "$ROOT")
[ -f "$F" ] || lz_fail "$F was not recreated at its path"
[ "$(stat -c %s "$F")" = "$SIZE" ] || lz_fail "$F was recreated with $(stat -c %s "$F") bytes, not $SIZE"
[ "$(stat -c '%a %u:%g' "$F")" = "640 1:1" ] ||
	lz_fail "$F was recreated with mode and owner $(stat -c '%a %u:%g' "$F"), not 640 1:1"
lz_file_check_deferred "$W" "$SIZE"
lz_file_verify "$W" 2 "restored tasks did not both verify the file's bytes"

# one file: the same inode in both tasks, at its path (not deleted)
ino=$(stat -c '%i' "$F")
for p in $ROOT $CHILD; do
	m=$(lz_maps "$p" "$F") || lz_fail "task $p does not map $F: $(grep -F "$H" "/proc/$p/maps")"
	echo "$m" | grep -q "(deleted)" && lz_fail "task $p maps a deleted file: $m"
	[ "$(echo "$m" | awk '{print $5}' | sort -u)" = "$ino" ] || lz_fail "task $p maps another inode than $F ($ino): $m"
done

lz_file_end "$W" hugetlb-file 2
lz_log "PASS: named hugetlbfs file recreated at its path, filled lazily, identical in both tasks"
