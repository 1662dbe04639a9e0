#!/usr/bin/env bash
# runc checkpoint and eager restore of a busybox container with runc's
# default namespaces (pid, network, ipc, uts, mount). Its workload (memkinds,
# static) holds shmem, hugetlb and a SysV SHM_HUGETLB segment in two tasks.
# The plugin reaches CRIU through /etc/criu/runc.conf; it must write its
# index at the checkpoint and validate every page at the restore, and both
# tasks must then read back every byte inside the container.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/container.sh"

ct_require
ct_hugepages 8 || lz_skip "cannot reserve 17 available 2M hugepages"
ct_init
ct_spec -- --kinds anon,huge-anon,huge-sysv --size-mb 32 --huge-mb 8 --children 1
ct_plugin_via runc.conf
ct_start
ct_verify || lz_fail "the workload is wrong before the checkpoint"

ct_checkpoint
grep -q "lazyshm: dump: wrote lazyshm-shmem.img: 3 objects" "$CT_WORK/dump.log" ||
	lz_fail "the plugin did not write its index at the checkpoint: $(grep 'lazyshm: dump' "$CT_WORK/dump.log" | tail -2)"
"$BUILD/bin/lazyshm-img" verify "$CT_IMG" >"$CT_W/img-verify.txt" 2>&1 ||
	lz_fail "lazyshm-img verify: $(head -3 "$CT_W/img-verify.txt")"

ct_restore || lz_fail "runc restore failed"
lz_log "runc restore (eager) took $CT_RESTORE_MS ms"
n=$(grep -cE "lazyshm: (anon-shared|hugetlb-anon|hugetlb-sysv) [^:]*: [0-9]+ data pages restored eagerly and validated" \
	"$CT_WORK/restore.log")
[ "$n" = 3 ] || lz_fail "expected 3 objects restored eagerly and validated, restore.log has $n"
ct_verify || lz_fail "the restored container's memory differs"
ct_stop || lz_fail "the restored container did not stop cleanly"
lz_log "PASS"
