// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of <debugfs>/vfio/<device>/migration/history: the transitions
 * userspace asked for, their results, and the ring that keeps the last 32.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define RING_LEN 32
#define COLUMNS "#  seq        start duration_us result             from        to          after           pid comm"

/* One parsed line of history. */
struct transition {
	unsigned long long seq;
	double start;
	unsigned long long duration_us;
	char result[32], from[16], to[16], after[16], comm[16];
	int pid;
};

struct history {
	unsigned long long count, failures, shown;
	int lines;
	struct transition t[RING_LEN];
};

/* Parses history as debugfs-vfio documents it; -EBADMSG if it does not fit. */
static int history_read(const char *uuid, struct history *h)
{
	static char buf[16384];
	char *line, *save;
	int n;

	memset(h, 0, sizeof(*h));
	n = debugfs_read(uuid, "migration/history", buf, sizeof(buf));
	if (n < 0)
		return n;
	line = strtok_r(buf, "\n", &save);
	if (!line || sscanf(line, "# transitions %llu failures %llu shown %llu",
			    &h->count, &h->failures, &h->shown) != 3)
		return -EBADMSG;
	line = strtok_r(NULL, "\n", &save);
	if (!line || strcmp(line, COLUMNS))
		return -EBADMSG;
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct transition *t = &h->t[h->lines];

		if (h->lines == RING_LEN ||
		    sscanf(line, "%llu %lf %llu %31s %15s %15s %15s %d %15s",
			   &t->seq, &t->start, &t->duration_us, t->result,
			   t->from, t->to, t->after, &t->pid, t->comm) != 9)
			return -EBADMSG;
		h->lines++;
	}
	return 0;
}

FIXTURE(history) {
	struct vfio_dev dev;
	struct history h;
};

FIXTURE_SETUP(history)
{
	if (path_exists(MIGDEV_TYPE))
		SKIP(return, "%s is missing: load its module", MIGDEV_TYPE);
	ASSERT_EQ(0, vfio_dev_create(&self->dev, MIGDEV_TYPE));
}

FIXTURE_TEARDOWN(history)
{
	vfio_dev_destroy(&self->dev);
}

static void set_state(struct __test_metadata *_metadata, struct vfio_dev *dev,
		      enum vfio_device_mig_state state, int expected)
{
	int data_fd;

	ASSERT_EQ(expected, vfio_mig_set(dev->fd, state, &data_fd));
	if (data_fd >= 0)
		close(data_fd);
}

/* One transition as history shows it: its result and three states. */
static void expect_transition(struct __test_metadata *_metadata,
			      const struct transition *t, const char *result,
			      const char *from, const char *to, const char *after)
{
	EXPECT_STREQ(result, t->result);
	EXPECT_STREQ(from, t->from);
	EXPECT_STREQ(to, t->to);
	EXPECT_STREQ(after, t->after);
}

TEST_F(history, empty_at_registration)
{
	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(0, self->h.count);
	ASSERT_EQ(0, self->h.failures);
	ASSERT_EQ(0, self->h.shown);
	ASSERT_EQ(0, self->h.lines);
}

/* A known sequence gives exactly the expected lines, oldest first. */
TEST_F(history, known_sequence)
{
	static const struct {
		const char *from, *to;
	} want[] = {
		{ "RUNNING", "RUNNING_P2P" },
		{ "RUNNING_P2P", "STOP" },
		{ "STOP", "STOP_COPY" },
		{ "STOP_COPY", "STOP" },
		{ "STOP", "RUNNING" },
	};
	static const enum vfio_device_mig_state states[] = {
		VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_STOP,
		VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_STOP,
		VFIO_DEVICE_STATE_RUNNING,
	};
	int i;

	for (i = 0; i < 5; i++)
		set_state(_metadata, &self->dev, states[i], 0);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(5, self->h.count);
	ASSERT_EQ(0, self->h.failures);
	ASSERT_EQ(5, self->h.shown);
	ASSERT_EQ(5, self->h.lines);
	for (i = 0; i < 5; i++) {
		struct transition *t = &self->h.t[i];

		EXPECT_EQ(i + 1, t->seq);
		expect_transition(_metadata, t, "0", want[i].from, want[i].to,
				  want[i].to);
		EXPECT_EQ(getpid(), t->pid);
		EXPECT_STREQ("vfio_history_te", t->comm);
		if (i)
			EXPECT_LE(self->h.t[i - 1].start, t->start);
	}
}

/* A failure shows its errno by name and number, and the ERROR after it. */
TEST_F(history, failure_and_reset)
{
	ASSERT_EQ(0, debugfs_write(self->dev.uuid, "fail_next", "RUNNING_P2P 5"));
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING_P2P, -EIO);
	/* From ERROR only a reset helps; the core still records the attempt. */
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP, -EINVAL);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(2, self->h.count);
	ASSERT_EQ(2, self->h.failures);
	ASSERT_EQ(2, self->h.lines);
	expect_transition(_metadata, &self->h.t[0], "-EIO(-5)", "RUNNING",
			  "RUNNING_P2P", "ERROR");
	expect_transition(_metadata, &self->h.t[1], "-EINVAL(-22)", "ERROR",
			  "STOP", "ERROR");
}

/* A request for no state at all is recorded as Invalid, not folded. */
TEST_F(history, invalid_request)
{
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING_P2P + 256, -EINVAL);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(1, self->h.count);
	ASSERT_EQ(1, self->h.failures);
	expect_transition(_metadata, &self->h.t[0], "-EINVAL(-22)", "RUNNING",
			  "Invalid", "RUNNING");
}

/* A bad stream on the destination is diagnosed from history alone. */
TEST_F(history, corrupt_stream)
{
	struct vfio_dev src, *devs[2] = { &src, &self->dev };
	struct mig_stream stream = { 0 };
	int data_fd;
	size_t i;

	ASSERT_EQ(0, vfio_dev_create(&src, MIGDEV_TYPE));
	/* The source's half, and the destination to STOP. */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, vfio_mig_step(devs, &qemu_migration[i], &stream));
	vfio_dev_destroy(&src);

	/* The stream arrives cut short. */
	ASSERT_EQ(0, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_RESUMING, &data_fd));
	stream.len -= 100;
	ASSERT_EQ(0, stream_write(data_fd, &stream));
	close(data_fd);
	free(stream.data);
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP, -ENODATA);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(3, self->h.count);
	ASSERT_EQ(1, self->h.failures);
	expect_transition(_metadata, &self->h.t[2], "-ENODATA(-61)", "RESUMING",
			  "STOP", "ERROR");
}

/*
 * A transition stalled in the driver, which holds its state mutex: reading
 * history must not wait for it, so it shows the transition as running. Had
 * the read waited, it would have seen it finished.
 */
TEST_F(history, stalled_transition_shows_running)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, debugfs_write(self->dev.uuid, "stall_next", "RUNNING_P2P 3000"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int data_fd;

		_exit(vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_RUNNING_P2P,
				   &data_fd) ? 1 : 0);
	}
	usleep(300 * 1000);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));
	ASSERT_EQ(1, self->h.count);
	ASSERT_EQ(1, self->h.lines);
	EXPECT_STREQ("running", self->h.t[0].result);
	EXPECT_STREQ("-", self->h.t[0].after);
	EXPECT_EQ(pid, self->h.t[0].pid);
	EXPECT_LE(100000, self->h.t[0].duration_us);
	EXPECT_GT(3000000, self->h.t[0].duration_us);

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	EXPECT_STREQ("0", self->h.t[0].result);
	EXPECT_STREQ("RUNNING_P2P", self->h.t[0].after);
	EXPECT_LE(3000000, self->h.t[0].duration_us);
}

/* More transitions than the ring holds: the newest, in order; exact counts. */
TEST_F(history, ring_keeps_newest)
{
	int i;

	for (i = 0; i < 40; i++)
		set_state(_metadata, &self->dev, i % 2 ? VFIO_DEVICE_STATE_RUNNING :
				     VFIO_DEVICE_STATE_STOP, 0);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(40, self->h.count);
	ASSERT_EQ(0, self->h.failures);
	ASSERT_EQ(RING_LEN, self->h.shown);
	ASSERT_EQ(RING_LEN, self->h.lines);
	for (i = 0; i < RING_LEN; i++) {
		EXPECT_EQ(40 - RING_LEN + 1 + i, self->h.t[i].seq);
		/* seq 9 is the 9th request, a STOP (odd seq, even index). */
		EXPECT_STREQ(self->h.t[i].seq % 2 ? "STOP" : "RUNNING",
			     self->h.t[i].to);
	}
}

TEST_HARNESS_MAIN
