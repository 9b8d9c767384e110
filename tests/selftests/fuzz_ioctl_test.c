// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/vmmig ioctls fuzzed in every session state (fuzz.h for the
 * seed and the budget): each call is a known ioctl with a mutated struct
 * (sizes, flags, reserved fields, ids, ranges, bitmaps, timeouts), a
 * mangled ioctl number, or a bad pointer (NULL, unmapped, kernel, PROT_NONE,
 * read-only, straddling the end of a mapping), outer or inner. Checked:
 * every call fails with an errno the uapi header documents (or succeeds),
 * the source memory is never written, and the destination gets no byte
 * that is not the source's own page. The test run checks dmesg and
 * kmemleak afterwards.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "vmmig_test.h"
#include "fuzz.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define RID		1
#define RPAGES		512UL
#define RBYTES		(RPAGES * PG)
#define DST_FILL	0x5a
#define PORT		6630

static const unsigned long cmds[] = {
	VMMIG_IOC_VERSION, VMMIG_IOC_ADD_REGION, VMMIG_IOC_CONNECT,
	VMMIG_IOC_ACCEPT, VMMIG_IOC_SEND_DIRTY, VMMIG_IOC_SEND_BLOB,
	VMMIG_IOC_SYNC, VMMIG_IOC_FINISH, VMMIG_IOC_ABORT,
	VMMIG_IOC_WAIT_EVENT, VMMIG_IOC_GET_STATS, VMMIG_IOC_SEND_DIRTY_RING,
	VMMIG_IOC_SET_BANDWIDTH,
};

#define NCMDS	ARRAY_SIZE(cmds)

/* The errnos the uapi header documents for the ioctls, and the network's. */
static bool errno_documented(int e)
{
	switch (e) {
	case EINVAL: case E2BIG: case EFAULT: case ENOTTY: case EBADFD:
	case EEXIST: case ENOSPC: case ENOMEM: case EACCES: case EBUSY:
	case ECONNREFUSED: case ECONNRESET: case ECONNABORTED: case ETIMEDOUT:
	case ENXIO: case EINTR: case EADDRINUSE: case ENOENT: case EMSGSIZE:
	case ENODATA: case EPERM: case EPROTO: case EBADMSG: case EPIPE:
	/* CONNECT: RDMA without a device, handshake and auth refusals */
	case ENODEV: case EPROTONOSUPPORT: case EKEYREJECTED: case ENOKEY:
	case ENOPROTOOPT:
	/* CONNECT to whatever address the fuzzer made up */
	case ENETUNREACH: case EHOSTUNREACH: case EADDRNOTAVAIL: case EAFNOSUPPORT:
		return true;
	}
	return false;
}

/* Addresses the fuzzer passes for pointers. */
struct arena {
	unsigned char *src;	/* the source's memory, guard page each side */
	unsigned char *dst;	/* the destination's, MAP_SHARED, likewise */
	unsigned char *pattern;	/* what src must stay equal to */
	unsigned char *buf;	/* RW page, then a PROT_NONE page */
	unsigned char *ro;	/* read-only page */
	unsigned char *none;	/* PROT_NONE page */
	void *unmapped;
	unsigned long *bitmap;	/* large enough for any valid range */
	unsigned char *blob;	/* data for SEND_BLOB, a buffer for WAIT_EVENT */
	struct vmmig_ring_slot *slots;	/* SEND_DIRTY_RING's, two */
	struct vmmig_dirty_gfn *gfns;	/* and its entries */
};

#define RING_GFNS	1024

#define BLOB_BUF	0x100000UL

static struct arena A;

static void *map(size_t len, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int arena_init(void)
{
	size_t i;

	A.src = map(RBYTES + 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	A.dst = map(RBYTES + 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED);
	A.pattern = map(RBYTES + 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	A.buf = map(2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	A.ro = map(PG, PROT_READ, MAP_PRIVATE);
	A.none = map(PG, PROT_NONE, MAP_PRIVATE);
	A.unmapped = map(PG, PROT_NONE, MAP_PRIVATE);
	A.bitmap = map(RBYTES / 8, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	A.blob = map(BLOB_BUF, PROT_READ | PROT_WRITE, MAP_SHARED);
	A.slots = map(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	A.gfns = map(RING_GFNS * sizeof(*A.gfns), PROT_READ | PROT_WRITE, MAP_PRIVATE);
	if (!A.src || !A.dst || !A.pattern || !A.buf || !A.ro || !A.none ||
	    !A.unmapped || !A.bitmap || !A.blob || !A.slots || !A.gfns)
		return -1;
	munmap(A.unmapped, PG);
	mprotect(A.buf + PG, PG, PROT_NONE);
	/* Every page names itself; one in four is zero (ZERO frames). */
	for (i = 0; i < RPAGES + 2; i++) {
		__u64 *w = (__u64 *)(A.pattern + i * PG);
		size_t k;

		for (k = 0; k < PG / 8; k++)
			w[k] = i % 4 == 1 ? 0 : (i + 1) * 0x9e3779b97f4a7c15ULL + k;
	}
	memcpy(A.src, A.pattern, RBYTES + 2 * PG);
	memset(A.dst, DST_FILL, RBYTES + 2 * PG);
	return 0;
}

/* A pointer for the fuzzer: mostly @good, else a bad one of some kind. */
static __u64 fz_ptr(struct fz *r, void *good, size_t len)
{
	switch (fz_below(r, 16)) {
	case 0:
		return 0;
	case 1:
		return (unsigned long)A.unmapped;
	case 2:
		return 0xffff888000000000ULL + fz_below(r, 1 << 20) * 8;
	case 3:
		return (unsigned long)A.none;
	case 4:
		return (unsigned long)A.ro;
	case 5:	/* straddles the end of the mapping */
		return (unsigned long)(A.buf + PG - 1 - fz_below(r, len ? len : 1));
	case 6:
		return fz_u64(r);
	default:
		return (unsigned long)good;
	}
}

/* Where the session is, so that templates start valid for it. */
struct ctx {
	int fd;
	bool dest;
	bool closing;	/* another thread may close @fd: EBADF is no answer */
	__u16 port;
	__u64 calls, ok, einval, efault, other;
	char bad[160];	/* the first undocumented answer */
};

static void set_timeout(struct fz *r, __u32 *t)
{
	/* Short, so that the fuzzer moves on; 0 (forever) is cut by SIGALRM. */
	*t = fz_one_in(r, 8) ? 0 : 1 + fz_below(r, 200);
}

/*
 * KVM's dirty ring as a VMM hands it in: two KVM slots, the region's halves
 * (the second in address space 0 or 1), and entries harvested from them,
 * now and then one of them garbage.
 */
static void ring_template(struct fz *r, struct vmmig_dirty_ring *ring)
{
	struct vmmig_ring_slot *slot = A.slots;
	struct vmmig_dirty_gfn *g = A.gfns;
	__u64 i, n = fz_one_in(r, 2) ? fz_below(r, 64) : fz_below(r, RING_GFNS + 1);

	slot[0] = (struct vmmig_ring_slot) {
		.slot = 0, .region_id = RID, .num_pages = RPAGES / 2,
	};
	slot[1] = (struct vmmig_ring_slot) {
		.slot = (fz_below(r, 2) << 16) | 1, .region_id = RID,
		.first_page = RPAGES / 2, .num_pages = RPAGES / 2,
	};
	for (i = 0; i < n; i++) {
		g[i].flags = VMMIG_RING_GFN_DIRTY | (fz_one_in(r, 2) ? VMMIG_RING_GFN_RESET : 0);
		g[i].slot = slot[fz_below(r, 2)].slot;
		g[i].offset = fz_below(r, RPAGES / 2);
	}
	if (n && fz_one_in(r, 8))
		fz_bytes(r, &g[fz_below(r, n)], sizeof(*g));
	if (fz_one_in(r, 16))
		fz_bytes(r, &slot[fz_below(r, 2)], sizeof(*slot));
	ring->size = sizeof(*ring);
	ring->nr_slots = fz_one_in(r, 8) ? 1 : 2;
	ring->slots = fz_ptr(r, slot, 2 * sizeof(*slot));
	ring->entries = fz_ptr(r, g, n * sizeof(*g));
	ring->nr_entries = n;
}

/* A struct for @cmd that is valid more often than not. */
static void template(struct fz *r, struct ctx *c, unsigned long cmd, void *arg)
{
	union {
		struct vmmig_region region;
		struct vmmig_connect connect;
		struct vmmig_accept accept;
		struct vmmig_dirty dirty;
		struct vmmig_dirty_ring ring;
		struct vmmig_blob blob;
		struct vmmig_event event;
		struct vmmig_stats stats;
		struct vmmig_bandwidth bw;
	} *u = arg;
	__u64 first, n;

	switch (cmd) {
	case VMMIG_IOC_ADD_REGION:
		u->region.size = sizeof(u->region);
		u->region.id = fz_one_in(r, 2) ? RID : fz_below(r, 70);
		u->region.uaddr = (unsigned long)A.src + PG * fz_below(r, 3);
		u->region.length = fz_one_in(r, 2) ? RBYTES : PG * (1 + fz_below(r, RPAGES));
		u->region.gpa = PG * fz_below(r, 4096);
		break;
	case VMMIG_IOC_CONNECT:
		u->connect.size = sizeof(u->connect);
		u->connect.family = AF_INET;
		u->connect.port = c->port + fz_below(r, 2);
		u->connect.channels = 1 + fz_below(r, 4);
		inet_pton(AF_INET, VT_ADDR_B, u->connect.addr);
		set_timeout(r, &u->connect.timeout_ms);
		u->connect.compression = fz_below(r, 3);
		break;
	case VMMIG_IOC_ACCEPT:
		u->accept.size = sizeof(u->accept);
		u->accept.port = c->port + 1 + fz_below(r, 2);
		set_timeout(r, &u->accept.timeout_ms);
		break;
	case VMMIG_IOC_SEND_DIRTY:
		first = 64 * fz_below(r, RPAGES / 64);
		n = 1 + fz_below(r, RPAGES - first);
		u->dirty.size = sizeof(u->dirty);
		u->dirty.region_id = RID;
		u->dirty.first_page = first;
		u->dirty.num_pages = n;
		u->dirty.bitmap = (unsigned long)A.bitmap;
		u->dirty.bitmap_size = (n + 63) / 64 * 8;
		fz_bytes(r, A.bitmap, u->dirty.bitmap_size);
		if (n % 64)	/* the tail must be clear, mostly */
			A.bitmap[n / 64] &= fz_one_in(r, 8) ? ~0UL : (1UL << (n % 64)) - 1;
		if (fz_one_in(r, 4)) {
			u->dirty.flags = VMMIG_DIRTY_ALL;
			u->dirty.bitmap = 0;
			u->dirty.bitmap_size = 0;
		}
		break;
	case VMMIG_IOC_SEND_DIRTY_RING:
		ring_template(r, &u->ring);
		break;
	case VMMIG_IOC_SEND_BLOB:
		u->blob.size = sizeof(u->blob);
		u->blob.tag = fz_next(r);
		u->blob.data = (unsigned long)A.blob;
		u->blob.length = fz_below(r, 4) ? fz_below(r, 5000) : fz_below(r, BLOB_BUF);
		break;
	case VMMIG_IOC_WAIT_EVENT:
		u->event.size = sizeof(u->event);
		set_timeout(r, &u->event.timeout_ms);
		u->event.data = (unsigned long)A.blob;
		u->event.data_size = fz_one_in(r, 4) ? fz_below(r, 100) : BLOB_BUF;
		break;
	case VMMIG_IOC_GET_STATS:
		u->stats.size = sizeof(u->stats);
		break;
	case VMMIG_IOC_SET_BANDWIDTH:
		u->bw.size = sizeof(u->bw);
		u->bw.bytes_per_sec = fz_one_in(r, 2) ? 0 : fz_one_in(r, 4) ?
				      fz_below(r, VMMIG_MIN_BANDWIDTH) : fz_u64(r);
		break;
	}
}

/* Size of the struct an ioctl number carries. */
static size_t cmd_size(unsigned long cmd)
{
	return _IOC_SIZE(cmd);
}

/* One mutation of the struct at @arg (@len bytes). */
static void mutate(struct fz *r, unsigned char *arg, size_t len)
{
	size_t off;
	__u64 v;

	if (!len)
		return;
	switch (fz_below(r, 6)) {
	case 0:	/* a bit */
		arg[fz_below(r, len)] ^= 1 << fz_below(r, 8);
		break;
	case 1:	/* the size field */
		v = fz_one_in(r, 2) ? len + 8 * fz_below(r, 4) : fz_u64(r);
		if (v > len && v <= 256 && fz_one_in(r, 2))
			arg[v - 1] = 1;	/* unknown trailing bytes, non-zero */
		memcpy(arg, &(__u32){ v }, 4);
		break;
	case 2:	/* a 32-bit field */
		off = 4 * fz_below(r, len / 4);
		memcpy(arg + off, &(__u32){ fz_u64(r) }, 4);
		break;
	case 3:	/* a 64-bit field */
		off = 8 * fz_below(r, len / 8);
		v = fz_u64(r);
		memcpy(arg + off, &v, 8);
		break;
	case 4:	/* a pointer field, where the struct has one */
		off = 8 * fz_below(r, len / 8);
		v = fz_ptr(r, A.blob, 64);
		memcpy(arg + off, &v, 8);
		break;
	default: /* garbage */
		fz_bytes(r, arg + fz_below(r, len), 1 + fz_below(r, 8) % len);
		break;
	}
}

/*
 * Timeouts the mutations made long are cut to keep the fuzzer moving, and
 * so are bandwidth caps made low (a SEND_DIRTY does not return before its
 * pages went): one the module takes is at least FUZZ_MIN_CAP.
 */
#define FUZZ_MIN_CAP	(100ULL << 20)

static void clamp_timeouts(unsigned long cmd, void *arg)
{
	struct vmmig_bandwidth *bw = arg;
	__u32 *t = NULL;

	if (cmd == VMMIG_IOC_SET_BANDWIDTH && bw->bytes_per_sec >= VMMIG_MIN_BANDWIDTH &&
	    bw->bytes_per_sec < FUZZ_MIN_CAP)
		bw->bytes_per_sec = FUZZ_MIN_CAP;

	if (cmd == VMMIG_IOC_CONNECT)
		t = &((struct vmmig_connect *)arg)->timeout_ms;
	else if (cmd == VMMIG_IOC_ACCEPT)
		t = &((struct vmmig_accept *)arg)->timeout_ms;
	else if (cmd == VMMIG_IOC_WAIT_EVENT)
		t = &((struct vmmig_event *)arg)->timeout_ms;
	if (t && *t > 500)
		*t = 500;
}

/* 256 bytes of argument, then whatever follows in the RW page. */
#define ARGBUF	256

/*
 * One fuzzed call on @c->fd. Returns the ioctl's -errno or its value.
 * @allow: the commands this state may be handed (the others end it).
 */
static long fuzz_one(struct fz *r, struct ctx *c, unsigned long allow)
{
	__u64 argwords[(ARGBUF + 64) / 8];
	unsigned char *argbuf = (unsigned char *)argwords;
	unsigned long cmd, ucmd;
	unsigned int k, i;
	void *uarg = argbuf;
	long ret;

	do
		k = fz_below(r, NCMDS);
	while (!(allow & (1UL << k)));
	cmd = cmds[k];
	ucmd = cmd;
	memset(argwords, 0, sizeof(argwords));
	template(r, c, cmd, argbuf);

	for (i = fz_below(r, 4); i; i--)
		mutate(r, argbuf, cmd_size(cmd) ? cmd_size(cmd) : 32);
	clamp_timeouts(cmd, argbuf);

	switch (fz_below(r, 24)) {
	case 0:	/* size bits of the number */
		ucmd = _IOC(_IOC_DIR(cmd), VMMIG_IOC_TYPE, _IOC_NR(cmd), fz_below(r, ARGBUF));
		break;
	case 1:	/* direction bits */
		ucmd = _IOC(fz_below(r, 4), VMMIG_IOC_TYPE, _IOC_NR(cmd), _IOC_SIZE(cmd));
		break;
	case 2:	/* another number */
		ucmd = _IOC(fz_below(r, 4), fz_one_in(r, 2) ? VMMIG_IOC_TYPE : fz_below(r, 256),
			    fz_below(r, 32), fz_below(r, ARGBUF));
		if (_IOC_TYPE(ucmd) == VMMIG_IOC_TYPE && _IOC_NR(ucmd) < NCMDS)
			ucmd = cmd;	/* don't call what the allow mask forbids */
		break;
	case 3:
	case 4:	/* the argument pointer */
		uarg = (void *)(unsigned long)fz_ptr(r, argbuf, cmd_size(cmd));
		break;
	}
	if ((unsigned char *)uarg >= A.buf && (unsigned char *)uarg < A.buf + PG) {
		size_t room = A.buf + PG - (unsigned char *)uarg;

		memcpy(uarg, argbuf, room < ARGBUF ? room : ARGBUF);
	}

	ret = ioctl(c->fd, ucmd, uarg);
	ret = ret < 0 ? -errno : ret;
	c->calls++;
	/* VERSION takes no argument, whatever size the number carries. */
	if (!ret || (cmd == VMMIG_IOC_VERSION && ret == VMMIG_ABI_VERSION)) {
		c->ok++;
	} else if (ret == -EINVAL) {
		c->einval++;
	} else if (ret == -EFAULT) {
		c->efault++;
	} else if (ret == -EBADF && c->closing) {
		c->other++;
	} else {
		c->other++;
		if ((ret > 0 || !errno_documented(-ret)) && !c->bad[0])
			snprintf(c->bad, sizeof(c->bad),
				 "ioctl 0x%lx (as 0x%lx) returned %ld (%s)", cmd, ucmd,
				 ret, ret < 0 ? strerror(-ret) : "positive");
	}
	return ret;
}

#define BIT(cmd)	(1UL << (cmd))
/* The commands by index in cmds[]. */
enum {
	I_VER, I_ADD, I_CONN, I_ACC, I_DIRTY, I_BLOB, I_SYNC, I_FIN, I_ABORT, I_WAIT, I_STATS,
	I_RING, I_BW,
};

/* The calls that end an ACTIVE session: rare, or the rest is never reached. */
#define ENDERS		(BIT(I_ABORT) | BIT(I_FIN))
#define ALL_BUT(x)	(((1UL << NCMDS) - 1) & ~(x))

static void on_alarm(int sig)
{
}

/* SIGALRM every 300 ms: nothing the fuzzer asks for may block for good. */
static void alarm_start(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { { 0, 300000 }, { 0, 300000 } };

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void alarm_stop(void)
{
	struct itimerval it = {};

	setitimer(ITIMER_REAL, &it, NULL);
}

static void report(struct __test_metadata *_metadata, const char *what, struct ctx *c)
{
	printf("# %s: %llu calls, %llu ok, %llu EINVAL, %llu EFAULT, %llu other errnos\n",
	       what, (unsigned long long)c->calls, (unsigned long long)c->ok,
	       (unsigned long long)c->einval, (unsigned long long)c->efault,
	       (unsigned long long)c->other);
	EXPECT_EQ(0, c->bad[0]) TH_LOG("%s: %s", what, c->bad);
}

/* Destination pages hold either nothing (the fill) or the source's page. */
static size_t dst_bad_page(void)
{
	size_t i;
	const unsigned char *p;

	for (i = 0; i < RPAGES + 2; i++) {
		p = A.dst + i * PG;
		if (i == 0 || i == RPAGES + 1 || memcmp(p, A.pattern + i * PG, PG)) {
			size_t k;

			for (k = 0; k < PG; k++)
				if (p[k] != DST_FILL)
					return i;
		}
	}
	return ~0UL;
}

FIXTURE(fz) {
	int dummy;
};

FIXTURE_SETUP(fz)
{
	ASSERT_EQ(0, arena_init());
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "set max-migrations 8"));
	ASSERT_EQ(0, vt_ctl(VT_NS_A, "set max-migrations 8"));
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
}

FIXTURE_TEARDOWN(fz)
{
	alarm_stop();
	vt_netns_teardown();
}

/* NEW: everything but the calls that would leave NEW. */
TEST_F_TIMEOUT(fz, new_state, 900)
{
	unsigned long i, n = fz_iters(1500);
	struct ctx c = { .port = PORT };
	struct fz r;

	fz_init(&r, "new_state");
	alarm_start();
	for (i = 0; i < n; i++) {
		if (i % 500 == 0) {
			if (i)
				close(c.fd);
			c.fd = vt_open();
			ASSERT_LE(0, c.fd);
		}
		/* Nobody accepts on c.port: CONNECT fails, the session stays NEW. */
		fuzz_one(&r, &c, ALL_BUT(0));
	}
	close(c.fd);
	alarm_stop();
	report(_metadata, "NEW", &c);
	EXPECT_EQ(0, memcmp(A.src, A.pattern, RBYTES + 2 * PG));
}

/*
 * The largest region the uapi allows, at an address where nothing is
 * mapped: refused with an errno, and without a kernel warning about the
 * size of the page array (the test run fails on any).
 */
TEST_F(fz, largest_region_unmapped)
{
	int fd = vt_open();
	int rc;

	ASSERT_LE(0, fd);
	rc = vt_add_region(fd, RID, (void *)(16 * PG), VMMIG_MAX_REGION_BYTES, 0);
	EXPECT_TRUE(rc == -EFAULT || rc == -ENOMEM) TH_LOG("ADD_REGION: %d", rc);
	rc = vt_add_region(fd, RID, (void *)(16 * PG), VMMIG_MAX_REGION_BYTES / 2, 0);
	EXPECT_TRUE(rc == -EFAULT || rc == -ENOMEM) TH_LOG("ADD_REGION: %d", rc);
	close(fd);
}

/* A region registered by one process is not another's to add to. */
TEST_F(fz, forked_caller)
{
	struct ctx c = { .port = PORT };
	unsigned long i;
	int status;
	pid_t pid;
	struct fz r;

	fz_init(&r, "forked_caller");
	c.fd = vt_open();
	ASSERT_LE(0, c.fd);
	ASSERT_EQ(0, vt_add_region(c.fd, RID, A.src + PG, RBYTES, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vmmig_region reg = {
			.size = sizeof(reg), .id = RID + 1, .uaddr = (unsigned long)A.buf,
			.length = PG, .gpa = 1UL << 40,
		};

		alarm_start();
		int rc = vt_ioctl(c.fd, VMMIG_IOC_ADD_REGION, &reg);

		if (rc != -EPERM) {
			printf("# forked caller: ADD_REGION %d, not -EPERM\n", rc);
			_exit(1);
		}
		for (i = 0; i < fz_iters(300); i++)
			fuzz_one(&r, &c, ALL_BUT(BIT(I_CONN) | BIT(I_ACC)));
		if (c.bad[0])
			printf("# forked caller: %s\n", c.bad);
		_exit(c.bad[0] ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the forked caller exited with status 0x%x", status);
	close(c.fd);
	EXPECT_EQ(0, memcmp(A.src, A.pattern, RBYTES + 2 * PG));
}

/*
 * The destination: accept one session into A.dst, then fuzz its calls,
 * reading events in between, until the session is over. Exits 0 if every
 * answer was documented.
 */
static void dest_child(unsigned long n, const char *name)
{
	struct ctx c = { .port = PORT, .dest = true };
	struct vmmig_event ev;
	unsigned long i;
	struct fz r;
	int rc;

	fz_init(&r, name);
	if (vt_enter_netns(VT_NS_B))
		_exit(10);
	c.fd = vt_open();
	if (c.fd < 0 || vt_add_region(c.fd, RID, A.dst + PG, RBYTES, 0))
		_exit(11);
	if (vt_accept(c.fd, PORT, 20000))
		_exit(12);
	alarm_start();
	for (i = 0; ; i++) {
		if (i < n && fz_one_in(&r, 2)) {
			/* ABORT rarely: the source has calls to make too. */
			fuzz_one(&r, &c, ALL_BUT(fz_one_in(&r, 50) ? 0 : BIT(I_ABORT)));
			continue;
		}
		rc = vt_wait_event(c.fd, &ev, A.blob, BLOB_BUF, 200);
		/* A blob larger than the buffer: take it with one of its size. */
		if (rc == -EMSGSIZE) {
			void *big = malloc(ev.length);

			rc = big ? vt_wait_event(c.fd, &ev, big, ev.length, 200) : -ENOMEM;
			free(big);
		}
		if (rc == -ENODATA)
			break;
		if (rc && rc != -ETIMEDOUT && rc != -EINTR && !c.bad[0])
			snprintf(c.bad, sizeof(c.bad), "WAIT_EVENT: %s", strerror(-rc));
	}
	alarm_stop();
	printf("# destination: %llu calls, %llu ok, %llu EINVAL, %llu EFAULT, %llu other%s%s\n",
	       (unsigned long long)c.calls, (unsigned long long)c.ok,
	       (unsigned long long)c.einval, (unsigned long long)c.efault,
	       (unsigned long long)c.other, c.bad[0] ? ": " : "", c.bad);
	fflush(stdout);
	close(c.fd);
	_exit(c.bad[0] ? 1 : 0);
}

/*
 * ACTIVE (source and destination both fuzzed), then FINISHED or ABORTED,
 * for several sessions in a row.
 */
TEST_F_TIMEOUT(fz, active_and_after, 1200)
{
	unsigned long lives = 4, per = fz_iters(300), i, life;
	struct ctx c = { .port = PORT };
	struct fz r;
	char name[32];
	int status, rc;
	pid_t pid;

	fz_init(&r, "active_and_after");
	for (life = 0; life < lives; life++) {
		snprintf(name, sizeof(name), "dest%lu", life);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			dest_child(per, name);
		c.fd = vt_open();
		ASSERT_LE(0, c.fd);
		ASSERT_EQ(0, vt_add_region(c.fd, RID, A.src + PG, RBYTES, 0));
		rc = vt_connect_comp_retry(c.fd, NULL, PORT, 1 + life % 3, life % 3, 200);
		ASSERT_EQ(0, rc);

		alarm_start();
		for (i = 0; i < per; i++)
			fuzz_one(&r, &c, ALL_BUT(fz_one_in(&r, 200) ? 0 : ENDERS));
		/* Ends FINISHED if no ABORT came; then the ended states get theirs. */
		rc = vt_ioctl(c.fd, VMMIG_IOC_FINISH, NULL);
		for (i = 0; i < per / 4; i++)
			fuzz_one(&r, &c, ALL_BUT(0));
		alarm_stop();
		printf("# life %lu: FINISH %s\n", life, rc ? strerror(-rc) : "ok");
		close(c.fd);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("destination of life %lu: status 0x%x", life, status);
		EXPECT_EQ(0, memcmp(A.src, A.pattern, RBYTES + 2 * PG))
			TH_LOG("the source memory changed");
		EXPECT_EQ(~0UL, dst_bad_page())
			TH_LOG("destination page %zu holds bytes the source never sent",
			       dst_bad_page());
		memset(A.dst, DST_FILL, RBYTES + 2 * PG);
	}
	report(_metadata, "source ACTIVE/FINISHED/ABORTED", &c);
}

struct racer {
	struct ctx c;
	struct fz r;
	unsigned long n;
	atomic_int *stop;
};

static void *race_thread(void *arg)
{
	struct racer *t = arg;
	unsigned long i;

	for (i = 0; i < t->n && !atomic_load(t->stop); i++)
		fuzz_one(&t->r, &t->c,
			 ALL_BUT(fz_one_in(&t->r, 300) ? 0 : ENDERS));
	return NULL;
}

/*
 * Two threads fuzz one session fd at once while a third closes it under
 * them (the file lives on until their calls return).
 */
TEST_F_TIMEOUT(fz, two_threads_one_fd, 900)
{
	unsigned long lives = 3, per = fz_iters(150), life;
	struct racer t[2];
	atomic_int stop;
	pthread_t th[2];
	char name[32];
	int status, fd, k;
	pid_t pid;

	for (life = 0; life < lives; life++) {
		snprintf(name, sizeof(name), "racedest%lu", life);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			dest_child(per / 2, name);
		fd = vt_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, vt_add_region(fd, RID, A.src + PG, RBYTES, 0));
		ASSERT_EQ(0, vt_connect_comp_retry(fd, NULL, PORT, 2, life % 3, 200));
		atomic_store(&stop, 0);
		alarm_start();
		for (k = 0; k < 2; k++) {
			memset(&t[k], 0, sizeof(t[k]));
			t[k].c.fd = fd;
			t[k].c.closing = true;
			t[k].c.port = PORT;
			t[k].n = per;
			t[k].stop = &stop;
			snprintf(name, sizeof(name), "race%lu.%d", life, k);
			fz_init(&t[k].r, name);
			ASSERT_EQ(0, pthread_create(&th[k], NULL, race_thread, &t[k]));
		}
		usleep(200000 * (life + 1));
		close(fd);	/* under their feet: later calls get EBADF */
		for (k = 0; k < 2; k++) {
			pthread_join(th[k], NULL);
			report(_metadata, "racing thread", &t[k].c);
		}
		alarm_stop();
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("destination of race %lu: status 0x%x", life, status);
		EXPECT_EQ(0, memcmp(A.src, A.pattern, RBYTES + 2 * PG));
		EXPECT_EQ(~0UL, dst_bad_page());
		memset(A.dst, DST_FILL, RBYTES + 2 * PG);
	}
}

TEST_HARNESS_MAIN
