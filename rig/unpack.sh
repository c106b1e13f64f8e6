#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unpack the base's Debian linux-source package into build/<base>/src as a
# git repo whose first commit, tagged "base", is the pristine tree. Done
# once; later runs reuse it.
#
# 6.1 is Debian 12's own, installed by deps.sh. The others are fetched by
# name and version from their suite, with the base's linux-config package
# (Debian's kernel configs, for distro.sh), through a private apt
# configuration under build/<base>/apt, and unpacked with dpkg -x into
# build/<base>/pkg: nothing is installed on the host.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if git -C "$SRC" rev-parse -q --verify base >/dev/null 2>&1; then
	exit 0
fi

# Fetch $@ (name=version) from $BASE_SUITE into build/<base>/pkg.
fetch()
{
	local apt=$BUILD/apt keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	local mirror=http://deb.debian.org/debian aptopts deb

	rm -rf "$apt" "$BUILD/pkg"
	mkdir -p "$apt/lists/partial" "$apt/debs" "$BUILD/pkg"
	: >"$apt/status"
	case "$BASE_SUITE" in
	*-security) echo "deb [signed-by=$keyring] http://security.debian.org/debian-security $BASE_SUITE main" ;;
	*) echo "deb [signed-by=$keyring] $mirror $BASE_SUITE main" ;;
	esac >"$apt/sources.list"
	aptopts=(-o Dir::Etc::SourceList="$apt/sources.list"
		 -o Dir::Etc::SourceParts=/nonexistent
		 -o Dir::Etc::Preferences=/nonexistent
		 -o Dir::Etc::PreferencesParts=/nonexistent
		 -o Dir::State::Lists="$apt/lists"
		 -o Dir::State::status="$apt/status"
		 -o Dir::Cache="$apt"
		 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
		 -o Debug::NoLocking=1)
	step "fetch $* from $BASE_SUITE (log: ${BUILD#$TOP/}/apt.log)"
	{
		apt-get "${aptopts[@]}" update &&
		(cd "$apt/debs" && apt-get "${aptopts[@]}" download "$@")
	} >"$BUILD/apt.log" 2>&1 || die "apt-get could not fetch $*, see ${BUILD#$TOP/}/apt.log"
	for deb in "$apt"/debs/*.deb; do
		dpkg -x "$deb" "$BUILD/pkg"
	done
	rm -f "$apt"/debs/*.deb
}

if [ -n "$BASE_SUITE" ]; then
	fetch "$BASE_PACKAGE=$BASE_PACKAGE_VERSION" \
	      "linux-config-$BASE=$BASE_PACKAGE_VERSION"
	tarball=$BUILD/pkg/usr/src/$BASE_PACKAGE.tar.xz
else
	tarball=/usr/src/$BASE_PACKAGE.tar.xz
fi
[ -f "$tarball" ] || die "$tarball missing: apt-get install $BASE_PACKAGE"

step "unpack $tarball"
rm -rf "$SRC" "$BUILD/src.tmp"
mkdir -p "$BUILD/src.tmp"
tar -xJf "$tarball" -C "$BUILD/src.tmp"
mv "$BUILD/src.tmp/$BASE_PACKAGE" "$SRC"
rmdir "$BUILD/src.tmp"
# Of a fetched linux-source, only the unpacked tree is kept.
[ -z "$BASE_SUITE" ] || rm -f "$tarball"

step "record base tree in git"
cd "$SRC"
git init -q
git config user.name rig
git config user.email rig@localhost
git config gc.auto 0
git add -A -f
GIT_AUTHOR_DATE=$SERIES_DATE GIT_COMMITTER_DATE=$SERIES_DATE \
	git commit -q -m "base: Debian $BASE_PACKAGE $(base_version)"
git tag base
