#!/usr/bin/env bash
# make bench: restore performance of lazyshm against eager CRIU, upstream
# lazy-pages and the kernel's limits. See docs/PERFORMANCE.md.
#
#   SIZES=256M,1G,4G     region sizes
#   KINDS=shmem,huge2m,huge1g,anon
#                        huge1g is skipped when 1G pages cannot be had;
#                        anon is the upstream private-anon reference
#   REPS=3               repetitions of every restore (at least 3 for a median)
#   MODES=eager,lazy,lazy-noval
#                        for shmem/hugetlb kinds (anon: eager, upstream)
#   REPORT=1             rewrite docs/PERFORMANCE.md and docs/perf-resume.png
#   KEEP=1               keep build/bench/work
#   APPEND=1             add to the samples of the previous run (no
#                        microbenchmarks), e.g. to redo one kind
#   PLUGIN=PATH          bench this lazyshm_plugin.so (default build/lib's)
#
# Every sample goes to build/bench/results.json. Each (kind, size) is dumped
# once; every restore reads that image from the page cache.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
CRIU=${CRIU:-$BUILD/criu-4.1.1/criu/criu}
BB=$BUILD/bench/bin
OUT=$BUILD/bench
W=$OUT/work
LIB=$OUT/lib
SAMPLES=$OUT/samples.jsonl
SIZES=${SIZES:-256M,1G,4G}
KINDS=${KINDS:-shmem,huge2m,huge1g,anon}
REPS=${REPS:-3}
MODES=${MODES:-eager,lazy,lazy-noval}
T0=$(date +%s)

log() { printf '[bench %4ds] %s\n' $(($(date +%s) - T0)) "$*"; }
die() { log "FAIL: $*"; exit 1; }

_CLEANUPS=()
on_exit() { _CLEANUPS+=("$*"); }
cleanup() {
	local i
	for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${_CLEANUPS[$i]}" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$TOP/tests/bench/lib.sh"

[ "$(id -u)" -eq 0 ] || die "needs root"
for b in "$CRIU" "$BB/benchwl" "$BB/benchrun" "$BB/micro" "${PLUGIN:-$BUILD/lib/lazyshm_plugin.so}"; do
	[ -x "$b" ] || [ -f "$b" ] || die "missing $b (make build)"
done
[ "$REPS" -ge 1 ] || die "REPS must be >= 1"

# The plugin is being changed by others: bench one frozen copy of it
rm -rf "$W" "$LIB" && mkdir -p "$W" "$LIB" || die "cannot create $W"
cp "${PLUGIN:-$BUILD/lib/lazyshm_plugin.so}" "$LIB/lazyshm_plugin.so" || die "cannot copy the plugin"
[ "${KEEP:-0}" = 1 ] || on_exit "rm -rf '$W'"
if [ "${APPEND:-0}" != 1 ]; then
	: >"$SAMPLES"
	bench_micro
fi
IFS=, read -ra kinds <<<"$KINDS"
IFS=, read -ra sizes <<<"$SIZES"
for k in "${kinds[@]}"; do
	for s in "${sizes[@]}"; do
		bench_one "$k" "$s"
	done
done
bench_collect >"$OUT/results.json" || die "cannot assemble results.json"
log "samples in $OUT/results.json"
if [ "${REPORT:-1}" = 1 ]; then
	python3 "$TOP/tests/bench/report.py" "$OUT/results.json" "$TOP/docs/PERFORMANCE.md" "$OUT/plot" ||
		die "report failed"
	gnuplot "$OUT/plot/resume.gp" || die "gnuplot failed"
	cp "$OUT/plot/perf-resume.png" "$TOP/docs/perf-resume.png"
	log "wrote docs/PERFORMANCE.md and docs/perf-resume.png"
fi
log "done in $(($(date +%s) - T0)) s"
