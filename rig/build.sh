#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build.sh VARIANT: the kernel, its modules (installed under modroot/) and
# the initramfs tool, in build/VARIANT, through ccache.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=$1
out=$BUILD/$variant
kmake()
{
	make -C "$SRC" O="$out" -j"$JOBS" CC="ccache gcc" HOSTCC="ccache gcc" \
	     KBUILD_BUILD_USER=rig KBUILD_BUILD_HOST=rig \
	     KBUILD_BUILD_TIMESTAMP="$(git -C "$SRC" log -1 --format=%cd base)" "$@"
}

# RIG_TARGETS: only those (vmlinux modules, say), as the per-patch check
# of series-check.sh wants; no modules installed.
targets=${RIG_TARGETS:-bzImage modules}

step "build $variant: $targets (log: ${out#$TOP/}/build.log)"
if ! kmake $targets >"$out/build.log" 2>&1; then
	grep -E 'error|Error' "$out/build.log" | head -n 20 >&2
	die "$variant: kernel build failed, see ${out#$TOP/}/build.log"
fi
if grep -q 'warning:' "$out/build.log"; then
	grep 'warning:' "$out/build.log" | sort -u >&2
	die "$variant: the build has warnings"
fi
[ -z "${RIG_TARGETS:-}" ] || exit 0

rm -rf "$out/modroot"
kmake -s INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 modules_install >>"$out/build.log" 2>&1
kmake -s usr/gen_init_cpio >>"$out/build.log" 2>&1
step "built $variant: $(kmake -s kernelrelease 2>/dev/null)"
