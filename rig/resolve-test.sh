#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# resolve-test.sh: rig/resolve.sh on apt lists written here, with this
# base's package names, one "ok|not ok host resolve_CASE" line each:
# the newest version is picked, in dpkg's order; every package must have
# it exactly; BASE_VERSION is honoured; Debian's kernel packages are found
# by their ABI name, and no other flavour's; a version or a base that is
# gone gives one line that names the suite, the packages and their
# versions.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

src=$BASE_PACKAGE cfg=linux-config-$BASE
# The cases but one ask for these two alone.
more=""
failed=0
lists=$(mktemp -d)
trap 'rm -rf "$lists"' EXIT

# lists PACKAGE=VERSION...: one Packages index holding those stanzas.
lists()
{
	local pv

	rm -f "$lists"/*
	for pv in "$@"; do
		printf 'Package: %s\nVersion: %s\nArchitecture: all\n\n' "${pv%%=*}" "${pv#*=}"
	done >"$lists/test_Packages"
}

# expect CASE STATUS OUTPUT [BASE_VERSION]: resolve.sh's exit status and
# its one line (stdout and stderr together) are exactly those.
expect()
{
	local name=$1 status=$2 want=$3 got rc

	got=$(BASE_VERSION=${4:-} "$RIG_DIR/resolve.sh" test-suite "$lists" "$src" "$cfg" $more 2>&1 | paste -sd' ')
	rc=$?
	if [ "$rc" = "$status" ] && [ "$got" = "$want" ]; then
		echo "ok host resolve_$name"
	else
		echo "not ok host resolve_$name"
		failed=1
		echo "#   want exit $status: $want"
		echo "#   got exit $rc: $got"
	fi
}

# 10 is newer than 9, a backport (~bpo) older than its release, and a
# +1 newer than its release (where sort -V disagrees).
lists $src=1.9-1 $cfg=1.9-1 $src=1.10-1 $cfg=1.10-1 $src=1.10-1~bpo1 $cfg=1.10-1~bpo1
expect newest_in_dpkg_order 0 "1.10-1 $src $cfg"
lists $src=1.10+1-1 $cfg=1.10+1-1 $src=1.10-1 $cfg=1.10-1 $src=1.9-1 $cfg=1.9-1
expect newest_in_dpkg_order_plus 0 "1.10+1-1 $src $cfg"

# The newest source without its config (6.12.118 before its config was).
lists $src=1.9-1 $cfg=1.9-1 $src=1.10-1
expect exact_match_required 0 "1.9-1 $src $cfg"

lists $src=1.9-1 $cfg=1.9-1 $src=1.10-1 $cfg=1.10-1
expect pin_honoured 0 "1.9-1 $src $cfg" 1.9-1

# Debian's image as 6.1 names it (by ABI number) and as the others do
# (by version): the amd64 flavour's, not cloud's, rt's nor the debug
# symbols', not the metapackage that names no release (linux-image-1.9-amd64),
# and at the version of the source, not a newer image's.
more="linux-image-ABI-amd64 linux-headers-ABI-common"
lists $src=1.9-1 $cfg=1.9-1 linux-image-1.9.0-3-cloud-amd64=1.9-1 \
	linux-image-1.9.0-3-amd64-dbg=1.9-1 linux-image-1.9.0-3-amd64=1.9-1 \
	linux-headers-1.9.0-3-common=1.9-1 linux-image-1.9.0-4-amd64=1.10-1
expect abi_name_picked 0 "1.9-1 $src $cfg linux-image-1.9.0-3-amd64 linux-headers-1.9.0-3-common"
lists $src=1.9-1 $cfg=1.9-1 linux-image-1.9-amd64=1.9-1 linux-image-1.9.2+deb12-amd64=1.9-1 \
	linux-image-1.9.2+deb12-rt-amd64=1.9-1 linux-headers-1.9.2+deb12-common=1.9-1
expect abi_name_picked_by_version 0 "1.9-1 $src $cfg linux-image-1.9.2+deb12-amd64 linux-headers-1.9.2+deb12-common"
lists $src=1.9-1 $cfg=1.9-1 linux-image-1.9.0-3-cloud-amd64=1.9-1 linux-headers-1.9.0-3-common=1.9-1
expect abi_no_image_one_line 1 "rig: error: test-suite has no version that every package has; $src 1.9-1; $cfg 1.9-1; linux-image-ABI-amd64 (none); linux-headers-ABI-common 1.9-1"
more=""

lists $src=1.9-1 $cfg=1.9-1 $src=1.10-1 $cfg=1.10-1
expect pin_gone_one_line 1 "rig: error: test-suite has no BASE_VERSION=1.8-1 of every package; $src 1.10-1 1.9-1; $cfg 1.10-1 1.9-1" 1.8-1

lists $src=1.10-1 $cfg=1.9-1
expect no_common_version_one_line 1 "rig: error: test-suite has no version that every package has; $src 1.10-1; $cfg 1.9-1"

# The suite moved on to the next base.
lists $cfg=1.9-1
expect base_gone_one_line 1 "rig: error: test-suite no longer serves $src; $src (none); $cfg 1.9-1; README says how to move or retire a base"

exit $failed
