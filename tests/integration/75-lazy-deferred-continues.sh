#!/usr/bin/env bash
# Issue 13: more than 16 deferred CONTINUEs. A UFFDIO_CONTINUE into a task
# whose mm is changing (an event of it not read yet) fails with EAGAIN and
# must be retried later (the daemon used to keep 16 per task and drop the
# rest, leaving their threads blocked). Right after the lazy restore of a
# 128 MiB memfd (the prefetch thread holding each chunk 700 ms: a fault on
# it stalls the daemon, while faults and the events pile up), the root runs
# 64 threads that fault in every page while one more thread keeps changing
# the mm: MADV_DONTNEED of a page it has read (a REMOVE event), mprotect
# back and forth, mmap and munmap (memkinds churn). Every faulting thread
# must be served: the action ends within 60 s (the prefetch thread alone
# needs more than 90 s, so a thread whose mapping was lost and that only
# the prefetch thread's range CONTINUE would wake is caught), every task
# reports with every byte right, and the daemon finishes. The EAGAINs are counted
# by strace on the daemon (its failed ioctls), so that the test knows the
# case was met, whatever the daemon logs.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"

lz_h_require lazy
command -v strace >/dev/null || lz_skip "no strace to count the CONTINUEs refused with EAGAIN"
W=$(lz_workdir)
THREADS=${THREADS:-64} DELAY=${DELAY:-700} # for diagnosis; WAIT=seconds too

D=$W/churn
lz_h_prepare "$D" --kinds memfd --size-mb 128 --children 1 --on-usr2 "churn:memfd:$THREADS"
lz_h_restore "$D" lazy "$DELAY"
strace -f -qq -e trace=ioctl -e status=failed -o "$D/strace.out" -p "$(cat "$D/lazy.pid")" 2>"$D/strace.err" &
ST=$!
lz_track_pid $ST
sleep 1 # attached
st=$(lz_h_usr2 "$D" "${WAIT:-60}") || {
	lz_diag_lazy "$D"
	lz_fail "the faulting threads were not all served within ${WAIT:-60} s (hung)"
}
kill -INT $ST 2>/dev/null
wait $ST 2>/dev/null
[ "$st" = "OK actions" ] || lz_fail "during the churn: $(cat "$D/res.usr2.0")"
lz_log "$(tail -n +2 "$D/res.usr2.0" | tr '\n' ';')"
eagain=$(grep -c "UFFDIO_CONTINUE.* EAGAIN" "$D/strace.out")
lz_log "CONTINUEs refused with EAGAIN during the churn: $eagain; lazy.log: $(grep -c 'too many deferred CONTINUEs' "$D/lazy.log") 'too many deferred' warnings"
[ "$eagain" -gt 16 ] || lz_fail "only $eagain CONTINUEs were refused with EAGAIN: the case of more than 16 was not met"
lz_verify_all "$D" 2 || {
	lz_diag_lazy "$D"
	lz_fail "a task did not verify its memory in time"
}
lz_lazy_done "$D" || lz_fail "the daemon did not finish cleanly"
lz_h_finish "$D" 2
lz_log "PASS: every fault was served while $eagain CONTINUEs were deferred"
