// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the vfio trace events, read through tracefs as trace-cmd and
 * perf would: a whole migration between two migdev devices gives, for each
 * state change, one vfio_mig_arc per arc the driver took, then
 * vfio_mig_set_end with what the driver and the ioctl returned, in that
 * order; each carries the seq of the change's line in migration/history
 * (0 without it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define TRACEFS		"/sys/kernel/tracing"
#define MAX_EVENTS	64

struct events {
	int n;
	char line[MAX_EVENTS][256];	/* "event: text", as trace prints */
};

/* The vfio events in the trace buffer, in order, without their prefix. */
static int events_read(struct events *ev)
{
	static char buf[65536];
	char *line, *save, *event;
	int n;

	memset(ev, 0, sizeof(*ev));
	n = read_file(TRACEFS "/trace", buf, sizeof(buf));
	if (n < 0)
		return n;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		event = strstr(line, ": vfio_mig_");
		if (!event)
			continue;
		if (ev->n == MAX_EVENTS ||
		    snprintf(ev->line[ev->n++], sizeof(ev->line[0]), "%s",
			     event + 2) >= (int)sizeof(ev->line[0]))
			return -E2BIG;
	}
	return 0;
}

/* Turns the vfio events on, with an empty buffer, or off. */
static int tracing(int on)
{
	int fd;

	if (on) {
		/* Opening trace for writing with O_TRUNC empties the buffer. */
		fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	return write_file(TRACEFS "/events/vfio/enable", on ? "1" : "0");
}

FIXTURE(trace) {
	struct vfio_dev src, dst;
	struct events ev;
	bool history;		/* CONFIG_VFIO_DEBUGFS: seq, from and arcs */
};

FIXTURE_SETUP(trace)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, vfio_dev_create(&self->src, MIGDEV_TYPE));
	ASSERT_EQ(0, vfio_dev_create(&self->dst, MIGDEV_TYPE));
	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/migration/history",
		 self->src.uuid);
	self->history = !path_exists(path);
}

FIXTURE_TEARDOWN(trace)
{
	tracing(0);
	vfio_dev_destroy(&self->src);
	vfio_dev_destroy(&self->dst);
}

/*
 * Appends the events of one state change to @want, record @seq of the
 * device's history; set_end up to its duration, which the test cannot
 * know.
 */
static void want_set(char (*want)[256], int *n, bool history, int seq,
		     const char *uuid, const char *from, const char *to,
		     const char * const *arcs, int result)
{
	int i;

	if (!history)
		seq = 0;
	for (i = 0; arcs[i]; i++)
		snprintf(want[(*n)++], 256, "vfio_mig_arc: %s seq=%d %s", uuid,
			 seq, arcs[i]);
	snprintf(want[(*n)++], 256,
		 "vfio_mig_set_end: %s seq=%d from=%s to=%s arcs=%d driver=%d result=%d duration_us=",
		 uuid, seq, history ? from : "0xff", to, history ? i : 0,
		 result, result);
}

/* Each event as wanted; set_end's duration a number, whatever it is. */
static void expect_events(struct __test_metadata *_metadata,
			  char (*want)[256], int n, const struct events *ev)
{
	const char *tail;
	char *end;
	int i;

	ASSERT_EQ(n, ev->n);
	for (i = 0; i < n; i++) {
		if (!strstr(want[i], "duration_us=")) {
			EXPECT_STREQ(want[i], ev->line[i]);
			continue;
		}
		EXPECT_EQ(0, strncmp(want[i], ev->line[i], strlen(want[i])))
			TH_LOG("want %s..., got %s", want[i], ev->line[i]);
		tail = ev->line[i] + strlen(want[i]);
		strtoull(tail, &end, 10);
		EXPECT_TRUE(end != tail && !*end) TH_LOG("%s", ev->line[i]);
	}
}

/* The SETs of @uuid's history are seqs @first and on, @n of them. */
static void expect_history_seqs(struct __test_metadata *_metadata,
				const char *uuid, int first, int n)
{
	struct history h;
	int i;

	ASSERT_EQ(0, history_read_sets(uuid, &h));
	ASSERT_EQ(n, h.lines);
	for (i = 0; i < n; i++)
		EXPECT_EQ(first + i, h.t[i].seq);
}

TEST_F(trace, migration_on_one_timeline)
{
	static const char * const src_p2p[] = { "RUNNING -> RUNNING_P2P", NULL };
	static const char * const src_copy[] = {
		"RUNNING_P2P -> STOP", "STOP -> STOP_COPY", NULL };
	static const char * const src_stop[] = { "STOP_COPY -> STOP", NULL };
	static const char * const dst_stop[] = {
		"RUNNING -> RUNNING_P2P", "RUNNING_P2P -> STOP", NULL };
	static const char * const dst_resume[] = { "STOP -> RESUMING", NULL };
	static const char * const dst_load[] = { "RESUMING -> STOP", NULL };
	static const char * const dst_run[] = {
		"STOP -> RUNNING_P2P", "RUNNING_P2P -> RUNNING", NULL };
	struct mig_stream stream = { 0 };
	char want[MAX_EVENTS][256];
	int n = 0;

	ASSERT_EQ(0, tracing(1));
	ASSERT_EQ(0, vfio_migrate(&self->src, &self->dst, &stream));
	ASSERT_EQ(0, tracing(0));
	free(stream.data);

	/* Each device's record 1 is its open; its SETs follow. */
	want_set(want, &n, self->history, 2, self->src.uuid, "RUNNING",
		 "RUNNING_P2P", src_p2p, 0);
	want_set(want, &n, self->history, 3, self->src.uuid, "RUNNING_P2P",
		 "STOP_COPY", src_copy, 0);
	want_set(want, &n, self->history, 4, self->src.uuid, "STOP_COPY",
		 "STOP", src_stop, 0);
	want_set(want, &n, self->history, 2, self->dst.uuid, "RUNNING",
		 "STOP", dst_stop, 0);
	want_set(want, &n, self->history, 3, self->dst.uuid, "STOP",
		 "RESUMING", dst_resume, 0);
	want_set(want, &n, self->history, 4, self->dst.uuid, "RESUMING",
		 "STOP", dst_load, 0);
	want_set(want, &n, self->history, 5, self->dst.uuid, "STOP",
		 "RUNNING", dst_run, 0);

	ASSERT_EQ(0, events_read(&self->ev));
	expect_events(_metadata, want, n, &self->ev);
	if (self->history) {
		/* The seqs above are the lines of each device's history. */
		expect_history_seqs(_metadata, self->src.uuid, 2, 3);
		expect_history_seqs(_metadata, self->dst.uuid, 2, 4);
	}
}

/*
 * A failed change: its end, with the errno, and no arc. ERROR
 * is no state userspace may ask for, so the core's FSM refuses it without
 * any fault injection (which needs VFIO debugfs).
 */
TEST_F(trace, failure_shows_its_errno)
{
	static const char * const none[] = { NULL };
	char want[4][256];
	int data_fd, n = 0;

	ASSERT_EQ(0, tracing(1));
	EXPECT_EQ(-EINVAL, vfio_mig_set(self->src.fd, VFIO_DEVICE_STATE_ERROR,
					&data_fd));
	ASSERT_EQ(0, tracing(0));

	want_set(want, &n, self->history, 2, self->src.uuid, "0xff", "ERROR",
		 none, -EINVAL);
	ASSERT_EQ(0, events_read(&self->ev));
	expect_events(_metadata, want, n, &self->ev);
}

/* Disabled, the events leave nothing in the buffer. */
TEST_F(trace, nothing_while_disabled)
{
	int data_fd;

	ASSERT_EQ(0, tracing(1));
	ASSERT_EQ(0, tracing(0));
	ASSERT_EQ(0, vfio_mig_set(self->src.fd, VFIO_DEVICE_STATE_STOP,
				  &data_fd));
	ASSERT_EQ(0, events_read(&self->ev));
	ASSERT_EQ(0, self->ev.n);
}

/*
 * trace-cmd and perf decode an event from its format file, and know no
 * kernel enum: the states must show there by value, as the uAPI numbers
 * them, each with its name.
 */
TEST(formats_name_states_by_value)
{
	static const char * const events[] = {
		"vfio_mig_arc", "vfio_mig_set_end",
	};
	char path[PATH_MAX], buf[4096], want[64];
	enum vfio_device_mig_state state;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(events); i++) {
		snprintf(path, sizeof(path), TRACEFS "/events/vfio/%s/format",
			 events[i]);
		ASSERT_LT(0, read_file(path, buf, sizeof(buf)));
		EXPECT_EQ(NULL, strstr(buf, "VFIO_DEVICE_STATE_"))
			TH_LOG("%s", buf);
		for (state = VFIO_DEVICE_STATE_ERROR;
		     strcmp(mig_state_name(state), "Invalid"); state++) {
			snprintf(want, sizeof(want), "{ %d, \"%s\" }", state,
				 mig_state_name(state));
			EXPECT_NE(NULL, strstr(buf, want))
				TH_LOG("%s: no %s", events[i], want);
		}
	}
}

int main(int argc, char **argv)
{
	if (path_exists(MIGDEV_TYPE))
		ksft_exit_skip("%s is missing: load migdev\n", MIGDEV_TYPE);
	if (path_exists(TRACEFS "/events/vfio"))
		ksft_exit_skip("no vfio events in %s: mount tracefs\n",
			       TRACEFS);
	return test_harness_run(argc, argv);
}
