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

mkdir -p "$out"
make -s -C "$SRC" O="$out" tinyconfig >/dev/null
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $frags >"$out/merge_config.log"
make -s -C "$SRC" O="$out" olddefconfig >/dev/null

# The last fragment to name an option has the final say.
requested=$(cat $frags | sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)/\1=\2/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set/\1=n/p' |
	    awk -F= '{want[$1] = $0} END {for (k in want) print want[k]}' | sort)
for want in $requested; do
	opt=${want%%=*}
	val=${want#*=}
	got=$(sed -n "s/^$opt=\(.*\)/\1/p" "$out/.config")
	[ -n "$got" ] || got=n
	[ "$got" = "$val" ] || die "$variant: a fragment asks for $opt=$val but Kconfig set $opt=$got (check its dependencies)"
done
step "configured $variant: $(echo "$requested" | wc -l) options checked"
