#!/usr/bin/env bash
# Guest lifecycle through vmd and vmctl with the guest-process double
# (build/tests/fake-guest): it is used here because every case below needs
# a failure or timing a real guest cannot produce on demand (a guest that
# ignores powerdown or quit, exits 2 on start, debug-exits, reboots,
# crashes). vmd_guest.sh runs the same lifecycle with the real vmd-guest.
. "$VMD_TOP/tests/lib.sh"

VMD=$VMD_BUILD/vmd VMCTL=$VMD_BUILD/vmctl FAKE=$VMD_BUILD/tests/fake-guest
for b in "$VMD" "$VMCTL" "$FAKE"; do
	[ -x "$b" ] || { skip all "$b not built"; exit 0; }
done

SOCK=$T_TMP/vmd.sock
V() { "$VMCTL" -s "$SOCK" "$@"; }
has() { grep -q -- "$2" <<<"$1"; }
state_of() { V --json status "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }
field() { V --json status "$1" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2',''))"; }

touch "$T_TMP/kernel"
cat >"$T_TMP/vmd.conf" <<EOF
# three ordinary guests and a few misbehaving ones
guest-binary "$FAKE"
shutdown-timeout 2
vm "one"   { memory 32M; kernel "$T_TMP/kernel" }
vm "two"   { memory 32M; kernel "$T_TMP/kernel"; autostart yes }
vm "three" { memory 32M; kernel "$T_TMP/kernel" }
vm "deaf"  { memory 32M; kernel "$T_TMP/kernel"; cmdline "ignore-powerdown" }
vm "stuck" { memory 32M; kernel "$T_TMP/kernel"; cmdline "ignore-powerdown ignore-quit" }
vm "badcfg" { memory 32M; kernel "$T_TMP/kernel"; cmdline "exit-on-start=2" }
vm "dbg"   { memory 32M; kernel "$T_TMP/kernel"; cmdline "debug-exit-after=200:33" }
vm "boot"  { memory 32M; kernel "$T_TMP/kernel"; cmdline "reboot-after=300" }
vm "segv"  { memory 32M; kernel "$T_TMP/kernel"; cmdline "crash-after=200" }
vm "noisy" { memory 32M; kernel "$T_TMP/kernel"; cmdline "spam-stderr=5000" }
vm "mute"  { memory 32M; kernel "$T_TMP/kernel"; cmdline "mute-after=300" }
vm "sink"  { memory 32M; kernel "$T_TMP/kernel"; cmdline "count-console" }
EOF

# -n: a good file passes, a bad one is refused with file:line messages.
out=$("$VMD" -n -f "$T_TMP/vmd.conf" 2>&1); check config_check_ok test "$out" = "configuration OK: 12 vms"
cat >"$T_TMP/bad.conf" <<EOF
vm "x" {
	memory 12Q
	kernel "relative"
	colour blue
}
frob
EOF
out=$("$VMD" -n -f "$T_TMP/bad.conf" 2>&1); rc=$?
check config_check_bad_exit test "$rc" = 1
check config_check_line2 has "$out" "bad.conf:2: bad memory size \"12Q\""
check config_check_line3 has "$out" "bad.conf:3: kernel \"relative\" must be an absolute path"
check config_check_line4 has "$out" "bad.conf:4: unknown vm option \"colour\""
check config_check_line6 has "$out" "bad.conf:6: unknown statement \"frob\""
"$VMD" -d -f "$T_TMP/bad.conf" -s "$SOCK" 2>/dev/null; check bad_config_refused_at_start test $? = 1

"$VMD" -d -v -f "$T_TMP/vmd.conf" -s "$SOCK" 2>"$T_TMP/vmd.log" &
VMD_PID=$!
T_PIDS+=("$VMD_PID")
wait_for 5 test -S "$SOCK" || { fail startup "no socket"; cat "$T_TMP/vmd.log"; exit 1; }

# Events, watched from the start.
V --json show events >"$T_TMP/events" 2>&1 &
T_PIDS+=($!)
sleep 0.2

check autostart wait_for 5 is_state two running
out=$(V start one); check start_one test "$out" = "one: running"
out=$(V start three); check start_three test "$out" = "three: running"
out=$(V start one 2>&1); check start_twice_refused test "$out" = "vmctl: vm one is already running"
check socket_mode test "$(stat -c %a "$SOCK")" = 660

# kill -9 one guest process: reported crashed with the cause, others run on.
pid3=$(field three pid)
kill -9 "$pid3"
check crash_detected wait_for 5 is_state three crashed
out=$(field three cause)
check crash_cause test "$out" = "guest process killed by signal 9 (Killed)"
check crash_signal test "$(field three signal)" = 9
check others_still_running is_state one running
check others_still_running2 is_state two running
out=$(V list); check list_after_crash has "$out" 'three .*crashed .*killed by signal 9'
check crash_event wait_for 3 grep -q '"type":"crash","vm":"three"' "$T_TMP/events"
out=$(V start three); check restart_after_crash test "$out" = "three: running"

out=$(V pause one); check pause test "$out" = "one: paused"
out=$(V pause one 2>&1); check pause_twice test "$out" = "vmctl: cannot pause vm one: it is paused"
out=$(V --json status one); check status_paused_guest has "$out" '"state": "paused"'
out=$(V status one); check status_details has "$out" '^  guest        paused, [0-9]* instructions'
check status_details_kernel has "$out" "^  kernel       $T_TMP/kernel"
out=$(V resume one); check resume test "$out" = "one: running"
out=$(V reset one); check reset test "$out" = "one: running"

# Console: history replayed, input relayed, detaching leaves the guest alone.
out=$(printf 'hello vmd\n' | V console -l 0.5 one)
check console_history has "$out" 'fake-guest one booted'
check console_reset_seen has "$out" 'fake-guest: reset'
check console_both_ways has "$out" 'echo: hello vmd'
check console_detach_harmless is_state one running
out=$(printf 'again\n' | V console -l 0.5 one)
check console_reattach has "$out" 'echo: again'
check console_history_kept has "$out" 'echo: hello vmd'
# On a terminal: raw mode, "~~" sends one tilde, "~." at a line start leaves.
out=$(python3 - "$VMCTL" "$SOCK" <<'EOF'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "-s", sys.argv[2], "console", "one"])
def read_until(needle, limit=5):
    buf = b""; end = time.time() + limit
    while needle not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try: buf += os.read(fd, 4096)
            except OSError: break
    return buf
out = read_until(b"fake-guest one booted")
out += read_until(b"to leave]")
os.write(fd, b"typed\n")
out += read_until(b"echo: typed")
os.write(fd, b"~~tilde\n")
out += read_until(b"echo: ~tilde")
os.write(fd, b"~.")
out += read_until(b"[left the console of one]")
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("EXIT", os.waitstatus_to_exitcode(status))
EOF
)
check tty_console_connected has "$out" '\[connected to one: ~. to leave\]'
check tty_console_relays has "$out" 'echo: typed'
check tty_console_tilde_escape has "$out" 'echo: ~tilde'
check tty_console_leaves has "$out" 'left the console of one'
check tty_console_exit_0 has "$out" 'EXIT 0'
check tty_console_guest_undisturbed is_state one running
out=$(V console badname 2>&1); check console_no_such_vm test "$out" = "vmctl: no such vm: badname"
out=$(V console dbg 2>&1); check console_not_running test "$out" = "vmctl: vm dbg is defined: no console"

# stop: ACPI powerdown obeyed; ignored -> quit; quit ignored -> SIGKILL.
out=$(V stop -w one); check stop_powerdown test "$out" = "one: stopped (guest poweroff)"
V start deaf >/dev/null && V start stuck >/dev/null
out=$(V stop -w -t 1 deaf); check stop_escalates_to_quit test "$out" = "deaf: stopped (quit)"
t0=$(date +%s)
out=$(V stop -w -t 1 stuck); check stop_escalates_to_kill test "$out" = "stuck: stopped (killed after not quitting in time)"
check stop_kill_took_grace test $(( $(date +%s) - t0 )) -ge 5
V start one >/dev/null
out=$(V stop -f -w one); check stop_force test "$out" = "one: stopped (quit)"
V start one >/dev/null
out=$(V kill one); check kill test "$out" = "one: stopped (killed by request of uid 0)"
out=$(V stop one 2>&1); check stop_stopped_refused test "$out" = "vmctl: vm one is not running (stopped)"

# Guests that fail on their own.
out=$(V start badcfg 2>&1); rc=$?
check start_failure_exit test "$rc" = 1
check start_failure_message has "$out" 'bad configuration or arguments (exit status 2): fake-guest: exiting with 2 as asked'
check start_failure_state is_state badcfg crashed
out=$(V start dbg && V wait -t 5 dbg)
check debug_exit has "$out" 'dbg: stopped (debug-exit with code 33 (exit status 33))'
check shutdown_event wait_for 3 grep -q '"type":"shutdown","vm":"dbg","reason":"debug-exit","code":33' "$T_TMP/events"
V start segv >/dev/null
out=$(V wait -t 5 segv 2>&1)
check segv_crash has "$out" 'segv: crashed (guest process killed by signal 11 (Segmentation fault)'
out=$(V console segv </dev/null); check console_history_after_crash test "$(tr -d '\r' <<<"$out")" = "fake-guest segv booted"
V start boot >/dev/null
check reboot_restarts wait_for 5 grep -q 'vm boot: stopped -> starting' "$T_TMP/vmd.log"
check reboot_running_again wait_for 5 is_state boot running
V stop -f -w boot >/dev/null

# A guest process that stops answering: its requests fail after 10 s,
# vmd keeps serving, and stop still gets rid of it.
V start mute >/dev/null
sleep 0.5
t0=$(date +%s)
V pause mute >"$T_TMP/mute.out" 2>&1 &
mute_pid=$!
check vmd_serves_while_guest_mute bash -c "'$VMCTL' -s '$SOCK' list >/dev/null"
wait $mute_pid; rc=$?
check mute_guest_request_fails test "$rc" = 1
check mute_guest_timeout_message grep -q 'vmctl: vm mute: the guest process did not answer in time' "$T_TMP/mute.out"
check mute_guest_timeout_10s test $(( $(date +%s) - t0 )) -ge 9
out=$(V stop -w -t 1 mute); check mute_guest_stopped test "$out" = "mute: stopped (killed after not quitting in time)"

# Console input faster than the guest reads it: vmd slows the writer down
# (bounded queue) and loses nothing; other clients are served meanwhile.
V start sink >/dev/null
r=$(python3 - "$SOCK" "$VMCTL" <<'EOF'
import json, socket, subprocess, sys, time
path, vmctl = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(5)
s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"console","params":{"name":"sink"}}\n')
f = s.makefile("rb"); f.readline()
total, chunk, blocked, served = 1 << 20, b"x" * 65536, 0, 0
s.setblocking(False)
sent = 0
t0 = time.time()
while sent < total and time.time() - t0 < 30:
    try:
        sent += s.send(chunk[: min(len(chunk), total - sent)])
    except BlockingIOError:
        blocked += 1
        if subprocess.run([vmctl, "-s", path, "list"], capture_output=True).returncode == 0:
            served += 1
        time.sleep(0.01)
print("sent", sent, "blocked", blocked > 0, "served", served > 0)
got = 0
for _ in range(100):
    out = subprocess.run([vmctl, "-s", path, "--json", "status", "sink"], capture_output=True, text=True)
    got = json.loads(out.stdout)["guest"]["console_bytes"]
    if got >= total:
        break
    time.sleep(0.1)
print("guest got", got)
EOF
)
check console_input_all_sent has "$r" 'sent 1048576 blocked True'
check console_input_backpressure_others_served has "$r" 'served True'
check console_input_nothing_lost has "$r" 'guest got 1048576$'
check console_input_reader_paused grep -q 'pausing reading' "$T_TMP/vmd.log"
check console_input_reader_resumed grep -q 'resuming reading' "$T_TMP/vmd.log"
V stop -f -w sink >/dev/null

# A guest flooding its stderr (which the guest OS can reach) cannot flood the log.
V start noisy >/dev/null
sleep 0.3
V stop -f -w noisy >/dev/null
check log_flood_limited grep -q 'guest noisy: .* lines of its output not logged (over 100/s)' "$T_TMP/vmd.log"
check log_flood_bounded test "$(grep -c 'guest noisy: fake-guest: .*noise line' "$T_TMP/vmd.log")" -le 200
check log_sanitized grep -q 'guest noisy: fake-guest: ?\[31mnoise line 0$' "$T_TMP/vmd.log"
check log_no_escape_bytes bash -c "! grep -q $'\\033' '$T_TMP/vmd.log'"

# Ad-hoc guests: create, start, owner, delete.
out=$(V start -n adhoc -m 48M -k "$T_TMP/kernel" -a "console=ttyS0")
check adhoc_start test "$out" = "adhoc: running"
check adhoc_memory test "$(field adhoc memory)" = $((48 << 20))
out=$(V delete adhoc 2>&1); check delete_running_refused test "$out" = "vmctl: vm adhoc is running: stop it first"
V stop -f -w adhoc >/dev/null
out=$(V delete adhoc); check delete_stopped test "$out" = "adhoc: deleted"

# SIGHUP: a new guest appears, a running guest's change waits for a restart.
sed -i 's/^vm "two"   { memory 32M/vm "two"   { memory 48M/' "$T_TMP/vmd.conf"
echo "vm \"four\" { memory 32M; kernel \"$T_TMP/kernel\"; autostart yes }" >>"$T_TMP/vmd.conf"
kill -HUP "$VMD_PID"
check sighup_adds_guest wait_for 5 is_state four running
check sighup_marks_restart test "$(field two needs_restart)" = True
check sighup_running_untouched test "$(field two memory)" = $((32 << 20))
echo 'vm "broken" {' >>"$T_TMP/vmd.conf"
bl=$(wc -l <"$T_TMP/vmd.conf")
out=$(V reload 2>&1); rc=$?
check reload_bad_config_refused test "$rc" = 1
check reload_bad_config_lines has "$out" "vmd.conf:$((bl + 1)): missing '}' closing vm \"broken\" of line $bl"
check reload_bad_keeps_running is_state four running

# stop -a: every running guest.
V start one >/dev/null
out=$(V stop -a -f -w); check stop_all bash -c "grep -q 'one: stopped' <<<'$out' && grep -q 'four: stopped' <<<'$out'"
check stop_all_none_left bash -c "! '$VMCTL' -s '$SOCK' list | grep -q running"
V start two >/dev/null && V start four >/dev/null

# SIGTERM: guests are powered down, then vmd exits and leaves none behind.
pids="$(field two pid) $(field four pid)"
kill -TERM "$VMD_PID"
wait_for 10 bash -c "! kill -0 $VMD_PID" && pass sigterm_exits || fail sigterm_exits
alive=0; for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
check sigterm_stops_guests test "$alive" = 0
check sigterm_powerdown grep -q 'vm two: guest shutdown: poweroff' "$T_TMP/vmd.log"
check no_unexpected_errors_logged bash -c "! grep 'error:' '$T_TMP/vmd.log' | grep -qv 'reload refused'"
