// SPDX-License-Identifier: GPL-2.0
/*
 * A soak: N small migrations back and forth between hosts A and B (N from
 * VMMIG_SOAK_N, printed), cycling channel counts and codecs, each with a
 * round of all pages and a round of a dirty bitmap, each compared byte for
 * byte on the destination and checked unchanged on the source. Run under
 * the test kernel's lockdep and kmemleak; the test run fails on any
 * report. Slab memory before and after is printed: a leak per migration
 * shows as growth.
 */
#include <sys/mman.h>

#include "vmmig_test.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define NPAGES		128UL
#define BYTES		(NPAGES * PG)
#define RID		3
#define PORT		6650

static unsigned long soak_n(void)
{
	const char *env = getenv("VMMIG_SOAK_N");

	return env && *env ? strtoul(env, NULL, 0) : 40;
}

static long slab_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Page p of migration i: a mix of zero pages and pages that name themselves. */
static void fill(unsigned char *mem, unsigned long i)
{
	unsigned long p, k;

	for (p = 0; p < NPAGES; p++) {
		__u64 *w = (__u64 *)(mem + p * PG);

		for (k = 0; k < PG / 8; k++)
			w[k] = (p + i) % 5 == 0 ? 0 :
			       (i << 40 | p << 20 | k) * 0x9e3779b97f4a7c15ULL;
	}
}

/* Destination: accept into @mem, read events until the end; exit status. */
static void dest(const char *ns, unsigned char *mem)
{
	struct vmmig_event ev;
	int fd, rc;

	if (vt_enter_netns(ns))
		_exit(10);
	fd = vt_open();
	if (fd < 0 || vt_add_region(fd, RID, mem, BYTES, 0))
		_exit(11);
	if (vt_accept(fd, PORT, 20000))
		_exit(12);
	do
		rc = vt_wait_event(fd, &ev, NULL, 0, 30000);
	while (!rc && ev.type == VMMIG_EVENT_SYNC);
	close(fd);
	_exit(rc ? 13 : ev.type == VMMIG_EVENT_FINISHED ? 0 : 14);
}

FIXTURE(soak) {
	unsigned char *src, *dst;
};

FIXTURE_SETUP(soak)
{
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	self->src = mmap(NULL, BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->dst = mmap(NULL, BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(MAP_FAILED, self->dst);
}

FIXTURE_TEARDOWN(soak)
{
	vt_netns_teardown();
}

TEST_F_TIMEOUT(soak, back_and_forth, 3600)
{
	static const __u32 codecs[] = { VMMIG_COMP_NONE, VMMIG_COMP_LZ4, VMMIG_COMP_ZSTD };
	unsigned long n = soak_n(), i, done = 0;
	unsigned long bitmap[NPAGES / 64];
	long slab0 = slab_kb(), slab1;
	unsigned char *copy;

	copy = malloc(BYTES);
	ASSERT_NE(NULL, copy);
	printf("# soak: %lu migrations, alternating A->B and B->A\n", n);
	fflush(stdout);	/* before the forks, or they print it again */
	for (i = 0; i < n; i++) {
		bool ab = i % 2 == 0;
		const char *from = ab ? VT_NS_A : VT_NS_B;
		const char *to_addr = ab ? VT_ADDR_B : VT_ADDR_A;
		int fd, status, k;
		pid_t pid;

		fill(self->src, i);
		memcpy(copy, self->src, BYTES);
		memset(self->dst, 0xee, BYTES);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			dest(ab ? VT_NS_B : VT_NS_A, self->dst);
		ASSERT_EQ(0, vt_enter_netns(from));
		fd = vt_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, vt_add_region(fd, RID, self->src, BYTES, 0));
		ASSERT_EQ(0, vt_connect_comp_retry(fd, to_addr, PORT, 1 + i % 3,
						   codecs[i / 3 % 3], 400))
			TH_LOG("migration %lu", i);
		ASSERT_EQ(0, vt_send_dirty(fd, RID, 0, NPAGES, NULL, NULL));
		ASSERT_EQ(0, vt_ioctl(fd, VMMIG_IOC_SYNC, NULL));
		/* Round two: every third page changed and sent again. */
		memset(bitmap, 0, sizeof(bitmap));
		for (k = 0; k < (int)NPAGES; k += 3) {
			self->src[k * PG + 8] ^= 0xff;
			bitmap[k / 64] |= 1UL << (k % 64);
		}
		memcpy(copy, self->src, BYTES);
		ASSERT_EQ(0, vt_send_dirty(fd, RID, 0, NPAGES, bitmap, NULL));
		ASSERT_EQ(0, vt_ioctl(fd, VMMIG_IOC_FINISH, NULL));
		close(fd);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("destination of migration %lu: status 0x%x", i, status);
		ASSERT_EQ(0, memcmp(self->src, copy, BYTES)) TH_LOG("source changed");
		ASSERT_EQ(0, memcmp(self->dst, copy, BYTES))
			TH_LOG("destination differs after migration %lu", i);
		done++;
	}
	slab1 = slab_kb();
	printf("# soak: %lu migrations done and compared; Slab %ld kB before, %ld kB after\n",
	       done, slab0, slab1);
	free(copy);
}

TEST_HARNESS_MAIN
