#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shell.sh: the builtin guest with an interactive busybox shell.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

prepare_guests builtin || exit 1
exec "$RIG_DIR/boot.sh" builtin shell shell
