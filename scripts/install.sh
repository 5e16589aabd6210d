#!/bin/sh
# Installs vmd: scripts/install.sh DESTDIR PREFIX BUILD (from `make install`).
#   $PREFIX/sbin: vmd, vmd-guest   $PREFIX/bin: vmctl, vmd-display
#   $PREFIX/share/man/man5, man8: vmd.conf.5, vmd.8, vmctl.8
#   $PREFIX/share/examples/vmd: vmd.conf
#   $PREFIX/share/vmd/rc.d: vmd (BSD-style rc script), vmd.service (systemd)
# Binaries that are not built yet are skipped with a note. The rc scripts
# get the installed sbin path. Nothing outside $DESTDIR$PREFIX is touched:
# enabling the service is left to the administrator.
set -eu
destdir=${1-}
prefix=${2:-/usr/local}
build=${3:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
root=$destdir$prefix

inst() { # mode src dst-dir [name]
	mkdir -p "$3"
	cp "$2" "$3/${4:-$(basename "$2")}"
	chmod "$1" "$3/${4:-$(basename "$2")}"
}

for b in vmd vmd-guest; do
	if [ -x "$build/$b" ]; then inst 755 "$build/$b" "$root/sbin"
	else echo "install: $build/$b not built: skipped" >&2; fi
done
for b in vmctl vmd-display; do
	if [ -x "$build/$b" ]; then inst 755 "$build/$b" "$root/bin"
	else echo "install: $build/$b not built: skipped" >&2; fi
done
inst 644 "$top/conf/vmd.conf.5" "$root/share/man/man5"
inst 644 "$top/daemon/vmd.8" "$root/share/man/man8"
inst 644 "$top/clients/vmctl/vmctl.8" "$root/share/man/man8"
inst 644 "$top/conf/vmd.conf" "$root/share/examples/vmd"
inst 644 "$top/proto/PROTOCOL.md" "$root/share/doc/vmd"
mkdir -p "$root/share/vmd/rc.d"
for f in vmd vmd.service; do
	sed "s|@SBINDIR@|$prefix/sbin|g" "$top/rc.d/$f" >"$root/share/vmd/rc.d/$f"
done
chmod 755 "$root/share/vmd/rc.d/vmd"
chmod 644 "$root/share/vmd/rc.d/vmd.service"
echo "installed under $root"
