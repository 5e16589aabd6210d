# Shared by bench/boot.sh and bench/idle.sh: start the kit in vmd-guest or
# in qemu-system-i386 (TCG, Pentium II, same kernel, initrd, command line
# and memory), its serial console through tests/guests/console.sh.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$top/build}
build=$(cd "$build" && pwd) || exit 2
kit=$build/kit
mem=256
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmd-bench.XXXXXX")
trap 'console_stop >/dev/null 2>&1; rm -rf "$T_TMP"' EXIT
. "$top/tests/guests/console.sh"

[ -s "$kit/vmlinuz" ] || "$top/tests/guests/mkkit.sh" "$kit" || { echo "bench: no kit in $kit" >&2; exit 2; }
have_vmd=1 have_qemu=1
[ -x "$build/vmd-guest" ] || { echo "bench: no $build/vmd-guest: measuring qemu only" >&2; have_vmd=0; }
command -v qemu-system-i386 >/dev/null || { echo "bench: no qemu-system-i386: measuring vmd only" >&2; have_qemu=0; }

start_guest() { # start_guest vmd|qemu LOG
	case $1 in
	vmd) console_start "$2" "$build/vmd-guest" -m "${mem}M" -k "$kit/vmlinuz" -i "$kit/initrd.img" \
		-a "$(cat "$kit/cmdline")" --serial stdio ;;
	qemu) console_start "$2" qemu-system-i386 -M pc -cpu pentium2 -m "$mem" -display none \
		-monitor none -serial stdio -no-reboot -kernel "$kit/vmlinuz" -initrd "$kit/initrd.img" \
		-append "$(cat "$kit/cmdline")" ;;
	esac
}
stop_guest() { # clean poweroff, then make sure it is gone
	console_send 'poweroff\n'
	console_exit_wait 60 || echo "bench: guest did not power off within 60 s" >&2
	console_stop
}
now() { date +%s.%N; }
