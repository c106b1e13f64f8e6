// SPDX-License-Identifier: GPL-2.0
/*
 * migration/state, features and history through a migration with
 * pre-copy (VFIO_MIGRATION_PRE_COPY, Linux 6.2 and later), on the mtty
 * sample, which offers it: every state a migration with pre-copy goes
 * through shows in state with mainline's name, and the history shows the
 * arcs mainline's FSM takes, PRE_COPY and PRE_COPY_P2P included.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

/* One SET of the migration and what debugfs must show after it. */
struct precopy_step {
	int dev;				/* 0 source, 1 destination */
	enum vfio_device_mig_state to;
	const char *state;			/* migration/state */
	const char *from;			/* the history's from */
	const char *arcs;			/* the history's arcs */
};

/*
 * A migration as QEMU makes one with pre-copy and P2P: the source goes
 * through both pre-copy states to STOP_COPY, the destination resumes and
 * runs, the source is stopped. Each SET takes the arcs of mainline's FSM.
 */
static const struct precopy_step precopy_migration[] = {
	{ 0, VFIO_DEVICE_STATE_PRE_COPY, "PRE_COPY", "RUNNING", "PRE_COPY" },
	{ 0, VFIO_DEVICE_STATE_PRE_COPY_P2P, "PRE_COPY_P2P", "PRE_COPY",
	  "PRE_COPY_P2P" },
	{ 0, VFIO_DEVICE_STATE_STOP_COPY, "STOP_COPY", "PRE_COPY_P2P",
	  "STOP_COPY" },
	{ 1, VFIO_DEVICE_STATE_STOP, "STOP", "RUNNING", "RUNNING_P2P>STOP" },
	{ 1, VFIO_DEVICE_STATE_RESUMING, "RESUMING", "STOP", "RESUMING" },
	{ 1, VFIO_DEVICE_STATE_STOP, "STOP", "RESUMING", "STOP" },
	{ 1, VFIO_DEVICE_STATE_RUNNING_P2P, "RUNNING_P2P", "STOP",
	  "RUNNING_P2P" },
	{ 1, VFIO_DEVICE_STATE_RUNNING, "RUNNING", "RUNNING_P2P", "RUNNING" },
	{ 0, VFIO_DEVICE_STATE_STOP, "STOP", "STOP_COPY", "STOP" },
};

/* Appends what @data_fd has now to @stream, up to the read that returns 0. */
static int stream_append(int data_fd, struct mig_stream *stream)
{
	uint8_t buf[4096], *data;
	ssize_t n;

	for (;;) {
		n = read(data_fd, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		data = realloc(stream->data, stream->len + n);
		if (!data)
			return -ENOMEM;
		memcpy(data + stream->len, buf, n);
		stream->data = data;
		stream->len += n;
	}
}

static int last_transition(const char *uuid, struct transition *t)
{
	struct history h;
	int ret = history_read_sets(uuid, &h);

	if (ret)
		return ret;
	if (!h.lines)
		return -ENODATA;
	*t = h.t[h.lines - 1];
	return 0;
}

FIXTURE(mtty) {
	struct vfio_dev devs[2];
};

FIXTURE_SETUP(mtty)
{
	uint64_t flags;

	ASSERT_EQ(0, vfio_dev_create(&self->devs[0], MTTY_TYPE));
	ASSERT_EQ(0, vfio_dev_create(&self->devs[1], MTTY_TYPE));
	ASSERT_EQ(0, vfio_mig_flags(self->devs[0].fd, &flags));
	ASSERT_EQ((uint64_t)(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
			     VFIO_MIGRATION_PRE_COPY), flags);
}

FIXTURE_TEARDOWN(mtty)
{
	vfio_dev_destroy(&self->devs[1]);
	vfio_dev_destroy(&self->devs[0]);
}

/*
 * mtty offers stop-copy, P2P and pre-copy, and logs dirty pages (with no
 * pages ever dirty): features lists the four, in mainline's order.
 */
TEST_F(mtty, features_lists_precopy_and_dirty_tracking)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_logging_control ctl;
	} probe = {
		.hdr.argsz = sizeof(probe),
		.hdr.flags = VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
	};
	char buf[128];

	/* The uAPI's word that the driver has dirty logging ops. */
	ASSERT_EQ(0, ioctl(self->devs[0].fd, VFIO_DEVICE_FEATURE, &probe));
	ASSERT_EQ(38, debugfs_read(self->devs[0].uuid, "migration/features",
				   buf, sizeof(buf)));
	ASSERT_STREQ("stop-copy\np2p\npre-copy\ndirty-tracking\n", buf);
}

/*
 * Through a whole migration with pre-copy: after each SET, state shows the
 * state asked for and the history's newest record the SET, its result,
 * the state it started from and the arcs it took. The destination ends
 * with the source's stream, and both histories count every SET.
 */
TEST_F(mtty, precopy_migration_states_and_arcs)
{
	struct mig_stream stream = { 0 };
	struct transition t;
	struct history h;
	char state[32];
	int data_fd = -1, fd, ret;
	size_t i, sets[2] = { 0, 0 };

	for (i = 0; i < ARRAY_SIZE(precopy_migration); i++) {
		const struct precopy_step *s = &precopy_migration[i];
		struct vfio_dev *dev = &self->devs[s->dev];

		ASSERT_EQ(0, vfio_mig_set(dev->fd, s->to, &fd))
			TH_LOG("step %zu: SET %s", i, s->state);
		sets[s->dev]++;
		/* PRE_COPY_P2P -> STOP_COPY goes on with the PRE_COPY fd. */
		if (fd >= 0) {
			if (data_fd >= 0)
				close(data_fd);
			data_fd = fd;
		}
		if (s->to == VFIO_DEVICE_STATE_PRE_COPY ||
		    s->to == VFIO_DEVICE_STATE_STOP_COPY)
			ASSERT_EQ(0, stream_append(data_fd, &stream));
		if (s->to == VFIO_DEVICE_STATE_RESUMING)
			ASSERT_EQ(0, stream_write(data_fd, &stream));

		ASSERT_EQ(0, debugfs_state(dev->uuid, state, sizeof(state)));
		EXPECT_STREQ(s->state, state) TH_LOG("step %zu", i);
		ASSERT_EQ(0, last_transition(dev->uuid, &t));
		/* Each device's record 1 is its open. */
		EXPECT_EQ((long long)sets[s->dev] + 1, t.seq) TH_LOG("step %zu", i);
		EXPECT_STREQ("0", t.result) TH_LOG("step %zu", i);
		EXPECT_STREQ(s->from, t.from) TH_LOG("step %zu", i);
		EXPECT_STREQ(s->state, t.to) TH_LOG("step %zu", i);
		EXPECT_STREQ(s->arcs, t.arcs) TH_LOG("step %zu", i);
	}
	if (data_fd >= 0)
		close(data_fd);
	/* A header and the ports of a two-port mtty. */
	EXPECT_LT(0, (long long)stream.len);
	free(stream.data);

	for (i = 0; i < 2; i++) {
		ret = history_read_sets(self->devs[i].uuid, &h);
		ASSERT_EQ(0, ret);
		EXPECT_EQ((long long)sets[i], h.count);
		EXPECT_EQ(0, h.failures);
	}
}

/*
 * A SET from PRE_COPY straight to STOP_COPY passes through PRE_COPY_P2P;
 * one from RUNNING to PRE_COPY_P2P through RUNNING_P2P, and back.
 */
TEST_F(mtty, precopy_inner_arcs)
{
	struct transition t;
	char state[32];
	int fd, none;

	ASSERT_EQ(0, vfio_mig_set(self->devs[0].fd, VFIO_DEVICE_STATE_PRE_COPY,
				  &fd));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vfio_mig_set(self->devs[0].fd,
				  VFIO_DEVICE_STATE_STOP_COPY, &none));
	EXPECT_EQ(-1, none);
	ASSERT_EQ(0, last_transition(self->devs[0].uuid, &t));
	EXPECT_STREQ("PRE_COPY", t.from);
	EXPECT_STREQ("STOP_COPY", t.to);
	EXPECT_STREQ("PRE_COPY_P2P>STOP_COPY", t.arcs);
	close(fd);

	ASSERT_EQ(0, vfio_mig_set(self->devs[1].fd,
				  VFIO_DEVICE_STATE_PRE_COPY_P2P, &fd));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, last_transition(self->devs[1].uuid, &t));
	EXPECT_STREQ("RUNNING", t.from);
	EXPECT_STREQ("RUNNING_P2P>PRE_COPY_P2P", t.arcs);
	ASSERT_EQ(0, debugfs_state(self->devs[1].uuid, state, sizeof(state)));
	EXPECT_STREQ("PRE_COPY_P2P", state);

	ASSERT_EQ(0, vfio_mig_set(self->devs[1].fd, VFIO_DEVICE_STATE_RUNNING,
				  &none));
	ASSERT_EQ(0, last_transition(self->devs[1].uuid, &t));
	EXPECT_STREQ("PRE_COPY_P2P", t.from);
	EXPECT_STREQ("RUNNING_P2P>RUNNING", t.arcs);
	close(fd);
}

/*
 * Two destinations fail in pre-copy's RESUMING: one's stream is rejected
 * by mtty as it arrives (a header that is not mtty's: write() fails with
 * -EFAULT), the other's process is killed with the device open. Neither
 * failure is a failed SET, and the histories still tell them apart: a
 * write record with the errno, against a close by signal 9.
 */
TEST_F(mtty, rejected_stream_and_killed_destination_differ)
{
	static const char junk[64] = "not an mtty stream";
	struct history all;
	int data_fd, status;
	pid_t pid;

	/* The first destination's stream is rejected. */
	ASSERT_EQ(0, vfio_mig_set(self->devs[0].fd, VFIO_DEVICE_STATE_STOP,
				  &data_fd));
	ASSERT_EQ(0, vfio_mig_set(self->devs[0].fd,
				  VFIO_DEVICE_STATE_RESUMING, &data_fd));
	ASSERT_LE(0, data_fd);
	EXPECT_EQ(-1, write(data_fd, junk, sizeof(junk)));
	EXPECT_EQ(EFAULT, errno);
	close(data_fd);

	/*
	 * The second's process, which opened the device as QEMU does, is
	 * killed in RESUMING.
	 */
	vfio_dev_close(&self->devs[1]);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vfio_dev dst;

		if (vfio_dev_open(&dst, self->devs[1].uuid) ||
		    vfio_mig_set(dst.fd, VFIO_DEVICE_STATE_STOP, &data_fd) ||
		    vfio_mig_set(dst.fd, VFIO_DEVICE_STATE_RESUMING, &data_fd))
			_exit(1);
		raise(SIGKILL);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));

	ASSERT_EQ(0, history_read(self->devs[0].uuid, &all));
	ASSERT_EQ(4, all.lines);
	EXPECT_STREQ("RESUMING", all.t[2].to);
	EXPECT_STREQ("0", all.t[2].result);
	EXPECT_STREQ("write", all.t[3].event);
	EXPECT_STREQ("-EFAULT(-14)", all.t[3].result);
	EXPECT_EQ(1, all.failures);

	/* This process's open and close, then the killed one's. */
	ASSERT_EQ(0, history_read(self->devs[1].uuid, &all));
	ASSERT_EQ(6, all.lines);
	EXPECT_STREQ("open", all.t[2].event);
	EXPECT_EQ(pid, all.t[2].pid);
	EXPECT_STREQ("RESUMING", all.t[4].to);
	EXPECT_STREQ("0", all.t[4].result);
	EXPECT_STREQ("close", all.t[5].event);
	EXPECT_STREQ("signal:9", all.t[5].detail);
	EXPECT_EQ(pid, all.t[5].pid);
	EXPECT_EQ(0, all.failures);
}

int main(int argc, char **argv)
{
	if (path_exists(MTTY_TYPE))
		ksft_exit_skip("%s is missing: load mtty\n", MTTY_TYPE);
	return test_harness_run(argc, argv);
}
