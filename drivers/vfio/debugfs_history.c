// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO debugfs, migration/history: the last migration state changes that
 * userspace asked for, each with the arcs its driver took, kept by the core
 * so that they can be read while a driver is stuck in one, and after a
 * failed migration.
 *
 * A SET is recorded in three steps: vfio_mig_history_begin() before the
 * core calls into the driver, vfio_mig_history_arc() each time the driver
 * asks vfio_mig_get_next_state() for its next arc (under the driver's own
 * state lock, so the arc's start is the driver's exact state), and
 * vfio_mig_history_end() with what the ioctl returns. None of them calls
 * into the driver or takes a driver lock; the history's spinlock is held
 * only to copy a few fields.
 */

#include <linux/debugfs.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/vfio.h>

#include "vfio.h"

/* Transitions kept per device; documented in debugfs-vfio-history. */
#define VFIO_MIG_HISTORY_LEN	32
/*
 * Arcs kept per transition: the longest path through the core's FSM is 4
 * arcs (RESUMING to PRE_COPY: STOP, RUNNING_P2P, RUNNING, PRE_COPY). A
 * driver that takes more shows ">..." after the first 4.
 */
#define VFIO_MIG_ARCS_MAX	4

/* One VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE SET. */
struct vfio_mig_transition {
	u64 seq;		/* 1 for the device's first transition */
	u64 start_ns;		/* local_clock(), the printk clock */
	/*
	 * ktime_get_ns() at the start; once done, the duration. One field
	 * for both keeps a record at 64 bytes and the ring at 2 KiB.
	 */
	u64 mono_ns;
	int result;		/* what the ioctl returned, 0 or -errno */
	bool done;
	u8 to;			/* as userspace asked, U8_MAX if larger */
	u8 arcs;		/* arcs the driver started, up to U8_MAX */
	/* path[0]: the state the first arc left; path[i]: where arc i led */
	u8 path[VFIO_MIG_ARCS_MAX + 1];
	pid_t tgid;
	pid_t pid;
	char comm[TASK_COMM_LEN];
};

/*
 * A device's history. The ring comes with the device's first transition:
 * most devices never migrate, and need not carry it.
 */
struct vfio_mig_history {
	spinlock_t lock;	/* protects all below */
	u64 count;		/* transitions since registration */
	u64 failures;
	struct list_head requests;	/* SETs in progress */
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

/**
 * vfio_mig_history_begin - record a migration state change as it starts
 * @vdev: the device
 * @req: the caller's handle for the change, until vfio_mig_history_end()
 * @to: the state userspace asked for, whatever its value
 *
 * Called before any call into the driver. The device's first transition
 * allocates the ring (a later one, if there was no memory for it then).
 * Without a history, or memory for its ring, @req records nothing.
 */
void vfio_mig_history_begin(struct vfio_device *vdev,
			    struct vfio_mig_request *req, u32 to)
{
	/* Pairs with the release in vfio_mig_history_create(). */
	struct vfio_mig_history *h = smp_load_acquire(&vdev->mig_history);
	struct vfio_mig_transition *t;

	req->seq = 0;
	if (!h || (!READ_ONCE(h->ring) && !vfio_mig_history_alloc_ring(h)))
		return;

	req->task = current;
	spin_lock(&h->lock);
	req->seq = ++h->count;
	t = vfio_mig_history_slot(h->ring, req->seq);
	memset(t, 0, sizeof(*t));
	t->seq = req->seq;
	t->start_ns = local_clock();
	t->mono_ns = ktime_get_ns();
	t->to = min_t(u32, to, U8_MAX);
	t->tgid = task_tgid_nr(current);
	t->pid = task_pid_nr(current);
	/*
	 * As tracepoints do: no task_lock() for a name that is only shown;
	 * a concurrent rename gives a mix of the old and new names.
	 */
	memcpy(t->comm, current->comm, TASK_COMM_LEN);
	list_add_tail(&req->node, &h->requests);
	spin_unlock(&h->lock);
}

/**
 * vfio_mig_history_arc - record an arc the driver is about to take
 * @vdev: the device
 * @cur: the driver's state, under its state lock
 * @next: the state the arc leads to
 *
 * Called from vfio_mig_get_next_state(). The arc belongs to the SET that
 * the calling task has in progress on @vdev; a task has at most one, and a
 * driver takes its arcs in the task that asked. An arc outside any SET is
 * not recorded.
 */
void vfio_mig_history_arc(struct vfio_device *vdev,
			  enum vfio_device_mig_state cur,
			  enum vfio_device_mig_state next)
{
	/* Pairs with the release in vfio_mig_history_create(). */
	struct vfio_mig_history *h = smp_load_acquire(&vdev->mig_history);
	struct vfio_mig_transition *t;
	struct vfio_mig_request *req;

	if (!h)
		return;

	spin_lock(&h->lock);
	list_for_each_entry(req, &h->requests, node) {
		if (req->task != current)
			continue;
		t = vfio_mig_history_slot(h->ring, req->seq);
		/* Not when newer transitions took its slot meanwhile. */
		if (t->seq != req->seq)
			break;
		if (!t->arcs)
			t->path[0] = cur;
		if (t->arcs < VFIO_MIG_ARCS_MAX)
			t->path[t->arcs + 1] = next;
		if (t->arcs < U8_MAX)
			t->arcs++;
		break;
	}
	spin_unlock(&h->lock);
}

/**
 * vfio_mig_history_end - record the end of a migration state change
 * @vdev: the device
 * @req: as vfio_mig_history_begin() filled it
 * @result: what the ioctl returns to userspace, 0 or -errno
 *
 * A record that fell off the ring while the transition ran is not written
 * again; the failure is still counted.
 */
void vfio_mig_history_end(struct vfio_device *vdev,
			  struct vfio_mig_request *req, int result)
{
	struct vfio_mig_history *h = vdev->mig_history;
	struct vfio_mig_transition *t;

	if (!req->seq)
		return;

	spin_lock(&h->lock);
	list_del(&req->node);
	t = vfio_mig_history_slot(h->ring, req->seq);
	if (t->seq == req->seq) {
		t->mono_ns = ktime_get_ns() - t->mono_ns;
		t->result = result;
		t->done = true;
	}
	if (result)
		h->failures++;
	spin_unlock(&h->lock);
}

/* "STOP>STOP_COPY": where each arc led, "none" for a SET without one. */
static void vfio_mig_arcs_show(struct seq_file *s,
			       const struct vfio_mig_transition *t)
{
	char arcs[80] = "none";
	size_t len = 0;
	int i;

	for (i = 1; i <= min_t(int, t->arcs, VFIO_MIG_ARCS_MAX); i++)
		len += scnprintf(arcs + len, sizeof(arcs) - len, "%s%s",
				 i > 1 ? ">" : "",
				 vfio_mig_state_name(t->path[i]));
	if (t->arcs > VFIO_MIG_ARCS_MAX)
		scnprintf(arcs + len, sizeof(arcs) - len, ">...");
	seq_printf(s, " %-27s", arcs);
}

/*
 * One line per transition, in the format debugfs-vfio-history documents;
 * a transition still running shows how long it has run so far.
 */
static void vfio_mig_transition_show(struct seq_file *s,
				     const struct vfio_mig_transition *t,
				     u64 now)
{
	u64 duration = t->done ? t->mono_ns : now - t->mono_ns;
	char result[32] = "running";
	u32 start_ns;
	u64 start_s;

	if (t->done && t->result)
		snprintf(result, sizeof(result), "%pe(%d)", ERR_PTR(t->result),
			 t->result);
	else if (t->done)
		strscpy(result, "0", sizeof(result));
	start_s = div_u64_rem(t->start_ns, NSEC_PER_SEC, &start_ns);

	seq_printf(s, "%6llu %5llu.%06u %11llu %-18s %-12s %-12s",
		   t->seq, start_s, start_ns / (u32)NSEC_PER_USEC,
		   div_u64(duration, NSEC_PER_USEC), result,
		   t->arcs ? vfio_mig_state_name(t->path[0]) : "-",
		   vfio_mig_state_name(t->to));
	vfio_mig_arcs_show(s, t);
	seq_printf(s, " %7d %7d ", t->tgid, t->pid);
	/* A task may name itself anything: keep it one awk field. */
	seq_escape(s, t->comm, " \t\n\\");
	seq_putc(s, '\n');
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
	/* Under the lock: no running transition started after it. */
	now = ktime_get_ns();
	spin_unlock(&h->lock);

	first = count > VFIO_MIG_HISTORY_LEN ?
		count - VFIO_MIG_HISTORY_LEN + 1 : 1;
	seq_printf(s, "# transitions %llu failures %llu shown %llu\n",
		   count, failures, count - first + 1);
	seq_puts(s, "#  seq        start duration_us result             from         to           arcs                            pid     tid comm\n");
	for (seq = first; seq <= count; seq++)
		vfio_mig_transition_show(s, vfio_mig_history_slot(ring, seq),
					 now);
	kfree(ring);
	return 0;
}

/* A full ring prints about 5 KiB: one buffer, so one show and one snapshot. */
#define VFIO_MIG_HISTORY_BUF	8192

static int vfio_mig_history_open(struct inode *inode, struct file *file)
{
	return single_open_size(file, vfio_mig_history_show, inode->i_private,
				VFIO_MIG_HISTORY_BUF);
}

static const struct file_operations vfio_mig_history_fops = {
	.owner = THIS_MODULE,
	.open = vfio_mig_history_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

/**
 * vfio_mig_history_create - start keeping the migration history of a device
 * @vdev: the device, registered or about to be
 * @mig_dir: its migration/ directory in debugfs
 *
 * Creates migration/history. Like the rest of debugfs this never fails:
 * without debugfs, or without memory, the device keeps no history.
 */
void vfio_mig_history_create(struct vfio_device *vdev, struct dentry *mig_dir)
{
	struct vfio_mig_history *h;

	/* Nobody could read a history without debugfs. */
	if (IS_ERR(mig_dir) || WARN_ON(vdev->mig_history))
		return;
	h = kzalloc_obj(*h);
	if (!h)
		return;
	spin_lock_init(&h->lock);
	INIT_LIST_HEAD(&h->requests);
	/*
	 * Where the core creates the device's files after userspace can
	 * reach it, a SET may already be running: it records nothing, and
	 * the next one sees the history initialised.
	 */
	smp_store_release(&vdev->mig_history, h);
	debugfs_create_file("history", 0444, mig_dir, vdev,
			    &vfio_mig_history_fops);
}

/**
 * vfio_mig_history_free - free the migration history of a device
 * @vdev: the device, its debugfs directory removed and no SET left
 *
 * No reader is left once the directory is gone: debugfs waits for those
 * inside a file operation. The caller makes sure that no SET is: it calls
 * this once userspace has closed the device.
 */
void vfio_mig_history_free(struct vfio_device *vdev)
{
	if (vdev->mig_history)
		kfree(vdev->mig_history->ring);
	kfree(vdev->mig_history);
	vdev->mig_history = NULL;
}
