# Helpers of the incremental-dump tests (130-139): the trackwl workload, a
# chain of pre-dumps and a final dump, restores and the tracking holder.
# Source it after nothing else: it sources common.sh.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TRACKD=$BUILD/bin/lazyshm-trackd

# trk_init: W (work dir) and a holder directory of this test's own; every
# holder started in it is stopped at exit (the workload's tasks are killed
# first: registered later, run earlier).
trk_init() {
	lz_require_root
	lz_require_criu
	[ -x "$TRACKD" ] || lz_fail "no $TRACKD (make build)"
	W=$(lz_workdir)
	export LAZYSHM_TRACK_DIR=$W/trk
	mkdir -p -m 0700 "$LAZYSHM_TRACK_DIR"
	lz_on_exit "_trk_stop_holders '$LAZYSHM_TRACK_DIR'"
	TSEQ=0
}
_trk_stop_holders() {
	local s
	for s in "$1"/track-*.sock; do
		[ -S "$s" ] && "$TRACKD" --stop "$s"
	done
}

# trk_start ARGS...: trackwl --dir $W ARGS in its own session and IPC
# namespace; its pid in P
trk_start() {
	lz_kill_listed_at_exit "$W/ready"
	lz_kill_listed_at_exit "$W/restored.pid"
	setsid unshare --ipc "$TBIN/trackwl" --dir "$W" "$@" >"$W/workload.log" 2>&1 </dev/null &
	disown $!
	lz_wait_file "$W/ready" 30 || lz_fail "trackwl did not start: $(cat "$W/workload.log")"
	P=$(cat "$W/ready")
}

# trk_cmd VERB [N SEED] [PID]: one command to the workload (its root, or
# PID); fails the test unless it answers OK. The answer is in TANS.
trk_cmd() {
	local verb=$1 n=${2:-0} seed=${3:-0} pid=${4:-$P}
	TSEQ=$((TSEQ + 1))
	echo "$TSEQ $verb $n $seed" >"$W/cmd.tmp" && mv "$W/cmd.tmp" "$W/cmd"
	kill -USR1 "$pid" || lz_fail "workload $pid is gone"
	lz_wait_file "$W/done.$TSEQ" 120 || lz_fail "workload did not answer '$verb'"
	TANS=$(cat "$W/done.$TSEQ")
	case "$TANS" in OK*) ;; *) lz_fail "workload: $verb: $TANS" ;; esac
}

# trk_predump N [PARENT]: criu pre-dump into $W/dN, on $W/dPARENT
trk_predump() {
	local d=$W/d$1
	mkdir -p "$d"
	"$CRIU" pre-dump -D "$d" -t "$P" --libdir "$LIBDIR" -v4 -o dump.log --shell-job \
		${2:+--prev-images-dir ../d$2} || {
		tail -20 "$d/dump.log"
		lz_fail "pre-dump $1 failed"
	}
}

# trk_dump N PARENT: the final dump into $W/dN (the tree is killed)
trk_dump() {
	local d=$W/d$1 p tree
	mkdir -p "$d"
	tree="$P $(lz_descendants "$P")"
	lz_criu_dump "$d" "$P" --track-mem --prev-images-dir "../d$2" || lz_fail "dump $1 failed"
	# its pids (also as a group or session id) must be free for the restore
	for p in $tree; do
		lz_wait_gone "$p" 10 || lz_fail "dumped task $p still exists"
	done
}

# trk_written DIR KIND: how many pages of the KIND object DIR's run wrote
# ("" if it was dumped in full)
trk_written() {
	sed -n "s/.*lazyshm: track: $2 shmid [0-9]*: \([0-9]*\) of [0-9]* pages written.*/\1/p" "$1/dump.log" | tail -1
}

# trk_expect_incremental DIR KIND: the KIND object was dumped incrementally
trk_expect_incremental() {
	local n
	n=$(trk_written "$1" "$2")
	[ -n "$n" ] || lz_fail "$(basename "$1"): $2 was dumped in full: $(grep "track: $2" "$1/dump.log" | tail -1)"
	lz_log "$(basename "$1"): $2: $n pages written, the others left in the parent images"
}

# trk_expect_full DIR KIND WHY: the KIND object was dumped in full, and the
# log says WHY (a pattern; "will be" when CRIU had no parent pagemap to ask
# about: an object restored under a new id that the run cannot map back)
trk_expect_full() {
	grep -Eq "track: $2 shmid [0-9]* (is|will be) dumped in full: .*$3" "$1/dump.log" ||
		lz_fail "$(basename "$1"): $2 not dumped in full for '$3': $(grep "track: $2" "$1/dump.log" | tail -2)"
	[ -z "$(trk_written "$1" "$2")" ] || lz_fail "$(basename "$1"): $2 both full and incremental?"
	lz_log "$(basename "$1"): $2 dumped in full: $(grep -Eo "(is|will be) dumped in full: .*$3[^:]*" "$1/dump.log" | tail -1)"
}

# trk_image_bytes DIR: bytes of page data DIR's images hold (pages-*.img:
# the shared objects' and the tasks' private memory)
trk_image_bytes() {
	cat "$1"/pages-*.img | wc -c
}

# trk_restore_verify DIR NTASKS: restore DIR eagerly, verify, kill; then
# lazily, verify, wait for full residency, kill
trk_restore_verify() {
	local d=$1 n=${2:-1} r
	LAZYSHM_MODE=eager lz_criu_restore "$d" || lz_fail "eager restore failed"
	r=$(cat "$d/restored.pid")
	P=$r trk_cmd verify 0 0 "$r"
	lz_log "eager restore from the chain: $TANS"
	grep -q "restored eagerly and validated" "$d/restore.log" || lz_fail "eager restore did not validate"
	_lz_kill_listed "$d/restored.pid"
	lz_wait_gone "$r" 10 || lz_fail "the eagerly restored task $r is not reaped"
	rm -f "$d/restored.pid"
	lz_lazy_restore "$d" || lz_fail "lazy restore failed"
	r=$(cat "$d/restored.pid")
	trk_cmd verify 0 0 "$r"
	lz_log "lazy restore from the chain: $TANS"
	lz_lazy_done "$d" || lz_fail "lazy restore did not complete"
	_lz_kill_listed "$d/restored.pid"
}

# trk_chain_recovers N KIND...: after the (full) iteration dN, the tracking
# holds again: 50 units written, the pre-dump d(N+1) and, 50 more later,
# the final dump d(N+2) are incremental for every KIND, and the chain
# restores byte-identical, eagerly and lazily
trk_chain_recovers() {
	local n=$1 k
	shift
	trk_cmd write 50 "$n"
	trk_predump $((n + 1)) "$n"
	for k; do trk_expect_incremental "$W/d$((n + 1))" "$k"; done
	trk_cmd write 50 $((n + 1))
	trk_dump $((n + 2)) $((n + 1))
	for k; do trk_expect_incremental "$W/d$((n + 2))" "$k"; done
	trk_restore_verify "$W/d$((n + 2))"
}
