// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA against TCP, the module's two transports, in the same run on the
 * same memory: what a round of dirty pages costs the receiving side.
 *
 *   tcp    SEND_DIRTY(VMMIG_DIRTY_ALL) + SYNC over TCP
 *   rdma   the same over RDMA: the pages go by RDMA WRITE into the
 *          destination's registered memory, the frame headers by SEND
 *
 * Both run on the Soft-RoCE rig of vmmig_test.h: one rxe device, both
 * hosts in the initial namespace (rxe in Linux 6.12 is not
 * network-namespace aware), TCP between the same two addresses. Soft-RoCE
 * is a NIC emulated by the CPU: its wall times say the path works, not
 * how fast RDMA is. What it can show is the work the receiving host's own
 * code does per page:
 *
 *   rx-thr   CPU time of the vmmig-rx kthreads (/proc/PID/schedstat),
 *            which place what arrives: for TCP every byte is copied out of
 *            the socket into guest memory; for RDMA they read frame
 *            headers only. The source's rx threads are counted too; they
 *            only read SYNC_ACKs.
 *   total    busy CPU of the machine (/proc/stat), both hosts and, for
 *            RDMA, the emulated NIC
 *   rxe      the emulated NIC's share of total, from perf samples in rxe_*
 *            functions (sampler.h): work a real RDMA NIC does in hardware
 *
 * Every round the destination is reset to 0xee and compared with the
 * source afterwards, so a broken path cannot report a number.
 *
 * Usage: rdma_bench [-m MiB] [-r runs] [-w warmup] [-c channels]
 */
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <sys/mman.h>

#include "bench.h"
#include "sampler.h"

#define PORT_BASE	6750

struct variant {
	const char *name;
	__u32 transport;
	__u16 port;
	pid_t pid;		/* the destination's process */
	int fd;			/* the source's session */
	int nruns;
	double wall[MAX_RUNS], cpu[MAX_RUNS], rx[MAX_RUNS], rxe[MAX_RUNS];
	bool ok;
	char err[160];
};

static unsigned char *src, *dst;
static size_t len, npages;
static struct sampler smp;
static int smp_err = -ENODEV;

static void fail(struct variant *v, const char *what, int err)
{
	if (!v->err[0])
		snprintf(v->err, sizeof(v->err), "%s: %s", what, strerror(err));
	v->ok = false;
}

/* Every page distinct and non-zero, as in datapath_bench. */
static void fill_page(unsigned char *mem, size_t page)
{
	__u64 *w = (__u64 *)(mem + page * PG);
	__u64 v = (page + 1) * 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < PG / 8; i++)
		w[i] = v + i * 0x100000001b3ULL + 1;
}

/* CPU seconds the vmmig-rx kthreads have run, all sessions together. */
static double rx_threads_cpu(void)
{
	unsigned long long ns, sum = 0;
	char path[300], comm[32];
	struct dirent *e;
	DIR *d = opendir("/proc");
	FILE *f;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f) || strncmp(comm, "vmmig-rx/", 9)) {
			fclose(f);
			continue;
		}
		fclose(f);
		snprintf(path, sizeof(path), "/proc/%s/schedstat", e->d_name);
		f = fopen(path, "r");
		if (f && fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		if (f)
			fclose(f);
	}
	closedir(d);
	return sum / 1e9;
}

/* The share of busy samples in rxe_* functions: the emulated NIC. */
static double rxe_share(const struct profile *p)
{
	unsigned long long rxe = 0, busy = profile_busy(p);
	size_t i;

	for (i = 0; i < smp.nksyms; i++)
		if (!strncmp(smp.ksyms[i].name, "rxe_", 4))
			rxe += p->hits[i];
	return busy ? (double)rxe / busy : 0;
}

/* The destination host: forked before the source memory exists. */
static void dest_fork(struct variant *v)
{
	int fd;

	v->pid = fork();
	if (v->pid < 0) {
		fail(v, "fork", errno);
		return;
	}
	if (v->pid)
		return;
	fd = bench_dest_open(NULL);
	bench_dest_add_region(fd, 1, dst, len, 0x100000, 0);
	bench_dest_serve(fd, v->port);
}

static void setup(struct variant *v, unsigned int nch)
{
	const char *what;
	int rc;

	v->fd = bench_source_open(src, len, &what);
	if (v->fd < 0) {
		fail(v, what, -v->fd);
		return;
	}
	if (v->transport == VMMIG_TRANSPORT_RDMA)
		rc = vt_connect_rdma(v->fd, VT_RIG_ADDR_B, v->port, nch, 0, 0);
	else
		rc = vt_connect_comp_retry(v->fd, VT_RIG_ADDR_B, v->port, nch,
					   VMMIG_COMP_NONE, 1200);
	if (rc)
		fail(v, "CONNECT", -rc);
}

static void round_run(struct variant *v, bool timed)
{
	struct profile prof = {};
	struct vmmig_dirty d;
	double rx0, wall, cpu;
	struct mark m;
	size_t i;
	int rc;

	if (!v->ok)
		return;
	memset(dst, 0xee, len);
	if (!smp_err) {
		sampler_drain(&smp, NULL);
		prof.hits = calloc(smp.nksyms, sizeof(*prof.hits));
		sampler_enable(&smp, true);
	}
	rx0 = rx_threads_cpu();
	mark_start(&m);
	rc = vt_send_dirty(v->fd, 1, 0, npages, NULL, &d);
	if (!rc)
		rc = vt_ioctl(v->fd, VMMIG_IOC_SYNC, NULL);
	mark_read(&m, &wall, &cpu);
	if (!smp_err) {
		sampler_enable(&smp, false);
		sampler_drain(&smp, prof.hits ? &prof : NULL);
	}
	if (rc) {
		fail(v, "SEND_DIRTY/SYNC", -rc);
	} else if (timed) {
		v->wall[v->nruns] = wall;
		v->cpu[v->nruns] = cpu;
		v->rx[v->nruns] = rx_threads_cpu() - rx0;
		v->rxe[v->nruns] = prof.hits ? cpu * rxe_share(&prof) : 0;
		v->nruns++;
		fprintf(stderr, "[bench]   %-5s %8.3f s\n", v->name, wall);
	}
	free(prof.hits);
	for (i = 0; v->ok && i < npages; i++) {
		if (memcmp(src + i * PG, dst + i * PG, PG)) {
			snprintf(v->err, sizeof(v->err),
				 "destination differs from source at page %zu", i);
			v->ok = false;
		}
	}
}

static void teardown(struct variant *v)
{
	int rc;

	if (v->ok) {
		rc = vt_ioctl(v->fd, VMMIG_IOC_FINISH, NULL);
		if (rc)
			fail(v, "FINISH", -rc);
	}
	if (v->pid > 0 && !v->ok)
		kill(v->pid, SIGKILL);
	/*
	 * The destination first: an RDMA source that disconnects right after
	 * FINISH can still make its destination see ECONNRESET before FIN
	 * (design.md, Known limits).
	 */
	rc = v->pid > 0 ? wait_child(v->pid) : 0;
	if (v->fd >= 0)
		close(v->fd);
	if (v->pid <= 0)
		return;
	if (rc && v->ok) {
		snprintf(v->err, sizeof(v->err), "destination exited with %d", rc);
		v->ok = false;
	}
}

/* Seconds per GiB moved, the median of @x over the runs. */
static double per_gib(const struct variant *v, const double *x)
{
	return median(x, v->nruns) / (npages * PG / GIB);
}

static void print_row(const struct variant *v)
{
	double nic[MAX_RUNS];
	int i;

	if (!v->ok) {
		printf("%-6s FAILED: %s\n", v->name, v->err);
		return;
	}
	for (i = 0; i < v->nruns; i++)
		nic[i] = v->cpu[i] - v->rxe[i];
	printf("%-6s %8.3f %8.1f %10.3f %10.3f %10.3f %12.3f\n", v->name,
	       median(v->wall, v->nruns), npages * PG / median(v->wall, v->nruns) / 1e6,
	       per_gib(v, v->rx), per_gib(v, v->cpu), per_gib(v, v->rxe), per_gib(v, nic));
}

static void print_help(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-m MiB] [-r runs] [-w warmup] [-c channels]\n"
		"  -m  memory moved per round (default 128)\n"
		"  -r  timed rounds per variant, the median is reported (default 3)\n"
		"  -w  untimed warm-up rounds (default 1)\n"
		"  -c  channels (default 2)\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct variant vs[] = {
		{ .name = "tcp", .transport = VMMIG_TRANSPORT_TCP, .port = PORT_BASE },
		{ .name = "rdma", .transport = VMMIG_TRANSPORT_RDMA, .port = PORT_BASE + 1 },
	};
	const int nv = ARRAY_SIZE(vs);
	int runs = 3, warmup = 1, opt, round, i, k;
	unsigned int nch = 2;
	size_t mib = 128, p;
	bool failed = false;
	struct variant *t = &vs[0], *r = &vs[1];

	while ((opt = getopt(argc, argv, "m:r:w:c:h")) != -1) {
		switch (opt) {
		case 'm':
			mib = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'c':
			nch = strtoul(optarg, NULL, 0);
			break;
		default:
			print_help(argv[0]);
		}
	}
	if (!mib || runs < 1 || runs > MAX_RUNS || warmup < 0 || !nch ||
	    nch > VMMIG_MAX_CHANNELS)
		print_help(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	len = mib * MIB;
	npages = len / PG;
	if (geteuid()) {
		fprintf(stderr, "needs root (rdma link, /dev/vmmig)\n");
		return 1;
	}
	/* Both transports' sessions, source and destination, in one host. */
	if (vt_rig_setup(true) || bench_max_migrations(NULL, 8)) {
		fprintf(stderr, "Soft-RoCE rig setup failed (rdma-core, rdma_rxe?)\n");
		vt_rig_teardown();
		return 1;
	}
	dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return 1;
	for (i = 0; i < nv; i++) {
		vs[i].ok = true;
		vs[i].fd = -1;
		dest_fork(&vs[i]);
	}
	src = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		return 1;
	for (p = 0; p < npages; p++)
		fill_page(src, p);
	for (i = 0; i < nv; i++)
		if (vs[i].ok)
			setup(&vs[i], nch);
	smp_err = sampler_open(&smp);
	if (smp_err)
		fprintf(stderr, "[bench] no CPU samples (rxe share n/a): %s\n", strerror(-smp_err));

	printf("rdma_bench: %zu MiB = %zu pages (all distinct, none zero), %u channels\n",
	       mib, npages, nch);
	printf("%d timed runs (+%d warm-up) per transport, medians; Soft-RoCE (rxe) %s on %s\n",
	       runs, warmup, VT_RXE, VT_RIG_DEV);
	for (round = 0; round < warmup + runs; round++) {
		fprintf(stderr, "[bench] round %d/%d%s\n", round + 1, warmup + runs,
			round < warmup ? " (warm-up)" : "");
		for (k = 0; k < nv; k++)
			round_run(&vs[round % 2 ? nv - 1 - k : k], round >= warmup);
	}
	for (i = 0; i < nv; i++)
		teardown(&vs[i]);
	if (!smp_err)
		sampler_close(&smp);

	printf("\n%-6s %8s %8s %10s %10s %10s %12s\n", "", "wall s", "MB/s",
	       "rx-thr s/GiB", "total", "rxe", "total-rxe");
	for (i = 0; i < nv; i++)
		print_row(&vs[i]);
	printf("s/GiB = CPU seconds per GiB moved: rx-thr the receive kthreads, total the\n"
	       "whole machine, rxe its share in the emulated NIC (perf samples)\n");
	if (t->ok && r->ok) {
		printf("\nratios rdma / tcp, same run (< 1: RDMA does less work)\n");
		printf("  receive threads CPU per GiB  x%.3f\n",
		       per_gib(r, r->rx) / per_gib(t, t->rx));
		printf("  machine CPU per GiB          x%.3f (with the NIC emulated by the CPU)\n",
		       per_gib(r, r->cpu) / per_gib(t, t->cpu));
		printf("  wall time per round          x%.3f (rxe: not a speed figure)\n",
		       median(r->wall, r->nruns) / median(t->wall, t->nruns));
	}
	vt_rig_teardown();
	for (i = 0; i < nv; i++)
		failed |= !vs[i].ok;
	return failed;
}
