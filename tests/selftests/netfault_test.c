// SPDX-License-Identifier: GPL-2.0
/*
 * The network misbehaving around a destination and a migration: slow
 * peers (silent, or one byte a second) holding handshake slots, a flood of
 * connections and half handshakes, a peer that resets the connection, a
 * peer killed, the link going down for good or for a blip. Checked: the
 * handshake deadline and the in-flight cap hold, a real source still gets
 * through, every dropped connection is counted once, memory and workers
 * stay bounded (printed), each session ends with a clear errno or
 * completes, and the source memory is intact. The test run checks dmesg
 * and kmemleak afterwards. VMMIG_FUZZ_ITERS scales the flood (fuzz.h).
 */
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include "wire_peer.h"
#include "fuzz.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define RID		3
#define CAP		16		/* max-handshakes, the default */
#define HS_TIMEOUT	5.0		/* handshake-timeout, the default, s */
#define BACKLOG		64		/* the listener's (listen.c) */
#define FLOOD_PORT	6701
#define FILL		0x5a

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A /proc/meminfo field, kB. */
static long mem_kb(const char *key)
{
	char line[128];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = atol(line + n + 1);
	if (f)
		fclose(f);
	return v;
}

/* Kernel workers of the unbound pools, which run the handshakes. */
static int unbound_workers(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], comm[32];
	int n = 0;

	while (d && (e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (f && fgets(comm, sizeof(comm), f) && !strncmp(comm, "kworker/u", 9))
			n++;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

/* Established TCP connections on host B's @port (the listener is dual-stack). */
static int established(__u16 port)
{
	char line[256], want[8];
	int n = 0;
	FILE *f = popen("ip netns exec " VT_NS_B " cat /proc/net/tcp6", "r");

	snprintf(want, sizeof(want), ":%04X", port);
	while (f && fgets(line, sizeof(line), f)) {
		char local[64], remote[64], st[8];

		if (sscanf(line, "%*s %63s %63s %7s", local, remote, st) == 3 &&
		    strstr(local, want) && !strcmp(st, "01"))
			n++;
	}
	if (f)
		pclose(f);
	return n;
}

/* TcpExt ListenOverflows of host B: connections its accept queue dropped. */
static long listen_overflows(void)
{
	char names[4096], values[4096], *n, *v, *sn, *sv;
	FILE *f = popen("ip netns exec " VT_NS_B " cat /proc/net/netstat", "r");
	long r = -1;

	while (f && fgets(names, sizeof(names), f)) {
		if (strncmp(names, "TcpExt:", 7) || !fgets(values, sizeof(values), f))
			continue;
		n = strtok_r(names, "\n ", &sn);
		v = strtok_r(values, "\n ", &sv);
		while (n && v) {
			if (!strcmp(n, "ListenOverflows"))
				r = atol(v);
			n = strtok_r(NULL, "\n ", &sn);
			v = strtok_r(NULL, "\n ", &sv);
		}
		break;
	}
	if (f)
		pclose(f);
	return r;
}

/* A connection that gives up after 2 s rather than retrying SYNs for minutes. */
static int dial_quick(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(FLOOD_PORT) };
	struct timeval tv = { .tv_sec = 2 };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, VT_ADDR_B, &sin.sin_addr);
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (s >= 0 && connect(s, (void *)&sin, sizeof(sin))) {
		close(s);
		return -1;
	}
	return s;
}

static const char *const hs_names[] = {
	"ok", "bad-key", "mode-mismatch", "unknown-peer", "not-allowed",
	"encryption-mismatch", "refused", "broken", "timeout", "busy",
};

/* Host B's handshake counters, as `vmmigctl -j show` gives them. */
static int hs_counters(long long out[10])
{
	char cmd[PATH_MAX + 64], buf[8192], key[40];
	const char *h;
	size_t len;
	FILE *f;
	int i;

	snprintf(cmd, sizeof(cmd), "ip netns exec " VT_NS_B " %s -j show", vt_ctl_path());
	f = popen(cmd, "r");
	if (!f)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	pclose(f);
	buf[len] = 0;
	h = strstr(buf, "\"handshakes\"");
	for (i = 0; h && i < 10; i++) {
		const char *p;

		snprintf(key, sizeof(key), "\"%s\":", hs_names[i]);
		p = strstr(h, key);
		if (!p)
			return -1;
		out[i] = atoll(p + strlen(key));
	}
	return h ? 0 : -1;
}

static long long hs_sum(const long long c[10])
{
	long long s = 0;
	int i;

	for (i = 0; i < 10; i++)
		s += c[i];
	return s;
}

enum { HS_BROKEN = 7, HS_TIMEOUT_C = 8, HS_BUSY = 9 };

static void fill_source(unsigned char *mem, size_t pages)
{
	size_t k;

	for (k = 0; k < pages * PG / 8; k++)
		((__u64 *)mem)[k] = k % 900 < 100 ? 0 : (k + 1) * 0x9e3779b97f4a7c15ULL;
}

/* What a destination saw; in shared memory. */
struct dest_result {
	int accept_rc;
	int end_type;		/* VMMIG_EVENT_FINISHED or _ABORTED; 0: neither */
	int error;		/* ABORTED: its errno */
	double ended;		/* now() when it ended */
};

/* A real destination in netns B: one region @mem (@pages), ACCEPT, events. */
static pid_t dest_start(unsigned char *mem, size_t pages, __u16 port, __u32 accept_ms,
			struct dest_result *r)
{
	pid_t pid = fork();
	struct vmmig_event ev;
	int fd;

	if (pid)
		return pid;
	if (vt_enter_netns(VT_NS_B))
		_exit(10);
	fd = vt_open();
	if (fd < 0 || vt_add_region(fd, RID, mem, pages * PG, 0))
		_exit(11);
	r->accept_rc = vt_accept(fd, port, accept_ms);
	while (!r->accept_rc && !vt_wait_event(fd, &ev, NULL, 0, 120000)) {
		if (ev.type == VMMIG_EVENT_FINISHED || ev.type == VMMIG_EVENT_ABORTED) {
			r->end_type = ev.type;
			r->error = ev.error;
			break;
		}
	}
	r->ended = now();
	_exit(0);
}

/* A real source: CONNECT (@channels), one full round, FINISH. 0 or -errno. */
static int migrate(unsigned char *mem, size_t pages, __u16 port, __u32 channels)
{
	int fd = vt_open(), rc;

	if (fd < 0)
		return -errno;
	rc = vt_add_region(fd, RID, mem, pages * PG, 0) ?:
	     vt_connect_retry(fd, NULL, port, channels, 0) ?:
	     vt_send_dirty(fd, RID, 0, pages, NULL, NULL) ?:
	     vt_ioctl(fd, VMMIG_IOC_FINISH, NULL);
	close(fd);
	return rc;
}

static int link_a(const char *updown)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip -n " VT_NS_A " link set va %s", updown);
	return vt_sh(cmd);
}

FIXTURE(nf) {
	int dummy;
};

FIXTURE_SETUP(nf)
{
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
}

FIXTURE_TEARDOWN(nf)
{
	vt_netns_teardown();
}

#define LORIS		24	/* slow connections: more than CAP */
#define LORIS_PORT	6700
#define LORIS_PAGES	256UL

/*
 * LORIS slow connections, half silent, half sending one byte of a HELLO
 * header a second. Past CAP, each takes the place of the oldest; 2.5 s
 * later a real source with 2 channels connects: a connection of it that
 * finds the slots full takes the place of the oldest slow one, and it
 * migrates. The rest are cut at the handshake timeout although they keep
 * sending.
 */
TEST_F_TIMEOUT(nf, slow_loris, 300)
{
	static const unsigned char hdr[32] = { 0x56, 0x4d, 0x4d, 0x47, 1, VT_F_HELLO };
	unsigned char *src = vt_map_shared(LORIS_PAGES * PG);
	unsigned char *dst = vt_map_shared(LORIS_PAGES * PG);
	unsigned char *dst2 = vt_map_shared(LORIS_PAGES * PG);
	struct dest_result *r = vt_map_shared(sizeof(*r)), *r2 = vt_map_shared(sizeof(*r2));
	double opened[LORIS], closed[LORIS], t0, next_byte, src_start = 0, *src_done;
	int s[LORIS], i, open_now, peak_open = 0, sent = 0, at_once = 0, cut = 0, timed = 0;
	long long c0[10], c1[10];
	long slab0, slab_peak = 0;
	double tmin = 1e9, tmax = 0;
	pid_t dpid, wpid, spid = 0;

	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, dst);
	ASSERT_NE(NULL, dst2);
	ASSERT_NE(NULL, r);
	ASSERT_NE(NULL, r2);
	src_done = vt_map_shared(sizeof(double));
	ASSERT_NE(NULL, src_done);
	fill_source(src, LORIS_PAGES);
	memset(dst, FILL, LORIS_PAGES * PG);
	dpid = dest_start(dst, LORIS_PAGES, LORIS_PORT, 60000, r);
	ASSERT_LE(0, dpid);
	/*
	 * A second session waits on the port until the slow ones are gone: the
	 * listener, and the handshakes in flight, end when no session waits.
	 */
	usleep(300000);
	wpid = dest_start(dst2, LORIS_PAGES, LORIS_PORT, 40000, r2);
	ASSERT_LE(0, wpid);
	/* The listener is up once a connection is accepted: this one is counted too. */
	i = vt_dial(VT_ADDR_B, LORIS_PORT, 500);
	ASSERT_LE(0, i);
	close(i);
	usleep(200000);
	ASSERT_EQ(0, hs_counters(c0));
	slab0 = mem_kb("Slab");

	t0 = now();
	for (i = 0; i < LORIS; i++) {
		s[i] = vt_dial(VT_ADDR_B, LORIS_PORT, 50);
		ASSERT_LE(0, s[i]);
		opened[i] = now();
		closed[i] = 0;
	}
	next_byte = t0 + 1;
	while (now() - t0 < 30) {
		struct pollfd p[LORIS];
		int n = 0, k;

		for (i = 0, open_now = 0; i < LORIS; i++) {
			if (closed[i])
				continue;
			p[n].fd = s[i];
			p[n].events = POLLIN;
			n++;
			open_now++;
		}
		if (!open_now && spid)
			break;
		poll(p, n, 100);
		for (k = 0; k < n; k++) {
			char c;

			if (!p[k].revents || recv(p[k].fd, &c, 1, MSG_DONTWAIT) > 0)
				continue;
			for (i = 0; s[i] != p[k].fd; i++)
				;
			closed[i] = now() - opened[i];
			close(s[i]);
		}
		if (now() >= next_byte && sent < 32) {
			for (i = 1; i < LORIS; i += 2)
				if (!closed[i])
					send(s[i], hdr + sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			sent++;
			next_byte += 1;
		}
		if (!spid && now() - t0 > 2.5) {
			long slab = mem_kb("Slab");

			/* The host's side: every connection it holds, before the source's. */
			peak_open = established(LORIS_PORT);
			slab_peak = slab > slab_peak ? slab : slab_peak;
			src_start = now();
			spid = fork();
			ASSERT_LE(0, spid);
			if (!spid) {
				int rc = migrate(src, LORIS_PAGES, LORIS_PORT, 2);

				*src_done = now();
				_exit(rc ? -rc : 0);
			}
		}
	}
	for (i = 0; i < LORIS; i++) {
		if (!closed[i]) {
			close(s[i]);
			continue;
		}
		if (closed[i] < 1.0) {
			at_once++;
		} else if (closed[i] < HS_TIMEOUT - 0.5) {
			cut++;
		} else {
			timed++;
			tmin = closed[i] < tmin ? closed[i] : tmin;
			tmax = closed[i] > tmax ? closed[i] : tmax;
		}
	}
	EXPECT_EQ(0, vt_wait_exit(spid));
	EXPECT_EQ(0, vt_wait_exit(dpid));
	EXPECT_EQ(VMMIG_EVENT_FINISHED, r->end_type);
	EXPECT_EQ(0, memcmp(src, dst, LORIS_PAGES * PG));
	ASSERT_EQ(0, hs_counters(c1));
	EXPECT_EQ(0, vt_wait_exit(wpid));
	EXPECT_EQ(-ETIMEDOUT, r2->accept_rc);
	printf("# slow loris: %d connections (%d silent, %d one byte a second)\n",
	       LORIS, LORIS / 2, LORIS / 2);
	printf("# slow loris: %d cut at once for newer ones, %d for the real source\n",
	       at_once, cut);
	printf("# slow loris: %d cut by the timeout after %.2f-%.2f s\n", timed, tmin, tmax);
	for (i = 0; i < LORIS; i++)
		printf("# slow loris: connection %d (%s) closed after %.2f s\n", i,
		       i % 2 ? "1 byte/s" : "silent", closed[i]);
	printf("# slow loris: %d held by the host at 2.5 s; the source done in %.2f s\n",
	       peak_open, *src_done - src_start);
	printf("# slow loris: counters busy +%lld, timeout +%lld, ok +%lld\n",
	       c1[HS_BUSY] - c0[HS_BUSY], c1[HS_TIMEOUT_C] - c0[HS_TIMEOUT_C], c1[0] - c0[0]);
	printf("# slow loris: Slab %ld kB before, %ld kB with them open\n", slab0, slab_peak);
	/* Every slow connection was gone within the timeout and some slack. */
	for (i = 0; i < LORIS; i++)
		EXPECT_NE(0, closed[i]);
	EXPECT_GE(CAP, peak_open);
	EXPECT_LE(1, timed);
	EXPECT_LE(HS_TIMEOUT - 0.5, tmin);
	EXPECT_GE(HS_TIMEOUT + 6, tmax);
	/*
	 * Each slow one is counted once: cut as busy (those past CAP, and one
	 * per channel of the source at most), or timed out. When a close was
	 * seen tells the two apart only roughly on a loaded host.
	 */
	EXPECT_EQ(LORIS, c1[HS_BUSY] - c0[HS_BUSY] + c1[HS_TIMEOUT_C] - c0[HS_TIMEOUT_C]);
	EXPECT_LE(LORIS - CAP, c1[HS_BUSY] - c0[HS_BUSY]);
	EXPECT_GE(LORIS - CAP + 2, c1[HS_BUSY] - c0[HS_BUSY]);
	EXPECT_EQ(2, c1[0] - c0[0]);
	EXPECT_GT(4 * 1024, slab_peak - slab0);
}

#define FLOOD_OPEN	128	/* of our connections open at a time */

/*
 * A flood: connections that close at once, send half a header, or send a
 * garbage header, FLOOD_OPEN of them kept open at a time. Each is counted
 * once; connections on the port, workers and Slab stay bounded; a real
 * source migrates afterwards.
 */
TEST_F_TIMEOUT(nf, connection_flood, 900)
{
	unsigned char *src = vt_map_shared(LORIS_PAGES * PG);
	unsigned char *dst = vt_map_shared(LORIS_PAGES * PG);
	struct dest_result *r = vt_map_shared(sizeof(*r));
	unsigned long i, n = fz_iters(2000), connected = 0, failed = 0;
	int ring[FLOOD_OPEN], w0, w, wpeak = 0, e, epeak = 0, k;
	long slab0, slab1, avail0, avail1, slab_peak = 0;
	long long c0[10], c1[10];
	long ovf0 = listen_overflows(), ovf;
	unsigned char junk[32];
	double t0, t;
	struct fz rnd;
	pid_t dpid;

	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, dst);
	ASSERT_NE(NULL, r);
	fz_init(&rnd, "connection_flood");
	fill_source(src, LORIS_PAGES);
	memset(dst, FILL, LORIS_PAGES * PG);
	dpid = dest_start(dst, LORIS_PAGES, FLOOD_PORT, 600000, r);
	ASSERT_LE(0, dpid);
	k = vt_dial(VT_ADDR_B, FLOOD_PORT, 500);
	ASSERT_LE(0, k);
	close(k);
	usleep(200000);
	ASSERT_EQ(0, hs_counters(c0));
	slab0 = mem_kb("Slab");
	avail0 = mem_kb("MemAvailable");
	w0 = unbound_workers();
	for (k = 0; k < FLOOD_OPEN; k++)
		ring[k] = -1;

	t0 = now();
	for (i = 0; i < n; i++) {
		int s = dial_quick();

		if (s < 0) {
			failed++;
			continue;
		}
		connected++;
		switch (fz_below(&rnd, 3)) {
		case 0:
			close(s);
			s = -1;
			break;
		case 1: {	/* half a HELLO header */
			struct vt_hdr h = vt_mkhdr(VT_F_HELLO, 0, 0, 40, 0);

			send(s, &h, 16, MSG_NOSIGNAL | MSG_DONTWAIT);
			break;
		}
		default:
			fz_bytes(&rnd, junk, sizeof(junk));
			send(s, junk, sizeof(junk), MSG_NOSIGNAL | MSG_DONTWAIT);
			break;
		}
		k = i % FLOOD_OPEN;
		if (ring[k] >= 0)
			close(ring[k]);
		ring[k] = s;
		if (i % 250 == 50) {
			long slab = mem_kb("Slab");

			e = established(FLOOD_PORT);
			w = unbound_workers();
			epeak = e > epeak ? e : epeak;
			wpeak = w > wpeak ? w : wpeak;
			slab_peak = slab > slab_peak ? slab : slab_peak;
		}
	}
	t = now() - t0;
	for (k = 0; k < FLOOD_OPEN; k++)
		if (ring[k] >= 0)
			close(ring[k]);
	/* Every connection ends, and is counted, within the handshake timeout. */
	for (k = 0; k < 300; k++) {
		ASSERT_EQ(0, hs_counters(c1));
		if (hs_sum(c1) - hs_sum(c0) >= (long long)connected)
			break;
		usleep(100000);
	}
	sleep(1);
	slab1 = mem_kb("Slab");
	avail1 = mem_kb("MemAvailable");
	ASSERT_EQ(0, hs_counters(c1));
	printf("# flood: %lu connections in %.1f s (%.0f/s), %lu failed to connect\n",
	       connected, t, connected / t, failed);
	printf("# flood: at most %d established on the port, %d unbound workers (%d before)\n",
	       epeak, wpeak, w0);
	printf("# flood: counted busy +%lld, broken +%lld, timeout +%lld, all +%lld\n",
	       c1[HS_BUSY] - c0[HS_BUSY], c1[HS_BROKEN] - c0[HS_BROKEN],
	       c1[HS_TIMEOUT_C] - c0[HS_TIMEOUT_C], hs_sum(c1) - hs_sum(c0));
	printf("# flood: Slab %ld kB before, %ld at most during, %ld after\n",
	       slab0, slab_peak, slab1);
	printf("# flood: MemAvailable %ld kB before, %ld after\n", avail0, avail1);
	/*
	 * Every connection is counted once: those we gave up on may still have
	 * reached the listener, those the accept queue dropped may not have.
	 */
	ovf = listen_overflows() - ovf0;
	printf("# flood: %ld connections dropped by the accept queue\n", ovf);
	EXPECT_GE((long long)n, hs_sum(c1) - hs_sum(c0));
	EXPECT_LE((long long)connected - ovf, hs_sum(c1) - hs_sum(c0));
	EXPECT_EQ(0, c1[0] - c0[0]);
	/* In flight, cut and ending, and waiting in the backlog, plus slack. */
	EXPECT_GE(2 * CAP + BACKLOG + 8, epeak);
	EXPECT_GE(w0 + 2 * CAP + 16, wpeak);
	EXPECT_GT(16 * 1024, slab1 - slab0);
	EXPECT_GT(32 * 1024, avail0 - avail1);

	EXPECT_EQ(0, migrate(src, LORIS_PAGES, FLOOD_PORT, 2));
	EXPECT_EQ(0, vt_wait_exit(dpid));
	EXPECT_EQ(VMMIG_EVENT_FINISHED, r->end_type);
	EXPECT_EQ(0, memcmp(src, dst, LORIS_PAGES * PG));
}

#define BIG_PAGES	4096UL		/* 16 MiB: a round takes a while */
#define FAULT_PORT	6702

/* A source mid-migration, its memory, and a copy to check it against. */
struct mig {
	unsigned char *src, *copy, *dst;
	struct dest_result *r;
	pid_t dpid;
	int fd;
};

static int mig_start(struct mig *m, __u32 channels)
{
	m->src = vt_map_shared(BIG_PAGES * PG);
	m->copy = malloc(BIG_PAGES * PG);
	m->dst = vt_map_shared(BIG_PAGES * PG);
	m->r = vt_map_shared(sizeof(*m->r));
	if (!m->src || !m->copy || !m->dst || !m->r)
		return -ENOMEM;
	fill_source(m->src, BIG_PAGES);
	memcpy(m->copy, m->src, BIG_PAGES * PG);
	memset(m->dst, FILL, BIG_PAGES * PG);
	m->dpid = dest_start(m->dst, BIG_PAGES, FAULT_PORT, 60000, m->r);
	m->fd = vt_open();
	if (m->dpid < 0 || m->fd < 0)
		return -EIO;
	/* The first round goes through: the fault comes in the middle. */
	return vt_add_region(m->fd, RID, m->src, BIG_PAGES * PG, 0) ?:
	       vt_connect_retry(m->fd, NULL, FAULT_PORT, channels, 0) ?:
	       vt_send_dirty(m->fd, RID, 0, BIG_PAGES, NULL, NULL);
}

/* Rounds until one fails (up to @max); its -errno, or 0. */
static int mig_rounds(struct mig *m, int max)
{
	int rc = 0;

	while (!rc && max--)
		rc = vt_send_dirty(m->fd, RID, 0, BIG_PAGES, NULL, NULL);
	return rc;
}

static bool reset_errno(int e)
{
	return e == ECONNRESET || e == EPIPE || e == ECONNABORTED;
}

/* The source's end: ABORTED with a clear errno, its memory untouched. */
static void mig_check_aborted(struct __test_metadata *_metadata, struct mig *m, int rc,
			      bool (*expected)(int))
{
	struct vmmig_stats st;

	EXPECT_TRUE(expected(-rc)) TH_LOG("SEND_DIRTY: %d", rc);
	ASSERT_EQ(0, vt_stats(m->fd, &st));
	EXPECT_EQ(VMMIG_STATE_ABORTED, st.state);
	EXPECT_TRUE(expected(st.error)) TH_LOG("source aborted with %d", st.error);
	EXPECT_EQ(0, memcmp(m->src, m->copy, BIG_PAGES * PG));
	printf("# source: SEND_DIRTY %d, aborted with %d; source memory intact\n", rc, st.error);
}

static void mig_end(struct mig *m)
{
	close(m->fd);
	if (m->dpid > 0)
		vt_wait_exit(m->dpid);
	munmap(m->src, BIG_PAGES * PG);
	munmap(m->dst, BIG_PAGES * PG);
	free(m->copy);
}

/* The destination host's process dies mid-migration: its sockets reset. */
TEST_F_TIMEOUT(nf, peer_killed, 180)
{
	struct mig m = {};
	int rc;

	ASSERT_EQ(0, mig_start(&m, 2));
	kill(m.dpid, SIGKILL);
	rc = mig_rounds(&m, 50);
	mig_check_aborted(_metadata, &m, rc, reset_errno);
	mig_end(&m);
}

/*
 * A fake destination in host B: takes one connection's handshake (the
 * HELLO into @buf) and returns the socket; the child exits on failure.
 */
static int fake_dest_accept(__u16 port, unsigned char *buf, size_t size)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct {
		struct vt_hdr h;
		__u32 status;
	} welcome = { .h = vt_mkhdr(VT_F_WELCOME, 0, 0, 4, 0) };
	int l, s, one = 1;
	__u8 type;

	if (vt_enter_netns(VT_NS_B))
		_exit(10);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (void *)&sin, sizeof(sin)) || listen(l, 4))
		_exit(11);
	s = accept(l, NULL, NULL);
	if (s < 0 || vt_recv_frame(s, buf, size, &type) < 0 || type != VT_F_HELLO ||
	    vt_send_all(s, &welcome, sizeof(welcome)))
		_exit(12);
	return s;
}

/* A fake destination: takes the handshake, reads a while, then resets. */
static void resetting_dest(__u16 port)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	static unsigned char buf[1 << 16];
	int s = fake_dest_accept(port, buf, sizeof(buf));
	size_t got = 0;
	ssize_t k;

	while (got < (4UL << 20) && (k = recv(s, buf, sizeof(buf), 0)) > 0)
		got += k;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	_exit(close(s) ? 13 : 0);
}

/* The destination resets the connection (RST) in the middle of a round. */
TEST_F_TIMEOUT(nf, reset_by_destination, 180)
{
	unsigned char *src = vt_map_shared(BIG_PAGES * PG), *copy = malloc(BIG_PAGES * PG);
	struct mig m = { .src = src, .copy = copy };
	pid_t pid;
	int rc;

	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, copy);
	fill_source(src, BIG_PAGES);
	memcpy(copy, src, BIG_PAGES * PG);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		resetting_dest(FAULT_PORT);
	m.fd = vt_open();
	ASSERT_LE(0, m.fd);
	ASSERT_EQ(0, vt_add_region(m.fd, RID, src, BIG_PAGES * PG, 0));
	ASSERT_EQ(0, vt_connect_retry(m.fd, NULL, FAULT_PORT, 1, 0));
	rc = mig_rounds(&m, 50);
	EXPECT_EQ(0, vt_wait_exit(pid));
	mig_check_aborted(_metadata, &m, rc, reset_errno);
	close(m.fd);
	munmap(src, BIG_PAGES * PG);
	free(copy);
}

/* The source resets the connection (RST) in the middle of a PAGES frame. */
TEST_F_TIMEOUT(nf, reset_by_source, 120)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	unsigned char *dst = vt_map_shared(LORIS_PAGES * PG + 2 * PG), page[PG];
	struct dest_result *r = vt_map_shared(sizeof(*r));
	struct {
		struct vt_hdr h;
		__u64 cookie;
		__u16 channel, channels;
		__u32 nregions, compression, auth, id, reserved;
		__u64 pages;
	} hello = {
		.h = vt_mkhdr(VT_F_HELLO, 0, 0, 40, 0), .cookie = htobe64(0x77),
		.channels = htobe16(1), .nregions = htobe32(1), .id = htobe32(RID),
		.pages = htobe64(LORIS_PAGES),
	};
	struct vt_hdr pages = vt_mkhdr(VT_F_PAGES, RID, 8, 8 * PG, 16);
	unsigned char buf[64];
	pid_t dpid;
	__u8 type;
	size_t i;
	int s;

	ASSERT_NE(NULL, dst);
	ASSERT_NE(NULL, r);
	memset(dst, FILL, LORIS_PAGES * PG + 2 * PG);
	memset(page, 0x33, PG);
	dpid = dest_start(dst + PG, LORIS_PAGES, FAULT_PORT, 30000, r);
	ASSERT_LE(0, dpid);
	s = vt_dial(VT_ADDR_B, FAULT_PORT, 500);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, vt_send_all(s, &hello, sizeof(hello)));
	ASSERT_EQ(4, vt_recv_frame(s, buf, sizeof(buf), &type));
	ASSERT_EQ(VT_F_WELCOME, type);
	ASSERT_EQ(0, *(__u32 *)(buf + 32));
	ASSERT_EQ(0, vt_send_all(s, &pages, sizeof(pages)));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vt_send_all(s, page, PG));
	usleep(200000);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
	EXPECT_EQ(0, vt_wait_exit(dpid));
	EXPECT_EQ(0, r->accept_rc);
	EXPECT_EQ(VMMIG_EVENT_ABORTED, r->end_type);
	EXPECT_EQ(ECONNRESET, r->error);
	for (i = 0; i < PG; i++)
		if (dst[i] != FILL || dst[PG + LORIS_PAGES * PG + i] != FILL)
			break;
	EXPECT_EQ(PG, i) TH_LOG("a byte outside the region changed");
	printf("# destination reset mid-frame: aborted with %d, guard pages intact\n", r->error);
}

/* A fake destination: takes the handshake, then reads nothing until killed. */
static void deaf_dest(__u16 port)
{
	static unsigned char buf[4096];

	fake_dest_accept(port, buf, sizeof(buf));
	pause();
	_exit(0);
}

static void on_alarm(int sig)
{
}

/*
 * A signal while SEND_BLOB waits on a full socket: the blob cannot be
 * resumed, so the session aborts, but with EINTR, never the kernel's
 * internal ERESTARTSYS (512), which the calls that follow would return
 * (fuzz_ioctl_test found it as FINISH returning 512).
 */
TEST_F_TIMEOUT(nf, signal_mid_send, 120)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	unsigned char *src = vt_map_shared(16 * PG);
	void *blob = calloc(1, VMMIG_MAX_BLOB);
	struct vmmig_blob b = { .size = sizeof(b), .tag = 1,
				.data = (unsigned long)blob, .length = VMMIG_MAX_BLOB };
	struct vmmig_stats st;
	pid_t pid;
	int fd, rc;

	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, blob);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		deaf_dest(FAULT_PORT);
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, RID, src, 16 * PG, 0));
	ASSERT_EQ(0, vt_connect_retry(fd, NULL, FAULT_PORT, 1, 0));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarm(2);
	rc = vt_ioctl(fd, VMMIG_IOC_SEND_BLOB, &b);
	EXPECT_EQ(-EINTR, rc);
	ASSERT_EQ(0, vt_stats(fd, &st));
	EXPECT_EQ(VMMIG_STATE_ABORTED, st.state);
	EXPECT_EQ(EINTR, st.error);
	/* An aborted source's calls give the reason. */
	EXPECT_EQ(-EINTR, vt_ioctl(fd, VMMIG_IOC_FINISH, NULL));
	printf("# signal mid-send: SEND_BLOB %d, aborted with %d\n", rc, st.error);
	close(fd);
	kill(pid, SIGKILL);
	vt_wait_exit(pid);
	free(blob);
}

static bool timeout_errno(int e)
{
	return e == ETIMEDOUT || e == ECONNABORTED;
}

/*
 * The link goes down for good mid-migration: the source fails within the
 * TCP user timeout (30 s), the destination within its keepalive probes.
 */
TEST_F_TIMEOUT(nf, link_down, 300)
{
	struct mig m = {};
	double t0, ts;
	int rc;

	ASSERT_EQ(0, mig_start(&m, 2));
	t0 = now();
	ASSERT_EQ(0, link_a("down"));
	rc = mig_rounds(&m, 50);
	ts = now() - t0;
	/*
	 * The source's sender and receive thread both see the dead socket,
	 * only one gets its ETIMEDOUT: whichever ends the session names it.
	 */
	mig_check_aborted(_metadata, &m, rc, timeout_errno);
	EXPECT_EQ(0, vt_wait_exit(m.dpid));
	m.dpid = 0;
	EXPECT_EQ(VMMIG_EVENT_ABORTED, m.r->end_type);
	EXPECT_TRUE(timeout_errno(m.r->error)) TH_LOG("destination: %d", m.r->error);
	printf("# link down: source aborted after %.1f s, destination after %.1f s (%d)\n",
	       ts, m.r->ended - t0, m.r->error);
	EXPECT_GE(90.0, ts);
	EXPECT_GE(90.0, m.r->ended - t0);
	mig_end(&m);
}

/* A blip shorter than the timeouts is ridden out: the migration completes. */
TEST_F_TIMEOUT(nf, link_blip, 300)
{
	struct mig m = {};
	pid_t up;

	ASSERT_EQ(0, mig_start(&m, 2));
	ASSERT_EQ(0, link_a("down"));
	up = fork();
	ASSERT_LE(0, up);
	if (!up) {
		sleep(2);
		_exit(link_a("up"));
	}
	EXPECT_EQ(0, mig_rounds(&m, 2));
	EXPECT_EQ(0, vt_wait_exit(up));
	EXPECT_EQ(0, vt_ioctl(m.fd, VMMIG_IOC_FINISH, NULL));
	EXPECT_EQ(0, vt_wait_exit(m.dpid));
	m.dpid = 0;
	EXPECT_EQ(VMMIG_EVENT_FINISHED, m.r->end_type);
	EXPECT_EQ(0, memcmp(m.src, m.dst, BIG_PAGES * PG));
	EXPECT_EQ(0, memcmp(m.src, m.copy, BIG_PAGES * PG));
	mig_end(&m);
}

TEST_HARNESS_MAIN
