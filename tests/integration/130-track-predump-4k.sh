#!/usr/bin/env bash
# Incremental dumps of 4K shared memory (anonymous shared, SysV) tracked
# with uffd-wp: three pre-dumps with random writes in between, a final dump;
# each iteration after the first writes only what changed (also units
# removed and read back in, which read zeros but are not written);
# restores, eager and lazy, assemble the objects from the chain, byte for
# byte.
# timeout: 240
. "$(dirname "$0")/../lib/track.sh"
trk_init
trk_start --kinds anon,sysv --size-mb 32
SEED=${SEED:-$RANDOM}
lz_log "seed $SEED"
trk_predump 1
trk_cmd write 200 $((SEED + 1))
trk_predump 2 1
# removed units read back in: zeros now, not what the parent images hold
trk_cmd punch 5 $((SEED + 5))
trk_cmd verify
trk_cmd write 200 $((SEED + 2))
trk_predump 3 2
trk_cmd write 200 $((SEED + 3))
trk_cmd verify
trk_dump 4 3
for d in 2 3 4; do
	for k in anon-shared sysv; do
		trk_expect_incremental "$W/d$d" $k
	done
done
# the final dump's pages: the last delta, not the 64 MiB of shared memory
full=$((64 << 20))
b=$(trk_image_bytes "$W/d4")
lz_log "final dump wrote $b bytes of pages (the shared memory is $full)"
[ "$b" -lt $((full / 4)) ] || lz_fail "final dump wrote $b bytes of pages"
trk_restore_verify "$W/d4"
echo "1 passed, 0 failed"
