// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU, the real client, live-migrates a VM with a migdev device to a
 * second QEMU with another migdev device, over a unix socket, while a
 * thread samples migration/state of both devices. Each device's history
 * must list, in order, the very state changes that QEMU's own trace
 * events say it asked for; the device memory written through the source
 * QEMU must read back through the destination QEMU. Then migrations that
 * fail (the destination refuses RESUMING, the destination's driver stalls,
 * the destination dies) are diagnosed from the two histories alone, and
 * the diagnosis must agree with what QEMU reported.
 *
 * QEMU is $VFIO_QEMU or /usr/bin/qemu-system-x86_64, version 10 or later;
 * without it the tests are skipped, unless VFIO_EXPECT_QEMU=1 says it must
 * be there. QEMU reports a migration completed (or failed) before both
 * sides are done with it, so every check waits for both to settle first.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "qemu_util.h"
#include "vfio_util.h"

/*
 * Bounds on each wait, so that a QEMU that hangs fails its test with a
 * message, before the harness's 300 s.
 */
#define MIGRATE_SECONDS	60
#define SETTLE_SECONDS	30
#define MAX_SAMPLES	64
#define QEMU_COMM	"qemu-system-x86"

/* The distinct successive values of one device's migration/state. */
struct samples {
	int n;
	char state[MAX_SAMPLES][16];
};

/* What one test runs: two devices, their QEMUs, what was seen. */
struct scenario {
	char dir[64];
	char uuid[2][37];	/* source, destination */
	struct qemu vm[2];
	pid_t pid[2];		/* theirs, kept after they exit */
	struct samples seen[2];
	pthread_t sampler;
	atomic_bool sampling;
	struct history h[2];
	unsigned char *pattern;	/* for BAR0, region_size bytes */
	size_t size;
	char reply[4096];
};

FIXTURE(qemu) {
	struct scenario s;
};

static void *sample_states(void *arg)
{
	struct scenario *sc = arg;
	struct samples *s;
	char buf[sizeof(s->state[0])];
	int i;

	while (sc->sampling) {
		for (i = 0; i < 2; i++) {
			s = &sc->seen[i];
			if (debugfs_state(sc->uuid[i], buf, sizeof(buf)) ||
			    !buf[0])
				continue;
			if ((!s->n || strcmp(s->state[s->n - 1], buf)) &&
			    s->n < MAX_SAMPLES)
				snprintf(s->state[s->n++], sizeof(s->state[0]),
					 "%s", buf);
		}
		usleep(500);
	}
	return NULL;
}

/* QEMU and migdev are checked in main(). */
FIXTURE_SETUP(qemu)
{
	struct scenario *sc = &self->s;
	size_t i;

	/* 6.1's harness skips teardown after a setup ASSERT: devices last. */
	ASSERT_EQ(0, migdev_region_size(&sc->size));
	sc->pattern = malloc(sc->size);
	ASSERT_NE(NULL, sc->pattern);
	for (i = 0; i < sc->size; i++)
		sc->pattern[i] = (unsigned char)(i * 7 + (i >> 8) + 1);
	snprintf(sc->dir, sizeof(sc->dir), "/tmp/vfio-qemu-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(sc->dir));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, mdev_create(MIGDEV_TYPE, sc->uuid[i]));
}

static void stop_sampling(struct scenario *sc);

FIXTURE_TEARDOWN(qemu)
{
	struct scenario *sc = &self->s;
	char cmd[96];
	int i;

	stop_sampling(sc);
	free(sc->pattern);
	for (i = 0; i < 2; i++) {
		qemu_stop(&sc->vm[i]);
		if (sc->uuid[i][0])
			EXPECT_EQ(0, mdev_remove(sc->uuid[i]));
	}
	if (sc->dir[0] == '/') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", sc->dir);
		system(cmd);
	}
}

static int start_both(struct scenario *sc)
{
	int ret;

	ret = qemu_start(&sc->vm[0], sc->dir, "src", sc->uuid[0], false);
	sc->pid[0] = sc->vm[0].pid;
	if (ret)
		return ret;
	ret = qemu_start(&sc->vm[1], sc->dir, "dst", sc->uuid[1], true);
	sc->pid[1] = sc->vm[1].pid;
	return ret;
}

static int start_sampling(struct scenario *sc)
{
	int ret;

	sc->sampling = true;
	ret = pthread_create(&sc->sampler, NULL, sample_states, sc);
	if (ret)
		sc->sampling = false;
	return ret;
}

static void stop_sampling(struct scenario *sc)
{
	if (!sc->sampling)
		return;
	sc->sampling = false;
	pthread_join(sc->sampler, NULL);
}

/* Polls query-migrate on the source until it ends; its final status. */
static int migration_end(struct scenario *sc, char *status, size_t size)
{
	int i, ret;

	for (i = 0; i < MIGRATE_SECONDS * 50; i++) {
		ret = qmp(&sc->vm[0], "{\"execute\": \"query-migrate\"}",
			  sc->reply, sizeof(sc->reply));
		if (ret)
			return ret;
		ret = qmp_string(sc->reply, "status", status, size);
		if (ret)
			return ret;
		if (!strcmp(status, "completed") || !strcmp(status, "failed") ||
		    !strcmp(status, "cancelled"))
			return 0;
		usleep(20 * 1000);
	}
	return -ETIMEDOUT;
}

static int run_status(struct qemu *q, char *status, size_t size)
{
	char reply[512];
	int ret;

	ret = qmp(q, "{\"execute\": \"query-status\"}", reply, sizeof(reply));
	return ret ? ret : qmp_string(reply, "status", status, size);
}

/*
 * Waits until QEMU @q says @status and its device @uuid is in @state:
 * the destination still loads when the source says "completed", and the
 * source leaves STOP_COPY, or recovers from a failure, after it says so.
 * The state is read first: QEMU answers query-status only between its
 * SETs (both under its big lock), so once the device is there, the reply
 * comes after QEMU has finished that SET and traced it.
 */
static int settle(struct qemu *q, const char *status, const char *uuid,
		  const char *state)
{
	char now[32], dev[32];
	int i, ret;

	for (i = 0; i < SETTLE_SECONDS * 50; i++) {
		ret = debugfs_state(uuid, dev, sizeof(dev));
		if (!ret)
			ret = run_status(q, now, sizeof(now));
		if (ret)
			return ret;
		if (!strcmp(now, status) && !strcmp(dev, state))
			return 0;
		usleep(20 * 1000);
	}
	return -ETIMEDOUT;
}

/*
 * The device's history against QEMU's trace: the same SETs, asked for in
 * the same order, failed where QEMU saw them fail, each asked by QEMU.
 * Returns the number of the first line that disagrees, 0 if none.
 */
static int history_matches_trace(struct __test_metadata *_metadata,
				 const struct history *h,
				 const struct qemu_sets *sets, pid_t pid)
{
	const struct transition *t;
	int i;

	EXPECT_EQ(sets->n, h->lines);
	EXPECT_EQ(h->count, h->lines);
	for (i = 0; i < h->lines && i < sets->n; i++) {
		t = &h->t[i];
		TH_LOG("  history %lld: %-12s -> %-12s arcs %-28s %s; QEMU asked %s%s",
		       t->seq, t->from, t->to, t->arcs, t->result, sets->to[i],
		       sets->failed[i] ? " (failed)" : "");
		if (strcmp(t->to, sets->to[i]) ||
		    !strcmp(t->result, "0") == sets->failed[i] ||
		    t->pid != pid || strcmp(t->comm, QEMU_COMM))
			return i + 1;
	}
	return h->lines == sets->n ? 0 : i + 1;
}

/*
 * The states a device went through by its history: where it started
 * (RUNNING), then the end of each arc. Every sampled state must be one of
 * them, in the same order.
 */
static bool samples_follow_history(const struct samples *s,
				   const struct history *h)
{
	char arcs[80], *arc, *save;
	int i, next = 0;

	if (s->n && !strcmp(s->state[0], "RUNNING"))
		next = 1;
	for (i = 0; i < h->lines && next < s->n; i++) {
		if (!strcmp(h->t[i].arcs, "none"))
			continue;
		snprintf(arcs, sizeof(arcs), "%s", h->t[i].arcs);
		for (arc = strtok_r(arcs, ">", &save); arc && next < s->n;
		     arc = strtok_r(NULL, ">", &save))
			if (!strcmp(arc, s->state[next]))
				next++;
	}
	return next == s->n;
}

/* QEMU's own trace of its SETs, line by line, for the reader of the log. */
static void log_trace(struct __test_metadata *_metadata, struct qemu *q)
{
	static char buf[16384];
	char path[128], *line, *save;

	snprintf(path, sizeof(path), "%s/%s-trace.log", q->dir, q->name);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		TH_LOG("  QEMU %s: %s", q->name, line);
}

static void log_samples(struct __test_metadata *_metadata, const char *who,
			const struct samples *s)
{
	char line[512] = "";
	int i;

	for (i = 0; i < s->n; i++) {
		strncat(line, i ? " " : "", sizeof(line) - strlen(line) - 1);
		strncat(line, s->state[i], sizeof(line) - strlen(line) - 1);
	}
	TH_LOG("%s state sampled: %s", who, line);
}

/*
 * QEMU @q's own word on a failed SET of @uuid to @state: its message names
 * both, and says @also.
 */
static void expect_qemu_said(struct __test_metadata *_metadata,
			     struct qemu *q, const char *uuid,
			     const char *state, const char *also)
{
	char expect[128], *log;

	log = malloc(65536);
	ASSERT_NE(NULL, log);
	ASSERT_LT(0, qemu_log(q, log, 65536));
	TH_LOG("%s QEMU said: %s", q->name, log);
	snprintf(expect, sizeof(expect),
		 "%s: Failed setting device state to %s.", uuid, state);
	EXPECT_NE(NULL, strstr(log, expect));
	EXPECT_NE(NULL, strstr(log, also));
	free(log);
}

/* A failed SET, as found in one of the two histories. */
struct diagnosis {
	int device;		/* 0 source, 1 destination, -1 none */
	struct transition t;
};

/* The first failed SET in either history: what a developer would read. */
static struct diagnosis diagnose(const struct history h[2])
{
	struct diagnosis d = { .device = -1 };
	int i, j;

	for (i = 0; i < 2 && d.device < 0; i++) {
		for (j = 0; j < h[i].lines; j++) {
			if (strcmp(h[i].t[j].result, "0") &&
			    strcmp(h[i].t[j].result, "running")) {
				d.device = i;
				d.t = h[i].t[j];
				break;
			}
		}
	}
	return d;
}

/* The whole run of a migration that works. */
TEST_F_TIMEOUT(qemu, migration_completes, 300)
{
	struct scenario *sc = &self->s;
	unsigned char *back;
	struct qemu_sets sets[2];
	char status[32], state[32];
	int i;

	ASSERT_EQ(0, start_both(sc));
	ASSERT_EQ(0, qtest_map_bar0(&sc->vm[0]));
	ASSERT_EQ(0, qtest_write(&sc->vm[0], QEMU_BAR0_ADDR, sc->pattern,
				 sc->size));
	ASSERT_EQ(0, start_sampling(sc));
	ASSERT_EQ(0, qemu_migrate(&sc->vm[0], sc->reply, sizeof(sc->reply)));
	ASSERT_EQ(0, migration_end(sc, status, sizeof(status)));
	ASSERT_STREQ("completed", status);
	/* The ends QEMU and the devices must reach, and stay in. */
	ASSERT_EQ(0, settle(&sc->vm[1], "running", sc->uuid[1], "RUNNING"));
	ASSERT_EQ(0, settle(&sc->vm[0], "postmigrate", sc->uuid[0], "STOP"));
	stop_sampling(sc);
	ASSERT_EQ(0, run_status(&sc->vm[0], status, sizeof(status)));
	EXPECT_STREQ("postmigrate", status);
	ASSERT_EQ(0, run_status(&sc->vm[1], status, sizeof(status)));
	EXPECT_STREQ("running", status);
	ASSERT_EQ(0, debugfs_state(sc->uuid[0], state, sizeof(state)));
	EXPECT_STREQ("STOP", state);
	ASSERT_EQ(0, debugfs_state(sc->uuid[1], state, sizeof(state)));
	EXPECT_STREQ("RUNNING", state);

	for (i = 0; i < 2; i++) {
		TH_LOG("%s:", i ? "destination" : "source");
		log_trace(_metadata, &sc->vm[i]);
		ASSERT_EQ(0, history_read_sets(sc->uuid[i], &sc->h[i]));
		ASSERT_EQ(0, qemu_trace_sets(&sc->vm[i], &sets[i]));
		EXPECT_EQ(0, history_matches_trace(_metadata, &sc->h[i],
						   &sets[i], sc->pid[i]));
		EXPECT_EQ(0, sc->h[i].failures);
		log_samples(_metadata, i ? "destination" : "source",
			    &sc->seen[i]);
		EXPECT_LE(2, sc->seen[i].n);
		EXPECT_TRUE(samples_follow_history(&sc->seen[i], &sc->h[i]));
	}
	/*
	 * What QEMU 10 asks of a P2P device without pre-copy: the VM starts
	 * (RUNNING_P2P, RUNNING), stops for the migration (RUNNING_P2P,
	 * STOP), its device state is saved (STOP_COPY) and done (STOP).
	 */
	ASSERT_EQ(6, sets[0].n);
	EXPECT_STREQ("RUNNING_P2P", sets[0].to[0]);
	EXPECT_STREQ("RUNNING", sets[0].to[1]);
	EXPECT_STREQ("RUNNING_P2P", sets[0].to[2]);
	EXPECT_STREQ("STOP", sets[0].to[3]);
	EXPECT_STREQ("STOP_COPY", sets[0].to[4]);
	EXPECT_STREQ("STOP", sets[0].to[5]);
	ASSERT_EQ(3, sets[1].n);
	EXPECT_STREQ("RESUMING", sets[1].to[0]);
	EXPECT_STREQ("RUNNING_P2P", sets[1].to[1]);
	EXPECT_STREQ("RUNNING", sets[1].to[2]);

	/* BAR0's contents went with the device, through both QEMUs. */
	back = calloc(1, sc->size);
	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, qtest_read(&sc->vm[1], QEMU_BAR0_ADDR, back,
				sc->size));
	EXPECT_EQ(0, memcmp(sc->pattern, back, sc->size));
	free(back);
}

/*
 * The destination's driver refuses RESUMING with EIO. The histories alone
 * say which device, which transition, which errno and which process; QEMU
 * said the same on its own terms.
 */
TEST_F_TIMEOUT(qemu, destination_refuses_resuming, 300)
{
	struct scenario *sc = &self->s;
	struct qemu_sets sets[2];
	struct diagnosis d;
	char status[32];
	int i, st;

	ASSERT_EQ(0, debugfs_write(sc->uuid[1], MIGDEV_FAIL_NEXT,
				   "RESUMING 5"));
	ASSERT_EQ(0, start_both(sc));
	ASSERT_EQ(0, qemu_migrate(&sc->vm[0], sc->reply, sizeof(sc->reply)));
	ASSERT_EQ(0, migration_end(sc, status, sizeof(status)));
	ASSERT_STREQ("failed", status);
	/* The destination gives up and exits; the source runs on. */
	for (i = 0; i < SETTLE_SECONDS * 10 && !qemu_exited(&sc->vm[1], &st); i++)
		usleep(100 * 1000);
	ASSERT_EQ(0, sc->vm[1].pid);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	ASSERT_EQ(0, settle(&sc->vm[0], "running", sc->uuid[0], "RUNNING"));

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, history_read_sets(sc->uuid[i], &sc->h[i]));
	d = diagnose(sc->h);
	TH_LOG("diagnosis: device %d %s: %s -> %s failed %s, asked by %s pid %d",
	       d.device, d.device >= 0 ? sc->uuid[d.device] : "-", d.t.from,
	       d.t.to, d.t.result, d.t.comm, d.t.pid);
	ASSERT_EQ(1, d.device);
	EXPECT_STREQ("RESUMING", d.t.to);
	EXPECT_STREQ("-", d.t.from);
	EXPECT_STREQ("none", d.t.arcs);
	EXPECT_STREQ("-EIO(-5)", d.t.result);
	EXPECT_STREQ(QEMU_COMM, d.t.comm);
	EXPECT_EQ(1, sc->h[1].failures);
	EXPECT_EQ(0, sc->h[0].failures);

	/* QEMU's own word: its trace, and its error message. */
	ASSERT_EQ(0, qemu_trace_sets(&sc->vm[1], &sets[1]));
	ASSERT_EQ(0, qemu_trace_sets(&sc->vm[0], &sets[0]));
	expect_qemu_said(_metadata, &sc->vm[1], sc->uuid[1], "RESUMING",
			 "Input/output error");
	ASSERT_LE(1, sets[1].n);
	EXPECT_STREQ("RESUMING", sets[1].to[0]);
	EXPECT_TRUE(sets[1].failed[0]);
	for (i = 0; i < 2; i++) {
		TH_LOG("%s:", i ? "destination" : "source");
		log_trace(_metadata, &sc->vm[i]);
		EXPECT_EQ(0, history_matches_trace(_metadata, &sc->h[i],
						   &sets[i], sc->pid[i]));
	}
	/* The QEMU that asked is the one that exited. */
	EXPECT_EQ(sc->pid[1], d.t.pid);
}

/*
 * The destination's driver refuses to leave RESUMING (the SET to
 * RUNNING_P2P fails with EIO) once all the state has arrived. QEMU calls
 * the migration completed and runs the destination VM, but has reset its
 * device, whose memory is gone: nothing says so but QEMU's log and the
 * destination's history, which names the SET, the errno and the QEMU.
 */
TEST_F_TIMEOUT(qemu, destination_fails_leaving_resuming, 300)
{
	struct scenario *sc = &self->s;
	struct qemu_sets sets[2];
	unsigned char *back;
	struct diagnosis d;
	char status[32];
	int i;

	ASSERT_EQ(0, debugfs_write(sc->uuid[1], MIGDEV_FAIL_NEXT,
				   "RUNNING_P2P 5"));
	ASSERT_EQ(0, start_both(sc));
	ASSERT_EQ(0, qtest_map_bar0(&sc->vm[0]));
	ASSERT_EQ(0, qtest_write(&sc->vm[0], QEMU_BAR0_ADDR, sc->pattern,
				 sc->size));
	ASSERT_EQ(0, qemu_migrate(&sc->vm[0], sc->reply, sizeof(sc->reply)));
	ASSERT_EQ(0, migration_end(sc, status, sizeof(status)));
	ASSERT_STREQ("completed", status);
	ASSERT_EQ(0, settle(&sc->vm[1], "running", sc->uuid[1], "RUNNING"));
	ASSERT_EQ(0, settle(&sc->vm[0], "postmigrate", sc->uuid[0], "STOP"));

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, history_read_sets(sc->uuid[i], &sc->h[i]));
	d = diagnose(sc->h);
	TH_LOG("diagnosis: device %d: %s -> %s failed %s, asked by %s pid %d",
	       d.device, d.t.from, d.t.to, d.t.result, d.t.comm, d.t.pid);
	ASSERT_EQ(1, d.device);
	EXPECT_STREQ("RUNNING_P2P", d.t.to);
	EXPECT_STREQ("-EIO(-5)", d.t.result);
	EXPECT_EQ(sc->pid[1], d.t.pid);
	EXPECT_STREQ(QEMU_COMM, d.t.comm);
	EXPECT_EQ(1, sc->h[1].failures);
	EXPECT_EQ(0, sc->h[0].failures);

	for (i = 0; i < 2; i++) {
		TH_LOG("%s:", i ? "destination" : "source");
		log_trace(_metadata, &sc->vm[i]);
		ASSERT_EQ(0, qemu_trace_sets(&sc->vm[i], &sets[i]));
		EXPECT_EQ(0, history_matches_trace(_metadata, &sc->h[i],
						   &sets[i], sc->pid[i]));
	}
	expect_qemu_said(_metadata, &sc->vm[1], sc->uuid[1], "RUNNING_P2P",
			 "Resetting device");

	/* The reset took the device's memory with it. */
	back = calloc(1, sc->size);
	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, qtest_read(&sc->vm[1], QEMU_BAR0_ADDR, back, sc->size));
	EXPECT_NE(0, memcmp(sc->pattern, back, sc->size));
	free(back);
}

/*
 * The destination's driver takes 3 s for RESUMING, holding its state lock:
 * meanwhile its history already shows the SET, running, asked by the
 * destination QEMU. The migration then completes.
 */
TEST_F_TIMEOUT(qemu, destination_stalls, 300)
{
	struct scenario *sc = &self->s;
	struct qemu_sets sets;
	struct transition *t;
	char status[32];
	int i, ret;

	ASSERT_EQ(0, debugfs_write(sc->uuid[1], MIGDEV_STALL_NEXT,
				   "RESUMING 3000"));
	ASSERT_EQ(0, start_both(sc));
	ASSERT_EQ(0, qemu_migrate(&sc->vm[0], sc->reply, sizeof(sc->reply)));
	for (i = 0; i < MIGRATE_SECONDS * 100; i++) {
		ret = history_read_sets(sc->uuid[1], &sc->h[1]);
		ASSERT_EQ(0, ret);
		if (sc->h[1].lines &&
		    !strcmp(sc->h[1].t[sc->h[1].lines - 1].result, "running"))
			break;
		usleep(10 * 1000);
	}
	ASSERT_LT(0, sc->h[1].lines);
	t = &sc->h[1].t[sc->h[1].lines - 1];
	TH_LOG("while stalled: %s -> %s %s arcs %s pid %d %s", t->from, t->to,
	       t->result, t->arcs, t->pid, t->comm);
	EXPECT_STREQ("running", t->result);
	EXPECT_STREQ("RESUMING", t->to);
	EXPECT_EQ(sc->vm[1].pid, t->pid);
	EXPECT_STREQ(QEMU_COMM, t->comm);

	ASSERT_EQ(0, migration_end(sc, status, sizeof(status)));
	ASSERT_STREQ("completed", status);
	ASSERT_EQ(0, settle(&sc->vm[1], "running", sc->uuid[1], "RUNNING"));
	ASSERT_EQ(0, history_read_sets(sc->uuid[1], &sc->h[1]));
	ASSERT_EQ(0, qemu_trace_sets(&sc->vm[1], &sets));
	TH_LOG("destination:");
	log_trace(_metadata, &sc->vm[1]);
	EXPECT_EQ(0, history_matches_trace(_metadata, &sc->h[1], &sets,
					   sc->pid[1]));
	EXPECT_LE(3000000, sc->h[1].t[0].duration_us);
}

/*
 * The destination QEMU is killed while the source's driver is in STOP_COPY
 * (stalled there for 2 s). The migration fails, and the source's history
 * shows how QEMU brought the device back to RUNNING, as its trace says.
 */
TEST_F_TIMEOUT(qemu, destination_killed, 300)
{
	struct scenario *sc = &self->s;
	struct history all;
	struct qemu_sets sets;
	struct transition *t;
	char status[32], state[32];
	int i;

	ASSERT_EQ(0, debugfs_write(sc->uuid[0], MIGDEV_STALL_NEXT,
				   "STOP_COPY 2000"));
	ASSERT_EQ(0, start_both(sc));
	ASSERT_EQ(0, qemu_migrate(&sc->vm[0], sc->reply, sizeof(sc->reply)));
	for (i = 0; i < MIGRATE_SECONDS * 100; i++) {
		ASSERT_EQ(0, history_read_sets(sc->uuid[0], &sc->h[0]));
		t = sc->h[0].lines ? &sc->h[0].t[sc->h[0].lines - 1] : NULL;
		if (t && !strcmp(t->result, "running") &&
		    !strcmp(t->to, "STOP_COPY"))
			break;
		usleep(10 * 1000);
	}
	ASSERT_NE(NULL, t);
	ASSERT_STREQ("STOP_COPY", t->to);
	kill(sc->vm[1].pid, SIGKILL);
	ASSERT_EQ(0, migration_end(sc, status, sizeof(status)));
	ASSERT_STREQ("failed", status);
	ASSERT_EQ(0, settle(&sc->vm[0], "running", sc->uuid[0], "RUNNING"));
	ASSERT_EQ(0, run_status(&sc->vm[0], status, sizeof(status)));
	EXPECT_STREQ("running", status);
	ASSERT_EQ(0, debugfs_state(sc->uuid[0], state, sizeof(state)));
	EXPECT_STREQ("RUNNING", state);

	ASSERT_EQ(0, history_read_sets(sc->uuid[0], &sc->h[0]));
	ASSERT_EQ(0, qemu_trace_sets(&sc->vm[0], &sets));
	TH_LOG("source:");
	log_trace(_metadata, &sc->vm[0]);
	EXPECT_EQ(0, history_matches_trace(_metadata, &sc->h[0], &sets,
					   sc->pid[0]));
	EXPECT_EQ(0, sc->h[0].failures);
	t = &sc->h[0].t[sc->h[0].lines - 1];
	EXPECT_STREQ("RUNNING", t->to);

	/*
	 * The destination failed no SET: its history says that its QEMU
	 * was killed, which a destination whose driver refused the stream
	 * (destination_fails_leaving_resuming) does not.
	 */
	for (i = 0; i < MIGRATE_SECONDS * 100; i++) {
		ASSERT_EQ(0, history_read(sc->uuid[1], &all));
		ASSERT_LT(0, all.lines);
		t = &all.t[all.lines - 1];
		if (!strcmp(t->event, "close"))
			break;
		usleep(10 * 1000);
	}
	EXPECT_STREQ("close", t->event);
	EXPECT_STREQ("signal:9", t->detail);
	EXPECT_EQ(sc->vm[1].pid, t->pid);
	EXPECT_EQ(0, all.failures);
}

/*
 * The reading of QEMU's trace itself, on a made-up one with every path of
 * vfio_migration_set_state(): a SET, a SET to where the device is (no
 * ioctl), a failed SET whose recover SET failed too (QEMU reset the
 * device), and a failed SET whose recover SET worked.
 */
TEST(trace_model)
{
	static const char trace[] =
		"vfio_migration_set_state  (d) new state RUNNING_P2P, recover state ERROR\n"
		"vfio_migration_set_device_state  (d) state RUNNING_P2P\n"
		"vfio_migration_set_state  (d) new state RUNNING_P2P, recover state ERROR\n"
		"vfio_migration_set_state  (d) new state STOP, recover state RUNNING_P2P\n"
		"vfio_migration_set_device_state  (d) state RUNNING\n"
		"vfio_migration_set_state  (d) new state RESUMING, recover state RUNNING\n"
		"vfio_migration_set_device_state  (d) state RUNNING\n";
	static const char * const to[] = {
		"RUNNING_P2P", "STOP", "RUNNING_P2P", "RESUMING", "RUNNING",
	};
	static const bool failed[] = { false, true, true, true, false };
	struct qemu q = { .name = "src" };
	struct qemu_sets sets;
	char path[128];
	FILE *f;
	int i;

	snprintf(q.dir, sizeof(q.dir), "/tmp/vfio-trace-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(q.dir));
	snprintf(path, sizeof(path), "%s/src-trace.log", q.dir);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fwrite(trace, sizeof(trace) - 1, 1, f));
	ASSERT_EQ(0, fclose(f));
	EXPECT_EQ(0, qemu_trace_sets(&q, &sets));
	unlink(path);
	rmdir(q.dir);
	ASSERT_EQ(5, sets.n);
	for (i = 0; i < 5; i++) {
		EXPECT_STREQ(to[i], sets.to[i]) TH_LOG("SET %d", i + 1);
		EXPECT_EQ(failed[i], sets.failed[i]) TH_LOG("SET %d", i + 1);
	}
}

/* QEMU 10's major version from --version, or -1. */
static int qemu_major(void)
{
	char cmd[256], line[128];
	int major = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s --version 2>/dev/null", qemu_binary());
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fgets(line, sizeof(line), p))
		sscanf(line, "QEMU emulator version %d.", &major);
	pclose(p);
	return major;
}

/*
 * Checked here, not in FIXTURE_SETUP(): the 6.1 harness runs a test even
 * after its setup called SKIP().
 */
int main(int argc, char **argv)
{
	int major;

	if (path_exists(MIGDEV_TYPE))
		ksft_exit_skip("%s is missing: load migdev\n", MIGDEV_TYPE);
	major = access(qemu_binary(), X_OK) ? -1 : qemu_major();
	if (major < 10 && getenv("VFIO_EXPECT_QEMU"))
		ksft_exit_fail_msg("VFIO_EXPECT_QEMU, but %s is %s\n",
				   qemu_binary(), major < 0 ? "missing" :
				   "older than QEMU 10");
	if (major < 10)
		ksft_exit_skip("no QEMU 10 at %s: set VFIO_QEMU\n",
			       qemu_binary());
	return test_harness_run(argc, argv);
}
