#!/usr/bin/env bash
# Working-set replay (issue 14). A lazy restore with LAZYSHM_REPLAY=record
# writes lazyshm-access.img (shown by lazyshm-img); the next lazy restore
# of the same images fills that working set from the daemon's start, while
# the restore goes on, and every byte must still verify in every task; a
# damaged access image is ignored with a warning, and LAZYSHM_REPLAY=off
# neither replays nor records.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "kernel lacks minor faults on shmem/hugetlbfs (criu check --feature lazy_shmem)"
grep -q hugetlbfs /proc/filesystems || lz_skip "no hugetlbfs in this kernel"
# huge-anon 16M = 8 pages, the restore maps them while the dumped ones may still be freed
lz_reserve_hugepages 8 2M || lz_skip "cannot reserve 17 available 2M hugepages"

W=$(lz_workdir)
A=$W/lazyshm-access.img
lz_kill_listed_at_exit "$W/ready"
lz_kill_listed_at_exit "$W/restored.pid"
# no log: it is restored four times, and criu checks a log file's size
setsid "$TBIN/memkinds" --kinds anon,memfd,huge-anon --size-mb 32 --huge-mb 16 --holes --children 1 \
	--ready "$W/ready" --result "$W/res" >/dev/null 2>&1 </dev/null &
LZ_WP=$!
disown "$LZ_WP"
lz_wait_file "$W/ready" 60 || lz_fail "workload did not start"
lz_criu_dump "$W" "$LZ_WP" || lz_fail "dump failed"
for p in $(cat "$W/ready"); do
	lz_wait_gone "$p" 10 || lz_fail "dumped task $p still exists"
done

# restore_round TAG [VAR=VALUE...]: one lazy restore with those settings
# exported, its verification, and the end of its tree; TAG names its logs
restore_round() {
	local tag=$1 root v
	shift
	for v in "$@"; do export "$v"; done
	lz_lazy_restore "$W" || lz_fail "$tag: lazy restore failed"
	for v in "$@"; do unset "${v%%=*}"; done
	lz_verify_all "$W" 2 || {
		lz_diag_lazy "$W"
		lz_fail "$tag: restored tasks did not all verify their memory"
	}
	lz_lazy_done "$W" || lz_fail "$tag: the daemon did not finish cleanly"
	lz_verify_all "$W" 2 || lz_fail "$tag: memory differs after the daemon detached"
	root=$(cat "$W/restored.pid")
	lz_stop_tasks $(pgrep -P "$root") "$root"
	lz_wait_gone "$root" 10 || lz_fail "$tag: restored task $root did not exit"
	for f in restore.log lazy.log lazyshm-stats.json; do
		cp "$W/$f" "$W/$tag-$f"
	done
	rm -f "$W/restored.pid" "$W/lazy.pid"
}

rm -f "$A"
# a prefetch slower than the verification: every object's pages fault, and are recorded
restore_round record LAZYSHM_REPLAY=record LAZYSHM_TEST_FILL_DELAY_MS=20
[ -s "$A" ] || lz_fail "LAZYSHM_REPLAY=record wrote no $A"
n=$(grep -c "deferred to the lazy-pages daemon" "$W/record-restore.log")
[ "$n" -ge 2 ] || lz_fail "only $n objects were deferred: $(grep 'lazyshm:.*eagerly' "$W/record-restore.log")"
grep -q "working set recorded in lazyshm-access.img: $n objects" "$W/record-lazy.log" ||
	lz_fail "the daemon did not record the working set of its $n objects: $(grep -i 'working set' "$W/record-lazy.log")"
"$BUILD/bin/lazyshm-img" show "$A" >"$W/access-show.txt" 2>&1 || lz_fail "lazyshm-img show $A: $(cat "$W/access-show.txt")"
grep -q "access-order" "$W/access-show.txt" || lz_fail "lazyshm-img show does not show the access order: $(head -5 "$W/access-show.txt")"
sum=$(sha256sum <"$A")

restore_round replay
grep -q "replaying the working set of lazyshm-access.img: $n objects" "$W/replay-lazy.log" ||
	lz_fail "the second restore did not replay the working set"
[ "$(sha256sum <"$A")" = "$sum" ] || lz_fail "a replaying restore rewrote $A"
jq -e '[.objects[].filled_prefetch] | add > 0' "$W/replay-lazyshm-stats.json" >/dev/null ||
	lz_fail "the replaying restore prefetched nothing"

# a damaged working set only orders the prefetch: ignored, with a warning
printf 'XXXX' | dd of="$A" bs=1 conv=notrunc status=none
restore_round damaged
grep -q "the prefetch follows the faults and the images instead" "$W/damaged-lazy.log" ||
	lz_fail "a damaged $A was not refused with a warning: $(grep -i 'access\|working set' "$W/damaged-lazy.log" | head -3)"

rm -f "$A"
restore_round off LAZYSHM_REPLAY=off
[ ! -e "$A" ] || lz_fail "LAZYSHM_REPLAY=off recorded a working set"
! grep -q "replaying the working set" "$W/off-lazy.log" || lz_fail "LAZYSHM_REPLAY=off replayed"
lz_log "PASS"
