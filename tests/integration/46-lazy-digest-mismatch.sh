#!/usr/bin/env bash
# Digest mismatch: one byte of one data page of a deferred object is
# flipped in pages-*.img after the dump. `lazyshm-img verify` must name
# that page; the lazy restore must refuse to map it: the daemon logs
# "digest mismatch in <kind> <shmid> page <n>", fails, and the guardian
# kills the restored tree, so no task ever reports a verification result.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
IMG=$BUILD/bin/lazyshm-img
[ -x "$IMG" ] || lz_fail "lazyshm-img not built"

W=$(lz_workdir)
PAGE=5000
lz_start_memkinds "$W" --kinds anon --size-mb 64 --children 1 || lz_fail "workload did not start"
lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"

SHMID=$("$IMG" json "$W" | jq -r '.objects[] | select(.kind == "anon-shared") | .shmid')
[ -n "$SHMID" ] || lz_fail "no anon-shared object in the lazyshm image"
# no holes: the object's 64 MiB are the whole of one pages image, in order
PAGES=$(find "$W" -name 'pages-*.img' -size 67108864c)
[ "$(echo "$PAGES" | wc -w)" = 1 ] || lz_fail "cannot tell the object's pages image: $PAGES"
OFF=$((PAGE * 4096 + 100))
b=$(od -An -tu1 -j $OFF -N1 "$PAGES" | tr -d ' ')
printf "$(printf '\\%03o' $((b ^ 0xff)))" | dd of="$PAGES" bs=1 seek=$OFF conv=notrunc status=none ||
	lz_fail "cannot corrupt $PAGES"
lz_log "flipped byte $OFF of $(basename "$PAGES") (shmid $SHMID page $PAGE)"

"$IMG" verify "$W" >"$W/verify.out" 2>&1 && lz_fail "lazyshm-img verify did not notice the flipped byte"
grep -q "^MISMATCH shmid $SHMID (.*) page $PAGE " "$W/verify.out" ||
	lz_fail "lazyshm-img verify does not name page $PAGE: $(head -3 "$W/verify.out")"

# The prefetch may reach the page before `criu restore` has ended (under
# load it does): then the tree is killed while it is being restored and
# the restore fails. Either way, the checks below must hold.
if lz_lazy_restore "$W"; then
	lz_signal_tree "$W" USR1 # every task reads every page at once
else
	lz_log "criu restore failed: the daemon met page $PAGE before the restore ended"
fi
lz_wait_gone "$(cat "$W/lazy.pid")" 30 || lz_fail "the daemon went on after the mismatch"
for ((t = 0; t < 50; t++)); do
	[ -z "$(lz_tree_alive "$W")" ] && break
	sleep 0.1
done
[ -z "$(lz_tree_alive "$W")" ] || lz_fail "restored tasks still run after the mismatch: $(lz_tree_alive "$W")"
hex=$(printf '%#x' "$SHMID")
# the kind and shmid as lazyshm-img names them; the shmid in decimal or hex
grep -E "digest mismatch in (anon-shared|shmem-anon) (shmid )?($SHMID|$hex)( \($hex\))? page $PAGE \(offset (0x[0-9a-f]+|0)\): .*refusing to map it" "$W/lazy.log" ||
	lz_fail "lazy.log does not report the mismatch of page $PAGE: $(grep -E 'Error' "$W/lazy.log" | head -3)"
grep -q "the lazy-pages daemon is gone before every page was restored: killing" "$W/lazy.log" ||
	lz_fail "lazy.log does not say that the guardian killed the tree"
ls "$W"/res.[0-9]* >/dev/null 2>&1 && lz_fail "a task reported a verification result: $(head -1 "$W"/res.[0-9]*)"
[ -e "$W/lazyshm-stats.json" ] && lz_fail "stats were written as if the restore had completed"
lz_log "PASS"
