#!/usr/bin/env bash
# The GDB remote stub: gdb attaches before the first instruction (--gdb-wait),
# reads registers and memory, stops at a breakpoint, single-steps, continues.
. "$VMD_TOP/tests/lib.sh"
G=$VMD_BUILD/vmd-guest
K=$VMD_BUILD/tests/guests/board/kernel.elf
[ -x "$G" ] || { fail built "no $G"; exit 0; }
command -v gdb >/dev/null || { skip gdb "gdb is not installed"; exit 0; }

port=$((20000 + $$ % 20000))
timeout 120 "$G" -m 32M -k "$K" -a "exit=6" --debug-exit --gdb "$port" --gdb-wait \
	</dev/null >"$T_TMP/out" 2>"$T_TMP/err" &
pid=$!
T_PIDS+=("$pid")
wait_for 10 grep -q "waiting for a debugger" "$T_TMP/err" || { fail listen "$(cat "$T_TMP/err")"; exit 0; }
# Nothing runs before the debugger says so.
sleep 0.3
check waits_for_debugger [ ! -s "$T_TMP/out" ]

timeout 60 gdb -nx -batch "$K" \
	-ex "set confirm off" \
	-ex "target remote 127.0.0.1:$port" \
	-ex 'printf "entry %x\n", $eip' \
	-ex 'printf "magic %x\n", $eax' \
	-ex "x/4xb 0x200000" \
	-ex "break kmain" \
	-ex "continue" \
	-ex 'printf "at %x\n", $eip' \
	-ex "stepi" \
	-ex 'printf "stepped %x\n", $eip' \
	-ex "delete" \
	-ex "continue" >"$T_TMP/gdb" 2>&1
wait "$pid"
rc=$?
entry=$(printf '%x' "$(nm "$K" | awk '$3 == "_start" { print "0x" $1 }')")
kmain=$(printf '%x' "$(nm "$K" | awk '$3 == "kmain" { print "0x" $1 }')")
check entry_eip grep -q "^entry $entry\$" "$T_TMP/gdb"
check entry_eax grep -q "^magic 2badb002\$" "$T_TMP/gdb"
check read_memory grep -qi "0x200000.*0x02.*0xb0.*0xad.*0x1b" "$T_TMP/gdb"
# gdb may place the breakpoint after kmain's prologue: somewhere inside kmain.
at=$(sed -n 's/^at //p' "$T_TMP/gdb")
in_kmain() { [ -n "$1" ] && [ $((0x$1 - 0x$kmain)) -ge 0 ] && [ $((0x$1 - 0x$kmain)) -lt 64 ]; }
check breakpoint in_kmain "$at"
stepped=$(sed -n 's/^stepped //p' "$T_TMP/gdb")
moved() { [ -n "$1" ] && [ "$1" != "$2" ]; }
check single_step moved "$stepped" "$at"
check continue_to_exit [ "$rc" = 13 ]
check guest_output grep -q "exiting" "$T_TMP/out"
[ "$rc" = 13 ] || { echo "---- gdb"; cat "$T_TMP/gdb"; echo "---- guest"; cat "$T_TMP/err"; }
