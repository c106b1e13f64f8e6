// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-bench [smoke]: what VFIO debugfs costs, measured from userspace in
 * the guest. Prints "BENCH <figure> <value>" lines for the host to compare
 * between a kernel with CONFIG_VFIO_DEBUGFS and one without (rig/bench.sh);
 * a figure that a kernel cannot have (reading state without debugfs) is
 * not printed. Times are nanoseconds per operation, memory bytes per device.
 * "smoke" runs every measurement with few iterations, to show it works.
 * The end-to-end figure is a whole live migration by QEMU 10 between two
 * migdev devices, from the migrate command to QEMU's "completed" event.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "qemu_util.h"
#include "vfio_util.h"

#define VFIO_TRACE_EVENTS	"/sys/kernel/tracing/events/vfio/enable"

struct bench_sizes {
	int few_devices;	/* registration, small batch */
	int many_devices;	/* registration, large batch; also memory */
	int round_trips;	/* RUNNING -> STOP -> RUNNING */
	int reads;		/* open + read + close, per file */
	int repeats;		/* of the round trips and the reads */
	int migrations;		/* by QEMU, end to end */
};

static const struct bench_sizes full = { 100, 1000, 10000, 2000, 5, 5 };
static const struct bench_sizes smoke = { 5, 20, 50, 50, 1, 1 };

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail(const char *what, int err)
{
	printf("BENCH-ERROR %s: %s\n", what, strerror(-err));
	exit(1);
}

/* Slab memory in bytes, after RCU has had time to free what was removed. */
static long long slab_bytes(void)
{
	char buf[4096], *line;
	long long kb = -1;
	int ret;

	sync();
	sleep(1);
	ret = read_file("/proc/meminfo", buf, sizeof(buf));
	if (ret < 0)
		fail("/proc/meminfo", ret);
	line = strstr(buf, "\nSlab:");
	if (line)
		sscanf(line, "\nSlab: %lld kB", &kb);
	if (kb < 0)
		fail("no Slab: in /proc/meminfo", -EINVAL);
	return kb * 1024;
}

/*
 * Create @n migdev devices through sysfs, then remove them, and print the
 * time per device for each unless @quiet. With @memory, also the slab
 * memory each device held.
 */
static void registration(const char *batch, int n, int quiet, int memory)
{
	char (*uuids)[37] = calloc(n, sizeof(*uuids));
	long long t0, created, removed, slab0 = 0, slab1 = 0;
	int i, ret;

	if (!uuids)
		fail("calloc", -ENOMEM);
	if (memory)
		slab0 = slab_bytes();
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ret = mdev_create(MIGDEV_TYPE, uuids[i]);
		if (ret)
			fail("create", ret);
	}
	created = now_ns() - t0;
	if (memory)
		slab1 = slab_bytes();
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ret = mdev_remove(uuids[i]);
		if (ret)
			fail("remove", ret);
	}
	removed = now_ns() - t0;
	free(uuids);
	if (quiet)
		return;
	printf("BENCH devices_%s %d\n", batch, n);
	printf("BENCH register_ns_%s %lld\n", batch, created / n);
	printf("BENCH remove_ns_%s %lld\n", batch, removed / n);
	if (memory)
		printf("BENCH slab_bytes_per_device %lld\n", (slab1 - slab0) / n);
}

/*
 * Time per VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE SET, RUNNING <-> STOP, as
 * figure @figure.
 */
static void transitions(struct vfio_dev *dev, int round_trips,
			const char *figure)
{
	long long t0;
	int i, ret, data_fd;

	t0 = now_ns();
	for (i = 0; i < round_trips; i++) {
		ret = vfio_mig_set(dev->fd, VFIO_DEVICE_STATE_STOP, &data_fd);
		if (!ret)
			ret = vfio_mig_set(dev->fd, VFIO_DEVICE_STATE_RUNNING,
					   &data_fd);
		if (ret)
			fail("transition", ret);
	}
	printf("BENCH %s %lld\n", figure, (now_ns() - t0) / (2LL * round_trips));
}

/* The same with the vfio trace events on, writing to the trace buffer. */
static void traced_transitions(struct vfio_dev *dev, int round_trips)
{
	int ret;

	ret = write_file(VFIO_TRACE_EVENTS, "1");
	if (ret)
		fail(VFIO_TRACE_EVENTS, ret);
	transitions(dev, round_trips, "transition_traced_ns");
	ret = write_file(VFIO_TRACE_EVENTS, "0");
	if (ret)
		fail(VFIO_TRACE_EVENTS, ret);
}

/* Time per VFIO_DEVICE_RESET, which the history records. */
static void resets(struct vfio_dev *dev, int n)
{
	long long t0;
	int i;

	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (ioctl(dev->fd, VFIO_DEVICE_RESET))
			fail("reset", -errno);
	printf("BENCH reset_ns %lld\n", (now_ns() - t0) / n);
}

/*
 * Time per first open and last close of the device, through its group:
 * two records of the history. The device is open again afterwards.
 */
static void opens(struct vfio_dev *dev, int n)
{
	long long t0;
	int i, fd;

	close(dev->fd);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		fd = ioctl(dev->group, VFIO_GROUP_GET_DEVICE_FD, dev->uuid);
		if (fd < 0)
			fail("open the device", -errno);
		close(fd);
	}
	printf("BENCH open_close_ns %lld\n", (now_ns() - t0) / n);
	dev->fd = ioctl(dev->group, VFIO_GROUP_GET_DEVICE_FD, dev->uuid);
	if (dev->fd < 0)
		fail("open the device again", -errno);
}

/* Time per open + read + close of @path; not printed if it is missing. */
static void reads(const char *figure, const char *path, int n)
{
	char buf[8192];
	long long t0;
	int i, ret;

	if (path_exists(path))	/* 0 or -errno */
		return;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ret = read_file(path, buf, sizeof(buf));
		if (ret <= 0)
			fail(path, ret ? ret : -ENODATA);
	}
	printf("BENCH %s %lld\n", figure, (now_ns() - t0) / n);
}

/*
 * One live migration by QEMU: two devices, two QEMUs, the source told to
 * migrate; the time until QEMU's MIGRATION event (the "events"
 * capability turns it on) says "completed", which needs no polling that
 * would add to it.
 */
static void migration_by_qemu(int n)
{
	char uuid[2][37], dir[32], cmd[160], reply[4096];
	struct qemu vm[2];
	long long t0;
	int ret;

	snprintf(dir, sizeof(dir), "/tmp/bench-%d", n);
	if (mkdir(dir, 0755))
		fail("mkdir", -errno);
	ret = mdev_create(MIGDEV_TYPE, uuid[0]);
	if (!ret)
		ret = mdev_create(MIGDEV_TYPE, uuid[1]);
	if (ret)
		fail("create migdev devices", ret);
	ret = qemu_start(&vm[0], dir, "src", uuid[0], false);
	if (!ret)
		ret = qemu_start(&vm[1], dir, "dst", uuid[1], true);
	if (ret)
		fail("start QEMU", ret);
	ret = qmp(&vm[0], "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": [{\"capability\": \"events\", \"state\": true}]}}",
		  reply, sizeof(reply));
	if (ret)
		fail("QMP migrate-set-capabilities", ret);
	qemu_migrate_cmd(&vm[0], cmd, sizeof(cmd));
	t0 = now_ns();
	ret = qmp(&vm[0], cmd, reply, sizeof(reply));
	if (!ret)
		ret = qmp_event(&vm[0], "\"MIGRATION\"", "\"status\": \"completed\"",
				"\"status\": \"failed\"", reply, sizeof(reply));
	if (ret)
		fail("QEMU migration", ret);
	printf("BENCH qemu_migration_ns %lld\n", now_ns() - t0);
	qemu_stop(&vm[0]);
	qemu_stop(&vm[1]);
	mdev_remove(uuid[0]);
	mdev_remove(uuid[1]);
}

int main(int argc, char **argv)
{
	const struct bench_sizes *sz = &full;
	char path[256];
	struct vfio_dev dev;
	int i, ret;

	if (argc > 1 && !strcmp(argv[1], "smoke"))
		sz = &smoke;
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Once untimed, so that caches and sysfs are warm for both kernels. */
	registration("small", sz->few_devices, 1, 0);
	registration("small", sz->few_devices, 0, 0);
	registration("large", sz->many_devices, 0, 1);

	ret = vfio_dev_create(&dev, MIGDEV_TYPE);
	if (ret)
		fail("open a migdev device", ret);
	/* Short measurements, repeated, so that the host takes a median. */
	for (i = 0; i < sz->repeats; i++) {
		transitions(&dev, sz->round_trips, "transition_ns");
		traced_transitions(&dev, sz->round_trips);
		resets(&dev, sz->round_trips);
		opens(&dev, sz->round_trips);
		/* After that many transitions the history ring is full. */
		snprintf(path, sizeof(path),
			 VFIO_DEBUGFS "/%s/migration/state", dev.uuid);
		reads("read_state_ns", path, sz->reads);
		snprintf(path, sizeof(path),
			 VFIO_DEBUGFS "/%s/migration/history", dev.uuid);
		reads("read_history_ns", path, sz->reads);
		snprintf(path, sizeof(path),
			 "/sys/bus/mdev/devices/%s/mdev_type/device_api",
			 dev.uuid);
		reads("read_sysfs_ns", path, sz->reads);
	}
	vfio_dev_destroy(&dev);
	for (i = 0; i < sz->migrations; i++)
		migration_by_qemu(i);
	printf("BENCH-DONE\n");
	return 0;
}
