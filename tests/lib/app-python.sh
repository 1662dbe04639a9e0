# Debian's python3 running tests/apps/pyshm.py (multiprocessing.shared_memory
# plus an anonymous MAP_SHARED buffer, a Pool of forked workers), dumped with
# LAZYSHM_FILES=all so that the plugin owns the named /dev/shm segment, the
# segment removed (as on another host), restored eagerly and lazily from the
# same images; the program checks every MiB in its workers and in a process
# that attaches the segment anew. Sourced by tests/integration/10[45]-app-python-*.sh:
#   lz_python_test [fd-lazy]
# Python holds the segment's descriptor open, so it is restored eagerly by
# default (restore.log says why) while the anonymous buffer is lazy; with
# fd-lazy the plugin's opt-in (LZ_FD_LAZY_VAR) must defer the segment too.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
. "$(dirname "${BASH_SOURCE[0]}")/apps.sh"

LZ_PY=/usr/bin/python3
LZ_PY_SHM_MB=${LZ_PY_SHM_MB:-256}
LZ_PY_ANON_MB=${LZ_PY_ANON_MB:-128}

# lz_python_start DIR: start pyshm in its own session, wait until ready
lz_python_start() {
	local dir=$1 t
	lz_kill_listed_at_exit "$dir/ready"
	lz_kill_listed_at_exit "$dir/restored.pid"
	(
		lz_app_closefds
		exec setsid "$LZ_PY" "$TOP/tests/apps/pyshm.py" "$dir" "$LZ_PY_SHM_MB" "$LZ_PY_ANON_MB" 2 \
			</dev/null >"$dir/workload.log" 2>&1
	) &
	LZ_WP=$!
	disown "$LZ_WP"
	for ((t = 600; t > 0; t--)); do
		[ -e "$dir/ready" ] && break
		lz_exited "$LZ_WP" && break
		sleep 0.1
	done
	[ -e "$dir/ready" ] || lz_fail "pyshm did not start: $(tail -5 "$dir/workload.log")"
	PY_SHM=$(cat "$dir/shm-name")
	lz_on_exit "rm -f '$PY_SHM'"
	lz_log "$(cat "$dir/workload.log")"
}

# lz_python_verify DIR TAG ROOT: pyshm (ROOT) checks its memory; PY_ANSWER_MS
lz_python_verify() {
	local dir=$1 tag=$2 root=$3 t0 st
	echo "$tag" >"$dir/req"
	t0=$(lz_now_ms)
	kill -USR1 "$root" || return 1
	lz_wait_file "$dir/res.$tag" 120 || {
		lz_log "pyshm wrote no result for $tag"
		return 1
	}
	PY_ANSWER_MS=$(($(lz_now_ms) - t0))
	read -r st _ <"$dir/res.$tag"
	lz_log "$tag: answered in $PY_ANSWER_MS ms: $(cat "$dir/res.$tag")"
	[ "$st" = OK ]
}

# _python_restore DIR MODE: restore, check, record memory as MODE_*
_python_restore() {
	local dir=$1 mode=$2 root
	rm -f "$PY_SHM"
	lz_app_restore "$dir" "$mode" || lz_fail "$mode restore of the Python tree failed"
	root=$(cat "$dir/restored.pid")
	lz_python_verify "$dir" "$mode-1" "$root" || {
		[ "$mode" = lazy ] && lz_diag_lazy "$dir"
		lz_fail "$mode restore: the Python program found its shared memory changed"
	}
	if [ "$mode" = eager ]; then LZ_ANSWER_EAGER_MS=$PY_ANSWER_MS; else LZ_ANSWER_LAZY_MS=$PY_ANSWER_MS; fi
	lz_app_mem "$root" "$mode"
}

# _python_expect_shm DIR eager|deferred: what restore.log says of the segment
_python_expect_shm() {
	local dir=$1 re="file /?$(lz_re "${PY_SHM#/}")"
	case $2 in
	eager)
		lz_app_expect_log "$dir" "lazyshm: $re restored eagerly: a task holds it open" \
			"restore.log does not say that $PY_SHM was restored eagerly because Python holds it open"
		;;
	deferred)
		grep -qE "lazyshm: $re \([^)]*\) deferred to the lazy-pages daemon" "$dir/restore.log" || {
			grep -E "lazyshm: $re" "$dir/restore.log" | head -3
			grep -qE "lazyshm: $re restored eagerly: a task holds it open" "$dir/restore.log" &&
				lz_fail "with $LZ_FD_LAZY_VAR=${!LZ_FD_LAZY_VAR} $PY_SHM was still restored eagerly ('a task holds it open'): the opt-in does not work"
			lz_fail "restore.log does not say that $PY_SHM was deferred to the lazy-pages daemon"
		}
		;;
	esac
	lz_log "segment: $(grep -oE "lazyshm: $re .*" "$dir/restore.log" | head -1)"
}

lz_python_test() {
	local optin=${1:-} root
	lz_app_timeout 240
	lz_require_root
	lz_require_criu
	lz_app_packages python3
	"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem here"
	[ "$optin" = fd-lazy ] && lz_app_fd_lazy_require
	W=$(lz_workdir)
	lz_python_start "$W"
	lz_python_verify "$W" before "$LZ_WP" || lz_fail "pyshm's check before the dump failed"
	local t0=$(lz_now_ms)
	LAZYSHM_FILES=all lz_dump_gone "$W" "$LZ_WP" || lz_fail "criu dump of the Python tree failed"
	LZ_DUMP_MS=$(($(lz_now_ms) - t0))
	lz_img_lists "$W" "$PY_SHM" || lz_fail "with LAZYSHM_FILES=all the lazyshm image has no object for $PY_SHM"

	if [ "$optin" != fd-lazy ]; then
		_python_restore "$W" eager
		_python_expect_shm "$W" eager
		lz_app_keep_logs "$W" eager
		lz_app_stop_tree "$W" || lz_fail "the eagerly restored Python tree does not exit"
	else
		# the segment is held open and named: both opt-ins
		export "$LZ_FD_LAZY_VAR=shm-file" LAZYSHM_FILES_NAMED=lazy
		lz_log "opt-in: $LZ_FD_LAZY_VAR=shm-file LAZYSHM_FILES_NAMED=lazy"
	fi

	_python_restore "$W" lazy
	root=$(cat "$W/restored.pid")
	lz_lazy_done "$W" || lz_fail "the lazy-pages daemon did not finish cleanly"
	lz_app_stats "$W"
	# at full residency, after one check, as after the eager restore
	lz_app_mem "$root" lazy
	lz_python_verify "$W" lazy-2 "$root" || lz_fail "pyshm's check after the daemon detached failed"
	lz_log "lazy stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch, removed}]' | jq -c .)"
	# the anonymous MAP_SHARED buffer is lazy in every case (CRIU hands it
	# to the plugin as a memfd: it restores shared anon memory from one)
	[ "$(lz_stats "$W" "[.objects[] | select(.pages == $((LZ_PY_ANON_MB * 256)) and
		(.kind == \"anon-shared\")) |
		select(.filled_fault + .filled_prefetch + .holes == .pages)] | length")" = 1 ] ||
		lz_fail "the $LZ_PY_ANON_MB MiB anonymous shared buffer was not deferred and filled exactly once"
	if [ "$optin" = fd-lazy ]; then
		_python_expect_shm "$W" deferred
		lz_check_filled_once "$W" shm-file || lz_fail "the segment was not filled exactly once"
	else
		_python_expect_shm "$W" eager
	fi
	lz_app_keep_logs "$W" lazy
	lz_app_stop_tree "$W" || lz_fail "the lazily restored Python tree does not exit"
	lz_app_metrics "python${optin:+-$optin}"
	lz_log "PASS: Python shared_memory + MAP_SHARED pool restored${optin:+ with the opt-in}; every MiB verified"
}
