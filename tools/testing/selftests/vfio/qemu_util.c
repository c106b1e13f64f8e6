// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU as the VFIO migration client of a test; see qemu_util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "qemu_util.h"
#include "vfio_util.h"

/*
 * QEMU answers within seconds even under TCG in a TCG guest; a QMP or
 * qtest reply that takes longer than QEMU_REPLY_SECONDS is a hang, which
 * fails the test rather than the whole guest.
 */
#define QEMU_START_SECONDS	30
#define QEMU_REPLY_SECONDS	30

/* The CF8/CFC configuration mechanism: bus 0, our slot, function 0. */
#define PCI_CONF_ADDR(reg)	(0x80000000UL | (QEMU_VFIO_SLOT << 11) | (reg))
#define PCI_BAR0		0x10
#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2

const char *qemu_binary(void)
{
	const char *path = getenv("VFIO_QEMU");

	return path ? path : "/usr/bin/qemu-system-x86_64";
}

/*
 * A 64 KiB firmware whose reset vector (its last 16 bytes, at 0xfffffff0)
 * is "hlt; jmp back": the CPU stops with interrupts off and no firmware
 * ever assigns a BAR, so the test alone decides where BAR0 goes.
 */
static int write_firmware(const char *path)
{
	static unsigned char rom[65536];
	const unsigned char halt[] = { 0xf4, 0xeb, 0xfd };
	int fd, ok;

	memcpy(rom + sizeof(rom) - 16, halt, sizeof(halt));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	ok = write(fd, rom, sizeof(rom)) == (ssize_t)sizeof(rom);
	close(fd);
	return ok ? 0 : -EIO;
}

static int unix_connect(const char *path)
{
	struct timeval timeout = { .tv_sec = QEMU_REPLY_SECONDS };
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* One line from @fd without its newline; its length, or -errno. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	char c;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return -ETIMEDOUT;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if (c == '\n')
			break;
		if (len < size - 1)
			buf[len++] = c;
	}
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return len;
}

/* To a socket QEMU may have closed: EPIPE, not SIGPIPE. */
static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return -ETIMEDOUT;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A command line to QEMU's QMP or qtest socket. */
static int write_line(int fd, const char *text)
{
	int ret = write_all(fd, text, strlen(text));

	return ret ? ret : write_all(fd, "\n", 1);
}

/* Connects to @sock of @q once QEMU listens there, or fails if it died. */
static int qemu_connect(struct qemu *q, const char *sock)
{
	char path[128];
	int fd, i;

	snprintf(path, sizeof(path), "%s/%s-%s.sock", q->dir, q->name, sock);
	for (i = 0; i < QEMU_START_SECONDS * 20; i++) {
		fd = unix_connect(path);
		if (fd >= 0)
			return fd;
		if (qemu_exited(q, NULL))
			return -ECHILD;
		sleep_ms(50);
	}
	return -ETIMEDOUT;
}

static void qemu_exec(struct qemu *q, const char *uuid, bool incoming)
{
	char bios[96], qmp_opt[112], qtest_opt[144], dev[192], trace[96];
	char log[96], incoming_opt[96];
	const char *argv[40];
	int i = 0, fd;

	snprintf(bios, sizeof(bios), "%s/halt.bin", q->dir);
	snprintf(qmp_opt, sizeof(qmp_opt), "unix:%s/%s-qmp.sock,server=on,wait=off",
		 q->dir, q->name);
	snprintf(qtest_opt, sizeof(qtest_opt),
		 "socket,id=qtest,path=%s/%s-qtest.sock,server=on,wait=off",
		 q->dir, q->name);
	/*
	 * migdev tracks no dirty pages (no DMA logging) and QEMU 10 does not
	 * use type1's: QEMU migrates such a device only with
	 * enable-migration=on, and must not ask it for DMA logging.
	 */
	snprintf(dev, sizeof(dev),
		 "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,addr=%d,enable-migration=on,x-device-dirty-page-tracking=off",
		 uuid, QEMU_VFIO_SLOT);
	snprintf(trace, sizeof(trace), "%s/%s-trace.log", q->dir, q->name);
	snprintf(log, sizeof(log), "%s/%s.log", q->dir, q->name);
	snprintf(incoming_opt, sizeof(incoming_opt), "unix:%s/migration.sock",
		 q->dir);

	argv[i++] = qemu_binary();
	argv[i++] = "-accel";
	argv[i++] = "tcg";
	argv[i++] = "-machine";
	argv[i++] = "q35";
	argv[i++] = "-m";
	argv[i++] = "64";
	argv[i++] = "-nodefaults";
	argv[i++] = "-display";
	argv[i++] = "none";
	argv[i++] = "-monitor";
	argv[i++] = "none";
	argv[i++] = "-serial";
	argv[i++] = "none";
	argv[i++] = "-bios";
	argv[i++] = bios;
	argv[i++] = "-qmp";
	argv[i++] = qmp_opt;
	argv[i++] = "-chardev";
	argv[i++] = qtest_opt;
	argv[i++] = "-qtest";
	argv[i++] = "chardev:qtest";
	argv[i++] = "-device";
	argv[i++] = dev;
	argv[i++] = "-trace";
	argv[i++] = "enable=vfio_migration_set_state";
	argv[i++] = "-trace";
	argv[i++] = "enable=vfio_migration_set_device_state";
	argv[i++] = "-D";
	argv[i++] = trace;
	if (incoming) {
		argv[i++] = "-incoming";
		argv[i++] = incoming_opt;
	}
	argv[i] = NULL;

	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	execv(argv[0], (char **)argv);
	_exit(127);
}

/*
 * Starts QEMU @name ("src" or "dst", which names its files in @dir) with
 * the mdev @uuid as its vfio-pci device; an @incoming one waits for a
 * migration on @dir/migration.sock. Returns once QMP is ready.
 */
int qemu_start(struct qemu *q, const char *dir, const char *name,
	       const char *uuid, bool incoming)
{
	char path[128], line[1024];
	int ret;

	memset(q, 0, sizeof(*q));
	q->qmp = -1;
	q->qtest = -1;
	snprintf(q->name, sizeof(q->name), "%s", name);
	snprintf(q->dir, sizeof(q->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/halt.bin", dir);
	ret = write_firmware(path);
	if (ret)
		return ret;

	q->pid = fork();
	if (q->pid < 0)
		return -errno;
	if (!q->pid)
		qemu_exec(q, uuid, incoming);

	q->qmp = qemu_connect(q, "qmp");
	if (q->qmp < 0)
		return q->qmp;
	q->qtest = qemu_connect(q, "qtest");
	if (q->qtest < 0)
		return q->qtest;
	/* The greeting, then capabilities negotiation. */
	ret = read_line(q->qmp, line, sizeof(line));
	if (ret < 0)
		return ret;
	if (!strstr(line, "\"QMP\""))
		return -EPROTO;
	return qmp(q, "{\"execute\": \"qmp_capabilities\"}", line,
		   sizeof(line));
}

/* Kills QEMU if it still runs, and reaps it. */
void qemu_stop(struct qemu *q)
{
	if (q->qmp >= 0)
		close(q->qmp);
	if (q->qtest >= 0)
		close(q->qtest);
	q->qmp = -1;
	q->qtest = -1;
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, NULL, 0);
	}
	q->pid = 0;
}

/* Whether QEMU has exited (reaped then, with its wait status). */
bool qemu_exited(struct qemu *q, int *status)
{
	int st;

	if (q->pid <= 0)
		return true;
	if (waitpid(q->pid, &st, WNOHANG) != q->pid)
		return false;
	q->pid = 0;
	if (status)
		*status = st;
	return true;
}

/* What QEMU printed on stdout and stderr. */
int qemu_log(const struct qemu *q, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s.log", q->dir, q->name);
	return read_file(path, buf, size);
}

/* An asynchronous event: {"timestamp": {...}, "event": "NAME", ...}. */
static bool qmp_is_event(const char *line)
{
	return strstr(line, "\"event\": \"");
}

/*
 * Sends the QMP command @cmd and reads its reply into @reply, skipping
 * the asynchronous events before it. 0 for a "return", -EREMOTEIO for an
 * "error" (in @reply as well).
 */
int qmp(struct qemu *q, const char *cmd, char *reply, size_t size)
{
	int ret;

	ret = write_line(q->qmp, cmd);
	if (ret)
		return ret;
	for (;;) {
		ret = read_line(q->qmp, reply, size);
		if (ret < 0)
			return ret;
		if (qmp_is_event(reply))
			continue;
		if (strstr(reply, "\"return\""))
			return 0;
		if (strstr(reply, "\"error\""))
			return -EREMOTEIO;
	}
}

/*
 * Waits for the QMP event @event whose line holds @want (0) or @bad
 * (-EREMOTEIO), skipping other lines; the line in @line.
 */
int qmp_event(struct qemu *q, const char *event, const char *want,
	      const char *bad, char *line, size_t size)
{
	int ret;

	for (;;) {
		ret = read_line(q->qmp, line, size);
		if (ret < 0)
			return ret;
		if (!qmp_is_event(line) || !strstr(line, event))
			continue;
		if (strstr(line, want))
			return 0;
		if (bad && strstr(line, bad))
			return -EREMOTEIO;
	}
}

/*
 * The QMP command that migrates @src to the QEMU started with @incoming in
 * the same directory.
 */
void qemu_migrate_cmd(const struct qemu *src, char *cmd, size_t size)
{
	snprintf(cmd, size,
		 "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"unix:%s/migration.sock\"}}",
		 src->dir);
}

/* Starts that migration; QEMU's reply in @reply. */
int qemu_migrate(struct qemu *src, char *reply, size_t size)
{
	char cmd[160];

	qemu_migrate_cmd(src, cmd, sizeof(cmd));
	return qmp(src, cmd, reply, size);
}

/* The string value of the first "@key" in a QMP reply. */
int qmp_string(const char *reply, const char *key, char *val, size_t size)
{
	char pattern[64];
	const char *p, *end;

	snprintf(pattern, sizeof(pattern), "\"%s\": \"", key);
	p = strstr(reply, pattern);
	if (!p)
		return -ENOENT;
	p += strlen(pattern);
	end = strchr(p, '"');
	if (!end || (size_t)(end - p) >= size)
		return -EOVERFLOW;
	memcpy(val, p, end - p);
	val[end - p] = '\0';
	return 0;
}

/* One qtest command; its "OK ..." reply in @reply, or -EREMOTEIO. */
int qtest(struct qemu *q, const char *cmd, char *reply, size_t size)
{
	int ret;

	ret = write_line(q->qtest, cmd);
	if (ret)
		return ret;
	do {
		ret = read_line(q->qtest, reply, size);
		if (ret < 0)
			return ret;
	} while (!strncmp(reply, "IRQ", 3));	/* asynchronous */
	return strncmp(reply, "OK", 2) ? -EREMOTEIO : 0;
}

static int pci_config_write(struct qemu *q, unsigned int reg, const char *op,
			    unsigned long val)
{
	char cmd[64], reply[64];
	int ret;

	snprintf(cmd, sizeof(cmd), "outl 0xcf8 0x%lx", PCI_CONF_ADDR(reg));
	ret = qtest(q, cmd, reply, sizeof(reply));
	if (ret)
		return ret;
	snprintf(cmd, sizeof(cmd), "%s 0xcfc 0x%lx", op, val);
	return qtest(q, cmd, reply, sizeof(reply));
}

/* Puts BAR0 at QEMU_BAR0_ADDR and turns on memory decoding, as firmware would. */
int qtest_map_bar0(struct qemu *q)
{
	int ret;

	ret = pci_config_write(q, PCI_BAR0, "outl", QEMU_BAR0_ADDR);
	if (ret)
		return ret;
	return pci_config_write(q, PCI_COMMAND, "outw", PCI_COMMAND_MEMORY);
}

int qtest_write(struct qemu *q, unsigned long addr, const void *buf,
		size_t len)
{
	const unsigned char *p = buf;
	char reply[64], *cmd;
	size_t i, off;
	int ret;

	cmd = malloc(64 + 2 * len);
	if (!cmd)
		return -ENOMEM;
	off = sprintf(cmd, "write 0x%lx 0x%zx 0x", addr, len);
	for (i = 0; i < len; i++)
		off += sprintf(cmd + off, "%02x", p[i]);
	ret = qtest(q, cmd, reply, sizeof(reply));
	free(cmd);
	return ret;
}

int qtest_read(struct qemu *q, unsigned long addr, void *buf, size_t len)
{
	unsigned char *p = buf;
	char cmd[64], *reply;
	size_t i, size = 64 + 2 * len;
	unsigned int byte;
	int ret;

	reply = malloc(size);
	if (!reply)
		return -ENOMEM;
	snprintf(cmd, sizeof(cmd), "read 0x%lx 0x%zx", addr, len);
	ret = qtest(q, cmd, reply, size);
	/* "OK 0x" and two hex digits a byte. */
	if (!ret && strlen(reply) != 5 + 2 * len)
		ret = -EPROTO;
	for (i = 0; !ret && i < len; i++) {
		if (sscanf(reply + 5 + 2 * i, "%2x", &byte) != 1)
			ret = -EPROTO;
		p[i] = byte;
	}
	free(reply);
	return ret;
}

/* The state after @key in a trace line: "new state X," or ") state X". */
static int trace_state(const char *line, const char *key, char *state,
		       size_t size)
{
	const char *p = strstr(line, key);
	size_t len;

	if (!p)
		return -ENOENT;
	p += strlen(key);
	len = strcspn(p, ",\n ");
	if (!len || len >= size)
		return -EPROTO;
	memcpy(state, p, len);
	state[len] = '\0';
	return 0;
}

int qemu_trace_sets(const struct qemu *q, struct qemu_sets *sets)
{
	char path[128], to[16], recover[16], known[16] = "RUNNING";
	char asked[16] = "", asked_recover[16] = "";
	static char buf[65536];
	char *line, *save;
	int n;

	memset(sets, 0, sizeof(*sets));
	snprintf(path, sizeof(path), "%s/%s-trace.log", q->dir, q->name);
	n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "vfio_migration_set_state ")) {
			if (trace_state(line, "new state ", to, sizeof(to)) ||
			    trace_state(line, "recover state ", recover,
					sizeof(recover)))
				return -EPROTO;
			/* QEMU asks nothing of a device already there. */
			if (!strcmp(to, known))
				continue;
			if (sets->n == QEMU_MAX_SETS)
				return -E2BIG;
			snprintf(sets->to[sets->n++], sizeof(sets->to[0]), "%s",
				 to);
			snprintf(asked, sizeof(asked), "%s", to);
			snprintf(asked_recover, sizeof(asked_recover), "%s",
				 recover);
		} else if (strstr(line, "vfio_migration_set_device_state ")) {
			if (trace_state(line, ") state ", known, sizeof(known)))
				return -EPROTO;
			if (asked[0] && strcmp(known, asked)) {
				sets->failed[sets->n - 1] = true;
				if (strcmp(asked_recover, "ERROR")) {
					if (sets->n == QEMU_MAX_SETS)
						return -E2BIG;
					snprintf(sets->to[sets->n++],
						 sizeof(sets->to[0]), "%s",
						 asked_recover);
					/* Failed too: QEMU reset the device. */
					if (strcmp(known, asked_recover))
						sets->failed[sets->n - 1] = true;
				}
			}
			asked[0] = '\0';
		}
	}
	return 0;
}
