#!/usr/bin/env bash
# The VGA's picture seen by a real VNC client nobody here wrote (gvnccapture
# from Debian's gvncviewer): a text screen read back into characters with
# the VGA font, mode 13h and a VBE 800x600x32 picture checked pixel for
# pixel, password authentication (right and wrong), a UNIX socket listener,
# keyboard and pointer input reaching the PS/2 devices, and hostile clients
# (garbage, disconnects mid-frame) that must not disturb the feed or other
# viewers. The picture comes from bench/display-feed: the VGA device, the
# display link and vmd-display exactly as vmd-guest uses them, without a CPU.
. "$VMD_TOP/tests/lib.sh"
FEED=$VMD_BUILD/bench/display-feed
DISP=$VMD_BUILD/vmd-display
FONT=/usr/share/consolefonts/default8x16.psf.gz
[ -x "$FEED" ] && [ -x "$DISP" ] || { fail built "no $FEED or $DISP"; exit 0; }
command -v gvnccapture >/dev/null || { skip all "gvnccapture missing (apt install gvncviewer)"; exit 0; }
[ -r "$FONT" ] || { skip all "no $FONT (console-data)"; exit 0; }

cat >"$T_TMP/png.py" <<'EOF'
# A small PNG reader (8-bit RGB/RGBA, no interlace) and checks on captures.
import gzip, struct, sys, zlib

def read_png(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat = 8, b''
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, 'unsupported PNG'
            bpp = 3 if ctype == 2 else 4
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows

def font():
    d = gzip.open(sys.argv[3] if len(sys.argv) > 3 else FONT, 'rb').read()
    glyphs = {}
    for ch in range(256):
        g = d[4 + ch * 16:4 + ch * 16 + 16]
        # Printable ASCII wins over look-alikes elsewhere in the set.
        if g not in glyphs or (32 <= ch < 127 and not 32 <= glyphs[g] < 127):
            glyphs[g] = ch
    return glyphs

def text(path, web=False):
    w, h, px = read_png(path)
    if web:
        # A browser screenshot: the screen is noVNC's canvas, black, on
        # noVNC's grey page; find its corner and cut it out.
        x0 = min(x for y in range(h) for x in range(w) if px[y][x] == (0, 0, 0))
        y0 = min(y for y in range(h) for x in range(w) if px[y][x] == (0, 0, 0))
        px = [row[x0:x0 + 720] for row in px[y0:y0 + 400]]
        w, h = len(px[0]), len(px)
    assert (w, h) == (720, 400), 'text screen is %dx%d' % (w, h)
    glyphs = font()
    lines = []
    for row in range(25):
        s = ''
        for col in range(80):
            cell = [px[row * 16 + y][col * 9:col * 9 + 8] for y in range(16)]
            colours = set(c for r in cell for c in r)
            if len(colours) == 1:
                s += ' '
                continue
            if len(colours) != 2:
                s += '?'
                continue
            found = '?'
            for fg in colours:
                g = bytes(sum(0x80 >> x for x in range(8) if cell[y][x] == fg) for y in range(16))
                if g in glyphs and 32 <= glyphs[g] < 127:
                    found = chr(glyphs[g])
                    break
            s += found
        lines.append(s.rstrip())
    return lines

def six(v):
    return (v << 2) | (v >> 4)

if __name__ == '__main__':
    mode, path = sys.argv[1], sys.argv[2]
    if mode == 'text':
        print('\n'.join(text(path)))
    elif mode == 'webtext':
        print('\n'.join(text(path, web=True)))
    elif mode == 'mode13':
        w, h, px = read_png(path)
        assert (w, h) == (320, 200), 'mode 13h screen is %dx%d' % (w, h)
        bad = 0
        for y in range(h):
            for x in range(w):
                i = (x ^ y) & 0xff
                want = (six(i >> 2), six(((i * 7) >> 2) & 63), six(63 - (i >> 2)))
                bad += px[y][x] != want
        print('bad', bad)
    elif mode in ('vbe', 'vbe-square'):
        w, h, px = read_png(path)
        assert (w, h) == (800, 600), 'VBE screen is %dx%d' % (w, h)
        sq = lambda x, y: mode == 'vbe-square' and 100 <= x < 200 and 500 <= y < 600
        bad = sum(px[y][x] != ((255, 0, 255) if sq(x, y) else (x & 255, y & 255, (x ^ y) & 255))
                  for y in range(h) for x in range(w))
        print('bad', bad)
EOF
FONT_ARG=$FONT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_feed SCENE [ARGS...]: runs display-feed on a fresh port; sets PORT, FEED_PID.
start_feed() {
	local scene=$1; shift
	PORT=$(free_port)
	# The HTTP port (PORT+1) must be free too: pick again until it is.
	while ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',int(sys.argv[1])))" $((PORT + 1)) 2>/dev/null; do
		PORT=$(free_port)
	done
	# No timeout(1) wrapper: the cleanup's kill -9 must reach the feed
	# itself (its vmd-display follows); --seconds is the safety net.
	"$FEED" --vnc "127.0.0.1:$PORT" --scene "$scene" --display "$DISP" --seconds 120 "$@" \
		>"$T_TMP/feed.$scene.out" 2>"$T_TMP/feed.$scene.err" &
	FEED_PID=$!
	T_PIDS+=("$FEED_PID")
	wait_for 10 python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',int(sys.argv[1])))" "$PORT"
}

stop_feed() {
	kill "$FEED_PID" 2>/dev/null
	wait "$FEED_PID" 2>/dev/null
}

# gvnccapture takes a display number: port 5900 + N.
capture() {   # capture PORT FILE
	timeout 20 gvnccapture -q "127.0.0.1:$(($1 - 5900))" "$2" >/dev/null 2>&1
}

# The vmd-display under a feed started by start_feed.
display_pid() {
	pgrep -P "$FEED_PID" -x vmd-display
}

# --- text mode, read back with the font ---
if start_feed text; then
	if capture "$PORT" "$T_TMP/text.png"; then
		python3 "$T_TMP/png.py" text "$T_TMP/text.png" "$FONT_ARG" >"$T_TMP/text.txt" 2>&1
		check text_title grep -qx "VMD VNC TEST" "$T_TMP/text.txt"
		check text_line grep -qx "The quick brown fox jumps over the lazy dog 0123456789" "$T_TMP/text.txt"
		check text_inverse grep -qx 'bottom line !@#$%^&\*()' "$T_TMP/text.txt"
	else
		fail text_capture "gvnccapture failed"
	fi

	# Hostile clients: garbage after the handshake, a disconnect mid-frame,
	# a client that never reads. The feed and a later viewer are unaffected.
	python3 - "$PORT" <<'EOF' >"$T_TMP/hostile.out" 2>&1
import socket, sys, time
port = int(sys.argv[1])
# 1: garbage instead of a version string
s = socket.create_connection(('127.0.0.1', port)); s.recv(12); s.sendall(b'\xff' * 4096); s.close()
# 2: a proper handshake, a full update request, then gone before reading it
s = socket.create_connection(('127.0.0.1', port)); s.recv(12); s.sendall(b'RFB 003.008\n')
s.recv(64); s.sendall(b'\x01'); s.recv(4); s.sendall(b'\x01'); s.recv(1024)
s.sendall(b'\x03\x00\x00\x00\x00\x00\x02\xd0\x01\x90'); s.close()
# 3: an unknown message type after the handshake
s = socket.create_connection(('127.0.0.1', port)); s.recv(12); s.sendall(b'RFB 003.008\n')
s.recv(64); s.sendall(b'\x01'); s.recv(4); s.sendall(b'\x01'); s.recv(1024)
s.sendall(b'\xee' * 64); time.sleep(0.2); s.close()
# 4: a viewer that asks for updates and never reads them, kept open
stuck = socket.create_connection(('127.0.0.1', port)); stuck.recv(12); stuck.sendall(b'RFB 003.008\n')
stuck.recv(64); stuck.sendall(b'\x01'); stuck.recv(4); stuck.sendall(b'\x01')
for i in range(50):
    stuck.sendall(b'\x03\x00\x00\x00\x00\x00\x02\xd0\x01\x90')
print('done')
time.sleep(3)
EOF
	check hostile_clients_ran grep -q done "$T_TMP/hostile.out"
	check feed_survives_hostile kill -0 "$FEED_PID"
	if capture "$PORT" "$T_TMP/text2.png"; then
		python3 "$T_TMP/png.py" text "$T_TMP/text2.png" "$FONT_ARG" >"$T_TMP/text2.txt" 2>&1
		check viewer_after_hostile grep -qx "VMD VNC TEST" "$T_TMP/text2.txt"
	else
		fail viewer_after_hostile "gvnccapture failed after hostile clients"
	fi

	# Input: RFB key and pointer events become PS/2 bytes (set 2 by default:
	# 'a' = 1c, release f0 1c; '@' from a client without shift = shift 12 around 2's 1e).
	python3 - "$PORT" <<'EOF' >"$T_TMP/input.out" 2>&1
import socket, struct, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1]))); s.recv(12); s.sendall(b'RFB 003.008\n')
s.recv(64); s.sendall(b'\x01'); s.recv(4); s.sendall(b'\x01')
time.sleep(0.3); s.recv(65536)
key = lambda down, sym: s.sendall(struct.pack('>BBxxI', 4, down, sym))
key(1, ord('a')); key(0, ord('a'))
key(1, ord('@')); key(0, ord('@'))
ptr = lambda mask, x, y: s.sendall(struct.pack('>BBHH', 5, mask, x, y))
ptr(0, 100, 100); ptr(1, 110, 95)
time.sleep(0.3)
key(1, 0xffe3)                          # Control_L held when the viewer vanishes
time.sleep(0.3)
print('sent')
EOF
	sleep 0.8
	kbd=$(awk '$1 == "kbd" { printf "%s ", $2 }' "$T_TMP/feed.text.out")
	check key_a_make_break grep -q "^1c f0 1c " <<<"$kbd"
	check key_at_through_shift grep -q "1c f0 1c 12 1e f0 12 f0 1e" <<<"$kbd"
	mouse=$(awk '$1 == "mouse" { printf "%s ", $2 }' "$T_TMP/feed.text.out")
	# Motion (+10, +5 up) with the left button: flags 09, dx 0a, dy 05.
	check pointer_motion_and_button grep -q "09 0a 05" <<<"$mouse"
	# The viewer left holding Ctrl and the left button: both released for it.
	check keys_released_when_viewer_leaves grep -q "14 f0 14 *$" <<<"$kbd"
	check buttons_released_when_viewer_leaves grep -q "08 00 00 *$" <<<"$mouse"
	stop_feed
else
	fail text_start "display-feed did not start: $(tail -3 "$T_TMP/feed.text.err")"
fi

# --- mode 13h and VBE, pixel for pixel ---
for scene in mode13 vbe; do
	if start_feed $scene; then
		if capture "$PORT" "$T_TMP/$scene.png"; then
			out=$(python3 "$T_TMP/png.py" $scene "$T_TMP/$scene.png" 2>&1)
			check ${scene}_pixels [ "$out" = "bad 0" ]
		else
			fail ${scene}_capture "gvnccapture failed"
		fi
		stop_feed
	else
		fail ${scene}_start "display-feed did not start"
	fi
done

# --- mode changes reach a connected viewer as DesktopSize ---
if start_feed switch; then
	sizes=$(timeout 30 python3 - "$PORT" <<'EOF' 2>&1
import socket, struct, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
def rx(n):
    b = b''
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d: raise EOFError
        b += d
    return b
rx(12); s.sendall(b'RFB 003.008\n'); rx(rx(1)[0]); s.sendall(b'\x01'); rx(4); s.sendall(b'\x01')
w, h = struct.unpack('>HH', rx(4)); rx(16); rx(struct.unpack('>I', rx(4))[0])
sizes = ['%dx%d' % (w, h)]
s.sendall(struct.pack('>BxxxBBBBHHHBBBxxx', 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
s.sendall(struct.pack('>BxHii', 2, 2, 0, -223))          # raw, DesktopSize
s.sendall(struct.pack('>BBHHHH', 3, 0, 0, 0, w, h))
end = time.time() + 8
while time.time() < end and len(sizes) < 3:
    t = rx(1)[0]
    assert t == 0, 'message type %d' % t
    rx(1); n = struct.unpack('>H', rx(2))[0]
    for i in range(n):
        x, y, rw, rh, enc = struct.unpack('>HHHHi', rx(12))
        if enc == -223:
            w, h = rw, rh; sizes.append('%dx%d' % (w, h))
        else:
            rx(rw * rh * 4)
    s.sendall(struct.pack('>BBHHHH', 3, 1, 0, 0, w, h))
print(' '.join(sizes))
EOF
)
	check desktop_size_announced [ "$sizes" = "720x400 320x200 800x600" ]
	stop_feed
else
	fail desktop_size_start "display-feed did not start"
fi

# --- password ---
printf 'secret12\n' >"$T_TMP/pw"
if start_feed text --vnc-password-file "$T_TMP/pw"; then
	# gvnccapture asks on a terminal: give it one.
	(sleep 1; echo secret12) | timeout 20 script -qec "gvnccapture -q 127.0.0.1:$((PORT - 5900)) $T_TMP/pw-ok.png" /dev/null >/dev/null 2>&1
	check password_accepted test -s "$T_TMP/pw-ok.png"
	(sleep 1; echo wrong123) | timeout 20 script -qec "gvnccapture -q 127.0.0.1:$((PORT - 5900)) $T_TMP/pw-bad.png" /dev/null >/dev/null 2>&1
	check password_refused test ! -e "$T_TMP/pw-bad.png"
	# No password offered at all: the server demands VNC authentication.
	sec=$(python3 -c "
import socket,sys; s=socket.create_connection(('127.0.0.1',int(sys.argv[1]))); s.recv(12)
s.sendall(b'RFB 003.008\n'); d=s.recv(64); print(list(d[1:1+d[0]]))" "$PORT")
	check password_only_vnc_auth [ "$sec" = "[2]" ]
	stop_feed
fi

# --- UNIX socket listener ---
sock=$T_TMP/vnc.sock
"$FEED" --seconds 60 --vnc "unix:$sock" --scene text --display "$DISP" >"$T_TMP/feed.unix.out" 2>"$T_TMP/feed.unix.err" &
FEED_PID=$!
T_PIDS+=("$FEED_PID")
if wait_for 10 test -S "$sock"; then
	ver=$(timeout 10 python3 -c "
import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(s.recv(12).decode().strip())" "$sock")
	check unix_socket_rfb [ "$ver" = "RFB 003.008" ]
else
	fail unix_socket_rfb "no socket $sock"
fi
stop_feed

# --- the web console: noVNC from the same port in headless Chromium ---
if ! command -v chromium >/dev/null; then
	skip web_console "chromium missing (apt install chromium)"
elif [ ! -r /usr/share/novnc/vnc.html ]; then
	skip web_console "noVNC missing (apt install novnc)"
elif start_feed text; then
	code=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$PORT/core/rfb.js")
	check web_serves_modules [ "$code" = "200 application/javascript" ]
	code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "http://127.0.0.1:$PORT/../../etc/passwd")
	check web_no_traversal [ "$code" = 404 ]
	# On a loaded machine the page may not have connected when Chromium
	# takes its picture: try a few times.
	for try in 1 2 3; do
		profile=$(mktemp -d "$T_TMP/chromium.XXXXXX")
		rm -f "$T_TMP/web.png"
		timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
			--disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
			--window-size=900,600 --virtual-time-budget=$((8000 * try)) --screenshot="$T_TMP/web.png" \
			"http://127.0.0.1:$PORT/vnc.html?autoconnect=1&resize=off" >"$T_TMP/chromium.log" 2>&1
		[ -s "$T_TMP/web.png" ] || continue
		python3 "$T_TMP/png.py" webtext "$T_TMP/web.png" "$FONT_ARG" >"$T_TMP/web.txt" 2>&1
		grep -qx "The quick brown fox jumps over the lazy dog 0123456789" "$T_TMP/web.txt" && break
	done
	if [ -s "$T_TMP/web.png" ]; then
		check web_console_shows_screen grep -qx "The quick brown fox jumps over the lazy dog 0123456789" "$T_TMP/web.txt"
		check web_console_websocket grep -q "WebSocket viewer from" "$T_TMP/feed.text.err"
	else
		fail web_console_shows_screen "no screenshot from chromium: $(tail -2 "$T_TMP/chromium.log")"
	fi
	stop_feed
fi

# --- a real guest: vmd-guest --vnc running the VGA test kernel on our CPU ---
G=$VMD_BUILD/vmd-guest
K=$VMD_BUILD/tests/guests/vga/kernel.elf
if [ ! -x "$G" ] || ! "$G" --help 2>&1 | grep -q -- --vnc; then
	skip guest_screen "vmd-guest has no --vnc option yet (board wiring pending)"
elif [ ! -r "$K" ]; then
	fail guest_screen "no $K"
else
	PORT=$(free_port)
	"$G" -m 32M -k "$K" --vnc "127.0.0.1:$PORT" </dev/null >"$T_TMP/guest.out" 2>"$T_TMP/guest.err" &
	GPID=$!
	T_PIDS+=("$GPID")
	if wait_for 10 python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',int(sys.argv[1])))" "$PORT"; then
		sleep 0.5
		capture "$PORT" "$T_TMP/guest.png"
		python3 "$T_TMP/png.py" text "$T_TMP/guest.png" "$FONT_ARG" >"$T_TMP/guest.txt" 2>&1
		check guest_screen grep -qx "Hello from the guest through 0xB8000" "$T_TMP/guest.txt"
		# Keys typed in a viewer reach the guest's i8042 (translated set 1):
		# 'a' = 1E/9E, then '@' from a client without shift = 2A 03 AA 83.
		python3 - "$PORT" <<'PYEOF' >"$T_TMP/guest-keys.out" 2>&1
import socket, struct, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1]))); s.recv(12); s.sendall(b'RFB 003.008\n')
s.recv(64); s.sendall(b'\x01'); s.recv(4); s.sendall(b'\x01'); time.sleep(0.3)
for sym in (ord('a'), ord('@')):
    s.sendall(struct.pack('>BBxxI', 4, 1, sym)); time.sleep(0.05)
    s.sendall(struct.pack('>BBxxI', 4, 0, sym)); time.sleep(0.05)
time.sleep(0.5)
PYEOF
		capture "$PORT" "$T_TMP/guest2.png"
		python3 "$T_TMP/png.py" text "$T_TMP/guest2.png" "$FONT_ARG" >"$T_TMP/guest2.txt" 2>&1
		check guest_keyboard grep -qx "KEY 1E 9E 2A 03 AA 83" "$T_TMP/guest2.txt"
	else
		fail guest_screen "vmd-guest did not open the VNC port: $(tail -3 "$T_TMP/guest.err")"
	fi
	kill "$GPID" 2>/dev/null
	wait "$GPID" 2>/dev/null

	# The VBE linear framebuffer written by our CPU as RAM: the picture,
	# then a change made after the viewer saw it (pages already mapped for
	# writing must still be noticed: the write-protect-until-first-write
	# tracking with a TLB flush per frame).
	PORT=$(free_port)
	"$G" -m 32M -k "$K" -a vbe --vnc "127.0.0.1:$PORT" </dev/null >"$T_TMP/guest-vbe.out" 2>"$T_TMP/guest-vbe.err" &
	GPID=$!
	T_PIDS+=("$GPID")
	if wait_for 10 python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',int(sys.argv[1])))" "$PORT"; then
		# The guest draws 480000 pixels first: look until it is done (10 s).
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			sleep 1
			capture "$PORT" "$T_TMP/guest-vbe.png"
			out=$(python3 "$T_TMP/png.py" vbe "$T_TMP/guest-vbe.png" 2>&1)
			[ "$out" = "bad 0" ] && break
		done
		check guest_lfb_pixels [ "$out" = "bad 0" ]
		python3 - "$PORT" <<'PYEOF' >/dev/null 2>&1
import socket, struct, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1]))); s.recv(12); s.sendall(b'RFB 003.008\n')
s.recv(64); s.sendall(b'\x01'); s.recv(4); s.sendall(b'\x01'); time.sleep(0.3)
s.sendall(struct.pack('>BBxxI', 4, 1, ord('x'))); time.sleep(0.05)
s.sendall(struct.pack('>BBxxI', 4, 0, ord('x'))); time.sleep(0.5)
PYEOF
		for _ in 1 2 3 4 5; do
			capture "$PORT" "$T_TMP/guest-vbe2.png"
			out=$(python3 "$T_TMP/png.py" vbe-square "$T_TMP/guest-vbe2.png" 2>&1)
			[ "$out" = "bad 0" ] && break
			sleep 1
		done
		check guest_lfb_change_seen [ "$out" = "bad 0" ]
	else
		fail guest_lfb_pixels "vmd-guest did not open the VNC port"
	fi
	kill "$GPID" 2>/dev/null
	wait "$GPID" 2>/dev/null
fi

# --- the display process dies: the feed (the guest side) runs on ---
if start_feed text; then
	dpid=$(display_pid)
	if [ -n "$dpid" ]; then
		kill -9 "$dpid"
		sleep 0.5
		check guest_survives_display_death kill -0 "$FEED_PID"
		check display_death_logged grep -q "display process ended" "$T_TMP/feed.text.err"
	else
		fail guest_survives_display_death "no vmd-display child"
	fi
	stop_feed
	# And the other way: the guest side dies, the display process follows.
	if start_feed text; then
		dpid=$(display_pid)
		if [ -n "$dpid" ]; then
			kill -9 "$FEED_PID"
			wait "$FEED_PID" 2>/dev/null
			check display_exits_with_guest wait_for 5 sh -c "! kill -0 $dpid 2>/dev/null"
		else
			fail display_exits_with_guest "no vmd-display process"
		fi
	fi
fi
