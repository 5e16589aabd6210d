#!/usr/bin/env bash
# Linux's boot text on the VGA, seen through VNC: the guest kit's kernel
# boots in vmd-guest --vnc with the VGA console (vgacon, no BIOS: the
# board hands Linux screen_info for 80x25 text and the device loads the
# font), and a VNC client nobody here wrote (gvnccapture) captures the
# screen; the captured pixels, read back with the VGA font, must show the
# kernel's own messages. Slow (a full kernel boot): VMD_BOOT_TIMEOUT.
. "$VMD_TOP/tests/lib.sh"
guest=$VMD_BUILD/vmd-guest
kit=$VMD_BUILD/kit
FONT=/usr/share/consolefonts/default8x16.psf.gz
boot_timeout=${VMD_BOOT_TIMEOUT:-480}
[ -x "$guest" ] || { skip boot_text "no $guest"; exit 0; }
"$guest" --help 2>&1 | grep -q -- --vnc || { skip boot_text "vmd-guest has no --vnc"; exit 0; }
[ -s "$kit/vmlinuz" ] && [ -s "$kit/initrd.img" ] || { skip boot_text "no guest kit in $kit (tests/guests/mkkit.sh)"; exit 0; }
command -v gvnccapture >/dev/null || { skip boot_text "gvnccapture missing (apt install gvncviewer)"; exit 0; }
[ -r "$FONT" ] || { skip boot_text "no $FONT (console-data)"; exit 0; }

# The PNG reader and font matcher live in vnc_capture.sh: take them from there.
sed -n "/^cat >\"\$T_TMP\/png.py\" <<'EOF'$/,/^EOF$/p" "$VMD_TOP/tests/integration/vnc_capture.sh" |
	sed '1d;$d' >"$T_TMP/png.py"
[ -s "$T_TMP/png.py" ] || { fail boot_text "cannot extract the PNG helper"; exit 0; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$guest" -m 256M -k "$kit/vmlinuz" -i "$kit/initrd.img" \
	-a "$(cat "$kit/cmdline") console=tty0 console=ttyS0" --vnc "127.0.0.1:$PORT" --serial stdio \
	</dev/null >"$T_TMP/serial.log" 2>"$T_TMP/guest.err" &
GPID=$!
T_PIDS+=("$GPID")
# The last console= is /dev/console (serial); the kernel's messages go to both.
if ! wait_for "$boot_timeout" grep -q "Run /init as init process" "$T_TMP/serial.log"; then
	fail boot_text "no 'Run /init' on the serial console: $(tail -n 3 "$T_TMP/serial.log" | tr -d '\r')"
	exit 0
fi
sleep 1
if timeout 30 gvnccapture -q "127.0.0.1:$((PORT - 5900))" "$T_TMP/screen.png" >/dev/null 2>&1; then
	python3 "$T_TMP/png.py" text "$T_TMP/screen.png" "$FONT" >"$T_TMP/screen.txt" 2>&1
	check boot_text grep -q "\] Run /init as init process" "$T_TMP/screen.txt"
	# The same line as the serial console printed it, timestamp and all.
	line=$(grep -m1 "Run /init as init process" "$T_TMP/serial.log" | tr -d '\r')
	check boot_text_matches_serial grep -qxF "$line" "$T_TMP/screen.txt"
else
	fail boot_text "gvnccapture failed"
fi
kill "$GPID" 2>/dev/null
wait "$GPID" 2>/dev/null
