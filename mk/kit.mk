# The guest kit: Debian's i386 kernel and busybox as a bootable pair.
# `make kit` builds $(O)/kit/{vmlinuz,initrd.img,cmdline,VERSION}; the
# packages are cached in $(O)/kit/debs. Not part of `all`: it needs the
# package mirror once.
kit:
	@tests/guests/mkkit.sh $(O)/kit
