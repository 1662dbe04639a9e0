# Helpers of the container tests (80-89): a busybox container run by runc
# 1.1.5 whose workload is memkinds, checkpointed and restored through runc
# with our CRIU and the lazyshm plugin. Source it after common.sh:
#   . "$(dirname "$0")/../lib/common.sh"
#   . "$(dirname "$0")/../lib/container.sh"
#
# A test calls, in this order:
#   ct_require                     root, runc, iptables, our CRIU, static workloads
#   ct_hugepages N                 the workload's 2M hugepages (again before restores)
#   ct_init                        work dir layout, cleanup, whole-test timeout
#   ct_spec [--pid-host] [--net-host] -- MEMKINDS-ARGS...
#   ct_plugin_via runc.conf|annotation|env
#   ct_start [--first-pid N]       then: ct_checkpoint, ct_restore, ct_verify...
#
# Layout under the work dir W: W/bundle (config.json, rootfs), W/io (bind
# mounted at /lz in the container: memkinds' ready and result files),
# W/state (runc --root), W/img (--image-path), W/work (--work-path: CRIU's
# logs and the lazy-pages daemon's socket, log and pid file), W/runc.log
# (runc's messages), W/ct.log (the container's stdout and stderr).
#
# Inside the container, ctinit (tests/workloads/ctinit.c) is PID 1 and runs
# memkinds; it never forks again, so the tasks' PIDs inside are known.
# memkinds writes inner PIDs to /lz/ready (task index order); ct_host_pid
# turns them into host PIDs through /proc/PID/status (NSpid).
#
# Cleanup, on every exit path: the container is killed and deleted, every
# process left in its cgroup is killed and the cgroups removed, mounts under
# W (CRIU's cgroup yard when it was killed, runc's restore mounts) are
# unmounted, /etc/criu/runc.conf is put back as it was, byte for byte (or
# removed, with /etc/criu, if it did not exist).

CT_STATIC=$BUILD/tests/static
CT_TIMEOUT=${CT_TIMEOUT:-240}

# ct_install_pkgs PKG...: install missing Debian packages (make test's
# scripts/install-deps.sh installs them too); skip if that is impossible
ct_install_pkgs() {
	local p missing=()
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	lz_log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; } ||
		lz_skip "cannot install ${missing[*]} (apt-get install failed)"
}

ct_require() {
	lz_require_root
	lz_require_criu
	ct_install_pkgs runc iptables busybox-static "$@"
	local f
	for f in memkinds ctinit; do
		[ -x "$CT_STATIC/$f" ] || lz_fail "static workload not built at $CT_STATIC/$f (run make build)"
	done
}

# ---- layout, cleanup and timeout ----

ct_init() {
	CT_W=$(lz_workdir)
	CT_ID=lazyshm-$TEST_NAME
	CT_CG=/$CT_ID
	CT_BUNDLE=$CT_W/bundle
	CT_IO=$CT_W/io
	CT_STATE=$CT_W/state
	CT_IMG=$CT_W/img
	CT_WORK=$CT_W/work
	CT_ENV=()
	CT_PIDNS=1
	mkdir -p "$CT_BUNDLE" "$CT_IO" "$CT_STATE" "$CT_IMG" "$CT_WORK"
	lz_on_exit ct_cleanup
	ct_watchdog "$CT_TIMEOUT"
}

# The whole test gets SECS seconds: then the test shell gets SIGTERM (its
# EXIT trap cleans up), and if it is still there 2 s later, blocked in a
# hung runc or criu, its foreground commands are killed. The `cat`s that
# write the container's output (ct_stdio) are spared: the shell may still
# write to them, and would die of SIGPIPE before cleaning up.
ct_watchdog() {
	local secs=$1 main=$$
	(
		trap 'kill $sp 2>/dev/null; exit 0' TERM
		sleep "$secs" &
		sp=$!
		wait $sp
		echo "[$TEST_NAME] FAIL: timeout: the test took more than $secs s"
		kill -TERM "$main"
		sleep 2 &
		sp=$!
		wait $sp
		for c in $(pgrep -P "$main"); do
			[ "$c" = "$BASHPID" ] && continue
			[ "$(cut -d '' -f1 "/proc/$c/cmdline" 2>/dev/null)" = lazyshm-ct-log ] && continue
			kill -9 $(lz_descendants "$c") "$c" 2>/dev/null
		done
	) &
	CT_WATCHDOG=$!
	lz_on_exit "kill $CT_WATCHDOG"
}

# ct_run_timeout SECS CMD...: run CMD; after SECS seconds kill it and
# everything it started (runc's criu swrk child); returns 124 then. Until
# it is waited for, CMD's PID (in CT_BG_PID) cannot name another process.
ct_run_timeout() {
	local secs=$1 pid t rc
	shift
	"$@" <&0 &
	pid=$!
	CT_BG_PID=$pid
	for ((t = secs * 10; t > 0; t--)); do
		lz_exited "$pid" && break
		sleep 0.1
	done
	if ! lz_exited "$pid"; then
		lz_log "timeout after $secs s: $*"
		kill -9 $(lz_descendants "$pid") "$pid" 2>/dev/null
		wait "$pid"
		CT_BG_PID=
		return 124
	fi
	wait "$pid"
	rc=$?
	CT_BG_PID=
	return $rc
}

# Host PIDs of the processes in the container's cgroup (any state)
ct_cgroup_procs() {
	local f
	for f in /sys/fs/cgroup/pids"$CT_CG"/cgroup.procs /sys/fs/cgroup/unified"$CT_CG"/cgroup.procs \
		/sys/fs/cgroup"$CT_CG"/cgroup.procs; do
		[ -r "$f" ] && cat "$f"
	done 2>/dev/null | sort -un
}

# Mount points under DIR, deepest first
ct_mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r
}

ct_cleanup() {
	local p t d
	# a runc (and its criu) that ct_run_timeout had not finished waiting for
	[ -z "${CT_BG_PID:-}" ] || ! kill -0 "$CT_BG_PID" 2>/dev/null ||
		kill -9 $(lz_descendants "$CT_BG_PID") "$CT_BG_PID" 2>/dev/null
	if [ -n "${CT_ID:-}" ]; then
		ct_runc kill --all "$CT_ID" KILL
		ct_runc delete -f "$CT_ID"
	fi >/dev/null 2>&1
	for ((t = 50; t > 0; t--)); do
		p=$(ct_cgroup_procs)
		[ -z "$p" ] && break
		kill -9 $p 2>/dev/null
		sleep 0.1
	done
	# depth first: a cgroup is removed once its children are
	for d in /sys/fs/cgroup/*"$CT_CG" /sys/fs/cgroup"$CT_CG"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	for d in $(ct_mounts_under "$CT_W"); do
		umount -l "$d" 2>/dev/null
	done
}

# ---- the bundle ----

# runc's own messages go to W/runc.log, the container's output to W/ct.log
ct_runc() { env "${CT_ENV[@]}" runc --root "$CT_STATE" --criu "$CRIU" --log "$CT_W/runc.log" "$@"; }

# ct_stdio CMD...: run CMD with the container's stdio (see ct_args_json)
ct_stdio() { "$@" < <(:) > >(exec -a lazyshm-ct-log cat >>"$CT_W/ct.log") 2>&1; }

# the last lines runc logged
ct_runc_log() { tail -n "${1:-3}" "$CT_W/runc.log" 2>/dev/null | sed 's/^time="[^"]*" //' | tr '\n' ' '; }

# ct_rootfs DIR: a busybox rootfs with the static workloads
ct_rootfs() {
	local r=$1 a
	mkdir -p "$r"/{bin,sbin,proc,sys,dev,tmp,etc,lz}
	cp "$(command -v busybox)" "$r/bin/busybox" || return 1
	for a in $("$r/bin/busybox" --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	cp "$CT_STATIC/memkinds" "$r/bin/memkinds" && cp "$CT_STATIC/ctinit" "$r/sbin/ctinit" || return 1
	echo 'root:x:0:0:root:/:/bin/sh' >"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
}

# The container's command. Its stdio are pipes to a `cat` appending to
# W/ct.log (memkinds reports there): CRIU dumps pipes whose other end is
# outside the container, and runc restore hands it its own stdio for them
# (--inherit-fd). A regular file would not do: CRIU cannot dump a
# descriptor of a host file, nor restore a file whose size changed since.
ct_args_json() { printf '%s\n' /sbin/ctinit /bin/memkinds "$@" --ready /lz/ready --result /lz/res | jq -R . | jq -cs .; }

# ct_spec [--pid-host] [--net-host] -- MEMKINDS-ARGS...: the rootfs and
# config.json from `runc spec`, edited: no terminal, our command, W/io at
# /lz, a cgroup of our own. Namespaces: runc's defaults (pid, network, ipc,
# uts, mount) minus pid with --pid-host and network with --net-host.
ct_spec() {
	local drop='[]'
	while [ $# -gt 0 ]; do
		case $1 in
		--pid-host) drop=$(jq -c '. + ["pid"]' <<<"$drop") CT_PIDNS=0 ;;
		--net-host) drop=$(jq -c '. + ["network"]' <<<"$drop") ;;
		--) shift && break ;;
		*) lz_fail "ct_spec: unknown option $1" ;;
		esac
		shift
	done
	ct_rootfs "$CT_BUNDLE/rootfs" || lz_fail "cannot build the rootfs"
	(cd "$CT_BUNDLE" && runc spec) || lz_fail "runc spec failed"
	ct_edit_config --arg io "$CT_IO" --arg cg "$CT_CG" --argjson args "$(ct_args_json "$@")" \
		--argjson drop "$drop" '.process.terminal = false | .process.args = $args | .hostname = "lazyshm" |
		.mounts += [{destination: "/lz", type: "bind", source: $io, options: ["rbind", "rw"]}] |
		.linux.cgroupsPath = $cg | .linux.namespaces |= map(select(.type as $t | $drop | index($t) | not))'
	lz_log "namespaces: $(jq -r '[.linux.namespaces[].type] | join(" ")' "$CT_BUNDLE/config.json")"
}

# ct_edit_config JQ-ARGS...: edit config.json in place
ct_edit_config() {
	local c=$CT_BUNDLE/config.json
	jq "$@" "$c" >"$c.new" && mv "$c.new" "$c" || lz_fail "cannot edit config.json"
}

# ct_plugin_via HOW: how the plugin dir reaches `criu swrk` (runc passes
# nothing of its own): HOW is
#   runc.conf   `libdir DIR` in /etc/criu/runc.conf, which runc hands CRIU
#               as its config file (the original is put back at exit);
#   annotation  the org.criu.config annotation names a file of our own,
#               which replaces runc.conf;
#   env         CRIU_LIBS_DIR in runc's environment (criu inherits it).
ct_plugin_via() {
	case $1 in
	runc.conf)
		ct_save_runc_conf
		echo "libdir $LIBDIR" >/etc/criu/runc.conf || lz_fail "cannot write /etc/criu/runc.conf"
		;;
	annotation)
		echo "libdir $LIBDIR" >"$CT_W/criu.conf"
		ct_edit_config --arg f "$CT_W/criu.conf" '.annotations["org.criu.config"] = $f'
		;;
	env) CT_ENV=(CRIU_LIBS_DIR="$LIBDIR") ;;
	*) lz_fail "ct_plugin_via: unknown way $1" ;;
	esac
	lz_log "plugin dir handed to CRIU via $1"
}

# /etc/criu/runc.conf comes back byte for byte at exit (cp -a), or goes away
# (and /etc/criu with it) if it did not exist
ct_save_runc_conf() {
	if [ ! -d /etc/criu ]; then
		mkdir /etc/criu || lz_fail "cannot create /etc/criu"
		lz_on_exit "rmdir /etc/criu"
	fi
	if [ -e /etc/criu/runc.conf ] || [ -L /etc/criu/runc.conf ]; then
		cp -a /etc/criu/runc.conf "$CT_W/runc.conf.orig" || lz_fail "cannot save /etc/criu/runc.conf"
		lz_on_exit "rm -f /etc/criu/runc.conf; cp -a '$CT_W/runc.conf.orig' /etc/criu/runc.conf"
	else
		lz_on_exit "rm -f /etc/criu/runc.conf"
	fi
}

# ---- running it ----

# ct_start [--first-pid N]: runc create + start, wait until memkinds is
# ready. --first-pid N (own PID namespace only): the container's first
# task after its init gets PID N inside (ns_last_pid set through nsenter
# before `runc start`).
ct_start() {
	local first="" init
	[ "${1:-}" = --first-pid ] && first=$2
	ct_stdio ct_runc create -b "$CT_BUNDLE" "$CT_ID" || lz_fail "runc create failed: $(ct_runc_log)"
	init=$(ct_runc state "$CT_ID" | jq -r .pid) || lz_fail "runc state failed"
	if [ -n "$first" ]; then
		[ "$CT_PIDNS" = 1 ] || lz_fail "ct_start --first-pid needs a PID namespace"
		nsenter -t "$init" -p -- /bin/sh -c "echo $((first - 1)) >/proc/sys/kernel/ns_last_pid" ||
			lz_fail "cannot set ns_last_pid in the container"
	fi
	ct_runc start "$CT_ID" || lz_fail "runc start failed: $(ct_runc_log)"
	lz_wait_file "$CT_IO/ready" 60 || lz_fail "the workload did not start: $(cat "$CT_W/ct.log")"
	lz_log "container $CT_ID runs; tasks (inner PIDs): $(tr '\n' ' ' <"$CT_IO/ready")"
}

# Host PIDs of every process of the container
ct_ps() { ct_runc ps -f json "$CT_ID" 2>/dev/null | jq -r '.[]?'; }

# ct_host_pid INNER: the host PID of the container's task with that PID
# inside (NSpid's last field; with --pid-host both are the same)
ct_host_pid() {
	local p ns
	for p in $(ct_ps); do
		ns=$(awk '/^NSpid:/ {print $NF}' "/proc/$p/status" 2>/dev/null)
		[ "$ns" = "$1" ] && echo "$p" && return 0
	done
	return 1
}

# The workload's tasks, as inner PIDs (task index order)
ct_tasks() { cat "$CT_IO/ready"; }

# ct_checkpoint [RUNC-ARGS...]: runc checkpoint into W/img, W/work; waits
# until every process of the container is gone (their PIDs are needed
# again by the restore when there is no PID namespace)
ct_checkpoint() {
	local pids p
	pids=$(ct_ps)
	[ -n "$pids" ] || lz_fail "the container has no processes before its checkpoint"
	ct_run_timeout 60 ct_runc checkpoint --image-path "$CT_IMG" --work-path "$CT_WORK" "$@" "$CT_ID" || {
		grep -E "Error|lazyshm: .*(fail|refus)" "$CT_WORK/dump.log" | tail -10
		lz_fail "runc checkpoint failed: $(ct_runc_log)"
	}
	for p in $pids; do
		lz_wait_gone "$p" 10 || lz_fail "process $p of the checkpointed container still exists"
	done
	lz_log "checkpointed: $(grep -c . <<<"$pids") processes, $(du -sm "$CT_IMG" | cut -f1) MiB of images"
}

# ct_hugepages N: the workload maps N 2M hugepages: reserve them for it and
# its checkpoint (lz_reserve_hugepages); returns 1 if they cannot be had
ct_hugepages() {
	CT_HUGE=$1
	lz_reserve_hugepages "$1" 2M
}

# Before a restore: the N hugepages must be available again. A dumped
# container's SysV segments go only when its IPC namespace is freed, a
# little after its last task; other tests may have taken some meanwhile.
ct_hugepages_again() {
	local t
	[ -n "${CT_HUGE:-}" ] || return 0
	for ((t = 50; t > 0; t--)); do
		[ "$(lz_hp_avail 2M)" -ge "$CT_HUGE" ] && return 0
		sleep 0.1
	done
	lz_reserve_hugepages_avail "$CT_HUGE" 2M ||
		lz_log "only $(lz_hp_avail 2M) 2M hugepages available for a restore that needs $CT_HUGE"
}

# ct_restore [RUNC-ARGS...]: runc restore -d from W/img; the wall time in
# ms is in CT_RESTORE_MS. Returns runc's status (124: killed after 30 s).
ct_restore() {
	local t0 rc
	ct_hugepages_again
	t0=$(date +%s%N)
	ct_stdio ct_run_timeout 30 ct_runc restore -d -b "$CT_BUNDLE" --image-path "$CT_IMG" --work-path "$CT_WORK" \
		"$@" "$CT_ID"
	rc=$?
	CT_RESTORE_MS=$((($(date +%s%N) - t0) / 1000000))
	if [ $rc -ne 0 ]; then
		lz_log "runc restore $* failed ($rc) after $CT_RESTORE_MS ms: $(ct_runc_log 1)"
		lz_log "restore.log: $(grep -E 'Error|lazyshm' "$CT_WORK/restore.log" 2>/dev/null | grep -v -e hook -e 'cg:' | tail -8)"
		[ ! -e "$CT_WORK/lazy.log" ] ||
			lz_log "lazy.log: $(grep -E 'Error|lazyshm: (task|summary|every)' "$CT_WORK/lazy.log" | tail -8)"
	fi
	return $rc
}

# ct_lazy_daemon [VAR=VALUE...]: start `criu lazy-pages` for a runc
# restore: images from W/img, work dir = runc's --work-path, where CRIU's
# restore looks for lazy-pages.socket. A socket left by an earlier daemon
# would make that restore fail with "Connection refused": remove it.
ct_lazy_daemon() {
	rm -f "$CT_WORK/lazy-pages.socket" "$CT_WORK/lazy.pid"
	env "$@" "$CRIU" lazy-pages -D "$CT_IMG" -W "$CT_WORK" --libdir "$LIBDIR" -v4 -o lazy.log -d \
		--pidfile "$CT_WORK/lazy.pid" || {
		tail -5 "$CT_WORK/lazy.log"
		lz_fail "criu lazy-pages failed"
	}
	lz_track_pid "$(cat "$CT_WORK/lazy.pid")"
}

# ct_verify [INDEX...]: SIGUSR1 to the workload's tasks (all, or those task
# indexes), each checks every byte of its memory and writes /lz/res.INDEX
ct_verify() {
	local idx=("$@") inner=() i p st bytes
	mapfile -t inner <"$CT_IO/ready"
	[ ${#idx[@]} -gt 0 ] || idx=($(seq 0 $((${#inner[@]} - 1))))
	for i in "${idx[@]}"; do
		rm -f "$CT_IO/res.$i"
		p=$(ct_host_pid "${inner[$i]}") || { lz_log "task $i (PID ${inner[$i]} inside) is gone"; return 1; }
		kill -USR1 "$p" || return 1
	done
	for i in "${idx[@]}"; do
		lz_wait_file "$CT_IO/res.$i" 60 || { lz_log "task $i did not report"; return 1; }
		read -r st bytes _ <"$CT_IO/res.$i"
		[ "$st" = OK ] || { lz_log "task $i: $(head -1 "$CT_IO/res.$i")"; return 1; }
		lz_log "task $i verified $bytes bytes: $(tail -n +2 "$CT_IO/res.$i" | tr '\n' ';')"
	done
}

# ct_stop: kill every process of the container, wait until they are gone,
# delete it (without -f: it must be stopped by then)
ct_stop() {
	local pids p
	pids=$(ct_ps)
	ct_runc kill --all "$CT_ID" KILL 2>/dev/null
	for p in $pids; do
		lz_wait_gone "$p" 10 || { lz_log "process $p of the container survives SIGKILL"; return 1; }
	done
	ct_runc delete "$CT_ID" || return 1
	[ -z "$(ct_cgroup_procs)" ] || { lz_log "processes left in $CT_CG: $(ct_cgroup_procs)"; return 1; }
}

# ct_deferred N: restore.log says N shared objects were deferred to the
# lazy-pages daemon, and none restored eagerly but the SysV SHM_HUGETLB one
ct_deferred() {
	local n eager sysv="hugetlb-sysv [0-9a-fx]+ restored eagerly: any process may shmat"
	n=$(grep -c "lazyshm: .* deferred to the lazy-pages daemon" "$CT_WORK/restore.log")
	# the SysV SHM_HUGETLB segment is eager by default (LAZYSHM_SYSV): any
	# process of the container may shmat() it anew
	grep -qE "lazyshm: $sysv" "$CT_WORK/restore.log" ||
		{ lz_log "the SysV SHM_HUGETLB segment was not restored eagerly (the default) with its reason"; return 1; }
	eager=$(grep "lazyshm: .* restored eagerly:" "$CT_WORK/restore.log" | grep -vE "$sysv" | sed 's/.*lazyshm: //' | head -3)
	[ -z "$eager" ] || { lz_log "restored eagerly instead of lazily: $eager"; return 1; }
	[ "$n" = "$1" ] || { lz_log "$n objects deferred to the lazy-pages daemon, expected $1"; return 1; }
}

# ct_lazy_done N: the daemon exits by itself at full residency, wrote its
# stats, served N objects and filled each page exactly once (a hole counts
# as filled); then the test counts as one that completed a lazy restore
ct_lazy_done() {
	local n bad
	lz_wait_gone "$(cat "$CT_WORK/lazy.pid")" 60 || { lz_log "lazy-pages daemon did not finish"; return 1; }
	grep -q "every lazily restored page is populated" "$CT_WORK/lazy.log" || {
		lz_log "daemon did not reach full residency: $(grep -E 'Error|lazyshm' "$CT_WORK/lazy.log" | tail -3)"
		return 1
	}
	n=$(lz_stats "$CT_IMG" '.objects | length') || { lz_log "no lazyshm-stats.json"; return 1; }
	[ "$n" = "$1" ] || { lz_log "the daemon served $n objects, expected $1"; return 1; }
	bad=$(lz_stats "$CT_IMG" '[.objects[] | select(.filled_fault + .filled_prefetch + (.holes // 0) != .pages or
		.removed != 0)] | length')
	lz_log "daemon: $(grep -o 'summary: [0-9]* minor.*' "$CT_WORK/lazy.log")"
	[ "$bad" = 0 ] || { lz_log "an object was not filled exactly once per page"; return 1; }
	lz_lazy_ran
}

# ct_lazy_roundtrip N [--faults]: from the checkpoint in W/img, a lazy
# restore that must work: daemon, runc restore --lazy-pages, N objects
# deferred, every byte verified in every task, the daemon done (each page
# filled once), verified again, container stopped. The restore's wall time
# is in CT_RESTORE_MS, the first verification's in CT_VERIFY_MS. With
# --faults the daemon's prefetch is slowed down (LAZYSHM_TEST_FILL_DELAY_MS)
# so that the verification runs during the lazy phase: some pages must
# then have been filled on the tasks' faults.
ct_lazy_roundtrip() {
	local t0 env=()
	[ "${2:-}" = --faults ] && env=(LAZYSHM_TEST_FILL_DELAY_MS=20)
	ct_lazy_daemon "${env[@]}"
	ct_restore --lazy-pages || lz_fail "runc restore --lazy-pages failed"
	ct_deferred "$1" || lz_fail "not every shared object was deferred to the lazy-pages daemon"
	t0=$(date +%s%N)
	ct_verify || lz_fail "lazy: the restored memory differs"
	CT_VERIFY_MS=$((($(date +%s%N) - t0) / 1000000))
	ct_lazy_done "$1" || lz_fail "lazy: the daemon did not finish cleanly"
	[ ${#env[@]} -eq 0 ] || ct_faults_served || lz_fail "the tasks' faults were never served"
	ct_verify || lz_fail "lazy: the memory differs after the daemon detached"
	ct_stop || lz_fail "lazy: the container did not stop cleanly"
}

# The daemon filled some pages on the restored tasks' faults
ct_faults_served() {
	local n
	# filled on a fault, or a hole touched (a zero page given on the fault)
	n=$(lz_stats "$CT_IMG" '[.objects[] | .filled_fault + .zero_filled] | add // 0')
	lz_log "$n pages served on the tasks' faults (filled, or zero pages for holes)"
	[ "$n" -gt 0 ]
}
