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
 * QEMU is $VFIO_QEMU or /usr/bin/qemu-system-x86_64; without it the tests
 * are skipped, unless VFIO_EXPECT_QEMU=1 says it must be there.
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

#define MIGRATE_SECONDS	120
#define MAX_SAMPLES	64
#define QEMU_COMM	"qemu-system-x86"

/* The distinct successive values of one device's migration/state. */
struct samples {
	int n;
	char state[MAX_SAMPLES][16];
};

FIXTURE(qemu) {
	char dir[64];
	char uuid[2][37];	/* source, destination */
	struct qemu vm[2];
	pid_t pid[2];		/* theirs, kept after they exit */
	struct samples seen[2];
	pthread_t sampler;
	atomic_bool sampling;
	struct history h[2];
	unsigned char pattern[16384];
	char reply[4096];
};

static void *sample_states(void *arg)
{
	FIXTURE_DATA(qemu) *self = arg;
	struct samples *s;
	char buf[32];
	int i;

	while (self->sampling) {
		for (i = 0; i < 2; i++) {
			s = &self->seen[i];
			if (debugfs_read(self->uuid[i], "migration/state", buf,
					 sizeof(buf)) <= 0)
				continue;
			buf[strcspn(buf, "\n")] = '\0';
			if ((!s->n || strcmp(s->state[s->n - 1], buf)) &&
			    s->n < MAX_SAMPLES)
				strcpy(s->state[s->n++], buf);
		}
		usleep(500);
	}
	return NULL;
}

FIXTURE_SETUP(qemu)
{
	int i;

	if (access(qemu_binary(), X_OK)) {
		if (getenv("VFIO_EXPECT_QEMU"))
			ASSERT_EQ(0, -errno) TH_LOG("%s", qemu_binary());
		SKIP(return, "no QEMU at %s: set VFIO_QEMU", qemu_binary());
	}
	if (path_exists(MIGDEV_TYPE))
		SKIP(return, "%s is missing: load migdev", MIGDEV_TYPE);
	snprintf(self->dir, sizeof(self->dir), "/tmp/vfio-qemu-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, mdev_create(MIGDEV_TYPE, self->uuid[i]));
	for (i = 0; i < (int)sizeof(self->pattern); i++)
		self->pattern[i] = (unsigned char)(i * 7 + (i >> 8) + 1);
}

FIXTURE_TEARDOWN(qemu)
{
	char cmd[96];
	int i;

	self->sampling = false;
	for (i = 0; i < 2; i++) {
		qemu_stop(&self->vm[i]);
		if (self->uuid[i][0])
			EXPECT_EQ(0, mdev_remove(self->uuid[i]));
	}
	if (self->dir[0] == '/') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
		system(cmd);
	}
}

static int start_both(FIXTURE_DATA(qemu) *self)
{
	int ret;

	ret = qemu_start(&self->vm[0], self->dir, "src", self->uuid[0], false);
	self->pid[0] = self->vm[0].pid;
	if (ret)
		return ret;
	ret = qemu_start(&self->vm[1], self->dir, "dst", self->uuid[1], true);
	self->pid[1] = self->vm[1].pid;
	return ret;
}

static int start_sampling(FIXTURE_DATA(qemu) *self)
{
	self->sampling = true;
	return pthread_create(&self->sampler, NULL, sample_states, self);
}

static void stop_sampling(FIXTURE_DATA(qemu) *self)
{
	if (!self->sampling)
		return;
	self->sampling = false;
	pthread_join(self->sampler, NULL);
}

static int migrate(FIXTURE_DATA(qemu) *self)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd),
		 "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"unix:%s/migration.sock\"}}",
		 self->dir);
	return qmp(&self->vm[0], cmd, self->reply, sizeof(self->reply));
}

/* Polls query-migrate on the source until it ends; its final status. */
static int migration_end(FIXTURE_DATA(qemu) *self, char *status, size_t size)
{
	int i, ret;

	for (i = 0; i < MIGRATE_SECONDS * 50; i++) {
		ret = qmp(&self->vm[0], "{\"execute\": \"query-migrate\"}",
			  self->reply, sizeof(self->reply));
		if (ret)
			return ret;
		ret = qmp_string(self->reply, "status", status, size);
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

/* Reads a device's state file, without its newline. */
static int state_of(const char *uuid, char *buf, size_t size)
{
	int n = debugfs_read(uuid, "migration/state", buf, size);

	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
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
	unsigned char back[sizeof(self->pattern)];
	struct qemu_sets sets[2];
	char status[32], state[32];
	int i;

	ASSERT_EQ(0, start_both(self));
	ASSERT_EQ(0, qtest_map_bar0(&self->vm[0]));
	ASSERT_EQ(0, qtest_write(&self->vm[0], QEMU_BAR0_ADDR, self->pattern,
				 sizeof(self->pattern)));
	ASSERT_EQ(0, start_sampling(self));
	ASSERT_EQ(0, migrate(self));
	ASSERT_EQ(0, migration_end(self, status, sizeof(status)));
	EXPECT_STREQ("completed", status);
	stop_sampling(self);

	ASSERT_EQ(0, run_status(&self->vm[0], status, sizeof(status)));
	EXPECT_STREQ("postmigrate", status);
	ASSERT_EQ(0, run_status(&self->vm[1], status, sizeof(status)));
	EXPECT_STREQ("running", status);
	ASSERT_EQ(0, state_of(self->uuid[0], state, sizeof(state)));
	EXPECT_STREQ("STOP", state);
	ASSERT_EQ(0, state_of(self->uuid[1], state, sizeof(state)));
	EXPECT_STREQ("RUNNING", state);

	for (i = 0; i < 2; i++) {
		TH_LOG("%s:", i ? "destination" : "source");
		ASSERT_EQ(0, history_read(self->uuid[i], &self->h[i]));
		ASSERT_EQ(0, qemu_trace_sets(&self->vm[i], &sets[i]));
		EXPECT_EQ(0, history_matches_trace(_metadata, &self->h[i],
						   &sets[i], self->pid[i]));
		EXPECT_EQ(0, self->h[i].failures);
		log_samples(_metadata, i ? "destination" : "source",
			    &self->seen[i]);
		EXPECT_TRUE(samples_follow_history(&self->seen[i], &self->h[i]));
	}
	/* What QEMU 10 asks of a P2P device, whatever the timing. */
	ASSERT_LE(4, sets[0].n);
	EXPECT_STREQ("STOP_COPY", sets[0].to[sets[0].n - 2]);
	EXPECT_STREQ("STOP", sets[0].to[sets[0].n - 1]);
	ASSERT_EQ(3, sets[1].n);
	EXPECT_STREQ("RESUMING", sets[1].to[0]);
	EXPECT_STREQ("RUNNING_P2P", sets[1].to[1]);
	EXPECT_STREQ("RUNNING", sets[1].to[2]);

	/* BAR0's contents went with the device, through both QEMUs. */
	memset(back, 0, sizeof(back));
	ASSERT_EQ(0, qtest_read(&self->vm[1], QEMU_BAR0_ADDR, back,
				sizeof(back)));
	EXPECT_EQ(0, memcmp(self->pattern, back, sizeof(back)));
}

/*
 * The destination's driver refuses RESUMING with EIO. The histories alone
 * say which device, which transition, which errno and which process; QEMU
 * said the same on its own terms.
 */
TEST_F_TIMEOUT(qemu, destination_refuses_resuming, 300)
{
	struct qemu_sets sets[2];
	struct diagnosis d;
	char status[32], expect[128], *log;
	int i, st;

	ASSERT_EQ(0, debugfs_write(self->uuid[1], MIGDEV_FAIL_NEXT,
				   "RESUMING 5"));
	ASSERT_EQ(0, start_both(self));
	ASSERT_EQ(0, migrate(self));
	ASSERT_EQ(0, migration_end(self, status, sizeof(status)));
	EXPECT_STREQ("failed", status);
	/* The destination gives up and exits; the source runs on. */
	for (i = 0; i < MIGRATE_SECONDS * 10 && !qemu_exited(&self->vm[1], &st); i++)
		usleep(100 * 1000);
	ASSERT_EQ(0, self->vm[1].pid);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	ASSERT_EQ(0, run_status(&self->vm[0], status, sizeof(status)));
	EXPECT_STREQ("running", status);

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, history_read(self->uuid[i], &self->h[i]));
	d = diagnose(self->h);
	TH_LOG("diagnosis: device %d %s: %s -> %s failed %s, asked by %s pid %d",
	       d.device, d.device >= 0 ? self->uuid[d.device] : "-", d.t.from,
	       d.t.to, d.t.result, d.t.comm, d.t.pid);
	ASSERT_EQ(1, d.device);
	EXPECT_STREQ("RESUMING", d.t.to);
	EXPECT_STREQ("-", d.t.from);
	EXPECT_STREQ("none", d.t.arcs);
	EXPECT_STREQ("-EIO(-5)", d.t.result);
	EXPECT_STREQ(QEMU_COMM, d.t.comm);
	EXPECT_EQ(1, self->h[1].failures);
	EXPECT_EQ(0, self->h[0].failures);

	/* QEMU's own word: its trace, and its error message. */
	ASSERT_EQ(0, qemu_trace_sets(&self->vm[1], &sets[1]));
	ASSERT_EQ(0, qemu_trace_sets(&self->vm[0], &sets[0]));
	log = malloc(65536);
	ASSERT_NE(NULL, log);
	ASSERT_LT(0, qemu_log(&self->vm[1], log, 65536));
	TH_LOG("destination QEMU said: %s", log);
	snprintf(expect, sizeof(expect),
		 "%s: Failed setting device state to RESUMING.", self->uuid[1]);
	EXPECT_NE(NULL, strstr(log, expect));
	EXPECT_NE(NULL, strstr(log, "Input/output error"));
	free(log);
	ASSERT_LE(1, sets[1].n);
	EXPECT_STREQ("RESUMING", sets[1].to[0]);
	EXPECT_TRUE(sets[1].failed[0]);
	for (i = 0; i < 2; i++) {
		TH_LOG("%s:", i ? "destination" : "source");
		EXPECT_EQ(0, history_matches_trace(_metadata, &self->h[i],
						   &sets[i], self->pid[i]));
	}
	/* The QEMU that asked is the one that exited. */
	EXPECT_EQ(self->pid[1], d.t.pid);
}

/*
 * The destination's driver takes 3 s for RESUMING, holding its state lock:
 * meanwhile its history already shows the SET, running, asked by the
 * destination QEMU. The migration then completes.
 */
TEST_F_TIMEOUT(qemu, destination_stalls, 300)
{
	struct qemu_sets sets;
	struct transition *t;
	char status[32];
	int i, ret;

	ASSERT_EQ(0, debugfs_write(self->uuid[1], MIGDEV_STALL_NEXT,
				   "RESUMING 3000"));
	ASSERT_EQ(0, start_both(self));
	ASSERT_EQ(0, migrate(self));
	for (i = 0; i < MIGRATE_SECONDS * 100; i++) {
		ret = history_read(self->uuid[1], &self->h[1]);
		ASSERT_EQ(0, ret);
		if (self->h[1].lines &&
		    !strcmp(self->h[1].t[self->h[1].lines - 1].result, "running"))
			break;
		usleep(10 * 1000);
	}
	ASSERT_LT(0, self->h[1].lines);
	t = &self->h[1].t[self->h[1].lines - 1];
	TH_LOG("while stalled: %s -> %s %s arcs %s pid %d %s", t->from, t->to,
	       t->result, t->arcs, t->pid, t->comm);
	EXPECT_STREQ("running", t->result);
	EXPECT_STREQ("RESUMING", t->to);
	EXPECT_EQ(self->vm[1].pid, t->pid);
	EXPECT_STREQ(QEMU_COMM, t->comm);

	ASSERT_EQ(0, migration_end(self, status, sizeof(status)));
	EXPECT_STREQ("completed", status);
	ASSERT_EQ(0, history_read(self->uuid[1], &self->h[1]));
	ASSERT_EQ(0, qemu_trace_sets(&self->vm[1], &sets));
	EXPECT_EQ(0, history_matches_trace(_metadata, &self->h[1], &sets,
					   self->pid[1]));
	EXPECT_LE(3000000, self->h[1].t[0].duration_us);
}

/*
 * The destination QEMU is killed while the source's driver is in STOP_COPY
 * (stalled there for 2 s). The migration fails, and the source's history
 * shows how QEMU brought the device back to RUNNING, as its trace says.
 */
TEST_F_TIMEOUT(qemu, destination_killed, 300)
{
	struct qemu_sets sets;
	struct transition *t;
	char status[32], state[32];
	int i;

	ASSERT_EQ(0, debugfs_write(self->uuid[0], MIGDEV_STALL_NEXT,
				   "STOP_COPY 2000"));
	ASSERT_EQ(0, start_both(self));
	ASSERT_EQ(0, migrate(self));
	for (i = 0; i < MIGRATE_SECONDS * 100; i++) {
		ASSERT_EQ(0, history_read(self->uuid[0], &self->h[0]));
		t = self->h[0].lines ? &self->h[0].t[self->h[0].lines - 1] : NULL;
		if (t && !strcmp(t->result, "running") &&
		    !strcmp(t->to, "STOP_COPY"))
			break;
		usleep(10 * 1000);
	}
	ASSERT_NE(NULL, t);
	ASSERT_STREQ("STOP_COPY", t->to);
	kill(self->vm[1].pid, SIGKILL);
	ASSERT_EQ(0, migration_end(self, status, sizeof(status)));
	EXPECT_STREQ("failed", status);
	ASSERT_EQ(0, run_status(&self->vm[0], status, sizeof(status)));
	EXPECT_STREQ("running", status);
	ASSERT_EQ(0, state_of(self->uuid[0], state, sizeof(state)));
	EXPECT_STREQ("RUNNING", state);

	ASSERT_EQ(0, history_read(self->uuid[0], &self->h[0]));
	ASSERT_EQ(0, qemu_trace_sets(&self->vm[0], &sets));
	TH_LOG("source:");
	EXPECT_EQ(0, history_matches_trace(_metadata, &self->h[0], &sets,
					   self->pid[0]));
	EXPECT_EQ(0, self->h[0].failures);
	t = &self->h[0].t[self->h[0].lines - 1];
	EXPECT_STREQ("RUNNING", t->to);
}

TEST_HARNESS_MAIN
