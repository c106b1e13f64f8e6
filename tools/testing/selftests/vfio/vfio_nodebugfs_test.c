// SPDX-License-Identifier: GPL-2.0
/*
 * Without VFIO debugfs (CONFIG_VFIO_DEBUGFS=n, CONFIG_DEBUG_FS=n, or
 * debugfs=off on the command line), VFIO works as before: devices
 * register, open and migrate, and no vfio directory appears in debugfs.
 */
#include <errno.h>
#include <stdlib.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

TEST(no_vfio_debugfs)
{
	ASSERT_EQ(-ENOENT, path_exists(VFIO_DEBUGFS));
}

TEST(mtty_registers_and_opens)
{
	struct vfio_dev dev;

	if (path_exists(MTTY_TYPE))
		SKIP(return, "mtty is not loaded");
	ASSERT_EQ(0, vfio_dev_create(&dev, MTTY_TYPE));
	vfio_dev_destroy(&dev);
}

TEST(migration)
{
	struct mig_stream stream = { 0 };
	struct vfio_dev src, dst;

	ASSERT_EQ(0, vfio_dev_create(&src, MIGDEV_TYPE));
	ASSERT_EQ(0, vfio_dev_create(&dst, MIGDEV_TYPE));
	ASSERT_EQ(0, vfio_migrate(&src, &dst, &stream));
	ASSERT_EQ(sizeof(struct migdev_stream_header) + 16384, stream.len);
	free(stream.data);
	vfio_dev_destroy(&src);
	vfio_dev_destroy(&dst);
}

TEST_HARNESS_MAIN
