#!/usr/bin/env bash
# Issue 13: holes stay holes. A 512 MiB MAP_SHARED region (anonymous, and a
# memfd) of which only 4 MiB were ever written (memkinds --sparse 4), dumped
# and restored eagerly, then lazily. At full residency, before any task has
# touched a hole, the object must not have allocated much more memory after
# the lazy restore than after the eager one (st_blocks of the object through
# /proc/PID/map_files: lazy <= eager + 2 MiB); an eager restore leaves the
# holes unallocated. Then every byte is verified (zeros in the holes).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"

lz_h_require lazy
W=$(lz_workdir)
MB=512 WRITTEN=4 SLACK_KIB=2048
declare -A KIB

KINDS=${KINDS:-anon memfd} # KINDS=... for diagnosis
for kind in $KINDS; do
	for mode in eager lazy; do
		D=$W/$kind-$mode
		lz_h_prepare "$D" --kinds $kind --size-mb $MB --sparse $WRITTEN
		lz_h_restore "$D" $mode
		if [ $mode = lazy ]; then
			lz_lazy_done "$D" || lz_fail "$kind: the daemon did not finish cleanly"
		fi
		range=$(lz_h_shared_maps "$ROOT" $((MB << 20)))
		[ "$(echo "$range" | wc -w)" = 1 ] || lz_fail "$kind $mode: no single $MB MiB shared mapping: '$range'"
		KIB[$kind-$mode]=$(lz_h_kib_at "$ROOT" "$range") || lz_fail "$kind $mode: cannot stat the object"
		lz_log "$kind, $mode: the object has ${KIB[$kind-$mode]} KiB allocated at full residency ($WRITTEN MiB written)"
		lz_h_finish "$D" 1
	done
	eager=${KIB[$kind-eager]} lazy=${KIB[$kind-lazy]}
	[ "$eager" -ge $((WRITTEN << 10)) ] && [ "$eager" -le $(((WRITTEN << 10) + SLACK_KIB)) ] ||
		lz_fail "$kind: the eager restore allocated $eager KiB for $WRITTEN MiB of data"
	[ "$lazy" -le $((eager + SLACK_KIB)) ] ||
		lz_fail "$kind: the lazy restore allocated $lazy KiB, the eager one $eager KiB: the holes were filled"
done
lz_log "PASS: holes stay unallocated after a lazy restore"
