#!/usr/bin/env bash
# make demo: checkpoint a shmem + hugetlb workload, restore it lazily with
# the lazyshm plugin, verify every byte, then restore the same images
# eagerly and print both side by side.
. "$(dirname "$0")/lib/common.sh"
TEST_NAME=demo
SHM_MB=${DEMO_SHM_MB:-256}
HUGE_MB=${DEMO_HUGE_MB:-256}

lz_require_root
lz_require_criu
lz_reserve_hugepages $((HUGE_MB / 2)) 2M || lz_fail "cannot reserve $((HUGE_MB + 1)) available 2M hugepages"
W=$(lz_workdir)

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

start_and_dump() {
	echo "demo: workload with $SHM_MB MiB shmem + $SHM_MB MiB memfd + $HUGE_MB MiB hugetlb (2M pages)"
	setsid "$TBIN/memkinds" --kinds anon,memfd,huge-anon --size-mb "$SHM_MB" --huge-mb "$HUGE_MB" --holes \
		--ready "$W/ready" --result "$W/res" >/dev/null 2>&1 </dev/null &  # no log: it is restored twice
	WP=$!
	disown $WP
	lz_track_pid $WP # killed at exit if anything fails (a restored task reuses the pid)
	lz_wait_file "$W/ready" 60 || lz_fail "workload did not start"
	lz_criu_dump "$W" $WP || lz_fail "dump failed"
	for p in $(cat "$W/ready"); do lz_wait_gone "$p" 10 || lz_fail "dumped task $p still exists"; done
	echo "demo: dumped to ${W#$TOP/} ($(du -sm "$W" | cut -f1) MiB of images)"
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
echo "demo: every byte was verified by the restored task after both restores"
