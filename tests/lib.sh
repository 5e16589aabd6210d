# Shared helpers for integration tests (bash). Source it first:
#   . "$VMD_TOP/tests/lib.sh"
# Tests print PASS/FAIL/SKIP lines that tests/run counts.
set -u
: "${VMD_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${VMD_BUILD:=$VMD_TOP/build}"
export VMD_TOP VMD_BUILD

T_NAME=$(basename "${0%.sh}")
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmd-$T_NAME.XXXXXX")
T_PIDS=()
t_cleanup() {
	local p
	for p in "${T_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT

pass() { echo "PASS $T_NAME/$1"; }
fail() { echo "FAIL $T_NAME/$1: ${2:-failed}"; }
skip() { echo "SKIP $T_NAME/$1: $2"; }
# check NAME CMD...: PASS if CMD succeeds, FAIL otherwise.
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "$*"; fi; }
# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local limit=$1 i=0; shift
	while ! "$@" 2>/dev/null; do
		i=$((i + 1)); [ $i -ge $((limit * 10)) ] && return 1; sleep 0.1
	done
}
