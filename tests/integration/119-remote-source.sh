#!/usr/bin/env bash
# Remote post-copy, the dump's source: `criu dump --lazy-pages --port P` of
# shmem, memfd and hugetlb objects writes no page data for them (they are
# "remote" in lazyshm-shmem.img), serves them on port P+1, and a client
# speaking the protocol (lzfetch) gets every page with the content of an
# eager dump of the same tasks; requests out of range get an ERROR and the
# session goes on; the source logs the DONE. Objects a restore could not
# defer (4K SysV, a memfd a task holds open) still go into the images, and
# a restore that would fill a remote object itself fails, naming it.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
command -v jq >/dev/null || lz_skip "needs jq"
lz_reserve_hugepages 12 2M || lz_skip "cannot get 25 free 2M hugepages"
W=$(lz_workdir)
E=$W/eager L=$W/lazy
mkdir -p "$E" "$L"
PORT=$((27000 + $$ % 2000))
KINDS=anon,memfd,memfd-sealed,sysv,huge-anon,huge-memfd,huge-sysv

lz_start_memkinds "$W" --kinds "$KINDS" --size-mb 4 --huge-mb 8 --holes || lz_fail "workload did not start"
lz_sysv_cleanup_keys 0x4c5a0000

# 1. the reference: an eager dump of the same tasks, which keep running
lz_criu_dump "$E" "$LZ_WP" --leave-running || lz_fail "eager dump failed"

# 2. the lazy dump: it serves until its page server session ends
LAZYSHM_SYSV=lazy "$CRIU" dump -D "$L" -t "$LZ_WP" --libdir "$LIBDIR" -v4 -o dump.log --shell-job \
	--lazy-pages --address 127.0.0.1 --port "$PORT" >"$W/lazy-dump.out" 2>&1 &
DUMP=$!
lz_track_pid "$DUMP"
for ((t = 300; t > 0; t--)); do
	grep -q "Starting lazy pages server" "$L/dump.log" 2>/dev/null && break
	lz_exited "$DUMP" && break
	sleep 0.1
done
grep -q "lazyshm: dump: serving [0-9]* shared objects to the destination on 127.0.0.1:$((PORT + 1))" "$L/dump.log" ||
	{ tail -30 "$L/dump.log"; lz_fail "the lazy dump does not serve its shared objects"; }

# 3. no page data for the remote objects, only for what a restore could not defer
"$BUILD/bin/lazyshm-img" json "$L" >"$W/lazy.json" 2>"$W/json.err" ||
	lz_fail "lazyshm-img json: $(cat "$W/json.err")"
remote=$(jq -r '[.objects[] | select(.remote) | .kind] | sort | join(",")' "$W/lazy.json")
local_=$(jq -r '[.objects[] | select(.remote | not) | .kind] | sort | join(",")' "$W/lazy.json")
lz_log "remote: $remote; in the images: $local_"
[ "$remote" = "anon-shared,hugetlb-anon,hugetlb-memfd,hugetlb-sysv,memfd" ] || lz_fail "remote objects: $remote"
[ "$local_" = "memfd,sysv" ] || lz_fail "objects in the images: $local_"
grep -q "goes into the images: userfaultfd cannot register 4K SysV" "$L/dump.log" || lz_fail "no reason logged for sysv"
grep -q "goes into the images: a task holds it open" "$L/dump.log" || lz_fail "no reason logged for memfd-sealed"
jq -e '.dump_id | test("^[0-9a-f]{32}$")' "$W/lazy.json" >/dev/null || lz_fail "no dump id in the image"
jq -e '[.objects[] | select(.remote) | .digests | length] | add == 0' "$W/lazy.json" >/dev/null ||
	lz_fail "remote objects carry digests"
lazy_pages=$(cat "$L"/pages-*.img | wc -c)
eager_pages=$(cat "$E"/pages-*.img | wc -c)
lz_log "pages-*.img: eager dump $eager_pages bytes, lazy dump $lazy_pages bytes"
# the lazy dump holds the two 4 MiB objects in the images (the private pages are lazy)
[ "$lazy_pages" -le $((9 << 20)) ] || lz_fail "the lazy dump wrote $lazy_pages bytes of pages"
[ "$eager_pages" -ge $((30 << 20)) ] || lz_fail "the eager dump wrote only $eager_pages bytes of pages"

# 4. a destination fetches every page: content as in the eager dump; bad requests refused
"$TBIN/lzfetch" --images "$L" --host 127.0.0.1 --port $((PORT + 1)) --check "$E" --bad >"$W/fetch.out" 2>&1
rc=$?
cat "$W/fetch.out"
[ $rc -eq 0 ] || lz_fail "lzfetch failed"
grep -q "refused as expected: .*outside the object" "$W/fetch.out" || lz_fail "no ERROR for a range out of the object"
grep -q "refused as expected: .*no object" "$W/fetch.out" || lz_fail "no ERROR for an unknown object"
grep -q "^lzfetch: OK 5 objects" "$W/fetch.out" || lz_fail "not every remote object was fetched"

# 5. end CRIU's lazy session as a destination's daemon would (PS_IOV_CLOSE)
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || lz_fail "cannot reach the lazy page server"
printf '\x23\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' >&3
timeout 5 head -c 4 <&3 >/dev/null
exec 3>&-
for ((t = 300; t > 0; t--)); do
	lz_exited "$DUMP" && break
	sleep 0.1
done
lz_exited "$DUMP" || lz_fail "the lazy dump did not end"
wait "$DUMP" || lz_fail "the lazy dump failed: $(tail -5 "$L/dump.log")"
grep -q "remote: 127.0.0.1:[0-9]* has every page: DONE" "$L/dump.log" || lz_fail "the source did not log the DONE"
grep -q "remote: request for shmid .* refused" "$L/dump.log" || lz_fail "the source did not log the refusals"

# 6. the index checks out: local objects by digest, remote ones by geometry
"$BUILD/bin/lazyshm-img" verify "$L" >"$W/verify.out" 2>&1 || lz_fail "verify: $(cat "$W/verify.out")"
grep -q "5 objects are served by the dump's source" "$W/verify.out" || lz_fail "verify: $(cat "$W/verify.out")"
for p in $(cat "$W/ready"); do lz_wait_gone "$p" 10 || lz_fail "dumped task $p is still there"; done
# 7. no restore fills a remote object itself: CRIU alone, and with the plugin but not lazy
if "$CRIU" restore -D "$L" -v4 -o restore-criu.log --shell-job -d >/dev/null 2>&1; then
	lz_fail "CRIU restored a dump whose shared memory is not in the images"
fi
grep -q "its content is not in the images, the dump's source serves it" "$L/restore-criu.log" ||
	lz_fail "CRIU's restore did not name the remote object: $(grep -i error "$L/restore-criu.log" | tail -3)"
for p in $(cat "$W/ready"); do lz_wait_gone "$p" 10 || lz_fail "task $p of the failed restore is still there"; done
if "$CRIU" restore -D "$L" --libdir "$LIBDIR" -v4 -o restore-eager.log --shell-job -d >/dev/null 2>&1; then
	lz_fail "an eager restore with the plugin restored remote objects"
fi
grep -q "the dump's source serves" "$L/restore-eager.log" ||
	lz_fail "the eager restore did not say why: $(grep -i error "$L/restore-eager.log" | tail -3)"
lz_log "PASS: 5 objects served remotely, none of their pages in the images, every page fetched as dumped"
