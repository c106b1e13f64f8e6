// SPDX-License-Identifier: GPL-2.0
/*
 * mig-outputs: print, byte for byte, what migration/features and
 * migration/state of two mtty devices say through a migration with
 * pre-copy, one line per read ("state PRE_COPY\n" for the file's
 * "PRE_COPY\n"), then migration/state of a migdev device put in ERROR,
 * the one state mtty never reaches. The guest runs it on the series' VFIO modules and on
 * mainline's own (built from the pristine base by rig/mainline.sh) and
 * compares the two outputs: same sequence, same bytes. Exit 1 if a step
 * fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vfio_util.h"

/*
 * Prints the file's content with its newlines as "\n", on one line; or
 * why it could not be read, and returns -errno.
 */
static int show(const char *what, const char *uuid, const char *file)
{
	char buf[256], *p;
	int n = debugfs_read(uuid, file, buf, sizeof(buf));

	printf("%s ", what);
	if (n < 0) {
		printf("(%s)\n", strerror(-n));
		return n;
	}
	for (p = buf; *p; p++) {
		if (*p == '\n')
			fputs("\\n", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
	return 0;
}

/* A migdev device whose next SET to STOP fails with EIO, leaving ERROR. */
static int show_error(void)
{
	struct vfio_dev dev;
	int fd, ret;

	ret = vfio_dev_create(&dev, MIGDEV_TYPE);
	if (ret) {
		fprintf(stderr, "mig-outputs: no migdev device: %s\n",
			strerror(-ret));
		return ret;
	}
	ret = debugfs_write(dev.uuid, MIGDEV_ERROR_NEXT, "STOP 5");
	if (!ret) {
		ret = vfio_mig_set(dev.fd, VFIO_DEVICE_STATE_STOP, &fd);
		printf("set STOP %d\n", ret);
		/* The fault must have hit, or ERROR is not what is read. */
		ret = ret == -EIO ? show("state", dev.uuid, "migration/state") :
				    -EPROTO;
	}
	vfio_dev_destroy(&dev);
	return ret;
}

int main(void)
{
	static const struct {
		int dev;
		enum vfio_device_mig_state to;
	} steps[] = {
		{ 0, VFIO_DEVICE_STATE_PRE_COPY },
		{ 0, VFIO_DEVICE_STATE_PRE_COPY_P2P },
		{ 0, VFIO_DEVICE_STATE_STOP_COPY },
		{ 1, VFIO_DEVICE_STATE_STOP },
		{ 1, VFIO_DEVICE_STATE_RESUMING },
		{ 1, VFIO_DEVICE_STATE_STOP },
		{ 1, VFIO_DEVICE_STATE_RUNNING_P2P },
		{ 1, VFIO_DEVICE_STATE_RUNNING },
		{ 0, VFIO_DEVICE_STATE_STOP },
		{ 0, VFIO_DEVICE_STATE_RUNNING },
	};
	struct mig_stream stream = { 0 };
	struct vfio_dev devs[2];
	int data_fd = -1, fd, ret = 0;
	size_t i;

	ret = vfio_dev_create(&devs[0], MTTY_TYPE);
	if (ret) {
		fprintf(stderr, "mig-outputs: no mtty device: %s\n", strerror(-ret));
		return 1;
	}
	ret = vfio_dev_create(&devs[1], MTTY_TYPE);
	if (ret) {
		fprintf(stderr, "mig-outputs: no second mtty device: %s\n",
			strerror(-ret));
		vfio_dev_destroy(&devs[0]);
		return 1;
	}
	/* Without features (6.12's mainline) the comparison says so. */
	show("features", devs[0].uuid, "migration/features");
	ret = show("state", devs[0].uuid, "migration/state");
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && !ret; i++) {
		struct vfio_dev *dev = &devs[steps[i].dev];

		ret = vfio_mig_set(dev->fd, steps[i].to, &fd);
		if (!ret && fd >= 0) {
			if (data_fd >= 0)
				close(data_fd);
			data_fd = fd;
		}
		/* mtty's pre-copy fd goes on into STOP_COPY: read it at the end. */
		if (!ret && steps[i].to == VFIO_DEVICE_STATE_STOP_COPY)
			ret = stream_read(data_fd, &stream);
		if (!ret && steps[i].to == VFIO_DEVICE_STATE_RESUMING)
			ret = stream_write(data_fd, &stream);
		printf("set %s %d\n", mig_state_name(steps[i].to), ret);
		if (!ret)
			ret = show("state", dev->uuid, "migration/state");
	}
	if (data_fd >= 0)
		close(data_fd);
	vfio_dev_destroy(&devs[1]);
	vfio_dev_destroy(&devs[0]);
	return ret || show_error() ? 1 : 0;
}
