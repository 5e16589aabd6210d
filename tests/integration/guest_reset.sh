#!/usr/bin/env bash
# Guest resets: with --no-reboot the process ends (status 0), otherwise the
# machine restarts and the kernel runs again.
. "$VMD_TOP/tests/lib.sh"
G=$VMD_BUILD/vmd-guest
K=$VMD_BUILD/tests/guests/board/kernel.elf
[ -x "$G" ] || { fail built "no $G"; exit 0; }

for how in port92 cf9 kbd triple; do
	timeout 60 "$G" -m 32M -k "$K" -a "reset=$how" --no-reboot </dev/null >"$T_TMP/$how" 2>"$T_TMP/$how.err"
	rc=$?
	if [ "$rc" = 0 ] && grep -q resetting "$T_TMP/$how" && ! grep -q "did not happen" "$T_TMP/$how"; then
		pass "no_reboot_$how"
	else
		fail "no_reboot_$how" "status $rc, output: $(tr -d '\r' <"$T_TMP/$how" | tr '\n' '|')"
	fi
done
grep -q "triple-fault" "$T_TMP/triple.err" && pass triple_fault_reason || fail triple_fault_reason "log: $(cat "$T_TMP/triple.err")"

# Rebooting: the banner comes back.
timeout 5 "$G" -m 32M -k "$K" -a "reset=triple" </dev/null >"$T_TMP/reboot" 2>/dev/null
n=$(grep -c "board test kernel" "$T_TMP/reboot")
check reboots [ "$n" -ge 2 ]
