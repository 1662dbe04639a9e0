#!/usr/bin/env bash
# Run every lazyshm test and print one closing line: "N passed, N failed, N skipped".
#
# Three kinds of test programs:
#  - cmocka unit binaries (build/tests/unit/*): their own summary is parsed;
#  - programs that print a line "N passed, N failed[, N skipped]";
#  - integration scripts (tests/integration/*.sh): exit 0 pass, 77 skip
#    (the script prints why), anything else fails.
#
# TESTS=pattern runs only the tests whose name matches the pattern.
set -uo pipefail

# Descriptors inherited from whatever started us (CI runners, terminals)
# would be inherited by every workload, and criu dump fails on an fd whose
# mount it cannot see: keep only stdin, stdout and stderr.
for fd in $(ls /proc/$$/fd); do
	[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
done

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"
PASS=0 FAIL=0 SKIP=0
FAILED=()
T0=$(date +%s)

selected() { [ -z "${TESTS:-}" ] || [[ "$1" == *$TESTS* ]]; }

# count NAME LOG RC: add the program's own counts, or one result from RC
count() {
	local name=$1 log=$2 rc=$3 p f s line
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -1)
	if [ -n "$line" ]; then
		p=$((p + $(echo "$line" | awk '{print $1}')))
		f=$((f + $(echo "$line" | awk '{print $3}')))
		s=$((s + $(echo "$line" | awk '{print ($5 == "" ? 0 : $5)}')))
	fi
	if [ $((p + f + s)) -eq 0 ]; then
		case $rc in
		0) p=1 ;;
		77) s=1 ;;
		*) f=1 ;;
		esac
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed or failed after reporting success
	fi
	PASS=$((PASS + p)) FAIL=$((FAIL + f)) SKIP=$((SKIP + s))
	[ "$f" -gt 0 ] && FAILED+=("$name")
	return 0
}

run_one() {
	local name=$1 rc log
	shift
	selected "$name" || return 0
	log=$LOGDIR/$(echo "$name" | tr '/ ' '__').log
	echo "=== $name"
	local t=$(date +%s)
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	echo "=== $name: exit $rc ($(($(date +%s) - t)) s)"
	count "$name" "$log" "$rc"
}

for t in "$BUILD"/tests/unit/*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in "$BUILD"/tests/kernel/*; do
	[ -x "$t" ] && run_one "kernel/$(basename "$t")" "$t"
done
for t in "$TOP"/tests/integration/*.sh; do
	[ -x "$t" ] && run_one "integration/$(basename "$t" .sh)" "$t"
done

echo
echo "make test took $(($(date +%s) - T0)) s; logs in ${LOGDIR#$TOP/}"
[ ${#FAILED[@]} -gt 0 ] && echo "failed: ${FAILED[*]}"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ] && [ $((PASS + SKIP)) -gt 0 ]
