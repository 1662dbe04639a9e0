#!/usr/bin/env bash
# runc's lazy migration flow (runc's checkpoint.bats) between two hosts
# (tests/lib/remote.sh): on the source, `runc checkpoint --lazy-pages
# --page-server ADDR:PORT --status-fd FD` of a busybox container
# (memkinds with private memory, runc's default namespaces but the
# network: the container uses its host's, the source namespace); the
# images are copied; on the destination, `criu lazy-pages --page-server`
# and `runc restore --lazy-pages` of a container of another name, state
# dir and cgroup (the source's still exists until the transfer ends).
# Every byte is verified in the restored container, the daemon serves
# faults over the link, and once the transfer is over runc checkpoint
# succeeds and the source container is gone.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"
. "$(dirname "$0")/../lib/container.sh"

ct_require
rm_require
rm_setup
ct_init
rc_init
ct_spec --net-host -- --kinds private --size-mb 64 --children 1
ct_plugin_via env
ct_start
SRC_PIDS=$(ct_ps)
rm_throttle 200mbit
rc_checkpoint
rc_to_destination
ct_restore --lazy-pages || lz_fail "runc restore --lazy-pages failed"
lz_log "destination: container $CT_ID restored"
ct_verify || lz_fail "the restored container's memory differs"
lz_wait_gone "$(cat "$CT_WORK/lazy.pid")" 60 || lz_fail "the lazy-pages daemon did not finish"
grep -qE "uffd: [0-9]+-[0-9]+: #PF" "$CT_WORK/lazy.log" || lz_skip_part "no page fault was served over the link"
grep -q Error "$CT_WORK/lazy.log" && lz_fail "lazy.log has errors: $(grep Error "$CT_WORK/lazy.log" | head -3)"

rc=$(rc_checkpoint_rc 60)
[ "$rc" = 0 ] || lz_fail "runc checkpoint failed ($rc): $(cat "$CT_W/checkpoint.out") $(ct_runc_log)"
grep -q "Lazy pages transfer finished successfully" "$RC_SRC_WORK/dump.log" ||
	lz_fail "the source did not report a successful transfer"
rm_wait_gone 10 $SRC_PIDS || lz_fail "the source container's processes survive: $SRC_PIDS"
lz_log "source: runc checkpoint succeeded, the source container is gone"
ct_verify || lz_fail "the memory differs after the daemon exited"
lz_lazy_ran
lz_log "PASS"
