#!/usr/bin/env bash
# Typing into Linux over VNC: the guest kit boots in vmd-guest --vnc with
# the VGA console and a shell on tty1 (kit/inittab); an RFB 3.8 client
# written here sends a command as X keysyms, shifted symbols ('$', '(',
# '*', '>') as their own keysyms so the guest's keyboard code must press
# shift itself. The command's first output is redirected to the serial
# port and must appear in the serial log; the second stays on tty1 and
# must appear on the screen, read back from a gvnccapture picture with the
# VGA font (the reader is vnc_capture.sh's). Slow: VMD_BOOT_TIMEOUT.
. "$VMD_TOP/tests/lib.sh"
guest=$VMD_BUILD/vmd-guest
kit=$VMD_BUILD/kit
FONT=/usr/share/consolefonts/default8x16.psf.gz
boot_timeout=${VMD_BOOT_TIMEOUT:-480}
# What is typed; its outputs are vnc-42 (serial) and typed-42 (screen),
# neither of which the command line itself contains.
COMMAND='echo vnc-$((6*7)) >/dev/ttyS0; echo typed-$((7*6))'
[ -x "$guest" ] || { skip typing "no $guest"; exit 0; }
"$guest" --help 2>&1 | grep -q -- --vnc || { skip typing "vmd-guest has no --vnc"; exit 0; }
if ! "$VMD_TOP/tests/guests/mkkit.sh" "$kit" >"$T_TMP/mkkit.log" 2>&1; then
	skip typing "no guest kit in $kit and mkkit.sh failed: $(tail -n 1 "$T_TMP/mkkit.log")"
	exit 0
fi
command -v gvnccapture >/dev/null || { skip typing "gvnccapture missing (apt install gvncviewer)"; exit 0; }
[ -r "$FONT" ] || { skip typing "no $FONT (console-data)"; exit 0; }

sed -n "/^cat >\"\$T_TMP\/png.py\" <<'EOF'$/,/^EOF$/p" "$VMD_TOP/tests/integration/vnc_capture.sh" |
	sed '1d;$d' >"$T_TMP/png.py"
[ -s "$T_TMP/png.py" ] || { fail typing "cannot extract the PNG helper"; exit 0; }

# A minimal RFB 3.8 viewer that only types: version, security None,
# ClientInit (shared), ServerInit, then a KeyEvent down and up per keysym.
cat >"$T_TMP/type.py" <<'EOF'
import socket, struct, sys, time

def recv_exact(s, n):
    buf = b''
    while len(buf) < n:
        part = s.recv(n - len(buf))
        if not part:
            sys.exit('server closed the connection after %d of %d bytes' % (len(buf), n))
        buf += part
    return buf

def main():
    port, text = int(sys.argv[1]), sys.argv[2]
    s = socket.create_connection(('127.0.0.1', port), timeout=20)
    version = recv_exact(s, 12)
    if version != b'RFB 003.008\n':
        sys.exit('server speaks %r, not RFB 3.8' % version)
    s.sendall(b'RFB 003.008\n')
    count = recv_exact(s, 1)[0]
    if count == 0:
        n = struct.unpack('>I', recv_exact(s, 4))[0]
        sys.exit('server refused: %s' % recv_exact(s, n).decode(errors='replace'))
    types = recv_exact(s, count)
    if 1 not in types:
        sys.exit('server offers no security type None: %s' % list(types))
    s.sendall(b'\x01')
    result = struct.unpack('>I', recv_exact(s, 4))[0]
    if result != 0:
        sys.exit('security handshake failed (%d)' % result)
    s.sendall(b'\x01')  # ClientInit: shared
    width, height = struct.unpack('>HH', recv_exact(s, 4))
    recv_exact(s, 16)  # pixel format
    name_len = struct.unpack('>I', recv_exact(s, 4))[0]
    recv_exact(s, name_len)
    print('connected: %dx%d' % (width, height))
    # Latin-1 characters are their own keysyms; the line ends with Return.
    keysyms = [ord(c) for c in text] + [0xff0d]
    for k in keysyms:
        for down in (1, 0):
            s.sendall(struct.pack('>BBxxI', 4, down, k))
            # The pace of a quick typist: the guest's 8042 holds a few
            # key codes only, and this test is about symbols, not speed.
            time.sleep(0.02)
    time.sleep(0.5)
    s.close()
    print('typed %d keysyms' % len(keysyms))

main()
EOF

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
. "$VMD_TOP/tests/guests/console.sh"
console_start "$T_TMP/serial.log" "$guest" -m 256M -k "$kit/vmlinuz" -i "$kit/initrd.img" \
	-a "$(cat "$kit/cmdline") console=tty0 console=ttyS0" --vnc "127.0.0.1:$PORT" --serial stdio

# screen FILE: capture the screen and read it back as text into FILE.
screen() {
	timeout 30 gvnccapture -q "127.0.0.1:$((PORT - 5900))" "$T_TMP/screen.png" >/dev/null 2>&1 &&
		python3 "$T_TMP/png.py" text "$T_TMP/screen.png" "$FONT" >"$1" 2>&1
}
# The tty1 shell's prompt on the screen (the cursor after it reads as '?').
tty1_prompt() {
	screen "$T_TMP/before.txt" && grep -qE '^vmd#( \?)?$' "$T_TMP/before.txt"
}

if ! console_boot_wait "$boot_timeout"; then
	fail typing "$CONSOLE_WHY$(console_last_lines 5 | tr '\n' '|')"
	exit 0
fi
# Late kernel messages (crng, clocksource) would land in the middle of the
# typed line on tty1: keep the console to emergencies from here on.
if ! console_cmd 30 'dmesg -n 1'; then
	fail typing "dmesg -n 1 on the serial shell: $CONSOLE_OUT"
	exit 0
fi
# Both shells start together; type only once tty1's prompt is on the screen.
if ! wait_for 60 tty1_prompt; then
	fail typing "no 'vmd# ' prompt on the VGA console; screen ends: $(grep -v '^$' "$T_TMP/before.txt" | tail -n 2 | tr '\n' '|')"
	exit 0
fi
pass tty1_prompt

console_mark
if ! timeout 60 python3 "$T_TMP/type.py" "$PORT" "$COMMAND" >"$T_TMP/type.log" 2>&1; then
	fail typing "RFB client: $(tail -n 1 "$T_TMP/type.log")"
	exit 0
fi
pass typing

# The command's first output went to ttyS0.
serial_shows() { console_since | grep -qx "vnc-42"; }
if wait_for 30 serial_shows; then
	pass serial_output
else
	fail serial_output "no 'vnc-42' line in the serial log since typing: $(console_since | grep -v '^vmd-' | tail -n 3 | tr '\n' '|')"
fi

# The screen shows the command line as typed (every shifted symbol right)
# and its second output on the line of its own.
typed_on_screen() {
	screen "$T_TMP/after.txt" && grep -qx "typed-42" "$T_TMP/after.txt"
}
if wait_for 30 typed_on_screen; then
	pass screen_output
else
	fail screen_output "no 'typed-42' line on the screen: $(grep -v '^$' "$T_TMP/after.txt" 2>/dev/null | tail -n 3 | tr '\n' '|')"
fi
if grep -qxF "vmd# $COMMAND" "$T_TMP/after.txt"; then
	pass screen_command
else
	fail screen_command "the command line on the screen is not '$COMMAND': $(grep -F "vmd#" "$T_TMP/after.txt" | tail -n 2 | tr '\n' '|')"
fi

console_stop
