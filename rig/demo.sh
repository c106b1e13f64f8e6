#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh: build the modules variant (the series' modules on Debian's own
# kernel) and, in its guest, have QEMU 10
# live-migrate a VM with a migdev device, showing QEMU's migration status
# next to migration/state of both devices; then a failed migration and the
# devices' histories.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

prepare_guests modules || exit 1
"$RIG_DIR/boot.sh" modules demo demo
ok=$?
echo
sed -n '/^RIG: demo begin/,/^RIG: demo end/p' "$BUILD/modules/console-demo.log" | grep -v '^RIG: '
grep -q '^RIG: demo exit 0' "$BUILD/modules/console-demo.log" && [ "$ok" = 0 ]
