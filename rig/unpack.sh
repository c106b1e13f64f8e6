#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unpack the base's Debian linux-source package into build/<base>/src as a
# git repo whose first commit, tagged "base", is the pristine tree.
#
# The base's packages (linux-source-<base>, linux-config-<base> with
# Debian's configs, for distro.sh, and Debian's built kernel with its
# headers, for the modules and baseline variants) are fetched from its suite at the one
# version rig/resolve.sh picks: the newest that every one of them has, or
# BASE_VERSION. They come through a private apt under build/<base>/apt and
# are unpacked with dpkg -x into build/<base>/pkg: nothing is installed on
# the host. build/<base>/version says which version the tree is; a later
# run reuses the tree while that is still the version to build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

apt=$BUILD/apt
packages="$BASE_PACKAGE linux-config-$BASE $BASE_KERNEL_PACKAGES"
mkdir -p "$BUILD"

apt_private "$apt"
for s in $BASE_SUITE; do
	apt_source "$s"
done >"$apt/sources.list"
if ! apt-get "${aptopts[@]}" update >"$BUILD/apt.log" 2>&1; then
	# Offline, a tree already unpacked is still what it was.
	if [ -z "${BASE_VERSION:-}" ] && [ -s "$BUILD/version" ] && [ -s "$BUILD/release" ] &&
	   git -C "$SRC" rev-parse -q --verify base >/dev/null 2>&1; then
		echo "rig: warning: apt-get update failed for $BASE_SUITE (${BUILD#$TOP/}/apt.log); using the tree unpacked before" >&2
		step "base $BASE_PACKAGE $(cat "$BUILD/version") (Linux $(base_version))"
		exit 0
	fi
	die "apt-get update failed for $BASE_SUITE, see ${BUILD#$TOP/}/apt.log"
fi
resolved=$("$RIG_DIR/resolve.sh" "$BASE_SUITE" "$apt/lists" $packages) || exit 1
version=$(echo "$resolved" | head -n 1)
names=$(echo "$resolved" | tail -n +2 | paste -sd' ')

if [ "$(cat "$BUILD/version" 2>/dev/null)" = "$version" ] && [ -s "$BUILD/release" ] &&
   git -C "$SRC" rev-parse -q --verify base >/dev/null 2>&1; then
	step "base $BASE_PACKAGE $version (Linux $(base_version))"
	exit 0
fi

# A tree with work in it is the developer's until it is in the repo.
if [ -d "$SRC/.git" ]; then
	if [ -n "$(src_changes)" ] ||
	   { [ -f "$BUILD/head" ] && [ "$(git -C "$SRC" rev-parse HEAD)" != "$(cat "$BUILD/head")" ]; }; then
		die "${SRC#$TOP/} ($(cat "$BUILD/version" 2>/dev/null)) has work not in the repo, and $BASE_SUITE now serves $version: 'make refresh' first, or keep the old one with BASE_VERSION=$(cat "$BUILD/version" 2>/dev/null)"
	fi
fi

step "fetch $names $version from $BASE_SUITE (log: ${BUILD#$TOP/}/apt.log)"
# From here the tree is not the version it was until the new one is in.
rm -f "$BUILD/version" "$BUILD/release"
rm -rf "$BUILD/pkg" "$apt/cache/archives"/*.deb
mkdir -p "$BUILD/pkg"
(cd "$apt/cache/archives" && apt-get "${aptopts[@]}" download $(printf "%s=$version " $names)) \
	>>"$BUILD/apt.log" 2>&1 || die "apt-get could not fetch $names at $version, see ${BUILD#$TOP/}/apt.log"
for deb in "$apt"/cache/archives/*.deb; do
	dpkg -x "$deb" "$BUILD/pkg"
done
rm -f "$apt"/cache/archives/*.deb
tarball=$BUILD/pkg/usr/src/$BASE_PACKAGE.tar.xz
[ -f "$tarball" ] || die "$BASE_PACKAGE $version has no ${tarball#$BUILD/pkg}"
# Debian's kernel release (6.12.118+deb12-amd64), which its modules are
# built for and installed under: its headers' folder names it.
release=$(cd "$BUILD/pkg/usr/src" && ls -d linux-headers-*-amd64 2>/dev/null | sed 's/^linux-headers-//') || true
[ "$(echo "$release" | wc -w)" = 1 ] || die "Debian's kernel $version in ${BUILD#$TOP/}/pkg has not one linux-headers-*-amd64 (${release:-none})"
debian_kernel "$release"

step "unpack $BASE_PACKAGE $version"
# The distro build and the old layout's bisect worktree belong to the
# old tree.
rm -rf "$SRC" "$BUILD/src.tmp" "$BUILD/version" "$BUILD/distro" "$BUILD/bisect"
mkdir -p "$BUILD/src.tmp"
# -m: every file newer than the objects built from the tree before, so
# that kbuild rebuilds them all (ccache keeps what did not change cheap).
tar -xmJf "$tarball" -C "$BUILD/src.tmp"
mv "$BUILD/src.tmp/$BASE_PACKAGE" "$SRC"
rmdir "$BUILD/src.tmp"
rm -f "$tarball"

step "record base tree in git"
cd "$SRC"
git init -q
git config user.name rig
git config user.email rig@localhost
git config gc.auto 0
git add -A -f
GIT_AUTHOR_DATE=$SERIES_DATE GIT_COMMITTER_DATE=$SERIES_DATE \
	git commit -q -m "base: Debian $BASE_PACKAGE $version ($(base_version))"
git tag base
echo "$version" >"$BUILD/version"
echo "$release" >"$BUILD/release"
step "base $BASE_PACKAGE $version (Linux $(base_version))"
