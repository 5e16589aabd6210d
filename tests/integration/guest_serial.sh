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

# A console nobody reads must not stall the guest: output the host cannot
# take waits in a bounded buffer that drops its oldest bytes (counted); a
# reader that comes back gets the newest output.
timeout 120 python3 - "$G" "$K" <<'PY'
import signal, socket, subprocess, sys, time
g, k = sys.argv[1:3]
def result(name, ok, why=""):
    print(("PASS guest_serial/%s" % name) if ok else ("FAIL guest_serial/%s: %s" % (name, why)))
a, b = socket.socketpair()
p = subprocess.Popen([g, "-m", "32M", "-k", k, "-a", "spam=20000 halt", "--console-fd", str(b.fileno())],
                     pass_fds=[b.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE)
b.close()
# 20000 lines are 1.3 MB: far more than the socket and the buffer hold.
time.sleep(4)
a.settimeout(1)
data = b""
try:
    while True:
        d = a.recv(65536)
        if not d:
            break
        data += d
except socket.timeout:
    pass
result("unread_console_does_not_stall", b"halting" in data, data[-200:])
result("newest_output_kept", b"0x00004e1f ....." in data, data[-200:])
result("oldest_output_dropped", b"0x00002000 ....." not in data and len(data) < 1300000, len(data))
p.send_signal(signal.SIGTERM)
err = p.communicate(timeout=20)[1].decode(errors="replace")
result("dropped_output_counted", "were dropped" in err, err[-300:])
result("sigterm_exit", p.returncode == 0, p.returncode)
PY

# Input wakes a guest sleeping in HLT: the receive interrupt reaches the
# CPU at once, and the sleeping guest costs next to nothing meanwhile.
timeout 60 python3 - "$G" "$K" <<'PY'
import os, select, subprocess, sys, time
g, k = sys.argv[1:3]
def result(name, ok, why=""):
    print(("PASS guest_serial/%s" % name) if ok else ("FAIL guest_serial/%s: %s" % (name, why)))
p = subprocess.Popen([g, "-m", "32M", "-k", k, "-a", "irqecho exit=3", "--debug-exit"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
out = b""
def read_until(token, limit):
    global out
    end = time.monotonic() + limit
    while token not in out and time.monotonic() < end:
        r, _, _ = select.select([p.stdout], [], [], 0.05)
        if r:
            out += os.read(p.stdout.fileno(), 4096)
    return token in out
def cpu():
    f = open("/proc/%d/stat" % p.pid).read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
result("irq_echo_ready", read_until(b"irq echo ready", 20), out)
time.sleep(0.3)
c0 = cpu()
time.sleep(1.0)
c1 = cpu()
result("sleeping_guest_is_cheap", c1 - c0 < 0.1, "%.2f s of CPU in 1 s" % (c1 - c0))
t0 = time.monotonic()
p.stdin.write(b"Z"); p.stdin.flush()
ok = read_until(b"Z", 5)
latency = time.monotonic() - t0
# Without the wake-up the guest would sleep up to a second (the idle cap).
result("input_wakes_guest", ok and latency < 0.5, "%.3f s" % latency)
p.stdin.write(b"q"); p.stdin.flush()
read_until(b"exiting", 10)
rc = p.wait(10)
result("irq_echo_exit", rc == 7 and b"irq echo done" in out, (rc, out[-100:]))
PY
