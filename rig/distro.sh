#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# distro.sh NAME: configure build/<base>/src, as it is, the way Debian
# does for amd64, plus configs/distro.config, and compile drivers/vfio/ and
# samples/vfio-mdev/ with W=1 and sparse. Leaves, in build/<base>/distro/:
# NAME.warnings, every compiler and sparse warning without line numbers
# (so that a base and a patched tree compare), and NAME.modules, the
# modules built. A tree without the series' option (the base) gets the
# fragment without the lines naming what the series adds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=$1
out=$BUILD/distro
# Fetched with the base by unpack.sh.
debian_config=$TOP/build/$BASE/pkg/usr/src/linux-config-$BASE/config.amd64_none_amd64.xz
[ -f "$debian_config" ] || die "$debian_config missing: rm build/$BASE/version and run again"

frag=$out/distro.config
mkdir -p "$out"
# A build that dies leaves nothing of an earlier one to compare.
rm -f "$out/$name.warnings" "$out/$name.modules"
# A base without the series lacks migdev, and 6.1 the option too.
grep -q '^config VFIO_DEBUGFS$' "$SRC/drivers/vfio/Kconfig" || drop="-e VFIO_DEBUGFS"
grep -q '^config SAMPLE_VFIO_MDEV_MIGDEV$' "$SRC/samples/Kconfig" || drop="${drop:-} -e MIGDEV"
if [ -n "${drop:-}" ]; then
	grep -v $drop "$RIG_DIR/configs/distro.config" >"$frag"
else
	cp "$RIG_DIR/configs/distro.config" "$frag"
fi
xz -dc "$debian_config" >"$out/.config"
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >"$out/merge_config.log"
make -s -C "$SRC" O="$out" "${kcc[@]}" olddefconfig >/dev/null
config_verify "$out" "$frag"

step "distro $name: prepare (log: ${out#$TOP/}/$name.log)"
kmake()
{
	make -C "$SRC" O="$out" -j"$JOBS" "${kcc[@]}" "$@"
}
kmake prepare >"$out/$name.log" 2>&1 || die "distro $name: make prepare failed, see ${out#$TOP/}/$name.log"
step "distro $name: drivers/vfio/ samples/vfio-mdev/ with W=1 C=1"
# C=1 checks what is compiled; a clean of the two folders makes that all.
kmake -s clean M=drivers/vfio >/dev/null 2>&1 || true
find "$out/drivers/vfio" "$out/samples/vfio-mdev" \( -name '*.o' -o -name '*.mod' \) -delete 2>/dev/null || true
kmake W=1 C=1 drivers/vfio/ samples/vfio-mdev/ >>"$out/$name.log" 2>&1 ||
	die "distro $name: compile failed, see ${out#$TOP/}/$name.log"

grep -E ': (warning|error):' "$out/$name.log" |
	sed -e "s|$SRC/||g" -e 's|:[0-9]*:[0-9]*:|:|; s|:[0-9]*:|:|' | sort -u >"$out/$name.warnings" || true
(cd "$out" && find drivers/vfio samples/vfio-mdev -name '*.mod' | sed 's|\.mod$||' | sort) >"$out/$name.modules"
step "distro $name: $(wc -l <"$out/$name.modules") modules, $(wc -l <"$out/$name.warnings") warnings"
