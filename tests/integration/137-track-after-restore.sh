#!/usr/bin/env bash
# The periodic checkpoint cycle across a lazy restore: a tracked chain is
# restored lazily; the restored tree is not tracked from its restore, so
# its first pre-dump on the restore's images dumps every object in full,
# saying why, and starts the tracking; the next iteration is incremental,
# and the chain across the restore restores byte-identical.
# timeout: 240
. "$(dirname "$0")/../lib/track.sh"
trk_init
trk_start --kinds anon,sysv --size-mb 16
trk_predump 1
trk_cmd write 50 1
trk_dump 2 1
lz_lazy_restore "$W/d2" || lz_fail "lazy restore failed"
P=$(cat "$W/d2/restored.pid")
trk_cmd verify
lz_log "lazy restore: $TANS"
lz_lazy_done "$W/d2" || lz_fail "lazy restore did not complete"
trk_cmd write 50 2
trk_predump 3 2
# the restored anonymous shared memory is a memfd to CRIU (restorer.c)
for k in memfd sysv; do
	grep -Eq "track: $k shmid [0-9]* (will be|is) dumped in full: .*(holder of the tree is gone|no tracked parent)" \
		"$W/d3/dump.log" || lz_fail "d3: $k not dumped in full after the restore: $(grep "track: $k" "$W/d3/dump.log" | tail -2)"
	[ -z "$(trk_written "$W/d3" $k)" ] || lz_fail "d3: $k incremental without tracking since the restore"
	lz_log "d3: $(grep -Eo "track: $k shmid [0-9]* (will be|is) dumped in full: [^:]*" "$W/d3/dump.log" | tail -1)"
done
trk_chain_recovers 3 memfd sysv
echo "1 passed, 0 failed"
