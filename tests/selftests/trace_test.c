// SPDX-License-Identifier: GPL-2.0
/*
 * The vmmig tracepoints (kmod/trace.h), read back through tracefs while a
 * small migration runs between two hosts (netns A and B): a session's
 * start and end on both sides, each round with what it moved, and aborts
 * with their errno and reason.
 */
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "vmmig_test.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define PAGES		64	/* one in four left zero */
#define ZERO_PAGES	(PAGES / 4)
#define DIRTY2		8	/* pages 8..15 re-sent in the second round */
#define ZERO2		2	/* of which zero: 8 and 12 */
#define TRACEFS		"/sys/kernel/tracing"
#define TRACE_SIZE	(1024 * 1024)

static const char *const events[] = {
	"vmmig_session_start", "vmmig_session_end", "vmmig_round_start",
	"vmmig_round_end", "vmmig_abort",
};

/* What the destination child saw, in memory shared with the test. */
struct dest_result {
	int accept_rc;
	__u32 end_type;
	int end_error;
};

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* The whole of a tracefs file into @buf (NUL-terminated); bytes read or -errno. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t got;

	if (fd < 0)
		return -errno;
	while (n < size - 1 && (got = read(fd, buf + n, size - 1 - n)) > 0)
		n += got;
	close(fd);
	buf[n] = '\0';
	return n;
}

/*
 * The @nth (from 0) line of the trace for @event with "role=@role" whose
 * text holds each further string up to NULL; copied to @line. False if none.
 */
static bool find_event(const char *trace, char *line, size_t size, int nth,
		       const char *event, const char *role, ...)
{
	char tag[64], rtag[32];
	const char *p = trace;

	snprintf(tag, sizeof(tag), " %s: ", event);
	snprintf(rtag, sizeof(rtag), " role=%s ", role);
	while ((p = strstr(p, tag))) {
		const char *start = p, *end = strchr(p, '\n'), *want;
		size_t len;
		bool all = true;
		va_list ap;

		while (start > trace && start[-1] != '\n')
			start--;
		if (!end)
			end = p + strlen(p);
		len = end - start;
		p = end;
		if (len >= size)
			continue;
		memcpy(line, start, len);
		line[len] = '\0';
		if (!strstr(line, rtag))
			continue;
		va_start(ap, role);
		while (all && (want = va_arg(ap, const char *)))
			all = strstr(line, want);
		va_end(ap);
		if (all && nth-- == 0)
			return true;
	}
	return false;
}

/* Lines of the trace for @event and @role. */
static int count_events(const char *trace, const char *event, const char *role)
{
	char line[512];
	int n = 0;

	while (find_event(trace, line, sizeof(line), n, event, role, NULL))
		n++;
	return n;
}

/* The number after "@key=" in a trace line; -1 if absent. */
static long long field(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* "vmmigctl -j sessions" in @ns into @out; its exit status. */
static int sessions_json(const char *ns, char *out, size_t size)
{
	char cmd[PATH_MAX + 64];
	size_t n = 0, got;
	FILE *p;
	int rc;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s %s -j sessions", ns, vt_ctl_path());
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n < size - 1 && (got = fread(out + n, 1, size - 1 - n, p)) > 0)
		n += got;
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

static void dest_child(unsigned char *mem, __u16 port, struct dest_result *r)
{
	unsigned char blob[64];
	struct vmmig_event ev;
	int fd;

	if (vt_enter_netns(VT_NS_B))
		_exit(2);
	fd = vt_open();
	if (fd < 0 || vt_add_region(fd, 1, mem, PAGES * PG, 0))
		_exit(3);
	r->accept_rc = vt_accept(fd, port, 30000);
	if (r->accept_rc)
		_exit(0);
	while (!vt_wait_event(fd, &ev, blob, sizeof(blob), 60000)) {
		if (ev.type == VMMIG_EVENT_FINISHED || ev.type == VMMIG_EVENT_ABORTED) {
			r->end_type = ev.type;
			r->end_error = ev.error;
			break;
		}
	}
	close(fd);
	_exit(0);
}

FIXTURE(trace) {
	unsigned char *src;
	unsigned char *dst;
	struct dest_result *res;
	char *buf;
	pid_t pid;
	int fd;
};

FIXTURE_SETUP(trace)
{
	char path[256];
	size_t i;

	self->pid = 0;
	self->fd = -1;
	if (access(TRACEFS "/trace", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	snprintf(path, sizeof(path), TRACEFS "/events/vmmig/enable");
	ASSERT_EQ(0, access(path, W_OK)) {
		TH_LOG("no %s: module without tracepoints, or no tracefs", path);
	}
	ASSERT_EQ(0, write_file(TRACEFS "/tracing_on", "1"));
	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_file(path, "1"));

	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->src = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->dst);
	self->res = mmap(NULL, sizeof(*self->res), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->res);
	self->buf = malloc(TRACE_SIZE);
	ASSERT_NE(NULL, self->buf);
	for (i = 0; i < PAGES; i++)
		if (i % 4)
			memset(self->src + i * PG, (int)i, PG);
}

FIXTURE_TEARDOWN(trace)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	write_file(TRACEFS "/events/vmmig/enable", "0");
	write_file(TRACEFS "/trace", "");
	free(self->buf);
	vt_netns_teardown();
}

/* Start the destination on @port and connect to it with two channels. */
static int start_pair_comp(struct _test_data_trace *self, __u16 port, __u32 comp)
{
	self->pid = fork();
	if (self->pid == 0)
		dest_child(self->dst, port, self->res);
	if (self->pid < 0)
		return -errno;
	/* Opened after the fork: the child holds no copy that outlives close(). */
	self->fd = vt_open();
	if (self->fd < 0)
		return -errno;
	if (vt_add_region(self->fd, 1, self->src, PAGES * PG, 0))
		return -errno;
	return vt_connect_comp_retry(self->fd, NULL, port, 2, comp, 200);
}

static int start_pair(struct _test_data_trace *self, __u16 port)
{
	return start_pair_comp(self, port, VMMIG_COMP_NONE);
}

static int dest_done(struct _test_data_trace *self)
{
	int status;

	if (waitpid(self->pid, &status, 0) != self->pid)
		return -1;
	self->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Every event is in tracefs with the fields the admin guide lists. */
TEST(events_and_fields_exist)
{
	static const char *const fields[][4] = {
		{ "id", "role", "peer", "channels" },
		{ "state", "error", "pages", "elapsed_ns" },
		{ "id", "role", "round", NULL },
		{ "round", "pages", "bytes", "duration_ns" },
		{ "id", "role", "error", "reason" },
	};
	char path[256], buf[8192];
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(events); i++) {
		snprintf(path, sizeof(path), TRACEFS "/events/vmmig/%s/format", events[i]);
		ASSERT_LT(0, read_file(path, buf, sizeof(buf))) {
			TH_LOG("%s: no such tracepoint", events[i]);
		}
		for (j = 0; j < 4 && fields[i][j]; j++) {
			char want[64];

			snprintf(want, sizeof(want), " %s;", fields[i][j]);
			EXPECT_NE(NULL, strstr(buf, want)) {
				TH_LOG("%s has no field %s", events[i], fields[i][j]);
			}
		}
	}
}

/*
 * Two rounds (everything, then 8 pages) and FINISH: both sides start and
 * end, the source's three rounds (FINISH's SYNC is one) start and end
 * with their pages, the destination's rounds are reached.
 */
TEST_F_TIMEOUT(trace, migration_fires_start_rounds_end, 300)
{
	unsigned long map[PAGES / 64] = { 0xff00 };
	long long dest_pages = 0;
	char line[512];
	int i;

	ASSERT_EQ(0, start_pair(self, 6701));
	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));
	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, PAGES, map, NULL));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, dest_done(self));
	ASSERT_EQ(0, self->res->accept_rc);
	ASSERT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	ASSERT_LT(0, read_file(TRACEFS "/trace", self->buf, TRACE_SIZE));

	ASSERT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_session_start",
			       "source", "id=1 ", "peer=" VT_ADDR_B ":6701 ", "channels=2 ",
			       "compression=none", NULL)) {
		TH_LOG("no source session_start in:\n%s", self->buf);
	}
	EXPECT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_session_start",
			       "destination", "id=1 ", "peer=" VT_ADDR_A ":", "channels=2 ",
			       NULL));

	/* The source: rounds 1..3, each started once and ended with its pages. */
	for (i = 1; i <= 3; i++) {
		char want[32];

		snprintf(want, sizeof(want), "round=%d", i);
		EXPECT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_round_start",
				       "source", want, NULL)) {
			TH_LOG("no source round_start %s", want);
		}
		snprintf(want, sizeof(want), "round=%d ", i);
		ASSERT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_round_end",
				       "source", want, NULL)) {
			TH_LOG("no source round_end %s", want);
		}
		EXPECT_EQ(i == 1 ? PAGES : i == 2 ? DIRTY2 : 0, field(line, "pages"));
		EXPECT_EQ(i == 1 ? ZERO_PAGES : i == 2 ? ZERO2 : 0, field(line, "zero_pages"));
		if (i < 3)
			EXPECT_LE((i == 1 ? PAGES - ZERO_PAGES : DIRTY2 - ZERO2) * PG,
				  field(line, "bytes"));
		EXPECT_LT(0, field(line, "duration_ns"));
	}
	EXPECT_EQ(3, count_events(self->buf, "vmmig_round_start", "source"));
	EXPECT_EQ(3, count_events(self->buf, "vmmig_round_end", "source"));

	/* The destination: three SYNCs reached, every page counted once. */
	EXPECT_EQ(0, count_events(self->buf, "vmmig_round_start", "destination"));
	EXPECT_EQ(3, count_events(self->buf, "vmmig_round_end", "destination"));
	for (i = 0; find_event(self->buf, line, sizeof(line), i, "vmmig_round_end",
			       "destination", NULL); i++) {
		EXPECT_EQ(i + 1, field(line, "round"));
		dest_pages += field(line, "pages");
	}
	EXPECT_EQ(PAGES + DIRTY2, dest_pages);

	ASSERT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_session_end",
			       "source", "state=finished ", "error=0 ", NULL));
	EXPECT_EQ(3, field(line, "rounds"));
	EXPECT_EQ(PAGES + DIRTY2, field(line, "pages"));
	EXPECT_EQ(ZERO_PAGES + ZERO2, field(line, "zero_pages"));
	EXPECT_LT((PAGES - ZERO_PAGES) * PG, field(line, "bytes"));
	EXPECT_LT(0, field(line, "elapsed_ns"));
	ASSERT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_session_end",
			       "destination", "state=finished ", "error=0 ", NULL));
	EXPECT_EQ(3, field(line, "rounds"));
	EXPECT_EQ(PAGES + DIRTY2, field(line, "pages"));
	EXPECT_EQ(0, count_events(self->buf, "vmmig_abort", "source"));
	EXPECT_EQ(0, count_events(self->buf, "vmmig_abort", "destination"));
}

/* ABORT on the source: both sides say why, and end aborted. */
TEST_F_TIMEOUT(trace, abort_fires_with_errno_and_reason, 300)
{
	char line[512];

	ASSERT_EQ(0, start_pair(self, 6702));
	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_ABORT, NULL));
	ASSERT_EQ(0, dest_done(self));
	ASSERT_EQ(VMMIG_EVENT_ABORTED, self->res->end_type);
	/* Closing an aborted session is no second abort. */
	close(self->fd);
	self->fd = -1;
	ASSERT_LT(0, read_file(TRACEFS "/trace", self->buf, TRACE_SIZE));

	ASSERT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_abort", "source",
			       "id=1 ", NULL)) {
		TH_LOG("no source abort in:\n%s", self->buf);
	}
	EXPECT_EQ(ECONNABORTED, field(line, "error"));
	EXPECT_NE(NULL, strstr(line, "reason=\"ABORT by the VMM\""));
	EXPECT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_abort", "destination",
			       "reason=\"the peer aborted\"", NULL));
	EXPECT_EQ(ECONNABORTED, field(line, "error"));
	EXPECT_EQ(1, count_events(self->buf, "vmmig_abort", "source"));
	EXPECT_EQ(1, count_events(self->buf, "vmmig_abort", "destination"));

	ASSERT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_session_end",
			       "source", "state=aborted ", NULL));
	EXPECT_EQ(ECONNABORTED, field(line, "error"));
	EXPECT_EQ(PAGES, field(line, "pages"));
	EXPECT_EQ(0, field(line, "rounds"));
	EXPECT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_session_end",
			       "destination", "state=aborted ", NULL));
	/* The round the abort cut short started but never ended. */
	EXPECT_EQ(1, count_events(self->buf, "vmmig_round_start", "source"));
	EXPECT_EQ(0, count_events(self->buf, "vmmig_round_end", "source"));
}

/* Closing /dev/vmmig mid-migration aborts with its own reason. */
TEST_F_TIMEOUT(trace, close_aborts_with_reason, 300)
{
	char line[512];

	ASSERT_EQ(0, start_pair(self, 6703));
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, dest_done(self));
	ASSERT_LT(0, read_file(TRACEFS "/trace", self->buf, TRACE_SIZE));
	ASSERT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_abort", "source",
			       "reason=\"/dev/vmmig closed before the session ended\"", NULL)) {
		TH_LOG("no source abort in:\n%s", self->buf);
	}
	EXPECT_EQ(ECONNABORTED, field(line, "error"));
	EXPECT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_session_end",
			       "destination", "state=aborted ", NULL));
}

/*
 * The netlink session dump has every counter of the session, compression
 * and blobs included, and they agree with what the round said.
 */
TEST_F_TIMEOUT(trace, netlink_counters_agree, 300)
{
	struct vmmig_blob b = { .size = sizeof(b), .tag = 7, .length = 64 };
	char line[512], out[8192];
	unsigned char state[64] = { 1 };
	struct vmmig_stats st;

	b.data = (unsigned long)state;
	ASSERT_EQ(0, start_pair_comp(self, 6704, VMMIG_COMP_LZ4));
	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SEND_BLOB, &b));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));
	ASSERT_EQ(0, vt_stats(self->fd, &st));

	ASSERT_EQ(0, sessions_json(VT_NS_A, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "\"direction\":\"outgoing\",\"state\":\"active\"")) {
		TH_LOG("%s", out);
	}
	EXPECT_EQ(1, json_num(out, "rounds"));
	EXPECT_EQ(PAGES, json_num(out, "pages"));
	EXPECT_EQ(ZERO_PAGES, json_num(out, "zero-pages"));
	EXPECT_EQ(1, json_num(out, "blobs"));
	/* Every non-zero page went through the codec, compressed or not. */
	EXPECT_EQ(PAGES - ZERO_PAGES,
		  json_num(out, "comp-pages") + json_num(out, "incompressible-pages"));
	EXPECT_LT(0, json_num(out, "comp-pages"));
	EXPECT_EQ((PAGES - ZERO_PAGES) * PG, json_num(out, "comp-bytes-in"));
	EXPECT_LT(0, json_num(out, "comp-bytes-out"));
	EXPECT_GT((PAGES - ZERO_PAGES) * PG, json_num(out, "comp-bytes-out"));
	/* The same numbers as GET_STATS. */
	EXPECT_EQ((long long)st.comp_pages, json_num(out, "comp-pages"));
	EXPECT_EQ((long long)st.comp_bytes_out, json_num(out, "comp-bytes-out"));
	EXPECT_EQ((long long)st.incompressible_pages, json_num(out, "incompressible-pages"));

	ASSERT_LT(0, read_file(TRACEFS "/trace", self->buf, TRACE_SIZE));
	ASSERT_TRUE(find_event(self->buf, line, sizeof(line), 0, "vmmig_round_end", "source",
			       "round=1 ", NULL));
	EXPECT_EQ(json_num(out, "pages"), field(line, "pages"));
	EXPECT_EQ(json_num(out, "zero-pages"), field(line, "zero_pages"));
	EXPECT_NE(NULL, strstr(self->buf, "compression=lz4"));

	ASSERT_EQ(0, sessions_json(VT_NS_B, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "\"direction\":\"incoming\",\"state\":\"active\"")) {
		TH_LOG("%s", out);
	}
	EXPECT_EQ(PAGES, json_num(out, "pages"));
	EXPECT_EQ(ZERO_PAGES, json_num(out, "zero-pages"));
	EXPECT_EQ(1, json_num(out, "blobs"));
	EXPECT_EQ(1, json_num(out, "rounds"));

	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, dest_done(self));
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
}

TEST_HARNESS_MAIN
