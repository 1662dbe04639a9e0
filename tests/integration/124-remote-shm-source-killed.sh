#!/usr/bin/env bash
# The source's `criu dump --lazy-pages`, which serves the shared memory, is
# killed (SIGKILL) in the middle of a remote post-copy
# (tests/lib/remote-shm.sh), while the restored tasks fault pages in over
# the link. The destination's daemon must fail with an error naming the
# cause (the source closed the connection, or a request to it found the
# socket broken) and the restored tree must be
# killed (fail-stop): no task may report a result computed on pages that
# never arrived. The source's tasks, released by the dead tracer, run on
# with their own memory intact.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"
. "$(dirname "$0")/../lib/remote-shm.sh"

W=$(lz_workdir)
rs_require "$W" 16
rs_mid_migration "$W"
kill -9 "$RM_DUMP_PID" || lz_fail "criu dump was already gone"
lz_log "killed the source's criu dump"

WHY="remote: the pages of the dump's source cannot be had any more: .*(closed the connection|connection closed|Connection reset by peer|Broken pipe)|The connection to the page server broke in the middle of a transfer \([^)]*\)|The page server closed the connection"
rm_dst_failed "$W" "$WHY" 30 "the loss of the source"
grep -q "every lazily restored page is populated" "$W/dst/lazy.log" && lz_fail "the daemon claims full residency"

for p in $RM_SRC_TASKS; do
	lz_exited "$p" && lz_fail "source task $p died with its tracer"
done
lz_log "source tasks after the death of criu dump: states $(for p in $RM_SRC_TASKS; do ps -o stat= -p "$p"; done | tr '\n' ' ')"
kill -CONT $RM_SRC_TASKS
rm_source_resumed "$W" $RS_TASKS
lz_lazy_ran
lz_log "PASS"
