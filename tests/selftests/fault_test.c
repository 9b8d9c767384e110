// SPDX-License-Identifier: GPL-2.0
/*
 * Faults under the module: allocation failures injected with the kernel's
 * failslab (CONFIG_FAILSLAB, task-filtered with /proc/self/make-it-fail)
 * into both sides of migrations, and the module unloaded while a session
 * is open. Every failure must be a clean errno, the source memory must stay
 * intact, the destination must end FINISHED with the source's memory or
 * ABORTED, and nothing may leak (the test run checks kmemleak and dmesg).
 * Seeded like the fuzzers (fuzz.h).
 */
#include <sys/mman.h>

#include "vmmig_test.h"
#include "fuzz.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define NPAGES		64UL
#define BYTES		(NPAGES * PG)
#define RID		5
#define PORT		6660
#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define TIMES		1000000L

static int put(const char *file, const char *val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s%s", file[0] == '/' ? "" : FAILSLAB, file);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fputs(val, f) < 0 ? -1 : 0;
	return fclose(f) ? -1 : ret;
}

static long get_times(void)
{
	long v = -1;
	FILE *f = fopen(FAILSLAB "times", "r");

	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/*
 * Opened before any fault is armed: with faults on, opening a file is an
 * allocation that may fail, and turning them off must not.
 */
static int prob_fd = -1, fail_fd = -1;

static int faults_open(void)
{
	prob_fd = open(FAILSLAB "probability", O_WRONLY | O_CLOEXEC);
	fail_fd = open("/proc/thread-self/make-it-fail", O_WRONLY | O_CLOEXEC);
	return prob_fd < 0 || fail_fd < 0 ? -1 : 0;
}

/* Failures for this task from now on, with @pct percent probability. */
static void faults(int pct)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", pct);

	/* write(), not pwrite(): debugfs attribute files do not seek. */
	if (pct) {
		if (write(prob_fd, buf, len) != len || pwrite(fail_fd, "1", 1, 0) != 1)
			printf("# failslab: cannot arm\n");
	} else if (pwrite(fail_fd, "0", 1, 0) != 1) {
		printf("# failslab: cannot disarm\n");
	}
}

static bool fault_errno(int e)
{
	switch (-e) {
	case 0: case ENOMEM: case ENOBUFS: case ECONNRESET: case ECONNREFUSED:
	case ECONNABORTED: case ETIMEDOUT: case EPIPE: case EPROTO: case EBADMSG:
	case EINTR: case ENXIO: case EAGAIN: case EBUSY:
	/* the network stack's words for a failed allocation: file, bind bucket */
	case ENFILE: case EADDRINUSE:
		return true;
	}
	return false;
}

static void fill(unsigned char *mem, unsigned long i)
{
	unsigned long k;

	for (k = 0; k < BYTES / 8; k++)
		((__u64 *)mem)[k] = k % 700 < 100 ? 0 : (i << 32 | k) * 0x9e3779b97f4a7c15ULL;
}

struct outcome {
	int bad;		/* an undocumented answer: which call */
	int rc;
	int finished;
};

/* The destination, faults at @pct: accept (a few tries), read to the end. */
static void dest(unsigned char *mem, int pct, struct outcome *o)
{
	struct vmmig_event ev;
	int fd, rc = -1, tries;

	if (vt_enter_netns(VT_NS_B))
		_exit(10);
	fd = vt_open();
	if (fd < 0 || vt_add_region(fd, RID, mem, BYTES, 0))
		_exit(11);
	if (faults_open())
		_exit(12);
	faults(pct);
	for (tries = 0; tries < 4; tries++) {
		rc = vt_accept(fd, PORT, 3000);
		if (!rc || rc == -ETIMEDOUT)
			break;
		/* A retry after a failure that ended the session: EBADFD. */
		if (!fault_errno(rc) && !(tries && rc == -EBADFD)) {
			o->bad = 1;
			o->rc = rc;
		}
	}
	while (!rc) {
		rc = vt_wait_event(fd, &ev, NULL, 0, 20000);
		if (!rc && ev.type == VMMIG_EVENT_FINISHED)
			o->finished = 1;
		if (!rc && ev.type >= VMMIG_EVENT_FINISHED)
			break;
	}
	faults(0);
	close(fd);
	_exit(0);
}

FIXTURE(fault) {
	unsigned char *src, *copy, *dst;
	struct outcome *o;
};

FIXTURE_SETUP(fault)
{
	if (access(FAILSLAB, F_OK))
		SKIP(return, "no failslab in debugfs (CONFIG_FAILSLAB)");
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	self->src = mmap(NULL, BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->copy = malloc(BYTES);
	self->dst = mmap(NULL, BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	self->o = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(MAP_FAILED, self->dst);
	ASSERT_NE(MAP_FAILED, self->o);
	/* Only tasks that ask, every kind of allocation, quietly. */
	ASSERT_EQ(0, put("task-filter", "Y"));
	ASSERT_EQ(0, put("ignore-gfp-wait", "N"));
	ASSERT_EQ(0, put("verbose", "0"));
	ASSERT_EQ(0, put("interval", "1"));
	ASSERT_EQ(0, put("space", "0"));
	ASSERT_EQ(0, put("times", "1000000"));
	ASSERT_EQ(0, faults_open());
}

FIXTURE_TEARDOWN(fault)
{
	if (fail_fd >= 0)
		faults(0);
	put("probability", "0");
	put("times", "1");
	vt_netns_teardown();
}

/* A source call under faults: a clean errno or success, else noted. */
#define CALL(expr) ({							\
	int __rc = (expr);						\
	if (!fault_errno(__rc) && !bad_call[0])				\
		snprintf(bad_call, sizeof(bad_call), "%s: %d", #expr, __rc); \
	__rc; })

TEST_F_TIMEOUT(fault, failslab_migrations, 1800)
{
	unsigned long n = fz_iters(15), i, finished = 0;
	char bad_call[160] = "";
	struct fz r;
	long injected;

	fz_init(&r, "failslab");
	for (i = 0; i < n; i++) {
		int spct = 1 + fz_below(&r, 25), dpct = fz_one_in(&r, 2) ? fz_below(&r, 25) : 0;
		int fd, rc, status, tries;
		pid_t pid;

		fill(self->src, i);
		memcpy(self->copy, self->src, BYTES);
		memset(self->dst, 0xee, BYTES);
		memset(self->o, 0, sizeof(*self->o));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			dest(self->dst, dpct, self->o);
		ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
		fd = vt_open();
		ASSERT_LE(0, fd);
		faults(spct);
		rc = CALL(vt_add_region(fd, RID, self->src, BYTES, 0));
		for (tries = 0; rc == -ENOMEM && tries < 5; tries++)
			rc = CALL(vt_add_region(fd, RID, self->src, BYTES, 0));
		/*
		 * Refused while the destination is not (again) in ACCEPT. A
		 * failure once the channels were up ends the session (ABORTED):
		 * no retry then, it would only be EBADFD.
		 */
		for (tries = 0; !rc && tries < 100; tries++) {
			struct vmmig_stats st;

			rc = CALL(vt_connect_comp(fd, NULL, PORT, 1 + i % 2, i % 3, 0));
			if (rc != -ECONNREFUSED && rc != -ENOMEM && rc != -ENOBUFS)
				break;
			if (vt_stats(fd, &st) || st.state != VMMIG_STATE_NEW)
				break;
			usleep(50000);
			if (tries < 99)
				rc = 0;
		}
		if (!rc)
			rc = CALL(vt_send_dirty(fd, RID, 0, NPAGES, NULL, NULL));
		if (!rc)
			rc = CALL(vt_ioctl(fd, VMMIG_IOC_SYNC, NULL));
		if (!rc)
			rc = CALL(vt_ioctl(fd, VMMIG_IOC_FINISH, NULL));
		faults(0);
		close(fd);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("destination %lu: status 0x%x", i, status);
		EXPECT_EQ(0, self->o->bad) TH_LOG("destination %lu: ACCEPT %d", i, self->o->rc);
		EXPECT_EQ(0, memcmp(self->src, self->copy, BYTES)) TH_LOG("source changed");
		if (self->o->finished) {
			finished++;
			EXPECT_EQ(0, memcmp(self->dst, self->copy, BYTES))
				TH_LOG("finished, but the destination differs (%lu)", i);
		}
	}
	injected = TIMES - get_times();
	printf("# failslab: %lu migrations, %lu finished, %ld allocation failures injected\n",
	       n, finished, injected);
	EXPECT_EQ(0, bad_call[0]) TH_LOG("%s", bad_call);
	EXPECT_LT(0, injected);
}

/* The module cannot go while a session is open, in any state. */
TEST_F_TIMEOUT(fault, unload_refused_while_open, 300)
{
	int fd, status;
	pid_t pid;

	ASSERT_EQ(0, vt_enter_netns(VT_NS_B));
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, RID, self->dst, BYTES, 0));
	EXPECT_NE(0, vt_sh("rmmod vmmig 2>/dev/null"));
	EXPECT_EQ(0, access("/sys/module/vmmig", F_OK));

	/* ACTIVE: a source connects from A while the unload is tried. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int s;

		if (vt_enter_netns(VT_NS_A))
			_exit(1);
		s = vt_open();
		if (s < 0 || vt_add_region(s, RID, self->src, BYTES, 0) ||
		    vt_connect_retry(s, NULL, PORT, 2, 100))
			_exit(2);
		sleep(2);
		_exit(vt_sh("rmmod vmmig 2>/dev/null") ? 0 : 3);
	}
	EXPECT_EQ(0, vt_accept(fd, PORT, 10000));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("source: status 0x%x (3: the unload succeeded)", status);
	EXPECT_NE(0, vt_sh("rmmod vmmig 2>/dev/null"));
	close(fd);
	EXPECT_EQ(0, access("/sys/module/vmmig", F_OK));
}

TEST_HARNESS_MAIN
