#!/usr/bin/env bash
# make demo: checkpoint a shmem + hugetlb workload, restore it lazily with
# the lazyshm plugin, verify every byte and print timing and stats.
. "$(dirname "$0")/lib/common.sh"
TEST_NAME=demo
lz_require_root
lz_require_criu
lz_reserve_hugepages 160 2M || lz_fail "cannot reserve 160 free 2M hugepages for the demo"
W=$(lz_workdir)
echo "demo: starting a workload with 256 MiB shmem + 128 MiB memfd + 128 MiB hugetlb (2M pages)"
setsid "$TBIN/memkinds" --kinds anon,memfd,huge-anon --size-mb 256 --huge-mb 128 --holes \
	--ready "$W/ready" --result "$W/res" >"$W/workload.log" 2>&1 </dev/null &
WP=$!
disown $WP
lz_wait_file "$W/ready" 60 || lz_fail "workload did not start"
lz_criu_dump "$W" $WP || lz_fail "dump failed"
for p in $(cat "$W/ready"); do lz_wait_gone "$p" 10; done
t0=$(date +%s%N)
lz_lazy_restore "$W" || lz_fail "lazy restore failed"
t1=$(date +%s%N)
echo "demo: criu restore --lazy-pages returned after $(((t1 - t0) / 1000000)) ms; tasks are running"
lz_verify_all "$W" 1 || lz_fail "verification failed"
lz_wait_gone "$(cat "$W/lazy.pid")" 60 || lz_fail "daemon did not finish"
echo "demo: lazy-pages daemon stats:"
jq . "$W/lazyshm-stats.json"
kill -TERM "$(cat "$W/restored.pid")"
echo "demo: done (an eager comparison and a hugetlbfs file come with later issues)"
