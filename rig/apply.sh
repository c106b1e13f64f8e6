#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make build/src the base tree plus our series: the patches in patches/series
# applied in order, then the files we add whole copied over. Only files whose
# content changes are written, so an unchanged series rebuilds in seconds.
# The result is committed on top of "base", so build/src is a git repo a
# developer can edit (see refresh.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$RIG_DIR/unpack.sh"
step "base: Debian linux-source-6.1 $(base_version)"

cd "$SRC"
if [ -n "$(src_changes)" ]; then
	src_changes | head -n 20 >&2
	die "build/src has edits that are not in the repo: 'make refresh' keeps them, 'make tree-reset' drops them"
fi

stage=$BUILD/stage
rm -rf "$stage"
mkdir -p "$stage"

# Upstream-owned files as they are in the base, then the patches on them.
for f in $(patched_files); do
	mkdir -p "$stage/$(dirname "$f")"
	git show "base:$f" >"$stage/$f" 2>/dev/null || rm -f "$stage/$f"
done
for p in $(series_patches); do
	[ -f "$TOP/patches/$p" ] || die "patches/series names $p, which does not exist"
	if ! out=$(patch -p1 -d "$stage" -f -s --no-backup-if-mismatch <"$TOP/patches/$p" 2>&1); then
		echo "$out" >&2
		failed=$(echo "$out" | sed -n 's/.*FAILED.*-- saving rejects to file \(.*\)\.rej/\1/p; s/^can.t find file to patch.*/(missing file)/p' | sort -u | tr '\n' ' ')
		die "patch patches/$p does not apply to the base: ${failed:-see above}"
	fi
done
find "$stage" -name '*.orig' -delete

# Files the series adds whole.
for f in $(overlay_files); do
	mkdir -p "$stage/$(dirname "$f")"
	cp "$TOP/$f" "$stage/$f"
done

# Write what changed; put back what the series no longer touches.
wanted=$(cd "$stage" && find . -type f | sed 's|^\./||' | sort)
for f in $wanted; do
	if ! cmp -s "$stage/$f" "$SRC/$f"; then
		mkdir -p "$(dirname "$SRC/$f")"
		cp "$stage/$f" "$SRC/$f"
	fi
done
for f in $(git diff --name-only base HEAD); do
	echo "$wanted" | grep -qxF "$f" && continue
	if git cat-file -e "base:$f" 2>/dev/null; then
		git checkout -q base -- "$f"
	else
		rm -f "$f"
	fi
done

src_commit
step "applied $(series_patches | wc -l) patches and $(overlay_files | wc -l) files"
