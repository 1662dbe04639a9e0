#!/usr/bin/env bash
# Issue 13: more than 16 deferred CONTINUEs. A UFFDIO_CONTINUE into a task
# whose mm is changing (an event of it not read yet) fails with EAGAIN and
# must be retried; the daemon keeps 16 of them per task. Right after the
# lazy restore (the prefetch thread slowed down), the root runs 64 threads
# that fault in every page of a 64 MiB memfd while one more thread keeps
# changing the mm: MADV_DONTNEED of a page it has read (a REMOVE event),
# mprotect back and forth, mmap and munmap (memkinds churn). Every faulting
# thread must be served: the action ends, every task reports within its
# timeout with every byte right, and the daemon finishes. A fault whose
# CONTINUE was dropped would leave its thread blocked until the prefetch
# thread happens to map that page, far beyond the timeout.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"

lz_h_require lazy
W=$(lz_workdir)
THREADS=${THREADS:-64}

D=$W/churn
lz_h_prepare "$D" --kinds memfd,anon --size-mb 64 --children 1 --on-usr2 "churn:memfd:$THREADS,churn:anon:$THREADS"
# 64 chunks of 1 MiB per object held 2 s each: the prefetch thread alone would need minutes
lz_h_restore "$D" lazy 2000
st=$(lz_h_usr2 "$D" 30) || {
	lz_diag_lazy "$D"
	lz_fail "the faulting threads were not all served within 30 s (hung)"
}
[ "$st" = "OK actions" ] || lz_fail "during the churn: $(cat "$D/res.usr2.0")"
lz_log "$(tail -n +2 "$D/res.usr2.0" | tr '\n' ';')"
lz_verify_all "$D" 2 || {
	lz_diag_lazy "$D"
	lz_fail "a task did not verify its memory in time"
}
n=$(grep -c "too many deferred CONTINUEs" "$D/lazy.log")
lz_log "lazy.log: $n 'too many deferred CONTINUEs' warnings"
lz_lazy_done "$D" || lz_fail "the daemon did not finish cleanly"
deferred=$(lz_stats "$D" '.continues_deferred // empty')
[ -n "$deferred" ] || deferred=$n
lz_log "deferred CONTINUEs (stats continues_deferred, or today's overflow warnings): $deferred"
[ "$deferred" -gt 16 ] ||
	lz_fail "the mm changes deferred only $deferred CONTINUEs: the case of more than 16 was not exercised"
lz_h_finish "$D" 2
lz_log "PASS: every fault was served while CONTINUEs were deferred"
