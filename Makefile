# SPDX-License-Identifier: GPL-2.0
# Front door. The work is done by the scripts in rig/.

.PHONY: check demo bench series shell tree refresh tree-reset clean

check:		## build every variant and run all tests in QEMU guests
	@rig/check.sh

demo:		## walk through a live migration, showing migration/state at each step
	@rig/demo.sh

bench:		## what CONFIG_VFIO_DEBUGFS costs: both kernels, side by side, as ratios
	@rig/bench.sh

series:	## write out/series/: the series as numbered mails with a cover letter
	@rig/deps.sh && rig/series.sh

shell:		## boot the builtin guest into an interactive shell
	@rig/shell.sh

tree:		## build/src: the base tree plus the series, as a git repo to edit
	@rig/apply.sh
	@echo "build/src is ready: edit there, then 'make refresh'"

refresh:	## write edits made in build/src back to the repo and patches/
	@rig/refresh.sh

tree-reset:	## drop edits made in build/src
	@git -C build/src reset -q --hard && git -C build/src clean -qfdx
	@rig/apply.sh

clean:
	rm -rf build out
