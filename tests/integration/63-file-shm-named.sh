#!/usr/bin/env bash
# A named file on a tmpfs (a private mount in the work directory standing in
# for /dev/shm), with holes, mapped MAP_SHARED by a parent and a child.
# LAZYSHM_FILES=all at dump makes the plugin own named tmpfs files too; the
# file is deleted after the dump, so only the images hold its content. The
# lazy restore recreates it at its path with its size, the daemon fills it,
# and both tasks verify every byte. Then the default policy, which leaves
# named tmpfs files to CRIU: the image must not own such a file.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/file.sh"
# named files are restored eagerly by default (any process may open them by
# path): these cases are about the opt-in
export LAZYSHM_FILES_NAMED=lazy

lz_file_require lazy
MB=64

lz_file_workdir
T=$W/tmpfs
lz_mount_tmpfs "$T" 256m || lz_skip "cannot mount a tmpfs"
D=$W/all
mkdir -p "$D"
lz_start_memkinds "$D" --kinds shm-file --shm-dir "$T" --size-mb $MB --holes --children 1 ||
	lz_fail "workload did not start"
F=$T/memkinds-$(head -1 "$D/ready")-shm-file
SIZE=$((MB << 20))
[ "$(stat -c %s "$F" 2>/dev/null)" = $SIZE ] || lz_fail "the workload did not create $F with $SIZE bytes"

LAZYSHM_FILES=all lz_dump_gone "$D" "$LZ_WP" || lz_fail "dump with LAZYSHM_FILES=all failed"
lz_img_lists "$D" "$F" || lz_fail "LAZYSHM_FILES=all: the lazyshm image has no object for $F"
rm -f "$F" || lz_fail "cannot remove $F"
[ -z "$(ls -A "$T")" ] || lz_fail "the tmpfs is not empty before the restore: $(ls -A "$T")"

lz_lazy_restore "$D" || lz_fail "lazy restore failed"
ROOT=$(cat "$D/restored.pid")
[ "$(stat -c %s "$F" 2>/dev/null)" = $SIZE ] || lz_fail "$F was not recreated at its path with $SIZE bytes"
lz_file_check_deferred "$D" $SIZE
lz_file_verify "$D" 2 "restored tasks did not both verify the file's bytes"
ino=$(stat -c %i "$F")
for p in $ROOT $(lz_descendants "$ROOT"); do
	[ "$(lz_maps_inode "$p" "$F" | awk '{print $2}')" = "$ino" ] ||
		lz_fail "task $p does not map $F (inode $ino): $(grep -F "$T" "/proc/$p/maps")"
done
lz_file_end "$D" shm-file 2
[ -e "$F" ] && lz_fail "$F is left after the restored workload exited"
lz_log "LAZYSHM_FILES=all: named tmpfs file recreated, filled lazily, identical in both tasks"

# the default policy does not own named tmpfs files: CRIU keeps only the path
D=$W/default
mkdir -p "$D"
lz_start_memkinds "$D" --kinds shm-file --shm-dir "$T" --size-mb 4 || lz_fail "default: workload did not start"
F=$T/memkinds-$(head -1 "$D/ready")-shm-file
lz_on_exit "rm -f '$F'"
lz_dump_gone "$D" "$LZ_WP" || lz_fail "default: dump failed"
"$BUILD/bin/lazyshm-img" show "$D" >"$D/img-show.txt" 2>&1
grep -qF "${F#/}" "$D/img-show.txt" && lz_fail "default policy: the lazyshm image owns the named tmpfs file $F"
lz_log "default policy: the named tmpfs file is not in the lazyshm image"
lz_log "PASS"
