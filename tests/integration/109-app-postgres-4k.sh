#!/usr/bin/env bash
# PostgreSQL 15 with huge_pages=off (its main segment anonymous MAP_SHARED
# memory of 4K pages, mostly holes: shared_buffers of 512 MiB, 65 MiB of
# table prewarmed), restored eagerly, then lazily. Issue 16, problems 2 and 3:
# - The lazy restore must take the memory of the eager one: the segment's
#   allocated pages (st_blocks through /proc/PID/map_files) at full
#   residency at most the eager restore's + 2 MiB + 2% (holes stay holes),
#   and each server process's Rss of the segment at most what it had at
#   dump plus what it had after the eager restore (its own touches since),
#   + 1 MiB + 2% (page table entries where a task had them or touched, not
#   everywhere: the bug mapped the whole segment into every process).
# - The daemon must never stall faults by zeroing holes in bulk (CONTINUE
#   of fallocated pages): new connections (each forks a backend, whose fork
#   event and faults the daemon serves) are timed one after the other from
#   the end of the restore until the daemon exits; the slowest may not
#   exceed the slowest of as many after the eager restore by more than
#   LZ_PG_STALL_MS (150 ms; the stall seen was 188-716 ms).
LZ_PG_SB_MB=${LZ_PG_SB_MB:-1024} LZ_PG_HUGE=off
. "$(dirname "$0")/../lib/app-postgres.sh"
STALL_MS=${LZ_PG_STALL_MS:-150}

# _seg PID: "start-end" of PID's largest MAP_SHARED mapping (the main segment)
_seg() {
	local r p best=0 n seg=
	while read -r r p _; do
		[ "${p:3:1}" = s ] || continue
		n=$((0x${r#*-} - 0x${r%-*}))
		[ "$n" -gt "$best" ] && best=$n seg=$r
	done <"/proc/$1/maps"
	echo "$seg"
}

# _seg_mem PID RANGE: "Rss Pss" (kB) of PID's mapping at RANGE
_seg_mem() {
	awk -v r="$2" '$1 == r { inr = 1; next } /^[0-9a-f]+-[0-9a-f]+ / { inr = 0 }
		inr && /^Rss:/ { rss = $2 } inr && /^Pss:/ { pss = $2 } END { print rss + 0, pss + 0 }' "/proc/$1/smaps"
}

# _seg_all TAG: TAG_RSS[pid], TAG_PSS[pid] of every process of the tree, TAG_KIB
_seg_all() {
	local tag=$1 root p r
	root=$(cat "$W/restored.pid" 2>/dev/null || echo "$PG_ROOT")
	r=$(_seg "$root")
	[ -n "$r" ] || lz_fail "$tag: no shared mapping in the postmaster's maps"
	local -n rss=${tag}_RSS pss=${tag}_PSS
	for p in "$root" $(lz_descendants "$root"); do
		read -r "rss[$p]" "pss[$p]" < <(_seg_mem "$p" "$r")
	done
	printf -v "${tag}_KIB" %s "$(lz_h_kib_at "$root" "$r")" || lz_fail "$tag: cannot stat the main segment"
	lz_log "$tag: main segment $r: $(eval echo "\$${tag}_KIB") KiB allocated; Rss/Pss kB per process:" \
		"$(for p in "${!rss[@]}"; do printf '%s=%s/%s ' "$p" "${rss[$p]}" "${pss[$p]}"; done)"
}

# _probe OUT SECS [PID]: time new connections (SELECT 1) one after the
# other into OUT (ms a line), for SECS s, or until PID exits
_probe() {
	local out=$1 end=$(($(lz_now_ms) + $2 * 1000)) pid=${3:-} t0
	: >"$out"
	while [ "$(lz_now_ms)" -lt "$end" ]; do
		t0=$(lz_now_ms)
		lz_pg_psql "SELECT 1" >/dev/null || { echo "FAILED" >>"$out"; return 1; }
		echo $(($(lz_now_ms) - t0)) >>"$out"
		[ -z "$pid" ] || ! lz_exited "$pid" || break
	done
}
_max() { sort -n "$1" | tail -1; }

within() { # A LIMIT-BASE: A <= B + 1 MiB + 2% of B
	[ "$1" -le $(($2 + 1024 + $2 / 50)) ]
}

lz_app_timeout 240
lz_pg_require
[ "$PG_HUGE" = off ] || lz_fail "huge_pages is $PG_HUGE, this test is for 4K pages"
. "$(dirname "$0")/../lib/hardening.sh"
W=$(lz_workdir)
lz_pg_start
lz_pg_load
declare -A DUMP_RSS DUMP_PSS EAGER_RSS EAGER_PSS LAZY_RSS LAZY_PSS
_seg_all DUMP
lz_pg_dump

_pg_reset_files
lz_app_restore "$W" eager || lz_fail "eager restore of postgres failed"
_probe "$W/probe.eager" 3 || lz_fail "eager: a new connection failed"
lz_pg_check eager
_seg_all EAGER
lz_app_mem "$(cat "$W/restored.pid")" eager
lz_pg_no_crash eager
lz_app_keep_logs "$W" eager
lz_app_stop_tree "$W" || lz_fail "the eagerly restored server does not exit"

_pg_reset_files
lz_app_restore "$W" lazy || lz_fail "lazy restore of postgres failed"
_probe "$W/probe.lazy" 30 "$(cat "$W/lazy.pid")" || lz_fail "lazy: a new connection failed: $(tail -3 "$W/pg.log")"
lz_lazy_done "$W" || lz_fail "the lazy-pages daemon did not finish cleanly"
lz_pg_check lazy
# the first useful answer: the first new connection's, in both cases
LZ_ANSWER_EAGER_MS=$(head -1 "$W/probe.eager") LZ_ANSWER_LAZY_MS=$(head -1 "$W/probe.lazy")
_seg_all LAZY
lz_app_stats "$W"
lz_app_mem "$(cat "$W/restored.pid")" lazy
lz_pg_no_crash lazy
lz_log "lazy stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch, holes, zero_filled}]' | jq -c .)" \
	"continue: $(lz_stats "$W" '.stage_ms.continue') ms, $(lz_stats "$W" '.continue_pages') pages"
lz_app_keep_logs "$W" lazy
lz_app_metrics "postgres-4k"

e=$(_max "$W/probe.eager") l=$(_max "$W/probe.lazy")
lz_log "new connections: eager $(wc -l <"$W/probe.eager") in 3 s, slowest $e ms;" \
	"lazy $(wc -l <"$W/probe.lazy") until the daemon exited, slowest $l ms: $(tr '\n' ' ' <"$W/probe.lazy")"
[ "$l" -le $((e + STALL_MS)) ] ||
	lz_fail "a new connection took $l ms during the lazy phase, at most $e ms after the eager restore: the daemon stalled"
within "$LAZY_KIB" "$EAGER_KIB" ||
	lz_fail "the main segment has $LAZY_KIB KiB allocated after the lazy restore, $EAGER_KIB KiB after the eager one: holes were filled"
for p in "${!LAZY_RSS[@]}"; do
	[ -n "${DUMP_RSS[$p]:-}" ] || continue # a backend forked after the restore
	# what it had at dump (the daemon maps that back) and what it touched
	# since (as much as after the eager restore, which maps nothing itself)
	b=$((DUMP_RSS[$p] + ${EAGER_RSS[$p]:-0}))
	within "${LAZY_RSS[$p]}" "$b" ||
		lz_fail "process $p maps ${LAZY_RSS[$p]} kB of the main segment after the lazy restore;" \
			"it had ${DUMP_RSS[$p]} kB at dump, ${EAGER_RSS[$p]:-0} kB after the eager restore"
done
lz_log "the lazy restore allocated $LAZY_KIB KiB of the segment (eager $EAGER_KIB), every process maps what it had"
lz_app_stop_tree "$W" || lz_fail "the lazily restored server does not exit"
lz_log "PASS: postgres with 4K shared memory restored lazily in the memory of an eager restore, without stalls"
