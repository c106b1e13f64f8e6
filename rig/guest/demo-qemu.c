// SPDX-License-Identifier: GPL-2.0
/*
 * The `make demo` walk-through: QEMU 10 live-migrates a VM with a migdev
 * device to a second QEMU, and what QEMU says of the migration is shown
 * next to `cat .../migration/state` of both devices whenever either
 * changes. Then a migration that fails, and what the two histories say
 * of it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "qemu_util.h"
#include "vfio_util.h"

struct pair {
	char uuid[2][37];
	struct qemu vm[2];
};

static const char * const role[] = { "source", "destination" };

static void run(const char *cmd)
{
	char line[256];
	FILE *p;

	printf("  $ %s\n", cmd);
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p)
		return;
	while (fgets(line, sizeof(line), p))
		printf("  %s", line);
	pclose(p);
}

static void show_file(const char *uuid, const char *file)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "cat " VFIO_DEBUGFS "/%s/migration/%s",
		 uuid, file);
	run(cmd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void qemu_status(struct qemu *q, const char *cmd, char *status,
			size_t size)
{
	char reply[4096];

	if (q->pid <= 0 || qmp(q, cmd, reply, sizeof(reply)) ||
	    qmp_string(reply, "status", status, size))
		snprintf(status, size, "%s", q->pid > 0 ? "?" : "(exited)");
}

static void state_of(const char *uuid, char *buf, size_t size)
{
	if (debugfs_state(uuid, buf, size) || !buf[0])
		snprintf(buf, size, "?");
}

/*
 * Starts the migration and prints a line each time QEMU's migration
 * status (the source's query-migrate, the destination's query-status) or
 * either device's state changes, until both QEMUs are done with it: the
 * source says "completed" before the destination has loaded everything.
 */
static int watch_migration(struct pair *p, char *status, size_t size)
{
	char cmd[160], reply[4096], last[160] = "", line[160];
	char state[2][32], dst[32];
	double t0 = now();
	bool done;
	int i;

	qemu_migrate_cmd(&p->vm[0], cmd, sizeof(cmd));
	printf("  QMP to the source: %s\n\n", cmd);
	if (qmp(&p->vm[0], cmd, reply, sizeof(reply)))
		return -1;
	printf("  %8s  %-13s  %-14s  %-14s  %s\n", "time", "query-migrate",
	       "source state", "destination", "destination QEMU");
	for (i = 0; i < 100000; i++) {
		qemu_status(&p->vm[0], "{\"execute\": \"query-migrate\"}",
			    status, size);
		if (p->vm[1].pid > 0 && qemu_exited(&p->vm[1], NULL))
			p->vm[1].pid = 0;
		qemu_status(&p->vm[1], "{\"execute\": \"query-status\"}",
			    dst, sizeof(dst));
		state_of(p->uuid[0], state[0], sizeof(state[0]));
		state_of(p->uuid[1], state[1], sizeof(state[1]));
		snprintf(line, sizeof(line), "%-13s  %-14s  %-14s  %s", status,
			 state[0], state[1], dst);
		if (strcmp(line, last)) {
			printf("  %7.3fs  %s\n", now() - t0, line);
			strcpy(last, line);
		}
		done = (!strcmp(status, "completed") && !strcmp(dst, "running") &&
			!strcmp(state[0], "STOP")) ||
		       (!strcmp(status, "failed") && p->vm[1].pid <= 0 &&
			!strcmp(state[0], "RUNNING"));
		if (done)
			return 0;
		usleep(1000);
	}
	return -1;
}

static void show_qemus(struct pair *p)
{
	char status[32];
	int i;

	for (i = 0; i < 2; i++) {
		qemu_status(&p->vm[i], "{\"execute\": \"query-status\"}",
			    status, sizeof(status));
		printf("  QEMU %-11s (pid %d): query-status says %s\n", role[i],
		       p->vm[i].pid, status);
	}
	for (i = 0; i < 2; i++)
		show_file(p->uuid[i], "state");
	printf("\n");
}

static int start(struct pair *p, const char *dir, const char *fault)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (mdev_create(MIGDEV_TYPE, p->uuid[i]))
			return -1;
	}
	if (fault && debugfs_write(p->uuid[1], MIGDEV_FAIL_NEXT, fault))
		return -1;
	if (qemu_start(&p->vm[0], dir, "src", p->uuid[0], false) ||
	    qemu_start(&p->vm[1], dir, "dst", p->uuid[1], true))
		return -1;
	for (i = 0; i < 2; i++)
		printf("  %-11s device %s, QEMU pid %d\n", role[i], p->uuid[i],
		       p->vm[i].pid);
	printf("\n");
	return 0;
}

static void stop(struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		qemu_stop(&p->vm[i]);
		mdev_remove(p->uuid[i]);
	}
}

static int good_migration(const char *dir)
{
	unsigned char want[4096], got[4096];
	char status[32];
	struct pair p;
	size_t i;
	int ret;

	printf("1. A live migration: two migdev devices, a QEMU 10 for each,\n"
	       "   the destination started with -incoming.\n\n");
	memset(&p, 0, sizeof(p));
	if (start(&p, dir, NULL))
		return 1;
	for (i = 0; i < sizeof(want); i++)
		want[i] = (unsigned char)(i * 7 + 1);
	if (qtest_map_bar0(&p.vm[0]) ||
	    qtest_write(&p.vm[0], QEMU_BAR0_ADDR, want, sizeof(want)))
		return 1;
	printf("  a pattern is written into the source device's BAR0 through the source QEMU\n\n");
	show_qemus(&p);
	ret = watch_migration(&p, status, sizeof(status));
	printf("\n");
	show_qemus(&p);
	if (!ret)
		ret = qtest_read(&p.vm[1], QEMU_BAR0_ADDR, got, sizeof(got));
	printf("  BAR0 read through the destination QEMU %s the pattern\n\n",
	       !ret && !memcmp(want, got, sizeof(got)) ? "equals" : "DIFFERS FROM");
	printf("  Every state change QEMU asked for, with the driver's arcs:\n\n");
	for (i = 0; i < 2; i++)
		show_file(p.uuid[i], "history");
	stop(&p);
	return ret || strcmp(status, "completed") || memcmp(want, got, sizeof(got));
}

static int failed_migration(const char *dir)
{
	char status[32], reply[4096], *log;
	struct pair p;
	int i;

	printf("\n2. The same, but the destination's driver refuses RESUMING\n"
	       "   (migdev's fail_next: \"RESUMING 5\", EIO).\n\n");
	memset(&p, 0, sizeof(p));
	if (start(&p, dir, "RESUMING 5"))
		return 1;
	if (watch_migration(&p, status, sizeof(status)))
		return 1;
	for (i = 0; i < 100 && !qemu_exited(&p.vm[1], NULL); i++)
		usleep(100 * 1000);
	printf("\n  What QEMU says: the source's query-migrate:\n");
	if (!qmp(&p.vm[0], "{\"execute\": \"query-migrate\"}", reply, sizeof(reply)))
		printf("    %s\n", reply);
	log = malloc(65536);
	if (log && qemu_log(&p.vm[1], log, 65536) > 0) {
		printf("  and the destination QEMU, which exited:\n");
		for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n"))
			if (strstr(l, "failed"))
				printf("    %s\n", l);
	}
	free(log);
	printf("\n  What the kernel says, from the two histories alone:\n\n");
	for (i = 0; i < 2; i++)
		show_file(p.uuid[i], "history");
	stop(&p);
	return strcmp(status, "failed") != 0;
}

/* Each migration has a directory of its own for QEMU's sockets and logs. */
int main(void)
{
	char dir[] = "/tmp/demo-XXXXXX", good[32], failed[32];
	int ret;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(good, sizeof(good), "%s/good", dir);
	snprintf(failed, sizeof(failed), "%s/failed", dir);
	if (mkdir(good, 0755) || mkdir(failed, 0755)) {
		perror("mkdir");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = good_migration(good);
	ret |= failed_migration(failed);
	return ret;
}
