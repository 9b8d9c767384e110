/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmarks share: CPU time from /proc/stat, medians, waiting for
 * a destination process, and the plain TCP helpers of the userspace
 * senders. Header-only, like vmmig_test.h, so each benchmark stays one file.
 */
#ifndef _VMMIG_BENCH_H
#define _VMMIG_BENCH_H

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>

#include "vmmig_test.h"

#define PG		4096UL
#define MIB		(1024UL * 1024)
#define GIB		(1024.0 * 1024 * 1024)

#define MAX_RUNS	16

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Busy jiffies of all CPUs: everything but idle and iowait. The module's
 * work items, receive threads and softirqs do not show in getrusage(), so
 * CPU time is taken machine-wide.
 */
static inline unsigned long long cpu_busy(void)
{
	unsigned long long v[10] = {0};
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	fclose(f);
	if (n < 8)
		return 0;
	/* user nice system [idle iowait] irq softirq steal; guest is in user */
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

/* A point in time and in machine-wide CPU time. */
struct mark {
	double t;
	unsigned long long busy;
};

static inline void mark_start(struct mark *m)
{
	m->busy = cpu_busy();
	m->t = now();
}

/* Wall seconds and busy CPU seconds (all CPUs) since mark_start(). */
static inline void mark_read(const struct mark *m, double *wall, double *cpu)
{
	double t = now();
	unsigned long long busy = cpu_busy();

	*wall = t - m->t;
	*cpu = (double)(busy - m->busy) / sysconf(_SC_CLK_TCK);
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline double median(const double *v, int n)
{
	double s[MAX_RUNS];

	if (!n)
		return 0;
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Exit status of a child, 128 + signal if it was killed. */
static inline int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Let host @ns (NULL: this namespace) run @max sessions at once; the default is 2. */
static inline int bench_max_migrations(const char *ns, unsigned int max)
{
	char args[64];

	snprintf(args, sizeof(args), "set max-migrations %u", max);
	return vt_ctl(ns, args);
}

/*
 * Hosts A and B joined by veth, migrations enabled, this process in A.
 * With @max, each host allows that many sessions at once.
 */
static inline int bench_hosts_setup(unsigned int max)
{
	return vt_netns_setup() || vt_hosts_enable() ||
	       (max && (bench_max_migrations(VT_NS_A, max) ||
			bench_max_migrations(VT_NS_B, max))) ||
	       vt_enter_netns(VT_NS_A);
}

/*
 * The source side's session, with @mem as region 1: its fd, or -errno
 * with *@what the step that failed.
 */
static inline int bench_source_open(void *mem, size_t len, const char **what)
{
	int fd, rc;

	*what = "open /dev/vmmig";
	fd = vt_open();
	if (fd < 0)
		return -errno;
	*what = "ADD_REGION";
	rc = vt_add_region(fd, 1, mem, len, 0x100000);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * The start of a destination process, forked before the source memory
 * exists: a fork after source pages are pinned would copy them all
 * (pinned anonymous pages are not shared copy-on-write), and the test
 * kernel has no madvise(MADV_DONTFORK). It dies with the bench and moves
 * into host @ns (NULL: stays); exit 10 if it cannot.
 */
static inline void bench_dest_enter(const char *ns)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* no orphans if the bench dies */
	if (ns && vt_enter_netns(ns))
		_exit(10);
}

/* A module destination's session in host @ns: its fd; exit 10 or 11. */
static inline int bench_dest_open(const char *ns)
{
	int fd;

	bench_dest_enter(ns);
	fd = vt_open();
	if (fd < 0) {
		fprintf(stderr, "dest: open /dev/vmmig: %s\n", strerror(errno));
		_exit(11);
	}
	return fd;
}

/* Register a region of a destination's session; exit 12 if it cannot. */
static inline void bench_dest_add_region(int fd, __u32 id, void *mem, size_t len, __u64 gpa,
					 __u32 flags)
{
	int rc = vt_add_region_flags(fd, id, mem, len, gpa, flags);

	if (rc) {
		fprintf(stderr, "dest: ADD_REGION: %s\n", strerror(-rc));
		_exit(12);
	}
}

/*
 * The rest of a destination process, its regions added: ACCEPT on @port,
 * then take events until the session FINISHES (exit 0) or fails (exit
 * 13..15, after a line on stderr).
 */
static inline void __attribute__((noreturn)) bench_dest_serve(int fd, __u16 port)
{
	struct vmmig_event ev;
	int rc;

	rc = vt_accept(fd, port, 600000);
	if (rc) {
		fprintf(stderr, "dest: ACCEPT: %s\n", strerror(-rc));
		_exit(13);
	}
	for (;;) {
		rc = vt_wait_event(fd, &ev, NULL, 0, 0);
		if (rc) {
			fprintf(stderr, "dest: WAIT_EVENT: %s\n", strerror(-rc));
			_exit(14);
		}
		if (ev.type == VMMIG_EVENT_FINISHED)
			break;
		if (ev.type == VMMIG_EVENT_ABORTED) {
			fprintf(stderr, "dest: ABORTED: %s\n", strerror(ev.error));
			_exit(15);
		}
	}
	close(fd);
	_exit(0);
}

/* Drop @n bytes from the front of an iovec array. */
static inline void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
	while (*cnt && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt && n) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

/*
 * Fill the whole iovec array from @fd. With @eof, an orderly shutdown
 * before the first byte sets *@eof and returns 0; any other short read is
 * -ECONNRESET. The array is consumed.
 */
static inline int recv_iov(int fd, struct iovec *iov, int cnt, bool *eof)
{
	struct msghdr msg = {};
	bool first = true;
	ssize_t n;

	while (cnt) {
		msg.msg_iov = iov;
		msg.msg_iovlen = cnt;
		n = recvmsg(fd, &msg, MSG_WAITALL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (first && eof)
				*eof = true;
			return first && eof ? 0 : -ECONNRESET;
		}
		first = false;
		iov_advance(&iov, &cnt, n);
	}
	return 0;
}

/* TCP to host B, retrying while its receiver is not listening yet. */
static inline int user_connect(__u16 port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, tries;

	inet_pton(AF_INET, VT_ADDR_B, &sa.sin_addr);
	for (tries = 0; tries < 200; tries++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		if (errno != ECONNREFUSED)
			return -errno;
		usleep(50000);
	}
	return -ECONNREFUSED;
}

/* Host B's side: listen on @port in the current namespace, take @n connections. */
static inline int user_accept(__u16 port, int *fds, unsigned int n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	unsigned int i;
	int lfd, one = 1, rc = 0;

	inet_pton(AF_INET, VT_ADDR_B, &sa.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, n))
		rc = -errno;
	for (i = 0; !rc && i < n; i++) {
		fds[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fds[i] < 0)
			rc = -errno;
	}
	close(lfd);
	return rc;
}

#endif /* _VMMIG_BENCH_H */
