// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO debugfs: one directory per VFIO device under <debugfs>/vfio/, and for
 * devices that support live migration, the migration state as the driver
 * reports it, so that a failed migration can be looked at from the host.
 *
 * The files and their contents are the same as mainline's.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/vfio.h>

#include "vfio.h"

static struct dentry *vfio_debugfs_root;

static const char * const vfio_mig_state_names[] = {
	[VFIO_DEVICE_STATE_ERROR]	= "ERROR",
	[VFIO_DEVICE_STATE_STOP]	= "STOP",
	[VFIO_DEVICE_STATE_RUNNING]	= "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY]	= "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING]	= "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P]	= "RUNNING_P2P",
};

/**
 * vfio_mig_state_name - the name debugfs shows for a migration state
 * @state: the state, as a driver reported it or userspace asked for it
 *
 * A driver may report a value outside the uAPI enum; it is shown as
 * "Invalid" rather than trusted as an index.
 *
 * Return: the name, as in Documentation/ABI/testing/debugfs-vfio.
 */
const char *vfio_mig_state_name(enum vfio_device_mig_state state)
{
	if (state >= ARRAY_SIZE(vfio_mig_state_names) ||
	    !vfio_mig_state_names[state])
		return "Invalid";
	return vfio_mig_state_names[state];
}

static int vfio_device_state_show(struct seq_file *s, void *unused)
{
	struct vfio_device *vdev = s->private;
	enum vfio_device_mig_state state;

	if (vdev->mig_ops->migration_get_state(vdev, &state))
		return -EINVAL;

	seq_printf(s, "%s\n", vfio_mig_state_name(state));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vfio_device_state);

static int vfio_device_features_show(struct seq_file *s, void *unused)
{
	struct vfio_device *vdev = s->private;

	if (vdev->migration_flags & VFIO_MIGRATION_STOP_COPY)
		seq_puts(s, "stop-copy\n");
	if (vdev->migration_flags & VFIO_MIGRATION_P2P)
		seq_puts(s, "p2p\n");
	if (vdev->log_ops)
		seq_puts(s, "dirty-tracking\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vfio_device_features);

/**
 * vfio_device_debugfs_init - create the debugfs directory of a VFIO device
 * @vdev: the device, fully registered
 *
 * Creates <debugfs>/vfio/<dev_name(vdev->dev)>/ and, when the device
 * supports migration, its migration/ directory. Like every debugfs user,
 * this never fails: when debugfs is unavailable, @vdev->debug_root holds an
 * error pointer, which the debugfs_create_*() functions accept as a parent
 * and ignore.
 */
void vfio_device_debugfs_init(struct vfio_device *vdev)
{
	struct dentry *mig_dir;

	vdev->debug_root = debugfs_create_dir(dev_name(vdev->dev),
					      vfio_debugfs_root);
	if (!vdev->mig_ops)
		return;

	mig_dir = debugfs_create_dir("migration", vdev->debug_root);
	/*
	 * First: debugfs removes the newest files first (the dcache's
	 * order), each under the directory's lock, and waits there for a
	 * state read stuck in the driver; the history, removed last, still
	 * opens by its path meanwhile (listing the directory waits).
	 */
	vfio_mig_history_create(vdev, mig_dir);
	debugfs_create_file("state", 0444, mig_dir, vdev,
			    &vfio_device_state_fops);
	debugfs_create_file("features", 0444, mig_dir, vdev,
			    &vfio_device_features_fops);
}

/**
 * vfio_device_debugfs_exit - remove the debugfs directory of a VFIO device
 * @vdev: the device, about to be torn down
 *
 * Removes the directory with everything below it, the driver's own files
 * included. debugfs waits for readers that are inside a file operation, so
 * once this returns no file can reach @vdev; a file that is still open
 * returns -EIO from then on.
 */
void vfio_device_debugfs_exit(struct vfio_device *vdev)
{
	debugfs_remove_recursive(vdev->debug_root);
	vdev->debug_root = NULL;
}

void vfio_debugfs_create_root(void)
{
	vfio_debugfs_root = debugfs_create_dir("vfio", NULL);
}

void vfio_debugfs_remove_root(void)
{
	debugfs_remove_recursive(vfio_debugfs_root);
	vfio_debugfs_root = NULL;
}
