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

# The raw protocol: Ctrl-C stops a running guest, bad checksums are NAKed,
# out-of-range requests get errors, and k ends the process.
timeout 60 "$G" -m 32M -k "$K" -a "ticks=1000000" --gdb "$port" </dev/null >/dev/null 2>"$T_TMP/err2" &
pid=$!
T_PIDS+=("$pid")
wait_for 10 grep -q "waiting for a debugger" "$T_TMP/err2" || { fail listen2 "$(cat "$T_TMP/err2")"; exit 0; }
timeout 60 python3 - "$port" <<'PY'
import socket, sys
def result(name, ok, why=""):
    print(("PASS guest_gdb/%s" % name) if ok else ("FAIL guest_gdb/%s: %s" % (name, why)))
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
buf = b""
def packet(payload):
    s.sendall(b"$%s#%02x" % (payload, sum(payload) & 0xff))
def reply():
    global buf
    while True:
        i = buf.find(b"$")
        j = buf.find(b"#", i)
        if i >= 0 and j >= 0 and len(buf) >= j + 3:
            body, buf = buf[i + 1:j], buf[j + 3:]
            return body
        buf += s.recv(4096)
# Attaching stops the guest; let it run, then interrupt it.
packet(b"?"); result("stop_reason", reply() == b"S05")
packet(b"c")
s.sendall(b"\x03")
result("ctrl_c", reply() == b"S02")
packet(b"g")
regs = reply()
result("registers", len(regs) == 16 * 8, regs)
eip = int.from_bytes(bytes.fromhex(regs[64:72].decode()), "little")
result("eip_in_kernel", 0x200000 <= eip < 0x210000, hex(eip))
s.sendall(b"$g#00")                       # wrong checksum
while b"-" not in buf:
    buf += s.recv(4096)
result("bad_checksum_nak", True)
buf = buf.replace(b"-", b"", 1)
packet(b"m200000,100000"); result("huge_read_refused", reply().startswith(b"E"))
packet(b"mffff0000,4"); result("unmapped_read", reply() in (b"E14", b"ffffffff"))
packet(b"p30"); result("fpu_register_unavailable", reply().startswith(b"E"))
packet(b"M200000,2:zz"); result("bad_hex_refused", reply().startswith(b"E"))
packet(b"vMustReplyEmpty"); result("unknown_packet_empty", reply() == b"")
packet(b"k")
s.close()
PY
wait "$pid"
rc=$?
check kill_exits [ "$rc" = 0 ]

# Garbage from a debugger connection never takes the machine down.
timeout 60 "$G" -m 32M -k "$K" -a "ticks=1000000" --gdb "$port" </dev/null >/dev/null 2>"$T_TMP/err3" &
pid=$!
T_PIDS+=("$pid")
wait_for 10 grep -q "waiting for a debugger" "$T_TMP/err3" || { fail listen3 "$(cat "$T_TMP/err3")"; exit 0; }
timeout 60 python3 - "$port" <<'PY'
import random, socket, sys
rng = random.Random(1234)
port = int(sys.argv[1])
for round_ in range(20):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    for _ in range(50):
        kind = rng.random()
        if kind < 0.4:
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
            s.sendall(b"$" + body + b"#%02x" % (sum(body) & 0xff))
        elif kind < 0.7:
            cmd = rng.choice([b"m", b"M", b"p", b"P", b"Z0,", b"z0,", b"G", b"c", b"s", b"q", b"H"])
            body = cmd + bytes(rng.choice(b"0123456789abcdefxyz,:=;#$}") for _ in range(rng.randrange(0, 40)))
            body = body.replace(b"#", b"").replace(b"$", b"")
            s.sendall(b"$" + body + b"#%02x" % (sum(body) & 0xff))
        else:
            s.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 100))))
    s.close()
# Still alive and answering.
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"$?#3f")
data = b""
while b"#" not in data:
    data += s.recv(4096)
print("PASS guest_gdb/fuzz_survived" if b"$S" in data else "FAIL guest_gdb/fuzz_survived: %r" % data)
s.sendall(b"$k#6b")
s.close()
PY
wait "$pid"
rc=$?
check fuzz_kill_exits [ "$rc" = 0 ]
