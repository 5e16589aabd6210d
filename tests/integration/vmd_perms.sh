#!/usr/bin/env bash
# Who may do what: the socket is 0660 root:<socket group>, never
# world-writable; root drives everything; a guest's owner drives that
# guest only; other users may only look. vmctl runs as nobody via setpriv.
. "$VMD_TOP/tests/lib.sh"

VMD=$VMD_BUILD/vmd VMCTL=$VMD_BUILD/vmctl FAKE=$VMD_BUILD/tests/fake-guest
for b in "$VMD" "$VMCTL" "$FAKE"; do
	[ -x "$b" ] || { skip all "$b not built"; exit 0; }
done
[ "$(id -u)" = 0 ] || { skip all "needs root to switch users"; exit 0; }
command -v setpriv >/dev/null || { skip all "setpriv missing"; exit 0; }
id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null || { skip all "no nobody/nogroup"; exit 0; }

chmod 755 "$T_TMP"
SOCK=$T_TMP/vmd.sock
V() { "$VMCTL" -s "$SOCK" "$@"; }
AS_NOBODY() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$VMCTL" -s "$SOCK" "$@"; }
has() { grep -q -- "$2" <<<"$1"; }

touch "$T_TMP/kernel"
start_vmd() {
	"$VMD" -d -f "$T_TMP/vmd.conf" -s "$SOCK" 2>>"$T_TMP/vmd.log" &
	VMD_PID=$!
	T_PIDS+=("$VMD_PID")
	wait_for 5 test -S "$SOCK" || { fail startup "no socket"; cat "$T_TMP/vmd.log"; exit 1; }
}

# Without a socket group: root only, nobody cannot even connect.
cat >"$T_TMP/vmd.conf" <<EOF
guest-binary "$FAKE"
vm "a" { memory 32M; kernel "$T_TMP/kernel" }
EOF
start_vmd
check socket_mode_0660 test "$(stat -c %a "$SOCK")" = 660
check socket_not_world_writable test "$(( 0$(stat -c %a "$SOCK") & 2 ))" = 0
check socket_owner test "$(stat -c %U:%G "$SOCK")" = root:root
AS_NOBODY list >/dev/null 2>&1; check nobody_cannot_connect test $? = 3
# A reload that names a socket group opens the socket to that group.
sed -i '1a socket group nogroup' "$T_TMP/vmd.conf"
out=$(V --json reload); check reload_socket_group has "$out" '"socket_group": 65534'
check reload_socket_group_applied test "$(stat -c %G "$SOCK")" = nogroup
AS_NOBODY list >/dev/null 2>&1; check nobody_connects_after_reload test $? = 0
kill -TERM "$VMD_PID"; wait "$VMD_PID" 2>/dev/null

# With "socket group nogroup": nobody connects; owns "mine" only.
cat >"$T_TMP/vmd.conf" <<EOF
guest-binary "$FAKE"
socket group nogroup
vm "theirs" { memory 32M; kernel "$T_TMP/kernel" }
vm "mine"   { memory 32M; kernel "$T_TMP/kernel"; owner nobody }
vm "ours"   { memory 32M; kernel "$T_TMP/kernel"; owner :nogroup }
EOF
start_vmd
check socket_group test "$(stat -c %G "$SOCK")" = nogroup
out=$(AS_NOBODY list); check nobody_may_list has "$out" theirs
out=$(AS_NOBODY status theirs); check nobody_may_status has "$out" defined
out=$(AS_NOBODY start theirs 2>&1); rc=$?
check non_owner_refused test "$rc" = 1
check non_owner_message test "$out" = "vmctl: permission denied: uid 65534 does not own vm theirs"
V start theirs >/dev/null
for m in stop kill pause reset console delete; do
	out=$(AS_NOBODY $m theirs 2>&1 </dev/null)
	check "non_owner_$m" has "$out" 'permission denied'
done
check non_owner_left_it_running test "$(V --json status theirs | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = running
out=$(AS_NOBODY reload 2>&1); check reload_root_only test "$out" = "vmctl: permission denied: reload is for root"
out=$(AS_NOBODY start mine); check owner_user_may_start test "$out" = "mine: running"
check guest_runs_as_owner test "$(ps -o user= -p "$(V --json status mine | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')")" = nobody
check root_guest_runs_as_root test "$(ps -o user= -p "$(V --json status theirs | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')")" = root
out=$(AS_NOBODY pause mine); check owner_user_may_pause test "$out" = "mine: paused"
out=$(AS_NOBODY stop -f -w mine); check owner_user_may_stop test "$out" = "mine: stopped (quit)"
out=$(AS_NOBODY start ours); check owner_group_may_start test "$out" = "ours: running"
out=$(AS_NOBODY kill ours); check owner_group_may_kill has "$out" "ours: stopped (killed by request of uid 65534)"
# An ad-hoc guest belongs to its creator; only root may give it away.
out=$(AS_NOBODY create -n made -m 32M -k "$T_TMP/kernel"); check nobody_may_create test "$out" = "made: defined"
check creator_owns test "$(V --json status made | python3 -c 'import json,sys; print(json.load(sys.stdin)["owner_uid"])')" = 65534
out=$(AS_NOBODY delete made); check creator_may_delete test "$out" = "made: deleted"
out=$(AS_NOBODY create -n gift -m 32M -k "$T_TMP/kernel" -o root 2>&1)
check only_root_sets_owner test "$out" = "vmctl: only root may set another owner"
V stop -f -w theirs >/dev/null
kill -TERM "$VMD_PID"
wait_for 10 bash -c "! kill -0 $VMD_PID" && pass exits || fail exits

# vmd itself unprivileged: its socket and pid file default to
# $XDG_RUNTIME_DIR, and its guests run as its user.
mkdir -m 700 "$T_TMP/xdg" && chown nobody:nogroup "$T_TMP/xdg"
cat >"$T_TMP/user.conf" <<EOF
guest-binary "$FAKE"
vm "u" { memory 32M; kernel "$T_TMP/kernel" }
EOF
chmod 644 "$T_TMP/user.conf"
setpriv --reuid=nobody --regid=nogroup --clear-groups env XDG_RUNTIME_DIR="$T_TMP/xdg" \
	"$VMD" -d -f "$T_TMP/user.conf" 2>"$T_TMP/user.log" &
UPID=$!
T_PIDS+=("$UPID")
UV() { setpriv --reuid=nobody --regid=nogroup --clear-groups env XDG_RUNTIME_DIR="$T_TMP/xdg" "$VMCTL" "$@"; }
check user_vmd_default_socket wait_for 5 test -S "$T_TMP/xdg/vmd.sock"
out=$(UV start u); check user_vmd_starts_guest test "$out" = "u: running"
check user_guest_runs_as_user test "$(ps -o user= -p "$(UV --json status u | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')")" = nobody
out=$(UV stop -w u); check user_vmd_stops_guest test "$out" = "u: stopped (guest poweroff)"
kill -TERM "$UPID"
wait_for 5 bash -c "! kill -0 $UPID" && pass user_vmd_exits || fail user_vmd_exits
