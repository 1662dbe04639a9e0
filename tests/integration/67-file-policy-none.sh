#!/usr/bin/env bash
# LAZYSHM_FILES=none gives back upstream CRIU's behaviour: the plugin owns
# no file, so the dump of an unlinked hugetlbfs file (default CRIU options)
# fails as upstream does ("Can't dump ghost file ... increase limit"). A
# failed dump leaves the workload running: it must be intact (every byte
# verifies) and, once stopped, nothing of it is left.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/file.sh"

lz_file_require hugetlbfs # nothing is restored: lazy_shmem is not needed
MB=16
lz_huge_file_setup $MB --unlink --children 1

LAZYSHM_FILES=none lz_criu_dump "$W" "$LZ_WP" >"$W/dump.out" 2>&1 &&
	lz_fail "LAZYSHM_FILES=none: the dump of the unlinked hugetlbfs file $F succeeded"
grep -qE "Can't dump ghost file /?$(lz_re "${F#/}")( \(deleted\))? of [0-9]+ size, increase limit" "$W/dump.log" ||
	lz_fail "the dump did not fail as upstream does: $(grep -E 'Error' "$W/dump.log" | head -3)"
lz_log "dump failed as upstream: $(grep -o "Can't dump ghost file.*" "$W/dump.log" | head -1)"

# the dump was rolled back: the workload runs on, untouched
lz_file_runs_on "$W" 2
[ -z "$(ls -A "$H")" ] || lz_fail "files left on the hugetlbfs: $(ls -A "$H")"
lz_log "PASS: LAZYSHM_FILES=none fails the dump as upstream, the workload ran on intact"
