#!/usr/bin/env bash
# podman 4.3.1 with runc: `podman container checkpoint` and `podman
# container restore`, eager and then lazy, of a busybox container made with
# `podman import` from the test's rootfs (no registry). podman has no lazy
# option and passes none to runc, so the lazy restore goes through the
# CRIU config file named by the org.criu.config annotation: `libdir` always,
# `lazy-pages` only while restoring lazily (at a checkpoint it would make
# CRIU dump for a remote lazy restore and wait for its page server). The
# lazy-pages daemon runs in runc's work path, podman's userdata dir.
#
# Here the container shares the host's PID and network namespaces
# (89-podman runs the same with podman's default PID namespace and
# --network none).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/container.sh"
. "$(dirname "$0")/../lib/podman.sh"

ct_require podman
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
ct_hugepages 16 || lz_skip "cannot reserve 33 available 2M hugepages"
ct_init
pm_init
pm_image
if [ "${PM_HOST_NS:-1}" = 1 ]; then
	pm_run --host-ns -- --kinds anon,huge-anon,huge-sysv --size-mb 64 --huge-mb 16 --children 1
else
	pm_run -- --kinds anon,huge-anon,huge-sysv --size-mb 64 --huge-mb 16 --children 1
fi
ct_verify || lz_fail "the workload is wrong before the checkpoint"

# eager
pm_checkpoint
pm_restore || lz_fail "podman container restore (eager) failed"
n=$(grep -c "lazyshm: .* restored eagerly: not a --lazy-pages restore" "$CT_WORK/restore.log")
[ "$n" = 3 ] || lz_fail "expected 3 objects restored eagerly by the plugin, restore.log has $n"
ct_verify || lz_fail "eager: the restored memory differs"
lz_log "eager restore by podman: $CT_RESTORE_MS ms, verified"

# lazy
rm -rf "$CT_IMG"
pm_checkpoint
grep -q "Starting lazy pages server" "$CT_WORK/dump.log" && lz_fail "the checkpoint ran with lazy-pages"
# the prefetch slowed down: the tasks' reads fault during the lazy phase
pm_restore lazy LAZYSHM_TEST_FILL_DELAY_MS=20 || lz_fail "podman container restore (lazy) failed"
ct_deferred 2 || lz_fail "not every shared object was deferred to the lazy-pages daemon"
ct_verify || lz_fail "lazy: the restored memory differs"
ct_lazy_done 2 || lz_fail "lazy: the daemon did not finish cleanly"
ct_faults_served || lz_fail "the tasks' faults were never served"
ct_verify || lz_fail "lazy: the memory differs after the daemon detached"
lz_log "lazy restore by podman: $CT_RESTORE_MS ms, verified"

ALL=$(pm_ps)
pm rm -f -t 0 "$CT_ID" >/dev/null || lz_fail "podman rm failed"
for p in $ALL; do
	lz_wait_gone "$p" 10 || lz_fail "process $p of the container survives podman rm"
done
lz_log "PASS"
