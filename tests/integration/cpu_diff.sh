#!/usr/bin/env bash
# The differential CPU test: the same instructions on the host CPU (a
# 32-bit native runner) and in our translator must give the same
# registers, flags, memory and exceptions. One PASS/FAIL line per
# instruction group; see tests/diff/README.md for the knobs
# (VMD_DIFF_SEED, VMD_DIFF_SEQS, VMD_DIFF_SCALE, VMD_DIFF_GROUP).
. "$VMD_TOP/tests/lib.sh"

bin=$VMD_BUILD/tests/diff/cpu_diff
runner=$VMD_BUILD/tests/diff/native_runner
if [ ! -x "$bin" ] || [ ! -x "$runner" ]; then
	fail build "cpu_diff or native_runner not built (make all)"
	exit 1
fi
# The driver prints PASS/FAIL/SKIP lines named cpu_diff/<group> itself.
"$bin" "$runner"
rc=$?
# The same cases through the ASan+UBSan build of the translator (make test
# builds it): a guest's instructions must never crash the host process.
asan=$VMD_BUILD/asan/tests/diff/cpu_diff
if [ -x "$asan" ]; then
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	VMD_DIFF_CRASH_ONLY=1 "$asan" "$runner" | grep -E '^(PASS|FAIL|SKIP|cpu_diff: case|---- | {2})'
else
	skip sanitized "no sanitizer build of cpu_diff (make test builds $asan)"
fi
exit $rc
