#!/bin/sh
# Install every Debian package vmd needs (scripts/packages.txt), and enable
# the i386 architecture so the guest kit can fetch Debian's i386 kernel and
# busybox. Idempotent: quiet and quick when everything is present.
set -eu
here=$(dirname "$0")
want=$(grep -v '^[[:space:]]*#' "$here/packages.txt" | grep -v '^[[:space:]]*$')

missing=""
for p in $want; do
	st=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
need_i386=0
dpkg --print-foreign-architectures 2>/dev/null | grep -qx i386 || need_i386=1
# The i386 package lists may be missing even with the architecture enabled.
if [ $need_i386 = 0 ] && ! apt-cache show busybox-static:i386 >/dev/null 2>&1; then
	need_i386=2
fi

[ -z "$missing" ] && [ $need_i386 = 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "make deps: missing packages:$missing" >&2
	[ $need_i386 != 0 ] && echo "make deps: the i386 architecture must be enabled (dpkg --add-architecture i386)" >&2
	echo "make deps: run 'make deps' as root (or install them with apt-get) and try again" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
[ $need_i386 = 1 ] && dpkg --add-architecture i386
echo "make deps: installing:${missing:- (no packages)}; i386 lists: $([ $need_i386 = 0 ] && echo present || echo fetching)" >&2
# A mirror in mid-sync can fail one index; what matters is the install below.
apt-get update -qq >/dev/null 2>&1 || echo "make deps: apt-get update reported errors; trying the install anyway" >&2
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "make deps: done" >&2
