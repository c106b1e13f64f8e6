// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of <debugfs>/vfio/<device>/migration/history: each SET userspace
 * asked for, the arcs the driver took for it, what the ioctl returned, and
 * the ring that keeps the last 32; and that the history is recorded
 * without calling into the driver, so that it answers while the driver
 * holds its lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

/*
 * Waits, up to 20 s, until history has recorded @count SETs: children
 * forked to make them reach the core in their own time.
 */
static int history_wait(const char *uuid, struct history *h, long long count)
{
	int i, ret;

	for (i = 0; i < 2000; i++) {
		ret = history_read(uuid, h);
		if (ret || h->count >= count)
			return ret;
		usleep(10 * 1000);
	}
	return -ETIMEDOUT;
}

/* Waits, up to 20 s, until migdev's state lock is held. */
static int lock_held_wait(const char *uuid)
{
	char buf[8];
	int i, ret;

	for (i = 0; i < 2000; i++) {
		ret = debugfs_read(uuid, MIGDEV_HOLD_LOCK, buf, sizeof(buf));
		if (ret < 0 || !strcmp(buf, "1\n"))
			return ret < 0 ? ret : 0;
		usleep(10 * 1000);
	}
	return -ETIMEDOUT;
}

static long long get_state_calls(const char *uuid)
{
	char buf[32];

	if (debugfs_read(uuid, MIGDEV_GET_STATE_CALLS, buf, sizeof(buf)) < 0)
		return -1;
	return atoll(buf);
}

FIXTURE(history) {
	struct vfio_dev dev;
	struct history h;
};

FIXTURE_SETUP(history)
{
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

/* One transition as history shows it: result, from, to and the arcs. */
static void expect_transition(struct __test_metadata *_metadata,
			      const struct transition *t, const char *result,
			      const char *from, const char *to,
			      const char *arcs)
{
	EXPECT_STREQ(result, t->result);
	EXPECT_STREQ(from, t->from);
	EXPECT_STREQ(to, t->to);
	EXPECT_STREQ(arcs, t->arcs);
}

TEST_F(history, empty_at_registration)
{
	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(0, self->h.count);
	ASSERT_EQ(0, self->h.failures);
	ASSERT_EQ(0, self->h.shown);
	ASSERT_EQ(0, self->h.lines);
}

/*
 * A known sequence gives exactly the expected lines, oldest first, each
 * with the arcs the FSM takes for it: one for a neighbour, several for a
 * state further away, none for the state the device is already in.
 */
TEST_F(history, known_sequence_with_arcs)
{
	static const struct {
		enum vfio_device_mig_state state;
		const char *from, *to, *arcs;
	} want[] = {
		{ VFIO_DEVICE_STATE_RUNNING_P2P, "RUNNING", "RUNNING_P2P", "RUNNING_P2P" },
		{ VFIO_DEVICE_STATE_STOP, "RUNNING_P2P", "STOP", "STOP" },
		{ VFIO_DEVICE_STATE_STOP, "-", "STOP", "none" },
		{ VFIO_DEVICE_STATE_RUNNING, "STOP", "RUNNING", "RUNNING_P2P>RUNNING" },
		{ VFIO_DEVICE_STATE_STOP_COPY, "RUNNING", "STOP_COPY",
		  "RUNNING_P2P>STOP>STOP_COPY" },
		{ VFIO_DEVICE_STATE_RUNNING, "STOP_COPY", "RUNNING",
		  "STOP>RUNNING_P2P>RUNNING" },
	};
	int i, n = ARRAY_SIZE(want);

	for (i = 0; i < n; i++)
		set_state(_metadata, &self->dev, want[i].state, 0);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(n, self->h.count);
	ASSERT_EQ(0, self->h.failures);
	ASSERT_EQ(n, self->h.shown);
	ASSERT_EQ(n, self->h.lines);
	for (i = 0; i < n; i++) {
		struct transition *t = &self->h.t[i];

		EXPECT_EQ(i + 1, t->seq);
		expect_transition(_metadata, t, "0", want[i].from, want[i].to,
				  want[i].arcs);
		EXPECT_EQ(getpid(), t->pid);
		EXPECT_EQ(getpid(), t->tid);
		EXPECT_STREQ("vfio_history_te", t->comm);
		if (i)
			EXPECT_LE(self->h.t[i - 1].start, t->start);
	}
}

/* Recording a SET asks the driver nothing: migration_get_state() unused. */
TEST_F(history, no_driver_call_added)
{
	long long before = get_state_calls(self->dev.uuid);
	int i;

	ASSERT_LE(0, before);
	for (i = 0; i < 10; i++)
		set_state(_metadata, &self->dev, i % 2 ? VFIO_DEVICE_STATE_RUNNING :
			  VFIO_DEVICE_STATE_STOP_COPY, 0);
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING + 100,
		  -EINVAL);
	ASSERT_EQ(before, get_state_calls(self->dev.uuid));
}

/*
 * A failure shows its errno by name and number. A request failed before any
 * arc shows none; the next request goes ahead from where the device was.
 */
TEST_F(history, failure_before_any_arc)
{
	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_FAIL_NEXT,
				   "RUNNING_P2P 5"));
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING_P2P, -EIO);
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP, 0);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(2, self->h.count);
	ASSERT_EQ(1, self->h.failures);
	ASSERT_EQ(2, self->h.lines);
	expect_transition(_metadata, &self->h.t[0], "-EIO(-5)", "-",
			  "RUNNING_P2P", "none");
	expect_transition(_metadata, &self->h.t[1], "0", "RUNNING", "STOP",
			  "RUNNING_P2P>STOP");
}

/* A request for no state at all is recorded as Invalid, not folded. */
TEST_F(history, invalid_request)
{
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING_P2P + 256,
		  -EINVAL);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(1, self->h.count);
	ASSERT_EQ(1, self->h.failures);
	expect_transition(_metadata, &self->h.t[0], "-EINVAL(-22)", "-",
			  "Invalid", "none");
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
	ASSERT_EQ(0, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_RESUMING,
				  &data_fd));
	stream.len -= 100;
	ASSERT_EQ(0, stream_write(data_fd, &stream));
	close(data_fd);
	free(stream.data);
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING, -ENODATA);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(3, self->h.count);
	ASSERT_EQ(1, self->h.failures);
	expect_transition(_metadata, &self->h.t[1], "0", "STOP", "RESUMING",
			  "RESUMING");
	/* The arc that failed is the last one shown. */
	expect_transition(_metadata, &self->h.t[2], "-ENODATA(-61)",
			  "RESUMING", "RUNNING", "STOP");
}

/*
 * The driver gave the core a data fd, but the ioctl failed to install it:
 * history shows what userspace got, -EMFILE, not the driver's success.
 */
TEST_F(history, result_is_the_ioctls)
{
	struct rlimit old, none;
	int fd, data_fd, filler[64], fillers = 0;

	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP, 0);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	/* No free descriptor: every one below the limit is taken. */
	none = old;
	none.rlim_cur = self->dev.fd + 1;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &none));
	for (fd = 0; fd <= self->dev.fd && fillers < 64; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			filler[fillers++] = open("/dev/null", O_RDONLY);
	EXPECT_EQ(-EMFILE, vfio_mig_set(self->dev.fd,
					VFIO_DEVICE_STATE_STOP_COPY, &data_fd));
	while (fillers)
		close(filler[--fillers]);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(2, self->h.count);
	ASSERT_EQ(1, self->h.failures);
	expect_transition(_metadata, &self->h.t[1], "-EMFILE(-24)", "STOP",
			  "STOP_COPY", "STOP_COPY");
}

/* Likewise when the answer cannot be copied back: -EFAULT. */
TEST_F(history, result_includes_copy_to_user)
{
	struct {
		struct vfio_device_feature feature;
		struct vfio_device_feature_mig_state mig;
	} *req;

	req = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, req);
	req->feature.argsz = sizeof(*req);
	req->feature.flags = VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	req->mig.device_state = VFIO_DEVICE_STATE_RUNNING_P2P;
	/* The kernel can read the request, but not write the answer. */
	ASSERT_EQ(0, mprotect(req, 4096, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->dev.fd, VFIO_DEVICE_FEATURE, req));
	EXPECT_EQ(EFAULT, errno);
	munmap(req, 4096);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(1, self->h.count);
	expect_transition(_metadata, &self->h.t[0], "-EFAULT(-14)", "RUNNING",
			  "RUNNING_P2P", "RUNNING_P2P");
}

/* A SET from a second thread: pid is the process, tid the thread. */
static void *set_stop(void *arg)
{
	struct vfio_dev *dev = arg;
	static long tid;
	int data_fd;

	tid = syscall(SYS_gettid);
	if (vfio_mig_set(dev->fd, VFIO_DEVICE_STATE_STOP, &data_fd))
		return NULL;
	return &tid;
}

TEST_F(history, pid_and_tid)
{
	pthread_t thread;
	long *tid;

	ASSERT_EQ(0, pthread_create(&thread, NULL, set_stop, &self->dev));
	ASSERT_EQ(0, pthread_join(thread, (void **)&tid));
	ASSERT_NE(NULL, tid);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(1, self->h.lines);
	EXPECT_EQ(getpid(), self->h.t[0].pid);
	EXPECT_EQ(*tid, self->h.t[0].tid);
	EXPECT_NE(getpid(), self->h.t[0].tid);
}

/* A child that asks for @state; its exit status says whether it got it. */
static pid_t fork_set(struct vfio_dev *dev, enum vfio_device_mig_state state)
{
	pid_t pid = fork();

	if (pid == 0) {
		int data_fd;

		_exit(vfio_mig_set(dev->fd, state, &data_fd) ? 1 : 0);
	}
	return pid;
}

/* A child that makes migdev hold its state lock for @ms. */
static pid_t fork_hold_lock(struct vfio_dev *dev, const char *ms)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(debugfs_write(dev->uuid, MIGDEV_HOLD_LOCK, ms) ? 1 : 0);
	return pid;
}

static void expect_exit_0(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * The driver holds its state lock for reasons of its own (as mlx5 does
 * across firmware commands) when a SET arrives: the SET waits on the lock,
 * and history already shows it, running, with no arc taken yet. Reading it
 * does not wait for the driver: the SET and the holder are still there.
 */
TEST_F(history, held_driver_lock_shows_pending_set)
{
	pid_t holder, setter;
	int status;

	holder = fork_hold_lock(&self->dev, "5000");
	ASSERT_LE(0, holder);
	ASSERT_EQ(0, lock_held_wait(self->dev.uuid));
	setter = fork_set(&self->dev, VFIO_DEVICE_STATE_STOP);
	ASSERT_LE(0, setter);

	ASSERT_EQ(0, history_wait(self->dev.uuid, &self->h, 1));
	ASSERT_EQ(0, waitpid(setter, &status, WNOHANG));
	ASSERT_EQ(0, waitpid(holder, &status, WNOHANG));
	ASSERT_EQ(1, self->h.count);
	ASSERT_EQ(1, self->h.lines);
	expect_transition(_metadata, &self->h.t[0], "running", "-", "STOP",
			  "none");
	EXPECT_EQ(setter, self->h.t[0].pid);

	expect_exit_0(_metadata, holder);
	expect_exit_0(_metadata, setter);
	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	expect_transition(_metadata, &self->h.t[0], "0", "RUNNING", "STOP",
			  "RUNNING_P2P>STOP");
}

/*
 * A transition stalled in the driver, which holds its state mutex: history
 * shows it running for as long as it has run so far.
 */
TEST_F(history, stalled_transition_shows_running)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_STALL_NEXT,
				   "RUNNING_P2P 3000"));
	pid = fork_set(&self->dev, VFIO_DEVICE_STATE_RUNNING_P2P);
	ASSERT_LE(0, pid);

	/* The driver sleeps with its lock held: once it holds it, read. */
	ASSERT_EQ(0, lock_held_wait(self->dev.uuid));
	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));
	ASSERT_EQ(1, self->h.count);
	ASSERT_EQ(1, self->h.lines);
	EXPECT_STREQ("running", self->h.t[0].result);
	EXPECT_EQ(pid, self->h.t[0].pid);

	expect_exit_0(_metadata, pid);
	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	expect_transition(_metadata, &self->h.t[0], "0", "RUNNING",
			  "RUNNING_P2P", "RUNNING_P2P");
	EXPECT_LE(3000000, self->h.t[0].duration_us);
}

/*
 * Two SETs on one device at once, both queued behind the driver's lock:
 * each gets its own record at once, in the order they came, and each its
 * own arcs, in whichever order the driver ran them. The one the driver ran
 * second starts where the first left the device.
 */
TEST_F(history, concurrent_sets_get_their_own_arcs)
{
	struct transition *stop, *p2p;
	pid_t holder, a, b;

	holder = fork_hold_lock(&self->dev, "5000");
	ASSERT_LE(0, holder);
	ASSERT_EQ(0, lock_held_wait(self->dev.uuid));
	a = fork_set(&self->dev, VFIO_DEVICE_STATE_STOP);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, history_wait(self->dev.uuid, &self->h, 1));
	b = fork_set(&self->dev, VFIO_DEVICE_STATE_RUNNING_P2P);
	ASSERT_LE(0, b);

	ASSERT_EQ(0, history_wait(self->dev.uuid, &self->h, 2));
	ASSERT_EQ(2, self->h.lines);
	expect_transition(_metadata, &self->h.t[0], "running", "-", "STOP",
			  "none");
	expect_transition(_metadata, &self->h.t[1], "running", "-",
			  "RUNNING_P2P", "none");
	EXPECT_EQ(a, self->h.t[0].pid);
	EXPECT_EQ(b, self->h.t[1].pid);

	expect_exit_0(_metadata, holder);
	expect_exit_0(_metadata, a);
	expect_exit_0(_metadata, b);
	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(2, self->h.lines);
	stop = &self->h.t[0];
	p2p = &self->h.t[1];
	EXPECT_STREQ("0", stop->result);
	EXPECT_STREQ("0", p2p->result);
	if (!strcmp(stop->from, "RUNNING")) {
		EXPECT_STREQ("RUNNING_P2P>STOP", stop->arcs);
		EXPECT_STREQ("STOP", p2p->from);
		EXPECT_STREQ("RUNNING_P2P", p2p->arcs);
	} else {
		EXPECT_STREQ("RUNNING", p2p->from);
		EXPECT_STREQ("RUNNING_P2P", p2p->arcs);
		EXPECT_STREQ("RUNNING_P2P", stop->from);
		EXPECT_STREQ("STOP", stop->arcs);
	}
}

/* A thread named with blanks and a backslash stays one field. */
static void *set_stop_named(void *arg)
{
	struct vfio_dev *dev = arg;
	int data_fd;

	if (prctl(PR_SET_NAME, "mig ra\\te"))
		return NULL;
	if (vfio_mig_set(dev->fd, VFIO_DEVICE_STATE_STOP, &data_fd))
		return NULL;
	return dev;
}

TEST_F(history, comm_is_one_field)
{
	pthread_t thread;
	void *ok;

	ASSERT_EQ(0, pthread_create(&thread, NULL, set_stop_named, &self->dev));
	ASSERT_EQ(0, pthread_join(thread, &ok));
	ASSERT_NE(NULL, ok);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(1, self->h.lines);
	EXPECT_STREQ("mig\\040ra\\134te", self->h.t[0].comm);
}

/*
 * Durations are never negative nor wrapped: each one is at most the time
 * the whole test took, measured on CLOCK_MONOTONIC here.
 */
TEST_F(history, durations_within_the_test)
{
	struct timespec t0, t1;
	long long elapsed_us;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 20; i++)
		set_state(_metadata, &self->dev, i % 2 ? VFIO_DEVICE_STATE_RUNNING :
			  VFIO_DEVICE_STATE_STOP_COPY, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed_us = (t1.tv_sec - t0.tv_sec) * 1000000LL +
		     (t1.tv_nsec - t0.tv_nsec) / 1000 + 1;

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->h));
	ASSERT_EQ(20, self->h.lines);
	for (i = 0; i < 20; i++) {
		EXPECT_LE(0, self->h.t[i].duration_us);
		EXPECT_GE(elapsed_us, self->h.t[i].duration_us);
	}
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
	ASSERT_EQ(HISTORY_RING_LEN, self->h.shown);
	ASSERT_EQ(HISTORY_RING_LEN, self->h.lines);
	for (i = 0; i < HISTORY_RING_LEN; i++) {
		EXPECT_EQ(40 - HISTORY_RING_LEN + 1 + i, self->h.t[i].seq);
		/* seq 9 is the 9th request, a STOP (odd seq, even index). */
		EXPECT_STREQ(self->h.t[i].seq % 2 ? "STOP" : "RUNNING",
			     self->h.t[i].to);
	}
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
