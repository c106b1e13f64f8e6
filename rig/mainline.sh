#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mainline.sh: mainline's own VFIO core and mtty, the sources of the
# pristine base (the "base" tag of build/<base>/src: drivers/vfio/ and
# samples/vfio-mdev/mtty.c), built as external modules for the modules
# variant's kernel into build/<base>/modules/mainline/. They compile
# against that kernel's headers, whose struct vfio_device has the
# series' one more pointer, which mainline's code never touches. The
# modules guest (Debian's kernel) loads them after its tests, in place of
# the series' modules, and runs the same migration on both
# (rig/guest/mig-outputs.c): migration/state and features must read the
# same. The series' migdev goes onto mainline's core too (to read ERROR),
# built here against mainline's core: where Debian builds with
# CONFIG_MODVERSIONS (6.12), a symbol's CRC covers the core's own
# structures, which the series changes. Only for bases whose mainline has VFIO debugfs (6.12
# and later); a no-op on 6.1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/modules/mainline
[ "$BASE" != 6.1 ] || exit 0

rm -rf "$out"
mkdir -p "$out/src"
git -C "$SRC" archive base drivers/vfio samples/vfio-mdev | tar -x -C "$out/src"
# mtty and the series' migdev alone of the samples.
cp "$SRC/samples/vfio-mdev/migdev.c" "$out/src/samples/vfio-mdev/"
# migdev reports its data fd's errors to the series' history; mainline's
# core has no such call, so it gets a no-op one, which state and
# features, the files compared, never reach.
cat >>"$out/src/drivers/vfio/vfio_main.c" <<'EOF'

/* Added by the rig (rig/mainline.sh), for the series' migdev. */
void vfio_mig_data_error(struct vfio_device *vdev, bool write, int err)
{
}
EXPORT_SYMBOL_GPL(vfio_mig_data_error);
EOF
echo 'obj-m += mtty.o migdev.o' >"$out/src/samples/vfio-mdev/Makefile"

step "build mainline's vfio and mtty modules (log: ${out#$TOP/}/build.log)"
kmake()
{
	make -C "$SRC" O="$BUILD/modules" -j"$JOBS" "${kcc[@]}" \
	     KERNELRELEASE="$(cat "$BUILD/release")" "$@"
}
{
	kmake M="$out/src/drivers/vfio" modules &&
	kmake M="$out/src/samples/vfio-mdev" \
	      KBUILD_EXTRA_SYMBOLS="$out/src/drivers/vfio/Module.symvers" modules
} >"$out/build.log" 2>&1 || die "mainline modules failed to build, see ${out#$TOP/}/build.log"
for m in vfio vfio_iommu_type1 mdev/mdev; do
	cp "$out/src/drivers/vfio/$m.ko" "$out/"
done
cp "$out/src/samples/vfio-mdev/mtty.ko" "$out/src/samples/vfio-mdev/migdev.ko" "$out/"
step "built mainline's modules: $(cd "$out" && ls *.ko | tr '\n' ' ')"
