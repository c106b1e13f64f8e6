#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# configure.sh VARIANT: the variant's .config in build/<base>/VARIANT, from
# fragments merged in order, then a check that Kconfig kept every option a
# fragment asked for.
#
# debug, and nodebugfs on 6.1, are the rig's own kernels: tinyconfig, the
# rig's base, the selftests' own config, the variant's (nodebugfs: the
# debug fragment, then its own). modules and baseline are the series'
# modules for Debian's own kernel: its image's config, the selftests'
# config, the variant's; their config may differ from Debian's only where
# it says what those modules hold (debian_config_check).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=$1
out=$BUILD/$variant
tests_config=$SRC/tools/testing/selftests/vfio/config
[ -f "$RIG_DIR/configs/$variant.config" ] || die "no config fragment for variant '$variant'"

# The options of config $1 that differ from Debian's config $2, beyond
# the series' option, the samples, what Kconfig reads off the host's
# tools (Debian 13 builds with gcc 14 and rustc, this host has gcc 12,
# OpenSSL 3.0 and no bindgen), and the Rust code that then drops out
# (Debian 13's Rust PHY drivers and DRM panic QR code, which nothing the
# series builds touches): none may, for the modules to fit the kernel
# Debian built.
debian_config_diff()
{
	diff <(grep '^CONFIG_' "$2" | sort) <(grep '^CONFIG_' "$1" | sort) |
		sed -n 's/^[<>] \(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p' | sort -u |
		grep -vxE 'CONFIG_(VFIO_DEBUGFS|SAMPLES|SAMPLE_[A-Z0-9_]+|CC_VERSION_TEXT|[A-Z]*_VERSION|[A-Z_]*VERSION_TEXT|(CC|AS|LD|RUSTC)_(HAS|CAN|IS|OPT)_[A-Z0-9_]+|TOOLS_SUPPORT_[A-Z0-9_]+|GCC_ASM_[A-Z0-9_]+|OPENSSL_SUPPORTS_[A-Z0-9_]+|RUST|RUST_[A-Z_]+|RUSTC_LLVM_[A-Z_]+|[A-Z0-9_]+_RUST_[A-Z_]+|AMCC_QT2025_PHY|DRM_PANIC_SCREEN_QR_[A-Z_]+)' || true
}

if is_debian_variant "$variant"; then
	debian_kernel
	frags="$tests_config $RIG_DIR/configs/$variant.config"
	rm -rf "$out"
	mkdir -p "$out"
	cp "$deb_config" "$out/.config"
else
	frags="$RIG_DIR/configs/base.config $tests_config $RIG_DIR/configs/debug.config"
	# nodebugfs differs from debug in a few options: it starts from a
	# copy of the built debug tree, for kbuild to rebuild only the
	# objects that depend on them.
	if [ "$variant" = nodebugfs ]; then
		frags="$frags $RIG_DIR/configs/nodebugfs.config"
		[ ! -f "$BUILD/debug/vmlinux" ] || copy_tree debug "$out"
	fi
	mkdir -p "$out"
	make -s -C "$SRC" O="$out" "${kcc[@]}" tinyconfig >/dev/null
fi
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $frags >"$out/merge_config.log"
make -s -C "$SRC" O="$out" "${kcc[@]}" olddefconfig >/dev/null
config_verify "$out" $frags
if is_debian_variant "$variant"; then
	bad=$(debian_config_diff "$out/.config" "$deb_config")
	[ -z "$bad" ] || die "$variant: the config for Debian's $deb_release differs from its own in $(echo $bad) (dwarves missing, or a fragment asks for more than the modules)"
fi
step "configured $variant: $(config_requested $frags | wc -l) options checked"
