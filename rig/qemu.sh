#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# qemu.sh: QEMU 10 for the test guests, which run it as the real VFIO
# migration client. Debian 12's own QEMU 7.2 cannot drive VFIO migration
# v2; bookworm-backports builds QEMU 10 for Debian 12. The packages are
# fetched by name with a private apt configuration (its own lists and
# cache under build/qemu/apt; the host's dpkg status only tells apt what
# need not be fetched) and unpacked with dpkg -x: nothing is installed on
# the host, whose QEMU 7.2 still runs the guests.
#
# Writes build/qemu/initramfs.list: gen_init_cpio lines that put
# qemu-system-x86_64, the libraries it links (ldd, from the unpacked
# packages first, then the host's) and the dynamic loader where the binary
# looks for them, and the one ROM a q35 machine loads besides its firmware
# (kvmvapic.bin). Guests run QEMU with a firmware of their own (see
# qemu_util.c), so SeaBIOS is not packed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/qemu
apt=$out/apt
root=$out/root
list=$out/initramfs.list
package=qemu-system-x86
suite=bookworm-backports
bin=/usr/bin/qemu-system-x86_64

[ -s "$list" ] && [ "$list" -nt "$0" ] && exit 0

mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=http://deb.debian.org/debian
cat >"$apt/sources.list" <<EOF
deb [signed-by=$keyring] $mirror bookworm main
deb [signed-by=$keyring] $mirror $suite main
EOF
aptopts=(-o Dir::Etc::SourceList="$apt/sources.list"
	 -o Dir::Etc::SourceParts=/nonexistent
	 -o Dir::State::Lists="$apt/lists"
	 -o Dir::Cache="$apt/cache"
	 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	 -o Debug::NoLocking=1)

step "fetch QEMU 10 ($package from $suite, log: build/qemu/apt.log)"
{
	apt-get "${aptopts[@]}" update &&
	apt-get "${aptopts[@]}" install --download-only -y \
		--no-install-recommends -t "$suite" "$package"
} >"$out/apt.log" 2>&1 || die "apt-get could not fetch $package, see build/qemu/apt.log"

rm -rf "$root"
mkdir -p "$root"
for deb in "$apt"/cache/archives/*.deb; do
	dpkg -x "$deb" "$root"
done
[ -x "$root$bin" ] || die "$package has no $bin"

libpath=$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu
version=$(LD_LIBRARY_PATH=$libpath "$root$bin" --version | head -n 1)
case "$version" in
"QEMU emulator version 10."*) ;;
*) die "$package from $suite is \"$version\", not QEMU 10" ;;
esac

# Each library goes to /lib/x86_64-linux-gnu, a directory the loader
# searches without ld.so.cache; the loader to the path the binary names.
{
	echo "dir /usr 0755 0 0"
	echo "dir /usr/bin 0755 0 0"
	echo "dir /lib/x86_64-linux-gnu 0755 0 0"
	echo "dir /lib64 0755 0 0"
	echo "file $bin $root$bin 0755 0 0"
	echo "dir /usr/share 0755 0 0"
	echo "dir /usr/share/qemu 0755 0 0"
	echo "file /usr/share/qemu/kvmvapic.bin $root/usr/share/qemu/kvmvapic.bin 0644 0 0"
	LD_LIBRARY_PATH=$libpath ldd "$root$bin" | awk '
		$2 == "=>" && $3 ~ /^\// { print $1, $3 }
		$1 ~ /^\/lib64\/ld-linux/ { print "LOADER", $1 }' |
	while read -r name path; do
		if [ "$name" = LOADER ]; then
			echo "file $path $(readlink -f "$path") 0755 0 0"
		else
			echo "file /lib/x86_64-linux-gnu/$name $(readlink -f "$path") 0755 0 0"
		fi
	done
} >"$list.tmp"
grep -q '^file /lib64/ld-linux' "$list.tmp" || die "ldd named no loader for $bin"
mv "$list.tmp" "$list"
step "QEMU for the guests: ${version#QEMU emulator version }, $(grep -c '^file /lib/' "$list") libraries"
