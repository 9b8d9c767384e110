// SPDX-License-Identifier: GPL-2.0
/*
 * The generic-netlink family "vmmig" fuzzed with raw netlink messages
 * (fuzz.h for the seed and the budget): every command number and more,
 * attributes of every type number the family has and more (so that
 * attributes other branches add are covered too), with wrong lengths,
 * wrong types, nesting flags, duplicates, missing ones, length fields that
 * lie, truncated headers, and many at once. As root in a fresh namespace:
 * every message that is refused must change nothing (the host's settings
 * and network list are compared after each one). Unprivileged, as another
 * user and as root of a user namespace that does not own the network
 * namespace: every change must fail with EPERM. Dumps abandoned half-way.
 */
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "vmmig_test.h"
#include "fuzz.h"
#include "kselftest_harness.h"

#define BUFSZ	65536

struct nl {
	int fd;
	__u16 family;
	__u32 seq;
};

static int nl_open(struct nl *n)
{
	struct timeval tv = { .tv_sec = 2 };

	n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (n->fd < 0)
		return -errno;
	setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* Extended acks would only make the answers longer. */
	return 0;
}

static int nl_send(struct nl *n, const void *msg, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	return sendto(n->fd, msg, len, 0, (void *)&sa, sizeof(sa)) < 0 ? -errno : 0;
}

/*
 * Read answers to @seq until its ACK/error or the end of its dump. Returns
 * the error (0 or -errno), or 1 if nothing came. @cb sees each data payload.
 */
static int nl_recv(struct nl *n, __u32 seq, void (*cb)(void *, const void *, size_t),
		   void *arg)
{
	static char buf[BUFSZ];

	for (;;) {
		ssize_t len = recv(n->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0)
			return errno == EAGAIN ? 1 : -errno;
		for (h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (cb)
				cb(arg, NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN);
			if (!(h->nlmsg_flags & NLM_F_MULTI))
				return 0;
		}
	}
}

struct msgbuf {
	struct nlmsghdr h;
	struct genlmsghdr g;
	unsigned char attrs[4096];
};

static size_t put_attr(unsigned char *p, __u16 type, const void *data, __u16 len)
{
	struct nlattr *a = (void *)p;

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy(p + NLA_HDRLEN, data, len);
	memset(p + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	return NLA_ALIGN(a->nla_len);
}

static int nl_request(struct nl *n, __u8 cmd, __u16 flags, const void *attrs, size_t alen,
		      void (*cb)(void *, const void *, size_t), void *arg)
{
	struct msgbuf m = {
		.h = { .nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + alen,
		       .nlmsg_type = n->family,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags,
		       .nlmsg_seq = ++n->seq },
		.g = { .cmd = cmd, .version = VMMIG_GENL_VERSION },
	};
	int ret;

	memcpy(m.attrs, attrs, alen);
	ret = nl_send(n, &m, m.h.nlmsg_len);
	return ret ?: nl_recv(n, n->seq, cb, arg);
}

struct blob {
	unsigned char d[BUFSZ];
	size_t len;
};

static void collect(void *arg, const void *data, size_t len)
{
	struct blob *b = arg;

	if (b->len + len <= sizeof(b->d)) {
		memcpy(b->d + b->len, data, len);
		b->len += len;
	}
}

static void family_cb(void *arg, const void *data, size_t len)
{
	const struct nlattr *a = (const void *)((const char *)data + GENL_HDRLEN);
	size_t left = len - GENL_HDRLEN;

	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
		if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID)
			*(__u16 *)arg = *(__u16 *)((const char *)a + NLA_HDRLEN);
		left -= NLA_ALIGN(a->nla_len) < left ? NLA_ALIGN(a->nla_len) : left;
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

static int nl_resolve(struct nl *n)
{
	unsigned char attrs[64];
	size_t len = put_attr(attrs, CTRL_ATTR_FAMILY_NAME, VMMIG_GENL_NAME,
			      sizeof(VMMIG_GENL_NAME));
	__u16 id = 0;

	n->family = GENL_ID_CTRL;
	if (nl_request(n, CTRL_CMD_GETFAMILY, 0, attrs, len, family_cb, &id) || !id)
		return -1;
	n->family = id;
	return 0;
}

/* The host as netlink shows it: GET_HOST and the network list. */
static void snapshot(struct nl *n, struct blob *b)
{
	b->len = 0;
	nl_request(n, VMMIG_CMD_GET_HOST, 0, NULL, 0, collect, b);
	nl_request(n, VMMIG_CMD_GET_NETWORK, NLM_F_DUMP, NULL, 0, collect, b);
}

static bool same(const struct blob *a, const struct blob *b)
{
	return a->len == b->len && !memcmp(a->d, b->d, a->len);
}

/* One attribute: a known type with about the right size, or anything. */
static size_t fuzz_attr(struct fz *r, unsigned char *p, size_t room, int depth)
{
	static const __u16 sizes[] = { 0, 1, 2, 3, 4, 5, 8, 15, 16, 17, 64 };
	unsigned char data[128];
	__u16 type = fz_one_in(r, 8) ? fz_below(r, 1 << 16) : fz_below(r, 24);
	__u16 len;

	if (room < NLA_HDRLEN + 128)
		return 0;
	if (depth < 3 && fz_one_in(r, 10)) {	/* a nest of attributes */
		struct nlattr *a = (void *)p;
		size_t inner = NLA_HDRLEN, k = fz_below(r, 4);

		while (k--)
			inner += fuzz_attr(r, p + inner, room - inner - 8, depth + 1);
		a->nla_type = type | NLA_F_NESTED;
		a->nla_len = inner;
		return NLA_ALIGN(inner);
	}
	len = sizes[fz_below(r, ARRAY_SIZE(sizes))];
	fz_bytes(r, data, sizeof(data));
	if (fz_one_in(r, 2))	/* small values: inside the ranges, mostly */
		memset(data + 1, 0, sizeof(data) - 1), data[0] = fz_below(r, 40);
	if (fz_one_in(r, 2) && len >= 4)	/* IPv4 10.77.x.y */
		memcpy(data, (unsigned char[]){ 10, 77, fz_below(r, 4), fz_below(r, 4) }, 4);
	if (fz_one_in(r, 16))
		type |= NLA_F_NET_BYTEORDER;
	return put_attr(p, type, data, len);
}

/*
 * A message for @cmd with fuzzed attributes, sent; then its answer.
 * Returns the answer (0, -errno, 1 for none).
 */
/* @cut: the netlink or genetlink header is bad, the core refuses it. */
static int fuzz_msg(struct fz *r, struct nl *n, __u8 cmd, __u16 *flags_out, bool *cut)
{
	struct msgbuf m = {};
	size_t len = 0, k = fz_below(r, 6), tot;
	__u16 flags = NLM_F_REQUEST | NLM_F_ACK;

	*cut = false;
	while (k--)
		len += fuzz_attr(r, m.attrs + len, sizeof(m.attrs) - len, 0);
	if (fz_one_in(r, 10) && len) {	/* duplicate the whole list */
		size_t l2 = len < sizeof(m.attrs) / 2 ? len : 0;

		memcpy(m.attrs + len, m.attrs, l2);
		len += l2;
	}
	if (fz_one_in(r, 8))
		flags |= NLM_F_DUMP;
	if (fz_one_in(r, 16)) {
		flags = fz_next(r);
		*cut = true;	/* reserved flags: refused before the command */
	}
	tot = NLMSG_HDRLEN + GENL_HDRLEN + len;
	m.h.nlmsg_len = tot;
	m.h.nlmsg_type = n->family;
	m.h.nlmsg_flags = flags | NLM_F_REQUEST | NLM_F_ACK;
	m.h.nlmsg_seq = ++n->seq;
	m.g.cmd = cmd;
	m.g.version = fz_one_in(r, 16) ? fz_next(r) : VMMIG_GENL_VERSION;
	if (len && fz_one_in(r, 10)) {	/* an attribute length that lies */
		struct nlattr *a = (void *)m.attrs;

		a->nla_len = fz_below(r, 2 * len + 8);
	}
	switch (fz_below(r, 20)) {
	case 0:	/* the message cut short */
		*cut = true;
		tot = fz_below(r, tot);
		break;
	case 1:	/* nlmsg_len lies */
		*cut = true;
		m.h.nlmsg_len = fz_below(r, tot + 64);
		break;
	}
	*flags_out = m.h.nlmsg_flags;
	if (nl_send(n, &m, tot))
		return 1;
	/* A message the kernel cannot parse gets no answer: don't wait long. */
	{
		struct pollfd p = { .fd = n->fd, .events = POLLIN };

		if (poll(&p, 1, 50) != 1)
			return 1;
	}
	return nl_recv(n, m.h.nlmsg_seq, NULL, NULL);
}

static bool answer_documented(int e)
{
	switch (-e) {
	case 0: case EINVAL: case ERANGE: case EPERM: case EOPNOTSUPP: case EEXIST:
	case ENOENT: case ENOSPC: case EMSGSIZE:
	case EBADFD:	/* ABORT_SESSION of one of the fixture's NEW sessions */
		return true;
	}
	return e == 1;	/* no answer: a message the kernel could not parse */
}

static bool is_change(__u8 cmd)
{
	return cmd == VMMIG_CMD_SET_HOST || cmd == VMMIG_CMD_ADD_NETWORK ||
	       cmd == VMMIG_CMD_DEL_NETWORK || cmd == VMMIG_CMD_ABORT_SESSION;
}

/* A command: the family's, one past them, or any. */
static __u8 fuzz_cmd(struct fz *r)
{
	if (fz_one_in(r, 10))
		return fz_below(r, 256);
	return fz_below(r, VMMIG_CMD_MAX + 3);
}

struct tally {
	unsigned long msgs, ok, errs, silent, changed;
	char bad[160];
};

static void tally(struct tally *t, __u8 cmd, int ret)
{
	t->msgs++;
	if (!ret)
		t->ok++;
	else if (ret == 1)
		t->silent++;
	else
		t->errs++;
	if (!answer_documented(ret) && !t->bad[0])
		snprintf(t->bad, sizeof(t->bad), "cmd %u answered %d", cmd, ret);
}

FIXTURE(nlf) {
	struct nl n;
};

FIXTURE_SETUP(nlf)
{
	/* A fresh host of our own: nothing to restore afterwards. */
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, nl_open(&self->n));
	ASSERT_EQ(0, nl_resolve(&self->n)) TH_LOG("family %s not found", VMMIG_GENL_NAME);
}

FIXTURE_TEARDOWN(nlf)
{
	close(self->n.fd);
}

/* As root: refused messages change nothing; accepted ones may. */
TEST_F_TIMEOUT(nlf, root, 900)
{
	unsigned long i, iters = fz_iters(1500);
	static struct blob before, after;
	struct tally t = {};
	struct fz r;
	__u16 flags;
	bool cut;
	int ret, fds[8], k;

	fz_init(&r, "netlink_root");
	/* Sessions for GET_SESSION to show. */
	for (k = 0; k < 8; k++)
		fds[k] = vt_open();
	snapshot(&self->n, &before);
	ASSERT_LT(0, before.len);
	for (i = 0; i < iters; i++) {
		__u8 cmd = fuzz_cmd(&r);

		ret = fuzz_msg(&r, &self->n, cmd, &flags, &cut);
		tally(&t, cmd, ret);
		snapshot(&self->n, &after);
		if (!same(&before, &after)) {
			t.changed++;
			if (ret && !t.bad[0])
				snprintf(t.bad, sizeof(t.bad),
					 "cmd %u refused (%d) but the host changed", cmd, ret);
			if (!is_change(cmd) && !t.bad[0])
				snprintf(t.bad, sizeof(t.bad), "read-only cmd %u changed the host",
					 cmd);
			before = after;
		}
	}
	for (k = 0; k < 8; k++)
		close(fds[k]);
	printf("# netlink as root: %lu messages, %lu ok, %lu refused, %lu silent, %lu changes\n",
	       t.msgs, t.ok, t.errs, t.silent, t.changed);
	EXPECT_EQ(0, t.bad[0]) TH_LOG("%s", t.bad);
}

static void drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		_exit(20);
}

static void into_userns(void)
{
	if (unshare(CLONE_NEWUSER))
		_exit(21);
}

/* Every change refused with EPERM, nothing changed, reads still work. */
static void unpriv(struct __test_metadata *_metadata, struct nl *n, void (*become)(void),
		   const char *name)
{
	static struct blob before, after;
	unsigned long iters = fz_iters(500);
	int status;
	pid_t pid;

	snapshot(n, &before);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct tally t = {};
		unsigned long i;
		struct fz r;
		__u16 flags;
		bool cut;
		int ret;
		struct nl c = {};

		fz_init(&r, name);
		become();
		/* A socket of the unprivileged caller's own. */
		if (nl_open(&c) || nl_resolve(&c))
			_exit(22);
		n = &c;
		for (i = 0; i < iters; i++) {
			__u8 cmd = fuzz_cmd(&r);

			ret = fuzz_msg(&r, n, cmd, &flags, &cut);
			tally(&t, cmd, ret);
			/* A bad header is refused (EINVAL) before the command is looked up. */
			if (is_change(cmd) && ret != -EPERM && ret != 1 && !t.bad[0] &&
			    !cut && (flags & NLM_F_DUMP) != NLM_F_DUMP)
				snprintf(t.bad, sizeof(t.bad), "change %u: %d, not EPERM", cmd,
					 ret);
		}
		printf("# netlink %s: %lu messages, %lu ok, %lu refused, %lu unanswered%s%s\n",
		       name, t.msgs, t.ok, t.errs, t.silent, t.bad[0] ? ": " : "", t.bad);
		fflush(stdout);
		_exit(t.bad[0] ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("%s: status 0x%x", name, status);
	snapshot(n, &after);
	EXPECT_TRUE(same(&before, &after)) TH_LOG("%s changed the host", name);
}

TEST_F_TIMEOUT(nlf, unprivileged_user, 600)
{
	unpriv(_metadata, &self->n, drop_to_nobody, "as nobody");
}

TEST_F_TIMEOUT(nlf, foreign_user_namespace, 600)
{
	unpriv(_metadata, &self->n, into_userns, "in a user namespace");
}

/* Dumps started and dropped: a small buffer, the socket closed mid-way. */
TEST_F_TIMEOUT(nlf, dumps_abandoned, 600)
{
	unsigned char attrs[64];
	unsigned long i, iters = fz_iters(100);
	int fds[16], k, rcv = 1024;
	struct fz r;

	fz_init(&r, "dumps_abandoned");
	/* A long list, and sessions, so that the dumps take several parts. */
	for (k = 0; k < VMMIG_MAX_NETWORKS; k++) {
		size_t len = put_attr(attrs, VMMIG_A_NET_ADDR4,
				      (unsigned char[]){ 10, k, 0, 0 }, 4);

		len += put_attr(attrs + len, VMMIG_A_NET_PREFIX_LEN, (__u8[]){ 16 }, 1);
		ASSERT_EQ(0, nl_request(&self->n, VMMIG_CMD_ADD_NETWORK, 0, attrs, len,
					NULL, NULL));
	}
	for (k = 0; k < 16; k++)
		fds[k] = vt_open();
	for (i = 0; i < iters; i++) {
		struct nl d = { .family = self->n.family };
		struct msgbuf m = {
			.h = { .nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN,
			       .nlmsg_type = d.family,
			       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
			.g = { .cmd = fz_one_in(&r, 2) ? VMMIG_CMD_GET_NETWORK
						       : VMMIG_CMD_GET_SESSION,
			       .version = 1 },
		};
		char buf[512];

		ASSERT_EQ(0, nl_open(&d));
		setsockopt(d.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		ASSERT_EQ(0, nl_send(&d, &m, m.h.nlmsg_len));
		for (k = fz_below(&r, 4); k; k--)
			if (recv(d.fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
				break;
		if (fz_one_in(&r, 4)) {	/* a session goes away mid-dump */
			k = fz_below(&r, 16);
			close(fds[k]);
			fds[k] = vt_open();
		}
		close(d.fd);
	}
	for (k = 0; k < 16; k++)
		close(fds[k]);
	printf("# %lu dumps abandoned\n", iters);
	/* The list is intact after all that. */
	{
		static struct blob b;

		b.len = 0;
		ASSERT_EQ(0, nl_request(&self->n, VMMIG_CMD_GET_NETWORK, NLM_F_DUMP, NULL, 0,
					collect, &b));
		EXPECT_EQ(VMMIG_MAX_NETWORKS * (GENL_HDRLEN + 8 + 8), b.len);
	}
}

TEST_HARNESS_MAIN
