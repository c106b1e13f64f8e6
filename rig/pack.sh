#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# pack.sh VARIANT: the guest's initramfs, build/VARIANT/initramfs.cpio, made
# by the kernel's own usr/gen_init_cpio from a list file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=$1
out=$BUILD/$variant
list=$out/initramfs.list
[ -x /bin/busybox ] || die "/bin/busybox missing: apt-get install busybox-static"

{
	for d in /bin /sbin /dev /proc /sys /tmp /rig /tests /lib /lib/modules; do
		echo "dir $d 0755 0 0"
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "file /bin/busybox /bin/busybox 0755 0 0"
	echo "slink /bin/sh busybox 0777 0 0"
	echo "file /init $RIG_DIR/guest/init 0755 0 0"
	echo "file /rig/run-tests $RIG_DIR/guest/run-tests 0755 0 0"
	echo "file /rig/demo $RIG_DIR/guest/demo 0755 0 0"
	for t in "$BUILD"/tests/*; do
		[ -f "$t" ] && [ -x "$t" ] && echo "file /tests/${t##*/} $t 0755 0 0"
	done
	if [ -d "$out/modroot/lib/modules" ]; then
		(cd "$out/modroot" && find lib/modules -mindepth 1 -type d) | sed 's|^|dir /|; s|$| 0755 0 0|'
		(cd "$out/modroot" && find lib/modules -type f) | while read -r f; do
			echo "file /$f $out/modroot/$f 0644 0 0"
		done
	fi
	# mainline's own VFIO modules, to compare with (rig/mainline.sh).
	if [ -d "$out/mainline" ]; then
		echo "dir /mainline 0755 0 0"
		for m in "$out"/mainline/*.ko; do
			echo "file /mainline/${m##*/} $m 0644 0 0"
		done
	fi
	# The guests that run QEMU as the migration client carry it; without
	# it (qemu.sh could not fetch it) the QEMU tests fail, not the rest.
	case " $QEMU_VARIANTS " in
	*" $variant "*)
		if [ -s "$QEMU_DIR/initramfs.list" ]; then
			cat "$QEMU_DIR/initramfs.list"
		else
			echo "rig: warning: no QEMU 10 for the $variant guest (rig/qemu.sh failed)" >&2
		fi ;;
	esac
} >"$list"
"$out/usr/gen_init_cpio" "$list" >"$out/initramfs.cpio"
step "packed $variant initramfs: $(( $(stat -c %s "$out/initramfs.cpio") / 1024 )) KiB"
