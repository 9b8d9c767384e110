// SPDX-License-Identifier: GPL-2.0
/*
 * vmmigctl apply and vmmig.conf(5) in a host (netns A): a good file makes
 * the settings and network list exactly what it says (keys it leaves out
 * back at their defaults), again and again; every kind of bad file, found
 * by vmmigctl or refused by the kernel, names its line and changes
 * nothing; -n checks without applying. Netns B is left alone throughout.
 */
#include <stdarg.h>
#include <sys/stat.h>

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

	/* Every test works in A: B must not have moved. */
	if (!settings(VT_NS_B, now, sizeof(now)))
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
	{ "kernel_rejects_rdma", "incoming = on\nport = 7000\n\nperformance = rdma\n", 2,
	  "4: performance: RDMA transport not available (Operation not supported)" },
};

TEST_F_TIMEOUT(apply, bad_files_name_the_line_and_change_nothing, 300)
{
	char before[4096], out[4096], want[512];
	const char *path;
	unsigned int i;

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
