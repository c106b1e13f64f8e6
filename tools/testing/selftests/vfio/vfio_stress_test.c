// SPDX-License-Identifier: GPL-2.0
/*
 * Stress of VFIO debugfs against device and module teardown, meant to run
 * under KASAN, lockdep and kmemleak. For STRESS_SECONDS, and on until each
 * worker has done its job at least once (up to STRESS_MAX_SECONDS: under
 * KASAN and TCG a migration has once not come within 20 s), all at once:
 *   readers    read every file under <debugfs>/vfio, over and over
 *   churn      creates and removes devices
 *   migrator   migrates between pairs of devices
 *   held       removes a device while its state file is held open
 *   stalled    removes a device while a transition is stalled in the driver
 *   unloader   unloads and reloads migdev, and all of VFIO
 * Then, with only the readers still running, all of VFIO is unloaded and
 * loaded again, so that at least one unload happens under them.
 * The unloads are left out where migdev, or VFIO, is built in or in use
 * by something else; only the modules loaded at the start are unloaded,
 * and they are all loaded again at the end.
 * A worker that sees an errno it does not expect fails the test; a kernel
 * splat panics the guest. The figures are printed before the result.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define STRESS_SECONDS		20
#define STRESS_MAX_SECONDS	60
#define READERS			2

typedef void *(*worker_fn)(void *arg);

static atomic_bool stop, stop_readers;
static atomic_long reads, created, removed, migrations, held_removals,
		   stalled_removals, unloads, final_unloads;
static char failure[256];
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;
/* The modules the unloader may cycle: migdev alone, and all of VFIO. */
static unsigned int cycle_one, cycle_all;

static void fail(const char *who, const char *what, int err)
{
	pthread_mutex_lock(&failure_lock);
	if (!failure[0])
		snprintf(failure, sizeof(failure), "%s: %s: %s", who, what,
			 strerror(-err));
	pthread_mutex_unlock(&failure_lock);
	stop = true;
}

/*
 * While devices come and go, a path can vanish between readdir and open
 * (ENOENT), or after open (EIO from debugfs); the whole tree goes while
 * vfio is unloaded. None finds its module going (ENXIO): migdev's own
 * files are opened apart from its unloads (open_file()), and vfio's exist
 * only while vfio cannot go. Anything else is a bug.
 */
static bool gone(int err)
{
	return err == -ENOENT || err == -EIO || err == -ENODEV;
}

static void read_tree(const char *dir)
{
	char path[PATH_MAX], buf[8192];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int n;

	d = opendir(dir);
	if (!d) {
		if (!gone(-errno))
			fail(__func__, dir, -errno);
		return;
	}
	while ((e = readdir(d)) && !stop_readers) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			read_tree(path);
			continue;
		}
		/* Write-only files (migdev's reset) are not for reading. */
		if (!stat(path, &st) && !(st.st_mode & 0444))
			continue;
		n = read_file(path, buf, sizeof(buf));
		if (n >= 0)
			reads++;
		else if (!gone(n))
			fail(__func__, path, n);
	}
	closedir(d);
}

/* While all of VFIO is unloaded, wait a little rather than spin. */
static void *reader(void *arg)
{
	while (!stop_readers) {
		read_tree(VFIO_DEBUGFS);
		if (access(VFIO_DEBUGFS, F_OK))
			usleep(20 * 1000);
	}
	return NULL;
}

/* Device creation fails while migdev is being unloaded; that is fine. */
static bool create_refused(int err)
{
	return err == -ENOENT || err == -ENODEV;
}

/*
 * True when the device was made. After a refusal, wait a little: retrying
 * at once, four workers would only spin while migdev is away, on the CPUs
 * that loading it again needs.
 */
static bool worker_created(const char *who, int ret)
{
	if (!ret)
		return true;
	if (create_refused(ret))
		usleep(20 * 1000);
	else
		fail(who, "create", ret);
	return false;
}

/* A device for a worker: true when made; any error but a refusal fails. */
static bool worker_create(const char *who, char uuid[37])
{
	return worker_created(who, mdev_create(MIGDEV_TYPE, uuid));
}

/* The same, opened through VFIO as well. */
static bool worker_open(const char *who, struct vfio_dev *dev)
{
	return worker_created(who, vfio_dev_create(dev, MIGDEV_TYPE));
}

static void *churn(void *arg)
{
	char uuid[37];
	int ret;

	while (!stop) {
		if (!worker_create(__func__, uuid))
			continue;
		created++;
		ret = mdev_remove(uuid);
		if (!ret)
			removed++;
		else if (!create_refused(ret))
			fail(__func__, "remove", ret);
	}
	return NULL;
}

static void *migrator(void *arg)
{
	struct mig_stream stream = { 0 };
	struct vfio_dev src, dst;
	int ret;

	while (!stop) {
		if (!worker_open(__func__, &src))
			continue;
		if (worker_open(__func__, &dst)) {
			ret = vfio_migrate(&src, &dst, &stream);
			if (ret)
				fail(__func__, "migrate", ret);
			else
				migrations++;
			vfio_dev_destroy(&dst);
		}
		vfio_dev_destroy(&src);
	}
	free(stream.data);
	return NULL;
}

/*
 * The state file held open across its device's removal can no longer be
 * read (the errno is debugfs's choice).
 */
static void *held(void *arg)
{
	char uuid[37], path[PATH_MAX], buf[64];
	int fd, ret;

	while (!stop) {
		if (!worker_create(__func__, uuid))
			continue;
		snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/migration/state", uuid);
		fd = open_file(path, O_RDONLY);
		ret = mdev_remove(uuid);
		if (fd < 0 || ret)
			goto next;
		if (read(fd, buf, sizeof(buf)) != -1)
			fail(__func__, "read after removal", -EBADFD);
		else
			held_removals++;
next:
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

struct stalled {
	struct vfio_dev dev;
	int ret;
};

static void *stalled_transition(void *arg)
{
	struct stalled *s = arg;
	int data_fd;

	s->ret = vfio_mig_set(s->dev.fd, VFIO_DEVICE_STATE_RUNNING_P2P, &data_fd);
	vfio_dev_close(&s->dev);
	return NULL;
}

/*
 * A transition stalls in the driver for 300 ms; the device is removed
 * meanwhile. The removal waits for the fd, which is closed once the
 * transition ends.
 */
static void *stalled(void *arg)
{
	struct stalled s;
	pthread_t t;
	int ret;

	while (!stop) {
		if (!worker_open(__func__, &s.dev))
			continue;
		ret = debugfs_write(s.dev.uuid, MIGDEV_STALL_NEXT,
				    "RUNNING_P2P 300");
		if (ret) {
			vfio_dev_destroy(&s.dev);
			if (!gone(ret))
				fail(__func__, "stall_next", ret);
			continue;
		}
		ret = pthread_create(&t, NULL, stalled_transition, &s);
		if (ret) {
			vfio_dev_destroy(&s.dev);
			fail(__func__, "pthread_create", -ret);
			continue;
		}
		usleep(50 * 1000);
		ret = mdev_remove(s.dev.uuid);
		pthread_join(t, NULL);
		if (s.ret)
			fail(__func__, "transition", s.ret);
		else if (ret)
			fail(__func__, "remove", ret);
		else
			stalled_removals++;
	}
	return NULL;
}

/*
 * Unloading fails while a device fd or an open file holds a module; that
 * is fine. Every fourth round takes all of VFIO down and up, if it may.
 * Not before every other worker has done its job once: each unload takes
 * their devices away, and under KASAN and TCG an unloader that starts at
 * once has kept the migrator from ever finishing one migration in 60 s.
 */
static void *unloader(void *arg)
{
	unsigned int mask;
	int round = 0;

	while (!stop) {
		usleep(200 * 1000);
		if (!(created && migrations && held_removals && stalled_removals))
			continue;
		mask = (++round % 4 == 0 && cycle_all) ? cycle_all : cycle_one;
		if (!vfio_kmods_unload(mask))
			unloads++;
		if (vfio_kmods_load(mask))
			fail(__func__, "load", -EIO);
	}
	return NULL;
}

FIXTURE(stress) {
	unsigned int loaded;	/* vfio_kmods[] loaded at the start */
};

FIXTURE_SETUP(stress)
{
	self->loaded = vfio_kmods_loaded();
}

FIXTURE_TEARDOWN(stress)
{
	EXPECT_EQ(0, vfio_kmods_restore(self->loaded));
}

/*
 * Unload all of VFIO under the readers. A reader that holds a file open
 * holds the module (EBUSY), so try a few times; 1 once vfio is gone.
 */
static int unload_all_under_readers(void)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (vfio_kmods_unload(cycle_all) &&
		    kmod_state("vfio") == KMOD_LOADED) {
			usleep(20 * 1000);
			continue;
		}
		return vfio_kmods_load(cycle_all) ? -EIO : 1;
	}
	return 0;
}

/*
 * Which modules the unloader may cycle: migdev, and all of VFIO as loaded
 * now, if they are modules used by nothing but each other.
 */
static void choose_cycles(unsigned int loaded)
{
	unsigned int all = loaded | KMOD_BIT(KMOD_VFIO);
	char why[128];

	if (vfio_kmods_prepare(0, KMOD_BIT(KMOD_MIGDEV), why, sizeof(why))) {
		ksft_print_msg("no unloads: %s\n", why);
		return;
	}
	cycle_one = KMOD_BIT(KMOD_MIGDEV);
	if (vfio_kmods_prepare(0, all, why, sizeof(why))) {
		ksft_print_msg("no unloads of all of VFIO: %s\n", why);
		return;
	}
	cycle_all = all;
}

/*
 * Whether every worker that runs has done its job at least once: the
 * unloader too, under the other workers (the unload at the end, under the
 * readers alone, is counted apart).
 */
static bool all_done_once(void)
{
	return reads && created && migrations && held_removals &&
	       stalled_removals && (!cycle_one || unloads);
}

/* Seconds since @start, on the monotonic clock. */
static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - start->tv_sec +
	       (now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Long enough for the workers to wind down under KASAN and TCG. */
TEST_F_TIMEOUT(stress, all_at_once, STRESS_MAX_SECONDS + 90)
{
	worker_fn workers[] = {
		reader, reader, churn, migrator, held, stalled, unloader,
	};
	pthread_t threads[ARRAY_SIZE(workers)];
	struct timespec start;
	double seconds;
	int i, n, ret;

	if (path_exists(MIGDEV_TYPE))
		SKIP(return, "%s is missing: load migdev", MIGDEV_TYPE);
	choose_cycles(self->loaded);
	n = ARRAY_SIZE(workers) - !cycle_one;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, workers[i], NULL));
	while (!stop) {
		seconds = seconds_since(&start);
		if (seconds >= STRESS_MAX_SECONDS ||
		    (seconds >= STRESS_SECONDS && all_done_once()))
			break;
		usleep(100 * 1000);
	}
	seconds = seconds_since(&start);
	stop = true;
	for (i = READERS; i < n; i++)
		pthread_join(threads[i], NULL);
	if (cycle_all) {
		ret = unload_all_under_readers();
		if (ret < 0)
			fail(__func__, "reload after unload", ret);
		else if (!ret)
			fail(__func__, "no unload of all of VFIO under the readers",
			     -EBUSY);
		final_unloads = ret;
	}
	stop_readers = true;
	for (i = 0; i < READERS; i++)
		pthread_join(threads[i], NULL);

	/* One line, printed in parts: checkpatch wants no split strings. */
	printf("# figures: seconds %.0f reads %ld created %ld removed %ld",
	       seconds, reads, created, removed);
	printf(" migrations %ld held_removals %ld stalled_removals %ld",
	       migrations, held_removals, stalled_removals);
	printf(" unloads %ld final_unloads %ld\n", unloads, final_unloads);
	ASSERT_STREQ("", failure);
	ASSERT_LT(0, reads);
	ASSERT_LT(0, created);
	ASSERT_LT(0, migrations);
	ASSERT_LT(0, held_removals);
	ASSERT_LT(0, stalled_removals);
	if (cycle_one)
		ASSERT_LT(0, unloads);
}

TEST_HARNESS_MAIN
