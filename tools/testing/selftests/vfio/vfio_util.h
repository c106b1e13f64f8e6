/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the VFIO selftests: mediated devices made through sysfs,
 * opened through the group/container API, and migrated the way QEMU does.
 * Functions that can fail return 0 or a negative errno.
 */
#ifndef VFIO_UTIL_H
#define VFIO_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vfio.h>

#define VFIO_DEBUGFS		"/sys/kernel/debug/vfio"
#define MIGDEV_TYPE		"/sys/class/mdev_bus/migdev/mdev_supported_types/migdev-basic"
#define MTTY_TYPE		"/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2"

/* migdev's fault injection, in <debugfs>/vfio/<uuid>/; see migdev.c. */
#define MIGDEV_FAIL_NEXT	"migration/migdev/fail_next"
#define MIGDEV_STALL_NEXT	"migration/migdev/stall_next"
#define MIGDEV_ERROR_NEXT	"migration/migdev/error_next"
#define MIGDEV_HOLD_LOCK	"migration/migdev/hold_lock"
#define MIGDEV_GET_STATE_CALLS	"migration/migdev/get_state_calls"
#define MIGDEV_RESET		"migration/migdev/reset"

struct vfio_dev {
	char uuid[37];
	int container;
	int group;
	int fd;
};

/* A migration stream as read from the source. */
struct mig_stream {
	uint8_t *data;
	size_t len;
};

/* The migdev stream header (samples/vfio-mdev/migdev.c), little endian. */
struct migdev_stream_header {
	uint32_t magic;
	uint32_t version;
	uint64_t length;
	uint32_t crc;
	uint32_t reserved;
};

/*
 * The stop-copy size, in the uAPI since Linux 6.2. 6.1's headers lack it;
 * migdev answers it all the same (see migdev.c).
 */
#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9

struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};
#endif

/* One step of a migration: @dev (0 source, 1 destination) goes to @state. */
struct mig_step {
	int dev;
	enum vfio_device_mig_state state;
};

/* The steps QEMU takes for a stop-and-copy migration with P2P. */
extern const struct mig_step qemu_migration[];
extern const size_t qemu_migration_len;

const char *mig_state_name(enum vfio_device_mig_state state);

int open_file(const char *path, int flags);
int read_file(const char *path, char *buf, size_t size);
int write_file(const char *path, const char *text);
int debugfs_read(const char *uuid, const char *file, char *buf, size_t size);
int debugfs_write(const char *uuid, const char *file, const char *text);
int debugfs_state(const char *uuid, char *name, size_t size);
int path_exists(const char *path);

int mdev_create(const char *type, char uuid[37]);
int mdev_remove(const char *uuid);

int vfio_dev_open(struct vfio_dev *dev, const char *uuid);
void vfio_dev_close(struct vfio_dev *dev);
int vfio_dev_create(struct vfio_dev *dev, const char *type);
void vfio_dev_destroy(struct vfio_dev *dev);

int vfio_mig_flags(int fd, uint64_t *flags);
int vfio_mig_get(int fd, enum vfio_device_mig_state *state);
int vfio_mig_set(int fd, enum vfio_device_mig_state state, int *data_fd);
int vfio_mig_step(struct vfio_dev *devs[2], const struct mig_step *step,
		  struct mig_stream *stream);
int vfio_migrate(struct vfio_dev *src, struct vfio_dev *dst,
		 struct mig_stream *stream);

int stream_read(int data_fd, struct mig_stream *stream);
int stream_write(int data_fd, const struct mig_stream *stream);

/* migration/history, as debugfs-vfio-history documents it. */
#define HISTORY_RING_LEN	32

/* One parsed record of history; its columns found by the header's names. */
struct transition {
	long long seq;
	char time[32];		/* 2026-12-07T01:23:45.678901Z */
	long long time_us;	/* the same, in microseconds since the epoch */
	char event[8];		/* set, open, close, reset, read, write */
	char result[32], driver[32];
	char from[16], to[16], left[16];
	char arcs[80], arc_us[64];
	long long duration_us;
	char detail[16];
	int pid, tid;
	char comm[16];
};

struct history {
	long long count, failures, shown;
	int lines;
	struct transition t[HISTORY_RING_LEN];
};

int history_read(const char *uuid, struct history *h);
void history_sets(const struct history *all, struct history *sets);
int history_read_sets(const char *uuid, struct history *h);

int bar0_fill(int fd, size_t size, unsigned int seed);
int bar0_read(int fd, void *buf, size_t size);
int bar0_size(int fd, size_t *size);

int vfio_get_region_info(int fd, uint32_t index,
			 struct vfio_region_info *info);
int vfio_config_read(int fd, unsigned int off, void *buf, size_t len);
int vfio_config_write(int fd, unsigned int off, const void *buf, size_t len);
int vfio_config_read32(int fd, unsigned int off, uint32_t *val);
int vfio_config_write32(int fd, unsigned int off, uint32_t val);
int vfio_mig_data_size(int fd, uint64_t *len);

int migdev_region_size(size_t *size);
size_t migdev_bar_size(size_t region_size);

/*
 * The modules of VFIO and of the samples, as indexes into vfio_kmods[],
 * each before the modules it uses. Masks of them are bits of these.
 */
enum {
	KMOD_MIGDEV,
	KMOD_MTTY,
	KMOD_MDEV,
	KMOD_VFIO_IOMMU_TYPE1,
	KMOD_VFIO,
	VFIO_KMODS
};

#define KMOD_BIT(i)		(1U << (i))
#define VFIO_KMODS_ALL		(KMOD_BIT(VFIO_KMODS) - 1)

extern const char * const vfio_kmods[VFIO_KMODS];

enum kmod_state {
	KMOD_ABSENT,		/* not loaded; perhaps loadable */
	KMOD_LOADED,		/* a loaded module */
	KMOD_BUILTIN,		/* built into the kernel */
};

enum kmod_state kmod_state(const char *name);
int kmod_load(const char *name, const char *params);
int kmod_unload(const char *name);

unsigned int vfio_kmods_loaded(void);
int vfio_kmods_prepare(unsigned int load, unsigned int unload, char *why,
		       size_t size);
int vfio_kmods_load(unsigned int mask);
int vfio_kmods_unload(unsigned int mask);
int vfio_kmods_restore(unsigned int loaded);

#endif /* VFIO_UTIL_H */
