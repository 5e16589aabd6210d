#!/usr/bin/env bash
# COM1 input: bytes from stdin reach the guest (which echoes them) even when
# sent faster than the UART takes them; output order is kept.
. "$VMD_TOP/tests/lib.sh"
G=$VMD_BUILD/vmd-guest
K=$VMD_BUILD/tests/guests/board/kernel.elf
[ -x "$G" ] || { fail built "no $G"; exit 0; }

text="a lazy brown dog, then 0123456789 (no letter that ends the echo)"
printf '%sq' "$text" | timeout 60 "$G" -m 32M -k "$K" -a "echo exit=2" --debug-exit \
	>"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
check exit_status [ "$rc" = 5 ]
check echo_ready grep -q "echo ready" "$T_TMP/out"
check echoed_text grep -qF "$text" "$T_TMP/out"
check echo_done grep -q "echo done" "$T_TMP/out"

# A unix socket console: output is kept until a client connects.
sock=$T_TMP/console.sock
timeout 60 "$G" -m 32M -k "$K" -a "echo exit=3" --debug-exit --serial "unix:$sock" \
	</dev/null >/dev/null 2>"$T_TMP/err2" &
pid=$!
T_PIDS+=("$pid")
if wait_for 10 test -S "$sock"; then
	printf 'abcq' | timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); out = b""
while True:
    d = s.recv(4096)
    if not d: break
    out += d
sys.stdout.buffer.write(out)' "$sock" >"$T_TMP/out2"
	wait "$pid"; rc=$?
	check unix_exit_status [ "$rc" = 7 ]
	check unix_banner grep -q "board test kernel" "$T_TMP/out2"
	check unix_echo grep -q "abc" "$T_TMP/out2"
else
	fail unix_socket "no socket at $sock"
fi
