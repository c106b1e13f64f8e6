#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# qemu.sh: QEMU 10 for the test guests, which run it as the real VFIO
# migration client. Debian 12's own QEMU 7.2 cannot drive VFIO migration
# v2; bookworm-backports builds QEMU 10 for Debian 12. The packages are
# fetched by name, with all they depend on, through a private apt
# configuration (its own lists, cache and an empty dpkg status under
# build/qemu/apt, so that the closure is Debian 12's whatever the host
# has), and unpacked with dpkg -x into build/qemu/root: nothing is
# installed on the host, whose QEMU 7.2 still runs the guests.
#
# Writes build/qemu/initramfs.list: gen_init_cpio lines that put
# qemu-system-x86_64, the libraries it links (as the unpacked loader finds
# them in the unpacked tree) and that loader where the binary looks for
# them, and the one ROM a q35 machine loads besides its firmware
# (kvmvapic.bin). Guests run QEMU with a firmware of their own (see
# qemu_util.c), so SeaBIOS is not packed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$QEMU_DIR
apt=$out/apt
root=$out/root
list=$out/initramfs.list
package=qemu-system-x86
suite=bookworm-backports
bin=/usr/bin/qemu-system-x86_64

# Fetched already, by this script, and every file still there.
if [ -s "$list" ] && [ "$list" -nt "$0" ] &&
   awk '$1 == "file" { print $3 }' "$list" | xargs -r ls >/dev/null 2>&1; then
	exit 0
fi
# A fetch that fails below must not leave a list of files it removed.
rm -f "$list"

apt_private "$apt"
{
	apt_source bookworm
	apt_source "$suite"
} >"$apt/sources.list"

step "fetch QEMU 10 ($package from $suite, log: build/qemu/apt.log)"
{
	apt-get "${aptopts[@]}" update &&
	apt-get "${aptopts[@]}" clean &&
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
loader=$root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
[ -f "$loader" ] || die "the unpacked libc6 has no $loader"
version=$("$loader" --library-path "$libpath" "$root$bin" --version | head -n 1)
case "$version" in
"QEMU emulator version 10."*) ;;
*) die "$package from $suite is \"$version\", not QEMU 10" ;;
esac

# The libraries the unpacked loader finds for the binary, each inside the
# unpacked tree, as "name path" lines.
closure()
{
	"$loader" --library-path "$libpath" --list "$root$bin" |
	awk '$2 == "=>" { print $1, ($3 == "not" ? "NOT-FOUND" : $3) }' |
	while read -r name path; do
		[ "$path" = NOT-FOUND ] && die "the unpacked packages lack $name"
		path=$(readlink -f "$path")
		case "$path" in
		"$root"/*) echo "$name $path" ;;
		*) die "$name is not in the unpacked packages: $path" ;;
		esac
	done
}

# Each library goes to /lib/x86_64-linux-gnu, a directory the loader
# searches without ld.so.cache; the loader to the path the binary names.
libs=$(closure)
{
	echo "dir /usr 0755 0 0"
	echo "dir /usr/bin 0755 0 0"
	echo "dir /usr/share 0755 0 0"
	echo "dir /usr/share/qemu 0755 0 0"
	echo "dir /lib/x86_64-linux-gnu 0755 0 0"
	echo "dir /lib64 0755 0 0"
	echo "file $bin $root$bin 0755 0 0"
	echo "file /usr/share/qemu/kvmvapic.bin $root/usr/share/qemu/kvmvapic.bin 0644 0 0"
	echo "file /lib64/ld-linux-x86-64.so.2 $(readlink -f "$loader") 0755 0 0"
	echo "$libs" | while read -r name path; do
		echo "file /lib/x86_64-linux-gnu/$name $path 0755 0 0"
	done
} >"$list.tmp"
mv "$list.tmp" "$list"
step "QEMU for the guests: ${version#QEMU emulator version }, $(echo "$libs" | wc -l) libraries"
