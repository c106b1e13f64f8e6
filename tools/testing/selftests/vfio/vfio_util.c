// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for the VFIO selftests; see vfio_util.h.
 */
#define _GNU_SOURCE	/* PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "../kselftest.h"
#include "vfio_util.h"

const struct mig_step qemu_migration[] = {
	{ 0, VFIO_DEVICE_STATE_RUNNING_P2P },
	{ 0, VFIO_DEVICE_STATE_STOP_COPY },
	{ 0, VFIO_DEVICE_STATE_STOP },
	{ 1, VFIO_DEVICE_STATE_STOP },
	{ 1, VFIO_DEVICE_STATE_RESUMING },
	{ 1, VFIO_DEVICE_STATE_STOP },
	{ 1, VFIO_DEVICE_STATE_RUNNING },
};

const size_t qemu_migration_len = ARRAY_SIZE(qemu_migration);

const char *mig_state_name(enum vfio_device_mig_state state)
{
	static const char * const names[] = {
		[VFIO_DEVICE_STATE_ERROR] = "ERROR",
		[VFIO_DEVICE_STATE_STOP] = "STOP",
		[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
		[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
		[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
		[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
#ifdef VFIO_MIGRATION_PRE_COPY
		[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
		[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
#endif
	};

	if ((unsigned int)state >= ARRAY_SIZE(names))
		return "Invalid";
	return names[state];
}

/*
 * delete_module() drops a module's last reference before it marks the
 * module as going. A debugfs file of that module opened in between finds
 * it live but with no reference left to take, and 6.1's debugfs WARNs
 * "debugfs file owner did not clean up at exit", where it fails such an
 * open with ENXIO a moment later; panic_on_warn turns that into a panic.
 * It is a race of the module loader and debugfs, not of VFIO. The files
 * of VFIO's core belong to vfio, which cannot be unloaded while a device
 * (and so a file) exists; the only module whose files the tests open
 * while they unload it is migdev, its migration/migdev/ files. So opens
 * of those wait for kmod_unload(), and kmod_unload() for them; every
 * other open still races module unloads and the device removals they
 * cause.
 */
static pthread_rwlock_t kmod_unload_lock =
	PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

int open_file(const char *path, int flags)
{
	bool module_file = strstr(path, "/migration/migdev/");
	int fd, err;

	if (module_file)
		pthread_rwlock_rdlock(&kmod_unload_lock);
	fd = open(path, flags);
	err = errno;
	if (module_file)
		pthread_rwlock_unlock(&kmod_unload_lock);
	return fd < 0 ? -err : fd;
}

/* Reads a whole file into @buf as a string; returns its length. */
int read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open_file(path, O_RDONLY);
	if (fd < 0)
		return fd;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	return len;
}

int write_file(const char *path, const char *text)
{
	ssize_t n;
	int fd;

	fd = open_file(path, O_WRONLY);
	if (fd < 0)
		return fd;
	n = write(fd, text, strlen(text));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : 0;
}

int debugfs_read(const char *uuid, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/%s", uuid, file);
	return read_file(path, buf, size);
}

int debugfs_write(const char *uuid, const char *file, const char *text)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/%s", uuid, file);
	return write_file(path, text);
}

/* The columns the history has had since v3; later ones are appended. */
enum history_column {
	COL_SEQ, COL_TIME, COL_EVENT, COL_RESULT, COL_DRIVER, COL_FROM, COL_TO,
	COL_LEFT, COL_ARCS, COL_ARC_US, COL_DURATION_US, COL_DETAIL, COL_PID,
	COL_TID, COL_COMM, COLUMNS
};

static const char * const history_column_names[COLUMNS] = {
	"seq", "time", "event", "result", "driver", "from", "to", "left",
	"arcs", "arc_us", "duration_us", "detail", "pid", "tid", "comm",
};

#define MAX_FIELDS	32

/* Splits @line at blanks into at most MAX_FIELDS fields; -1 if more. */
static int split_fields(char *line, char *field[MAX_FIELDS])
{
	char *save, *f;
	int n = 0;

	for (f = strtok_r(line, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
		if (n == MAX_FIELDS)
			return -1;
		field[n++] = f;
	}
	return n;
}

/* "2026-12-07T01:23:45.678901Z" in microseconds since the epoch; -1 if not. */
static long long parse_time_us(const char *text)
{
	struct tm tm = { 0 };
	char *end;
	long us;

	end = strptime(text, "%Y-%m-%dT%H:%M:%S.", &tm);
	if (!end || strlen(end) != 7 || end[6] != 'Z')
		return -1;
	us = strtol(end, &end, 10);
	if (*end != 'Z')
		return -1;
	return (long long)timegm(&tm) * 1000000 + us;
}

/* @src into @dst of @size bytes; -1 if it does not fit. */
static int copy_field(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

/* @text, all of it, as a decimal number; -1 if it is not one. */
static int parse_number(const char *text, long long *value)
{
	char *end;

	*value = strtoll(text, &end, 10);
	return end == text || *end ? -1 : 0;
}

/* One record from its fields, through the header's column indices. */
static int parse_record(char **field, const int *col, struct transition *t)
{
	long long pid, tid;

	if (parse_number(field[col[COL_SEQ]], &t->seq) ||
	    parse_number(field[col[COL_DURATION_US]], &t->duration_us) ||
	    parse_number(field[col[COL_PID]], &pid) ||
	    parse_number(field[col[COL_TID]], &tid))
		return -1;
	t->pid = pid;
	t->tid = tid;
	t->time_us = parse_time_us(field[col[COL_TIME]]);
	if (t->time_us < 0)
		return -1;
	return copy_field(t->time, sizeof(t->time), field[col[COL_TIME]]) ||
	       copy_field(t->event, sizeof(t->event), field[col[COL_EVENT]]) ||
	       copy_field(t->result, sizeof(t->result), field[col[COL_RESULT]]) ||
	       copy_field(t->driver, sizeof(t->driver), field[col[COL_DRIVER]]) ||
	       copy_field(t->from, sizeof(t->from), field[col[COL_FROM]]) ||
	       copy_field(t->to, sizeof(t->to), field[col[COL_TO]]) ||
	       copy_field(t->left, sizeof(t->left), field[col[COL_LEFT]]) ||
	       copy_field(t->arcs, sizeof(t->arcs), field[col[COL_ARCS]]) ||
	       copy_field(t->arc_us, sizeof(t->arc_us), field[col[COL_ARC_US]]) ||
	       copy_field(t->detail, sizeof(t->detail), field[col[COL_DETAIL]]) ||
	       copy_field(t->comm, sizeof(t->comm), field[col[COL_COMM]]) ? -1 : 0;
}

/*
 * Parses history as debugfs-vfio-history documents it, finding each column
 * by its name in the header and ignoring columns appended since; -EBADMSG
 * if it is not that.
 */
int history_read(const char *uuid, struct history *h)
{
	static __thread char buf[32768];
	char *line, *save, *field[MAX_FIELDS];
	int col[COLUMNS], n, names, i, c;

	memset(h, 0, sizeof(*h));
	n = debugfs_read(uuid, "migration/history", buf, sizeof(buf));
	if (n < 0)
		return n;
	line = strtok_r(buf, "\n", &save);
	if (!line || sscanf(line, "# records %lld failures %lld shown %lld",
			    &h->count, &h->failures, &h->shown) != 3)
		return -EBADMSG;
	line = strtok_r(NULL, "\n", &save);
	if (!line || line[0] != '#')
		return -EBADMSG;
	names = split_fields(line + 1, field);
	for (c = 0; c < COLUMNS; c++) {
		col[c] = -1;
		for (i = 0; i < names; i++)
			if (!strcmp(field[i], history_column_names[c]))
				col[c] = i;
		if (col[c] < 0)
			return -EBADMSG;
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (h->lines == HISTORY_RING_LEN ||
		    split_fields(line, field) != names ||
		    parse_record(field, col, &h->t[h->lines]))
			return -EBADMSG;
		h->lines++;
	}
	/* The header counts the lines that follow it. */
	return h->shown == h->lines ? 0 : -EBADMSG;
}

/*
 * The SET records of @all, in order: its count and failures those of the
 * SETs shown.
 */
void history_sets(const struct history *all, struct history *sets)
{
	int i;

	memset(sets, 0, sizeof(*sets));
	for (i = 0; i < all->lines; i++) {
		if (strcmp(all->t[i].event, "set"))
			continue;
		sets->t[sets->lines++] = all->t[i];
		if (strcmp(all->t[i].result, "0") &&
		    strcmp(all->t[i].result, "running"))
			sets->failures++;
	}
	sets->count = sets->lines;
	sets->shown = sets->lines;
}

/* history_read(), then history_sets(). */
int history_read_sets(const char *uuid, struct history *h)
{
	static __thread struct history all;
	int ret = history_read(uuid, &all);

	if (!ret)
		history_sets(&all, h);
	return ret;
}

/* migration/state of @uuid, without its newline, or -errno. */
int debugfs_state(const char *uuid, char *name, size_t size)
{
	int n = debugfs_read(uuid, "migration/state", name, size);

	if (n > 0 && name[n - 1] == '\n')
		name[n - 1] = '\0';
	return n < 0 ? n : 0;
}

int path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? 0 : -errno;
}

/* A fresh UUID for each device, unique within the run, thread safe. */
static void make_uuid(char uuid[37])
{
	static unsigned int seq;

	snprintf(uuid, 37, "%08x-0000-4000-8000-%012x", (unsigned int)getpid(),
		 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
}

int mdev_create(const char *type, char uuid[37])
{
	char path[PATH_MAX];

	make_uuid(uuid);
	snprintf(path, sizeof(path), "%s/create", type);
	return write_file(path, uuid);
}

int mdev_remove(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	return write_file(path, "1");
}

static int mdev_group(const char *uuid)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	return atoi(strrchr(link, '/') + 1);
}

/* Opens @uuid as QEMU does: container, group, then the device by name. */
int vfio_dev_open(struct vfio_dev *dev, const char *uuid)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX];
	int group, ret;

	snprintf(dev->uuid, sizeof(dev->uuid), "%s", uuid);
	dev->container = -1;
	dev->group = -1;
	dev->fd = -1;

	group = mdev_group(uuid);
	if (group < 0)
		return group;

	dev->container = open("/dev/vfio/vfio", O_RDWR);
	if (dev->container < 0)
		goto err;
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	dev->group = open(path, O_RDWR);
	if (dev->group < 0)
		goto err;
	if (ioctl(dev->group, VFIO_GROUP_GET_STATUS, &status))
		goto err;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		goto err;
	}
	if (ioctl(dev->group, VFIO_GROUP_SET_CONTAINER, &dev->container))
		goto err;
	if (ioctl(dev->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		goto err;
	dev->fd = ioctl(dev->group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (dev->fd < 0)
		goto err;
	return 0;

err:
	ret = -errno;
	vfio_dev_close(dev);
	return ret;
}

void vfio_dev_close(struct vfio_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group >= 0)
		close(dev->group);
	if (dev->container >= 0)
		close(dev->container);
	dev->container = -1;
	dev->group = -1;
	dev->fd = -1;
}

int vfio_dev_create(struct vfio_dev *dev, const char *type)
{
	char uuid[37];
	int ret;

	dev->container = -1;
	dev->group = -1;
	dev->fd = -1;
	dev->uuid[0] = '\0';
	ret = mdev_create(type, uuid);
	if (ret)
		return ret;
	ret = vfio_dev_open(dev, uuid);
	if (ret)
		mdev_remove(uuid);
	return ret;
}

void vfio_dev_destroy(struct vfio_dev *dev)
{
	vfio_dev_close(dev);
	if (dev->uuid[0])
		mdev_remove(dev->uuid);
	dev->uuid[0] = '\0';
}

int vfio_mig_flags(int fd, uint64_t *flags)
{
	struct {
		struct vfio_device_feature feature;
		struct vfio_device_feature_migration mig;
	} req = {
		.feature.argsz = sizeof(req),
		.feature.flags = VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_MIGRATION,
	};

	if (ioctl(fd, VFIO_DEVICE_FEATURE, &req))
		return -errno;
	*flags = req.mig.flags;
	return 0;
}

int vfio_mig_get(int fd, enum vfio_device_mig_state *state)
{
	struct {
		struct vfio_device_feature feature;
		struct vfio_device_feature_mig_state mig;
	} req = {
		.feature.argsz = sizeof(req),
		.feature.flags = VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
	};

	if (ioctl(fd, VFIO_DEVICE_FEATURE, &req))
		return -errno;
	*state = req.mig.device_state;
	return 0;
}

/* Sets the state; @data_fd gets the data transfer fd, or -1 if none. */
int vfio_mig_set(int fd, enum vfio_device_mig_state state, int *data_fd)
{
	struct {
		struct vfio_device_feature feature;
		struct vfio_device_feature_mig_state mig;
	} req = {
		.feature.argsz = sizeof(req),
		.feature.flags = VFIO_DEVICE_FEATURE_SET |
				 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		.mig.device_state = state,
	};

	*data_fd = -1;
	if (ioctl(fd, VFIO_DEVICE_FEATURE, &req))
		return -errno;
	*data_fd = req.mig.data_fd;
	return 0;
}

/*
 * Takes one step of a migration between devs[0] and devs[1]. Entering
 * STOP_COPY reads the stream to its end into @stream; entering RESUMING
 * writes @stream.
 */
int vfio_mig_step(struct vfio_dev *devs[2], const struct mig_step *step,
		  struct mig_stream *stream)
{
	int data_fd, ret;

	ret = vfio_mig_set(devs[step->dev]->fd, step->state, &data_fd);
	if (ret || data_fd < 0)
		return ret;
	if (step->state == VFIO_DEVICE_STATE_STOP_COPY)
		ret = stream_read(data_fd, stream);
	else if (step->state == VFIO_DEVICE_STATE_RESUMING)
		ret = stream_write(data_fd, stream);
	close(data_fd);
	return ret;
}

/*
 * A whole migration of @src to @dst, QEMU's steps, after filling the
 * source's BAR0 with a pattern. Each step is checked with the uAPI's GET;
 * -EPROTO if a device reports another state, -EIO if the destination's
 * BAR0 then differs from the source's.
 */
int vfio_migrate(struct vfio_dev *src, struct vfio_dev *dst,
		 struct mig_stream *stream)
{
	enum vfio_device_mig_state state = VFIO_DEVICE_STATE_ERROR;
	struct vfio_dev *devs[2] = { src, dst };
	uint8_t *want = NULL, *got = NULL;
	size_t i, size = 0;
	int ret;

	ret = bar0_size(src->fd, &size);
	if (ret)
		return ret;
	want = malloc(size);
	got = malloc(size);
	ret = -ENOMEM;
	if (!want || !got)
		goto out;
	ret = bar0_fill(src->fd, size, getpid());
	if (!ret)
		ret = bar0_read(src->fd, want, size);
	for (i = 0; !ret && i < qemu_migration_len; i++) {
		ret = vfio_mig_step(devs, &qemu_migration[i], stream);
		if (!ret)
			ret = vfio_mig_get(devs[qemu_migration[i].dev]->fd, &state);
		if (!ret && state != qemu_migration[i].state)
			ret = -EPROTO;
	}
	if (!ret)
		ret = bar0_read(dst->fd, got, size);
	if (!ret && memcmp(want, got, size))
		ret = -EIO;
out:
	free(want);
	free(got);
	return ret;
}

int stream_read(int data_fd, struct mig_stream *stream)
{
	size_t cap = 4096;
	uint8_t *data;
	ssize_t n;

	free(stream->data);
	stream->len = 0;
	stream->data = malloc(cap);
	if (!stream->data)
		return -ENOMEM;
	for (;;) {
		n = read(data_fd, stream->data + stream->len, cap - stream->len);
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		stream->len += n;
		if (stream->len < cap)
			continue;
		/* On failure @stream keeps what was read, for its owner to free. */
		data = realloc(stream->data, cap * 2);
		if (!data)
			return -ENOMEM;
		stream->data = data;
		cap *= 2;
	}
}

int stream_write(int data_fd, const struct mig_stream *stream)
{
	size_t off = 0;
	ssize_t n;

	while (off < stream->len) {
		n = write(data_fd, stream->data + off, stream->len - off);
		if (n < 0)
			return -errno;
		off += n;
	}
	return 0;
}

/*
 * BAR0 as the device describes it: its offset in the device fd and its
 * size. Nothing else about the device's layout is assumed.
 */
static int bar0_info(int fd, struct vfio_region_info *info)
{
	return vfio_get_region_info(fd, VFIO_PCI_BAR0_REGION_INDEX, info);
}

int bar0_size(int fd, size_t *size)
{
	struct vfio_region_info info;
	int ret;

	ret = bar0_info(fd, &info);
	if (ret)
		return ret;
	*size = info.size;
	return 0;
}

/* Where the first @size bytes of BAR0 are in the device fd. */
static int bar0_offset(int fd, size_t size, off_t *offset)
{
	struct vfio_region_info info;
	int ret;

	ret = bar0_info(fd, &info);
	if (ret)
		return ret;
	if (size > info.size)
		return -EINVAL;
	*offset = info.offset;
	return 0;
}

/* Fills the first @size bytes of BAR0 with bytes that depend on @seed. */
int bar0_fill(int fd, size_t size, unsigned int seed)
{
	uint8_t *buf;
	off_t offset;
	ssize_t n;
	size_t i;
	int ret;

	ret = bar0_offset(fd, size, &offset);
	if (ret)
		return ret;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 31 + seed);
	n = pwrite(fd, buf, size, offset);
	free(buf);
	if (n < 0)
		return -errno;
	return (size_t)n == size ? 0 : -EIO;
}

/* Reads the first @size bytes of BAR0. */
int bar0_read(int fd, void *buf, size_t size)
{
	off_t offset;
	ssize_t n;
	int ret;

	ret = bar0_offset(fd, size, &offset);
	if (ret)
		return ret;
	n = pread(fd, buf, size, offset);
	if (n < 0)
		return -errno;
	return (size_t)n == size ? 0 : -EIO;
}

int vfio_get_region_info(int fd, uint32_t index,
			 struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info))
		return -errno;
	return 0;
}

/*
 * @len bytes of config space at @off, in one pread() or pwrite() at the
 * offset the device gives its config region, as QEMU does them.
 */
static int vfio_config_rw(int fd, unsigned int off, void *buf, size_t len,
			  int write)
{
	struct vfio_region_info info;
	ssize_t n;
	int ret;

	ret = vfio_get_region_info(fd, VFIO_PCI_CONFIG_REGION_INDEX, &info);
	if (ret)
		return ret;
	if (write)
		n = pwrite(fd, buf, len, info.offset + off);
	else
		n = pread(fd, buf, len, info.offset + off);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vfio_config_read(int fd, unsigned int off, void *buf, size_t len)
{
	return vfio_config_rw(fd, off, buf, len, 0);
}

int vfio_config_write(int fd, unsigned int off, const void *buf, size_t len)
{
	return vfio_config_rw(fd, off, (void *)buf, len, 1);
}

/* Config space is little endian. */
int vfio_config_read32(int fd, unsigned int off, uint32_t *val)
{
	uint32_t le;
	int ret;

	ret = vfio_config_read(fd, off, &le, sizeof(le));
	if (!ret)
		*val = le32toh(le);
	return ret;
}

int vfio_config_write32(int fd, unsigned int off, uint32_t val)
{
	uint32_t le = htole32(val);

	return vfio_config_write(fd, off, &le, sizeof(le));
}

int vfio_mig_data_size(int fd, uint64_t *len)
{
	struct {
		struct vfio_device_feature feature;
		struct vfio_device_feature_mig_data_size size;
	} req = {
		.feature.argsz = sizeof(req),
		.feature.flags = VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
	};

	if (ioctl(fd, VFIO_DEVICE_FEATURE, &req))
		return -errno;
	*len = req.size.stop_copy_length;
	return 0;
}

/* migdev's region_size parameter: the bytes of BAR0 that are memory. */
int migdev_region_size(size_t *size)
{
	char buf[32];
	int ret;

	ret = read_file("/sys/module/migdev/parameters/region_size", buf,
			sizeof(buf));
	if (ret < 0)
		return ret;
	*size = strtoul(buf, NULL, 10);
	return 0;
}

/* BAR0's size, as migdev makes it: a power of two, at least 4 KiB. */
size_t migdev_bar_size(size_t region_size)
{
	size_t size = 4096;

	while (size < region_size)
		size *= 2;
	return size;
}

const char * const vfio_kmods[VFIO_KMODS] = {
	[KMOD_MIGDEV] = "migdev",
	[KMOD_MTTY] = "mtty",
	[KMOD_MDEV] = "mdev",
	[KMOD_VFIO_IOMMU_TYPE1] = "vfio_iommu_type1",
	[KMOD_VFIO] = "vfio",
};

/*
 * A loaded module has /sys/module/<name>/initstate. A built-in one has
 * /sys/module/<name> alone, if it has a parameter or a version, as each
 * of vfio_kmods[] has.
 */
enum kmod_state kmod_state(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	if (!path_exists(path))
		return KMOD_LOADED;
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return path_exists(path) ? KMOD_ABSENT : KMOD_BUILTIN;
}

int kmod_load(const char *name, const char *params)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "modprobe %s %s >/dev/null 2>&1", name,
		 params);
	return system(cmd) ? -EIO : 0;
}

/*
 * As rmmod does: fails with EWOULDBLOCK if the module is in use. No
 * migdev file is opened through open_file() meanwhile.
 */
int kmod_unload(const char *name)
{
	int ret;

	pthread_rwlock_wrlock(&kmod_unload_lock);
	ret = syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
	pthread_rwlock_unlock(&kmod_unload_lock);
	return ret;
}

/* The mask of vfio_kmods[] that are loaded modules. */
unsigned int vfio_kmods_loaded(void)
{
	unsigned int mask = 0;
	int i;

	for (i = 0; i < VFIO_KMODS; i++)
		if (kmod_state(vfio_kmods[i]) == KMOD_LOADED)
			mask |= KMOD_BIT(i);
	return mask;
}

/*
 * 0 if the loaded module @name is used by nothing but modules in @mask:
 * each module that uses it is in its holders/ and counts once in its
 * refcnt; any other reference is a user such as an open device.
 */
static int kmod_unused(const char *name, unsigned int mask, char *why,
		       size_t size)
{
	char path[PATH_MAX], buf[32];
	int i, holders = 0, ret = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/module/%s/holders", name);
	d = opendir(path);
	if (!d) {
		snprintf(why, size, "%s cannot be unloaded", name);
		return -errno;
	}
	while (!ret && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		for (i = 0; i < VFIO_KMODS; i++)
			if ((mask & KMOD_BIT(i)) && !strcmp(e->d_name, vfio_kmods[i]))
				break;
		if (i == VFIO_KMODS) {
			snprintf(why, size, "%s is used by %s", name, e->d_name);
			ret = -EBUSY;
		}
		holders++;
	}
	closedir(d);
	if (ret)
		return ret;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	if (read_file(path, buf, sizeof(buf)) < 0 || atoi(buf) != holders) {
		snprintf(why, size, "%s is in use", name);
		return -EBUSY;
	}
	return 0;
}

/*
 * Before a test that loads the modules in @load and unloads those in
 * @unload: each must be a module, not built in; those in @load are loaded
 * if they are not yet; those in @unload that are loaded must be used by
 * nothing but each other. Otherwise a negative errno, and @why says why,
 * for a SKIP. The caller restores what was loaded before, at the end.
 */
int vfio_kmods_prepare(unsigned int load, unsigned int unload, char *why,
		       size_t size)
{
	enum kmod_state state;
	int i, ret;

	for (i = VFIO_KMODS - 1; i >= 0; i--) {
		if (!((load | unload) & KMOD_BIT(i)))
			continue;
		state = kmod_state(vfio_kmods[i]);
		if (state == KMOD_BUILTIN) {
			snprintf(why, size, "%s is built in, not a module",
				 vfio_kmods[i]);
			return -EPERM;
		}
		if (state == KMOD_ABSENT && (load & KMOD_BIT(i))) {
			ret = kmod_load(vfio_kmods[i], "");
			if (ret) {
				snprintf(why, size, "%s cannot be loaded",
					 vfio_kmods[i]);
				return ret;
			}
		}
	}
	for (i = 0; i < VFIO_KMODS; i++) {
		if (!(unload & KMOD_BIT(i)) ||
		    kmod_state(vfio_kmods[i]) != KMOD_LOADED)
			continue;
		ret = kmod_unused(vfio_kmods[i], unload, why, size);
		if (ret)
			return ret;
	}
	return 0;
}

/* Loads those of @mask that are not loaded, each after what it uses. */
int vfio_kmods_load(unsigned int mask)
{
	int i, ret;

	for (i = VFIO_KMODS - 1; i >= 0; i--) {
		if (!(mask & KMOD_BIT(i)) ||
		    kmod_state(vfio_kmods[i]) != KMOD_ABSENT)
			continue;
		ret = kmod_load(vfio_kmods[i], "");
		if (ret)
			return ret;
	}
	return 0;
}

/* Unloads those of @mask that are loaded, each before what it uses. */
int vfio_kmods_unload(unsigned int mask)
{
	int i, ret;

	for (i = 0; i < VFIO_KMODS; i++) {
		if (!(mask & KMOD_BIT(i)) ||
		    kmod_state(vfio_kmods[i]) != KMOD_LOADED)
			continue;
		ret = kmod_unload(vfio_kmods[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Back to @loaded, from vfio_kmods_loaded() at the start: unloads what was
 * not loaded then, and loads again what was (with default parameters).
 */
int vfio_kmods_restore(unsigned int loaded)
{
	int unloaded, reloaded;

	unloaded = vfio_kmods_unload(vfio_kmods_loaded() & ~loaded);
	reloaded = vfio_kmods_load(loaded);
	return unloaded ? unloaded : reloaded;
}
