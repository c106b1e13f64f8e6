#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench.sh [smoke]: what CONFIG_VFIO_DEBUGFS costs. Boots the modules
# variant (with it) and the baseline variant (the same config without it),
# both Debian's own kernel with the series' modules, under the same QEMU
# settings, alternately, ROUNDS times each (A B A B, so
# that drift on a noisy host falls on both), runs guest/vfio-bench.c in
# each, and prints the median of each figure for both kernels, their ratio
# and the target it must meet. The table also goes to build/bench.json
# (build/bench-smoke.json for smoke, which uses few iterations, one round,
# and checks only that every figure came out). migdev's own debugfs files
# are turned off: they are the sample's, not the feature's.
#
# The guests run under TCG with -icount (boot.sh, RIG_ICOUNT): their clock
# counts guest instructions, one per ns, so a figure is what the code
# executes, repeatable from boot to boot. Under plain TCG, wall-clock
# figures of the same kernel differ by up to 2x between boots;
# BENCH_CLOCK=wall measures that way all the same.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:-full}
if [ "$mode" = smoke ]; then
	# make check has just built both.
	rounds=1
	json=$BUILD/bench-smoke.json
else
	[ -n "${BENCH_NO_BUILD:-}" ] || prepare_guests modules baseline || exit 1
	rounds=${BENCH_ROUNDS:-5}
	json=$BUILD/bench.json
fi
raw=$BUILD/bench-$mode.txt
: >"$raw"
clock=${BENCH_CLOCK:-icount}
case $clock in
icount)	export RIG_ICOUNT=1 ;;
wall)	unset RIG_ICOUNT ;;
*)	die "bench: BENCH_CLOCK is icount or wall, not $clock" ;;
esac

for r in $(seq "$rounds"); do
	for v in modules baseline; do
		RIG_TIMEOUT=600 "$RIG_DIR/boot.sh" "$v" bench "bench-$mode-$r" "rig.bench=$mode" \
			migdev.fault_injection=0 >&2 ||
			die "bench: the $v guest failed"
		log=$BUILD/$v/console-bench-$mode-$r.log
		grep -qx 'RIG: migdev fault_injection N' "$log" ||
			die "bench: migdev's fault injection is not off in the $v guest"
		grep -q '^BENCH-DONE' "$log" ||
			die "bench: $v did not finish: $(grep -m1 '^BENCH-ERROR' "$log" || tail -n 1 "$log")"
		sed -n "s/^BENCH \([a-z0-9_]*\) \(-\{0,1\}[0-9]*\)\$/$v \1 \2/p" "$log" >>"$raw"
	done
done

# Medians, then one row per figure: with, without, ratio, target, verdict.
sort -k1,1 -k2,2 -k3,3n "$raw" | awk -v json="$json" -v rounds="$rounds" \
	-v mode="$mode" -v clock="$clock" \
	-v cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" '
{
	key = $1 " " $2
	vals[key, ++n[key]] = $3
}
function median(key,   c) {
	c = n[key]
	if (!c)
		return ""
	return c % 2 ? vals[key, (c + 1) / 2] : (vals[key, c / 2] + vals[key, c / 2 + 1]) / 2
}
function row(label, with, without, ratio, target, met) {
	printf "%-34s %12s %12s %8s  %-22s %s\n", label, with, without, ratio, target, met
	rows = rows (rows ? ",\n" : "") sprintf("    {\"figure\": \"%s\", \"with\": %s, \"without\": %s, \"ratio\": %s, \"target\": \"%s\", \"met\": \"%s\"}",
		label, with == "-" ? "null" : with, without == "-" ? "null" : without,
		ratio == "-" ? "null" : ratio, target, met)
}
function verdict(ok) {
	if (mode == "smoke")
		return "(smoke)"
	return ok ? "yes" : "NO"
}
# A cost of the feature: with / without, against a ceiling.
function cost(f, label, ceiling,   a, b, r) {
	a = median("modules " f); b = median("baseline " f)
	if (a == "" || b == "" || b == 0) {
		missing = missing " " f
		return
	}
	r = sprintf("%.3f", a / b)
	row(label, a, b, r, "ratio <= " ceiling, verdict(a / b <= ceiling + 0))
}
# A cost of the feature in instructions (ns under icount): with - without,
# against a ceiling.
function added(f, label, ceiling,   a, b) {
	a = median("modules " f); b = median("baseline " f)
	if (a == "" || b == "" || b == 0) {
		missing = missing " " f
		return
	}
	row(label, a, b, sprintf("%.3f", a / b), "added " a - b " <= " ceiling, verdict(a - b <= ceiling))
}
# What the feature adds to @f, in instructions, with no target.
function reported(f, label,   a, b) {
	a = median("modules " f); b = median("baseline " f)
	if (a == "" || b == "" || b == 0) {
		missing = missing " " f
		return
	}
	row(label, a, b, sprintf("%.3f", a / b), "added " a - b ", none", "-")
}
END {
	if (clock == "icount")
		print "times: the guest clock under QEMU -icount shift=0, one ns per guest instruction"
	else
		print "times: wall clock under TCG (varies from boot to boot)"
	printf "%-34s %12s %12s %8s  %-22s %s\n", "figure (median of " rounds ")", "debugfs=y", "debugfs=n", "ratio", "target", "met"
	added("transition_ns", "SET RUNNING<->STOP (ns)", 120)
	added("transition_traced_ns", "SET, vfio events on (ns)", 120)
	# What tracing itself costs a SET, on either kernel: no target.
	a = median("modules transition_traced_ns") - median("modules transition_ns")
	b = median("baseline transition_traced_ns") - median("baseline transition_ns")
	row("vfio events on, added per SET (ns)", a, b, "-", "none, reference", "-")
	# The other events of the history: what they add, no target.
	reported("reset_ns", "VFIO_DEVICE_RESET (ns)")
	reported("open_close_ns", "first open + last close (ns)")
	cost("qemu_migration_ns", "QEMU live migration, end to end (ns)", "1.01")
	small = median("modules devices_small"); large = median("modules devices_large")
	cost("register_ns_small", "register, " small " devices (ns/dev)", "1.10")
	cost("register_ns_large", "register, " large " devices (ns/dev)", "1.10")
	cost("remove_ns_small", "remove, " small " devices (ns/dev)", "1.10")
	cost("remove_ns_large", "remove, " large " devices (ns/dev)", "1.10")

	# Flat: what registering costs per device grows no faster from the
	# small to the large batch with the feature than without it.
	a1 = median("modules register_ns_small"); a2 = median("modules register_ns_large")
	b1 = median("baseline register_ns_small"); b2 = median("baseline register_ns_large")
	if (a1 && a2 && b1 && b2) {
		ga = sprintf("%.3f", a2 / a1); gb = sprintf("%.3f", b2 / b1)
		r = sprintf("%.3f", ga / gb)
		row("register growth " small "->" large " (x)", ga, gb, r, "ratio <= 1.10", verdict(ga / gb <= 1.10))
	} else
		missing = missing " register_growth"

	# Memory: what the feature adds per device, in bytes.
	a = median("modules slab_bytes_per_device"); b = median("baseline slab_bytes_per_device")
	if (a != "" && b != "") {
		d = a - b
		row("slab per device (bytes)", a, b, sprintf("%.3f", a / b), "added " d " < 4096", verdict(d < 4096))
	} else
		missing = missing " slab_bytes_per_device"

	# Reads, on the kernel with debugfs, against a sysfs attribute.
	s = median("modules read_sysfs_ns"); t = median("modules read_state_ns"); h = median("modules read_history_ns")
	if (s && t && h && median("baseline read_sysfs_ns")) {
		row("read sysfs device_api (ns)", s, median("baseline read_sysfs_ns"), sprintf("%.3f", s / median("baseline read_sysfs_ns")), "none, reference", "-")
		row("read migration/state (ns)", t, "-", sprintf("%.3f", t / s), "vs sysfs <= 2", verdict(t / s <= 2))
		row("read migration/history, full (ns)", h, "-", sprintf("%.3f", h / s), "vs sysfs, none", "-")
	} else
		missing = missing " reads"
	if (median("baseline read_state_ns") != "")
		missing = missing " (state readable without debugfs)"

	printf "{\n  \"mode\": \"%s\",\n  \"rounds\": %d,\n  \"clock\": \"%s\",\n  \"host_cpu\": \"%s\",\n  \"figures\": [\n%s\n  ],\n  \"missing\": \"%s\"\n}\n",
		mode, rounds, clock, cpu, rows, missing > json
	if (missing != "") {
		print "bench: missing figures:" missing > "/dev/stderr"
		exit 1
	}
}
'
