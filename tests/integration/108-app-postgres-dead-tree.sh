#!/usr/bin/env bash
# PostgreSQL 15 restored lazily with a slow prefetch (LAZYSHM_TEST_FILL_DELAY_MS),
# so that the daemon still has pages to fill, then the whole restored tree is
# killed: the lazy-pages daemon must notice that nobody is left to serve and
# exit within 10 s, not outlive the tree, and no process may map the
# server's main segment any more: its hugepages (huge_pages=on) are free
# again (issue 16, problem 4: the daemon held them 80 s, and a restart of
# the server failed: "could not map anonymous shared memory"). The free
# hugepage count is only logged: other tests on the machine change it.
. "$(dirname "$0")/../lib/app-postgres.sh"

lz_app_timeout 180
lz_pg_require
W=$(lz_workdir)
lz_pg_start
lz_pg_load
lz_pg_dump
hp0=$(_hp_free 2M)
LAZYSHM_TEST_FILL_DELAY_MS=300 lz_pg_restore lazy lazy
lp=$(cat "$W/lazy.pid")
lz_exited "$lp" && lz_fail "the daemon finished before the test could kill the tree: slow the prefetch more"
root=$(cat "$W/restored.pid")
tree=($(lz_descendants "$root") "$root")
# the main segment: the postmaster's largest shared mapping, "device inode"
seg=$(while read -r r p _ dev ino _; do
	[ "${p:3:1}" = s ] && echo "$((0x${r#*-} - 0x${r%-*})) $dev $ino"
done <"/proc/$root/maps" | sort -n | tail -1 | cut -d' ' -f2-)
[ -n "$seg" ] || lz_fail "no shared mapping in the restored postmaster's maps"
kill -9 "${tree[@]}"
t0=$(lz_now_ms)
for p in "${tree[@]}"; do
	lz_wait_gone "$p" 10 || lz_fail "restored task $p does not die"
done
lz_log "the restored tree (${#tree[@]} tasks) is dead"
lz_wait_gone "$lp" 10 || {
	lz_diag_lazy "$W"
	lz_fail "the lazy-pages daemon $lp outlives the dead tree by more than 10 s"
}
lz_log "the daemon exited $(($(lz_now_ms) - t0)) ms after the tree was killed: $(grep -E 'lazyshm: ' "$W/lazy.log" | grep -v hook | tail -2 | tr '\n' ' ')"
held=$(grep -l " $seg " /proc/[0-9]*/maps 2>/dev/null | cut -d/ -f3 | tr '\n' ' ')
[ -z "$held" ] || lz_fail "the dead tree's main segment ($seg) is still mapped by: $held"
lz_log "nobody maps the main segment ($seg) any more; 2M hugepages free: $(_hp_free 2M), $hp0 before the restore"
lz_log "PASS: the lazy-pages daemon does not outlive a dead postgres tree"
