// SPDX-License-Identifier: GPL-2.0
/*
 * The reference VMM (userspace/vmm/vmmig-vm) moving real KVM guests
 * between two "hosts" (network namespaces joined by veth) over vmmig.
 *
 * roundtrip: each guest program goes A -> B and back B -> A, with its disk
 * copied or shared, over one or several channels, with --verify; the guest
 * checks its own memory and disk after each move and powers off with
 * status 0 only if nothing was lost.
 *
 * vmm: what must not break a VM: the destination killed or the link cut
 * mid-move, a guest that dirties faster than the link, and bad requests.
 * The source VM runs on, and its own checks keep passing.
 *
 * Needs the vmmig module loaded, and /dev/kvm (loads kvm_amd or
 * kvm_intel, skips without).
 */
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "vmmig_test.h"
#include "kselftest_harness.h"

#define MAX_ARGS	40
#define OUT_MAX		16384

static char vmm_bin[PATH_MAX];

/* userspace/vmm/vmmig-vm, from tests/selftests/vmm_test. */
static int find_vmm(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = 0;
	if (snprintf(vmm_bin, sizeof(vmm_bin), "%s/../../userspace/vmm/vmmig-vm",
		     self) >= (int)sizeof(vmm_bin))
		return -1;
	return access(vmm_bin, X_OK);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Start vmmig-vm in netns @ns (NULL: here) with the NULL-terminated
 * arguments, stdout and stderr to the file @out.
 */
static pid_t vmm_spawnv(const char *ns, const char *out, va_list ap)
{
	char *argv[MAX_ARGS];
	int argc = 0, fd;
	pid_t pid;

	argv[argc++] = vmm_bin;
	while (argc < MAX_ARGS - 1 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	argv[argc] = NULL;
	pid = fork();
	if (pid)
		return pid;
	if (ns && vt_enter_netns(ns))
		_exit(126);
	fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		_exit(126);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	execv(vmm_bin, argv);
	_exit(127);
}

static pid_t vmm_spawn(const char *ns, const char *out, ...)
{
	va_list ap;
	pid_t pid;

	va_start(ap, out);
	pid = vmm_spawnv(ns, out, ap);
	va_end(ap);
	return pid;
}

/* The exit status of @pid, or -1 if it did not exit within @secs (then killed). */
static int vmm_wait(pid_t pid, int secs)
{
	double end = now_s() + secs;
	int status;

	while (now_s() < end) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (r < 0)
			return -1;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, size - 1);

	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
}

/* Run vmmig-vm to the end (60 s at most); its output in @buf. */
static int vmm_run(const char *dir, const char *ns, char *buf, ...)
{
	char out[PATH_MAX];
	va_list ap;
	pid_t pid;
	int rc;

	snprintf(out, sizeof(out), "%s/cmd.out", dir);
	unlink(out);
	va_start(ap, buf);
	pid = vmm_spawnv(ns, out, ap);
	va_end(ap);
	rc = vmm_wait(pid, 60);
	slurp(out, buf, OUT_MAX);
	return rc;
}

struct vstat {
	char state[16];
	unsigned long long migrations, passes, errors, progress;
};

static unsigned long long key_value(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : ~0ULL;
}

/* The guest's state through the VMM's monitor; 0 or -1. */
static int vmm_status(const char *dir, const char *sock, struct vstat *st)
{
	char buf[OUT_MAX];
	const char *p;

	if (vmm_run(dir, NULL, buf, "status", "--monitor", sock, NULL))
		return -1;
	p = strstr(buf, "state=");
	if (!p || sscanf(p, "state=%15s", st->state) != 1)
		return -1;
	st->migrations = key_value(buf, "migrations=");
	st->passes = key_value(buf, "passes=");
	st->errors = key_value(buf, "errors=");
	st->progress = key_value(buf, "progress=");
	return 0;
}

/* Wait until the guest behind @sock completed @passes checks; 0 or -1. */
static int wait_passes(const char *dir, const char *sock, unsigned long long passes, int secs)
{
	double end = now_s() + secs;
	struct vstat st;

	while (now_s() < end) {
		if (!vmm_status(dir, sock, &st) && st.passes != ~0ULL && st.passes >= passes)
			return 0;
		usleep(200000);
	}
	return -1;
}

static bool file_has(const char *path, const char *needle)
{
	static char buf[1 << 20];

	slurp(path, buf, sizeof(buf));
	return strstr(buf, needle);
}

/* 0 if the two files are equal, else the first differing 4 KiB block + 1. */
static long files_differ(const char *a, const char *b)
{
	FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
	char ba[4096], bb[4096];
	long block = 0, ret = -1;

	if (!fa || !fb)
		goto out;
	for (;; block++) {
		size_t na = fread(ba, 1, sizeof(ba), fa), nb = fread(bb, 1, sizeof(bb), fb);

		if (na != nb || memcmp(ba, bb, na)) {
			ret = block + 1;
			break;
		}
		if (!na) {
			ret = 0;
			break;
		}
	}
out:
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return ret;
}

/* Everything a test needs: a scratch directory, two hosts, /dev/kvm. */
struct world {
	char dir[64];
	char path[16][PATH_MAX];
	pid_t pids[8];
	int npids;
};

static const char *wpath(struct world *w, int slot, const char *name)
{
	if (snprintf(w->path[slot], sizeof(w->path[slot]), "%s/%s", w->dir,
		     name) >= (int)sizeof(w->path[slot]))
		w->path[slot][0] = 0;
	return w->path[slot];
}

static pid_t wtrack(struct world *w, pid_t pid)
{
	if (pid > 0 && w->npids < 8)
		w->pids[w->npids++] = pid;
	return pid;
}

/*
 * The two hosts outlive a test (each takes seconds to build under TCG):
 * made by the first test that needs them, checked by the next, removed
 * when the test binary exits (tests run in children that _exit()).
 */
static int hosts_ready(void)
{
	if (access("/run/netns/" VT_NS_A, F_OK) || access("/run/netns/" VT_NS_B, F_OK)) {
		/* Configured as an admin would: only the cluster's network may come in. */
		if (vt_netns_setup() ||
		    vt_ctl(VT_NS_A, "set networks listed") ||
		    vt_ctl(VT_NS_A, "network add 10.77.0.0/24") ||
		    vt_ctl(VT_NS_B, "set networks listed") ||
		    vt_ctl(VT_NS_B, "network add 10.77.0.0/24"))
			return -1;
	}
	/* A test that failed half way may have left the link down, a host disabled. */
	return vt_sh("ip -n " VT_NS_A " link set va up") ?:
	       vt_ctl(VT_NS_A, "set max-migrations 2") ?:
	       vt_ctl(VT_NS_B, "set max-migrations 2") ?: vt_hosts_enable();
}

static void __attribute__((destructor)) hosts_remove(void)
{
	if (!access("/run/netns/" VT_NS_A, F_OK))
		vt_netns_teardown();
}

/* 0, 1: no /dev/kvm (skip), -1: failure. */
static int world_setup(struct world *w)
{
	if (access("/dev/kvm", R_OK | W_OK))
		vt_sh("modprobe kvm_amd 2>/dev/null || modprobe kvm_intel 2>/dev/null");
	if (access("/dev/kvm", R_OK | W_OK))
		return 1;
	if (find_vmm() || hosts_ready())
		return -1;
	snprintf(w->dir, sizeof(w->dir), "/tmp/vmm_test.XXXXXX");
	if (!mkdtemp(w->dir))
		return -1;
	mkdir(wpath(w, 0, "a"), 0755);
	mkdir(wpath(w, 0, "b"), 0755);
	mkdir(wpath(w, 0, "a2"), 0755);
	return 0;
}

static void world_teardown(struct world *w)
{
	char cmd[128];
	int i;

	for (i = 0; i < w->npids; i++) {
		kill(w->pids[i], SIGKILL);
		waitpid(w->pids[i], NULL, 0);
	}
	if (w->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
		vt_sh(cmd);
	}
}

/* ---- there and back ---- */

enum disk_mode { NO_DISK, DISK_COPIED, DISK_SHARED };

FIXTURE(roundtrip) {
	struct world w;
};

FIXTURE_VARIANT(roundtrip) {
	const char *guest;
	const char *args;		/* besides mig=2 */
	const char *cpus;
	enum disk_mode disk;
	const char *channels;
	const char *performance;
	bool ro_after;			/* the guest only reads after the last move */
	const char *dirty_ring;		/* --dirty-ring on every host; NULL: KVM's bitmap */
};

FIXTURE_VARIANT_ADD(roundtrip, counter_shared_disk_ch1) {
	.guest = "counter", .args = "interval=100 after=3", .cpus = "1",
	.disk = DISK_SHARED, .channels = "1", .performance = "tcp",
};

FIXTURE_VARIANT_ADD(roundtrip, memdirty_2cpu_ch4_lz4) {
	.guest = "memdirty", .args = "wss=4 rate=500 after=3", .cpus = "2",
	.disk = NO_DISK, .channels = "4", .performance = "compression",
};

/* KVM's dirty rings, small enough that the vCPUs fill them between two rounds. */
FIXTURE_VARIANT_ADD(roundtrip, memdirty_2cpu_ch2_dirty_ring) {
	.guest = "memdirty", .args = "wss=4 rate=500 after=3", .cpus = "2",
	.disk = NO_DISK, .channels = "2", .performance = "tcp", .dirty_ring = "256",
};

/* ro=1: from the first move on the guest only reads, so B -> A copies a disk at rest. */
FIXTURE_VARIANT_ADD(roundtrip, diskrw_copied_disk_ch3) {
	.guest = "diskrw", .args = "rate=400 pass=128 after=2 ro=1", .cpus = "1",
	.disk = DISK_COPIED, .channels = "3", .performance = "tcp", .ro_after = true,
};

FIXTURE_SETUP(roundtrip)
{
	int ret = world_setup(&self->w);

	if (ret > 0)
		SKIP(return, "no /dev/kvm (kvm_amd or kvm_intel)");
	ASSERT_EQ(0, ret) TH_LOG("no vmmig-vm (%s) or no netns", vmm_bin);
}

FIXTURE_TEARDOWN(roundtrip)
{
	world_teardown(&self->w);
}

/*
 * "--dirty-ring", @ring as the last arguments before the NULL: without a
 * ring, this NULL ends the list early.
 */
static const char *ring_opt(const char *ring)
{
	return ring ? "--dirty-ring" : NULL;
}

/* Move the VM behind @sock to @to, its disk copied to @storage_dir or not. */
static int do_move(struct world *w, enum disk_mode disk, const char *channels,
		   const char *performance, const char *sock, const char *to,
		   const char *storage_dir, char *out)
{
	if (disk == DISK_COPIED)
		return vmm_run(w->dir, NULL, out, "move", "--monitor", sock, "--to", to,
			       "--include-storage", "--destination-storage-path", storage_dir,
			       "--channels", channels, "--performance", performance,
			       "--verify", NULL);
	return vmm_run(w->dir, NULL, out, "move", "--monitor", sock, "--to", to,
		       "--channels", channels, "--performance", performance, "--verify", NULL);
}

TEST_F_TIMEOUT(roundtrip, there_and_back, 180)
{
	struct world *w = &self->w;
	const char *a_sock = wpath(w, 1, "a.sock"), *b_sock = wpath(w, 2, "b.sock");
	const char *a2_sock = wpath(w, 3, "a2.sock"), *img = wpath(w, 4, "a/disk.img");
	const char *a_out = wpath(w, 5, "a.out"), *b_out = wpath(w, 6, "b.out");
	const char *a2_out = wpath(w, 7, "a2.out"), *a2_ser = wpath(w, 12, "a2.serial");
	char args[256], out[OUT_MAX];
	const char *line;
	pid_t a, b, a2;
	struct vstat st;

	snprintf(args, sizeof(args), "mig=2 %s", variant->args);
	if (variant->disk == NO_DISK)
		a = vmm_spawn(VT_NS_A, a_out, "run", "--name", "A", "--guest", variant->guest,
			      "--ram", "16", "--cpus", variant->cpus, "--args", args,
			      "--monitor", a_sock, ring_opt(variant->dirty_ring),
			      variant->dirty_ring, NULL);
	else
		a = vmm_spawn(VT_NS_A, a_out, "run", "--name", "A", "--guest", variant->guest,
			      "--ram", "16", "--cpus", variant->cpus, "--args", args,
			      "--disk", img, "--disk-size", "4", "--monitor", a_sock, NULL);
	wtrack(w, a);
	b = wtrack(w, vmm_spawn(VT_NS_B, b_out, "receive", "--name", "B", "--listen",
				VT_ADDR_B, "--monitor", b_sock, "--timeout", "120",
				ring_opt(variant->dirty_ring), variant->dirty_ring, NULL));
	ASSERT_EQ(0, wait_passes(w->dir, a_sock, 2, 30))
		TH_LOG("the guest did not start on A: %s", (slurp(a_out, out, OUT_MAX), out));

	/* A -> B */
	ASSERT_EQ(0, do_move(w, variant->disk, variant->channels, variant->performance,
			     a_sock, VT_ADDR_B, wpath(w, 8, "b"), out))
		TH_LOG("move A -> B: %s", out);
	EXPECT_NE(NULL, strstr(out, "RAM and disk digests equal")) TH_LOG("%s", out);
	/* The progress display and the summary. */
	EXPECT_NE(NULL, strstr(out, "round 0 ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, " MB/s  ETA ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "downtime ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "guest clock gap ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "on the wire ")) TH_LOG("%s", out);
	if (!strcmp(variant->performance, "compression"))
		EXPECT_NE(NULL, strstr(out, "compression     lz4: ")) TH_LOG("%s", out);
	TH_LOG("A -> B:\n%s", out);
	EXPECT_EQ(0, vmm_wait(a, 20)) TH_LOG("A did not end after the move");
	if (variant->dirty_ring) {
		/* A took its dirty pages from KVM's rings, and B made rings for its move. */
		slurp(a_out, out, OUT_MAX);
		line = strstr(out, "dirty ring: 256 entries per vCPU");
		ASSERT_NE(NULL, line) TH_LOG("%s", out);
		TH_LOG("A: %.*s", (int)strcspn(line, "\n"), line);
		EXPECT_EQ(NULL, strstr(out, "KVM_GET_DIRTY_LOG")) TH_LOG("%s", out);
		EXPECT_TRUE(file_has(b_out, "dirty ring: 256 entries per vCPU"));
	}
	ASSERT_EQ(0, vmm_status(w->dir, b_sock, &st));
	EXPECT_EQ(1, st.migrations);
	/* It carries on over there, its checks passing. */
	ASSERT_EQ(0, wait_passes(w->dir, b_sock, st.passes + 2, 30));
	ASSERT_EQ(0, vmm_status(w->dir, b_sock, &st));
	EXPECT_EQ(0, st.errors) TH_LOG("%s", (slurp(b_out, out, OUT_MAX), out));

	/* B -> A, into a new directory: A's old image is still there. */
	/* The guest's lines apart from the VMM's, which come at the same time. */
	a2 = wtrack(w, vmm_spawn(VT_NS_A, a2_out, "receive", "--name", "A2", "--listen",
				 VT_ADDR_A, "--monitor", a2_sock, "--timeout", "120",
				 "--serial", a2_ser, ring_opt(variant->dirty_ring),
				 variant->dirty_ring, NULL));
	ASSERT_EQ(0, do_move(w, variant->disk, variant->channels, variant->performance,
			     b_sock, VT_ADDR_A, wpath(w, 9, "a2"), out))
		TH_LOG("move B -> A: %s", out);
	EXPECT_NE(NULL, strstr(out, "RAM and disk digests equal")) TH_LOG("%s", out);
	TH_LOG("B -> A:\n%s", out);
	EXPECT_EQ(0, vmm_wait(b, 20)) TH_LOG("B did not end after the move");

	/* mig=2: the guest finishes its last checks and says how they went. */
	EXPECT_EQ(0, vmm_wait(a2, 60)) TH_LOG("%s", (slurp(a2_out, out, OUT_MAX), out));
	EXPECT_TRUE(file_has(a2_ser, "moved (#2)"))
		TH_LOG("%s", (slurp(a2_ser, out, OUT_MAX), out));
	if (!strcmp(variant->guest, "counter") && variant->disk != NO_DISK)
		EXPECT_TRUE(file_has(a2_ser, "entries intact"));
	if (variant->ro_after) {
		/*
		 * Nothing wrote since the first move (a write that crossed it
		 * landed on B): the image is the one B left.
		 */
		EXPECT_EQ(0, files_differ(wpath(w, 10, "b/disk.img"), wpath(w, 11, "a2/disk.img")));
	}
}

/* ---- what must not break a VM ---- */

FIXTURE(vmm) {
	struct world w;
};

FIXTURE_SETUP(vmm)
{
	int ret = world_setup(&self->w);

	if (ret > 0)
		SKIP(return, "no /dev/kvm (kvm_amd or kvm_intel)");
	ASSERT_EQ(0, ret) TH_LOG("no vmmig-vm (%s) or no netns", vmm_bin);
}

FIXTURE_TEARDOWN(vmm)
{
	world_teardown(&self->w);
}

/* diskrw on A (RAM table and disk, checked against each other), forever. */
static pid_t start_diskrw(struct world *w, const char *sock, const char *out)
{
	return wtrack(w, vmm_spawn(VT_NS_A, out, "run", "--name", "A", "--guest", "diskrw",
				   "--ram", "16", "--args", "rate=0 pass=128",
				   "--disk", wpath(w, 15, "a/disk.img"), "--disk-size", "16",
				   "--monitor", sock, NULL));
}

/* The source's guest runs on and its checks keep passing. */
static void expect_source_fine(struct __test_metadata *_metadata, struct world *w,
			       const char *sock)
{
	struct vstat st;

	ASSERT_EQ(0, vmm_status(w->dir, sock, &st));
	EXPECT_STREQ("running", st.state);
	EXPECT_EQ(0, st.migrations);
	ASSERT_EQ(0, wait_passes(w->dir, sock, st.passes + 2, 60));
	ASSERT_EQ(0, vmm_status(w->dir, sock, &st));
	EXPECT_EQ(0, st.errors);
}

/*
 * Start a receiver on B (its pid in *@b, its output in @b_out), then a move
 * of the VM behind @sock to it, slowed to 2 MB/s; wait for round 0.
 */
static pid_t start_slow_move(struct __test_metadata *_metadata, struct world *w,
			     const char *sock, const char *out, const char *b_out, pid_t *b)
{
	char buf[OUT_MAX];
	pid_t mv;
	double t;

	*b = wtrack(w, vmm_spawn(VT_NS_B, b_out, "receive", "--listen", VT_ADDR_B,
				 "--timeout", "60", NULL));
	unlink(out);
	unlink(wpath(w, 13, "b/disk.img"));
	mv = wtrack(w, vmm_spawn(NULL, out, "move", "--monitor", sock, "--to", VT_ADDR_B,
				 "--include-storage", "--destination-storage-path",
				 wpath(w, 12, "b"), "--max-bandwidth", "2", NULL));
	for (t = now_s() + 20; now_s() < t && !file_has(out, "round 0"); )
		usleep(100000);
	EXPECT_TRUE(file_has(out, "round 0")) TH_LOG("%s", (slurp(out, buf, OUT_MAX), buf));
	usleep(500000);
	return mv;
}

/*
 * diskrw (its table in RAM, its blocks on the disk, checked against each
 * other) is moved three times. The destination is killed in round 0: the
 * source carries on. The link is cut in round 0: both ends give up (the
 * modules' TCP user timeout, the control connection's keepalive), the
 * source carries on. With the link back, the move succeeds and the guest's
 * checks pass on B.
 */
TEST_F_TIMEOUT(vmm, killed_destination_then_cut_link_then_move, 240)
{
	struct world *w = &self->w;
	const char *a_sock = wpath(w, 1, "a.sock"), *b_sock = wpath(w, 2, "b.sock");
	const char *m_out = wpath(w, 3, "move.out"), *b_out = wpath(w, 4, "b.out");
	char out[OUT_MAX];
	struct vstat st;
	pid_t a, b, mv;
	double t;

	a = start_diskrw(w, a_sock, wpath(w, 5, "a.out"));
	ASSERT_LT(0, a);
	ASSERT_EQ(0, wait_passes(w->dir, a_sock, 2, 30));

	/* The destination killed in round 0. */
	mv = start_slow_move(_metadata, w, a_sock, m_out, b_out, &b);
	kill(b, SIGKILL);
	EXPECT_EQ(1, vmm_wait(mv, 60));
	slurp(m_out, out, OUT_MAX);
	TH_LOG("destination killed: %s", out);
	EXPECT_NE(NULL, strstr(out, "the VM runs on here"));
	expect_source_fine(_metadata, w, a_sock);

	/* The link cut in round 0. */
	mv = start_slow_move(_metadata, w, a_sock, m_out, b_out, &b);
	ASSERT_EQ(0, vt_sh("ip -n " VT_NS_A " link set va down"));
	t = now_s();
	EXPECT_EQ(1, vmm_wait(mv, 90));
	slurp(m_out, out, OUT_MAX);
	TH_LOG("link cut: the move failed after %.1f s: %s", now_s() - t, out);
	EXPECT_NE(NULL, strstr(out, "the VM runs on here"));
	EXPECT_EQ(1, vmm_wait(b, 60)) TH_LOG("%s", (slurp(b_out, out, OUT_MAX), out));
	ASSERT_EQ(0, vt_sh("ip -n " VT_NS_A " link set va up"));
	expect_source_fine(_metadata, w, a_sock);

	/* The link back: the same VM moves fine, its checks passing there. */
	unlink(wpath(w, 6, "b/disk.img"));
	b = wtrack(w, vmm_spawn(VT_NS_B, b_out, "receive", "--listen", VT_ADDR_B,
				"--monitor", b_sock, "--timeout", "60", NULL));
	ASSERT_EQ(0, vmm_run(w->dir, NULL, out, "move", "--monitor", a_sock, "--to", VT_ADDR_B,
			     "--include-storage", "--destination-storage-path", wpath(w, 7, "b"),
			     "--verify", NULL)) TH_LOG("%s", out);
	EXPECT_EQ(0, vmm_wait(a, 20));
	ASSERT_EQ(0, vmm_status(w->dir, b_sock, &st));
	ASSERT_EQ(0, wait_passes(w->dir, b_sock, st.passes + 2, 60));
	ASSERT_EQ(0, vmm_status(w->dir, b_sock, &st));
	EXPECT_EQ(1, st.migrations);
	EXPECT_EQ(0, st.errors);
}

/* The ID of host @ns's active outgoing session, as vmmigctl shows it; -1: none. */
static int outgoing_session(const char *ns)
{
	static const char pat[] = "\"direction\":\"outgoing\",\"state\":\"active\"";
	char cmd[PATH_MAX + 128], out[4096], *p, *id;
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s %s -j sessions", ns, vt_ctl_path());
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	p = strstr(out, pat);
	if (!p)
		return -1;
	/* {"id":N, comes just before the direction. */
	*p = '\0';
	id = strrchr(out, ':');
	return id ? atoi(id + 1) : -1;
}

/*
 * The source host's administrator aborts a move in round 0 (vmmigctl
 * session abort): the move fails saying so, and the VM runs on, its checks
 * passing; the destination gives up.
 */
TEST_F_TIMEOUT(vmm, admin_abort_leaves_source_running, 180)
{
	struct world *w = &self->w;
	const char *a_sock = wpath(w, 1, "a.sock"), *m_out = wpath(w, 3, "move.out");
	const char *b_out = wpath(w, 4, "b.out");
	char out[OUT_MAX], args[64];
	pid_t a, b, mv;
	int id;

	a = start_diskrw(w, a_sock, wpath(w, 5, "a.out"));
	ASSERT_LT(0, a);
	ASSERT_EQ(0, wait_passes(w->dir, a_sock, 2, 30));
	mv = start_slow_move(_metadata, w, a_sock, m_out, b_out, &b);
	id = outgoing_session(VT_NS_A);
	ASSERT_LT(0, id);
	snprintf(args, sizeof(args), "session abort %d", id);
	EXPECT_EQ(0, vt_ctl(VT_NS_A, args));
	EXPECT_EQ(1, vmm_wait(mv, 60));
	slurp(m_out, out, OUT_MAX);
	TH_LOG("admin abort: %s", out);
	EXPECT_NE(NULL, strstr(out, "an administrator aborted the move (vmmigctl session abort)"));
	EXPECT_NE(NULL, strstr(out, "the VM runs on here"));
	EXPECT_EQ(1, vmm_wait(b, 60));
	slurp(b_out, out, OUT_MAX);
	TH_LOG("destination: %s", out);
	expect_source_fine(_metadata, w, a_sock);
}

/*
 * memdirty rewriting 8 MiB as fast as it can, against a link held to a
 * few MB/s. Without the throttle and with 3 rounds, the move must give up
 * and leave the guest running; with the throttle it converges.
 */
TEST_F_TIMEOUT(vmm, fast_dirtier_fails_cleanly_then_converges_throttled, 180)
{
	struct world *w = &self->w;
	const char *a_sock = wpath(w, 1, "a.sock"), *b_out = wpath(w, 2, "b.out");
	char out[OUT_MAX];
	pid_t a, b;

	a = wtrack(w, vmm_spawn(VT_NS_A, wpath(w, 3, "a.out"), "run", "--name", "A",
				"--guest", "memdirty", "--ram", "16", "--args",
				"wss=8 rate=0 mig=1 after=2", "--monitor", a_sock, NULL));
	ASSERT_LT(0, a);
	b = wtrack(w, vmm_spawn(VT_NS_B, b_out, "receive", "--listen", VT_ADDR_B,
				"--timeout", "60", NULL));
	ASSERT_EQ(0, wait_passes(w->dir, a_sock, 2, 30));
	EXPECT_EQ(1, vmm_run(w->dir, NULL, out, "move", "--monitor", a_sock, "--to",
			     VT_ADDR_B, "--max-bandwidth", "4", "--no-throttle",
			     "--max-rounds", "3", NULL));
	TH_LOG("without the throttle: %s", out);
	EXPECT_NE(NULL, strstr(out, "did not converge in 3 rounds"));
	EXPECT_NE(NULL, strstr(out, "the VM runs on here"));
	EXPECT_EQ(1, vmm_wait(b, 30));
	EXPECT_TRUE(file_has(b_out, "the source gave up") || file_has(b_out, "aborted"))
		TH_LOG("%s", (slurp(b_out, out, OUT_MAX), out));
	expect_source_fine(_metadata, w, a_sock);

	unlink(b_out);
	b = wtrack(w, vmm_spawn(VT_NS_B, b_out, "receive", "--listen", VT_ADDR_B,
				"--timeout", "60", "--serial", wpath(w, 4, "b.serial"), NULL));
	ASSERT_EQ(0, vmm_run(w->dir, NULL, out, "move", "--monitor", a_sock, "--to",
			     VT_ADDR_B, "--max-bandwidth", "8", "--verify", NULL))
		TH_LOG("%s", out);
	TH_LOG("with the throttle:\n%s", out);
	EXPECT_NE(NULL, strstr(out, "vCPUs held"));
	EXPECT_NE(NULL, strstr(out, "RAM and disk digests equal"));
	EXPECT_EQ(0, vmm_wait(a, 20));
	/* The guest's own checks on B, after the move: status 0. */
	EXPECT_EQ(0, vmm_wait(b, 60)) TH_LOG("%s", (slurp(b_out, out, OUT_MAX), out));
	EXPECT_TRUE(file_has(wpath(w, 4, "b.serial"), "every check passed"));
}

/* A session of host B's waiting in ACCEPT: it takes one of B's max-migrations. */
static pid_t hold_b_slot(void)
{
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	if (vt_enter_netns(VT_NS_B))
		_exit(126);
	fd = vt_open();
	if (fd < 0)
		_exit(126);
	vt_accept(fd, 6999, 120000);
	_exit(0);
}

/*
 * Host B refuses: incoming migrations disabled, then its max-migrations
 * taken. Each move fails, names the host setting, and the source's guest
 * (diskrw: its table in RAM checked against its disk) runs on, unmoved and
 * unharmed. (That the same VM then moves fine: killed_destination_...)
 */
TEST_F_TIMEOUT(vmm, refusing_destination_host, 240)
{
	struct world *w = &self->w;
	const char *a_sock = wpath(w, 1, "a.sock"), *b_out = wpath(w, 3, "b.out");
	char out[OUT_MAX];
	pid_t a, b, hold;

	a = start_diskrw(w, a_sock, wpath(w, 5, "a.out"));
	ASSERT_LT(0, a);
	ASSERT_EQ(0, wait_passes(w->dir, a_sock, 2, 30));

	ASSERT_EQ(0, vt_ctl(VT_NS_B, "disable incoming"));
	b = wtrack(w, vmm_spawn(VT_NS_B, b_out, "receive", "--listen", VT_ADDR_B,
				"--timeout", "60", NULL));
	EXPECT_EQ(1, vmm_run(w->dir, NULL, out, "move", "--monitor", a_sock, "--to", VT_ADDR_B,
			     "--include-storage", "--destination-storage-path", wpath(w, 6, "b"),
			     NULL));
	TH_LOG("incoming disabled: %s", out);
	EXPECT_NE(NULL, strstr(out, "migrations disabled on this host")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "the VM runs on here"));
	EXPECT_EQ(1, vmm_wait(b, 30)) TH_LOG("%s", (slurp(b_out, out, OUT_MAX), out));
	EXPECT_NE(0, access(wpath(w, 7, "b/disk.img"), F_OK));
	expect_source_fine(_metadata, w, a_sock);

	ASSERT_EQ(0, vt_ctl(VT_NS_B, "enable incoming"));
	ASSERT_EQ(0, vt_ctl(VT_NS_B, "set max-migrations 1"));
	hold = wtrack(w, hold_b_slot());
	usleep(500000);
	b = wtrack(w, vmm_spawn(VT_NS_B, b_out, "receive", "--listen", VT_ADDR_B,
				"--timeout", "60", NULL));
	EXPECT_EQ(1, vmm_run(w->dir, NULL, out, "move", "--monitor", a_sock, "--to", VT_ADDR_B,
			     NULL));
	TH_LOG("max-migrations reached: %s", out);
	EXPECT_NE(NULL, strstr(out, "max-migrations are running")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "the VM runs on here"));
	EXPECT_EQ(1, vmm_wait(b, 30)) TH_LOG("%s", (slurp(b_out, out, OUT_MAX), out));
	expect_source_fine(_metadata, w, a_sock);

	kill(hold, SIGKILL);
	waitpid(hold, NULL, 0);
	EXPECT_EQ(0, vt_ctl(VT_NS_B, "set max-migrations 2"));
}

TEST_F_TIMEOUT(vmm, bad_requests_leave_source_running, 120)
{
	struct world *w = &self->w;
	const char *a_sock = wpath(w, 1, "a.sock"), *c_sock = wpath(w, 2, "c.sock");
	const char *b_out = wpath(w, 3, "b.out"), *b_dir = wpath(w, 4, "b");
	char out[OUT_MAX];
	struct vstat st;
	pid_t b;
	int fd;

	ASSERT_LT(0, wtrack(w, vmm_spawn(VT_NS_A, wpath(w, 5, "a.out"), "run", "--guest",
					 "counter", "--ram", "16", "--args", "interval=100",
					 "--disk", wpath(w, 6, "a/disk.img"), "--disk-size", "4",
					 "--monitor", a_sock, NULL)));
	ASSERT_EQ(0, wait_passes(w->dir, a_sock, 2, 30));

	/* Usage errors: exit status 2, nothing asked of the VMM. */
	EXPECT_EQ(2, vmm_run(w->dir, VT_NS_A, out, "move", "--monitor", a_sock, "--to",
			     VT_ADDR_B, "--include-storage", NULL));
	EXPECT_NE(NULL, strstr(out, "--include-storage needs --destination-storage-path"));
	EXPECT_EQ(2, vmm_run(w->dir, VT_NS_A, out, "move", "--monitor", a_sock, "--to",
			     VT_ADDR_B, "--performance", "fast", NULL));
	EXPECT_EQ(2, vmm_run(w->dir, VT_NS_A, out, "move", "--monitor", a_sock, "--to",
			     "host-b", NULL));
	EXPECT_EQ(2, vmm_run(w->dir, VT_NS_A, out, "move", "--monitor", a_sock, "--to",
			     VT_ADDR_B, "--channels", "17", NULL));
	EXPECT_EQ(2, vmm_run(w->dir, VT_NS_A, out, "move", "--monitor", a_sock, "--to",
			     VT_ADDR_B, "--compression", "zstd", "--compression-level", "23",
			     NULL));
	EXPECT_NE(NULL, strstr(out, "zstd 1 to 22")) TH_LOG("%s", out);
	EXPECT_EQ(2, vmm_run(w->dir, VT_NS_A, out, "move", "--monitor", a_sock, "--to",
			     VT_ADDR_B, "--performance", "tcp", "--compression-level", "1",
			     NULL));
	EXPECT_NE(NULL, strstr(out, "with compression only")) TH_LOG("%s", out);
	EXPECT_EQ(2, vmm_run(w->dir, VT_NS_A, out, "run", "--guest", "counter", "--cpus",
			     "0", NULL));
	EXPECT_EQ(1, vmm_run(w->dir, VT_NS_B, out, "receive", "--listen", "10.77.0.99",
			     "--timeout", "1", NULL));
	EXPECT_NE(NULL, strstr(out, "cannot listen on 10.77.0.99:6610")) TH_LOG("%s", out);

	/* Nobody there. */
	EXPECT_EQ(1, vmm_run(w->dir, VT_NS_A, out, "move", "--monitor", a_sock, "--to",
			     VT_ADDR_B, NULL));
	EXPECT_NE(NULL, strstr(out, "cannot reach the destination's VMM")) TH_LOG("%s", out);

	/* The destination refuses to overwrite an image. */
	fd = open(wpath(w, 7, "b/disk.img"), O_CREAT | O_WRONLY, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	b = wtrack(w, vmm_spawn(VT_NS_B, b_out, "receive", "--listen", VT_ADDR_B,
				"--timeout", "60", NULL));
	EXPECT_EQ(1, vmm_run(w->dir, VT_NS_A, out, "move", "--monitor", a_sock, "--to",
			     VT_ADDR_B, "--include-storage", "--destination-storage-path", b_dir,
			     NULL));
	EXPECT_NE(NULL, strstr(out, "exists: a move does not overwrite an image"))
		TH_LOG("%s", out);
	EXPECT_EQ(1, vmm_wait(b, 20));

	/* ... or to find a directory that is not there. */
	b = wtrack(w, vmm_spawn(VT_NS_B, b_out, "receive", "--listen", VT_ADDR_B,
				"--timeout", "60", NULL));
	EXPECT_EQ(1, vmm_run(w->dir, VT_NS_A, out, "move", "--monitor", a_sock, "--to",
			     VT_ADDR_B, "--include-storage", "--destination-storage-path",
			     "/nonexistent", NULL));
	EXPECT_NE(NULL, strstr(out, "/nonexistent: not a directory")) TH_LOG("%s", out);
	EXPECT_EQ(1, vmm_wait(b, 20));

	/* A VM without a disk has no storage to include. */
	ASSERT_LT(0, wtrack(w, vmm_spawn(VT_NS_A, wpath(w, 8, "c.out"), "run", "--guest",
					 "counter", "--ram", "16", "--monitor", c_sock, NULL)));
	ASSERT_EQ(0, wait_passes(w->dir, c_sock, 1, 30));
	EXPECT_EQ(1, vmm_run(w->dir, VT_NS_A, out, "move", "--monitor", c_sock, "--to",
			     VT_ADDR_B, "--include-storage", "--destination-storage-path", b_dir,
			     NULL));
	EXPECT_NE(NULL, strstr(out, "this VM has no disk")) TH_LOG("%s", out);

	ASSERT_EQ(0, vmm_status(w->dir, a_sock, &st));
	EXPECT_STREQ("running", st.state);
	EXPECT_EQ(0, st.errors);
	EXPECT_EQ(0, st.migrations);
	EXPECT_EQ(0, vmm_run(w->dir, NULL, out, "quit", "--monitor", c_sock, NULL));
}

TEST_HARNESS_MAIN
