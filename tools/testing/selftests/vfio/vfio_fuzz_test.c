// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer of hostile and concurrent userspace against the VFIO migration
 * uAPI, VFIO debugfs and the migdev sample. SLOTS devices are shared by
 * workers that all run at once, each a loop of random operations:
 *   setter     SET to valid and invalid states, GET, reset, BAR0, malformed
 *              VFIO_DEVICE_FEATURE calls, junk and real faults in migdev's
 *              fault files; keeps the data fds it gets for the streamers
 *   streamer   reads and writes those data fds, most often the newest
 *              resume fd of one "hot" device, so that several threads write
 *              one fd at once: whole streams, slices, junk, 0 bytes, 1 GiB,
 *              past the end, in the wrong direction, with an offset, and
 *              long after the device disabled the fd
 *   debugfs    reads every file under <debugfs>/vfio in chunks of any size
 *   lifecycle  creates, opens, closes and removes devices, keeping their
 *              data fds open across the close and the removal
 *   prober     takes one device alone and checks exactly what each kind of
 *              bad stream does to RESUMING -> STOP, then what a good one does
 *   unloader   tries to unload migdev under open devices, then closes them
 *              all and unloads migdev, or all of VFIO: only modules loaded at
 *              the start, used by nothing else; all loaded again at the end
 * Every QUIET_MS all workers stop at a barrier; then for every open device
 * migration/state in debugfs must name the state GET reports, and BAR0
 * hold zeroes or the pattern, and every closed device must read RUNNING.
 * An operation may fail only with the errnos ops[] allows it; any other,
 * and any state a check does not expect, fails the test, naming the
 * worker, the operation, the errno and the device.
 *
 * FUZZ_SECONDS (default 20) bounds the run. The seed is printed first;
 * FUZZ_SEED=<seed> replays every worker's choices (not how the threads
 * interleave). Kernel splats are the rig's to catch (panic_on_warn and its
 * console scan), not this test's.
 */
#define _GNU_SOURCE		/* strerrorname_np() */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define FUZZ_SECONDS		20
/* The harness kills the test after FUZZ_TIMEOUT; 2 minutes to wind down. */
#define FUZZ_TIMEOUT		600
#define FUZZ_MAX_SECONDS	(FUZZ_TIMEOUT - 120)
#define QUIET_MS		250	/* between quiet points */
#define UNLOAD_MS		4000	/* between full unloads */
#define SLOTS			4	/* devices the workers share */
#define DATA_FDS		8	/* data fds kept per device */
#define HUGE_LEN		(1024UL * 1024 * 1024)
#define FAULT_ERRNO		EUCLEAN	/* armed failures: unlike all else */
#define FAULT_STALL_MS		20	/* at most, for armed stalls */
#define MIGDEV_STREAM_MAGIC	0x6d696764
#define MIGDEV_STREAM_VERSION	1
#define HDR_SIZE		sizeof(struct migdev_stream_header)
#define WRITERS_FIRST		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP

/* Every kind of operation the workers do, for ops[] and the figures. */
enum op_kind {
	OP_SET,
	OP_SET_INVALID,
	OP_FEATURE_BAD,
	OP_GET,
	OP_RESET,
	OP_BAR0_WRITE,
	OP_BAR0_READ,
	OP_FAULT,
	OP_FAULT_JUNK,
	OP_SAVE_READ,
	OP_RESUME_WRITE,
	OP_WRONG_WAY,
	OP_NO_SEEK,
	OP_DEBUGFS,
	OP_CREATE,
	OP_OPEN,
	OP_REMOVE,
	OP_UNLOAD,
	OP_UNLOAD_BUSY,
	OP_PROBE,
	OP_COUNT
};

/*
 * The errnos each operation may legitimately return. An operation that
 * must_fail is never valid: its success is a bug as much as a stray errno.
 */
static const struct {
	const char *name;
	int must_fail;
	int allowed[7];		/* 0 ends the list */
} ops[OP_COUNT] = {
	/*
	 * A valid target, from whatever state the others left: only the
	 * RESUMING -> STOP arc can fail, with what migdev says of the stream
	 * the streamers wrote, or with the failure a setter armed.
	 */
	[OP_SET] = { "set", 0, { ENODATA, EBADMSG, EPROTONOSUPPORT,
				 EMSGSIZE, EFBIG, FAULT_ERRNO } },
	/* ERROR, past RUNNING_P2P (no PRE_COPY here), 256 and up. */
	[OP_SET_INVALID] = { "set_invalid", 1, { EINVAL } },
	/* Short argsz or GET with SET (EINVAL), a feature nobody has. */
	[OP_FEATURE_BAD] = { "feature_bad", 1, { EINVAL, ENOTTY } },
	[OP_GET] = { "get" },
	[OP_RESET] = { "reset" },
	/* A device that is not running keeps its BAR0 as it is. */
	[OP_BAR0_WRITE] = { "bar0_write", 0, { EBUSY } },
	[OP_BAR0_READ] = { "bar0_read" },
	/* The fault files may be absent: fault_injection=0. */
	[OP_FAULT] = { "fault", 0, { ENOENT } },
	[OP_FAULT_JUNK] = { "fault_junk", 1, { EINVAL, ENOENT } },
	/* Once the device has left STOP_COPY, its save fd is dead. */
	[OP_SAVE_READ] = { "save_read", 0, { ENODEV } },
	/* Dead once the device has left RESUMING; no room past the end. */
	[OP_RESUME_WRITE] = { "resume_write", 0, { ENODEV, EFBIG } },
	/* The save fd is read-only, the resume fd write-only. */
	[OP_WRONG_WAY] = { "wrong_way", 1, { EBADF } },
	/* Both are streams: no pread, pwrite or lseek. */
	[OP_NO_SEEK] = { "no_seek", 1, { ESPIPE } },
	/*
	 * As in vfio_stress_test: a file goes between readdir and open
	 * (ENOENT) or once open (EIO), or all of it goes with vfio. None
	 * finds its module going (ENXIO): migdev's own files are opened
	 * apart from its unloads (open_file()), and vfio's exist only while
	 * vfio cannot go.
	 */
	[OP_DEBUGFS] = { "debugfs", 0, { ENOENT, EIO, ENODEV } },
	/* The slot locks keep the modules loaded meanwhile: never fail. */
	[OP_CREATE] = { "create" },
	[OP_OPEN] = { "open" },
	[OP_REMOVE] = { "remove" },
	/* A reader has a file of the module open, or it is still in use. */
	[OP_UNLOAD] = { "unload", 0, { EAGAIN, EBUSY } },
	/* An open device holds migdev: unloading it must fail. */
	[OP_UNLOAD_BUSY] = { "unload_busy", 1, { EAGAIN, EBUSY } },
	[OP_PROBE] = { "probe" },
};

static atomic_long op_ok[OP_COUNT], op_refused[OP_COUNT];
static atomic_long quiet_points, compared, overlaps;

/* "EBADMSG" for 74, as the errno tables name it; "errno" if unknown. */
static const char *errno_name(int err)
{
	const char *name = err > 0 ? strerrorname_np(err) : NULL;

	return name ? name : "errno";
}

/* The first failure; the main thread ends the run once there is one. */
static atomic_bool failed;
static char failure[512];
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&failure_lock);
	if (!failure[0]) {
		va_start(ap, fmt);
		vsnprintf(failure, sizeof(failure), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&failure_lock);
	failed = true;
}

struct worker {
	char name[16];
	void *(*fn)(void *arg);
	uint64_t rng;
	uint8_t *buf;		/* scratch, see scratch() */
	size_t buf_size;
	pthread_t thread;
};

/*
 * Counts the result of one operation, @ret >= 0 or -errno, and fails the
 * test if ops[] does not allow it. True when the operation succeeded.
 */
static bool account(struct worker *w, enum op_kind op, long ret,
		    const char *what, const char *uuid)
{
	const int *allowed = ops[op].allowed;
	size_t i;

	if (ret >= 0) {
		op_ok[op]++;
		if (ops[op].must_fail)
			fail("%s: %s %s on %s: succeeded, but must fail",
			     w->name, ops[op].name, what, uuid);
		return true;
	}
	for (i = 0; i < ARRAY_SIZE(ops[op].allowed) && allowed[i]; i++) {
		if (allowed[i] == -ret) {
			op_refused[op]++;
			return false;
		}
	}
	fail("%s: %s %s on %s: unexpected %s (%ld: %s)", w->name,
	     ops[op].name, what, uuid, errno_name(-ret), -ret, strerror(-ret));
	return false;
}

/* @ret (>= 0 or -errno) must be -@err, or 0 if @err is 0. */
static bool expect(struct worker *w, long ret, int err, const char *what,
		   const char *uuid)
{
	if (ret == -err)
		return true;
	if (ret >= 0)
		fail("%s: %s on %s: returned %ld, want %s", w->name, what,
		     uuid, ret, err ? errno_name(err) : "0");
	else
		fail("%s: %s on %s: %s (%ld), want %s", w->name, what, uuid,
		     errno_name(-ret), -ret, err ? errno_name(err) : "0");
	return false;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64: one stream per worker, from the seed and its index. */
static uint64_t rnd(struct worker *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t below(struct worker *w, size_t n)
{
	return n ? rnd(w) % n : 0;
}

static bool chance(struct worker *w, unsigned int percent)
{
	return below(w, 100) < percent;
}

/* A buffer of at least @size bytes, the worker's own. */
static uint8_t *scratch(struct worker *w, size_t size)
{
	uint8_t *buf;

	if (size <= w->buf_size)
		return w->buf;
	buf = realloc(w->buf, size);
	if (!buf) {
		fail("%s: no memory for %zu bytes", w->name, size);
		return NULL;
	}
	w->buf = buf;
	w->buf_size = size;
	return buf;
}

static long do_read(int fd, void *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	return n < 0 ? -errno : n;
}

static long do_write(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	return n < 0 ? -errno : n;
}

/*
 * Quiet points. Workers call keep_going() between operations, holding no
 * lock; when the main thread asks for quiet, they wait at the barrier while
 * it checks, then at the barrier again until it is done. Only the main
 * thread ends the run, and never while it asks for quiet, so no worker is
 * ever missing from the barrier.
 */
static atomic_bool quiet, done;
static pthread_barrier_t quiet_barrier;

static bool keep_going(void)
{
	if (quiet) {
		pthread_barrier_wait(&quiet_barrier);
		pthread_barrier_wait(&quiet_barrier);
	}
	return !done;
}

/*
 * A data fd from a SET, as the streamers share it. Once it said ENODEV it
 * must say so for good; once it said EFBIG, a write must never pass again.
 */
struct data_fd {
	int fd;
	int save;		/* from STOP_COPY, else from RESUMING */
	atomic_size_t moved;	/* bytes read or written through it */
	atomic_bool dead;	/* it said ENODEV */
	atomic_bool full;	/* it said EFBIG */
	atomic_int writers;	/* writing it now */
};

enum slot_state { SLOT_EMPTY, SLOT_CLOSED, SLOT_OPEN };

/*
 * A device the workers share. @lock is held for writing by whoever opens,
 * closes or removes the device or closes its data fds, for reading by
 * whoever uses them: an fd is never closed under a thread that uses it,
 * whose number could meanwhile be given to another file.
 */
struct slot {
	pthread_rwlock_t lock;
	enum slot_state state;
	char uuid[37];
	struct vfio_dev dev;
	size_t region;		/* BAR0's size */
	size_t cap;		/* a stream's: header and BAR0 */
	uint8_t *stream;	/* a valid stream of BAR0 holding the pattern */
	pthread_mutex_t fds_lock;	/* protects @nfds and adding to @fds */
	int nfds;
	struct data_fd fds[DATA_FDS];
};

static struct slot slots[SLOTS];
static atomic_uint hot_slot;	/* where the streamers go most often */
static unsigned int pattern;	/* what bar0_fill() writes, from the seed */

/* CRC-32 as zlib computes it, as migdev checks the stream with. */
static uint32_t crc32(const uint8_t *data, size_t len)
{
	uint32_t crc = ~0U;
	int bit;

	while (len--) {
		crc ^= *data++;
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xedb88320U & -(crc & 1));
	}
	return ~crc;
}

/* The stream migdev saves when BAR0 holds the pattern of bar0_fill(). */
static uint8_t *make_stream(size_t region)
{
	struct migdev_stream_header hdr = {
		.magic = htole32(MIGDEV_STREAM_MAGIC),
		.version = htole32(MIGDEV_STREAM_VERSION),
		.length = htole64(region),
	};
	uint8_t *stream = malloc(HDR_SIZE + region);
	size_t i;

	if (!stream)
		return NULL;
	for (i = 0; i < region; i++)
		stream[HDR_SIZE + i] = (uint8_t)(i * 31 + pattern);
	hdr.crc = htole32(crc32(stream + HDR_SIZE, region));
	memcpy(stream, &hdr, HDR_SIZE);
	return stream;
}

static bool state_valid(uint32_t state)
{
	/* migdev never enters ERROR, and has no PRE_COPY states. */
	return state >= VFIO_DEVICE_STATE_STOP &&
	       state <= VFIO_DEVICE_STATE_RUNNING_P2P;
}

/*
 * GET and debugfs must name the same valid state, and @want unless it is
 * 0. Only for a device that nobody else moves meanwhile.
 */
static bool check_state(struct worker *w, struct slot *s, uint32_t want,
			const char *when)
{
	enum vfio_device_mig_state got;
	char name[32];
	int ret;

	ret = vfio_mig_get(s->dev.fd, &got);
	if (ret)
		return expect(w, ret, 0, "GET", s->uuid);
	ret = debugfs_state(s->uuid, name, sizeof(name));
	if (ret)
		return expect(w, ret, 0, "read migration/state", s->uuid);
	if (state_valid(got) && (!want || got == want) &&
	    !strcmp(name, mig_state_name(got)))
		return true;
	fail("%s: %s: %s: GET says %s (%u), debugfs says %s, want %s",
	     w->name, s->uuid, when, mig_state_name(got), got, name,
	     want ? mig_state_name(want) : "the same valid state");
	return false;
}

enum bar0_want { BAR0_ANY, BAR0_ZERO, BAR0_PATTERN };

/*
 * BAR0 only ever holds zeroes (a new or reset device) or the pattern
 * (bar0_fill(), or a stream that migdev loaded, since only streams of the
 * pattern pass its CRC): anything else is a torn or misplaced copy.
 */
static bool check_bar0(struct worker *w, struct slot *s, enum bar0_want want)
{
	uint8_t *buf = scratch(w, s->region);
	bool zero = true, same;
	size_t i;
	int ret;

	if (!buf)
		return false;
	ret = bar0_read(s->dev.fd, buf, s->region);
	if (!account(w, OP_BAR0_READ, ret, "", s->uuid))
		return false;
	for (i = 0; i < s->region && zero; i++)
		zero = !buf[i];
	same = !memcmp(buf, s->stream + HDR_SIZE, s->region);
	if ((want == BAR0_ZERO && !zero) || (want == BAR0_PATTERN && !same) ||
	    (want == BAR0_ANY && !zero && !same)) {
		fail("%s: BAR0 of %s holds neither zeroes nor the pattern%s",
		     w->name, s->uuid, want == BAR0_ZERO ? ", want zeroes" :
		     want == BAR0_PATTERN ? ", want the pattern" : "");
		return false;
	}
	return true;
}

/* Keeps @fd, just returned by a SET, for the streamers: or closes it. */
static void slot_add_fd(struct slot *s, int fd, bool save)
{
	struct data_fd *f;

	pthread_mutex_lock(&s->fds_lock);
	if (s->nfds == DATA_FDS) {
		pthread_mutex_unlock(&s->fds_lock);
		close(fd);
		return;
	}
	f = &s->fds[s->nfds];
	f->fd = fd;
	f->save = save;
	f->moved = 0;
	f->dead = false;
	f->full = false;
	f->writers = 0;
	s->nfds++;
	pthread_mutex_unlock(&s->fds_lock);
}

/*
 * A data fd of @s: one that still works, most often the newest resume fd,
 * so that the writers meet on it; now and then any fd at all, dead or not.
 */
static struct data_fd *slot_pick_fd(struct worker *w, struct slot *s)
{
	struct data_fd *f = NULL, *live[DATA_FDS];
	int i, n = 0;

	pthread_mutex_lock(&s->fds_lock);
	for (i = s->nfds - 1; i >= 0; i--) {
		if (!s->fds[i].dead && !s->fds[i].full)
			live[n++] = &s->fds[i];
	}
	if (chance(w, 60)) {
		for (i = 0; i < n && !f; i++) {
			if (!live[i]->save)
				f = live[i];
		}
	}
	if (!f && n && chance(w, 85))
		f = live[below(w, n)];
	if (!f && s->nfds && chance(w, 20))
		f = &s->fds[below(w, s->nfds)];
	pthread_mutex_unlock(&s->fds_lock);
	return f;
}

/* Every data fd of @s must be dead: the device left their states. */
static bool slot_fds_dead(struct worker *w, struct slot *s, const char *when)
{
	char what[64];
	uint8_t byte = 0;
	long ret;
	int i;

	for (i = 0; i < s->nfds; i++) {
		struct data_fd *f = &s->fds[i];

		snprintf(what, sizeof(what), "%s fd %s", f->save ? "save" :
			 "resume", when);
		if (f->save)
			ret = do_read(f->fd, &byte, 1);
		else
			ret = do_write(f->fd, &byte, 1);
		if (!expect(w, ret, ENODEV, what, s->uuid))
			return false;
	}
	return true;
}

/* Under the write lock: closes the data fds of @s. */
static void slot_close_fds(struct slot *s)
{
	int i;

	for (i = 0; i < s->nfds; i++)
		close(s->fds[i].fd);
	s->nfds = 0;
}

/* Just opened: learns BAR0's size, makes the stream, checks the state. */
static void slot_opened(struct worker *w, struct slot *s, const char *when)
{
	size_t region;
	int ret;

	ret = bar0_size(s->dev.fd, &region);
	if (!expect(w, ret, 0, "region info", s->uuid)) {
		vfio_dev_close(&s->dev);
		s->state = SLOT_CLOSED;
		return;
	}
	free(s->stream);
	s->region = region;
	s->cap = HDR_SIZE + region;
	s->stream = make_stream(region);
	if (!s->stream) {
		fail("%s: no memory for a stream of %zu", w->name, s->cap);
		vfio_dev_close(&s->dev);
		s->state = SLOT_CLOSED;
		return;
	}
	s->state = SLOT_OPEN;
	/* New, or closed by its last user: RUNNING either way. */
	check_state(w, s, VFIO_DEVICE_STATE_RUNNING, when);
}

static void slot_create(struct worker *w, struct slot *s)
{
	int ret = vfio_dev_create(&s->dev, MIGDEV_TYPE);

	if (!account(w, OP_CREATE, ret, "", "a new device"))
		return;
	memcpy(s->uuid, s->dev.uuid, sizeof(s->uuid));
	slot_opened(w, s, "new device");
	if (s->state == SLOT_OPEN)
		check_bar0(w, s, BAR0_ZERO);
}

static void slot_open(struct worker *w, struct slot *s)
{
	char uuid[37];
	int ret;

	snprintf(uuid, sizeof(uuid), "%s", s->uuid);
	ret = vfio_dev_open(&s->dev, uuid);
	if (account(w, OP_OPEN, ret, "", s->uuid))
		slot_opened(w, s, "reopened after its last close");
}

/* The device is gone: so must its debugfs directory be. */
static void slot_gone(struct worker *w, struct slot *s, const char *why)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s", s->uuid);
	ret = path_exists(path);
	if (ret != -ENOENT)
		fail("%s: %s: the debugfs directory of %s is still there (%d)",
		     w->name, why, s->uuid, ret);
	s->uuid[0] = '\0';
	s->state = SLOT_EMPTY;
}

static void slot_remove(struct worker *w, struct slot *s)
{
	int ret = mdev_remove(s->uuid);

	if (account(w, OP_REMOVE, ret, "", s->uuid))
		slot_gone(w, s, "removed");
}

/*
 * Closes the device while its data fds stay open, and maybe removes it
 * too: the fds must then be dead, and the device back in RUNNING.
 */
static void slot_close(struct worker *w, struct slot *s, bool remove)
{
	char name[32];
	int ret;

	vfio_dev_close(&s->dev);
	s->state = SLOT_CLOSED;
	if (slot_fds_dead(w, s, "after the device's last close") && remove) {
		slot_remove(w, s);
		slot_fds_dead(w, s, "after the device's removal");
	}
	slot_close_fds(s);
	if (s->state != SLOT_CLOSED)
		return;
	ret = debugfs_state(s->uuid, name, sizeof(name));
	if (expect(w, ret, 0, "read migration/state", s->uuid) &&
	    strcmp(name, "RUNNING"))
		fail("%s: %s reads %s after its last close, want RUNNING",
		     w->name, s->uuid, name);
}

/* A random slot, read-locked, if its device is open; NULL otherwise. */
static struct slot *use_slot(struct worker *w, bool hot)
{
	struct slot *s;

	s = &slots[hot && chance(w, 75) ? hot_slot : below(w, SLOTS)];
	pthread_rwlock_rdlock(&s->lock);
	if (s->state == SLOT_OPEN)
		return s;
	pthread_rwlock_unlock(&s->lock);
	usleep(1000);
	return NULL;
}

/* An operation of a worker on a device, and how often it is picked. */
struct choice {
	unsigned int weight;
	void (*fn)(struct worker *w, struct slot *s);
};

static void choose(struct worker *w, struct slot *s, const struct choice *c,
		   size_t n)
{
	unsigned int total = 0, roll;
	size_t i;

	for (i = 0; i < n; i++)
		total += c[i].weight;
	roll = below(w, total);
	for (i = 0; roll >= c[i].weight; i++)
		roll -= c[i].weight;
	c[i].fn(w, s);
}

/* An index into @weights, each as likely as its weight. */
static size_t pick(struct worker *w, const unsigned int *weights, size_t n)
{
	unsigned int total = 0, roll;
	size_t i;

	for (i = 0; i < n; i++)
		total += weights[i];
	roll = below(w, total);
	for (i = 0; roll >= weights[i]; i++)
		roll -= weights[i];
	return i;
}

/* The streamer's operations, on one data fd. */

/* Counts @n more bytes through @f: never more than the stream holds. */
static void moved(struct worker *w, struct slot *s, struct data_fd *f,
		  size_t n)
{
	size_t total = atomic_fetch_add(&f->moved, n) + n;

	if (total > s->cap)
		fail("%s: %zu bytes %s through one fd of %s: room for %zu",
		     w->name, total, f->save ? "read" : "written", s->uuid,
		     s->cap);
}

/*
 * Notes what @f said to an operation, and checks that an fd that had said
 * ENODEV or EFBIG before the operation began (@dead, @full) took no data.
 */
static void data_fd_said(struct worker *w, struct slot *s, struct data_fd *f,
			 long ret, bool dead, bool full, const char *what)
{
	if (ret == -ENODEV)
		f->dead = true;
	else if (ret == -EFBIG)
		f->full = true;
	else if (ret >= 0 && (dead || full))
		fail("%s: %s on %s: returned %ld after the fd said %s",
		     w->name, what, s->uuid, ret, dead ? "ENODEV" : "EFBIG");
}

static void save_read(struct worker *w, struct slot *s, struct data_fd *f,
		      uint8_t *buf)
{
	static const char * const how[] = {
		"read of 0", "read of 1", "read of some", "read of all",
		"read of 1 GiB",
	};
	static const unsigned int weights[] = { 10, 15, 45, 20, 10 };
	size_t kind = pick(w, weights, ARRAY_SIZE(weights));
	size_t lens[] = { 0, 1, 1 + below(w, s->cap), s->cap, HUGE_LEN };
	bool dead = f->dead;
	long n;

	/* @buf holds a whole stream, all that any read can return. */
	n = do_read(f->fd, buf, lens[kind]);
	data_fd_said(w, s, f, n, dead, false, how[kind]);
	if (!account(w, OP_SAVE_READ, n, how[kind], s->uuid))
		return;
	if ((size_t)n > lens[kind])
		fail("%s: %s on %s returned %ld", w->name, how[kind],
		     s->uuid, n);
	moved(w, s, f, n);
}

enum write_kind {
	WRITE_STREAM,
	WRITE_SLICE,
	WRITE_PIECE,
	WRITE_NOTHING,
	WRITE_HUGE,
	WRITE_JUNK,
	WRITE_PAST_END,
	WRITE_KINDS
};

/* One write of @kind; true if the fd took it. */
static bool resume_write(struct worker *w, struct slot *s, struct data_fd *f,
			 uint8_t *buf, enum write_kind kind)
{
	static const char * const how[WRITE_KINDS] = {
		[WRITE_STREAM] = "write of a stream",
		[WRITE_SLICE] = "write of a slice",
		[WRITE_PIECE] = "write of a piece",
		[WRITE_NOTHING] = "write of nothing",
		[WRITE_HUGE] = "write of 1 GiB",
		[WRITE_JUNK] = "write of junk",
		[WRITE_PAST_END] = "write past the end",
	};
	const uint8_t *src = s->stream;
	bool dead = f->dead, full = f->full;
	size_t off, len, i;
	long n;

	switch (kind) {
	case WRITE_STREAM:
		len = s->cap;
		break;
	case WRITE_SLICE:
	case WRITE_PIECE:
		off = below(w, s->cap);
		src += off;
		len = s->cap - off;
		if (kind == WRITE_PIECE && len > 256)
			len = 256;
		len = 1 + below(w, len);
		break;
	case WRITE_NOTHING:
		len = 0;
		break;
	case WRITE_HUGE:
		/* Only s->cap bytes are there: the driver must not copy. */
		len = HUGE_LEN;
		break;
	case WRITE_JUNK:
		len = 1 + below(w, 64);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd(w);
		src = buf;
		break;
	default:
		memcpy(buf, s->stream, s->cap);
		buf[s->cap] = 0;
		src = buf;
		len = s->cap + 1;
		break;
	}
	/* Another writer was in the same fd when this one entered. */
	if (atomic_fetch_add(&f->writers, 1))
		overlaps++;
	n = do_write(f->fd, src, len);
	f->writers--;
	data_fd_said(w, s, f, n, dead, full, how[kind]);
	if (!account(w, OP_RESUME_WRITE, n, how[kind], s->uuid))
		return false;
	/* All or nothing: the stream has room, or the write fails. */
	if ((size_t)n != len)
		fail("%s: %s on %s returned %ld of %zu", w->name,
		     how[kind], s->uuid, n, len);
	moved(w, s, f, n);
	return true;
}

static void resume_write_any(struct worker *w, struct slot *s,
			     struct data_fd *f, uint8_t *buf)
{
	static const unsigned int weights[WRITE_KINDS] = {
		[WRITE_STREAM] = 10,
		[WRITE_SLICE] = 15,
		[WRITE_PIECE] = 40,
		[WRITE_NOTHING] = 8,
		[WRITE_HUGE] = 4,
		[WRITE_JUNK] = 18,
		[WRITE_PAST_END] = 5,
	};

	resume_write(w, s, f, buf, pick(w, weights, WRITE_KINDS));
}

/*
 * Small pieces until the fd is full: the streamers spend their time inside
 * write() on the same fd, where the old bug read the position unlocked.
 */
static void resume_burst(struct worker *w, struct slot *s, struct data_fd *f,
			 uint8_t *buf)
{
	int i;

	for (i = 0; i < 64; i++) {
		if (!resume_write(w, s, f, buf, WRITE_PIECE))
			break;
	}
}

static void wrong_way(struct worker *w, struct slot *s, struct data_fd *f,
		      uint8_t *buf)
{
	long n;

	if (f->save)
		n = do_write(f->fd, s->stream, 1);
	else
		n = do_read(f->fd, buf, 1);
	account(w, OP_WRONG_WAY, n, f->save ? "write on the save fd" :
		"read on the resume fd", s->uuid);
}

static void no_seek(struct worker *w, struct slot *s, struct data_fd *f,
		    uint8_t *buf)
{
	const char *what;
	long n;

	switch (below(w, 3)) {
	case 0:
		what = "pread";
		n = pread(f->fd, buf, 1, below(w, s->cap));
		break;
	case 1:
		what = "pwrite";
		n = pwrite(f->fd, s->stream, 1, below(w, s->cap));
		break;
	default:
		what = "lseek";
		n = lseek(f->fd, below(w, s->cap), SEEK_SET);
		break;
	}
	account(w, OP_NO_SEEK, n < 0 ? -errno : n, what, s->uuid);
}

/*
 * A setter's new data fd. Most go to the streamers; some are used once and
 * closed at once, while other setters may be moving the device on: the
 * close races the device's own release of the file.
 */
static void new_data_fd(struct worker *w, struct slot *s, int fd, bool save)
{
	struct data_fd f = { .fd = fd, .save = save };
	uint8_t *buf;

	if (chance(w, 75)) {
		slot_add_fd(s, fd, save);
		return;
	}
	buf = scratch(w, s->cap + 1);
	if (buf && save)
		save_read(w, s, &f, buf);
	else if (buf)
		resume_write_any(w, s, &f, buf);
	close(fd);
}

/* The setter's operations. */

static void set_valid(struct worker *w, struct slot *s)
{
	/* STOP .. RUNNING_P2P; RESUMING most, for the streamers to write. */
	static const unsigned int weights[] = { 20, 20, 20, 25, 15 };
	uint32_t to = VFIO_DEVICE_STATE_STOP +
		      pick(w, weights, ARRAY_SIZE(weights));
	int data_fd, ret;

	ret = vfio_mig_set(s->dev.fd, to, &data_fd);
	if (!account(w, OP_SET, ret, mig_state_name(to), s->uuid) ||
	    data_fd < 0)
		return;
	if (to != VFIO_DEVICE_STATE_STOP_COPY &&
	    to != VFIO_DEVICE_STATE_RESUMING) {
		fail("%s: SET %s on %s returned a data fd", w->name,
		     mig_state_name(to), s->uuid);
		close(data_fd);
		return;
	}
	new_data_fd(w, s, data_fd, to == VFIO_DEVICE_STATE_STOP_COPY);
}

static void set_invalid(struct worker *w, struct slot *s)
{
	uint32_t to;
	char what[32];
	int data_fd, ret;

	switch (below(w, 5)) {
	case 0:
		to = VFIO_DEVICE_STATE_ERROR;
		break;
	case 1:
		to = VFIO_DEVICE_STATE_RUNNING_P2P + 1 + below(w, 2);
		break;
	case 2:
		to = 8 + below(w, 248);
		break;
	case 3:
		to = 256 + below(w, 1 << 20);
		break;
	default:
		to = UINT32_MAX - below(w, 2);
		break;
	}
	snprintf(what, sizeof(what), "%u", to);
	ret = vfio_mig_set(s->dev.fd, to, &data_fd);
	account(w, OP_SET_INVALID, ret, what, s->uuid);
	if (data_fd >= 0)
		close(data_fd);
}

/* VFIO_DEVICE_FEATURE calls the core must refuse before the driver. */
static void feature_bad(struct worker *w, struct slot *s)
{
	struct {
		struct vfio_device_feature feature;
		struct vfio_device_feature_mig_state mig;
	} req = {
		.feature.argsz = sizeof(req),
		.feature.flags = VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
	};
	const char *what;
	int ret;

	switch (below(w, 3)) {
	case 0:
		what = "with a short argsz";
		req.feature.argsz = sizeof(req.feature) + 4;
		break;
	case 1:
		what = "with GET and SET";
		req.feature.flags |= VFIO_DEVICE_FEATURE_SET;
		break;
	default:
		what = "of an unknown feature";
		req.feature.flags = VFIO_DEVICE_FEATURE_GET | 0xfff0;
		break;
	}
	ret = ioctl(s->dev.fd, VFIO_DEVICE_FEATURE, &req) ? -errno : 0;
	account(w, OP_FEATURE_BAD, ret, what, s->uuid);
}

static void get_state(struct worker *w, struct slot *s)
{
	enum vfio_device_mig_state state;
	uint64_t flags;
	int ret;

	ret = vfio_mig_get(s->dev.fd, &state);
	if (account(w, OP_GET, ret, "state", s->uuid) && !state_valid(state))
		fail("%s: GET on %s: %s (%u)", w->name, s->uuid,
		     mig_state_name(state), state);
	if (!chance(w, 10))
		return;
	ret = vfio_mig_flags(s->dev.fd, &flags);
	if (account(w, OP_GET, ret, "flags", s->uuid) &&
	    flags != (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P))
		fail("%s: migration flags of %s: %#llx", w->name, s->uuid,
		     (unsigned long long)flags);
}

static void reset(struct worker *w, struct slot *s)
{
	int ret = ioctl(s->dev.fd, VFIO_DEVICE_RESET) ? -errno : 0;

	account(w, OP_RESET, ret, "", s->uuid);
}

static void bar0(struct worker *w, struct slot *s)
{
	int ret;

	if (chance(w, 50)) {
		check_bar0(w, s, BAR0_ANY);
		return;
	}
	ret = bar0_fill(s->dev.fd, s->region, pattern);
	account(w, OP_BAR0_WRITE, ret, "", s->uuid);
}

static long write_bytes(const char *path, const void *buf, size_t len)
{
	long ret;
	int fd;

	fd = open_file(path, O_WRONLY);
	if (fd < 0)
		return fd;
	ret = do_write(fd, buf, len);
	close(fd);
	return ret;
}

/*
 * Junk for a fault file, that neither file can take: near misses of
 * "<STATE> <value>" and "none", too long, or bytes that are no state name.
 */
static size_t fault_junk(struct worker *w, char *text, size_t size)
{
	static const char * const near[] = {
		"", "none please", "STOP", "STOP ", "ERROR 5", "Invalid 5",
		"stop 5", "PRE_COPY 5", "STOP 0", "STOP -1", "STOP 5x",
		"STOP 99999999999", "RUNNING 60001", "STOP_COPY 4096 1",
		"RESUMING 5 and then some more words",
	};
	size_t i, len;

	if (chance(w, 60)) {
		snprintf(text, size, "%s", near[below(w, ARRAY_SIZE(near))]);
		return strlen(text);
	}
	len = 1 + below(w, size - 1);
	for (i = 0; i < len; i++)
		text[i] = (char)rnd(w);
	text[0] |= 0x80;
	return len;
}

/* Arms, disarms or feeds junk to one of migdev's fault files. */
static void fault(struct worker *w, struct slot *s)
{
	bool fail_file = chance(w, 50);
	const char *file = fail_file ? MIGDEV_FAIL_NEXT : MIGDEV_STALL_NEXT;
	const char *state = mig_state_name(VFIO_DEVICE_STATE_STOP +
		below(w, VFIO_DEVICE_STATE_RUNNING_P2P));
	char path[PATH_MAX], text[40];
	size_t len;
	long ret;

	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/%s", s->uuid, file);
	if (chance(w, 70)) {
		len = fault_junk(w, text, sizeof(text));
		ret = write_bytes(path, text, len);
		account(w, OP_FAULT_JUNK, ret, file, s->uuid);
		return;
	}
	if (chance(w, 30))
		snprintf(text, sizeof(text), "none");
	else if (fail_file)
		snprintf(text, sizeof(text), "%s %d", state, FAULT_ERRNO);
	else
		snprintf(text, sizeof(text), "%s %zu", state,
			 1 + below(w, FAULT_STALL_MS));
	ret = write_bytes(path, text, strlen(text));
	account(w, OP_FAULT, ret, file, s->uuid);
}

static const struct choice setter_ops[] = {
	{ 40, set_valid },
	{ 8, set_invalid },
	{ 4, feature_bad },
	{ 18, get_state },
	{ 4, reset },
	{ 12, bar0 },
	{ 14, fault },
};

static void *setter(void *arg)
{
	struct worker *w = arg;
	struct slot *s;

	while (keep_going()) {
		s = use_slot(w, false);
		if (!s)
			continue;
		choose(w, s, setter_ops, ARRAY_SIZE(setter_ops));
		pthread_rwlock_unlock(&s->lock);
	}
	return NULL;
}

/* One operation on @f, a data fd of @s; @buf holds a stream and a byte. */
static void stream_op(struct worker *w, struct slot *s, struct data_fd *f,
		      uint8_t *buf)
{
	size_t roll = below(w, 100);

	if (roll < 4)
		wrong_way(w, s, f, buf);
	else if (roll < 8)
		no_seek(w, s, f, buf);
	else if (f->save)
		save_read(w, s, f, buf);
	else if (roll < 50)
		resume_burst(w, s, f, buf);
	else
		resume_write_any(w, s, f, buf);
}

static void *streamer(void *arg)
{
	struct worker *w = arg;
	struct data_fd *f;
	struct slot *s;
	uint8_t *buf;

	while (keep_going()) {
		s = use_slot(w, true);
		if (!s)
			continue;
		f = slot_pick_fd(w, s);
		buf = scratch(w, s->cap + 1);
		if (f && buf)
			stream_op(w, s, f, buf);
		pthread_rwlock_unlock(&s->lock);
		if (!f)
			usleep(1000);
	}
	return NULL;
}

/* The debugfs reader. */

/* Reads @path in reads of @chunk bytes; its length, or -errno. */
static long read_chunked(const char *path, char *buf, size_t size,
			 size_t chunk)
{
	size_t len = 0;
	struct stat st;
	long n = 0;
	int fd;

	fd = open_file(path, O_RDONLY);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		n = -errno;
		goto out;
	}
	/* Root may open what is not readable (migdev's hold_lock): EINVAL. */
	if (!(st.st_mode & 0444))
		goto out;
	do {
		n = do_read(fd, buf + len, chunk < size - 1 - len ? chunk :
			    size - 1 - len);
		len += n > 0 ? n : 0;
	} while (n > 0 && len < size - 1);
out:
	close(fd);
	buf[len] = '\0';
	return n < 0 ? n : (long)len;
}

/* A state a migdev device may be in, by name, followed by @end. */
static bool state_name_valid(const char *text, const char *end)
{
	uint32_t state;
	char line[32];

	for (state = 0; state <= VFIO_DEVICE_STATE_RUNNING_P2P; state++) {
		snprintf(line, sizeof(line), "%s%s", mig_state_name(state),
			 end);
		if (state_valid(state) && !strcmp(text, line))
			return true;
	}
	return false;
}

/*
 * migration/history (debugfs-vfio-history): the header's counts agree with
 * each other, and the lines are the last "shown" records, in order.
 * Its copy of the ring is taken at once, so this holds however many
 * setters are at work. The columns after seq are left alone: they are
 * the history's own tests' business. Takes @text apart.
 */
static void check_history(struct worker *w, const char *path, char *text)
{
	unsigned long long count, failures, shown, seq, lines = 0;
	char *line, *next, *end;

	if (sscanf(text, "# records %llu failures %llu shown %llu",
		   &count, &failures, &shown) != 3 || failures > count ||
	    shown > count || shown > 32) {
		fail("%s: %s: header \"%.60s\"", w->name, path, text);
		return;
	}
	for (line = strtok_r(text, "\n", &next); line;
	     line = strtok_r(NULL, "\n", &next)) {
		if (line[0] == '#')
			continue;
		lines++;
		seq = strtoull(line, &end, 10);
		if (end == line || seq != count - shown + lines) {
			fail("%s: %s: line %llu of %llu, \"%.40s\"", w->name,
			     path, lines, shown, line);
			return;
		}
	}
	if (lines != shown)
		fail("%s: %s: %llu lines, but the header says %llu", w->name,
		     path, lines, shown);
}

/* What the core's files must say of a migdev device. */
static void check_debugfs_file(struct worker *w, const char *path,
			       const char *name, char *text)
{
	if (!strcmp(name, "state") && !state_name_valid(text, "\n"))
		fail("%s: %s reads \"%s\"", w->name, path, text);
	else if (!strcmp(name, "features") && strcmp(text, "stop-copy\np2p\n"))
		fail("%s: %s reads \"%s\"", w->name, path, text);
	else if (!strcmp(name, "history"))
		check_history(w, path, text);
}

static void read_tree(struct worker *w, const char *dir)
{
	char path[PATH_MAX], buf[8192];
	struct dirent *e;
	size_t chunk;
	long n;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		account(w, OP_DEBUGFS, -errno, "opendir", dir);
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			read_tree(w, path);
			continue;
		}
		/* Small chunks make seq_file stop and restart mid-record. */
		chunk = chance(w, 50) ? 1 + below(w, 16) : sizeof(buf);
		n = read_chunked(path, buf, sizeof(buf), chunk);
		if (account(w, OP_DEBUGFS, n, "read", path) &&
		    n < (long)sizeof(buf) - 1)
			check_debugfs_file(w, path, e->d_name, buf);
	}
	closedir(d);
}

static void *debugfs_reader(void *arg)
{
	struct worker *w = arg;

	while (keep_going())
		read_tree(w, VFIO_DEBUGFS);
	return NULL;
}

/* The lifecycle worker: one slot at a time, alone. */

static void *lifecycle(void *arg)
{
	struct worker *w = arg;
	struct slot *s;
	size_t roll;

	while (keep_going()) {
		s = &slots[below(w, SLOTS)];
		roll = below(w, 100);
		pthread_rwlock_wrlock(&s->lock);
		if (s->state == SLOT_EMPTY)
			slot_create(w, s);
		else if (s->state == SLOT_CLOSED && roll < 75)
			slot_open(w, s);
		else if (s->state == SLOT_CLOSED)
			slot_remove(w, s);
		else if (roll < 45)
			slot_close_fds(s);
		else if (roll < 80)
			slot_close(w, s, false);
		else
			slot_close(w, s, true);
		pthread_rwlock_unlock(&s->lock);
		usleep(50 * 1000 + below(w, 100 * 1000));
	}
	return NULL;
}

/* The prober: one device alone, so that every result is known. */

enum probe_case {
	PROBE_VALID,
	PROBE_SHORT,
	PROBE_BAD_MAGIC,
	PROBE_BAD_VERSION,
	PROBE_BAD_RESERVED,
	PROBE_BAD_LENGTH,
	PROBE_BAD_CRC,
	PROBE_PAST_END,
	PROBE_CASES
};

/* Each case, and what RESUMING -> STOP must then fail with. */
static const struct {
	const char *name;
	int err;
} probes[PROBE_CASES] = {
	[PROBE_VALID] = { "valid stream", 0 },
	[PROBE_SHORT] = { "short stream", ENODATA },
	[PROBE_BAD_MAGIC] = { "bad magic", EBADMSG },
	[PROBE_BAD_VERSION] = { "bad version", EPROTONOSUPPORT },
	[PROBE_BAD_RESERVED] = { "reserved field set", EPROTONOSUPPORT },
	[PROBE_BAD_LENGTH] = { "bad length", EMSGSIZE },
	[PROBE_BAD_CRC] = { "bad CRC", EBADMSG },
	[PROBE_PAST_END] = { "written past the end", EFBIG },
};

/* A resume fd the prober writes, and where migdev must be in it. */
struct probe_fd {
	int fd;
	size_t pos;
	bool overflow;
};

/* Writes @len bytes: EFBIG once the stream has no room, from then on. */
static bool probe_write(struct worker *w, struct slot *s, struct probe_fd *r,
			const uint8_t *buf, size_t len, const char *why)
{
	long n = do_write(r->fd, buf, len);
	char what[64];

	snprintf(what, sizeof(what), "%s: write of %zu at %zu", why, len,
		 r->pos);
	if (r->overflow || r->pos + len > s->cap) {
		r->overflow = true;
		return expect(w, n, EFBIG, what, s->uuid);
	}
	if (n < 0)
		return expect(w, n, 0, what, s->uuid);
	if (n != (long)len) {
		fail("%s: %s on %s: returned %ld", w->name, what, s->uuid, n);
		return false;
	}
	r->pos += len;
	return true;
}

/*
 * SET @to: it must fail with @err (or succeed if 0) and leave the device
 * in @after, in GET and debugfs alike. @data_fd gets the data fd, if any.
 */
static bool probe_set(struct worker *w, struct slot *s, uint32_t to, int err,
		      uint32_t after, int *data_fd, const char *why)
{
	char what[64];
	int fd, ret;

	snprintf(what, sizeof(what), "%s: SET %s", why, mig_state_name(to));
	ret = vfio_mig_set(s->dev.fd, to, &fd);
	if (data_fd)
		*data_fd = fd;
	else if (fd >= 0)
		close(fd);
	return expect(w, ret, err, what, s->uuid) &&
	       check_state(w, s, after, what);
}

/* The stream a case writes, in @buf; its length. */
static size_t probe_stream(struct worker *w, struct slot *s,
			   enum probe_case c, uint8_t *buf)
{
	struct migdev_stream_header *hdr = (void *)buf;

	memcpy(buf, s->stream, s->cap);
	switch (c) {
	case PROBE_SHORT:
		return below(w, s->cap);
	case PROBE_BAD_MAGIC:
		hdr->magic ^= htole32(1U << below(w, 32));
		break;
	case PROBE_BAD_VERSION:
		hdr->version = htole32(MIGDEV_STREAM_VERSION + 1 + below(w, 9));
		break;
	case PROBE_BAD_RESERVED:
		hdr->reserved = htole32(1U << below(w, 32));
		break;
	case PROBE_BAD_LENGTH:
		hdr->length = htole64(chance(w, 50) ? s->region - 1 :
				      s->region + 1 + below(w, 1 << 20));
		break;
	case PROBE_BAD_CRC:
		buf[HDR_SIZE + below(w, s->region)] ^= 1U << below(w, 8);
		break;
	case PROBE_PAST_END:
		buf[s->cap] = 0;
		return s->cap + 1;
	default:
		break;
	}
	return s->cap;
}

/* After a good load: STOP_COPY must save back exactly the stream. */
static bool probe_save(struct worker *w, struct slot *s, uint8_t *buf,
		       const char *why)
{
	size_t len = 0;
	int fd = -1;
	bool ok;
	long n;

	if (!probe_set(w, s, VFIO_DEVICE_STATE_STOP_COPY, 0,
		       VFIO_DEVICE_STATE_STOP_COPY, &fd, why))
		return false;
	/* @buf has room for one byte more than the stream: no more comes. */
	do {
		n = do_read(fd, buf + len, 1 + below(w, s->cap - len));
		len += n > 0 ? n : 0;
	} while (n > 0 && len <= s->cap);
	ok = n < 0 ? expect(w, n, 0, "read of the saved stream", s->uuid) :
	     len == s->cap && !memcmp(buf, s->stream, s->cap);
	if (n >= 0 && !ok)
		fail("%s: %s: %s saved %zu bytes, not the %zu it loaded",
		     w->name, why, s->uuid, len, s->cap);
	ok = ok && expect(w, pread(fd, buf, 1, 0) ? -errno : 0, ESPIPE,
			  "pread of the save fd", s->uuid);
	ok = ok && probe_set(w, s, VFIO_DEVICE_STATE_RUNNING, 0,
			     VFIO_DEVICE_STATE_RUNNING, NULL, why);
	ok = ok && expect(w, do_read(fd, buf, 1), ENODEV,
			  "read of the save fd in RUNNING", s->uuid);
	close(fd);
	return ok;
}

/*
 * One case: reset, STOP, RESUMING, write the case's stream in two writes,
 * RESUMING -> STOP. A bad stream must fail with its errno and leave the
 * device in RESUMING with its resume fd still taking writes; a good one
 * loads, and saves back the same.
 */
static bool probe(struct worker *w, struct slot *s, enum probe_case c)
{
	const char *why = probes[c].name;
	struct probe_fd r = { .fd = -1 };
	uint8_t *buf = scratch(w, s->cap + 1);
	size_t len, first;
	bool ok = false;
	int ret;

	if (!buf)
		return false;
	/* No fault a setter armed may get in the way. */
	account(w, OP_FAULT, debugfs_write(s->uuid, MIGDEV_FAIL_NEXT, "none"),
		MIGDEV_FAIL_NEXT, s->uuid);
	account(w, OP_FAULT, debugfs_write(s->uuid, MIGDEV_STALL_NEXT, "none"),
		MIGDEV_STALL_NEXT, s->uuid);

	/* A reset: RUNNING, BAR0 cleared, every data fd dead. */
	ret = ioctl(s->dev.fd, VFIO_DEVICE_RESET) ? -errno : 0;
	if (!expect(w, ret, 0, "reset", s->uuid) ||
	    !check_state(w, s, VFIO_DEVICE_STATE_RUNNING, "after a reset") ||
	    !check_bar0(w, s, BAR0_ZERO) ||
	    !slot_fds_dead(w, s, "after a reset"))
		return false;
	slot_close_fds(s);

	if (!probe_set(w, s, VFIO_DEVICE_STATE_STOP, 0,
		       VFIO_DEVICE_STATE_STOP, NULL, why) ||
	    !probe_set(w, s, VFIO_DEVICE_STATE_RESUMING, 0,
		       VFIO_DEVICE_STATE_RESUMING, &r.fd, why))
		goto out;
	if (r.fd < 0) {
		fail("%s: %s: no resume fd from %s", w->name, why, s->uuid);
		goto out;
	}

	/* Two writes: the second must carry on where the first ended. */
	len = probe_stream(w, s, c, buf);
	first = below(w, len + 1);
	if (!probe_write(w, s, &r, buf, first, why) ||
	    !probe_write(w, s, &r, buf + first, len - first, why) ||
	    !probe_set(w, s, VFIO_DEVICE_STATE_STOP, probes[c].err,
		       probes[c].err ? VFIO_DEVICE_STATE_RESUMING :
		       VFIO_DEVICE_STATE_STOP, NULL, why))
		goto out;

	if (probes[c].err) {
		/* Still RESUMING, its fd still there (EFBIG stays EFBIG). */
		if (!probe_write(w, s, &r, buf, 0, why))
			goto out;
		/* RESUMING -> RUNNING fails on its first arc, the same way. */
		if (chance(w, 50) &&
		    !probe_set(w, s, VFIO_DEVICE_STATE_RUNNING, probes[c].err,
			       VFIO_DEVICE_STATE_RESUMING, NULL, why))
			goto out;
		/* The rest of a short stream makes it whole. */
		if (c != PROBE_SHORT) {
			ok = true;
			goto out;
		}
		if (!probe_write(w, s, &r, s->stream + len, s->cap - len,
				 why) ||
		    !probe_set(w, s, VFIO_DEVICE_STATE_STOP, 0,
			       VFIO_DEVICE_STATE_STOP, NULL, why))
			goto out;
	}

	/* Loaded: the resume fd is dead, BAR0 holds what was sent. */
	ok = expect(w, do_write(r.fd, buf, 1), ENODEV,
		    "write of the resume fd in STOP", s->uuid) &&
	     check_bar0(w, s, BAR0_PATTERN) && probe_save(w, s, buf, why);
out:
	/* The streamers get the resume fd, alive (a bad stream) or dead. */
	if (r.fd >= 0 && ok)
		slot_add_fd(s, r.fd, false);
	else if (r.fd >= 0)
		close(r.fd);
	return ok;
}

static void *prober(void *arg)
{
	struct worker *w = arg;
	enum probe_case c;
	struct slot *s;

	while (keep_going()) {
		s = &slots[below(w, SLOTS)];
		c = below(w, PROBE_CASES);
		pthread_rwlock_wrlock(&s->lock);
		if (s->state == SLOT_OPEN && probe(w, s, c))
			account(w, OP_PROBE, 0, probes[c].name, s->uuid);
		pthread_rwlock_unlock(&s->lock);
		usleep(20 * 1000 + below(w, 40 * 1000));
	}
	return NULL;
}

/* The unloader, and the modules. */

/*
 * The modules the unloader may unload: migdev alone, and all of VFIO as
 * loaded at the start; none that are built in or used by anything else.
 */
static unsigned int cycle_one, cycle_all;

static void choose_cycles(unsigned int loaded)
{
	char why[128];

	if (vfio_kmods_prepare(0, KMOD_BIT(KMOD_MIGDEV), why, sizeof(why))) {
		ksft_print_msg("no unloads: %s\n", why);
		return;
	}
	cycle_one = KMOD_BIT(KMOD_MIGDEV);
	if (vfio_kmods_prepare(0, loaded, why, sizeof(why)))
		ksft_print_msg("no unloads of all of VFIO: %s\n", why);
	else
		cycle_all = loaded;
}

/* A reader may hold a file of the module open for a moment: retry. */
static bool unload(struct worker *w, const char *name)
{
	int i;

	for (i = 0; i < 20 && !failed; i++) {
		if (account(w, OP_UNLOAD, kmod_unload(name), name, "-"))
			return true;
		usleep(20 * 1000);
	}
	return false;
}

/* While any device is open, migdev must refuse to go. */
static void unload_busy(struct worker *w)
{
	int i, open = 0;
	long ret;

	for (i = 0; i < SLOTS; i++) {
		pthread_rwlock_rdlock(&slots[i].lock);
		open += slots[i].state == SLOT_OPEN;
	}
	if (open) {
		ret = kmod_unload(vfio_kmods[KMOD_MIGDEV]);
		account(w, OP_UNLOAD_BUSY, ret, "migdev", "open devices");
		/* Gone all the same: the test has failed, but let it end. */
		if (!ret)
			vfio_kmods_load(cycle_one);
	}
	for (i = SLOTS - 1; i >= 0; i--)
		pthread_rwlock_unlock(&slots[i].lock);
}

/*
 * Closes every device, unloads the modules in @mask, each before what it
 * uses, and loads them again. modprobe runs with no device open: system()
 * forks, and the child would hold the device fds, which vfio_util opens
 * without O_CLOEXEC, until modprobe exits.
 */
static void unload_all(struct worker *w, unsigned int mask)
{
	unsigned int gone = 0;
	int i, ret;

	for (i = 0; i < SLOTS; i++) {
		pthread_rwlock_wrlock(&slots[i].lock);
		if (slots[i].state == SLOT_OPEN)
			slot_close(w, &slots[i], false);
	}
	for (i = 0; i < VFIO_KMODS; i++) {
		if (!(mask & KMOD_BIT(i)) ||
		    kmod_state(vfio_kmods[i]) != KMOD_LOADED)
			continue;
		if (!unload(w, vfio_kmods[i]))
			break;
		gone |= KMOD_BIT(i);
	}
	/* migdev took its devices with it, and vfio all of its debugfs. */
	for (i = 0; (gone & KMOD_BIT(KMOD_MIGDEV)) && i < SLOTS; i++) {
		if (slots[i].state != SLOT_EMPTY)
			slot_gone(w, &slots[i], "migdev unloaded");
	}
	ret = path_exists(VFIO_DEBUGFS);
	if ((gone & KMOD_BIT(KMOD_VFIO)) && ret != -ENOENT)
		fail("%s: vfio unloaded, but %s is still there (%d)", w->name,
		     VFIO_DEBUGFS, ret);
	if (vfio_kmods_load(gone))
		fail("%s: could not load again the modules 0x%x", w->name,
		     gone);
	for (i = SLOTS - 1; i >= 0; i--)
		pthread_rwlock_unlock(&slots[i].lock);
}

/*
 * Every half second, migdev under open devices; every UNLOAD_MS, a full
 * unload, of migdev and of all of VFIO by turns. A full unload stops the
 * other workers for a second or two under KASAN and TCG: not too often.
 */
static void *unloader(void *arg)
{
	struct worker *w = arg;
	double busy = now() + 0.5, full = now() + UNLOAD_MS / 1000.0;
	unsigned int round = 0;

	while (keep_going()) {
		usleep(20 * 1000);
		if (now() >= full) {
			unload_all(w, round++ % 2 && cycle_all ? cycle_all :
				   cycle_one);
			full = now() + UNLOAD_MS / 1000.0;
		} else if (now() >= busy) {
			unload_busy(w);
			busy = now() + 0.5;
		}
	}
	return NULL;
}

/* The main thread: quiet points, and the end of the run. */

/* For every device, with all workers stopped: debugfs says what GET says. */
static void quiet_point(struct worker *w)
{
	char name[32];
	struct slot *s;
	int i, ret;

	quiet = true;
	pthread_barrier_wait(&quiet_barrier);
	for (i = 0; i < SLOTS && !failed; i++) {
		s = &slots[i];
		if (s->state == SLOT_OPEN) {
			check_state(w, s, 0, "at a quiet point");
			check_bar0(w, s, BAR0_ANY);
			compared++;
		} else if (s->state == SLOT_CLOSED) {
			/* Closed by its last user: RUNNING. */
			ret = debugfs_state(s->uuid, name, sizeof(name));
			if (expect(w, ret, 0, "read state", s->uuid) &&
			    strcmp(name, "RUNNING"))
				fail("%s: closed %s reads %s at a quiet point",
				     w->name, s->uuid, name);
			compared++;
		}
	}
	quiet_points++;
	hot_slot = below(w, SLOTS);
	quiet = false;
	pthread_barrier_wait(&quiet_barrier);
}

/* Closes and removes every device; loads again what the test unloaded. */
static bool fuzz_cleanup(unsigned int loaded)
{
	struct slot *s;
	size_t i;

	for (i = 0; i < SLOTS; i++) {
		s = &slots[i];
		slot_close_fds(s);
		if (s->state == SLOT_OPEN)
			vfio_dev_close(&s->dev);
		if (s->state != SLOT_EMPTY)
			mdev_remove(s->uuid);
		s->state = SLOT_EMPTY;
		free(s->stream);
		s->stream = NULL;
	}
	return !vfio_kmods_restore(loaded);
}

static void *(*const worker_fns[])(void *arg) = {
	setter, setter, streamer, streamer, streamer,
	debugfs_reader, lifecycle, prober, unloader,
};

static const char * const worker_names[] = {
	"setter", "setter", "streamer", "streamer", "streamer",
	"debugfs", "lifecycle", "prober", "unloader",
};

FIXTURE(fuzz) {
	unsigned int loaded;	/* vfio_kmods[] loaded at the start */
	unsigned long long seed;
	int seconds;
	struct worker workers[ARRAY_SIZE(worker_fns)];
	struct worker ctl;	/* the main thread, as a worker */
	size_t nworkers;
};

FIXTURE_SETUP(fuzz)
{
	const char *env;
	pthread_rwlockattr_t attr;
	size_t i;

	env = getenv("FUZZ_SEED");
	self->seed = env ? strtoull(env, NULL, 0) :
		     ((unsigned long long)time(NULL) << 16) ^ getpid();
	env = getenv("FUZZ_SECONDS");
	self->seconds = env ? atoi(env) : FUZZ_SECONDS;
	if (self->seconds < 1 || self->seconds > FUZZ_MAX_SECONDS)
		self->seconds = self->seconds < 1 ? 1 : FUZZ_MAX_SECONDS;
	printf("# seed %llu, %d s: FUZZ_SEED=%llu replays the choices\n",
	       self->seed, self->seconds, self->seed);
	fflush(stdout);
	pattern = (unsigned int)self->seed;

	self->loaded = vfio_kmods_loaded();
	choose_cycles(self->loaded);
	/* The unloader comes last, and only if there is something to do. */
	self->nworkers = ARRAY_SIZE(worker_fns) - !cycle_one;

	/* Writers first: else a stream of readers starves the lifecycle. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, WRITERS_FIRST);
	for (i = 0; i < SLOTS; i++) {
		pthread_rwlock_init(&slots[i].lock, &attr);
		pthread_mutex_init(&slots[i].fds_lock, NULL);
	}
	pthread_rwlockattr_destroy(&attr);

	snprintf(self->ctl.name, sizeof(self->ctl.name), "main");
	self->ctl.rng = self->seed;
	for (i = 0; i < self->nworkers; i++) {
		struct worker *w = &self->workers[i];

		snprintf(w->name, sizeof(w->name), "%s%zu", worker_names[i], i);
		w->fn = worker_fns[i];
		w->rng = self->seed ^ ((i + 1) * 0xd1b54a32d192ed03ULL);
	}
}

FIXTURE_TEARDOWN(fuzz)
{
	size_t i;

	fuzz_cleanup(self->loaded);
	for (i = 0; i < self->nworkers; i++)
		free(self->workers[i].buf);
	free(self->ctl.buf);
}

TEST_F_TIMEOUT(fuzz, hostile_userspace, FUZZ_TIMEOUT)
{
	double end = now() + self->seconds;
	size_t i, started = 0;
	bool cleaned;
	int ret = 0;

	/* Here, not in the setup: 6.1's harness runs the test after a SKIP. */
	if (path_exists(MIGDEV_TYPE))
		SKIP(return, "%s is missing: load its module", MIGDEV_TYPE);
	if (path_exists(VFIO_DEBUGFS))
		SKIP(return, "%s is missing: no VFIO debugfs", VFIO_DEBUGFS);

	pthread_barrier_init(&quiet_barrier, NULL, self->nworkers + 1);
	for (i = 0; i < self->nworkers && !ret; i++) {
		ret = pthread_create(&self->workers[i].thread, NULL,
				     self->workers[i].fn, &self->workers[i]);
		started += !ret;
	}
	/* Without all workers, no quiet point could ever be reached. */
	while (started == self->nworkers && !failed && now() < end) {
		usleep(QUIET_MS * 1000);
		if (!failed)
			quiet_point(&self->ctl);
	}
	done = true;
	for (i = 0; i < started; i++)
		pthread_join(self->workers[i].thread, NULL);
	pthread_barrier_destroy(&quiet_barrier);
	cleaned = fuzz_cleanup(self->loaded);

	printf("# figures: quiet %ld compared %ld overlaps %ld",
	       (long)quiet_points, (long)compared, (long)overlaps);
	for (i = 0; i < OP_COUNT; i++)
		printf(" %s %ld/%ld", ops[i].name, (long)op_ok[i],
		       (long)op_refused[i]);
	printf(" (ok/refused)\n");
	fflush(stdout);

	ASSERT_EQ(0, ret);
	ASSERT_STREQ("", failure);
	ASSERT_TRUE(cleaned) TH_LOG("could not load again what was unloaded");
	ASSERT_LT(0, (long)compared);
	ASSERT_LT(0, (long)op_ok[OP_SET]);
	ASSERT_LT(0, (long)op_ok[OP_RESUME_WRITE]);
	ASSERT_LT(0, (long)op_ok[OP_DEBUGFS]);
	ASSERT_LT(0, (long)op_ok[OP_PROBE]);
	if (cycle_one)
		ASSERT_LT(0, (long)op_ok[OP_UNLOAD]);
}

TEST_HARNESS_MAIN
