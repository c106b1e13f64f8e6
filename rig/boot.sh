#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# boot.sh VARIANT RUN PLAN [ARG...]: boot build/VARIANT in QEMU with
# rig.run=RUN rig.plan=PLAN and ARGs on the kernel command line. The console
# goes to build/VARIANT/console-PLAN.log. Exits 0 when the guest ran to its
# end with a clean console; otherwise says why, shows the console from the
# first splat (or its last 40 lines), and exits 1. RUN=shell is
# interactive. RIG_ACCEL=tcg|kvm forces an accelerator, RIG_ICOUNT=1 runs
# TCG with -icount, RIG_TIMEOUT=seconds.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

variant=$1 run=$2 plan=$3
shift 3
out=$BUILD/$variant
log=$out/console-$plan.log
timeout=${RIG_TIMEOUT:-300}

# KVM is used only once a guest has really booted with it; TCG otherwise.
accel()
{
	local cache=$BUILD/accel${machine[0]:+-microvm}

	if [ -n "${RIG_ACCEL:-}" ]; then
		echo "$RIG_ACCEL"
		return
	fi
	if [ ! -s "$cache" ]; then
		echo tcg >"$cache"
		if [ -w /dev/kvm ] && timeout -s KILL 15 "${qemu[@]/#ACCEL/kvm}" -serial stdio \
			-append "console=ttyS0 quiet panic=-1 rig.run=probe" </dev/null 2>&1 |
			grep -q 'RIG: probe ok'; then
			echo kvm >"$cache"
		fi
	fi
	cat "$cache"
}

# Debian's kernel (build.sh copies it to vmlinuz) on QEMU's default PC,
# whose ACPI tables give it both CPUs. The rig's own kernel on microvm,
# whose MP table does, so that it needs no ACPI and no PCI: half of what
# it would build, and the slowest part of its boot under KASAN.
if is_debian_variant "$variant"; then
	kernel=$out/vmlinuz
	machine=()
else
	kernel=$out/arch/x86/boot/bzImage
	machine=(-M microvm,acpi=off,pit=on,pic=on,rtc=on,isa-serial=on)
fi
qemu=(qemu-system-x86_64 "${machine[@]}" -accel ACCEL -m 1024 -nodefaults -display none
      -no-reboot -kernel "$kernel" -initrd "$out/initramfs.cpio")
cmdline="console=ttyS0 loglevel=5 panic=-1 oops=panic rig.run=$run rig.plan=$plan $*"
# microvm has no keyboard controller to reset through; a triple fault
# resets it, which -no-reboot turns into QEMU's exit.
[ ${#machine[@]} = 0 ] || cmdline="$cmdline reboot=t"
# Turning the first trace event on makes the kernel record task names on
# every context switch: it patches __schedule (a static call, and a jump
# label) with int3 while the other CPU runs it, and QEMU 7.2's
# multi-threaded TCG once ran a stale copy there ("int3: 0000 [#1]" in
# __schedule as vfio_trace_test turned the vfio events on). An event on
# from early boot, before the second CPU starts, patches it once, and no
# test's event switch touches __schedule again. initcall_finish fires
# during boot only. Test runs only: the benchmark measures an untraced
# kernel.
if [ "$run" = check ]; then
	cmdline="$cmdline trace_event=initcall:initcall_finish"
fi
if [ -n "${RIG_ICOUNT:-}" ]; then
	# The guest's clock counts the instructions it runs, one per ns: its
	# timings are then repeatable to the instruction (bench.sh). One CPU:
	# QEMU 7.2 with -icount and two never gets through the firmware.
	acc=tcg
	qemu+=(-smp 1 -icount shift=0,sleep=off)
else
	# Two CPUs, so that the tests' threads really run at once.
	qemu+=(-smp 2)
	acc=$(accel)
	# Under plain TCG the guest finds nothing to calibrate its TSC
	# against, marks it unstable and falls back to jiffies: every clock
	# it reads, local_clock() and clock_gettime() alike, then moves in
	# 4 ms steps. TCG's TSC runs at the host's rate, so tell the guest
	# that rate, as a hypervisor would.
	khz=$(awk -F': ' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
	if [ "$acc" = tcg ] && [ -n "$khz" ]; then
		cmdline="$cmdline tsc_early_khz=$khz tsc=reliable"
	fi
fi
qemu=("${qemu[@]/#ACCEL/$acc}")

if [ "$run" = shell ]; then
	exec "${qemu[@]}" -serial mon:stdio -append "$cmdline"
fi

step "boot $variant ($plan, $acc) console: ${log#$TOP/}"
rm -f "${log%.log}.first.log"
timeout -s KILL "$timeout" "${qemu[@]}" -serial stdio -append "$cmdline" </dev/null >"$log" 2>&1
rc=$?
sed -i 's/\r$//' "$log"
# QEMU 7.2's multi-threaded TCG sometimes runs a stale copy of kernel
# text that the kernel has just patched (a jump label or static call,
# with int3) on the other CPU: the guest dies of an int3 the kernel no
# longer placed, wherever the patched site is (seen in __schedule and
# __timekeeping_advance). That is the emulator's, not the kernel's; the
# guest is booted again, at most twice, and a third death fails the run.
splat_re='BUG:|WARNING:|Oops|Kernel panic|Call Trace:|general protection fault|UBSAN:|int3: [0-9a-f]{4} \[#'
# Only when the int3 is the first thing the kernel complained of (6.1
# prints "int3: 0000 [#1]", later kernels "Oops: int3: ..."), so that no
# earlier splat is lost with the first console, and only in the core
# kernel's text: an int3 in a module's ("RIP: ...+0x1/0x2 [vfio]") may be
# that module's own patching gone wrong, and fails at once.
# Likewise a guest that reset itself, silently, before its /init ran
# (seen once on 6.1's debug kernel under TCG): nothing of the rig's or of
# the series' modules had run yet.
# Why the boot in $log died of TCG, not of the kernel; "" if it did not.
tcg_death()
{
	local first rip

	[ "$acc" = tcg ] || return 0
	first=$(grep -m 1 -E "$splat_re" "$log")
	rip=$(grep -m 1 -o 'RIP: .*' "$log")
	if [[ $first =~ ^\[\ *[0-9.]+\]\ (Oops:\ )?int3:\ [0-9a-f]{4}\ \[# ]] &&
	   [[ $rip != *"["* ]]; then
		echo "int3 oops under TCG ($rip)"
	elif [ "$rc" = 0 ] && [ -z "$first" ] && ! grep -q '^RIG: start' "$log"; then
		echo "the guest reset before its /init ran"
	fi
}
# Up to two boots more: under load the same death has come twice in a
# row (Debian's 7.3 image, in set_next_task_fair as the second CPU came
# up). The first console that died is kept.
for retry in 1 2; do
	why_retry=$(tcg_death)
	[ -n "$why_retry" ] || break
	[ -f "${log%.log}.first.log" ] || mv "$log" "${log%.log}.first.log"
	echo "rig: $variant ($plan): $why_retry, console in ${log%.log}.first.log; booting again ($retry of 2)" >&2
	timeout -s KILL "$timeout" "${qemu[@]}" -serial stdio -append "$cmdline" </dev/null >"$log" 2>&1
	rc=$?
	sed -i 's/\r$//' "$log"
done

why=""
splat=$(grep -m 1 -E "$splat_re" "$log")
if [ -n "$splat" ]; then
	why="the kernel complained: $splat"
elif [ "$rc" = 137 ]; then
	why="the guest hung: killed after ${timeout}s"
elif ! grep -q '^RIG: done' "$log"; then
	why="the guest stopped before its end (qemu exit $rc)"
fi
if [ -n "$why" ] && [ -n "$splat" ]; then
	# The top of a splat says what broke; CI keeps only so much output.
	echo "rig: $variant ($plan): $why; the console from there:" >&2
	grep -m 1 -A 59 -E "$splat_re" "$log" | sed 's/^/  | /' >&2
	exit 1
elif [ -n "$why" ]; then
	echo "rig: $variant ($plan): $why; last 40 console lines:" >&2
	tail -n 40 "$log" | sed 's/^/  | /' >&2
	exit 1
fi
exit 0
