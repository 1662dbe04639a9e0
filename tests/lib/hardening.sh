# Helpers of the hardening tests (tests/integration/72-79 and 94, issues 13 and 11):
# one workload dumped and restored eagerly or lazily, an action during the
# lazy phase, and the two acceptable ends: correct, or the tree stopped
# without having run on wrong memory. Source it after common.sh.

# lz_h_require [lazy]: skip unless root, with the patched CRIU and the plugin
# built; with lazy, unless shmem and hugetlbfs can be restored lazily.
lz_h_require() {
	lz_require_root
	lz_require_criu
	[ "${1:-}" != lazy ] || "$CRIU" check --feature lazy_shmem >/dev/null 2>&1 ||
		lz_skip "no minor faults on shmem/hugetlbfs here"
}

# lz_h_prepare DIR ARGS...: start memkinds in DIR with ARGS (lz_start_memkinds),
# then dump it (lz_dump_gone). Or fail.
lz_h_prepare() {
	local dir=$1
	shift
	mkdir -p "$dir"
	lz_start_memkinds "$dir" "$@" || lz_fail "$(basename "$dir"): workload did not start"
	lz_dump_gone "$dir" "$LZ_WP" || lz_fail "$(basename "$dir"): dump failed"
}

# lz_h_restore DIR eager|lazy [DELAY_MS]: restore DIR eagerly (the plugin
# loaded, no --lazy-pages) or lazily with the prefetch thread holding each
# chunk DELAY_MS (LAZYSHM_TEST_FILL_DELAY_MS), so that the lazy phase lasts.
# ROOT = the restored root. Or fail.
lz_h_restore() {
	local dir=$1 mode=$2 delay=${3:-0}
	if [ "$mode" = eager ]; then
		lz_criu_restore "$dir" || lz_fail "$(basename "$dir"): eager restore failed"
	else
		LAZYSHM_TEST_FILL_DELAY_MS=$delay lz_lazy_restore "$dir" ||
			lz_fail "$(basename "$dir"): lazy restore failed"
	fi
	ROOT=$(cat "$dir/restored.pid")
}

# lz_h_usr2 DIR SECS: SIGUSR2 to the restored root (its --on-usr2 actions)
# and wait up to SECS for its result; prints the result's first line.
lz_h_usr2() {
	kill -USR2 "$ROOT" || return 1
	lz_wait_file "$1/res.usr2.0" "$2" || return 1
	head -1 "$1/res.usr2.0"
}

# lz_h_map_range PID REGEX: "start-end" of PID's first mapping whose maps
# line matches REGEX
lz_h_map_range() { grep -E "$2" "/proc/$1/maps" | head -1 | awk '{print $1}'; }

# lz_h_seals PID REGEX: the seals (F_GET_SEALS) of the object PID maps
# there, read through /proc/PID/map_files
lz_h_seals() {
	local r
	r=$(lz_h_map_range "$1" "$2")
	[ -n "$r" ] || return 1
	python3 -c 'import fcntl, os, sys; print(fcntl.fcntl(os.open(sys.argv[1], os.O_RDONLY), 1034))' \
		"/proc/$1/map_files/$r"
}

# lz_h_obj_kib PID REGEX: KiB of memory the object PID maps there has
# allocated (its st_blocks, through /proc/PID/map_files)
lz_h_obj_kib() {
	local r b
	r=$(lz_h_map_range "$1" "$2")
	[ -n "$r" ] || return 1
	b=$(stat -L -c %b "/proc/$1/map_files/$r") || return 1
	echo $((b / 2))
}

# lz_h_region DIR TASK KIND: the region line of KIND in the result of task TASK
lz_h_region() { grep "^region $3 " "$1/res.$2"; }

# lz_h_stopped DIR SECS: wait up to SECS until no process of the restored
# tree is left (DIR/ready, DIR/restored.pid and the pids in DIR/forked)
lz_h_stopped() {
	local dir=$1 t=$((${2:-10} * 10)) p left
	while [ $t -gt 0 ]; do
		left=
		for p in $(cat "$dir/ready" "$dir/restored.pid" "$dir/forked" 2>/dev/null | sort -u); do
			lz_exited "$p" || left+=" $p"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
		t=$((t - 1))
	done
	lz_log "still running:$left"
	return 1
}

# lz_h_no_wrong_bytes DIR: no task wrote a result that saw wrong bytes
lz_h_no_wrong_bytes() {
	local f
	for f in "$1"/res.*; do
		[ -e "$f" ] || continue
		! grep -q "^FAIL.* expected 0x" "$f" || {
			lz_log "a task ran on wrong memory: $(basename "$f"): $(head -1 "$f")"
			return 1
		}
	done
}

# lz_h_failstop DIR SECS: the fail-stop outcome: the daemon stopped the
# restored tree within SECS, saying so, and no task reported wrong bytes
lz_h_failstop() {
	local dir=$1
	lz_h_stopped "$dir" "$2" || return 1
	lz_h_no_wrong_bytes "$dir" || return 1
}

# lz_h_finish DIR NTASKS: the end of a correct restore: every task verifies
# again, then the tree is stopped and its root is gone. Or fail.
lz_h_finish() {
	local dir=$1 n=$2 tag=$(basename "$1")
	lz_verify_all "$dir" "$n" || lz_fail "$tag: memory differs at the end"
	lz_stop_tasks "$ROOT" $(lz_descendants "$ROOT")
	lz_wait_gone "$ROOT" 10 || lz_fail "$tag: the restored root did not exit"
}

# lz_h_deferred_or_eager DIR WHAT: restore.log says the plugin deferred an
# object, or restored it eagerly with a reason; prints which. Or fail.
lz_h_deferred_or_eager() {
	local dir=$1 what=$2 line
	line=$(grep -E "lazyshm: .*(deferred to the lazy-pages daemon|restored eagerly: )" "$dir/restore.log" | head -1)
	[ -n "$line" ] || lz_fail "$what: restore.log says neither deferred nor eagerly restored (with a reason)"
	echo "${line#*lazyshm: }"
}

# lz_h_shared_maps PID BYTES: "start-end" of every MAP_SHARED mapping of PID
# that is exactly BYTES long, one a line
lz_h_shared_maps() {
	local r p
	while read -r r p _; do
		[ "${p:3:1}" = s ] || continue
		[ $((0x${r#*-} - 0x${r%-*})) -eq "$2" ] && echo "$r"
	done <"/proc/$1/maps"
}

# lz_h_kib_at PID RANGE: KiB of memory the object PID maps at RANGE has
# allocated (st_blocks through /proc/PID/map_files)
lz_h_kib_at() {
	local b
	b=$(stat -L -c %b "/proc/$1/map_files/$2") || return 1
	echo $((b / 2))
}

# lz_h_lazy_restore_fg DIR [DELAY_MS]: like lz_h_restore DIR lazy, with the
# lazy-pages daemon a child of the test (not daemonized), so that its exit
# status can be had: LZ_LAZY_PID (also in DIR/lazy.pid). ROOT = the
# restored root. Or fail.
lz_h_lazy_restore_fg() {
	local dir=$1 delay=${2:-0} t
	LAZYSHM_TEST_FILL_DELAY_MS=$delay "$CRIU" lazy-pages -D "$dir" --libdir "$LIBDIR" -v4 -o lazy.log \
		</dev/null >"$dir/lazy.out" 2>&1 &
	LZ_LAZY_PID=$!
	echo "$LZ_LAZY_PID" >"$dir/lazy.pid"
	lz_track_pid "$LZ_LAZY_PID"
	# serving once its plugin's registry and its own socket are there
	for ((t = 100; t > 0; t--)); do
		[ -S "$dir/lazy-pages.socket" ] && grep -q "object registry listening" "$dir/lazy.log" 2>/dev/null && break
		kill -0 "$LZ_LAZY_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ $t -gt 0 ] && kill -0 "$LZ_LAZY_PID" 2>/dev/null ||
		lz_fail "$(basename "$dir"): criu lazy-pages did not start: $(tail -5 "$dir/lazy.log")"
	LAZYSHM_TEST_FILL_DELAY_MS=$delay lz_criu_restore "$dir" --lazy-pages ||
		lz_fail "$(basename "$dir"): lazy restore failed"
	ROOT=$(cat "$dir/restored.pid")
}

# lz_h_wait_child PID SECS: wait up to SECS for the test's child PID to
# exit; its exit status in LZ_STATUS. 1 if it is still running.
lz_h_wait_child() {
	local t=$((${2:-10} * 10))
	while ! lz_exited "$1" && [ $t -gt 0 ]; do
		sleep 0.1
		t=$((t - 1))
	done
	lz_exited "$1" || return 1
	wait "$1"
	LZ_STATUS=$?
}
