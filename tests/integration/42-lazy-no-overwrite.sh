#!/usr/bin/env bash
# Never overwrite a page after it was CONTINUEd. Right after each lazy
# restore the three tasks (memkinds --rewrite 3) write a new generation's
# pattern into every 3rd page of every shared region, thousands of pages,
# racing the prefetcher; then every task checks that those pages hold the
# new pattern and every other page the previous one. Three rounds: each
# round dumps the tree the previous round restored.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
# huge-anon + huge-memfd + huge-sysv, 32M each: 48 pages, twice for the overlap
lz_reserve_hugepages_avail 96 2M || lz_skip "cannot reserve 96 free 2M hugepages"

W=$(lz_workdir)
KEY=0x4c5a4200
lz_sysv_cleanup_keys $KEY
# R keeps what the tasks write (--result is part of their memory); each
# round's images go to their own directory
R=$W/tasks
mkdir -p "$R"
export LAZYSHM_SYSV=lazy # the SysV segment lazy too (eager by default)
lz_start_memkinds "$R" --kinds anon,memfd,huge-anon,huge-memfd,huge-sysv --size-mb 64 --huge-mb 32 \
	--holes --children 2 --rewrite 3 --sysv-key $KEY || lz_fail "workload did not start"
PID=$LZ_WP

# the fill is slowed down, so that the writes race it whatever the machine
export LAZYSHM_TEST_FILL_DELAY_MS=5
for r in 1 2 3; do
	D=$W/r$r
	mkdir -p "$D"
	cp "$R/ready" "$D/ready"
	lz_log "round $r"
	lz_dump_gone "$D" "$PID" || lz_fail "round $r: dump failed"
	lz_lazy_restore "$D" || lz_fail "round $r: lazy restore failed"
	cp "$D/restored.pid" "$R/restored.pid"
	rm -f "$R"/res.*
	lz_signal_tree "$R" USR2 || lz_fail "round $r: cannot signal the restored tree"
	lz_wait_results "$R" w. 3 30 || {
		lz_diag_lazy "$D"
		lz_fail "round $r: the tasks did not finish writing"
	}
	for i in 0 1 2; do
		grep -q "^WROTE [1-9][0-9]* gen $r\$" "$R/res.w.$i" || lz_fail "round $r task $i: $(cat "$R/res.w.$i")"
	done
	nw=$(cat "$R"/res.w.* | awk '{s += $2} END {print s}')
	lz_verify_all "$R" 3 || {
		lz_diag_lazy "$D"
		lz_fail "round $r: a page written after the restore lost its new content"
	}
	lz_lazy_done "$D" || lz_fail "round $r: the daemon did not finish cleanly"
	# the writes raced the daemon: some pages were filled on their fault
	ff=$(lz_stats "$D" '[.objects[].filled_fault] | add')
	lz_log "round $r: $nw pages rewritten; $ff filled on fault, $(lz_stats "$D" '[.objects[].filled_prefetch] | add') by prefetch"
	[ "$ff" -gt 0 ] || lz_fail "round $r: no page was filled on a fault: the writes did not race the daemon"
	lz_verify_all "$R" 3 || lz_fail "round $r: memory differs after the daemon detached"
	PID=$(cat "$D/restored.pid")
done
lz_stop_tasks "$PID"
lz_wait_gone "$PID" 10 || lz_fail "the restored root did not exit"
lz_log "PASS"
