#!/usr/bin/env bash
# tools/lockstep on a small system-test kernel (realmode):
#   self             qemu against qemu: no difference to the exit port
#   finds_difference qemu against qemu with ESI changed at the start: the
#                    tool must stop at once and name ESI
#   sysboard         qemu against our CPU on the test board: no difference
#   vmdguest         qemu against vmd-guest --gdb (multiboot): no difference
. "$VMD_TOP/tests/lib.sh"

tool=$VMD_TOP/tools/lockstep/lockstep.py
elf=$VMD_BUILD/kernels/realmode.elf
command -v qemu-system-i386 >/dev/null || { skip self "qemu-system-i386 is not installed"; exit 0; }
command -v python3 >/dev/null || { skip self "python3 is not installed"; exit 0; }
[ -s "$elf" ] || { fail self "no $elf (make all builds the kernels)"; exit 0; }

out=$(timeout 300 python3 "$tool" kernel "$elf" --subject qemu 2>&1)
if [[ "$out" == *"both exited"*"no difference"* ]]; then pass self
else fail self "$(echo "$out" | head -n 12 | tr '\n' ';')"; fi

out=$(timeout 120 python3 "$tool" kernel "$elf" --subject qemu --perturb esi=0x1234 2>&1)
if [[ "$out" == *"first difference after 0 steps: esi"* ]] && [[ "$out" == *"esi=00001234"* ]]; then
	pass finds_difference
else
	fail finds_difference "$(echo "$out" | head -n 12 | tr '\n' ';')"
fi

if [ ! -x "$VMD_BUILD/sysboard" ]; then
	fail sysboard "no $VMD_BUILD/sysboard (built once translator/*.c defines cpu_new())"
else
	out=$(timeout 300 python3 "$tool" kernel "$elf" 2>&1)
	if [[ "$out" == *"both exited"*"no difference"* ]]; then pass sysboard
	else fail sysboard "$(echo "$out" | head -n 24 | tr '\n' ';')"; fi
fi

# The same kernel in the whole PC through vmd-guest's own GDB stub.
if [ ! -x "$VMD_BUILD/vmd-guest" ]; then
	skip vmdguest "no $VMD_BUILD/vmd-guest"
	exit 0
fi
out=$(timeout 300 python3 "$tool" kernel "$elf" --subject vmd-guest 2>&1)
if [[ "$out" == *"both exited"*"no difference"* ]]; then pass vmdguest
else fail vmdguest "$(echo "$out" | head -n 24 | tr '\n' ';')"; fi
