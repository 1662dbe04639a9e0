#!/usr/bin/env bash
# A write through a descriptor is not seen by uffd-wp: an object held open
# as a descriptor is dumped in full, saying so; the others stay incremental,
# and the restore is byte-identical.
# timeout: 240
. "$(dirname "$0")/../lib/track.sh"
trk_init
trk_start --kinds anon,sysv --size-mb 16
trk_predump 1
trk_cmd fdwrite
trk_cmd write 50 1
trk_predump 2 1
trk_expect_full "$W/d2" anon-shared "held open as descriptor"
trk_expect_incremental "$W/d2" sysv
trk_cmd write 50 2
trk_dump 3 2
trk_expect_full "$W/d3" anon-shared "held open as descriptor"
trk_restore_verify "$W/d3"
echo "1 passed, 0 failed"
