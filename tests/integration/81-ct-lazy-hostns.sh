#!/usr/bin/env bash
# Lazy restore through runc of a container that shares the host's PID and
# network namespaces (`--pid host --net host`: CRIU then sees host PIDs and
# the plugin's registry socket is reachable). The plugin dir comes from a
# CRIU config file named by the org.criu.config annotation.
#
# One checkpoint, restored three times:
#  1. eagerly (runc restore): every byte verified in both tasks;
#  2. lazily (criu lazy-pages -W <runc's --work-path>, then runc restore
#     --lazy-pages): every shared object deferred, every byte verified, the
#     daemon fills each page once and exits by itself;
#  3. lazily again without a daemon: the first daemon's lazy-pages.socket
#     is still in the work dir, so CRIU fails with "Connection refused" and
#     no task runs.
# The log gives runc restore's wall time, eager vs lazy (not an assertion).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/container.sh"

ct_require
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
ct_hugepages 96 || lz_skip "cannot reserve 193 available 2M hugepages"
ct_init
ct_spec --pid-host --net-host -- --kinds anon,huge-anon,huge-sysv --size-mb 512 --huge-mb 96 --children 1
ct_plugin_via annotation
ct_start
ct_checkpoint
MB=$((512 + 2 * 96))

# 1. eager
ct_restore || lz_fail "runc restore (eager) failed"
EAGER_MS=$CT_RESTORE_MS
grep -q "lazyshm: .* restored eagerly: not a --lazy-pages restore" "$CT_WORK/restore.log" ||
	lz_fail "the plugin did not restore the objects (restore.log has no lazyshm lines)"
t0=$(date +%s%N)
ct_verify || lz_fail "eager: the restored memory differs"
EAGER_VERIFY_MS=$((($(date +%s%N) - t0) / 1000000))
ct_stop || lz_fail "eager: the container did not stop cleanly"
mv "$CT_WORK/restore.log" "$CT_WORK/eager-restore.log"

# 2. lazy
ct_lazy_roundtrip 2
lz_log "runc restore wall time, $MB MiB of shared memory in 3 objects (2 tasks): eager $EAGER_MS ms, lazy $CT_RESTORE_MS ms"
lz_log "then both tasks reading every byte: eager $EAGER_VERIFY_MS ms, lazy $CT_VERIFY_MS ms (not assertions: make bench measures)"

# 3. a stale socket and no daemon
[ -S "$CT_WORK/lazy-pages.socket" ] || lz_fail "the daemon left no lazy-pages.socket in runc's work path"
mv "$CT_WORK/restore.log" "$CT_WORK/lazy-restore.log"
mv "$CT_WORK/lazy.log" "$CT_WORK/lazy-lazy.log"
rm -f "$CT_IO"/res.*
ct_restore --lazy-pages && lz_fail "runc restore --lazy-pages succeeded without a daemon"
grep -q "connect to lazy-pages.socket failed: Connection refused" "$CT_WORK/restore.log" ||
	lz_fail "no 'Connection refused' in restore.log: $(grep Error "$CT_WORK/restore.log" | head -3)"
for p in $(ct_tasks); do
	lz_exited "$p" || lz_fail "task $p runs after the failed restore"
done
[ -z "$(ct_cgroup_procs)" ] || lz_fail "processes left after the failed restore: $(ct_cgroup_procs)"
lz_log "3: a stale lazy-pages.socket and no daemon: $(grep -o 'connect to lazy-pages.socket failed: .*' "$CT_WORK/restore.log")"
lz_log "PASS"
