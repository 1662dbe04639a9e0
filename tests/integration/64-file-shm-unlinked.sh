#!/usr/bin/env bash
# An unlinked file on a tmpfs (a private mount in the work directory), with
# holes, mapped MAP_SHARED by a parent and a child, dumped with the default
# LAZYSHM_FILES policy and default CRIU options (upstream refuses it: "Can't
# dump ghost file ... increase limit"). The file disappears with the dumped
# tasks. The lazy restore recreates it on the same mount, unlinked again;
# the daemon fills it and both tasks verify every byte.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/file.sh"

lz_file_require lazy
MB=64
SIZE=$((MB << 20))

lz_file_workdir
T=$W/tmpfs
lz_mount_tmpfs "$T" 256m || lz_skip "cannot mount a tmpfs"
lz_start_memkinds "$W" --kinds shm-file --shm-dir "$T" --size-mb $MB --unlink --holes --children 1 ||
	lz_fail "workload did not start"
F=$T/memkinds-$(head -1 "$W/ready")-shm-file
lz_file_dump_unlinked "$W" "$T" tmpfs

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
ROOT=$(cat "$W/restored.pid")
lz_file_check_deferred "$W" $SIZE
lz_file_verify "$W" 2 "restored tasks did not both verify the file's bytes"
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

lz_file_end "$W" shm-file 2
lz_log "PASS: unlinked tmpfs file dumped with default options, restored lazily as '(deleted)', one file in both tasks"
