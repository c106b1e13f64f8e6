#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# resolve.sh SUITE LISTS PACKAGE... : the one version that every PACKAGE
# of a base is fetched at. LISTS is a folder of apt's Packages indexes
# (apt-get update's lists/, or files a test wrote); SUITE only names where
# they came from in messages. A PACKAGE may hold "ABI" where Debian puts
# the kernel's release in the name (linux-image-ABI-amd64 is
# linux-image-6.1.0-57-amd64 or linux-image-6.12.118+deb12-amd64).
# Prints the newest version of the first PACKAGE (linux-source-<base>)
# that each other PACKAGE also has, exactly, then each PACKAGE's name at
# that version, one per line; with BASE_VERSION set, that version, if
# every PACKAGE has it. Otherwise one line on stderr naming the suite,
# each package and the versions it has, and exit 1. Debian replaces point
# releases, so nothing is pinned in the repo: what the suite serves today
# is what the rig builds.
set -euo pipefail

suite=$1 lists=$2
shift 2

# "PACKAGE version name" for every PACKAGE in every index.
versions()
{
	local f

	for f in "$lists"/*Packages; do
		[ -f "$f" ] || continue
		awk -v want="$*" '
			BEGIN {
				n = split(want, w, " ")
				for (i = 1; i <= n; i++) {
					re[i] = w[i]
					gsub(/[.+]/, "[&]", re[i])
					sub(/ABI/, "[0-9]+[.][0-9]+[.][0-9]+([+][a-z0-9]+)?(-[0-9]+)?", re[i])
					re[i] = "^" re[i] "$"
				}
			}
			/^Package: / { p = $2 }
			/^Version: / && p != "" {
				for (i = 1; i <= n; i++)
					if (p ~ re[i])
						print w[i], $2, p
			}
			/^$/ { p = "" }' "$f"
	done | sort -u
}

# Sort versions, one per line, newest first, in dpkg's order (not sort
# -V's, which puts 1.0+1-1 before 1.0-1).
debian_sort()
{
	local -a lines
	local i j tmp

	mapfile -t lines
	for ((i = 1; i < ${#lines[@]}; i++)); do
		tmp=${lines[$i]}
		for ((j = i - 1; j >= 0; j--)); do
			dpkg --compare-versions "$tmp" gt "${lines[$j]}" || break
			lines[$((j + 1))]=${lines[$j]}
		done
		lines[$((j + 1))]=$tmp
	done
	[ ${#lines[@]} = 0 ] || printf '%s\n' "${lines[@]}"
}

ls "$lists"/*Packages >/dev/null 2>&1 ||
	{ echo "rig: error: no Packages index of $suite in $lists" >&2; exit 1; }
all=$(versions "$@")
first=$1

# The versions PACKAGE $1 has, newest first, on one line.
has()
{
	echo "$all" | awk -v p="$1" '$1 == p { print $2 }' | sort -u | debian_sort | paste -sd' '
}

# The name PACKAGE $1 has at version $2, if it has that version.
name_at()
{
	echo "$all" | awk -v p="$1" -v v="$2" '$1 == p && $2 == v { print $3; exit }'
}

# "; package versions..." for each package, for the error line.
available()
{
	local p list

	for p in "$@"; do
		list=$(has "$p")
		printf '; %s %s' "$p" "${list:-(none)}"
	done
}

for v in $(has "$first"); do
	[ -z "${BASE_VERSION:-}" ] || [ "$v" = "$BASE_VERSION" ] || continue
	names=()
	for p in "$@"; do
		names+=("$(name_at "$p" "$v")")
		[ -n "${names[-1]}" ] || continue 2
	done
	echo "$v"
	printf '%s\n' "${names[@]}"
	exit 0
done

if [ -z "$(has "$first")" ]; then
	echo "rig: error: $suite no longer serves $first$(available "$@"); README says how to move or retire a base" >&2
elif [ -n "${BASE_VERSION:-}" ]; then
	echo "rig: error: $suite has no BASE_VERSION=$BASE_VERSION of every package$(available "$@")" >&2
else
	echo "rig: error: $suite has no version that every package has$(available "$@")" >&2
fi
exit 1
