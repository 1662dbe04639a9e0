#!/usr/bin/env bash
# A tree owned by another user (uid/gid 65534, no groups), with resource
# limits of its own, dumped by a root without CAP_SYS_RESOURCE: prlimit()
# on it is refused (EPERM), so CRIU reads its limits from /proc/PID/limits
# (criu-patches, "dump: read rlimits from /proc when prlimit is refused");
# upstream CRIU fails the dump there ("Can't get rlimit 0"). The tree is
# restored lazily, every byte verified, and it must run on as that user
# with the very limits it had. Restored again by a criu with a lower hard
# limit, it runs with criu's and restore.log says which limit differs.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
command -v setpriv >/dev/null && command -v prlimit >/dev/null || lz_skip "setpriv or prlimit missing (util-linux)"
U=65534
W=$(lz_workdir)
chown "$U:$U" "$W"
setpriv --reuid=$U --regid=$U --clear-groups test -w "$W" ||
	lz_skip "uid $U cannot write $W (a directory above it is not searchable)"

KINDS=anon,memfd,private
if lz_reserve_hugepages 8 2M; then
	KINDS=$KINDS,huge-memfd
else
	lz_skip_part "hugetlb: cannot reserve 17 available 2M hugepages, shmem only"
fi
# lower limits than ours (anyone may lower them), distinct soft and hard
LIMITS=(--nofile=1234:4321 --stack=4194304:16777216 --core=0:1048576 --locks=1000:2000
	--sigpending=4000:8000 --msgqueue=409600:819200)
LZ_WORKLOAD_PREFIX=(prlimit "${LIMITS[@]}" setpriv --reuid=$U --regid=$U --clear-groups)
lz_start_memkinds "$W" --kinds "$KINDS" --size-mb 16 --huge-mb 16 --holes --children 1 ||
	lz_fail "workload did not start"
mapfile -t PIDS <"$W/ready"
for i in "${!PIDS[@]}"; do
	cp "/proc/${PIDS[$i]}/limits" "$W/limits.$i"
	grep -q "^Max open files *1234 *4321 " "$W/limits.$i" || lz_fail "task $i does not have the limits set for it"
	grep -qE "^Uid:\s+$U\s+$U\s+$U\s+$U$" "/proc/${PIDS[$i]}/status" || lz_fail "task $i does not run as uid $U"
done

# the dump without CAP_SYS_RESOURCE, also where root has it
printf '#!/bin/sh\nexec setpriv --bounding-set=-sys_resource "%s" "$@"\n' "$CRIU" >"$W/criu-nores"
chmod +x "$W/criu-nores"
CRIU=$W/criu-nores lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump of another user's tree failed"
grep -q "prlimit() of $LZ_WP refused, reading /proc/$LZ_WP/limits" "$W/dump.log" ||
	lz_fail "the dump did not take the /proc/PID/limits path: $(grep -i rlimit "$W/dump.log" | head -3)"
LOG_SIZE=$(stat -c %s "$W/workload.log")

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
grep -q "deferred to the lazy-pages daemon" "$W/restore.log" || lz_fail "nothing was deferred to the daemon"
lz_verify_all "$W" ${#PIDS[@]} || {
	lz_diag_lazy "$W"
	lz_fail "restored bytes differ"
}
lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
for i in "${!PIDS[@]}"; do
	p=${PIDS[$i]}
	[ "$(stat -c %u:%g "$W/res.$i")" = "$U:$U" ] || lz_fail "task $i wrote its result as $(stat -c %u:%g "$W/res.$i")"
	for id in Uid Gid; do
		grep -qE "^$id:\s+$U\s+$U\s+$U\s+$U$" "/proc/$p/status" ||
			lz_fail "restored task $i: $(grep "^$id:" "/proc/$p/status")"
	done
	grep -qE "^Groups:\s*$" "/proc/$p/status" || lz_fail "restored task $i: $(grep '^Groups:' "/proc/$p/status")"
	diff "$W/limits.$i" "/proc/$p/limits" >"$W/limits.diff" ||
		lz_fail "restored task $i has other limits than at dump: $(cat "$W/limits.diff")"
done
lz_log "restored tree runs as $U:$U with its own limits (nofile 1234:4321, stack 4M:16M, ...)"
lz_verify_all "$W" ${#PIDS[@]} || lz_fail "bytes differ after the daemon detached"
lz_stop_tasks "${PIDS[@]}"
for p in "${PIDS[@]}"; do
	lz_wait_gone "$p" 10 || lz_fail "restored task $p did not exit"
done

# A criu whose hard limit is below the dumped one cannot raise it without
# CAP_SYS_RESOURCE: the restore goes on, the task keeps criu's limit, and
# restore.log says so (criu-patches, "restorer: say so when a resource
# limit cannot be restored"). An eager restore is enough for that.
lz_restore_reset "$W" lazy || lz_fail "cannot reset the images dir for another restore"
# the tasks' stdout: CRIU wants it at its size at dump, the verifications wrote to it since
truncate -s "$LOG_SIZE" "$W/workload.log"
printf '#!/bin/sh\nexec setpriv --bounding-set=-sys_resource prlimit --nofile=1000:1000 "%s" "$@"\n' "$CRIU" >"$W/criu-lowlim"
chmod +x "$W/criu-lowlim"
CRIU=$W/criu-lowlim lz_criu_restore "$W" || lz_fail "restore under a lower hard limit failed"
grep -q "Can't restore rlimit 7 (cur 1234 max 4321): -1; the task keeps the limit it inherited" "$W/restore.log" ||
	lz_fail "restore.log does not say that RLIMIT_NOFILE could not be restored: $(grep -i rlimit "$W/restore.log" | head -3)"
grep -q "^Max open files *1000 *1000 " "/proc/${PIDS[0]}/limits" ||
	lz_fail "the restored root has $(grep 'open files' "/proc/${PIDS[0]}/limits"), not criu's 1000:1000"
lz_verify_all "$W" ${#PIDS[@]} || lz_fail "bytes differ after the restore under a lower limit"
lz_log "under a lower hard limit: restored with nofile 1000:1000, and restore.log says so"
lz_stop_tasks "${PIDS[@]}"
lz_wait_gone "${PIDS[0]}" 10 || lz_fail "the restored root did not exit"
lz_log "PASS"
