#!/usr/bin/env bash
# fd access: a memfd the tasks hold open (memfd-sealed) can be read with
# pread(), which bypasses userfaultfd, so it must be restored eagerly (and
# restore.log must say why) while a memfd nobody holds is deferred. Right
# after the restore both tasks pread() the whole sealed memfd before they
# touch any mapping, and compare it byte for byte (memkinds --fd-read).
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"

W=$(lz_workdir)
lz_start_memkinds "$W" --kinds memfd-sealed,memfd --size-mb 64 --holes --children 1 --fd-read ||
	lz_fail "workload did not start"
lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"

lz_lazy_restore "$W" || lz_fail "lazy restore failed"
lz_verify_all "$W" 2 || {
	lz_diag_lazy "$W"
	lz_fail "pread() or the mappings showed wrong bytes"
}
for i in 0 1; do
	grep -q "^fdread memfd-sealed bytes 67108864 OK$" "$W/res.$i" || lz_fail "task $i did not pread the sealed memfd"
done
grep -E "memfd 0x[0-9a-f]+ restored eagerly: a task holds it open, and read\(\)/write\(\) on the descriptor bypass userfaultfd" \
	"$W/restore.log" || lz_fail "restore.log does not say why the open memfd was restored eagerly"
[ "$(grep -c 'memfd 0x[0-9a-f]* (67108864 bytes) deferred' "$W/restore.log")" = 1 ] ||
	lz_fail "the memfd nobody holds was not deferred (and only it)"
lz_lazy_done "$W" || lz_fail "the daemon did not finish cleanly"
[ "$(lz_stats "$W" '.objects | length')" = 1 ] || lz_fail "the daemon served more than the one closed memfd"
lz_verify_all "$W" 2 || lz_fail "memory differs after the daemon detached"
lz_stop_tasks "$(cat "$W/restored.pid")"
lz_log "PASS"
