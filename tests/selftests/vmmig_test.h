/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vmmig kselftests and benchmarks: two "hosts" as
 * network namespaces joined by a veth pair, and thin wrappers around the
 * /dev/vmmig ioctls. Header-only so that each test stays one binary.
 */
#ifndef _VMMIG_TEST_H
#define _VMMIG_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vmmig.h>

/* Memory both a test and its forked destination host see; NULL on failure. */
static inline void *vt_map_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Each page's content names its page and round, so a stale copy shows. */
static inline void vt_fill_page(unsigned char *mem, size_t page, unsigned int round)
{
	__u64 *w = (__u64 *)(mem + page * VMMIG_PAGE_SIZE);
	__u64 v = (page + 1) * 0x9e3779b97f4a7c15ULL ^ ((__u64)round << 56);
	size_t i;

	for (i = 0; i < VMMIG_PAGE_SIZE / 8; i++)
		w[i] = v + i;
}

/* The first page where @a and @b differ, SIZE_MAX if none. */
static inline size_t vt_first_diff(const unsigned char *a, const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += VMMIG_PAGE_SIZE)
		if (memcmp(a + i, b + i, VMMIG_PAGE_SIZE))
			return i / VMMIG_PAGE_SIZE;
	return SIZE_MAX;
}

/* Host A (source) and host B (destination). */
#define VT_NS_A		"vmmig-a"
#define VT_NS_B		"vmmig-b"
#define VT_ADDR_A	"10.77.0.1"
#define VT_ADDR_B	"10.77.0.2"
#define VT_ADDR6_A	"fd77::1"
#define VT_ADDR6_B	"fd77::2"

static inline int vt_sh(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Create both namespaces and the veth between them; 0 on success. */
static inline int vt_netns_setup(void)
{
	vt_sh("ip netns del " VT_NS_A " 2>/dev/null; ip netns del " VT_NS_B " 2>/dev/null");
	return vt_sh("set -e;"
		     "ip netns add " VT_NS_A "; ip netns add " VT_NS_B ";"
		     "ip -n " VT_NS_A " link set lo up; ip -n " VT_NS_B " link set lo up;"
		     "ip link add va netns " VT_NS_A " type veth peer name vb netns " VT_NS_B ";"
		     "ip -n " VT_NS_A " addr add " VT_ADDR_A "/24 dev va;"
		     "ip -n " VT_NS_B " addr add " VT_ADDR_B "/24 dev vb;"
		     "ip -n " VT_NS_A " addr add " VT_ADDR6_A "/64 dev va nodad;"
		     "ip -n " VT_NS_B " addr add " VT_ADDR6_B "/64 dev vb nodad;"
		     "ip -n " VT_NS_A " link set va up; ip -n " VT_NS_B " link set vb up");
}

static inline void vt_netns_teardown(void)
{
	vt_sh("ip netns del " VT_NS_A " 2>/dev/null; ip netns del " VT_NS_B " 2>/dev/null");
}

/* vmmigctl of this source tree: ../../userspace/vmmigctl/ from the test binary. */
static inline const char *vt_ctl_path(void)
{
	static char path[PATH_MAX];
	ssize_t n;
	char *slash;

	if (path[0])
		return path;
	n = readlink("/proc/self/exe", path, sizeof(path) - 64);
	slash = n > 0 ? memrchr(path, '/', n) : NULL;
	if (!slash)
		return "vmmigctl";
	snprintf(slash, 64, "/../../userspace/vmmigctl/vmmigctl");
	return path;
}

/* Run "vmmigctl ARGS" in netns @ns (NULL: ours); its exit status. */
static inline int vt_ctl(const char *ns, const char *args)
{
	char cmd[PATH_MAX + 1024];

	snprintf(cmd, sizeof(cmd), "%s%s %s %s", ns ? "ip netns exec " : "", ns ? ns : "",
		 vt_ctl_path(), args);
	return vt_sh(cmd);
}

/* Hosts refuse migrations until enabled: enable both A and B. */
static inline int vt_hosts_enable(void)
{
	return vt_ctl(VT_NS_A, "enable") ?: vt_ctl(VT_NS_B, "enable");
}

/* Move the calling process (or thread) into a named network namespace. */
static inline int vt_enter_netns(const char *name)
{
	char path[128];
	int fd, rc;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return rc;
}

/* A child's exit status; -1 if it did not exit (killed, or not our child). */
static inline int vt_wait_exit(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static inline int vt_open(void)
{
	return open("/dev/" VMMIG_DEVICE_NAME, O_RDWR | O_CLOEXEC);
}

/* The ioctl wrappers return 0 or -errno. */
static inline int vt_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static inline int vt_add_region_flags(int fd, __u32 id, void *addr, __u64 length,
				      __u64 gpa, __u32 flags)
{
	struct vmmig_region r = {
		.size = sizeof(r), .flags = flags, .id = id,
		.uaddr = (unsigned long)addr, .length = length, .gpa = gpa,
	};

	return vt_ioctl(fd, VMMIG_IOC_ADD_REGION, &r);
}

static inline int vt_add_region(int fd, __u32 id, void *addr, __u64 length, __u64 gpa)
{
	return vt_add_region_flags(fd, id, addr, length, gpa, 0);
}

/* Connect to host B (addr NULL: VT_ADDR_B), with a page codec. */
static inline int vt_connect_comp(int fd, const char *addr, __u16 port, __u32 channels,
				  __u32 compression, __s32 level)
{
	struct vmmig_connect c = {
		.size = sizeof(c), .family = AF_INET, .port = port,
		.channels = channels, .timeout_ms = 5000,
		.compression = compression, .level = level,
	};

	if (strchr(addr ? addr : "", ':')) {
		c.family = AF_INET6;
		inet_pton(AF_INET6, addr, c.addr);
	} else {
		inet_pton(AF_INET, addr ? addr : VT_ADDR_B, c.addr);
	}
	return vt_ioctl(fd, VMMIG_IOC_CONNECT, &c);
}

static inline int vt_connect(int fd, const char *addr, __u16 port, __u32 channels)
{
	return vt_connect_comp(fd, addr, port, channels, VMMIG_COMP_NONE, 0);
}

/*
 * CONNECT until the destination listens: @tries of 50 ms, at least a minute
 * (a destination pinning and filling 256 MiB under a loaded TCG host is slow
 * to reach ACCEPT; a destination that never gets there still fails the test).
 */
static inline int vt_connect_comp_retry(int fd, const char *addr, __u16 port,
					__u32 channels, __u32 compression, int tries)
{
	int rc;

	if (tries < 1200)
		tries = 1200;

	do {
		rc = vt_connect_comp(fd, addr, port, channels, compression, 0);
		if (rc != -ECONNREFUSED)
			return rc;
		usleep(50000);
	} while (--tries > 0);
	return rc;
}

static inline int vt_connect_retry(int fd, const char *addr, __u16 port,
				   __u32 channels, int tries)
{
	return vt_connect_comp_retry(fd, addr, port, channels, VMMIG_COMP_NONE, tries);
}

static inline int vt_accept(int fd, __u16 port, __u32 timeout_ms)
{
	struct vmmig_accept a = {
		.size = sizeof(a), .port = port, .timeout_ms = timeout_ms,
	};

	return vt_ioctl(fd, VMMIG_IOC_ACCEPT, &a);
}

static inline int vt_send_dirty(int fd, __u32 region, __u64 first_page,
				__u64 num_pages, const unsigned long *bitmap,
				struct vmmig_dirty *out)
{
	struct vmmig_dirty d = {
		.size = sizeof(d), .region_id = region,
		.first_page = first_page, .num_pages = num_pages,
		.bitmap = (unsigned long)bitmap,
		.bitmap_size = (num_pages + 63) / 64 * 8,
	};
	int rc;

	if (!bitmap) {
		d.flags = VMMIG_DIRTY_ALL;
		d.bitmap_size = 0;
	}
	rc = vt_ioctl(fd, VMMIG_IOC_SEND_DIRTY, &d);
	if (out)
		*out = d;
	return rc;
}

/* Wait for the next event; blob data (if any) goes to buf. */
static inline int vt_wait_event(int fd, struct vmmig_event *ev, void *buf,
				__u64 buf_size, __u32 timeout_ms)
{
	memset(ev, 0, sizeof(*ev));
	ev->size = sizeof(*ev);
	ev->timeout_ms = timeout_ms;
	ev->data = (unsigned long)buf;
	ev->data_size = buf_size;
	return vt_ioctl(fd, VMMIG_IOC_WAIT_EVENT, ev);
}

/* VMMIG_IOC_SET_AUTH; @peer_key NULL for PSK mode. */
static inline int vt_set_auth(int fd, __u32 mode, __u32 flags, const __u8 *key,
			      const __u8 *peer_key, __u32 peer_allow)
{
	struct vmmig_auth a = {
		.size = sizeof(a), .flags = flags, .mode = mode, .peer_allow = peer_allow,
	};
	int rc;

	if (key)
		memcpy(a.key, key, VMMIG_KEY_LEN);
	if (peer_key)
		memcpy(a.peer_key, peer_key, VMMIG_KEY_LEN);
	rc = vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &a);
	memset(&a, 0, sizeof(a));
	return rc;
}

static inline int vt_stats(int fd, struct vmmig_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return vt_ioctl(fd, VMMIG_IOC_GET_STATS, st);
}

/* What a destination child (vt_dest_start()) saw, in memory shared with the test. */
struct vt_dest_result {
	int accept_rc;
	__u16 transport;
	int wait_rc;
	int syncs;
	int blobs;
	__u32 blob_tag;		/* the last blob's */
	__u64 blob_len;
	unsigned char blob[256];
	__u32 end_type;
	int end_error;
	int closed;		/* close_after_sync: the session is closed */
	struct vmmig_stats stats;
};

struct vt_dest {
	unsigned char *mem;	/* MAP_SHARED: the test reads it afterwards */
	size_t len;
	__u32 region;		/* its id */
	__u64 gpa;
	__u32 region_flags;	/* VMMIG_REGION_* */
	const char *netns;	/* the destination host's; NULL: ours */
	__u16 port;
	__u32 accept_ms;
	__u32 event_ms;		/* the longest wait for each event */
	const __u8 *psk;	/* the session's own PSK; NULL: none */
	bool close_after_sync;	/* close the session at the first SYNC, live on */
	/* run on the new session before its region is added; nonzero: fail */
	int (*setup)(int fd, const void *priv);
	const void *priv;
	struct vt_dest_result *res;
};

/* The destination host: accept one session, place it, record the events. */
static inline void vt_dest_child(const struct vt_dest *d)
{
	struct vmmig_accept acc = {
		.size = sizeof(acc), .port = d->port, .timeout_ms = d->accept_ms,
	};
	struct vt_dest_result *r = d->res;
	unsigned char blob[sizeof(r->blob)];
	struct vmmig_event ev;
	int fd;

	if (d->netns && vt_enter_netns(d->netns))
		_exit(2);
	fd = vt_open();
	if (fd < 0 || (d->setup && d->setup(fd, d->priv)) ||
	    vt_add_region_flags(fd, d->region, d->mem, d->len, d->gpa, d->region_flags))
		_exit(3);
	if (d->psk && vt_set_auth(fd, VMMIG_AUTH_PSK, 0, d->psk, NULL, 0))
		_exit(4);
	r->accept_rc = vt_ioctl(fd, VMMIG_IOC_ACCEPT, &acc);
	r->transport = acc.transport;
	if (r->accept_rc)
		_exit(0);
	for (;;) {
		r->wait_rc = vt_wait_event(fd, &ev, blob, sizeof(blob), d->event_ms);
		if (r->wait_rc)
			break;
		if (ev.type == VMMIG_EVENT_SYNC) {
			r->syncs++;
			if (d->close_after_sync) {
				/* Its memory stays mapped: nothing may land in it now. */
				close(fd);
				__atomic_store_n(&r->closed, 1, __ATOMIC_SEQ_CST);
				pause();
			}
		} else if (ev.type == VMMIG_EVENT_BLOB) {
			r->blobs++;
			r->blob_tag = ev.tag;
			r->blob_len = ev.length;
			memcpy(r->blob, blob, ev.length);
		} else {
			r->end_type = ev.type;
			r->end_error = ev.error;
			break;
		}
	}
	vt_stats(fd, &r->stats);
	close(fd);
	_exit(0);
}

/* vt_dest_child() in a child process; its pid (-1: fork failed). */
static inline pid_t vt_dest_start(const struct vt_dest *d)
{
	pid_t pid = fork();

	if (pid == 0)
		vt_dest_child(d);
	return pid;
}

/*
 * The Soft-RoCE rig of the RDMA tests (rdma_test, kvm_test, the bench).
 * rxe in Linux 6.12 is not network-namespace aware: it routes and listens
 * (UDP 4791) in the initial namespace only, so two namespaces joined by
 * veth cannot talk RoCE. Source and destination therefore both live in
 * the initial namespace, with two addresses on one veth end that carries
 * the rxe device; rxe loops the packets back inside the device. The wire
 * protocol, the rdma_cm connect/accept and every verb are the same as
 * between two machines.
 */
#define VT_RXE		"vmmig_rxe0"
#define VT_RIG_DEV	"vmmig_r0"
#define VT_RIG_ADDR_A	"10.78.0.1"
#define VT_RIG_ADDR_B	"10.78.0.2"
#define VT_RIG_ADDR6_B	"fd78::2"

/* The rig gone, and the initial namespace's host settings back to default. */
static inline void vt_rig_teardown(void)
{
	vt_sh("rdma link del " VT_RXE " 2>/dev/null; ip link del " VT_RIG_DEV " 2>/dev/null");
	vt_ctl(NULL, "disable >/dev/null");
	vt_ctl(NULL, "set encryption off auth none >/dev/null");
	vt_ctl(NULL, "set performance compression networks any max-migrations 2 >/dev/null");
}

/* The veth end with both hosts' addresses; with @rxe, its rxe device. */
static inline int vt_rig_setup(bool rxe)
{
	vt_rig_teardown();
	if (vt_sh("set -e; ip link add " VT_RIG_DEV " type veth peer name " VT_RIG_DEV "p;"
		  "ip addr add " VT_RIG_ADDR_A "/24 dev " VT_RIG_DEV ";"
		  "ip addr add " VT_RIG_ADDR_B "/24 dev " VT_RIG_DEV ";"
		  "ip addr add fd78::1/64 dev " VT_RIG_DEV " nodad;"
		  "ip addr add " VT_RIG_ADDR6_B "/64 dev " VT_RIG_DEV " nodad;"
		  "ip link set " VT_RIG_DEV "p up; ip link set " VT_RIG_DEV " up"))
		return -1;
	if (rxe && vt_sh("rdma link add " VT_RXE " type rxe netdev " VT_RIG_DEV))
		return -1;
	return vt_ctl(NULL, "enable");
}

/*
 * RDMA objects of one kind ("qp", "cq", "mr", "pd") the kernel holds for
 * vmmig (the QPs rdma_cm creates for it are rdma_cm's), at most 255.
 */
static inline int vt_rdma_resources(const char *kind)
{
	const char *owner = strcmp(kind, "qp") ? "vmmig" : "rdma_cm";
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "n=$(rdma resource show %s | grep -c 'comm \\[%s\\]');"
		 "[ $n -gt 255 ] && n=255; exit $n", kind, owner);
	return vt_sh(cmd);
}

/*
 * CONNECT over RDMA (@flags VMMIG_CONNECT_HOST_DEFAULTS: the host's
 * performance setting picks), retrying while the destination is not yet
 * accepting, for at least a minute as vt_connect_comp_retry() does.
 */
static inline int vt_connect_rdma(int fd, const char *addr, __u16 port, __u32 channels,
				  __u32 compression, __u32 flags)
{
	struct vmmig_connect c = {
		.size = sizeof(c), .flags = flags, .family = AF_INET, .port = port,
		.channels = channels, .timeout_ms = 10000, .compression = compression,
		.transport = flags ? 0 : VMMIG_TRANSPORT_RDMA,
	};
	int tries = 1200, rc;

	if (strchr(addr, ':')) {
		c.family = AF_INET6;
		inet_pton(AF_INET6, addr, c.addr);
	} else {
		inet_pton(AF_INET, addr, c.addr);
	}
	do {
		rc = vt_ioctl(fd, VMMIG_IOC_CONNECT, &c);
		if (rc != -ECONNREFUSED)
			return rc;
		usleep(50000);
	} while (--tries > 0);
	return rc;
}

#endif /* _VMMIG_TEST_H */
