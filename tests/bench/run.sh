#!/usr/bin/env bash
# make bench: restore performance of lazyshm against eager CRIU, upstream
# lazy-pages and the kernel's limits. See docs/PERFORMANCE.md.
#
#   SIZES=256M,1G,4G     region sizes
#   KINDS=shmem,huge2m,huge1g,anon
#                        huge1g is skipped when 1G pages cannot be had;
#                        anon is the upstream private-anon reference
#   REPS=3               repetitions of every restore (at least 3 for a median)
#   MODES=eager,lazy,lazy-noval,cold-eager,cold-lazy,ws-eager,ws-lazy,ws-replay
#                        for shmem/hugetlb kinds (anon: eager, upstream and
#                        their cold-* runs); none: only the dumps (and their
#                        freeze ratio). cold-*: the images' page cache is
#                        dropped before the restore (before the daemon
#                        starts). ws-*: the workload touches only its 10%
#                        working set; ws-replay replays the order a ws-record
#                        restore made first
#   FIXED=1              the fixed cost of a lazy restore (shmem 1M, eager,
#                        eager with the plugin loaded, lazy; FIXED_REPS=9)
#   REPORT=1             rewrite docs/PERFORMANCE.md and docs/perf-resume.png
#   KEEP=1               keep build/bench/work
#   APPEND=1             add to the samples of the previous run (no
#                        microbenchmarks), e.g. to redo one kind
#   PLUGIN=PATH          bench this lazyshm_plugin.so (default build/lib's)
#   TMPFS_RUN=1          if /run is not a tmpfs, run in a private mount
#                        namespace with a tmpfs on /run (0: as it is)
#   TRACK_BENCH=1        incremental dumps (tests/bench/track.sh, its own
#                        TRACK_* settings); 0 skips them
#   MIGRATION=1          then the migration bench, tests/bench/migrate.sh
#                        (its MIG_* variables; 0: leave it out)
#
# Every sample goes to build/bench/results.json. Each (kind, size) is dumped
# once; every restore reads that image from the page cache. Each shmem and
# hugetlb (kind, size) is dumped a second time without the plugin: how long
# the tasks stay frozen with and without it (CRIU's stats-dump.img,
# frozen_time) gives the dump freeze ratio.
set -uo pipefail

. "$(dirname "$0")/preamble.sh"

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
MODES=${MODES:-eager,lazy,lazy-noval,cold-eager,cold-lazy,ws-eager,ws-lazy,ws-replay}
T0=$(date +%s)

BENCH_TAG=bench
. "$TOP/tests/bench/lib.sh"

[ "$(id -u)" -eq 0 ] || die "needs root"
[ -n "${_LZ_BENCH_NS:-}" ] && log "/run is not a tmpfs here: running in a private mount namespace with a tmpfs /run, so that CRIU keeps its kdat cache as on a systemd host (TMPFS_RUN=0 to bench without)"
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
[ "${FIXED:-1}" = 1 ] && bench_fixed
IFS=, read -ra kinds <<<"$KINDS"
IFS=, read -ra sizes <<<"$SIZES"
for k in "${kinds[@]}"; do
	for s in "${sizes[@]}"; do
		bench_one "$k" "$s"
	done
done
if [ "${TRACK_BENCH:-1}" = 1 ]; then
	OUT=$OUT LIB=$LIB "$TOP/tests/bench/track.sh" || die "the incremental-dump bench failed"
fi
bench_collect >"$OUT/results.json" || die "cannot assemble results.json"
log "samples in $OUT/results.json"
if [ "${REPORT:-1}" = 1 ]; then
	python3 "$TOP/tests/bench/report.py" "$OUT/results.json" "$TOP/docs/PERFORMANCE.md" "$OUT/plot" ||
		die "report failed"
	gnuplot "$OUT/plot/resume.gp" || die "gnuplot failed"
	cp "$OUT/plot/perf-resume.png" "$TOP/docs/perf-resume.png"
	log "wrote docs/PERFORMANCE.md and docs/perf-resume.png"
fi
# the migration bench (tests/bench/migrate.sh), MIGRATION=0 to leave it out
if [ "${MIGRATION:-1}" = 1 ]; then
	"$TOP/tests/bench/migrate.sh" || die "the migration bench failed"
fi
log "done in $(($(date +%s) - T0)) s"
