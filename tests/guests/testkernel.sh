# Running and judging the freestanding test kernels (tests/guests/kernels,
# tests/guests/fpu): each prints "ok"/"FAIL <check>: ..." lines and ends with
# "done: N ok, M failed", then exits through port 0xF4. Source after
# tests/lib.sh (it reports through pass/fail/skip).
#   testkernel_qemu ELF LOG        runs ELF under qemu-system-i386 (the
#                                  reference); returns qemu's exit status,
#                                  with qemu's own messages appended to LOG
#   testkernel_vmdguest MEM ELF LOG  the same in vmd-guest (the whole PC)
#   testkernel_verdict NAME LOG RC WANT_RC [KERNEL]
#                                  PASS if the run exited as wanted and LOG
#                                  ends with a clean "done:" line; FAIL with
#                                  the kernel's own words. With KERNEL (the
#                                  qemu reference), the checks that
#                                  $TESTKERNEL_KNOWN lists for it do not count.
# TESTKERNEL_KNOWN: the file of qemu's known deviations, "kernel|check|why".

testkernel_qemu() {
	local elf=$1 log=$2 rc
	# isa-debug-exit makes the status (value << 1) | 1: 1 means the kernel wrote 0.
	# In a subshell: a qemu abort is reported here, not by the shell's job messages.
	(timeout 60 qemu-system-i386 -M pc -cpu pentium2 -m 64 -display none -monitor none \
		-serial none -no-reboot -kernel "$elf" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -debugcon "file:$log" \
		>"$log.err" 2>&1; exit $?) 2>/dev/null
	rc=$?
	cat "$log.err" >>"$log" 2>/dev/null
	return $rc
}

testkernel_vmdguest() {
	local mem=$1 elf=$2 log=$3 rc
	timeout 60 "$VMD_BUILD/vmd-guest" -m "$mem" -k "$elf" --debug-exit --no-reboot \
		--debugcon "$log" </dev/null >"$log.err" 2>&1
	rc=$?
	cat "$log.err" >>"$log" 2>/dev/null
	return $rc
}

# testkernel_excused KERNEL LINE: whether the known-deviations file lists
# this FAIL line's check for KERNEL.
testkernel_excused() {
	local kernel=$1 line=$2 k n why
	[ -r "${TESTKERNEL_KNOWN:-}" ] || return 1
	while IFS='|' read -r k n why; do
		[ "$k" = "$kernel" ] && [[ "$line" == "FAIL $n: "* ]] && return 0
	done < <(grep -v '^#' "$TESTKERNEL_KNOWN")
	return 1
}

testkernel_verdict() {
	local name=$1 log=$2 rc=$3 want=$4 kernel=${5:-} done_line needs line bad="" nbad=0
	done_line=$(grep -a '^done: ' "$log" | tail -n 1)
	# "needs: pc": the kernel found no 8259A. Only the bare test board may say so.
	needs=$(grep -a '^needs: ' "$log" | head -n 1)
	if [ -n "$needs" ]; then
		if [[ "$name" == sysboard/* ]] && [ "$rc" = "$want" ]; then skip "$name" "needs ${needs#needs: }"
		else fail "$name" "the kernel says it ${needs}, on a PC; exit $rc"; fi
		return
	fi
	while IFS= read -r line; do
		if [ -n "$kernel" ] && testkernel_excused "$kernel" "$line"; then
			echo "note: $name: known qemu deviation: ${line#FAIL }"
		else
			nbad=$((nbad + 1))
			[ $nbad -le 5 ] && bad+="$line;"
		fi
	done < <(grep -a '^FAIL' "$log")
	# The reference exits 1 (all ok) or 3 (some failed, all of them excused).
	if [ -n "$kernel" ] && [ $nbad = 0 ] && [[ "$done_line" == "done: "* ]] &&
		{ [ "$rc" = 1 ] || [ "$rc" = 3 ]; }; then
		pass "$name"
	elif [ -z "$kernel" ] && [ $nbad = 0 ] && [ "$rc" = "$want" ] &&
		[[ "$done_line" == "done: "*" ok, 0 failed" ]]; then
		pass "$name"
	elif [ -n "$done_line$bad" ]; then
		fail "$name" "exit $rc, ${done_line:-no done line}; $bad"
	else
		fail "$name" "exit $rc, no output from the kernel; last lines: $(tail -n 3 "$log" | tr '\n' ';')"
	fi
}
