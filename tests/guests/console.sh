# Helpers for tests and benchmarks that drive a guest's serial console
# (bash; source after tests/lib.sh or on its own with T_TMP set).
#   console_start LOG CMD...   runs CMD with stdin from a FIFO and stdout+stderr
#                              to LOG; sets CONSOLE_PID; fd 9 writes to the guest
#   console_wait SECONDS REGEX waits until LOG matches REGEX (from the point of
#                              the last console_mark), 1 on timeout or death
#   console_send TEXT          types TEXT (printf %b) into the console
#   console_mark               later waits look only at output after this point
#   console_stop               kills the guest if still running
#   console_exit_wait SECONDS  waits for the guest to exit by itself; sets CONSOLE_RC
#   console_last_lines [N]     the last N (30) lines of LOG, for a FAIL message
#   console_boot_wait SECONDS  waits for the Linux kit's shell prompt; 1 (with
#                              CONSOLE_WHY) on timeout, a kernel that gave up
#                              or an emulator that exited
#   console_poweroff SECONDS   types `poweroff`: 0 if the guest powered down
#                              and exited 0 in time, else 1 with CONSOLE_WHY
CONSOLE_PID="" CONSOLE_LOG="" CONSOLE_MARK=0 CONSOLE_RC="" CONSOLE_WHY=""
# What a kernel prints when it has given up: no point waiting for a prompt then.
CONSOLE_DEAD='-- System halted|Kernel panic - not syncing|end Kernel panic'
console_start() {
	CONSOLE_LOG=$1; shift
	local fifo="$CONSOLE_LOG.in"
	rm -f "$fifo"; mkfifo "$fifo" || return 1
	# Open read-write so neither side blocks on open and the guest never sees EOF.
	exec 9<>"$fifo"
	: >"$CONSOLE_LOG"
	"$@" <"$fifo" >"$CONSOLE_LOG" 2>&1 &
	CONSOLE_PID=$!
	CONSOLE_MARK=0
	if declare -p T_PIDS >/dev/null 2>&1; then T_PIDS+=("$CONSOLE_PID"); fi
}
console_mark() { CONSOLE_MARK=$(stat -c %s "$CONSOLE_LOG"); }
# ash asks the terminal for the cursor position (ESC [6n) at each prompt.
console_since() { tail -c +$((CONSOLE_MARK + 1)) "$CONSOLE_LOG" | tr -d '\r' | sed 's/\x1b\[6n//g'; }
console_wait() {
	local limit=$1 re=$2 end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		console_since | grep -q -E -- "$re" && return 0
		kill -0 "$CONSOLE_PID" 2>/dev/null || { console_since | grep -q -E -- "$re"; return; }
		sleep 0.2
	done
	return 1
}
console_send() { printf '%b' "$1" >&9; }
# console_cmd SECONDS CMD: marks, types CMD, then an echo of an end marker
# (split by quotes so its echoed command line does not match), and waits for
# the marker. The output in between, without the prompt lines, is in CONSOLE_OUT.
console_cmd() {
	local limit=$1 cmd=$2
	console_mark
	console_send "$cmd\necho '@@'vmd-end\n"
	if console_wait "$limit" '^@@vmd-end$'; then
		CONSOLE_OUT=$(console_since | sed -e '1d' -e '/^@@vmd-end$/,$d' -e '/^vmd# /d')
		return 0
	fi
	CONSOLE_OUT=$(console_since)
	return 1
}
console_exit_wait() {
	local end=$((SECONDS + $1))
	while kill -0 "$CONSOLE_PID" 2>/dev/null; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.2
	done
	wait "$CONSOLE_PID"; CONSOLE_RC=$?
	return 0
}
console_stop() {
	[ -n "$CONSOLE_PID" ] && kill -9 "$CONSOLE_PID" 2>/dev/null
	[ -n "$CONSOLE_PID" ] && wait "$CONSOLE_PID" 2>/dev/null
	exec 9>&-
	return 0
}
console_last_lines() {
	local n=${1:-30}
	echo; echo "--- last $n lines of the serial console ---"; tail -n "$n" "$CONSOLE_LOG" | tr -d '\r'
}
console_boot_wait() {
	local limit=$1 start=$SECONDS
	if console_wait "$limit" "^vmd# \$|$CONSOLE_DEAD" && ! console_since | grep -q -E -- "$CONSOLE_DEAD"; then
		return 0
	fi
	if console_since | grep -q -E -- "$CONSOLE_DEAD"; then
		CONSOLE_WHY="the kernel gave up after $((SECONDS - start)) s"
	elif kill -0 "$CONSOLE_PID" 2>/dev/null; then
		CONSOLE_WHY="no shell prompt within $limit s"
	else
		wait "$CONSOLE_PID"
		CONSOLE_WHY="the emulator exited with status $? before the shell prompt"
	fi
	return 1
}
console_poweroff() {
	console_mark
	console_send 'poweroff\n'
	if ! console_exit_wait "$1"; then
		CONSOLE_WHY="still running $1 s after poweroff"
		return 1
	fi
	[ "$CONSOLE_RC" = 0 ] && grep -q 'reboot: Power down' "$CONSOLE_LOG" && return 0
	CONSOLE_WHY="exit status $CONSOLE_RC"
	return 1
}
