#!/usr/bin/env bash
# The source's `criu dump --lazy-pages` is killed (SIGKILL) in the middle
# of a lazy migration, while the restored tasks read their memory over
# the link. The destination's daemon must fail with an error naming the
# cause (the connection to the page server broke), and the restored tree
# must be killed (fail-stop): no task may report a result computed on
# pages that never arrived. The source's tasks, released by the dead
# tracer, run on with their own memory intact.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"

rm_require
W=$(lz_workdir)
rm_private_mid_transfer "$W"
kill -9 "$RM_DUMP_PID" || lz_fail "criu dump was already gone"
lz_log "killed the source's criu dump after $(grep -cE '#PF' "$W/dst/lazy.log") faults"
grep -q "Lazy pages transfer finished successfully" "$W/src/dump.log" &&
	lz_fail "the transfer was over before the kill: the test proved nothing"

WHY="The connection to the page server broke in the middle of a transfer \([^)]*\)|The page server closed the connection"
rm_dst_failed "$W" "$WHY" 30 "the loss of the source"

for p in $RM_SRC_TASKS; do
	lz_exited "$p" && lz_fail "source task $p died with its tracer"
done
# the dead tracer leaves them as they were (running, or stopped if they
# were in a group stop): make sure they run, then check their memory
lz_log "source tasks after the death of criu dump: states $(for p in $RM_SRC_TASKS; do ps -o stat= -p "$p"; done | tr '\n' ' ')"
kill -CONT $RM_SRC_TASKS
rm_source_resumed "$W" 2
lz_lazy_ran
lz_log "PASS"
