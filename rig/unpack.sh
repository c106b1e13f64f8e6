#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unpack Debian's linux-source-6.1 into build/src as a git repo whose first
# commit, tagged "base", is the pristine tree. Done once; later runs reuse it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if git -C "$SRC" rev-parse -q --verify base >/dev/null 2>&1; then
	exit 0
fi
[ -f "$BASE_TARBALL" ] || die "$BASE_TARBALL missing: apt-get install linux-source-6.1"

step "unpack $BASE_TARBALL"
rm -rf "$SRC" "$BUILD/src.tmp"
mkdir -p "$BUILD/src.tmp"
tar -xJf "$BASE_TARBALL" -C "$BUILD/src.tmp"
mv "$BUILD/src.tmp/linux-source-6.1" "$SRC"
rmdir "$BUILD/src.tmp"

step "record base tree in git"
cd "$SRC"
git init -q
git config user.name rig
git config user.email rig@localhost
git config gc.auto 0
git add -A -f
GIT_AUTHOR_DATE=$SERIES_DATE GIT_COMMITTER_DATE=$SERIES_DATE \
	git commit -q -m "base: Debian linux-source-6.1 $(base_version)"
git tag base
