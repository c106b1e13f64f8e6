# SPDX-License-Identifier: GPL-2.0
# Shared by every rig script: where things live, how a step reports, how it dies.

RIG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$RIG_DIR")

# The kernels the series is for, each a Debian package: 6.1 (Debian 12),
# 6.12 (Debian 13, and Debian 12's security suite), 7.3 (mainline, in
# trixie-backports). A base is a folder patches/<base>/ with its series:
# adding one is copying the newest's folder, retiring one removing its
# folder (README, "Bases that come and go"). BASE picks one; every step
# works on that one.
BASES=$(cd "$TOP/patches" && ls -d */series 2>/dev/null | sed 's|/series$||' | sort -V | paste -sd' ')
BASE=${BASE:-${BASES%% *}}
# Each base's packages come from its Debian suite at the newest version
# the suite serves (rig/resolve.sh), or at BASE_VERSION if set.
case "$BASE" in
6.1)
	# Debian 12's own kernel: its point release, or its security
	# suite's newer one.
	BASE_SUITE="bookworm bookworm-security"
	# The variants: the series' modules on Debian's kernel with the
	# option (modules) and without (baseline); the rig's own kernel
	# under the kernel's checkers with it all as modules (debug) and
	# built in (builtin, booted with debugfs on and off); 6.1 alone
	# also without DEBUG_FS at all (nodebugfs).
	VARIANTS="modules baseline debug builtin nodebugfs"
	;;
6.12)
	# Debian 13's kernel, which Debian 12 has from its security suite.
	BASE_SUITE=bookworm-security
	VARIANTS="modules baseline debug builtin"
	;;
*)
	# Mainline as Debian 13 carries it (7.3, then 7.4, ...).
	BASE_SUITE=trixie-backports
	VARIANTS="modules baseline debug builtin"
	case " $BASES " in
	*" $BASE "*) ;;
	*)
		echo "rig: error: BASE=$BASE is not one of: $BASES (no patches/$BASE/series)" >&2
		exit 1 ;;
	esac ;;
esac
BASE_PACKAGE=linux-source-$BASE
# Debian's own kernel of the same version, which the modules and baseline
# guests boot (build.sh): the image, and the headers for its
# Module.symvers. ABI stands for the release in the names (resolve.sh).
# Debian 13 splits the image into the kernel and its modules.
case "$BASE_SUITE" in
bookworm*) BASE_KERNEL_PACKAGES="linux-image-ABI-amd64" ;;
*) BASE_KERNEL_PACKAGES="linux-binary-ABI-amd64 linux-modules-ABI-amd64" ;;
esac
BASE_KERNEL_PACKAGES="$BASE_KERNEL_PACKAGES linux-headers-ABI-amd64 linux-headers-ABI-common"
BUILD=${BUILD:-$TOP/build/$BASE}
SRC=$BUILD/src
# The base's series: patches/<base>/series, its patches, its cover letter,
# and the files that base needs different from the repo's (same paths as
# in the kernel tree).
PATCHES=$TOP/patches/$BASE
# QEMU 10, the same for every base.
QEMU_DIR=$TOP/build/qemu
# Variants whose guests carry QEMU 10 (rig/qemu.sh) and run it.
QEMU_VARIANTS="modules baseline"
JOBS=${JOBS:-$(nproc)}

# apt-get options for a private apt under folder $1, with its own
# sources, lists, cache and an empty dpkg status, so that what it fetches
# does not depend on what the host has, and nothing is installed: aptopts.
apt_private()
{
	local apt=$1

	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/empty"
	: >"$apt/status"
	# Not the host's apt.conf(.d): its hooks, its trust settings and
	# its architectures are not this apt's.
	cat >"$apt/apt.conf" <<-EOF
	Dir::Etc::main "/dev/null";
	Dir::Etc::Parts "$apt/empty";
	APT::Architectures { "amd64"; };
	APT::Architecture "amd64";
	EOF
	export APT_CONFIG=$apt/apt.conf
	aptopts=(-o Dir::Etc::SourceList="$apt/sources.list"
		 -o Dir::Etc::SourceParts="$apt/empty"
		 -o Dir::Etc::Preferences=/nonexistent
		 -o Dir::Etc::PreferencesParts="$apt/empty"
		 -o Dir::State::Lists="$apt/lists"
		 -o Dir::State::status="$apt/status"
		 -o Dir::Cache="$apt/cache"
		 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
		 -o Acquire::GzipIndexes=false
		 -o Debug::NoLocking=1)
}

# The sources.list line of Debian suite $1.
apt_source()
{
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg

	case "$1" in
	*-security) echo "deb [signed-by=$keyring] http://security.debian.org/debian-security $1 main" ;;
	*) echo "deb [signed-by=$keyring] http://deb.debian.org/debian $1 main" ;;
	esac
}

# Debian's kernel of this base, as unpack.sh left it in build/<base>/pkg
# (release $1, or build/<base>/release): deb_release, and the paths of its
# image, its config, its modules, its headers and their Module.symvers.
# Debian 12 keeps the image in /boot and the modules in /lib, Debian 13
# both in /usr/lib/modules/<release>/.
debian_kernel()
{
	local pkg=$BUILD/pkg f

	deb_release=${1:-$(cat "$BUILD/release" 2>/dev/null || true)}
	deb_headers=$pkg/usr/src/linux-headers-$deb_release
	deb_config=$deb_headers/.config
	deb_symvers=$deb_headers/Module.symvers
	deb_modules=$pkg/lib/modules/$deb_release
	[ -d "$deb_modules/kernel" ] || deb_modules=$pkg/usr/lib/modules/$deb_release
	deb_image=$pkg/boot/vmlinuz-$deb_release
	[ -f "$deb_image" ] || deb_image=$deb_modules/vmlinuz
	for f in "$deb_image" "$deb_config" "$deb_symvers" "$deb_modules/kernel"; do
		[ -n "$deb_release" ] && [ -e "$f" ] ||
			die "Debian's kernel ${deb_release:-(none)} of ${BUILD#$TOP/} has no ${f#$pkg}: rm ${BUILD#$TOP/}/version and run again"
	done
}

# The compilers of every make in a kernel tree, the same for each: kbuild
# rebuilds what a different command line built, host tools (objtool)
# included.
kcc=(CC="ccache gcc" HOSTCC="ccache gcc")

# ccache keys on absolute paths; relative to the checkout, a fresh clone
# (as CI makes) hits the cache that an earlier clone filled. With -g
# (Debian's config) it also keys on the directory make runs in, the
# clone's own, unless told not to: the debug info of a hit then names the
# build directory that filled the cache, which nothing here reads (the
# guests' modules are stripped of it).
export CCACHE_BASEDIR=$TOP
export CCACHE_NOHASHDIR=1

# Start of the whole run, shared with child scripts so elapsed times add up.
export RIG_T0=${RIG_T0:-$(date +%s)}

die()
{
	echo "rig: error: $*" >&2
	exit 1
}

# One progress line per step, with the time since the run started and the
# base it works on.
step()
{
	local t=$(( $(date +%s) - RIG_T0 ))

	printf '[%2d:%02d] %s: %s\n' $((t / 60)) $((t % 60)) "$BASE" "$*"
}

base_version()
{
	awk '/^VERSION =/ {v=$3} /^PATCHLEVEL =/ {p=$3} /^SUBLEVEL =/ {s=$3}
	     END {print v "." p "." s}' "$SRC/Makefile"
}

# Files the series of some base adds whole: everything tracked in the repo
# under the kernel's own top-level folders.
overlay_files()
{
	git -C "$TOP" ls-files --cached --others --exclude-standard -- \
		Documentation drivers include samples tools
}

# The repo keeps each file the series add whole once, as mainline's
# kernel API wants it. Where a base's API differs (6.1's class_create(),
# say), patches/<base>/<file>.diff turns the repo's file into that base's:
# these are the files that base $1 (this one by default) has such a diff
# for, as paths in the kernel tree.
base_files()
{
	git -C "$TOP" ls-files --cached --others --exclude-standard -- \
		"patches/${1:-$BASE}/*.diff" |
		sed -e "s|^patches/${1:-$BASE}/||" -e 's|\.diff$||'
}

# Print file $1 as this base's series adds it.
added_text()
{
	local out

	if [ -f "$PATCHES/$1.diff" ]; then
		# No fuzz (a hunk may still move), and nothing printed unless
		# it applied.
		out=$(mktemp)
		if ! patch -s -N -F0 -r - -o "$out" "$TOP/$1" "$PATCHES/$1.diff" >&2; then
			rm -f "$out"
			die "patches/$BASE/$1.diff does not apply to $1"
		fi
		cat "$out"
		rm -f "$out"
	else
		cat "$TOP/$1"
	fi
}

# The patches of base $1's series (this base's by default), in order.
series_patches()
{
	grep -v '^[[:space:]]*\(#\|$\)' "$TOP/patches/${1:-$BASE}/series"
}

# The files a patch of base $2 (default: this one) adds whole, which live in
# the repo: the " create mode" lines of its header, as git format-patch
# writes them.
patch_adds()
{
	sed -n '/^diff --git /q; s/^ create mode [0-7]* //p' "$TOP/patches/${2:-$BASE}/$1"
}

# The patches carry no author: whoever builds the series is its author, as
# git format-patch would make them, from git's user.name and user.email.
series_author()
{
	local ident

	ident=$(git -C "$TOP" var GIT_AUTHOR_IDENT) ||
		die "git has no identity to author the series: set user.name and user.email"
	author_name=${ident% <*}
	author_email=${ident#*<}
	author_email=${author_email%%>*}
}

# Print file $2 as patch $1 adds it. The repo holds the file as the whole
# series leaves it; when later patches change it, their diffs are taken back
# from it, last patch first, in scratch folder $3.
added_version()
{
	local p=$1 f=$2 dir=$3 q later

	later=$(series_patches | awk -v p="$p" 'after; $0 == p { after = 1 }' | tac)
	if ! (cd "$PATCHES" && grep -qF "diff --git a/$f b/$f" $later /dev/null); then
		added_text "$f"
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir/$(dirname "$f")"
	added_text "$f" >"$dir/$f"
	for q in $later; do
		git mailinfo /dev/null "$dir/diff" <"$PATCHES/$q" >/dev/null
		(cd "$dir" && GIT_CEILING_DIRECTORIES=$(dirname "$dir") git apply -R --include="$f" diff) ||
			die "patches/$BASE/$q: its diff of $f does not come off the repo's $f"
	done
	cat "$dir/$f"
}

# Fixed dates make the series' commits, and so out/series, reproducible.
SERIES_DATE="Tue, 24 Nov 2026 12:00:00 +0000"

# Build the series as commits on top of "base" in build/src, one per patch,
# without touching the work tree, and print the last commit. A patch becomes
# a commit the way git am would make it: its mail header gives the message,
# its diff is applied to upstream files, and the files it adds whole are
# taken from the repo. The author is series_author's.
series_build()
{
	local tmp=$BUILD/series.tmp parent p f mode out failed
	local author_name author_email
	local -x GIT_INDEX_FILE=$BUILD/series.index

	# Callers run this in $(...), where their set -e does not reach.
	set -e
	series_author
	rm -rf "$tmp" "$BUILD/rejects"
	mkdir -p "$tmp"
	git -C "$SRC" read-tree base
	parent=$(git -C "$SRC" rev-parse base)
	for p in $(series_patches); do
		[ -f "$PATCHES/$p" ] || die "patches/$BASE/series names $p, which does not exist"
		git -C "$SRC" mailinfo "$tmp/msg" "$tmp/diff" <"$PATCHES/$p" >"$tmp/info"
		if grep -q '^diff --git ' "$tmp/diff" &&
		   ! out=$(git -C "$SRC" apply --cached "$tmp/diff" 2>&1); then
			echo "$out" >&2
			failed=$(echo "$out" | sed -n 's/^error: \(.*\): patch does not apply$/\1/p' | sort -u)
			# make tree: commit the patch without the files it
			# no longer fits, for the developer to redo there.
			if [ "${RIG_TREE:-0}" != 1 ] || [ -z "$failed" ] ||
			   ! git -C "$SRC" apply --cached $(printf -- '--exclude=%s ' $failed) "$tmp/diff" >&2; then
				die "patch patches/$BASE/$p does not apply to $BASE_PACKAGE $(cat "$BUILD/version"): $(echo ${failed:-see above}); 'make tree BASE=$BASE' then 'make refresh BASE=$BASE PATCH=$p' updates it"
			fi
			mkdir -p "$BUILD/rejects"
			cp "$tmp/diff" "$BUILD/rejects/$p"
			echo "$p" $failed >>"$BUILD/rejects/list"
		fi
		for f in $(patch_adds "$p"); do
			[ -f "$TOP/$f" ] || die "patches/$BASE/$p adds $f, which is not in the repo"
			mode=100644
			[ -x "$TOP/$f" ] && mode=100755
			# Not in a pipe: a die in added_version must end the build.
			added_version "$p" "$f" "$tmp/added" >"$tmp/blob" || exit 1
			git -C "$SRC" update-index --add --cacheinfo \
				"$mode,$(git -C "$SRC" hash-object -w "$tmp/blob"),$f"
		done
		{
			sed -n 's/^Subject: //p' "$tmp/info"
			echo
			cat "$tmp/msg"
		} >"$tmp/message"
		parent=$(GIT_AUTHOR_NAME=$author_name \
			 GIT_AUTHOR_EMAIL=$author_email \
			 GIT_AUTHOR_DATE=$SERIES_DATE \
			 GIT_COMMITTER_NAME=rig GIT_COMMITTER_EMAIL=rig@localhost \
			 GIT_COMMITTER_DATE=$SERIES_DATE \
			 git -C "$SRC" commit-tree "$(git -C "$SRC" write-tree)" \
				 -p "$parent" -F "$tmp/message")
	done
	rm -rf "$tmp" "$GIT_INDEX_FILE"

	# Each file is added by one patch of a series; every file in the
	# repo's kernel folders by some base's series, and every file a
	# base has a diff for by that base's.
	f=$(for p in $(series_patches); do patch_adds "$p"; done | sort | uniq -d)
	[ -z "$f" ] || die "added by more than one patch: $f"
	f=$(comm -23 <(overlay_files | sort) \
		<(for b in $BASES; do
			for p in $(series_patches "$b"); do patch_adds "$p" "$b"; done
		  done | sort -u))
	[ -z "$f" ] || die "in no base's series: $f (list it in a patch header as ' create mode 100644 <file>', or run 'make refresh PATCH=<name>.patch')"
	f=$(comm -23 <(base_files | sort) \
		<(for p in $(series_patches); do patch_adds "$p"; done | sort))
	[ -z "$f" ] || die "patches/$BASE/ has a .diff for files no patch of its series adds: $f"
	echo "$parent"
}

# Point build/src at commit $1 and make the work tree match it, writing only
# the files that differ, so that make rebuilds only what changed.
src_sync()
{
	local stale

	git -C "$SRC" reset -q "$1" || return
	stale=$(git -C "$SRC" diff --name-only)
	{ [ -z "$stale" ] || git -C "$SRC" checkout -q -- $stale; } &&
		git -C "$SRC" clean -qfdx
}

# The options the config fragments $@ ask for, as OPTION=value; the last
# fragment to name an option has the final say.
config_requested()
{
	sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)/\1=\2/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set/\1=n/p' "$@" |
		awk -F= '{want[$1] = $0} END {for (k in want) print want[k]}' | sort
}

# Die unless Kconfig kept in $1/.config every option the fragments ask for.
config_verify()
{
	local out=$1 want opt val got

	shift
	for want in $(config_requested "$@"); do
		opt=${want%%=*}
		val=${want#*=}
		got=$(sed -n "s/^$opt=\(.*\)/\1/p" "$out/.config")
		[ -n "$got" ] || got=n
		[ "$got" = "$val" ] || die "$(basename "$out"): a fragment asks for $opt=$val but Kconfig set $opt=$got (check its dependencies)"
	done
}

# Folder $2 as a copy of the built tree of variant $1, objects and times,
# without what its guest made: for kbuild to rebuild only what a change
# touches.
copy_tree()
{
	rm -rf "$2"
	cp -a "$BUILD/$1" "$2"
	rm -rf "$2/modroot" "$2"/console-* "$2"/initramfs.*
	# objtool's build records its folder's absolute path; a copy that
	# kept the old one would rebuild objtool, and with it every object.
	grep -rlF "$BUILD/$1/" "$2/tools" --include='.*.cmd' --include='*.d' 2>/dev/null |
		xargs -r sed -i "s|$BUILD/$1/|$2/|g"
}

# Whether variant $1 is the series' modules on Debian's own kernel (or,
# perpatch, series-check.sh's copy of the modules one).
is_debian_variant()
{
	case "$1" in
	modules | baseline | perpatch) return 0 ;;
	esac
	return 1
}

# The guests of variants $@ ready to boot, as demo, shell and bench need them.
prepare_guests()
{
	local v

	"$RIG_DIR/deps.sh" && "$RIG_DIR/apply.sh" && "$RIG_DIR/build-tests.sh" &&
		"$RIG_DIR/qemu.sh" || return
	for v in "$@"; do
		"$RIG_DIR/configure.sh" "$v" && "$RIG_DIR/build.sh" "$v" &&
			"$RIG_DIR/pack.sh" "$v" || return
	done
}

# Edits in build/src since the rig last applied the series. Debian's tree
# ignores everything at its top level, so ignored files count too.
src_changes()
{
	git -C "$SRC" status --porcelain --ignored --untracked-files=all | cut -c4-
}
