#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# report.sh LABEL LOG: one line per test found in a guest's console log,
# "ok|not ok|skip LABEL PROGRAM TEST [# reason]", from the TAP each selftest
# prints between "RIG: run" and "RIG: exit", and one for the CPUs the guest
# brought up, which must be at least two. A program that reports fewer tests
# than it planned, exits non-zero with no failed test, or never exits (the
# guest died under it), is a failure.
set -euo pipefail

label=$1
log=$2

awk -v label="$label" '
/^RIG: cpus / {
	cpus = $3
	print (cpus >= 2 ? "ok" : "not ok"), label, "guest cpus_online_at_least_2 #", cpus, "online:", $5
	next
}
/^RIG: run / {
	prog = $3; planned = 0; seen = 0; failed = 0; next
}
prog != "" && /^# figures: / {
	print "  " label " " prog " " substr($0, 3); next
}
prog != "" && /^1\.\.[0-9]+$/ {
	planned = substr($0, 4) + 0; next
}
prog != "" && /^(not )?ok [0-9]+ / {
	seen++
	line = $0
	result = (line ~ /^not ok/) ? "not ok" : "ok"
	sub(/^(not )?ok [0-9]+ /, "", line)
	if (line ~ /# SKIP/) {
		result = "skip"
	}
	if (result == "not ok")
		failed++
	print result, label, prog, line
	next
}
/^RIG: exit / {
	if (seen < planned)
		print "not ok", label, $3, "(only " seen " of " planned " tests reported)"
	else if ($4 != 0 && failed == 0)
		print "not ok", label, $3, "(exit status " $4 ")"
	prog = ""
}
END {
	if (prog != "")
		print "not ok", label, prog, "(no exit: the guest stopped while it ran)"
	if (cpus == "")
		print "not ok", label, "guest cpus_online_at_least_2 # no RIG: cpus line"
}
' "$log"
