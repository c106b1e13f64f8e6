#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh: build every variant and run its guest tests; one line per test,
# then "N passed, N failed" (", N skipped" when any were). Exit 1 on any
# failure.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

results=$BUILD/results.txt

# Guests to boot: variant, test plan, extra kernel arguments.
guests="builtin:builtin:
builtin:debugfs-off:debugfs=off
modules:modules:
nodebugfs:nodebugfs:
baseline:baseline:
debug:debug:panic_on_warn=1"

record()
{
	tee -a "$results"
}

# Every way out ends with the count, even a failure before any test ran.
summary()
{
	local passed failed skipped line

	passed=$(grep -c '^ok ' "$results")
	failed=$(grep -c '^not ok ' "$results")
	skipped=$(grep -c '^skip ' "$results")
	step "done; results in build/results.txt, consoles in build/<variant>/console-*.log"
	line="$passed passed, $failed failed"
	[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
	echo "$line"
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}

mkdir -p "$BUILD"
: >"$results"
if ! "$RIG_DIR/deps.sh" || ! "$RIG_DIR/apply.sh"; then
	echo "not ok host apply_series" | record
	summary
	exit
fi

"$RIG_DIR/build-tests.sh" || echo "not ok host build_selftests" | record
"$RIG_DIR/qemu.sh" || echo "not ok host fetch_qemu" | record
for v in $VARIANTS; do
	if "$RIG_DIR/configure.sh" "$v" && "$RIG_DIR/build.sh" "$v" && "$RIG_DIR/pack.sh" "$v"; then
		"$RIG_DIR/symbols.sh" "$v" | record
	else
		echo "not ok $v host build" | record
	fi
done

echo "$guests" | while IFS=: read -r v plan args; do
	grep -q "^not ok $v host build" "$results" && continue
	if "$RIG_DIR/boot.sh" "$v" check "$plan" $args; then
		echo "ok $plan guest clean_console" | record
	else
		echo "not ok $plan guest clean_console" | record
	fi
	"$RIG_DIR/report.sh" "$plan" "$BUILD/$v/console-$plan.log" | record
done

# The benchmark, briefly, so that it never rots: every figure must come
# out of both kernels; make bench measures for real.
if grep -qE '^not ok (builtin|baseline) host build' "$results"; then
	echo "not ok bench host smoke (a kernel did not build)" | record
elif "$RIG_DIR/bench.sh" smoke | sed "s/^/  bench: /" | record; then
	echo "ok bench host smoke_all_figures" | record
else
	echo "not ok bench host smoke_all_figures" | record
fi

# The series as a reviewer and a distro take it; needs the builtin config.
if grep -q '^not ok builtin host build' "$results"; then
	echo "not ok series host (no builtin config to bisect with)" | record
else
	"$RIG_DIR/series-check.sh" | record
fi

summary
