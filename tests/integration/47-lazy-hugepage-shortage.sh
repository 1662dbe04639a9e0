#!/usr/bin/env bash
# Hugepage shortage: the dump holds N 2M hugepages (a 64 MiB huge-anon
# region, N = 32); before the restore the pool is shrunk so that only N/2
# are free. The lazy restore must fail before any task resumes: `criu
# restore` exits non-zero, no restored task is alive, and the logs name
# the object and the page size.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
N=32
lz_reserve_hugepages $N 2M || lz_skip "cannot reserve $((2 * N + 1)) available 2M hugepages"
F=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
OLD=$(cat $F)
lz_on_exit "echo $OLD > $F"

W=$(lz_workdir)
lz_start_memkinds "$W" --kinds anon,huge-anon --size-mb 16 --huge-mb $((N * 2)) --children 1 ||
	lz_fail "workload did not start"
lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"
lz_wait_hugepages $N 2M 10 || lz_fail "the dumped tree's hugepages did not come back"

# shrink the pool: concurrent tests share it, so keep this window short
nr=$(cat $F) free=$(_hp_free 2M)
echo $((nr - (free - N / 2))) >$F
free=$(_hp_free 2M)
lz_log "pool shrunk to $(cat $F) pages, $free free, the dump needs $N"
if [ "$free" -ge $N ]; then
	echo "$OLD" >$F
	lz_fail "could not shrink the free hugepages below $N"
fi
# not in a pipeline: lz_lazy_restore must register the daemon for cleanup
lz_lazy_restore "$W" >"$W/restore.out" 2>&1
rc=$?
echo "$OLD" >$F
[ "$rc" != 0 ] || lz_fail "the restore succeeded with $free of $N hugepages free"
sleep 0.5
[ -z "$(lz_tree_alive "$W")" ] || lz_fail "restored tasks run after a failed restore: $(lz_tree_alive "$W")"
[ ! -e "$W/res.0" ] || lz_fail "a task resumed"
lz_log "criu restore exited with $rc, no task alive; messages:"
grep -hE "Error|lazyshm: .*(hugepage|huge page|2097152|2048 ?k)" "$W/restore.log" "$W/lazy.log" | grep -v "hook" | head -8 |
	tee "$W/messages"
# object (kind or shmid) and page size, in one line
grep -qE "(hugetlb|anon|shmid|0x[0-9a-f]+).*(2 ?MiB|2048 ?kB|2097152)|(2 ?MiB|2048 ?kB|2097152).*(hugetlb|shmid|0x[0-9a-f]+)" \
	"$W/messages" || lz_fail "no log line names the object and the page size"
lz_log "PASS"
