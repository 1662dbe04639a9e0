#!/usr/bin/env bash
# Lazy migration of private anonymous memory between two hosts (network
# namespaces joined by a veth pair, tests/lib/remote.sh): `criu dump
# --lazy-pages` on the source serves the pages, the images are copied to
# the destination, `criu lazy-pages --page-server` + `criu restore
# --lazy-pages` restore the tree there in a PID namespace of its own.
# The transfer is slowed down (tbf) so that the restored tasks fault
# pages in over the link before the background transfer is done. Every
# restored task must verify every byte on the destination, the source
# must report success and its tasks must be gone. The page server runs
# without CAP_SYS_RESOURCE: its tee pipe must fit fs.pipe-max-size.
# timeout: 240
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/remote.sh"

rm_require
W=$(lz_workdir)
rm_setup
rm_throttle 400mbit
rm_start_workload "$W" --kinds private --size-mb 128 --holes --children 1 || lz_fail "workload did not start"
rm_migrate "$W" 2
rm_migration_succeeds "$W" 2
lz_log "PASS"
