#!/usr/bin/env bash
# Issue 13: sealed memfds. A memfd filled, then sealed against writes
# (F_SEAL_WRITE|F_SEAL_GROW|F_SEAL_SHRINK; 4K and hugetlb) or against future
# writes (F_SEAL_FUTURE_WRITE), mapped read-only by a parent and a child, its
# fd closed. Each is restored eagerly, then lazily with the prefetch thread
# slowed down while both tasks read every byte: the restore succeeds, every
# byte verifies, and afterwards every task's object has exactly the dumped
# seals (F_GET_SEALS through /proc/PID/map_files).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"

lz_h_require lazy
# the huge kind: 8 MiB = 4 pages, mapped by the workload and read by the dump
lz_reserve_hugepages 4 2M || lz_skip "cannot reserve 9 available 2M hugepages"
W=$(lz_workdir)
declare -A SEALS=([memfd-rosealed]=14 [memfd-fwsealed]=16 [huge-memfd-rosealed]=14)

# check_seals KIND WHAT PID...: every PID's KIND object has KIND's seals
check_seals() {
	local kind=$1 what=$2 p s
	shift 2
	for p in "$@"; do
		s=$(lz_h_seals "$p" " /memfd:$kind \(deleted\)$") || lz_fail "$what: pid $p does not map memfd:$kind"
		[ "$s" = "${SEALS[$kind]}" ] || lz_fail "$what: pid $p's memfd:$kind has seals $s, not ${SEALS[$kind]}"
	done
}

KINDS=${KINDS:-memfd-rosealed memfd-fwsealed huge-memfd-rosealed} # KINDS=... for diagnosis
for kind in $KINDS; do
	for mode in eager lazy; do
		D=$W/$kind-$mode
		lz_h_prepare "$D" --kinds "$kind" --size-mb 16 --huge-mb 8 --children 1
		lz_h_restore "$D" $mode 300
		how=$(lz_h_deferred_or_eager "$D" "$kind $mode")
		lz_verify_all "$D" 2 || {
			lz_diag_lazy "$D"
			lz_fail "$kind $mode: restored bytes differ"
		}
		if [ $mode = lazy ]; then
			lz_lazy_done "$D" || lz_fail "$kind: the daemon did not finish cleanly"
		fi
		check_seals "$kind" "$kind $mode" "$ROOT" $(lz_descendants "$ROOT")
		lz_h_finish "$D" 2
		lz_log "$kind, $mode: $how; every byte identical in both tasks, seals ${SEALS[$kind]}"
	done
done
lz_log "PASS"
