#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh: build every variant of every base and run its guest tests; one
# line per test, named by its base, then "N passed, N failed" (", N
# skipped" when any were). Exit 1 on any failure. With BASE set, that base
# alone.
set -uo pipefail
asked_base=${BASE:-}
. "$(dirname "$0")/lib.sh"

# Seconds $1 as minutes, to one decimal.
minutes()
{
	awk -v s="$1" 'BEGIN { printf "%.1f", s / 60 }'
}

# Run "$@" as part NAME of this base's time: its line in the log says how
# long it took, and build/<base>/times adds it to the part.
timed()
{
	local name=$1 t0=$(date +%s) rc took

	shift
	"$@"
	rc=$?
	took=$(( $(date +%s) - t0 ))
	echo "$name $took" >>"$BUILD/times"
	step "$name: $(minutes "$took") min" >&2
	return $rc
}

# "BASE: N min: part m, part m, ..." from build/BASE/times.
times_line()
{
	[ -f "$BUILD/times" ] || return 0
	awk -v base="$1" '
		!($1 in t) { order[n++] = $1 }
		{ t[$1] += $2; all += $2 }
		END {
			line = sprintf("%s: %.1f min:", base, all / 60)
			for (i = 0; i < n; i++)
				line = line sprintf("%s %s %.1f", i ? "," : "", order[i], t[order[i]] / 60)
			print line
		}' "$BUILD/times"
}

# Every base in turn, each a run of this script, then the count of all.
if [ -z "$asked_base" ]; then
	# A version is one base's: BASE_VERSION=6.12.117-1~deb12u1 BASE=6.12.
	[ -z "${BASE_VERSION:-}" ] || die "BASE_VERSION=$BASE_VERSION is a version of one base: give its BASE too"
	passed=0 failed=0 skipped=0
	for b in $BASES; do
		r=$TOP/build/$b/results.txt
		rm -f "$r"
		# A base whose run died before its count is one failure.
		RIG_CHECK_ALL=1 BASE=$b "$0"
		if [ ! -f "$r" ] || ! tail -n 1 "$r" | grep -qx '# counted'; then
			failed=$((failed + 1))
		fi
		[ -f "$r" ] || continue
		passed=$((passed + $(grep -c '^ok ' "$r")))
		failed=$((failed + $(grep -c '^not ok ' "$r")))
		skipped=$((skipped + $(grep -c '^skip ' "$r")))
	done
	echo "all bases: $BASES, $(minutes $(( $(date +%s) - RIG_T0 ))) min"
	for b in $BASES; do
		BUILD=$TOP/build/$b times_line "$b"
	done
	line="$passed passed, $failed failed"
	[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
	echo "$line"
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
	exit
fi

results=$BUILD/results.txt

# Guests to boot: variant, test plan, extra kernel arguments. The rig's
# own kernels (debug, builtin, nodebugfs) run under the kernel's checkers;
# builtin is booted with debugfs on and off. The bases other than 6.1
# build no nodebugfs variant (lib.sh).
guests="modules:modules:
baseline:baseline:
debug:debug:panic_on_warn=1
builtin:builtin:panic_on_warn=1
builtin:debugfs-off:debugfs=off
nodebugfs:nodebugfs:"

# Each result line names its base: "ok 6.12 debug ...".
record()
{
	sed -u "s/^\(ok\|not ok\|skip\) /\1 $BASE /" | tee -a "$results"
}

# Every way out ends with the count, even a failure before any test ran.
summary()
{
	local passed failed skipped line

	passed=$(grep -c '^ok ' "$results")
	failed=$(grep -c '^not ok ' "$results")
	skipped=$(grep -c '^skip ' "$results")
	step "done; results in ${BUILD#$TOP/}/results.txt, consoles in ${BUILD#$TOP/}/<variant>/console-*.log"
	line="$passed passed, $failed failed"
	[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
	# The run got to its count: what the all-bases run looks for.
	echo "# counted" >>"$results"
	# Run for one base of all, say which; alone, end as the README says.
	if [ -n "${RIG_CHECK_ALL:-}" ]; then
		echo "$BASE: $line"
	else
		times_line "$BASE"
		echo "$line"
	fi
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}

mkdir -p "$BUILD"
: >"$results"
rm -f "$BUILD/times" "$BUILD/apply.err"
"$RIG_DIR/resolve-test.sh" | record || echo "not ok host resolve_tests_ran" | record
if ! timed fetch "$RIG_DIR/deps.sh"; then
	echo "not ok host install_packages" | record
	summary
	exit
fi
if ! timed fetch "$RIG_DIR/apply.sh" 2>"$BUILD/apply.err"; then
	cat "$BUILD/apply.err" >&2
	# One line that says why: a version or a base that Debian no
	# longer serves, a patch that does not apply.
	why=$(grep '^rig: error: ' "$BUILD/apply.err" | tail -n 1)
	echo "not ok host apply_series # ${why:-see the log}" | record
	summary
	exit
fi
cat "$BUILD/apply.err" >&2
# Which Debian package the run tested, in the log and the results.
echo "$BASE: base $BASE_PACKAGE $(cat "$BUILD/version")" | tee -a "$results"

timed tools "$RIG_DIR/build-tests.sh" || echo "not ok host build_selftests" | record
timed tools "$RIG_DIR/qemu.sh" || echo "not ok host fetch_qemu" | record
# Variant $1's kernel, the modules variant's mainline modules, the guest.
variant_build()
{
	"$RIG_DIR/configure.sh" "$1" && "$RIG_DIR/build.sh" "$1" &&
		{ [ "$1" != modules ] || "$RIG_DIR/mainline.sh"; } && "$RIG_DIR/pack.sh" "$1"
}

for v in $VARIANTS; do
	if timed "$v" variant_build "$v"; then
		"$RIG_DIR/symbols.sh" "$v" | record
	else
		echo "not ok $v host build" | record
	fi
done

echo "$guests" | while IFS=: read -r v plan args; do
	case " $VARIANTS " in *" $v "*) ;; *) continue ;; esac
	grep -q "^not ok $BASE $v host build" "$results" && continue
	if timed guests "$RIG_DIR/boot.sh" "$v" check "$plan" $args; then
		echo "ok $plan guest clean_console" | record
	else
		echo "not ok $plan guest clean_console" | record
	fi
	# Counted: a run that needed the retry says so in its last line.
	[ ! -f "$BUILD/$v/console-$plan.first.log" ] ||
		echo "skip $plan guest first_boot # died under TCG before the tests could run, or of stale patched text; booted again (console-$plan.first.log)" | record
	"$RIG_DIR/report.sh" "$plan" "$BUILD/$v/console-$plan.log" | record
done

# The benchmark, briefly, so that it never rots: every figure must come
# out of both kernels; make bench measures for real. On the 6.1 base
# only, to keep the run short; make bench BASE=7.3 runs on the others.
case "$BASE" in
6.1)
	if grep -qE "^not ok $BASE (modules|baseline) host build" "$results"; then
		echo "not ok bench host smoke (a kernel did not build)" | record
	elif timed bench "$RIG_DIR/bench.sh" smoke | sed "s/^/  bench: /" | record; then
		echo "ok bench host smoke_all_figures" | record
	else
		echo "not ok bench host smoke_all_figures" | record
	fi ;;
esac

# The series as a reviewer and a distro take it; needs the modules tree.
if grep -qE "^not ok $BASE modules host build" "$results"; then
	echo "not ok series host (no modules tree to bisect with)" | record
else
	timed series "$RIG_DIR/series-check.sh" | record
fi

summary
