#!/usr/bin/env bash
# Builds the guest kit from Debian's own i386 packages:
#   OUTDIR/vmlinuz     Debian bookworm's linux-image-<ver>-686 kernel
#   OUTDIR/initrd.img  gzip'd cpio (newc): busybox-static, /init, inittab,
#                      the modules later work needs under lib/modules/<ver>/
#   OUTDIR/cmdline     the recommended kernel command line for our board
#   OUTDIR/VERSION     kernel release, package versions
#   OUTDIR/debs/       the downloaded packages (reused when present)
# The packages are only downloaded and unpacked (dpkg-deb -x), never installed.
# Usage: tests/guests/mkkit.sh OUTDIR
set -euo pipefail

die() { echo "mkkit: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 OUTDIR"
out=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
debs=$out/debs

for t in apt-cache apt-get dpkg-deb cpio gzip objcopy; do
	command -v "$t" >/dev/null || die "$t is missing (run 'make deps')"
done

# The kernel package behind the metapackage: linux-image-686 depends on
# exactly one linux-image-<abi>-686. Without the i386 lists this is empty.
resolve_kernel() {
	apt-cache depends linux-image-686:i386 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-686\)\(:i386\)\{0,1\}$/\1/p' | head -n 1
}

# fetch PKG: the newest .deb of PKG:i386 in $debs, downloading it if absent.
fetch() {
	local pkg=$1 ver file
	ver=$(apt-cache policy "$pkg:i386" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] ||
		die "no candidate for $pkg:i386 (is the i386 architecture enabled and 'apt-get update' done? run 'make deps')"
	# apt names files with the epoch's colon escaped as %3a.
	file=$debs/${pkg}_${ver//:/%3a}_i386.deb
	if [ ! -s "$file" ]; then
		echo "mkkit: downloading $pkg:i386 $ver" >&2
		(cd "$debs" && apt-get download -q "$pkg:i386=$ver" >/dev/null 2>"$debs/apt.err") ||
			die "apt-get download $pkg:i386=$ver failed (no network or mirror?): $(tail -n 3 "$debs/apt.err")"
		[ -s "$file" ] || die "apt-get download did not produce $file"
	fi
	echo "$file"
}

kpkg=$(resolve_kernel)
[ -n "$kpkg" ] || die "cannot resolve linux-image-686:i386 (enable i386 and update the lists: 'make deps')"
kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)

# Quick path: everything is built from exactly these packages and this script.
stamp="$(basename "$kdeb") $(basename "$bdeb") $(cat "$0" "$here"/kit/* | cksum | cut -d' ' -f1)"
if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] && [ -s "$out/cmdline" ] &&
	[ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mkkit.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$kdeb" "$work/k" || die "cannot unpack $kdeb"
dpkg-deb -x "$bdeb" "$work/b" || die "cannot unpack $bdeb"

kver=$(ls "$work/k/lib/modules" | head -n 1)
[ -n "$kver" ] && [ -f "$work/k/boot/vmlinuz-$kver" ] || die "$kpkg has no vmlinuz-<release>"
kmods=$work/k/lib/modules/$kver

# --- modules -----------------------------------------------------------------
# The IDE disk path (19 modules, see shared notes), the NE2000 NIC, and what
# the ACPI power button needs to reach user space (button + evdev for acpid).
want_mods="crc32c_generic libcrc32c scsi_common scsi_mod libata ata_piix ata_generic
crct10dif_common crct10dif_generic crc64 crc64_rocksoft_generic crc_t10dif crc64_rocksoft
t10_pi sd_mod jbd2 mbcache crc16 ext4 8390 ne2k_pci button evdev"

declare -A modpath=()  # normalised name -> path relative to lib/modules/<ver>
while IFS= read -r p; do
	n=$(basename "$p" .ko); n=${n//-/_}
	modpath[$n]=${p#"$kmods"/}
done < <(find "$kmods/kernel" -name '*.ko')

moddeps() { # the direct dependencies of one module, from its .modinfo section
	objcopy -O binary -j .modinfo "$kmods/${modpath[$1]}" "$work/modinfo" 2>/dev/null ||
		die "cannot read .modinfo of ${modpath[$1]}"
	tr '\0' '\n' <"$work/modinfo" | sed -n 's/^depends=//p' | tr ',' ' ' | tr '-' '_'
}

root=$work/root
mkdir -p "$root/lib/modules/$kver"
declare -A deps=()
todo=$want_mods
while [ -n "${todo// /}" ]; do
	next=""
	for m in $todo; do
		m=${m//-/_}
		[ -n "${deps[$m]+x}" ] && continue
		[ -n "${modpath[$m]+x}" ] || die "module $m not found in $kpkg"
		deps[$m]=$(moddeps "$m")
		next="$next ${deps[$m]}"
	done
	todo=$next
done
# modules.dep: each module with all its transitive dependencies, in the
# order modprobe loads them (last first), paths relative to the folder.
closure() { # prints the dependency closure of $1, dependencies after dependents
	local m=$1 d
	for d in ${deps[$m]}; do echo "$d"; closure "$d"; done
}
for m in "${!deps[@]}"; do
	mkdir -p "$root/lib/modules/$kver/$(dirname "${modpath[$m]}")"
	cp "$kmods/${modpath[$m]}" "$root/lib/modules/$kver/${modpath[$m]}"
	line="${modpath[$m]}:"
	for d in $(closure "$m" | awk '!seen[$0]++'); do line="$line ${modpath[$d]}"; done
	echo "$line"
done | sort >"$root/lib/modules/$kver/modules.dep"
cp "$kmods/modules.builtin" "$kmods/modules.order" "$root/lib/modules/$kver/" 2>/dev/null || true
: >"$root/lib/modules/$kver/modules.alias"
: >"$root/lib/modules/$kver/modules.symbols"

# --- busybox and its applets --------------------------------------------------
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/init.d,etc/acpi/PWRF,proc,sys,dev,tmp,root,run,mnt,var/log}
cp "$work/b/bin/busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
# The applet list is read from the binary's own table so the host needs not
# run an i386 program: the names are the NUL-separated run after "[\0[[\0".
applets=$(LC_ALL=C grep -a -o -P '\[\x00\[\[\x00[a-z0-9_.\[-]+(\x00[a-z0-9_.\[-]+)+' "$root/bin/busybox" |
	head -n 1 | tr '\0' '\n')
[ "$(echo "$applets" | wc -l)" -gt 100 ] || die "cannot read the applet list of busybox"
sbin_applets=" init poweroff reboot halt modprobe insmod rmmod lsmod depmod mdev acpid ifconfig route getty klogd syslogd switch_root pivot_root hwclock "
for a in $applets; do
	[ "$a" = busybox ] && continue
	if [[ "$sbin_applets" == *" $a "* ]]; then
		ln -sf ../bin/busybox "$root/sbin/$a"
	else
		ln -sf busybox "$root/bin/$a"
	fi
done
# The kernel opens /dev/console before /init runs; its built-in initramfs
# has the node, this one adds it too when we may create device nodes.
mknod "$root/dev/console" c 5 1 2>/dev/null || true
cp "$here/kit/init" "$root/init"
cp "$here/kit/inittab" "$root/etc/inittab"
cp "$here/kit/rcS" "$root/etc/init.d/rcS"
cp "$here/kit/profile" "$root/etc/profile"
cp "$here/kit/acpi-power" "$root/etc/acpi/PWRF/00000080"
chmod 755 "$root/init" "$root/etc/init.d/rcS" "$root/etc/acpi/PWRF/00000080"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
echo "$kver" >"$root/etc/kit-kernel"

# --- output --------------------------------------------------------------------
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n >"$work/initrd.img" ||
	die "cannot build the initramfs"
cp "$work/k/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$here/kit/cmdline" "$work/cmdline"
{
	echo "kernel_release $kver"
	echo "kernel_package $(basename "$kdeb")"
	echo "busybox_package $(basename "$bdeb")"
	echo "modules $(echo "${!deps[@]}" | tr ' ' '\n' | sort | tr '\n' ' ')"
} >"$work/VERSION"
for f in vmlinuz initrd.img cmdline VERSION; do mv -f "$work/$f" "$out/$f"; done
echo "$stamp" >"$out/.stamp"
echo "mkkit: kit for $kver in $out" >&2
