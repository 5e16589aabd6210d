#!/bin/sh
# `make run`: build the guest kit and start vmd in the foreground with a
# default configuration that boots one Debian guest. Ctrl-C stops it.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

lacking=""
[ -x "$build/vmd" ] || lacking="$lacking vmd (daemon/, issue 5)"
[ -x "$build/vmctl" ] || lacking="$lacking vmctl (clients/vmctl/, issue 5)"
[ -x "$build/vmd-guest" ] || lacking="$lacking vmd-guest (guest/, issue 7)"
if [ -n "$lacking" ]; then
	echo "make run: not built yet:$lacking" >&2
	echo "make run: nothing to start; the build itself succeeded." >&2
	exit 0
fi

if grep -q '^kit:' mk/*.mk 2>/dev/null; then
	make --no-print-directory O="$build" kit
fi
run="$build/run"
mkdir -p "$run"
conf="$run/vmd.conf"
case "$build" in /*) abs=$build ;; *) abs=$top/$build ;; esac
cmdline=$(cat "$build/kit/cmdline")
sed -e "s|@BUILD@|$abs|g" -e "s|@RUN@|$abs/run|g" -e "s|@CMDLINE@|$cmdline|g" \
	conf/default.conf.in > "$conf"
echo "make run: vmd with $conf; control socket $run/vmd.sock"
echo "make run: console:  $build/vmctl -s $run/vmd.sock console debian   (leave with ~.)"
echo "make run: status:   $build/vmctl -s $run/vmd.sock status"
echo "make run: screen:   any VNC viewer on 127.0.0.1:5901, or http://127.0.0.1:5901/vnc.html in a browser"
exec "$build/vmd" -d -f "$conf" -s "$run/vmd.sock"
