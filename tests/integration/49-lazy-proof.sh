#!/usr/bin/env bash
# Proof of laziness: 1 GiB of 2M hugetlb + 256 MiB of shmem, two tasks.
# `criu restore` returns before the content is resident: the daemon's stats
# show pages filled on fault and by prefetch, each object filled exactly
# once, and full residency reached after the restore returned; every byte
# is then identical. Then a 1G hugetlb region (huge1g-anon) the same way,
# when two 1G pages can be reserved.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
# criu dump maps each hugetlb object MAP_PRIVATE to read it, which reserves
# as many free hugepages again: 2 x 512 + a margin
lz_reserve_hugepages_avail 1032 2M || lz_skip "cannot reserve 1032 available 2M hugepages (2 x 1 GiB + margin)"
W=$(lz_workdir)

# run_case DIR PAGES_2M ARGS...: dump, lazy restore, verify at once, check stats
run_case() {
	local d=$1 need=$2 t0 t1 ff fp
	shift 2
	mkdir -p "$d"
	lz_start_memkinds "$d" "$@" --children 1 || lz_fail "$(basename "$d"): workload did not start"
	lz_dump_gone "$d" "$LZ_WP" || lz_fail "$(basename "$d"): dump failed"
	t0=$(date +%s%N)
	# the prefetch is slowed a little (FILL_DELAY ms per chunk): on an idle
	# machine it outruns the tasks, which then only fault in pages it filled
	LAZYSHM_TEST_FILL_DELAY_MS=${FILL_DELAY:-0} lz_lazy_restore "$d" || lz_fail "$(basename "$d"): lazy restore failed"
	t1=$(date +%s%N)
	lz_verify_all "$d" 2 || {
		lz_diag_lazy "$d"
		lz_fail "$(basename "$d"): wrong bytes after the lazy restore"
	}
	lz_lazy_done "$d" || lz_fail "$(basename "$d"): the daemon did not finish cleanly"
	ff=$(lz_stats "$d" '[.objects[].filled_fault] | add')
	fp=$(lz_stats "$d" '[.objects[].filled_prefetch] | add')
	lz_log "$(basename "$d"): restore took $(((t1 - t0) / 1000000)) ms; full residency $(lz_stats "$d" .full_residency_after_restore_ms) ms after it; $ff pages filled on fault, $fp by prefetch"
	lz_log "$(basename "$d"): $(lz_stats "$d" '[.objects[] | {kind, page_size, size, filled_fault, filled_prefetch}]' | jq -c .)"
	# (the 1G case may legitimately see none: one 1G prefetch can cover it all)
	[ "$ff" -gt 0 ] || [ "${NEED_FAULT:-1}" = 0 ] || lz_fail "$(basename "$d"): no page was filled on a fault"
	[ "$fp" -gt 0 ] || lz_fail "$(basename "$d"): no page was filled by the prefetcher"
	jq -e '.full_residency_after_restore_ms > 0' "$d/lazyshm-stats.json" >/dev/null ||
		lz_fail "$(basename "$d"): full residency was not reached after the restore returned"
	[ "$(lz_stats "$d" '[.objects[] | select(.filled_fault + .filled_prefetch + .holes != .pages)] | length')" = 0 ] ||
		lz_fail "$(basename "$d"): an object was not filled exactly once"
	lz_verify_all "$d" 2 || lz_fail "$(basename "$d"): memory differs after the daemon detached"
	lz_stop_tasks "$(cat "$d/restored.pid")"
	lz_wait_gone "$(cat "$d/restored.pid")" 10
}

FILL_DELAY=5 run_case "$W/2m" 512 --kinds anon,huge-anon --size-mb 256 --huge-mb 1024
for k in 'hugetlb-anon.*1073741824' 'anon-shared.*268435456'; do
	[ "$(lz_stats "$W/2m" '.objects[] | "\(.kind) \(.page_size) \(.size)"' | grep -c "$k")" -ge 1 ] ||
		lz_fail "2m: no lazily restored object matches $k"
done
[ "$(lz_stats "$W/2m" '[.objects[] | select(.page_size == 2097152 and .size == 1073741824)] | length')" = 1 ] ||
	lz_fail "2m: the 1 GiB hugetlb object was not restored lazily with 2M pages"

if ! grep -q 1048576 <(ls /sys/kernel/mm/hugepages/); then
	lz_skip_part "1G: this kernel has no 1G hugepages"
elif ! lz_reserve_hugepages_avail 2 1G; then
	lz_skip_part "1G: cannot reserve two available 1G hugepages (one used, one for the dump's private mapping)"
else
	NEED_FAULT=0 run_case "$W/1g" 0 --kinds anon,huge1g-anon --size-mb 64 --huge-mb 1024
	[ "$(lz_stats "$W/1g" '[.objects[] | select(.page_size == 1073741824)] | length')" = 1 ] ||
		lz_fail "1g: the 1G hugetlb object was not restored lazily"
fi
lz_log "PASS"
