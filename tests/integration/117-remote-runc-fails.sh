#!/usr/bin/env bash
# runc's lazy migration (as 116) whose destination fails: the
# destination's daemon is killed in the middle of the transfer, while the
# restored container reads its memory. The restored container's tasks
# must be killed (fail-stop), `runc checkpoint` must fail and the source
# container must be left to run on, its memory intact. The source's CRIU
# gets `lazy-pages-failure stop` from the container's own CRIU config file
# (the org.criu.config annotation; runc's RPC has no such option): its
# tasks stay stopped (state T) until the test resumes them.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"
. "$(dirname "$0")/../lib/container.sh"

ct_require
rm_require
rm_setup
ct_init
rc_init
ct_spec --net-host -- --kinds private --size-mb 128 --children 1
printf 'libdir %s\nlazy-pages-failure stop\n' "$LIBDIR" >"$CT_W/criu.conf"
ct_edit_config --arg f "$CT_W/criu.conf" '.annotations["org.criu.config"] = $f'
ct_start
SRC_PIDS=$(ct_ps)
SRC_ID=$CT_ID SRC_STATE=$CT_STATE
rm_throttle 100mbit
rc_checkpoint
rc_to_destination
ct_restore --lazy-pages || lz_fail "runc restore --lazy-pages failed"
DST_PIDS=$(ct_ps)
DST_TASKS=$(for p in $(ct_tasks); do ct_host_pid "$p"; done)
lz_log "destination: container $CT_ID restored: $(echo $DST_PIDS)"
# the workload's tasks verify their memory (not ctinit: it has no handler)
kill -USR1 $DST_TASKS || lz_fail "cannot signal the restored container's tasks"
t=100
while [ "$(grep -cE "uffd: [0-9]+-[0-9]+: #PF" "$CT_WORK/lazy.log")" -lt 50 ] && [ $((t--)) -gt 0 ]; do sleep 0.1; done
kill -9 "$(cat "$CT_WORK/lazy.pid")" || lz_fail "the daemon was already gone"
lz_log "killed the destination's daemon after $(grep -cE '#PF' "$CT_WORK/lazy.log") faults"
rm_wait_gone 10 $DST_PIDS || lz_fail "the restored container's tasks survive their daemon"
for f in "$CT_IO"/res.[0-9]*; do
	[ -e "$f" ] || continue
	read -r st _ <"$f"
	[ "$st" = OK ] || lz_fail "a restored task ran on pages that never arrived: $(head -1 "$f")"
done

rc=$(rc_checkpoint_rc 60)
[ "$rc" != 0 ] || lz_fail "runc checkpoint succeeded although the migration failed"
grep -q "The lazy-pages transfer failed: leaving stopped the dumped tasks" "$RC_SRC_WORK/dump.log" ||
	lz_fail "dump.log does not say the tasks stay stopped: $(grep Error "$RC_SRC_WORK/dump.log" | tail -3)"
lz_log "source: runc checkpoint failed ($rc): $(ct_runc_log 1)"
for p in $SRC_PIDS; do
	st=$(ps -o stat= -p "$p" | cut -c1)
	[ "$st" = T ] || lz_fail "source task $p is not stopped (state '$st')"
done
# back to the source container
CT_ID=$SRC_ID CT_STATE=$SRC_STATE CT_NETNS=$RM_NS_SRC
lz_log "source container: runc state $(ct_runc state "$CT_ID" | jq -r .status)"
kill -CONT $SRC_PIDS || lz_fail "cannot resume the source's tasks"
ct_verify || lz_fail "the source container's memory differs after the failed migration"
lz_lazy_ran
lz_log "PASS"
