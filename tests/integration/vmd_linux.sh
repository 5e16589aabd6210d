#!/usr/bin/env bash
# The product end to end: vmd starts the guest kit (Debian's i386 kernel +
# busybox initramfs) through the real vmd-guest, vmctl console reaches the
# shell and runs a command, `vmctl stop` presses the ACPI power button and
# the guest powers itself off.
# Environment: VMD_BOOT_TIMEOUT (seconds to the prompt, default 480).
. "$VMD_TOP/tests/lib.sh"

VMD=$VMD_BUILD/vmd VMCTL=$VMD_BUILD/vmctl GUEST=$VMD_BUILD/vmd-guest KIT=$VMD_BUILD/kit
boot_timeout=${VMD_BOOT_TIMEOUT:-480}
for b in "$VMD" "$VMCTL" "$GUEST"; do
	[ -x "$b" ] || { skip boot "$b not built"; exit 0; }
done
if [ ! -s "$KIT/vmlinuz" ] || [ ! -s "$KIT/initrd.img" ]; then
	skip boot "no guest kit in $KIT (linux_boot.sh builds it)"
	exit 0
fi

SOCK=$T_TMP/vmd.sock
V() { "$VMCTL" -s "$SOCK" "$@"; }
# The console history without CRs and ash's cursor-position queries.
history() { V console -l 0.2 linux </dev/null | tr -d '\r' | sed 's/\x1b\[6n//g'; }
cat >"$T_TMP/vmd.conf" <<EOF
guest-binary "$GUEST"
shutdown-timeout 60
vm "linux" {
	memory 256M
	kernel "$KIT/vmlinuz"
	initrd "$KIT/initrd.img"
	cmdline "$(cat "$KIT/cmdline")"
}
EOF
"$VMD" -d -f "$T_TMP/vmd.conf" -s "$SOCK" 2>"$T_TMP/vmd.log" &
VMD_PID=$!
T_PIDS+=("$VMD_PID")
wait_for 5 test -S "$SOCK" || { fail boot "vmd did not start"; exit 0; }

out=$(V start linux 2>&1); check start test "$out" = "linux: running"
start=$SECONDS
booted=0
while [ $((SECONDS - start)) -lt "$boot_timeout" ]; do
	h=$(history)
	if grep -q '^vmd# ' <<<"$h"; then booted=1; break; fi
	# Fail fast: a guest that has given up will not reach the prompt.
	if grep -qE 'Kernel panic|System halted|XZ-compressed data is corrupt' <<<"$h" ||
	   ! V status linux 2>/dev/null | grep -q running; then
		break
	fi
	sleep 2
done
if [ "$booted" = 0 ]; then
	fail boot "no shell prompt (after $((SECONDS - start)) s); last console lines: $(history | tail -n 5 | tr '\n' '|')"
	V kill linux >/dev/null 2>&1
	kill -TERM "$VMD_PID"; wait "$VMD_PID"
	exit 0
fi
pass boot
echo "note: prompt after $((SECONDS - start)) s through vmd"

out=$(printf 'echo vmd-$((6*7))\n' | V console -l 3 linux | tr -d '\r' | sed 's/\x1b\[6n//g')
check console_command grep -q '^vmd-42$' <<<"$out"
check console_detach_harmless bash -c "'$VMCTL' -s '$SOCK' status linux | grep -q running"

out=$(V stop -w linux); check acpi_poweroff test "$out" = "linux: stopped (guest poweroff)"
kill -TERM "$VMD_PID"
wait_for 10 bash -c "! kill -0 $VMD_PID" && pass vmd_exits || fail vmd_exits
