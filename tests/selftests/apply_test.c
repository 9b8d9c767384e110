// SPDX-License-Identifier: GPL-2.0
/*
 * vmmigctl apply and vmmig.conf(5) in a host (netns A): a good file makes
 * the settings and network list exactly what it says (keys it leaves out
 * back at their defaults), again and again; every kind of bad file, found
 * by vmmigctl or refused by the kernel, names its line and changes
 * nothing; -n checks without applying. Netns B is left alone, but for
 * the migration between hosts that only apply files configured.
 */
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "vmmig_test.h"
#include "kselftest_harness.h"

#define DIR		"/tmp/vmmig-apply-test"

/* Run vmmigctl in @ns (NULL: ours); stdout and stderr into @out; exit status. */
static int ctl_out(const char *ns, char *out, size_t size, const char *fmt, ...)
{
	char args[512], cmd[PATH_MAX + 1024];
	size_t n = 0, got;
	va_list ap;
	FILE *p;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s%s %s %s 2>&1", ns ? "ip netns exec " : "", ns ? ns : "",
		 vt_ctl_path(), args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n < size - 1 && (got = fread(out + n, 1, size - 1 - n, p)) > 0)
		n += got;
	out[n] = '\0';
	rc = pclose(p);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Write @text to DIR/@name; its path. */
static const char *conf_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), DIR "/%s", name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

static const char good[] =
	"# A destination on the migration network\n"
	"incoming = on\n"
	"outgoing = off      # not a source\n"
	"\n"
	"port = 7000\n"
	"networks = 10.0.0.0/8, fd00:10::/64 192.168.1.7\n"
	"   performance=tcp\n"
	"channels = 4\n"
	"compression = zstd\n"
	"max-migrations = 5\n";

/* "show -j" as it starts after applying good[], one member a line. */
static const char *const good_json[] = {
	"{\"incoming\":true", "\"outgoing\":false", "\"port\":7000", "\"networks\":\"listed\"",
	"\"network-list\":[\"10.0.0.0/8\",\"fd00:10::/64\",\"192.168.1.7/32\"]",
	"\"performance\":\"tcp\"", "\"channels\":4", "\"compression\":\"zstd\"",
	"\"max-migrations\":5", NULL
};

static const char *const default_json[] = {
	"{\"incoming\":false", "\"outgoing\":true", "\"port\":6600", "\"networks\":\"any\"",
	"\"network-list\":[]", "\"performance\":\"compression\"", "\"channels\":2",
	"\"compression\":\"lz4\"", "\"max-migrations\":2", NULL
};

/* The members joined as show -j writes them, with the comma after the last. */
static const char *json_of(const char *const *members)
{
	static char buf[1024];
	size_t n = 0;

	buf[0] = '\0';
	for (; *members; members++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s,", *members);
	return buf;
}

/* "show -j" up to the counters (which are not settings). */
static int settings(const char *ns, char *out, size_t size)
{
	int rc = ctl_out(ns, out, size, "-j show");
	char *counters = strstr(out, "\"active-migrations\"");

	if (counters)
		*counters = '\0';
	return rc;
}

FIXTURE(apply) {
	char before_b[4096];
	bool b_configured;	/* by the test: not to be checked */
};

FIXTURE_SETUP(apply)
{
	ASSERT_EQ(0, vt_netns_setup());
	mkdir(DIR, 0700);
	ASSERT_EQ(0, settings(VT_NS_B, self->before_b, sizeof(self->before_b)));
}

FIXTURE_TEARDOWN(apply)
{
	char now[4096];

	/* Every test works in A but one: B must not have moved. */
	if (!self->b_configured && !settings(VT_NS_B, now, sizeof(now)))
		EXPECT_STREQ(self->before_b, now);
	vt_sh("rm -rf " DIR);
	vt_netns_teardown();
}

TEST_F_TIMEOUT(apply, good_file_is_the_whole_configuration, 300)
{
	char out[4096];
	const char *path = conf_file("good.conf", good);

	ASSERT_NE(NULL, path);
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s", path)) {
		TH_LOG("%s", out);
	}
	EXPECT_STREQ("", out);
	ASSERT_EQ(0, settings(VT_NS_A, out, sizeof(out)));
	EXPECT_STREQ(json_of(good_json), out);

	/* Idempotent: the same file again, same settings. */
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s", path));
	ASSERT_EQ(0, settings(VT_NS_A, out, sizeof(out)));
	EXPECT_STREQ(json_of(good_json), out);

	/* What a file leaves out goes back to its default; so does the list. */
	path = conf_file("small.conf", "outgoing = on\n");
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s", path));
	ASSERT_EQ(0, settings(VT_NS_A, out, sizeof(out)));
	EXPECT_STREQ(json_of(default_json), out);

	/* From stdin; a file of comments is the defaults. */
	path = conf_file("empty.conf", "# nothing\n\n");
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply - < %s", path));
	ASSERT_EQ(0, settings(VT_NS_A, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "\"incoming\":false,\"outgoing\":false,\"port\":6600"));
}

/* -n reads and checks, and changes nothing, good file or bad. */
TEST_F_TIMEOUT(apply, check_only, 300)
{
	char before[4096], out[4096];
	const char *path = conf_file("good.conf", good);

	ASSERT_EQ(0, settings(VT_NS_A, before, sizeof(before)));
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply -n %s", path));
	EXPECT_NE(NULL, strstr(out, "good.conf: ok"));
	ASSERT_EQ(0, settings(VT_NS_A, out, sizeof(out)));
	EXPECT_STREQ(before, out);

	path = conf_file("bad.conf", "incoming = on\nport = 0\n");
	EXPECT_EQ(1, ctl_out(VT_NS_A, out, sizeof(out), "apply -n %s", path));
	EXPECT_NE(NULL, strstr(out, "bad.conf:2: port '0': not a number from 1 to 65535"));
	ASSERT_EQ(0, settings(VT_NS_A, out, sizeof(out)));
	EXPECT_STREQ(before, out);
}

struct bad_case {
	const char *name;
	const char *text;
	int rc;
	const char *msg;	/* after "FILE:" */
};

/* Seven lines: each case changes one of them. */
#define L1_6 "incoming = on\noutgoing = on\nport = 7100\nchannels = 3\n" \
	     "compression = zstd\nmax-migrations = 4\n"

static const struct bad_case bad_cases[] = {
	{ "unknown_key", "incoming = on\n# a comment\nspeed = fast\n", 1,
	  "3: 'speed': no such key" },
	{ "bad_cidr_line7", L1_6 "networks = 10.0.0.0/8, 10.1.2.3/24\n", 1,
	  "7: networks: '10.1.2.3/24': address has bits set past the prefix length" },
	{ "not_a_cidr", L1_6 "networks = 10.0.0.0/8 fd00::zz/64\n", 1,
	  "7: networks: 'fd00::zz/64': not an IPv4 or IPv6 network" },
	{ "prefix_too_long", L1_6 "networks = 10.0.0.0/33\n", 1,
	  "7: networks: '10.0.0.0/33': prefix length longer than the address" },
	{ "network_twice", L1_6 "networks = 10.0.0.0/8 10.0.0.0/8\n", 1,
	  "7: networks: '10.0.0.0/8' listed twice" },
	{ "any_in_list", L1_6 "networks = 10.0.0.0/8 any\n", 1,
	  "7: networks: 'any' in a list of networks" },
	{ "duplicate_key", "incoming = on\nport = 7000\noutgoing = on\n\nport = 7001\n", 1,
	  "5: port given twice (first on line 2)" },
	{ "port_zero", "incoming = on\nport = 0\n", 1,
	  "2: port '0': not a number from 1 to 65535" },
	{ "port_too_big", "incoming = on\nport = 65536\n", 1,
	  "2: port '65536': not a number from 1 to 65535" },
	{ "port_not_number", "port = 66oo\n", 1,
	  "1: port '66oo': not a number from 1 to 65535" },
	{ "channels_range", "channels = 17\n", 1,
	  "1: channels '17': not a number from 1 to 16" },
	{ "max_migrations_range", "max-migrations = 0\n", 1,
	  "1: max-migrations '0': not a number from 1 to 256" },
	{ "bad_onoff", "incoming = yes\n", 1, "1: incoming 'yes': not on or off" },
	{ "bad_performance", "performance = fast\n", 1,
	  "1: performance 'fast': not tcp, compression or rdma" },
	{ "compression_none", "compression = none\n", 1,
	  "1: compression 'none': not lz4 or zstd" },
	{ "no_equals", "incoming on\n", 1, "1: 'incoming on': not KEY = VALUE" },
	{ "no_value", "port =\n", 1, "1: port: no value" },
	/* Valid to vmmigctl, refused by the kernel: the line still shows. */
	{ "kernel_rejects_rdma_encrypted",
	  "incoming = on\nauth = psk\npsk-file = " DIR "/psk.key\nencryption = on\n\n"
	  "performance = rdma\n", 2,
	  "6: performance: encryption is not available with performance rdma (Invalid argument)" },
};

static void key_files(void);

TEST_F_TIMEOUT(apply, bad_files_name_the_line_and_change_nothing, 300)
{
	char before[4096], out[4096], want[512];
	const char *path;
	unsigned int i;

	key_files();	/* the PSK of kernel_rejects_rdma_encrypted */

	/* A configured host, so that "nothing changed" means something. */
	path = conf_file("good.conf", good);
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s", path));
	ASSERT_EQ(0, settings(VT_NS_A, before, sizeof(before)));
	ASSERT_STREQ(json_of(good_json), before);

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *b = &bad_cases[i];
		char name[64];

		snprintf(name, sizeof(name), "%s.conf", b->name);
		path = conf_file(name, b->text);
		ASSERT_NE(NULL, path);
		EXPECT_EQ(b->rc, ctl_out(VT_NS_A, out, sizeof(out), "apply %s", path)) {
			TH_LOG("%s: %s", b->name, out);
		}
		snprintf(want, sizeof(want), "vmmigctl: %s:%s", path, b->msg);
		EXPECT_NE(NULL, strstr(out, want)) {
			TH_LOG("%s: wanted '%s', got '%s'", b->name, want, out);
		}
		EXPECT_NE(NULL, strstr(out, "nothing applied")) {
			TH_LOG("%s: %s", b->name, out);
		}
		ASSERT_EQ(0, settings(VT_NS_A, out, sizeof(out)));
		EXPECT_STREQ(before, out) {
			TH_LOG("%s changed the settings", b->name);
		}
	}
}

/*
 * Keys of auth_test.c (RFC 7748 section 6.1's Alice and Bob, and Carol's
 * public key) and its psk_a, in base64, with their fingerprints (the first
 * 8 bytes of SHA-256, in hex).
 */
#define PSK_B64		"oaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaE="
#define PSK_FPR		"52fe6094743bfd4f"
#define ALICE_PRIV	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define ALICE_PUB	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define ALICE_FPR	"300c9c9603b92a4b"
#define BOB_PRIV	"XasIfmJKikt54X+Lg4AO5m87sSkmGLb9HC+LJ/+I4Os="
#define BOB_PUB		"3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define BOB_FPR		"f35e5616160a30bf"
#define CAROL_PUB	"ze/YeDqRtEZkDi4flVmds15ISgBxvSGCs7YNCBLBDHA="
#define CAROL_FPR	"6ced7e1a82a63502"

/* The authentication part of "show -j": from "auth" to the counters. */
static int auth_settings(const char *ns, char *out, size_t size)
{
	char buf[8192], *from, *to;
	int rc = ctl_out(ns, buf, sizeof(buf), "-j show");

	from = strstr(buf, "\"auth\"");
	to = from ? strstr(from, "\"handshakes\"") : NULL;
	if (!to)
		return rc ?: -1;
	*to = '\0';
	snprintf(out, size, "%s", from);
	return rc;
}

/* Every setting of "show -j", no counter: the whole output, counters cut. */
static int all_settings(const char *ns, char *out, size_t size)
{
	int rc = ctl_out(ns, out, size, "-j show");
	char *from = strstr(out, "\"active-migrations\""), *to = strstr(out, "\"auth\"");
	char *end = to ? strstr(to, "\"handshakes\"") : NULL;

	if (!from || !end)
		return rc ?: -1;
	*end = '\0';
	memmove(from, to, end - to + 1);
	return rc;
}

/* Host A, Alice: a source that sends to Bob (B) only, and knows Carol. */
static const char alice_conf[] =
	"outgoing = on\n"
	"port = 6650\n"
	"auth = keypair\n"
	"private-key-file = " DIR "/alice.key\n"
	"encryption = on\n"
	"handshake-timeout-ms = 3000\n"
	"max-handshakes = 8\n"
	"peer = bob pubkey " BOB_PUB " allow receive address " VT_ADDR_B "\n"
	"peer = carol   pubkey " CAROL_PUB " allow both   # a spare\n";

/* Its part of "show -j", for json_of(). */
static const char *const alice_json[] = {
	"\"auth\":\"keypair\"", "\"public-key\":\"" ALICE_PUB "\"",
	"\"public-key-fingerprint\":\"" ALICE_FPR "\"", "\"encryption\":true",
	"\"handshake-timeout-ms\":3000", "\"max-handshakes\":8",
	"\"peers\":[{\"name\":\"bob\"", "\"fingerprint\":\"" BOB_FPR "\"",
	"\"allow\":\"receive\"", "\"address\":\"" VT_ADDR_B "\"}",
	"{\"name\":\"carol\"", "\"fingerprint\":\"" CAROL_FPR "\"", "\"allow\":\"both\"}]", NULL
};

static const char *const psk_json[] = {
	"\"auth\":\"psk\"", "\"psk-fingerprint\":\"" PSK_FPR "\"", "\"encryption\":true",
	"\"handshake-timeout-ms\":3000", "\"max-handshakes\":8", "\"peers\":[]", NULL
};

static const char *const psk_default_json[] = {
	"\"auth\":\"psk\"", "\"psk-fingerprint\":\"" PSK_FPR "\"", "\"encryption\":false",
	"\"handshake-timeout-ms\":5000", "\"max-handshakes\":16", "\"peers\":[]", NULL
};

/* Host B, Bob: a destination for Alice on the port A sends to. */
static const char bob_conf[] =
	"incoming = on\n"
	"port = 6650\n"
	"auth = keypair\n"
	"private-key-file = " DIR "/bob.key\n"
	"encryption = on\n"
	"peer = alice pubkey " ALICE_PUB " allow send\n";

static void key_files(void)
{
	conf_file("psk.key", PSK_B64 "\n");
	conf_file("alice.key", ALICE_PRIV "\n");
	conf_file("bob.key", BOB_PRIV "\n");
	conf_file("bad.key", "not a key\n");
	chmod(DIR "/psk.key", 0600);
	chmod(DIR "/alice.key", 0600);
	chmod(DIR "/bob.key", 0600);
}

TEST_F_TIMEOUT(apply, psk_file_and_encryption, 300)
{
	char out[8192];
	const char *path;

	key_files();
	path = conf_file("psk.conf", "incoming = on\nauth = psk\npsk-file = " DIR "/psk.key\n"
			 "encryption = on\nhandshake-timeout-ms = 3000\nmax-handshakes = 8\n");
	/* Keys are write-only: neither -n nor apply nor show prints one. */
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply -n %s", path));
	EXPECT_EQ(NULL, strstr(out, PSK_B64));
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s", path)) {
		TH_LOG("%s", out);
	}
	EXPECT_STREQ("", out);
	ASSERT_EQ(0, auth_settings(VT_NS_A, out, sizeof(out)));
	EXPECT_STREQ(json_of(psk_json), out);
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "-j show"));
	EXPECT_EQ(NULL, strstr(out, PSK_B64));

	/* Without psk-file the host keeps its key; the rest goes to defaults. */
	path = conf_file("psk2.conf", "auth = psk\n");
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s", path)) {
		TH_LOG("%s", out);
	}
	ASSERT_EQ(0, auth_settings(VT_NS_A, out, sizeof(out)));
	EXPECT_STREQ(json_of(psk_default_json), out);
}

TEST_F_TIMEOUT(apply, keypair_and_two_peers, 300)
{
	static const char *const carol_json[] = {
		"[{\"name\":\"carol\"", "\"fingerprint\":\"" CAROL_FPR "\"",
		"\"allow\":\"send\"}]", NULL
	};
	char out[8192], want[256];

	key_files();
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s",
			     conf_file("alice.conf", alice_conf))) {
		TH_LOG("%s", out);
	}
	ASSERT_EQ(0, auth_settings(VT_NS_A, out, sizeof(out)));
	EXPECT_STREQ(json_of(alice_json), out);
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "-j show"));
	EXPECT_EQ(NULL, strstr(out, ALICE_PRIV));

	/* The file's list replaces the host's: one peer left, then none. */
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s",
			     conf_file("one.conf", "auth = keypair\n"
				       "peer = carol pubkey " CAROL_PUB " allow send\n")));
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "-j peer list"));
	snprintf(want, sizeof(want), "%.*s\n", (int)strlen(json_of(carol_json)) - 1,
		 json_of(carol_json));
	EXPECT_STREQ(want, out);
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s",
			     conf_file("none.conf", "auth = keypair\n")));
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "-j peer list"));
	EXPECT_STREQ("[]\n", out);
}

#define MIG_PAGES	256

/* Host B: accept on the host's port, wait for the end; exit 0 if FINISHED. */
static void dest_child(unsigned char *mem)
{
	struct vmmig_event ev;
	int fd;

	if (vt_enter_netns(VT_NS_B))
		_exit(2);
	fd = vt_open();
	if (fd < 0 || vt_add_region(fd, 1, mem, MIG_PAGES * 4096UL, 0x100000) ||
	    vt_accept(fd, 0, 60000))
		_exit(3);
	do {
		if (vt_wait_event(fd, &ev, NULL, 0, 60000))
			_exit(4);
	} while (ev.type != VMMIG_EVENT_FINISHED && ev.type != VMMIG_EVENT_ABORTED);
	_exit(ev.type == VMMIG_EVENT_FINISHED ? 0 : 5);
}

/* Nothing but two apply files: keypair, peers, encryption, the port. */
TEST_F_TIMEOUT(apply, migration_between_hosts_configured_by_files, 300)
{
	size_t len = MIG_PAGES * 4096UL;
	unsigned char *src, *dst;
	struct vmmig_stats st;
	char out[4096];
	int fd, status;
	pid_t pid;
	size_t i;

	key_files();
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s",
			     conf_file("alice.conf", alice_conf))) {
		TH_LOG("%s", out);
	}
	self->b_configured = true;
	ASSERT_EQ(0, ctl_out(VT_NS_B, out, sizeof(out), "apply %s",
			     conf_file("bob.conf", bob_conf))) {
		TH_LOG("%s", out);
	}
	src = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	ASSERT_NE(MAP_FAILED, dst);
	for (i = 0; i < len; i++)
		src[i] = i * 7 + i / 4096;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		dest_child(dst);
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, 1, src, len, 0x100000));
	ASSERT_EQ(0, vt_connect_retry(fd, NULL, 0, 2, 200));
	ASSERT_EQ(0, vt_send_dirty(fd, 1, 0, MIG_PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_stats(fd, &st));
	EXPECT_EQ(VMMIG_AUTH_KEYPAIR, st.auth);
	EXPECT_EQ(1, st.encrypted);
	EXPECT_EQ(MIG_PAGES, st.pages);
	close(fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
		TH_LOG("destination: status 0x%x", status);
	}
	EXPECT_EQ(0, memcmp(src, dst, len));
	munmap(src, len);
	munmap(dst, len);
}

static const struct bad_case bad_auth_cases[] = {
	{ "missing_key_file", "outgoing = on\nauth = keypair\n"
	  "private-key-file = /nonexistent/alice.key\n", 1,
	  "3: private-key-file /nonexistent/alice.key: No such file or directory" },
	{ "malformed_key_file", "auth = psk\n\npsk-file = " DIR "/bad.key\n", 1,
	  "3: psk-file " DIR "/bad.key: not base64" },
	{ "bad_peer_key", "auth = keypair\npeer = dave pubkey !!! allow send\n", 1,
	  "2: peer dave: pubkey: not base64" },
	{ "bad_peer_allow", "auth = keypair\npeer = dave pubkey " CAROL_PUB " allow all\n", 1,
	  "2: peer dave: allow 'all': not send, receive or both" },
	{ "bad_peer_word", "peer = dave pubkey " CAROL_PUB " allow send port 7\n", 1,
	  "1: peer dave: 'port' unknown; expected NAME pubkey KEY allow" },
	{ "peer_without_allow", "peer = dave pubkey " CAROL_PUB "\n", 1,
	  "1: peer dave: allow missing" },
	{ "peer_name_too_long", "peer = abcdefghijabcdefghijabcdefghijab pubkey " CAROL_PUB
	  " allow send\n", 1, "1: peer 'abcdefghijabcdefghijabcdefghijab': a name is 1 to 31" },
	{ "duplicate_peer", "auth = keypair\npeer = bob pubkey " BOB_PUB " allow receive\n"
	  "\npeer = bob pubkey " CAROL_PUB " allow send\n", 1,
	  "4: peer bob listed twice (first on line 2)" },
	{ "same_key_twice", "peer = bob pubkey " BOB_PUB " allow receive\n"
	  "peer = bobby pubkey " BOB_PUB " allow send\n", 1,
	  "2: peer bobby: the public key of peer bob (line 1)" },
	{ "psk_without_key", "incoming = on\nauth = psk\n", 1,
	  "2: auth = psk needs psk-file: the host has no pre-shared key" },
	{ "encryption_without_auth", "outgoing = on\nencryption = on\n", 1,
	  "2: encryption = on needs auth = psk or auth = keypair" },
	{ "timeout_range", "handshake-timeout-ms = 50\n", 1,
	  "1: handshake-timeout-ms '50': not a number from 100 to 60000" },
	{ "max_handshakes_range", "max-handshakes = 1025\n", 1,
	  "1: max-handshakes '1025': not a number from 1 to 1024" },
	/* Valid to vmmigctl, refused by the kernel: the peer's line shows. */
	{ "kernel_rejects_own_key", "auth = keypair\nencryption = on\n"
	  "peer = bob pubkey " BOB_PUB " allow receive\n"
	  "peer = me pubkey " ALICE_PUB " allow both\n", 2,
	  "4: peer me: a peer has this host's own public key (Invalid argument)" },
};

TEST_F_TIMEOUT(apply, bad_auth_files_name_the_line_and_change_nothing, 900)
{
	char before[8192], out[8192], want[512];
	const char *path;
	unsigned int i;

	key_files();
	ASSERT_EQ(0, ctl_out(VT_NS_A, out, sizeof(out), "apply %s",
			     conf_file("alice.conf", alice_conf))) {
		TH_LOG("%s", out);
	}
	ASSERT_EQ(0, all_settings(VT_NS_A, before, sizeof(before)));
	ASSERT_NE(NULL, strstr(before, json_of(alice_json)));

	for (i = 0; i < ARRAY_SIZE(bad_auth_cases); i++) {
		const struct bad_case *b = &bad_auth_cases[i];
		char name[64];

		TH_LOG("%s", b->name);
		snprintf(name, sizeof(name), "%s.conf", b->name);
		path = conf_file(name, b->text);
		ASSERT_NE(NULL, path);
		EXPECT_EQ(b->rc, ctl_out(VT_NS_A, out, sizeof(out), "apply %s", path)) {
			TH_LOG("%s: %s", b->name, out);
		}
		snprintf(want, sizeof(want), "vmmigctl: %s:%s", path, b->msg);
		EXPECT_NE(NULL, strstr(out, want)) {
			TH_LOG("%s: wanted '%s', got '%s'", b->name, want, out);
		}
		EXPECT_NE(NULL, strstr(out, "nothing applied")) {
			TH_LOG("%s: %s", b->name, out);
		}
		ASSERT_EQ(0, all_settings(VT_NS_A, out, sizeof(out)));
		EXPECT_STREQ(before, out) {
			TH_LOG("%s changed the settings", b->name);
		}
	}
}

TEST_F_TIMEOUT(apply, missing_file_and_usage, 300)
{
	char out[4096];

	EXPECT_EQ(1, ctl_out(VT_NS_A, out, sizeof(out), "apply " DIR "/nonexistent.conf"));
	EXPECT_NE(NULL, strstr(out, "nonexistent.conf: No such file or directory"));
	EXPECT_EQ(1, ctl_out(VT_NS_A, out, sizeof(out), "apply a.conf b.conf"));
	EXPECT_NE(NULL, strstr(out, "apply [-n] [FILE]"));
	EXPECT_EQ(1, ctl_out(VT_NS_A, out, sizeof(out), "apply -x"));
}

/* A line too long to be a setting is refused, not cut. */
TEST_F_TIMEOUT(apply, long_line, 300)
{
	char out[4096], text[2100];

	memset(text, 'x', sizeof(text) - 2);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "port = 7", 8);
	EXPECT_EQ(1, ctl_out(VT_NS_A, out, sizeof(out), "apply %s",
			     conf_file("long.conf", text)));
	EXPECT_NE(NULL, strstr(out, "long.conf:1: longer than 1023 characters"));
}

TEST_HARNESS_MAIN
