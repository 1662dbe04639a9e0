#!/usr/bin/env bash
# The destination's lazy-pages daemon is killed (SIGKILL) in the middle
# of a lazy migration, while the restored tasks read their memory over
# the link. The restored tree must be killed (fail-stop: no task may
# report a result computed on pages that never arrived), and the source,
# which never heard that the restore succeeded, must fail the dump and
# resume its tasks, which then verify every byte.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"

rm_require
W=$(lz_workdir)
rm_private_mid_transfer "$W"
kill -9 "$(cat "$W/dst/lazy.pid")" || lz_fail "the daemon was already gone"
lz_log "killed the destination's daemon after $(grep -cE '#PF' "$W/dst/lazy.log") faults"
grep -q "Lazy pages transfer finished successfully" "$W/src/dump.log" &&
	lz_fail "the transfer was over before the kill: the test proved nothing"
rm_dst_tree_dead "$W" 10 || lz_fail "restored tasks survive their daemon"
rm_results_sound "$W"
grep -q "the lazy-pages daemon is gone before every page was restored" "$W/dst/lazy.log" ||
	lz_fail "lazy.log does not say why the tree was killed: $(tail -3 "$W/dst/lazy.log")"
lz_log "destination: the restored tree was killed"

# how the source learns it depends on what it was doing when the
# connection broke: waiting for a request, reading one, sending the header
# of an answer (a broken pipe), or splicing pages into the socket (a short
# splice: CRIU prints the count and a stale errno)
rm_dump_failed "$W" 60 "The lazy-pages daemon closed the connection before it said how the restore ended|Can.t read pagemap from socket: Connection reset by peer|Can.t send [0-9]+ bytes of pages to the socket: [0-9-]+|Can.t send PSI [0-9]+ to server: (Broken pipe|Connection reset by peer)"
rm_source_resumed "$W" 2
lz_lazy_ran
lz_log "PASS"
