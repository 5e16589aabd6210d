#!/usr/bin/env bash
# Boot benchmark: the kit (Debian's i386 kernel + busybox) from process
# start to the serial shell prompt, in build/vmd-guest and in
# qemu-system-i386 (TCG); prints both times and the ratio vmd/qemu.
# Run by hand:  bench/boot.sh [BUILD_DIR]      (RUNS=3 takes the best of 3)
. "$(dirname "$0")/common.sh"
runs=${RUNS:-1}
limit=${BOOT_LIMIT:-900}

time_boot() { # time_boot vmd|qemu: best seconds to the prompt over $runs, or "fail"
	local best="" i t0 t
	for ((i = 0; i < runs; i++)); do
		t0=$(now)
		start_guest "$1" "$T_TMP/$1.log"
		if ! console_wait "$limit" '^vmd# $'; then
			echo "bench: $1 reached no prompt within $limit s; last lines:" >&2
			tail -n 15 "$CONSOLE_LOG" >&2
			console_stop
			echo fail; return
		fi
		t=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { print a - b }')
		stop_guest
		if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
	done
	printf '%.2f\n' "$best"
}

tv=fail tq=fail
[ $have_vmd = 1 ] && tv=$(time_boot vmd)
[ $have_qemu = 1 ] && tq=$(time_boot qemu)
echo "boot to prompt: vmd ${tv} s, qemu ${tq} s"
if [ "$tv" != fail ] && [ "$tq" != fail ]; then
	echo "ratio vmd/qemu: $(awk -v v="$tv" -v q="$tq" 'BEGIN { printf "%.2f", v / q }')"
fi
