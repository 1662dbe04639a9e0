#!/usr/bin/env bash
# An orphan during the lazy phase. The container holds two memkinds tasks,
# a parent and its child, sharing shmem, hugetlb and a SysV SHM_HUGETLB
# segment, under ctinit (PID 1 inside). Right after a lazy restore the
# parent gets SIGKILL and is reaped while the daemon is still filling pages
# (its prefetch is slowed down with LAZYSHM_TEST_FILL_DELAY_MS; the test
# checks that full residency came later). The daemon must go on serving
# the child, now an orphan adopted by ctinit: the child must read back every
# byte, the daemon must fill each page once and exit by itself, and at the
# end the container's remaining tasks are killed: none may be left, not
# even a zombie, and runc must delete the container without -f.
#
# Here the container has its own PID namespace and the host's network
# (86-ct-lazy-orphan-hostns runs the same with --pid host).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/container.sh"

ct_require
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
ct_hugepages 16 || lz_skip "cannot reserve 33 available 2M hugepages"
ct_init
if [ "${CT_ORPHAN_HOSTNS:-0}" = 1 ]; then
	ct_spec --pid-host --net-host -- --kinds anon,huge-anon,huge-sysv --size-mb 64 --huge-mb 16 --children 1
	ct_plugin_via annotation
else
	ct_spec --net-host -- --kinds anon,huge-anon,huge-sysv --size-mb 64 --huge-mb 16 --children 1
	ct_plugin_via runc.conf
fi
ct_start
ct_checkpoint
mapfile -t INNER <"$CT_IO/ready"

ct_lazy_daemon LAZYSHM_TEST_FILL_DELAY_MS=50
ct_restore --lazy-pages || lz_fail "runc restore --lazy-pages failed"
ct_deferred 2 || lz_fail "not every shared object was deferred to the lazy-pages daemon"
INIT=$(ct_runc state "$CT_ID" | jq -r .pid)
PARENT=$(ct_host_pid "${INNER[0]}") || lz_fail "the restored parent (PID ${INNER[0]} inside) is not there"
CHILD=$(ct_host_pid "${INNER[1]}") || lz_fail "the restored child (PID ${INNER[1]} inside) is not there"
kill -9 "$PARENT" || lz_fail "cannot kill the parent"
lz_wait_gone "$PARENT" 10 || lz_fail "the killed parent $PARENT was not reaped"
grep -q "every lazily restored page is populated" "$CT_WORK/lazy.log" &&
	lz_fail "the content was resident before the parent died: the test proves nothing"
lz_log "parent $PARENT (PID ${INNER[0]} inside) killed during the lazy phase"
ppid=$(awk '/^PPid:/ {print $2}' "/proc/$CHILD/status")
[ "$ppid" = "$INIT" ] || lz_fail "the orphan's parent is $ppid, not the container's init $INIT"

ct_verify 1 || lz_fail "the orphan's memory differs"
ct_lazy_done 2 || lz_fail "the daemon did not finish cleanly"
ct_faults_served || lz_fail "the orphan's faults were never served"
ct_verify 1 || lz_fail "the orphan's memory differs after the daemon detached"

ALL=$(ct_ps)
ct_stop || lz_fail "the container's tree did not die cleanly"
for p in $ALL "$CHILD" "$INIT"; do
	[ -e "/proc/$p" ] && lz_fail "process $p of the container is left: $(ps -o stat=,comm= -p "$p")"
done
ct_runc state "$CT_ID" >/dev/null 2>&1 && lz_fail "runc still knows the container"
lz_log "tree killed: init $INIT and orphan $CHILD gone, container deleted"
lz_log "PASS"
