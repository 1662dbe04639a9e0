#!/usr/bin/env bash
# Incremental dumps of a 1G hugetlb object: PAGEMAP_SCAN's WP_MATCHING does
# not re-protect 1G pages on 6.18, UFFDIO_WRITEPROTECT does (plugin/track/
# wp.c). Skipped, saying why, when two 1G pages cannot be had.
# timeout: 300
. "$(dirname "$0")/../lib/track.sh"
trk_init
# the workload maps one page; the dump reads it through a private mapping,
# which reserves one more
lz_reserve_hugepages_avail 2 1G || lz_skip "2 free 1G hugepages cannot be reserved at run time (fragmented memory, or no 1G support)"
trk_start --kinds huge1g-anon,anon --huge-mb 1024 --size-mb 16
SEED=${SEED:-$RANDOM}
lz_log "seed $SEED"
trk_predump 1
trk_cmd write 20 $((SEED + 1))
trk_predump 2 1
trk_predump 3 2
trk_cmd write 20 $((SEED + 3))
trk_dump 4 3
trk_expect_incremental "$W/d2" hugetlb-anon
trk_expect_incremental "$W/d4" hugetlb-anon
# d3: nothing was written since d2, so the 1G page was protected again
n=$(trk_written "$W/d3" hugetlb-anon)
[ "$n" = 0 ] || lz_fail "d3: $n pages of the 1G object written while nothing wrote it (re-protection failed?)"
trk_restore_verify "$W/d4"
echo "1 passed, 0 failed"
