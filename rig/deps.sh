#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the rig needs. As root, apt-get installs what
# is missing (after 'apt-get update' when a package is not found); otherwise
# say the exact command to run. python3-ply and python3-git are for
# scripts/spdxcheck.py, without which checkpatch passes any SPDX tag.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

packages="build-essential debian-archive-keyring bc flex bison
	  libelf-dev libssl-dev cpio kmod qemu-system-x86 busybox-static ccache
	  git xz-utils sparse python3-ply python3-git uuid-dev dwarves rsync"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

[ "$(id -u)" = 0 ] || die "missing packages; run: sudo apt-get install$missing"
step "install Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq $missing >/dev/null 2>&1; then
	apt-get update -qq
	apt-get install -y -qq $missing >/dev/null || die "apt-get install$missing failed"
fi
