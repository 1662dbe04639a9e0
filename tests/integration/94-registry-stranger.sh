#!/usr/bin/env bash
# Issue 11: a registry offer from a process that is not ours is refused.
# While a lazy-pages daemon waits for the restore, its object registry
# (lazyshm.sock in the work directory) is a socket of mode 0600 owned by
# root. A process of uid 65534 that offers its own memfd with the real
# protocol (tests/workloads/regoffer) cannot connect; with the socket made
# 0666 by the test, it connects, and the daemon refuses it by its peer
# credentials (SO_PEERCRED), saying so in lazy.log, without taking the
# object. The real restore afterwards works, and once the daemon has
# finished the socket file is gone.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"

lz_h_require lazy
command -v setpriv >/dev/null || lz_skip "no setpriv (util-linux) to run a process as uid 65534"
W=$(lz_workdir)
D=$W/reg
S=$D/lazyshm.sock

# stranger: regoffer as uid 65534; its output in OUT, exit status in RC, pid in SP
stranger() {
	setpriv --reuid 65534 --regid 65534 --clear-groups "$TBIN/regoffer" --dir "$D" --timeout 10 >"$D/regoffer.out" 2>&1 &
	SP=$!
	wait $SP
	RC=$?
	OUT=$(cat "$D/regoffer.out")
}

lz_h_prepare "$D" --kinds memfd --size-mb 16 --holes --children 1
chmod 0755 "$D"
"$CRIU" lazy-pages -D "$D" --libdir "$LIBDIR" -v4 -o lazy.log -d --pidfile "$D/lazy.pid" ||
	lz_fail "criu lazy-pages failed: $(tail -5 "$D/lazy.log")"
lz_track_pid "$(cat "$D/lazy.pid")"
[ -S "$S" ] || lz_fail "no registry socket at $S"
[ "$(stat -c '%a %u' "$S")" = "600 0" ] || lz_fail "the registry socket is $(stat -c 'mode %a, uid %u' "$S"), not mode 600 of root"

stranger
[ $RC = 3 ] && echo "$OUT" | grep -q "Permission denied" ||
	lz_fail "uid 65534 reached a socket of mode 0600: exit $RC: $OUT"
lz_log "mode 0600: uid 65534 cannot connect: $OUT"

chmod 0666 "$S" || lz_fail "cannot chmod the socket"
stranger
[ $RC = 4 ] || lz_fail "the daemon did not drop the stranger's offer: exit $RC: $OUT"
grep -qE "refused a connection from pid $SP of uid 65534" "$D/lazy.log" ||
	lz_fail "lazy.log does not say that pid $SP of uid 65534 was refused: $(grep -E 'registry' "$D/lazy.log" | tail -2)"
grep -qE "lazyshm: object .* 0x7777:" "$D/lazy.log" && lz_fail "the daemon took the stranger's memfd"
lz_log "mode 0666: the daemon refused uid 65534 by its credentials: $OUT"
chmod 0600 "$S"

lz_criu_restore "$D" --lazy-pages || lz_fail "the real lazy restore failed after the stranger's attempts"
ROOT=$(cat "$D/restored.pid")
grep -q "deferred to the lazy-pages daemon" "$D/restore.log" || lz_fail "the memfd was not deferred to the daemon"
lz_verify_all "$D" 2 || lz_fail "restored bytes differ"
lz_lazy_done "$D" || lz_fail "the daemon did not finish cleanly"
[ ! -e "$S" ] || lz_fail "$S is left after the daemon exited"
lz_h_finish "$D" 2
lz_log "PASS"
