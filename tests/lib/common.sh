# Shared helpers for lazyshm integration tests. Source it from a test:
#   . "$(dirname "$0")/../lib/common.sh"
#
# Every resource a test takes (hugepages, mounts, SysV segments, /dev/shm
# files, processes) is registered here and given back by an EXIT trap, also
# when the test fails or is interrupted.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
CRIU=${CRIU:-$BUILD/criu-4.1.1/criu/criu}
LIBDIR=$BUILD/lib
TBIN=$BUILD/tests/bin
TEST_NAME=$(basename "$0" .sh)

_LZ_CLEANUPS=()
_LZ_PIDS=()

lz_log() { echo "[$TEST_NAME] $*"; }
lz_skip() { echo "[$TEST_NAME] SKIP: $*"; exit 77; }
lz_fail() { echo "[$TEST_NAME] FAIL: $*"; exit 1; }

# lz_skip_part REASON: the test goes on but skips a part of its work for
# REASON (a true one, printed). The script then closes with "1 passed, 0
# failed, N skipped" (or "0 passed, 1 failed, N skipped"), N the parts
# skipped, and tests/run.sh lists the reasons. Not from a $(...) subshell:
# the count would be lost.
_LZ_SKIPPED_PARTS=0
lz_skip_part() {
	echo "[$TEST_NAME] SKIP PART: $*"
	_LZ_SKIPPED_PARTS=$((_LZ_SKIPPED_PARTS + 1))
}

# lz_lazy_ran: this test saw a lazy restore through to its end (the daemon
# served the restored tasks' memory, or was killed mid-way as the test
# meant it to be). tests/run.sh fails a run in which no test did.
LZ_LAZY_MARKER=${LZ_LAZY_MARKER:-$BUILD/test-logs/lazy-restores}
lz_lazy_ran() {
	mkdir -p "$(dirname "$LZ_LAZY_MARKER")" && echo "$TEST_NAME" >>"$LZ_LAZY_MARKER"
}

# Run "$@" at exit, in reverse order of registration.
lz_on_exit() { _LZ_CLEANUPS+=("$*"); }

_lz_cleanup() {
	local rc=$? i p
	for p in "${_LZ_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	for ((i = ${#_LZ_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${_LZ_CLEANUPS[$i]}" >/dev/null 2>&1 || true
	done
	if [ "$_LZ_SKIPPED_PARTS" -gt 0 ] && [ "$rc" -ne 77 ]; then
		[ "$rc" -eq 0 ] && echo "1 passed, 0 failed, $_LZ_SKIPPED_PARTS skipped" ||
			echo "0 passed, 1 failed, $_LZ_SKIPPED_PARTS skipped"
	fi
	exit $rc
}
trap _lz_cleanup EXIT
trap 'exit 130' INT TERM

# Kill this pid (and wait for it) at exit.
lz_track_pid() { _LZ_PIDS+=("$1"); }

lz_require_root() {
	[ "$(id -u)" -eq 0 ] || lz_skip "needs root (criu dump/restore and hugepages)"
}

lz_require_criu() {
	[ -x "$CRIU" ] || lz_fail "patched CRIU not built at $CRIU (run make criu)"
	[ -f "$LIBDIR/lazyshm_plugin.so" ] || lz_fail "plugin not built at $LIBDIR/lazyshm_plugin.so"
}

# A fresh work directory under build/, removed at exit unless KEEP=1.
# Tests call it as W=$(lz_workdir), a subshell whose lz_on_exit would be
# lost: the removal is registered here, first, so it runs last (after the
# unmounts of anything mounted inside it). The removal never crosses into
# a mount left behind (a killed criu leaves its cgroup yard, and rm -rf
# there would rmdir cgroups).
# (LZ_WORK_BASE: where tests/run.sh puts them when others cannot reach build/)
LZ_WORK_BASE=${LZ_WORK_BASE:-$BUILD/test-work}
lz_workdir() {
	local d=$LZ_WORK_BASE/$TEST_NAME
	rm -rf --one-file-system "$d"
	mkdir -p "$d"
	echo "$d"
}
[ "${KEEP:-0}" = 1 ] || lz_on_exit "rm -rf --one-file-system '$LZ_WORK_BASE/$TEST_NAME'"

_hp_file() {
	case "$1" in
	2M | 2048) echo /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages ;;
	1G | 1048576) echo /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages ;;
	*) return 1 ;;
	esac
}

_hp_free() { cat "$(dirname "$(_hp_file "$1")")/free_hugepages"; }

# lz_reserve_hugepages COUNT [2M|1G]: make room for a workload that maps
# COUNT hugepages of that size and for its dump: `criu dump` reads each
# hugetlb object through a private mapping, which reserves as many pages
# again, and CRIU's kernel probe wants one free page of each size. So
# 2*COUNT+1 pages must be available (free and not reserved by anyone).
# The old pool size comes back at exit. Returns 1 if the kernel could not
# provide them (the caller decides: skip or fail).
lz_reserve_hugepages() {
	lz_reserve_hugepages_avail $((2 * $1 + 1)) "${2:-2M}"
}

# lz_mount_hugetlbfs DIR [2M|1G]: mount hugetlbfs at DIR, unmount at exit.
lz_mount_hugetlbfs() {
	local dir=$1 sz=${2:-2M}
	mkdir -p "$dir"
	mount -t hugetlbfs -o pagesize="$sz" none "$dir" || return 1
	lz_on_exit "umount -l '$dir'; rmdir '$dir'"
}

# Remove, at exit, every SysV shm segment whose key is in [BASE, BASE+255].
lz_sysv_cleanup_keys() {
	local base=$1
	lz_on_exit "_lz_rm_sysv $base"
}
_lz_rm_sysv() {
	local base=$1 key id
	while read -r key id _; do
		case "$key" in 0x*) ;; *) continue ;; esac
		if [ $((key)) -ge $((base)) ] && [ $((key)) -le $((base + 255)) ]; then
			ipcrm -m "$id"
		fi
	done < <(ipcs -m | tail -n +4)
}

# criu wrappers: always our binary, our plugin, verbose logs in the dir.
lz_criu_dump() {
	local dir=$1 pid=$2
	shift 2
	"$CRIU" dump -D "$dir" -t "$pid" --libdir "$LIBDIR" -v4 -o dump.log \
		--shell-job "$@" || {
		lz_log "criu dump failed; log tail:"
		tail -20 "$dir/dump.log"
		return 1
	}
}

lz_criu_restore() {
	local dir=$1
	shift
	"$CRIU" restore -D "$dir" --libdir "$LIBDIR" -v4 -o restore.log \
		--shell-job -d --pidfile "$dir/restored.pid" "$@" || {
		lz_log "criu restore failed; log tail:"
		tail -20 "$dir/restore.log"
		return 1
	}
	lz_track_pid "$(cat "$dir/restored.pid")"
}

# lz_wait_file FILE SECONDS: wait for FILE to appear.
lz_wait_file() {
	local f=$1 t=$((${2:-10} * 10))
	while [ ! -e "$f" ] && [ $t -gt 0 ]; do
		sleep 0.1
		t=$((t - 1))
	done
	[ -e "$f" ]
}

# lz_wait_gone PID SECONDS: wait for the pid to be free. A zombie still holds
# its pid (a restore of that pid would fail), so this waits until it has
# been reaped; orphans are reaped by PID 1, which here takes ~2 s.
lz_wait_gone() {
	local p=$1 t=$((${2:-10} * 10))
	while kill -0 "$p" 2>/dev/null && [ $t -gt 0 ]; do
		sleep 0.1
		t=$((t - 1))
	done
	! kill -0 "$p" 2>/dev/null
}

# True once PID has exited (gone, or a zombie nobody reaped yet).
lz_exited() {
	local st
	st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

# lz_stop_tasks PID...: SIGTERM, up to 5 s to exit, then SIGKILL.
lz_stop_tasks() {
	local p t
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		for ((t = 50; t > 0; t--)); do
			lz_exited "$p" && break
			sleep 0.1
		done
		lz_exited "$p" || {
			lz_log "pid $p ignored SIGTERM, killing it"
			kill -KILL "$p" 2>/dev/null
		}
	done
}

# lz_lazy_restore DIR [restore args]: start `criu lazy-pages` with the
# plugin, then `criu restore --lazy-pages`. The daemon's pid is in
# DIR/lazy.pid; it exits by itself once every page is resident.
lz_lazy_restore() {
	local dir=$1
	shift
	"$CRIU" lazy-pages -D "$dir" --libdir "$LIBDIR" -v4 -o lazy.log -d --pidfile "$dir/lazy.pid" || {
		lz_log "criu lazy-pages failed:"
		tail -20 "$dir/lazy.log"
		return 1
	}
	lz_track_pid "$(cat "$dir/lazy.pid")"
	lz_criu_restore "$dir" --lazy-pages "$@"
}

# lz_verify_all DIR NTASKS [ROOT]: ask every restored task to verify its
# memory (SIGUSR1 to the tree) and check that each reported OK. ROOT is the
# root of the tree, DIR/restored.pid by default.
lz_verify_all() {
	local dir=$1 n=$2 root=${3:-} i f
	[ -n "$root" ] || root=$(cat "$dir/restored.pid")
	rm -f "$dir"/res.*
	pkill -USR1 -P "$root" 2>/dev/null
	kill -USR1 "$root" || return 1
	for ((i = 0; i < n; i++)); do
		f=$dir/res.$i
		lz_wait_file "$f" 60 || { lz_log "task $i did not report"; return 1; }
		read -r st bytes _ <"$f"
		[ "$st" = OK ] || { lz_log "task $i: $(head -1 "$f")"; return 1; }
		lz_log "task $i verified $bytes bytes: $(tail -n +2 "$f" | tr '\n' ';')"
	done
}

# lz_diag_lazy DIR: what the daemon and the restored tasks are doing
lz_diag_lazy() {
	local dir=$1 p
	p=$(cat "$dir/lazy.pid" 2>/dev/null)
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		lz_log "lazy-pages daemon $p is alive: $(cat /proc/"$p"/wchan 2>/dev/null)"
	else
		lz_log "lazy-pages daemon is gone"
	fi
	for p in $(cat "$dir/restored.pid" 2>/dev/null) $(pgrep -P "$(cat "$dir/restored.pid" 2>/dev/null)" 2>/dev/null); do
		lz_log "task $p: $(ps -o stat=,wchan:32= -p "$p" 2>/dev/null)"
		cat /proc/"$p"/task/*/stack 2>/dev/null | head -8
	done
	grep -E "Error|lazyshm: (summary|every)" "$dir/lazy.log" | grep -v hook | tail -15
	[ -n "${HOLD:-}" ] && sleep "$HOLD"
}

# ---- helpers of the lazy-phase correctness tests (41-49) ----

# Every descendant of PID, depth first (not PID itself).
lz_descendants() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		echo "$c"
		lz_descendants "$c"
	done
}

# Kill, at exit, the tasks listed in FILE (one pid a line) with their
# descendants: the workload before its dump, or a restored tree. Then wait
# (up to 5 s) until they have exited, so that the cleanups after this one
# find their mounts and hugepages released.
_lz_kill_listed() {
	local p t all=()
	[ -f "$1" ] || return 0
	for p in $(cat "$1"); do
		all+=($(lz_descendants "$p") "$p")
	done
	kill -9 "${all[@]}" 2>/dev/null
	for p in "${all[@]}"; do
		for ((t = 50; t > 0; t--)); do
			lz_exited "$p" && break
			sleep 0.1
		done
	done
}
lz_kill_listed_at_exit() { lz_on_exit "_lz_kill_listed '$1'"; }

# lz_start_memkinds DIR ARGS...: start memkinds in its own session and IPC
# namespace with --ready DIR/ready --result DIR/res, wait until it is set
# up; its pid is in LZ_WP. It and its children are killed at exit, and so
# is whatever tree is restored into DIR. If the array LZ_WORKLOAD_PREFIX is
# set, memkinds runs under that command (e.g. setpriv --reuid=...).
LZ_WORKLOAD_PREFIX=()
lz_start_memkinds() {
	local dir=$1
	shift
	lz_kill_listed_at_exit "$dir/ready"
	lz_kill_listed_at_exit "$dir/restored.pid"
	setsid unshare --ipc ${LZ_WORKLOAD_PREFIX[@]+"${LZ_WORKLOAD_PREFIX[@]}"} "$TBIN/memkinds" "$@" \
		--ready "$dir/ready" --result "$dir/res" >"$dir/workload.log" 2>&1 </dev/null &
	LZ_WP=$!
	disown "$LZ_WP"
	local t
	for ((t = 600; t > 0; t--)); do
		[ -e "$dir/ready" ] && return 0
		lz_exited "$LZ_WP" && break
		sleep 0.1
	done
	lz_log "workload did not start: $(cat "$dir/workload.log")"
	return 1
}

# lz_dump_gone DIR PID: dump the tree, then wait until every dumped pid
# (DIR/ready) is free again, so that its memory is back.
lz_dump_gone() {
	local dir=$1 pid=$2 p
	lz_criu_dump "$dir" "$pid" || return 1
	for p in $(cat "$dir/ready"); do
		lz_wait_gone "$p" 10 || {
			lz_log "dumped task $p still exists"
			return 1
		}
	done
}

# lz_signal_tree DIR SIG: send SIG to the restored root and its descendants.
lz_signal_tree() {
	local root
	root=$(cat "$1/restored.pid") || return 1
	kill -"$2" $(lz_descendants "$root") "$root"
}

# lz_tree_alive DIR: print the pids of the restored tree still running.
lz_tree_alive() {
	local p
	for p in $(cat "$1/ready" "$1/restored.pid" 2>/dev/null | sort -u); do
		lz_exited "$p" || echo "$p"
	done
}

# lz_wait_results DIR SUFFIX N SECONDS: wait for DIR/res.SUFFIX0..N-1 and
# check that each starts with OK or WROTE; prints the first bad one.
lz_wait_results() {
	local dir=$1 sfx=$2 n=$3 secs=$4 i f st
	for ((i = 0; i < n; i++)); do
		f=$dir/res.$sfx$i
		lz_wait_file "$f" "$secs" || {
			lz_log "task $i wrote no $(basename "$f")"
			return 1
		}
		read -r st _ <"$f"
		case $st in
		OK | WROTE) ;;
		*)
			lz_log "task $i: $(head -1 "$f")"
			return 1
			;;
		esac
	done
}

# lz_stats DIR JQ: evaluate JQ on DIR/lazyshm-stats.json
lz_stats() { jq -r "$2" "$1/lazyshm-stats.json"; }

# lz_wait_hugepages N SIZE SECONDS: wait until N hugepages of SIZE are free
# (pages of a dumped tree are given back shortly after it is reaped).
lz_wait_hugepages() {
	local n=$1 sz=$2 t=$((${3:-10} * 10))
	while [ "$(_hp_free "$sz")" -lt "$n" ] && [ $t -gt 0 ]; do
		sleep 0.1
		t=$((t - 1))
	done
	[ "$(_hp_free "$sz")" -ge "$n" ]
}

# lz_lazy_done DIR: the checks every successful lazy restore must pass:
# the daemon exits by itself, at full residency, and wrote its stats. Then
# the test counts as one that completed a lazy restore (lz_lazy_ran).
lz_lazy_done() {
	local dir=$1
	lz_wait_gone "$(cat "$dir/lazy.pid")" 60 || {
		lz_diag_lazy "$dir"
		lz_log "lazy-pages daemon did not finish"
		return 1
	}
	grep -q "every lazily restored page is populated" "$dir/lazy.log" || {
		lz_log "daemon did not reach full residency: $(grep -E 'Error|lazyshm' "$dir/lazy.log" | tail -3)"
		return 1
	}
	[ -s "$dir/lazyshm-stats.json" ] || {
		lz_log "no lazyshm-stats.json"
		return 1
	}
	# the daemon must have released its guardian, not died on the way out
	! grep -q "the lazy-pages daemon is gone before every page was restored" "$dir/lazy.log" || {
		lz_log "the daemon died after full residency: its guardian stopped the tree"
		return 1
	}
	lz_lazy_ran
}

# Hugepages that a new mapping can get: free minus those other mappings
# have reserved but not touched yet (free_hugepages counts those).
lz_hp_avail() {
	local d
	d=$(dirname "$(_hp_file "$1")") || return 1
	echo $(($(cat "$d/free_hugepages") - $(cat "$d/resv_hugepages")))
}

# lz_reserve_hugepages_avail COUNT [2M|1G]: like lz_reserve_hugepages, but
# COUNT pages must be available to a new mapping (lz_hp_avail), not only
# free: concurrent tests' reserved pages count as free. The old pool size
# comes back at exit.
lz_reserve_hugepages_avail() {
	local n=$1 sz=${2:-2M} f old avail want
	f=$(_hp_file "$sz") || return 1
	[ -w "$f" ] || return 1
	avail=$(lz_hp_avail "$sz")
	[ "$avail" -ge "$n" ] && return 0
	old=$(cat "$f")
	want=$((old + n - avail))
	lz_on_exit "echo $old > $f"
	echo "$want" >"$f" 2>/dev/null
	avail=$(lz_hp_avail "$sz")
	[ "$avail" -ge "$n" ] && return 0
	# free memory is there but fragmented (a full page cache): drop the
	# clean page cache and compact, then ask again
	lz_log "only $avail $sz hugepages available: dropping the page cache and compacting memory, then retrying"
	sync
	echo 1 >/proc/sys/vm/drop_caches 2>/dev/null
	echo 1 >/proc/sys/vm/compact_memory 2>/dev/null
	echo "$want" >"$f" 2>/dev/null
	avail=$(lz_hp_avail "$sz")
	[ "$avail" -ge "$n" ] && return 0
	lz_log "only $avail $sz hugepages available after asking for $want in total"
	return 1
}

# ---- helpers of the file tests (61-67) ----

# lz_mount_tmpfs DIR [SIZE]: mount a private tmpfs at DIR, unmount at exit.
lz_mount_tmpfs() {
	local dir=$1 sz=${2:-512m}
	mkdir -p "$dir"
	mount -t tmpfs -o size="$sz",mode=0700 lazyshm-test "$dir" || return 1
	lz_on_exit "umount -l '$dir'; rmdir '$dir'"
}

# lz_re STRING: STRING as an extended regex that matches only itself
lz_re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }

# lz_file_deferred DIR PATH BYTES: DIR/restore.log has the plugin's line
#   file PATH (<kind>, BYTES bytes) deferred to the lazy-pages daemon
# (PATH with or without its leading slash and a " (deleted)" suffix)
lz_file_deferred() {
	grep -qE "file /?$(lz_re "${2#/}")( \(deleted\))? \([^,)]*, $3 bytes\) deferred to the lazy-pages daemon" \
		"$1/restore.log"
}

# lz_maps PID PATH: the lines of /proc/PID/maps that map PATH (also as
# "PATH (deleted)")
lz_maps() { grep -E " $(lz_re "$2")( \(deleted\))?\$" "/proc/$1/maps"; }

# lz_maps_inode PID PATH: "dev ino" of PID's first mapping of PATH
lz_maps_inode() { lz_maps "$1" "$2" | head -1 | awk '{print $4, $5}'; }

# lz_maps_dev PID PATH: the device of PID's first mapping of PATH, as
# `mountpoint -d` prints it (decimal major:minor)
lz_maps_dev() {
	local d
	d=$(lz_maps "$1" "$2" | head -1 | awk '{print $4}') || return 1
	[ -n "$d" ] && printf '%d:%d\n' "0x${d%%:*}" "0x${d##*:}"
}

# lz_stats_kind DIR KIND: how many objects of KIND the daemon served
lz_stats_kind() { lz_stats "$1" "[.objects[] | select(.kind == \"$2\")] | length"; }

# lz_check_filled_once DIR KIND: every object of KIND was filled exactly
# once per page (fault + prefetch == pages) and nothing was dropped
lz_check_filled_once() {
	local bad
	bad=$(lz_stats "$1" "[.objects[] | select(.kind == \"$2\") |
		select(.filled_fault + .filled_prefetch + .holes != .pages or .removed != 0)] | length")
	[ "$bad" = 0 ] || {
		lz_log "$2 not filled exactly once: $(lz_stats "$1" '[.objects[] | {kind, pages, filled_fault, filled_prefetch, removed}]' | jq -c .)"
		return 1
	}
}

# The object lines of `lazyshm-img show` for the file PATH (in DIR/img-show.txt)
_lz_img_name_re() { echo "\"/?$(lz_re "${1#/}")( \(deleted\))?\""; }

# lz_img_lists DIR PATH: `lazyshm-img show DIR` (kept in DIR/img-show.txt)
# lists an object named PATH
lz_img_lists() {
	"$BUILD/bin/lazyshm-img" show "$1" >"$1/img-show.txt" 2>&1 || {
		lz_log "lazyshm-img show failed: $(head -3 "$1/img-show.txt")"
		return 1
	}
	grep -qE "$(_lz_img_name_re "$2")" "$1/img-show.txt" || {
		lz_log "lazyshm-img show lists no object named $2:"
		cat "$1/img-show.txt" | grep -v '^  page [0-9]' | head -20
		return 1
	}
}

# lz_img_count DIR PATH: how many objects of DIR/img-show.txt are named PATH
lz_img_count() { grep -cE "$(_lz_img_name_re "$2")" "$1/img-show.txt"; }

# lz_img_data_pages DIR PATH: the data pages of the object named PATH, from
# DIR/img-show.txt ("  page size 2M, size N bytes (P pages), D with data ...")
lz_img_data_pages() {
	grep -A1 -E "$(_lz_img_name_re "$2")" "$1/img-show.txt" | sed -n 's/.* pages), \([0-9]*\) with data.*/\1/p' | head -1
}

# ---- helpers of the restore refusal tests (69; 66 does the same inline) ----

# lz_no_task_ran DIR: after a failed restore into DIR, no task of the
# dumped tree (DIR/ready) is alive and none wrote a result file
lz_no_task_ran() {
	local dir=$1 alive
	sleep 0.5
	alive=$(lz_tree_alive "$dir")
	[ -z "$alive" ] || {
		lz_log "restored tasks run after a failed restore: $alive"
		return 1
	}
	! ls "$dir"/res.* >/dev/null 2>&1 || {
		lz_log "a task resumed and wrote $(ls "$dir"/res.* | head -1)"
		return 1
	}
}

# lz_restore_reset DIR TAG: make DIR ready for another restore after a
# failed one: kill the lazy-pages daemon of that attempt (DIR/lazy.pid) and
# wait until it is gone, keep its logs as DIR/TAG-restore.log and
# DIR/TAG-lazy.log, remove the pid files
lz_restore_reset() {
	local dir=$1 tag=$2 p f
	p=$(cat "$dir/lazy.pid" 2>/dev/null)
	if [ -n "$p" ]; then
		kill -9 "$p" 2>/dev/null && lz_log "killed the lazy-pages daemon $p of the failed attempt"
		lz_wait_gone "$p" 10 || {
			lz_log "the lazy-pages daemon $p of the failed attempt does not exit"
			return 1
		}
	fi
	for f in restore.log lazy.log; do
		[ ! -e "$dir/$f" ] || mv "$dir/$f" "$dir/$tag-$f"
	done
	rm -f "$dir/lazy.pid" "$dir/restored.pid"
}
