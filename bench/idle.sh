#!/usr/bin/env bash
# Idle benchmark: host CPU used by an idle guest (the kit at its shell
# prompt) over 30 s, in build/vmd-guest and in qemu-system-i386 (TCG).
# Run by hand:  bench/idle.sh [BUILD_DIR]      (IDLE_SECONDS=30)
. "$(dirname "$0")/common.sh"
secs=${IDLE_SECONDS:-30}
tck=$(getconf CLK_TCK)

cpu_ticks() { # utime + stime of a process and its threads
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}
idle() { # idle vmd|qemu: percent of one host CPU, or "fail"
	start_guest "$1" "$T_TMP/$1.log"
	if ! console_wait "${BOOT_LIMIT:-900}" '^vmd# $'; then
		echo "bench: $1 reached no prompt" >&2; console_stop; echo fail; return
	fi
	sleep 5        # let boot-time work (module loads, acpid) settle
	local a b
	a=$(cpu_ticks "$CONSOLE_PID")
	sleep "$secs"
	b=$(cpu_ticks "$CONSOLE_PID")
	stop_guest
	awk -v a="$a" -v b="$b" -v t="$tck" -v s="$secs" 'BEGIN { printf "%.1f\n", (b - a) * 100 / (t * s) }'
}

iv=fail iq=fail
[ $have_vmd = 1 ] && iv=$(idle vmd)
[ $have_qemu = 1 ] && iq=$(idle qemu)
echo "idle host CPU over $secs s: vmd ${iv}%, qemu ${iq}%"
