# SPDX-License-Identifier: GPL-2.0
# Shared by every rig script: where things live, how a step reports, how it dies.

RIG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$RIG_DIR")
BUILD=${BUILD:-$TOP/build}
SRC=$BUILD/src
BASE_TARBALL=/usr/src/linux-source-6.1.tar.xz
VARIANTS="builtin modules nodebugfs debug"
JOBS=${JOBS:-$(nproc)}

# ccache keys on absolute paths; relative to the checkout, a fresh clone
# (as CI makes) hits the cache that an earlier clone filled.
export CCACHE_BASEDIR=$TOP

# Start of the whole run, shared with child scripts so elapsed times add up.
export RIG_T0=${RIG_T0:-$(date +%s)}

die()
{
	echo "rig: error: $*" >&2
	exit 1
}

# One progress line per step, with the time since the run started.
step()
{
	local t=$(( $(date +%s) - RIG_T0 ))

	printf '[%2d:%02d] %s\n' $((t / 60)) $((t % 60)) "$*"
}

base_version()
{
	awk '/^VERSION =/ {v=$3} /^PATCHLEVEL =/ {p=$3} /^SUBLEVEL =/ {s=$3}
	     END {print v "." p "." s}' "$SRC/Makefile"
}

# Files the series adds whole: everything tracked in the repo under the
# kernel's own top-level folders.
overlay_files()
{
	git -C "$TOP" ls-files --cached --others --exclude-standard -- \
		Documentation drivers include samples tools
}

# Files the series edits, as named by the patches in patches/series.
series_patches()
{
	grep -v '^[[:space:]]*\(#\|$\)' "$TOP/patches/series"
}

patched_files()
{
	local p

	for p in $(series_patches); do
		sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$TOP/patches/$p"
	done | sort -u
}

# The builtin guest ready to boot, as demo.sh and shell.sh need it.
prepare_builtin()
{
	"$RIG_DIR/deps.sh" && "$RIG_DIR/apply.sh" && "$RIG_DIR/build-tests.sh" &&
		"$RIG_DIR/configure.sh" builtin && "$RIG_DIR/build.sh" builtin &&
		"$RIG_DIR/pack.sh" builtin
}

# Edits in build/src since the rig last applied the series. Debian's tree
# ignores everything at its top level, so ignored files count too.
src_changes()
{
	git -C "$SRC" status --porcelain --ignored --untracked-files=all | cut -c4-
}

# Record build/src as "base" plus one commit holding the series.
src_commit()
{
	git -C "$SRC" add -A -f
	git -C "$SRC" reset -q --soft base
	git -C "$SRC" commit -q --allow-empty -m "vfio: debugfs series, as applied by the rig"
}
