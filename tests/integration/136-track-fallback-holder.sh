#!/usr/bin/env bash
# The holder of the tracking userfaultfds is killed: the tracking is gone,
# so the next iteration dumps every object in full, saying so, and starts
# a new holder; the one after it is incremental again.
# timeout: 240
. "$(dirname "$0")/../lib/track.sh"
trk_init
trk_start --kinds anon,sysv --size-mb 16
trk_predump 1
sock=$(ls "$LAZYSHM_TRACK_DIR"/track-*.sock) || lz_fail "no holder socket after the first pre-dump"
hp=$(pgrep -x -f "lazyshm-trackd $sock") || lz_fail "no holder process for $sock"
lz_log "killing the holder $hp"
kill -9 "$hp"
lz_wait_gone "$hp" 10 || lz_fail "holder $hp survived SIGKILL"
trk_cmd write 50 1
trk_predump 2 1
trk_expect_full "$W/d2" anon-shared "holder of the tree is gone"
trk_expect_full "$W/d2" sysv "holder of the tree is gone"
trk_chain_recovers 2 anon-shared sysv
echo "1 passed, 0 failed"
