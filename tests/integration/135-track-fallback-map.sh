#!/usr/bin/env bash
# A mapping made since the last iteration was not write-protected: its
# object is dumped in full, saying so; then the mapping is tracked too.
# timeout: 240
. "$(dirname "$0")/../lib/track.sh"
trk_init
trk_start --kinds anon,sysv --size-mb 16
trk_predump 1
trk_cmd map 50 1
trk_predump 2 1
trk_expect_full "$W/d2" anon-shared "mapped anew"
trk_expect_incremental "$W/d2" sysv
trk_cmd write 50 2
trk_predump 3 2
trk_expect_incremental "$W/d3" anon-shared
trk_cmd write 50 3
trk_dump 4 3
trk_restore_verify "$W/d4"
echo "1 passed, 0 failed"
