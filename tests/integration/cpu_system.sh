#!/usr/bin/env bash
# The freestanding system-test kernels (tests/guests/kernels, built by
# mk/kernels.mk into $VMD_BUILD/kernels): each checks one system feature of
# the CPU and prints "ok"/"FAIL" lines, then "done: N ok, M failed".
#   qemu/<kernel>      the kernel under qemu-system-i386 (multiboot): proves
#                      the kernel itself is right (the reference)
#   sysboard/<kernel>  the kernel on our CPU, on the minimal test board
#                      ($VMD_BUILD/sysboard: RAM, port 0xE9 text, 0xF4 exit)
#   .../same_as_qemu   for differential kernels (alu): the "hash" lines
#                      must be qemu's
#   vmdguest/<kernel>  the kernel in the whole PC (vmd-guest's multiboot
#                      loader, --debug-exit, --debugcon), once it is built
. "$VMD_TOP/tests/lib.sh"

kdir=$VMD_BUILD/kernels
shopt -s nullglob
elfs=("$kdir"/*.elf)
if [ ${#elfs[@]} -eq 0 ]; then
	fail kernels "no kernels in $kdir (make all builds them from tests/guests/kernels)"
	exit 0
fi

. "$VMD_TOP/tests/guests/testkernel.sh"
TESTKERNEL_KNOWN=$VMD_TOP/tests/guests/kernels/qemu-known.txt

# same_hashes NAME QEMU_LOG OUR_LOG: kernels that print "hash <group> <value>"
# lines (alu) are differential: our values must equal qemu's.
same_hashes() {
	local name=$1 ref=$2 ours=$3 d
	grep -q -a '^hash ' "$ref" 2>/dev/null || return 0
	d=$(diff <(grep -a '^hash ' "$ref") <(grep -a '^hash ' "$ours") | grep '^[<>]' | head -n 8 | tr '\n' ';')
	if [ -z "$d" ]; then pass "$name/same_as_qemu"
	else fail "$name/same_as_qemu" "hashes differ (< qemu, > ours): $d"; fi
}

have_qemu=1
command -v qemu-system-i386 >/dev/null || have_qemu=0
for elf in "${elfs[@]}"; do
	k=$(basename "$elf" .elf)
	if [ $have_qemu = 1 ]; then
		testkernel_qemu "$elf" "$T_TMP/$k.qemu"
		testkernel_verdict "qemu/$k" "$T_TMP/$k.qemu" $? 1 "$k"
	else
		skip "qemu/$k" "qemu-system-i386 is not installed (make deps)"
	fi
	if [ -x "$VMD_BUILD/vmd-guest" ]; then
		testkernel_vmdguest 64M "$elf" "$T_TMP/$k.vmd"
		testkernel_verdict "vmdguest/$k" "$T_TMP/$k.vmd" $? 1
		same_hashes "vmdguest/$k" "$T_TMP/$k.qemu" "$T_TMP/$k.vmd"
	else
		skip "vmdguest/$k" "no $VMD_BUILD/vmd-guest"
	fi
	if [ ! -x "$VMD_BUILD/sysboard" ]; then
		fail "sysboard/$k" "no $VMD_BUILD/sysboard: mk/kernels.mk builds it once translator/*.c defines cpu_new()"
		continue
	fi
	timeout 60 "$VMD_BUILD/sysboard" -t 30 "${elf%.elf}.bin" >"$T_TMP/$k.ours" 2>&1
	testkernel_verdict "sysboard/$k" "$T_TMP/$k.ours" $? 0
	same_hashes "sysboard/$k" "$T_TMP/$k.qemu" "$T_TMP/$k.ours"
done
