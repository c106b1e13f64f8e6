/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU as the VFIO migration client of a test: one QEMU per device, with a
 * vfio-pci device on the device's mdev, driven over QMP, with guest memory
 * and MMIO reached through the qtest protocol, and QEMU's own vfio trace
 * events in a log. There is no guest OS: the firmware halts the CPU at
 * once, so nothing but the test touches the device. Functions that can
 * fail return 0 or a negative errno.
 */
#ifndef QEMU_UTIL_H
#define QEMU_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Where the vfio-pci device sits, and where its BAR0 is put. */
#define QEMU_VFIO_SLOT		4
#define QEMU_BAR0_ADDR		0xe0000000UL

struct qemu {
	pid_t pid;
	int qmp;
	int qtest;
	char name[8];		/* "src" or "dst" */
	char dir[64];		/* sockets, log and trace; the caller's */
};

const char *qemu_binary(void);
int qemu_start(struct qemu *q, const char *dir, const char *name,
	       const char *uuid, bool incoming);
void qemu_stop(struct qemu *q);
bool qemu_exited(struct qemu *q, int *status);
int qemu_log(const struct qemu *q, char *buf, size_t size);

int qmp(struct qemu *q, const char *cmd, char *reply, size_t size);
int qmp_event(struct qemu *q, const char *event, const char *want,
	      const char *bad, char *line, size_t size);
int qmp_string(const char *reply, const char *key, char *val, size_t size);
void qemu_migrate_cmd(const struct qemu *src, char *cmd, size_t size);
int qemu_migrate(struct qemu *src, char *reply, size_t size);

int qtest(struct qemu *q, const char *cmd, char *reply, size_t size);
int qtest_map_bar0(struct qemu *q);
int qtest_write(struct qemu *q, unsigned long addr, const void *buf,
		size_t len);
int qtest_read(struct qemu *q, unsigned long addr, void *buf, size_t len);

/*
 * The migration state changes QEMU asked the kernel for, in order, as its
 * trace events say: each vfio_migration_set_state to a state other than
 * the one QEMU knew the device in is one SET; when the next
 * vfio_migration_set_device_state names another state, that SET failed,
 * and QEMU asked for the recover state it named (unless that is ERROR: it
 * resets the device instead), which failed in turn if QEMU then knew the
 * device in yet another state (RUNNING, after a reset). The trace cannot
 * tell a failed SET whose reset left the device in the very state asked
 * for (RUNNING with recover state ERROR, or a recover SET to RUNNING);
 * QEMU's log says "Resetting device" then. No test here makes QEMU reset
 * a device.
 */
#define QEMU_MAX_SETS	32

struct qemu_sets {
	int n;
	char to[QEMU_MAX_SETS][16];
	bool failed[QEMU_MAX_SETS];
};

int qemu_trace_sets(const struct qemu *q, struct qemu_sets *sets);

#endif /* QEMU_UTIL_H */
