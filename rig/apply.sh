#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make build/<base>/src the base tree plus the base's series: one commit
# per patch in patches/<base>/series on top of "base", with the work tree
# checked out at the last one. Only files whose content changes are
# written, so an unchanged series rebuilds in seconds. build/<base>/src is
# a git repo a developer can edit (see refresh.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$RIG_DIR/unpack.sh"

if [ -n "$(src_changes)" ]; then
	src_changes | head -n 20 >&2
	die "${SRC#$TOP/} has edits that are not in the repo: 'make refresh' keeps them, 'make tree-reset' drops them"
fi
head=$(series_build)
src_sync "$head"
# What the repo makes: unpack.sh knows a tree with other commits from it.
echo "$head" >"$BUILD/head"
if [ -s "$BUILD/rejects/list" ]; then
	# make tree (RIG_TREE=1): what did not fit, for the developer to redo.
	while read -r p files; do
		echo "rig: patches/$BASE/$p no longer applies to ${files% }; its commit in ${SRC#$TOP/} leaves them out. The patch is in ${BUILD#$TOP/}/rejects/$p: redo its change to them there, then 'make refresh BASE=$BASE PATCH=$p'" >&2
	done <"$BUILD/rejects/list"
	exit 1
fi
step "applied $(series_patches | wc -l) patches, $(for p in $(series_patches); do patch_adds "$p"; done | wc -l) files added whole"
