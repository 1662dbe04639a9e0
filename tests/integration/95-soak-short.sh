#!/usr/bin/env bash
# timeout: 240
# A short randomized soak with a fixed seed (tests/soak/soak.py, which
# `make soak` runs for 100 cycles): a self-test (a byte corrupted after the
# restore must be reported) and 10 dump -> lazy restore cycles of random
# memory kinds, sizes, holes and task counts, with writes, MADV_DONTNEED,
# MADV_REMOVE, mremap, fork and exit while pages are unfilled, and 3 kills of
# the lazy-pages daemon. Every byte is checked against the workload's model,
# or the tree must fail-stop. It prints its own "N passed, N failed" line
# (one per cycle). SOAK_SEED=S and SOAK_CYCLES=N override the defaults.
. "$(dirname "$0")/../lib/common.sh"

lz_require_root
lz_require_criu
"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
[ -x "$TBIN/soakwl" ] || lz_fail "soakwl not built at $TBIN/soakwl (make build)"

# the driver cleans up after every cycle itself; its work dir is
# the work directory of this test, which lz_workdir's cleanup removes at exit
SOAK_NAME=$TEST_NAME SOAK_WORK=$LZ_WORK_BASE/$TEST_NAME SOAK_CYCLES=${SOAK_CYCLES:-10} \
	SOAK_SEED=${SOAK_SEED:-6} SOAK_MAX_PAGES=4096 SOAK_MAX_HUGE=6 SOAK_KILL_PCT=30 SOAK_TIMEOUT=60 \
	python3 "$TOP/tests/soak/soak.py"
rc=$?
[ $rc -eq 0 ] && lz_lazy_ran
exit $rc
