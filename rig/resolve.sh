#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# resolve.sh SUITE LISTS PACKAGE... : the one version that every PACKAGE
# of a base is fetched at. LISTS is a folder of apt's Packages indexes
# (apt-get update's lists/, or files a test wrote); SUITE only names where
# they came from in messages. Prints the newest version of the first
# PACKAGE (linux-source-<base>) that each other PACKAGE also has, exactly;
# with BASE_VERSION set, that version, if every PACKAGE has it. Otherwise
# one line on stderr naming the suite, each package and the versions it
# has, and exit 1. Debian replaces point releases, so nothing is pinned
# in the repo: what the suite serves today is what the rig builds.
set -euo pipefail

suite=$1 lists=$2
shift 2
want=" $* "

# "package version" for every PACKAGE in every index, newest first.
versions()
{
	local f

	for f in "$lists"/*Packages; do
		[ -f "$f" ] || continue
		awk -v want="$want" '
			/^Package: / { p = $2 }
			/^Version: / && index(want, " " p " ") { print p, $2 }
			/^$/ { p = "" }' "$f"
	done | sort -u | debian_sort
}

# Sort "package version" lines by version, newest first, in dpkg's order
# (not sort -V's, which puts 1.0+1-1 before 1.0-1).
debian_sort()
{
	local -a lines
	local i j tmp

	mapfile -t lines
	for ((i = 1; i < ${#lines[@]}; i++)); do
		tmp=${lines[$i]}
		for ((j = i - 1; j >= 0; j--)); do
			dpkg --compare-versions "${tmp#* }" gt "${lines[$j]#* }" || break
			lines[$((j + 1))]=${lines[$j]}
		done
		lines[$((j + 1))]=$tmp
	done
	[ ${#lines[@]} = 0 ] || printf '%s\n' "${lines[@]}"
}

ls "$lists"/*Packages >/dev/null 2>&1 ||
	{ echo "rig: error: no Packages index of $suite in $lists" >&2; exit 1; }
all=$(versions)
first=$1

# The versions package $1 has, newest first, on one line.
has()
{
	echo "$all" | awk -v p="$1" '$1 == p { printf "%s%s", sep, $2; sep = " " }'
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
	complete=1
	for p in "$@"; do
		echo "$all" | grep -qxF "$p $v" || complete=0
	done
	if [ "$complete" = 1 ]; then
		echo "$v"
		exit 0
	fi
done

if [ -z "$(has "$first")" ]; then
	echo "rig: error: $suite no longer serves $first$(available "$@"); README says how to move or retire a base" >&2
elif [ -n "${BASE_VERSION:-}" ]; then
	echo "rig: error: $suite has no BASE_VERSION=$BASE_VERSION of every package$(available "$@")" >&2
else
	echo "rig: error: $suite has no version that every package has$(available "$@")" >&2
fi
exit 1
