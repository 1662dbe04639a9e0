#!/usr/bin/env bash
# Run the libFuzzer harness of the image parsers (images/fuzz/fuzz_lzimg.c)
# for FUZZ_TEST_SECONDS (default 30) under ASan/UBSan; any crash, leak or
# sanitizer report fails the test. `make fuzz` runs it longer.
. "$(dirname "$0")/../lib/common.sh"

SECS=${FUZZ_TEST_SECONDS:-30}
FUZZ=$BUILD/fuzz/fuzz_lzimg
command -v clang >/dev/null || lz_skip "clang not installed (scripts/install-deps.sh)"
make -C "$TOP" -o criu --no-print-directory "$FUZZ" >/dev/null || lz_fail "can't build $FUZZ"

W=$(lz_workdir)
mkdir -p "$W/corpus" "$W/artifacts"
"$FUZZ" -max_total_time="$SECS" -print_final_stats=1 -artifact_prefix="$W/artifacts/" \
	"$W/corpus" "$TOP/images/fuzz/corpus" >"$W/fuzz.log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/fuzz.log")
crashes=$(find "$W/artifacts" -type f | wc -l)
lz_log "fuzz_lzimg: ${execs:-?} execs in ${SECS} s, $crashes crashes, exit $rc"
if [ $rc -ne 0 ] || [ "$crashes" -ne 0 ]; then
	tail -40 "$W/fuzz.log"
	mkdir -p "$BUILD/fuzz/artifacts"
	cp "$W/artifacts/"* "$BUILD/fuzz/artifacts/" 2>/dev/null
	lz_fail "fuzzer found a problem; reproducer in build/fuzz/artifacts"
fi
