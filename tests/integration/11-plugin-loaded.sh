#!/usr/bin/env bash
# The lazyshm plugin is loaded by `criu dump` and `criu restore --libdir`:
# a one-task workload with one shared and one private 1 MiB region is
# dumped and restored, both logs must carry the plugin's init line, and the
# restored task must still verify its memory.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
WL=$TBIN/memkinds
[ -x "$WL" ] || lz_fail "memkinds not built at $WL (make build)"

W=$(lz_workdir)
D=$W/img
mkdir -p "$D"
setsid "$WL" --kinds anon,private --size-mb 1 --ready "$W/ready" --result "$W/result" \
	</dev/null >"$W/wl.log" 2>&1 &
WPID=$!
lz_track_pid $WPID
disown $WPID # no "Killed" notice when criu dump kills it; bash still reaps it
lz_wait_file "$W/ready" 10 || lz_fail "workload not ready: $(cat "$W/wl.log")"

lz_criu_dump "$D" "$WPID" || lz_fail "criu dump failed"
lz_wait_gone "$WPID" 10 || lz_fail "dumped task $WPID still exists"
lz_criu_restore "$D" || lz_fail "criu restore failed"
lz_on_exit "lz_stop_tasks $WPID"

for stage in dump restore; do
	line=$(grep -m1 'lazyshm: lazyshm plugin .* initialized for' "$D/$stage.log")
	[[ "$line" == *"initialized for $stage"* ]] || lz_fail "lazyshm plugin not loaded at $stage (see $stage.log)"
	lz_log "$stage.log: ${line#*lazyshm: }"
done

kill -USR1 "$WPID" || lz_fail "restored task $WPID is not there"
lz_wait_file "$W/result.0" 10 || lz_fail "restored task wrote no result: $(cat "$W/wl.log")"
read -r status bytes _ <"$W/result.0"
[ "$status $bytes" = "OK $((2 * 1048576))" ] || lz_fail "restored task says: $(head -1 "$W/result.0")"
lz_log "OK: plugin loaded at dump and restore, restored task verified $bytes bytes"
