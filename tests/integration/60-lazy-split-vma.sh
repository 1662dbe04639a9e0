#!/usr/bin/env bash
# One lazily restored object mapped as four VMAs (mprotect splits it):
# every VMA must be registered, not only the first, or reads of the others
# see unpopulated pages and the daemon later overwrites what the task saw.
# The task reads every byte right after resume, racing the prefetcher.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
lz_reserve_hugepages 32 2M || lz_skip "cannot reserve 65 available 2M hugepages"
W=$(lz_workdir)

for kind in memfd anon huge-memfd; do
	D=$W/$kind
	mkdir -p "$D"
	setsid "$TBIN/splitmap" --kind $kind --size-mb 64 --ready "$D/ready" --result "$D/res" \
		>"$D/workload.log" 2>&1 </dev/null &
	WP=$!
	disown $WP
	lz_track_pid $WP
	lz_wait_file "$D/ready" 20 || lz_fail "$kind: workload did not start: $(cat "$D/workload.log")"
	lz_criu_dump "$D" $WP || lz_fail "$kind: dump failed"
	lz_wait_gone $WP 10 || lz_fail "$kind: dumped task still exists"
	lz_lazy_restore "$D" || lz_fail "$kind: lazy restore failed"
	kill -USR1 "$(cat "$D/restored.pid")"
	lz_wait_file "$D/res" 60 || lz_fail "$kind: no result"
	read -r st rest <"$D/res"
	[ "$st" = OK ] || lz_fail "$kind: $st $rest"
	n=$(grep -c "register: .* mode 0x5" "$D/restore.log")
	[ "$n" -ge 4 ] || lz_fail "$kind: only $n mappings registered MISSING|MINOR"
	lz_lazy_done "$D" || lz_fail "$kind: the daemon did not finish cleanly"
	rm -f "$D/res"
	kill -USR1 "$(cat "$D/restored.pid")"
	lz_wait_file "$D/res" 20 && read -r st rest <"$D/res" && [ "$st" = OK ] ||
		lz_fail "$kind: wrong bytes after the daemon detached: $st $rest"
	kill -TERM "$(cat "$D/restored.pid")"
	lz_wait_gone "$(cat "$D/restored.pid")" 10
	lz_log "$kind: 4 VMAs of one object, $n registered, every byte identical"
done
lz_log "PASS"
