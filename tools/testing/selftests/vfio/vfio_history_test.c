// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of <debugfs>/vfio/<device>/migration/history: each SET userspace
 * asked for, with its wall-clock time, the arcs the driver took for it and
 * when, what the driver and the ioctl returned and where it left the
 * device; the device's first open and last close (and how its process let
 * go), resets, errors on the data fd, a state change nobody asked for;
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
#include <sys/klog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

/*
 * Waits, up to 20 s, until history shows @count SETs: children forked to
 * make them reach the core in their own time. @h gets the SETs.
 */
static int history_wait(const char *uuid, struct history *h, long long count)
{
	int i, ret;

	for (i = 0; i < 2000; i++) {
		ret = history_read_sets(uuid, h);
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

/*
 * Waits, up to 20 s, until process @pid sleeps in a state of @states, as
 * shown in /proc/<pid>/stat: "D" for a mutex or a removal waiting on a
 * debugfs reader, "S" too for a removal waiting on the device's user.
 */
static int sleep_wait(pid_t pid, const char *states)
{
	char path[64], buf[256], *state;
	int i, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < 2000; i++) {
		n = read_file(path, buf, sizeof(buf));
		if (n < 0)
			return n;
		/* pid (comm) state ...: comm may hold anything but ')'. */
		state = strrchr(buf, ')');
		if (state && state[1] == ' ' && state[2] &&
		    strchr(states, state[2]))
			return 0;
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
	struct history all;	/* every record */
	struct history h;	/* its SETs */
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

/* One SET as history shows it: result, from, to and the arcs. */
static void expect_transition(struct __test_metadata *_metadata,
			      const struct transition *t, const char *result,
			      const char *from, const char *to,
			      const char *arcs)
{
	EXPECT_STREQ("set", t->event);
	EXPECT_STREQ(result, t->result);
	EXPECT_STREQ(from, t->from);
	EXPECT_STREQ(to, t->to);
	EXPECT_STREQ(arcs, t->arcs);
}

/* Where the driver left the device, and what it returned. */
static void expect_outcome(struct __test_metadata *_metadata,
			   const struct transition *t, const char *driver,
			   const char *left)
{
	EXPECT_STREQ(driver, t->driver);
	EXPECT_STREQ(left, t->left);
}

/* An event that ends as it starts, by this process. */
static void expect_event(struct __test_metadata *_metadata,
			 const struct transition *t, const char *event,
			 const char *result, const char *detail)
{
	EXPECT_STREQ(event, t->event);
	EXPECT_STREQ(result, t->result);
	EXPECT_STREQ(result, t->driver);
	EXPECT_STREQ("-", t->from);
	EXPECT_STREQ("-", t->to);
	EXPECT_STREQ("-", t->left);
	EXPECT_STREQ("none", t->arcs);
	EXPECT_STREQ("-", t->arc_us);
	EXPECT_STREQ(detail, t->detail);
}

/* The fixture opened the device: that is the first record, and the only. */
TEST_F(history, first_open_is_the_first_record)
{
	ASSERT_EQ(0, history_read(self->dev.uuid, &self->all));
	ASSERT_EQ(1, self->all.count);
	ASSERT_EQ(0, self->all.failures);
	ASSERT_EQ(1, self->all.shown);
	ASSERT_EQ(1, self->all.lines);
	EXPECT_EQ(1, self->all.t[0].seq);
	expect_event(_metadata, &self->all.t[0], "open", "0", "-");
	EXPECT_EQ(0, self->all.t[0].duration_us);
	EXPECT_EQ(getpid(), self->all.t[0].pid);
	EXPECT_STREQ("vfio_history_te", self->all.t[0].comm);
}

/* Microseconds since the epoch on CLOCK_REALTIME, as the history's time. */
static long long realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/*
 * Each record's time is the wall clock, in UTC to the microsecond, when it
 * reached the core: between the clock read before the call and after it.
 */
TEST_F(history, time_is_the_wall_clock)
{
	long long before, after;

	before = realtime_us();
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP, 0);
	after = realtime_us();

	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
	ASSERT_EQ(1, self->h.lines);
	EXPECT_LE(before, self->h.t[0].time_us);
	EXPECT_GE(after, self->h.t[0].time_us);
	EXPECT_EQ(27, strlen(self->h.t[0].time));
	EXPECT_EQ('Z', self->h.t[0].time[26]);
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

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->all));
	ASSERT_EQ(n + 1, self->all.count);
	ASSERT_EQ(0, self->all.failures);
	ASSERT_EQ(n + 1, self->all.lines);
	EXPECT_STREQ("open", self->all.t[0].event);
	history_sets(&self->all, &self->h);
	ASSERT_EQ(n, self->h.lines);
	for (i = 0; i < n; i++) {
		struct transition *t = &self->h.t[i];

		EXPECT_EQ(i + 2, t->seq);
		expect_transition(_metadata, t, "0", want[i].from, want[i].to,
				  want[i].arcs);
		expect_outcome(_metadata, t, "0", want[i].to);
		EXPECT_STREQ("-", t->detail);
		EXPECT_EQ(getpid(), t->pid);
		EXPECT_EQ(getpid(), t->tid);
		EXPECT_STREQ("vfio_history_te", t->comm);
		if (i)
			EXPECT_LE(self->h.t[i - 1].time_us, t->time_us);
	}
}

/*
 * arc_us has one time per arc, when the driver began it from the SET's
 * start: in the order of the arcs, none after the SET's end. migdev
 * stalls 100 ms before its first arc, so that one begins that late.
 */
TEST_F(history, arc_times_in_order)
{
	long long us, prev = 0;
	struct transition *t;
	int arcs = 0;
	char *p, *end;

	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_STALL_NEXT,
				   "STOP_COPY 100"));
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP_COPY, 0);
	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
	ASSERT_EQ(1, self->h.lines);
	t = &self->h.t[0];
	ASSERT_STREQ("RUNNING_P2P>STOP>STOP_COPY", t->arcs);
	for (p = t->arc_us; *p; p = *end ? end + 1 : end, arcs++) {
		us = strtoll(p, &end, 10);
		ASSERT_NE(p, end);
		ASSERT_TRUE(*end == '>' || !*end);
		EXPECT_LE(prev, us);
		prev = us;
	}
	EXPECT_EQ(3, arcs);
	EXPECT_LE(100000, strtoll(t->arc_us, NULL, 10));
	EXPECT_GE(t->duration_us, prev);
}

/*
 * Recording a SET asks the driver nothing, except, once a driver failed
 * one, where that left the device: one migration_get_state() per failure.
 */
TEST_F(history, driver_asked_only_after_a_failure)
{
	long long before = get_state_calls(self->dev.uuid);
	int i;

	ASSERT_LE(0, before);
	for (i = 0; i < 10; i++)
		set_state(_metadata, &self->dev, i % 2 ? VFIO_DEVICE_STATE_RUNNING :
			  VFIO_DEVICE_STATE_STOP_COPY, 0);
	ASSERT_EQ(before, get_state_calls(self->dev.uuid));
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING + 100,
		  -EINVAL);
	ASSERT_EQ(before + 1, get_state_calls(self->dev.uuid));
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

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->all));
	ASSERT_EQ(3, self->all.count);
	ASSERT_EQ(1, self->all.failures);
	history_sets(&self->all, &self->h);
	ASSERT_EQ(2, self->h.lines);
	expect_transition(_metadata, &self->h.t[0], "-EIO(-5)", "-",
			  "RUNNING_P2P", "none");
	expect_outcome(_metadata, &self->h.t[0], "-EIO(-5)", "RUNNING");
	expect_transition(_metadata, &self->h.t[1], "0", "RUNNING", "STOP",
			  "RUNNING_P2P>STOP");
	EXPECT_STREQ("-", self->h.t[1].detail);
}

/* A request for no state at all is recorded as Invalid, not folded. */
TEST_F(history, invalid_request)
{
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING_P2P + 256,
		  -EINVAL);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->all));
	ASSERT_EQ(2, self->all.count);
	ASSERT_EQ(1, self->all.failures);
	history_sets(&self->all, &self->h);
	expect_transition(_metadata, &self->h.t[0], "-EINVAL(-22)", "-",
			  "Invalid", "none");
	expect_outcome(_metadata, &self->h.t[0], "-EINVAL(-22)", "RUNNING");
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

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->all));
	ASSERT_EQ(4, self->all.count);
	ASSERT_EQ(1, self->all.failures);
	history_sets(&self->all, &self->h);
	ASSERT_EQ(3, self->h.lines);
	expect_transition(_metadata, &self->h.t[1], "0", "STOP", "RESUMING",
			  "RESUMING");
	/* The arc that failed is the last one shown; it left RESUMING. */
	expect_transition(_metadata, &self->h.t[2], "-ENODATA(-61)",
			  "RESUMING", "RUNNING", "STOP");
	expect_outcome(_metadata, &self->h.t[2], "-ENODATA(-61)", "RESUMING");
}

/*
 * A stream the destination rejects as it is written fails on the data fd,
 * which the core never sees: the driver reports it, and it is a record of
 * its own, with the errno that write() returned.
 */
TEST_F(history, data_fd_error_is_recorded)
{
	char *junk;
	size_t size = 1 << 20;
	int data_fd;

	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP, 0);
	ASSERT_EQ(0, vfio_mig_set(self->dev.fd, VFIO_DEVICE_STATE_RESUMING,
				  &data_fd));
	junk = calloc(1, size);
	ASSERT_NE(NULL, junk);
	/* More than any migdev stream: the device takes none of it. */
	EXPECT_EQ(-1, write(data_fd, junk, size));
	EXPECT_EQ(EFBIG, errno);
	free(junk);
	close(data_fd);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->all));
	ASSERT_EQ(4, self->all.count);
	ASSERT_EQ(1, self->all.failures);
	expect_event(_metadata, &self->all.t[3], "write", "-EFBIG(-27)", "-");
	EXPECT_EQ(getpid(), self->all.t[3].pid);
}

/*
 * The driver gave the core a data fd, but the ioctl failed to install it:
 * history shows what userspace got, -EMFILE, and the driver's success.
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

	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
	ASSERT_EQ(2, self->h.lines);
	ASSERT_EQ(1, self->h.failures);
	expect_transition(_metadata, &self->h.t[1], "-EMFILE(-24)", "STOP",
			  "STOP_COPY", "STOP_COPY");
	/* The driver did its part: the device is in STOP_COPY. */
	expect_outcome(_metadata, &self->h.t[1], "0", "STOP_COPY");
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

	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
	ASSERT_EQ(1, self->h.lines);
	expect_transition(_metadata, &self->h.t[0], "-EFAULT(-14)", "RUNNING",
			  "RUNNING_P2P", "RUNNING_P2P");
	expect_outcome(_metadata, &self->h.t[0], "0", "RUNNING_P2P");
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

	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
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

	EXPECT_STREQ("running", self->h.t[0].driver);
	EXPECT_STREQ("-", self->h.t[0].left);

	expect_exit_0(_metadata, holder);
	expect_exit_0(_metadata, setter);
	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
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
	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));
	ASSERT_EQ(1, self->h.count);
	ASSERT_EQ(1, self->h.lines);
	EXPECT_STREQ("running", self->h.t[0].result);
	EXPECT_EQ(pid, self->h.t[0].pid);

	expect_exit_0(_metadata, pid);
	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
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
	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
	ASSERT_EQ(2, self->h.lines);
	stop = &self->h.t[0];
	p2p = &self->h.t[1];
	EXPECT_STREQ("0", stop->result);
	EXPECT_STREQ("0", p2p->result);
	/* The second moved from where the first left it: no surprise. */
	EXPECT_STREQ("-", stop->detail);
	EXPECT_STREQ("-", p2p->detail);
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

/*
 * The device is removed while a state read waits on the driver's lock,
 * which a stalled SET holds: debugfs removal then waits for that reader,
 * under the lock of the migration/ directory. A history read meanwhile
 * answers at once: the SET, the state reader and the removal are all
 * still there when it has.
 */
TEST_F(history, answers_while_removal_waits_on_a_state_reader)
{
	pid_t setter, reader, remover;
	char uuid[37], state[32];

	snprintf(uuid, sizeof(uuid), "%s", self->dev.uuid);
	ASSERT_EQ(0, debugfs_write(uuid, MIGDEV_STALL_NEXT, "RUNNING_P2P 5000"));
	setter = fork_set(&self->dev, VFIO_DEVICE_STATE_RUNNING_P2P);
	ASSERT_LE(0, setter);
	ASSERT_EQ(0, lock_held_wait(uuid));
	reader = fork();
	ASSERT_LE(0, reader);
	if (reader == 0)
		_exit(debugfs_state(uuid, state, sizeof(state)) ? 1 : 0);
	/* The reader sleeps on the driver's lock, the removal on it. */
	ASSERT_EQ(0, sleep_wait(reader, "D"));
	/* The setter keeps the device open; this process lets go. */
	vfio_dev_close(&self->dev);
	remover = fork();
	ASSERT_LE(0, remover);
	if (remover == 0)
		_exit(mdev_remove(uuid) ? 1 : 0);
	/*
	 * On the reader where the core removes the files before it waits
	 * for userspace (7.3), on the setter where after (6.1).
	 */
	ASSERT_EQ(0, sleep_wait(remover, "DS"));
	/* Past any lock on the way, into debugfs's wait for the reader. */
	usleep(200 * 1000);

	ASSERT_EQ(0, history_read(uuid, &self->all));
	EXPECT_EQ(0, waitpid(setter, NULL, WNOHANG));
	EXPECT_EQ(0, waitpid(reader, NULL, WNOHANG));
	EXPECT_EQ(0, waitpid(remover, NULL, WNOHANG));
	ASSERT_EQ(2, self->all.lines);
	expect_event(_metadata, &self->all.t[0], "open", "0", "-");
	EXPECT_STREQ("running", self->all.t[1].result);
	EXPECT_EQ(setter, self->all.t[1].pid);

	expect_exit_0(_metadata, setter);
	expect_exit_0(_metadata, remover);
	/*
	 * The reader got its state, then -EIO reading on from the removed
	 * file: how it ended is not this test's business.
	 */
	ASSERT_EQ(reader, waitpid(reader, NULL, 0));
	/* Gone with the device: the fixture has nothing left to remove. */
	self->dev.uuid[0] = '\0';
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

	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
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

	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
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

	/* The open, then 40 SETs: the last 32 records are SETs. */
	ASSERT_EQ(0, history_read(self->dev.uuid, &self->all));
	ASSERT_EQ(41, self->all.count);
	ASSERT_EQ(0, self->all.failures);
	ASSERT_EQ(HISTORY_RING_LEN, self->all.shown);
	ASSERT_EQ(HISTORY_RING_LEN, self->all.lines);
	for (i = 0; i < HISTORY_RING_LEN; i++) {
		EXPECT_EQ(41 - HISTORY_RING_LEN + 1 + i, self->all.t[i].seq);
		EXPECT_STREQ("set", self->all.t[i].event);
		/* seq 10 is the 9th SET, a STOP (even seq). */
		EXPECT_STREQ(self->all.t[i].seq % 2 ? "RUNNING" : "STOP",
			     self->all.t[i].to);
	}
}

/*
 * VFIO_DEVICE_RESET is the driver's, and the core records it: migdev puts
 * the device back in RUNNING, which the next SET starts from.
 */
TEST_F(history, reset_is_recorded)
{
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP, 0);
	ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_RESET));
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING_P2P, 0);

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->all));
	ASSERT_EQ(4, self->all.count);
	ASSERT_EQ(4, self->all.lines);
	expect_event(_metadata, &self->all.t[2], "reset", "0", "-");
	EXPECT_EQ(getpid(), self->all.t[2].pid);
	expect_transition(_metadata, &self->all.t[3], "0", "RUNNING",
			  "RUNNING_P2P", "RUNNING_P2P");
	/* A reset moves the device: that is no surprise. */
	EXPECT_STREQ("-", self->all.t[3].detail);
}

/*
 * A reset the core does not see (migdev's debugfs reset, as a PCI reset
 * through sysfs would be) moves the device from where the last SET left
 * it: the next SET is marked, with the state the driver was really in.
 */
TEST_F(history, unasked_change_is_marked)
{
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP, 0);
	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_RESET, "1"));
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING_P2P, 0);
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_STOP, 0);

	ASSERT_EQ(0, history_read_sets(self->dev.uuid, &self->h));
	ASSERT_EQ(3, self->h.lines);
	EXPECT_STREQ("-", self->h.t[0].detail);
	expect_transition(_metadata, &self->h.t[1], "0", "RUNNING",
			  "RUNNING_P2P", "RUNNING_P2P");
	EXPECT_STREQ("unasked", self->h.t[1].detail);
	EXPECT_STREQ("-", self->h.t[2].detail);
}

/* How a process lets go of the device, as its last close records it. */
enum let_go { CLOSES, EXITS, IS_KILLED, ANOTHER_PROCESS };

FIXTURE(last_close) {
	struct vfio_dev dev;
	struct history all;
};

FIXTURE_VARIANT(last_close) {
	enum let_go how;
	const char *detail;
};

FIXTURE_VARIANT_ADD(last_close, closes) {
	.how = CLOSES,
	.detail = "close",
};

FIXTURE_VARIANT_ADD(last_close, exits) {
	.how = EXITS,
	.detail = "exit:3",
};

FIXTURE_VARIANT_ADD(last_close, is_killed) {
	.how = IS_KILLED,
	.detail = "signal:9",
};

/* The fd went to a child, which let go last: not the opener's end. */
FIXTURE_VARIANT_ADD(last_close, another_process) {
	.how = ANOTHER_PROCESS,
	.detail = "released",
};

FIXTURE_SETUP(last_close)
{
	ASSERT_EQ(0, vfio_dev_create(&self->dev, MIGDEV_TYPE));
}

FIXTURE_TEARDOWN(last_close)
{
	vfio_dev_destroy(&self->dev);
}

/*
 * A child opens the device itself, as QEMU does, and lets go of it as the
 * variant says: a QEMU that crashed or was killed is told from one that
 * gave up. Where the last fd went to another process, which let go, the
 * record says so, not how the opener ended.
 */
TEST_F(last_close, says_how)
{
	int status, go[2];
	struct vfio_dev dev;
	char byte = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	if (variant->how != ANOTHER_PROCESS)
		vfio_dev_close(&self->dev);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		if (variant->how == ANOTHER_PROCESS)
			dev = self->dev;
		else if (vfio_dev_open(&dev, self->dev.uuid))
			_exit(1);
		if (vfio_mig_set(dev.fd, VFIO_DEVICE_STATE_STOP, &status))
			_exit(1);
		/* Until the parent has let go of its fds, if it had any. */
		if (read(go[0], &byte, 1) != 1)
			_exit(1);
		if (variant->how == CLOSES) {
			vfio_dev_close(&dev);
			_exit(0);
		}
		if (variant->how == IS_KILLED)
			raise(SIGKILL);
		_exit(3);
	}
	close(go[0]);
	vfio_dev_close(&self->dev);
	ASSERT_EQ(1, write(go[1], &byte, 1));
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	ASSERT_EQ(0, history_read(self->dev.uuid, &self->all));
	ASSERT_EQ(variant->how == ANOTHER_PROCESS ? 3 : 5, self->all.lines);
	expect_event(_metadata, &self->all.t[0], "open", "0", "-");
	EXPECT_EQ(getpid(), self->all.t[0].pid);
	if (variant->how != ANOTHER_PROCESS) {
		expect_event(_metadata, &self->all.t[1], "close", "0", "close");
		expect_event(_metadata, &self->all.t[2], "open", "0", "-");
		EXPECT_EQ(pid, self->all.t[2].pid);
	}
	expect_transition(_metadata, &self->all.t[self->all.lines - 2], "0",
			  "RUNNING", "STOP", "RUNNING_P2P>STOP");
	expect_event(_metadata, &self->all.t[self->all.lines - 1], "close", "0",
		     variant->detail);
	EXPECT_EQ(pid, self->all.t[self->all.lines - 1].pid);
}

/*
 * A device going away with failures in its history logs the last of them,
 * with their wall-clock times, once: they outlive the history.
 */
TEST_F(history, failures_logged_when_removed)
{
	static char log[1 << 20];
	char want[160], uuid[37], *line, *save;
	int n, found = 0;

	ASSERT_EQ(0, debugfs_write(self->dev.uuid, MIGDEV_FAIL_NEXT,
				   "RUNNING_P2P 5"));
	set_state(_metadata, &self->dev, VFIO_DEVICE_STATE_RUNNING_P2P, -EIO);
	snprintf(want, sizeof(want),
		 "set to RUNNING_P2P: -EIO(-5), driver -EIO(-5), left RUNNING, pid %d vfio_history_te",
		 getpid());
	ASSERT_EQ(0, ioctl(self->dev.fd, VFIO_DEVICE_RESET));
	snprintf(uuid, sizeof(uuid), "%s", self->dev.uuid);
	vfio_dev_destroy(&self->dev);

	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, sizeof(log) - 1);
	ASSERT_LT(0, n);
	log[n] = '\0';
	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, uuid) &&
		    strstr(line, "vfio: migration history: seq 2 ") &&
		    strstr(line, want))
			found++;
	}
	EXPECT_EQ(1, found);
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
