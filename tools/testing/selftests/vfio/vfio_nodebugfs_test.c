// SPDX-License-Identifier: GPL-2.0
/*
 * Without VFIO debugfs (CONFIG_VFIO_DEBUGFS=n, CONFIG_DEBUG_FS=n, or
 * debugfs=off on the command line), VFIO works as before: devices
 * register, open and migrate, and no vfio directory appears in debugfs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	struct vfio_dev src, dst, *devs[2] = { &src, &dst };
	struct mig_stream stream = { 0 };
	enum vfio_device_mig_state state;
	uint8_t *want, *got;
	size_t i, size;

	ASSERT_EQ(0, vfio_dev_create(&src, MIGDEV_TYPE));
	ASSERT_EQ(0, vfio_dev_create(&dst, MIGDEV_TYPE));
	ASSERT_EQ(0, bar0_size(src.fd, &size));
	want = malloc(size);
	got = malloc(size);
	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, bar0_fill(src.fd, size, 3));
	ASSERT_EQ(0, bar0_read(src.fd, want, size));

	for (i = 0; i < qemu_migration_len; i++) {
		ASSERT_EQ(0, vfio_mig_step(devs, &qemu_migration[i], &stream));
		ASSERT_EQ(0, vfio_mig_get(devs[qemu_migration[i].dev]->fd, &state));
		ASSERT_EQ(qemu_migration[i].state, state);
	}
	ASSERT_EQ(0, bar0_read(dst.fd, got, size));
	ASSERT_EQ(0, memcmp(want, got, size));

	free(stream.data);
	free(want);
	free(got);
	vfio_dev_destroy(&src);
	vfio_dev_destroy(&dst);
}

TEST_HARNESS_MAIN
