// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the VFIO debugfs ABI (Documentation/ABI/testing/debugfs-vfio):
 * the directory layout, migration/state after every transition and
 * migration/features, on devices of the migdev and mtty samples.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

/* The names in @dir, sorted and joined by spaces. */
static void dir_list(const char *dir, char *out, size_t size)
{
	struct dirent **names;
	int i, n;

	out[0] = '\0';
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		snprintf(out, size, "(%s)", strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			strncat(out, names[i]->d_name, size - strlen(out) - 2);
			strcat(out, " ");
		}
		free(names[i]);
	}
	free(names);
	if (out[0])
		out[strlen(out) - 1] = '\0';
}

/* The state file must name @expected, and so must the uAPI. */
#define ASSERT_STATE(dev, expected) do {				\
	const struct vfio_dev *_dev = (dev);				\
	enum vfio_device_mig_state _want = (expected), _got;		\
	char _buf[64], _line[64];					\
									\
	snprintf(_line, sizeof(_line), "%s\n", mig_state_name(_want));	\
	ASSERT_EQ((int)strlen(_line),					\
		  debugfs_read(_dev->uuid, "migration/state", _buf,	\
			       sizeof(_buf)));				\
	ASSERT_STREQ(_line, _buf);					\
	ASSERT_EQ(0, vfio_mig_get(_dev->fd, &_got));			\
	ASSERT_EQ(_want, _got);						\
} while (0)

TEST(root_exists)
{
	struct stat st;

	ASSERT_EQ(0, stat(VFIO_DEBUGFS, &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
}

FIXTURE(migdev) {
	struct vfio_dev dev;
};

FIXTURE_SETUP(migdev)
{
	ASSERT_EQ(0, vfio_dev_create(&self->dev, MIGDEV_TYPE));
}

FIXTURE_TEARDOWN(migdev)
{
	vfio_dev_destroy(&self->dev);
}

/* The core's files, and migdev's own under migration/migdev/. */
TEST_F(migdev, layout)
{
	char path[PATH_MAX], names[256];

	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s", self->dev.uuid);
	dir_list(path, names, sizeof(names));
	ASSERT_STREQ("migration", names);

	strcat(path, "/migration");
	dir_list(path, names, sizeof(names));
	ASSERT_STREQ("features history migdev state", names);

	strcat(path, "/migdev");
	dir_list(path, names, sizeof(names));
	ASSERT_STREQ("error_next fail_next get_state_calls hold_lock reset stall_next",
		     names);
}

TEST_F(migdev, initial_state)
{
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_RUNNING);
}

TEST_F(migdev, features_match_uapi)
{
	char buf[64], want[64] = "";
	uint64_t flags;

	ASSERT_EQ(0, vfio_mig_flags(self->dev.fd, &flags));
	ASSERT_EQ((uint64_t)(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P),
		  flags);
	if (flags & VFIO_MIGRATION_STOP_COPY)
		strcat(want, "stop-copy\n");
	if (flags & VFIO_MIGRATION_P2P)
		strcat(want, "p2p\n");

	ASSERT_EQ((int)strlen(want),
		  debugfs_read(self->dev.uuid, "migration/features", buf,
			       sizeof(buf)));
	ASSERT_STREQ("stop-copy\np2p\n", buf);
	ASSERT_STREQ(want, buf);
}

/*
 * A device has migration/ exactly when its driver does migration: mtty
 * does not on 6.1, and has migration/ (state, features, history) where it
 * does. Without, the device's directory is empty.
 */
TEST(mtty_migration_files_follow_uapi)
{
	char path[PATH_MAX], names[256];
	struct vfio_dev dev;
	uint64_t flags;
	int ret;

	if (path_exists(MTTY_TYPE))
		SKIP(return, "%s is missing: load its module", MTTY_TYPE);
	ASSERT_EQ(0, vfio_dev_create(&dev, MTTY_TYPE));
	ret = vfio_mig_flags(dev.fd, &flags);
	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s", dev.uuid);
	dir_list(path, names, sizeof(names));
	if (ret == -ENOTTY) {
		EXPECT_STREQ("", names);
	} else {
		EXPECT_EQ(0, ret);
		EXPECT_STREQ("migration", names);
		strcat(path, "/migration");
		dir_list(path, names, sizeof(names));
		EXPECT_STREQ("features history state", names);
		path[strlen(path) - strlen("/migration")] = '\0';
	}
	vfio_dev_destroy(&dev);
	ASSERT_EQ(-ENOENT, path_exists(path));
}

/* Every device has its own directory, named after its mdev UUID. */
TEST(one_dir_per_device)
{
	struct vfio_dev devs[3];
	char path[PATH_MAX];
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vfio_dev_create(&devs[i], MIGDEV_TYPE));
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/migration/state",
			 devs[i].uuid);
		EXPECT_EQ(0, path_exists(path));
	}
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s", devs[i].uuid);
		vfio_dev_destroy(&devs[i]);
		EXPECT_EQ(-ENOENT, path_exists(path)) TH_LOG("%s", path);
	}
}

/*
 * Every arc between the states userspace can request, and a request for
 * the state the device is already in. The device is first walked to the
 * variant's state, one request at a time, with the state checked after
 * each; on the way to RESUMING it saves its own state, to resume from it.
 */
FIXTURE(arc) {
	struct vfio_dev dev;
	struct mig_stream stream;
};

FIXTURE_VARIANT(arc) {
	enum vfio_device_mig_state path[5];
};

FIXTURE_VARIANT_ADD(arc, from_RUNNING) {
	.path = { VFIO_DEVICE_STATE_RUNNING },
};

FIXTURE_VARIANT_ADD(arc, from_RUNNING_P2P) {
	.path = { VFIO_DEVICE_STATE_RUNNING_P2P },
};

FIXTURE_VARIANT_ADD(arc, from_STOP) {
	.path = { VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_STOP },
};

FIXTURE_VARIANT_ADD(arc, from_STOP_COPY) {
	.path = { VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_STOP,
		  VFIO_DEVICE_STATE_STOP_COPY },
};

FIXTURE_VARIANT_ADD(arc, from_RESUMING) {
	.path = { VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_STOP,
		  VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_STOP,
		  VFIO_DEVICE_STATE_RESUMING },
};

FIXTURE_SETUP(arc)
{
	struct vfio_dev *devs[2] = { &self->dev, &self->dev };
	struct mig_step step = { 0 };
	int i;

	ASSERT_EQ(0, vfio_dev_create(&self->dev, MIGDEV_TYPE));
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_RUNNING);
	for (i = 0; i < 5 && variant->path[i]; i++) {
		step.state = variant->path[i];
		ASSERT_EQ(0, vfio_mig_step(devs, &step, &self->stream));
		ASSERT_STATE(&self->dev, step.state);
	}
}

FIXTURE_TEARDOWN(arc)
{
	free(self->stream.data);
	vfio_dev_destroy(&self->dev);
}

static void arc_to(struct __test_metadata *_metadata, struct vfio_dev *dev,
		   enum vfio_device_mig_state to)
{
	enum vfio_device_mig_state from;
	int data_fd;

	ASSERT_EQ(0, vfio_mig_get(dev->fd, &from));
	ASSERT_EQ(0, vfio_mig_set(dev->fd, to, &data_fd));
	/* A data fd comes with entering STOP_COPY or RESUMING, only. */
	ASSERT_EQ(from != to && (to == VFIO_DEVICE_STATE_STOP_COPY ||
				 to == VFIO_DEVICE_STATE_RESUMING),
		  data_fd >= 0);
	if (data_fd >= 0)
		close(data_fd);
	ASSERT_STATE(dev, to);
}

TEST_F(arc, to_RUNNING)
{
	arc_to(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING);
}

TEST_F(arc, to_RUNNING_P2P)
{
	arc_to(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING_P2P);
}

TEST_F(arc, to_STOP)
{
	arc_to(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP);
}

TEST_F(arc, to_STOP_COPY)
{
	arc_to(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP_COPY);
}

TEST_F(arc, to_RESUMING)
{
	arc_to(_metadata, &self->dev, VFIO_DEVICE_STATE_RESUMING);
}

/* Two devices, a source and a destination, and the stream between them. */
FIXTURE(migration) {
	struct vfio_dev src, dst;
	struct vfio_dev *devs[2];
	struct mig_stream stream;
	size_t size;
};

FIXTURE_SETUP(migration)
{
	ASSERT_EQ(0, vfio_dev_create(&self->src, MIGDEV_TYPE));
	ASSERT_EQ(0, vfio_dev_create(&self->dst, MIGDEV_TYPE));
	self->devs[0] = &self->src;
	self->devs[1] = &self->dst;
	ASSERT_EQ(0, bar0_size(self->src.fd, &self->size));
	ASSERT_EQ(0, bar0_fill(self->src.fd, self->size, 7));
	ASSERT_EQ(0, bar0_fill(self->dst.fd, self->size, 99));
}

FIXTURE_TEARDOWN(migration)
{
	free(self->stream.data);
	vfio_dev_destroy(&self->src);
	vfio_dev_destroy(&self->dst);
}

TEST_F(migration, qemu_sequence)
{
	enum vfio_device_mig_state src_state = VFIO_DEVICE_STATE_RUNNING;
	enum vfio_device_mig_state dst_state = VFIO_DEVICE_STATE_RUNNING;
	uint8_t *want = malloc(self->size), *got = malloc(self->size);
	size_t i;

	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, bar0_read(self->src.fd, want, self->size));

	for (i = 0; i < qemu_migration_len; i++) {
		const struct mig_step *step = &qemu_migration[i];

		ASSERT_EQ(0, vfio_mig_step(self->devs, step, &self->stream))
			TH_LOG("step %zu: %s", i, mig_state_name(step->state));
		if (step->dev)
			dst_state = step->state;
		else
			src_state = step->state;
		ASSERT_STATE(&self->src, src_state);
		ASSERT_STATE(&self->dst, dst_state);
	}
	ASSERT_EQ(sizeof(struct migdev_stream_header) + self->size,
		  self->stream.len);

	ASSERT_EQ(0, bar0_read(self->dst.fd, got, self->size));
	ASSERT_EQ(0, memcmp(want, got, self->size));
	free(want);
	free(got);
}

/*
 * A load that fails leaves the destination in RESUMING, and its data fd
 * still takes writes: the rest of the stream, written after the failure,
 * loads at the next RESUMING -> STOP, which checks the stream again.
 */
TEST_F(migration, resume_after_failed_load)
{
	size_t part = sizeof(struct migdev_stream_header) + 10;
	uint8_t *want = malloc(self->size), *got = malloc(self->size);
	struct mig_stream head, tail;
	int data_fd, none;
	size_t i;

	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, bar0_read(self->src.fd, want, self->size));
	/* The source's half of the migration, and the destination to STOP. */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, vfio_mig_step(self->devs, &qemu_migration[i],
					   &self->stream));
	head.data = self->stream.data;
	head.len = part;
	tail.data = self->stream.data + part;
	tail.len = self->stream.len - part;

	ASSERT_EQ(0, vfio_mig_set(self->dst.fd, VFIO_DEVICE_STATE_RESUMING,
				  &data_fd));
	ASSERT_LE(0, data_fd);
	ASSERT_EQ(0, stream_write(data_fd, &head));
	ASSERT_EQ(-ENODATA, vfio_mig_set(self->dst.fd, VFIO_DEVICE_STATE_STOP,
					 &none));
	ASSERT_STATE(&self->dst, VFIO_DEVICE_STATE_RESUMING);

	ASSERT_EQ(0, stream_write(data_fd, &tail));
	ASSERT_EQ(0, vfio_mig_set(self->dst.fd, VFIO_DEVICE_STATE_STOP, &none));
	ASSERT_STATE(&self->dst, VFIO_DEVICE_STATE_STOP);
	close(data_fd);

	ASSERT_EQ(0, bar0_read(self->dst.fd, got, self->size));
	ASSERT_EQ(0, memcmp(want, got, self->size));
	free(want);
	free(got);
}

/*
 * A bad stream makes RESUMING -> STOP fail with the errno the sample
 * documents. Like any failed arc, it leaves the destination where it was,
 * in RESUMING, from which a reset still brings it back to RUNNING.
 */
FIXTURE(bad_stream) {
	struct vfio_dev src, dst;
	struct vfio_dev *devs[2];
	struct mig_stream stream;
};

FIXTURE_VARIANT(bad_stream) {
	size_t offset;		/* byte to change, or the new length */
	int change;		/* added to that byte, or 0 to cut or grow */
	int write_errno;	/* of writing the stream */
	int load_errno;		/* of RESUMING -> STOP */
};

FIXTURE_VARIANT_ADD(bad_stream, corrupt_data) {
	.offset = sizeof(struct migdev_stream_header) + 100, .change = 1,
	.load_errno = EBADMSG,
};

FIXTURE_VARIANT_ADD(bad_stream, bad_magic) {
	.offset = offsetof(struct migdev_stream_header, magic), .change = 1,
	.load_errno = EBADMSG,
};

FIXTURE_VARIANT_ADD(bad_stream, wrong_version) {
	.offset = offsetof(struct migdev_stream_header, version), .change = 1,
	.load_errno = EPROTONOSUPPORT,
};

FIXTURE_VARIANT_ADD(bad_stream, reserved_set) {
	.offset = offsetof(struct migdev_stream_header, reserved), .change = 1,
	.load_errno = EPROTONOSUPPORT,
};

FIXTURE_VARIANT_ADD(bad_stream, wrong_length) {
	.offset = offsetof(struct migdev_stream_header, length), .change = 1,
	.load_errno = EMSGSIZE,
};

FIXTURE_VARIANT_ADD(bad_stream, short_header) {
	.offset = sizeof(struct migdev_stream_header) - 1,
	.load_errno = ENODATA,
};

FIXTURE_VARIANT_ADD(bad_stream, short_data) {
	.offset = sizeof(struct migdev_stream_header) + 10,
	.load_errno = ENODATA,
};

FIXTURE_VARIANT_ADD(bad_stream, empty) {
	.offset = 0,
	.load_errno = ENODATA,
};

FIXTURE_VARIANT_ADD(bad_stream, oversized) {
	.offset = SIZE_MAX,
	.write_errno = EFBIG,
	.load_errno = EFBIG,
};

FIXTURE_SETUP(bad_stream)
{
	int i;

	ASSERT_EQ(0, vfio_dev_create(&self->src, MIGDEV_TYPE));
	ASSERT_EQ(0, vfio_dev_create(&self->dst, MIGDEV_TYPE));
	self->devs[0] = &self->src;
	self->devs[1] = &self->dst;
	/* The source's half of the migration, and the destination to STOP. */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, vfio_mig_step(self->devs, &qemu_migration[i],
					   &self->stream));
}

FIXTURE_TEARDOWN(bad_stream)
{
	free(self->stream.data);
	vfio_dev_destroy(&self->src);
	vfio_dev_destroy(&self->dst);
}

TEST_F(bad_stream, load_fails_in_resuming)
{
	struct mig_stream *s = &self->stream;
	uint8_t *data;
	int data_fd;

	if (variant->change) {
		s->data[variant->offset] += variant->change;
	} else if (variant->offset == SIZE_MAX) {
		data = realloc(s->data, s->len + 1);
		ASSERT_NE(NULL, data);
		s->data = data;
		s->data[s->len++] = 0;
	} else {
		s->len = variant->offset;
	}

	ASSERT_EQ(0, vfio_mig_set(self->dst.fd, VFIO_DEVICE_STATE_RESUMING,
				  &data_fd));
	ASSERT_LE(0, data_fd);
	ASSERT_EQ(-variant->write_errno, stream_write(data_fd, s));
	close(data_fd);
	ASSERT_STATE(&self->dst, VFIO_DEVICE_STATE_RESUMING);

	ASSERT_EQ(-variant->load_errno,
		  vfio_mig_set(self->dst.fd, VFIO_DEVICE_STATE_STOP, &data_fd));
	ASSERT_EQ(-1, data_fd);
	ASSERT_STATE(&self->dst, VFIO_DEVICE_STATE_RESUMING);

	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	ASSERT_STATE(&self->dst, VFIO_DEVICE_STATE_RUNNING);
}

/*
 * fail_next fails the next request for its state, before any arc is
 * taken: the device stays where it was, and the next request goes ahead.
 */
TEST_F(migdev, injected_failure_keeps_state)
{
	char buf[64];
	int data_fd;

	/* RUNNING -> STOP passes through RUNNING_P2P, were an arc taken. */
	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_FAIL_NEXT, "STOP 5"));
	ASSERT_EQ(7, debugfs_read(self->dev.uuid, MIGDEV_FAIL_NEXT, buf,
				  sizeof(buf)));
	ASSERT_STREQ("STOP 5\n", buf);
	ASSERT_EQ(-EIO, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_STOP,
				     &data_fd));
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_RUNNING);
	ASSERT_EQ(5, debugfs_read(self->dev.uuid, MIGDEV_FAIL_NEXT, buf,
				  sizeof(buf)));
	ASSERT_STREQ("none\n", buf);

	/* Not for this state: no effect, and it stays set. */
	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_FAIL_NEXT, "STOP 5"));
	ASSERT_EQ(0, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_RUNNING_P2P,
				  &data_fd));
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_RUNNING_P2P);
	ASSERT_EQ(-EIO, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_STOP,
				     &data_fd));
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_RUNNING_P2P);

	/* Once only. */
	ASSERT_EQ(0, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_STOP,
				  &data_fd));
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_STOP);
}

/*
 * A device that can reach no valid state shows ERROR, in state as in GET;
 * it refuses every request until a reset brings it back to RUNNING.
 */
TEST_F(migdev, error_until_reset)
{
	int data_fd;

	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_ERROR_NEXT,
				   "STOP 5"));
	ASSERT_EQ(-EIO, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_STOP,
				     &data_fd));
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_ERROR);
	ASSERT_EQ(-EINVAL, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_RUNNING,
					&data_fd));
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_ERROR);
	ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_RESET));
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_RUNNING);
	ASSERT_EQ(0, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_STOP,
				  &data_fd));
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_STOP);
}

TEST_F(migdev, fault_files_reject_bad_values)
{
	static const char * const bad[] = {
		"STOP", "STOP 0", "STOP -5", "STOP 512", "STOP 4096", "STOP x",
		"ERROR 5", "BOGUS 5", "stop 5", "",
		"RUNNING 1234567890123456789012345678901234567890",
	};
	char buf[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, debugfs_write(self->dev.uuid,
						 MIGDEV_FAIL_NEXT, bad[i]))
			TH_LOG("bad[%zu]", i);
	/* 511 is the largest errno userspace may see (512 is ERESTARTSYS). */
	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_FAIL_NEXT, "STOP 511"));
	ASSERT_EQ(9, debugfs_read(self->dev.uuid, MIGDEV_FAIL_NEXT, buf,
				  sizeof(buf)));
	ASSERT_STREQ("STOP 511\n", buf);
	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_FAIL_NEXT, "none"));
	EXPECT_EQ(-EINVAL, debugfs_write(self->dev.uuid, MIGDEV_STALL_NEXT,
					 "STOP 60001"));
	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_STALL_NEXT,
				   "STOP_COPY 60000\n"));
	ASSERT_EQ(16, debugfs_read(self->dev.uuid, MIGDEV_STALL_NEXT, buf,
				   sizeof(buf)));
	ASSERT_STREQ("STOP_COPY 60000\n", buf);
	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_STALL_NEXT, "none"));
	ASSERT_EQ(5, debugfs_read(self->dev.uuid, MIGDEV_STALL_NEXT, buf,
				  sizeof(buf)));
	ASSERT_STREQ("none\n", buf);
	ASSERT_EQ(5, debugfs_read(self->dev.uuid, MIGDEV_FAIL_NEXT, buf,
				  sizeof(buf)));
	ASSERT_STREQ("none\n", buf);
}

/*
 * What VFIO promises of its own files: they are read-only (mode 0444),
 * and a write, even by root, who may open them for writing, is refused
 * and changes nothing. How it is refused (the errno) is debugfs's and
 * seq_file's business, not VFIO's, so it is not checked.
 */
TEST_F(migdev, read_only)
{
	static const char * const files[] = {
		"migration/state", "migration/features", "migration/history",
	};
	char path[PATH_MAX], before[256], after[256];
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/%s",
			 self->dev.uuid, files[i]);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0444U, st.st_mode & 0777) TH_LOG("%s", files[i]);
		ASSERT_LE(0, read_file(path, before, sizeof(before)));
		fd = open(path, O_WRONLY);
		if (fd >= 0) {
			EXPECT_EQ(-1, write(fd, "STOP\n", 5)) TH_LOG("%s", files[i]);
			close(fd);
		}
		ASSERT_LE(0, read_file(path, after, sizeof(after)));
		EXPECT_STREQ(before, after);
	}
	ASSERT_STATE(&self->dev, VFIO_DEVICE_STATE_RUNNING);
}

/*
 * Removing a device whose vfio fd is open waits until the fd is closed.
 * The core removes the device's debugfs directory before it waits, and
 * state changes on the open fd go on working without it (the history they
 * are recorded in is freed with the device, not with the directory); once
 * the fd is closed the removal completes.
 */
TEST(remove_while_open)
{
	char path[PATH_MAX];
	struct vfio_dev dev;
	int i, status, data_fd;
	pid_t pid;

	ASSERT_EQ(0, vfio_dev_create(&dev, MIGDEV_TYPE));
	ASSERT_EQ(0, vfio_mig_set(dev.fd, VFIO_DEVICE_STATE_RUNNING_P2P, &data_fd));
	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s", dev.uuid);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child's copies of the fds would hold the device too. */
		vfio_dev_close(&dev);
		_exit(mdev_remove(dev.uuid) ? 1 : 0);
	}
	/* Up to 20 s for the removal to reach the core. */
	for (i = 0; i < 2000 && !path_exists(path); i++)
		usleep(10 * 1000);
	ASSERT_EQ(-ENOENT, path_exists(path));
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));
	ASSERT_EQ(0, vfio_mig_set(dev.fd, VFIO_DEVICE_STATE_STOP, &data_fd));
	ASSERT_EQ(0, vfio_mig_set(dev.fd, VFIO_DEVICE_STATE_RUNNING, &data_fd));

	vfio_dev_close(&dev);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * A state file held open across the removal of its device: later reads
 * fail (with what errno is debugfs's choice), nothing crashes, and the
 * directory is gone.
 */
TEST(state_open_across_remove)
{
	char uuid[37], path[PATH_MAX], buf[64];
	int fd;

	ASSERT_EQ(0, mdev_create(MIGDEV_TYPE, uuid));
	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/migration/state", uuid);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(8, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp("RUNNING\n", buf, 8));

	ASSERT_EQ(0, mdev_remove(uuid));
	ASSERT_EQ(-1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, close(fd));

	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s", uuid);
	ASSERT_EQ(-ENOENT, path_exists(path));
}

/*
 * Nearly every test needs migdev. Checked here, not in FIXTURE_SETUP():
 * the 6.1 harness runs a test even after its setup called SKIP().
 */
int main(int argc, char **argv)
{
	if (path_exists(MIGDEV_TYPE))
		ksft_exit_skip("%s is missing: load migdev\n", MIGDEV_TYPE);
	return test_harness_run(argc, argv);
}
