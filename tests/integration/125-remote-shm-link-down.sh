#!/usr/bin/env bash
# The link between the hosts goes down (both ends of the veth pair) in the
# middle of a remote post-copy of shared memory (tests/lib/remote-shm.sh).
# Nothing closes either connection: both ends must notice the silent peer
# within 5 s (--ps-timeout for CRIU's page server, LAZYSHM_REMOTE_TIMEOUT
# for lazyshm's session). The destination's daemon must fail with an error
# naming the cause and the restored tree must be killed (fail-stop)
# without a task reporting a result computed on pages that never arrived;
# the source must fail the dump and resume its tasks, which then verify
# every byte.
# timeout: 300
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"
. "$(dirname "$0")/../lib/remote-shm.sh"

W=$(lz_workdir)
rs_require "$W" 16
"$CRIU" --help 2>&1 | grep -q -- --ps-timeout || lz_fail "this criu has no --ps-timeout"
export LAZYSHM_REMOTE_TIMEOUT=5
RM_DUMP_ARGS=(--ps-timeout 5)
RM_LAZY_ARGS=(--ps-timeout 5)
rs_mid_migration "$W"
rm_link_down || lz_fail "cannot take the link down"
T0=$(date +%s)
lz_log "link down"

lz_wait_gone "$(cat "$W/dst/lazy.pid")" 60 || lz_fail "the destination's daemon does not notice the dead link"
lz_log "destination: the daemon failed $(($(date +%s) - T0)) s after the link went down"
WHY="remote: the pages of the dump's source cannot be had any more: .*(timed out|sent nothing for 5 s|Network is unreachable|No route to host)|The connection to the page server (broke in the middle of a transfer \(|failed: )(Connection timed out|Network is unreachable|No route to host)"
rm_dst_failed "$W" "$WHY" 60 "the loss of the link"

rm_dump_failed "$W" 60 "(Can.t read pagemap from socket|Can.t send [0-9]+ bytes of pages to the socket): (Connection timed out|Network is unreachable|No route to host)|The lazy-pages daemon closed the connection before it said how the restore ended"
rs_source_no_done "$W"
lz_log "source: the dump failed $(($(date +%s) - T0)) s after the link went down"
rm_source_resumed "$W" $RS_TASKS
lz_lazy_ran
lz_log "PASS"
