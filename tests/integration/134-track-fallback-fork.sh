#!/usr/bin/env bash
# A task forked since the last iteration has no write tracking (forks are
# not followed: no EVENT_FORK): the objects it maps are dumped in full,
# saying so; from then on it is tracked, and the next iteration is
# incremental again.
# timeout: 240
. "$(dirname "$0")/../lib/track.sh"
trk_init
trk_start --kinds anon,sysv --size-mb 16
trk_predump 1
trk_cmd fork 50 1
trk_predump 2 1
trk_expect_full "$W/d2" anon-shared "was not tracked since the parent images"
trk_expect_full "$W/d2" sysv "was not tracked since the parent images"
trk_cmd write 50 2
trk_predump 3 2
trk_expect_incremental "$W/d3" anon-shared
trk_expect_incremental "$W/d3" sysv
trk_cmd write 50 3
trk_dump 4 3
trk_expect_incremental "$W/d4" anon-shared
trk_restore_verify "$W/d4"
echo "1 passed, 0 failed"
