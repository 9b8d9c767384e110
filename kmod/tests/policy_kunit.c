// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the migration network list (kmod/policy.c): making
 * entries from what netlink hands in, and matching peer addresses.
 */
#include <kunit/test.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/inet.h>
#include <linux/socket.h>
#include <linux/string.h>

#include "../vmmig.h"
#include "../netns.h"

/* Parse "a.b.c.d" or an IPv6 literal into a sockaddr (port 6600). */
static void mkaddr(struct kunit *test, const char *str, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strchr(str, ':')) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(6600);
		KUNIT_ASSERT_EQ(test, in6_pton(str, -1, sin6->sin6_addr.s6_addr, -1, NULL), 1);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(6600);
		KUNIT_ASSERT_EQ(test, in4_pton(str, -1, (u8 *)&sin->sin_addr, -1, NULL), 1);
	}
}

/* An entry from "addr/prefix"; returns what vmmig_cidr_init() said. */
static int mkcidr(struct kunit *test, const char *str, struct vmmig_cidr *c)
{
	struct sockaddr_storage ss;
	char buf[64];
	char *slash;
	unsigned int prefix;

	strscpy(buf, str, sizeof(buf));
	slash = strchr(buf, '/');
	KUNIT_ASSERT_NOT_NULL(test, slash);
	*slash = '\0';
	KUNIT_ASSERT_EQ(test, kstrtouint(slash + 1, 10, &prefix), 0);
	mkaddr(test, buf, &ss);
	if (ss.ss_family == AF_INET)
		return vmmig_cidr_init(c, AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, prefix);
	return vmmig_cidr_init(c, AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, prefix);
}

struct init_case {
	const char *cidr;
	int ret;
};

static const struct init_case init_cases[] = {
	{ "192.168.10.0/24", 0 },
	{ "0.0.0.0/0", 0 },
	{ "10.77.0.1/32", 0 },
	{ "10.0.0.0/7", 0 },
	{ "10.77.0.1/24", -EINVAL },	/* host bits set */
	{ "10.0.0.0/6", -EINVAL },	/* 10 = 0b00001010: bit 6 is past /6 */
	{ "128.0.0.0/0", -EINVAL },
	{ "10.0.0.0/33", -ERANGE },
	{ "10.0.0.0/128", -ERANGE },
	{ "fd77::/64", 0 },
	{ "::/0", 0 },
	{ "fd77::2/128", 0 },
	{ "fd77::1/64", -EINVAL },
	{ "fd77:0:0:1::/63", -EINVAL },
	{ "fd77:0:0:2::/63", 0 },
	{ "fd77::/129", -ERANGE },
};

static void init_desc(const struct init_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->cidr);
}

KUNIT_ARRAY_PARAM(init, init_cases, init_desc);

static void cidr_init_test(struct kunit *test)
{
	const struct init_case *c = test->param_value;
	struct vmmig_cidr cidr;

	KUNIT_EXPECT_EQ(test, mkcidr(test, c->cidr, &cidr), c->ret);
}

static void cidr_init_family_test(struct kunit *test)
{
	static const u8 addr[16];
	struct vmmig_cidr c;

	KUNIT_EXPECT_EQ(test, vmmig_cidr_init(&c, AF_UNIX, addr, 0), -EAFNOSUPPORT);
	KUNIT_EXPECT_EQ(test, vmmig_cidr_init(&c, AF_INET, addr, 0), 0);
	KUNIT_EXPECT_EQ(test, c.family, AF_INET);
	KUNIT_EXPECT_EQ(test, c.prefix, 0);
}

struct match_case {
	const char *cidr;
	const char *addr;
	bool match;
};

static const struct match_case match_cases[] = {
	{ "192.168.10.0/24", "192.168.10.1", true },
	{ "192.168.10.0/24", "192.168.10.255", true },
	{ "192.168.10.0/24", "192.168.11.0", false },
	{ "192.168.10.0/24", "192.168.9.255", false },
	{ "192.168.10.0/23", "192.168.11.7", true },
	{ "192.168.10.0/23", "192.168.12.0", false },
	{ "10.77.0.1/32", "10.77.0.1", true },
	{ "10.77.0.1/32", "10.77.0.2", false },
	{ "0.0.0.0/0", "203.0.113.9", true },
	{ "0.0.0.0/0", "fd77::1", false },		/* v4 entry, v6 peer */
	{ "128.0.0.0/1", "127.255.255.255", false },
	{ "128.0.0.0/1", "128.0.0.0", true },
	/* a v4 peer on the dual-stack listener: IPv4-mapped */
	{ "10.77.0.0/24", "::ffff:10.77.0.1", true },
	{ "10.77.0.0/24", "::ffff:10.78.0.1", false },
	{ "fd77::/64", "fd77::2", true },
	{ "fd77::/64", "fd77:0:0:1::2", false },
	{ "fd77::/64", "10.77.0.1", false },		/* v6 entry, v4 peer */
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "10.0.0.1", false },
	{ "fd77::/127", "fd77::1", true },
	{ "fd77::/127", "fd77::2", false },
	{ "fd77::8000:0:0:0/65", "fd77::8000:0:0:1", true },
	{ "fd77::8000:0:0:0/65", "fd77::7fff:0:0:1", false },
	{ "fd77::2/128", "fd77::2", true },
	{ "fd77::2/128", "fd77::3", false },
};

static void match_desc(const struct match_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s in %s", c->addr, c->cidr);
}

KUNIT_ARRAY_PARAM(match, match_cases, match_desc);

static void cidr_match_test(struct kunit *test)
{
	const struct match_case *c = test->param_value;
	struct sockaddr_storage ss;
	struct vmmig_cidr cidr;

	KUNIT_ASSERT_EQ(test, mkcidr(test, c->cidr, &cidr), 0);
	mkaddr(test, c->addr, &ss);
	KUNIT_EXPECT_EQ(test, vmmig_cidr_match(&cidr, (struct sockaddr *)&ss), c->match);
}

static void cidr_list_test(struct kunit *test)
{
	struct vmmig_cidr list[3];
	struct sockaddr_storage ss;

	KUNIT_ASSERT_EQ(test, mkcidr(test, "192.168.10.0/24", &list[0]), 0);
	KUNIT_ASSERT_EQ(test, mkcidr(test, "fd77::/64", &list[1]), 0);
	KUNIT_ASSERT_EQ(test, mkcidr(test, "10.0.0.0/8", &list[2]), 0);

	mkaddr(test, "10.77.0.1", &ss);
	KUNIT_EXPECT_TRUE(test, vmmig_cidr_list_match(list, 3, (struct sockaddr *)&ss));
	KUNIT_EXPECT_FALSE(test, vmmig_cidr_list_match(list, 2, (struct sockaddr *)&ss));
	KUNIT_EXPECT_FALSE(test, vmmig_cidr_list_match(list, 0, (struct sockaddr *)&ss));
	mkaddr(test, "fd77::9", &ss);
	KUNIT_EXPECT_TRUE(test, vmmig_cidr_list_match(list, 2, (struct sockaddr *)&ss));
	mkaddr(test, "172.16.0.1", &ss);
	KUNIT_EXPECT_FALSE(test, vmmig_cidr_list_match(list, 3, (struct sockaddr *)&ss));

	/* An address of no family matches nothing, not even /0. */
	KUNIT_ASSERT_EQ(test, mkcidr(test, "0.0.0.0/0", &list[0]), 0);
	memset(&ss, 0, sizeof(ss));
	KUNIT_EXPECT_FALSE(test, vmmig_cidr_list_match(list, 1, (struct sockaddr *)&ss));
}

static void cidr_equal_test(struct kunit *test)
{
	struct vmmig_cidr a, b;

	KUNIT_ASSERT_EQ(test, mkcidr(test, "10.0.0.0/8", &a), 0);
	KUNIT_ASSERT_EQ(test, mkcidr(test, "10.0.0.0/8", &b), 0);
	KUNIT_EXPECT_TRUE(test, vmmig_cidr_equal(&a, &b));
	KUNIT_ASSERT_EQ(test, mkcidr(test, "10.0.0.0/9", &b), 0);
	KUNIT_EXPECT_FALSE(test, vmmig_cidr_equal(&a, &b));
	KUNIT_ASSERT_EQ(test, mkcidr(test, "11.0.0.0/8", &b), 0);
	KUNIT_EXPECT_FALSE(test, vmmig_cidr_equal(&a, &b));
	/* Same bits, other family: ::a00:0/8 is not 10.0.0.0/8. */
	KUNIT_ASSERT_EQ(test, mkcidr(test, "::/8", &b), 0);
	KUNIT_ASSERT_EQ(test, mkcidr(test, "0.0.0.0/8", &a), 0);
	KUNIT_EXPECT_FALSE(test, vmmig_cidr_equal(&a, &b));
	KUNIT_ASSERT_EQ(test, mkcidr(test, "fd77::/64", &a), 0);
	KUNIT_ASSERT_EQ(test, mkcidr(test, "fd77::/64", &b), 0);
	KUNIT_EXPECT_TRUE(test, vmmig_cidr_equal(&a, &b));
	KUNIT_ASSERT_EQ(test, mkcidr(test, "fd78::/64", &b), 0);
	KUNIT_EXPECT_FALSE(test, vmmig_cidr_equal(&a, &b));
}

static struct kunit_case vmmig_policy_cases[] = {
	KUNIT_CASE_PARAM(cidr_init_test, init_gen_params),
	KUNIT_CASE(cidr_init_family_test),
	KUNIT_CASE_PARAM(cidr_match_test, match_gen_params),
	KUNIT_CASE(cidr_list_test),
	KUNIT_CASE(cidr_equal_test),
	{}
};

static struct kunit_suite vmmig_policy_suite = {
	.name = "vmmig_policy",
	.test_cases = vmmig_policy_cases,
};

kunit_test_suite(vmmig_policy_suite);
