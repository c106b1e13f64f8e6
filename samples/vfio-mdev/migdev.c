// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: a mediated device that supports VFIO live migration (protocol v2),
 * to test and show migration tooling such as VFIO debugfs.
 *
 * Each device is a PCI function as QEMU's vfio-pci expects one: an emulated
 * config space, and BAR0, which holds region_size bytes of memory that
 * userspace reads and writes through the device fd. Migration carries that
 * memory from a source device to a destination device: STOP_COPY produces a
 * stream (a header, then the memory), RESUMING takes one. Files in
 * migration/migdev/ of the device's VFIO debugfs directory inject faults and
 * count calls (unless fault_injection=0, as when measuring what the core
 * costs): fail_next makes the next request for a given state fail,
 * error_next makes it fail into ERROR, stall_next makes it take a given
 * time, hold_lock holds the state lock for a while outside any request,
 * reset resets the device behind the core's back, and get_state_calls
 * counts the core's calls of migration_get_state().
 *
 * A failed arc leaves the device where it was. After a bad stream that is
 * RESUMING, and every way out of RESUMING loads the stream again: only a
 * reset (VFIO_DEVICE_RESET) or closing the device starts it afresh.
 *
 *	echo $(uuidgen) > /sys/class/mdev_bus/migdev/mdev_supported_types/migdev-basic/create
 */

#include <linux/anon_inodes.h>
#include <linux/crc32.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/pci_ids.h>
#include <linux/pci_regs.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/vfio.h>
#include <linux/vmalloc.h>
#include <linux/unaligned.h>

#define MIGDEV_NAME		"migdev"
#define MIGDEV_MAX_DEVICES	4096
#define MIGDEV_REGION_MAX	SZ_4M
/*
 * The smallest BAR0. A memory BAR takes at least 16 bytes (its low 4 bits
 * are flags); the PCI spec recommends 4 KiB, a page, which also keeps QEMU
 * away from its handling of BARs smaller than a page.
 */
#define MIGDEV_BAR_MIN		SZ_4K
#define MIGDEV_OFFSET_SHIFT	40
#define MIGDEV_OFFSET_MASK	((1ULL << MIGDEV_OFFSET_SHIFT) - 1)
#define MIGDEV_STREAM_MAGIC	0x6d696764	/* "migd" */
#define MIGDEV_STREAM_VERSION	1
#define MIGDEV_STALL_MAX_MS	60000

/*
 * PCI IDs. 1af4:10f0-10ff is the range that QEMU's docs/specs/pci-ids.rst
 * keeps "for experimental usage without registration", which is what a
 * test device is: no guest driver binds to it, nor to class ff (a device
 * that fits no class). Before the sample goes upstream it needs an ID of
 * its own from that document's keeper, as mdpy got 1b36:000f. The
 * subsystem is the one mdpy and mbochs use too.
 */
#define MIGDEV_PCI_VENDOR_ID	PCI_VENDOR_ID_REDHAT_QUMRANET
#define MIGDEV_PCI_DEVICE_ID	0x10f0
#define MIGDEV_PCI_REVISION	0x01

static unsigned int region_size = SZ_16K;
module_param(region_size, uint, 0444);
MODULE_PARM_DESC(region_size,
		 "Bytes of BAR0 memory per device, 1 to 4 MiB (default 16 KiB); BAR0 is that rounded up to a power of two, at least 4 KiB, and reads as zero past them");

/* Bytes of BAR0: region_size rounded up to a power of two, as PCI needs. */
static unsigned int bar_size;

static bool fault_injection = true;
module_param(fault_injection, bool, 0444);
MODULE_PARM_DESC(fault_injection,
		 "Add fault injection and call counting to each device's debugfs (default on)");

/*
 * The migration stream: this header, then @length bytes of BAR0. @crc is
 * the CRC-32 (as zlib computes it) of those bytes; @reserved is zero. All
 * fields little endian.
 */
struct migdev_stream_header {
	__le32 magic;
	__le32 version;
	__le64 length;
	__le32 crc;
	__le32 reserved;
};

/* One end of a migration: the stream being saved, or being resumed. */
struct migdev_file {
	struct file *filp;
	struct vfio_device *vdev;	/* whose data fd it is, while enabled */
	struct mutex lock;	/* protects the fields below */
	bool disabled;		/* the device left the state that used it */
	bool overflow;		/* userspace wrote past @size */
	u8 *buf;
	size_t size;		/* bytes allocated in @buf */
	size_t len;		/* bytes of @buf that hold the stream */
};

/*
 * A fault to inject into the next request for @state: a failure with errno
 * @value, or a stall of @value milliseconds. @value 0 means none.
 */
struct migdev_fault {
	spinlock_t lock;	/* protects @state and @value */
	enum vfio_device_mig_state state;
	unsigned int value;
	unsigned int max;
};

struct migdev_state {
	struct vfio_device vdev;
	struct mutex state_mutex;	/* protects the fields below */
	enum vfio_device_mig_state mig_state;
	u8 *region;
	struct migdev_file *saving;
	struct migdev_file *resuming;

	unsigned long get_state_calls;

	/*
	 * Config space does not depend on the migration state. It has an
	 * allocation of its own: embedded, it made this struct exactly 1024
	 * bytes, and the pointer CONFIG_VFIO_DEBUGFS adds to struct
	 * vfio_device pushed it into the next kmalloc size.
	 */
	struct mutex config_lock;	/* protects @config */
	u8 *config;			/* PCI_CFG_SPACE_SIZE bytes */

	struct migdev_fault fail;
	struct migdev_fault stall;
	struct migdev_fault error;
};

static const struct class migdev_class = {
	.name = MIGDEV_NAME,
};

static struct device *migdev_parent_dev;
static struct mdev_parent migdev_parent;

static struct migdev_state *to_migdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct migdev_state, vdev);
}

static const char * const migdev_state_names[] = {
	[VFIO_DEVICE_STATE_ERROR]	= "ERROR",
	[VFIO_DEVICE_STATE_STOP]	= "STOP",
	[VFIO_DEVICE_STATE_RUNNING]	= "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY]	= "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING]	= "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P]	= "RUNNING_P2P",
};

static int migdev_file_release(struct inode *inode, struct file *filp)
{
	struct migdev_file *mf = filp->private_data;

	kvfree(mf->buf);
	mutex_destroy(&mf->lock);
	kfree(mf);
	return 0;
}

static ssize_t migdev_save_read(struct file *filp, char __user *buf,
				size_t len, loff_t *pos)
{
	struct migdev_file *mf = filp->private_data;
	ssize_t ret;

	if (pos)
		return -ESPIPE;

	mutex_lock(&mf->lock);
	if (mf->disabled) {
		ret = -ENODEV;
	} else {
		ret = simple_read_from_buffer(buf, len, &filp->f_pos,
					      mf->buf, mf->len);
		if (ret < 0)
			vfio_mig_data_error(mf->vdev, false, ret);
	}
	mutex_unlock(&mf->lock);
	return ret;
}

/*
 * The data fds are streams, so the VFS does not serialise callers on the
 * file position: several threads may write one fd at once. The position
 * is therefore read, checked and moved only under mf->lock.
 */
static ssize_t migdev_resume_write(struct file *filp, const char __user *buf,
				   size_t len, loff_t *pos)
{
	struct migdev_file *mf = filp->private_data;
	size_t off;
	ssize_t ret;

	if (pos)
		return -ESPIPE;

	mutex_lock(&mf->lock);
	off = filp->f_pos;
	if (mf->disabled) {
		ret = -ENODEV;
	} else if (mf->overflow || off > mf->size || len > mf->size - off) {
		/* Remembered, so that leaving RESUMING fails too. */
		mf->overflow = true;
		ret = -EFBIG;
	} else if (copy_from_user(mf->buf + off, buf, len)) {
		ret = -EFAULT;
	} else {
		filp->f_pos = off + len;
		mf->len = max(mf->len, off + len);
		ret = len;
	}
	/* For the core's history: a stream the device rejects as it comes. */
	if (ret < 0 && !mf->disabled)
		vfio_mig_data_error(mf->vdev, true, ret);
	mutex_unlock(&mf->lock);
	return ret;
}

static const struct file_operations migdev_save_fops = {
	.owner = THIS_MODULE,
	.read = migdev_save_read,
	.release = migdev_file_release,
};

static const struct file_operations migdev_resume_fops = {
	.owner = THIS_MODULE,
	.write = migdev_resume_write,
	.release = migdev_file_release,
};

static struct migdev_file *migdev_file_create(struct migdev_state *md,
					      const struct file_operations *fops,
					      size_t size)
{
	struct migdev_file *mf;

	mf = kzalloc_obj(*mf, GFP_KERNEL_ACCOUNT);
	if (!mf)
		return ERR_PTR(-ENOMEM);

	mf->buf = kvzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!mf->buf)
		goto err_free;
	mf->size = size;
	mf->vdev = &md->vdev;
	mutex_init(&mf->lock);

	mf->filp = anon_inode_getfile("migdev_mig", fops, mf,
				      fops->read ? O_RDONLY : O_WRONLY);
	if (IS_ERR(mf->filp)) {
		int ret = PTR_ERR(mf->filp);

		mutex_destroy(&mf->lock);
		kvfree(mf->buf);
		kfree(mf);
		return ERR_PTR(ret);
	}
	stream_open(mf->filp->f_inode, mf->filp);
	return mf;

err_free:
	kfree(mf);
	return ERR_PTR(-ENOMEM);
}

/*
 * The device leaves the state that uses @mf: from now on the file only
 * returns errors, and the device drops its reference to it.
 */
static void migdev_file_disable(struct migdev_file *mf)
{
	mutex_lock(&mf->lock);
	mf->disabled = true;
	mutex_unlock(&mf->lock);
	fput(mf->filp);
}

static void migdev_disable_files(struct migdev_state *md)
{
	if (md->saving) {
		migdev_file_disable(md->saving);
		md->saving = NULL;
	}
	if (md->resuming) {
		migdev_file_disable(md->resuming);
		md->resuming = NULL;
	}
}

/* STOP -> STOP_COPY: take a snapshot of BAR0 as a complete stream. */
static struct file *migdev_save(struct migdev_state *md)
{
	struct migdev_stream_header *hdr;
	struct migdev_file *mf;

	mf = migdev_file_create(md, &migdev_save_fops,
				sizeof(*hdr) + region_size);
	if (IS_ERR(mf))
		return ERR_CAST(mf);

	hdr = (struct migdev_stream_header *)mf->buf;
	hdr->magic = cpu_to_le32(MIGDEV_STREAM_MAGIC);
	hdr->version = cpu_to_le32(MIGDEV_STREAM_VERSION);
	hdr->length = cpu_to_le64(region_size);
	hdr->crc = cpu_to_le32(~crc32_le(~0, md->region, region_size));
	memcpy(hdr + 1, md->region, region_size);
	mf->len = mf->size;

	get_file(mf->filp);
	md->saving = mf;
	return mf->filp;
}

/* STOP -> RESUMING: a file that takes at most one stream for this device. */
static struct file *migdev_resume(struct migdev_state *md)
{
	struct migdev_file *mf;

	mf = migdev_file_create(md, &migdev_resume_fops,
				sizeof(struct migdev_stream_header) + region_size);
	if (IS_ERR(mf))
		return ERR_CAST(mf);

	get_file(mf->filp);
	md->resuming = mf;
	return mf->filp;
}

/* RESUMING -> STOP: check the stream userspace wrote, then load it. */
static int migdev_load(struct migdev_state *md, struct migdev_file *mf)
{
	const struct migdev_stream_header *hdr = (void *)mf->buf;
	const u8 *data = (const u8 *)(hdr + 1);
	int ret = 0;

	mutex_lock(&mf->lock);
	if (mf->overflow)
		ret = -EFBIG;
	else if (mf->len < sizeof(*hdr))
		ret = -ENODATA;
	else if (le32_to_cpu(hdr->magic) != MIGDEV_STREAM_MAGIC)
		ret = -EBADMSG;
	else if (le32_to_cpu(hdr->version) != MIGDEV_STREAM_VERSION ||
		 hdr->reserved)
		ret = -EPROTONOSUPPORT;
	else if (le64_to_cpu(hdr->length) != region_size)
		ret = -EMSGSIZE;
	else if (mf->len < sizeof(*hdr) + region_size)
		ret = -ENODATA;
	else if (le32_to_cpu(hdr->crc) != ~crc32_le(~0, data, region_size))
		ret = -EBADMSG;
	else
		memcpy(md->region, data, region_size);
	mutex_unlock(&mf->lock);
	return ret;
}

/*
 * Take one arc of the migration state machine, as vfio_mig_get_next_state()
 * chose it. The device does no DMA and no peer to peer, so the arcs between
 * RUNNING, RUNNING_P2P and STOP have nothing to do.
 */
static struct file *migdev_step(struct migdev_state *md,
				enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = md->mig_state;
	int ret;

	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     next == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     next == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_STOP &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P))
		return NULL;

	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_STOP_COPY)
		return migdev_save(md);

	if (cur == VFIO_DEVICE_STATE_STOP_COPY && next == VFIO_DEVICE_STATE_STOP) {
		migdev_disable_files(md);
		return NULL;
	}

	if (cur == VFIO_DEVICE_STATE_STOP && next == VFIO_DEVICE_STATE_RESUMING)
		return migdev_resume(md);

	/* A bad stream keeps the device in RESUMING, its data fd open. */
	if (cur == VFIO_DEVICE_STATE_RESUMING && next == VFIO_DEVICE_STATE_STOP) {
		ret = migdev_load(md, md->resuming);
		if (ret)
			return ERR_PTR(ret);
		migdev_disable_files(md);
		return NULL;
	}

	/* vfio_mig_get_next_state() only returns the arcs above. */
	WARN_ON_ONCE(1);
	return ERR_PTR(-EINVAL);
}

/*
 * Sleeps @ms on the clock the VFIO core's history reads (a jiffies sleep
 * measured 6% short on it under TCG), so that a stall lasts what the
 * tests see; a fatal signal, such as that of a QEMU being killed, ends it.
 */
static void migdev_sleep(unsigned int ms)
{
	ktime_t end = ktime_add_ms(ktime_get(), ms);

	while (!fatal_signal_pending(current) && ktime_before(ktime_get(), end)) {
		set_current_state(TASK_KILLABLE);
		schedule_hrtimeout(&end, HRTIMER_MODE_ABS);
	}
	__set_current_state(TASK_RUNNING);
}

/* Returns the fault's value if it is set for @state, and clears it. */
static unsigned int migdev_fault_take(struct migdev_fault *f,
				      enum vfio_device_mig_state state)
{
	unsigned int value = 0;

	spin_lock(&f->lock);
	if (f->value && f->state == state) {
		value = f->value;
		f->value = 0;
	}
	spin_unlock(&f->lock);
	return value;
}

/*
 * A failed arc leaves the device in the state it was in before that arc,
 * as mlx5 and mtty do: userspace can then retry, go elsewhere or reset.
 * ERROR is for a device that can reach no valid state, and this one always
 * can, so it never enters it.
 */
static struct file *migdev_set_state(struct vfio_device *vdev,
				     enum vfio_device_mig_state new_state)
{
	struct migdev_state *md = to_migdev(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	unsigned int fault;
	int ret;

	mutex_lock(&md->state_mutex);

	/* Only a reset or close leaves ERROR: the FSM has no arc from it. */
	if (md->mig_state == VFIO_DEVICE_STATE_ERROR) {
		res = ERR_PTR(-EINVAL);
		goto out_unlock;
	}

	fault = migdev_fault_take(&md->stall, new_state);
	if (fault)
		migdev_sleep(fault);

	fault = migdev_fault_take(&md->fail, new_state);
	if (fault) {
		res = ERR_PTR(-(long)fault);
		goto out_unlock;
	}

	/* A device that can reach no valid state any more, as ERROR is. */
	fault = migdev_fault_take(&md->error, new_state);
	if (fault) {
		migdev_disable_files(md);
		md->mig_state = VFIO_DEVICE_STATE_ERROR;
		res = ERR_PTR(-(long)fault);
		goto out_unlock;
	}

	while (md->mig_state != new_state) {
		ret = vfio_mig_get_next_state(vdev, md->mig_state, new_state,
					      &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = migdev_step(md, next);
		if (IS_ERR(res))
			break;
		md->mig_state = next;
		/* Only the last arc may return a data file. */
		if (WARN_ON(res && next != new_state)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
out_unlock:
	mutex_unlock(&md->state_mutex);
	return res;
}

static int migdev_get_state(struct vfio_device *vdev,
			    enum vfio_device_mig_state *curr_state)
{
	struct migdev_state *md = to_migdev(vdev);

	mutex_lock(&md->state_mutex);
	*curr_state = md->mig_state;
	md->get_state_calls++;
	mutex_unlock(&md->state_mutex);
	return 0;
}

/* In any state: the size of the stream STOP_COPY produces. */
static int migdev_get_data_size(struct vfio_device *vdev,
				unsigned long *stop_copy_length)
{
	*stop_copy_length = sizeof(struct migdev_stream_header) + region_size;
	return 0;
}

static const struct vfio_migration_ops migdev_mig_ops = {
	.migration_set_state = migdev_set_state,
	.migration_get_state = migdev_get_state,
	.migration_get_data_size = migdev_get_data_size,
};

/*
 * The PCI function that QEMU's vfio-pci sees: the nine region indexes of
 * a PCI device (BAR0, config space, BARs 1-5 and the ROM with size 0, no
 * VGA) and its five interrupt indexes (INTx, MSI, MSI-X and request with
 * no interrupt, no error reporting), answered as vfio-pci answers for a
 * conventional PCI device without VGA.
 *
 * What a driver for real hardware, or a vfio-pci variant driver such as
 * mlx5's, does instead:
 *  - Config space comes from the device (pci_user_read_config_*()), with
 *    vfio-pci-core virtualizing only what the user may not touch: BARs,
 *    ROM, capabilities such as MSI-X. Its capabilities (power management,
 *    MSI/MSI-X, PCI Express, FLR) are real.
 *  - BARs are MMIO that the user mmap()s (VFIO_REGION_INFO_FLAG_MMAP), and
 *    accesses while memory decoding is off in PCI_COMMAND fail; here BAR0
 *    works through the fd whatever PCI_COMMAND says.
 *  - Interrupts are signalled through eventfds set with
 *    VFIO_DEVICE_SET_IRQS (INTx, MSI, MSI-X, error and request).
 *  - Reset is an FLR, and may come from the PCI core while the state
 *    mutex is held: mlx5 then defers it to whoever drops the mutex.
 *  - Migration offers PRE_COPY, so that most state moves while the guest
 *    still runs, and the stop-copy size is the device's estimate. A device
 *    that does DMA tracks the pages it dirties (vdev->log_ops), unless the
 *    IOMMU does; without either, QEMU migrates it only with
 *    enable-migration=on. migdev does no DMA.
 */

/* Config space as a reset leaves it: memory decoding off, BAR0 at 0. */
static void migdev_config_reset(struct migdev_state *md)
{
	u8 *cfg = md->config;

	mutex_lock(&md->config_lock);
	memset(cfg, 0, PCI_CFG_SPACE_SIZE);
	put_unaligned_le16(MIGDEV_PCI_VENDOR_ID, cfg + PCI_VENDOR_ID);
	put_unaligned_le16(MIGDEV_PCI_DEVICE_ID, cfg + PCI_DEVICE_ID);
	cfg[PCI_REVISION_ID] = MIGDEV_PCI_REVISION;
	put_unaligned_le16(PCI_CLASS_OTHERS << 8, cfg + PCI_CLASS_DEVICE);
	cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	/*
	 * BAR0 is 32-bit, non-prefetchable memory: flag bits 0. Status 0: no
	 * capabilities, so no capability pointer. Interrupt pin 0: no INTx.
	 */
	put_unaligned_le16(PCI_SUBVENDOR_ID_REDHAT_QUMRANET,
			   cfg + PCI_SUBSYSTEM_VENDOR_ID);
	put_unaligned_le16(PCI_SUBDEVICE_ID_QEMU, cfg + PCI_SUBSYSTEM_ID);
	mutex_unlock(&md->config_lock);
}

/*
 * The bits of config byte @off that writes change: memory decoding, the
 * address bits of BAR0 (so that writing all ones reads back its size) and
 * the interrupt line, which is the OS's scratch byte. The rest is read
 * only: the other BARs and the ROM register read 0, so there are none.
 */
static u8 migdev_config_wmask(unsigned int off)
{
	u32 bar0 = ~(bar_size - 1) & PCI_BASE_ADDRESS_MEM_MASK;

	switch (off) {
	case PCI_COMMAND:
		return PCI_COMMAND_MEMORY;
	case PCI_BASE_ADDRESS_0 ... PCI_BASE_ADDRESS_0 + 3:
		return bar0 >> (8 * (off - PCI_BASE_ADDRESS_0));
	case PCI_INTERRUPT_LINE:
		return 0xff;
	}
	return 0;
}

/*
 * Config space is the device's, not the migration's: it works in every
 * migration state (QEMU writes PCI_COMMAND to a device in RESUMING). QEMU
 * itself never overlaps a config access with a SET (it makes both under
 * its big lock), but another user of the fd may, so config has a lock of
 * its own rather than the state mutex, which a stuck transition may hold.
 * Migration does not carry it: QEMU saves its own copy of config space and
 * writes it back on the destination. A reset, or the last close, puts it
 * back as at power-on. An access that does not fit in config space fails
 * whole, with EFAULT, as vfio-pci's does.
 */
static ssize_t migdev_config_rw(struct migdev_state *md, char __user *ubuf,
				size_t count, u64 off, bool write)
{
	u8 buf[PCI_CFG_SPACE_SIZE], mask;
	size_t i;

	if (off >= PCI_CFG_SPACE_SIZE || count > PCI_CFG_SPACE_SIZE - off)
		return -EFAULT;
	if (write && copy_from_user(buf, ubuf, count))
		return -EFAULT;

	mutex_lock(&md->config_lock);
	for (i = 0; i < count; i++) {
		if (!write) {
			buf[i] = md->config[off + i];
			continue;
		}
		mask = migdev_config_wmask(off + i);
		md->config[off + i] &= ~mask;
		md->config[off + i] |= buf[i] & mask;
	}
	mutex_unlock(&md->config_lock);

	if (!write && copy_to_user(ubuf, buf, count))
		return -EFAULT;
	return count;
}

/*
 * BAR0: region_size bytes of memory, then zeroes up to bar_size. Writes
 * there are dropped, and so only the memory migrates. Writes fail with
 * EBUSY while the device is stopped: a stopped device keeps its state.
 */
static ssize_t migdev_bar0_rw(struct migdev_state *md, char __user *ubuf,
			      size_t count, u64 off, bool write)
{
	size_t mem = 0;
	ssize_t ret = 0;

	if (off >= bar_size)
		return -EINVAL;
	count = min_t(size_t, count, bar_size - off);
	if (off < region_size)
		mem = min_t(size_t, count, region_size - off);

	mutex_lock(&md->state_mutex);
	if (write && md->mig_state != VFIO_DEVICE_STATE_RUNNING &&
	    md->mig_state != VFIO_DEVICE_STATE_RUNNING_P2P)
		ret = -EBUSY;
	else if (write && mem && copy_from_user(md->region + off, ubuf, mem))
		ret = -EFAULT;
	else if (!write && mem && copy_to_user(ubuf, md->region + off, mem))
		ret = -EFAULT;
	else if (!write && clear_user(ubuf + mem, count - mem))
		ret = -EFAULT;
	mutex_unlock(&md->state_mutex);

	return ret ? ret : count;
}

static ssize_t migdev_rw(struct migdev_state *md, char __user *ubuf,
			 size_t count, loff_t *ppos, bool write)
{
	u64 index = *ppos >> MIGDEV_OFFSET_SHIFT;
	u64 off = *ppos & MIGDEV_OFFSET_MASK;
	ssize_t ret;

	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		ret = migdev_bar0_rw(md, ubuf, count, off, write);
		break;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		ret = migdev_config_rw(md, ubuf, count, off, write);
		break;
	default:
		ret = -EINVAL;
	}

	if (ret > 0)
		*ppos += ret;
	return ret;
}

static ssize_t migdev_read(struct vfio_device *vdev, char __user *buf,
			   size_t count, loff_t *ppos)
{
	return migdev_rw(to_migdev(vdev), buf, count, ppos, false);
}

static ssize_t migdev_write(struct vfio_device *vdev, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	return migdev_rw(to_migdev(vdev), (char __user *)buf, count, ppos,
			 true);
}

/*
 * A reset returns the device to RUNNING with BAR0 cleared and config space
 * as at power-on. Unlike mlx5, which must defer a reset that arrives from
 * the PCI core while its state mutex is held, this device is reset only
 * through VFIO_DEVICE_RESET, which holds no other lock, so it simply waits
 * for the state mutex.
 */
static int migdev_reset(struct migdev_state *md)
{
	mutex_lock(&md->state_mutex);
	migdev_disable_files(md);
	md->mig_state = VFIO_DEVICE_STATE_RUNNING;
	memset(md->region, 0, region_size);
	mutex_unlock(&md->state_mutex);
	migdev_config_reset(md);
	return 0;
}

static long migdev_get_info(void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static int migdev_get_region_info(struct vfio_device *vdev,
				  struct vfio_region_info *info,
				  struct vfio_info_cap *caps)
{
	/* As vfio-pci answers for a device without VGA. */
	if (info->index >= VFIO_PCI_NUM_REGIONS ||
	    info->index == VFIO_PCI_VGA_REGION_INDEX)
		return -EINVAL;

	info->offset = (u64)info->index << MIGDEV_OFFSET_SHIFT;
	switch (info->index) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		info->size = bar_size;
		break;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info->size = PCI_CFG_SPACE_SIZE;
		break;
	default:
		info->size = 0;
	}
	info->flags = info->size ? VFIO_REGION_INFO_FLAG_READ |
				   VFIO_REGION_INFO_FLAG_WRITE : 0;
	return 0;
}

/*
 * Every PCI interrupt index but ERR is there, each with no interrupt; ERR
 * is -EINVAL, as vfio-pci answers for a device that is not PCIe.
 */
static long migdev_get_irq_info(void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS ||
	    info.index == VFIO_PCI_ERR_IRQ_INDEX)
		return -EINVAL;
	info.flags = 0;
	info.count = 0;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long migdev_ioctl(struct vfio_device *vdev, unsigned int cmd,
			 unsigned long arg)
{
	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return migdev_get_info((void __user *)arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return migdev_get_irq_info((void __user *)arg);
	case VFIO_DEVICE_RESET:
		return migdev_reset(to_migdev(vdev));
	}
	return -ENOTTY;
}

/*
 * The last fd on the device is closed: end any migration in progress, and
 * put config space back as at power-on, so that the next user finds what
 * vfio-pci's would after its reset on release. Unlike a real reset, BAR0
 * keeps its memory (the tests read it back after a close). There is no
 * .request op: removing the device waits for its user to close it, as
 * with mtty.
 */
static void migdev_close_device(struct vfio_device *vdev)
{
	struct migdev_state *md = to_migdev(vdev);

	mutex_lock(&md->state_mutex);
	migdev_disable_files(md);
	md->mig_state = VFIO_DEVICE_STATE_RUNNING;
	mutex_unlock(&md->state_mutex);
	migdev_config_reset(md);
}

/*
 * Fault injection, through three files in migration/migdev/ of the device's
 * VFIO debugfs directory. Each takes "<STATE> <value>", or "none", and
 * reads back the same way:
 *   fail_next   the next request for STATE fails with errno value before
 *               any arc is taken; the device stays where it was
 *   error_next  the same, but the device is left in ERROR, which only
 *               a reset or close leaves
 *   stall_next  the next request for STATE first sleeps value ms,
 *               holding the state mutex, like a driver that is stuck
 * Errnos stop at 511: from 512 (ERESTARTSYS) up they are the kernel's
 * own, which must not reach userspace from an ioctl.
 */
#define MIGDEV_ERRNO_MAX	511

static int migdev_fault_show(struct seq_file *s, void *unused)
{
	struct migdev_fault *f = s->private;

	spin_lock(&f->lock);
	if (f->value)
		seq_printf(s, "%s %u\n", migdev_state_names[f->state],
			   f->value);
	else
		seq_puts(s, "none\n");
	spin_unlock(&f->lock);
	return 0;
}

static int migdev_fault_open(struct inode *inode, struct file *file)
{
	return single_open(file, migdev_fault_show, inode->i_private);
}

static ssize_t migdev_fault_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	struct migdev_fault *f = ((struct seq_file *)file->private_data)->private;
	char buf[32], *arg, *name;
	unsigned int value;
	int state;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	arg = strim(buf);

	if (!strcmp(arg, "none")) {
		state = VFIO_DEVICE_STATE_STOP;
		value = 0;
	} else {
		name = strsep(&arg, " ");
		if (!arg)
			return -EINVAL;
		state = match_string(migdev_state_names,
				     ARRAY_SIZE(migdev_state_names), name);
		/* Userspace can never ask for ERROR, so it cannot be a target. */
		if (state <= VFIO_DEVICE_STATE_ERROR)
			return -EINVAL;
		if (kstrtouint(skip_spaces(arg), 10, &value) || !value ||
		    value > f->max)
			return -EINVAL;
	}

	spin_lock(&f->lock);
	f->state = state;
	f->value = value;
	spin_unlock(&f->lock);
	return len;
}

/*
 * hold_lock: writing a number of ms holds the state mutex that long in the
 * writer, like a driver that holds its lock across firmware work while
 * nothing is asked of it. Reading it says whether the mutex is held now.
 */
static ssize_t migdev_hold_lock_read(struct file *file, char __user *ubuf,
				     size_t len, loff_t *ppos)
{
	struct migdev_state *md = file->private_data;
	char buf[2] = { mutex_is_locked(&md->state_mutex) ? '1' : '0', '\n' };

	return simple_read_from_buffer(ubuf, len, ppos, buf, sizeof(buf));
}

static ssize_t migdev_hold_lock_write(struct file *file,
				      const char __user *ubuf, size_t len,
				      loff_t *ppos)
{
	struct migdev_state *md = file->private_data;
	unsigned int ms;
	int ret;

	ret = kstrtouint_from_user(ubuf, len, 10, &ms);
	if (ret)
		return ret;
	if (!ms || ms > MIGDEV_STALL_MAX_MS)
		return -EINVAL;

	mutex_lock(&md->state_mutex);
	migdev_sleep(ms);
	mutex_unlock(&md->state_mutex);
	return len;
}

static const struct file_operations migdev_hold_lock_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = migdev_hold_lock_read,
	.write = migdev_hold_lock_write,
};

/*
 * A reset that the VFIO core does not see, as a function-level reset
 * through sysfs would be on a PCI device: the next SET finds the device
 * where nobody asked it to go.
 */
static ssize_t migdev_reset_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	struct migdev_state *md = file->private_data;
	bool reset;
	int ret;

	ret = kstrtobool_from_user(ubuf, len, &reset);
	if (ret)
		return ret;
	if (reset)
		migdev_reset(md);
	return len;
}

static const struct file_operations migdev_reset_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = migdev_reset_write,
};

static const struct file_operations migdev_fault_fops = {
	.owner = THIS_MODULE,
	.open = migdev_fault_open,
	.read = seq_read,
	.write = migdev_fault_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * The files live in migration/migdev/, under the directory the VFIO core
 * made for the device (the subdirectory per driver is mainline's
 * convention), and the core removes them with it when the device is
 * unregistered. Without CONFIG_VFIO_DEBUGFS, debug_root is NULL and a
 * file made under it would land at the top of debugfs.
 */
static void migdev_debugfs_init(struct migdev_state *md)
{
	struct dentry *mig_dir, *dir;

	if (!IS_ENABLED(CONFIG_VFIO_DEBUGFS) || !fault_injection)
		return;

	mig_dir = debugfs_lookup("migration", md->vdev.debug_root);
	if (!mig_dir)
		return;
	dir = debugfs_create_dir(MIGDEV_NAME, mig_dir);
	debugfs_create_file("fail_next", 0644, dir, &md->fail,
			    &migdev_fault_fops);
	debugfs_create_file("error_next", 0644, dir, &md->error,
			    &migdev_fault_fops);
	debugfs_create_file("stall_next", 0644, dir, &md->stall,
			    &migdev_fault_fops);
	debugfs_create_file("hold_lock", 0600, dir, md,
			    &migdev_hold_lock_fops);
	debugfs_create_ulong("get_state_calls", 0444, dir,
			     &md->get_state_calls);
	debugfs_create_file("reset", 0200, dir, md, &migdev_reset_fops);
	dput(mig_dir);
}

static void migdev_fault_init(struct migdev_fault *f, unsigned int max)
{
	spin_lock_init(&f->lock);
	f->max = max;
}

static int migdev_init_dev(struct vfio_device *vdev)
{
	struct migdev_state *md = to_migdev(vdev);

	md->region = vzalloc(region_size);
	if (!md->region)
		return -ENOMEM;
	md->config = kzalloc(PCI_CFG_SPACE_SIZE, GFP_KERNEL);
	if (!md->config) {
		vfree(md->region);
		return -ENOMEM;
	}

	mutex_init(&md->state_mutex);
	md->mig_state = VFIO_DEVICE_STATE_RUNNING;
	mutex_init(&md->config_lock);
	migdev_config_reset(md);
	migdev_fault_init(&md->fail, MIGDEV_ERRNO_MAX);
	migdev_fault_init(&md->error, MIGDEV_ERRNO_MAX);
	migdev_fault_init(&md->stall, MIGDEV_STALL_MAX_MS);

	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
	vdev->mig_ops = &migdev_mig_ops;
	return 0;
}

static void migdev_release_dev(struct vfio_device *vdev)
{
	struct migdev_state *md = to_migdev(vdev);

	mutex_destroy(&md->config_lock);
	mutex_destroy(&md->state_mutex);
	kfree(md->config);
	vfree(md->region);
}

static const struct vfio_device_ops migdev_dev_ops = {
	.name = MIGDEV_NAME,
	.init = migdev_init_dev,
	.release = migdev_release_dev,
	.close_device = migdev_close_device,
	.read = migdev_read,
	.write = migdev_write,
	.ioctl = migdev_ioctl,
	.get_region_info_caps = migdev_get_region_info,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

static int migdev_probe(struct mdev_device *mdev)
{
	struct migdev_state *md;
	int ret;

	md = vfio_alloc_device(migdev_state, vdev, &mdev->dev, &migdev_dev_ops);
	if (IS_ERR(md))
		return PTR_ERR(md);

	ret = vfio_register_emulated_iommu_dev(&md->vdev);
	if (ret) {
		vfio_put_device(&md->vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, md);
	migdev_debugfs_init(md);
	return 0;
}

static void migdev_remove(struct mdev_device *mdev)
{
	struct migdev_state *md = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&md->vdev);
	vfio_put_device(&md->vdev);
}

static struct mdev_type migdev_type = {
	.sysfs_name = "basic",
	.pretty_name = "migdev with a BAR0 of region_size bytes",
};

static struct mdev_type *migdev_types[] = {
	&migdev_type,
};

static struct mdev_driver migdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.max_instances = MIGDEV_MAX_DEVICES,
	.driver = {
		.name = MIGDEV_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = migdev_probe,
	.remove = migdev_remove,
};

static int __init migdev_init(void)
{
	int ret;

	if (!region_size || region_size > MIGDEV_REGION_MAX)
		return -EINVAL;
	bar_size = roundup_pow_of_two(max_t(unsigned int, region_size,
					    MIGDEV_BAR_MIN));

	ret = mdev_register_driver(&migdev_driver);
	if (ret)
		return ret;

	ret = class_register(&migdev_class);
	if (ret)
		goto err_driver;

	migdev_parent_dev = device_create(&migdev_class, NULL, MKDEV(0, 0), NULL,
					  MIGDEV_NAME);
	if (IS_ERR(migdev_parent_dev)) {
		ret = PTR_ERR(migdev_parent_dev);
		goto err_class;
	}

	ret = mdev_register_parent(&migdev_parent, migdev_parent_dev,
				   &migdev_driver, migdev_types,
				   ARRAY_SIZE(migdev_types));
	if (ret)
		goto err_device;
	return 0;

err_device:
	device_unregister(migdev_parent_dev);
err_class:
	class_unregister(&migdev_class);
err_driver:
	mdev_unregister_driver(&migdev_driver);
	return ret;
}

static void __exit migdev_exit(void)
{
	/* Removes every device, waiting for their users to let go. */
	mdev_unregister_parent(&migdev_parent);
	device_unregister(migdev_parent_dev);
	class_unregister(&migdev_class);
	mdev_unregister_driver(&migdev_driver);
}

module_init(migdev_init);
module_exit(migdev_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Mediated device sample with VFIO live migration");
