#!/usr/bin/env bash
# Control-plane figures, run by hand: bench/control.sh [BUILD]
#  - `status` latency with 1 and 100 concurrent clients while 20 guests run
#  - time from `start` to the guest's first serial byte
# Uses the real vmd-guest with the board test kernel when both are built,
# else the guest-process double (the figures then measure vmd alone).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
make -C "$top" --no-print-directory -j2 "$build/bench/control" "$build/vmd" "$build/tests/fake-guest" >/dev/null || exit 1
tmp=$(mktemp -d /tmp/vmd-bench.XXXXXX)
trap 'kill $vmd 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
guest=$build/vmd-guest kernel=$build/tests/guests/board/kernel.elf cmdline="halt"
if [ ! -x "$guest" ] || [ ! -s "$kernel" ]; then
	guest=$build/tests/fake-guest kernel=$tmp/kernel cmdline=""
	touch "$kernel"
fi
echo "guest binary: $guest"
{
	echo "guest-binary \"$guest\""
	echo "shutdown-timeout 2"
	for i in $(seq 1 20); do
		echo "vm \"g$i\" { memory 16M; kernel \"$kernel\"; cmdline \"$cmdline\"; autostart yes }"
	done
	echo "vm \"first\" { memory 16M; kernel \"$kernel\"; cmdline \"info\" }"
	echo "vm \"second\" { memory 16M; kernel \"$kernel\"; cmdline \"info\" }"
	if [ -s "$build/kit/vmlinuz" ] && [ -x "$build/vmd-guest" ]; then
		echo "vm \"kit\" { memory 256M; kernel \"$build/kit/vmlinuz\"; initrd \"$build/kit/initrd.img\";"
		echo "	cmdline \"$(cat "$build/kit/cmdline")\"; }"
	fi
} >"$tmp/vmd.conf"
"$build/vmd" -d -f "$tmp/vmd.conf" -s "$tmp/sock" 2>"$tmp/log" &
vmd=$!
for _ in $(seq 50); do [ -S "$tmp/sock" ] && break; sleep 0.1; done
sleep 2 # let the 20 guests boot
echo "running guests: $("$build/vmctl" -s "$tmp/sock" list | grep -c running)"
"$build/bench/control" latency "$tmp/sock" g1 1 2000
"$build/bench/control" latency "$tmp/sock" g1 100 50
"$build/bench/control" latency "$tmp/sock" g1 1 2000 list
"$build/bench/control" latency "$tmp/sock" g1 100 50 list
# Fresh guests each time: the console history would answer a restart at once.
"$build/bench/control" firstbyte "$tmp/sock" first
"$build/bench/control" firstbyte "$tmp/sock" second
if [ -s "$build/kit/vmlinuz" ] && [ -x "$build/vmd-guest" ]; then
	echo "Linux (guest kit, earlyprintk on ttyS0):"
	"$build/bench/control" firstbyte "$tmp/sock" kit
	"$build/vmctl" -s "$tmp/sock" kill kit >/dev/null
fi
