#!/usr/bin/env bash
# The guest kit boots on the reference emulator (Debian's qemu-system-i386,
# TCG, a Pentium II): the prompt, uname, job control, `poweroff` through
# ACPI, and the ACPI power button through acpid. This is what the vmd-guest
# tests (linux_boot) and the boot benchmark compare against.
. "$VMD_TOP/tests/lib.sh"
. "$VMD_TOP/tests/guests/console.sh"

kit=$VMD_BUILD/kit
command -v qemu-system-i386 >/dev/null || { skip boot "qemu-system-i386 is not installed (make deps)"; exit 0; }
if [ ! -s "$kit/vmlinuz" ] || [ ! -s "$kit/initrd.img" ]; then
	"$VMD_TOP/tests/guests/mkkit.sh" "$kit" >"$T_TMP/mkkit.log" 2>&1 ||
		{ skip boot "no guest kit in $kit and mkkit.sh failed: $(tail -n 1 "$T_TMP/mkkit.log")"; exit 0; }
fi

qemu_boot() { # qemu_boot LOG [extra qemu args]
	local log=$1; shift
	console_start "$log" qemu-system-i386 -M pc -cpu pentium2 -m 256 -display none \
		-serial stdio -no-reboot -kernel "$kit/vmlinuz" -initrd "$kit/initrd.img" \
		-append "$(cat "$kit/cmdline")" "$@"
}

qemu_boot "$T_TMP/serial.log" -monitor none
if ! console_wait 180 '^vmd# $'; then
	fail boot "no shell prompt within 180 s;$(console_last_lines)"
	console_stop; exit 0
fi
check banner grep -q 'vmd-kit: init ready' "$CONSOLE_LOG"
pass boot

console_cmd 20 'uname -a'
if [[ "$CONSOLE_OUT" == *"Linux vmd-kit "*"-686 "*" i686"* ]]; then pass uname
else fail uname "unexpected: $CONSOLE_OUT"; fi

# Job control needs the shell to own the serial line as its controlling tty.
jc=""
console_cmd 10 'sleep 30 &' && console_cmd 10 'jobs' && jc=$CONSOLE_OUT &&
	console_cmd 10 'kill %1' && jc="$jc $CONSOLE_OUT"
if [[ "$jc" == *"Running"*"sleep 30"*"Terminated"*"sleep 30"* ]]; then pass job_control
else fail job_control "jobs/kill %1 did not work: $jc $CONSOLE_OUT"; fi

if console_poweroff 60; then pass poweroff
else fail poweroff "qemu: $CONSOLE_WHY;$(console_last_lines)"; fi
console_stop

# The ACPI power button, pressed from the monitor: acpid must run the kit's
# handler, which powers off.
mon=$T_TMP/monitor.sock
qemu_boot "$T_TMP/serial2.log" -monitor "unix:$mon,server,nowait"
if ! console_wait 180 'vmd-kit: acpid ready' || ! console_wait 60 '^vmd# $'; then
	fail power_button "no prompt with acpid ready;$(console_last_lines)"; console_stop; exit 0
fi
python3 - "$mon" <<'PY' || fail power_button "cannot talk to the qemu monitor"
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"system_powerdown\n"); time.sleep(0.5); s.close()
PY
if console_exit_wait 60 && grep -q 'power button pressed' "$CONSOLE_LOG" &&
	grep -q 'reboot: Power down' "$CONSOLE_LOG"; then
	pass power_button
else
	fail power_button "no clean power off after the power button;$(console_last_lines)"
fi
console_stop
