// SPDX-License-Identifier: GPL-2.0
/*
 * migdev as the PCI device that QEMU's vfio-pci takes it for: the device,
 * region and interrupt info, its emulated config space, which must work
 * in every migration state, and the stop-copy size
 * (VFIO_DEVICE_FEATURE_MIG_DATA_SIZE). The values are exact: they are
 * what QEMU reads. None of it needs VFIO debugfs but one test, which
 * skips without it.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

/* migdev's identity (samples/vfio-mdev/migdev.c). */
#define MIGDEV_VENDOR		0x1af4
#define MIGDEV_DEVICE		0x10f0
#define MIGDEV_REVISION		0x01
#define MIGDEV_CLASS		0xff	/* a device that fits no class */
#define MIGDEV_SUBVENDOR	0x1af4
#define MIGDEV_SUBDEVICE	0x1100

#define CFG_SIZE		256
#define REGION_RW		(VFIO_REGION_INFO_FLAG_READ | \
				 VFIO_REGION_INFO_FLAG_WRITE)

static void put16(uint8_t *cfg, unsigned int off, uint16_t val)
{
	cfg[off] = val;
	cfg[off + 1] = val >> 8;
}

static void put32(uint8_t *cfg, unsigned int off, uint32_t val)
{
	put16(cfg, off, val);
	put16(cfg, off + 2, val >> 16);
}

static uint16_t get16(const uint8_t *cfg, unsigned int off)
{
	return cfg[off] | cfg[off + 1] << 8;
}

/* Config space as migdev powers on, and as a reset leaves it. */
static void config_power_on(uint8_t cfg[CFG_SIZE])
{
	memset(cfg, 0, CFG_SIZE);
	put16(cfg, PCI_VENDOR_ID, MIGDEV_VENDOR);
	put16(cfg, PCI_DEVICE_ID, MIGDEV_DEVICE);
	cfg[PCI_REVISION_ID] = MIGDEV_REVISION;
	cfg[PCI_CLASS_DEVICE + 1] = MIGDEV_CLASS;
	put16(cfg, PCI_SUBSYSTEM_VENDOR_ID, MIGDEV_SUBVENDOR);
	put16(cfg, PCI_SUBSYSTEM_ID, MIGDEV_SUBDEVICE);
}

/* The whole config space, in one read as QEMU reads it, must be @want. */
static void expect_config(struct __test_metadata *_metadata, int fd,
			  const uint8_t want[CFG_SIZE])
{
	uint8_t got[CFG_SIZE];
	int i;

	ASSERT_EQ(0, vfio_config_read(fd, 0, got, sizeof(got)));
	for (i = 0; i < CFG_SIZE; i++)
		EXPECT_EQ(want[i], got[i]) TH_LOG("config byte 0x%02x", i);
}

static int config_read16(int fd, unsigned int off, uint16_t *val)
{
	uint8_t le[2];
	int ret;

	ret = vfio_config_read(fd, off, le, sizeof(le));
	if (!ret)
		*val = get16(le, 0);
	return ret;
}

static int config_write16(int fd, unsigned int off, uint16_t val)
{
	uint8_t le[2];

	put16(le, 0, val);
	return vfio_config_write(fd, off, le, sizeof(le));
}

/* A VFIO_DEVICE_FEATURE call of the stop-copy size; 0 or -errno. */
static int data_size_call(int fd, uint32_t flags, uint32_t argsz,
			  uint64_t *len)
{
	struct {
		struct vfio_device_feature feature;
		struct vfio_device_feature_mig_data_size size;
	} req = {
		.feature.argsz = argsz,
		.feature.flags = flags,
		.size.stop_copy_length = 0xdead,
	};

	if (ioctl(fd, VFIO_DEVICE_FEATURE, &req))
		return -errno;
	*len = req.size.stop_copy_length;
	return 0;
}

FIXTURE(pci) {
	struct vfio_dev dev;
	size_t region_size;	/* BAR0's memory, what migrates */
	size_t bar_size;
	uint8_t power_on[CFG_SIZE];
};

FIXTURE_SETUP(pci)
{
	ASSERT_EQ(0, vfio_dev_create(&self->dev, MIGDEV_TYPE));
	ASSERT_EQ(0, migdev_region_size(&self->region_size));
	self->bar_size = migdev_bar_size(self->region_size);
	config_power_on(self->power_on);
}

FIXTURE_TEARDOWN(pci)
{
	vfio_dev_destroy(&self->dev);
}

/* QEMU wants a PCI device with all nine regions and five IRQ indexes. */
TEST_F(pci, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ((uint32_t)(VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET),
		  info.flags);
	EXPECT_EQ(9U, info.num_regions);
	EXPECT_EQ(5U, info.num_irqs);

	info.argsz = offsetof(struct vfio_device_info, num_irqs);
	EXPECT_EQ(-1, ioctl(self->dev.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * BAR0 and config space, at index << 40 as vfio-pci places them; the
 * other BARs and the ROM are there with size 0; VGA is EINVAL, as from
 * vfio-pci for a device without VGA, and so is index 9.
 */
TEST_F(pci, region_info)
{
	struct vfio_region_info info;
	uint64_t size;
	uint32_t i;

	for (i = 0; i < VFIO_PCI_VGA_REGION_INDEX; i++) {
		ASSERT_EQ(0, vfio_get_region_info(self->dev.fd, i, &info));
		size = i == VFIO_PCI_BAR0_REGION_INDEX ? self->bar_size :
		       i == VFIO_PCI_CONFIG_REGION_INDEX ? CFG_SIZE : 0;
		EXPECT_EQ((uint64_t)i << 40, info.offset) TH_LOG("region %u", i);
		EXPECT_EQ(size, info.size) TH_LOG("region %u", i);
		EXPECT_EQ(size ? REGION_RW : 0U, info.flags)
			TH_LOG("region %u", i);
	}
	EXPECT_EQ(-EINVAL, vfio_get_region_info(self->dev.fd,
						VFIO_PCI_VGA_REGION_INDEX, &info));
	EXPECT_EQ(-EINVAL, vfio_get_region_info(self->dev.fd, 9, &info));
	EXPECT_EQ(-EINVAL, vfio_get_region_info(self->dev.fd, UINT32_MAX,
						&info));

	info.argsz = offsetof(struct vfio_region_info, offset);
	info.index = VFIO_PCI_BAR0_REGION_INDEX;
	EXPECT_EQ(-1, ioctl(self->dev.fd, VFIO_DEVICE_GET_REGION_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * INTx, MSI, MSI-X and request: each there, none with an IRQ. The error
 * index is EINVAL, as vfio-pci answers for a device that is not PCIe (QEMU
 * then sets up no error recovery, and says nothing).
 */
TEST_F(pci, irq_info)
{
	struct vfio_irq_info info;
	uint32_t i;

	for (i = 0; i < 5; i++) {
		if (i == VFIO_PCI_ERR_IRQ_INDEX)
			continue;
		info = (struct vfio_irq_info){ .argsz = sizeof(info),
					       .index = i, .count = 99,
					       .flags = 99 };
		ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_GET_IRQ_INFO,
				   &info)) TH_LOG("index %u", i);
		EXPECT_EQ(0U, info.count) TH_LOG("index %u", i);
		EXPECT_EQ(0U, info.flags) TH_LOG("index %u", i);
	}
	info = (struct vfio_irq_info){ .argsz = sizeof(info),
				       .index = VFIO_PCI_ERR_IRQ_INDEX };
	EXPECT_EQ(-1, ioctl(self->dev.fd, VFIO_DEVICE_GET_IRQ_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info = (struct vfio_irq_info){ .argsz = sizeof(info), .index = 5 };
	EXPECT_EQ(-1, ioctl(self->dev.fd, VFIO_DEVICE_GET_IRQ_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

/* The header QEMU reads at realize, field by field, then every byte. */
TEST_F(pci, config_at_power_on)
{
	uint8_t cfg[CFG_SIZE];

	ASSERT_EQ(0, vfio_config_read(self->dev.fd, 0, cfg, sizeof(cfg)));
	EXPECT_EQ(MIGDEV_VENDOR, get16(cfg, PCI_VENDOR_ID));
	EXPECT_EQ(MIGDEV_DEVICE, get16(cfg, PCI_DEVICE_ID));
	EXPECT_EQ(0, get16(cfg, PCI_COMMAND));
	/* No capability list, and nothing to report. */
	EXPECT_EQ(0, get16(cfg, PCI_STATUS));
	EXPECT_EQ(MIGDEV_REVISION, cfg[PCI_REVISION_ID]);
	EXPECT_EQ(0, cfg[PCI_CLASS_PROG]);
	EXPECT_EQ(MIGDEV_CLASS << 8, get16(cfg, PCI_CLASS_DEVICE));
	EXPECT_EQ(PCI_HEADER_TYPE_NORMAL, cfg[PCI_HEADER_TYPE]);
	/* 32-bit non-prefetchable memory, not placed yet. */
	EXPECT_EQ(0, cfg[PCI_BASE_ADDRESS_0]);
	EXPECT_EQ(0, cfg[PCI_CAPABILITY_LIST]);
	EXPECT_EQ(0, cfg[PCI_INTERRUPT_PIN]);
	EXPECT_EQ(MIGDEV_SUBVENDOR, get16(cfg, PCI_SUBSYSTEM_VENDOR_ID));
	EXPECT_EQ(MIGDEV_SUBDEVICE, get16(cfg, PCI_SUBSYSTEM_ID));
	expect_config(_metadata, self->dev.fd, self->power_on);
}

/*
 * Any offset and length within the 256 bytes; an access that runs past
 * them fails whole with EFAULT, as vfio-pci's does.
 */
TEST_F(pci, config_bounds)
{
	struct vfio_region_info info;
	uint8_t cfg[CFG_SIZE], buf[16];
	unsigned int off, len;

	ASSERT_EQ(0, vfio_get_region_info(self->dev.fd,
					  VFIO_PCI_CONFIG_REGION_INDEX, &info));
	ASSERT_EQ(0, vfio_config_read(self->dev.fd, 0, cfg, sizeof(cfg)));
	for (len = 1; len <= 4; len *= 2) {
		for (off = 0; off + len <= CFG_SIZE; off += len) {
			ASSERT_EQ(0, vfio_config_read(self->dev.fd, off, buf,
						      len));
			EXPECT_EQ(0, memcmp(cfg + off, buf, len))
				TH_LOG("%u bytes at 0x%02x", len, off);
		}
	}
	EXPECT_EQ(6, pread(self->dev.fd, buf, 6, info.offset + 250));
	EXPECT_EQ(0, memcmp(cfg + 250, buf, 6));
	EXPECT_EQ(-1, pread(self->dev.fd, buf, 16, info.offset + 250));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pwrite(self->dev.fd, buf, 16, info.offset + 250));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pread(self->dev.fd, buf, 1, info.offset + CFG_SIZE));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pwrite(self->dev.fd, buf, 1, info.offset + CFG_SIZE));
	EXPECT_EQ(EFAULT, errno);
}

/* All ones written to BAR0 read back as its size, flags 0, as in PCI. */
TEST_F(pci, bar0_sizing)
{
	uint32_t mask = ~(uint32_t)(self->bar_size - 1), val;
	uint8_t byte = 0xff;

	ASSERT_EQ(0, vfio_config_write32(self->dev.fd, PCI_BASE_ADDRESS_0,
					 0xffffffff));
	ASSERT_EQ(0, vfio_config_read32(self->dev.fd, PCI_BASE_ADDRESS_0,
					&val));
	EXPECT_EQ(mask, val);
	EXPECT_EQ((uint32_t)(PCI_BASE_ADDRESS_SPACE_MEMORY |
			     PCI_BASE_ADDRESS_MEM_TYPE_32),
		  val & (uint32_t)~PCI_BASE_ADDRESS_MEM_MASK);

	/* An address: the bits below the size and the flags stay 0. */
	ASSERT_EQ(0, vfio_config_write32(self->dev.fd, PCI_BASE_ADDRESS_0,
					 0xfe000000 | self->bar_size / 2 | 0xf));
	ASSERT_EQ(0, vfio_config_read32(self->dev.fd, PCI_BASE_ADDRESS_0,
					&val));
	EXPECT_EQ(0xfe000000U, val);

	/* One byte at a time, as a guest may write it. */
	ASSERT_EQ(0, vfio_config_write(self->dev.fd, PCI_BASE_ADDRESS_0 + 3,
				       &byte, 1));
	ASSERT_EQ(0, vfio_config_read32(self->dev.fd, PCI_BASE_ADDRESS_0,
					&val));
	EXPECT_EQ(0xff000000U, val);

	ASSERT_EQ(0, vfio_config_write32(self->dev.fd, PCI_BASE_ADDRESS_0, 0));
	ASSERT_EQ(0, vfio_config_read32(self->dev.fd, PCI_BASE_ADDRESS_0,
					&val));
	EXPECT_EQ(0U, val);
}

/*
 * BARs 1 to 5 and the ROM are not implemented: sizing them reads 0. For
 * the ROM, the very sequence of QEMU's vfio_pci_size_rom().
 */
TEST_F(pci, no_other_bars_nor_rom)
{
	uint32_t orig, val;
	unsigned int off;

	for (off = PCI_BASE_ADDRESS_1; off <= PCI_BASE_ADDRESS_5; off += 4) {
		ASSERT_EQ(0, vfio_config_write32(self->dev.fd, off,
						 0xffffffff));
		ASSERT_EQ(0, vfio_config_read32(self->dev.fd, off, &val));
		EXPECT_EQ(0U, val) TH_LOG("BAR at 0x%02x", off);
	}

	ASSERT_EQ(0, vfio_config_read32(self->dev.fd, PCI_ROM_ADDRESS, &orig));
	ASSERT_EQ(0, vfio_config_write32(self->dev.fd, PCI_ROM_ADDRESS,
					 PCI_ROM_ADDRESS_MASK));
	ASSERT_EQ(0, vfio_config_read32(self->dev.fd, PCI_ROM_ADDRESS, &val));
	ASSERT_EQ(0, vfio_config_write32(self->dev.fd, PCI_ROM_ADDRESS, orig));
	EXPECT_EQ(0U, orig);
	EXPECT_EQ(0U, val);
	ASSERT_EQ(0, vfio_config_write32(self->dev.fd, PCI_ROM_ADDRESS,
					 0xffffffff));
	ASSERT_EQ(0, vfio_config_read32(self->dev.fd, PCI_ROM_ADDRESS, &val));
	EXPECT_EQ(0U, val);
}

/* Memory decoding is the one command bit; status is read only. */
TEST_F(pci, command_and_status)
{
	uint16_t cmd, status;

	ASSERT_EQ(0, config_write16(self->dev.fd, PCI_COMMAND, 0xffff));
	ASSERT_EQ(0, config_read16(self->dev.fd, PCI_COMMAND, &cmd));
	EXPECT_EQ(PCI_COMMAND_MEMORY, cmd);

	ASSERT_EQ(0, config_write16(self->dev.fd, PCI_COMMAND, 0));
	ASSERT_EQ(0, config_read16(self->dev.fd, PCI_COMMAND, &cmd));
	EXPECT_EQ(0, cmd);

	/* Command and status in one dword, as a 32-bit write reaches them. */
	ASSERT_EQ(0, vfio_config_write32(self->dev.fd, PCI_COMMAND,
					 0xffffffff));
	ASSERT_EQ(0, config_read16(self->dev.fd, PCI_COMMAND, &cmd));
	ASSERT_EQ(0, config_read16(self->dev.fd, PCI_STATUS, &status));
	EXPECT_EQ(PCI_COMMAND_MEMORY, cmd);
	EXPECT_EQ(0, status);
}

/*
 * All ones over the whole space, in one write, change only what is
 * writable: memory decoding, BAR0's address bits and the interrupt line.
 * All zeroes then give back the power-on state.
 */
TEST_F(pci, write_mask)
{
	uint8_t ones[CFG_SIZE], want[CFG_SIZE];

	memset(ones, 0xff, sizeof(ones));
	memcpy(want, self->power_on, sizeof(want));
	put16(want, PCI_COMMAND, PCI_COMMAND_MEMORY);
	put32(want, PCI_BASE_ADDRESS_0, ~(uint32_t)(self->bar_size - 1));
	want[PCI_INTERRUPT_LINE] = 0xff;

	ASSERT_EQ(0, vfio_config_write(self->dev.fd, 0, ones, sizeof(ones)));
	expect_config(_metadata, self->dev.fd, want);

	memset(ones, 0, sizeof(ones));
	ASSERT_EQ(0, vfio_config_write(self->dev.fd, 0, ones, sizeof(ones)));
	expect_config(_metadata, self->dev.fd, self->power_on);
}

static void config_set(struct __test_metadata *_metadata, int fd)
{
	uint8_t line = 11;

	ASSERT_EQ(0, config_write16(fd, PCI_COMMAND, PCI_COMMAND_MEMORY));
	ASSERT_EQ(0, vfio_config_write32(fd, PCI_BASE_ADDRESS_0, 0xfe000000));
	ASSERT_EQ(0, vfio_config_write(fd, PCI_INTERRUPT_LINE, &line, 1));
}

/* VFIO_DEVICE_RESET puts config space back as at power-on. */
TEST_F(pci, reset_restores_config)
{
	uint16_t cmd;

	config_set(_metadata, self->dev.fd);
	ASSERT_EQ(0, config_read16(self->dev.fd, PCI_COMMAND, &cmd));
	ASSERT_EQ(PCI_COMMAND_MEMORY, cmd);
	ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_RESET));
	expect_config(_metadata, self->dev.fd, self->power_on);
}

/* So does the last close, as vfio-pci resets a device it lets go. */
TEST_F(pci, last_close_resets_config)
{
	char uuid[37];

	config_set(_metadata, self->dev.fd);
	snprintf(uuid, sizeof(uuid), "%s", self->dev.uuid);
	vfio_dev_close(&self->dev);
	ASSERT_EQ(0, vfio_dev_open(&self->dev, uuid));
	expect_config(_metadata, self->dev.fd, self->power_on);
}

/* BAR0 ends at its size; the regions of size 0 take no access. */
TEST_F(pci, bar0_bounds)
{
	struct vfio_region_info info;
	uint8_t buf[16];
	uint64_t i;

	ASSERT_EQ(0, vfio_get_region_info(self->dev.fd,
					  VFIO_PCI_BAR0_REGION_INDEX, &info));
	EXPECT_EQ(8, pread(self->dev.fd, buf, 16,
			   info.offset + self->bar_size - 8));
	EXPECT_EQ(-1, pread(self->dev.fd, buf, 1,
			    info.offset + self->bar_size));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(self->dev.fd, buf, 1,
			     info.offset + self->bar_size));
	EXPECT_EQ(EINVAL, errno);

	for (i = 1; i <= 9; i++) {
		if (i == VFIO_PCI_CONFIG_REGION_INDEX)
			continue;
		EXPECT_EQ(-1, pread(self->dev.fd, buf, 4, i << 40))
			TH_LOG("region %u", (unsigned int)i);
		EXPECT_EQ(EINVAL, errno);
	}
}

/*
 * MIG_DATA_SIZE: the stream's header and region_size bytes, whatever the
 * state, and just what STOP_COPY then gives.
 */
TEST_F(pci, mig_data_size)
{
	struct vfio_dev *devs[2] = { &self->dev, &self->dev };
	struct mig_stream stream = { 0 };
	struct mig_step step = { 0 };
	uint64_t want, len;
	size_t i;

	want = sizeof(struct migdev_stream_header) + self->region_size;
	ASSERT_EQ(0, vfio_mig_data_size(self->dev.fd, &len));
	EXPECT_EQ(want, len);

	/* The source's half of QEMU's migration, then RESUMING. */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, vfio_mig_step(devs, &qemu_migration[i], &stream));
		ASSERT_EQ(0, vfio_mig_data_size(self->dev.fd, &len));
		EXPECT_EQ(want, len) TH_LOG("in %s",
					    mig_state_name(qemu_migration[i].state));
		if (qemu_migration[i].state == VFIO_DEVICE_STATE_STOP_COPY)
			EXPECT_EQ(want, stream.len);
	}
	step.state = VFIO_DEVICE_STATE_RESUMING;
	ASSERT_EQ(0, vfio_mig_step(devs, &step, &stream));
	ASSERT_EQ(0, vfio_mig_data_size(self->dev.fd, &len));
	EXPECT_EQ(want, len);
	free(stream.data);
}

/* A GET only, which PROBE finds; a SET fails with EINVAL, as in 6.2. */
TEST_F(pci, mig_data_size_get_only)
{
	const uint32_t argsz = sizeof(struct vfio_device_feature) +
			       sizeof(struct vfio_device_feature_mig_data_size);
	const uint32_t feature = VFIO_DEVICE_FEATURE_MIG_DATA_SIZE;
	uint64_t len = 0;

	EXPECT_EQ(-EINVAL, data_size_call(self->dev.fd,
					  VFIO_DEVICE_FEATURE_SET | feature,
					  argsz, &len));
	EXPECT_EQ(-EINVAL, data_size_call(self->dev.fd,
					  VFIO_DEVICE_FEATURE_PROBE |
					  VFIO_DEVICE_FEATURE_SET | feature,
					  argsz, &len));
	EXPECT_EQ(0, data_size_call(self->dev.fd,
				    VFIO_DEVICE_FEATURE_PROBE |
				    VFIO_DEVICE_FEATURE_GET | feature,
				    argsz, &len));
	/* PROBE answers, and writes nothing. */
	EXPECT_EQ(0xdeadU, len);
	EXPECT_EQ(-EINVAL, data_size_call(self->dev.fd,
					  VFIO_DEVICE_FEATURE_GET | feature,
					  argsz - 4, &len));
	EXPECT_EQ(0, data_size_call(self->dev.fd,
				    VFIO_DEVICE_FEATURE_GET | feature,
				    argsz, &len));
	EXPECT_EQ(sizeof(struct migdev_stream_header) + self->region_size,
		  len);

	/* Features migdev does not know are still unknown. */
	EXPECT_EQ(-ENOTTY, data_size_call(self->dev.fd,
					  VFIO_DEVICE_FEATURE_GET | 0xfff0,
					  argsz, &len));
}

static void *hold_lock(void *arg)
{
	const char *uuid = arg;

	return (void *)(long)debugfs_write(uuid, MIGDEV_HOLD_LOCK, "3000");
}

/*
 * Config space does not wait for the state mutex: a driver stuck in a
 * transition must not stall QEMU's config accesses. hold_lock (in VFIO
 * debugfs) holds the mutex 3 s; meanwhile config space reads and writes,
 * and the mutex is still held when they are done.
 */
TEST_F(pci, config_does_not_wait_for_state_lock)
{
	char path[PATH_MAX], buf[8] = "";
	uint8_t cfg[CFG_SIZE];
	pthread_t holder;
	void *ret;
	int i;

	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/%s", self->dev.uuid,
		 MIGDEV_HOLD_LOCK);
	if (path_exists(path))
		SKIP(return, "no %s: VFIO debugfs or fault_injection is off",
		     MIGDEV_HOLD_LOCK);

	ASSERT_EQ(0, pthread_create(&holder, NULL, hold_lock, self->dev.uuid));
	for (i = 0; i < 100 && strcmp(buf, "1\n"); i++) {
		usleep(10 * 1000);
		ASSERT_EQ(2, debugfs_read(self->dev.uuid, MIGDEV_HOLD_LOCK, buf,
					  sizeof(buf)));
	}
	ASSERT_STREQ("1\n", buf);

	EXPECT_EQ(0, vfio_config_read(self->dev.fd, 0, cfg, sizeof(cfg)));
	EXPECT_EQ(0, config_write16(self->dev.fd, PCI_COMMAND,
				    PCI_COMMAND_MEMORY));
	EXPECT_EQ(2, debugfs_read(self->dev.uuid, MIGDEV_HOLD_LOCK, buf,
				  sizeof(buf)));
	EXPECT_STREQ("1\n", buf);

	ASSERT_EQ(0, pthread_join(holder, &ret));
	EXPECT_EQ(0, (long)ret);
}

/*
 * Config space works in every migration state, as QEMU uses it: it
 * writes PCI_COMMAND to a destination in RESUMING, and reads config space
 * of a stopped source. The device is walked to the variant's state (the
 * stream it saves on the way is the one it resumes from) and must stay
 * there, then go on to RUNNING with BAR0 intact.
 */
FIXTURE(state) {
	struct vfio_dev dev;
	struct mig_stream stream;
	size_t bar_size;
	uint8_t *bar0;
};

FIXTURE_VARIANT(state) {
	enum vfio_device_mig_state path[5];
};

FIXTURE_VARIANT_ADD(state, RUNNING) {
	.path = { VFIO_DEVICE_STATE_RUNNING },
};

FIXTURE_VARIANT_ADD(state, RUNNING_P2P) {
	.path = { VFIO_DEVICE_STATE_RUNNING_P2P },
};

FIXTURE_VARIANT_ADD(state, STOP) {
	.path = { VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_STOP },
};

FIXTURE_VARIANT_ADD(state, STOP_COPY) {
	.path = { VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_STOP,
		  VFIO_DEVICE_STATE_STOP_COPY },
};

FIXTURE_VARIANT_ADD(state, RESUMING) {
	.path = { VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_STOP,
		  VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_STOP,
		  VFIO_DEVICE_STATE_RESUMING },
};

FIXTURE_SETUP(state)
{
	struct vfio_dev *devs[2] = { &self->dev, &self->dev };
	struct mig_step step = { 0 };
	int i;

	ASSERT_EQ(0, vfio_dev_create(&self->dev, MIGDEV_TYPE));
	ASSERT_EQ(0, bar0_size(self->dev.fd, &self->bar_size));
	self->bar0 = malloc(self->bar_size);
	ASSERT_NE(NULL, self->bar0);
	ASSERT_EQ(0, bar0_fill(self->dev.fd, self->bar_size, 5));
	ASSERT_EQ(0, bar0_read(self->dev.fd, self->bar0, self->bar_size));
	for (i = 0; i < 5 && variant->path[i]; i++) {
		step.state = variant->path[i];
		ASSERT_EQ(0, vfio_mig_step(devs, &step, &self->stream));
	}
}

FIXTURE_TEARDOWN(state)
{
	free(self->stream.data);
	free(self->bar0);
	vfio_dev_destroy(&self->dev);
}

TEST_F(state, config_works)
{
	enum vfio_device_mig_state want = VFIO_DEVICE_STATE_RUNNING, got;
	uint8_t power_on[CFG_SIZE], *bar0;
	uint16_t cmd;
	uint32_t val;
	int data_fd, i;

	for (i = 0; i < 5 && variant->path[i]; i++)
		want = variant->path[i];
	config_power_on(power_on);

	expect_config(_metadata, self->dev.fd, power_on);
	ASSERT_EQ(0, config_write16(self->dev.fd, PCI_COMMAND,
				    PCI_COMMAND_MEMORY));
	ASSERT_EQ(0, config_read16(self->dev.fd, PCI_COMMAND, &cmd));
	EXPECT_EQ(PCI_COMMAND_MEMORY, cmd);
	ASSERT_EQ(0, vfio_config_write32(self->dev.fd, PCI_BASE_ADDRESS_0,
					 0xffffffff));
	ASSERT_EQ(0, vfio_config_read32(self->dev.fd, PCI_BASE_ADDRESS_0,
					&val));
	EXPECT_EQ(~(uint32_t)(self->bar_size - 1), val);
	ASSERT_EQ(0, vfio_mig_get(self->dev.fd, &got));
	EXPECT_EQ(want, got);

	/* The migration goes on regardless: RESUMING loads its stream. */
	ASSERT_EQ(0, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_RUNNING,
				  &data_fd));
	bar0 = malloc(self->bar_size);
	ASSERT_NE(NULL, bar0);
	ASSERT_EQ(0, bar0_read(self->dev.fd, bar0, self->bar_size));
	EXPECT_EQ(0, memcmp(self->bar0, bar0, self->bar_size));
	free(bar0);
	ASSERT_EQ(0, config_read16(self->dev.fd, PCI_COMMAND, &cmd));
	EXPECT_EQ(PCI_COMMAND_MEMORY, cmd);
}

/*
 * Every test needs migdev. Checked here, not in FIXTURE_SETUP(): the 6.1
 * harness runs a test even after its setup called SKIP().
 */
int main(int argc, char **argv)
{
	if (path_exists(MIGDEV_TYPE))
		ksft_exit_skip("%s is missing: load migdev\n", MIGDEV_TYPE);
	return test_harness_run(argc, argv);
}
