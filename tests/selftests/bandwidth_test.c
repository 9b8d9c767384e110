// SPDX-License-Identifier: GPL-2.0
/*
 * Bandwidth caps: the host's (vmmigctl set bandwidth) over every outgoing
 * session, and a session's own (VMMIG_IOC_SET_BANDWIDTH). Host A migrates
 * to host B over veth; each test first measures what the link carries
 * uncapped, picks a cap well below it, and checks the rate on the veth's
 * own tx counter (the source namespace's /proc/net/dev, which is what
 * /sys/class/net/va/statistics/tx_bytes reads there) within 15 % of the cap.
 * TCG is slow and noisy: capped transfers last a few seconds.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include "vmmig_test.h"
#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#define PG		4096ULL
#define BW_PAGES	16384ULL	/* 64 MiB per region */
#define BW_PORT		6620		/* and 6621 for a second session */
#define BW_SECONDS	3		/* how long a capped transfer should last */
#define BW_TOLERANCE	15		/* percent */

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The tx bytes of host A's end of the veth ("va"); 0 if not found. */
static __u64 tx_bytes(void)
{
	unsigned long long v[9];
	char line[512];
	__u64 ret = 0;
	FILE *f;

	f = fopen("/proc/self/net/dev", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		char *name = line;

		if (!colon)
			continue;
		*colon = '\0';
		while (*name == ' ')
			name++;
		if (strcmp(name, "va"))
			continue;
		/* rx: bytes packets errs drop fifo frame compressed multicast; then tx bytes */
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9)
			ret = v[8];
	}
	fclose(f);
	return ret;
}

/* Bytes per second on the veth between two samples. */
struct sample {
	__u64 ns;
	__u64 bytes;
};

static void sample(struct sample *s)
{
	s->ns = now_ns();
	s->bytes = tx_bytes();
}

static __u64 rate_between(const struct sample *a, const struct sample *b)
{
	return b->ns > a->ns ? (b->bytes - a->bytes) * 1000000000ULL / (b->ns - a->ns) : 0;
}

static bool within(__u64 rate, __u64 cap)
{
	return rate * 100 >= cap * (100 - BW_TOLERANCE) &&
	       rate * 100 <= cap * (100 + BW_TOLERANCE);
}

static int set_bandwidth(int fd, __u64 bytes_per_sec)
{
	struct vmmig_bandwidth b = { .size = sizeof(b), .bytes_per_sec = bytes_per_sec };

	return vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &b);
}

/* Send pages [0, @npages) of region 1 and SYNC: one round. */
static int round_trip(int fd, __u64 npages)
{
	return vt_send_dirty(fd, 1, 0, npages, NULL, NULL) ?: vt_ioctl(fd, VMMIG_IOC_SYNC, NULL);
}

/* Pages that take about @seconds at @rate bytes per second: whole chunks, one at least. */
static __u64 pages_for(__u64 rate, unsigned int seconds)
{
	__u64 n = rate * seconds / PG / 64 * 64;

	return n < 64 ? 64 : n > BW_PAGES ? BW_PAGES : n;
}

/* Host A's sources of up to two sessions, and what their destinations saw. */
struct bw_env {
	unsigned char *src;
	unsigned char *dst[2];
	struct vt_dest_result *res[2];
	pid_t pid[2];
	int fd[2];
};

FIXTURE(bw) {
	struct bw_env e;
};

FIXTURE_SETUP(bw)
{
	__u64 i;

	for (i = 0; i < 2; i++) {
		self->e.pid[i] = 0;
		self->e.fd[i] = -1;
	}
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->e.src = mmap(NULL, BW_PAGES * PG, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->e.src);
	/* No zero page: every page costs its 4 KiB on the wire. */
	for (i = 0; i < BW_PAGES; i++)
		vt_fill_page(self->e.src, i, 0);
	for (i = 0; i < 2; i++) {
		self->e.dst[i] = vt_map_shared(BW_PAGES * PG);
		self->e.res[i] = vt_map_shared(sizeof(*self->e.res[i]));
		ASSERT_NE(NULL, self->e.dst[i]);
		ASSERT_NE(NULL, self->e.res[i]);
	}
}

FIXTURE_TEARDOWN(bw)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->e.fd[i] >= 0)
			close(self->e.fd[i]);
		if (self->e.pid[i] > 0) {
			kill(self->e.pid[i], SIGKILL);
			waitpid(self->e.pid[i], NULL, 0);
		}
		munmap(self->e.dst[i], BW_PAGES * PG);
		munmap(self->e.res[i], sizeof(*self->e.res[i]));
	}
	munmap(self->e.src, BW_PAGES * PG);
	vt_netns_teardown();
}

/* Session @i: a destination in B on BW_PORT + @i, and the source connected to it. */
static int start_session(struct bw_env *e, int i)
{
	struct vt_dest d = {
		.mem = e->dst[i], .len = BW_PAGES * PG, .region = 1, .gpa = 0x100000,
		.netns = VT_NS_B, .port = BW_PORT + i, .accept_ms = 60000, .event_ms = 120000,
		.res = e->res[i],
	};

	memset(e->dst[i], 0xee, BW_PAGES * PG);
	e->pid[i] = vt_dest_start(&d);
	if (e->pid[i] < 0)
		return -1;
	e->fd[i] = vt_open();
	if (e->fd[i] < 0 || vt_add_region(e->fd[i], 1, e->src, BW_PAGES * PG, 0x100000))
		return -1;
	return vt_connect_retry(e->fd[i], NULL, BW_PORT + i, 2, 1200);
}

/* FINISH session @i; 0 if the destination ended FINISHED with @npages equal. */
static int finish_session(struct bw_env *e, int i, __u64 npages)
{
	int rc = vt_ioctl(e->fd[i], VMMIG_IOC_FINISH, NULL);

	if (rc)
		return rc;
	rc = vt_wait_exit(e->pid[i]);
	e->pid[i] = 0;
	if (rc || e->res[i]->end_type != VMMIG_EVENT_FINISHED)
		return -1;
	return memcmp(e->src, e->dst[i], npages * PG) ? -2 : 0;
}

/* What the link carries uncapped: every page of the region, one round. */
static __u64 link_rate(struct __test_metadata *_metadata, int fd)
{
	struct sample a, b;

	sample(&a);
	EXPECT_EQ(0, round_trip(fd, BW_PAGES));
	sample(&b);
	EXPECT_NE(0, b.bytes - a.bytes);
	TH_LOG("uncapped: %llu bytes/s on the veth", (unsigned long long)rate_between(&a, &b));
	return rate_between(&a, &b);
}

/* A session's effective cap, as vmmigctl sessions -j shows it; -1: none shown. */
static long long shown_cap(unsigned int id)
{
	char cmd[PATH_MAX + 64], out[8192], pat[32], *p;
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s -j sessions", vt_ctl_path());
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	snprintf(pat, sizeof(pat), "{\"id\":%u,", id);
	p = strstr(out, pat);
	p = p ? strstr(p, "\"bandwidth\":") : NULL;
	return p ? strtoll(p + strlen("\"bandwidth\":"), NULL, 10) : -1;
}

/* The host's cap paces one session: a quarter of the link, within 15 %. */
TEST_F(bw, host_cap_paces_a_session)
{
	__u64 link, cap, npages, got;
	struct sample a, b;
	char args[64];

	ASSERT_EQ(0, start_session(&self->e, 0));
	link = link_rate(_metadata, self->e.fd[0]);
	ASSERT_NE(0, link);
	cap = link / 4;
	if (cap > BW_PAGES * PG / BW_SECONDS)
		cap = BW_PAGES * PG / BW_SECONDS;
	npages = pages_for(cap, BW_SECONDS);
	snprintf(args, sizeof(args), "set bandwidth %llubps", (unsigned long long)cap);
	ASSERT_EQ(0, vt_ctl(NULL, args));
	EXPECT_EQ((long long)cap, shown_cap(1));

	sample(&a);
	ASSERT_EQ(0, round_trip(self->e.fd[0], npages));
	sample(&b);
	got = rate_between(&a, &b);
	TH_LOG("host cap %llu bytes/s: %llu pages in %llu ms, %llu bytes/s on the veth",
	       (unsigned long long)cap, (unsigned long long)npages,
	       (unsigned long long)(b.ns - a.ns) / 1000000, (unsigned long long)got);
	EXPECT_TRUE(within(got, cap));

	/* Back to no cap: the next round is as fast as the first. */
	ASSERT_EQ(0, vt_ctl(NULL, "set bandwidth 0"));
	EXPECT_EQ(0, shown_cap(1));
	sample(&a);
	ASSERT_EQ(0, round_trip(self->e.fd[0], npages));
	sample(&b);
	EXPECT_GT(rate_between(&a, &b), cap * 2);
	EXPECT_EQ(0, finish_session(&self->e, 0, BW_PAGES));
}

struct sender {
	int fd;
	__u64 npages;
	int rc;
	__u64 done_ns;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;

	s->rc = round_trip(s->fd, s->npages);
	s->done_ns = now_ns();
	return NULL;
}

/* Two sessions at once share the host's cap: their sum within 15 % of it. */
TEST_F(bw, host_cap_shared_by_two_sessions)
{
	struct sender s[2];
	pthread_t t[2];
	__u64 link, cap, got;
	struct sample a, b;
	char args[64];
	int i;

	ASSERT_EQ(0, start_session(&self->e, 0));
	ASSERT_EQ(0, start_session(&self->e, 1));
	link = link_rate(_metadata, self->e.fd[0]);
	ASSERT_NE(0, link);
	cap = link / 4;
	if (cap > 2 * BW_PAGES * PG / BW_SECONDS)
		cap = 2 * BW_PAGES * PG / BW_SECONDS;
	snprintf(args, sizeof(args), "set bandwidth %llubps", (unsigned long long)cap);
	ASSERT_EQ(0, vt_ctl(NULL, args));

	sample(&a);
	for (i = 0; i < 2; i++) {
		s[i] = (struct sender){ .fd = self->e.fd[i],
					.npages = pages_for(cap / 2, BW_SECONDS) };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, send_thread, &s[i]));
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	sample(&b);
	got = rate_between(&a, &b);
	TH_LOG("host cap %llu bytes/s, two sessions: %llu bytes/s together, done at %llu, %llu ms",
	       (unsigned long long)cap, (unsigned long long)got,
	       (unsigned long long)(s[0].done_ns - a.ns) / 1000000,
	       (unsigned long long)(s[1].done_ns - a.ns) / 1000000);
	EXPECT_EQ(0, s[0].rc);
	EXPECT_EQ(0, s[1].rc);
	EXPECT_TRUE(within(got, cap));
	EXPECT_EQ(0, finish_session(&self->e, 0, BW_PAGES));
	EXPECT_EQ(0, finish_session(&self->e, 1, s[1].npages));
}

struct raiser {
	int fd;
	__u64 after_ms;
	__u64 bytes_per_sec;
	int rc;
	__u64 ioctl_ns;		/* how long SET_BANDWIDTH took */
	struct sample at;	/* the veth when the new cap took over */
};

static void *raise_thread(void *arg)
{
	struct raiser *r = arg;
	__u64 t;

	usleep(r->after_ms * 1000);
	t = now_ns();
	r->rc = set_bandwidth(r->fd, r->bytes_per_sec);
	r->ioctl_ns = now_ns() - t;
	sample(&r->at);
	return NULL;
}

/*
 * The VMM's own cap: a round at c1; then, in the middle of the next, from
 * another thread while SEND_DIRTY runs, c2 = 3 * c1. The rest of that round
 * goes at c2: within one round, at once.
 */
TEST_F(bw, session_cap_raised_mid_round)
{
	struct raiser r;
	struct sender s;
	pthread_t t;
	__u64 link, c1, c2, n1, got1, got2, got3;
	struct sample a, b;

	ASSERT_EQ(0, start_session(&self->e, 0));
	link = link_rate(_metadata, self->e.fd[0]);
	ASSERT_NE(0, link);
	/* Round two: 1 s at c1, then the rest (2 s or more) at c2 = 3 * c1. */
	c1 = link / 8;
	if (c1 > BW_PAGES * PG / 7)
		c1 = BW_PAGES * PG / 7;
	c2 = 3 * c1;
	ASSERT_EQ(0, set_bandwidth(self->e.fd[0], c1));
	/* The host's cap, higher, does not matter; the shown cap is the lower. */
	ASSERT_EQ(0, vt_ctl(NULL, "set bandwidth 1tbit"));
	EXPECT_EQ((long long)c1, shown_cap(1));

	n1 = pages_for(c1, 2);
	sample(&a);
	ASSERT_EQ(0, round_trip(self->e.fd[0], n1));
	sample(&b);
	got1 = rate_between(&a, &b);
	EXPECT_TRUE(within(got1, c1));

	r = (struct raiser){ .fd = self->e.fd[0], .after_ms = 1000, .bytes_per_sec = c2 };
	s = (struct sender){ .fd = self->e.fd[0], .npages = BW_PAGES };
	sample(&a);
	ASSERT_EQ(0, pthread_create(&t, NULL, raise_thread, &r));
	send_thread(&s);
	pthread_join(t, NULL);
	sample(&b);
	got2 = rate_between(&a, &r.at);
	got3 = rate_between(&r.at, &b);
	TH_LOG("session cap %llu then %llu bytes/s: %llu, then %llu bytes/s on the veth; "
	       "SET_BANDWIDTH took %llu us", (unsigned long long)c1, (unsigned long long)c2,
	       (unsigned long long)got1, (unsigned long long)got3,
	       (unsigned long long)r.ioctl_ns / 1000);
	EXPECT_EQ(0, s.rc);
	EXPECT_EQ(0, r.rc);
	/* It did not wait for the SEND_DIRTY holding the session. */
	EXPECT_LT(r.ioctl_ns, 200000000ULL);
	EXPECT_TRUE(within(got2, c1));
	EXPECT_TRUE(within(got3, c2));
	EXPECT_EQ((long long)c2, shown_cap(1));
	EXPECT_EQ(0, finish_session(&self->e, 0, BW_PAGES));
}

struct blocked {
	int fd;
	int rc;
};

static void *send_all_thread(void *arg)
{
	struct blocked *b = arg;

	b->rc = vt_send_dirty(b->fd, 1, 0, BW_PAGES, NULL, NULL);
	return NULL;
}

/*
 * A sender sleeping on a cap that would take it hours wakes at once when
 * the VMM aborts; the destination hears of it.
 */
TEST_F(bw, abort_wakes_a_capped_sender)
{
	struct blocked b;
	struct vmmig_stats st;
	pthread_t t;
	__u64 t0, waited;

	ASSERT_EQ(0, start_session(&self->e, 0));
	ASSERT_EQ(0, set_bandwidth(self->e.fd[0], VMMIG_MIN_BANDWIDTH));
	b = (struct blocked){ .fd = self->e.fd[0], .rc = 1 };
	ASSERT_EQ(0, pthread_create(&t, NULL, send_all_thread, &b));
	usleep(500000);
	ASSERT_EQ(0, vt_stats(self->e.fd[0], &st));
	/* One burst and a send at most have gone: not the 64 MiB. */
	EXPECT_LT(st.bytes_wire, 1024 * 1024);
	t0 = now_ns();
	ASSERT_EQ(0, vt_ioctl(self->e.fd[0], VMMIG_IOC_ABORT, NULL));
	pthread_join(t, NULL);
	waited = now_ns() - t0;
	TH_LOG("SEND_DIRTY returned %d, %llu ms after ABORT", b.rc,
	       (unsigned long long)waited / 1000000);
	EXPECT_EQ(-ECONNABORTED, b.rc);
	EXPECT_LT(waited, 1000000000ULL);
	ASSERT_EQ(0, vt_wait_exit(self->e.pid[0]));
	self->e.pid[0] = 0;
	EXPECT_EQ(VMMIG_EVENT_ABORTED, self->e.res[0]->end_type);
}

struct dest_thread {
	unsigned char *mem;
	int accept_rc;
	int rc;			/* SET_BANDWIDTH on the active destination */
};

/* A destination in host B, in a thread of ours (setns is per thread). */
static void *dest_thread(void *arg)
{
	struct dest_thread *d = arg;
	struct vmmig_event ev;
	int fd;

	if (vt_enter_netns(VT_NS_B))
		return NULL;
	fd = vt_open();
	if (fd < 0)
		return NULL;
	if (!vt_add_region(fd, 1, d->mem, BW_PAGES * PG, 0x100000)) {
		d->accept_rc = vt_accept(fd, BW_PORT + 2, 60000);
		if (!d->accept_rc)
			d->rc = set_bandwidth(fd, 5000);
		while (!d->accept_rc && !vt_wait_event(fd, &ev, NULL, 0, 60000) &&
		       ev.type != VMMIG_EVENT_FINISHED && ev.type != VMMIG_EVENT_ABORTED)
			;
	}
	close(fd);
	return NULL;
}

/*
 * SET_BANDWIDTH's checks: flags and reserved fields zero, a cap of 0 or at
 * least VMMIG_MIN_BANDWIDTH, a session that is NEW or an active source;
 * a refused call changes nothing.
 */
TEST_F(bw, set_bandwidth_checks)
{
	struct {
		struct vmmig_bandwidth b;
		__u64 more;
	} big = { .b = { .size = sizeof(big), .bytes_per_sec = 5000 }, .more = 1 };
	struct vmmig_bandwidth b = { .size = sizeof(b), .bytes_per_sec = 5000 };
	struct dest_thread d;
	int fd = vt_open();
	pthread_t t;

	ASSERT_LE(0, fd);
	b.flags = 1;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &b));
	b.flags = 0;
	b.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &b));
	b.reserved[0] = 0;
	b.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &b));
	b.reserved[1] = 0;
	b.bytes_per_sec = VMMIG_MIN_BANDWIDTH - 1;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &b));
	b.bytes_per_sec = 1;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &b));
	/* A struct shorter than the first version, a longer one with more set */
	b.size = 8;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &b));
	b.size = sizeof(b);
	EXPECT_EQ(-E2BIG, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &big));
	big.more = 0;
	EXPECT_EQ(0, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &big));
	b.bytes_per_sec = VMMIG_MIN_BANDWIDTH;
	EXPECT_EQ(0, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &b));
	b.bytes_per_sec = ~0ULL;
	EXPECT_EQ(0, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &b));
	b.bytes_per_sec = 0;
	EXPECT_EQ(0, vt_ioctl(fd, VMMIG_IOC_SET_BANDWIDTH, &b));
	close(fd);

	/* The cap set while NEW holds once ACTIVE; refused values changed nothing. */
	ASSERT_EQ(0, start_session(&self->e, 0));
	ASSERT_EQ(0, set_bandwidth(self->e.fd[0], 2000000));
	EXPECT_EQ(-EINVAL, set_bandwidth(self->e.fd[0], 10));
	EXPECT_EQ(2000000, shown_cap(2));
	ASSERT_EQ(0, round_trip(self->e.fd[0], 64));
	EXPECT_EQ(0, finish_session(&self->e, 0, 64));
	EXPECT_EQ(-EBADFD, set_bandwidth(self->e.fd[0], 0));

	/* A destination has nothing to cap. */
	d = (struct dest_thread){ .mem = self->e.dst[1], .rc = 1 };
	ASSERT_EQ(0, pthread_create(&t, NULL, dest_thread, &d));
	self->e.fd[1] = vt_open();
	ASSERT_LE(0, self->e.fd[1]);
	ASSERT_EQ(0, vt_add_region(self->e.fd[1], 1, self->e.src, BW_PAGES * PG, 0x100000));
	ASSERT_EQ(0, vt_connect_retry(self->e.fd[1], NULL, BW_PORT + 2, 1, 1200));
	ASSERT_EQ(0, vt_ioctl(self->e.fd[1], VMMIG_IOC_FINISH, NULL));
	pthread_join(t, NULL);
	EXPECT_EQ(0, d.accept_rc);
	EXPECT_EQ(-EBADFD, d.rc);
}

TEST_HARNESS_MAIN
