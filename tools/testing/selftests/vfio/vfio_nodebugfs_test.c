// SPDX-License-Identifier: GPL-2.0
/*
 * Without VFIO debugfs (CONFIG_VFIO_DEBUGFS=n, CONFIG_DEBUG_FS=n, or
 * debugfs=off on the command line), VFIO works as before: devices
 * register, open and migrate, and no vfio directory appears in debugfs.
 *
 * On a kernel with VFIO debugfs, such as one built with this folder's
 * config, there is nothing to test: all is skipped. Where VFIO debugfs
 * must be off, run with VFIO_EXPECT_NO_DEBUGFS=1: then a vfio directory
 * in debugfs is a failure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

static bool expect_no_debugfs(void)
{
	const char *env = getenv("VFIO_EXPECT_NO_DEBUGFS");

	return env && !strcmp(env, "1");
}

TEST(no_vfio_debugfs)
{
	struct statfs fs;

	if (!expect_no_debugfs()) {
		/* Unless both hold, no vfio directory proves nothing. */
		if (statfs("/sys/kernel/debug", &fs) || fs.f_type != DEBUGFS_MAGIC)
			SKIP(return, "debugfs is not mounted");
		if (path_exists("/sys/module/vfio"))
			SKIP(return, "vfio is not loaded");
	}
	ASSERT_EQ(-ENOENT, path_exists(VFIO_DEBUGFS));
}

TEST(mtty_registers_and_opens)
{
	struct vfio_dev dev;

	if (path_exists(MTTY_TYPE))
		SKIP(return, "%s is missing: load mtty", MTTY_TYPE);
	ASSERT_EQ(0, vfio_dev_create(&dev, MTTY_TYPE));
	vfio_dev_destroy(&dev);
}

TEST(migration)
{
	struct mig_stream stream = { 0 };
	struct vfio_dev src, dst;
	size_t size;

	if (path_exists(MIGDEV_TYPE))
		SKIP(return, "%s is missing: load migdev", MIGDEV_TYPE);
	ASSERT_EQ(0, vfio_dev_create(&src, MIGDEV_TYPE));
	ASSERT_EQ(0, vfio_dev_create(&dst, MIGDEV_TYPE));
	ASSERT_EQ(0, bar0_size(src.fd, &size));
	ASSERT_EQ(0, vfio_migrate(&src, &dst, &stream));
	ASSERT_EQ(sizeof(struct migdev_stream_header) + size, stream.len);
	free(stream.data);
	vfio_dev_destroy(&src);
	vfio_dev_destroy(&dst);
}

int main(int argc, char **argv)
{
	if (!expect_no_debugfs() && !path_exists(VFIO_DEBUGFS))
		ksft_exit_skip("VFIO debugfs is on; this test is for kernels without it\n");
	return test_harness_run(argc, argv);
}
