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
kernels=(lazy em mf irq13 fxsr)
. "$VMD_TOP/tests/guests/testkernel.sh"
TESTKERNEL_KNOWN=$VMD_TOP/tests/guests/fpu/qemu-known.txt

have_qemu=1
command -v qemu-system-i386 >/dev/null || have_qemu=0
for k in "${kernels[@]}"; do
	elf=$kdir/$k.elf
	if [ ! -s "$elf" ]; then
		fail "build/$k" "no $elf (make all builds it from tests/guests/fpu/$k.c)"
		continue
	fi
	if [ $have_qemu = 1 ]; then
		testkernel_qemu "$elf" "$T_TMP/$k.qemu"
		rc=$?
		if grep -q 'tcg_handle_interrupt: assertion failed' "$T_TMP/$k.qemu.err"; then
			# QEMU 7.2 raises the FERR interrupt without the big lock and aborts.
			skip "qemu/$k" "this qemu-system-i386 aborts when FERR# raises IRQ13 (tcg_handle_interrupt assertion, a QEMU bug): no reference run"
		else
			testkernel_verdict "qemu/$k" "$T_TMP/$k.qemu" "$rc" 1 "$k"
		fi
	else
		skip "qemu/$k" "qemu-system-i386 is not installed (make deps)"
	fi
	if [ -x "$VMD_BUILD/vmd-guest" ]; then
		testkernel_vmdguest 32M "$elf" "$T_TMP/$k.vmd"
		testkernel_verdict "vmdguest/$k" "$T_TMP/$k.vmd" $? 1
	else
		skip "vmdguest/$k" "no $VMD_BUILD/vmd-guest"
	fi
	[ "$k" = irq13 ] && continue    # IRQ13 needs the PC's 8259 and FERR# wiring
	if [ -x "$VMD_BUILD/sysboard" ]; then
		timeout 60 "$VMD_BUILD/sysboard" -t 30 "$kdir/$k.bin" >"$T_TMP/$k.ours" 2>&1
		testkernel_verdict "sysboard/$k" "$T_TMP/$k.ours" $? 0
	else
		skip "sysboard/$k" "no $VMD_BUILD/sysboard"
	fi
done
