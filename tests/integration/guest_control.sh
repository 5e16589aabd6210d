#!/usr/bin/env bash
# The JSON-RPC control channel (--control-fd) and the idle cost of a halted guest.
. "$VMD_TOP/tests/lib.sh"
G=$VMD_BUILD/vmd-guest
K=$VMD_BUILD/tests/guests/board/kernel.elf
[ -x "$G" ] || { fail built "no $G"; exit 0; }

T_TMP=$T_TMP timeout 120 python3 - "$G" "$K" <<'PY'
import json, os, socket, subprocess, sys, time
g, k = sys.argv[1], sys.argv[2]

def result(name, ok, why=""):
    print(("PASS guest_control/%s" % name) if ok else ("FAIL guest_control/%s: %s" % (name, why)))

def start(cmdline, extra=()):
    a, b = socket.socketpair()
    p = subprocess.Popen([g, "-m", "32M", "-k", k, "-a", cmdline, "--control-fd", str(b.fileno()), *extra],
                         pass_fds=[b.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    b.close()
    a.settimeout(10)
    return p, a, a.makefile("rb")

def call(sock, f, method, id_):
    sock.sendall((json.dumps({"jsonrpc": "2.0", "id": id_, "method": method}) + "\n").encode())
    while True:
        m = json.loads(f.readline())
        if m.get("id") == id_:
            return m

def notifications(f):
    out = []
    for line in f:
        out.append(json.loads(line))
    return out

p, s, f = start("halt")
time.sleep(0.5)
r = call(s, f, "status", 1)
st = r.get("result", {})
result("status", st.get("state") == "halted" and st.get("insns", 0) > 0 and st.get("uptime_ns", 0) > 0, r)
# Idle: a halted guest costs next to no host CPU.
with open("/proc/%d/stat" % p.pid) as fh:
    t0 = sum(int(x) for x in fh.read().split(")")[1].split()[11:13])
time.sleep(2)
with open("/proc/%d/stat" % p.pid) as fh:
    t1 = sum(int(x) for x in fh.read().split(")")[1].split()[11:13])
ticks = os.sysconf("SC_CLK_TCK")
cpu = (t1 - t0) / ticks
result("idle_cpu", cpu < 0.1, "%.3f s of CPU in 2 s while halted" % cpu)
r = call(s, f, "pause", 2)
result("pause", r.get("result", {}).get("state") == "paused", r)
u0 = call(s, f, "status", 3)["result"]["uptime_ns"]
time.sleep(0.3)
u1 = call(s, f, "status", 4)["result"]["uptime_ns"]
result("paused_time_stands", u0 == u1, "%d -> %d" % (u0, u1))
r = call(s, f, "resume", 5)
result("resume", r.get("result", {}).get("state") == "halted", r)
r = call(s, f, "nosuchmethod", 6)
result("unknown_method", r.get("error", {}).get("code") == -32601, r)
s.sendall(b"this is not json\n")
m = json.loads(f.readline())
while m.get("method") == "state":
    m = json.loads(f.readline())
result("parse_error", m.get("error", {}).get("code") == -32700, m)
r = call(s, f, "reset", 7)
result("reset", "result" in r, r)
r = call(s, f, "quit", 8)
result("quit", "result" in r, r)
rest = notifications(f)
rc = p.wait(10)
result("quit_status", rc == 0, rc)
# vmd asked for the quit: no shutdown notification (those say why the guest stopped itself).
result("quit_no_shutdown_notification", not [m for m in rest if m.get("method") == "shutdown"], rest)

# A guest in HLT with interrupts off is "halted", and vmd hears about it once.
p, s, f = start("halt")
m = json.loads(f.readline())
while not (m.get("method") == "state" and m["params"]["state"] == "halted"):
    m = json.loads(f.readline())
result("halted_notification", True)
r = call(s, f, "quit", 1)
p.wait(10)

# A guest that leaves through isa-debug-exit tells vmd why before exiting.
p, s, f = start("exit=4", ["--debug-exit"])
msgs = notifications(f)
rc = p.wait(10)
sd = [m for m in msgs if m.get("method") == "shutdown"]
result("debug_exit_notification", sd and sd[0]["params"] == {"reason": "debug-exit", "code": 9}, msgs)
result("debug_exit_status", rc == 9, rc)
st = [m for m in msgs if m.get("method") == "state"]
result("state_notification", len(st) >= 1, msgs)

# Snapshots: save a guest in the middle of its echo loop, load it into a
# fresh process of the same machine, and it goes on from there.
import os
snap = os.path.join(os.environ["T_TMP"], "snap")
def request(s, f, method, params, id_):
    s.sendall((json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}) + "\n").encode())
    while True:
        m = json.loads(f.readline())
        if m.get("id") == id_:
            return m
def start_echo(mem="32M", code=4):
    a, b = socket.socketpair()
    p = subprocess.Popen([g, "-m", mem, "-k", k, "-a", "echo exit=%d" % code, "--debug-exit", "--control-fd",
                          str(b.fileno())], pass_fds=[b.fileno()], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    b.close()
    a.settimeout(10)
    return p, a, a.makefile("rb")
p, s, f = start_echo()
p.stdin.write(b"ab"); p.stdin.flush()
time.sleep(1)
r = request(s, f, "snapshot-save", {"path": snap}, 1)
result("snapshot_save", "result" in r and os.path.getsize(snap) > 0, r)
call(s, f, "quit", 2)
p.communicate(timeout=10)
# The second process would exit with 5: exiting with 4 shows it runs the snapshot.
p, s, f = start_echo(code=5)
time.sleep(0.5)
bogus = os.path.join(os.environ["T_TMP"], "bogus")
open(bogus, "wb").write(b"VMDSNAP1 this is not a machine")
r = request(s, f, "snapshot-load", {"path": bogus}, 1)
result("snapshot_load_corrupt_refused", r.get("error", {}).get("code") == -32004, r)
r = request(s, f, "snapshot-load", {"path": snap}, 2)
result("snapshot_load", "result" in r, r)
p.stdin.write(b"cq"); p.stdin.flush()
out = p.communicate(timeout=30)[0]
result("snapshot_resumes", p.returncode == 9 and b"c\r\necho done" in out, (p.returncode, out[-200:]))
# Another memory size is another machine: refused.
p, s, f = start_echo("64M")
r = request(s, f, "snapshot-load", {"path": snap}, 1)
result("snapshot_other_machine_refused", "error" in r and "MiB" in r["error"].get("message", ""), r)
call(s, f, "quit", 2)
p.communicate(timeout=10)

# Garbage on the control channel gets errors, never a dead machine.
import random
rng = random.Random(99)
p, s, f = start("halt")
methods = ["status", "pause", "resume", "powerdown", "snapshot-save", "snapshot-load", "nope", 5, None]
for i in range(300):
    kind = rng.random()
    if kind < 0.3:
        line = bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 200))).replace(b"\n", b" ")
    elif kind < 0.8:
        msg = {"jsonrpc": rng.choice(["2.0", "1.0", 2]), "id": rng.choice([i + 100, "x", None, [1]]),
               "method": rng.choice(methods)}
        if rng.random() < 0.5:
            msg["params"] = rng.choice([{"path": 7}, {"path": "/nonexistent/dir/snap"}, [1, 2], "p", {}])
        line = json.dumps(msg).encode()
    else:
        line = b"{" * rng.randrange(1, 5000)
    s.sendall(line + b"\n")
r = call(s, f, "resume", 1)
r = call(s, f, "status", 2)
result("fuzz_survived", r.get("result", {}).get("state") in ("halted", "running"), r)
call(s, f, "quit", 3)
result("fuzz_quit", p.wait(10) == 0)

# ACPI S5 from the guest: exit 0 after a shutdown notification "poweroff".
p, s, f = start("poweroff")
msgs = notifications(f)
rc = p.wait(10)
sd = [m for m in msgs if m.get("method") == "shutdown"]
result("poweroff_notification", sd and sd[0]["params"]["reason"] == "poweroff", msgs)
result("poweroff_status", rc == 0, rc)
PY

# The screen: a screenshot of the VGA (blank after reset, text once the
# guest wrote some), and the VNC server process that --vnc starts and stops.
T_TMP=$T_TMP timeout 120 python3 - "$G" "$K" <<'PY'
import json, os, socket, struct, subprocess, sys, time, zlib
g, k = sys.argv[1], sys.argv[2]
tmp = os.environ["T_TMP"]
def result(name, ok, why=""):
    print(("PASS guest_control/%s" % name) if ok else ("FAIL guest_control/%s: %s" % (name, why)))
def png_pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    # Count bytes that are not 0 outside the per-row filter bytes: any colour at all.
    stride = (len(raw) // h) - 1
    lit = sum(1 for y in range(h) for b in raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)] if b)
    return w, h, lit
def run(cmdline, extra=()):
    a, b = socket.socketpair()
    p = subprocess.Popen([g, "-m", "32M", "-k", k, "-a", cmdline, "--control-fd", str(b.fileno()), *extra],
                         pass_fds=[b.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    b.close()
    a.settimeout(10)
    return p, a, a.makefile("rb")
def request(s, f, method, params, id_):
    s.sendall((json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}) + "\n").encode())
    while True:
        m = json.loads(f.readline())
        if m.get("id") == id_:
            return m
def wait_halted(f):
    for line in f:
        m = json.loads(line)
        if m.get("method") == "state" and m["params"]["state"] == "halted":
            return
p, s, f = run("halt")
wait_halted(f)
r = request(s, f, "screenshot", {"path": tmp + "/blank.png"}, 1)
w, h, lit = png_pixels(tmp + "/blank.png") if "result" in r else (0, 0, -1)
# Blank but for the blinking cursor (a few pixels at most).
result("screenshot_blank", "result" in r and w >= 640 and h >= 400 and 0 <= lit < 100, (r, w, h, lit))
r = request(s, f, "screenshot", {"path": "/nonexistent/dir/x.png"}, 2)
result("screenshot_bad_path", r.get("error", {}).get("code") == -32004, r)
request(s, f, "quit", {}, 3)
p.wait(10)
p, s, f = run("vgatext halt")
wait_halted(f)
r = request(s, f, "screenshot", {"path": tmp + "/text.png"}, 1)
w, h, lit = png_pixels(tmp + "/text.png") if "result" in r else (0, 0, 0)
result("screenshot_text", "result" in r and lit > 1000, (r, w, h, lit))
request(s, f, "quit", {}, 2)
p.wait(10)

# --vnc starts vmd-display on a UNIX socket; it goes away with the guest.
sock = tmp + "/vnc.sock"
p, s, f = run("halt", ["--vnc", "unix:" + sock])
for _ in range(100):
    if os.path.exists(sock):
        break
    time.sleep(0.1)
ok = os.path.exists(sock)
if ok:
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(10)
    c.connect(sock)
    banner = c.recv(12)
    c.close()
    ok = banner.startswith(b"RFB 003.")
result("vnc_server", ok, sock)
request(s, f, "quit", {}, 1)
rc = p.wait(10)
time.sleep(0.5)
gone = subprocess.run(["pgrep", "-f", "vmd-display.*" + sock], capture_output=True).returncode != 0
result("vnc_server_stops", rc == 0 and gone, rc)
PY
