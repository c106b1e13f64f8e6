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

shell:		## boot the modules guest (Debian's kernel) into an interactive shell
	@rig/shell.sh

# BASE=6.1 (the default), 6.12 or 7.3 picks the kernel for every target
# but check, which runs every base unless BASE is given.
export BASE

tree:		## build/<base>/src: the base tree plus its series, as a git repo to edit
	@RIG_TREE=1 rig/apply.sh
	@echo "build/$${BASE:-6.1}/src is ready: edit there, then 'make refresh'"

refresh:	## write edits made in build/<base>/src back to the repo and patches/<base>/
	@rig/refresh.sh

tree-reset:	## drop edits made in build/<base>/src
	@git -C build/$${BASE:-6.1}/src reset -q --hard && git -C build/$${BASE:-6.1}/src clean -qfdx
	@rig/apply.sh

clean:
	rm -rf build out
