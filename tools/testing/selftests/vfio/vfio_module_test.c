// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO debugfs root follows the vfio module: gone when it is unloaded,
 * back, and empty, when it is loaded again. Needs VFIO built as modules.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

/* Users of vfio first, vfio last. */
#define UNLOAD_ALL "rmmod migdev mtty mdev vfio_iommu_type1 vfio 2>&1"
#define LOAD_ALL "modprobe -a vfio vfio_iommu_type1 mdev migdev mtty 2>&1"

static int entries(const char *dir)
{
	struct dirent **names;
	int i, n;

	n = scandir(dir, &names, NULL, NULL);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return n - 2;
}

TEST(root_follows_module)
{
	struct vfio_dev dev;
	char path[PATH_MAX];

	if (path_exists("/sys/module/vfio/initstate"))
		SKIP(return, "vfio is not a loaded module");

	ASSERT_EQ(0, path_exists(VFIO_DEBUGFS));
	ASSERT_EQ(0, system(UNLOAD_ALL));
	ASSERT_EQ(-ENOENT, path_exists("/sys/module/vfio"));
	ASSERT_EQ(-ENOENT, path_exists(VFIO_DEBUGFS));

	ASSERT_EQ(0, system("modprobe vfio"));
	ASSERT_EQ(0, path_exists(VFIO_DEBUGFS));
	ASSERT_EQ(0, entries(VFIO_DEBUGFS));

	/* Unloading with no device ever registered, and once more. */
	ASSERT_EQ(0, system("rmmod vfio"));
	ASSERT_EQ(-ENOENT, path_exists(VFIO_DEBUGFS));

	ASSERT_EQ(0, system(LOAD_ALL));
	ASSERT_EQ(0, entries(VFIO_DEBUGFS));
	ASSERT_EQ(0, vfio_dev_create(&dev, MIGDEV_TYPE));
	ASSERT_EQ(1, entries(VFIO_DEBUGFS));
	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/migration/state", dev.uuid);
	ASSERT_EQ(0, path_exists(path));
	vfio_dev_destroy(&dev);
	ASSERT_EQ(0, entries(VFIO_DEBUGFS));
}

/* Unloading the sample removes its devices and their directories. */
TEST(sample_unload_removes_devices)
{
	char uuid[37], path[PATH_MAX];

	if (path_exists("/sys/module/migdev/initstate"))
		SKIP(return, "migdev is not a loaded module");

	ASSERT_EQ(0, mdev_create(MIGDEV_TYPE, uuid));
	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s", uuid);
	ASSERT_EQ(0, path_exists(path));
	ASSERT_EQ(0, system("rmmod migdev"));
	ASSERT_EQ(-ENOENT, path_exists(path));
	ASSERT_EQ(0, entries(VFIO_DEBUGFS));
	ASSERT_EQ(0, system("modprobe migdev"));
}

/* A device fd holds the sample module: it cannot go while in use. */
TEST(sample_busy_while_open)
{
	struct vfio_dev dev;

	if (path_exists("/sys/module/migdev/initstate"))
		SKIP(return, "migdev is not a loaded module");

	ASSERT_EQ(0, vfio_dev_create(&dev, MIGDEV_TYPE));
	ASSERT_NE(0, system("rmmod migdev 2>/dev/null"));
	ASSERT_EQ(0, path_exists("/sys/module/migdev"));
	vfio_dev_destroy(&dev);
	ASSERT_EQ(0, system("rmmod migdev && modprobe migdev"));
}

/* region_size sets BAR0, and so the stream; out of range fails to load. */
TEST(sample_region_size)
{
	struct mig_stream stream = { 0 };
	struct vfio_dev src, dst;
	size_t size;

	if (path_exists("/sys/module/migdev/initstate"))
		SKIP(return, "migdev is not a loaded module");

	ASSERT_EQ(0, system("rmmod migdev"));
	ASSERT_NE(0, system("modprobe migdev region_size=0 2>/dev/null"));
	ASSERT_NE(0, system("modprobe migdev region_size=4194305 2>/dev/null"));
	ASSERT_EQ(0, system("modprobe migdev region_size=4194304"));

	ASSERT_EQ(0, vfio_dev_create(&src, MIGDEV_TYPE));
	ASSERT_EQ(0, vfio_dev_create(&dst, MIGDEV_TYPE));
	ASSERT_EQ(0, bar0_size(src.fd, &size));
	ASSERT_EQ(4194304, size);
	ASSERT_EQ(0, vfio_migrate(&src, &dst, &stream));
	ASSERT_EQ(sizeof(struct migdev_stream_header) + size, stream.len);
	free(stream.data);
	vfio_dev_destroy(&src);
	vfio_dev_destroy(&dst);

	ASSERT_EQ(0, system("rmmod migdev && modprobe migdev"));
	ASSERT_EQ(0, vfio_dev_create(&src, MIGDEV_TYPE));
	ASSERT_EQ(0, bar0_size(src.fd, &size));
	ASSERT_EQ(16384, size);
	vfio_dev_destroy(&src);
}

TEST_HARNESS_MAIN
