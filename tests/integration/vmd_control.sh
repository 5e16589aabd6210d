#!/usr/bin/env bash
# vmd's control socket under abuse, spoken to raw (python3): malformed
# JSON, over-size lines, unknown methods, wrong parameter types, clients
# that vanish mid-message or never read, 500 clients at once; and every
# method's error path through vmctl with its exit status.
. "$VMD_TOP/tests/lib.sh"

VMD=$VMD_BUILD/vmd VMCTL=$VMD_BUILD/vmctl FAKE=$VMD_BUILD/tests/fake-guest
for b in "$VMD" "$VMCTL" "$FAKE"; do
	[ -x "$b" ] || { skip all "$b not built"; exit 0; }
done
command -v python3 >/dev/null || { skip all "python3 missing"; exit 0; }

SOCK=$T_TMP/vmd.sock
touch "$T_TMP/kernel"
cat >"$T_TMP/vmd.conf" <<EOF
guest-binary "$FAKE"
shutdown-timeout 2
vm "a" { memory 32M; kernel "$T_TMP/kernel" }
EOF
"$VMD" -d -f "$T_TMP/vmd.conf" -s "$SOCK" 2>"$T_TMP/vmd.log" &
VMD_PID=$!
T_PIDS+=("$VMD_PID")
wait_for 5 test -S "$SOCK" || { fail startup "no socket"; cat "$T_TMP/vmd.log"; exit 1; }

# rpc LINE...: sends raw lines on one connection, prints the replies
# (one per line sent, or $RPC_READ of them).
rpc() {
	RPC_READ=${RPC_READ:-$#} python3 - "$SOCK" "$@" <<'EOF'
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
lines = sys.argv[2:]
for l in lines:
    s.sendall(l.encode() + b"\n")
f = s.makefile("rb")
for _ in range(int(os.environ["RPC_READ"])):
    print(f.readline().decode().rstrip("\n"))
EOF
}
has() { grep -q -- "$2" <<<"$1"; }

r=$(rpc '{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":"vmd-protocol 1"}}')
check hello has "$r" '"protocol":"vmd-protocol 1"'
r=$(rpc '{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":"vmd-protocol 9"}}')
check hello_wrong_version has "$r" '"code":-32005'
r=$(rpc 'this is not json')
check malformed_json has "$r" '"id":null,"error":{"code":-32700'
r=$(rpc '{"jsonrpc":"2.0","id":5,"method":')
check truncated_json has "$r" '"code":-32700'
r=$(rpc '[{"jsonrpc":"2.0","id":1,"method":"list"}]')
check batch_refused has "$r" '"code":-32600'
r=$(rpc '{"jsonrpc":"2.0","id":7,"method":"frobnicate"}')
check unknown_method has "$r" '"id":7,"error":{"code":-32601,"message":"method not found: frobnicate"'
r=$(rpc '{"jsonrpc":"2.0","id":8,"method":"status","params":{"name":42}}')
check wrong_param_type has "$r" "\"code\":-32602,\"message\":\"parameter 'name' must be a string\""
r=$(rpc '{"jsonrpc":"2.0","id":9,"method":"status","params":{"nmae":"a"}}')
check unknown_param has "$r" "unknown parameter 'nmae'"
r=$(rpc '{"jsonrpc":"2.0","id":10,"method":"status","params":["a"]}')
check positional_params has "$r" '"code":-32600'
r=$(rpc '{"jsonrpc":"2.0","id":11,"method":"stop","params":{"name":"a","timeout":"soon"}}')
check wrong_int_type has "$r" "parameter 'timeout' must be an integer"
r=$(rpc '{"jsonrpc":"2.0","id":12,"method":"status","params":{"name":"zz"}}')
check no_such_vm has "$r" '"code":-32000,"message":"no such vm: zz"'
r=$(rpc '{"jsonrpc":"2.0","id":13,"method":"pause","params":{"name":"a"}}')
check wrong_state has "$r" '"code":-32001,"message":"cannot pause vm a: it is defined"'
r=$(rpc '{"jsonrpc":"2.0","id":14,"method":"snapshot-save","params":{"name":"a","path":"/tmp/x"}}')
check snapshot_not_supported has "$r" '"code":-32005,"message":"snapshots are not supported yet"'
r=$(rpc '{"jsonrpc":"2.0","id":15,"method":"snapshot-list","params":{"name":"a"}}')
check snapshot_list_not_supported has "$r" '"code":-32005'
r=$(rpc '{"jsonrpc":"2.0","id":16,"method":"snapshot-restore","params":{"name":"zz","path":"/x"}}')
check snapshot_checks_name_first has "$r" '"code":-32000'
r=$(rpc '{"jsonrpc":"2.0","id":17,"method":"kill","params":{"name":"a"}}')
check kill_not_running has "$r" '"code":-32001,"message":"vm a has no process (defined)"'
r=$(rpc '{"jsonrpc":"2.0","id":18,"method":"start","params":{"name":"zz"}}')
check start_no_such_vm has "$r" '"code":-32000'
r=$(rpc '{"jsonrpc":"2.0","id":19,"method":"start","params":{}}')
check start_missing_name has "$r" "\"code\":-32602,\"message\":\"missing parameter 'name'\""
r=$(rpc '{"jsonrpc":"2.0","id":20,"method":"define","params":{"name":"d1","memory":true,"kernel":"/k"}}')
check create_memory_wrong_type has "$r" "parameter 'memory' must be an integer or a string"
r=$(rpc '{"jsonrpc":"2.0","id":21,"method":"define","params":{"name":"d1","memory":12345,"kernel":"/k"}}')
check create_memory_not_mib has "$r" 'memory must be a whole number of MiB'
r=$(rpc '{"jsonrpc":"2.0","id":22,"method":"define","params":{"name":"d1","kernel":"vmlinuz"}}')
check create_relative_path has "$r" 'kernel ..vmlinuz.. must be an absolute path'
r=$(rpc '{"jsonrpc":"2.0","id":23,"method":"define","params":{"name":"d1","kernel":"/k","disks":["/a",7]}}')
check create_disks_type has "$r" "parameter 'disks' must be an array of strings"
r=$(rpc '{"jsonrpc":"2.0","id":24,"method":"define","params":{"name":"d1","memory":"64M","kernel":"/k","disks":["/a","/b"]}}')
check define_alias has "$r" '"id":24,"result":{"name":"d1","state":"defined"'
r=$(rpc '{"jsonrpc":"2.0","id":25,"method":"delete","params":{"name":"d1"}}')
check delete_defined_raw has "$r" '"result":{"deleted":"d1"}'
r=$(rpc '{"jsonrpc":"2.0","id":26,"result":{}}')
check response_from_client_refused has "$r" '"code":-32600,"message":"clients send requests, not responses"'
r=$(rpc '{"jsonrpc":"2.0","id":27,"method":"wait","params":{"name":"a","state":"sleeping"}}')
check wait_unknown_state has "$r" 'unknown state ..sleeping'
r=$(rpc '{"jsonrpc":"2.0","id":28,"method":"wait","params":{"name":"a","state":"defined"}}')
check wait_already_there has "$r" '"id":28,"result":{"name":"a","state":"defined"'
r=$(rpc '{"jsonrpc":"2.0","id":29,"method":"stop","params":{"name":"a","timeout":-1}}')
check stop_bad_timeout has "$r" 'timeout must be 0 to 3600 seconds'
r=$(rpc '{"jsonrpc":"2.0","id":30,"method":"subscribe"}')
check subscribe has "$r" '"result":{"subscribed":true}'
r=$(rpc '{"jsonrpc":"2.0","id":"s","method":"list"}')
check string_id has "$r" '"id":"s","result":{"vms":\[{"name":"a"'
# A notification (no id) gets no answer: the next reply is for id 2.
r=$(RPC_READ=1 rpc '{"jsonrpc":"2.0","method":"list"}' '{"jsonrpc":"2.0","id":2,"method":"info"}')
check notification_unanswered has "$r" '"id":2,'

# An over-size line is refused, and the same connection still works.
r=$(python3 - "$SOCK" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"list","params":{"x":"' + b"y" * (2 << 20) + b'"}}\n')
s.sendall(b'{"jsonrpc":"2.0","id":2,"method":"info"}\n')
f = s.makefile("rb")
print(f.readline().decode().strip()); print(f.readline().decode().strip())
EOF
)
check oversize_line has "$r" 'message longer than 1048576 bytes'
check oversize_then_ok has "$r" '"id":2,"result":{"protocol"'

# NUL inside a message.
r=$(printf '{"jsonrpc":"2.0","id":1,"method":"li\0st"}\n' | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(sys.stdin.buffer.read()); print(s.makefile("rb").readline().decode())' "$SOCK")
check embedded_nul has "$r" 'NUL byte'

# Clients that disconnect mid-message, and one that never reads while
# others are served; then 500 clients at once.
r=$(python3 - "$SOCK" <<'EOF'
import socket, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(10); return s
for i in range(20):
    s = conn(); s.sendall(b'{"jsonrpc":"2.0","id":1,"meth'); s.close()
# The stuck client floods requests and never reads its answers.
stuck = conn(); stuck.setblocking(False)
req = b'{"jsonrpc":"2.0","id":1,"method":"list"}\n' * 1000
sent = 0
t0 = time.time()
ok = 0
while time.time() - t0 < 4:
    try:
        sent += stuck.send(req)
    except (BlockingIOError, ConnectionResetError, BrokenPipeError):
        pass
    s = conn(); s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"info"}\n')
    if b'"result"' in s.makefile("rb").readline(): ok += 1
    s.close()
    if ok >= 50: break
print("served", ok)
# By now the stuck client has been dropped (its queue overflowed).
try:
    stuck.setblocking(True); stuck.settimeout(5)
    n = 0
    while True:
        d = stuck.recv(1 << 20)
        if not d: break
        n += len(d)
    print("stuck dropped after", n)
except Exception as e:
    print("stuck not dropped", e)
socks = [conn() for _ in range(500)]
for s in socks: s.sendall(b'{"jsonrpc":"2.0","id":3,"method":"status","params":{"name":"a"}}\n')
good = sum(1 for s in socks if b'"id":3,"result"' in s.makefile("rb").readline())
print("parallel", good)
EOF
)
check disconnect_mid_message_and_stuck_reader has "$r" 'served 50'
check stuck_reader_dropped has "$r" 'stuck dropped after'
check five_hundred_clients has "$r" 'parallel 500'
check still_alive kill -0 "$VMD_PID"

# Garbage: random bytes and mutated requests on many connections.
r=$(python3 - "$SOCK" <<'EOF'
import random, socket, sys
rnd = random.Random(4242)
base = b'{"jsonrpc":"2.0","id":1,"method":"status","params":{"name":"a"}}\n'
for i in range(300):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(2)
    if i % 3 == 0:
        data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 4000)))
    else:
        b = bytearray(base * rnd.randrange(1, 5))
        for _ in range(rnd.randrange(1, 10)):
            b[rnd.randrange(len(b))] = rnd.choice(b'{}[]":,\\\n\x00\xff0a')
        data = bytes(b)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b'{"jsonrpc":"2.0","id":9,"method":"info"}\n')
print(s.makefile("rb").readline().decode())
EOF
)
check survives_garbage has "$r" '"id":9,"result"'
check still_alive_after_garbage kill -0 "$VMD_PID"

# vmctl's errors are readable one-liners with script-friendly exit codes.
V() { "$VMCTL" -s "$SOCK" "$@"; }
out=$(V pause zz 2>&1); rc=$?
check vmctl_failure_exit_1 test "$rc" = 1
check vmctl_failure_message test "$out" = "vmctl: no such vm: zz"
V bogus >/dev/null 2>&1; check vmctl_usage_exit_2 test $? = 2
"$VMCTL" -s "$T_TMP/nowhere.sock" list >/dev/null 2>&1; check vmctl_unreachable_exit_3 test $? = 3
out=$(V resume a 2>&1); check vmctl_wrong_state test "$out" = "vmctl: cannot resume vm a: it is defined"
out=$(V snapshot save a "$T_TMP/snap" 2>&1); check vmctl_snapshot_error test "$out" = "vmctl: snapshots are not supported yet"
out=$(V start -n a -m 32M -k "$T_TMP/kernel" 2>&1); check vmctl_create_exists test "$out" = "vmctl: vm a already exists"
out=$(V start -n 'bad name' -m 32M -k "$T_TMP/kernel" 2>&1)
check vmctl_create_bad_name has "$out" 'bad vm name'
out=$(V start -n big -m 64G -k "$T_TMP/kernel" 2>&1)
check vmctl_create_bad_memory has "$out" 'out of range'
out=$(V create -n nothing -m 32M 2>&1); check vmctl_create_nothing_to_boot has "$out" 'nothing to boot'
out=$(V info); check vmctl_info has "$out" 'vmd-protocol 1'
out=$(V --json list); check vmctl_list_json has "$out" '"name": "a"'
out=$(V wait -t 1 a running 2>&1); rc=$?
check vmctl_wait_timeout test "$rc" = 1
check vmctl_wait_timeout_message has "$out" 'still defined when the wait timed out'
out=$(V delete a); check delete_defined test "$out" = "a: deleted"
out=$(V status a 2>&1); check deleted_is_gone test "$out" = "vmctl: no such vm: a"

kill -TERM "$VMD_PID"
wait_for 5 bash -c "! kill -0 $VMD_PID" && pass sigterm_exits || fail sigterm_exits
check socket_removed test ! -e "$SOCK"

# Few file descriptors: clients beyond the budget are turned away, and a
# guest can still be started while the budget is used up.
SOCK2=$T_TMP/small.sock
bash -c "ulimit -n 64; exec '$VMD' -d -f '$T_TMP/vmd.conf' -s '$SOCK2'" 2>"$T_TMP/small.log" &
SMALL_PID=$!
T_PIDS+=("$SMALL_PID")
wait_for 5 test -S "$SOCK2" || fail small_start "no socket"
r=$(python3 - "$SOCK2" "$VMCTL" "$T_TMP/kernel" <<'EOF'
import socket, subprocess, sys
path, vmctl, kernel = sys.argv[1:4]
socks, served = [], 0
for i in range(100):
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(5); socks.append(s)
for s in socks:
    try:
        s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"info"}\n')
        if b'"result"' in s.makefile("rb").readline(): served += 1
    except OSError:
        pass
print("served", served)
s = socks[0]
s.sendall(('{"jsonrpc":"2.0","id":2,"method":"create","params":{"name":"late","memory":"32M",'
           '"kernel":"%s","start":true}}\n' % kernel).encode())
print("while full:", s.makefile("rb").readline().decode().strip())
for s in socks: s.close()
out = subprocess.run([vmctl, "-s", path, "status", "late"], capture_output=True, text=True)
print("after:", out.returncode, "running" in out.stdout)
EOF
)
check fd_budget_caps_clients has "$r" 'served 32$'
check fd_budget_refusal_logged grep -q 'too many clients (32): refusing one' "$T_TMP/small.log"
check fd_budget_guest_starts_while_full has "$r" '"id":2,"result":{"name":"late","state":"running"'
check fd_budget_after has "$r" 'after: 0 True'
kill -TERM "$SMALL_PID"
wait_for 5 bash -c "! kill -0 $SMALL_PID" && pass small_exits || fail small_exits
grep -q 'error' "$T_TMP/vmd.log" && { fail log_clean "$(grep error "$T_TMP/vmd.log" | head -3)"; } || pass log_clean

# A guest binary that is missing: start fails with the reason, state unchanged.
sed 's|^guest-binary .*|guest-binary "/nonexistent/vmd-guest"|' "$T_TMP/vmd.conf" >"$T_TMP/nobin.conf"
"$VMD" -d -f "$T_TMP/nobin.conf" -s "$T_TMP/nobin.sock" 2>/dev/null &
NB_PID=$!
T_PIDS+=("$NB_PID")
wait_for 5 test -S "$T_TMP/nobin.sock"
out=$("$VMCTL" -s "$T_TMP/nobin.sock" start a 2>&1)
check missing_guest_binary test "$out" = "vmctl: cannot start vm a: guest binary /nonexistent/vmd-guest: No such file or directory"
out=$("$VMCTL" -s "$T_TMP/nobin.sock" --json status a | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
check missing_guest_binary_state test "$out" = defined
kill -TERM "$NB_PID"; wait "$NB_PID"
