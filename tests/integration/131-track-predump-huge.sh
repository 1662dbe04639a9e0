#!/usr/bin/env bash
# Incremental dumps of hugetlb 2M shared memory (with 4K anonymous shared
# memory beside it): a pre-dump chain, each later iteration written in
# huge-page units (some of them dropped with MADV_DONTNEED before the next
# pre-dump); eager and lazy restores byte-identical.
# timeout: 240
. "$(dirname "$0")/../lib/track.sh"
trk_init
lz_reserve_hugepages 32 2M || lz_skip "65 free 2M hugepages cannot be reserved (the dump reads hugetlb through a private mapping)"
trk_start --kinds huge-anon,anon --huge-mb 64 --size-mb 16
SEED=${SEED:-$RANDOM}
lz_log "seed $SEED"
trk_predump 1
trk_cmd write 3 $((SEED + 1))
trk_predump 2 1
trk_cmd write 3 $((SEED + 2))
# written units whose huge pages are then dropped (MADV_DONTNEED): the
# zap takes the entries that said "written" (the holder reports it)
trk_cmd drop 2 $((SEED + 2))
trk_predump 3 2
trk_cmd write 3 $((SEED + 3))
trk_dump 4 3
for d in 2 3 4; do
	trk_expect_incremental "$W/d$d" hugetlb-anon
	n=$(trk_written "$W/d$d" hugetlb-anon)
	# 3 writes touch at most 3 huge pages of 32 (in 4K pages: 512 each)
	[ "$n" -le $((3 * 512)) ] || lz_fail "d$d: $n pages of hugetlb-anon written for 3 writes"
done
trk_restore_verify "$W/d4"
echo "1 passed, 0 failed"
