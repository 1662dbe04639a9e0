#!/usr/bin/env bash
# Eager round trip of every kind of shared memory: checkpoint a memkinds tree
# (root + 1 child) with the lazyshm plugin loaded, restore it without lazy
# mode, and have every restored task compare every byte of every region with
# the pattern it wrote before the dump (holes included: they must read zero).
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
WL=$TBIN/memkinds
[ -x "$WL" ] || lz_fail "memkinds not built at $WL (make build)"
grep -qw hugetlbfs /proc/filesystems || lz_skip "kernel has no hugetlbfs"

# Every kind plain CRIU 4.1.1 dumps here. Left out:
#  - shm-file: like huge-file, CRIU keeps only the path of a /dev/shm file;
#    it adds nothing over huge-file to an eager test.
#  - unlinked files (--unlink): CRIU refuses them, "Can't dump ghost file
#    .../memkinds-N-huge-file of 4194304 size, increase limit".
KINDS=anon,memfd,memfd-sealed,sysv,huge-anon,huge-memfd,huge-file,huge-sysv,priv-huge,private
NR_HUGE=5 # huge-anon huge-memfd huge-file huge-sysv priv-huge
SIZE_MB=4
HUGE_MB=4
CHILDREN=1
KEY=0x4c5a1000

# Each hugetlb region takes HUGE_MB/2 pages. CRIU's hugetlb probe maps one
# page of its own at dump and at restore: keep two spare.
lz_reserve_hugepages $((NR_HUGE * HUGE_MB / 2 + 2)) 2M ||
	lz_skip "cannot get $((NR_HUGE * HUGE_MB / 2 + 2)) free 2M hugepages"
lz_sysv_cleanup_keys $KEY
# One 1G page for huge1g-anon, one spare for CRIU's probe (without it the
# dump fails: "Can't lookup mount=... path=/anon_hugepage (deleted)").
# Optional: a fragmented machine may not give 1G pages at runtime.
HUGE1G_BYTES=0
if [ -d /sys/kernel/mm/hugepages/hugepages-1048576kB ] && lz_reserve_hugepages 1 1G; then
	KINDS+=,huge1g-anon
	HUGE1G_BYTES=$((1 << 30))
else
	lz_log "huge1g-anon left out: cannot get 3 available 1G hugepages"
fi

W=$(lz_workdir)
D=$W/img
mkdir -p "$D"
# The huge-file file stays on this mount from dump to restore: CRIU 4.1.1
# does not dump the content of a file on hugetlbfs, it records its path
# and reopens it at restore.
lz_mount_hugetlbfs "$W/hugetlbfs" 2M || lz_skip "cannot mount hugetlbfs"

# CRIU dumps SysV shm only from a task in its own IPC namespace. The workload
# must be our direct child (setsid and unshare exec, they do not fork) so
# that we can reap it after the dump frees its pid for the restore.
setsid unshare --ipc "$WL" --kinds "$KINDS" --size-mb $SIZE_MB --huge-mb $HUGE_MB \
	--holes --children $CHILDREN --sysv-key $KEY --hugetlbfs "$W/hugetlbfs" \
	--ready "$W/ready" --result "$W/result" </dev/null >"$W/wl.log" 2>&1 &
WPID=$!
lz_track_pid $WPID
disown $WPID # no "Killed" notice when criu dump kills it; bash still reaps it
lz_wait_file "$W/ready" 20 || lz_fail "workload not ready: $(cat "$W/wl.log")"
mapfile -t PIDS <"$W/ready"
[ "${PIDS[0]}" = "$WPID" ] || lz_fail "root pid ${PIDS[0]} is not our child $WPID"
for p in "${PIDS[@]}"; do lz_track_pid "$p"; done
lz_log "workload pids ${PIDS[*]}, kinds $KINDS"

lz_criu_dump "$D" "$WPID" || lz_fail "criu dump failed"
# Their pids must be free before the restore. We reap the root; the child
# may have been reparented to PID 1, which reaps within ~2 s.
for p in "${PIDS[@]}"; do
	lz_wait_gone "$p" 10 || lz_fail "dumped task $p still exists"
done
grep -q 'lazyshm: lazyshm plugin .* initialized for dump' "$D/dump.log" ||
	lz_fail "lazyshm plugin not loaded at dump"
lz_log "dumped, workload gone"

lz_criu_restore "$D" || lz_fail "criu restore failed"
grep -q 'lazyshm: lazyshm plugin .* initialized for restore' "$D/restore.log" ||
	lz_fail "lazyshm plugin not loaded at restore"
[ "$(cat "$D/restored.pid")" = "$WPID" ] || lz_fail "restored root is $(cat "$D/restored.pid"), want $WPID"
# Kill the restored tree first at exit: SIGTERM (clean exit), then SIGKILL.
lz_on_exit "lz_stop_tasks ${PIDS[*]}"

for p in "${PIDS[@]}"; do
	kill -USR1 "$p" || lz_fail "restored task $p is not there"
done
for i in "${!PIDS[@]}"; do
	lz_wait_file "$W/result.$i" 20 || lz_fail "task $i (pid ${PIDS[$i]}) wrote no result: $(cat "$W/wl.log")"
done

# Per task: the first line says OK and the byte count is the sum of sizes.
NR_KINDS=$(echo "$KINDS" | tr , '\n' | wc -l)
NR_4K=$((NR_KINDS - NR_HUGE - (HUGE1G_BYTES > 0)))
WANT=$((NR_4K * SIZE_MB * 1048576 + NR_HUGE * HUGE_MB * 1048576 + HUGE1G_BYTES))
bad=0
for i in "${!PIDS[@]}"; do
	read -r status bytes rest <"$W/result.$i"
	if [ "$status" != OK ] || [ "$bytes" != "$WANT" ]; then
		lz_log "task $i (pid ${PIDS[$i]}): $status $bytes${rest:+ $rest} (want OK $WANT)"
		bad=1
	fi
done
# Per kind: the region line of every task.
for k in ${KINDS//,/ }; do
	lines=$(grep -h "^region $k " "$W"/result.[0-9]*)
	n_ok=$(echo "$lines" | grep -c ' OK$')
	set -- $(echo "$lines" | head -1)
	printf '[%s] %-13s %10s bytes, %4s pages, %3s holes: identical in %d/%d tasks\n' \
		"$TEST_NAME" "$k" "$4" "$6" "$8" "$n_ok" "${#PIDS[@]}"
	[ "$n_ok" -eq "${#PIDS[@]}" ] || bad=1
done
[ $bad -eq 0 ] || lz_fail "restored memory differs (results in $W/result.*)"

# Both SysV segments came back as SysV segments in the restored IPC namespace.
nseg=$(nsenter --ipc --target "$WPID" ipcs -m | grep -c "^${KEY%??}")
[ "$nseg" -eq 2 ] || lz_fail "want 2 SysV segments in the restored IPC namespace, found $nseg"

# A clean SIGTERM makes the root remove the huge-file file it created and its
# SysV segments (the IPC namespace goes away with the tasks anyway).
lz_stop_tasks "${PIDS[@]}"
ls "$W/hugetlbfs"/memkinds-* >/dev/null 2>&1 && lz_fail "root did not remove its huge-file on SIGTERM"
[ "$(ipcs -m | grep -c "^${KEY%??}")" -eq 0 ] || lz_fail "SysV segments leaked into the host IPC namespace"
lz_log "OK: $NR_KINDS kinds, $WANT bytes per task, ${#PIDS[@]} tasks, restored byte for byte"
