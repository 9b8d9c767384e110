// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty-ring benchmark: what a round costs when its dirty pages come as K
 * KVM dirty-ring entries (SEND_DIRTY_RING) against the same pages as a
 * KVM_GET_DIRTY_LOG bitmap of the whole region (SEND_DIRTY), host A to
 * host B over veth, in the same process, boot and memory, rounds of the
 * two interleaved so that a change of the host's load hits both alike.
 *
 *   ring         SEND_DIRTY_RING(K entries, one slot) + SYNC
 *   bitmap       SEND_DIRTY(the region's bitmap) + SYNC
 *   bitmap+fill  the same, plus what a VMM holding ring entries pays to
 *                turn them into that bitmap first (clear it, set K bits)
 *
 * Patterns: sparse (K distinct pages spread over the region, in random
 * order, as several vCPUs' rings interleave them) and dense (K consecutive
 * pages, in order). Each round writes a word of each chosen page first and
 * the destination is compared with the source at the end, so a variant
 * that skipped a page cannot report a number; each call must also report
 * exactly K pages sent.
 *
 * Usage: ring_bench [-m MiB] [-r runs] [-w warmup] [-c channels]
 */
#include <getopt.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "bench.h"

#define PORT		6750
#define NPATTERNS	8

struct pattern {
	const char *name;
	size_t k;
	bool dense;
};

static const struct pattern patterns[NPATTERNS] = {
	{ "sparse", 64, false }, { "sparse", 1024, false }, { "sparse", 16384, false },
	{ "dense", 64, true }, { "dense", 1024, true }, { "dense", 16384, true },
	{ "dense", 0, true },	/* 0: every page of the region */
	{ "sparse", 4096, false },
};

static unsigned char *src, *dst;
static size_t len, npages;
static int runs = 5, warmup = 1;

static __u64 rnd_state = 0x9e3779b97f4a7c15ULL;

static __u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void fill_page(size_t page)
{
	__u64 *w = (__u64 *)(src + page * PG);
	__u64 v = (page + 1) * 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < PG / 8; i++)
		w[i] = v + i * 0x100000001b3ULL + 1;
}

/* The pattern's pages as ring entries (slot 0 is the whole region). */
static size_t make_entries(const struct pattern *p, struct vmmig_dirty_gfn *e)
{
	size_t k = p->k ? p->k : npages, i, j, first;
	__u64 t;

	if (p->dense) {
		first = k == npages ? 0 : rnd() % (npages - k);
		for (i = 0; i < k; i++)
			e[i] = (struct vmmig_dirty_gfn){ .flags = VMMIG_RING_GFN_DIRTY,
							 .offset = first + i };
		return k;
	}
	/* k distinct pages: every (npages / k)th, jittered, then shuffled */
	for (i = 0; i < k; i++)
		e[i] = (struct vmmig_dirty_gfn){
			.flags = VMMIG_RING_GFN_DIRTY | VMMIG_RING_GFN_RESET,
			.offset = i * (npages / k) + rnd() % (npages / k),
		};
	for (i = k - 1; i > 0; i--) {
		j = rnd() % (i + 1);
		t = e[i].offset;
		e[i].offset = e[j].offset;
		e[j].offset = t;
	}
	return k;
}

static void touch(const struct vmmig_dirty_gfn *e, size_t k, __u64 tag)
{
	size_t i;

	for (i = 0; i < k; i++)
		*(__u64 *)(src + e[i].offset * PG) = tag;
}

static int sync_round(int fd)
{
	return vt_ioctl(fd, VMMIG_IOC_SYNC, NULL);
}

static int round_ring(int fd, const struct vmmig_ring_slot *slot,
		      const struct vmmig_dirty_gfn *e, size_t k, double *t)
{
	struct vmmig_dirty_ring d = {
		.size = sizeof(d), .nr_slots = 1, .slots = (unsigned long)slot,
		.entries = (unsigned long)e, .nr_entries = k,
	};
	double t0 = now();
	int rc;

	rc = vt_ioctl(fd, VMMIG_IOC_SEND_DIRTY_RING, &d) ?: sync_round(fd);
	*t = now() - t0;
	if (!rc && d.pages != k) {
		fprintf(stderr, "SEND_DIRTY_RING sent %llu pages, not %zu\n",
			(unsigned long long)d.pages, k);
		return -EIO;
	}
	return rc;
}

static int round_bitmap(int fd, unsigned long *map, const struct vmmig_dirty_gfn *e,
			size_t k, double *t_fill, double *t)
{
	struct vmmig_dirty d;
	double t0 = now(), t1;
	size_t i;
	int rc;

	memset(map, 0, (npages + 63) / 64 * 8);
	for (i = 0; i < k; i++)
		map[e[i].offset / 64] |= 1UL << (e[i].offset % 64);
	t1 = now();
	*t_fill = t1 - t0;
	rc = vt_send_dirty(fd, 1, 0, npages, map, &d) ?: sync_round(fd);
	*t = now() - t1;
	if (!rc && d.pages != k) {
		fprintf(stderr, "SEND_DIRTY sent %llu pages, not %zu\n",
			(unsigned long long)d.pages, k);
		return -EIO;
	}
	return rc;
}

int main(int argc, char **argv)
{
	double t_ring[MAX_RUNS], t_map[MAX_RUNS], t_fill[MAX_RUNS], t_mapfill[MAX_RUNS];
	struct vmmig_ring_slot slot = { .slot = 0, .region_id = 1 };
	unsigned int nch = 2, p;
	struct vmmig_dirty_gfn *e;
	const char *what;
	unsigned long *map;
	struct utsname u;
	__u64 tag = 1;
	size_t mib = 256, k = 0, i;
	int opt, fd, rc, r, n, st;
	pid_t pid;

	while ((opt = getopt(argc, argv, "m:r:w:c:")) != -1) {
		switch (opt) {
		case 'm': mib = strtoul(optarg, NULL, 0); break;
		case 'r': runs = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'c': nch = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-m MiB] [-r runs] [-w warmup] [-c channels]\n",
				argv[0]);
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || warmup < 0 || mib < 64 || !nch ||
	    nch > VMMIG_MAX_CHANNELS) {
		fprintf(stderr, "ring_bench: -m 64.., -r 1..%d, -c 1..%d\n", MAX_RUNS,
			VMMIG_MAX_CHANNELS);
		return 2;
	}
	len = mib * MIB;
	npages = len / PG;
	slot.num_pages = npages;
	if (bench_hosts_setup(0)) {
		fprintf(stderr, "ring_bench: cannot set up hosts A and B\n");
		return 1;
	}
	/* The destination first: a fork after the source is pinned copies it. */
	dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return 1;
	pid = fork();
	if (!pid) {
		fd = bench_dest_open(VT_NS_B);
		bench_dest_add_region(fd, 1, dst, len, 0x100000, 0);
		bench_dest_serve(fd, PORT);
	}
	src = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	e = calloc(npages, sizeof(*e));
	map = calloc((npages + 63) / 64, 8);
	if (src == MAP_FAILED || !e || !map)
		return 1;
	for (i = 0; i < npages; i++)
		fill_page(i);
	fd = bench_source_open(src, len, &what);
	if (fd < 0) {
		fprintf(stderr, "ring_bench: %s: %s\n", what, strerror(-fd));
		return 1;
	}
	rc = vt_connect_retry(fd, NULL, PORT, nch, 200);
	/* Round 0: everything, so that the destination holds the source. */
	rc = rc ?: vt_send_dirty(fd, 1, 0, npages, NULL, NULL) ?: sync_round(fd);
	if (rc) {
		fprintf(stderr, "ring_bench: CONNECT or round 0: %s\n", strerror(-rc));
		return 1;
	}

	uname(&u);
	printf("# ring_bench: %zu MiB region (%zu pages), %u channel(s), %d runs (+%d warm-up)\n",
	       mib, npages, nch, runs, warmup);
	printf("# kernel %s; times are medians of SEND + SYNC, in ms\n", u.release);
	printf("%-7s %7s %9s %9s %9s %11s %10s %10s\n", "pattern", "K", "ring", "bitmap",
	       "fill", "bitmap+fill", "ring/bmp", "ring/b+f");
	for (p = 0; p < NPATTERNS; p++) {
		n = 0;
		for (r = 0; r < warmup + runs; r++) {
			double tr, tm, tf;

			k = make_entries(&patterns[p], e);
			touch(e, k, tag++);
			rc = round_ring(fd, &slot, e, k, &tr);
			touch(e, k, tag++);
			rc = rc ?: round_bitmap(fd, map, e, k, &tf, &tm);
			if (rc) {
				fprintf(stderr, "ring_bench: %s K=%zu: %s\n", patterns[p].name, k,
					strerror(-rc));
				return 1;
			}
			if (r < warmup)
				continue;
			t_ring[n] = tr * 1e3;
			t_map[n] = tm * 1e3;
			t_fill[n] = tf * 1e3;
			t_mapfill[n] = (tm + tf) * 1e3;
			n++;
		}
		printf("%-7s %7zu %9.2f %9.2f %9.2f %11.2f %10.2f %10.2f\n", patterns[p].name, k,
		       median(t_ring, n), median(t_map, n), median(t_fill, n),
		       median(t_mapfill, n), median(t_ring, n) / median(t_map, n),
		       median(t_ring, n) / median(t_mapfill, n));
		fflush(stdout);
	}
	rc = vt_ioctl(fd, VMMIG_IOC_FINISH, NULL);
	close(fd);
	st = wait_child(pid);
	if (rc || st) {
		fprintf(stderr, "ring_bench: FINISH %d, destination exit %d\n", rc, st);
		return 1;
	}
	if (memcmp(src, dst, len)) {
		fprintf(stderr, "ring_bench: the destination differs from the source\n");
		return 1;
	}
	printf("# destination equal to the source\n");
	return 0;
}
