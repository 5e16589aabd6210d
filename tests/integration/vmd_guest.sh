#!/usr/bin/env bash
# The lifecycle with the real guest process (build/vmd-guest) booting the
# board test kernel (a multiboot kernel that talks on COM1): three guests
# at once, the console both ways, kill -9 of one guest process reported as
# a crash while the others run on and vmd answers, pause/resume/reset,
# stop, a guest refused for a bad argument (exit 2), and SIGTERM.
. "$VMD_TOP/tests/lib.sh"

VMD=$VMD_BUILD/vmd VMCTL=$VMD_BUILD/vmctl GUEST=$VMD_BUILD/vmd-guest
K=$VMD_BUILD/tests/guests/board/kernel.elf
for b in "$VMD" "$VMCTL" "$GUEST"; do
	[ -x "$b" ] || { skip all "$b not built"; exit 0; }
done
[ -s "$K" ] || { skip all "no board test kernel $K"; exit 0; }

SOCK=$T_TMP/vmd.sock
V() { "$VMCTL" -s "$SOCK" "$@"; }
has() { grep -q -- "$2" <<<"$1"; }
field() { V --json status "$1" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2',''))"; }
is_state() { [ "$(field "$1" state)" = "$2" ]; }
console_has() { printf '' | V console -l 0.2 "$1" | grep -q -- "$2"; }

cat >"$T_TMP/vmd.conf" <<EOF
guest-binary "$GUEST"
shutdown-timeout 2
vm "g1" { memory 32M; kernel "$K"; cmdline "echo halt" }
vm "g2" { memory 32M; kernel "$K"; cmdline "echo halt" }
vm "g3" { memory 32M; kernel "$K"; cmdline "echo halt" }
vm "nokernel" { memory 32M; kernel "$T_TMP/missing.elf" }
EOF
"$VMD" -d -f "$T_TMP/vmd.conf" -s "$SOCK" 2>"$T_TMP/vmd.log" &
VMD_PID=$!
T_PIDS+=("$VMD_PID")
wait_for 5 test -S "$SOCK" || { fail startup "no socket"; cat "$T_TMP/vmd.log"; exit 1; }

for g in g1 g2 g3; do
	out=$(V start $g 2>&1); check "start_$g" test "$out" = "$g: running"
done
check g1_boots wait_for 10 console_has g1 'echo ready'
check g2_boots wait_for 10 console_has g2 'echo ready'
out=$(V --json status g1); check guest_status_insns has "$out" '"insns":'

# The console both ways: the board kernel echoes what it is sent.
out=$(printf 'ping-vmd' | V console -l 0.5 g1)
check console_history has "$out" 'board test kernel'
check console_echo has "$out" 'ping-vmd'
check console_detach_harmless is_state g1 running

# The guest's own state shows through: g1 halts after a 'q'.
out=$(printf 'q' | V console -l 0.5 g1); check guest_halts has "$out" 'halting'
check guest_state_halted wait_for 5 bash -c "'$VMCTL' -s '$SOCK' --json status g1 | grep -q '\"guest_state\": \"halted\"'"
out=$(V list); check list_shows_halted has "$out" 'g1 .*running .*guest halted'

# kill -9 one guest process: crashed with the cause, the others go on.
kill -9 "$(field g2 pid)"
check crash_detected wait_for 5 is_state g2 crashed
check crash_cause test "$(field g2 cause)" = "guest process killed by signal 9 (Killed)"
check others_running is_state g1 running
check others_running2 is_state g3 running
out=$(printf 'still-here' | V console -l 0.5 g3); check others_still_echo has "$out" 'still-here'
check vmd_answers bash -c "'$VMCTL' -s '$SOCK' info >/dev/null"

out=$(V pause g3); check pause test "$out" = "g3: paused"
check paused_in_guest test "$(V --json status g3 | python3 -c 'import json,sys; print(json.load(sys.stdin)["guest"]["state"])')" = paused
out=$(V resume g3); check resume test "$out" = "g3: running"
out=$(V reset g3); check reset test "$out" = "g3: running"
check reset_reboots wait_for 10 bash -c "printf '' | '$VMCTL' -s '$SOCK' console -l 0.2 g3 | grep -c 'board test kernel' | grep -qx 2"

# No OS answers the power button here: stop escalates to quit.
out=$(V stop -w -t 1 g3); check stop test "$out" = "g3: stopped (quit)"
check guest_stderr_logged_with_prefix grep -q "guest g3: " "$T_TMP/vmd.log"
out=$(V start g2); check restart_after_crash test "$out" = "g2: running"

# A guest process that refuses its configuration.
out=$(V start nokernel 2>&1); rc=$?
check bad_guest_config_fails test "$rc" = 1
check bad_guest_config_cause has "$out" 'exit status 2'
check bad_guest_config_state is_state nokernel crashed

pids="$(field g1 pid) $(field g2 pid)"
kill -TERM "$VMD_PID"
wait_for 15 bash -c "! kill -0 $VMD_PID" && pass sigterm_exits || fail sigterm_exits
alive=0; for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
check sigterm_leaves_no_guest test "$alive" = 0
