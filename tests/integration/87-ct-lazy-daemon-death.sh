#!/usr/bin/env bash
# A failed lazy restore kills exactly the container's tasks. The container
# has its own PID namespace (and the host's network); its workload tasks
# get PIDs P and P+1 inside (ns_last_pid, set before `runc start`). After
# the checkpoint, decoys outside the container take those very numbers on
# the host: A (host PID P, with a child of its own) and B (host PID P+1).
# Then a lazy restore (prefetch slowed down by LAZYSHM_TEST_FILL_DELAY_MS),
# the tasks start reading everything, and the lazy-pages daemon gets
# kill -9 before the content is resident. Every process of the container
# must be dead within 5 s, lazy.log must say why, no task may report a
# result computed on unrestored memory, and A, A's child and B must live
# on: a PID number from the restored namespace names a decoy on the host.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/container.sh"

ct_require
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
ct_hugepages 16 || lz_skip "cannot reserve 33 available 2M hugepages"
ct_init

# P, P+1, P+2 free on the host now, far from where PIDs are handed out
pid_max=$(cat /proc/sys/kernel/pid_max)
for ((i = 0; i < 100; i++)); do
	P=$((pid_max / 2 + RANDOM % (pid_max / 2 - 10)))
	[ ! -e /proc/$P ] && [ ! -e /proc/$((P + 1)) ] && [ ! -e /proc/$((P + 2)) ] && break
done
ct_spec --net-host -- --kinds anon,huge-anon,huge-sysv --size-mb 64 --huge-mb 16 --children 1
ct_plugin_via runc.conf
ct_start --first-pid "$P"
[ "$(tr '\n' ' ' <"$CT_IO/ready")" = "$P $((P + 1)) " ] ||
	lz_fail "the tasks have PIDs $(tr '\n' ' ' <"$CT_IO/ready")inside, not $P $((P + 1))"
ct_checkpoint

# decoy PID CMD...: run CMD in the background as host PID PID (ns_last_pid;
# other processes may take the number first: retry)
decoy() {
	local want=$1 i
	shift
	for ((i = 0; i < 50; i++)); do
		[ -e "/proc/$want" ] && break
		echo $((want - 1)) >/proc/sys/kernel/ns_last_pid
		"$@" </dev/null >/dev/null 2>&1 &
		lz_track_pid $!
		[ $! = "$want" ] && return 0
		kill -9 $! 2>/dev/null
	done
	lz_fail "cannot start a decoy as host PID $want"
}
decoy $((P + 1)) sleep 600
B=$!
decoy "$P" sh -c 'sleep 600 & wait'
A=$!
for ((i = 0; i < 50; i++)); do
	AC=$(pgrep -P "$A")
	[ -n "$AC" ] && break
	sleep 0.1
done
[ -n "$AC" ] || lz_fail "decoy A has no child"
lz_track_pid "$AC"
lz_log "decoys on the host: A $A (child $AC), B $B"

decoys_alive() {
	local p bad=""
	for p in "$A" "$AC" "$B"; do
		lz_exited "$p" && bad+=" $p"
	done
	[ -z "$bad" ] || { lz_log "decoys killed:$bad"; return 1; }
}

ct_lazy_daemon LAZYSHM_TEST_FILL_DELAY_MS=50
ct_restore --lazy-pages || {
	decoys_alive
	lz_fail "runc restore --lazy-pages failed"
}
ct_deferred 2 || lz_fail "not every shared object was deferred to the lazy-pages daemon"
ALL=$(ct_ps)
for i in 0 1; do
	kill -USR1 "$(ct_host_pid $((P + i)))" || lz_fail "cannot signal task $i"
done
kill -9 "$(cat "$CT_WORK/lazy.pid")" || lz_fail "the daemon was already gone"
for ((t = 0; t < 50; t++)); do
	alive=""
	for p in $ALL; do
		lz_exited "$p" || alive+=" $p"
	done
	[ -z "$alive" ] && break
	sleep 0.1
done
[ -z "$alive" ] || lz_fail "processes of the container survive the daemon:$alive"
lz_log "every process of the container ($(echo $ALL)) was dead $((t / 10)).$((t % 10)) s after the kill"
grep -q "every lazily restored page is populated" "$CT_WORK/lazy.log" &&
	lz_fail "the content was resident before the kill: the test proved nothing"
grep -qE "the lazy-pages daemon is gone before every page was restored: killing the [0-9]+ restored task" \
	"$CT_WORK/lazy.log" || lz_fail "lazy.log does not say why the tree was killed: $(tail -3 "$CT_WORK/lazy.log")"
for f in "$CT_IO"/res.[0-9]*; do
	[ -e "$f" ] || continue
	read -r st _ <"$f"
	[ "$st" = OK ] || lz_fail "a task ran on unrestored memory: $(head -1 "$f")"
done
decoys_alive || lz_fail "a process outside the container was killed"
lz_log "decoys A $A, its child $AC and B $B are alive"
lz_lazy_ran
g=$(sed -n 's/.*lazyshm: guardian \([0-9]*\) watches.*/\1/p' "$CT_WORK/lazy.log")
[ -z "$g" ] || lz_wait_gone "$g" 10 || lz_fail "the guardian $g did not exit"
ct_runc delete "$CT_ID" || lz_fail "runc cannot delete the dead container: $(ct_runc_log 1)"
[ -z "$(ct_cgroup_procs)" ] || lz_fail "processes left in the container's cgroup: $(ct_cgroup_procs)"
lz_log "PASS"
