// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO debugfs root follows the vfio module: gone when it is unloaded,
 * back, and empty, when it is loaded again. Each test needs the modules it
 * loads and unloads to be modules, not built in, and used by nothing else;
 * otherwise it is skipped. It loads what it needs, and at the end the
 * modules that were loaded before are loaded again, and only those.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define MIGDEV		KMOD_BIT(KMOD_MIGDEV)
/* What a migdev device needs; mtty is only unloaded, to unload vfio. */
#define MIGDEV_STACK	(VFIO_KMODS_ALL & ~KMOD_BIT(KMOD_MTTY))

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

FIXTURE(kmods) {
	unsigned int loaded;	/* vfio_kmods[] loaded at the start */
	char why[128];
};

FIXTURE_SETUP(kmods)
{
	self->loaded = vfio_kmods_loaded();
}

FIXTURE_TEARDOWN(kmods)
{
	EXPECT_EQ(0, vfio_kmods_restore(self->loaded));
}

TEST_F(kmods, root_follows_module)
{
	struct vfio_dev dev;
	char path[PATH_MAX];

	if (vfio_kmods_prepare(MIGDEV_STACK, VFIO_KMODS_ALL, self->why,
			       sizeof(self->why)))
		SKIP(return, "%s", self->why);

	ASSERT_EQ(0, path_exists(VFIO_DEBUGFS));
	ASSERT_EQ(0, vfio_kmods_unload(VFIO_KMODS_ALL));
	ASSERT_EQ(-ENOENT, path_exists("/sys/module/vfio"));
	ASSERT_EQ(-ENOENT, path_exists(VFIO_DEBUGFS));

	ASSERT_EQ(0, kmod_load("vfio", ""));
	ASSERT_EQ(0, path_exists(VFIO_DEBUGFS));
	ASSERT_EQ(0, entries(VFIO_DEBUGFS));

	/* Unloading with no device ever registered, and once more. */
	ASSERT_EQ(0, kmod_unload("vfio"));
	ASSERT_EQ(-ENOENT, path_exists(VFIO_DEBUGFS));

	ASSERT_EQ(0, vfio_kmods_load(MIGDEV_STACK));
	ASSERT_EQ(0, entries(VFIO_DEBUGFS));
	ASSERT_EQ(0, vfio_dev_create(&dev, MIGDEV_TYPE));
	ASSERT_EQ(1, entries(VFIO_DEBUGFS));
	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/migration/state", dev.uuid);
	ASSERT_EQ(0, path_exists(path));
	vfio_dev_destroy(&dev);
	ASSERT_EQ(0, entries(VFIO_DEBUGFS));
}

/* Unloading the sample removes its devices and their directories. */
TEST_F(kmods, sample_unload_removes_devices)
{
	char uuid[37], path[PATH_MAX];
	int before;

	if (vfio_kmods_prepare(MIGDEV, MIGDEV, self->why, sizeof(self->why)))
		SKIP(return, "%s", self->why);

	before = entries(VFIO_DEBUGFS);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, mdev_create(MIGDEV_TYPE, uuid));
	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s", uuid);
	ASSERT_EQ(0, path_exists(path));
	ASSERT_EQ(0, kmod_unload("migdev"));
	ASSERT_EQ(-ENOENT, path_exists(path));
	/* Devices of other drivers, if any, stay. */
	ASSERT_EQ(before, entries(VFIO_DEBUGFS));
}

/* A device fd holds the sample module: it cannot go while in use. */
TEST_F(kmods, sample_busy_while_open)
{
	struct vfio_dev dev;

	if (vfio_kmods_prepare(MIGDEV, MIGDEV, self->why, sizeof(self->why)))
		SKIP(return, "%s", self->why);

	ASSERT_EQ(0, vfio_dev_create(&dev, MIGDEV_TYPE));
	ASSERT_NE(0, kmod_unload("migdev"));
	ASSERT_TRUE(kmod_state("migdev") == KMOD_LOADED);
	vfio_dev_destroy(&dev);
	ASSERT_EQ(0, kmod_unload("migdev"));
}

/* region_size sets BAR0, and so the stream; out of range fails to load. */
TEST_F(kmods, sample_region_size)
{
	struct mig_stream stream = { 0 };
	struct vfio_dev src, dst;
	size_t size;

	if (vfio_kmods_prepare(MIGDEV, MIGDEV, self->why, sizeof(self->why)))
		SKIP(return, "%s", self->why);

	ASSERT_EQ(0, kmod_unload("migdev"));
	ASSERT_NE(0, kmod_load("migdev", "region_size=0"));
	ASSERT_NE(0, kmod_load("migdev", "region_size=4194305"));
	ASSERT_EQ(0, kmod_load("migdev", "region_size=4194304"));

	ASSERT_EQ(0, vfio_dev_create(&src, MIGDEV_TYPE));
	ASSERT_EQ(0, vfio_dev_create(&dst, MIGDEV_TYPE));
	ASSERT_EQ(0, bar0_size(src.fd, &size));
	ASSERT_EQ((size_t)4194304, size);
	ASSERT_EQ(0, vfio_migrate(&src, &dst, &stream));
	ASSERT_EQ(sizeof(struct migdev_stream_header) + size, stream.len);
	free(stream.data);
	vfio_dev_destroy(&src);
	vfio_dev_destroy(&dst);

	ASSERT_EQ(0, kmod_unload("migdev"));
	ASSERT_EQ(0, kmod_load("migdev", ""));
	ASSERT_EQ(0, vfio_dev_create(&src, MIGDEV_TYPE));
	ASSERT_EQ(0, bar0_size(src.fd, &size));
	ASSERT_EQ((size_t)16384, size);
	vfio_dev_destroy(&src);
}

/*
 * BAR0 is region_size rounded up to a power of two, at least 4 KiB, as
 * PCI and QEMU need: past region_size it reads as zero and drops writes,
 * and only region_size bytes migrate.
 */
TEST_F(kmods, sample_bar0_rounded_up)
{
	static const struct {
		const char *param;
		size_t region, bar;
	} sizes[] = {
		{ "region_size=10000", 10000, 16384 },
		{ "region_size=1", 1, 4096 },
	};
	struct mig_stream stream = { 0 };
	struct vfio_region_info info;
	struct vfio_dev src, dst;
	uint8_t *buf;
	uint64_t len;
	uint32_t bar;
	size_t i, j;

	if (vfio_kmods_prepare(MIGDEV, MIGDEV, self->why, sizeof(self->why)))
		SKIP(return, "%s", self->why);

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ASSERT_EQ(0, kmod_unload("migdev"));
		ASSERT_EQ(0, kmod_load("migdev", sizes[i].param));
		ASSERT_EQ(0, vfio_dev_create(&src, MIGDEV_TYPE));
		ASSERT_EQ(0, vfio_dev_create(&dst, MIGDEV_TYPE));

		ASSERT_EQ(0, vfio_get_region_info(src.fd,
						  VFIO_PCI_BAR0_REGION_INDEX,
						  &info));
		EXPECT_EQ(sizes[i].bar, info.size) TH_LOG("%s", sizes[i].param);
		ASSERT_EQ(0, vfio_config_write32(src.fd, PCI_BASE_ADDRESS_0,
						 0xffffffff));
		ASSERT_EQ(0, vfio_config_read32(src.fd, PCI_BASE_ADDRESS_0,
						&bar));
		EXPECT_EQ(~(uint32_t)(sizes[i].bar - 1), bar);
		ASSERT_EQ(0, vfio_mig_data_size(src.fd, &len));
		EXPECT_EQ(sizeof(struct migdev_stream_header) + sizes[i].region,
			  len);

		/* All of BAR0 takes the write; region_size bytes keep it. */
		buf = malloc(sizes[i].bar);
		ASSERT_NE(NULL, buf);
		memset(buf, 0xa5, sizes[i].bar);
		ASSERT_EQ((ssize_t)sizes[i].bar,
			  pwrite(src.fd, buf, sizes[i].bar, info.offset));
		ASSERT_EQ((ssize_t)sizes[i].bar,
			  pread(src.fd, buf, sizes[i].bar, info.offset));
		for (j = 0; j < sizes[i].bar; j++)
			if (buf[j] != (j < sizes[i].region ? 0xa5 : 0))
				break;
		EXPECT_EQ(sizes[i].bar, j) TH_LOG("%s", sizes[i].param);
		free(buf);

		ASSERT_EQ(0, vfio_migrate(&src, &dst, &stream));
		EXPECT_EQ(len, stream.len);
		free(stream.data);
		stream.data = NULL;
		vfio_dev_destroy(&src);
		vfio_dev_destroy(&dst);
	}

	ASSERT_EQ(0, kmod_unload("migdev"));
	ASSERT_EQ(0, kmod_load("migdev", ""));
}

TEST_HARNESS_MAIN
