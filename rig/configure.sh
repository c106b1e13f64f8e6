#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# configure.sh VARIANT: the variant's .config in build/<base>/VARIANT, from
# fragments merged in order, then a check that Kconfig kept every option a
# fragment asked for.
#
# debug, builtin, and nodebugfs on 6.1, are the rig's own kernels:
# tinyconfig, the rig's base, the selftests' own config, the debug
# fragment, then builtin's, then nodebugfs'. modules and baseline are the
# series' modules for Debian's own kernel: its config, the selftests'
# config, the variant's; their config may differ from Debian's only where
# it says what those modules hold (debian_config_diff).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=$1
out=$BUILD/$variant
tests_config=$SRC/tools/testing/selftests/vfio/config
[ -f "$RIG_DIR/configs/$variant.config" ] || die "no config fragment for variant '$variant'"

# The options of config $1 that differ from Debian's config $2 and are
# not in configs/debian-differs: none may, for the modules to fit the
# kernel Debian built.
debian_config_diff()
{
	local rc=0

	diff <(grep '^CONFIG_' "$2" | sort) <(grep '^CONFIG_' "$1" | sort) >"$out/debian.diff" || rc=$?
	[ "$rc" -le 1 ] || die "$variant: could not compare its config with Debian's"
	sed -n 's/^[<>] \(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p' "$out/debian.diff" | sort -u |
		comm -23 - <(grep '^CONFIG_' "$RIG_DIR/configs/debian-differs" | sort)
}

if is_debian_variant "$variant"; then
	debian_kernel
	frags="$tests_config $RIG_DIR/configs/$variant.config"
	rm -rf "$out"
	mkdir -p "$out"
	cp "$deb_config" "$out/.config"
else
	frags="$RIG_DIR/configs/base.config $tests_config $RIG_DIR/configs/debug.config"
	# builtin differs from debug in a few options, nodebugfs from
	# builtin: each starts from a copy of the tree before it, for kbuild
	# to rebuild only the objects that depend on them.
	case "$variant" in
	builtin)
		frags="$frags $RIG_DIR/configs/builtin.config"
		from=debug ;;
	nodebugfs)
		frags="$frags $RIG_DIR/configs/builtin.config $RIG_DIR/configs/nodebugfs.config"
		from=builtin ;;
	*)	from="" ;;
	esac
	if [ -n "$from" ] && [ -f "$BUILD/$from/vmlinux" ]; then
		copy_tree "$from" "$out"
		# kbuild leaves the modules of a config before; symbols.sh
		# must find only this one's.
		find "$out" -name '*.ko' -delete
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
