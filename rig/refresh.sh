#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write build/<base>/src back to the repo: each commit on top of "base"
# becomes the patch of the same position in patches/<base>/series, its
# message the patch's header, its upstream files a diff, the files it adds
# copied whole into the repo (without the base's own changes to them, see
# added_text). Edits not yet committed in build/src go to the last patch that
# touches the file, or, for a file no patch touches yet, to PATCH=name.patch.
# So a patch's message is edited with git commit --amend or rebase in
# build/src, its code by editing the file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$SRC"
mapfile -t patches < <(series_patches)
mapfile -t commits < <(git rev-list --reverse base..HEAD)
[ "${#commits[@]}" = "${#patches[@]}" ] ||
	die "${SRC#$TOP/} has ${#commits[@]} commits on base, patches/$BASE/series names ${#patches[@]} patches"

index_of()
{
	local i

	for i in "${!patches[@]}"; do
		[ "${patches[$i]}" = "$1" ] && echo "$i" && return
	done
	die "PATCH=$1 is not in patches/$BASE/series"
}

# After make tree left files out of a patch that no longer applied
# (build/<base>/rejects/), each of them must have been redone here:
# otherwise the refreshed patch would quietly lose its change to them.
if [ -s "$BUILD/rejects/list" ] && [ "${FORCE:-0}" != 1 ]; then
	while read -r p files; do
		for f in $files; do
			src_changes | grep -qxF "$f" ||
				die "$f is not edited yet: redo patches/$BASE/$p's change to it (${BUILD#$TOP/}/rejects/$p), or FORCE=1 to drop it"
		done
	done <"$BUILD/rejects/list"
fi

# Which patch each uncommitted edit belongs to.
declare -A owner
for f in $(src_changes); do
	last=$(git log -1 --format=%H base..HEAD -- "$f")
	if [ -n "${PATCH:-}" ]; then
		i=$(index_of "$PATCH")
	elif [ -n "$last" ]; then
		for i in "${!commits[@]}"; do
			[ "${commits[$i]}" = "$last" ] && break
		done
	else
		die "$f is in no patch: run 'make refresh PATCH=<name>.patch' to add it to one"
	fi
	if [ -n "$last" ] && [ "$last" != "${commits[$i]}" ] &&
	   git merge-base --is-ancestor "${commits[$i]}" "$last"; then
		die "$f is changed again by a later patch than ${patches[$i]}; commit the edit in build/src and rebase instead"
	fi
	owner[$f]=$i
done

for i in "${!commits[@]}"; do
	c=${commits[$i]}
	p=${patches[$i]}
	committed=$(git diff --name-only "$c^" "$c")
	edited=$(for f in "${!owner[@]}"; do
		if [ "${owner[$f]}" = "$i" ]; then echo "$f"; fi
	done)
	files=$(printf '%s\n%s\n' "$committed" "$edited" | sed '/^$/d' | sort -u)
	added=""
	as_committed=""
	as_edited=""
	for f in $files; do
		if ! git cat-file -e "$c^:$f" 2>/dev/null; then
			added="$added $f"
		elif echo "$edited" | grep -qxF "$f"; then
			as_edited="$as_edited $f"
		else
			as_committed="$as_committed $f"
		fi
	done
	{
		git log -1 --format='Subject: [PATCH] %s%n%n%b' "$c" | sed '$ {/^$/d}'
		echo "---"
		for f in $added; do
			if [ -x "$f" ]; then mode=100755; else mode=100644; fi
			echo " create mode $mode $f"
		done
		[ -z "$as_committed" ] || git diff "$c^" "$c" -- $as_committed
		[ -z "$as_edited" ] || git diff "$c^" -- $as_edited
	} >"$PATCHES/$p.new"
	mv "$PATCHES/$p.new" "$PATCHES/$p"
	for f in $added; do
		mkdir -p "$TOP/$(dirname "$f")"
		if [ -f "$PATCHES/$f.diff" ]; then
			# The repo keeps mainline's form: take the base's off,
			# exactly, and only if putting it back gives the file.
			new=$(mktemp)
			if ! patch -s -R -N -F0 -r - -o "$new" "$f" "$PATCHES/$f.diff" >&2 ||
			   ! patch -s -N -F0 -r - -o - "$new" "$PATCHES/$f.diff" 2>/dev/null | cmp -s - "$f"; then
				rm -f "$new"
				die "patches/$BASE/$f.diff no longer comes off $f: edit the repo's $f and the diff by hand"
			fi
			chmod --reference="$f" "$new"
			mv "$new" "$TOP/$f"
		else
			cp -p "$f" "$TOP/$f"
		fi
	done
	echo "refresh: patches/$BASE/$p"
done

# The repo now holds the work tree's state; rebuild the commits from it.
head=$(series_build)
src_sync "$head"
echo "$head" >"$BUILD/head"
rm -rf "$BUILD/rejects"
