#!/usr/bin/env bash
# The destination's lazy-pages daemon is killed (SIGKILL) in the middle of
# a remote post-copy of shared memory (tests/lib/remote-shm.sh), while the
# restored tasks read their memory and fault pages in over the link. The
# restored tree must be killed (fail-stop: no task may report a result
# computed on pages that never arrived); the source, which never heard
# DONE, must fail the dump and resume its tasks, which verify every byte.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"
. "$(dirname "$0")/../lib/remote-shm.sh"

W=$(lz_workdir)
rs_require "$W" 16
rs_mid_migration "$W"
kill -9 "$(cat "$W/dst/lazy.pid")" || lz_fail "the daemon was already gone"
lz_log "killed the destination's daemon"
rm_dst_tree_dead "$W" 10 || lz_fail "restored tasks survive their daemon"
rm_results_sound "$W"
grep -q "the lazy-pages daemon is gone before every page was restored" "$W/dst/lazy.log" ||
	lz_fail "lazy.log does not say why the tree was killed: $(tail -3 "$W/dst/lazy.log")"
lz_log "destination: the restored tree was killed"

rm_dump_failed "$W" 60 "The lazy-pages daemon closed the connection before it said how the restore ended|Can.t read pagemap from socket: Connection reset by peer|Can.t send PSI [0-9]+ to server: (Broken pipe|Connection reset by peer)"
rs_source_no_done "$W"
rm_source_resumed "$W" $RS_TASKS
lz_lazy_ran
lz_log "PASS"
