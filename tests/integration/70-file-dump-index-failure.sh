#!/usr/bin/env bash
# The content of an unlinked file lazyshm owns is only in lazyshm's images,
# which are useless without their index (lazyshm-shmem.img), written once
# CRIU's images are complete (the DUMP_FINISH hook of patch 0010). If that
# write fails, the dump must fail and the tasks run on: a migration must not
# kill a workload whose dump cannot be restored. The write is made to fail
# by a directory in the way of the index's temporary file.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/file.sh"

lz_file_require # nothing is restored: lazy_shmem is not needed
MB=8

lz_file_workdir
T=$W/tmpfs
lz_mount_tmpfs "$T" 64m || lz_skip "cannot mount a tmpfs"
lz_start_memkinds "$W" --kinds shm-file --shm-dir "$T" --size-mb $MB --unlink --children 1 ||
	lz_fail "workload did not start"
mkdir "$W/lazyshm-shmem.img.tmp" || lz_fail "cannot put a directory in the index's way"

lz_criu_dump "$W" "$LZ_WP" >"$W/dump.out" 2>&1 &&
	lz_fail "the dump succeeded although the lazyshm index could not be written"
grep -q "the dump fails" "$W/dump.log" ||
	lz_fail "dump.log does not say why the dump fails: $(grep -E 'Error' "$W/dump.log" | head -3)"
grep -q "Plugin lazyshm failed to finish its images" "$W/dump.log" ||
	lz_fail "CRIU did not fail the dump from the plugin's DUMP_FINISH: $(grep -E 'Error' "$W/dump.log" | head -3)"
[ -e "$W/lazyshm-shmem.img" ] && lz_fail "an index was written after all"
lz_log "dump failed: $(grep -o "dump: the content of.*" "$W/dump.log" | head -1)"

# the dump was rolled back: the workload runs on, untouched
lz_file_runs_on "$W" 2
lz_log "PASS: a dump whose lazyshm index cannot be written fails, and the workload runs on intact"
