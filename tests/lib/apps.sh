# Helpers of the real-application tests (tests/integration/10x-app-*.sh):
# a Debian application is installed by the test's setup, started, dumped
# with the patched CRIU and the plugin, restored eagerly and then lazily
# from the same images, and checked by the application's own means.
# Source it after common.sh:
#   . "$(dirname "$0")/../lib/common.sh"
#   . "$(dirname "$0")/../lib/apps.sh"
#
# Each test prints one line for the lead's table (recorded, never asserted):
#   METRICS app=NAME eager_ms=.. lazy_ms=.. first_answer_ms=.. ... faults=.. prefetched=..
#
# The lazy restore of an object a restored task holds open as a descriptor
# (QEMU's guest RAM, Python's shared_memory) is eager by default; the plugin
# setting named by LZ_FD_LAZY_VAR (LAZYSHM_FD_LAZY unless told otherwise) is
# the opt-in that lets such objects be lazy. lz_app_fd_lazy_require says
# clearly when the plugin does not have it.

LZ_FD_LAZY_VAR=${LZ_FD_LAZY_VAR:-LAZYSHM_FD_LAZY}

# lz_app_timeout SECONDS: end the test (SIGTERM: it fails, and the EXIT
# trap cleans up) if it runs longer than SECONDS.
lz_app_timeout() {
	local me=$$ secs=$1 w
	trap "lz_log 'FAIL: timed out after $secs s'; exit 124" TERM
	(
		exec >/dev/null 2>&1 </dev/null
		trap 'kill $sp 2>/dev/null; exit 0' TERM
		sleep "$secs" &
		sp=$!
		wait $sp && kill -TERM "$me"
	) &
	w=$!
	disown "$w"
	lz_on_exit "kill $w"
}

# lz_app_packages PKG...: install the Debian packages the test needs (the
# same are in scripts/install-deps.sh), or skip if apt-get cannot.
lz_app_packages() {
	local p missing=()
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	lz_log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>"$BUILD/apt-install.log" 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" >"$BUILD/apt-install.log" 2>&1; } ||
		lz_skip "cannot install ${missing[*]} from Debian: $(tail -2 "$BUILD/apt-install.log" | tr '\n' ' ')"
}

lz_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# lz_app_closefds: close the descriptors above 2 this shell inherited (an
# inherited pipe or socket would be dumped with the application, and CRIU
# cannot restore what it cannot see).
lz_app_closefds() {
	local fd
	for fd in $(ls /proc/$$/fd); do
		[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
	done
	return 0
}

# ---- memory measurements (METRICS, never asserted) ----

_lz_meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }

# lz_app_mem_base: remember Shmem and the hugepages in use before a restore
lz_app_mem_base() {
	_LZ_SHMEM0=$(_lz_meminfo Shmem)
	_LZ_HUGE0=$(($(_lz_meminfo HugePages_Total) - $(_lz_meminfo HugePages_Free)))
}

# lz_app_objects_kb ROOT: KiB of memory the shared objects that the tree
# of ROOT maps have allocated (st_blocks through /proc/PID/map_files, each
# object once): unlike Shmem and the hugepage counts, blind to the memory
# of other processes on the machine
lz_app_objects_kb() {
	local p r perm
	for p in "$1" $(lz_descendants "$1"); do
		while read -r r perm _; do
			[ "${perm:3:1}" = s ] || continue
			stat -L -c '%d:%i %b %B' "/proc/$p/map_files/$r" 2>/dev/null
		done <"/proc/$p/maps"
	done | sort -u -k1,1 | awk '{ s += $2 * $3 / 1024 } END { printf "%d\n", s }'
}

# lz_app_mem ROOT PREFIX: set PREFIX_rss/_pss (kB, the tree of ROOT;
# hugetlb mappings are in neither), PREFIX_obj (kB, lz_app_objects_kb),
# PREFIX_shmem (kB, Shmem growth since lz_app_mem_base) and PREFIX_huge
# (2M hugepages in use since then; both count other processes too)
lz_app_mem() {
	local root=$1 pfx=$2 p rss=0 pss=0 r s
	for p in "$root" $(lz_descendants "$root"); do
		read -r r s < <(awk '$1 == "Rss:" {r=$2} $1 == "Pss:" {s=$2} END {print r+0, s+0}' \
			"/proc/$p/smaps_rollup" 2>/dev/null)
		rss=$((rss + ${r:-0})) pss=$((pss + ${s:-0}))
	done
	printf -v "${pfx}_rss" %s "$rss"
	printf -v "${pfx}_pss" %s "$pss"
	printf -v "${pfx}_obj" %s "$(lz_app_objects_kb "$root")"
	printf -v "${pfx}_shmem" %s $(($(_lz_meminfo Shmem) - _LZ_SHMEM0))
	printf -v "${pfx}_huge" %s $(($(_lz_meminfo HugePages_Total) - $(_lz_meminfo HugePages_Free) - _LZ_HUGE0))
}

# lz_app_stats DIR: set LZ_FAULTS (faults the daemon served), LZ_FILLED_FAULT
# and LZ_PREFETCHED (pages of plugin objects filled on fault / by prefetch)
# and LZ_RESIDENT_MS from DIR/lazyshm-stats.json
lz_app_stats() {
	LZ_FAULTS=$(lz_stats "$1" '.faults_minor + .faults_missing')
	LZ_FILLED_FAULT=$(lz_stats "$1" '[.objects[].filled_fault] | add // 0')
	LZ_PREFETCHED=$(lz_stats "$1" '[.objects[].filled_prefetch] | add // 0')
	LZ_RESIDENT_MS=$(lz_stats "$1" '.full_residency_after_restore_ms')
}

# lz_app_metrics APP: print the METRICS line from the variables the cycle set
lz_app_metrics() {
	echo "METRICS app=$1 eager_ms=${LZ_EAGER_MS:-NA} lazy_ms=${LZ_LAZY_MS:-NA}" \
		"first_answer_ms=${LZ_ANSWER_LAZY_MS:-NA} first_answer_eager_ms=${LZ_ANSWER_EAGER_MS:-NA}" \
		"rss_kb=${lazy_rss:-NA} pss_kb=${lazy_pss:-NA} obj_kb=${lazy_obj:-NA} shmem_kb=${lazy_shmem:-NA}" \
		"hugepages=${lazy_huge:-NA} eager_rss_kb=${eager_rss:-NA} eager_pss_kb=${eager_pss:-NA}" \
		"eager_obj_kb=${eager_obj:-NA} eager_shmem_kb=${eager_shmem:-NA}" \
		"eager_hugepages=${eager_huge:-NA} faults=${LZ_FAULTS:-NA} filled_fault=${LZ_FILLED_FAULT:-NA}" \
		"prefetched=${LZ_PREFETCHED:-NA} resident_ms=${LZ_RESIDENT_MS:-NA} dump_ms=${LZ_DUMP_MS:-NA}"
}

# ---- the restore cycle ----

# lz_app_keep_logs DIR TAG: keep the logs of one restore as DIR/TAG-*.log
lz_app_keep_logs() {
	local f
	for f in restore.log lazy.log lazyshm-stats.json; do
		[ ! -e "$1/$f" ] || cp "$1/$f" "$1/$2-$f"
	done
}

# lz_app_restore DIR eager|lazy [criu restore args]: restore the images in
# DIR, time it (LZ_EAGER_MS / LZ_LAZY_MS), remember the memory baseline.
lz_app_restore() {
	local dir=$1 mode=$2 t0 rc
	shift 2
	rm -f "$dir/restored.pid" "$dir/lazy.pid" "$dir/lazyshm-stats.json"
	lz_app_mem_base
	t0=$(lz_now_ms)
	if [ "$mode" = lazy ]; then
		lz_lazy_restore "$dir" "$@"
	else
		lz_criu_restore "$dir" "$@"
	fi
	rc=$?
	if [ "$mode" = lazy ]; then LZ_LAZY_MS=$(($(lz_now_ms) - t0)); else LZ_EAGER_MS=$(($(lz_now_ms) - t0)); fi
	[ $rc -eq 0 ] && lz_log "$mode restore took $(($(lz_now_ms) - t0)) ms"
	return $rc
}

# lz_app_stop_tree DIR: stop the restored tree (SIGTERM, then SIGKILL) and
# wait until its pids are free again for the next restore from DIR.
lz_app_stop_tree() {
	local root p
	root=$(cat "$1/restored.pid" 2>/dev/null) || return 0
	local all=($(lz_descendants "$root") "$root")
	lz_stop_tasks "${all[@]}"
	for p in "${all[@]}"; do
		lz_wait_gone "$p" 10 || {
			lz_log "restored task $p does not go away"
			return 1
		}
	done
}

# lz_app_expect_log DIR ERE WHAT: DIR/restore.log matches ERE, or fail with WHAT
lz_app_expect_log() {
	grep -qE "$2" "$1/restore.log" || {
		lz_log "restore.log lazyshm lines:"
		grep -E "lazyshm: " "$1/restore.log" | grep -v hook | head -20
		lz_fail "$3"
	}
}

# lz_app_fd_lazy_require: fail, saying so, if the plugin has no opt-in
# LZ_FD_LAZY_VAR for objects a task holds open
lz_app_fd_lazy_require() {
	grep -qa "$LZ_FD_LAZY_VAR" "$LIBDIR/lazyshm_plugin.so" ||
		lz_fail "the plugin has no opt-in $LZ_FD_LAZY_VAR yet (no such setting in $LIBDIR/lazyshm_plugin.so):" \
			"objects a task holds open are always restored eagerly; this test checks the opt-in once it exists"
}
