#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# series-check.sh: what a reviewer and a distro kernel team check on
# out/series, one "ok|not ok series|distro CHECK" line each. In
# build/<base>/src, taken back to the pristine base: Debian's config
# compiles drivers/vfio/ and samples/vfio-mdev/ with W=1 and sparse, the
# series goes in with git am, the series' modules build for Debian's
# kernel after each patch, and at the series' head Debian's config
# compiles again, with no new warning. checkpatch and kernel-doc read the
# series and the files it touches.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

distro=$BUILD/distro
series=$TOP/out/series/$BASE

result()	# result NAME DETAIL: ok when the last command succeeded
{
	local rc=$? name=$1

	shift
	if [ "$rc" = 0 ]; then echo "ok $name${*:+ # $*}"; else echo "not ok $name${*:+ # $*}"; fi
}

"$RIG_DIR/series.sh" >&2
result "series format_patch" "$(wc -l <"$series/series") patches"

# Authorship: every mail is from whoever made the series (git's identity,
# as git mailinfo reads the From: header back), and carries no
# Signed-off-by they did not ask for, nor any from a list.
ident=$(git -C "$TOP" var GIT_AUTHOR_IDENT | sed 's/ [0-9]* [-+][0-9]*$//')
bad=$(cd "$series" && for p in $(cat series); do
	from=$(git mailinfo /dev/null /dev/null <"$p" |
	       sed -n 's/^Author: //p; s/^Email: \(.*\)/<\1>/p' | paste -sd' ')
	[ "$from" = "$ident" ] || echo "$p: From: $from"
	grep -H '^Signed-off-by: .*\(vger\.kernel\.org\|lists\.\)' "$p"
	[ "${SIGNOFF:-0}" = 1 ] || grep -H '^Signed-off-by: ' "$p"
done)
[ -z "$bad" ]
result "series authored_by_git_identity" "${ident%% <*}, signoff ${SIGNOFF:-0}"
[ -z "$bad" ] || echo "$bad" | sed 's/^/#   /'

# The tree checks work in build/<base>/src itself, which must hold the
# series and nothing else: it goes to the base, through each patch, and
# back to the series' head, its files with the times they had, so that
# the variants' trees do not rebuild them. An earlier run's leftovers go
# first: a git am that was killed, the old layout's second worktree.
git -C "$SRC" am --abort >/dev/null 2>&1
if [ -d "$BUILD/bisect" ]; then
	git -C "$SRC" worktree remove --force "$BUILD/bisect/src" >/dev/null 2>&1
	git -C "$SRC" worktree prune
	rm -rf "$BUILD/bisect"
fi
rm -rf "$BUILD/perpatch-builtin"
mkdir -p "$distro"
head=$(git -C "$SRC" rev-parse HEAD)
times=$BUILD/perpatch.times
restore_times()
{
	while IFS='|' read -r t f; do touch -d "$t" "$SRC/$f"; done <"$times"
}
restore()
{
	git -C "$SRC" am --abort >/dev/null 2>&1
	src_sync "$head" && restore_times
}
at()	# at REV: build/<base>/src is at REV, with nothing else in it
{
	[ "$(git -C "$SRC" rev-parse HEAD)" = "$(git -C "$SRC" rev-parse "$1^{commit}")" ] &&
		[ -z "$(src_changes)" ]
}

if [ -n "$(src_changes)" ]; then
	echo "not ok series tree_usable # ${SRC#$TOP/} has edits not in the repo: no git am, per-patch or distro builds"
else
	# Every file a patch touches, also one a later patch puts back.
	git -C "$SRC" log --format= --name-only --no-renames base..HEAD | sort -u |
		(cd "$SRC" && xargs -r stat -c '%y|%n' 2>/dev/null) >"$times"
	trap restore EXIT

	# A pristine base: the unpacked tarball, as the tree recorded it.
	if src_sync base && at base; then
		result "series pristine_base"

		"$RIG_DIR/distro.sh" base >&2
		result "distro base_compiles" "$(cat "$distro/base.modules" 2>/dev/null | wc -l) modules"

		sed 's|^|'"$series"'/|' "$series/series" | xargs git -C "$SRC" am -q >&2
		result "series git_am_applies"
		git -C "$SRC" diff --quiet HEAD "$head"
		result "series git_am_tree_is_the_tested_tree"
	else
		false
		result "series pristine_base" "no base compile, no git am on a tree that is not the base"
	fi
	# Back to the head, with the head's times (git am wrote every file
	# the series touches), so that patch 1 compiles only what differs
	# from the head; whatever am left, src_sync writes the head's files.
	restore

	# Bisectability: after each patch in turn, with build/<base>/src at
	# that patch's commit, drivers/vfio/ and samples/vfio-mdev/ as
	# modules for Debian's kernel with the option on (the modules
	# variant's config), in a copy of that variant's tree, modpost
	# linking each module against Debian's symbols. Only what the patch
	# changes is compiled. Built in, the series is compiled and linked
	# whole by the builtin variant.
	perpatch=$BUILD/perpatch
	copy_tree modules "$perpatch"
	rm -rf "$perpatch/mainline"
	n=0
	for c in $(git -C "$SRC" rev-list --reverse "base..$head"); do
		n=$((n + 1))
		subject=$(git -C "$SRC" log -1 --format=%s "$c")
		src_sync "$c" && at "$c" && cp "$BUILD/modules/.config" "$perpatch/.config" &&
			make -s -C "$SRC" O="$perpatch" "${kcc[@]}" olddefconfig >/dev/null &&
			RIG_TARGETS=modules "$RIG_DIR/build.sh" perpatch >&2
		result "series builds_after_patch_$n" "$subject"
	done
	restore
	trap - EXIT
	at "$head" && [ -z "$(while IFS='|' read -r t f; do
		[ "$(stat -c %y "$SRC/$f")" = "$t" ] || echo "$f"; done <"$times")" ]
	result "series tree_back_at_head" "with its files' times"

	"$RIG_DIR/distro.sh" series >&2
	result "distro series_compiles" "$(cat "$distro/series.modules" 2>/dev/null | wc -l) modules"
	for m in drivers/vfio/vfio drivers/vfio/pci/vfio-pci drivers/vfio/pci/mlx5/mlx5-vfio-pci \
		 drivers/vfio/pci/hisilicon/hisi-acc-vfio-pci samples/vfio-mdev/migdev; do
		grep -qxF "$m" "$distro/series.modules"
		result "distro builds $m"
	done
	# No warnings file is no build: not a pass.
	new=$(comm -13 "$distro/base.warnings" "$distro/series.warnings") &&
		[ -f "$distro/base.warnings" ] && [ -f "$distro/series.warnings" ] && [ -z "$new" ]
	result "distro no_new_warnings_w1_sparse" "$(wc -l <"$distro/series.warnings") warnings, as in the base"
	[ -z "$new" ] || echo "$new" | sed 's/^/#   /'
fi

# checkpatch, with Debian's python3 for its SPDX check. When spdxcheck.py
# cannot run (a missing python module), checkpatch takes every tag as
# valid and says nothing: make sure it rejects a bogus one.
echo "SPDX-License-Identifier: GPL-2.0-bogus" |
	(cd "$SRC" && PATH=/usr/bin:$PATH scripts/spdxcheck.py - 2>&1) | grep -q 'Invalid License ID'
result "series spdxcheck_rejects_a_bogus_tag"
# A Signed-off-by is the author's to add (SIGNOFF=1): without one,
# checkpatch is told not to look for it.
nosignoff=--no-signoff
[ "${SIGNOFF:-0}" = 1 ] && nosignoff=
# checkpatch asks whether MAINTAINERS needs updating for any patch that
# adds files without touching it; where an F: entry of one of the base's
# VFIO sections already covers every file the patch adds (7.3's selftests,
# in tools/testing/selftests/vfio/, under VFIO SELFTESTS), the answer is
# no, and the rig says so. Umbrella sections (TRACING, DOCUMENTATION,
# KERNEL SELFTEST FRAMEWORK) do not count.
covered()	# covered PATCH: every file it adds is in a VFIO section
{
	local f

	for f in $(awk '/^--- \/dev\/null/ { getline; sub(/^\+\+\+ b\//, ""); print }' "$1"); do
		awk -v f="$f" '
			/^$/ { title = "" }
			/^[^\t]/ && !/^[A-Z]:\t/ { title = $0 }
			/^X:\t/ && title ~ /^VFIO/ && index(f, $2) == 1 { excluded = 1 }
			/^F:\t/ && title ~ /^VFIO/ {
				p = $2
				if (p == f || (p ~ /\/$/ && index(f, p) == 1))
					found = 1
			}
			END { exit !(found && !excluded) }' "$SRC/MAINTAINERS" || return 1
	done
}
# One run per patch (the selftests' alone takes 20 s): its findings are
# the lines that start with a level, its figures the "total:" line.
for p in $(cat "$series/series"); do
	# The output's form fixed, and no ~/.checkpatch.conf read (one could
	# --ignore a type); the base's tree has none of its own.
	out=$(cd "$SRC" && HOME=$distro PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict $nosignoff \
		--no-emacs --no-terse --no-showfile --color=never "$series/$p" 2>&1)
	counts=$(echo "$out" | sed -n 's/^total: //p')
	found=$(echo "$out" | grep -E '^(ERROR|WARNING|CHECK):')
	clean='0 errors, 0 warnings, 0 checks,'
	maint='does MAINTAINERS need updating?'
	if [ "$(echo "$found" | grep -cF "$maint")" = 1 ] && covered "$series/$p"; then
		found=$(echo "$found" | grep -vF "$maint")
		clean='0 errors, 1 warnings, 0 checks,'
		counts="$counts; MAINTAINERS already covers the files it adds"
	fi
	[ -z "$found" ] && case "$counts" in "$clean"*) true ;; *) false ;; esac
	result "series checkpatch_strict ${p%%-*}" "$counts"
	[ -z "$found" ] || echo "$found" | sed 's/^/#   /'
done

# kernel-doc: nothing on the files the series adds, nothing new on those
# it changes.
for f in $(git -C "$SRC" diff --name-only base HEAD -- '*.c' '*.h'); do
	# Without line numbers (7.3's kernel-doc prints "file:N text"), so
	# that a base's own warnings compare.
	now=$(cd "$SRC" && scripts/kernel-doc -none "$f" 2>&1 | sed -E 's/:[0-9]+([: ])/:\1/; s/line [0-9]+/line N/' | sort -u)
	before=""
	if git -C "$SRC" cat-file -e "base:$f" 2>/dev/null; then
		before=$(cd "$SRC" && git show "base:$f" >"$distro/kdoc.tmp" &&
			 scripts/kernel-doc -none "$distro/kdoc.tmp" 2>&1 |
			 sed -E "s|$distro/kdoc.tmp|$f|; s/:[0-9]+([: ])/:\1/; s/line [0-9]+/line N/" | sort -u)
	fi
	new=$(comm -13 <(echo "$before") <(echo "$now") | sed '/^$/d')
	[ -z "$new" ]
	result "series kernel_doc $f"
	[ -z "$new" ] || echo "$new" | sed 's/^/#   /'
done
