#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest's programs, static, against the patched tree's uAPI headers:
# the vfio selftests, the demo, the benchmark and mig-outputs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/tests
hdr=$BUILD/headers
mkdir -p "$out"
step "build selftests (log: ${out#$TOP/}/build.log)"
make -s -C "$SRC" O="$hdr" INSTALL_HDR_PATH="$hdr/usr" headers_install >"$out/build.log" 2>&1 ||
	die "headers_install failed, see ${out#$TOP/}/build.log"
if ! make -C "$SRC/tools/testing/selftests/vfio" OUTPUT="$out" CC="ccache gcc" \
	  KHDR_INCLUDES="-isystem $hdr/usr/include" USERLDFLAGS=-static >>"$out/build.log" 2>&1; then
	grep -E 'error|warning' "$out/build.log" >&2 || true
	die "selftests build failed, see ${out#$TOP/}/build.log"
fi
if grep -q 'warning:' "$out/build.log"; then
	grep 'warning:' "$out/build.log" >&2
	die "the selftests build has warnings"
fi
sdir=$SRC/tools/testing/selftests/vfio
ccache gcc -Wall -Wextra -Werror -O2 -static -isystem "$hdr/usr/include" -I "$sdir" \
	-o "$out/demo-qemu" "$RIG_DIR/guest/demo-qemu.c" "$sdir/qemu_util.c" "$sdir/vfio_util.c"
ccache gcc -Wall -Wextra -Werror -O2 -static -isystem "$hdr/usr/include" -I "$sdir" \
	-o "$out/vfio-bench" "$RIG_DIR/guest/vfio-bench.c" "$sdir/qemu_util.c" "$sdir/vfio_util.c"
# Bases with pre-copy compare their state and features with mainline's
# own code (rig/mainline.sh).
if grep -q VFIO_MIGRATION_PRE_COPY "$hdr/usr/include/linux/vfio.h"; then
	ccache gcc -Wall -Wextra -Werror -O2 -static -isystem "$hdr/usr/include" -I "$sdir" \
		-o "$out/mig-outputs" "$RIG_DIR/guest/mig-outputs.c" "$sdir/vfio_util.c"
fi
