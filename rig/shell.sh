#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shell.sh: the builtin guest with an interactive busybox shell.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

"$RIG_DIR/deps.sh" && "$RIG_DIR/apply.sh" && "$RIG_DIR/build-tests.sh" &&
	"$RIG_DIR/configure.sh" builtin && "$RIG_DIR/build.sh" builtin &&
	"$RIG_DIR/pack.sh" builtin || exit 1
exec "$RIG_DIR/boot.sh" builtin shell shell
