#!/usr/bin/env bash
# An eager restore with the plugin loaded validates every page too: one
# flipped byte in a pages image stops the restore, naming object and page.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
W=$(lz_workdir)
setsid "$TBIN/memkinds" --kinds anon --size-mb 8 --ready "$W/ready" --result "$W/res" \
	>"$W/workload.log" 2>&1 </dev/null &
WP=$!
disown $WP
lz_kill_listed_at_exit "$W/ready" # also when the dump fails
lz_kill_listed_at_exit "$W/restored.pid"
lz_wait_file "$W/ready" 20 || lz_fail "workload did not start"
lz_criu_dump "$W" $WP || lz_fail "dump failed"
for p in $(cat "$W/ready"); do lz_wait_gone "$p" 10 || lz_fail "dumped task $p still exists"; done

# the anon object's data is the pages image of exactly its data size
want=$("$BUILD/bin/lazyshm-img" json "$W" | jq -r '.objects[] | select(.kind == "anon-shared") | .nr_data_pages * .page_size' | head -1)
[ -n "$want" ] || lz_fail "no anon-shared object in the lazyshm image"
img=$(find "$W" -name 'pages-*.img' -size "${want}c" | head -1)
[ -n "$img" ] || lz_fail "no pages image of $want bytes"
python3 -c "
import sys
f = sys.argv[1]
b = bytearray(open(f, 'rb').read())
b[len(b) // 2] ^= 0xff
open(f, 'wb').write(b)
" "$img"

"$BUILD/bin/lazyshm-img" verify "$W" >"$W/verify.out" 2>&1 && lz_fail "lazyshm-img verify missed the flipped byte"
page=$(grep -o 'page [0-9]*' "$W/verify.out" | head -1)
lz_log "lazyshm-img verify: $(grep -i mismatch "$W/verify.out" | head -1)"

"$CRIU" restore -D "$W" --libdir "$LIBDIR" -v4 -o restore.log --shell-job -d --pidfile "$W/restored.pid" &&
	lz_fail "the restore succeeded on a corrupted image"
[ -s "$W/restored.pid" ] && kill -0 "$(cat "$W/restored.pid")" 2>/dev/null && lz_fail "a restored task runs"
grep -q "digest mismatch in .* $page " "$W/restore.log" ||
	lz_fail "restore.log does not name the corrupted $page: $(grep -i mismatch "$W/restore.log")"
lz_log "restore refused: $(grep -o 'digest mismatch.*' "$W/restore.log" | head -1)"
lz_log "PASS"
