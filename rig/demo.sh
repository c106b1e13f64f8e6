#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh: build the builtin variant and show a live migration walked
# through in its guest, with migration/state of both devices at every step.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

prepare_guests builtin || exit 1
"$RIG_DIR/boot.sh" builtin demo demo
ok=$?
echo
sed -n '/^RIG: demo begin/,/^RIG: demo end/p' "$BUILD/builtin/console-demo.log" | grep -v '^RIG: '
grep -q '^RIG: demo exit 0' "$BUILD/builtin/console-demo.log" && [ "$ok" = 0 ]
