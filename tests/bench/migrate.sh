#!/usr/bin/env bash
# make bench, migration: a workload whose memory is shared (benchwl: one
# region of shmem or of 2M hugetlb, every page filled) is migrated between
# two hosts, two network namespaces joined by a veth pair (no throttle),
# by three routes:
#
#   remote  lazyshm's remote post-copy: criu dump --lazy-pages (the source
#           serves the shared memory), the images (no shared page in them)
#           copied over the link, criu lazy-pages --page-server and criu
#           restore --lazy-pages on the destination
#   eager   criu dump without the plugin, the images copied over the
#           link, criu restore (upstream CRIU's migration)
#   lazy    criu dump with the plugin, the images copied over the link,
#           a local lazy restore with lazyshm on the destination
#
# Per sample: downtime (from the start of criu dump, which freezes the
# tasks, to the restored task running on the destination: criu restore -d
# has returned), the total migration time (until the destination has every
# page and the source is done), and the application's time until it has
# touched every page once running (benchwl, SIGUSR1 as soon as the restore
# returns). Images are on a tmpfs (MIG_TMPFS); the source's copy is removed
# before the restore to bound memory, and that removal is not counted.
#
#   MIG_SIZES=256M,1G,4G  MIG_KINDS=shmem,huge2m  MIG_ROUTES=remote,eager,lazy
#   MIG_REPS=1            MIG_REPORT=1 (the Migration tables of docs/PERFORMANCE.md)
#
# Results: build/bench/migration.json (+ logs in build/bench/migration-logs).
# Runs alone (tests/bench/migrate.sh) or at the end of tests/bench/run.sh.
set -uo pipefail

. "$(dirname "$0")/preamble.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
CRIU=${CRIU:-$BUILD/criu-4.1.1/criu/criu}
BB=$BUILD/bench/bin
OUT=$BUILD/bench
MW=$OUT/migration-work
LIB=$MW/lib
NOLIB=$MW/no-plugins
MSAMPLES=$OUT/migration-samples.jsonl
LOGS=$OUT/migration-logs
MIG_SIZES=${MIG_SIZES:-256M,1G,4G}
MIG_KINDS=${MIG_KINDS:-shmem,huge2m}
MIG_ROUTES=${MIG_ROUTES:-remote,eager,lazy}
MIG_REPS=${MIG_REPS:-1}
NS_SRC=lzbsrc-$$ NS_DST=lzbdst-$$ VETH_SRC=lzbs$$ VETH_DST=lzbd$$
SRC_ADDR=10.202.0.1 DST_ADDR=10.202.0.2 PORT=27377 COPY_PORT=27399
T0=$(date +%s)

BENCH_TAG=migrate
. "$TOP/tests/bench/lib.sh"
. "$TOP/tests/bench/migrate-lib.sh"

[ "$(id -u)" -eq 0 ] || die "needs root"
for b in "$CRIU" "$BB/benchwl" "$BB/benchrun" "${PLUGIN:-$BUILD/lib/lazyshm_plugin.so}"; do
	[ -e "$b" ] || die "missing $b (make build)"
done
command -v jq >/dev/null && command -v python3 >/dev/null && command -v ip >/dev/null || die "needs jq, python3, ip"
rm -rf "$MW" && mkdir -p "$MW" "$LIB" "$NOLIB" "$LOGS" || die "cannot create $MW"
on_exit "rm -rf '$MW'"
cp "${PLUGIN:-$BUILD/lib/lazyshm_plugin.so}" "$LIB/lazyshm_plugin.so" || die "cannot copy the plugin"
mig_netns
: >"$MSAMPLES"
IFS=, read -ra kinds <<<"$MIG_KINDS"
IFS=, read -ra sizes <<<"$MIG_SIZES"
for k in "${kinds[@]}"; do
	for s in "${sizes[@]}"; do
		mig_one "$k" "$s"
	done
done
jq -s --arg date "$(date -u +%FT%TZ)" --arg rev "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)" \
	--arg cpus "$(nproc)" --arg reps "$MIG_REPS" \
	'{meta: {date: $date, commit: $rev, cpus: ($cpus | tonumber), reps: ($reps | tonumber)}, runs: .}' \
	"$MSAMPLES" >"$OUT/migration.json" || die "cannot assemble migration.json"
log "samples in $OUT/migration.json"
if [ "${MIG_REPORT:-1}" = 1 ]; then
	python3 "$TOP/tests/bench/migrate-report.py" "$OUT/migration.json" "$TOP/docs/PERFORMANCE.md" ||
		die "report failed"
	log "wrote the Migration tables of docs/PERFORMANCE.md"
fi
log "done in $(($(date +%s) - T0)) s"
