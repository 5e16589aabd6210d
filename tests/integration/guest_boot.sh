#!/usr/bin/env bash
# vmd-guest boots the board's multiboot test kernel: COM1 output on stdout,
# the multiboot info it was given, isa-debug-exit status, option errors.
. "$VMD_TOP/tests/lib.sh"
G=$VMD_BUILD/vmd-guest
K=$VMD_BUILD/tests/guests/board/kernel.elf
[ -x "$G" ] || { fail built "no $G"; exit 0; }

echo "module text" >"$T_TMP/mod"
timeout 60 "$G" -m 32M -k "$K" -a "info exit=5" -i "$T_TMP/mod arg1" --debug-exit \
	</dev/null >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
check exit_status [ "$rc" = 11 ]
check banner grep -q "board test kernel" "$T_TMP/out"
check multiboot_magic grep -q "magic 0x2badb002" "$T_TMP/out"
check cmdline grep -q "cmdline info exit=5" "$T_TMP/out"
check mem_lower grep -q "mem_lower 639" "$T_TMP/out"
check mem_upper grep -q "mem_upper 31680" "$T_TMP/out"
check loader_name grep -q "loader vmd" "$T_TMP/out"
check module grep -q "module 12 bytes .* aligned 1 $T_TMP/mod arg1" "$T_TMP/out"
check e820_ram_high grep -q "mmap 0x00100000 0x01ef0000 1" "$T_TMP/out"

# Without --debug-exit the port is nobody's: the kernel goes on, and its
# reset request then ends the process because of --no-reboot.
timeout 60 "$G" -m 32M -k "$K" -a "exit=5 reset=port92" --no-reboot </dev/null >"$T_TMP/out2" 2>"$T_TMP/err2"
rc=$?
check debug_exit_off [ "$rc" = 0 ]
check debug_exit_off_output grep -q "exit did not happen" "$T_TMP/out2"

# Configuration errors: status 2 and a message.
"$G" --bogus >/dev/null 2>"$T_TMP/e1"; rc=$?
check unknown_option [ "$rc" = 2 ]
"$G" -m 8T -k "$K" >/dev/null 2>"$T_TMP/e2"; rc=$?
check bad_memory [ "$rc" = 2 ]
"$G" -m 32M -k /nonexistent </dev/null >/dev/null 2>"$T_TMP/e3"; rc=$?
check missing_kernel [ "$rc" = 2 ]
check missing_kernel_message grep -q "/nonexistent" "$T_TMP/e3"
"$G" --help >"$T_TMP/help"; rc=$?
check help [ "$rc" = 0 ]
check help_contract grep -q -- "--control-fd" "$T_TMP/help"

# The instruction trace covers the requested window of guest time only.
timeout 60 "$G" -m 32M -k "$K" -a "exit=1" --debug-exit --trace "$T_TMP/trace" </dev/null >/dev/null 2>&1
entry=$(printf '%08x' "$(nm "$K" | awk '$3 == "_start" { print "0x" $1 }')")
check trace_first_insn grep -q "^0010:$entry" "$T_TMP/trace"
timeout 60 "$G" -m 32M -k "$K" -a "exit=1" --debug-exit --trace "$T_TMP/trace2" --trace-from 100000000000 \
	</dev/null >/dev/null 2>&1
empty_file() { [ -e "$1" ] && [ ! -s "$1" ]; }
check trace_window empty_file "$T_TMP/trace2"

# Guest RAM is lazily backed: a 3.5 GiB guest that touched little costs little.
timeout 30 python3 - "$G" "$K" <<'PY'
import subprocess, sys, time
g, k = sys.argv[1:3]
p = subprocess.Popen([g, "-m", "3584M", "-k", k, "-a", "halt"], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1)
rss = next(int(l.split()[1]) for l in open("/proc/%d/status" % p.pid) if l.startswith("VmRSS"))
p.terminate()
p.wait(10)
ok = rss < 64 * 1024
print("PASS guest_boot/lazy_ram" if ok else "FAIL guest_boot/lazy_ram: %d KiB resident for a 3.5 GiB guest" % rss)
PY
"$G" -m 3585M -k "$K" </dev/null >/dev/null 2>"$T_TMP/e4"; rc=$?
check too_much_memory [ "$rc" = 2 ]
check too_much_memory_message grep -q "out of range" "$T_TMP/e4"
# A window in the middle of the run: a guest woken by 100 Hz timer ticks
# shows the interrupts and its handler for that part only.
timeout 60 "$G" -m 32M -k "$K" -a "ticks=30 exit=1" --debug-exit --trace "$T_TMP/trace3" \
	--trace-from 100000000 --trace-to 200000000 </dev/null >/dev/null 2>&1
trace_lines=$(wc -l <"$T_TMP/trace3")
irqs=$(grep -c "^irq vector 0x20" "$T_TMP/trace3")
partial_trace() {
	[ "$irqs" -ge 5 ] && [ "$irqs" -le 15 ] && ! grep -q "^0010:$entry" "$T_TMP/trace3"
}
check trace_middle_window partial_trace
[ "$irqs" -ge 5 ] && [ "$irqs" -le 15 ] || echo "note: $irqs timer interrupts in $trace_lines trace lines"
