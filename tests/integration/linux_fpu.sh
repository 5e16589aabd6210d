#!/usr/bin/env bash
# The x87 as Linux user programs see it: build/fpu/fpucheck (a static
# 32-bit glibc program, tests/guests/fpu/userland/fpucheck.c) prints about
# a thousand exact results. It runs natively on the host, then inside the
# guest kit booted once in each emulator, from a second cpio archive
# appended to a copy of the kit's initrd, typed at the shell prompt on the
# serial console; each guest's output must equal the host's line by line.
#   native            the host run (the reference)
#   qemu              in qemu-system-i386 -cpu pentium2: proves the test
#                     itself (results TCG's x87 computes differently, listed
#                     in tests/guests/fpu/userland/qemu-known.txt, do not
#                     count there)
#   vmdguest          in build/vmd-guest: every line must match
#   <guest>/sigfpe    an unmasked #Z and #I become SIGFPE with the host's
#                     si_code and status word (#MF through the kernel)
#   <guest>/parallel  two runs at once (the kernel switching FPU contexts
#                     between them) give the same output as the single run
# Environment: VMD_BOOT_TIMEOUT (seconds to the prompt in vmd-guest, default 480).
. "$VMD_TOP/tests/lib.sh"
. "$VMD_TOP/tests/guests/console.sh"

kit=$VMD_BUILD/kit
prog=$VMD_BUILD/fpu/fpucheck
known=$VMD_TOP/tests/guests/fpu/userland/qemu-known.txt
boot_timeout=${VMD_BOOT_TIMEOUT:-480}

if [ ! -x "$prog" ]; then
	fail native "no $prog (mk/fpuguest.mk builds it when the i386 glibc of gcc-multilib is installed)"
	exit 0
fi
"$prog" >"$T_TMP/native.txt" 2>&1
rc=$?
{ "$prog" sigfpe div; "$prog" sigfpe invalid; } >"$T_TMP/native.sigfpe" 2>&1
if [ $rc = 0 ] && grep -q '^fpucheck done: ' "$T_TMP/native.txt"; then
	pass native
else
	fail native "exit $rc: $(tail -n 3 "$T_TMP/native.txt" | tr '\n' ';')"
	exit 0
fi

if [ ! -s "$kit/vmlinuz" ] || [ ! -s "$kit/initrd.img" ]; then
	"$VMD_TOP/tests/guests/mkkit.sh" "$kit" >"$T_TMP/mkkit.log" 2>&1 || {
		skip qemu "no guest kit in $kit and mkkit.sh failed: $(tail -n 1 "$T_TMP/mkkit.log")"
		skip vmdguest "no guest kit"
		exit 0
	}
fi

# The kit's initrd, then a second gzipped newc archive holding /fpucheck.
mkdir -p "$T_TMP/extra"
cp "$prog" "$T_TMP/extra/fpucheck"
(cd "$T_TMP/extra" && echo fpucheck | cpio -o -H newc -R 0:0 --quiet) | gzip -9 >"$T_TMP/extra.cpio.gz" &&
	cat "$kit/initrd.img" "$T_TMP/extra.cpio.gz" >"$T_TMP/initrd.img" || {
	fail initrd "could not build the initrd with /fpucheck (cpio, gzip)"
	exit 0
}


# guest_run NAME TIMEOUT CMD...: boots, runs /fpucheck, leaves its output
# in $T_TMP/NAME.txt and powers off. 1 (with a FAIL line) if it could not.
guest_run() {
	local name=$1 limit=$2 start=$SECONDS
	shift 2
	console_start "$T_TMP/$name.serial" "$@"
	if ! console_boot_wait "$limit"; then
		fail "$name" "$CONSOLE_WHY;$(console_last_lines 20)"
		console_stop
		return 1
	fi
	echo "note: $name: prompt after $((SECONDS - start)) s"
	if ! console_cmd 600 '/fpucheck >/tmp/s; echo "fpucheck status $?"; cat /tmp/s'; then
		fail "$name" "/fpucheck did not finish;$(console_last_lines 20)"
		console_stop
		return 1
	fi
	# Kernel messages may land among the lines: they are not results.
	echo "$CONSOLE_OUT" | grep -v -E '^\[ *[0-9]+\.[0-9]+\] ' >"$T_TMP/$name.txt"
	if console_cmd 60 '/fpucheck sigfpe div; /fpucheck sigfpe invalid'; then
		echo "$CONSOLE_OUT" | grep -E '^(sigfpe|no SIGFPE)' >"$T_TMP/$name.sigfpe"
		if cmp -s "$T_TMP/$name.sigfpe" "$T_TMP/native.sigfpe"; then
			pass "$name/sigfpe"
		else
			fail "$name/sigfpe" "guest: $(tr '\n' ';' <"$T_TMP/$name.sigfpe") host: $(tr '\n' ';' <"$T_TMP/native.sigfpe")"
		fi
	else
		fail "$name/sigfpe" "no answer: $(echo "$CONSOLE_OUT" | tail -n 5 | tr '\n' ';')"
	fi
	if console_cmd 900 '/fpucheck >/tmp/a & /fpucheck >/tmp/b; wait; md5sum /tmp/s /tmp/a /tmp/b'; then
		local sums
		sums=$(echo "$CONSOLE_OUT" | awk '$2 ~ /^\/tmp\/[sab]$/ { print $1 }' | sort -u)
		if [ "$(echo "$CONSOLE_OUT" | grep -c -E '^[0-9a-f]{32}  /tmp/[sab]$')" = 3 ] && [ "$(echo "$sums" | wc -l)" = 1 ]; then
			pass "$name/parallel"
		else
			fail "$name/parallel" "two runs at once differ from the single run: $(echo "$CONSOLE_OUT" | tr '\n' ';')"
		fi
	else
		fail "$name/parallel" "no answer: $(echo "$CONSOLE_OUT" | tail -n 5 | tr '\n' ';')"
	fi
	console_send 'poweroff\n'
	console_exit_wait 30 || console_stop
	return 0
}

# within_1ulp HOSTLINE GUESTLINE: the lines differ only in x87 extended
# values (%La) at most one unit in the last place apart. The issue allows
# that for the transcendental instructions, whose last bit comes from each
# implementation's approximation.
within_1ulp() {
	python3 - "$1" "$2" <<'PY'
import sys
from fractions import Fraction
def val(t):
    neg = t.startswith("-")
    t = t.lstrip("+-")
    if not t.startswith("0x") or "p" not in t:
        return None
    m, e = t[2:].split("p")
    whole, _, frac = m.partition(".")
    v = Fraction(int(whole + frac, 16)) * Fraction(2) ** (int(e) - 4 * len(frac))
    return -v if neg else v
a, b = sys.argv[1].split(), sys.argv[2].split()
if len(a) != len(b):
    sys.exit(1)
for x, y in zip(a, b):
    if x == y:
        continue
    vx, vy = val(x), val(y)
    if vx is None or vy is None or vx == 0:
        sys.exit(1)
    ulp = Fraction(1)
    while ulp * 2 ** 63 > abs(vx):
        ulp /= 2
    while ulp * 2 ** 64 <= abs(vx):
        ulp *= 2
    if abs(vx - vy) > ulp:
        sys.exit(1)
PY
}
transcendental=" fsin fcos fsincos fptan fpatan f2xm1 fyl2x fyl2xp1 "

# compare NAME [KNOWN]: the guest's output against the host's, line by
# line. With KNOWN, lines whose name (before "[") it lists are excused.
# Results of the transcendental instructions may be 1 ulp apart (counted).
compare() {
	local name=$1 use_known=${2:-} out=$T_TMP/$1.txt status
	status=$(sed -n 's/^fpucheck status //p' "$out")
	if [ "$status" != 0 ]; then
		fail "$name" "/fpucheck exited with status ${status:-?}: $(tail -n 5 "$out" | tr '\n' ';')"
		return
	fi
	sed -i '/^fpucheck status /d' "$out"
	local diffs excused=0 ulp1=0 bad="" nbad=0 n_native n_guest keys=""
	n_native=$(wc -l <"$T_TMP/native.txt") n_guest=$(wc -l <"$out")
	diffs=$(paste -d '\t' "$T_TMP/native.txt" "$out" | awk -F '\t' '$1 != $2 { print NR "\t" $1 "\t" $2 }')
	while IFS=$'\t' read -r nr want got; do
		[ -n "$nr" ] || continue
		local key=${want%%\[*}
		key=${key%% *}
		if [ -n "$use_known" ] && grep -q -x -F "$key" <(grep -v '^#' "$known" | cut -d '|' -f 1); then
			excused=$((excused + 1))
			continue
		fi
		if [[ "$transcendental" == *" $key "* ]] && within_1ulp "$want" "$got"; then
			ulp1=$((ulp1 + 1))
			continue
		fi
		[[ " $keys " == *" $key "* ]] || keys+=" $key"
		nbad=$((nbad + 1))
		[ $nbad -le 8 ] && bad+=" line $nr: host '$want' guest '$got';"
	done <<<"$diffs"
	[ $excused -gt 0 ] && echo "note: $name: $excused lines differ the way qemu-known.txt says TCG's x87 does"
	[ $ulp1 -gt 0 ] && echo "note: $name: $ulp1 transcendental results are 1 ulp from the host's (allowed)"
	if [ "$n_native" != "$n_guest" ]; then
		fail "$name" "$n_guest lines from the guest, $n_native on the host;$bad"
	elif [ $nbad = 0 ]; then
		pass "$name"
	else
		fail "$name" "$nbad of $n_native lines differ from the host's (in:$keys):$bad"
	fi
}

if command -v qemu-system-i386 >/dev/null; then
	if guest_run qemu 180 qemu-system-i386 -M pc -cpu pentium2 -m 256 -display none -monitor none \
		-serial stdio -no-reboot -kernel "$kit/vmlinuz" -initrd "$T_TMP/initrd.img" \
		-append "$(cat "$kit/cmdline")"; then
		compare qemu known
	fi
else
	skip qemu "qemu-system-i386 is not installed (make deps)"
fi

if [ -x "$VMD_BUILD/vmd-guest" ]; then
	if guest_run vmdguest "$boot_timeout" "$VMD_BUILD/vmd-guest" -m 256M -k "$kit/vmlinuz" \
		-i "$T_TMP/initrd.img" -a "$(cat "$kit/cmdline")" --serial stdio; then
		compare vmdguest
	fi
else
	skip vmdguest "no $VMD_BUILD/vmd-guest"
fi
