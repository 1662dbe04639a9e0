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
# reports with every byte right, and the daemon finishes. The readers read
# their slices downwards, away from the prefetch the daemon sends ahead of
# a fault: they wait on the slowed prefetch thread only where they meet it
# last. The deferred CONTINUEs are counted by the daemon
# (continue_deferred in lazyshm-stats.json): the test knows the case was met.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"

lz_h_require lazy
W=$(lz_workdir)
THREADS=${THREADS:-64} DELAY=${DELAY:-700} # for diagnosis; WAIT=seconds too

D=$W/churn
lz_h_prepare "$D" --kinds memfd --size-mb 128 --children 1 --on-usr2 "churn:memfd:$THREADS"
lz_h_restore "$D" lazy "$DELAY"
st=$(lz_h_usr2 "$D" "${WAIT:-60}") || {
	lz_diag_lazy "$D"
	lz_fail "the faulting threads were not all served within ${WAIT:-60} s (hung)"
}
[ "$st" = "OK actions" ] || lz_fail "during the churn: $(cat "$D/res.usr2.0")"
lz_log "$(tail -n +2 "$D/res.usr2.0" | tr '\n' ';')"
lz_verify_all "$D" 2 || {
	lz_diag_lazy "$D"
	lz_fail "a task did not verify its memory in time"
}
lz_lazy_done "$D" || lz_fail "the daemon did not finish cleanly"
eagain=$(lz_stats "$D" .continue_deferred)
lz_log "CONTINUEs refused with EAGAIN during the churn and retried: $eagain"
[ "$eagain" -gt 16 ] || lz_fail "only $eagain CONTINUEs were refused with EAGAIN: the case of more than 16 was not met"
lz_h_finish "$D" 2
lz_log "PASS: every fault was served while $eagain CONTINUEs were deferred"
