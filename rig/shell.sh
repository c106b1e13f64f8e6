#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shell.sh: the modules guest (Debian's kernel, the series' modules) with
# an interactive busybox shell.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

prepare_guests modules || exit 1
exec "$RIG_DIR/boot.sh" modules shell shell
