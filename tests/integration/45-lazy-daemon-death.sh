#!/usr/bin/env bash
# Handler death is fail-stop. A big tree (1 GiB shmem + 512 MiB hugetlb, or
# shmem only when the hugepages cannot be had) is restored lazily; right
# after `criu restore` returns the tasks start reading everything and the
# lazy-pages daemon gets `kill -9` before the content is resident. Every
# restored task must be dead within seconds (the guardian kills them),
# lazy.log must say why, and no task may report a result computed on
# unrestored memory. Then the daemon is killed before `criu restore` even
# starts: the restore must either fail with no task left, or be eager and
# correct.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"

W=$(lz_workdir)
KINDS=anon
HUGE=""
# the dump maps the hugetlb object MAP_PRIVATE to read it: that reserves
# as many hugepages again
if lz_reserve_hugepages_avail 520 2M; then
	KINDS=anon,huge-anon
	HUGE="--huge-mb 512"
else
	lz_skip_part "hugetlb: cannot reserve 520 available 2M hugepages, the tree has shmem only"
fi
if ! lz_start_memkinds "$W" --kinds $KINDS --size-mb 1024 $HUGE --children 1; then
	# concurrent tests may have taken the hugepages meanwhile
	[ -n "$HUGE" ] || lz_fail "workload did not start"
	lz_skip_part "hugetlb: the workload could not get its hugepages (taken meanwhile?), retrying with shmem only"
	KINDS=anon HUGE=""
	lz_start_memkinds "$W" --kinds $KINDS --size-mb 1024 --children 1 || lz_fail "workload did not start"
fi
lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"
[ -z "$HUGE" ] || lz_wait_hugepages 256 2M 10 || lz_fail "the dumped tree's hugepages did not come back"

# 1. the daemon dies in the middle of the lazy phase
lz_lazy_restore "$W" || lz_fail "lazy restore failed"
lz_signal_tree "$W" USR1 || lz_fail "cannot signal the restored tree"
kill -9 "$(cat "$W/lazy.pid")" || lz_fail "the daemon was already gone"
for ((t = 0; t < 50; t++)); do
	[ -z "$(lz_tree_alive "$W")" ] && break
	sleep 0.1
done
[ -z "$(lz_tree_alive "$W")" ] || lz_fail "restored tasks survive the daemon: $(lz_tree_alive "$W")"
lz_log "every restored task was dead $((t / 10)).$((t % 10)) s after the kill"
grep -q "every lazily restored page is populated" "$W/lazy.log" &&
	lz_fail "the content was resident before the kill: the test proved nothing (make the workload bigger)"
[ -e "$W/lazyshm-stats.json" ] && lz_fail "stats were written as if the lazy phase had completed"
grep -q "the lazy-pages daemon is gone before every page was restored: killing the 2 restored task(s)" "$W/lazy.log" ||
	lz_fail "lazy.log does not say why the tree was killed: $(tail -3 "$W/lazy.log")"
for f in "$W"/res.[0-9]*; do
	[ -e "$f" ] || continue
	read -r st _ <"$f"
	[ "$st" = OK ] || lz_fail "a task ran on unrestored memory: $(head -1 "$f")"
	lz_log "$(basename "$f"): finished before the kill, correct: $(head -1 "$f")"
done
lz_log "1: the tree was killed, lazy.log: $(grep -o 'the lazy-pages daemon is gone.*' "$W/lazy.log")"
lz_lazy_ran

# 2. the daemon is dead before the restore starts (same images)
for p in $(cat "$W/ready"); do
	lz_wait_gone "$p" 10 || lz_fail "task $p of the killed tree still exists"
done
mkdir -p "$W/1" && mv "$W/lazy.log" "$W/restore.log" "$W/lazy.pid" "$W/restored.pid" "$W/1/" && rm -f "$W"/res.*
"$CRIU" lazy-pages -D "$W" --libdir "$LIBDIR" -v4 -o lazy.log -d --pidfile "$W/lazy.pid" || lz_fail "criu lazy-pages failed"
kill -9 "$(cat "$W/lazy.pid")"
lz_wait_gone "$(cat "$W/lazy.pid")" 10 || lz_fail "the daemon did not die"
[ -z "$HUGE" ] || lz_wait_hugepages 256 2M 10 || lz_fail "the killed tree's hugepages did not come back"
if "$CRIU" restore -D "$W" --libdir "$LIBDIR" -v4 -o restore.log --shell-job -d --pidfile "$W/restored.pid" \
	--lazy-pages; then
	lz_log "2: restore succeeded without a daemon: every object must have been eager and correct"
	grep -q "deferred to the lazy-pages daemon" "$W/restore.log" && lz_fail "2: an object was deferred to a dead daemon"
	lz_verify_all "$W" 2 || lz_fail "2: a task runs on wrong memory"
else
	sleep 0.5
	[ -z "$(lz_tree_alive "$W")" ] || lz_fail "2: the restore failed but tasks run: $(lz_tree_alive "$W")"
	lz_log "2: restore failed, no task left: $(grep Error "$W/restore.log" | head -2 | tr '\n' ' ')"
fi
lz_log "PASS"
