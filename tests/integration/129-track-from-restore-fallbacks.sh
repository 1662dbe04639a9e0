#!/usr/bin/env bash
# Tracking from a lazy restore (test 138) where it cannot vouch for the
# restored tree, each case falling back to a full dump that says why, the
# tree running on untouched:
#  1. the task removes pages while the lazy restore is still filling (a
#     slowed prefetch): the daemon hands the task over but leaves it out of
#     the restored state; the next pre-dump writes its objects in full;
#  2. the holder of the restored tree is killed: its userfaultfds close,
#     the tree runs on (faults and removals now go to the kernel), and the
#     next pre-dump writes everything in full; the one after is incremental.
# Both chains restore byte-identical.
# timeout: 300
. "$(dirname "$0")/../lib/track.sh"
trk_init
export LAZYSHM_SYSV=lazy

# a tracked chain d1 <- d2, the tree killed by the dump
chain() {
	trk_start --kinds anon,sysv --size-mb 16
	trk_predump 1
	trk_cmd write 50 1
	trk_dump 2 1
}

# 1. a removal during the lazy phase
chain
LAZYSHM_TEST_FILL_DELAY_MS=20 lz_lazy_restore "$W/d2" --track-mem || lz_fail "lazy restore failed"
P=$(cat "$W/d2/restored.pid")
trk_cmd punch 2 5
lz_lazy_done "$W/d2" || lz_fail "lazy restore did not complete"
grep -q "what it maps will be dumped in full next time: it removed pages of shared memory during the lazy restore" \
	"$W/d2/lazy.log" || lz_fail "the removal went unnoticed: $(grep 'track:' "$W/d2/lazy.log" | tail -3)"
trk_cmd verify
trk_cmd write 50 2
trk_predump 3 2
trk_expect_full "$W/d3" memfd "not tracked since the parent images"
trk_expect_full "$W/d3" sysv "not tracked since the parent images"
trk_chain_recovers 3 memfd sysv
rm -rf "$W"/d[1-5] "$W"/ready "$W"/done.*

# 2. the holder of the restored tree is killed
chain
lz_lazy_restore "$W/d2" --track-mem || lz_fail "lazy restore failed"
P=$(cat "$W/d2/restored.pid")
lz_lazy_done "$W/d2" || lz_fail "lazy restore did not complete"
sock=$(ls "$LAZYSHM_TRACK_DIR"/track-*.sock) || lz_fail "no holder socket after the restore"
hp=$(pgrep -x -f "lazyshm-trackd $sock") || lz_fail "no holder process for $sock"
lz_log "killing the holder $hp of the restored tree"
kill -9 "$hp"
lz_wait_gone "$hp" 10 || lz_fail "holder $hp survived SIGKILL"
trk_cmd verify
trk_cmd punch 2 6
trk_cmd write 50 2
trk_cmd verify
lz_log "the tree runs on without its holder: $TANS"
trk_predump 3 2
trk_expect_full "$W/d3" memfd "holder of the tree is gone"
trk_expect_full "$W/d3" sysv "holder of the tree is gone"
trk_chain_recovers 3 memfd sysv
echo "1 passed, 0 failed"
