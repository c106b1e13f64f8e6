// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO debugfs, migration/history: the last events of a device with
 * migration support, kept by the core so that they can be read while a
 * driver is stuck, and after a failed migration: each migration state
 * change userspace asked for (SET) with the arcs its driver took, the
 * first open and last close of the device, VFIO_DEVICE_RESET, and the
 * errors drivers report on the migration data fd.
 *
 * A SET is recorded in three steps: vfio_mig_history_begin() before the
 * core calls into the driver, vfio_mig_history_arc() each time the driver
 * asks vfio_mig_get_next_state() for its next arc (under the driver's own
 * state lock, so the arc's start is the driver's exact state), and
 * vfio_mig_history_end() with what the driver and the ioctl returned. A
 * reset takes the first and last step; the other events one. None of
 * them calls into the driver or takes a driver lock; the history's
 * spinlock is held only to copy a few fields.
 */

#include <linux/debugfs.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/time.h>
#include <linux/timekeeping.h>
#include <linux/vfio.h>

#include "vfio.h"

/* Records kept per device; documented in debugfs-vfio-history. */
#define VFIO_MIG_HISTORY_LEN	32
/*
 * Arcs kept per SET: the longest path through the core's FSM is 4 arcs
 * (RESUMING to PRE_COPY: STOP, RUNNING_P2P, RUNNING, PRE_COPY). A driver
 * that takes more shows ">..." after the first 4.
 */
#define VFIO_MIG_ARCS_MAX	4

/* Flags of a record */
#define VFIO_MIG_DONE		BIT(0)	/* its end is recorded */
#define VFIO_MIG_UNASKED	BIT(1)	/* the driver was not where the last SET left it */
#define VFIO_MIG_EXITING	BIT(2)	/* a close by the opener, as it exited */
#define VFIO_MIG_RELEASED	BIT(3)	/* a close by another process than the opener */

/* One event; the order packs it into 96 bytes. */
struct vfio_mig_record {
	u64 seq;		/* 1 for the device's first event */
	u64 wall_ns;		/* CLOCK_REALTIME at the start */
	u64 start_ns;		/* ktime_get_ns() at the start */
	u64 duration_ns;	/* once done */
	u32 arc_us[VFIO_MIG_ARCS_MAX];	/* when each arc began, from the start */
	int driver;		/* what the driver returned, 0 or -errno */
	int result;		/* what the ioctl returned, 0 or -errno */
	int exit_code;		/* a close while exiting: the task's exit_code */
	pid_t tgid;
	pid_t pid;
	u8 event;		/* enum vfio_mig_event */
	u8 flags;
	u8 to;			/* as userspace asked, U8_MAX - 1 if larger */
	u8 left;		/* where a SET left the device */
	u8 arcs;		/* arcs the driver started, up to U8_MAX */
	/* path[0]: the state the first arc left; path[i]: where arc i led */
	u8 path[VFIO_MIG_ARCS_MAX + 1];
	char comm[TASK_COMM_LEN];
};

/* The memory figure in debugfs-vfio-history: 32 records, a 4 KiB slab object. */
static_assert(sizeof(struct vfio_mig_record) == 96);

static const char * const vfio_mig_event_names[] = {
	[VFIO_MIG_EVENT_SET] = "set",
	[VFIO_MIG_EVENT_OPEN] = "open",
	[VFIO_MIG_EVENT_CLOSE] = "close",
	[VFIO_MIG_EVENT_RESET] = "reset",
	[VFIO_MIG_EVENT_READ] = "read",
	[VFIO_MIG_EVENT_WRITE] = "write",
};

static struct vfio_mig_record *
vfio_mig_history_slot(struct vfio_mig_record *ring, u64 seq)
{
	BUILD_BUG_ON(!is_power_of_2(VFIO_MIG_HISTORY_LEN));
	return &ring[(seq - 1) & (VFIO_MIG_HISTORY_LEN - 1)];
}

/* CLOCK_REALTIME at @now, a ktime_get_ns(): one clock read per event. */
static u64 vfio_mig_wall(u64 now)
{
	return ktime_to_ns(ktime_mono_to_real(ns_to_ktime(now)));
}

/*
 * A new record for @event, starting now, by the current task; NULL when the
 * device has no ring. Called with the history's lock held, and the clock
 * read under it, so that the records' order is that of their times.
 */
static struct vfio_mig_record *
vfio_mig_record_new(struct vfio_mig_history *h, enum vfio_mig_event event)
{
	struct vfio_mig_record *r;
	u64 now;

	lockdep_assert_held(&h->lock);
	if (!h->ring)
		return NULL;
	now = ktime_get_ns();
	r = vfio_mig_history_slot(h->ring, ++h->count);
	memset(r, 0, sizeof(*r));
	r->seq = h->count;
	r->event = event;
	r->start_ns = now;
	r->wall_ns = vfio_mig_wall(now);
	r->to = VFIO_MIG_NO_STATE;
	r->left = VFIO_MIG_NO_STATE;
	r->tgid = task_tgid_nr(current);
	r->pid = task_pid_nr(current);
	/*
	 * As tracepoints do: no task_lock() for a name that is only shown;
	 * a concurrent rename gives a mix of the old and new names.
	 */
	memcpy(r->comm, current->comm, TASK_COMM_LEN);
	return r;
}

/*
 * How the process that opened the device let go of it: it closed it, or it
 * was exiting, with its exit code. When the last reference went with
 * another process (a child, a process the fd was passed to, a kernel
 * thread), the opener's end is not known.
 */
static void vfio_mig_close_how(struct vfio_mig_history *h,
			       struct vfio_mig_record *r)
{
	if (task_tgid_nr(current) != h->opener) {
		r->flags |= VFIO_MIG_RELEASED;
	} else if (current->flags & PF_EXITING) {
		r->flags |= VFIO_MIG_EXITING;
		r->exit_code = current->exit_code;
	}
}

/* Records an event that ends as it starts; it failed if @err. */
static void vfio_mig_history_event(struct vfio_device *vdev,
				   enum vfio_mig_event event, int err)
{
	struct vfio_mig_history *h = &vdev->mig_history;
	struct vfio_mig_record *r;

	spin_lock(&h->lock);
	r = vfio_mig_record_new(h, event);
	if (r) {
		r->driver = err;
		r->result = err;
		r->flags = VFIO_MIG_DONE;
		if (event == VFIO_MIG_EVENT_OPEN)
			h->opener = task_tgid_nr(current);
		if (event == VFIO_MIG_EVENT_CLOSE)
			vfio_mig_close_how(h, r);
		if (err)
			h->failures++;
		/* A driver puts the device where it sees fit on open and close. */
		if (event != VFIO_MIG_EVENT_READ && event != VFIO_MIG_EVENT_WRITE)
			h->expected = VFIO_MIG_NO_STATE;
	}
	spin_unlock(&h->lock);
}

/**
 * vfio_mig_history_init - initialise the migration history of a device
 * @vdev: the device, before anyone can reach it
 */
void vfio_mig_history_init(struct vfio_device *vdev)
{
	struct vfio_mig_history *h = &vdev->mig_history;

	spin_lock_init(&h->lock);
	INIT_LIST_HEAD(&h->requests);
	h->expected = VFIO_MIG_NO_STATE;
}

/**
 * vfio_mig_history_open - record the first open of a device
 * @vdev: the device, its first open done
 *
 * The device's first open also gives it its ring (a 4 KiB slab object),
 * accounted to the process that opened it: a device that is never opened needs none. Called
 * with the device set's lock held, so never twice at once. Without memory
 * for the ring, the device keeps no history.
 */
void vfio_mig_history_open(struct vfio_device *vdev)
{
	struct vfio_mig_history *h = &vdev->mig_history;
	struct vfio_mig_record *ring;

	if (!vdev->mig_ops)
		return;
	if (!h->ring) {
		ring = kcalloc(VFIO_MIG_HISTORY_LEN, sizeof(*ring),
			       GFP_KERNEL_ACCOUNT);
		if (!ring)
			return;
		spin_lock(&h->lock);
		h->ring = ring;
		spin_unlock(&h->lock);
	}
	vfio_mig_history_event(vdev, VFIO_MIG_EVENT_OPEN, 0);
}

/**
 * vfio_mig_history_close - record the last close of a device
 * @vdev: the device, its last close done
 *
 * Records how the process let go: it closed the device, or it was exiting
 * (with which exit code, or killed by which signal).
 */
void vfio_mig_history_close(struct vfio_device *vdev)
{
	if (vdev->mig_ops)
		vfio_mig_history_event(vdev, VFIO_MIG_EVENT_CLOSE, 0);
}

/* Answers a data fd gives in the normal course of a migration. */
static bool vfio_mig_data_err_normal(bool write, int err)
{
	switch (err) {
	case -ENOMSG:		/* a read: the end of the pre-copy data, for now */
		return !write;
	case -EAGAIN:
	case -EINTR:
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return true;
	}
	return false;
}

/**
 * vfio_mig_data_error - record a failed read or write on a migration data fd
 * @vdev: the device the data fd belongs to
 * @write: true for a write (RESUMING), false for a read
 * @err: what the driver returns to userspace
 *
 * For drivers, from their data fd's read and write handlers: a stream that
 * the destination rejects is seen on the data fd, which the core never
 * sees. Errors that are part of a migration's normal course (-ENOMSG from
 * a read at the end of the pre-copy data, -EAGAIN, a signal) are not
 * failures and are not recorded. Takes no lock but the history's; a no-op without
 * CONFIG_VFIO_DEBUGFS.
 *
 * Context: the data fd outlives the device's close, and the vfio_device
 * may be gone after it: call this only where the fd is known to be still
 * enabled, under the lock with which the driver disables its data fds in
 * close_device(), as mtty and migdev do.
 */
void vfio_mig_data_error(struct vfio_device *vdev, bool write, int err)
{
	if (vdev->mig_ops && err < 0 && !vfio_mig_data_err_normal(write, err))
		vfio_mig_history_event(vdev, write ? VFIO_MIG_EVENT_WRITE :
					     VFIO_MIG_EVENT_READ, err);
}
EXPORT_SYMBOL_GPL(vfio_mig_data_error);

/**
 * vfio_mig_history_begin - record a SET or a reset as it starts
 * @vdev: the device
 * @req: the caller's handle for it, until vfio_mig_history_end()
 * @event: VFIO_MIG_EVENT_SET or VFIO_MIG_EVENT_RESET
 * @to: for a SET, the state userspace asked for, whatever its value
 *
 * Called before any call into the driver. Without a ring, @req records
 * nothing, and its start_ns is 0.
 */
void vfio_mig_history_begin(struct vfio_device *vdev,
			    struct vfio_mig_request *req,
			    enum vfio_mig_event event, u32 to)
{
	struct vfio_mig_history *h = &vdev->mig_history;
	struct vfio_mig_record *r;

	req->start_ns = 0;
	req->seq = 0;
	req->event = event;
	req->from = VFIO_MIG_NO_STATE;
	req->arcs = 0;
	if (!vdev->mig_ops)
		return;

	spin_lock(&h->lock);
	r = vfio_mig_record_new(h, event);
	if (r) {
		if (event == VFIO_MIG_EVENT_SET)
			r->to = min_t(u32, to, VFIO_MIG_NO_STATE - 1);
		req->start_ns = r->start_ns;
		req->seq = r->seq;
		req->task = current;
		list_add_tail(&req->node, &h->requests);
		h->changes++;
	}
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
 *
 * Return: the seq of the SET's record, 0 for none.
 */
u64 vfio_mig_history_arc(struct vfio_device *vdev,
			 enum vfio_device_mig_state cur,
			 enum vfio_device_mig_state next)
{
	struct vfio_mig_history *h = &vdev->mig_history;
	struct vfio_mig_request *req;
	struct vfio_mig_record *r;
	u64 seq = 0, us;
	bool unasked;

	spin_lock(&h->lock);
	list_for_each_entry(req, &h->requests, node) {
		if (req->task != current)
			continue;
		seq = req->seq;
		/*
		 * Where the history last saw the device go, the driver should
		 * be: unless another SET is under way, and may have moved it.
		 */
		unasked = !req->arcs && h->expected != VFIO_MIG_NO_STATE &&
			  h->expected != cur && list_is_singular(&h->requests);
		if (!req->arcs)
			req->from = cur;
		r = vfio_mig_history_slot(h->ring, req->seq);
		/* The record, unless newer events took its slot meanwhile. */
		if (r->seq == req->seq) {
			if (unasked)
				r->flags |= VFIO_MIG_UNASKED;
			if (!req->arcs)
				r->path[0] = cur;
			if (req->arcs < VFIO_MIG_ARCS_MAX) {
				r->path[req->arcs + 1] = next;
				us = div_u64(ktime_get_ns() - r->start_ns,
					     NSEC_PER_USEC);
				r->arc_us[req->arcs] = min_t(u64, us, U32_MAX);
			}
		}
		if (req->arcs < U8_MAX)
			req->arcs++;
		if (r->seq == req->seq)
			r->arcs = req->arcs;
		h->expected = next;
		break;
	}
	/* Any arc moves the device, in a SET or not. */
	h->changes++;
	spin_unlock(&h->lock);
	return seq;
}

/**
 * vfio_mig_history_end - record the end of a SET or a reset
 * @vdev: the device
 * @req: as vfio_mig_history_begin() filled it
 * @driver: what the driver returned, 0 or -errno
 * @result: what the ioctl returns to userspace, 0 or -errno
 *
 * A record that fell off the ring while it ran is not written again; a
 * failure is still counted. A SET the driver failed leaves the device in a
 * state of the driver's choosing: the caller may then ask the driver and
 * give the answer to vfio_mig_history_left().
 *
 * Return: true when that answer is wanted: a recorded SET failed by its
 * driver, with no other SET or reset under way on the device.
 */
bool vfio_mig_history_end(struct vfio_device *vdev,
			  struct vfio_mig_request *req, int driver, int result)
{
	struct vfio_mig_history *h = &vdev->mig_history;
	struct vfio_mig_record *r;
	bool ask = false;
	u64 now;

	if (!req->seq)
		return false;

	spin_lock(&h->lock);
	now = ktime_get_ns();
	list_del(&req->node);
	r = vfio_mig_history_slot(h->ring, req->seq);
	if (r->seq == req->seq) {
		r->duration_ns = now - r->start_ns;
		r->driver = driver;
		r->result = result;
		/* The driver made it: the device is where it was asked to go. */
		if (!driver)
			r->left = r->to;
		r->flags |= VFIO_MIG_DONE;
	}
	if (result)
		h->failures++;
	/*
	 * Each arc moved where the device is expected. The arc a driver
	 * failed did not: where the device is then is unknown, until the
	 * driver says. A reset puts the device where its driver sees fit.
	 */
	if (req->event != VFIO_MIG_EVENT_SET || driver)
		h->expected = VFIO_MIG_NO_STATE;
	if (req->event == VFIO_MIG_EVENT_SET && driver &&
	    list_empty(&h->requests)) {
		req->changes = h->changes;
		ask = true;
	}
	spin_unlock(&h->lock);
	return ask;
}

/**
 * vfio_mig_history_left - record where a failed SET left the device
 * @vdev: the device
 * @req: as vfio_mig_history_end() left it, which returned true
 * @state: what the driver's migration_get_state() answered since
 *
 * Kept only when nothing could have moved the device in between: no SET
 * or reset began, and no arc was taken, since the SET ended.
 */
void vfio_mig_history_left(struct vfio_device *vdev,
			   struct vfio_mig_request *req,
			   enum vfio_device_mig_state state)
{
	struct vfio_mig_history *h = &vdev->mig_history;
	struct vfio_mig_record *r;

	spin_lock(&h->lock);
	if (h->changes == req->changes && state < VFIO_MIG_NO_STATE) {
		h->expected = state;
		/* Its record, unless newer events took its slot meanwhile. */
		r = vfio_mig_history_slot(h->ring, req->seq);
		if (r->seq == req->seq)
			r->left = state;
	}
	spin_unlock(&h->lock);
}

/* "STOP>STOP_COPY" and "0>35": where each arc led, and when it began. */
static void vfio_mig_arcs_show(struct seq_file *s,
			       const struct vfio_mig_record *r)
{
	char arcs[80] = "none", us[64] = "-";
	size_t len = 0, us_len = 0;
	int i;

	for (i = 1; i <= min_t(int, r->arcs, VFIO_MIG_ARCS_MAX); i++) {
		len += scnprintf(arcs + len, sizeof(arcs) - len, "%s%s",
				 i > 1 ? ">" : "",
				 vfio_mig_state_name(r->path[i]));
		us_len += scnprintf(us + us_len, sizeof(us) - us_len, "%s%u",
				    i > 1 ? ">" : "", r->arc_us[i - 1]);
	}
	if (r->arcs > VFIO_MIG_ARCS_MAX) {
		scnprintf(arcs + len, sizeof(arcs) - len, ">...");
		scnprintf(us + us_len, sizeof(us) - us_len, ">...");
	}
	seq_printf(s, " %-27s %-19s", arcs, us);
}

/* @wall_ns as QEMU's -msg timestamp=on writes it: 2026-12-07T01:23:45.678901Z */
static const char *vfio_mig_time_str(char text[32], u64 wall_ns)
{
	u32 ns;
	struct tm tm;

	time64_to_tm(div_u64_rem(wall_ns, NSEC_PER_SEC, &ns), 0, &tm);
	snprintf(text, 32, "%04ld-%02d-%02dT%02d:%02d:%02d.%06uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ns / (u32)NSEC_PER_USEC);
	return text;
}

/* A state, or "-" for none. */
static const char *vfio_mig_state_or_none(u8 state)
{
	return state == VFIO_MIG_NO_STATE ? "-" : vfio_mig_state_name(state);
}

/* A return as the history prints it: 0, -EIO(-5), or running. */
static const char *vfio_mig_errno_str(char text[32],
				      const struct vfio_mig_record *r, int err)
{
	if (!(r->flags & VFIO_MIG_DONE))
		return "running";
	if (!err)
		return "0";
	/* A driver's ioctl may return anything: only errnos by name. */
	if (err < 0 && err >= -MAX_ERRNO)
		snprintf(text, 32, "%pe(%d)", ERR_PTR(err), err);
	else
		snprintf(text, 32, "%d", err);
	return text;
}

/* "unasked" on a SET; on a close, how the opener let go. */
static void vfio_mig_detail_show(struct seq_file *s,
				 const struct vfio_mig_record *r)
{
	char detail[16] = "-";

	if (r->flags & VFIO_MIG_UNASKED)
		strscpy(detail, "unasked", sizeof(detail));
	else if (r->flags & VFIO_MIG_RELEASED)
		strscpy(detail, "released", sizeof(detail));
	else if (r->event == VFIO_MIG_EVENT_CLOSE &&
		 !(r->flags & VFIO_MIG_EXITING))
		strscpy(detail, "close", sizeof(detail));
	else if (r->event == VFIO_MIG_EVENT_CLOSE && (r->exit_code & 0x7f))
		snprintf(detail, sizeof(detail), "signal:%d",
			 r->exit_code & 0x7f);
	else if (r->event == VFIO_MIG_EVENT_CLOSE)
		snprintf(detail, sizeof(detail), "exit:%d",
			 (r->exit_code >> 8) & 0xff);
	seq_printf(s, " %-11s", detail);
}

/*
 * One line per record, in the format debugfs-vfio-history documents; a
 * SET or reset still running shows how long it has run so far.
 */
static void vfio_mig_record_show(struct seq_file *s,
				 const struct vfio_mig_record *r, u64 now)
{
	u64 duration = r->flags & VFIO_MIG_DONE ? r->duration_ns :
						  now - r->start_ns;
	char time[32], result[32], driver[32];

	seq_printf(s, "%6llu %s %-5s", r->seq,
		   vfio_mig_time_str(time, r->wall_ns),
		   vfio_mig_event_names[r->event]);
	seq_printf(s, " %-18s %-18s %-12s %-12s %-12s",
		   vfio_mig_errno_str(result, r, r->result),
		   vfio_mig_errno_str(driver, r, r->driver),
		   r->arcs ? vfio_mig_state_name(r->path[0]) : "-",
		   vfio_mig_state_or_none(r->to),
		   vfio_mig_state_or_none(r->left));
	vfio_mig_arcs_show(s, r);
	seq_printf(s, " %11llu", div_u64(duration, NSEC_PER_USEC));
	vfio_mig_detail_show(s, r);
	seq_printf(s, " %7d %7d ", r->tgid, r->pid);
	/* A task may name itself anything: keep it one awk field. */
	if (r->comm[0])
		seq_escape(s, r->comm, " \t\n\\");
	else
		seq_putc(s, '-');
	seq_putc(s, '\n');
}

#define VFIO_MIG_HISTORY_COLUMNS \
	"#  seq time                        event result             driver             from         to           left         arcs                        arc_us              duration_us detail          pid     tid comm\n"

static int vfio_mig_history_show(struct seq_file *s, void *unused)
{
	struct vfio_device *vdev = s->private;
	struct vfio_mig_history *h = &vdev->mig_history;
	struct vfio_mig_record *ring;
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
	/* Under the lock: nothing running started after it. */
	now = ktime_get_ns();
	spin_unlock(&h->lock);

	first = count > VFIO_MIG_HISTORY_LEN ?
		count - VFIO_MIG_HISTORY_LEN + 1 : 1;
	seq_printf(s, "# records %llu failures %llu shown %llu\n",
		   count, failures, count - first + 1);
	seq_puts(s, VFIO_MIG_HISTORY_COLUMNS);
	for (seq = first; seq <= count; seq++)
		vfio_mig_record_show(s, vfio_mig_history_slot(ring, seq), now);
	kfree(ring);
	return 0;
}

/* A full ring prints about 7.5 KiB: one buffer, so one show and one snapshot. */
#define VFIO_MIG_HISTORY_BUF	16384

static int vfio_mig_history_open_file(struct inode *inode, struct file *file)
{
	return single_open_size(file, vfio_mig_history_show, inode->i_private,
				VFIO_MIG_HISTORY_BUF);
}

static const struct file_operations vfio_mig_history_fops = {
	.owner = THIS_MODULE,
	.open = vfio_mig_history_open_file,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

/**
 * vfio_mig_history_create - show the migration history of a device
 * @vdev: the device, registered or about to be
 * @mig_dir: its migration/ directory in debugfs
 *
 * Creates migration/history. Like the rest of debugfs this never fails.
 */
void vfio_mig_history_create(struct vfio_device *vdev, struct dentry *mig_dir)
{
	debugfs_create_file("history", 0444, mig_dir, vdev,
			    &vfio_mig_history_fops);
}

/*
 * The failed SETs still in the ring, at most this many, go to the kernel
 * log when the device goes away.
 */
#define VFIO_MIG_HISTORY_LOGGED	4

/**
 * vfio_mig_history_report - log the failed SETs of a device going away
 * @vdev: the device, being unregistered, userspace gone from it
 *
 * Its history goes with it; so that a failed migration leaves a trace, its
 * last failed SETs go to the kernel log, once, with their wall-clock times.
 */
void vfio_mig_history_report(struct vfio_device *vdev)
{
	struct vfio_mig_record failed[VFIO_MIG_HISTORY_LOGGED], *r;
	struct vfio_mig_history *h = &vdev->mig_history;
	char time[32], result[32], driver[32];
	u64 count, seq, first;
	int n = 0, i;

	/* A copy, oldest last, so that printing happens outside the lock. */
	spin_lock(&h->lock);
	count = h->count;
	first = count > VFIO_MIG_HISTORY_LEN ?
		count - VFIO_MIG_HISTORY_LEN + 1 : 1;
	for (seq = count; h->ring && seq >= first &&
	     n < VFIO_MIG_HISTORY_LOGGED; seq--) {
		r = vfio_mig_history_slot(h->ring, seq);
		if (r->event == VFIO_MIG_EVENT_SET &&
		    (r->flags & VFIO_MIG_DONE) && r->result)
			failed[n++] = *r;
	}
	spin_unlock(&h->lock);

	for (i = n - 1; i >= 0; i--) {
		r = &failed[i];
		dev_info(vdev->dev,
			 "vfio: migration history: seq %llu %s set to %s: %s, driver %s, left %s, pid %d %*pE\n",
			 r->seq, vfio_mig_time_str(time, r->wall_ns),
			 vfio_mig_state_or_none(r->to),
			 vfio_mig_errno_str(result, r, r->result),
			 vfio_mig_errno_str(driver, r, r->driver),
			 vfio_mig_state_or_none(r->left), r->tgid,
			 (int)strnlen(r->comm, TASK_COMM_LEN), r->comm);
	}
}

/**
 * vfio_mig_history_free - free the migration history of a device
 * @vdev: the device, no event left
 *
 * No reader is left once the debugfs directory is gone: debugfs waits for
 * those inside a file operation. The caller makes sure that no event is.
 */
void vfio_mig_history_free(struct vfio_device *vdev)
{
	struct vfio_mig_history *h = &vdev->mig_history;
	struct vfio_mig_record *ring;

	spin_lock(&h->lock);
	ring = h->ring;
	h->ring = NULL;
	spin_unlock(&h->lock);
	kfree(ring);
}
