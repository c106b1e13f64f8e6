#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# configure.sh VARIANT: tinyconfig, then the fragments merged in order (the
# rig's base, the selftests' own config, the variant's), then a check that
# Kconfig kept every option a fragment asked for.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=$1
out=$BUILD/$variant
frags="$RIG_DIR/configs/base.config $SRC/tools/testing/selftests/vfio/config $RIG_DIR/configs/$variant.config"
[ -f "$RIG_DIR/configs/$variant.config" ] || die "no config fragment for variant '$variant'"

# The variants that differ from builtin in a few options start from a copy
# of its built tree: kbuild then rebuilds only the objects that depend on
# the options that changed, not the whole kernel. The debug variant
# changes every object's flags (KASAN) and is built from scratch.
case "$variant" in
modules | baseline | nodebugfs)
	if [ -f "$BUILD/builtin/vmlinux" ] && [ -f "$BUILD/builtin/.config" ]; then
		copy_builtin "$out"
	fi ;;
esac
mkdir -p "$out"
make -s -C "$SRC" O="$out" tinyconfig >/dev/null
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $frags >"$out/merge_config.log"
make -s -C "$SRC" O="$out" olddefconfig >/dev/null

config_verify "$out" $frags
step "configured $variant: $(config_requested $frags | wc -l) options checked"
