#!/usr/bin/env bash
# An unlinked hugetlbfs file whose descriptor the tasks still hold (QEMU
# keeps its -mem-path fd open): a parent and a forked child map it
# MAP_SHARED and hold the inherited fd (memkinds --keep-fd). read()/write()
# on that fd reach the pages without a userfault, so the plugin must not
# defer the file: restore.log says "file <path> restored eagerly: a task
# holds it open" and that its data pages were "restored eagerly and
# validated", and nothing is deferred. Right after the restore both tasks
# pread() the whole file through the fd before touching the mapping
# (--fd-read), then read the mapping: every byte must match, holes read
# zeros. The restored fd and the mapping are one file, unlinked again on
# the test mount.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/file.sh"

lz_file_require lazy hugetlbfs
MB=16
BYTES=$((MB << 20))
lz_huge_file_setup $MB --unlink --keep-fd --fd-read --holes --children 1
FRE=$(lz_re "${F#/}")

# fd_of PID: the number of PID's descriptor open on "$F (deleted)"
fd_of() {
	local l
	for l in /proc/"$1"/fd/*; do
		[ "$(readlink "$l")" = "$F (deleted)" ] && {
			basename "$l"
			return 0
		}
	done
	return 1
}
for p in $(cat "$W/ready"); do
	fd_of "$p" >/dev/null || lz_fail "workload task $p holds no fd on $F (deleted): $(ls -l /proc/"$p"/fd | tail -n +2)"
done
lz_verify_all "$W" 2 "$LZ_WP" || lz_fail "the workload does not verify before the dump"
grep -q "^fdread huge-file bytes $BYTES OK$" "$W/res.0" || lz_fail "the workload did not pread the file: $(cat "$W/res.0")"
rm -f "$W"/res.*

lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"
lz_img_lists "$W" "$F" || lz_fail "the lazyshm image has no object for $F"
DATA=$(lz_img_data_pages "$W" "$F")
[ -n "$DATA" ] && [ "$DATA" -gt 0 ] || lz_fail "no data pages counted for $F in the image"

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
ROOT=$(cat "$W/restored.pid")
CHILD=$(lz_descendants "$ROOT")
[ -n "$CHILD" ] || lz_fail "the restored root has no child"
# first: pread() through the fd, before any fault on the mapping
lz_verify_all "$W" 2 || {
	lz_diag_lazy "$W"
	lz_fail "restored tasks did not verify the file through the fd and the mapping"
}
for i in 0 1; do
	grep -q "^fdread huge-file bytes $BYTES OK$" "$W/res.$i" ||
		lz_fail "task $i did not pread the whole file OK: $(cat "$W/res.$i")"
done

log=$W/restore.log
grep -qE "lazyshm: file /?$FRE( \(deleted\))? restored eagerly: a task holds it open" "$log" ||
	lz_fail "restore.log does not say that $F was restored eagerly because a task holds it open: $(grep -E 'lazyshm: .*file' "$log" | head -3)"
grep -qE "lazyshm: hugetlb-file 0x[0-9a-f]+: $DATA data pages restored eagerly and validated" "$log" ||
	lz_fail "restore.log does not say that the file's $DATA data pages were restored eagerly and validated: $(grep -E 'lazyshm: .*eagerly' "$log" | head -3)"
grep -E "deferred" "$log" | grep -v hook && lz_fail "something was deferred although the file is held open"
lz_file_deferred "$W" "$F" $BYTES && lz_fail "$F was deferred to the daemon"
lz_log "$(grep -hE "lazyshm: (file .*restored eagerly|hugetlb-file .*validated)" "$log" | sed 's/.*lazyshm: //' | tr '\n' ';')"

# fd and mapping: one file, unlinked again, on the test mount, in both tasks
ino=$(lz_maps_inode "$ROOT" "$F" | awk '{print $2}')
[ -n "$ino" ] || lz_fail "the root does not map $F: $(grep -E "$(lz_re "$H")|memfd" "/proc/$ROOT/maps")"
[ "$(lz_maps_dev "$ROOT" "$F")" = "$(mountpoint -d "$H")" ] || lz_fail "the restored file is not on the test mount"
for p in $ROOT $CHILD; do
	n=$(fd_of "$p") || lz_fail "restored task $p holds no fd on $F (deleted): $(ls -l /proc/"$p"/fd | tail -n +2)"
	[ "$(stat -L -c %i "/proc/$p/fd/$n")" = "$ino" ] ||
		lz_fail "task $p: fd $n is inode $(stat -L -c %i "/proc/$p/fd/$n"), the mapping inode $ino"
	[ "$(lz_maps_inode "$p" "$F" | awk '{print $2}')" = "$ino" ] || lz_fail "task $p maps another file"
done
[ -z "$(ls -A "$H")" ] || lz_fail "the restore left files on the hugetlbfs: $(ls -A "$H")"
lz_log "both tasks hold fd and mapping of inode $ino ($F (deleted))"

# the daemon serves only CRIU's private pages: it must exit by itself
lz_wait_gone "$(cat "$W/lazy.pid")" 60 || {
	lz_diag_lazy "$W"
	lz_fail "lazy-pages daemon did not finish"
}
if [ -s "$W/lazyshm-stats.json" ]; then
	[ "$(lz_stats "$W" '.objects | length')" = 0 ] ||
		lz_fail "the daemon served shared objects: $(lz_stats "$W" '[.objects[].kind]' | jq -c .)"
fi
lz_file_stop "$W" 2
lz_log "PASS: unlinked hugetlbfs file held open restored eagerly, validated, read OK through fd and mapping"
