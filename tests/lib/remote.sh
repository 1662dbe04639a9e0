# Helpers of the migration tests (110-119): two hosts on one machine.
#   . "$(dirname "$0")/../lib/common.sh"
#   . "$(dirname "$0")/../lib/remote.sh"
#
# The "source" and the "destination" are two network namespaces joined by
# a veth pair that the test makes (rm_setup); everything is removed at
# exit. Processes run in them with `nsenter --net` (not `ip netns exec`,
# which also gives each command a mount namespace of its own: criu dump
# would then see the workload in another mount namespace than its own and
# try to dump it).
#
# Source:      the workload (memkinds) and `criu dump --lazy-pages`, whose
#              page server listens on RM_SRC_ADDR:RM_PORT.
# Destination: `criu lazy-pages --page-server` (connects to the source),
#              and `criu restore --lazy-pages` inside a PID namespace of
#              its own (ctinit is its PID 1): the source's tasks still
#              hold their PIDs while the destination restores them, as
#              they would on two hosts.
#
# Directories of a test (W=$(lz_workdir)):
#   W/wl   the workload's --ready and --result files. Both copies of the
#          tree (the source's, resumed or not, and the destination's)
#          write their results there, like a directory both hosts share.
#   W/src  images written by the dump (the source's disk)
#   W/dst  their copy (rm_copy_images), where the destination restores
#          from and writes its logs
# Host PIDs: W/wl/ready (source tasks), W/dst/lazy.pid (daemon),
# W/dst/restored.hostpid (restored root, found as a child of the
# destination's PID 1; W/dst/restored.pid has the PID inside the
# namespace).

RM_NS_SRC=lzsrc-$$
RM_NS_DST=lzdst-$$
RM_VETH_SRC=lzs$$
RM_VETH_DST=lzd$$
RM_SRC_ADDR=10.201.0.1
RM_DST_ADDR=10.201.0.2
RM_PORT=27277
CTINIT=$BUILD/tests/static/ctinit

rm_require() {
	lz_require_root
	lz_require_criu
	local c
	for c in ip tc ss; do
		command -v $c >/dev/null || lz_skip "no $c (iproute2)"
	done
	command -v nsenter >/dev/null || lz_skip "no nsenter (util-linux)"
	[ -x "$CTINIT" ] || lz_fail "ctinit not built at $CTINIT (make build)"
	"$CRIU" check --feature uffd-noncoop >/dev/null 2>&1 || lz_skip "no non-cooperative userfaultfd (criu check --feature uffd-noncoop)"
}

# rm_src CMD...: run CMD in the source's network namespace (and likewise
# rm_dst)
rm_src() { nsenter --net="/run/netns/$RM_NS_SRC" "$@"; }
rm_dst() { nsenter --net="/run/netns/$RM_NS_DST" "$@"; }

_rm_teardown() {
	ip link del "$RM_VETH_SRC" 2>/dev/null
	ip netns del "$RM_NS_SRC" 2>/dev/null
	ip netns del "$RM_NS_DST" 2>/dev/null
	! ip netns list | grep -qE "^($RM_NS_SRC|$RM_NS_DST)( |$)"
}

_rm_unmount_netns_dir() {
	[ -n "$(ls -A /run/netns 2>/dev/null)" ] || ! mountpoint -q /run/netns || umount /run/netns
}

# rm_setup: the two namespaces, lo up in each, the veth pair between
# them with RM_SRC_ADDR and RM_DST_ADDR; torn down at exit (after the
# processes in them are killed: it is registered first, so it runs last).
rm_setup() {
	# the first `ip netns add` of a boot makes /run/netns a mount: undone
	# at the end if this test made it and left no namespace in it
	mountpoint -q /run/netns || lz_on_exit _rm_unmount_netns_dir
	lz_on_exit _rm_teardown
	ip netns add "$RM_NS_SRC" && ip netns add "$RM_NS_DST" || lz_fail "cannot create network namespaces"
	ip link add "$RM_VETH_SRC" netns "$RM_NS_SRC" type veth peer name "$RM_VETH_DST" netns "$RM_NS_DST" ||
		lz_fail "cannot create the veth pair"
	ip -n "$RM_NS_SRC" addr add "$RM_SRC_ADDR/24" dev "$RM_VETH_SRC" &&
		ip -n "$RM_NS_DST" addr add "$RM_DST_ADDR/24" dev "$RM_VETH_DST" &&
		ip -n "$RM_NS_SRC" link set lo up && ip -n "$RM_NS_DST" link set lo up &&
		ip -n "$RM_NS_SRC" link set "$RM_VETH_SRC" up && ip -n "$RM_NS_DST" link set "$RM_VETH_DST" up ||
		lz_fail "cannot configure the veth pair"
	# no ping here: a TCP connection to a closed port must be refused
	local t out
	for ((t = 50; t > 0; t--)); do
		out=$(rm_dst timeout 5 bash -c "exec 3<>/dev/tcp/$RM_SRC_ADDR/1" 2>&1)
		[[ "$out" == *refused* ]] && break
		sleep 0.1
	done
	[ $t -gt 0 ] || lz_fail "the destination cannot reach the source over the veth pair: $out"
	lz_log "veth $RM_VETH_SRC ($RM_NS_SRC, $RM_SRC_ADDR) <-> $RM_VETH_DST ($RM_NS_DST, $RM_DST_ADDR)"
}

# rm_throttle RATE: limit what the source sends (the pages) to RATE
# (tc's units, e.g. 200mbit), so that a test can act mid-transfer
rm_throttle() {
	tc -n "$RM_NS_SRC" qdisc add dev "$RM_VETH_SRC" root tbf rate "$1" burst 64kb latency 1s ||
		lz_fail "cannot throttle $RM_VETH_SRC to $1"
}

# rm_link_down: the link breaks (both ends of the veth pair down)
rm_link_down() {
	ip -n "$RM_NS_SRC" link set "$RM_VETH_SRC" down && ip -n "$RM_NS_DST" link set "$RM_VETH_DST" down
}

# rm_start_workload W ARGS...: memkinds ARGS in the source namespace,
# files in W/wl (lz_start_memkinds); its pid is in LZ_WP
rm_start_workload() {
	local w=$1
	shift
	mkdir -p "$w/wl" "$w/src" "$w/dst"
	LZ_WORKLOAD_PREFIX=(nsenter --net="/run/netns/$RM_NS_SRC")
	lz_start_memkinds "$w/wl" "$@"
}

# rm_dump W PID [ARGS]: `criu dump --lazy-pages` of PID in the source
# namespace, in the background (criu's pid in RM_DUMP_PID, its exit
# status in W/src/dump.rc once it ends); returns once its page server
# listens.
rm_dump() {
	local w=$1 pid=$2 t sh
	shift 2
	rm -f "$w/src/dump.rc"
	nsenter --net="/run/netns/$RM_NS_SRC" /bin/sh -c \
		'"$@"; echo $? > "'"$w"'/src/dump.rc.tmp"; mv "'"$w"'/src/dump.rc.tmp" "'"$w"'/src/dump.rc"' sh \
		"$CRIU" dump -D "$w/src" -t "$pid" --libdir "$LIBDIR" -v4 -o dump.log --shell-job \
		--lazy-pages --address "$RM_SRC_ADDR" --port "$RM_PORT" "$@" </dev/null >"$w/src/dump.out" 2>&1 &
	sh=$!
	lz_track_pid "$sh"
	RM_DUMP_PID=
	for ((t = 600; t > 0; t--)); do
		[ -n "$RM_DUMP_PID" ] || RM_DUMP_PID=$(pgrep -P "$sh" -x criu)
		grep -q "Starting page server on port" "$w/src/dump.log" 2>/dev/null &&
			rm_src ss -Hltn "sport = :$RM_PORT" | grep -q . && [ -n "$RM_DUMP_PID" ] && {
			lz_track_pid "$RM_DUMP_PID"
			return 0
		}
		[ -e "$w/src/dump.rc" ] && break
		sleep 0.1
	done
	lz_log "criu dump --lazy-pages did not start its page server; log tail:"
	tail -15 "$w/src/dump.log"
	return 1
}

# rm_dump_wait W SECONDS: wait for the dump to end; prints its exit status
rm_dump_wait() {
	lz_wait_file "$1/src/dump.rc" "$2" || return 1
	cat "$1/src/dump.rc"
}

# rm_copy_images W: copy the images the dump wrote (not the lazy pages,
# which stay on the source) to the destination's directory, as a
# migration would, and log how long it took
rm_copy_images() {
	local w=$1 t0 t1 bytes
	t0=$(date +%s%N)
	cp -a "$w/src/." "$w/dst/" || return 1
	rm -f "$w/dst/dump.log" "$w/dst/dump.out" "$w/dst/dump.rc"
	t1=$(date +%s%N)
	bytes=$(du -sb "$w/dst" | cut -f1)
	RM_COPY_MS=$(((t1 - t0) / 1000000))
	lz_log "image copy: $bytes bytes in $RM_COPY_MS ms"
}

# The destination's image directory is W/dst, or RM_DST_DIR if set.

# rm_lazy_daemon W [ARGS]: `criu lazy-pages --page-server` in the
# destination namespace, connecting to the source; its pid in W/dst/lazy.pid
rm_lazy_daemon() {
	local dst=${RM_DST_DIR:-$1/dst}
	shift
	rm_dst "$CRIU" lazy-pages -D "$dst" --libdir "$LIBDIR" -v4 -o lazy.log -d --pidfile "$dst/lazy.pid" \
		--page-server --address "$RM_SRC_ADDR" --port "$RM_PORT" "$@" </dev/null >"$dst/lazy.out" 2>&1 || {
		lz_log "criu lazy-pages failed: $(tail -5 "$dst/lazy.log")"
		return 1
	}
	lz_track_pid "$(cat "$dst/lazy.pid")"
}

# rm_restore W [ARGS]: `criu restore --lazy-pages` in the destination
# namespace and a new PID namespace whose PID 1 is ctinit; waits for it to
# end and returns its exit status. The namespace (ctinit, W/dst/ctinit.pid,
# and so every restored task) is killed at exit.
rm_restore() {
	local dst=${RM_DST_DIR:-$1/dst} unsh t c rc
	shift
	rm -f "$dst/restore.rc"
	nsenter --net="/run/netns/$RM_NS_DST" unshare --pid --fork --mount-proc "$CTINIT" /bin/sh -c \
		'"$@"; echo $? > "'"$dst"'/restore.rc"' sh \
		"$CRIU" restore -D "$dst" --libdir "$LIBDIR" -v4 -o restore.log --shell-job -d \
		--pidfile "$dst/restored.pid" --lazy-pages "$@" </dev/null >"$dst/restore.out" 2>&1 &
	unsh=$!
	lz_track_pid "$unsh"
	for ((t = 50; t > 0; t--)); do
		c=$(pgrep -P "$unsh" -x ctinit) && break
		sleep 0.1
	done
	[ -n "$c" ] || { lz_log "the destination's PID namespace did not start"; return 1; }
	echo "$c" >"$dst/ctinit.pid"
	# its PID 1: killing it kills every task of the namespace
	lz_on_exit "kill -9 $c; lz_wait_gone $c 10"
	lz_wait_file "$dst/restore.rc" 120 || { lz_log "criu restore did not end"; return 1; }
	rc=$(cat "$dst/restore.rc")
	[ "$rc" = 0 ] || return "$rc"
	RM_DST_DIR=$dst rm_find_restored
}

# rm_find_restored W: the host PID of the restored root (the child of the
# destination's PID 1 whose PID there is W/dst/restored.pid) in
# W/dst/restored.hostpid
rm_find_restored() {
	local dst=${RM_DST_DIR:-$1/dst} vp c
	vp=$(cat "$dst/restored.pid") || return 1
	for c in $(pgrep -P "$(cat "$dst/ctinit.pid")"); do
		[ "$(awk '/^NSpid:/ {print $NF}' "/proc/$c/status" 2>/dev/null)" = "$vp" ] || continue
		echo "$c" >"$dst/restored.hostpid"
		return 0
	done
	lz_log "no child of the destination's PID 1 has PID $vp there"
	return 1
}

# rm_tree_state PID: the states (ps STAT, first letter) of PID and its
# descendants, one per line
rm_tree_state() {
	local p
	for p in "$1" $(lz_descendants "$1"); do
		ps -o stat= -p "$p" 2>/dev/null | cut -c1
	done
}

# rm_all_gone PIDS...: none of PIDS is alive
rm_all_gone() {
	local p
	for p in "$@"; do
		lz_exited "$p" || return 1
	done
}

# rm_wait_gone SECONDS PIDS...: wait until none of PIDS is alive
rm_wait_gone() {
	local t=$(($1 * 10))
	shift
	while ! rm_all_gone "$@" && [ $t -gt 0 ]; do
		sleep 0.1
		t=$((t - 1))
	done
	rm_all_gone "$@"
}

# rm_tls_certs DIR: a throwaway CA and a certificate for each end (the
# source's names RM_SRC_ADDR, which the daemon checks) in DIR, with
# openssl; prints nothing, returns 1 if openssl failed
rm_tls_certs() {
	local d=$1 n
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=lazyshm test CA" \
		-keyout "$d/ca-key.pem" -out "$d/ca.pem" >"$d/openssl.log" 2>&1 || return 1
	for n in src dst; do
		local ip=$RM_SRC_ADDR
		[ "$n" = dst ] && ip=$RM_DST_ADDR
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$ip" -keyout "$d/$n-key.pem" -out "$d/$n.csr" \
			>>"$d/openssl.log" 2>&1 &&
			openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
				-days 1 -extfile <(printf 'subjectAltName=IP:%s\n' "$ip") -out "$d/$n.pem" \
				>>"$d/openssl.log" 2>&1 || return 1
	done
}

# Extra arguments of the source's criu dump and of the destination's
# criu lazy-pages (e.g. the --tls options), set by the test
RM_DUMP_ARGS=()
RM_LAZY_ARGS=()

# rm_migrate W NTASKS: the first half of a lazy migration of the workload
# LZ_WP (rm_start_workload): dump, copy, daemon, restore (all must
# succeed); the restored tree's root is in RM_ROOT
rm_migrate() {
	local w=$1 n=$2
	RM_SRC_TASKS=$(cat "$w/wl/ready")
	rm_dump "$w" "$LZ_WP" ${RM_DUMP_ARGS[@]+"${RM_DUMP_ARGS[@]}"} || lz_fail "dump failed"
	rm_copy_images "$w" || lz_fail "cannot copy the images"
	rm_lazy_daemon "$w" ${RM_LAZY_ARGS[@]+"${RM_LAZY_ARGS[@]}"} || lz_fail "criu lazy-pages failed"
	rm_restore "$w" || lz_fail "criu restore failed: $(grep Error "$w/dst/restore.log" | head -3)"
	RM_ROOT=$(cat "$w/dst/restored.hostpid")
	lz_log "restored root: host pid $RM_ROOT, pid $(cat "$w/dst/restored.pid") in the destination's PID namespace"
}

# rm_migration_succeeds W NTASKS: after rm_migrate, the restored tasks
# verify every byte on the destination, the daemon ends cleanly after
# serving faults over the link, the dump reports success and the
# source's tasks are gone
rm_migration_succeeds() {
	local w=$1 n=$2 rc
	lz_verify_all "$w/wl" "$n" "$RM_ROOT" || {
		lz_diag_lazy "$w/dst"
		lz_fail "the restored tasks did not verify their memory"
	}
	lz_wait_gone "$(cat "$w/dst/lazy.pid")" 60 || lz_fail "the lazy-pages daemon did not finish"
	grep -q "Error" "$w/dst/lazy.log" && lz_fail "lazy.log has errors: $(grep Error "$w/dst/lazy.log" | head -3)"
	# the tasks faulted pages in over the link, before the background
	# transfer was done
	grep -qE "uffd: [0-9]+-[0-9]+: #PF" "$w/dst/lazy.log" ||
		lz_skip_part "no page fault was served over the link (the transfer was done first)"
	rc=$(rm_dump_wait "$w" 60) || lz_fail "criu dump did not end"
	[ "$rc" = 0 ] || lz_fail "criu dump failed ($rc): $(grep Error "$w/src/dump.log" | head -3)"
	grep -q "Lazy pages transfer finished successfully" "$w/src/dump.log" ||
		lz_fail "the source did not report a successful transfer"
	rm_wait_gone 10 $RM_SRC_TASKS || lz_fail "source tasks survive a successful migration: $RM_SRC_TASKS"
	lz_log "source: transfer finished, its tasks are gone"
	# every page is on the destination now: verify again
	lz_verify_all "$w/wl" "$n" "$RM_ROOT" || lz_fail "memory differs after the daemon exited"
	lz_lazy_ran
}

# rm_dump_failed W SECONDS PATTERN: the dump ends within SECONDS with a
# failure, its log says PATTERN (why, an extended regex) and that it keeps
# the tasks
rm_dump_failed() {
	local w=$1 secs=$2 why=$3 rc
	rc=$(rm_dump_wait "$w" "$secs") || lz_fail "criu dump did not end within $secs s"
	[ "$rc" != 0 ] || lz_fail "criu dump reports success"
	grep -qE "$why" "$w/src/dump.log" || lz_fail "dump.log does not say '$why': $(grep Error "$w/src/dump.log" | tail -4)"
	grep -qE "The lazy-pages transfer failed: (resuming|leaving stopped) the dumped tasks" "$w/src/dump.log" ||
		lz_fail "dump.log does not say what became of the tasks"
	lz_log "source: dump failed ($rc): $(grep -oE "$why" "$w/src/dump.log" | head -1)"
}

# rm_source_resumed W NTASKS: every source task is alive, not stopped,
# and verifies its memory
rm_source_resumed() {
	local w=$1 n=$2 p st
	for p in $RM_SRC_TASKS; do
		st=$(ps -o stat= -p "$p" | cut -c1)
		case "$st" in
		R | S | D) ;;
		*) lz_fail "source task $p is not running (state '$st')" ;;
		esac
	done
	lz_verify_all "$w/wl" "$n" "$LZ_WP" || lz_fail "the resumed source tasks do not verify their memory"
	lz_log "source: its $n tasks were resumed and verify their memory"
}

# rm_dst_tree_dead W SECONDS: within SECONDS no restored task is left on
# the destination (its PID 1, ctinit, has no child any more)
rm_dst_tree_dead() {
	local w=$1 t=$(($2 * 10)) c
	c=$(cat "$w/dst/ctinit.pid") || return 1
	while [ -n "$(pgrep -P "$c")" ] && [ $t -gt 0 ]; do
		sleep 0.1
		t=$((t - 1))
	done
	[ -z "$(pgrep -P "$c")" ] || {
		lz_log "restored tasks still alive on the destination: $(pgrep -P "$c" | tr '\n' ' ')"
		return 1
	}
}

# rm_wait_faults W N SECONDS: wait until the daemon has served N faults
rm_wait_faults() {
	local t=$(($3 * 10))
	while [ "$(grep -cE "uffd: [0-9]+-[0-9]+: #PF" "$1/dst/lazy.log" 2>/dev/null)" -lt "$2" ] && [ $t -gt 0 ]; do
		sleep 0.1
		t=$((t - 1))
	done
	[ $t -gt 0 ]
}

# rm_results_sound W: every result file the workload wrote says OK (a
# task that ran on missing pages would write FAIL)
rm_results_sound() {
	local f st
	for f in "$1"/wl/res.[0-9]*; do
		[ -e "$f" ] || continue
		read -r st _ <"$f"
		[ "$st" = OK ] || lz_fail "a task ran on memory that was not restored: $(head -1 "$f")"
	done
}

# ---- runc on both hosts (116, 117; source tests/lib/container.sh too) ----
# The container.sh globals (CT_ID, CT_STATE, CT_BUNDLE, CT_IMG, CT_WORK,
# CT_CG) name the source's container until rc_to_destination switches
# them to the destination's; runc runs in the namespace CT_NETNS.

# rc_init: after ct_require, rm_require, rm_setup, ct_init: runc in the
# source namespace, the source container cleaned up at exit as well
rc_init() {
	CT_NETNS=$RM_NS_SRC
	ct_runc() {
		env "${CT_ENV[@]}" nsenter --net="/run/netns/$CT_NETNS" \
			runc --root "$CT_STATE" --criu "$CRIU" --log "$CT_W/runc.log" "$@"
	}
	lz_on_exit "CT_ID=$CT_ID CT_CG=$CT_CG CT_STATE=$CT_STATE CT_NETNS=$RM_NS_SRC ct_cleanup"
	RC_SRC_IMG=$CT_IMG RC_SRC_WORK=$CT_WORK
}

# rc_checkpoint: `runc checkpoint --lazy-pages --page-server --status-fd`
# of the source container, in the background (its exit status in
# CT_W/checkpoint.rc once it ends); returns once the page server is ready
rc_checkpoint() {
	mkfifo "$CT_W/lazy-fifo" || lz_fail "mkfifo failed"
	# held open read-write here, so that runc's write-only descriptor
	# opens without blocking
	exec 8<>"$CT_W/lazy-fifo"
	(
		# runc 1.1.5 takes a write-only descriptor (runc's bats test
		# passes a path, which 1.1.5 refuses)
		ct_runc checkpoint --lazy-pages --page-server "$RM_SRC_ADDR:$RM_PORT" --status-fd 7 \
			--image-path "$RC_SRC_IMG" --work-path "$RC_SRC_WORK" "$CT_ID" </dev/null \
			>"$CT_W/checkpoint.out" 2>&1 7>"$CT_W/lazy-fifo" 8<&-
		echo $? >"$CT_W/checkpoint.rc"
	) &
	lz_track_pid $!
	[ "$(timeout 60 head -c1 <&8 | od -An -tx1 | tr -d ' ')" = 00 ] ||
		lz_fail "runc checkpoint --lazy-pages never got ready: $(ct_runc_log)"
	exec 8<&-
	[ -e "$CT_W/checkpoint.rc" ] && lz_fail "runc checkpoint ended early ($(cat "$CT_W/checkpoint.rc")): $(ct_runc_log)"
	lz_log "source: runc checkpoint --lazy-pages serves pages on $RM_SRC_ADDR:$RM_PORT"
}

# rc_to_destination: copy the images, switch the globals to the
# destination's container (its own name, runc state dir, bundle copy and
# cgroup: the source's exists until the transfer ends), start its daemon
rc_to_destination() {
	local t0
	mkdir -p "$CT_W/dst/img" "$CT_W/dst/work" "$CT_W/dst/state"
	t0=$(date +%s%N)
	cp -a "$RC_SRC_IMG/." "$CT_W/dst/img/" || lz_fail "cannot copy the images"
	lz_log "image copy: $(du -sb "$CT_W/dst/img" | cut -f1) bytes in $((($(date +%s%N) - t0) / 1000000)) ms"
	CT_NETNS=$RM_NS_DST CT_IMG=$CT_W/dst/img CT_WORK=$CT_W/dst/work CT_STATE=$CT_W/dst/state
	CT_ID=$CT_ID-dst CT_CG=/$CT_ID-dst
	cp -a "$CT_BUNDLE" "$CT_W/dst/bundle" && CT_BUNDLE=$CT_W/dst/bundle || lz_fail "cannot copy the bundle"
	ct_edit_config --arg cg "$CT_CG" '.linux.cgroupsPath = $cg'
	rm_dst "$CRIU" lazy-pages --page-server --address "$RM_SRC_ADDR" --port "$RM_PORT" -D "$CT_IMG" \
		-W "$CT_WORK" --libdir "$LIBDIR" -v4 -o lazy.log -d --pidfile "$CT_WORK/lazy.pid" ||
		lz_fail "criu lazy-pages failed"
	lz_track_pid "$(cat "$CT_WORK/lazy.pid")"
}

# rc_checkpoint_rc SECONDS: wait for runc checkpoint to end; prints its
# exit status
rc_checkpoint_rc() {
	lz_wait_file "$CT_W/checkpoint.rc" "$1" || lz_fail "runc checkpoint did not end"
	cat "$CT_W/checkpoint.rc"
}

# rm_private_mid_transfer W: the private-memory workload of 113-115 (128 MiB,
# one child) migrated over a 100 Mbit/s link, the restored tasks faulting
# pages in (RM_DUMP_ARGS and RM_LAZY_ARGS as set by the caller)
rm_private_mid_transfer() {
	local w=$1
	rm_setup
	rm_throttle 100mbit
	rm_start_workload "$w" --kinds private --size-mb 128 --children 1 || lz_fail "workload did not start"
	rm_migrate "$w" 2
	kill -USR1 "$RM_ROOT" $(lz_descendants "$RM_ROOT") || lz_fail "cannot signal the restored tree"
	rm_wait_faults "$w" 50 30 || lz_fail "the restored tasks fault no pages in"
}

# rm_dst_failed W WHY SECONDS WHAT: the destination's daemon exits within
# SECONDS, its log names the cause (WHY, an extended regexp), and the
# restored tree is dead with no result computed on missing pages (WHAT:
# what it lost, for the messages)
rm_dst_failed() {
	local w=$1 why=$2 secs=$3 what=$4
	lz_wait_gone "$(cat "$w/dst/lazy.pid")" "$secs" || lz_fail "the destination's daemon does not notice $what"
	grep -qE "$why" "$w/dst/lazy.log" ||
		lz_fail "lazy.log does not name the cause: $(grep -E 'Error|remote:' "$w/dst/lazy.log" | head -3)"
	rm_dst_tree_dead "$w" 10 || lz_fail "restored tasks survive $what"
	rm_results_sound "$w"
	lz_log "destination: $(grep -oE "$why" "$w/dst/lazy.log" | head -1 | cut -c1-200); the tree was killed"
}

# rm_source_left_stopped W NTASKS: after a migration that failed with
# --lazy-pages-failure stop, the source's tasks are stopped (T) and do not
# run (a SIGUSR1 gets no result), then run again on SIGCONT, their memory
# intact
rm_source_left_stopped() {
	local w=$1 n=$2 p st
	grep -q "leaving stopped the dumped tasks" "$w/src/dump.log" || lz_fail "dump.log does not say the tasks stay stopped"
	sleep 1
	for p in $RM_SRC_TASKS; do
		st=$(ps -o stat= -p "$p" | cut -c1)
		[ "$st" = T ] || lz_fail "source task $p is not stopped (state '$st')"
	done
	lz_log "source: its tasks are stopped (T)"
	rm -f "$w/wl"/res.*
	kill -USR1 $RM_SRC_TASKS
	sleep 1
	ls "$w/wl"/res.* >/dev/null 2>&1 && lz_fail "a stopped source task ran"
	kill -CONT $RM_SRC_TASKS || lz_fail "cannot resume the stopped tasks"
	rm_source_resumed "$w" "$n"
}
