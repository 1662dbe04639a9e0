#!/usr/bin/env bash
# Dump a small shmem + memfd + SysV + hugetlb workload with the lazyshm plugin
# and check its lazyshm image: lazyshm-shmem.img exists, `lazyshm-img verify`
# passes, and after flipping one byte of a CRIU pages image verify fails
# naming exactly the page that byte belongs to.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
IMG=$BUILD/bin/lazyshm-img
WL=$TBIN/memkinds
[ -x "$IMG" ] || lz_fail "lazyshm-img not built at $IMG (make build)"
[ -x "$WL" ] || make -C "$TOP" -o criu --no-print-directory "$WL" >/dev/null || lz_fail "can't build $WL"

KINDS=anon,memfd,sysv,huge-anon,huge-memfd
lz_reserve_hugepages 4 2M || lz_skip "no 2M hugepages available"
lz_sysv_cleanup_keys 0x4c5a3000

W=$(lz_workdir)
D=$W/dump
mkdir -p "$D"
# CRIU dumps SysV shm only from a task in its own IPC namespace.
setsid unshare --ipc "$WL" --kinds "$KINDS" --size-mb 1 --huge-mb 4 --holes \
	--sysv-key 0x4c5a3000 --ready "$W/ready" </dev/null >"$W/wl.log" 2>&1 &
lz_track_pid $!
disown $! # no "Killed" notice when criu dump kills it
lz_wait_file "$W/ready" 20 || lz_fail "workload not ready: $(cat "$W/wl.log")"
PID=$(head -1 "$W/ready")
lz_track_pid "$PID"
lz_log "workload pid $PID kinds $KINDS"

lz_criu_dump "$D" "$PID" || lz_fail "criu dump failed"
[ -f "$D/lazyshm-shmem.img" ] || {
	grep "lazyshm" "$D/dump.log" | tail -5
	lz_fail "dump did not write lazyshm-shmem.img"
}
grep "lazyshm: dump:" "$D/dump.log" | sed 's/^/    /'

"$IMG" show "$D" || lz_fail "lazyshm-img show failed"
"$IMG" json "$D" >"$W/img.json" || lz_fail "lazyshm-img json failed"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/img.json" || lz_fail "json output does not parse"
for k in anon-shared memfd sysv hugetlb-anon hugetlb-memfd; do
	grep -q "\"kind\": \"$k\"" "$W/img.json" || lz_fail "no $k object in the image"
done
"$IMG" verify "$D" || lz_fail "verify fails on an untouched dump"

# Flip one byte in a data page in the middle of each object, on a copy of
# the dump. CRIU's pages image holds the data pages in ascending order, and
# memkinds writes whole pages, so the n-th page_size block of the pages
# image is the n-th page of the object's data runs.
check_flip() {
	local shmid=$1 kind=$2 page=$3 off=$4 F=$W/flip-$shmid pid out
	rm -rf "$F" && cp -a "$D" "$F"
	# pagemap-shmem-N.img: 2 magics, u32 length, PagemapHead {1: pages_id}
	pid=$(od -An -tu1 -j13 -N1 "$F/pagemap-shmem-$shmid.img" | tr -d ' ')
	[ "$(od -An -tx1 -j12 -N1 "$F/pagemap-shmem-$shmid.img" | tr -d ' ')" = 08 ] && [ "$pid" -lt 128 ] ||
		lz_fail "can't read pages_id of shmid $shmid"
	printf '\xa5' | dd of="$F/pages-$pid.img" bs=1 seek="$off" conv=notrunc status=none
	cmp -s "$D/pages-$pid.img" "$F/pages-$pid.img" && { # the byte was already 0xa5
		printf '\x5a' | dd of="$F/pages-$pid.img" bs=1 seek="$off" conv=notrunc status=none
	}
	out=$("$IMG" verify "$F")
	rc=$?
	echo "$out" | sed 's/^/    /'
	[ $rc -eq 1 ] || lz_fail "verify exit $rc after flipping a byte of shmid $shmid (want 1)"
	[ "$(echo "$out" | grep -c '^MISMATCH')" -eq 1 ] || lz_fail "want exactly one mismatch for shmid $shmid"
	echo "$out" | grep -q "^MISMATCH shmid $shmid ($kind .*) page $page (.*expected digest [0-9a-f]\{16\}, actual [0-9a-f]\{16\}" ||
		lz_fail "mismatch does not name shmid $shmid page $page"
	lz_log "byte $off of pages-$pid.img flipped: verify names shmid $shmid ($kind) page $page"
}

python3 - "$W/img.json" >"$W/firsts" <<'PY' || lz_fail "can't read objects"
import json, sys
for o in json.load(open(sys.argv[1]))["objects"]:
    pages = [s + i for s, n in o["data_runs"] for i in range(n)]
    if pages:
        n = len(pages) // 2
        print(o["shmid"], o["kind"], pages[n], n * o["page_size"] + 100 + n)
PY
[ -s "$W/firsts" ] || lz_fail "no object has data"
while read -r shmid kind page off; do
	check_flip "$shmid" "$kind" "$page" "$off"
done <"$W/firsts"
lz_log "OK: $(wc -l <"$W/firsts") objects dumped, verified, and corruption pinned to the page"
