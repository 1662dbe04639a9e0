#!/usr/bin/env bash
# The link between the hosts goes down (both ends of the veth pair) in
# the middle of a lazy migration, while the restored tasks read their
# memory over it. Nothing closes the connection: both ends must notice
# the silent peer within --ps-timeout (5 s here). The destination's
# daemon must fail with an error naming the cause and the restored tree
# must be killed (fail-stop) without a task reporting a result computed
# on pages that never arrived; the source must fail the dump and resume
# its tasks, which then verify every byte.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"

rm_require
"$CRIU" --help 2>&1 | grep -q -- --ps-timeout || lz_fail "this criu has no --ps-timeout"
W=$(lz_workdir)
RM_DUMP_ARGS=(--ps-timeout 5)
RM_LAZY_ARGS=(--ps-timeout 5)
rm_private_mid_transfer "$W"
rm_link_down || lz_fail "cannot take the link down"
T0=$(date +%s)
lz_log "link down after $(grep -cE '#PF' "$W/dst/lazy.log") faults"
grep -q "Lazy pages transfer finished successfully" "$W/src/dump.log" &&
	lz_fail "the transfer was over before the link went down: the test proved nothing"

lz_wait_gone "$(cat "$W/dst/lazy.pid")" 60 || lz_fail "the destination's daemon does not notice the dead link"
lz_log "destination: the daemon failed $(($(date +%s) - T0)) s after the link went down"
# the timeout is reported with the last error TCP saw (the route is gone)
WHY='The connection to the page server (broke in the middle of a transfer \(|failed: )(Connection timed out|Network is unreachable|No route to host)'
rm_dst_failed "$W" "$WHY" 60 "the loss of the link"

# a splice of pages into the socket may also end short when the send
# timeout strikes: CRIU prints the count it sent and a stale errno
rm_dump_failed "$W" 60 "(Can.t read pagemap from socket|Can.t send [0-9]+ bytes of pages to the socket): (Connection timed out|Network is unreachable|No route to host|[0-9]+: )"
lz_log "source: the dump failed $(($(date +%s) - T0)) s after the link went down"
rm_source_resumed "$W" 2
lz_lazy_ran
lz_log "PASS"
