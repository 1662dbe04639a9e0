#!/usr/bin/env bash
# Hybrid migration (docs/USAGE.md, "Hybrid migration"): pre-copy rounds,
# then post-copy, between two hosts (network namespaces joined by a veth
# pair, tests/lib/remote.sh). The tracked workload (anonymous shared
# memory and 4K SysV, 16 MiB each, tests/lib/track.sh) runs in the source
# namespace and is written to between rounds: pre-dump d1 (full), pre-dump
# d2 on d1, then the final `criu dump --track-mem --prev-images-dir ../d2
# --lazy-pages`, which keeps the tasks frozen and serves their private
# pages from its page server. d2 and d3 are incremental for both objects
# and d3 holds a small part of d1's page data. A dump with parent images
# offers no shared object to the remote post-copy (patch 0021): the dump
# log says so, the shared memory is pre-copied (in the chain) and only
# private memory is post-copied; the dump digests its objects before its
# page server starts, since the destination copies the images while the
# tasks are still frozen. The chain is copied to the destination (cp -a:
# the parent links are relative) and the source's d1 and d2 are moved
# away; the destination runs `criu lazy-pages --page-server` and `criu
# restore --lazy-pages` from its copy of d3 in a PID namespace of its own:
# SysV is restored eagerly and validated, the anonymous shared object
# lazily from the chain, the private pages come from the source. The
# restored tree verifies every byte, the lazy restore completes, the
# source's tasks stay frozen until the destination's daemon reports, and
# are gone after the source logged the success.
# timeout: 300
. "$(dirname "$0")/../lib/track.sh"
. "$(dirname "$0")/../lib/remote.sh"

# hy_start ARGS...: trk_start, in the source's network namespace (criu
# dump runs there: a workload in another one would have its network
# namespace dumped)
hy_start() {
	lz_kill_listed_at_exit "$W/ready"
	setsid unshare --ipc nsenter --net="/run/netns/$RM_NS_SRC" "$TBIN/trackwl" --dir "$W" "$@" \
		>"$W/workload.log" 2>&1 </dev/null &
	disown $!
	lz_wait_file "$W/ready" 30 || lz_fail "trackwl did not start: $(cat "$W/workload.log")"
	P=$(cat "$W/ready")
}

# hy_predump N [PARENT]: trk_predump, in the source namespace, into S/dN
hy_predump() {
	local d=$S/d$1
	mkdir -p "$d"
	rm_src "$CRIU" pre-dump -D "$d" -t "$P" --libdir "$LIBDIR" -v4 -o dump.log --shell-job \
		${2:+--prev-images-dir ../d$2} || {
		tail -20 "$d/dump.log"
		lz_fail "pre-dump $1 failed"
	}
}

# hy_dump N PARENT: the final round into S/dN, in the background (its exit
# status in S/dN/dump.rc once it ends); returns once its page server
# listens
hy_dump() {
	local d=$S/d$1 t sh pid=
	mkdir -p "$d"
	nsenter --net="/run/netns/$RM_NS_SRC" /bin/sh -c '"$@"; echo $? >"'"$d"'/dump.rc.tmp"; mv "'"$d"'/dump.rc.tmp" "'"$d"'/dump.rc"' sh \
		"$CRIU" dump -D "$d" -t "$P" --libdir "$LIBDIR" -v4 -o dump.log --shell-job \
		--track-mem --prev-images-dir "../d$2" \
		--lazy-pages --address "$RM_SRC_ADDR" --port "$RM_PORT" </dev/null >"$d/dump.out" 2>&1 &
	sh=$!
	lz_track_pid "$sh"
	for ((t = 600; t > 0; t--)); do
		[ -n "$pid" ] || { pid=$(pgrep -P "$sh" -x criu) && lz_track_pid "$pid"; }
		grep -q "Starting page server on port" "$d/dump.log" 2>/dev/null &&
			rm_src ss -Hltn "sport = :$RM_PORT" | grep -q . && [ -n "$pid" ] && return 0
		[ -e "$d/dump.rc" ] && break
		sleep 0.1
	done
	tail -15 "$d/dump.log"
	lz_fail "the final dump did not start its page server"
}

# hy_restore N: the destination's daemon, then `criu restore --lazy-pages`
# of D/dN in a PID namespace of its own (tests/lib/remote.sh); the restored
# root's host pid in R
hy_restore() {
	local d=$D/d$1
	RM_DST_DIR=$d rm_lazy_daemon "$W" || lz_fail "criu lazy-pages failed"
	RM_DST_DIR=$d rm_restore "$W" || lz_fail "criu restore failed: $(grep Error "$d/restore.log" | head -3)"
	R=$(cat "$d/restored.hostpid")
}

trk_init
rm_require
command -v jq >/dev/null || lz_skip "needs jq"
rm_setup
S=$W/src D=$W/dst
mkdir -p "$S" "$D"
hy_start --kinds anon,sysv --size-mb 16
SRC_TASKS="$P $(lz_descendants "$P")"
SEED=${SEED:-$RANDOM}
lz_log "seed $SEED; source tasks: $SRC_TASKS"

# pre-copy rounds while the tasks run
hy_predump 1
# (verify reads the holes too, which allocates them: zero pages that the
# next round copies; here that is d2, not the final round)
trk_cmd verify
trk_cmd write 200 $((SEED + 1))
hy_predump 2 1
trk_cmd write 100 $((SEED + 2))
# the final round: frozen, the private pages served from the source
hy_dump 3 2
for d in d2 d3; do
	for k in anon-shared sysv; do
		trk_expect_incremental "$S/$d" $k
	done
done
# patch 0021: no shared object offered to the remote post-copy; their
# digests are in the images before the destination copies them
L=$S/d3/dump.log
grep -q "lazyshm: dump: incremental (--prev-images-dir): CRIU does not offer its shared objects" "$L" ||
	lz_fail "the final dump does not say that its shared objects go into the images"
grep -q "lazyshm: dump: serving" "$L" && lz_fail "the final dump serves shared objects: $(grep "dump: serving" "$L")"
grep -q "lazyshm: dump: digests of 2 objects, .* before the page server starts" "$L" ||
	lz_fail "the final dump did not digest its 2 objects before serving: $(grep "lazyshm: dump: \(wrote\|digests\)" "$L")"
lz_log "d3: $(grep -o "lazyshm: dump: digests of .*" "$L")"
b1=$(trk_image_bytes "$S/d1")
b3=$(trk_image_bytes "$S/d3")
lz_log "page data: d1 $b1 bytes, d2 $(trk_image_bytes "$S/d2"), d3 $b3"
[ "$b3" -lt $((b1 / 8)) ] || lz_fail "the final dump wrote $b3 bytes of pages, d1 $b1"

# the copy to the destination; the source keeps only the final round
cp -a "$S/." "$D/" || lz_fail "cannot copy the images"
[ "$(cd "$D/d3/parent/parent" && pwd -P)" = "$(cd "$D/d1" && pwd -P)" ] ||
	lz_fail "the copied chain's parent links do not lead to the copy: $(readlink "$D/d3/parent")"
mv "$S/d1" "$S/d1.away" && mv "$S/d2" "$S/d2.away" || lz_fail "cannot move the source's d1, d2"
lz_log "image copy: $(du -sb "$D" | cut -f1) bytes"

# the source's tasks wait, frozen, for the destination's word
for p in $SRC_TASKS; do
	case "$(ps -o stat= -p "$p" | cut -c1)" in
	t | T) ;;
	*) lz_fail "source task $p is not frozen while the final dump serves its pages" ;;
	esac
done
[ -e "$S/d3/dump.rc" ] && lz_fail "the final dump ended ($(cat "$S/d3/dump.rc")) before the destination restored"
hy_restore 3
lz_log "restored root: host pid $R"
trk_cmd verify 0 0 "$R"
lz_log "destination: $TANS"
lz_lazy_done "$D/d3" || lz_fail "the lazy restore did not complete"
L=$D/d3/lazy.log
grep -q "Error" "$L" && lz_fail "lazy.log has errors: $(grep Error "$L" | head -3)"
# shared memory from the destination's copy of the chain: 4K SysV eagerly
# (userfaultfd cannot register it), the anonymous shared object lazily
grep -q "lazyshm: sysv 0: [0-9]* data pages restored eagerly and validated" "$D/d3/restore.log" ||
	lz_fail "SysV was not restored eagerly from the chain: $(grep "lazyshm: sysv" "$D/d3/restore.log")"
grep -q "lazyshm: anon-shared .* deferred to the lazy-pages daemon" "$D/d3/restore.log" ||
	lz_fail "the anonymous shared object was not deferred: $(grep "lazyshm: anon-shared" "$D/d3/restore.log")"
jq -e '[.objects[] | select(.kind == "anon-shared" and (.remote | not) and
	.filled_fault + .filled_prefetch == .pages - .holes)] | length == 1' "$D/d3/lazyshm-stats.json" >/dev/null ||
	lz_fail "stats: the anonymous shared object was not filled from the images: $(jq -c .objects "$D/d3/lazyshm-stats.json")"
# private memory from the source's page server
n=$(sed -n 's/.*uffd: [0-9]*-[0-9]*: Found \([0-9]*\) pages to be handled by UFFD.*/\1/p' "$L")
grep -q "Opened remote page read" "$L" && [ "${n:-0}" -gt 0 ] &&
	grep -q "uffd: [0-9]*-[0-9]*: UFFD transferred pages: ($n/$n)" "$L" ||
	lz_fail "the private pages did not come from the source: $(grep -E "remote page read|UFFD transferred" "$L")"
lz_log "destination: sysv eager and validated, anon-shared lazy from the chain, $n private pages from the source ($(grep -cE "uffd: [0-9]+-[0-9]+: #PF" "$L") on fault)"
lz_wait_file "$S/d3/dump.rc" 60 || lz_fail "the final dump did not end"
[ "$(cat "$S/d3/dump.rc")" = 0 ] || lz_fail "the final dump failed: $(grep Error "$S/d3/dump.log" | head -3)"
grep -q "Lazy pages transfer finished successfully" "$S/d3/dump.log" ||
	lz_fail "the source did not report a successful transfer"
rm_wait_gone 10 $SRC_TASKS || lz_fail "source tasks survive a successful migration: $SRC_TASKS"
grep -q "lazyshm: track: the tree is gone: its holder stopped" "$S/d3/dump.log" ||
	lz_fail "the source's tracking holder was not stopped with its tree"
lz_log "source: transfer finished, its tasks are gone"
trk_cmd verify 0 0 "$R"
lz_log "destination, every page resident: $TANS"
echo "1 passed, 0 failed"
