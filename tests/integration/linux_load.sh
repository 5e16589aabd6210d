#!/usr/bin/env bash
# Boots the guest kit in build/vmd-guest while two CPU hogs keep both host
# cores busy (as on a loaded server: the guest process is descheduled
# often), then checks the guest's time: the TSC calibrated without failure,
# the final clocksource is tsc (the watchdog did not mark it unstable), no
# PM timer rate complaint, and the guest's date within 2 s of the host's.
# The hogs are bounded in time and killed at the end.
# Environment: VMD_BOOT_TIMEOUT (seconds to the prompt, default 240),
# VMD_LOAD_HOGS (number of hogs, default 2), VMD_LOAD_LOG (a file to keep
# the serial console log in).
. "$VMD_TOP/tests/lib.sh"
. "$VMD_TOP/tests/guests/console.sh"

guest=$VMD_BUILD/vmd-guest
kit=$VMD_BUILD/kit
boot_timeout=${VMD_BOOT_TIMEOUT:-240}
hogs=${VMD_LOAD_HOGS:-2}

if [ ! -x "$guest" ]; then
	skip boot_loaded "no $guest (the guest process is not built yet)"
	exit 0
fi
if [ ! -s "$kit/vmlinuz" ] || [ ! -s "$kit/initrd.img" ]; then
	skip boot_loaded "no guest kit in $kit (make kit)"
	exit 0
fi

# Busy loops that end by themselves even if this script is killed hard.
hog_pids=()
for _ in $(seq "$hogs"); do
	bash -c 'end=$((SECONDS + '"$((boot_timeout + 60))"')); while [ $SECONDS -lt $end ]; do :; done' &
	hog_pids+=("$!")
	T_PIDS+=("$!")
done
stop_hogs() { local p; for p in "${hog_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; hog_pids=(); }

keep_log() { if [ -n "${VMD_LOAD_LOG:-}" ]; then cp "$CONSOLE_LOG" "$VMD_LOAD_LOG"; fi; }
trap 'keep_log; t_cleanup' EXIT
last_lines() { echo; echo "--- last 30 lines of the serial console ---"; tail -n 30 "$CONSOLE_LOG" | tr -d '\r'; }
dead='-- System halted|Kernel panic - not syncing|end Kernel panic'
console_start "$T_TMP/serial.log" "$guest" -m 256M -k "$kit/vmlinuz" \
	-i "$kit/initrd.img" -a "$(cat "$kit/cmdline")" --serial stdio
start=$SECONDS
if ! console_wait "$boot_timeout" "^vmd# \$|$dead" || console_since | grep -q -E -- "$dead"; then
	fail boot_loaded "no shell prompt within $boot_timeout s under load;$(last_lines)"
	stop_hogs
	console_stop
	exit 0
fi
pass boot_loaded
echo "note: prompt after $((SECONDS - start)) s with $hogs CPU hogs"

# The date first, while the host is still loaded: drift is what load causes.
if console_cmd 60 'date +%s'; then
	g=$(echo "$CONSOLE_OUT" | grep -E '^[0-9]+$' | head -n 1) h=$(date +%s)
	if [ -n "$g" ] && [ $((g > h ? g - h : h - g)) -le 2 ]; then pass date_loaded
	else fail date_loaded "guest clock ${g:-?}, host clock $h (more than 2 s apart)"; fi
else
	fail date_loaded "no answer: $CONSOLE_OUT"
fi
stop_hogs

if console_cmd 60 'dmesg'; then
	dmesg=$CONSOLE_OUT
	echo "$dmesg" | grep -i -E 'tsc|clocksource|pm-timer|calibrat|watchdog' | sed 's/^/note: /'
	cs=$(echo "$dmesg" | sed -n 's/.*clocksource: Switched to clocksource \([a-z_0-9-]*\).*/\1/p' | tail -n 1)
	if [ "$cs" = tsc ]; then pass clocksource_loaded
	else fail clocksource_loaded "final clocksource '${cs:-none}', want tsc: $(echo "$dmesg" | grep -i -E 'clocksource|tsc' | tail -n 6 | tr '\n' ';')"; fi
	bad=$(echo "$dmesg" | grep -E 'calibration failed|Unable to calibrate|Marking clocksource .* unstable|PM-Timer running at invalid rate|timekeeping watchdog' || true)
	if [ -z "$bad" ]; then pass calibration_loaded
	else fail calibration_loaded "$(echo "$bad" | head -n 6 | tr '\n' ';')"; fi
else
	fail clocksource_loaded "no dmesg: $CONSOLE_OUT"
fi

console_mark
console_send 'poweroff\n'
if console_exit_wait 60; then
	grep -a -E '^vmd[a-z-]*: (pit|clock): ' "$CONSOLE_LOG" | tr -d '\r' | sed 's/^/note: /'
	check poweroff_loaded [ "$CONSOLE_RC" = 0 ]
else
	fail poweroff_loaded "still running 60 s after poweroff;$(last_lines)"
fi
console_stop
