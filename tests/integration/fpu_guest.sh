#!/usr/bin/env bash
# The x87 as an operating system uses it (tests/guests/fpu, built by
# mk/fpuguest.mk into $VMD_BUILD/fpu): lazy context switching through #NM
# (lazy), CR0.EM/TS/MP against every escape and WAIT (em), #MF at the next
# waiting instruction with CR0.NE=1 (mf), IRQ13 through the 8259 and port
# 0xF0 with CR0.NE=0 (irq13), FXSAVE/FXRSTOR (fxsr).
#   qemu/<kernel>      under qemu-system-i386 -cpu pentium2: proves the
#                      kernel right (checks listed in
#                      tests/guests/fpu/qemu-known.txt do not count)
#   vmdguest/<kernel>  in the whole PC, build/vmd-guest
#   sysboard/<kernel>  on the minimal test board (not irq13: no 8259 there)
. "$VMD_TOP/tests/lib.sh"

kdir=$VMD_BUILD/fpu
known=$VMD_TOP/tests/guests/fpu/qemu-known.txt
kernels=(lazy em mf irq13 fxsr)

# excused KERNEL LINE: whether qemu-known.txt lists this FAIL line's check for KERNEL.
excused() {
	local kernel=$1 line=$2 k n why
	while IFS='|' read -r k n why; do
		[ "$k" = "$kernel" ] && [[ "$line" == "FAIL $n: "* ]] && return 0
	done < <(grep -v '^#' "$known")
	return 1
}

# verdict NAME LOG RC WANT_RC [KERNEL]: the run exited as wanted, with a
# "done:" line and no FAIL line (with KERNEL, the qemu reference: none but
# the excused ones, and the exit status says "some failed" or "all ok").
verdict() {
	local name=$1 log=$2 rc=$3 want=$4 kernel=${5:-} done_line bad="" line
	done_line=$(grep -a '^done: ' "$log" | tail -n 1)
	while IFS= read -r line; do
		if [ -n "$kernel" ] && excused "$kernel" "$line"; then
			echo "note: $name: known qemu deviation: ${line#FAIL }"
		else
			bad+="$line;"
		fi
	done < <(grep -a '^FAIL' "$log")
	if [ -n "$kernel" ] && [ -z "$bad" ] && [ -n "$done_line" ] && { [ "$rc" = 1 ] || [ "$rc" = 3 ]; }; then
		pass "$name"
	elif [ -z "$kernel" ] && [ -z "$bad" ] && [ "$rc" = "$want" ] && [[ "$done_line" == "done: "*" ok, 0 failed" ]]; then
		pass "$name"
	elif [ -n "$done_line$bad" ]; then
		fail "$name" "exit $rc, ${done_line:-no done line}; $bad"
	else
		fail "$name" "exit $rc, no output from the kernel; last lines: $(tail -n 3 "$log" | tr '\n' ';')"
	fi
}

have_qemu=1
command -v qemu-system-i386 >/dev/null || have_qemu=0
for k in "${kernels[@]}"; do
	elf=$kdir/$k.elf
	if [ ! -s "$elf" ]; then
		fail "build/$k" "no $elf (make all builds it from tests/guests/fpu/$k.c)"
		continue
	fi
	if [ $have_qemu = 1 ]; then
		# isa-debug-exit makes the status (value << 1) | 1: 1 means the kernel wrote 0.
		# In a subshell: a qemu abort is reported here, not by the shell's job messages.
		(timeout 60 qemu-system-i386 -M pc -cpu pentium2 -m 64 -display none -monitor none \
			-serial none -no-reboot -kernel "$elf" \
			-device isa-debug-exit,iobase=0xf4,iosize=4 -debugcon "file:$T_TMP/$k.qemu" \
			>"$T_TMP/$k.qemu.err" 2>&1; exit $?) 2>/dev/null
		rc=$?
		cat "$T_TMP/$k.qemu.err" >>"$T_TMP/$k.qemu"
		if grep -q 'tcg_handle_interrupt: assertion failed' "$T_TMP/$k.qemu.err"; then
			# QEMU 7.2 raises the FERR interrupt without the big lock and aborts.
			skip "qemu/$k" "this qemu-system-i386 aborts when FERR# raises IRQ13 (tcg_handle_interrupt assertion, a QEMU bug): no reference run"
		else
			verdict "qemu/$k" "$T_TMP/$k.qemu" "$rc" 1 "$k"
		fi
	else
		skip "qemu/$k" "qemu-system-i386 is not installed (make deps)"
	fi
	if [ -x "$VMD_BUILD/vmd-guest" ]; then
		timeout 60 "$VMD_BUILD/vmd-guest" -m 32M -k "$elf" --debug-exit --no-reboot \
			--debugcon "$T_TMP/$k.vmd" </dev/null >"$T_TMP/$k.vmd.err" 2>&1
		rc=$?
		cat "$T_TMP/$k.vmd.err" >>"$T_TMP/$k.vmd" 2>/dev/null
		verdict "vmdguest/$k" "$T_TMP/$k.vmd" "$rc" 1
	else
		skip "vmdguest/$k" "no $VMD_BUILD/vmd-guest"
	fi
	[ "$k" = irq13 ] && continue    # IRQ13 needs the PC's 8259 and FERR# wiring
	if [ -x "$VMD_BUILD/sysboard" ]; then
		timeout 60 "$VMD_BUILD/sysboard" -t 30 "$kdir/$k.bin" >"$T_TMP/$k.ours" 2>&1
		verdict "sysboard/$k" "$T_TMP/$k.ours" $? 0
	else
		skip "sysboard/$k" "no $VMD_BUILD/sysboard"
	fi
done
