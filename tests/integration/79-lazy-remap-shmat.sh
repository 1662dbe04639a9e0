#!/usr/bin/env bash
# Issue 13: mappings that change shape during the lazy phase (the prefetch
# thread slowed down, far from the pages concerned). Each case is correct
# (the action's own check and every task's verification pass, the daemon
# finishes) or fail-stop (the daemon stops the tree; no task reported wrong
# bytes); never wrong bytes, never a hang:
#  grow       mremap grows a memfd mapping in place over the gap after it,
#             onto the object's second half (no event: the daemon must
#             find the grown range): served correctly; also eagerly
#  forkgrow   the same in a child forked during the lazy phase, whose
#             mappings the daemon knows only from its parent: fail-stop,
#             "fault at ... outside every range known from its parent"
#             (or served correctly)
#  dontunmap  mremap(MREMAP_MAYMOVE|MREMAP_DONTUNMAP): both the new and the
#             old mapping read right
#  mprotect   mprotect splits a 4K and a hugetlb mapping
#  shmat      a SysV SHM_HUGETLB segment attached anew at a new address
#             (not registered with userfaultfd), read there
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"

lz_h_require lazy
lz_reserve_hugepages 8 2M || lz_skip "cannot reserve 17 available 2M hugepages"
W=$(lz_workdir)
KEY=0x4c5a7900
lz_sysv_cleanup_keys $KEY

# judge DIR NTASKS WHAT: after SIGUSR2, correct or fail-stop; OUTCOME says which
judge() {
	local dir=$1 n=$2 what=$3 st
	lz_descendants "$ROOT" >"$dir/forked"
	if lz_wait_file "$dir/res.usr2.0" 30; then
		lz_descendants "$ROOT" >>"$dir/forked"
		read -r st _ <"$dir/res.usr2.0"
		lz_h_no_wrong_bytes "$dir" || lz_fail "$what: a task saw wrong bytes"
		[ "$st" = OK ] || lz_fail "$what: $(cat "$dir/res.usr2.0")"
		sleep 1 # a child's fault takes a moment to stop the tree
		if [ -z "$(lz_tree_alive "$dir")" ] || ! lz_verify_all "$dir" "$n"; then
			lz_h_failstop "$dir" 15 || lz_fail "$what: neither correct nor stopped"
			OUTCOME=fail-stop
			return 0
		fi
		[ "$MODE" = eager ] || lz_lazy_done "$dir" || lz_fail "$what: the daemon did not finish cleanly"
		lz_h_finish "$dir" "$n"
		OUTCOME=correct
		return 0
	fi
	lz_h_failstop "$dir" 15 || {
		lz_diag_lazy "$dir"
		lz_fail "$what: the action did not end and the tree was not stopped (hung)"
	}
	OUTCOME=fail-stop
}

# one NAME MODE NTASKS ARGS...: dump the workload, restore it, run its actions
one() {
	local name=$1 mode=$2 n=$3 D=$W/$1-$2 how=
	shift 3
	MODE=$mode
	lz_h_prepare "$D" --sysv-key $KEY --size-mb 8 --huge-mb 8 "$@"
	lz_h_restore "$D" "$mode" 1000
	[ "$mode" = eager ] || how=" ($(lz_h_deferred_or_eager "$D" "$name"))"
	kill -USR2 "$ROOT" || lz_fail "$name: cannot signal the restored root"
	judge "$D" "$n" "$name $mode"
	lz_log "$name, $mode${how:-}: $OUTCOME"
	LAST=$D
}

CASES=${CASES:-grow forkgrow dontunmap mprotect shmat} # CASES=... for diagnosis
for c in $CASES; do
	case $c in
	grow)
		one grow eager 2 --kinds memfd --children 1 --on-usr2 grow:memfd
		[ $OUTCOME = correct ] || lz_fail "grow, eager: not correct"
		one grow lazy 2 --kinds memfd --children 1 --on-usr2 grow:memfd
		[ $OUTCOME = correct ] || lz_fail "grow in the restored task: stopped, not served: $(grep -E 'Error.*lazyshm' "$LAST/lazy.log" | head -2)"
		;;
	forkgrow)
		one forkgrow lazy 2 --kinds memfd --on-usr2 forkgrow:memfd
		if [ $OUTCOME = fail-stop ]; then
			grep -qE "fault at 0x[0-9a-f]+ outside every range known from its parent" "$LAST/lazy.log" ||
				lz_fail "forkgrow: the tree was stopped, but not for the fault outside the parent's ranges: $(grep Error "$LAST/lazy.log" | head -2)"
		fi
		;;
	dontunmap)
		one dontunmap lazy 1 --kinds memfd,anon --on-usr2 dontunmap:memfd,dontunmap:anon
		;;
	mprotect)
		one mprotect lazy 1 --kinds memfd,huge-memfd --on-usr2 mprotect:memfd:1000:100,mprotect:huge-memfd:2:1
		;;
	shmat)
		one shmat lazy 1 --kinds huge-sysv --on-usr2 shmat:huge-sysv
		;;
	*) lz_fail "no such case: $c" ;;
	esac
done
lz_log "PASS"
