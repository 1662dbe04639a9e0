#!/usr/bin/env bash
# Fallback to an eager restore, exactly as upstream, with the reason logged:
# (a) LAZYSHM_MODE=eager in the environment of `criu restore`;
# (b) `criu lazy-pages` started without --libdir (no lazyshm plugin in the
#     daemon) while `criu restore` has it.
# In both cases every task verifies every byte right after the restore.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
lz_reserve_hugepages_avail 32 2M || lz_skip "cannot reserve 32 free 2M hugepages"

W=$(lz_workdir)
KINDS=anon,memfd,huge-anon,huge-memfd,private

# dump_case NAME: dump a fresh tree into W/NAME (its pid in LZ_WP)
dump_case() {
	mkdir -p "$W/$1"
	lz_start_memkinds "$W/$1" --kinds $KINDS --size-mb 16 --huge-mb 16 --holes --children 1 ||
		lz_fail "$1: workload did not start"
	lz_dump_gone "$W/$1" "$LZ_WP" || lz_fail "$1: dump failed"
}

# the shared objects restored eagerly with REASON (an extended regex)
check_eager() {
	local d=$1 why=$2 n
	n=$(grep -cE "lazyshm: (anon-shared|memfd|sysv|hugetlb-[a-z]+) 0x[0-9a-f]+ restored eagerly: $why" "$d/restore.log")
	[ "$n" = 4 ] || lz_fail "$(basename "$d"): $n of 4 objects restored eagerly with: $why"
	grep -q "deferred to the lazy-pages daemon" "$d/restore.log" && lz_fail "$(basename "$d"): an object was deferred"
	lz_verify_all "$d" 2 || lz_fail "$(basename "$d"): wrong bytes after an eager restore"
	lz_stop_tasks "$(cat "$d/restored.pid")"
	lz_wait_gone "$(cat "$d/restored.pid")" 10 || lz_fail "$(basename "$d"): restored root did not exit"
}

# (a) LAZYSHM_MODE=eager
dump_case mode
D=$W/mode
"$CRIU" lazy-pages -D "$D" --libdir "$LIBDIR" -v4 -o lazy.log -d --pidfile "$D/lazy.pid" ||
	lz_fail "mode: criu lazy-pages failed"
lz_track_pid "$(cat "$D/lazy.pid")"
LAZYSHM_MODE=eager lz_criu_restore "$D" --lazy-pages || lz_fail "mode: restore failed"
check_eager "$W/mode" "LAZYSHM_MODE=eager"
lz_log "(a) LAZYSHM_MODE=eager: eager, verified"

# (b) a lazy-pages daemon without the plugin
dump_case noplugin
D=$W/noplugin
"$CRIU" lazy-pages -D "$D" -v4 -o lazy.log -d --pidfile "$D/lazy.pid" || lz_fail "noplugin: criu lazy-pages failed"
lz_track_pid "$(cat "$D/lazy.pid")"
lz_criu_restore "$D" --lazy-pages || lz_fail "noplugin: restore failed"
check_eager "$D" "no lazy-pages daemon with the lazyshm plugin"
lz_log "(b) daemon without the plugin: eager, verified"
lz_log "PASS"
