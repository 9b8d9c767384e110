// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath benchmark: how fast, and at what CPU cost, does a round of
 * dirty pages cross from host A to host B (network namespaces joined by
 * veth), with the vmmig module and with a userspace sender that does the
 * same job the way QEMU's multifd does. All variants run in one process,
 * on the same memory, in the same boot, and are compared as ratios.
 *
 *   memcpy       one core copies the source to the destination: the ceiling
 *   module       SEND_DIRTY(VMMIG_DIRTY_ALL) + SYNC, destination forked in B
 *   us-page      per page: sendmsg({16-byte header, page}) from the
 *                sender's own memory; the receiver reads the header, then
 *                recv()s the page straight to its place in the destination
 *   us-page-zc   the same with SO_ZEROCOPY + MSG_ZEROCOPY, completions
 *                reaped from the error queue
 *   us-batch     QEMU multifd's real shape: one header naming 128 pages,
 *                then those pages, all in one sendmsg (one iovec per page);
 *                the receiver reads the header and readv()s the pages
 *   us-batch-zc  the same with MSG_ZEROCOPY
 *
 * The userspace variants end a round as multifd does: a SYNC header on
 * every channel, answered by the receiver once everything before it is
 * placed (like the module's SYNC), after the zerocopy completions are in.
 *
 * Memory: every page distinct and non-zero, so zero-page detection cannot
 * flatter the module. The destination is a MAP_SHARED mapping, reset to
 * 0xee before each round and compared with the source after it, so a
 * broken path cannot report a number.
 *
 * CPU time: busy jiffies of all CPUs from /proc/stat around each timed
 * round (the module's work items, receive threads and softirqs do not
 * show in getrusage()).
 *
 * Each variant keeps its connections for the whole run (a session, as a
 * migration would); rounds go variant after variant, so that a change in
 * the host's load (the VM is emulated) hits all of them alike.
 *
 * The per-page variants pay a sendmsg() (and a TCP segment) per page; on
 * an emulated CPU that is ~20 times slower than the rest, so by default
 * they move only the first -p MiB of the memory each round. Every rate is
 * per page or per byte, so sizes do not enter the ratios.
 *
 * Usage: datapath_bench [-m MiB] [-p MiB] [-r runs] [-w warmup] [-c channels,...]
 */
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>

#include <linux/errqueue.h>

#include "bench.h"

#define MAX_CH		16
#define MAX_VARIANTS	64
#define BATCH_PAGES	128	/* QEMU multifd: 512 KiB packets of 4 KiB pages */
#define UNIT_PAGES	128	/* userspace: pages per channel assignment */
#define HDR_MAGIC	0x4d464442	/* "MFDB" */
#define PORT_MODULE	6700
#define PORT_USER	6800

/* Per-page header: the page index. count 0 is a SYNC (seq in page). */
struct hdr_page {
	__u32 magic;
	__u32 count;
	__u64 page;
};

/* multifd-style packet header: up to BATCH_PAGES page indices. */
struct hdr_batch {
	__u32 magic;
	__u32 count;
	__u64 page[BATCH_PAGES];
};

enum kind { K_MEMCPY, K_MODULE, K_US_PAGE, K_US_BATCH };

struct result {
	char name[32];
	enum kind kind;
	bool zc;
	unsigned int nch;
	size_t npages;		/* pages moved per round */
	int nruns;
	double wall[MAX_RUNS];
	double cpu[MAX_RUNS];
	bool ok;
	char err[160];
	/* zerocopy: sends issued, completions reaped, of which copied */
	__u64 zc_issued, zc_done, zc_copied;
};

static unsigned char *src, *dst;
static size_t len, npages;
static struct hdr_page *hdrs_page;	/* one per page, stable for zerocopy */
static struct hdr_batch *hdrs_batch;	/* one per unit */
static int runs = 3, warmup = 1;

/* ---- measurement ---- */

static void mark_stop(const struct mark *m, struct result *r)
{
	mark_read(m, &r->wall[r->nruns], &r->cpu[r->nruns]);
	r->nruns++;
}

static void fail(struct result *r, const char *what, int err)
{
	if (!r->err[0])
		snprintf(r->err, sizeof(r->err), "%s: %s", what, strerror(err));
	r->ok = false;
}

/* ---- memory ---- */

/* Every page distinct and without a zero page: page i word w = f(i) + w. */
static void fill_page(unsigned char *mem, size_t page)
{
	__u64 *w = (__u64 *)(mem + page * PG);
	__u64 v = (page + 1) * 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < PG / 8; i++)
		w[i] = v + i * 0x100000001b3ULL + 1;
}

static void reset_dst(size_t pages)
{
	memset(dst, 0xee, pages * PG);
}

/* Compare after a round; on mismatch say where. */
static int check_dst(struct result *r)
{
	size_t i;

	for (i = 0; i < r->npages; i++) {
		if (memcmp(src + i * PG, dst + i * PG, PG)) {
			snprintf(r->err, sizeof(r->err),
				 "destination differs from source at page %zu", i);
			r->ok = false;
			return -1;
		}
	}
	return 0;
}

/* ---- one variant: set up once, then rounds interleaved with the others ---- */

struct chan {
	int fd;
	unsigned int idx, nch;
	enum kind kind;
	bool zc;
	size_t npages;		/* send pages 0 .. npages - 1 */
	__u64 seq;
	__u64 zc_issued, zc_done, zc_copied;
	int err;
	pthread_barrier_t *start;
};

struct variant {
	struct result r;
	__u16 port;
	pid_t pid;		/* the destination host's process */
	int fd;			/* module: the source session */
	struct chan ch[MAX_CH];	/* userspace: the source's connections */
};

static void memcpy_round(struct variant *v, bool timed)
{
	struct mark m;

	mark_start(&m);
	memcpy(dst, src, len);
	asm volatile("" ::: "memory");
	if (timed)
		mark_stop(&m, &v->r);
}

/* ---- the module ---- */

/* Destination host: register dst, accept, wait for the end. */
static void module_dest(__u16 port)
{
	int fd = bench_dest_open(VT_NS_B);

	bench_dest_add_region(fd, 1, dst, len, 0x100000, 0);
	bench_dest_serve(fd, port);
}

static void module_setup(struct variant *v)
{
	struct result *r = &v->r;
	const char *what;
	int rc;

	v->fd = bench_source_open(src, len, &what);
	if (v->fd < 0) {
		fail(r, what, -v->fd);
		return;
	}
	rc = vt_connect_retry(v->fd, NULL, v->port, r->nch, 200);
	if (rc)
		fail(r, "CONNECT", -rc);
}

static void module_round(struct variant *v, bool timed)
{
	struct result *r = &v->r;
	struct vmmig_dirty d;
	struct mark m;
	int rc;

	mark_start(&m);
	rc = vt_send_dirty(v->fd, 1, 0, npages, NULL, &d);
	if (rc) {
		fail(r, "SEND_DIRTY", -rc);
		return;
	}
	rc = vt_ioctl(v->fd, VMMIG_IOC_SYNC, NULL);
	if (rc) {
		fail(r, "SYNC", -rc);
		return;
	}
	if (timed)
		mark_stop(&m, r);
	if (d.pages != npages || d.zero_pages) {
		snprintf(r->err, sizeof(r->err),
			 "SEND_DIRTY sent %llu pages (%llu zero), expected %zu (0 zero)",
			 (unsigned long long)d.pages, (unsigned long long)d.zero_pages, npages);
		r->ok = false;
	}
}

static void module_teardown(struct variant *v)
{
	struct result *r = &v->r;
	int rc, st;

	if (r->ok) {
		rc = vt_ioctl(v->fd, VMMIG_IOC_FINISH, NULL);
		if (rc)
			fail(r, "FINISH", -rc);
	}
	if (v->fd >= 0)
		close(v->fd);
	if (v->pid <= 0)
		return;
	if (!r->ok)
		kill(v->pid, SIGKILL);
	st = wait_child(v->pid);
	if (st && r->ok) {
		snprintf(r->err, sizeof(r->err), "destination exited with %d", st);
		r->ok = false;
	}
}

/* ---- userspace multifd-style sender and receiver ---- */

static size_t hdr_size(enum kind kind)
{
	return kind == K_US_PAGE ? sizeof(struct hdr_page) : sizeof(struct hdr_batch);
}

/* Read zerocopy completions; with @wait, block until at least one came. */
static int zc_reap(struct chan *c, bool wait)
{
	char control[128];
	struct msghdr msg = {};
	struct sock_extended_err *serr;
	struct cmsghdr *cm;
	struct pollfd pfd = { .fd = c->fd };
	bool got = false;

	for (;;) {
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		if (recvmsg(c->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			if (!wait || got)
				return 0;
			if (poll(&pfd, 1, 10000) == 0)
				return -ETIMEDOUT;
			continue;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			serr = (struct sock_extended_err *)CMSG_DATA(cm);
			if (serr->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
				return -EPROTO;
			if (serr->ee_errno)
				return -serr->ee_errno;
			c->zc_done += serr->ee_data - serr->ee_info + 1;
			if (serr->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				c->zc_copied += serr->ee_data - serr->ee_info + 1;
			got = true;
		}
	}
}

static int send_iov(struct chan *c, struct iovec *iov, int cnt, int flags)
{
	struct msghdr msg = {};
	ssize_t n;
	int rc;

	while (cnt) {
		msg.msg_iov = iov;
		msg.msg_iovlen = cnt;
		n = sendmsg(c->fd, &msg, flags | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Too many zerocopy sends in flight (optmem): reap, retry. */
			if (errno == ENOBUFS && (flags & MSG_ZEROCOPY)) {
				rc = zc_reap(c, true);
				if (rc)
					return rc;
				continue;
			}
			return -errno;
		}
		if (flags & MSG_ZEROCOPY)
			c->zc_issued++;
		iov_advance(&iov, &cnt, n);
	}
	return 0;
}

static int send_sync(struct chan *c)
{
	struct hdr_batch h = { .magic = HDR_MAGIC, .count = 0 };
	struct iovec iov = { .iov_base = &h, .iov_len = hdr_size(c->kind) };
	__u64 ack;
	int rc;

	/* multifd flushes the zerocopy completions before its sync packet. */
	while (c->zc && c->zc_done < c->zc_issued) {
		rc = zc_reap(c, true);
		if (rc)
			return rc;
	}
	c->seq++;
	h.page[0] = c->seq;	/* hdr_page.page is at the same offset */
	rc = send_iov(c, &iov, 1, 0);
	if (rc)
		return rc;
	iov.iov_base = &ack;
	iov.iov_len = sizeof(ack);
	rc = recv_iov(c->fd, &iov, 1, NULL);
	if (rc)
		return rc;
	return ack == c->seq ? 0 : -EPROTO;
}

/* One round on one channel: its units of pages, then SYNC. */
static void *sender(void *arg)
{
	struct chan *c = arg;
	struct iovec iov[1 + BATCH_PAGES];
	size_t units = (c->npages + UNIT_PAGES - 1) / UNIT_PAGES, u, p, end;
	int flags = c->zc ? MSG_ZEROCOPY : 0;
	int rc = 0, n;

	pthread_barrier_wait(c->start);
	for (u = c->idx; u < units && !rc; u += c->nch) {
		end = (u + 1) * UNIT_PAGES < c->npages ? (u + 1) * UNIT_PAGES : c->npages;
		if (c->kind == K_US_PAGE) {
			for (p = u * UNIT_PAGES; p < end && !rc; p++) {
				iov[0].iov_base = &hdrs_page[p];
				iov[0].iov_len = sizeof(hdrs_page[p]);
				iov[1].iov_base = src + p * PG;
				iov[1].iov_len = PG;
				rc = send_iov(c, iov, 2, flags);
			}
		} else {
			iov[0].iov_base = &hdrs_batch[u];
			iov[0].iov_len = sizeof(hdrs_batch[u]);
			for (p = u * UNIT_PAGES, n = 1; p < end; p++, n++) {
				iov[n].iov_base = src + p * PG;
				iov[n].iov_len = PG;
			}
			rc = send_iov(c, iov, n, flags);
		}
		/* Keep the error queue short, as multifd does between packets. */
		if (!rc && c->zc)
			rc = zc_reap(c, false);
	}
	if (!rc)
		rc = send_sync(c);
	c->err = rc;
	return NULL;
}

/* Destination side of one channel: place pages until EOF. */
static void *receiver(void *arg)
{
	struct chan *c = arg;
	struct hdr_batch h;
	struct iovec iov[BATCH_PAGES];
	__u32 max = c->kind == K_US_PAGE ? 1 : BATCH_PAGES, i;
	/* struct hdr_page is a prefix of struct hdr_batch: page == page[0] */
	__u64 *pages = h.page;
	bool eof = false;
	int rc;

	for (;;) {
		iov[0].iov_base = &h;
		iov[0].iov_len = hdr_size(c->kind);
		rc = recv_iov(c->fd, iov, 1, &eof);
		if (rc || eof)
			break;
		if (h.magic != HDR_MAGIC || h.count > max) {
			rc = -EPROTO;
			break;
		}
		if (!h.count) {
			iov[0].iov_base = &pages[0];
			iov[0].iov_len = sizeof(pages[0]);
			rc = send_iov(c, iov, 1, 0);
			if (rc)
				break;
			continue;
		}
		for (i = 0; i < h.count; i++) {
			if (pages[i] >= npages) {
				rc = -EPROTO;
				break;
			}
			iov[i].iov_base = dst + pages[i] * PG;
			iov[i].iov_len = PG;
		}
		if (!rc)
			rc = recv_iov(c->fd, iov, h.count, NULL);
		if (rc)
			break;
	}
	c->err = rc;
	return NULL;
}

static void user_dest(enum kind kind, unsigned int nch, __u16 port)
{
	struct chan ch[MAX_CH] = {};
	int fds[MAX_CH], rc = 0;
	pthread_t th[MAX_CH];
	unsigned int i;

	bench_dest_enter(VT_NS_B);
	rc = user_accept(port, fds, nch);
	if (rc) {
		fprintf(stderr, "user dest: listen/accept: %s\n", strerror(-rc));
		_exit(11);
	}
	for (i = 0; i < nch; i++) {
		ch[i].fd = fds[i];
		ch[i].kind = kind;
	}
	for (i = 0; i < nch; i++)
		pthread_create(&th[i], NULL, receiver, &ch[i]);
	for (i = 0; i < nch; i++) {
		pthread_join(th[i], NULL);
		if (ch[i].err) {
			fprintf(stderr, "user dest: channel %u: %s\n", i, strerror(-ch[i].err));
			rc = 13;
		}
	}
	_exit(rc);
}

static void user_setup(struct variant *v)
{
	struct result *r = &v->r;
	unsigned int i;
	int one = 1;

	for (i = 0; i < r->nch; i++) {
		struct chan *c = &v->ch[i];

		c->fd = user_connect(v->port);
		if (c->fd < 0) {
			fail(r, "connect", -c->fd);
			return;
		}
		c->idx = i;
		c->nch = r->nch;
		c->kind = r->kind;
		c->zc = r->zc;
		c->npages = r->npages;
		if (r->zc && setsockopt(c->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
			fail(r, "SO_ZEROCOPY", errno);
			return;
		}
	}
}

static void user_round(struct variant *v, bool timed)
{
	struct result *r = &v->r;
	pthread_barrier_t start;
	pthread_t th[MAX_CH];
	unsigned int i;
	struct mark m;

	pthread_barrier_init(&start, NULL, r->nch + 1);
	for (i = 0; i < r->nch; i++) {
		v->ch[i].start = &start;
		pthread_create(&th[i], NULL, sender, &v->ch[i]);
	}
	mark_start(&m);
	pthread_barrier_wait(&start);
	for (i = 0; i < r->nch; i++)
		pthread_join(th[i], NULL);
	if (timed)
		mark_stop(&m, r);
	pthread_barrier_destroy(&start);
	for (i = 0; i < r->nch; i++)
		if (v->ch[i].err)
			fail(r, "send", -v->ch[i].err);
}

static void user_teardown(struct variant *v)
{
	struct result *r = &v->r;
	unsigned int i;
	int st;

	for (i = 0; i < r->nch; i++) {
		r->zc_issued += v->ch[i].zc_issued;
		r->zc_done += v->ch[i].zc_done;
		r->zc_copied += v->ch[i].zc_copied;
		if (v->ch[i].fd >= 0)
			shutdown(v->ch[i].fd, SHUT_WR);
	}
	if (v->pid > 0) {
		if (!r->ok)
			kill(v->pid, SIGKILL);
		st = wait_child(v->pid);
		if (st && r->ok) {
			snprintf(r->err, sizeof(r->err), "receiver exited with %d", st);
			r->ok = false;
		}
	}
	for (i = 0; i < r->nch; i++)
		if (v->ch[i].fd >= 0)
			close(v->ch[i].fd);
}

/* The destination host's process, forked before the source memory exists. */
static void variant_fork_dest(struct variant *v)
{
	unsigned int i;

	v->fd = -1;
	for (i = 0; i < MAX_CH; i++)
		v->ch[i].fd = -1;
	if (v->r.kind == K_MEMCPY)
		return;
	v->pid = fork();
	if (v->pid < 0) {
		fail(&v->r, "fork", errno);
		return;
	}
	if (v->pid > 0)
		return;
	if (v->r.kind == K_MODULE)
		module_dest(v->port);
	user_dest(v->r.kind, v->r.nch, v->port);
}

/* The source side: sessions and connections, kept for every round. */
static void variant_setup(struct variant *v)
{
	if (!v->r.ok)
		return;
	if (v->r.kind == K_MODULE)
		module_setup(v);
	else if (v->r.kind != K_MEMCPY)
		user_setup(v);
}

/* One round: destination reset, the timed transfer, then the check. */
static void variant_round(struct variant *v, bool timed)
{
	if (!v->r.ok)
		return;
	reset_dst(v->r.npages);
	if (v->r.kind == K_MEMCPY)
		memcpy_round(v, timed);
	else if (v->r.kind == K_MODULE)
		module_round(v, timed);
	else
		user_round(v, timed);
	if (v->r.ok)
		check_dst(&v->r);
	if (v->r.ok && timed)
		fprintf(stderr, "[bench]   %-12s ch=%u %8.3f s\n", v->r.name, v->r.nch,
			v->r.wall[v->r.nruns - 1]);
	if (!v->r.ok)
		fprintf(stderr, "[bench] %s ch=%u FAILED: %s\n", v->r.name, v->r.nch, v->r.err);
}

static void variant_teardown(struct variant *v)
{
	if (v->r.kind == K_MODULE)
		module_teardown(v);
	else if (v->r.kind != K_MEMCPY)
		user_teardown(v);
}

/* ---- report ---- */

static double r_wall(const struct result *r)
{
	return median(r->wall, r->nruns);
}

static double r_cpu_gib(const struct result *r)
{
	return median(r->cpu, r->nruns) / (r->npages * PG / GIB);
}

static double r_pps(const struct result *r)
{
	return r->npages / r_wall(r);
}

static double r_mbs(const struct result *r)
{
	return r->npages * PG / r_wall(r) / 1e6;
}

static void print_row(const struct result *r)
{
	double lo = 1e30, hi = 0;
	char zc[16] = "-";
	int i;

	if (!r->ok) {
		printf("%-12s %3u %4zu  FAILED: %s\n", r->name, r->nch,
		       r->npages * PG / MIB, r->err);
		return;
	}
	for (i = 0; i < r->nruns; i++) {
		lo = r->wall[i] < lo ? r->wall[i] : lo;
		hi = r->wall[i] > hi ? r->wall[i] : hi;
	}
	if (r->zc && r->zc_done)
		snprintf(zc, sizeof(zc), "%.0f%%", 100.0 * r->zc_copied / r->zc_done);
	printf("%-12s %3u %4zu %8.3f %8.3f-%-8.3f %10.0f %8.1f %9.3f %6.2f %8s\n",
	       r->name, r->nch, r->npages * PG / MIB, r_wall(r), lo, hi, r_pps(r), r_mbs(r),
	       r_cpu_gib(r), median(r->cpu, r->nruns) / r_wall(r), zc);
}

/*
 * Ratio of the medians, and the range of the ratios round by round: the
 * two variants of a round ran next to each other, under the same host load.
 */
static void print_ratio(const struct result *mod, const struct result *u)
{
	double lo = 1e30, hi = 0, x;
	int i;

	if (!mod->ok || !u->ok || mod->nruns != u->nruns) {
		printf("  module/%-12s ch=%u  n/a (a variant failed)\n", u->name, u->nch);
		return;
	}
	for (i = 0; i < mod->nruns; i++) {
		x = (mod->npages / mod->wall[i]) / (u->npages / u->wall[i]);
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	printf("  module/%-12s ch=%u  pages/s x%5.2f (rounds %5.2f-%-5.2f)   CPU s/GiB x%5.2f\n",
	       u->name, u->nch, r_pps(mod) / r_pps(u), lo, hi, r_cpu_gib(mod) / r_cpu_gib(u));
}

static void print_help(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-m MiB] [-p MiB] [-r runs] [-w warmup] [-c channels,...]\n"
		"  -m  memory moved per round (default 256)\n"
		"  -p  memory moved per round by the per-page variants (default 32)\n"
		"  -r  timed rounds per variant, the median is reported (default 3)\n"
		"  -w  untimed warm-up rounds (default 1)\n"
		"  -c  channel counts to measure (default 1,2)\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	static struct variant vs[MAX_VARIANTS];
	static const struct {
		const char *name;
		enum kind kind;
		bool zc;
	} kinds[] = {
		{ "module", K_MODULE, false },
		{ "us-page", K_US_PAGE, false },
		{ "us-page-zc", K_US_PAGE, true },
		{ "us-batch", K_US_BATCH, false },
		{ "us-batch-zc", K_US_BATCH, true },
	};
	const int nkinds = ARRAY_SIZE(kinds);
	unsigned int chans[MAX_CH], nchans = 0, c;
	char chlist[64] = "1,2", *tok, *save;
	size_t mib = 256, page_mib = 32, i, j, k;
	struct utsname uts;
	int opt, nv = 0, round, idx;
	struct result *mc = &vs[0].r;
	bool failed = false;

	while ((opt = getopt(argc, argv, "m:p:r:w:c:h")) != -1) {
		switch (opt) {
		case 'm':
			mib = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			page_mib = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'c':
			snprintf(chlist, sizeof(chlist), "%s", optarg);
			break;
		default:
			print_help(argv[0]);
		}
	}
	if (page_mib > mib)
		page_mib = mib;
	if (!mib || !page_mib || runs < 1 || runs > MAX_RUNS || warmup < 0)
		print_help(argv[0]);
	for (tok = strtok_r(chlist, ",", &save); tok && nchans < MAX_CH;
	     tok = strtok_r(NULL, ",", &save)) {
		c = strtoul(tok, NULL, 0);
		if (c < 1 || c > MAX_CH)
			print_help(argv[0]);
		chans[nchans++] = c;
	}
	if (!nchans)
		print_help(argv[0]);

	setvbuf(stdout, NULL, _IOLBF, 0);
	len = mib * MIB;
	npages = len / PG;

	if (geteuid()) {
		fprintf(stderr, "needs root (network namespaces, /dev/vmmig)\n");
		return 1;
	}
	if (bench_hosts_setup(0)) {
		fprintf(stderr, "network namespace setup failed\n");
		return 1;
	}

	/*
	 * Every variant is set up before the first round: the destination
	 * processes first, while the source memory does not exist yet (see
	 * variant_fork_dest()), then the source sides. The rounds then go
	 * variant after variant, the order reversed every other round, so that
	 * a change in the host's load (the VM is emulated) hits all alike.
	 */
	dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	snprintf(mc->name, sizeof(mc->name), "memcpy");
	mc->kind = K_MEMCPY;
	mc->nch = 1;
	mc->npages = npages;
	mc->ok = true;
	nv = 1;
	for (c = 0; c < nchans; c++) {
		for (k = 0; k < (size_t)nkinds; k++) {
			struct variant *v = &vs[nv++];

			snprintf(v->r.name, sizeof(v->r.name), "%s", kinds[k].name);
			v->r.kind = kinds[k].kind;
			v->r.zc = kinds[k].zc;
			v->r.nch = chans[c];
			v->r.npages = v->r.kind == K_US_PAGE ? page_mib * MIB / PG : npages;
			v->r.ok = true;
			v->port = (v->r.kind == K_MODULE ? PORT_MODULE : PORT_USER) + nv;
			variant_fork_dest(v);
		}
	}

	src = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hdrs_page = calloc(npages, sizeof(*hdrs_page));
	hdrs_batch = calloc((npages + UNIT_PAGES - 1) / UNIT_PAGES, sizeof(*hdrs_batch));
	if (src == MAP_FAILED || !hdrs_page || !hdrs_batch) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (i = 0; i < npages; i++) {
		fill_page(src, i);
		hdrs_page[i] = (struct hdr_page){ .magic = HDR_MAGIC, .count = 1, .page = i };
	}
	for (i = 0; i * UNIT_PAGES < npages; i++) {
		hdrs_batch[i].magic = HDR_MAGIC;
		for (j = i * UNIT_PAGES, k = 0; j < npages && k < UNIT_PAGES; j++, k++)
			hdrs_batch[i].page[k] = j;
		hdrs_batch[i].count = k;
	}
	reset_dst(npages);

	uname(&uts);
	printf("datapath_bench: %zu MiB = %zu pages (all distinct, none zero)\n", mib, npages);
	printf("per-page variants: the first %zu MiB\n", page_mib);
	printf("%d timed runs (+%d warm-up) per variant, medians\n", runs, warmup);
	printf("kernel %s, %ld CPUs online, veth between netns %s and %s\n",
	       uts.release, sysconf(_SC_NPROCESSORS_ONLN), VT_NS_A, VT_NS_B);

	for (i = 1; i < (size_t)nv; i++) {
		variant_setup(&vs[i]);
		if (!vs[i].r.ok)
			fprintf(stderr, "[bench] %s ch=%u setup FAILED: %s\n",
				vs[i].r.name, vs[i].r.nch, vs[i].r.err);
	}
	for (round = 0; round < warmup + runs; round++) {
		fprintf(stderr, "[bench] round %d/%d%s\n", round + 1, warmup + runs,
			round < warmup ? " (warm-up)" : "");
		for (i = 0; i < (size_t)nv; i++) {
			idx = round % 2 ? nv - 1 - i : i;
			variant_round(&vs[idx], round >= warmup);
		}
	}
	for (i = 0; i < (size_t)nv; i++)
		variant_teardown(&vs[i]);

	printf("\n%-12s %3s %4s %8s %-17s %10s %8s %9s %6s %8s\n",
	       "variant", "ch", "MiB", "wall s", "  min-max s", "pages/s", "MB/s", "CPUs/GiB",
	       "CPUs", "zc-copy");
	for (i = 0; i < (size_t)nv; i++)
		print_row(&vs[i].r);
	printf("MiB = memory moved per round; wall s = median, min-max over the runs\n");
	printf("MB = 10^6 bytes of page data, headers not counted\n");
	printf("CPUs/GiB = busy CPU seconds of all CPUs (/proc/stat) per GiB moved\n");
	printf("CPUs = busy CPUs on average over the round\n");
	printf("zc-copy = MSG_ZEROCOPY completions the kernel flagged as copied\n");

	printf("\nratios module / userspace, same run, same channel count\n");
	printf("(pages/s > 1: module faster; CPU s/GiB < 1: module cheaper)\n");
	for (i = 1; i < (size_t)nv; i += nkinds)
		for (k = 1; k < (size_t)nkinds; k++)
			print_ratio(&vs[i].r, &vs[i + k].r);
	printf("\nagainst the single-core memcpy ceiling (%.0f MB/s):\n",
	       mc->ok ? r_mbs(mc) : 0.0);
	for (i = 1; i < (size_t)nv; i++)
		if (vs[i].r.ok && mc->ok)
			printf("  %-12s ch=%u  %5.1f%% of memcpy bandwidth\n", vs[i].r.name,
			       vs[i].r.nch, 100.0 * r_mbs(&vs[i].r) / r_mbs(mc));

	vt_netns_teardown();
	for (i = 0; i < (size_t)nv; i++)
		failed |= !vs[i].r.ok;
	return failed;
}
