#!/usr/bin/env bash
# Boots the guest kit (Debian's i386 kernel + busybox initramfs) in
# build/vmd-guest to the shell prompt on the serial console, then checks
# what the guest sees: uname, /proc/cpuinfo, /proc/interrupts, an
# arithmetic loop, the wall clock against the host's, the kernel log
# (warnings about our devices, the clocksource, the TSC calibration), and
# that `poweroff` ends vmd-guest cleanly. A second test asks for shutdown
# through the ACPI power button.
# Environment: VMD_BOOT_TIMEOUT (seconds to the prompt, default 480),
# VMD_TSC_MHZ (the TSC frequency vmd-guest advertises, default 1000).
. "$VMD_TOP/tests/lib.sh"
. "$VMD_TOP/tests/guests/console.sh"

guest=$VMD_BUILD/vmd-guest
kit=$VMD_BUILD/kit
boot_timeout=${VMD_BOOT_TIMEOUT:-480}
tsc_mhz=${VMD_TSC_MHZ:-1000}

if [ ! -x "$guest" ]; then
	skip boot "no $guest (the guest process is not built yet)"
	skip power_button "no $guest (the guest process is not built yet)"
	exit 0
fi
if [ ! -s "$kit/vmlinuz" ] || [ ! -s "$kit/initrd.img" ]; then
	"$VMD_TOP/tests/guests/mkkit.sh" "$kit" >"$T_TMP/mkkit.log" 2>&1 || {
		skip boot "no guest kit in $kit and mkkit.sh failed: $(tail -n 1 "$T_TMP/mkkit.log")"
		skip power_button "no guest kit"
		exit 0
	}
fi

boot() { # boot LOG: starts vmd-guest on the kit, serial console on stdio
	console_start "$1" "$guest" -m 256M -k "$kit/vmlinuz" -i "$kit/initrd.img" \
		-a "$(cat "$kit/cmdline")" --serial stdio
}

boot "$T_TMP/serial.log"
start=$SECONDS
if ! console_boot_wait "$boot_timeout"; then
	fail boot "$CONSOLE_WHY;$(console_last_lines)"
	console_stop
	skip power_button "the kit does not boot to the prompt yet"
	exit 0
fi
pass boot
echo "note: prompt after $((SECONDS - start)) s"

if console_cmd 60 'uname -a' && [[ "$CONSOLE_OUT" == *"Linux vmd-kit "*"-686 "*" i686"* ]]; then
	pass uname
else
	fail uname "unexpected: $CONSOLE_OUT"
fi

if console_cmd 60 'cat /proc/cpuinfo'; then
	flags=$(echo "$CONSOLE_OUT" | sed -n 's/^flags[[:space:]]*: //p')
	missing=""
	for f in fpu tsc cx8 cmov; do
		[[ " $flags " == *" $f "* ]] || missing="$missing $f"
	done
	if [ -z "$missing" ] && echo "$CONSOLE_OUT" | grep -q '^cpu family[[:space:]]*: 6'; then
		pass cpuinfo
	else
		fail cpuinfo "family 6 with fpu tsc cx8 cmov expected; missing:${missing:- none}; got: $(echo "$CONSOLE_OUT" | head -n 20 | tr '\n' ';')"
	fi
else
	fail cpuinfo "no answer: $CONSOLE_OUT"
fi

# Two reads of /proc/interrupts a second apart: the timer ticks, and the
# serial line has taken interrupts (we are talking through it).
irq_count() { echo "$1" | awk -v name="$2" '$NF == name { print $2; exit }'; }
if console_cmd 60 'cat /proc/interrupts' && first=$CONSOLE_OUT &&
	console_cmd 60 'sleep 1; cat /proc/interrupts'; then
	t0=$(irq_count "$first" timer) t1=$(irq_count "$CONSOLE_OUT" timer) s1=$(irq_count "$CONSOLE_OUT" ttyS0)
	if [ -n "$t0" ] && [ -n "$t1" ] && [ "$t1" -gt "$t0" ] && [ "${s1:-0}" -gt 0 ]; then
		pass interrupts
	else
		fail interrupts "timer $t0 -> $t1, ttyS0 ${s1:-none}: $(echo "$CONSOLE_OUT" | head -n 12 | tr '\n' ';')"
	fi
else
	fail interrupts "no answer: $CONSOLE_OUT"
fi

if console_cmd 120 'i=0; s=0; while [ $i -lt 2000 ]; do s=$((s + i * i % 7919)); i=$((i + 1)); done; echo sum=$s'; then
	want=$(i=0 s=0; while [ $i -lt 2000 ]; do s=$((s + i * i % 7919)); i=$((i + 1)); done; echo $s)
	check arithmetic grep -q "^sum=$want\$" <<<"$CONSOLE_OUT"
else
	fail arithmetic "no answer: $CONSOLE_OUT"
fi

if console_cmd 60 'date +%s'; then
	g=$(echo "$CONSOLE_OUT" | grep -E '^[0-9]+$' | head -n 1) h=$(date +%s)
	if [ -n "$g" ] && [ $((g > h ? g - h : h - g)) -le 5 ]; then pass date
	else fail date "guest clock ${g:-?}, host clock $h (more than 5 s apart)"; fi
else
	fail date "no answer: $CONSOLE_OUT"
fi

if console_cmd 60 'dmesg'; then
	dmesg=$CONSOLE_OUT
	bad=$(echo "$dmesg" | grep -i -E 'error|warn|fail|bug|unable|timed out|call trace|invalid|firmware' |
		grep -v -E -f <(grep -v '^#' "$VMD_TOP/tests/guests/kit/dmesg-benign.txt") || true)
	if [ -z "$bad" ]; then pass dmesg_clean
	else fail dmesg_clean "suspicious kernel log lines: $(echo "$bad" | head -n 10 | tr '\n' ';')"; fi
	cs=$(echo "$dmesg" | sed -n 's/.*clocksource: Switched to clocksource \([a-z_0-9-]*\).*/\1/p' | tail -n 1)
	if [ "$cs" = tsc ]; then pass clocksource
	else fail clocksource "final clocksource '${cs:-none}', want tsc: $(echo "$dmesg" | grep -i -E 'clocksource|tsc' | tail -n 6 | tr '\n' ';')"; fi
	mhz=$(echo "$dmesg" | sed -n -e 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' \
		-e 's/.*tsc: Detected \([0-9.]*\) MHz processor.*/\1/p' | tail -n 1)
	if [ -n "$mhz" ] && awk -v m="$mhz" -v w="$tsc_mhz" 'BEGIN { d = m - w; if (d < 0) d = -d; exit !(d <= w / 100) }'; then
		pass tsc_calibration
	else
		fail tsc_calibration "calibrated ${mhz:-?} MHz, advertised $tsc_mhz MHz (1% allowed): $(echo "$dmesg" | grep -i 'tsc' | head -n 5 | tr '\n' ';')"
	fi
else
	fail dmesg "no answer: $CONSOLE_OUT"
fi

if console_poweroff 120; then pass poweroff
else fail poweroff "vmd-guest: $CONSOLE_WHY;$(console_last_lines)"; fi
console_stop

# The ACPI power button, pressed through vmd-guest's control channel
# ("powerdown"): acpid in the guest must run the kit's handler, which
# powers off; vmd-guest then exits 0 and says why.
ctl=$T_TMP/control.sock
console_start "$T_TMP/serial2.log" python3 "$VMD_TOP/tests/guests/control_relay.py" "$ctl" \
	"$guest" -m 256M -k "$kit/vmlinuz" -i "$kit/initrd.img" -a "$(cat "$kit/cmdline")" \
	--serial stdio --control-fd '{fd}'
if ! console_wait "$boot_timeout" "vmd-kit: acpid ready|$CONSOLE_DEAD" || ! console_wait 120 "^vmd# \$|$CONSOLE_DEAD" ||
	console_since | grep -q -E -- "$CONSOLE_DEAD"; then
	fail power_button "no prompt with acpid ready;$(console_last_lines)"
	console_stop
	exit 0
fi
answer=$(python3 "$VMD_TOP/tests/guests/control_relay.py" --send "$ctl" \
	'{"jsonrpc":"2.0","id":1,"method":"powerdown"}' 2>&1)
if [[ "$answer" != *'"result"'* ]]; then
	fail power_button "powerdown request not accepted: $answer"
elif ! console_exit_wait 120; then
	fail power_button "still running 120 s after the power button;$(console_last_lines)"
elif [ "$CONSOLE_RC" = 0 ] && grep -q 'power button pressed' "$CONSOLE_LOG" &&
	grep -q 'reboot: Power down' "$CONSOLE_LOG" && grep -q '"poweroff"' "$ctl.log"; then
	pass power_button
else
	fail power_button "exit status $CONSOLE_RC, control channel said: $(tail -c 300 "$ctl.log" 2>/dev/null);$(console_last_lines)"
fi
console_stop
