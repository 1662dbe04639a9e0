#!/usr/bin/env bash
# Issue 13: a memfd whose size is not a whole number of pages (10000 bytes,
# 25576 bytes whose partial last page is a hole, and 4 MiB + 1000 bytes),
# with holes (every page index % 5 == 1), mapped by a parent and a child. The daemon fills
# the last, partial page from an image that holds the whole page: the object
# must keep exactly its dumped size (a grown memfd changes what fstat(),
# lseek(SEEK_END) and a later mmap see). Restored eagerly, then lazily with
# the prefetch thread slowed down while both tasks read every byte; the
# size is checked by every task (fstat through /proc/self/map_files) during
# the lazy phase and once the daemon has finished.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"

lz_h_require lazy
W=$(lz_workdir)

# check_size DIR SIZE WHAT: both tasks verified every byte and see SIZE bytes
check_size() {
	local dir=$1 size=$2 what=$3 i line
	lz_verify_all "$dir" 2 || {
		lz_diag_lazy "$dir"
		lz_fail "$what: restored bytes differ"
	}
	for i in 0 1; do
		line=$(lz_h_region "$dir" $i memfd)
		echo "$line" | grep -qE "^region memfd bytes $size .* size $size OK$" ||
			lz_fail "$what: task $i: the object is not $size bytes: $line"
	done
}

for mb_odd in 0:10000 0:25576 4:1000; do
	MB=${mb_odd%:*} ODD=${mb_odd#*:}
	SIZE=$(((MB << 20) + ODD))
	for mode in eager lazy; do
		D=$W/$SIZE-$mode
		lz_h_prepare "$D" --kinds memfd --size-mb $MB --odd-bytes $ODD --holes --children 1
		lz_h_restore "$D" $mode 300
		how=$(lz_h_deferred_or_eager "$D" "$SIZE bytes, $mode")
		check_size "$D" $SIZE "$SIZE bytes, $mode"
		if [ $mode = lazy ]; then
			lz_lazy_done "$D" || lz_fail "$SIZE bytes: the daemon did not finish cleanly"
			check_size "$D" $SIZE "$SIZE bytes, after the daemon detached"
		fi
		lz_h_finish "$D" 2
		lz_log "$SIZE-byte memfd, $mode ($how): every byte identical, the object still $SIZE bytes"
	done
done
lz_log "PASS"
