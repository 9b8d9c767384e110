// SPDX-License-Identifier: GPL-2.0
/*
 * vmmig-vm: the command line of the reference VMM.
 *
 *   vmmig-vm run      boot a guest program (and serve the monitor)
 *   vmmig-vm receive  wait for a VM moved here, then run it
 *   vmmig-vm move     ask a running VMM to move its VM (Move-VM style)
 *   vmmig-vm status   what a running VMM's VM is doing
 *   vmmig-vm quit     stop a running VMM's VM
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "control.h"
#include "migrate.h"
#include "monitor.h"
#include "vmmig_lib.h"

static const char usage_text[] =
"usage:\n"
"  vmmig-vm run --guest NAME|FILE [--ram MIB] [--cpus N] [--args \"KEY=VALUE ...\"]\n"
"               [--disk FILE [--disk-size MIB]] [--serial FILE] [--monitor SOCKET]\n"
"               [--name NAME] [--dirty-ring ENTRIES]\n"
"  vmmig-vm receive --listen ADDR[:PORT] [--data-port PORT] [--timeout S]\n"
"               [--serial FILE] [--monitor SOCKET] [--name NAME] [--dirty-ring ENTRIES]\n"
"  vmmig-vm move --monitor SOCKET --to ADDR[:PORT]\n"
"               [--include-storage --destination-storage-path DIR]\n"
"               [--performance tcp|compression] [--compression lz4|zstd]\n"
"               [--compression-level N]\n"
"               [--channels N] [--downtime MS]\n"
"               [--max-rounds N] [--no-throttle] [--force] [--max-bandwidth MBPS]\n"
"               [--verify] [--raw]\n"
"  vmmig-vm status --monitor SOCKET\n"
"  vmmig-vm quit --monitor SOCKET\n"
"\n"
"Guests (NAME): counter, memdirty, diskrw; see Documentation/vmm.md.\n";

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "vmmig-vm: %s\n", msg);
	fputs(usage_text, stderr);
	return 2;
}

enum {
	OPT_GUEST = 256, OPT_RAM, OPT_CPUS, OPT_ARGS, OPT_DISK, OPT_DISK_SIZE, OPT_SERIAL,
	OPT_MONITOR, OPT_NAME, OPT_LISTEN, OPT_DATA_PORT, OPT_TIMEOUT, OPT_TO,
	OPT_STORAGE, OPT_STORAGE_PATH, OPT_PERFORMANCE, OPT_CHANNELS, OPT_DOWNTIME,
	OPT_MAX_ROUNDS, OPT_NO_THROTTLE, OPT_FORCE, OPT_MAX_BW, OPT_VERIFY, OPT_RAW,
	OPT_COMPRESSION, OPT_LEVEL, OPT_DIRTY_RING, OPT_HELP,
};

static const struct option options[] = {
	{ "guest", required_argument, NULL, OPT_GUEST },
	{ "ram", required_argument, NULL, OPT_RAM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "args", required_argument, NULL, OPT_ARGS },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "disk-size", required_argument, NULL, OPT_DISK_SIZE },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "monitor", required_argument, NULL, OPT_MONITOR },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "data-port", required_argument, NULL, OPT_DATA_PORT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "to", required_argument, NULL, OPT_TO },
	{ "include-storage", no_argument, NULL, OPT_STORAGE },
	{ "destination-storage-path", required_argument, NULL, OPT_STORAGE_PATH },
	{ "performance", required_argument, NULL, OPT_PERFORMANCE },
	{ "compression", required_argument, NULL, OPT_COMPRESSION },
	{ "compression-level", required_argument, NULL, OPT_LEVEL },
	{ "channels", required_argument, NULL, OPT_CHANNELS },
	{ "downtime", required_argument, NULL, OPT_DOWNTIME },
	{ "max-rounds", required_argument, NULL, OPT_MAX_ROUNDS },
	{ "no-throttle", no_argument, NULL, OPT_NO_THROTTLE },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "max-bandwidth", required_argument, NULL, OPT_MAX_BW },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "dirty-ring", required_argument, NULL, OPT_DIRTY_RING },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	const char *cmd;
	const char *guest;
	u64 ram_mib;
	unsigned int cpus;
	const char *args;
	const char *disk;
	u64 disk_mib;
	const char *serial;
	const char *monitor;
	const char *name;
	struct receive_opts recv;
	struct move_opts move;
	bool raw;
	u32 codec;		/* --compression, 0 if not given */
	u32 dirty_ring;		/* --dirty-ring: entries per vCPU; 0: KVM's bitmap */
	u32 seen;		/* which options were given, for per-command checks */
};

#define SEEN(c, opt)	((c)->seen & (1U << ((opt) - OPT_GUEST)))

/* A whole decimal number in [min, max], or -1. */
static long long number(const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	return v;
}

static int parse(struct cli *c, int argc, char **argv)
{
	char msg[256];
	long long v;
	int opt;

	c->ram_mib = 64;
	c->cpus = 1;
	c->args = "";
	move_opts_init(&c->move);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt >= OPT_GUEST && opt < OPT_GUEST + 32)
			c->seen |= 1U << (opt - OPT_GUEST);
		switch (opt) {
		case OPT_GUEST:
			c->guest = optarg;
			break;
		case OPT_RAM:
			v = number(optarg, 4, GUEST_MAX_RAM >> 20);
			if (v < 0 || v % 2)
				return usage("--ram: MiB, an even number from 4 to 3072");
			c->ram_mib = v;
			break;
		case OPT_CPUS:
			v = number(optarg, 1, GUEST_MAX_VCPUS);
			if (v < 0)
				return usage("--cpus: 1 to 16");
			c->cpus = v;
			break;
		case OPT_ARGS:
			c->args = optarg;
			break;
		case OPT_DIRTY_RING:
			/* KVM's limits: a ring fills at least a page, at most 64 Ki entries. */
			v = number(optarg, 256, 65536);
			if (v < 0 || (v & (v - 1)))
				return usage("--dirty-ring: a power of 2 from 256 to 65536");
			c->dirty_ring = v;
			break;
		case OPT_DISK:
			c->disk = optarg;
			break;
		case OPT_DISK_SIZE:
			v = number(optarg, 1, 1 << 20);
			if (v < 0)
				return usage("--disk-size: MiB, 1 or more");
			c->disk_mib = v;
			break;
		case OPT_SERIAL:
			c->serial = optarg;
			break;
		case OPT_MONITOR:
			c->monitor = optarg;
			break;
		case OPT_NAME:
			c->name = optarg;
			break;
		case OPT_LISTEN:
			snprintf(c->recv.listen, sizeof(c->recv.listen), "%s", optarg);
			break;
		case OPT_DATA_PORT:
			v = number(optarg, 1, 65535);
			if (v < 0)
				return usage("--data-port: 1 to 65535");
			c->recv.data_port = v;
			break;
		case OPT_TIMEOUT:
			v = number(optarg, 0, 86400);
			if (v < 0)
				return usage("--timeout: seconds, 0 (forever) to 86400");
			c->recv.timeout_s = v;
			break;
		case OPT_TO:
			snprintf(c->move.to, sizeof(c->move.to), "%s", optarg);
			break;
		case OPT_STORAGE:
			c->move.include_storage = true;
			break;
		case OPT_STORAGE_PATH:
			snprintf(c->move.storage_path, sizeof(c->move.storage_path), "%s", optarg);
			break;
		case OPT_PERFORMANCE:
			if (!strcmp(optarg, "tcp"))
				c->move.compression = VMMIG_COMP_NONE;
			else if (!strcmp(optarg, "compression"))
				c->move.compression = c->codec ? c->codec : VMMIG_COMP_LZ4;
			else
				return usage("--performance: tcp or compression");
			if (c->codec && c->move.compression == VMMIG_COMP_NONE)
				return usage("--compression needs --performance compression");
			break;
		case OPT_COMPRESSION:
			/* The codec of the compression option, named as on the hosts (vmmigctl). */
			if (!strcmp(optarg, "lz4"))
				c->codec = VMMIG_COMP_LZ4;
			else if (!strcmp(optarg, "zstd"))
				c->codec = VMMIG_COMP_ZSTD;
			else
				return usage("--compression: lz4 or zstd");
			if (SEEN(c, OPT_PERFORMANCE) && c->move.compression == VMMIG_COMP_NONE)
				return usage("--compression needs --performance compression");
			c->move.compression = c->codec;
			break;
		case OPT_LEVEL:
			v = number(optarg, 1, 65537);
			if (v < 0)
				return usage("--compression-level: lz4 1 to 65537, zstd 1 to 22");
			c->move.level = v;
			break;
		case OPT_CHANNELS:
			v = number(optarg, 1, VMMIG_MAX_CHANNELS);
			if (v < 0)
				return usage("--channels: 1 to 16");
			c->move.channels = v;
			break;
		case OPT_DOWNTIME:
			v = number(optarg, 1, 600000);
			if (v < 0)
				return usage("--downtime: milliseconds, 1 to 600000");
			c->move.downtime_ms = v;
			break;
		case OPT_MAX_ROUNDS:
			v = number(optarg, 1, 1000);
			if (v < 0)
				return usage("--max-rounds: 1 to 1000");
			c->move.max_rounds = v;
			break;
		case OPT_NO_THROTTLE:
			c->move.throttle = false;
			break;
		case OPT_FORCE:
			c->move.force = true;
			break;
		case OPT_MAX_BW:
			v = number(optarg, 1, 1000000);
			if (v < 0)
				return usage("--max-bandwidth: MB/s, 1 or more");
			c->move.max_bandwidth = v;
			break;
		case OPT_VERIFY:
			c->move.verify = true;
			break;
		case OPT_RAW:
			c->raw = true;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			exit(0);
		default:
			return usage(NULL);
		}
	}
	if (optind != argc) {
		snprintf(msg, sizeof(msg), "unexpected argument '%s'", argv[optind]);
		return usage(msg);
	}
	return 0;
}

/* Options that belong to other commands are mistakes, not silently ignored. */
static int only(struct cli *c, const int *allowed, size_t n)
{
	char msg[128];
	unsigned int i;
	size_t j;

	for (i = 0; options[i].name; i++) {
		int opt = options[i].val;

		if (opt == OPT_HELP || !SEEN(c, opt))
			continue;
		for (j = 0; j < n && allowed[j] != opt; j++)
			;
		if (j == n) {
			snprintf(msg, sizeof(msg), "--%s is not an option of '%s'",
				 options[i].name, c->cmd);
			return usage(msg);
		}
	}
	return 0;
}

/* "counter" -> <dir of vmmig-vm>/../guests/counter.bin; a path stays as it is. */
static const char *guest_path(const char *name, char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n;

	if (strchr(name, '/'))
		return name;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return name;
	self[n] = 0;
	snprintf(buf, size, "%s/../guests/%s.bin", dirname(self), name);
	return buf;
}

static int open_serial(const char *path)
{
	int fd;

	if (!path)
		return STDOUT_FILENO;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		fprintf(stderr, "vmmig-vm: serial output %s: %s\n", path, strerror(errno));
	return fd;
}

/* SIGINT and SIGTERM as a file descriptor; blocked before any thread starts. */
static int block_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static char name_buf[128];

static void set_name(const char *name)
{
	if (!name)
		return;
	snprintf(name_buf, sizeof(name_buf), "vmmig-vm[%s]", name);
	vmm_name = name_buf;
}

static int cmd_run(struct cli *c)
{
	static const int allowed[] = {
		OPT_GUEST, OPT_RAM, OPT_CPUS, OPT_ARGS, OPT_DISK, OPT_DISK_SIZE, OPT_SERIAL,
		OPT_MONITOR, OPT_NAME, OPT_DIRTY_RING,
	};
	struct vm_config cfg = { .ram_bytes = c->ram_mib << 20, .ncpus = c->cpus,
				 .dirty_ring = c->dirty_ring };
	struct vm vm;
	char path[PATH_MAX];
	int sig_fd, ret;

	ret = only(c, allowed, ARRAY_SIZE(allowed));
	if (ret)
		return ret;
	if (!c->guest)
		return usage("run needs --guest");
	if (c->disk_mib && !c->disk)
		return usage("--disk-size is for --disk");
	set_name(c->name);
	cfg.serial_fd = open_serial(c->serial);
	if (cfg.serial_fd < 0)
		return 1;
	sig_fd = block_signals();
	if (vm_create(&vm, &cfg)) {
		vm_destroy(&vm);
		return 1;
	}
	if (c->disk && disk_open(&vm.disk, c->disk, c->disk_mib << 20, false)) {
		vm_destroy(&vm);
		return 1;
	}
	if (vm_load(&vm, guest_path(c->guest, path, sizeof(path)), c->args) || vm_start(&vm)) {
		vm_destroy(&vm);
		return 1;
	}
	vmm_log("running %s: %u vCPU(s), %llu MiB RAM, disk %s", c->guest, c->cpus,
		c->ram_mib, c->disk ? c->disk : "none");
	ret = monitor_serve(&vm, c->monitor, sig_fd);
	vm_destroy(&vm);
	return ret;
}

static int cmd_receive(struct cli *c)
{
	static const int allowed[] = {
		OPT_LISTEN, OPT_DATA_PORT, OPT_TIMEOUT, OPT_SERIAL, OPT_MONITOR, OPT_NAME,
		OPT_DIRTY_RING,
	};
	char err[1024];
	struct vm vm;
	int sig_fd, ret;

	ret = only(c, allowed, ARRAY_SIZE(allowed));
	if (ret)
		return ret;
	if (!c->recv.listen[0])
		return usage("receive needs --listen ADDR[:PORT]");
	set_name(c->name);
	c->recv.dirty_ring = c->dirty_ring;
	c->recv.serial_fd = open_serial(c->serial);
	if (c->recv.serial_fd < 0)
		return 1;
	sig_fd = block_signals();
	if (migrate_receive(&vm, &c->recv, err, sizeof(err))) {
		vmm_log("receive failed: %s", err);
		return 1;
	}
	ret = monitor_serve(&vm, c->monitor, sig_fd);
	vm_destroy(&vm);
	return ret;
}

static int cmd_move(struct cli *c)
{
	static const int allowed[] = {
		OPT_MONITOR, OPT_TO, OPT_STORAGE, OPT_STORAGE_PATH, OPT_PERFORMANCE,
		OPT_COMPRESSION, OPT_LEVEL, OPT_CHANNELS, OPT_DOWNTIME, OPT_MAX_ROUNDS,
		OPT_NO_THROTTLE, OPT_FORCE, OPT_MAX_BW, OPT_VERIFY, OPT_RAW,
	};
	char err[512], line[2048];
	int ret;

	ret = only(c, allowed, ARRAY_SIZE(allowed));
	if (ret)
		return ret;
	if (!c->monitor)
		return usage("move needs --monitor SOCKET (the running VMM's)");
	if (!c->move.to[0])
		return usage("move needs --to ADDR[:PORT]");
	if (strchr(c->move.to, ' ') || strchr(c->move.storage_path, ' '))
		return usage("addresses and paths with spaces are not supported");
	if (move_opts_check(&c->move, err, sizeof(err)))
		return usage(err);
	memcpy(line, "move ", 5);
	if (move_opts_format(&c->move, line + 5, sizeof(line) - 5))
		return usage("options too long");
	return monitor_command(c->monitor, line, c->raw);
}

static int cmd_simple(struct cli *c, const char *what)
{
	static const int allowed[] = { OPT_MONITOR };
	int ret = only(c, allowed, ARRAY_SIZE(allowed));

	if (ret)
		return ret;
	if (!c->monitor)
		return usage("needs --monitor SOCKET");
	return monitor_command(c->monitor, what, false);
}

int main(int argc, char **argv)
{
	struct cli c;
	int ret;

	memset(&c, 0, sizeof(c));
	if (argc < 2)
		return usage(NULL);
	c.cmd = argv[1];
	if (!strcmp(c.cmd, "--help") || !strcmp(c.cmd, "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	ret = parse(&c, argc - 1, argv + 1);
	if (ret)
		return ret;
	if (!strcmp(c.cmd, "run"))
		return cmd_run(&c);
	if (!strcmp(c.cmd, "receive"))
		return cmd_receive(&c);
	if (!strcmp(c.cmd, "move"))
		return cmd_move(&c);
	if (!strcmp(c.cmd, "status"))
		return cmd_simple(&c, "status");
	if (!strcmp(c.cmd, "quit"))
		return cmd_simple(&c, "quit");
	return usage("commands: run, receive, move, status, quit");
}
