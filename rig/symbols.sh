#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# symbols.sh VARIANT: whether VFIO's debugfs code is in the variant's vfio
# (built in or module), as nm shows it. With CONFIG_VFIO_DEBUGFS it must be;
# without, there must be no trace of it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=$1
out=$BUILD/$variant
# Built in or a module, as this variant's config says: a tree copied from
# another variant may hold the other's objects too.
obj=$out/vmlinux
grep -q '^CONFIG_VFIO=m' "$out/.config" && obj=$out/drivers/vfio/vfio.ko
[ -f "$obj" ] || { echo "not ok $variant host debugfs_symbols # no ${obj#$out/}"; exit 0; }

found=$(nm "$obj" | grep -c -E ' (vfio_debugfs_|vfio_device_debugfs_|vfio_device_state_|vfio_mig_state_name|vfio_mig_history_)' || true)
if grep -q '^CONFIG_VFIO_DEBUGFS=y' "$out/.config"; then
	[ "$found" -ge 4 ] && r=ok || r="not ok"
	echo "$r $variant host debugfs_symbols_present # $found in ${obj#$out/}"
else
	[ "$found" = 0 ] && r=ok || r="not ok"
	echo "$r $variant host no_debugfs_symbols # $found in ${obj#$out/}"
fi
