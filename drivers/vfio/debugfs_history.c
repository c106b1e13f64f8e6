// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO debugfs, migration/history: the last migration state changes that
 * userspace asked for, kept by the core itself so that they can be read
 * while a driver is stuck in one, and after a failed migration. Mainline
 * has no such file.
 */

#include <linux/debugfs.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "vfio.h"

/* Transitions kept per device; documented in debugfs-vfio-history. */
#define VFIO_MIG_HISTORY_LEN	32

/* One VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE SET, as the core saw it. */
struct vfio_mig_transition {
	u64 seq;		/* 1 for the device's first transition */
	u64 start_ns;		/* local_clock(), the printk clock */
	u64 duration_ns;
	int result;		/* 0 or -errno */
	bool done;
	u8 from;		/* as the driver reported it before */
	u8 to;			/* as userspace asked */
	u8 after;		/* as the driver reported it after */
	pid_t pid;
	char comm[TASK_COMM_LEN];
};

/*
 * A device's history. @lock is only ever held to copy a few fields in or
 * out, never across a call into the driver, so reading the history cannot
 * wait on a driver. The ring comes with the device's first transition:
 * most devices never migrate, and need not carry it.
 */
struct vfio_mig_history {
	spinlock_t lock;	/* protects all below */
	u64 count;		/* transitions since registration */
	u64 failures;
	struct vfio_mig_transition *ring;	/* VFIO_MIG_HISTORY_LEN */
};

static struct vfio_mig_transition *
vfio_mig_history_slot(struct vfio_mig_transition *ring, u64 seq)
{
	BUILD_BUG_ON(!is_power_of_2(VFIO_MIG_HISTORY_LEN));
	return &ring[(seq - 1) & (VFIO_MIG_HISTORY_LEN - 1)];
}

/* Give @h its ring, once; false when there is no memory for it. */
static bool vfio_mig_history_alloc_ring(struct vfio_mig_history *h)
{
	struct vfio_mig_transition *ring;

	ring = kcalloc(VFIO_MIG_HISTORY_LEN, sizeof(*ring), GFP_KERNEL);
	if (!ring)
		return false;
	spin_lock(&h->lock);
	if (!h->ring) {
		WRITE_ONCE(h->ring, ring);
		ring = NULL;
	}
	spin_unlock(&h->lock);
	/* NULL, or the ring of a transition that started at the same time. */
	kfree(ring);
	return true;
}

/* The driver's idea of the state, or an invalid one if it has none. */
static u8 vfio_mig_current_state(struct vfio_device *vdev)
{
	enum vfio_device_mig_state state;

	if (vdev->mig_ops->migration_get_state(vdev, &state))
		return U8_MAX;
	return state;
}

/**
 * vfio_mig_history_begin - record the start of a migration state change
 * @vdev: the device
 * @to: the state userspace asked for
 *
 * Called before mig_ops->migration_set_state(). It asks the driver for the
 * current state, so it must not be called with the driver's locks held.
 * The device's first transition allocates the ring; no later one allocates.
 *
 * Return: the transition's sequence number, for vfio_mig_history_end(),
 * or 0 when the device keeps no history (or had no memory for its ring).
 */
u64 vfio_mig_history_begin(struct vfio_device *vdev,
			   enum vfio_device_mig_state to)
{
	struct vfio_mig_history *h = vdev->mig_history;
	struct vfio_mig_transition *t;
	u8 from;
	u64 seq;

	if (!h)
		return 0;
	if (!READ_ONCE(h->ring) && !vfio_mig_history_alloc_ring(h))
		return 0;

	from = vfio_mig_current_state(vdev);
	spin_lock(&h->lock);
	seq = ++h->count;
	t = vfio_mig_history_slot(h->ring, seq);
	t->seq = seq;
	t->start_ns = local_clock();
	t->duration_ns = 0;
	t->result = 0;
	t->done = false;
	t->from = from;
	/* Userspace may ask for anything; keep what is not a state invalid. */
	t->to = min_t(u32, to, U8_MAX);
	t->after = t->to;
	t->pid = task_pid_nr(current);
	/* As tracepoints do: no task_lock() for a name that is only shown. */
	memcpy(t->comm, current->comm, TASK_COMM_LEN);
	spin_unlock(&h->lock);
	return seq;
}

/**
 * vfio_mig_history_end - record the end of a migration state change
 * @vdev: the device
 * @seq: what vfio_mig_history_begin() returned
 * @result: what mig_ops->migration_set_state() returned, 0 or -errno
 *
 * On failure the driver is asked for the state it is left in. A record that
 * fell off the ring while the transition ran is not written again.
 */
void vfio_mig_history_end(struct vfio_device *vdev, u64 seq, int result)
{
	struct vfio_mig_history *h = vdev->mig_history;
	struct vfio_mig_transition *t;
	u8 after = 0;

	if (!h || !seq)
		return;

	if (result)
		after = vfio_mig_current_state(vdev);
	spin_lock(&h->lock);
	t = vfio_mig_history_slot(h->ring, seq);
	if (t->seq == seq) {
		t->duration_ns = local_clock() - t->start_ns;
		t->result = result;
		t->done = true;
		if (result)
			t->after = after;
	}
	if (result)
		h->failures++;
	spin_unlock(&h->lock);
}

/*
 * One line per transition, in the format debugfs-vfio documents; a
 * transition still running shows how long it has run so far.
 */
static void vfio_mig_transition_show(struct seq_file *s,
				     const struct vfio_mig_transition *t,
				     u64 now)
{
	u64 duration = t->done ? t->duration_ns : now - t->start_ns;
	char result[32] = "running";
	u32 start_ns;
	u64 start_s;

	if (t->done && t->result)
		snprintf(result, sizeof(result), "%pe(%d)", ERR_PTR(t->result),
			 t->result);
	else if (t->done)
		strscpy(result, "0", sizeof(result));
	start_s = div_u64_rem(t->start_ns, NSEC_PER_SEC, &start_ns);

	seq_printf(s, "%6llu %5llu.%06u %11llu %-18s %-11s %-11s %-11s %7d %s\n",
		   t->seq, start_s, start_ns / (u32)NSEC_PER_USEC,
		   div_u64(duration, NSEC_PER_USEC), result,
		   vfio_mig_state_name(t->from), vfio_mig_state_name(t->to),
		   t->done ? vfio_mig_state_name(t->after) : "-",
		   t->pid, t->comm);
}

static int vfio_mig_history_show(struct seq_file *s, void *unused)
{
	struct vfio_device *vdev = s->private;
	struct vfio_mig_history *h = vdev->mig_history;
	struct vfio_mig_transition *ring;
	u64 count, failures, first, seq, now;

	/* A snapshot, so that printing happens outside the lock. */
	ring = kcalloc(VFIO_MIG_HISTORY_LEN, sizeof(*ring), GFP_KERNEL);
	if (!ring)
		return -ENOMEM;
	spin_lock(&h->lock);
	count = h->count;
	failures = h->failures;
	if (h->ring)
		memcpy(ring, h->ring, VFIO_MIG_HISTORY_LEN * sizeof(*ring));
	spin_unlock(&h->lock);
	now = local_clock();

	first = count > VFIO_MIG_HISTORY_LEN ?
		count - VFIO_MIG_HISTORY_LEN + 1 : 1;
	seq_printf(s, "# transitions %llu failures %llu shown %llu\n",
		   count, failures, count - first + 1);
	seq_puts(s, "#  seq        start duration_us result             from        to          after           pid comm\n");
	for (seq = first; seq <= count; seq++)
		vfio_mig_transition_show(s, vfio_mig_history_slot(ring, seq),
					 now);
	kfree(ring);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vfio_mig_history);

/**
 * vfio_mig_history_init - start keeping the migration history of a device
 * @vdev: the device, just given its debugfs directory
 *
 * Creates migration/history next to migration/state. Like the rest of
 * debugfs this never fails: without debugfs, or without memory for the
 * ring, the device keeps no history and has no history file.
 */
void vfio_mig_history_init(struct vfio_device *vdev)
{
	struct dentry *mig_dir;

	if (!vdev->mig_ops)
		return;
	/* NULL when debugfs is unavailable: nobody could read a history. */
	mig_dir = debugfs_lookup("migration", vdev->debug_root);
	if (!mig_dir)
		return;

	vdev->mig_history = kzalloc(sizeof(*vdev->mig_history), GFP_KERNEL);
	if (vdev->mig_history) {
		spin_lock_init(&vdev->mig_history->lock);
		debugfs_create_file("history", 0444, mig_dir, vdev,
				    &vfio_mig_history_fops);
	}
	dput(mig_dir);
}

/**
 * vfio_mig_history_exit - free the migration history of a device
 * @vdev: the device, its debugfs directory already removed
 *
 * No reader is left once the directory is gone, and no ioctl: userspace
 * has closed the device before it is unregistered.
 */
void vfio_mig_history_exit(struct vfio_device *vdev)
{
	if (vdev->mig_history)
		kfree(vdev->mig_history->ring);
	kfree(vdev->mig_history);
	vdev->mig_history = NULL;
}
