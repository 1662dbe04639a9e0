#!/usr/bin/env bash
# Run every lazyshm test and print one closing line: "N passed, N failed, N skipped".
#
# Three kinds of test programs:
#  - cmocka unit binaries (build/tests/unit/*): their own summary is parsed;
#  - programs that print a line "N passed, N failed[, N skipped]";
#  - integration scripts (tests/integration/*.sh): exit 0 pass, 77 skip
#    (the script prints why), anything else fails. A script that skips part
#    of its work (lz_skip_part) closes with "1 passed, 0 failed, N skipped".
#
# Every test runs in its own session and process group, stdin from
# /dev/null, with a timeout: 300 s, or N for a script with a line
# "# timeout: N", or TEST_TIMEOUT (seconds) for every test if set. A test
# that overruns fails ("TIMEOUT after N s"): its process group gets SIGTERM
# (a script's EXIT trap then gives back what it took), then SIGKILL
# TEST_KILL_GRACE (20) s later if anything of it is left; the run goes on.
#
# The run fails if no lazy restore completed (each test that confirms one,
# with lz_lazy_done or lz_lazy_ran in tests/lib/common.sh, appends its name
# to build/test-logs/lazy-restores): green on zero lazy restores would say
# nothing. It says why: the skip reasons of the lazy restore tests (those
# whose script mentions lz_lazy_restore, lz_kind_test or lazy-pages). With
# TESTS or TEST_DIRS, it fails so only if a selected lazy restore test was
# skipped or failed.
#
# TESTS=pattern runs only the tests whose name matches the pattern.
# TEST_DIRS="DIR..." runs the scripts DIR/*.sh instead of tests/integration
# and the unit and kernel programs (to try this runner on other tests).
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
DEFAULT_TIMEOUT=300
GRACE=${TEST_KILL_GRACE:-20}
for v in "${TEST_TIMEOUT:-1}" "$GRACE"; do
	[[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: TEST_TIMEOUT and TEST_KILL_GRACE are whole seconds, not '$v'" >&2; exit 2; }
done
mkdir -p "$LOGDIR"

# Some tests run processes as other users (postgres, uid 65534) that must
# reach their work directories. When a directory above build/ is closed to
# others (a clone in /root), the work directories go to a fresh directory
# in /var/tmp instead (tests/lib/common.sh: LZ_WORK_BASE), removed at the end.
reachable_by_others() {
	local d=$1
	while [ "$d" != / ]; do
		((8#$(stat -c %a "$d") & 1)) || return 1
		d=$(dirname "$d")
	done
}
if [ -z "${LZ_WORK_BASE:-}" ] && ! reachable_by_others "$BUILD"; then
	LZ_WORK_BASE=$(mktemp -d /var/tmp/lazyshm-tests.XXXXXX) && chmod 755 "$LZ_WORK_BASE" || exit 2
	trap 'rm -rf --one-file-system "$LZ_WORK_BASE"' EXIT
	echo "run.sh: other users cannot reach $BUILD: the tests' work directories are in $LZ_WORK_BASE"
	export LZ_WORK_BASE
fi
# What the tests must leave as they found it, compared at the end of the run:
# hugepage pools, SysV segments, /dev/shm, mounts, network namespaces,
# /etc/criu. (A report, not yet a failure: see docs/TESTING.md.)
machine_state() {
	local f
	for f in /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages; do
		echo "hugepages ${f#/sys/kernel/mm/hugepages/hugepages-}: $(cat "$f")"
	done
	ipcs -m 2>/dev/null | awk '$2 ~ /^[0-9]+$/ {print "sysv shm id " $2 " key " $1}'
	ls -A /dev/shm 2>/dev/null | sed 's|^|/dev/shm/|'
	awk '{print "mount " $5}' /proc/self/mountinfo | sort
	ip netns list 2>/dev/null | awk '{print "netns " $1}'
	ls -A /etc/criu 2>/dev/null | sed 's|^|/etc/criu/|'
}
STATE0=$(machine_state)
export LZ_LAZY_MARKER=$LOGDIR/lazy-restores
: >"$LZ_LAZY_MARKER"
PASS=0 FAIL=0 SKIP=0
FAILED=() SKIPPED=() PARTS=() LAZY_TESTS=() LAZY_NOTES=()
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

# note_skips NAME LOG RC: remember why NAME was skipped, entirely (exit 77)
# or in part (lz_skip_part lines, cmocka's skipped tests)
note_skips() {
	local name=$1 log=$2 rc=$3 why n
	if [ "$rc" -eq 77 ]; then
		why=$(sed -n 's/^\[[^]]*\] SKIP: //p' "$log" | tail -1)
		SKIPPED+=("$name: ${why:-no reason printed}")
	fi
	while IFS= read -r why; do
		PARTS+=("$name: $why")
	done < <(sed -n 's/^\[[^]]*\] SKIP PART: //p' "$log")
	n=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	[ "$n" -eq 0 ] || PARTS+=("$name: $n cmocka test(s) skipped")
	return 0
}

# The pids of process group PGID that have not exited (zombies excluded)
group_members() {
	local p st
	for p in $(pgrep -g "$1" 2>/dev/null); do
		st=$(sed 's/.*) \(.\).*/\1/' "/proc/$p/stat" 2>/dev/null) || continue
		[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ] && echo "$p"
	done
	return 0
}

exited() {
	local st
	st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

# stop_group PGID LOG: a test overran: SIGTERM to its process group, then
# SIGKILL to what is left of it after the grace period
stop_group() {
	local g=$1 log=$2 i
	kill -TERM -- "-$g" 2>/dev/null
	for ((i = 0; i < GRACE * 5; i++)); do
		[ -z "$(group_members "$g")" ] && return 0
		sleep 0.2
	done
	echo "=== still running $GRACE s after SIGTERM: SIGKILL to its process group (its cleanup may not have run)" >>"$log"
	kill -KILL -- "-$g" 2>/dev/null
}

# run_one NAME TIMEOUT CMD...: run CMD in a new session, log in
# LOGDIR/NAME.log shown as it comes, killed after TIMEOUT seconds
run_one() {
	local name=$1 to=$2 rc log pid tailpid t left timed_out=
	shift 2
	log=$LOGDIR/$(echo "$name" | tr '/ ' '__').log
	echo "=== $name (timeout $to s)"
	t=$SECONDS
	setsid -w "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	tail -n +1 -s 0.2 -f --pid="$pid" "$log" &
	tailpid=$!
	until exited "$pid"; do
		if [ $((SECONDS - t)) -ge "$to" ]; then
			timed_out=1
			echo "=== TIMEOUT after $to s: SIGTERM to its process group" >>"$log"
			stop_group "$pid" "$log"
			break
		fi
		sleep 0.2
	done
	{ wait "$pid"; } 2>/dev/null
	rc=$?
	wait "$tailpid" 2>/dev/null
	left=$(group_members "$pid")
	if [ -n "$left" ]; then
		echo "=== $name left processes behind in its process group: $(xargs <<<"$left"); killing them" | tee -a "$log"
		kill -KILL -- "-$pid" 2>/dev/null
	fi
	if [ -n "$timed_out" ]; then
		echo "=== $name: TIMEOUT after $to s" | tee -a "$log"
		rc=124
		FAILED+=("$name (TIMEOUT after $to s)")
		FAIL=$((FAIL + 1))
		return 0
	fi
	echo "=== $name: exit $rc ($((SECONDS - t)) s)"
	count "$name" "$log" "$rc"
	note_skips "$name" "$log" "$rc"
	LAST_RC=$rc
}

# The timeout of a script: TEST_TIMEOUT, its "# timeout: N" line, or the default
timeout_of() {
	local n=
	[ -n "${TEST_TIMEOUT:-}" ] && { echo "$TEST_TIMEOUT"; return; }
	[ -f "$1" ] && n=$(sed -n 's/^# timeout: *\([1-9][0-9]*\) *$/\1/p' "$1" | head -1)
	echo "${n:-$DEFAULT_TIMEOUT}"
}

# A script that restores lazily (when it is not skipped)
is_lazy_test() { grep -qE 'lz_lazy_restore|lz_kind_test|lazy-pages' "$1"; }

# run_script NAME SCRIPT: run_one; if a lazy restore test did not pass,
# remember why (LAZY_TESTS, LAZY_NOTES)
run_script() {
	local name=$1 t=$2 why
	selected "$name" || return 0
	LAST_RC=
	run_one "$name" "$(timeout_of "$t")" "$t"
	is_lazy_test "$t" || return 0
	case $LAST_RC in
	0) return 0 ;;
	77) why=$(sed -n 's/^\[[^]]*\] SKIP: //p' "$LOGDIR/$(echo "$name" | tr '/ ' '__').log" | tail -1) ;;
	'') why="timed out" ;;
	*) why="failed" ;;
	esac
	LAZY_TESTS+=("$name")
	LAZY_NOTES+=("${why:-skipped, no reason printed}")
}

if [ -z "${TEST_DIRS:-}" ]; then
	for t in "$BUILD"/tests/unit/*; do
		[ -x "$t" ] && selected "unit/$(basename "$t")" && run_one "unit/$(basename "$t")" "${TEST_TIMEOUT:-$DEFAULT_TIMEOUT}" "$t"
	done
	for t in "$BUILD"/tests/kernel/*; do
		[ -x "$t" ] && selected "kernel/$(basename "$t")" && run_one "kernel/$(basename "$t")" "${TEST_TIMEOUT:-$DEFAULT_TIMEOUT}" "$t"
	done
fi
if [ -n "${TEST_DIRS:-}" ]; then
	read -ra DIRS <<<"$TEST_DIRS"
else
	DIRS=("$TOP/tests/integration")
fi
for d in "${DIRS[@]}"; do
	for t in "$d"/*.sh; do
		[ -x "$t" ] && run_script "$(basename "$d")/$(basename "$t" .sh)" "$t"
	done
done

# The reasons no lazy restore test completed: each distinct note, with the
# tests it applies to
no_lazy_reasons() {
	local i
	for i in "${!LAZY_NOTES[@]}"; do
		printf '%s\t%s\n' "${LAZY_NOTES[$i]}" "${LAZY_TESTS[$i]##*/}"
	done | awk -F'\t' '{ t[$1] = t[$1] (t[$1] == "" ? "" : ", ") $2; if (!($1 in o)) o[$1] = ++n; r[o[$1]] = $1 }
		END { for (i = 1; i <= n; i++) printf "%s%s (%s)", (i > 1 ? "; " : ""), r[i], t[r[i]] }'
}

# No lazy restore completed: the whole suite fails; a selection fails if a
# lazy restore test in it did not pass (a selection of tests that pass
# without one, such as eager restores, does not)
NOLAZY=
LAZY_DONE=$(sort -u "$LZ_LAZY_MARKER" | grep -c .)
if [ "$LAZY_DONE" -eq 0 ]; then
	if [ ${#LAZY_TESTS[@]} -gt 0 ]; then
		NOLAZY="no lazy restore test ran: $(no_lazy_reasons)"
	elif [ -z "${TESTS:-}${TEST_DIRS:-}" ]; then
		NOLAZY="no lazy restore test ran: none confirmed one (lz_lazy_done)"
	fi
fi

echo
echo "make test took $(($(date +%s) - T0)) s; logs in ${LOGDIR#$TOP/}"
if [ ${#SKIPPED[@]} -gt 0 ]; then
	echo "skipped:"
	printf '  %s\n' "${SKIPPED[@]}"
fi
if [ ${#PARTS[@]} -gt 0 ]; then
	echo "partly skipped:"
	printf '  %s\n' "${PARTS[@]}"
fi
[ "$LAZY_DONE" -eq 0 ] || echo "lazy restores completed by $LAZY_DONE test(s): $(sort -u "$LZ_LAZY_MARKER" | xargs)"
[ ${#FAILED[@]} -gt 0 ] && echo "failed: ${FAILED[*]}"
[ -z "$NOLAZY" ] || echo "$NOLAZY"
LEFT=$(diff <(echo "$STATE0") <(machine_state) | grep '^[<>]')
if [ -n "$LEFT" ]; then
	echo "the machine differs from how the run found it (< before, > after):"
	echo "$LEFT" | sed 's/^/  /'
fi
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ] && [ $((PASS + SKIP)) -gt 0 ] && [ -z "$NOLAZY" ]
