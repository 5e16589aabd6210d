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

known=$VMD_TOP/tests/guests/kernels/qemu-known.txt

# verdict NAME LOG STATUS WANT_STATUS [KERNEL]: PASS if the run exited as
# wanted and its log ends with a clean "done:" line; FAIL with the kernel's
# own words. With KERNEL (the qemu reference), the checks qemu-known.txt
# lists for it are not counted against qemu.
verdict() {
	local name=$1 log=$2 rc=$3 want=$4 kernel=${5:-} done_line bad line n nfail needs
	done_line=$(grep -a '^done: ' "$log" | tail -n 1)
	# "needs: pc": the kernel found no 8259A. Only the bare test board may say so.
	needs=$(grep -a '^needs: ' "$log" | head -n 1)
	if [ -n "$needs" ]; then
		if [[ "$name" == sysboard/* ]] && [ "$rc" = "$want" ]; then skip "$name" "needs ${needs#needs: }"
		else fail "$name" "the kernel says it ${needs}, on a PC; exit $rc"; fi
		return
	fi
	if [ -n "$kernel" ]; then
		nfail=0
		while IFS= read -r line; do
			local k_name="" entry
			while IFS='|' read -r entry n _; do
				[ "$entry" = "$kernel" ] && [[ "$line" == "FAIL $n: "* ]] && k_name=$n && break
			done < <(grep -v '^#' "$known")
			if [ -n "$k_name" ]; then
				echo "note: $name: known qemu deviation: $k_name"
			else
				nfail=$((nfail + 1))
			fi
		done < <(grep -a '^FAIL ' "$log")
		if [ $nfail = 0 ] && { [ "$rc" = 1 ] || [ "$rc" = 3 ]; } && [[ "$done_line" == "done: "* ]]; then
			pass "$name"; return
		fi
		want=1
	fi
	bad=$(grep -a -E '^FAIL' "$log" | head -n 5 | tr '\n' ';')
	if [ "$rc" = "$want" ] && [[ "$done_line" == "done: "*" ok, 0 failed" ]]; then
		pass "$name"
	elif [ -n "$done_line$bad" ]; then
		fail "$name" "exit $rc, ${done_line:-no done line}; $bad"
	else
		fail "$name" "exit $rc, no output from the kernel; last lines: $(tail -n 3 "$log" | tr '\n' ';')"
	fi
}

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
		# isa-debug-exit makes the status (value << 1) | 1: 1 means the kernel wrote 0.
		timeout 60 qemu-system-i386 -M pc -cpu pentium2 -m 64 -display none -monitor none \
			-serial none -no-reboot -kernel "$elf" \
			-device isa-debug-exit,iobase=0xf4,iosize=4 -debugcon "file:$T_TMP/$k.qemu" \
			>"$T_TMP/$k.qemu.err" 2>&1
		rc=$?
		cat "$T_TMP/$k.qemu.err" >>"$T_TMP/$k.qemu" 2>/dev/null
		verdict "qemu/$k" "$T_TMP/$k.qemu" "$rc" 1 "$k"
	else
		skip "qemu/$k" "qemu-system-i386 is not installed (make deps)"
	fi
	if [ -x "$VMD_BUILD/vmd-guest" ]; then
		timeout 60 "$VMD_BUILD/vmd-guest" -m 64M -k "$elf" --debug-exit --no-reboot \
			--debugcon "$T_TMP/$k.vmd" </dev/null >"$T_TMP/$k.vmd.err" 2>&1
		rc=$?
		cat "$T_TMP/$k.vmd.err" >>"$T_TMP/$k.vmd" 2>/dev/null
		verdict "vmdguest/$k" "$T_TMP/$k.vmd" "$rc" 1
		same_hashes "vmdguest/$k" "$T_TMP/$k.qemu" "$T_TMP/$k.vmd"
	else
		skip "vmdguest/$k" "no $VMD_BUILD/vmd-guest"
	fi
	if [ ! -x "$VMD_BUILD/sysboard" ]; then
		fail "sysboard/$k" "no $VMD_BUILD/sysboard: mk/kernels.mk builds it once translator/*.c defines cpu_new()"
		continue
	fi
	timeout 60 "$VMD_BUILD/sysboard" -t 30 "${elf%.elf}.bin" >"$T_TMP/$k.ours" 2>&1
	verdict "sysboard/$k" "$T_TMP/$k.ours" $? 0
	same_hashes "sysboard/$k" "$T_TMP/$k.qemu" "$T_TMP/$k.ours"
done
