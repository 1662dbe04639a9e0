# Helpers of tests/bench/migrate.sh (sourced; uses its variables and
# log/die/on_exit, and size_bytes/hp_take/hp_give of lib.sh).

src() { nsenter --net="/run/netns/$NS_SRC" "$@"; }
dst() { nsenter --net="/run/netns/$NS_DST" "$@"; }

# bash's own clock, no fork: CLOCK_REALTIME in ns (microsecond resolution)
now() { local t=${EPOCHREALTIME/./}; echo "${t}000"; }

# The two hosts and the link between them, removed at exit
mig_netns() {
	on_exit "ip link del $VETH_SRC; ip netns del $NS_SRC; ip netns del $NS_DST"
	ip netns add "$NS_SRC" && ip netns add "$NS_DST" || die "cannot create network namespaces"
	ip link add "$VETH_SRC" netns "$NS_SRC" type veth peer name "$VETH_DST" netns "$NS_DST" &&
		ip -n "$NS_SRC" addr add "$SRC_ADDR/24" dev "$VETH_SRC" &&
		ip -n "$NS_DST" addr add "$DST_ADDR/24" dev "$VETH_DST" &&
		ip -n "$NS_SRC" link set lo up && ip -n "$NS_DST" link set lo up &&
		ip -n "$NS_SRC" link set "$VETH_SRC" up && ip -n "$NS_DST" link set "$VETH_DST" up ||
		die "cannot set up the veth pair"
	log "hosts: $NS_SRC ($SRC_ADDR) <-> $NS_DST ($DST_ADDR), veth, no throttle"
}

# wait_for FILE PATTERN TIMEOUT_S: until FILE has a line matching PATTERN
wait_for() {
	local i
	for ((i = $3 * 200; i > 0; i--)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.005
	done
	return 1
}

# mig_copy FROM TO: the images over the link; MIG_COPY_MS
mig_copy() {
	local t rc
	dst python3 "$TOP/tests/bench/netcopy.py" recv "$COPY_PORT" "$2" >"$MW/copy.out" 2>&1 &
	local rp=$!
	wait_for "$MW/copy.out" listening 10 || { kill $rp; return 1; }
	t=$(now)
	src python3 "$TOP/tests/bench/netcopy.py" send "$DST_ADDR" "$COPY_PORT" "$1" || { kill $rp; return 1; }
	wait $rp
	rc=$?
	MIG_COPY_MS=$((($(now) - t) / 1000000))
	return $rc
}

# mig_dump ROUTE D WP: criu dump of WP into D/src for ROUTE (remote: in the
# background, until its page server listens; D/dump.end gets its end time)
mig_dump() {
	local route=$1 d=$2 wp=$3
	case $route in
	remote)
		src /bin/sh -c '"$@"; echo $? >"'"$d"'/dump.rc"; date +%s%N >"'"$d"'/dump.end"' sh \
			"$CRIU" dump -D "$d/src" -t "$wp" --libdir "$LIB" -o dump.log -v3 --shell-job --lazy-pages \
			--address "$SRC_ADDR" --port "$PORT" </dev/null >"$d/dump.out" 2>&1 &
		wait_for "$d/src/dump.log" "Starting page server on port" 120
		;;
	eager) src "$CRIU" dump -D "$d/src" -t "$wp" --libdir "$NOLIB" -o dump.log -v3 --shell-job >"$d/dump.out" 2>&1 ;;
	lazy) src "$CRIU" dump -D "$d/src" -t "$wp" --libdir "$LIB" -o dump.log -v3 --shell-job >"$d/dump.out" 2>&1 ;;
	esac
}

# mig_restore ROUTE D: the destination's daemon (remote, lazy) and criu
# restore under benchrun (its JSON in MIG_RUN)
mig_restore() {
	local route=$1 d=$2 lib=$LIB daemon=() lazy=() ps=()
	[ "$route" = remote ] && ps=(--page-server --address "$SRC_ADDR" --port "$PORT")
	if [ "$route" = eager ]; then
		lib=$NOLIB
	else
		dst ${MIG_STRACE:+strace -f -tt -o $OUT/lazy.strace} "$CRIU" lazy-pages -D "$d/dst" --libdir "$LIB" -o lazy.log -v4 -d --pidfile "$d/dst/lazy.pid" \
			"${ps[@]}" >"$d/lazy.out" 2>&1 || { log "criu lazy-pages failed: $(tail -3 "$d/dst/lazy.log")"; return 1; }
		daemon=(--daemon-pidfile "$d/dst/lazy.pid")
		lazy=(--lazy-pages)
	fi
	MIG_RUN=$(dst "$BB/benchrun" --pidns --pidfile "$d/dst/restored.pid" --result "$d/result" "${daemon[@]}" \
		--timeout 600 -- "$CRIU" restore -D "$d/dst" --libdir "$lib" -o restore.log -v3 --shell-job -d \
		--pidfile "$d/dst/restored.pid" "${lazy[@]}")
}

# mig_start KIND BYTES D: the workload in the source namespace, its pid in
# MIG_WP (killed at exit, or by mig_stop)
mig_start() {
	setsid nsenter --net="/run/netns/$NS_SRC" "$BB/benchwl" --kind "$1" --size "$2" --ready "$3/ready" \
		--result "$3/result" </dev/null >"$MW/workload.log" 2>&1 &
	MIG_WP=$!
	disown "$MIG_WP"
	on_exit "kill -9 $MIG_WP"
	while [ ! -e "$3/ready" ]; do
		kill -0 $MIG_WP 2>/dev/null || { log "workload failed: $(cat "$MW/workload.log")"; return 1; }
		sleep 0.05
	done
}

# mig_stop: the source's workload is gone (its memory back)
mig_stop() {
	local t
	kill -9 "$MIG_WP" 2>/dev/null
	for ((t = 200; t > 0; t--)); do
		[ -e "/proc/$MIG_WP" ] || return 0
		sleep 0.05
	done
}

# mig_sample KIND SIZE ROUTE REP D T_FREEZE T_DUMPED T_COPIED RM_NS: one JSON line
mig_sample() {
	local k=$1 s=$2 route=$3 rep=$4 d=$5 tf=$6 tdu=$7 tco=$8 rmns=$9 dend=null stats=null
	[ -f "$d/dump.end" ] && dend=$(cat "$d/dump.end")
	[ -f "$d/dst/lazyshm-stats.json" ] && stats=$(jq -c '{remote, faults_minor, faults_missing, fault_p50_us,
		fault_p99_us, full_residency_after_restore_ms}' "$d/dst/lazyshm-stats.json")
	jq -c -n --arg k "$k" --arg s "$s" --arg r "$route" --argjson rep "$rep" --argjson b "$(size_bytes "$s")" \
		--argjson tf "$tf" --argjson tdu "$tdu" --argjson tco "$tco" --argjson rm "$rmns" \
		--argjson dend "$dend" --argjson run "$MIG_RUN" --argjson st "$stats" '
		($run.t0_realtime_ns - $rm) as $t0 | ($t0 + $run.resume_ns) as $up |
		{kind: $k, size: $s, bytes: $b, route: $r, rep: $rep,
		 dump_ms: (($tdu - $tf) / 1e6), copy_ms: (($tco - $tdu) / 1e6), restore_ms: ($run.resume_ns / 1e6),
		 downtime_ms: (($up - $tf) / 1e6),
		 touched_ms: (($run.app.t_end_ns - $run.timens_offset_ns - $run.t0_ns - $run.resume_ns) / 1e6),
		 total_ms: ((([$up, (if $run.daemon_exit_ns >= 0 then $t0 + $run.daemon_exit_ns else 0 end),
			      (if $dend then $dend - $rm else 0 end)] | max) - $tf) / 1e6),
		 ok: $run.app.ok, stats: $st}' >>"$MSAMPLES"
	tail -1 "$MSAMPLES" | jq -r '"  \(.kind) \(.size) \(.route) rep \(.rep): downtime \(.downtime_ms|round) ms " +
		"(dump \(.dump_ms|round), copy \(.copy_ms|round), restore \(.restore_ms|round)), " +
		"touched all \(.touched_ms|round) ms after, total \(.total_ms|round) ms" + (if .ok then "" else " VERIFY FAILED" end)'
}

# mig_run KIND SIZE ROUTE REP: one migration, one sample
mig_run() {
	local k=$1 s=$2 route=$3 rep=$4 d=$MW/run/m tf l ret=0
	rm -rf "$d" && mkdir -p "$d/src" "$d/dst" || return 1
	mig_start "$k" "$(size_bytes "$s")" "$d" || return 1
	tf=$(now)
	mig_do "$k" "$s" "$route" "$d" && mig_sample "$k" "$s" "$route" "$rep" "$d" "$tf" "$MIG_TDU" "$MIG_TCO" "$MIG_RMNS" ||
		ret=1
	# the source's dump.log (the destination has a copy taken mid-dump), the destination's others
	for l in "$d"/src/dump.log "$d"/dst/lazy.log "$d"/dst/restore.log; do
		[ -f "$l" ] && cp "$l" "$LOGS/$k-$s-$route-$rep.${l##*/}"
	done
	mig_stop
	rm -rf "$d"
	return $ret
}

# mig_do KIND SIZE ROUTE D: dump, copy, restore (MIG_TDU, MIG_TCO: when the
# dump and the copy ended; MIG_RMNS: the uncounted removal)
mig_do() {
	local k=$1 s=$2 route=$3 d=$4 t
	MIG_RMNS=0
	mig_dump "$route" "$d" "$MIG_WP" || { log "$k $s $route: dump failed: $(grep Error "$d/src/dump.log" | head -2)"; return 1; }
	MIG_TDU=$(now)
	mig_copy "$d/src" "$d/dst" || { log "$k $s $route: copy failed: $(cat "$MW/copy.out")"; return 1; }
	MIG_TCO=$(now)
	# the source's images are on the other host in a real migration: their removal is not counted
	if [ "$route" != remote ]; then
		t=$(now)
		rm -rf "$d/src/"pages-*.img
		MIG_RMNS=$(($(now) - t))
	fi
	mig_restore "$route" "$d" || { log "$k $s $route: restore failed: $(grep Error "$d/dst/restore.log" | head -2)"; return 1; }
	[ "$route" = remote ] || return 0
	wait_for "$d/dump.end" . 120 || { log "$k $s remote: criu dump did not end"; return 1; }
	[ "$(cat "$d/dump.rc")" = 0 ] || { log "$k $s remote: criu dump failed: $(grep Error "$d/src/dump.log" | head -2)"; return 1; }
}

# mig_one KIND SIZE: every route, MIG_REPS times, on a tmpfs big enough
# for two copies of the images; hugepages for the source and the
# destination at once (remote) or for the dump's private reading (eager)
mig_one() {
	local k=$1 s=$2 bytes n=0 delta=0 rep route
	bytes=$(size_bytes "$s")
	[ "$k" = huge2m ] && n=$((2 * bytes / (2 << 20) + 2))
	if [ "$n" -gt 0 ] && ! hp_take "$n" 2M; then
		log "$k $s: cannot get $n free 2M hugepages (another user holds $(($(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) - HP_DELTA)) of the pool): skipped"
		hp_give "$HP_DELTA" 2M
		jq -c -n --arg k "$k" --arg s "$s" --argjson n "$n" '{kind: $k, size: $s, skipped: "hugepages", needed: $n}' >>"$MSAMPLES"
		return 0
	fi
	[ "$n" -gt 0 ] && delta=$HP_DELTA
	mkdir -p "$MW/run" && mount -t tmpfs -o size=$((2 * bytes + (1 << 30))) lazyshm-mig "$MW/run" ||
		die "cannot mount a tmpfs for the images"
	for ((rep = 1; rep <= MIG_REPS; rep++)); do
		for route in ${MIG_ROUTES//,/ }; do
			mig_run "$k" "$s" "$route" "$rep" || log "$k $s $route rep $rep: no sample"
		done
	done
	umount "$MW/run"
	[ "$n" -gt 0 ] && hp_give "$delta" 2M
	return 0
}
