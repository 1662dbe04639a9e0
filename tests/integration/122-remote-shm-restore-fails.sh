#!/usr/bin/env bash
# Remote post-copy of shared memory (tests/lib/remote-shm.sh) whose restore
# fails on the destination (an action script fails it at post-restore,
# after the daemon has taken the objects and begun fetching them) must not
# cost the source its tasks: the daemon tells lazyshm's session FAIL and
# CRIU's page server that the restore failed; the dump fails and
#  1. by default the source's tasks are resumed and verify every byte;
#  2. with --lazy-pages-failure stop they are left stopped (state T), and
#     run on correctly once the test resumes them.
# No restored task may be left on the destination.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"
. "$(dirname "$0")/../lib/remote-shm.sh"

W=$(lz_workdir)
rs_require "$W" 8
rm_setup
rm_throttle 200mbit
cat >"$W/fail-restore.sh" <<'SH'
#!/bin/sh
[ "$CRTOOLS_SCRIPT_ACTION" = post-restore ] && exit 1
exit 0
SH
chmod +x "$W/fail-restore.sh"

# $1: the part's dir, then the dump's extra arguments
failed_migration() {
	local w=$1
	shift
	rs_start "$w" 32 8
	RM_SRC_TASKS=$(cat "$w/wl/ready")
	rm_dump "$w" "$LZ_WP" "$@" || lz_fail "dump failed"
	rm_copy_images "$w" || lz_fail "cannot copy the images"
	rs_check_source "$w"
	rm_lazy_daemon "$w" || lz_fail "criu lazy-pages failed"
	rm_restore "$w" --action-script "$W/fail-restore.sh" && lz_fail "the restore succeeded despite its failing post-restore script"
	grep -q "Aborting restore due to post-restore script" "$w/dst/restore.log" ||
		lz_fail "the restore failed for another reason: $(grep Error "$w/dst/restore.log" | head -3)"
	rm_dst_tree_dead "$w" 10 || lz_fail "restored tasks are left after the failed restore"
	lz_wait_gone "$(cat "$w/dst/lazy.pid")" 30 || lz_fail "the lazy-pages daemon does not exit after the failed restore"
	grep -q "remote: $RS_NR_REMOTE object(s) fetched from the dump's source" "$w/dst/lazy.log" ||
		lz_fail "the daemon never had a session with the source"
	grep -q "remote: told the dump's source $RM_SRC_ADDR:$((RM_PORT + 1)): FAIL" "$w/dst/lazy.log" ||
		lz_fail "the daemon did not tell lazyshm's source FAIL: $(grep 'remote:' "$w/dst/lazy.log" | tail -3)"
	grep -q "Telling the page server that the restore failed" "$w/dst/lazy.log" ||
		lz_fail "the daemon did not report the failure to CRIU's page server"
	rm_dump_failed "$w" 30 "The lazy-pages daemon reports that the restore failed"
	grep -q "remote: FAIL: the destination failed" "$w/src/dump.log" || lz_fail "the source did not log the FAIL"
	rs_source_no_done "$w"
}

# 1. default: resumed
failed_migration "$W/resume"
rm_source_resumed "$W/resume" $RS_TASKS
lz_stop_tasks $RM_SRC_TASKS

# 2. --lazy-pages-failure stop
failed_migration "$W/stop" --lazy-pages-failure stop
rm_source_left_stopped "$W/stop" $RS_TASKS
lz_stop_tasks $RM_SRC_TASKS
lz_lazy_ran
lz_log "PASS"
