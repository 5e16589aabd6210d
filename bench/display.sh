#!/usr/bin/env bash
# Display benchmark (run by hand): host CPU of the guest side and of
# vmd-display with an idle screen, without and with a connected viewer,
# and the frame rate and bandwidth a viewer receives while the text screen
# scrolls one line per 1/60 s (every character of the screen changes).
#
# The guest side is bench/display-feed: the VGA device, the display link
# and vmd-display as vmd-guest uses them, without a CPU, so the numbers are
# the display's own cost. The viewer is a minimal RFB client (raw
# encoding, so bytes = pixels sent) written inline below.
#
#   bench/display.sh [BUILD_DIR] [SECONDS]
set -u
B=${1:-build}
SECS=${2:-5}
FEED=$B/bench/display-feed
DISP=$B/vmd-display
[ -x "$FEED" ] && [ -x "$DISP" ] || { echo "build first: make -j2" >&2; exit 1; }
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# ticks PID: utime+stime in clock ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)

cat >"$TMP/viewer.py" <<'EOF'
import select, socket, struct, sys, time
port, secs, encoding = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection(('127.0.0.1', port))
def rx(n):
    b = b''
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d: raise EOFError
        b += d
    return b
rx(12); s.sendall(b'RFB 003.008\n')
n = rx(1)[0]; rx(n); s.sendall(b'\x01'); rx(4); s.sendall(b'\x01')
w, h = struct.unpack('>HH', rx(4)); rx(16); rx(struct.unpack('>I', rx(4))[0])
# 32 bpp XRGB little-endian, raw (0) plus DesktopSize (-223)
s.sendall(struct.pack('>BxxxBBBBHHHBBBxxx', 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
s.sendall(struct.pack('>BxHii', 2, 2, encoding, -223))
s.sendall(struct.pack('>BBHHHH', 3, 0, 0, 0, w, h))
frames = rects = nbytes = 0
start = time.time()
while time.time() - start < secs:
    if not select.select([s], [], [], max(0.0, secs - (time.time() - start)))[0]:
        break
    t = rx(1)[0]
    if t == 0:
        rx(1); nr = struct.unpack('>H', rx(2))[0]
        for i in range(nr):
            x, y, rw, rh, enc = struct.unpack('>HHHHi', rx(12))
            if enc == 0:
                rx(rw * rh * 4); nbytes += rw * rh * 4
            elif enc == -223:
                w, h = rw, rh
            nbytes += 12
        frames += 1; rects += nr
        s.sendall(struct.pack('>BBHHHH', 3, 1, 0, 0, w, h))
    elif t == 2:
        pass
    elif t == 1:
        rx(3); n = struct.unpack('>H', rx(2))[0]; rx(n * 6)
    elif t == 3:
        rx(3); rx(struct.unpack('>I', rx(4))[0])
el = time.time() - start
print('%.1f frames/s, %.0f rects/s, %.2f MB/s' % (frames / el, rects / el, nbytes / el / 1e6))
EOF

# run SCENE VIEWER(0/1): prints CPU of both processes over SECS
run() {
	local scene=$1 viewer=$2 p feed disp t0f t0d t1f t1d out=""
	p=$(port)
	"$FEED" --vnc "127.0.0.1:$p" --scene "$scene" --display "$DISP" --seconds $((SECS + 5)) \
		>"$TMP/feed.out" 2>"$TMP/feed.err" &
	feed=$!
	PIDS+=("$feed")
	for _ in $(seq 100); do
		disp=$(pgrep -P "$feed" -x vmd-display) && break
		sleep 0.1
	done
	sleep 0.5
	if [ "$viewer" = 1 ]; then
		python3 "$TMP/viewer.py" "$p" "$SECS" 0 >"$TMP/viewer.out" 2>&1 &
		PIDS+=("$!")
		sleep 0.5
	fi
	t0f=$(ticks "$feed"); t0d=$(ticks "$disp")
	sleep "$SECS"
	t1f=$(ticks "$feed"); t1d=$(ticks "$disp")
	[ "$viewer" = 1 ] && { wait "${PIDS[-1]}" 2>/dev/null; out=$(cat "$TMP/viewer.out"); }
	kill "$feed" 2>/dev/null
	wait "$feed" 2>/dev/null
	printf '%-7s viewer=%s  guest side %5.1f%% CPU, vmd-display %5.1f%% CPU  %s\n' "$scene" "$viewer" \
		"$(echo "($t1f - $t0f) * 100 / $HZ / $SECS" | bc -l)" \
		"$(echo "($t1d - $t0d) * 100 / $HZ / $SECS" | bc -l)" "$out"
}

run text 0
run text 1
run scroll 0
run scroll 1
run vbe 1
