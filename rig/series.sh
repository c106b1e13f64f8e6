#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# series.sh: write out/series/<base>/, the base's series as mail, from the
# commits that apply.sh makes of patches/<base>/ and the files beside them
# (the tree that make check tests): a cover letter from
# patches/<base>/cover-letter, one
# numbered patch per commit, and a quilt series file. The author is git's
# user.name and user.email; SIGNOFF=1 adds their Signed-off-by.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$TOP/out/series/$BASE
"$RIG_DIR/apply.sh"
rm -rf "$out"
# Signed-off-by is the author's own statement (the DCO): added only when
# they ask for it with SIGNOFF=1.
signoff=()
[ "${SIGNOFF:-0}" = 1 ] && signoff=(--signoff)
author=$(git -C "$SRC" log -1 --format='%an <%ae>' HEAD)
GIT_COMMITTER_NAME=${author% <*} GIT_COMMITTER_EMAIL=$(echo "$author" | sed 's/.*<\(.*\)>/\1/') \
GIT_COMMITTER_DATE=$SERIES_DATE \
	git -C "$SRC" format-patch -q --cover-letter --no-thread "${signoff[@]}" \
	-O"$RIG_DIR/orderfile" -o "$out" base..HEAD

# The cover letter: our subject and text, and the base it was tested on.
cover=$(ls "$out"/0000-*.patch)
debian="$(cat "$BUILD/version") from $BASE_SUITE"
{
	sed -n '1p' "$PATCHES/cover-letter"
	echo "---"
	sed '1,2d' "$PATCHES/cover-letter"
	echo
	echo "Based on Linux $(base_version) as Debian ships it ($BASE_PACKAGE $debian)."
} >"$out/cover.txt"
awk -v text="$out/cover.txt" '
/\*\*\* SUBJECT HERE \*\*\*/ {
	getline subject <text
	sub(/\*\*\* SUBJECT HERE \*\*\*/, subject)
}
/^\*\*\* BLURB HERE \*\*\*$/ {
	getline sep <text
	while ((getline line <text) > 0)
		print line
	next
}
{ print }
' "$cover" >"$cover.new"
mv "$cover.new" "$cover"
rm "$out/cover.txt"

# For quilt: the patches in order, without the cover letter.
(cd "$out" && ls 0*.patch | grep -v '^0000-' >series)
step "wrote out/series/$BASE: $(wc -l <"$out/series") patches and a cover letter"
