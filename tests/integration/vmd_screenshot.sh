#!/usr/bin/env bash
# vmctl screenshot through vmd: the guest process renders its VGA picture
# to PNG, vmd relays it, vmctl writes the file with the user's rights.
#   png        a valid PNG of the guest's text screen (720x400)
#   content    it shows the VGA test kernel's 16-colour row (many colours)
#   no_vm      an unknown guest is refused with exit status 1
. "$VMD_TOP/tests/lib.sh"

kernel=$VMD_BUILD/tests/guests/vga/kernel.elf
for f in "$VMD_BUILD/vmd" "$VMD_BUILD/vmctl" "$VMD_BUILD/vmd-guest" "$kernel"; do
	[ -e "$f" ] || { skip png "no $f"; exit 0; }
done
sock=$T_TMP/vmd.sock
printf 'socket "%s"\nguest-binary "%s/vmd-guest"\n' "$sock" "$VMD_BUILD" >"$T_TMP/vmd.conf"
"$VMD_BUILD/vmd" -d -f "$T_TMP/vmd.conf" >"$T_TMP/vmd.log" 2>&1 &
T_PIDS+=($!)
wait_for 10 test -S "$sock" || { fail png "vmd did not start: $(tail -n 5 "$T_TMP/vmd.log")"; exit 0; }
vmctl() { "$VMD_BUILD/vmctl" -s "$sock" "$@"; }

vmctl start -n shot -m 32M -k "$kernel" >/dev/null || { fail png "the guest did not start"; exit 0; }
# The kernel draws its screen at once; give it a moment to get there.
sleep 2
if vmctl screenshot shot "$T_TMP/shot.png" && [ -s "$T_TMP/shot.png" ]; then
	info=$(python3 - "$T_TMP/shot.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0], "bad CRC"
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype == 2, "not 8-bit RGB"
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw, stride, prev, colours = zlib.decompress(idat), w * 3, bytearray(w * 3), set()
for y in range(h):
    f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = row[i - 3] if i >= 3 else 0
        b, c = prev[i], (prev[i - 3] if i >= 3 else 0)
        pred = {0: 0, 1: a, 2: b, 3: (a + b) // 2,
                4: min((a, b, c), key=lambda v: (abs(a + b - c - v), (a, b, c).index(v)))}[f]
        row[i] = (row[i] + pred) & 255
    colours.update(bytes(row[i:i + 3]) for i in range(0, stride, 3))
    prev = row
print(w, h, len(colours))
PY
)
	read -r w h ncol <<<"$info"
	if [ "${w:-0}" = 720 ] && [ "${h:-0}" = 400 ]; then pass png
	else fail png "expected a 720x400 PNG, got: $info"; fi
	if [ "${ncol:-0}" -ge 16 ]; then pass content
	else fail content "only ${ncol:-0} colours in the picture"; fi
else
	fail png "vmctl screenshot failed: $(tail -n 3 "$T_TMP/vmd.log")"
fi

vmctl screenshot nosuch "$T_TMP/x.png" 2>/dev/null
check no_vm test $? = 1
vmctl kill shot >/dev/null
