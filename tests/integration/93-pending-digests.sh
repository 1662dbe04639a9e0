#!/usr/bin/env bash
# A dump whose digests are still pending (the dump could not compute them
# after releasing the tasks) cannot be validated: a lazy and an eager
# restore both refuse it, naming the cause and LAZYSHM_VALIDATE=0, and no
# task runs; with LAZYSHM_VALIDATE=0 the lazy restore works and the bytes
# are right. The pending image is made with `lazyshm-img index
# --digests-pending`, which writes what the plugin writes while the tasks
# are frozen; a real dump must leave nothing pending.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem here"

W=$(lz_workdir)
IMG=$BUILD/bin/lazyshm-img

refused() { # WHAT LOG: the restore failed for the pending digests, no task left
	grep -q "still pending" "$W/$2" && grep -q "LAZYSHM_VALIDATE=0 restores it unvalidated" "$W/$2" ||
		lz_fail "$1: no clear refusal in $2: $(grep -E 'Error|lazyshm' "$W/$2" | tail -3)"
	for p in "${PIDS[@]}"; do
		lz_wait_gone "$p" 10 || lz_fail "$1: task $p runs although the restore was refused"
	done
	lz_log "$1 refused: $(grep -o 'lazyshm-shmem.img: the page digests.*' "$W/$2" | head -1 | cut -c1-160)"
}

lz_kill_listed_at_exit "$W/ready"
lz_kill_listed_at_exit "$W/restored.pid"
setsid unshare --ipc "$TBIN/touchtree" --size-mb 64 --ready "$W/ready" --result "$W/res" \
	>"$W/workload.log" 2>&1 </dev/null &
WP=$!
disown "$WP"
lz_wait_file "$W/ready" 60 || lz_fail "workload did not start: $(cat "$W/workload.log")"
mapfile -t PIDS <"$W/ready"
lz_dump_gone "$W" "$WP" || lz_fail "dump failed"
grep -q "digests of 1 objects, .* after the tasks were released" "$W/dump.log" ||
	lz_fail "the dump did not compute the digests after releasing the tasks"
"$IMG" show "$W" | grep -q pending && lz_fail "a finished dump left digests pending"

"$IMG" index --digests-pending "$W" >/dev/null || lz_fail "lazyshm-img index --digests-pending failed"
"$IMG" show "$W" | head -1 | grep -q "digests of 1 objects pending" || lz_fail "the image is not pending"
out=$("$IMG" verify "$W")
[ $? = 1 ] && grep -q "digests are pending" <<<"$out" || lz_fail "verify did not refuse the pending object: $out"

# the daemon refuses to start, and so does a lazy restore
"$CRIU" lazy-pages -D "$W" --libdir "$LIBDIR" -v4 -o lazy.log -d --pidfile "$W/lazy.pid" &&
	lz_fail "criu lazy-pages started on a pending image"
refused "lazy-pages daemon" lazy.log
lz_criu_restore "$W" --lazy-pages && lz_fail "a lazy restore of a pending image succeeded"
refused "lazy restore" restore.log
rm -f "$W/restored.pid" "$W/lazy.pid"

lz_criu_restore "$W" && lz_fail "an eager restore of a pending image succeeded"
refused "eager restore" restore.log
rm -f "$W/restored.pid"

export LAZYSHM_VALIDATE=0
lz_lazy_restore "$W" || lz_fail "LAZYSHM_VALIDATE=0 lazy restore failed"
grep -q "pending: LAZYSHM_VALIDATE=0, restored unvalidated" "$W/restore.log" ||
	lz_fail "the restore did not say it restores unvalidated"
lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
lz_verify_all "$W" 3 || lz_fail "the tasks do not see their bytes"
lz_stop_tasks "$(cat "$W/restored.pid")"
lz_log "PASS"
