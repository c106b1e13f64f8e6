// SPDX-License-Identifier: GPL-2.0
/*
 * The `make demo` walk-through: a live migration between two migdev
 * devices, driven with the ioctls QEMU uses, showing after every step what
 * `cat .../migration/state` says for the source and the destination.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vfio_util.h"

static void run(const char *cmd)
{
	char line[256];
	FILE *p;

	printf("  $ %s\n", cmd);
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p)
		return;
	while (fgets(line, sizeof(line), p))
		printf("  %s", line);
	pclose(p);
}

static void show_states(struct vfio_dev *devs[2])
{
	char cmd[128];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "cat " VFIO_DEBUGFS "/%s/migration/state",
			 devs[i]->uuid);
		run(cmd);
	}
	printf("\n");
}

static void show_history(struct vfio_dev *dev)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "cat " VFIO_DEBUGFS "/%s/migration/history",
		 dev->uuid);
	run(cmd);
	printf("\n");
}

/*
 * The second migration goes wrong: one byte of the stream changes on its
 * way to the destination. state says the destination is still RESUMING;
 * history says which request failed, with which errno, after which steps.
 */
static int failed_migration(struct vfio_dev *devs[2], struct mig_stream *stream)
{
	size_t i;
	int ret;

	printf("\nA second migration, back from the destination to the source;\n"
	       "one byte of the device state is corrupted on the way.\n\n");
	ioctl(devs[0]->fd, VFIO_DEVICE_RESET);
	for (i = 0; i < qemu_migration_len; i++) {
		struct mig_step step = qemu_migration[i];

		/* Roles swap: the old destination is now the source. */
		step.dev = !step.dev;
		ret = vfio_mig_step(devs, &step, stream);
		printf("step %zu: %s -> %s%s\n", i + 1,
		       step.dev ? "old destination" : "old source",
		       mig_state_name(step.state), ret ? " FAILED" : "");
		if (step.state == VFIO_DEVICE_STATE_STOP_COPY)
			stream->data[stream->len / 2] ^= 0x40;
		if (ret)
			break;
	}
	if (!ret)
		return 1;
	show_states(devs);
	printf("What happened to the device that failed, from history alone:\n");
	show_history(devs[0]);
	return 0;
}

int main(void)
{
	static const char * const role[] = { "source", "destination" };
	struct vfio_dev src, dst, *devs[2] = { &src, &dst };
	struct mig_stream stream = { 0 };
	uint8_t *want, *got;
	size_t i, size;
	int ret;

	if (vfio_dev_create(&src, MIGDEV_TYPE) || vfio_dev_create(&dst, MIGDEV_TYPE)) {
		fprintf(stderr, "demo: cannot create migdev devices\n");
		return 1;
	}
	bar0_size(src.fd, &size);
	want = malloc(size);
	got = malloc(size);
	bar0_fill(src.fd, size, 42);
	bar0_read(src.fd, want, size);

	printf("source:      %s (BAR0 filled with a pattern)\n", src.uuid);
	printf("destination: %s\n\n", dst.uuid);
	printf("step 0: both devices opened through VFIO_GROUP_GET_DEVICE_FD\n");
	show_states(devs);

	for (i = 0; i < qemu_migration_len; i++) {
		const struct mig_step *step = &qemu_migration[i];

		printf("step %zu: VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: %s -> %s",
		       i + 1, role[step->dev], mig_state_name(step->state));
		fflush(stdout);
		ret = vfio_mig_step(devs, step, &stream);
		if (step->state == VFIO_DEVICE_STATE_STOP_COPY)
			printf(", read %zu bytes of device state to EOF", stream.len);
		if (step->state == VFIO_DEVICE_STATE_RESUMING)
			printf(", wrote those %zu bytes", stream.len);
		printf("%s\n", ret ? " FAILED" : "");
		show_states(devs);
		if (ret)
			return 1;
	}

	bar0_read(dst.fd, got, size);
	printf("destination BAR0 %s the source's (%zu bytes)\n\n",
	       memcmp(want, got, size) ? "DIFFERS FROM" : "equals", size);
	run("find " VFIO_DEBUGFS);

	ret = failed_migration(devs, &stream);

	vfio_dev_destroy(&src);
	vfio_dev_destroy(&dst);
	free(stream.data);
	return memcmp(want, got, size) != 0 || ret;
}
