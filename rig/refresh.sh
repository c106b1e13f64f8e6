#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Carry edits made in build/src back to the repo: files the series adds whole
# are copied back; each edited upstream file regenerates the one patch in
# patches/ that owns it (its header is kept, its diff is rewritten against
# base). An upstream file no patch owns yet goes into PATCH=name.patch.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$SRC"
changed=$(src_changes)
[ -n "$changed" ] || { echo "refresh: build/src has no edits"; exit 0; }

ours=$(overlay_files)
touched_patches=""
for f in $changed; do
	if echo "$ours" | grep -qxF "$f" || ! git cat-file -e "base:$f" 2>/dev/null; then
		mkdir -p "$(dirname "$TOP/$f")"
		cp "$f" "$TOP/$f"
		echo "refresh: $f"
		continue
	fi
	owners=$(for p in $(series_patches); do
		if grep -qxF "+++ b/$f" "$TOP/patches/$p"; then echo "$p"; fi
	done)
	if [ -z "$owners" ]; then
		[ -n "${PATCH:-}" ] || die "$f is in no patch: run 'make refresh PATCH=<name>.patch' to add it to one"
		owners=$PATCH
		printf '+++ b/%s\n' "$f" >>"$TOP/patches/$owners.files"
	fi
	[ "$(echo "$owners" | wc -l)" = 1 ] || die "$f is in more than one patch ($(echo $owners)); edit those by hand"
	touched_patches="$touched_patches $owners"
done

for p in $(echo "$touched_patches" | tr ' ' '\n' | sort -u); do
	touch "$TOP/patches/$p" "$TOP/patches/$p.files"
	files=$(cat "$TOP/patches/$p" "$TOP/patches/$p.files" | sed -n 's|^+++ b/||p' | sort -u)
	header=$(sed -n '/^diff --git /q; /^--- a\//q; p' "$TOP/patches/$p")
	{
		[ -n "$header" ] && printf '%s\n' "$header"
		git diff base -- $files
	} >"$TOP/patches/$p.new"
	mv "$TOP/patches/$p.new" "$TOP/patches/$p"
	rm -f "$TOP/patches/$p.files"
	grep -qxF "$p" "$TOP/patches/series" || echo "$p" >>"$TOP/patches/series"
	echo "refresh: patches/$p"
done

src_commit
