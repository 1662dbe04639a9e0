# Helpers of tests/bench/run.sh and migrate.sh (sourced; uses their
# variables). First what both need: their log lines (BENCH_TAG and T0 set
# by the caller), failures, and the cleanup stack (on_exit CMD runs CMD at
# exit, the last registered first).
log() { printf '[%s %4ds] %s\n' "$BENCH_TAG" $(($(date +%s) - T0)) "$*"; }
die() { log "FAIL: $*"; exit 1; }

_CLEANUPS=()
on_exit() { _CLEANUPS+=("$*"); }
cleanup() {
	local i
	for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${_CLEANUPS[$i]}" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# size_bytes 256M -> 268435456
size_bytes() {
	local n=${1%[KMG]} u=${1##*[0-9]}
	case $u in
	K) echo $((n << 10)) ;;
	M) echo $((n << 20)) ;;
	G) echo $((n << 30)) ;;
	*) echo "$1" ;;
	esac
}

_hp_dir() {
	case $1 in
	2M) echo /sys/kernel/mm/hugepages/hugepages-2048kB ;;
	1G) echo /sys/kernel/mm/hugepages/hugepages-1048576kB ;;
	esac
}

# Hugepages a new mapping can get: free ones less those reserved by others'
# mappings (free_hugepages counts them)
hp_avail() {
	echo $(($(cat "$1/free_hugepages") - $(cat "$1/resv_hugepages")))
}

# hp_take N SIZE: grow the pool so that N pages are available. Others share
# the pool, so it is grown and shrunk by our delta, never set to a fixed
# value. Sets HP_DELTA; returns 1 if the kernel could not provide them.
hp_take() {
	local n=$1 d old want
	d=$(_hp_dir "$2")
	HP_DELTA=0
	[ "$(hp_avail "$d")" -ge "$n" ] && return 0
	old=$(cat "$d/nr_hugepages")
	want=$((old + n - $(hp_avail "$d")))
	echo "$want" >"$d/nr_hugepages" 2>/dev/null
	if [ "$(hp_avail "$d")" -lt "$n" ]; then
		# the images of the previous kinds fill the page cache and break up
		# the contiguous memory 1G pages need: drop it, compact, ask again
		log "$2 hugepages short: dropping the page cache and compacting memory"
		sync
		echo 1 >/proc/sys/vm/drop_caches
		echo 1 >/proc/sys/vm/compact_memory
		echo "$want" >"$d/nr_hugepages" 2>/dev/null
	fi
	# the kernel may grant fewer: give back exactly what it granted
	HP_DELTA=$(($(cat "$d/nr_hugepages") - old))
	[ "$(hp_avail "$d")" -ge "$n" ]
}

# hp_give DELTA SIZE: shrink the pool again by what hp_take added
hp_give() {
	local d v
	d=$(_hp_dir "$2")
	[ "$1" -gt 0 ] || return 0
	v=$(($(cat "$d/nr_hugepages") - $1))
	echo $((v > 0 ? v : 0)) >"$d/nr_hugepages"
}

bench_micro() {
	local delta
	log "microbenchmarks (uffd round trips, first touch, memcpy, pread, xxh3)"
	hp_take 200 2M || log "fewer than 200 free 2M hugepages: 2M microbenchmarks may skip"
	delta=$HP_DELTA
	"$BB/micro" --file "$W/micro-scratch" | sed 's/^/{"micro": true, "sample": /; s/$/}/' >>"$SAMPLES" ||
		log "microbenchmarks failed (partial results kept)"
	hp_give "$delta" 2M
	jq -r 'select(.micro) | .sample | "  \(.test) \(.page_size // "") \(.handler // .into // "") " +
		(if .gbps then "\(.gbps) GB/s" elif .p50_us then "p50 \(.p50_us) us p99 \(.p99_us) us" else "skipped" end)' \
		"$SAMPLES"
}

# The hugepages one (kind, size) needs: the workload's pages, as many again
# for criu dump (it reads the object through a MAP_PRIVATE mapping, which
# reserves the whole size) and a spare one for CRIU's probe. The restore
# maps them again once the dumped task is gone.
bench_hp_need() {
	local k=$1 bytes=$2
	case $k in
	huge2m) echo "$((2 * bytes / (2 << 20) + 2)) 2M" ;;
	huge1g) echo "$((2 * ((bytes + (1 << 30) - 1) / (1 << 30)) + 1)) 1G" ;;
	*) echo "0 2M" ;;
	esac
}

# bench_dump KIND BYTES [DIR [CRIU-ARGS...]]: start the workload, fill, dump
# it into DIR ($W/img; with the plugin unless CRIU-ARGS are given). Sets
# DUMP_MS, and FROZEN_MS: how long the tasks were frozen, from the log's
# timestamps of the first "Seized task" to "Unfreezing tasks" (criu 4.1.1
# writes stats-dump.img's frozen_time after closing the images directory,
# so the image never appears).
bench_dump() {
	local k=$1 bytes=$2 d=${3:-$W/img} wp t rc args
	shift $(($# > 2 ? 3 : 2))
	args=("$@")
	[ $# -gt 0 ] || args=(--libdir "$LIB")
	rm -rf "$d" && mkdir -p "$d"
	setsid "$BB/benchwl" --kind "$k" --size "$bytes" --ready "$d/ready" --result "$d/result" \
		</dev/null >"$W/workload.log" 2>&1 &
	wp=$!
	while [ ! -e "$d/ready" ]; do
		kill -0 $wp 2>/dev/null || { log "workload failed: $(cat "$W/workload.log")"; return 1; }
		sleep 0.05
	done
	t=$(date +%s%N)
	# criu dump kills the workload: hide bash's "Killed" job notice
	{
		"$CRIU" dump -D "$d" -t $wp "${args[@]}" -o dump.log -v3 --shell-job
		rc=$?
		[ $rc = 0 ] || kill -9 $wp
		wait $wp
	} 2>/dev/null
	[ $rc = 0 ] || { log "criu dump failed:"; tail -5 "$d/dump.log"; return 1; }
	DUMP_MS=$((($(date +%s%N) - t) / 1000000))
	FROZEN_MS=$(awk -F'[()]' '/Seized task/ && !s { s = $2 } /Unfreezing tasks/ { e = $2 }
		END { if (s != "" && e != "") printf "%.1f", (e - s) * 1000 }' "$d/dump.log")
	[ -n "$FROZEN_MS" ] || { log "no freeze and release in $d/dump.log"; return 1; }
	# the part of it the plugin took at DUMP_FINISH (0 without the plugin)
	INDEX_MS=$(sed -n 's/.*lazyshm: dump: wrote lazyshm-shmem.img: .* in \([0-9]*\) ms$/\1/p' "$d/dump.log" | tail -1)
	INDEX_MS=${INDEX_MS:-0}
	return 0
}

# bench_freeze KIND SIZE: how much longer the plugin keeps the tasks frozen
# than the same dump without it (FROZEN_MS of the plugin's dump, just made).
bench_freeze() {
	local k=$1 s=$2 plugin=$FROZEN_MS plugin_dump=$DUMP_MS index=$INDEX_MS
	mkdir -p "$W/no-plugins" || return 1
	bench_dump "$k" "$(size_bytes "$s")" "$W/plain" --libdir "$W/no-plugins" || return 1
	rm -rf "$W/plain"
	jq -c -n --arg k "$k" --arg s "$s" --argjson p "$plugin" --argjson n "$FROZEN_MS" \
		--argjson pd "$plugin_dump" --argjson nd "$DUMP_MS" --argjson i "$index" \
		'{freeze: true, kind: $k, size: $s, frozen_plugin_ms: $p, frozen_plain_ms: $n,
		  dump_plugin_ms: $pd, dump_plain_ms: $nd, plugin_frozen_work_ms: $i}' >>"$SAMPLES"
	log "  $k $s dump: tasks frozen $plugin ms with the plugin ($index ms of it the plugin's" \
		"DUMP_FINISH), $FROZEN_MS ms without (whole dump $plugin_dump ms, $DUMP_MS ms)"
	DUMP_MS=$plugin_dump
}

# mode_env MODE: the plugin settings and workload signal of a mode, in ENV
# (array) and SIG. Only ws-replay may replay a working set: every other
# mode runs with LAZYSHM_REPLAY=off, so a working set recorded by an
# earlier restore of the same images never orders its prefetch.
mode_env() {
	SIG=usr1
	ENV=(LAZYSHM_REPLAY=off)
	case $1 in
	lazy-noval) ENV+=(LAZYSHM_VALIDATE=0) ;;
	ws-*) SIG=usr2 ;;&
	# the order of first faults is recorded: a prefetch running ahead of
	# the workload would fill pages before it touches them, unrecorded
	ws-record) ENV=(LAZYSHM_REPLAY=record LAZYSHM_TEST_FILL_DELAY_MS=1 LAZYSHM_FILL_THREADS=1) ;;
	ws-replay) ENV=(LAZYSHM_REPLAY=on) ;;
	esac
}

# restore_once KIND SIZE MODE REP [VERBOSITY]: one restore, one sample line.
# Modes: eager | lazy | lazy-noval | cold-eager | cold-lazy (the images'
# page cache dropped first) | ws-eager | ws-lazy | ws-record | ws-replay
# (the workload touches its working set only; ws-record records the order
# of first faults, ws-replay prefetches it first)
restore_once() {
	local k=$1 s=$2 mode=$3 rep=$4 v=${5:-} d=$W/img run stats='null' lib=() lazy=() p t=100 vflag=()
	# the previous restored task must be reaped (by us, or by a slow init)
	p=$(cat "$d/restored.pid" 2>/dev/null)
	while [ -n "$p" ] && [ -e "/proc/$p" ] && [ $t -gt 0 ]; do
		sleep 0.1
		t=$((t - 1))
	done
	rm -f "$d/restored.pid" "$d/lazy.pid" "$d/result" "$d/lazyshm-stats.json"
	[ "$mode" = ws-record ] && rm -f "$d/lazyshm-access.img"
	mode_env "$mode"
	[ -n "$v" ] && vflag=("-v$v")
	case $mode in
	*eager | *upstream) ;;
	*) lib=(--libdir "$LIB") ;;
	esac
	case $mode in
	cold-*) "$BB/benchrun" --drop-cache "$d" || return 1 ;;
	esac
	case $mode in
	*eager) ;;
	*)
		env "${ENV[@]}" "$CRIU" lazy-pages -D "$d" "${lib[@]}" -o "lazy-$mode.log" "${vflag[@]}" -d \
			--pidfile "$d/lazy.pid" || {
			log "criu lazy-pages failed"; tail -5 "$d/lazy-$mode.log"; return 1
		}
		lazy=(--daemon-pidfile "$d/lazy.pid")
		;;
	esac
	run=$(env "${ENV[@]}" "$BB/benchrun" --pidfile "$d/restored.pid" --result "$d/result" "${lazy[@]}" \
		--signal "$SIG" --timeout 300 -- "$CRIU" restore -D "$d" "${lib[@]}" -o "restore-$mode.log" \
		"${vflag[@]}" --shell-job -d --pidfile "$d/restored.pid" ${lazy:+--lazy-pages}) || {
		log "$k $s $mode: restore failed"; tail -5 "$d/restore-$mode.log"
		[ -n "${lazy[*]}" ] && tail -5 "$d/lazy-$mode.log"
		return 1
	}
	[ -f "$d/lazyshm-stats.json" ] && stats=$(cat "$d/lazyshm-stats.json")
	mkdir -p "$OUT/logs" && for f in restore lazy; do
		[ -f "$d/$f-$mode.log" ] && cp "$d/$f-$mode.log" "$OUT/logs/$k-$s-$mode-$rep.$f.log"
	done
	jq -c -n --arg k "$k" --arg s "$s" --arg m "$mode" --argjson r "$rep" --argjson b "$(size_bytes "$s")" \
		--argjson dump "$DUMP_MS" --argjson run "$run" --argjson st "$stats" \
		--argjson plugin "$(restore_log_times "$d/restore-$mode.log")" --argjson fixed "${IN_FIXED:-false}" '
		{kind: $k, fixed: $fixed, size: $s, bytes: $b, mode: $m, rep: $r, dump_ms: $dump,
		 resume_ms: ($run.resume_ns / 1e6),
		 touch_ms: ($run.app.touch_ns / 1e6),
		 all_touched_ms: (($run.app.t_end_ns - $run.timens_offset_ns - $run.t0_ns) / 1e6),
		 daemon_exit_ms: (if $run.daemon_exit_ns < 0 then null else $run.daemon_exit_ns / 1e6 end),
		 residency_ms: (if $st then ($run.resume_ns / 1e6) + $st.full_residency_after_restore_ms
				elif $run.daemon_exit_ns >= 0 then $run.daemon_exit_ns / 1e6
				else ($run.resume_ns / 1e6) end),
		 app: $run.app, stats: $st, restore_log: $plugin}' >>"$SAMPLES"
	tail -1 "$SAMPLES" | jq -r '"  \(.kind) \(.size) \(.mode) rep \(.rep): resume \(.resume_ms*100|round/100) ms, " +
		"touch \(.touch_ms|round) ms, restore→touched \(.all_touched_ms|round) ms, " +
		"residency \(.residency_ms|round) ms" + (if .app.ok then "" else " VERIFY FAILED" end) +
		(if .stats then ", faults \(.stats.faults_minor + .stats.faults_missing) " +
		"p50 \(.stats.fault_p50_us) us" else "" end)'
}

# restore_log_times LOG: the plugin's own timings of a restore, as JSON
# (restore.c and offer.c log them at -v3 and above; {} otherwise)
restore_log_times() {
	sed -n 's/.*lazyshm: restore init: \([0-9.]*\) us (lazyshm image \([0-9.]*\) us, registry \([0-9.]*\) us, hugepage check \([0-9.]*\) us).*/{"init_us": \1, "image_us": \2, "registry_us": \3, "preflight_us": \4}/p;
		s/.*lazyshm: .* deferred to the lazy-pages daemon (offer round trip \([0-9.]*\) us).*/{"offer_us": \1}/p' "$1" 2>/dev/null |
		jq -s -c 'reduce .[] as $x ({}; . + ($x | if .offer_us then {offer_us: (($x.offer_us) + 0)} else $x end))' 2>/dev/null || echo '{}'
}

# bench_fixed: the fixed cost of a lazy restore, on a process with 1 MiB of
# shmem: eager, eager with the plugin loaded (LAZYSHM_MODE=eager: its load
# and init, CRIU restores the content), lazy; at -v3, which has the
# plugin's own timings. FIXED_REPS restores each, interleaved.
bench_fixed() {
	local rep m n=${FIXED_REPS:-9}
	log "fixed cost: shmem 1M, $n restores per mode"
	bench_dump shmem "$(size_bytes 1M)" || { log "fixed cost: dump failed"; return 0; }
	for ((rep = 1; rep <= n; rep++)); do
		for m in eager eager-plugin lazy; do
			IN_FIXED=true fixed_once "$m" "$rep" || log "fixed cost $m rep $rep: no sample"
		done
	done
	rm -rf "$W/img"
}

fixed_once() {
	local m=$1 rep=$2
	case $m in
	eager-plugin) LAZYSHM_MODE=eager restore_once_plugin_eager "$rep" ;;
	*) restore_once shmem 1M "$m" "$rep" 3 ;;
	esac
}

# The plugin loaded, its restore declining every object (LAZYSHM_MODE=eager,
# LAZYSHM_VALIDATE=0: CRIU restores the content itself, as without it)
restore_once_plugin_eager() {
	local rep=$1 d=$W/img run
	rm -f "$d/restored.pid" "$d/result"
	run=$(LAZYSHM_MODE=eager LAZYSHM_VALIDATE=0 "$BB/benchrun" --pidfile "$d/restored.pid" --result "$d/result" \
		--timeout 60 -- "$CRIU" restore -D "$d" --libdir "$LIB" -o restore-eager-plugin.log -v3 --shell-job -d \
		--pidfile "$d/restored.pid") || { log "eager-plugin restore failed"; tail -5 "$d/restore-eager-plugin.log"; return 1; }
	jq -c -n --argjson r "$rep" --argjson run "$run" --argjson plugin "$(restore_log_times "$d/restore-eager-plugin.log")" \
		'{kind: "shmem", size: "1M", bytes: 1048576, mode: "eager-plugin", rep: $r, fixed: true,
		  resume_ms: ($run.resume_ns / 1e6), touch_ms: ($run.app.touch_ns / 1e6),
		  all_touched_ms: (($run.app.t_end_ns - $run.timens_offset_ns - $run.t0_ns) / 1e6),
		  residency_ms: ($run.resume_ns / 1e6), app: $run.app, stats: null, restore_log: $plugin}' >>"$SAMPLES"
}

bench_one() {
	local k=$1 s=$2 bytes n psz delta=0 modes rep m
	bytes=$(size_bytes "$s")
	read -r n psz <<<"$(bench_hp_need "$k" "$bytes")"
	if [ "$n" -gt 0 ]; then
		if ! hp_take "$n" "$psz"; then
			log "$k $s: cannot get $n free $psz hugepages: skipped"
			hp_give "$HP_DELTA" "$psz"
			jq -c -n --arg k "$k" --arg s "$s" '{kind: $k, size: $s, skipped: "hugepages"}' >>"$SAMPLES"
			return 0
		fi
		delta=$HP_DELTA
	fi
	log "$k $s: fill and dump"
	if bench_dump "$k" "$bytes"; then
		log "$k $s: dumped in $DUMP_MS ms, $REPS restores per mode"
		[ "$k" = anon ] || bench_freeze "$k" "$s" || log "$k $s: no freeze sample"
		modes=$MODES
		[ "$k" = anon ] && modes=eager,upstream,cold-eager,cold-upstream
		[ "$MODES" = none ] && modes=
		# the working set replayed is recorded by one restore first
		case ",$modes," in
		*,ws-replay,*) restore_once "$k" "$s" ws-record 1 || log "$k $s: no working set recorded" ;;
		esac
		for ((rep = 1; rep <= REPS; rep++)); do
			for m in ${modes//,/ }; do
				restore_once "$k" "$s" "$m" "$rep" || log "$k $s $m rep $rep: no sample"
			done
		done
	fi
	rm -rf "$W/img"
	[ "$n" -gt 0 ] && hp_give "$delta" "$psz"
	return 0
}

bench_collect() {
	jq -s --arg host "$(uname -r)" --arg rev "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)" \
		--arg dirty "$(git -C "$TOP" status --porcelain plugin criu-patches 2>/dev/null | wc -l)" \
		--arg date "$(date -u +%FT%TZ)" --arg cpus "$(nproc)" --arg reps "$REPS" \
		--arg run "$(if [ -n "${_LZ_BENCH_NS:-}" ]; then echo "tmpfs (private mount namespace)"; else stat -f -c %T /run; fi)" '
		{meta: {kernel: $host, commit: $rev, plugin_files_modified: ($dirty | tonumber), date: $date,
			cpus: ($cpus | tonumber), reps: ($reps | tonumber), run_fs: $run},
		 micro: [.[] | select(.micro) | .sample],
		 freeze: [.[] | select(.freeze)],
		 runs: [.[] | select((.micro | not) and (.freeze | not))]}' "$SAMPLES"
}
