#!/usr/bin/env bash
# make demo: checkpoint a shmem + hugetlb workload, restore it lazily with
# the lazyshm plugin, verify every byte, then restore the same images
# eagerly and print both side by side. Besides anonymous shared memory and
# memfds, the workload maps a file on a hugetlbfs (mounted in the work
# directory) and unlinks it at once, as QEMU does with -mem-path: only the
# images keep its content, and the restore recreates it.
. "$(dirname "$0")/lib/common.sh"
TEST_NAME=demo
SHM_MB=${DEMO_SHM_MB:-256}
HUGE_MB=${DEMO_HUGE_MB:-256}

lz_require_root
lz_require_criu
# huge-anon and the unlinked hugetlbfs file: HUGE_MB / 2 pages each
lz_reserve_hugepages "$HUGE_MB" 2M || lz_fail "cannot reserve $((2 * HUGE_MB + 1)) available 2M hugepages"
W=$(lz_workdir)
W=$(cd "$W" && pwd -P) # as /proc/PID/maps shows it
H=$W/hugetlbfs
lz_mount_hugetlbfs "$H" 2M || lz_fail "cannot mount hugetlbfs at $H"

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

start_and_dump() {
	echo "demo: workload with $SHM_MB MiB shmem + $SHM_MB MiB memfd + $HUGE_MB MiB hugetlb (2M pages)"
	echo "      + a $HUGE_MB MiB file on hugetlbfs ${H#$TOP/}, unlinked while mapped (QEMU -mem-path)"
	setsid "$TBIN/memkinds" --kinds anon,memfd,huge-anon,huge-file --hugetlbfs "$H" --unlink \
		--size-mb "$SHM_MB" --huge-mb "$HUGE_MB" --holes \
		--ready "$W/ready" --result "$W/res" >/dev/null 2>&1 </dev/null &  # no log: it is restored twice
	WP=$!
	disown $WP
	lz_track_pid $WP # killed at exit if anything fails (a restored task reuses the pid)
	lz_wait_file "$W/ready" 60 || lz_fail "workload did not start"
	lz_criu_dump "$W" $WP || lz_fail "dump failed"
	for p in $(cat "$W/ready"); do lz_wait_gone "$p" 10 || lz_fail "dumped task $p still exists"; done
	echo "demo: dumped to ${W#$TOP/} ($(du -sm --exclude=hugetlbfs "$W" | cut -f1) MiB of images)"
	[ -z "$(ls -A "$H")" ] || lz_fail "files left on $H after the dump: $(ls -A "$H")"
	echo "demo: the unlinked file went with the task: only the images hold its content"
}

stop_restored() {
	local p
	p=$(cat "$W/restored.pid")
	kill -TERM "$p"
	lz_wait_gone "$p" 20 || lz_fail "restored task $p did not exit"
	rm -f "$W/restored.pid" # criu will not overwrite a pidfile
}

lazy_round() {
	local t0
	t0=$(date +%s%N)
	lz_lazy_restore "$W" || lz_fail "lazy restore failed"
	LAZY_MS=$(ms_since "$t0")
	echo "demo: lazy restore returned after $LAZY_MS ms; the task runs while the daemon populates"
	echo "demo: $(grep -c 'deferred to the lazy-pages daemon' "$W/restore.log") objects deferred to the daemon; the file is back:"
	FILE_MAP=$(grep -F "$H/" "/proc/$(cat "$W/restored.pid")/maps" | head -1)
	[ -n "$FILE_MAP" ] || lz_fail "the restored task does not map a file on $H"
	echo "      $(echo "$FILE_MAP" | awk '{print $1, $2, $6, $7, $8}')"
	lz_verify_all "$W" 1 || lz_fail "verification after the lazy restore failed"
	lz_wait_gone "$(cat "$W/lazy.pid")" 120 || lz_fail "lazy-pages daemon did not finish"
	stop_restored
}

eager_round() {
	local t0
	t0=$(date +%s%N)
	LAZYSHM_MODE=eager lz_criu_restore "$W" || lz_fail "eager restore failed"
	EAGER_MS=$(ms_since "$t0")
	lz_verify_all "$W" 1 || lz_fail "verification after the eager restore failed"
	stop_restored
}

start_and_dump
lazy_round
eager_round
S=$W/lazyshm-stats.json
echo
echo "demo: results (same images, same machine)"
printf '  %-40s %10s\n' "eager restore (validated), ms" "$EAGER_MS"
printf '  %-40s %10s\n' "lazy: daemon start + restore, ms" "$LAZY_MS"
printf '  %-40s %10s\n' "lazy: full residency after resume, ms" "$(jq '.full_residency_after_restore_ms' "$S")"
printf '  %-40s %10s\n' "lazy: pages filled on fault" "$(jq '[.objects[].filled_fault] | add' "$S")"
printf '  %-40s %10s\n' "lazy: pages filled by prefetch" "$(jq '[.objects[].filled_prefetch] | add' "$S")"
printf '  %-40s %10s\n' "lazy: faults (minor + missing)" "$(jq '.faults_minor + .faults_missing' "$S")"
printf '  %-40s %10s\n' "lazy: fault service p50 / p99, us" "$(jq -r '"\(.fault_p50_us) / \(.fault_p99_us)"' "$S")"
echo
echo "demo: objects the daemon served"
printf '  %-16s %10s %10s %12s %12s\n' kind MiB pages "on fault" "by prefetch"
jq -r '.objects[] | [.kind, (.size / 1048576 | floor), .pages, .filled_fault, .filled_prefetch] | @tsv' "$S" |
	while IFS=$'\t' read -r k mib n ff fp; do
		printf '  %-16s %10s %10s %12s %12s\n' "$k" "$mib" "$n" "$ff" "$fp"
	done
echo "demo: every byte was verified by the restored task after both restores"
