// SPDX-License-Identifier: GPL-2.0
/*
 * The control plane: the vmmig generic netlink family driven through
 * vmmigctl (and the kernel's YNL tool, against the spec) in two hosts,
 * netns A (source) and B (destination). Each setting changes what
 * CONNECT/ACCEPT and the listener do as uapi/linux/vmmig.h documents;
 * each refusal has its errno and text and touches no memory; who may
 * change what; the session list and the events group.
 */
#include <grp.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#include "vmmig_test.h"
#include "vt_keys.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define PAGES		64
#define FILL		0xee

static bool has(const char *haystack, const char *needle)
{
	return strstr(haystack, needle);
}

/* Each of the strings (up to NULL) in @haystack, each after the one before. */
static bool has_seq(const char *haystack, ...)
{
	const char *needle, *p = haystack;
	va_list ap;

	va_start(ap, haystack);
	while (p && (needle = va_arg(ap, const char *))) {
		p = strstr(p, needle);
		if (p)
			p += strlen(needle);
	}
	va_end(ap);
	return p;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Run vmmigctl in @ns (NULL: ours), its stdout and stderr into @out. */
static int ctl_out(const char *ns, char *out, size_t size, const char *fmt, ...)
{
	char args[512], cmd[PATH_MAX + 1024];
	size_t n = 0;
	va_list ap;
	FILE *p;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s%s %s %s 2>&1", ns ? "ip netns exec " : "", ns ? ns : "",
		 vt_ctl_path(), args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n < size - 1) {
		size_t got = fread(out + n, 1, size - 1 - n, p);

		if (!got)
			break;
		n += got;
	}
	out[n] = '\0';
	rc = pclose(p);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* A number in vmmigctl's flat JSON: "key":N; -1 if absent. */
static long long json_num(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static long long host_num(const char *ns, const char *key)
{
	char out[4096];

	if (ctl_out(ns, out, sizeof(out), "-j show"))
		return -2;
	return json_num(out, key);
}

/* Poll until @ns counts @n sessions against max-migrations (up to 10 s). */
static bool wait_active(const char *ns, long long n)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (host_num(ns, "active-migrations") == n)
			return true;
		usleep(50000);
	}
	return false;
}

static unsigned char src_byte(size_t i)
{
	return i * 7 + i / PG;
}

/* The source's memory is as the fixture wrote it: a refusal changed nothing. */
static bool src_intact(const unsigned char *src)
{
	size_t i;

	for (i = 0; i < PAGES * PG; i++)
		if (src[i] != src_byte(i))
			return false;
	return true;
}

static bool untouched(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != FILL)
			return false;
	return true;
}

/* What a destination child saw. */
struct dest_res {
	int accept_rc;
	long long accept_ms;	/* how long ACCEPT took */
	__u32 channels;
	__u32 end_type;
	int end_error;
	struct vmmig_stats stats;
};

/*
 * A destination in netns B: register @mem, ACCEPT on @port, then read
 * events until the session ends; results in @r (shared memory).
 */
static pid_t dest_start(unsigned char *mem, __u16 port, __u32 accept_ms, struct dest_res *r)
{
	struct vmmig_accept a = { .size = sizeof(a), .port = port, .timeout_ms = accept_ms };
	struct vmmig_event ev;
	long long t0;
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	memset(r, 0, sizeof(*r));
	if (vt_enter_netns(VT_NS_B))
		_exit(2);
	fd = vt_open();
	if (fd < 0 || vt_add_region(fd, 1, mem, PAGES * PG, 0))
		_exit(3);
	t0 = now_ms();
	r->accept_rc = vt_ioctl(fd, VMMIG_IOC_ACCEPT, &a);
	r->accept_ms = now_ms() - t0;
	r->channels = a.channels;
	while (!r->accept_rc && !vt_wait_event(fd, &ev, NULL, 0, 20000)) {
		if (ev.type == VMMIG_EVENT_FINISHED || ev.type == VMMIG_EVENT_ABORTED) {
			r->end_type = ev.type;
			r->end_error = ev.error;
			break;
		}
	}
	vt_stats(fd, &r->stats);
	close(fd);
	_exit(0);
}

static int connect_ex(int fd, const char *addr, __u16 port, __u32 channels, __u32 flags,
		      __u32 compression, __s32 level)
{
	struct vmmig_connect c = {
		.size = sizeof(c), .flags = flags, .family = AF_INET, .port = port,
		.channels = channels, .timeout_ms = 5000, .compression = compression,
		.level = level,
	};

	if (addr && strchr(addr, ':')) {
		c.family = AF_INET6;
		inet_pton(AF_INET6, addr, c.addr);
	} else {
		inet_pton(AF_INET, addr ? addr : VT_ADDR_B, c.addr);
	}
	return vt_ioctl(fd, VMMIG_IOC_CONNECT, &c);
}

/* CONNECT, retrying while the destination's listener is not up yet. */
static int connect_retry(int fd, const char *addr, __u16 port, __u32 channels, __u32 flags)
{
	int rc, tries = 200;

	do {
		rc = connect_ex(fd, addr, port, channels, flags, VMMIG_COMP_NONE, 0);
		if (rc != -ECONNREFUSED)
			return rc;
		usleep(50000);
	} while (--tries);
	return rc;
}

/* Host A's source memory and session, host B's destination memory. */
struct env {
	unsigned char *src;
	unsigned char *dst;
	struct dest_res *res;
	int fd;			/* a source session in A, region 1 registered */
};

FIXTURE(ctl) {
	struct env e;
};

FIXTURE_SETUP(ctl)
{
	size_t i;

	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->e.src = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->e.src);
	for (i = 0; i < PAGES * PG; i++)
		self->e.src[i] = src_byte(i);
	self->e.dst = vt_map_shared(PAGES * PG);
	self->e.res = vt_map_shared(sizeof(*self->e.res));
	ASSERT_NE(NULL, self->e.dst);
	ASSERT_NE(NULL, self->e.res);
	memset(self->e.dst, FILL, PAGES * PG);
	self->e.fd = vt_open();
	ASSERT_LE(0, self->e.fd);
	ASSERT_EQ(0, vt_add_region(self->e.fd, 1, self->e.src, PAGES * PG, 0));
}

FIXTURE_TEARDOWN(ctl)
{
	if (self->e.fd >= 0)
		close(self->e.fd);
	munmap(self->e.src, PAGES * PG);
	munmap(self->e.dst, PAGES * PG);
	munmap(self->e.res, sizeof(*self->e.res));
	vt_netns_teardown();
}

/* A fresh source session in A for the next CONNECT. */
static int reopen_source(struct env *e)
{
	close(e->fd);
	e->fd = vt_open();
	if (e->fd < 0 || vt_add_region(e->fd, 1, e->src, PAGES * PG, 0))
		return -1;
	return 0;
}

/* One whole migration A -> B on @port; 0 if the memory arrived. */
static int migrate(struct env *e, const char *addr, __u16 port, __u32 channels, __u32 flags)
{
	pid_t pid;
	int rc;

	memset(e->dst, FILL, PAGES * PG);
	pid = dest_start(e->dst, port, 15000, e->res);
	if (pid < 0)
		return -1;
	rc = connect_retry(e->fd, addr, port, channels, flags);
	if (!rc)
		rc = vt_send_dirty(e->fd, 1, 0, PAGES, NULL, NULL);
	if (!rc)
		rc = vt_ioctl(e->fd, VMMIG_IOC_FINISH, NULL);
	if (rc)
		kill(pid, SIGKILL);
	if (vt_wait_exit(pid) || rc)
		return rc ? rc : -1;
	if (e->res->end_type != VMMIG_EVENT_FINISHED)
		return -2;
	return memcmp(e->src, e->dst, PAGES * PG) ? -3 : 0;
}

/* Defaults as documented, and each namespace a host of its own. */
TEST_F_TIMEOUT(ctl, defaults_and_settings_per_netns, 120)
{
	static const char *const defaults[] = {
		"\"incoming\":false", "\"outgoing\":false", "\"port\":6600",
		"\"networks\":\"any\"", "\"network-list\":[]",
		"\"performance\":\"compression\"", "\"channels\":2", "\"compression\":\"lz4\"",
		"\"max-migrations\":2", "\"active-migrations\":0", "\"refused-network\":0",
		"\"refused-disabled\":0", "\"refused-busy\":0",
	};
	char out[4096];
	unsigned int i;

	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	for (i = 0; i < ARRAY_SIZE(defaults); i++)
		EXPECT_TRUE(has(out, defaults[i])) TH_LOG("default %u missing: %s", i, out);

	ASSERT_EQ(0, vt_ctl(NULL, "set port 6611 channels 5 performance tcp"));
	ASSERT_EQ(0, vt_ctl(NULL, "set compression zstd max-migrations 7 networks listed"));
	ASSERT_EQ(0, vt_ctl(NULL, "enable outgoing"));
	ASSERT_EQ(0, vt_ctl(NULL, "network add 192.168.10.0/24"));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has_seq(out, "\"incoming\":false,\"outgoing\":true,\"port\":6611,",
			    "\"networks\":\"listed\",\"network-list\":[\"192.168.10.0/24\"],",
			    "\"performance\":\"tcp\",\"channels\":5,\"compression\":\"zstd\",",
			    "\"max-migrations\":7", NULL)) TH_LOG("%s", out);

	/* B is another host: untouched. */
	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "-j show"));
	for (i = 0; i < ARRAY_SIZE(defaults); i++)
		EXPECT_TRUE(has(out, defaults[i])) TH_LOG("B: default %u missing: %s", i, out);

	/* enable/disable without a direction: both. */
	ASSERT_EQ(0, vt_ctl(NULL, "enable"));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has(out, "\"incoming\":true,\"outgoing\":true"));
	ASSERT_EQ(0, vt_ctl(NULL, "disable"));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has(out, "\"incoming\":false,\"outgoing\":false"));

	/* The text form says the same. */
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "show"));
	EXPECT_TRUE(has_seq(out, "incoming: disabled\noutgoing: disabled\nport: 6611\n",
			    "networks: listed\n  192.168.10.0/24\nperformance: tcp\n", NULL))
		TH_LOG("%s", out);
}

struct reject {
	const char *args;
	int exit;
	const char *text[2];	/* in the output, one after the other */
};

/* Every refusal: exit code, the kernel's text, and nothing changed. */
TEST_F_TIMEOUT(ctl, rejections_name_the_cause_and_change_nothing, 300)
{
	static const struct reject rejects[] = {
		{ "set port 0", 2, { "set: port: integer out of range, allowed 1..65535",
				     " (Numerical result out of range)" } },
		{ "set channels 17", 2, { "set: channels: integer out of range, allowed 1..16" } },
		{ "set channels 0", 2, { "set: channels: integer out of range, allowed 1..16" } },
		{ "set max-migrations 0", 2, { "max-migrations: integer out of range",
					       ", allowed 1..256" } },
		{ "set max-migrations 257", 2, { "max-migrations: integer out of range" } },
		/* all or nothing: the good port is not taken either */
		{ "set port 6612 channels 99", 2, { "channels: integer out of range" } },
		{ "set compression none", 1, { "compression 'none': not lz4 or zstd" } },
		{ "set port 70000", 1, { "port '70000': not a number from 1 to 65535" } },
		{ "set networks some", 1, { "networks 'some': not any or listed" } },
		{ "set frobs 1", 1, { "'frobs': no such setting" } },
		{ "set port", 1, { "a setting without a value" } },
		{ "enable sideways", 1, { "'sideways': not incoming or outgoing" } },
		{ "frobnicate", 1, { "'frobnicate': no such command" } },
		{ "network add 10.77.0.1/24", 2,
		  { "network add 10.77.0.1/24: address has bits set past the prefix length",
		    " (Invalid argument)" } },
		{ "network add 10.0.0.0/33", 2, { "prefix length longer than the address",
						  " (Numerical result out of range)" } },
		{ "network add fd77::/129", 2, { "prefix length: integer out of range",
						 ", allowed 0..128" } },
		{ "network add fd77::1/64", 2, { "address has bits set past the prefix length" } },
		{ "network add 10.300.0.0/16", 1, { "'10.300.0.0': not an IPv4 or IPv6 address" } },
		{ "network add 10.0.0.0/x", 1, { "'x': not a prefix length" } },
		{ "network del 10.1.0.0/16", 2,
		  { "network del 10.1.0.0/16: network not in the list",
		    " (No such file or directory)" } },
	};
	char out[4096], args[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rejects); i++) {
		EXPECT_EQ(rejects[i].exit, ctl_out(NULL, out, sizeof(out), "%s", rejects[i].args))
			TH_LOG("vmmigctl %s: %s", rejects[i].args, out);
		EXPECT_TRUE(has_seq(out, rejects[i].text[0], rejects[i].text[1] ?: "", NULL))
			TH_LOG("vmmigctl %s said: %s", rejects[i].args, out);
	}
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has_seq(out, "\"port\":6600,\"networks\":\"any\",\"network-list\":[],",
			    "\"performance\":\"compression\",\"channels\":2,",
			    "\"compression\":\"lz4\",\"max-migrations\":2", NULL))
		TH_LOG("%s", out);

	/* Duplicates, and a full list. */
	ASSERT_EQ(0, vt_ctl(NULL, "network add 10.0.0.0/8"));
	EXPECT_EQ(2, ctl_out(NULL, out, sizeof(out), "network add 10.0.0.0/8"));
	EXPECT_TRUE(has(out, "network already in the list (File exists)")) TH_LOG("%s", out);
	for (i = 1; i < VMMIG_MAX_NETWORKS; i++) {
		snprintf(args, sizeof(args), "network add fd00:%x::/32", i);
		ASSERT_EQ(0, vt_ctl(NULL, args));
	}
	EXPECT_EQ(2, ctl_out(NULL, out, sizeof(out), "network add 172.16.0.0/12"));
	EXPECT_TRUE(has(out, "network list full (No space left on device)")) TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j network list"));
	EXPECT_EQ(0, strncmp(out, "[\"10.0.0.0/8\",\"fd00:1::/32\",\"fd00:2::/32\",", 40));
	EXPECT_FALSE(has(out, "172.16"));

	/* Deleting keeps the order of the others. */
	ASSERT_EQ(0, vt_ctl(NULL, "network del fd00:1::/32"));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "network list"));
	EXPECT_EQ(0, strncmp(out, "10.0.0.0/8\nfd00:2::/32\nfd00:3::/32\n", 35)) TH_LOG("%s", out);
	ASSERT_EQ(0, vt_ctl(NULL, "network add 172.16.0.0/12"));

	/* The usage and help texts, and what they exit with. */
	EXPECT_EQ(1, ctl_out(NULL, out, sizeof(out), ""));
	EXPECT_TRUE(has(out, "Usage: vmmigctl"));
	EXPECT_EQ(0, ctl_out(NULL, out, sizeof(out), "--help"));
	EXPECT_TRUE(has(out, "max-migrations N"));
}

struct rate_case {
	const char *rate;
	const char *bytes;	/* what the kernel holds, as -j show prints it */
	const char *shown;	/* and as show writes it back */
};

/*
 * The bandwidth setting takes tc(8)'s units: decimal and binary, bits and
 * bytes, any case, fractions; a bare number is bits, as in tc. Show gives
 * bytes per second and the rate as tc would take it back.
 */
TEST_F_TIMEOUT(ctl, bandwidth_rates_and_units, 180)
{
	static const struct rate_case rates[] = {
		{ "500mbit", "62500000", "500mbit" },
		{ "1gbit", "125000000", "1gbit" },
		{ "2Gbit", "250000000", "2gbit" },
		{ "100mbps", "100000000", "800mbit" },
		{ "8kbit", "1000", "8kbit" },
		{ "8000", "1000", "8kbit" },
		{ "8000bit", "1000", "8kbit" },
		{ "1kbps", "1000", "8kbit" },
		{ "1kibps", "1024", "8192bit" },
		{ "1mibit", "131072", "1048576bit" },
		{ "1.5mbit", "187500", "1500kbit" },
		{ "0.25gbps", "250000000", "2gbit" },
		{ "1tibps", "1099511627776", "8796093022208bit" },
		{ "10tbit", "1250000000000", "10tbit" },
		{ "18446744073709551615bps", "18446744073709551615", "18446744073709551615bps" },
		{ "unlimited", "0", "unlimited" },
		{ "0", "0", "unlimited" },
	};
	static const struct reject rejects[] = {
		{ "set bandwidth 7999bit", 1, { "bandwidth '7999bit': below the smallest cap, ",
						"8kbit (1000 bytes per second)" } },
		{ "set bandwidth 1kibit", 1, { "below the smallest cap" } },
		{ "set bandwidth 18446744073709551616bps", 1,
		  { "too large: at most 2^64 - 1 bytes per second" } },
		{ "set bandwidth 99999999999999999999999999999tbit", 1, { "too large" } },
		{ "set bandwidth fast", 1, { "bandwidth 'fast': not a rate (e.g. 500mbit" } },
		{ "set bandwidth 12xbit", 1, { "bandwidth '12xbit': unknown unit" } },
		{ "set bandwidth 1.", 1, { "not a rate" } },
		{ "set bandwidth -5mbit", 1, { "not a rate" } },
		{ "set bandwidth ''", 1, { "not a rate" } },
		{ "set bandwidth 1mbit port 0", 2, { "port: integer out of range" } },
		{ "set bandwidth", 1, { "a setting without a value" } },
	};
	char out[4096], want[96];
	unsigned int i;

	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has(out, "\"bandwidth\":0,\"bandwidth-rate\":\"unlimited\"")) TH_LOG("%s", out);
	for (i = 0; i < ARRAY_SIZE(rates); i++) {
		ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "set bandwidth %s", rates[i].rate))
			TH_LOG("%s: %s", rates[i].rate, out);
		ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
		snprintf(want, sizeof(want), "\"bandwidth\":%s,\"bandwidth-rate\":\"%s\"",
			 rates[i].bytes, rates[i].shown);
		EXPECT_TRUE(has(out, want)) TH_LOG("%s: want %s in %s", rates[i].rate, want, out);
		ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "show"));
		snprintf(want, sizeof(want), "\nbandwidth: %s\n", rates[i].shown);
		EXPECT_TRUE(has(out, want)) TH_LOG("%s: want %s in %s", rates[i].rate, want, out);
	}
	/* What show wrote, set takes back to the same bytes. */
	ASSERT_EQ(0, vt_ctl(NULL, "set bandwidth 8796093022208bit"));
	EXPECT_EQ(1099511627776LL, host_num(NULL, "bandwidth"));

	ASSERT_EQ(0, vt_ctl(NULL, "set bandwidth 300mbit"));
	for (i = 0; i < ARRAY_SIZE(rejects); i++) {
		EXPECT_EQ(rejects[i].exit, ctl_out(NULL, out, sizeof(out), "%s", rejects[i].args))
			TH_LOG("vmmigctl %s: %s", rejects[i].args, out);
		EXPECT_TRUE(has_seq(out, rejects[i].text[0], rejects[i].text[1] ?: "", NULL))
			TH_LOG("vmmigctl %s said: %s", rejects[i].args, out);
	}
	EXPECT_EQ(37500000, host_num(NULL, "bandwidth"));
	/* Another host: its own setting. */
	EXPECT_EQ(0, host_num(VT_NS_B, "bandwidth"));

	/* vmmig.conf: the same units; left out, the default (no cap). */
	vt_sh("printf 'bandwidth = 1.2gbit\\n' > /tmp/vmmig-ctl-test-bw.conf");
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "apply /tmp/vmmig-ctl-test-bw.conf"))
		TH_LOG("%s", out);
	EXPECT_EQ(150000000, host_num(NULL, "bandwidth"));
	vt_sh("printf 'port = 6600\\nbandwidth = 5 mbit\\n' > /tmp/vmmig-ctl-test-bw.conf");
	EXPECT_EQ(1, ctl_out(NULL, out, sizeof(out), "apply /tmp/vmmig-ctl-test-bw.conf"));
	EXPECT_TRUE(has(out, "vmmig-ctl-test-bw.conf:2: bandwidth '5 mbit': unknown unit"))
		TH_LOG("%s", out);
	EXPECT_EQ(150000000, host_num(NULL, "bandwidth"));
	vt_sh("printf 'port = 6600\\n' > /tmp/vmmig-ctl-test-bw.conf");
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "apply /tmp/vmmig-ctl-test-bw.conf"));
	EXPECT_EQ(0, host_num(NULL, "bandwidth"));
	unlink("/tmp/vmmig-ctl-test-bw.conf");
}

/* Disabled by default: both ends fail at once with EACCES, nothing moves. */
TEST_F_TIMEOUT(ctl, disabled_host_refuses, 120)
{
	struct env *e = &self->e;
	struct vmmig_stats st;
	pid_t pid;
	int fd_b;

	EXPECT_EQ(-EACCES, connect_ex(e->fd, NULL, 6630, 1, 0, 0, 0));
	ASSERT_EQ(0, vt_stats(e->fd, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	EXPECT_TRUE(src_intact(e->src));
	EXPECT_EQ(VMMIG_ROLE_NONE, st.role);
	EXPECT_EQ(1, host_num(NULL, "refused-disabled"));

	pid = dest_start(e->dst, 6630, 5000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(-EACCES, e->res->accept_rc);
	EXPECT_GT(2000, e->res->accept_ms);
	EXPECT_EQ(1, host_num(VT_NS_B, "refused-disabled"));
	EXPECT_TRUE(untouched(e->dst, PAGES * PG));
	EXPECT_TRUE(src_intact(e->src));

	/* One direction each way: A -> B works... */
	ASSERT_EQ(0, vt_ctl(NULL, "enable outgoing"));
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "enable incoming"));
	EXPECT_EQ(0, migrate(e, NULL, 6630, 1, 0));

	/* ...and B -> A is still refused at both ends. */
	ASSERT_EQ(0, reopen_source(e));
	EXPECT_EQ(-EACCES, vt_accept(e->fd, 6631, 3000));
	/* A session belongs to the namespace it was opened in. */
	ASSERT_EQ(0, vt_enter_netns(VT_NS_B));
	fd_b = vt_open();
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	ASSERT_LE(0, fd_b);
	ASSERT_EQ(0, vt_add_region(fd_b, 1, e->src, PAGES * PG, 0));
	EXPECT_EQ(-EACCES, connect_ex(fd_b, VT_ADDR_A, 6631, 1, 0, 0, 0));
	close(fd_b);
	EXPECT_EQ(2, host_num(NULL, "refused-disabled"));
	EXPECT_EQ(2, host_num(VT_NS_B, "refused-disabled"));
}

/* Disabling incoming also stops a listener that already waits. */
TEST_F_TIMEOUT(ctl, disable_incoming_resets_waiting_listener, 120)
{
	struct env *e = &self->e;
	pid_t pid;

	ASSERT_EQ(0, vt_hosts_enable());
	/* Long enough to outlast a slow, loaded TCG VM; it ends in a timeout. */
	pid = dest_start(e->dst, 6631, 12000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_TRUE(wait_active(VT_NS_B, 1));
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "disable incoming"));
	EXPECT_EQ(-ECONNRESET, connect_retry(e->fd, NULL, 6631, 1, 0));
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(-ETIMEDOUT, e->res->accept_rc);
	EXPECT_TRUE(untouched(e->dst, PAGES * PG));
	EXPECT_TRUE(src_intact(e->src));
	EXPECT_EQ(1, host_num(VT_NS_B, "refused-disabled"));
}

/*
 * networks listed: a peer outside the list is reset before the listener
 * reads a byte (a silent client learns it at once, not after the 5 s
 * handshake timeout); inside it, or with networks any, it migrates.
 */
TEST_F_TIMEOUT(ctl, network_list_refuses_before_any_byte, 180)
{
	struct env *e = &self->e;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(6632) };
	struct pollfd pfd;
	long long t0;
	char byte;
	pid_t pid;
	int s;

	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "set networks listed"));
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "network add 10.99.0.0/24"));
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "network add fd99::/64"));
	pid = dest_start(e->dst, 6632, 15000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_TRUE(wait_active(VT_NS_B, 1));

	t0 = now_ms();
	EXPECT_EQ(-ECONNRESET, connect_retry(e->fd, NULL, 6632, 2, 0));
	EXPECT_GT(4000, now_ms() - t0);

	/* A client that connects and says nothing. */
	inet_pton(AF_INET, VT_ADDR_B, &sin.sin_addr);
	s = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	t0 = now_ms();
	/*
	 * The listener may accept and reset the connection before this task
	 * runs again after the handshake (a loaded VM): connect() reports it.
	 */
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin))) {
		EXPECT_EQ(ECONNRESET, errno);
	} else {
		pfd = (struct pollfd){ .fd = s, .events = POLLIN };
		EXPECT_EQ(1, poll(&pfd, 1, 4000));
		EXPECT_EQ(-1, recv(s, &byte, 1, MSG_DONTWAIT));
		EXPECT_EQ(ECONNRESET, errno);
	}
	EXPECT_GT(4000, now_ms() - t0);
	close(s);

	EXPECT_EQ(-ECONNRESET, connect_retry(e->fd, VT_ADDR6_B, 6632, 1, 0));
	EXPECT_EQ(3, host_num(VT_NS_B, "refused-network"));
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(-ETIMEDOUT, e->res->accept_rc);
	EXPECT_TRUE(untouched(e->dst, PAGES * PG));
	EXPECT_TRUE(src_intact(e->src));

	/* On the list: IPv4 goes through, IPv6 (not listed) is still refused. */
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "network add 10.77.0.0/24"));
	EXPECT_EQ(0, migrate(e, NULL, 6632, 2, 0));
	ASSERT_EQ(0, reopen_source(e));
	pid = dest_start(e->dst, 6633, 10000, e->res);
	ASSERT_LE(0, pid);
	EXPECT_EQ(-ECONNRESET, connect_retry(e->fd, VT_ADDR6_B, 6633, 1, 0));
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(4, host_num(VT_NS_B, "refused-network"));

	/* networks any: the list is kept but not enforced. */
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "set networks any"));
	ASSERT_EQ(0, reopen_source(e));
	EXPECT_EQ(0, migrate(e, VT_ADDR6_B, 6633, 1, 0));
	EXPECT_EQ(4, host_num(VT_NS_B, "refused-network"));
}

/* Port 0 in CONNECT and ACCEPT is the host's port setting. */
TEST_F_TIMEOUT(ctl, port_setting, 120)
{
	struct env *e = &self->e;
	char out[4096];
	pid_t pid;

	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "set port 6640"));
	pid = dest_start(e->dst, 0, 15000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_TRUE(wait_active(VT_NS_B, 1));
	/* A still says 6600, where nobody listens. */
	EXPECT_EQ(-ECONNREFUSED, connect_ex(e->fd, NULL, 0, 1, 0, 0, 0));
	ASSERT_EQ(0, vt_ctl(NULL, "set port 6640"));
	ASSERT_EQ(0, connect_retry(e->fd, NULL, 0, 1, 0));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j sessions"));
	EXPECT_TRUE(has(out, "\"peer\":\"10.77.0.2\",\"peer-port\":6640")) TH_LOG("%s", out);
	ASSERT_EQ(0, vt_send_dirty(e->fd, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(0, e->res->accept_rc);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, e->res->end_type);
	EXPECT_EQ(0, memcmp(e->src, e->dst, PAGES * PG));
}

/*
 * max-migrations counts sessions waiting in ACCEPT/CONNECT and active
 * ones, both directions: one more fails with EBUSY at once.
 */
TEST_F_TIMEOUT(ctl, max_migrations_busy_at_once, 180)
{
	struct env *e = &self->e;
	unsigned char *dst2 = vt_map_shared(PAGES * PG);
	struct dest_res *res2 = vt_map_shared(sizeof(*res2));
	struct vmmig_stats st;
	pid_t p1, p2, p3;
	long long t0;
	int fd2;

	ASSERT_NE(NULL, dst2);
	ASSERT_NE(NULL, res2);
	memset(dst2, FILL, PAGES * PG);
	ASSERT_EQ(0, vt_hosts_enable());
	p1 = dest_start(e->dst, 6650, 30000, e->res);
	ASSERT_LE(0, p1);
	p2 = dest_start(dst2, 6650, 30000, res2);
	ASSERT_LE(0, p2);
	ASSERT_TRUE(wait_active(VT_NS_B, 2));

	/* The third ACCEPT in B: EBUSY at once, its memory untouched. */
	ASSERT_EQ(0, vt_enter_netns(VT_NS_B));
	fd2 = vt_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	ASSERT_EQ(0, vt_add_region(fd2, 1, e->src, PAGES * PG, 0));
	t0 = now_ms();
	EXPECT_EQ(-EBUSY, vt_accept(fd2, 6650, 10000));
	EXPECT_GT(2000, now_ms() - t0);
	ASSERT_EQ(0, vt_stats(fd2, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	EXPECT_TRUE(src_intact(e->src));
	EXPECT_EQ(1, host_num(VT_NS_B, "refused-busy"));
	EXPECT_EQ(2, host_num(VT_NS_B, "active-migrations"));
	/* Raised, the same ACCEPT is let in (and times out: nobody comes). */
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "set max-migrations 3"));
	EXPECT_EQ(-ETIMEDOUT, vt_accept(fd2, 6650, 300));
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "set max-migrations 2"));

	/* A allows one: an active source counts, the second fails at once. */
	ASSERT_EQ(0, vt_ctl(NULL, "set max-migrations 1"));
	ASSERT_EQ(0, connect_retry(e->fd, NULL, 6650, 1, 0));
	close(fd2);
	fd2 = vt_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, vt_add_region(fd2, 1, e->src, PAGES * PG, 0));
	t0 = now_ms();
	EXPECT_EQ(-EBUSY, connect_ex(fd2, NULL, 6650, 1, 0, 0, 0));
	EXPECT_GT(2000, now_ms() - t0);
	ASSERT_EQ(0, vt_stats(fd2, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	EXPECT_TRUE(src_intact(e->src));
	EXPECT_EQ(1, host_num(NULL, "refused-busy"));

	/* Once the first finishes, its place is free. */
	ASSERT_EQ(0, vt_send_dirty(e->fd, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_FINISH, NULL));
	EXPECT_EQ(0, host_num(NULL, "active-migrations"));
	ASSERT_EQ(0, connect_retry(fd2, NULL, 6650, 1, 0));
	ASSERT_EQ(0, vt_send_dirty(fd2, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(fd2, VMMIG_IOC_FINISH, NULL));
	close(fd2);
	ASSERT_EQ(0, vt_wait_exit(p1));
	ASSERT_EQ(0, vt_wait_exit(p2));
	EXPECT_EQ(VMMIG_EVENT_FINISHED, e->res->end_type);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, res2->end_type);
	EXPECT_EQ(0, memcmp(e->src, e->dst, PAGES * PG));
	EXPECT_EQ(0, memcmp(e->src, dst2, PAGES * PG));

	/* Finished sessions still open are not counted. */
	p3 = dest_start(dst2, 6651, 200, res2);
	ASSERT_LE(0, p3);
	ASSERT_EQ(0, vt_wait_exit(p3));
	EXPECT_EQ(-ETIMEDOUT, res2->accept_rc);
	munmap(dst2, PAGES * PG);
	munmap(res2, sizeof(*res2));
}

/* VMMIG_CONNECT_HOST_DEFAULTS takes the host's performance option. */
TEST_F_TIMEOUT(ctl, connect_with_host_defaults, 180)
{
	struct env *e = &self->e;
	struct vmmig_stats st;

	ASSERT_EQ(0, vt_hosts_enable());
	/* Without the flag, channels 0 is still wrong; with it, no codec may be named. */
	EXPECT_EQ(-EINVAL, connect_ex(e->fd, NULL, 6660, 0, 0, 0, 0));
	EXPECT_EQ(-EINVAL, connect_ex(e->fd, NULL, 6660, 0, VMMIG_CONNECT_HOST_DEFAULTS,
				      VMMIG_COMP_LZ4, 0));
	EXPECT_EQ(-EINVAL, connect_ex(e->fd, NULL, 6660, 0, VMMIG_CONNECT_HOST_DEFAULTS,
				      0, 1));
	EXPECT_EQ(-EINVAL, connect_ex(e->fd, NULL, 6660, 17, VMMIG_CONNECT_HOST_DEFAULTS,
				      0, 0));
	EXPECT_EQ(-EINVAL, connect_ex(e->fd, NULL, 6660, 1, 0x2, 0, 0));
	EXPECT_EQ(0, host_num(NULL, "refused-busy") + host_num(NULL, "refused-disabled"));

	ASSERT_EQ(0, vt_ctl(NULL, "set compression zstd performance compression channels 3"));
	ASSERT_EQ(0, migrate(e, NULL, 6660, 0, VMMIG_CONNECT_HOST_DEFAULTS));
	ASSERT_EQ(0, vt_stats(e->fd, &st));
	EXPECT_EQ(3, st.channels);
	EXPECT_EQ(VMMIG_COMP_ZSTD, st.compression);
	EXPECT_EQ(3, e->res->channels);
	EXPECT_EQ(VMMIG_COMP_ZSTD, e->res->stats.compression);

	/* tcp: no codec; channels given with the flag win over the host's. */
	ASSERT_EQ(0, vt_ctl(NULL, "set performance tcp"));
	ASSERT_EQ(0, reopen_source(e));
	ASSERT_EQ(0, migrate(e, NULL, 6661, 2, VMMIG_CONNECT_HOST_DEFAULTS));
	ASSERT_EQ(0, vt_stats(e->fd, &st));
	EXPECT_EQ(2, st.channels);
	EXPECT_EQ(VMMIG_COMP_NONE, st.compression);
	EXPECT_EQ(VMMIG_COMP_NONE, e->res->stats.compression);
}

/*
 * Run @cmd (a shell command line) as nobody in netns A, in a new user
 * namespace if @userns (mapping nobody to its root), with a new network
 * namespace too if @netns. Its exit status, its output in @out; 99 if the
 * kernel allows no unprivileged user namespace, 96 if mapping failed.
 */
static int run_unprivileged(bool userns, bool netns, const char *cmd, char *out, size_t size)
{
	int pipefd[2], status;
	ssize_t n, len = 0;
	char map[32];
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd;

		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(98);
		/* setuid() made us undumpable: /proc/self/ would stay root's. */
		prctl(PR_SET_DUMPABLE, 1);
		if (userns) {
			if (unshare(CLONE_NEWUSER | (netns ? CLONE_NEWNET : 0)))
				_exit(99);
			fd = open("/proc/self/setgroups", O_WRONLY);
			if (fd < 0 || write(fd, "deny", 4) != 4)
				_exit(96);
			close(fd);
			snprintf(map, sizeof(map), "0 65534 1");
			fd = open("/proc/self/uid_map", O_WRONLY);
			if (fd < 0 || write(fd, map, strlen(map)) < 0)
				_exit(96);
			close(fd);
			fd = open("/proc/self/gid_map", O_WRONLY);
			if (fd < 0 || write(fd, map, strlen(map)) < 0)
				_exit(96);
			close(fd);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(97);
	}
	close(pipefd[1]);
	while (len < (ssize_t)size - 1 &&
	       (n = read(pipefd[0], out + len, size - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * Changes need CAP_NET_ADMIN over the namespace's user namespace: not a
 * plain user, not the root of an unprivileged user namespace. Such a root
 * rules its own network namespace only. Reading is for everyone.
 */
TEST_F_TIMEOUT(ctl, unprivileged_cannot_change_settings, 120)
{
	char cmd[3 * PATH_MAX + 64], out[4096];
	int rc;

	snprintf(cmd, sizeof(cmd), "%s enable", vt_ctl_path());
	rc = run_unprivileged(false, false, cmd, out, sizeof(out));
	EXPECT_EQ(4, rc) TH_LOG("%s", out);
	EXPECT_TRUE(has_seq(out, "vmmigctl: enable: Operation not permitted\n",
			    "vmmigctl: changing settings needs CAP_NET_ADMIN", NULL))
		TH_LOG("%s", out);

	snprintf(cmd, sizeof(cmd), "%s network add 10.0.0.0/8", vt_ctl_path());
	rc = run_unprivileged(true, false, cmd, out, sizeof(out));
	if (rc == 99)
		SKIP(return, "no unprivileged user namespaces here");
	EXPECT_EQ(4, rc) TH_LOG("%s", out);
	snprintf(cmd, sizeof(cmd), "%s set max-migrations 9", vt_ctl_path());
	EXPECT_EQ(4, run_unprivileged(true, false, cmd, out, sizeof(out))) TH_LOG("%s", out);

	snprintf(cmd, sizeof(cmd), "%s -j show", vt_ctl_path());
	EXPECT_EQ(0, run_unprivileged(true, false, cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"max-migrations\":2")) TH_LOG("%s", out);

	/* Its own network namespace is its own host. */
	snprintf(cmd, sizeof(cmd), "%s enable && %s set max-migrations 9 && %s -j show",
		 vt_ctl_path(), vt_ctl_path(), vt_ctl_path());
	EXPECT_EQ(0, run_unprivileged(true, true, cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"incoming\":true,\"outgoing\":true")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"max-migrations\":9")) TH_LOG("%s", out);

	/* A is as it was. */
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has(out, "\"incoming\":false,\"outgoing\":false")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"network-list\":[]")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"max-migrations\":2")) TH_LOG("%s", out);
}

/* The session list of each host, in each state, with its statistics. */
TEST_F_TIMEOUT(ctl, sessions_list, 120)
{
	struct env *e = &self->e;
	char out[8192];
	pid_t pid;
	FILE *p;
	int n;

	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j sessions"));
	EXPECT_TRUE(has(out, "{\"id\":1,\"direction\":\"none\",\"state\":\"new\","))
		TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "-j sessions"));
	EXPECT_EQ(0, strcmp(out, "[]\n")) TH_LOG("%s", out);

	ASSERT_EQ(0, vt_hosts_enable());
	pid = dest_start(e->dst, 6670, 15000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_TRUE(wait_active(VT_NS_B, 1));
	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "-j sessions"));
	EXPECT_TRUE(has(out, "\"direction\":\"incoming\",\"state\":\"new\",\"channels\":0"))
		TH_LOG("waiting in ACCEPT: %s", out);

	ASSERT_EQ(0, connect_retry(e->fd, NULL, 6670, 2, 0));
	ASSERT_EQ(0, vt_send_dirty(e->fd, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_SYNC, NULL));
	ASSERT_EQ(0, vt_send_dirty(e->fd, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_SYNC, NULL));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j sessions"));
	EXPECT_TRUE(has_seq(out, "{\"id\":1,\"direction\":\"outgoing\",\"state\":\"active\",",
			    "\"peer\":\"10.77.0.2\",\"peer-port\":6670,\"channels\":2,",
			    "\"compression\":\"none\",\"rounds\":2,\"pages\":128,", NULL))
		TH_LOG("%s", out);
	EXPECT_LT(128 * PG, json_num(out, "bytes"));
	EXPECT_LT(0, json_num(out, "throughput"));
	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "-j sessions"));
	EXPECT_TRUE(has_seq(out, "\"direction\":\"incoming\",\"state\":\"active\",",
			    "\"peer\":\"10.77.0.1\"", NULL))
		TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"rounds\":2,\"pages\":128,")) TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "sessions"));
	EXPECT_TRUE(has(out, "ID   DIRECTION STATE     PEER")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "outgoing  active    10.77.0.2:6670")) TH_LOG("%s", out);

	ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_ABORT, NULL));
	ASSERT_EQ(0, vt_wait_exit(pid));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j sessions"));
	EXPECT_TRUE(has(out, "\"state\":\"aborted\"")) TH_LOG("%s", out);
	EXPECT_EQ(ECONNABORTED, json_num(out, "error"));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "sessions"));
	EXPECT_TRUE(has(out, "(Software caused connection abort)")) TH_LOG("%s", out);

	/* Closed sessions leave the list. */
	close(e->fd);
	e->fd = -1;
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j sessions"));
	EXPECT_EQ(0, strcmp(out, "[]\n")) TH_LOG("%s", out);

	/* -w: a new table every second until stopped. */
	e->fd = vt_open();
	ASSERT_LE(0, e->fd);
	snprintf(out, sizeof(out), "timeout -s INT 3 %s -j sessions -w | grep -c '%s'",
		 vt_ctl_path(), "\"state\":\"new\"");
	p = popen(out, "r");
	ASSERT_NE(NULL, p);
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	EXPECT_LE(2, n);
}

/* A vmmigctl -j monitor in a namespace, its lines read with timeouts. */
struct mon {
	pid_t pid;
	int fd;
	char buf[16384];
	size_t len;
};

static int mon_start(struct mon *m, const char *ns)
{
	int pipefd[2];

	memset(m, 0, sizeof(*m));
	if (pipe(pipefd))
		return -1;
	m->pid = fork();
	if (m->pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execlp("ip", "ip", "netns", "exec", ns, vt_ctl_path(), "-j", "monitor",
		       (char *)NULL);
		_exit(97);
	}
	close(pipefd[1]);
	m->fd = pipefd[0];
	return m->pid < 0 ? -1 : 0;
}

static void mon_stop(struct mon *m)
{
	kill(m->pid, SIGTERM);
	waitpid(m->pid, NULL, 0);
	close(m->fd);
}

/* The next line into @line; false if none came within @ms. */
static bool mon_line(struct mon *m, char *line, size_t size, int ms)
{
	long long end = now_ms() + ms;
	struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(m->buf, '\n', m->len);
		if (nl) {
			size_t l = nl - m->buf;

			snprintf(line, size, "%.*s", (int)l, m->buf);
			memmove(m->buf, nl + 1, m->len - l - 1);
			m->len -= l + 1;
			return true;
		}
		if (now_ms() >= end || poll(&pfd, 1, end - now_ms()) != 1)
			return false;
		n = read(m->fd, m->buf + m->len, sizeof(m->buf) - m->len);
		if (n <= 0)
			return false;
		m->len += n;
	}
}

/* Until @ms of silence. */
static void mon_drain(struct mon *m, int ms)
{
	char line[1024];

	while (mon_line(m, line, sizeof(line), ms))
		;
}

/* A refused CONNECT in A (outgoing disabled), seen by its monitor. */
static bool mon_sync(struct mon *m, int fd)
{
	char line[1024];
	int i;

	for (i = 0; i < 100; i++) {
		if (connect_ex(fd, NULL, 6680, 1, 0, 0, 0) != -EACCES)
			return false;
		if (mon_line(m, line, sizeof(line), 100))
			return has_seq(line, "{\"event\":\"refused\",\"direction\":\"outgoing\",",
				       "\"error\":13,\"message\":",
				       "\"outgoing migrations are disabled on this host\"}", NULL);
	}
	return false;
}

/*
 * Subscribes both hosts' monitors: A's hears a refused CONNECT, B's a
 * refused ACCEPT on @port, whose event is left in @line.
 */
static bool mon_sync_hosts(struct mon *ma, struct mon *mb, int fd, int port,
			   char *line, size_t len)
{
	bool heard = false;
	int fd2, i;

	if (!mon_sync(ma, fd) || vt_enter_netns(VT_NS_B))
		return false;
	fd2 = vt_open();
	if (vt_enter_netns(VT_NS_A) || fd2 < 0)
		goto out;
	for (i = 0; i < 300 && !heard; i++) {
		if (vt_accept(fd2, port, 1000) != -EACCES)
			break;
		heard = mon_line(mb, line, len, 100);
	}
out:
	if (fd2 >= 0)
		close(fd2);
	return heard;
}

/* Starts, finishes, aborts and refusals, on both hosts, in order. */
TEST_F_TIMEOUT(ctl, events, 180)
{
	struct env *e = &self->e;
	struct mon ma, mb;
	char line[1024];
	int fd2;
	pid_t pid;

	ASSERT_EQ(0, mon_start(&ma, VT_NS_A));
	ASSERT_EQ(0, mon_start(&mb, VT_NS_B));
	/* Each monitor is subscribed once it hears a refusal of its own host. */
	ASSERT_TRUE(mon_sync_hosts(&ma, &mb, e->fd, 6680, line, sizeof(line)));
	EXPECT_TRUE(has(line, "{\"event\":\"refused\",\"direction\":\"incoming\",\"id\":"))
		TH_LOG("%s", line);
	EXPECT_TRUE(has_seq(line, "\"error\":13,\"message\":",
			    "\"incoming migrations are disabled on this host\"}", NULL))
		TH_LOG("%s", line);
	mon_drain(&ma, 300);

	ASSERT_EQ(0, vt_hosts_enable());
	EXPECT_EQ(0, migrate(e, NULL, 6680, 1, 0));
	ASSERT_TRUE(mon_line(&ma, line, sizeof(line), 5000));
	EXPECT_TRUE(has_seq(line, "{\"event\":\"started\",\"direction\":\"outgoing\",\"id\":1,",
			    "\"peer\":\"10.77.0.2\",\"peer-port\":6680}", NULL)) TH_LOG("%s", line);
	ASSERT_TRUE(mon_line(&ma, line, sizeof(line), 5000));
	EXPECT_TRUE(has(line, "{\"event\":\"finished\",\"direction\":\"outgoing\",\"id\":1,"))
		TH_LOG("%s", line);
	ASSERT_TRUE(mon_line(&mb, line, sizeof(line), 5000));
	EXPECT_TRUE(has(line, "{\"event\":\"started\",\"direction\":\"incoming\",\"id\":"))
		TH_LOG("%s", line);
	EXPECT_TRUE(has(line, "\"peer\":\"10.77.0.1\"")) TH_LOG("%s", line);
	ASSERT_TRUE(mon_line(&mb, line, sizeof(line), 5000));
	EXPECT_TRUE(has(line, "{\"event\":\"finished\",\"direction\":\"incoming\","))
		TH_LOG("%s", line);

	/* An abort, heard on both sides with its reason. */
	ASSERT_EQ(0, reopen_source(e));
	pid = dest_start(e->dst, 6681, 15000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, connect_retry(e->fd, NULL, 6681, 1, 0));
	ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_ABORT, NULL));
	ASSERT_EQ(0, vt_wait_exit(pid));
	ASSERT_TRUE(mon_line(&ma, line, sizeof(line), 5000));
	EXPECT_TRUE(has(line, "\"event\":\"started\",\"direction\":\"outgoing\""));
	ASSERT_TRUE(mon_line(&ma, line, sizeof(line), 5000));
	EXPECT_TRUE(has_seq(line, "{\"event\":\"aborted\",\"direction\":\"outgoing\",\"id\":2,",
			    "\"peer\":\"10.77.0.2\",\"peer-port\":6681,\"error\":103,",
			    "\"message\":\"ABORT by the VMM\"}", NULL))
		TH_LOG("%s", line);
	ASSERT_TRUE(mon_line(&mb, line, sizeof(line), 5000));
	EXPECT_TRUE(has(line, "\"event\":\"started\",\"direction\":\"incoming\""));
	ASSERT_TRUE(mon_line(&mb, line, sizeof(line), 5000));
	EXPECT_TRUE(has(line, "{\"event\":\"aborted\",\"direction\":\"incoming\","))
		TH_LOG("%s", line);
	EXPECT_TRUE(has(line, "\"error\":103,\"message\":\"the peer aborted\"}"))
		TH_LOG("%s", line);

	/* The limit, in the words the admin guide documents. */
	ASSERT_EQ(0, vt_ctl(NULL, "set max-migrations 1"));
	ASSERT_EQ(0, reopen_source(e));
	fd2 = vt_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, vt_add_region(fd2, 1, e->src, PAGES * PG, 0));
	pid = dest_start(e->dst, 6682, 15000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, connect_retry(e->fd, NULL, 6682, 1, 0));
	EXPECT_EQ(-EBUSY, connect_ex(fd2, NULL, 6682, 1, 0, 0, 0));
	ASSERT_TRUE(mon_line(&ma, line, sizeof(line), 5000));
	EXPECT_TRUE(has(line, "\"event\":\"started\"")) TH_LOG("%s", line);
	ASSERT_TRUE(mon_line(&ma, line, sizeof(line), 5000));
	EXPECT_TRUE(has(line, "{\"event\":\"refused\",\"direction\":\"outgoing\","))
		TH_LOG("%s", line);
	EXPECT_TRUE(has_seq(line, "\"error\":16,\"message\":",
			    "\"maximum concurrent migrations reached (1)\"}", NULL))
		TH_LOG("%s", line);
	close(fd2);
	ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_ABORT, NULL));
	ASSERT_EQ(0, vt_wait_exit(pid));
	mon_drain(&mb, 300);

	/* A connection from outside the networks: B says who and why. */
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "set networks listed"));
	ASSERT_EQ(0, reopen_source(e));
	pid = dest_start(e->dst, 6683, 10000, e->res);
	ASSERT_LE(0, pid);
	EXPECT_EQ(-ECONNRESET, connect_retry(e->fd, NULL, 6683, 1, 0));
	ASSERT_EQ(0, vt_wait_exit(pid));
	ASSERT_TRUE(mon_line(&mb, line, sizeof(line), 5000));
	EXPECT_TRUE(has_seq(line, "{\"event\":\"refused\",\"direction\":\"incoming\",",
			    "\"peer\":\"10.77.0.1\",\"peer-port\":", "\"error\":111,\"message\":",
			    "\"peer 10.77.0.1 is not on a migration network\"}", NULL))
		TH_LOG("%s", line);

	mon_stop(&ma);
	mon_stop(&mb);
}

/* ---- authentication settings ---- */

static const __u8 zero_key[32];

#define ALICE_PUB_B64	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define ALICE_FPR	"300c9c9603b92a4b"

static void b64(char out[64], const __u8 *key, size_t len)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	__u32 v;

	for (i = 0; i < len; i += 3) {
		v = key[i] << 16 | (i + 1 < len ? key[i + 1] << 8 : 0) |
		    (i + 2 < len ? key[i + 2] : 0);
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = i + 1 < len ? t[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

/* A key file anyone may read (the unprivileged test reads them too). */
static const char *key_file(const char *name, const char *text)
{
	static char paths[8][64];
	static unsigned int next;
	char *path = paths[next++ % 8];
	FILE *f;

	snprintf(path, 64, "/tmp/vmmig-ctl-test-%s.key", name);
	f = fopen(path, "w");
	if (!f)
		return "/nonexistent";
	fprintf(f, "%s\n", text);
	fclose(f);
	chmod(path, 0644);
	return path;
}

static const char *key_file_bin(const char *name, const __u8 *key, size_t len)
{
	char text[64];

	b64(text, key, len);
	return key_file(name, text);
}

/* The vmmig family's id, from the generic netlink controller. */
static int genl_family(int s)
{
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
		struct nlattr a;
		char name[8];
	} req = {
		.n = { .nlmsg_len = sizeof(req), .nlmsg_type = GENL_ID_CTRL,
		       .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.g = { .cmd = CTRL_CMD_GETFAMILY, .version = 1 },
		.a = { .nla_len = NLA_HDRLEN + sizeof(VMMIG_GENL_NAME),
		       .nla_type = CTRL_ATTR_FAMILY_NAME },
		.name = VMMIG_GENL_NAME,
	};
	char buf[8192];
	struct nlattr *a;
	ssize_t n;
	int rem;

	if (send(s, &req, sizeof(req), 0) < 0)
		return -1;
	n = recv(s, buf, sizeof(buf), 0);
	if (n < (ssize_t)NLMSG_LENGTH(GENL_HDRLEN))
		return -1;
	a = (struct nlattr *)(buf + NLMSG_LENGTH(GENL_HDRLEN));
	rem = ((struct nlmsghdr *)buf)->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem) {
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			return *(__u16 *)((char *)a + NLA_HDRLEN);
		rem -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return -1;
}

/*
 * The raw bytes of the replies to @cmd (a dump if @dump), as they come
 * off the socket: whatever the kernel sends is in there.
 */
static ssize_t genl_raw(__u8 cmd, bool dump, char *out, size_t size)
{
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
	} req = {
		.n = { .nlmsg_len = sizeof(req),
		       .nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0), .nlmsg_seq = 2 },
		.g = { .cmd = cmd, .version = VMMIG_GENL_VERSION },
	};
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	size_t len = 0;
	bool end = false;
	ssize_t n;
	int fam;

	if (s < 0)
		return -1;
	/* Errors carry their extack text. */
	setsockopt(s, SOL_NETLINK, NETLINK_EXT_ACK, &(int){ 1 }, sizeof(int));
	fam = genl_family(s);
	if (fam < 0) {
		close(s);
		return -1;
	}
	req.n.nlmsg_type = fam;
	if (send(s, &req, sizeof(req), 0) < 0) {
		close(s);
		return -1;
	}
	while (!end && len < size) {
		struct nlmsghdr *h;
		int rem;

		n = recv(s, out + len, size - len, 0);
		if (n <= 0)
			break;
		h = (struct nlmsghdr *)(out + len);
		for (rem = n; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem))
			end |= !dump || h->nlmsg_type == NLMSG_DONE ||
			       h->nlmsg_type == NLMSG_ERROR;
		len += n;
	}
	close(s);
	return end ? (ssize_t)len : -1;
}

static bool raw_has(const char *raw, ssize_t len, const __u8 *key)
{
	return len > 0 && memmem(raw, len, key, 32);
}

/* Bad key files, bad keys, bad combinations: a clear error, nothing changed. */
TEST_F_TIMEOUT(ctl, auth_rejections_name_the_cause_and_change_nothing, 180)
{
	char bob[64], short_key[64], zero[64], args[512], out[8192];
	const char *good = key_file_bin("good", psk_a, 32);
	const char *alice = key_file_bin("alice", alice_priv, 32);
	const char *bad = key_file("bad", "not*base64!not*base64!not*base64!not*base64!");
	const char *shortf = key_file_bin("short", psk_a, 16);
	const char *zerof = key_file_bin("zero", zero_key, 32);
	const struct reject rejects[] = {
		{ "set auth psk key-file /nonexistent/psk", 1,
		  { "set auth psk: key-file /nonexistent/psk: No such file or directory" } },
		{ NULL, 1, { ": not base64" } },			/* bad */
		{ NULL, 1, { ": wrong length: a key is 32 bytes" } },	/* short */
		{ NULL, 2, { "set: the pre-shared key is all zero",
			     " (Invalid argument)" } },			/* zero */
		{ NULL, 1, { "private-key-file", ": wrong length: a key is 32 bytes" } },
		{ "set auth psk", 2,
		  { "set: psk mode needs a pre-shared key (Invalid argument)" } },
		{ "set auth keypair", 2, { "keypair mode needs this host's private key" } },
		{ "set encryption on", 2,
		  { "encryption needs an authentication mode (psk or keypair)" } },
		{ NULL, 2, { "max-migrations: integer out of range" } },	/* all or nothing */
		{ NULL, 1, { "encryption 'maybe': not on or off" } },
		{ "set handshake-timeout 50", 2,
		  { "handshake-timeout: the handshake timeout is 100 to 60000 ms",
		    " (Numerical result out of range)" } },
		{ "set max-handshakes 0", 2,
		  { "max-handshakes: integer out of range, allowed 1..1024" } },
		{ "set auth wep", 1, { "auth 'wep': not none, psk or keypair" } },
		{ NULL, 1, { "peer add bob: pubkey ", ": wrong length: a key is 32 bytes" } },
		{ NULL, 1, { "allow 'sideways': not send, receive or both" } },
		{ NULL, 1, { "NAME pubkey KEY allow send|receive|both" } },
		{ NULL, 2, { "peer add bob: the public key is all zero (Invalid argument)" } },
		{ NULL, 1, { "address '10.1.2.300': not an IPv4 or IPv6 address" } },
		{ NULL, 2, { "peer add waytoolong", "name" } },
		{ "peer del nobody", 2,
		  { "peer del nobody: no peer named \"nobody\" (No such file or directory)" } },
	};
	const char *fmt[ARRAY_SIZE(rejects)] = {
		[1] = "set auth psk key-file %s",
		[2] = "set auth psk key-file %s",
		[3] = "set auth psk key-file %s",
		[4] = "set auth keypair private-key-file %s",
		[8] = "set auth psk key-file %s max-migrations 0",
		[9] = "set auth psk key-file %s encryption maybe",
		[13] = "peer add bob pubkey %s allow send",
		[14] = "peer add bob pubkey %s allow sideways",
		[15] = "peer add bob pubkey %s",
		[16] = "peer add bob pubkey %s allow send",
		[17] = "peer add bob pubkey %s allow send address 10.1.2.300",
		[18] = "peer add waytoolongwaytoolongwaytoolongwaytoolong pubkey %s allow send",
	};
	const char *arg[ARRAY_SIZE(rejects)] = {
		[1] = bad, [2] = shortf, [3] = zerof, [4] = shortf, [8] = good, [9] = good,
		[13] = short_key, [14] = bob, [15] = bob, [16] = zero, [17] = bob, [18] = bob,
	};
	unsigned int i;

	b64(bob, bob_pub, 32);
	b64(short_key, bob_pub, 16);
	b64(zero, zero_key, 32);
	for (i = 0; i < ARRAY_SIZE(rejects); i++) {
		if (rejects[i].args)
			snprintf(args, sizeof(args), "%s", rejects[i].args);
		else
			snprintf(args, sizeof(args), fmt[i], arg[i]);
		EXPECT_EQ(rejects[i].exit, ctl_out(NULL, out, sizeof(out), "%s", args))
			TH_LOG("vmmigctl %s: %s", args, out);
		EXPECT_TRUE(has_seq(out, rejects[i].text[0], rejects[i].text[1] ?: "", NULL))
			TH_LOG("vmmigctl %s said: %s", args, out);
	}
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has_seq(out, "\"max-migrations\":2,", "\"auth\":\"none\",\"encryption\":false,",
			    "\"handshake-timeout-ms\":5000,\"max-handshakes\":16,\"peers\":[],",
			    NULL)) TH_LOG("%s", out);
	EXPECT_FALSE(has(out, "fingerprint")) TH_LOG("%s", out);

	/* Peers: not this host's own key, not one key under two names. */
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "set auth keypair private-key-file %s",
			     alice)) TH_LOG("%s", out);
	EXPECT_EQ(2, ctl_out(NULL, out, sizeof(out), "peer add self pubkey %s allow both",
			     ALICE_PUB_B64));
	EXPECT_TRUE(has(out, "a peer has this host's own public key")) TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "peer add bob pubkey %s allow send", bob));
	EXPECT_EQ(2, ctl_out(NULL, out, sizeof(out), "peer add bob2 pubkey %s allow send", bob));
	EXPECT_TRUE(has(out, "peer add bob2: another peer has this public key (File exists)"))
		TH_LOG("%s", out);
	/* Nor a private key whose public key is a peer's. */
	EXPECT_EQ(2, ctl_out(NULL, out, sizeof(out), "set auth keypair private-key-file %s",
			     key_file_bin("bob", bob_priv, 32)));
	EXPECT_TRUE(has(out, "a peer has this host's own public key")) TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j peer list"));
	EXPECT_TRUE(has(out, "[{\"name\":\"bob\",\"fingerprint\":\"")) TH_LOG("%s", out);
	EXPECT_FALSE(has(out, "bob2")) TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has(out, "\"public-key-fingerprint\":\"" ALICE_FPR "\"")) TH_LOG("%s", out);
}

/*
 * What goes in comes back as fingerprints (and this host's public key);
 * the raw netlink replies never hold a pre-shared key, a private key or a
 * peer's key.
 */
TEST_F_TIMEOUT(ctl, auth_settings_read_back_without_keys, 180)
{
	char bob[64], out[8192], psk_fpr[17] = "", *p;
	static char raw[65536], cmd[5 * PATH_MAX];
	__u8 clamped[32];
	ssize_t n;

	b64(bob, bob_pub, 32);
	memcpy(clamped, alice_priv, 32);
	clamped[0] &= 248;
	clamped[31] = (clamped[31] & 127) | 64;

	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "set auth psk key-file %s encryption on",
			     key_file_bin("psk", psk_a, 32))) TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has_seq(out, "\"auth\":\"psk\",\"psk-fingerprint\":\"",
			    "\",\"encryption\":true,", NULL)) TH_LOG("%s", out);
	p = strstr(out, "\"psk-fingerprint\":\"");
	ASSERT_NE(NULL, p);
	snprintf(psk_fpr, sizeof(psk_fpr), "%s", p + strlen("\"psk-fingerprint\":\""));
	EXPECT_EQ(16, strspn(psk_fpr, "0123456789abcdef")) TH_LOG("%s", psk_fpr);
	/* The other host, given the same key, shows the same fingerprint. */
	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "set auth psk key-file %s",
			     key_file_bin("psk", psk_a, 32)));
	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has(out, psk_fpr)) TH_LOG("%s", out);

	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out),
			     "set auth keypair private-key-file %s",
			     key_file_bin("alice", alice_priv, 32))) TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out),
			     "peer add bob pubkey %s allow receive address 10.77.0.2", bob));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has_seq(out, "\"auth\":\"keypair\",\"psk-fingerprint\":\"", psk_fpr,
			    "\"public-key\":\"" ALICE_PUB_B64 "\",",
			    "\"public-key-fingerprint\":\"" ALICE_FPR "\",\"encryption\":true,",
			    "\"peers\":[{\"name\":\"bob\",\"fingerprint\":\"",
			    "\",\"allow\":\"receive\",\"address\":\"10.77.0.2\"}],",
			    "\"handshakes\":{\"ok\":0,", NULL)) TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "show"));
	EXPECT_TRUE(has_seq(out, "auth: keypair\n", "(not in use)\n",
			    "  public key: " ALICE_PUB_B64 " (" ALICE_FPR ")\n",
			    "encryption: on\n", "peers:\n  bob: key ",
			    ", allow receive, address 10.77.0.2\n", "handshakes: 0 ok,", NULL))
		TH_LOG("%s", out);
	/* The peer's fingerprint is the one its own host shows for its key. */
	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "set auth keypair private-key-file %s",
			     key_file_bin("bob", bob_priv, 32)));
	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "-j show"));
	p = strstr(out, "\"public-key-fingerprint\":\"");
	ASSERT_NE(NULL, p);
	snprintf(psk_fpr, sizeof(psk_fpr), "%s", p + strlen("\"public-key-fingerprint\":\""));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "peer list"));
	EXPECT_TRUE(has(out, psk_fpr)) TH_LOG("%s vs %s", out, psk_fpr);

	/* The raw replies: the public key of this host, and no secret. */
	n = genl_raw(VMMIG_CMD_GET_HOST, false, raw, sizeof(raw));
	ASSERT_LT(0, n);
	EXPECT_TRUE(raw_has(raw, n, alice_pub));
	EXPECT_FALSE(raw_has(raw, n, psk_a));
	EXPECT_FALSE(raw_has(raw, n, alice_priv));
	EXPECT_FALSE(raw_has(raw, n, clamped));
	EXPECT_FALSE(raw_has(raw, n, bob_pub));
	n = genl_raw(VMMIG_CMD_GET_PEER, true, raw, sizeof(raw));
	ASSERT_LT(0, n);
	EXPECT_NE(NULL, memmem(raw, n, "bob", 4));
	EXPECT_FALSE(raw_has(raw, n, bob_pub));
	EXPECT_FALSE(raw_has(raw, n, psk_a));
	EXPECT_FALSE(raw_has(raw, n, clamped));

	/* Replacing a peer by name, then deleting it. */
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "peer add bob pubkey %s allow both", bob));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j peer list"));
	EXPECT_TRUE(has_seq(out, "[{\"name\":\"bob\",", "\"allow\":\"both\"}]", NULL))
		TH_LOG("%s", out);
	ASSERT_EQ(0, vt_ctl(NULL, "peer del bob"));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j peer list"));
	EXPECT_EQ(0, strcmp(out, "[]\n")) TH_LOG("%s", out);
	ASSERT_EQ(0, vt_ctl(NULL, "set encryption off auth none"));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has(out, "\"auth\":\"none\",\"psk-fingerprint\":")) TH_LOG("%s", out);

	/* The key tools, like wg's. */
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "pubkey < %s",
			     key_file_bin("alice", alice_priv, 32)));
	EXPECT_EQ(0, strcmp(out, ALICE_PUB_B64 "\n")) TH_LOG("%s", out);
	/* genkey's key, set, shows the public key pubkey computes from it. */
	snprintf(cmd, sizeof(cmd), "%s genkey > /tmp/vmmig-ctl-test-gen.key", vt_ctl_path());
	ASSERT_EQ(0, vt_sh(cmd));
	ASSERT_EQ(0, vt_ctl(NULL, "set auth keypair private-key-file /tmp/vmmig-ctl-test-gen.key"));
	ASSERT_EQ(0, ctl_out(NULL, cmd, sizeof(cmd), "pubkey < /tmp/vmmig-ctl-test-gen.key"));
	ASSERT_EQ(45, strlen(cmd)) TH_LOG("%s", cmd);
	cmd[44] = '\0';
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has_seq(out, "\"public-key\":\"", cmd, "\",", NULL))
		TH_LOG("%s / %s", cmd, out);
}

/* Changing authentication needs CAP_NET_ADMIN over the netns, as the rest. */
TEST_F_TIMEOUT(ctl, unprivileged_cannot_change_auth, 120)
{
	char cmd[3 * PATH_MAX + 64], out[4096], bob[64];
	const char *psk = key_file_bin("psk", psk_a, 32);
	int rc;

	b64(bob, bob_pub, 32);
	snprintf(cmd, sizeof(cmd), "%s set auth psk key-file %s", vt_ctl_path(), psk);
	EXPECT_EQ(4, run_unprivileged(false, false, cmd, out, sizeof(out))) TH_LOG("%s", out);
	rc = run_unprivileged(true, false, cmd, out, sizeof(out));
	if (rc == 99)
		SKIP(return, "no unprivileged user namespaces here");
	EXPECT_EQ(4, rc) TH_LOG("%s", out);
	EXPECT_TRUE(has_seq(out, "vmmigctl: set: Operation not permitted\n",
			    "needs CAP_NET_ADMIN", NULL)) TH_LOG("%s", out);
	snprintf(cmd, sizeof(cmd), "%s peer add bob pubkey %s allow send", vt_ctl_path(), bob);
	EXPECT_EQ(4, run_unprivileged(true, false, cmd, out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "peer add bob pubkey %s allow send", bob));
	snprintf(cmd, sizeof(cmd), "%s peer del bob", vt_ctl_path());
	EXPECT_EQ(4, run_unprivileged(true, false, cmd, out, sizeof(out))) TH_LOG("%s", out);
	snprintf(cmd, sizeof(cmd), "%s set encryption on", vt_ctl_path());
	EXPECT_EQ(4, run_unprivileged(true, false, cmd, out, sizeof(out))) TH_LOG("%s", out);

	/* Reading is for everyone, and shows no more to them. */
	snprintf(cmd, sizeof(cmd), "%s -j show", vt_ctl_path());
	EXPECT_EQ(0, run_unprivileged(true, false, cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_TRUE(has_seq(out, "\"auth\":\"none\",\"encryption\":false,",
			    "\"peers\":[{\"name\":\"bob\",", NULL)) TH_LOG("%s", out);
	EXPECT_FALSE(has(out, "psk-fingerprint")) TH_LOG("%s", out);
}

/*
 * A source whose key the destination does not list: CONNECT fails with
 * ENOKEY, nothing moves, and the destination's admin is told who it was
 * (the refused event names the address and the key's fingerprint).
 */
TEST_F_TIMEOUT(ctl, unknown_peer_is_named_in_the_refusal, 180)
{
	struct env *e = &self->e;
	char bob[64], out[4096], line[1024];
	struct mon mb;
	pid_t pid;
	int fd2, i;

	b64(bob, bob_pub, 32);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "set auth keypair private-key-file %s",
			     key_file_bin("alice", alice_priv, 32)));
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "peer add bob pubkey %s allow receive",
			     bob));
	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "set auth keypair private-key-file %s",
			     key_file_bin("bob", bob_priv, 32)));

	/* B's monitor is subscribed once it hears a refused ACCEPT. */
	ASSERT_EQ(0, mon_start(&mb, VT_NS_B));
	ASSERT_EQ(0, vt_enter_netns(VT_NS_B));
	fd2 = vt_open();
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	ASSERT_LE(0, fd2);
	for (i = 0; i < 100; i++) {
		EXPECT_EQ(-EACCES, vt_accept(fd2, 6670, 1000));
		if (mon_line(&mb, line, sizeof(line), 100))
			break;
	}
	close(fd2);
	ASSERT_GT(100, i);
	mon_drain(&mb, 300);
	ASSERT_EQ(0, vt_hosts_enable());

	pid = dest_start(e->dst, 6670, 8000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_TRUE(wait_active(VT_NS_B, 1));
	EXPECT_EQ(-ENOKEY, connect_retry(e->fd, NULL, 6670, 1, 0));
	ASSERT_TRUE(mon_line(&mb, line, sizeof(line), 5000));
	EXPECT_TRUE(has_seq(line, "{\"event\":\"refused\",\"direction\":\"incoming\",",
			    "\"peer\":\"10.77.0.1\",", "\"error\":126,",
			    "\"message\":\"handshake from 10.77.0.1:",
			    " failed: unknown peer key, peer key " ALICE_FPR "\"}", NULL))
		TH_LOG("%s", line);
	mon_stop(&mb);
	EXPECT_EQ(1, host_num(VT_NS_B, "unknown-peer"));
	EXPECT_EQ(0, host_num(VT_NS_B, "ok"));
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(-ETIMEDOUT, e->res->accept_rc);
	EXPECT_TRUE(untouched(e->dst, PAGES * PG));
	EXPECT_TRUE(src_intact(e->src));
}

#ifdef VMMIG_YNL_CLI
/* The kernel's YNL tool, reading only the spec, against the module. */
static int run_ynl(const char *ns, char *out, size_t size, const char *args)
{
	char spec[PATH_MAX], cmd[2 * PATH_MAX + 1024], *slash;
	size_t n = 0;
	FILE *p;
	int rc;

	snprintf(spec, sizeof(spec), "%s", vt_ctl_path());
	slash = strstr(spec, "/userspace/vmmigctl/vmmigctl");
	if (!slash)
		return -1;
	snprintf(slash, sizeof(spec) - (slash - spec), "/Documentation/netlink/vmmig.yaml");
	snprintf(cmd, sizeof(cmd), "%s%s python3 %s --spec %s --no-schema --output-json %s 2>&1",
		 ns ? "ip netns exec " : "", ns ? ns : "", VMMIG_YNL_CLI, spec, args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	rc = pclose(p);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST_F_TIMEOUT(ctl, spec_matches_kernel, 600)
{
	char out[8192];

	if (access(VMMIG_YNL_CLI, R_OK) || vt_sh("python3 -c 'import yaml' 2>/dev/null"))
		SKIP(return, "no %s or no python3-yaml", VMMIG_YNL_CLI);

	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out), "--do get-host")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"incoming\": 0")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"port\": 6600")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"networks\": \"any\"")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"performance\": \"compression\"")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"compression\": \"lz4\"")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"max-migrations\": 2")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"refused-busy\": 0")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"auth-mode\": \"none\"")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"hs-busy\": 0")) TH_LOG("%s", out);
	EXPECT_FALSE(has(out, "fingerprint")) TH_LOG("%s", out);

	/* What the spec's names set, vmmigctl reads back, and the other way. */
	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do set-host --json '{\"port\": 6690, \"max-migrations\": 9}'"))
		TH_LOG("%s", out);
	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do set-host --json '{\"performance\": \"tcp\"}'"))
		TH_LOG("%s", out);
	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do set-host --json '{\"compression\": \"zstd\"}'"))
		TH_LOG("%s", out);
	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do set-host --json '{\"networks\": \"listed\", \"outgoing\": 1}'"))
		TH_LOG("%s", out);
	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do add-network --json '{\"addr4\":\"0a4d0000\",\"prefix-len\":16}'"
			     ))
		TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j show"));
	EXPECT_TRUE(has_seq(out, "\"incoming\":false,\"outgoing\":true,\"port\":6690,",
			    "\"networks\":\"listed\",\"network-list\":[\"10.77.0.0/16\"],",
			    "\"performance\":\"tcp\",\"channels\":2,\"compression\":\"zstd\",",
			    "\"max-migrations\":9", NULL)) TH_LOG("%s", out);
	ASSERT_EQ(0, vt_ctl(NULL, "network add fd77::/64"));
	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out), "--dump get-network")) TH_LOG("%s", out);
	EXPECT_TRUE(has_seq(out, "[{\"addr4\": \"10.77.0.0\", \"prefix-len\": 16}, ",
			    "{\"addr6\": \"fd77::\", \"prefix-len\": 64}]", NULL))
		TH_LOG("%s", out);
	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out), "--dump get-session")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"id\": 1, \"direction\": \"none\", \"state\": \"new\""))
		TH_LOG("%s", out);

	/* Strict: read-only counters cannot be set, even by name. */
	EXPECT_NE(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do set-host --json '{\"active-migrations\": 1}'"));
	EXPECT_TRUE(has(out, "Invalid argument")) TH_LOG("%s", out);
	EXPECT_NE(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do add-network --json '{\"addr4\":\"0a4d00\",\"prefix-len\":8}'"));
	EXPECT_TRUE(has(out, "Numerical result out of range")) TH_LOG("%s", out);
	EXPECT_EQ(0, host_num(NULL, "active-migrations"));

	/* abort-session as the spec names it: session 1 has not started. */
	EXPECT_NE(0, run_ynl(VT_NS_A, out, sizeof(out), "--do abort-session --json '{\"id\": 1}'"));
	EXPECT_TRUE(has(out, "session 1 has not started: nothing to abort")) TH_LOG("%s", out);
}

/*
 * The kernel's own check, past the tool's: a cap above 0 but below
 * VMMIG_MIN_BANDWIDTH, or not a u64, is refused with the extack text and
 * changes nothing; the attribute reads back in bytes per second.
 */
TEST_F_TIMEOUT(ctl, bandwidth_kernel_checks, 300)
{
	char out[8192];

	if (access(VMMIG_YNL_CLI, R_OK) || vt_sh("python3 -c 'import yaml' 2>/dev/null"))
		SKIP(return, "no %s or no python3-yaml", VMMIG_YNL_CLI);

	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do set-host --json '{\"bandwidth\": 12345678}'")) TH_LOG("%s", out);
	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out), "--do get-host")) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "\"bandwidth\": 12345678")) TH_LOG("%s", out);
	EXPECT_NE(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do set-host --json '{\"bandwidth\": 999, \"port\": 6691}'"));
	EXPECT_TRUE(has_seq(out, "the bandwidth cap is 0 (unlimited) ",
			    "or at least 1000 bytes per second", NULL)) TH_LOG("%s", out);
	EXPECT_TRUE(has(out, "Numerical result out of range")) TH_LOG("%s", out);
	EXPECT_EQ(12345678, host_num(NULL, "bandwidth"));
	EXPECT_EQ(6600, host_num(NULL, "port"));
	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do set-host --json '{\"bandwidth\": 1000}'")) TH_LOG("%s", out);
	EXPECT_EQ(1000, host_num(NULL, "bandwidth"));
	ASSERT_EQ(0, run_ynl(VT_NS_A, out, sizeof(out),
			     "--do set-host --json '{\"bandwidth\": 0}'")) TH_LOG("%s", out);
	EXPECT_EQ(0, host_num(NULL, "bandwidth"));
}
#endif

/* ---- an administrator's abort ---- */

/* Pre-copy rounds of the whole region, until one fails: its error. */
struct rounds {
	int fd;
	int n;			/* rounds done */
	int rc;
};

static void *rounds_thread(void *arg)
{
	struct rounds *r = arg;

	for (;;) {
		r->rc = vt_send_dirty(r->fd, 1, 0, PAGES, NULL, NULL);
		if (!r->rc)
			r->rc = vt_ioctl(r->fd, VMMIG_IOC_SYNC, NULL);
		if (r->rc)
			return NULL;
		__atomic_add_fetch(&r->n, 1, __ATOMIC_SEQ_CST);
	}
}

/* Poll the session behind @fd until it is no longer ACTIVE (up to 10 s). */
static bool wait_ended(int fd, struct vmmig_stats *st)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (vt_stats(fd, st))
			return false;
		if (st->state != VMMIG_STATE_ACTIVE)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * A source in A (session 1 there), a destination in B (session 1 there),
 * and the administrator of @ns aborts its end: while rounds run
 * (@precopy), or with the source stopped after its last SEND_DIRTY. Both
 * ends are ABORTED with ECANCELED, and the source's memory is as it was.
 */
static void admin_abort(struct __test_metadata *_metadata, struct env *e, const char *ns,
			bool precopy, __u16 port)
{
	struct rounds r = { .fd = e->fd };
	struct vmmig_stats st;
	char out[8192];
	pthread_t thr;
	pid_t pid;

	ASSERT_EQ(0, vt_hosts_enable());
	pid = dest_start(e->dst, port, 15000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, connect_retry(e->fd, NULL, port, 2, 0));
	if (precopy) {
		ASSERT_EQ(0, pthread_create(&thr, NULL, rounds_thread, &r));
		while (__atomic_load_n(&r.n, __ATOMIC_SEQ_CST) < 3 && !r.rc)
			usleep(1000);
	} else {
		/* A round the destination has (so it is ACTIVE), then the last one. */
		ASSERT_EQ(0, vt_send_dirty(e->fd, 1, 0, PAGES, NULL, NULL));
		ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_SYNC, NULL));
		ASSERT_EQ(0, vt_send_dirty(e->fd, 1, 0, PAGES, NULL, NULL));
	}

	EXPECT_EQ(0, ctl_out(ns, out, sizeof(out), "session abort 1")) TH_LOG("%s", out);
	EXPECT_EQ(0, strcmp(out, "")) TH_LOG("%s", out);
	if (precopy) {
		ASSERT_EQ(0, pthread_join(thr, NULL));
		TH_LOG("aborted after %d rounds", r.n);
		EXPECT_EQ(-ECANCELED, r.rc);
	}
	ASSERT_TRUE(wait_ended(e->fd, &st));
	EXPECT_EQ(VMMIG_STATE_ABORTED, st.state);
	EXPECT_EQ(ECANCELED, st.error);
	EXPECT_EQ(-ECANCELED, vt_ioctl(e->fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(VMMIG_EVENT_ABORTED, e->res->end_type);
	EXPECT_EQ(ECANCELED, e->res->end_error);
	EXPECT_EQ(VMMIG_STATE_ABORTED, e->res->stats.state);
	EXPECT_EQ(ECANCELED, e->res->stats.error);
	EXPECT_TRUE(src_intact(e->src));

	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "sessions"));
	EXPECT_TRUE(has_seq(out, "outgoing  aborted", "(Operation canceled)", NULL))
		TH_LOG("%s", out);
	ASSERT_EQ(0, ctl_out(NULL, out, sizeof(out), "-j sessions"));
	EXPECT_EQ(ECANCELED, json_num(out, "error")) TH_LOG("%s", out);
	/* Ended, still open: a second abort says so and changes nothing. */
	EXPECT_EQ(2, ctl_out(NULL, out, sizeof(out), "session abort 1"));
	EXPECT_TRUE(has_seq(out, "vmmigctl: session abort 1: session 1 already ended (aborted)",
			    " (Operation already in progress)\n", NULL)) TH_LOG("%s", out);
}

TEST_F_TIMEOUT(ctl, admin_abort_source_precopy, 120)
{
	admin_abort(_metadata, &self->e, VT_NS_A, true, 6690);
}

TEST_F_TIMEOUT(ctl, admin_abort_source_final_round, 120)
{
	admin_abort(_metadata, &self->e, VT_NS_A, false, 6691);
}

TEST_F_TIMEOUT(ctl, admin_abort_destination_precopy, 120)
{
	admin_abort(_metadata, &self->e, VT_NS_B, true, 6692);
}

TEST_F_TIMEOUT(ctl, admin_abort_destination_final_round, 120)
{
	admin_abort(_metadata, &self->e, VT_NS_B, false, 6693);
}

/* The events of both hosts say who ended it, in the admin guide's words. */
TEST_F_TIMEOUT(ctl, admin_abort_events, 120)
{
	struct env *e = &self->e;
	struct mon ma, mb;
	char line[1024], out[1024];
	pid_t pid;
	int fd2;

	ASSERT_EQ(0, mon_start(&ma, VT_NS_A));
	ASSERT_EQ(0, mon_start(&mb, VT_NS_B));
	/* Each monitor is subscribed once it hears a refusal of its own host. */
	ASSERT_TRUE(mon_sync_hosts(&ma, &mb, e->fd, 6694, line, sizeof(line)));
	mon_drain(&ma, 300);
	mon_drain(&mb, 300);
	ASSERT_EQ(0, vt_hosts_enable());
	pid = dest_start(e->dst, 6694, 15000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, connect_retry(e->fd, NULL, 6694, 1, 0));
	ASSERT_TRUE(mon_line(&ma, line, sizeof(line), 5000));
	EXPECT_TRUE(has(line, "\"event\":\"started\",\"direction\":\"outgoing\""))
		TH_LOG("%s", line);
	ASSERT_TRUE(mon_line(&mb, line, sizeof(line), 10000));
	EXPECT_TRUE(has(line, "\"event\":\"started\",\"direction\":\"incoming\""))
		TH_LOG("%s", line);
	ASSERT_EQ(0, vt_send_dirty(e->fd, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_SYNC, NULL));

	/* NEW, not yet started: nothing to abort. */
	ASSERT_EQ(0, vt_enter_netns(VT_NS_B));
	fd2 = vt_open();
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	ASSERT_LE(0, fd2);
	EXPECT_EQ(2, ctl_out(VT_NS_B, out, sizeof(out), "session abort 3"));
	EXPECT_TRUE(has_seq(out, "vmmigctl: session abort 3: session 3 has not started: ",
			    "nothing to abort (File descriptor in bad state)\n", NULL))
		TH_LOG("%s", out);
	close(fd2);

	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "session abort 2")) TH_LOG("%s", out);
	ASSERT_EQ(0, vt_wait_exit(pid));
	ASSERT_TRUE(mon_line(&mb, line, sizeof(line), 5000));
	EXPECT_TRUE(has_seq(line, "{\"event\":\"aborted\",\"direction\":\"incoming\",\"id\":2,",
			    "\"error\":125,\"message\":\"aborted by the administrator\"}", NULL))
		TH_LOG("%s", line);
	ASSERT_TRUE(mon_line(&ma, line, sizeof(line), 5000));
	EXPECT_TRUE(has_seq(line, "{\"event\":\"aborted\",\"direction\":\"outgoing\",\"id\":1,",
			    "\"error\":125,\"message\":\"the peer's administrator aborted\"}",
			    NULL))
		TH_LOG("%s", line);
	mon_stop(&ma);
	mon_stop(&mb);
}

/*
 * Unknown IDs, another host's IDs, a missing ID, callers without
 * CAP_NET_ADMIN over the namespace: refused with the cause, and the
 * migration goes on.
 */
TEST_F_TIMEOUT(ctl, admin_abort_refused, 180)
{
	char cmd[3 * PATH_MAX + 64], out[4096];
	struct env *e = &self->e;
	int fds[3], i, rc;
	ssize_t n;
	pid_t pid;

	ASSERT_EQ(0, vt_hosts_enable());
	pid = dest_start(e->dst, 6695, 15000, e->res);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, connect_retry(e->fd, NULL, 6695, 1, 0));
	ASSERT_EQ(0, vt_send_dirty(e->fd, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_SYNC, NULL));

	EXPECT_EQ(2, ctl_out(NULL, out, sizeof(out), "session abort 99"));
	EXPECT_TRUE(has_seq(out, "vmmigctl: session abort 99: no session 99",
			    " (No such file or directory)\n", NULL)) TH_LOG("%s", out);
	EXPECT_EQ(1, ctl_out(NULL, out, sizeof(out), "session abort x1"));
	EXPECT_TRUE(has(out, "'x1': not a session ID")) TH_LOG("%s", out);
	EXPECT_EQ(1, ctl_out(NULL, out, sizeof(out), "session abort"));
	/* B has sessions 1 (the destination) to 4; A only 1. */
	ASSERT_EQ(0, vt_enter_netns(VT_NS_B));
	for (i = 0; i < 3; i++)
		fds[i] = vt_open();
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	EXPECT_EQ(2, ctl_out(NULL, out, sizeof(out), "session abort 4"));
	EXPECT_TRUE(has(out, "no session 4 (No such file or directory)")) TH_LOG("%s", out);
	for (i = 0; i < 3; i++)
		close(fds[i]);

	/* No ID at all: only a raw request can say nothing. */
	n = genl_raw(VMMIG_CMD_ABORT_SESSION, false, out, sizeof(out));
	ASSERT_LT((ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)), n);
	EXPECT_EQ(NLMSG_ERROR, ((struct nlmsghdr *)out)->nlmsg_type);
	EXPECT_EQ(-EINVAL, ((struct nlmsgerr *)NLMSG_DATA(out))->error);
	EXPECT_NE(NULL, memmem(out, n, "session id missing", 18));

	snprintf(cmd, sizeof(cmd), "%s session abort 1", vt_ctl_path());
	rc = run_unprivileged(false, false, cmd, out, sizeof(out));
	EXPECT_EQ(4, rc) TH_LOG("%s", out);
	EXPECT_TRUE(has_seq(out, "vmmigctl: session abort 1: Operation not permitted\n",
			    "vmmigctl: aborting a session needs CAP_NET_ADMIN", NULL))
		TH_LOG("%s", out);
	rc = run_unprivileged(true, false, cmd, out, sizeof(out));
	if (rc != 99)
		EXPECT_EQ(4, rc) TH_LOG("%s", out);
	/* Its own network namespace has no sessions. */
	rc = run_unprivileged(true, true, cmd, out, sizeof(out));
	if (rc != 99)
		EXPECT_EQ(2, rc) TH_LOG("%s", out);

	/* Nothing was aborted: the migration finishes. */
	ASSERT_EQ(0, vt_send_dirty(e->fd, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(e->fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(VMMIG_EVENT_FINISHED, e->res->end_type);
	EXPECT_EQ(0, memcmp(e->src, e->dst, PAGES * PG));
	EXPECT_EQ(2, ctl_out(NULL, out, sizeof(out), "session abort 1"));
	EXPECT_TRUE(has(out, "session 1 already ended (finished)")) TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
