#!/usr/bin/env bash
# A lazy dump's page server gets requests from the network. A client in
# the destination namespace asks it for the pages of a process that was
# not dumped, then (second dump) for pages of a dumped process at an
# address that holds no lazy pages. Each time the source must not crash:
# it ends the session with an error naming the request, the dump fails,
# and the dumped tasks are resumed and verify every byte.
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"

rm_require
command -v python3 >/dev/null || lz_skip "no python3 for the test's page server client"
W=$(lz_workdir)
rm_setup

# bad_get DIR PID VADDR: one PS_IOV_GET (cmd 7) of a page, then wait for
# the page server to close the connection
bad_get() {
	rm_dst python3 - "$RM_SRC_ADDR" "$RM_PORT" "$2" "$3" <<'PY' >"$1/client.log" 2>&1
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
s.sendall(struct.pack("<IIQQ", 7, 1, int(sys.argv[4], 0), int(sys.argv[3])))
got = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
print("closed after %d bytes" % len(got))
PY
}

for part in nopid noaddr; do
	w=$W/$part
	rm_start_workload "$w" --kinds private --size-mb 16 --children 1 || lz_fail "workload did not start"
	RM_SRC_TASKS=$(cat "$w/wl/ready")
	rm_dump "$w" "$LZ_WP" || lz_fail "dump failed"
	if [ $part = nopid ]; then
		bad_get "$w" 999999 0x10000 || lz_fail "the client failed: $(cat "$w/client.log")"
		why="Pages of 999999 requested, which is no dumped process with lazy pages"
	else
		bad_get "$w" "$LZ_WP" 0x1000 || lz_fail "the client failed: $(cat "$w/client.log")"
		why="Pages of $LZ_WP at 1000 requested, which are no lazy pages"
	fi
	lz_log "$part: client: $(cat "$w/client.log")"
	rm_dump_failed "$w" 30 "$why"
	rm_source_resumed "$w" 2
	lz_stop_tasks $RM_SRC_TASKS
done
lz_log "PASS"
