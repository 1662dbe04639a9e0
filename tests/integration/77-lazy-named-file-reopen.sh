#!/usr/bin/env bash
# Issue 13: a named file the plugin owns (tmpfs with LAZYSHM_FILES=all, and
# hugetlbfs), removed after the dump so that the restore recreates it, is
# opened anew by its path during the lazy phase (the prefetch thread slowed
# down, far from the pages concerned): pages still unfilled are written
# through the new descriptor (pwrite on tmpfs; on hugetlbfs, which has no
# write(), through a mapping of it), a data page and a hole, and another
# data page is punched (fallocate PUNCH_HOLE). Then they are read back
# through the task's mapping, and every task verifies every byte: the
# writes must not be lost, the punched page must read zeros, neither now
# nor once the daemon has passed. If the
# plugin restores named files eagerly by default instead, restore.log must
# say so, and the same run must be correct. Eager restores first.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"
. "$(dirname "$0")/../lib/file.sh"

lz_h_require lazy
lz_file_reserve 16
lz_file_workdir
T=$W/tmpfs H=$W/hugetlbfs
lz_mount_tmpfs "$T" 256m || lz_skip "cannot mount a tmpfs"
lz_mount_hugetlbfs "$H" 2M || lz_skip "cannot mount hugetlbfs"

# run KIND MODE ARGS...: one dump and restore of KIND with its actions
run() {
	local kind=$1 mode=$2 D=$W/$1-$2 f how
	shift 2
	LAZYSHM_FILES=all lz_h_prepare "$D" --kinds "$kind" --shm-dir "$T" --hugetlbfs "$H" --size-mb 16 --huge-mb 16 \
		--holes --children 1 "$@"
	f=$(ls "$T"/memkinds-*-"$kind" "$H"/memkinds-*-"$kind" 2>/dev/null)
	lz_img_lists "$D" "$f" || lz_fail "$kind: the lazyshm image does not own $f"
	rm -f "$f" || lz_fail "cannot remove $f"
	lz_h_restore "$D" "$mode" 1000
	[ -e "$f" ] || lz_fail "$kind $mode: $f was not recreated"
	how=$(grep -E "lazyshm: file .*(deferred to the lazy-pages daemon|restored eagerly)" "$D/restore.log" | head -1)
	[ -n "$how" ] || lz_fail "$kind $mode: restore.log says neither deferred nor eager for $f"
	st=$(lz_h_usr2 "$D" 30) || {
		lz_diag_lazy "$D"
		lz_fail "$kind $mode: the root did not finish its actions (hung?)"
	}
	[ "$st" = "OK actions" ] || lz_fail "$kind $mode: read back through the mapping: $(head -1 "$D/res.usr2.0")"
	# the child forked before: it knows nothing of the actions; only the root verifies them
	lz_verify_all "$D" 1 || lz_fail "$kind $mode: wrong bytes after the write and the punch"
	if [ "$mode" = lazy ] && echo "$how" | grep -q deferred; then
		lz_lazy_done "$D" || lz_fail "$kind: the daemon did not finish cleanly"
	fi
	lz_verify_all "$D" 1 || lz_fail "$kind $mode: the write or the punch was undone once the daemon had passed"
	lz_stop_tasks "$ROOT" $(lz_descendants "$ROOT")
	lz_wait_gone "$ROOT" 10 || lz_fail "$kind $mode: the restored root did not exit"
	lz_log "$kind, $mode (${how#*lazyshm: }): the write and the punch through a new descriptor stand"
}

KINDS=${KINDS:-shm-file huge-file} MODES=${MODES:-eager lazy} # for diagnosis
for mode in $MODES; do
	# 16 MiB = 4096 pages of 4K: the slowed prefetch thread fills 1 MiB a second from
	# page 0; pages with index % 5 == 1 are holes (one of them written, too)
	[[ " $KINDS " != *" shm-file "* ]] ||
		run shm-file $mode --on-usr2 reopen-write:shm-file:3002,reopen-write:shm-file:3101,reopen-punch:shm-file:3503
	# 16 MiB = 8 pages of 2M: one a second
	[[ " $KINDS " != *" huge-file "* ]] ||
		run huge-file $mode --on-usr2 reopen-write:huge-file:7,reopen-write:huge-file:6,reopen-punch:huge-file:4
done
lz_log "PASS"
