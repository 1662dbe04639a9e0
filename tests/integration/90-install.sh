#!/usr/bin/env bash
# make install into a DESTDIR, then a lazy restore that uses only the
# installed files: criu from DESTDIR/opt/lazyshm/bin, the plugin from
# DESTDIR/usr/lib/criu (CRIU's plugin directory). Nothing lands in a bin
# directory on PATH. A parent and a child sharing shmem and hugetlb memory
# are dumped, restored lazily and verify every byte. Then make uninstall
# leaves the DESTDIR empty.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
W=$(lz_workdir)
DEST=$W/dest
mkdir -p "$DEST"
# should the test stop half-way: what make install wrote goes with W

make -C "$TOP" --no-print-directory install DESTDIR="$DEST" >"$W/install.log" 2>&1 ||
	lz_fail "make install failed: $(tail -5 "$W/install.log")"
IBIN=$DEST/opt/lazyshm/bin
IPLUG=$DEST/usr/lib/criu
for f in "$IBIN/criu:$CRIU" "$IBIN/lazyshm-img:$BUILD/bin/lazyshm-img" \
	"$IBIN/lazyshm-kcheck:$BUILD/bin/lazyshm-kcheck" "$IPLUG/lazyshm_plugin.so:$LIBDIR/lazyshm_plugin.so"; do
	cmp -s "${f%%:*}" "${f#*:}" || lz_fail "${f%%:*} is not a copy of ${f#*:}"
done
[ -x "$IBIN/criu" ] || lz_fail "the installed criu is not executable"
shadow=$(find "$DEST" -path "$DEST/bin/*" -o -path "$DEST/sbin/*" -o -path "$DEST/usr/bin/*" \
	-o -path "$DEST/usr/sbin/*" -o -path "$DEST/usr/local/*")
[ -z "$shadow" ] || lz_fail "make install wrote into a bin directory on PATH: $shadow"
lz_log "installed: $(cd "$DEST" && find . -type f | sort | xargs)"

# from here on only the installed files
CRIU=$IBIN/criu
LIBDIR=$IPLUG
"$IBIN/lazyshm-kcheck" >"$W/kcheck.log" 2>&1 || lz_log "lazyshm-kcheck: $(tail -2 "$W/kcheck.log")"
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here (installed criu check)"
KINDS=anon,memfd,private
if lz_reserve_hugepages 8 2M; then
	KINDS=$KINDS,huge-memfd
else
	lz_skip_part "hugetlb: cannot reserve 17 available 2M hugepages, shmem only"
fi
lz_start_memkinds "$W" --kinds "$KINDS" --size-mb 32 --huge-mb 16 --holes --children 1 ||
	lz_fail "workload did not start"
lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump with the installed criu failed"
grep -q "lazyshm: lazyshm plugin .* initialized for dump" "$W/dump.log" || lz_fail "the installed plugin was not loaded at dump"
"$IBIN/lazyshm-img" verify "$W" >"$W/img-verify.log" 2>&1 ||
	lz_fail "the installed lazyshm-img does not verify the images: $(tail -3 "$W/img-verify.log")"

lz_lazy_restore "$W" || lz_fail "lazy restore with the installed criu failed"
grep -q "deferred to the lazy-pages daemon" "$W/restore.log" || lz_fail "nothing was deferred to the daemon"
lz_verify_all "$W" 2 || {
	lz_diag_lazy "$W"
	lz_fail "restored bytes differ"
}
lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
lz_verify_all "$W" 2 || lz_fail "bytes differ after the daemon detached"
lz_log "stats: $(jq -c '[.objects[] | {kind, pages, filled_fault, filled_prefetch}]' "$W/lazyshm-stats.json")"
root=$(cat "$W/restored.pid")
lz_stop_tasks "$root" $(lz_descendants "$root")
lz_wait_gone "$root" 10 || lz_fail "the restored root did not exit"

make -C "$TOP" --no-print-directory uninstall DESTDIR="$DEST" >"$W/uninstall.log" 2>&1 ||
	lz_fail "make uninstall failed: $(tail -5 "$W/uninstall.log")"
left=$(cd "$DEST" && find . -mindepth 1 | xargs)
[ -z "$left" ] || lz_fail "make uninstall left in DESTDIR: $left"
lz_log "PASS: lazy restore from the installed files; uninstall left the DESTDIR empty"
