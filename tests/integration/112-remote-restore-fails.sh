#!/usr/bin/env bash
# A lazy migration whose restore fails on the destination (an action
# script fails the restore at post-restore, after the daemon got the
# userfaultfds) must not cost the source its tasks: the daemon tells the
# source that the restore failed, the dump fails, and
#  1. by default the source's tasks are resumed and verify every byte;
#  2. with --lazy-pages-failure stop they are left stopped (state T), and
#     run on correctly once the test resumes them.
# No restored task may be left on the destination.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"

rm_require
W=$(lz_workdir)
rm_setup
rm_throttle 400mbit
cat >"$W/fail-restore.sh" <<'SH'
#!/bin/sh
[ "$CRTOOLS_SCRIPT_ACTION" = post-restore ] && exit 1
exit 0
SH
chmod +x "$W/fail-restore.sh"

# $1: the part's dir, then the dump's extra arguments
failed_migration() {
	local w=$1 rc
	shift
	RM_DUMP_ARGS=("$@")
	rm_start_workload "$w" --kinds private --size-mb 64 --children 1 || lz_fail "workload did not start"
	RM_SRC_TASKS=$(cat "$w/wl/ready")
	rm_dump "$w" "$LZ_WP" ${RM_DUMP_ARGS[@]+"${RM_DUMP_ARGS[@]}"} || lz_fail "dump failed"
	rm_copy_images "$w" || lz_fail "cannot copy the images"
	rm_lazy_daemon "$w" || lz_fail "criu lazy-pages failed"
	rm_restore "$w" --action-script "$W/fail-restore.sh" && lz_fail "the restore succeeded despite its failing post-restore script"
	grep -q "Aborting restore due to post-restore script" "$w/dst/restore.log" ||
		lz_fail "the restore failed for another reason: $(grep Error "$w/dst/restore.log" | head -3)"
	rm_dst_tree_dead "$w" 10 || lz_fail "restored tasks are left after the failed restore"
	lz_wait_gone "$(cat "$w/dst/lazy.pid")" 30 || lz_fail "the lazy-pages daemon does not exit after the failed restore"
	grep -q "Telling the page server that the restore failed" "$w/dst/lazy.log" ||
		lz_fail "the daemon did not report the failure: $(grep Error "$w/dst/lazy.log" | head -3)"
	rm_dump_failed "$w" 30 "The lazy-pages daemon reports that the restore failed"
}

# 1. default: resumed
failed_migration "$W/resume"
rm_source_resumed "$W/resume" 2
lz_stop_tasks $RM_SRC_TASKS

# 2. --lazy-pages-failure stop
failed_migration "$W/stop" --lazy-pages-failure stop
rm_source_left_stopped "$W/stop" 2
lz_lazy_ran
lz_log "PASS"
