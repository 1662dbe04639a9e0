# Helpers of the remote post-copy tests of shared memory (120-125), on top
# of tests/lib/remote.sh: the source serves the shared objects itself
# (lazyshm's own session on RM_PORT + 1), the destination's daemon fetches
# them.
#   . "$(dirname "$0")/../lib/common.sh"
#   . "$(dirname "$0")/../lib/remote.sh"
#   . "$(dirname "$0")/../lib/remote-shm.sh"

# Every kind lazyshm serves from the source, in a tree of three tasks:
# anonymous shmem, a memfd, MAP_SHARED|MAP_HUGETLB, a hugetlb memfd, SysV
# SHM_HUGETLB (LAZYSHM_SYSV=lazy) and an unlinked hugetlbfs file; private
# memory goes through CRIU's page server as before
RS_KINDS=anon,memfd,huge-anon,huge-memfd,huge-sysv,huge-file,private
RS_REMOTE_KINDS=anon-shared,hugetlb-anon,hugetlb-file,hugetlb-memfd,hugetlb-sysv,memfd
RS_NR_REMOTE=6
RS_TASKS=3
RS_SYSV_KEY=0x4c5a0000

# rs_require W HUGE_MB: what the tests need, hugepages for the four hugetlb
# objects of HUGE_MB each on both hosts at once, hugetlbfs at W/huge; the
# restore, the daemon and the dump all read LAZYSHM_SYSV=lazy
rs_require() {
	local w=$1 mb=$2 n
	rm_require
	command -v jq >/dev/null || lz_skip "needs jq"
	"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
	n=$((4 * 2 * mb / 2 + 1))
	lz_reserve_hugepages_avail "$n" 2M || lz_skip "cannot get $n free 2M hugepages"
	RS_HUGEDIR=$w/huge
	lz_mount_hugetlbfs "$RS_HUGEDIR" 2M || lz_fail "cannot mount hugetlbfs"
	lz_sysv_cleanup_keys "$RS_SYSV_KEY"
	export LAZYSHM_SYSV=lazy
}

# rs_tls W: both sessions (CRIU's page server and lazyshm's) over TLS with
# a throwaway CA (tests/lib/remote.sh rm_tls_certs)
rs_tls() {
	local w=$1
	command -v openssl >/dev/null || lz_skip "no openssl to make the test certificates"
	"$CRIU" --help 2>&1 | grep -q -- --tls-cacert || lz_skip "this criu was built without gnutls (no --tls)"
	rm_tls_certs "$w/tls" || lz_fail "openssl could not make the certificates: $(tail -3 "$w/tls/openssl.log")"
	RM_DUMP_ARGS+=(--tls --tls-cacert "$w/tls/ca.pem" --tls-cert "$w/tls/src.pem" --tls-key "$w/tls/src-key.pem"
		--tls-no-cn-verify)
	RM_LAZY_ARGS+=(--tls --tls-cacert "$w/tls/ca.pem" --tls-cert "$w/tls/dst.pem" --tls-key "$w/tls/dst-key.pem")
}

# rs_start W SIZE_MB HUGE_MB: the workload in the source namespace (its
# hugetlbfs file in RS_HUGEDIR)
rs_start() {
	rm_start_workload "$1" --kinds "$RS_KINDS" --size-mb "$2" --huge-mb "$3" --holes --children 2 \
		--hugetlbfs "$RS_HUGEDIR" --unlink || lz_fail "workload did not start"
}

# rs_check_source W: after rm_migrate (or a dump and copy), the source
# serves the six shared objects, the images have none of their pages
rs_check_source() {
	local w=$1 remote bytes
	grep -q "lazyshm: dump: serving $RS_NR_REMOTE shared objects to the destination on $RM_SRC_ADDR:$((RM_PORT + 1))" \
		"$w/src/dump.log" ||
		lz_fail "the source does not serve its $RS_NR_REMOTE shared objects: $(grep 'goes into the images' "$w/src/dump.log")"
	"$BUILD/bin/lazyshm-img" json "$w/dst" >"$w/img.json" || lz_fail "lazyshm-img json failed"
	remote=$(jq -r '[.objects[] | select(.remote) | .kind] | sort | join(",")' "$w/img.json")
	[ "$remote" = "$RS_REMOTE_KINDS" ] || lz_fail "remote objects in the images: $remote"
	# only private pages (and CRIU's own images) were copied
	bytes=$(cat "$w/dst"/pages-*.img | wc -c)
	[ "$bytes" -lt $((8 << 20)) ] || lz_fail "the images hold $bytes bytes of pages"
	lz_log "source: serves $remote; the images hold $bytes bytes of pages"
}

# rs_mid_transfer W: the restored tasks read their memory and fault pages
# in over the link; the daemon has not fetched everything yet
rs_mid_transfer() {
	local w=$1
	kill -USR1 "$RM_ROOT" $(lz_descendants "$RM_ROOT") || lz_fail "cannot signal the restored tree"
	rm_wait_faults "$w" 50 30 || lz_fail "the restored tasks fault no pages in"
	grep -q "every lazily restored page is populated" "$w/dst/lazy.log" &&
		lz_fail "every page was there already: the test proves nothing"
	lz_log "mid-transfer: $(grep -cE '#PF' "$w/dst/lazy.log") faults served, $(grep 'progress:' "$w/dst/lazy.log" | tail -1 | sed 's/.*progress: //')"
}

# rs_source_no_done W: the source's session with the destination ended without DONE
rs_source_no_done() {
	grep -q "remote: .* has every page: DONE" "$1/src/dump.log" && lz_fail "the source logged a DONE"
	grep -qE "remote: the session with .* ended without DONE|remote: no destination fetched" "$1/src/dump.log" ||
		lz_fail "the source does not say its session failed: $(grep 'remote:' "$1/src/dump.log" | tail -3)"
	lz_log "source: $(grep -oE 'remote: the session with .* ended without DONE' "$1/src/dump.log" | head -1)"
}

# rs_mid_migration W: the shared-memory workload of 123-125 migrated over a
# 100 Mbit/s link, the source checked, the destination mid-transfer
rs_mid_migration() {
	local w=$1
	rm_setup
	rm_throttle 100mbit
	rs_start "$w" 48 16
	rm_migrate "$w" $RS_TASKS
	rs_check_source "$w"
	rs_mid_transfer "$w"
}
