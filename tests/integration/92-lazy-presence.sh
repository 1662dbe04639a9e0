#!/usr/bin/env bash
# Per-task presence: after a lazy restore, each task gets page table
# entries where it had them at dump, not for every page the daemon filled.
# A tree of 3 tasks shares a 256 MiB MAP_SHARED region (touchtree): the
# root wrote 7/8 of it, child 1 read 8 MiB, child 2 every 256th page (the
# kernel maps 64 KiB around each). The dump records each task's present pages (lazyshm-img show: presence);
# after a lazy restore and full residency, before any task touches
# anything, each task's Rss of the region must be its Rss at dump (within
# 1 MiB + 2%); after each task re-read and checked its own pages, its Rss
# must be the one it has after an eager restore and the same re-read.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem here"

W=$(lz_workdir)
MB=256

# Rss in kB of PID's mapping of the region (/dev/zero, MB MiB)
rss_of() {
	awk -v want=$((MB * 1024)) '
		/^[0-9a-f]+-[0-9a-f]+ / { zero = ($0 ~ /\/dev\/zero/); inreg = 0; next }
		zero && /^Size:/ { inreg = ($2 == want); next }
		inreg && /^Rss:/ { print $2; exit }' "/proc/$1/smaps"
}

# rss_all ARRAY: the Rss of every task of the tree (root first)
rss_all() {
	local -n out=$1
	local p
	out=()
	for p in "${PIDS[@]}"; do
		out+=("$(rss_of "$p")")
	done
}

close_enough() { # A B: |A - B| <= 1 MiB + 2% of the larger
	local a=$1 b=$2 m d
	m=$((a > b ? a : b))
	d=$((a > b ? a - b : b - a))
	[ "$d" -le $((1024 + m / 50)) ]
}

stop_tree() {
	local p
	lz_stop_tasks "$(cat "$W/restored.pid")"
	for p in "${PIDS[@]}"; do
		lz_wait_gone "$p" 10 || lz_fail "restored task $p did not go away"
	done
}

lz_kill_listed_at_exit "$W/ready"
lz_kill_listed_at_exit "$W/restored.pid"
setsid unshare --ipc "$TBIN/touchtree" --size-mb $MB --ready "$W/ready" --result "$W/res" \
	>"$W/workload.log" 2>&1 </dev/null &
WP=$!
disown "$WP"
lz_wait_file "$W/ready" 60 || lz_fail "workload did not start: $(cat "$W/workload.log")"
mapfile -t PIDS <"$W/ready"
[ "${#PIDS[@]}" = 3 ] || lz_fail "expected 3 tasks, ready says: ${PIDS[*]}"
rss_all DUMP
lz_log "Rss at dump (kB): ${DUMP[*]}"
[ "${DUMP[0]}" -gt $((MB * 1024 / 2)) ] && [ "${DUMP[2]}" -lt $((MB * 1024 / 8)) ] ||
	lz_fail "the workload did not set up its page tables as expected: ${DUMP[*]}"

lz_dump_gone "$W" "$WP" || lz_fail "dump failed"
"$BUILD/bin/lazyshm-img" show "$W" >"$W/img-show.txt" || lz_fail "lazyshm-img show failed"
n=$(grep -c "presence: task" "$W/img-show.txt")
[ "$n" = 3 ] || lz_fail "expected presence records of 3 tasks, the image has $n: $(grep presence "$W/img-show.txt")"
grep -q "pending" "$W/img-show.txt" && lz_fail "the dump left digests pending: $(head -1 "$W/img-show.txt")"
"$BUILD/bin/lazyshm-img" verify "$W" >/dev/null || lz_fail "lazyshm-img verify failed"

# eager: nothing is mapped by the restore; each task then re-reads its own pages
lz_criu_restore "$W" || lz_fail "eager restore failed"
lz_verify_all "$W" 3 || lz_fail "the eagerly restored tasks do not see their bytes"
rss_all EAGER
lz_log "Rss after an eager restore and the re-read (kB): ${EAGER[*]}"
stop_tree
rm -f "$W/restored.pid" "$W"/res.*

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
rss_all LAZY
lz_log "Rss after a lazy restore at full residency, untouched (kB): ${LAZY[*]}"
lz_verify_all "$W" 3 || lz_fail "the lazily restored tasks do not see their bytes"
rss_all LAZY2
lz_log "Rss after the lazy restore and the re-read (kB): ${LAZY2[*]}"
for i in 0 1 2; do
	close_enough "${LAZY[$i]}" "${DUMP[$i]}" ||
		lz_fail "task $i: Rss ${LAZY[$i]} kB after the lazy restore, ${DUMP[$i]} kB at dump"
	close_enough "${LAZY2[$i]}" "${EAGER[$i]}" ||
		lz_fail "task $i: Rss ${LAZY2[$i]} kB after the lazy restore and re-read, ${EAGER[$i]} kB eagerly"
done
stop_tree
lz_log "PASS"
