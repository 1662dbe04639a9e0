#!/usr/bin/env bash
# Issue 13: the application exits during the lazy phase. Right after the
# lazy restore of a tree of three tasks sharing a 64 MiB memfd and a 32 MiB
# hugetlb memfd (the prefetch thread slowed down: alone it would need more
# than a minute), every task exits, the children first, the root last
# (memkinds --on-usr2 exit). There is nobody left to serve: the daemon must
# stop filling, release the objects, say so in lazy.log and exit 0 within
# seconds, its guardian with it, and every hugepage must be free again.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"

lz_h_require lazy
lz_reserve_hugepages 16 2M || lz_skip "cannot reserve 33 available 2M hugepages"
W=$(lz_workdir)
SECS=10

D=$W/exit
lz_h_prepare "$D" --kinds memfd,huge-memfd --size-mb 64 --huge-mb 32 --holes --children 2 --on-usr2 exit
lz_wait_hugepages 33 2M 10 || lz_fail "the dumped tree's hugepages did not come back"
before=$(_hp_free 2M)
lz_h_lazy_restore_fg "$D" 1000
helpers=$(pgrep -P "$LZ_LAZY_PID" | tr '\n' ' ')
lz_log "daemon $LZ_LAZY_PID, its helpers: ${helpers:-none}; $before hugepages free before the restore"
# no verification first: it would fault every page in
t0=$(date +%s%N)
st=$(lz_h_usr2 "$D" 10) || lz_fail "the root did not run its exit action"
[ "$st" = "OK actions" ] || lz_fail "exit action: $(cat "$D/res.usr2.0")"
lz_h_stopped "$D" 10 || lz_fail "the restored tasks did not all exit"
lz_h_wait_child "$LZ_LAZY_PID" $SECS || {
	lz_diag_lazy "$D"
	lz_fail "the daemon is still running $SECS s after every task exited: $(grep -E 'lazyshm: ' "$D/lazy.log" | tail -2)"
}
ms=$((($(date +%s%N) - t0) / 1000000))
lz_log "the daemon exited with status $LZ_STATUS ${ms} ms after the exit action"
[ "$LZ_STATUS" = 0 ] || lz_fail "the daemon exited with status $LZ_STATUS: $(grep -E 'Error' "$D/lazy.log" | tail -3)"
line=$(grep -E "lazyshm: .*(exited|gone)" "$D/lazy.log" | grep -v "hook" | tail -1)
[ -n "$line" ] || lz_fail "lazy.log does not say that the tasks exited: $(grep 'lazyshm: ' "$D/lazy.log" | tail -3)"
lz_log "lazy.log: ${line#*lazyshm: }"
grep -q "Error" "$D/lazy.log" && lz_fail "lazy.log has errors: $(grep Error "$D/lazy.log" | head -3)"
for p in $helpers; do
	lz_wait_gone "$p" 5 || lz_fail "the daemon's helper $p outlived it: $(cat /proc/"$p"/cmdline | tr '\0' ' ')"
done
lz_wait_hugepages "$before" 2M 10 ||
	lz_fail "only $(_hp_free 2M) hugepages free after everything exited, $before before the restore"
lz_log "PASS: the daemon stopped and released everything once the application had exited"
