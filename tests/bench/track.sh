#!/usr/bin/env bash
# make bench, incremental dumps (docs/PERFORMANCE.md, "Incremental dumps"):
#  - freeze: a tree with TRACK_SIZES of 4K shared memory is dumped in full
#    (no parent), then pre-dumped (the tracking starts), 1% of its pages
#    are rewritten, and the final dump (--track-mem --prev-images-dir) is
#    timed: how long the tasks stay frozen (first "Seized task" to
#    "Unfreezing tasks" in dump.log), full against incremental.
#  - write loop: a loop rewriting every page of 1 GiB, GiB/s without and
#    with the tracking, after its first write to each page.
#  - after a lazy restore: 1 GiB dumped with tracking, restored lazily with
#    and without --track-mem, 1% rewritten, then pre-dumped on the restore's
#    images: how long the tasks stay frozen and how many bytes of pages the
#    pre-dump writes (tracked: the 1%; untracked: everything).
# Targets: freeze >= 10x shorter at 4 GiB; the loop <= 10% slower.
#
#   TRACK_SIZES=1G,4G   sizes of the freeze benchmark ("" skips it)
#   TRACK_LOOP=1        the write loop benchmark (0 skips it)
#   TRACK_RESTORE=1     the dump after a lazy restore (0 skips it)
#   TRACK_REPS=3        repetitions of each measure (medians)
# Writes $OUT/track.json (OUT: build/bench) and prints a summary.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
CRIU=${CRIU:-$BUILD/criu-4.1.1/criu/criu}
OUT=${OUT:-$BUILD/bench}
TW=$OUT/track-work
LIB=${LIB:-$BUILD/lib}
WL=$BUILD/tests/bin/trackwl
TRACKD=$BUILD/bin/lazyshm-trackd
TRACK_SIZES=${TRACK_SIZES-1G,4G}
TRACK_REPS=${TRACK_REPS:-3}
export LAZYSHM_TRACK_DIR=$TW/trk
# the plugin looks for it beside itself (../bin), which a copied plugin is not
export LAZYSHM_TRACKD=$TRACKD
T0=$(date +%s)

tlog() { printf '[bench-track %4ds] %s\n' $(($(date +%s) - T0)) "$*"; }
tdie() { tlog "FAIL: $*"; exit 1; }

WP=
tcleanup() {
	[ -n "$WP" ] && kill -9 "$WP" 2>/dev/null
	for s in "$LAZYSHM_TRACK_DIR"/track-*.sock; do
		[ -S "$s" ] && "$TRACKD" --stop "$s" >/dev/null 2>&1
	done
	[ "${KEEP:-0}" = 1 ] || rm -rf "$TW"
}
trap tcleanup EXIT
trap 'exit 130' INT TERM

for b in "$CRIU" "$WL" "$TRACKD" "$LIB/lazyshm_plugin.so"; do
	[ -e "$b" ] || tdie "missing $b (make build)"
done

mb_of() {
	case "$1" in
	*G) echo $((${1%G} * 1024)) ;;
	*M) echo "${1%M}" ;;
	*) echo "$1" ;;
	esac
}

SEQ=0
# wl_cmd VERB [N SEED]: one command to the workload; the answer in ANS
wl_cmd() {
	SEQ=$((SEQ + 1))
	echo "$SEQ $1 ${2:-0} ${3:-0}" >"$TW/cmd.tmp" && mv "$TW/cmd.tmp" "$TW/cmd"
	kill -USR1 "$WP" || tdie "workload gone"
	while [ ! -e "$TW/done.$SEQ" ]; do
		kill -0 "$WP" 2>/dev/null || tdie "workload died"
		sleep 0.05
	done
	ANS=$(cat "$TW/done.$SEQ")
	case "$ANS" in OK*) ;; *) tdie "workload: $1: $ANS" ;; esac
}

wl_start() {
	rm -rf "$TW" && mkdir -p -m 0700 "$TW" "$LAZYSHM_TRACK_DIR"
	setsid unshare --ipc "$WL" --dir "$TW" --kinds anon --size-mb "$1" --holes 0 </dev/null >"$TW/wl.log" 2>&1 &
	WP=$!
	disown "$WP" # a dump may kill it: no job notice
	while [ ! -e "$TW/ready" ]; do
		kill -0 "$WP" 2>/dev/null || tdie "workload failed: $(cat "$TW/wl.log")"
		sleep 0.05
	done
}

wl_stop() {
	kill -9 "$WP" 2>/dev/null
	wait "$WP" 2>/dev/null
	WP=
	for s in "$LAZYSHM_TRACK_DIR"/track-*.sock; do
		[ -S "$s" ] && "$TRACKD" --stop "$s" >/dev/null 2>&1
	done
}

# frozen DIR: ms the tasks were frozen in DIR's dump
frozen() {
	awk -F'[()]' '/Seized task/ && !s { s = $2 } /Unfreezing tasks/ { e = $2 }
		END { if (s != "" && e != "") printf "%.1f", (e - s) * 1000 }' "$1/dump.log"
}

# criu_run ACTION DIR ARGS...: pre-dump or dump -R of the workload
criu_run() {
	local a=$1 d=$2
	shift 2
	rm -rf "$d" && mkdir -p "$d"
	"$CRIU" "$a" -D "$d" -t "$WP" --libdir "$LIB" -v3 -o dump.log --shell-job "$@" ||
		{ tail -5 "$d/dump.log"; tdie "criu $a failed"; }
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One size: full-dump freeze and incremental-dump freeze, TRACK_REPS each
bench_freeze_size() {
	local sz=$1 mb n full=() inc=() r f i
	mb=$(mb_of "$sz")
	n=$((mb * 256 / 100)) # 1% of the 4K pages
	wl_start "$mb"
	for ((r = 0; r < TRACK_REPS; r++)); do
		criu_run dump "$TW/full" -R
		full+=("$(frozen "$TW/full")")
		rm -rf "$TW/full"
		criu_run pre-dump "$TW/pre"
		wl_cmd write "$n" $((r + 1))
		criu_run dump "$TW/inc" -R --track-mem --prev-images-dir ../pre
		grep -q "track: anon-shared shmid [0-9]*: [0-9]* of" "$TW/inc/dump.log" ||
			tdie "$sz: the dump was not incremental: $(grep 'track:' "$TW/inc/dump.log" | tail -2)"
		inc+=("$(frozen "$TW/inc")")
		rm -rf "$TW/pre" "$TW/inc"
	done
	wl_stop
	f=$(printf '%s\n' "${full[@]}" | median)
	i=$(printf '%s\n' "${inc[@]}" | median)
	tlog "$sz: frozen ${f} ms full, ${i} ms after a pre-dump with 1% written (all: ${full[*]} / ${inc[*]})"
	echo "{\"bench\": \"track-freeze\", \"size\": \"$sz\", \"full_ms\": $f, \"incremental_ms\": $i," \
		"\"full_all\": [$(IFS=,; echo "${full[*]}")], \"incremental_all\": [$(IFS=,; echo "${inc[*]}")]}" >>"$OUT/track.jsonl"
}

# RATE: GiB/s of the loop over 1 GiB (a warm pass, then a timed run), the
# median of TRACK_REPS
loop_rate() {
	local r v=()
	for ((r = 0; r < TRACK_REPS; r++)); do
		wl_cmd loop 1
		wl_cmd loop 3
		v+=("${ANS#OK }")
	done
	RATE=$(printf '%s\n' "${v[@]}" | median)
}

bench_loop() {
	local plain tracked
	wl_start 1024
	loop_rate
	plain=$RATE
	criu_run pre-dump "$TW/pre" # the tracking starts: every page write-protected
	grep -q "track: task [0-9]* is tracked from now on" "$TW/pre/dump.log" || tdie "the pre-dump did not start tracking"
	loop_rate
	tracked=$RATE
	wl_stop
	tlog "write loop over 1 GiB: $plain GiB/s untracked, $tracked GiB/s tracked"
	echo "{\"bench\": \"track-loop\", \"untracked_gibs\": $plain, \"tracked_gibs\": $tracked}" >>"$OUT/track.jsonl"
}

# restore_lazy DIR ARGS...: DIR restored lazily (ARGS to the restore), the
# daemon waited for; the restored root becomes the workload (WP)
restore_lazy() {
	local d=$1 lp
	shift
	"$CRIU" lazy-pages -D "$d" --libdir "$LIB" -v3 -o lazy.log -d --pidfile "$d/lazy.pid" ||
		tdie "criu lazy-pages failed"
	lp=$(cat "$d/lazy.pid")
	"$CRIU" restore -D "$d" --libdir "$LIB" -v3 -o restore.log --shell-job -d --pidfile "$d/restored.pid" \
		--lazy-pages "$@" </dev/null >/dev/null 2>&1 || { tail -5 "$d/restore.log"; tdie "criu restore failed"; }
	WP=$(cat "$d/restored.pid")
	while kill -0 "$lp" 2>/dev/null; do
		sleep 0.05
	done
	grep -q "every lazily restored page is populated" "$d/lazy.log" || tdie "the lazy restore did not complete"
}

# One round: dumped with tracking, restored lazily (ARGS), 1% written, pre-dumped
restore_round() {
	local n=$((1024 * 256 / 100))
	wl_start 1024
	criu_run pre-dump "$TW/pre"
	wl_cmd write "$n" 1
	criu_run dump "$TW/img" --track-mem --prev-images-dir ../pre
	WP=
	restore_lazy "$TW/img" "$@"
	wl_cmd write "$n" 2
	criu_run pre-dump "$TW/after" --prev-images-dir ../img
	R_MS=$(frozen "$TW/after")
	R_BYTES=$(cat "$TW/after"/pages-*.img | wc -c)
	wl_cmd verify
	wl_stop
}

bench_restore() {
	local tms tb ums ub
	restore_round --track-mem
	grep -q "the tree was restored from the parent images and tracked since" "$TW/after/dump.log" ||
		tdie "the pre-dump after the tracked restore did not use it: $(grep 'track:' "$TW/after/dump.log" | head -3)"
	tms=$R_MS tb=$R_BYTES
	restore_round
	ums=$R_MS ub=$R_BYTES
	tlog "pre-dump after a lazy restore of 1 GiB, 1% written: frozen $tms ms / $tb bytes of pages tracked from" \
		"the restore, $ums ms / $ub bytes untracked"
	echo "{\"bench\": \"track-after-restore\", \"size\": \"1G\", \"tracked_ms\": $tms, \"tracked_bytes\": $tb," \
		"\"untracked_ms\": $ums, \"untracked_bytes\": $ub}" >>"$OUT/track.jsonl"
}

mkdir -p "$OUT" && : >"$OUT/track.jsonl" || tdie "cannot write $OUT"
IFS=, read -ra sizes <<<"$TRACK_SIZES"
for s in "${sizes[@]}"; do
	bench_freeze_size "$s"
done
[ "${TRACK_LOOP:-1}" = 1 ] && bench_loop
[ "${TRACK_RESTORE:-1}" = 1 ] && bench_restore
python3 - "$OUT/track.jsonl" <<'PY' >"$OUT/track.json" || tdie "cannot summarize"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for r in rows:
    if r["bench"] == "track-freeze":
        r["ratio"] = round(r["full_ms"] / r["incremental_ms"], 1) if r["incremental_ms"] else None
        r["target_met"] = r["size"] != "4G" or (r["ratio"] or 0) >= 10
    elif r["bench"] == "track-after-restore":
        r["freeze_ratio"] = round(r["untracked_ms"] / r["tracked_ms"], 1) if r["tracked_ms"] else None
        r["bytes_ratio"] = round(r["untracked_bytes"] / r["tracked_bytes"], 1) if r["tracked_bytes"] else None
    else:
        r["slowdown_pct"] = round(100 * (1 - r["tracked_gibs"] / r["untracked_gibs"]), 1)
        r["target_met"] = r["slowdown_pct"] <= 10
json.dump(rows, sys.stdout, indent=1)
for r in rows:
    if r["bench"] == "track-freeze":
        print(f"freeze {r['size']}: full {r['full_ms']} ms, incremental {r['incremental_ms']} ms, "
              f"ratio {r['ratio']}x", file=sys.stderr)
    elif r["bench"] == "track-after-restore":
        print(f"pre-dump after a lazy restore: {r['untracked_ms']} -> {r['tracked_ms']} ms frozen "
              f"({r['freeze_ratio']}x), {r['untracked_bytes']} -> {r['tracked_bytes']} bytes "
              f"({r['bytes_ratio']}x) with --track-mem", file=sys.stderr)
    else:
        print(f"write loop: {r['untracked_gibs']} -> {r['tracked_gibs']} GiB/s, "
              f"slowdown {r['slowdown_pct']}%", file=sys.stderr)
PY
tlog "results in $OUT/track.json"
