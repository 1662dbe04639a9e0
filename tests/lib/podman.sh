# Helpers of the podman tests (88, 89): podman 4.3.1 checkpoints and
# restores the container of tests/lib/container.sh through runc. Source it
# after common.sh and container.sh, then: ct_require podman; ct_init;
# pm_init; pm_image; pm_run ...
#
# Everything podman keeps lives under W/podman: its storage (vfs driver: no
# overlay mounts), tmp dir, network config, and runc's state (--runtime-flag
# root=...); only its run dir is in /tmp (podman wants at most 50
# characters there). The container's cgroups are under /lazyshm-TEST
# (--cgroup-parent), which ct_cleanup removes. podman has no option to
# restore lazily and passes none to runc: the CRIU config file named by the
# container's org.criu.config annotation (W/criu.conf) carries `libdir`,
# and `lazy-pages` during a lazy restore only. runc finds our CRIU as `criu`
# first in PATH (W/bin), as does podman's own CRIU version check.

pm() {
	env PATH="$CT_W/bin:$PATH" podman --root "$PM_DIR/storage" --runroot "$PM_RUN" --tmpdir "$PM_DIR/tmp" \
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file \
		--network-config-dir "$PM_DIR/cni" --runtime runc --runtime-flag "root=$PM_DIR/runc" "$@"
}

pm_init() {
	PM_DIR=$CT_W/podman
	PM_IMAGE=localhost/lazyshm-test:$TEST_NAME
	mkdir -p "$PM_DIR"/{storage,tmp,cni,runc} "$CT_W/bin"
	PM_RUN=$(mktemp -d /tmp/lazyshm-podman.XXXXXX) || lz_fail "mktemp failed"
	lz_on_exit "rm -rf --one-file-system '$PM_RUN'"
	ln -s "$CRIU" "$CT_W/bin/criu"
	# podman import writes its blob info cache there, whatever --root says
	[ -e /var/lib/containers ] || lz_on_exit "rm -rf /var/lib/containers"
	# and something of it creates runc's default root, empty
	[ -e /run/runc ] || lz_on_exit "rmdir /run/runc"
	# and its lock file, which podman creates once and never removes
	[ -e /dev/shm/libpod_lock ] || lz_on_exit "rm -f /dev/shm/libpod_lock"
	lz_on_exit pm_cleanup
	pm_conf
}

# pm_conf [lazy]: the CRIU config file runc hands CRIU (org.criu.config)
pm_conf() {
	echo "libdir $LIBDIR" >"$CT_W/criu.conf"
	[ "${1:-}" != lazy ] || echo "lazy-pages" >>"$CT_W/criu.conf"
}

# Processes started by podman for our storage: conmon (it daemonizes, so it
# is no child of ours), the runc it runs and its criu, the exit command
# conmon runs (`podman container cleanup`); with their descendants
pm_procs() {
	local p
	for p in $(pgrep -f -- "$PM_DIR"); do
		echo "$p"
		lz_descendants "$p"
	done
}

pm_cleanup() {
	local t
	pm rm -a -f -t 0 >/dev/null 2>&1
	pm rmi -a -f >/dev/null 2>&1
	for ((t = 100; t > 0; t--)); do
		[ -z "$(pm_procs)" ] && break
		sleep 0.1
	done
	# a restore that hung (its criu stuck) is still there
	[ -z "$(pm_procs)" ] || kill -9 $(pm_procs) 2>/dev/null
	pm rm -a -f -t 0 >/dev/null 2>&1
}

# pm_image: the test's busybox rootfs as a podman image (podman import, no
# registry)
pm_image() {
	ct_rootfs "$CT_W/rootfs" || lz_fail "cannot build the rootfs"
	tar -C "$CT_W/rootfs" -cf "$CT_W/rootfs.tar" . || lz_fail "cannot tar the rootfs"
	pm import "$CT_W/rootfs.tar" "$PM_IMAGE" >"$CT_W/podman-import.log" 2>&1 ||
		lz_fail "podman import failed: $(tail -2 "$CT_W/podman-import.log")"
}

# pm_run [--host-ns] -- MEMKINDS-ARGS...: podman run -d the container; its
# own PID namespace and a network namespace with lo only (--network none),
# or with --host-ns the host's PID and network namespaces. podman's default
# RLIMIT_NOFILE and RLIMIT_NPROC are above this machine's hard limits,
# which root without CAP_SYS_RESOURCE cannot raise: ask for less.
pm_run() {
	local ns=(--network none)
	[ "$1" = --host-ns ] && ns=(--network host --pid host) && shift
	[ "$1" = -- ] && shift
	pm run -d --name "$CT_ID" --cgroup-parent "$CT_CG" "${ns[@]}" \
		--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
		--annotation "org.criu.config=$CT_W/criu.conf" -v "$CT_IO:/lz" \
		"$PM_IMAGE" /sbin/ctinit /bin/memkinds "$@" --ready /lz/ready --result /lz/res \
		>"$CT_W/podman-run.log" 2>&1 || lz_fail "podman run failed: $(tail -2 "$CT_W/podman-run.log")"
	lz_wait_file "$CT_IO/ready" 60 || lz_fail "the workload did not start: $(pm logs "$CT_ID" 2>&1 | tail -3)"
	PM_USERDATA=$(pm inspect --format '{{.StaticDir}}' "$CT_ID") || lz_fail "podman inspect failed"
	PM_CID=$(pm inspect --format '{{.Id}}' "$CT_ID") || lz_fail "podman inspect failed"
	# runc's --image-path and --work-path, as podman passes them
	CT_IMG=$PM_USERDATA/checkpoint
	CT_WORK=$PM_USERDATA
	lz_log "podman container runs; tasks (inner PIDs): $(tr '\n' ' ' <"$CT_IO/ready")"
}

# ct_ps for podman: host PIDs of the container's processes, from runc
# (`podman top` lists the host's processes when the container has no PID
# namespace of its own)
pm_ps() { runc --root "$PM_DIR/runc" ps -f json "$PM_CID" 2>/dev/null | jq -r '.[]?'; }

# pm_checkpoint: podman container checkpoint --keep (CRIU's logs stay in
# the work dir), then wait until the container's processes are gone
pm_checkpoint() {
	local pids p
	pids=$(pm_ps)
	[ -n "$pids" ] || lz_fail "the container has no processes before its checkpoint"
	ct_run_timeout 60 pm container checkpoint --keep "$CT_ID" >"$CT_W/podman-checkpoint.log" 2>&1 || {
		grep -E "Error" "$CT_WORK/dump.log" | tail -5
		lz_fail "podman container checkpoint failed: $(tail -2 "$CT_W/podman-checkpoint.log")"
	}
	for p in $pids; do
		lz_wait_gone "$p" 10 || lz_fail "process $p of the checkpointed container still exists"
	done
	grep -q "lazyshm: dump: wrote lazyshm-shmem.img" "$CT_WORK/dump.log" ||
		lz_fail "the plugin did not write its index (not our CRIU, or no libdir?)"
	lz_log "checkpointed by podman: $(grep -o 'lazyshm: dump: wrote.*' "$CT_WORK/dump.log")"
}

# pm_restore [lazy [VAR=VALUE...]]: podman container restore --keep; lazy:
# with `lazy-pages` in the CRIU config file and a daemon (given VAR=VALUE)
# in runc's work path (podman's userdata dir); the config is plain again
# afterwards, or the next checkpoint would run `criu dump --lazy-pages`.
# Wall time in CT_RESTORE_MS.
pm_restore() {
	local t0 rc
	rm -f "$CT_WORK/restore.log"
	if [ "${1:-}" = lazy ]; then
		shift
		pm_conf lazy
		ct_lazy_daemon "$@"
	fi
	ct_hugepages_again
	t0=$(date +%s%N)
	ct_run_timeout 30 pm container restore --keep "$CT_ID" >"$CT_W/podman-restore.log" 2>&1
	rc=$?
	CT_RESTORE_MS=$((($(date +%s%N) - t0) / 1000000))
	pm_conf
	if [ $rc -ne 0 ]; then
		lz_log "podman container restore failed ($rc): $(tail -2 "$CT_W/podman-restore.log" | tr '\n' ' ')"
		lz_log "restore.log: $(grep -E 'Error|lazyshm' "$CT_WORK/restore.log" 2>/dev/null | grep -v -e hook -e 'cg:' | tail -8)"
		[ ! -e "$CT_WORK/lazy.log" ] ||
			lz_log "lazy.log: $(grep -E 'Error|lazyshm: (task|summary|every)' "$CT_WORK/lazy.log" | tail -8)"
	fi
	return $rc
}

# the tests' helpers (ct_verify, ct_checkpoint...) find the container's
# processes through podman
ct_ps() { pm_ps; }
