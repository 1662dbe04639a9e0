# One memory kind through dump and `criu restore --lazy-pages` with the
# plugin, shared by a parent and a child; both verify every byte before and
# after the daemon detaches. Sourced by tests/integration/5*-kind-*.sh:
#   lz_kind_test KIND EXPECT [REASON]
# EXPECT: lazy (deferred to the daemon), eager (restored eagerly by the
# plugin, validated, REASON logged) or criu (left to CRIU: private memory
# and files, which the plugin does not see yet).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

_kind_hugepages() {
	case "$1" in
	huge1g-*) lz_reserve_hugepages_avail 2 1G || lz_skip "cannot reserve two available 1G hugepages" ;;
	huge-* | priv-huge) lz_reserve_hugepages_avail 32 2M || lz_skip "cannot reserve 32 available 2M hugepages" ;;
	esac
}

_kind_expect() {
	local kind=$1 expect=$2 reason=$3 log=$W/restore.log
	case $expect in
	lazy)
		grep -q "deferred to the lazy-pages daemon" "$log" || lz_fail "$kind was not deferred"
		lz_lazy_done "$W" || lz_fail "$kind: the daemon did not finish cleanly"
		[ "$(lz_stats "$W" '[.objects[] | .filled_fault + .filled_prefetch] | add')" -gt 0 ] ||
			lz_fail "the daemon populated no page of $kind"
		;;
	eager)
		grep -q "restored eagerly: $reason" "$log" || lz_fail "$kind: no 'restored eagerly: $reason' in restore.log"
		grep -q "restored eagerly and validated" "$log" || lz_fail "$kind was not validated"
		;;
	criu)
		grep -q "deferred to the lazy-pages daemon" "$log" && lz_fail "$kind was deferred"
		[ -z "$reason" ] || grep -q "$reason" "$log" || lz_fail "$kind: no '$reason' in restore.log"
		;;
	esac
	return 0
}

lz_kind_test() {
	local kind=$1 expect=$2 reason=${3:-} args=()

	lz_require_root
	lz_require_criu
	"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
	_kind_hugepages "$kind"
	W=$(lz_workdir)
	if [ "$kind" = huge-file ]; then
		lz_mount_hugetlbfs "$W/hugetlbfs" 2M || lz_skip "cannot mount hugetlbfs"
		args=(--hugetlbfs "$W/hugetlbfs")
	fi
	lz_start_memkinds "$W" --kinds "$kind" --size-mb 32 --huge-mb 16 --holes --children 1 "${args[@]}" ||
		lz_fail "workload did not start"
	lz_dump_gone "$W" "$LZ_WP" || lz_fail "dump failed"
	lz_lazy_restore "$W" || lz_fail "lazy restore failed"
	lz_verify_all "$W" 2 || lz_fail "$kind: restored bytes differ"
	lz_wait_gone "$(cat "$W/lazy.pid")" 60 || lz_fail "lazy-pages daemon did not finish"
	_kind_expect "$kind" "$expect" "$reason"
	lz_verify_all "$W" 2 || lz_fail "$kind: bytes differ after the daemon detached"
	lz_log "PASS: $kind restored ($expect) and identical in both tasks"
}
