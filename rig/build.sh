#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build.sh VARIANT: in build/<base>/VARIANT, through ccache, what its guest
# boots, with its modules under modroot/. debug and nodebugfs: the kernel
# and its modules. modules and baseline: the series' VFIO core, mdev and
# samples as modules for Debian's own kernel (its image is the guest's
# kernel), with the Debian modules they need beside them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=$1
out=$BUILD/$variant
kmake()
{
	make -C "$SRC" O="$out" -j"$JOBS" "${kcc[@]}" \
	     KBUILD_BUILD_USER=rig KBUILD_BUILD_HOST=rig \
	     KBUILD_BUILD_TIMESTAMP="$(git -C "$SRC" log -1 --format=%cd base)" "$@"
}

# Die on a failed or warning build, showing why; the log is $out/build.log.
checked()
{
	if ! "$@" >>"$out/build.log" 2>&1; then
		grep -E 'error|Error' "$out/build.log" | head -n 20 >&2
		die "$variant: build failed, see ${out#$TOP/}/build.log"
	fi
	if grep -q 'warning:' "$out/build.log"; then
		grep 'warning:' "$out/build.log" | sort -u >&2
		die "$variant: the build has warnings"
	fi
}

# The modules of folders $@ (drivers/vfio, say) of the patched tree, built
# against Debian's kernel as external modules, from copies in the tree
# $out at the same paths. The copies keep their objects: rsync writes
# only the files that changed, and kbuild compiles only what they touch.
# The first folder's symbols are the later ones'.
debian_modules()
{
	local d extra=""

	for d in "$@"; do
		mkdir -p "$out/$d"
		# --delete: a file that a later patch adds must not linger in
		# the per-patch tree; the build's own products stay.
		rsync -a --delete --filter='P *.o' --filter='P .*.cmd' --filter='P *.ko' \
			--filter='P *.mod' --filter='P *.mod.c' --filter='P *.a' \
			--filter='P Module.symvers' --filter='P modules.order' \
			"$SRC/$d/" "$out/$d/"
		checked kmake KERNELRELEASE="$deb_release" M="$out/$d" ${extra:+KBUILD_EXTRA_SYMBOLS=$extra} modules
		extra=${extra:-$out/$d/Module.symvers}
	done
}

# Install the series' modules that the guests load, and the Debian modules
# they need (decompressed, for busybox's modprobe), under $out/modroot, with
# a modules.dep made here.
debian_install()
{
	local root=$out/modroot/lib/modules/$deb_release name ko m deps

	rm -rf "$out/modroot"
	mkdir -p "$root/updates"
	for name in vfio vfio_iommu_type1 mdev migdev mtty; do
		ko=$(find "$out/drivers/vfio" "$out/samples/vfio-mdev" -name "$name.ko" | head -n 1)
		[ -n "$ko" ] || die "$variant: no $name.ko was built"
		strip --strip-debug -o "$root/updates/$name.ko" "$ko"
	done
	# Debian 12 ships what is built in (for modprobe to know), 13 not.
	for m in modules.builtin modules.builtin.modinfo modules.order; do
		if [ -f "$deb_modules/$m" ]; then
			cp "$deb_modules/$m" "$root/"
		else
			: >"$root/$m"
		fi
	done
	# What they need of Debian's, and what that needs, by module name
	# (kbuild's: dashes as underscores).
	deps=$(for ko in "$root"/updates/*.ko; do modinfo -F depends "$ko"; done | tr ',' '\n')
	while [ -n "$deps" ]; do
		m=$(echo "$deps" | head -n 1)
		deps=$(echo "$deps" | tail -n +2)
		[ -n "$m" ] && [ ! -f "$root/updates/$m.ko" ] || continue
		ko=$(find "$deb_modules/kernel" \( -name "$m.ko*" -o -name "$(echo "$m" | tr _ -).ko*" \) -print -quit)
		[ -n "$ko" ] || die "$variant: Debian's $deb_release has no module $m, which the series' modules need"
		case "$ko" in
		*.xz) xz -dc "$ko" >"$root/updates/$m.ko" ;;
		*.ko) cp "$ko" "$root/updates/$m.ko" ;;
		*) die "$variant: Debian's $ko is compressed in a way this rig does not unpack" ;;
		esac
		deps=$(printf '%s\n%s' "$deps" "$(modinfo -F depends "$root/updates/$m.ko" | tr ',' '\n')")
	done
	depmod -b "$out/modroot" "$deb_release"
}

: >"$out/build.log"
if is_debian_variant "$variant"; then
	debian_kernel
	step "build $variant: the series' modules for Debian's $deb_release (log: ${out#$TOP/}/build.log)"
	checked kmake KERNELRELEASE="$deb_release" modules_prepare
	# The layouts the kernel's assembly and inlines see (struct
	# offsets, page flags, runqueue fields), as Debian's build made
	# them: the config alone does not prove the tree is Debian's.
	for f in bounds.h asm-offsets.h rq-offsets.h; do
		[ -f "$deb_headers/include/generated/$f" ] || continue
		cmp -s "$deb_headers/include/generated/$f" "$out/include/generated/$f" ||
			die "$variant: include/generated/$f differs from Debian's $deb_release: the modules would not fit its kernel"
	done
	# Debian's symbols and their CRCs, for modpost to check against.
	cp "$deb_symvers" "$out/Module.symvers"
	debian_modules drivers/vfio samples/vfio-mdev
	# RIG_TARGETS=modules: no more (series-check.sh, after each patch).
	[ -z "${RIG_TARGETS:-}" ] || exit 0
	debian_install
	cp "$deb_image" "$out/vmlinuz"
	mkdir -p "$out/usr"
	gcc -O2 -o "$out/usr/gen_init_cpio" "$SRC/usr/gen_init_cpio.c"
	step "built $variant: $(ls "$out/modroot/lib/modules/$deb_release/updates" | sed 's/\.ko$//' | paste -sd' '), with $(gcc -dumpfullversion); Debian's kernel: $(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"/\1/p' "$deb_config")"
	exit 0
fi

# RIG_TARGETS: only those (vmlinux modules, say); no modules installed.
targets=${RIG_TARGETS:-bzImage modules}
step "build $variant: $targets (log: ${out#$TOP/}/build.log)"
checked kmake $targets
[ -z "${RIG_TARGETS:-}" ] || exit 0

rm -rf "$out/modroot"
kmake -s INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 modules_install >>"$out/build.log" 2>&1
kmake -s usr/gen_init_cpio >>"$out/build.log" 2>&1
step "built $variant: $(kmake -s kernelrelease 2>/dev/null)"
