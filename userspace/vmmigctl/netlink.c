// SPDX-License-Identifier: GPL-2.0
/*
 * The netlink side of vmmigctl: resolving the family, one request and its
 * replies (with the kernel's extack message on error), and the events
 * group.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include <linux/vmmig.h>

#include "vmmigctl.h"

int ctl_open(struct ctl *c)
{
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->sk = nl_socket_alloc();
	if (!c->sk)
		return -ENOMEM;
	if (genl_connect(c->sk)) {
		nl_socket_free(c->sk);
		return -EIO;
	}
	/* Error messages from the kernel, without an echo of the request. */
	setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	c->family = genl_ctrl_resolve(c->sk, VMMIG_GENL_NAME);
	if (c->family < 0) {
		nl_socket_free(c->sk);
		return -ENOENT;
	}
	return 0;
}

void ctl_close(struct ctl *c)
{
	nl_socket_free(c->sk);
}

struct nl_msg *ctl_msg(struct ctl *c, __u8 cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0, flags,
				cmd, VMMIG_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

struct exchange {
	struct ctl *c;
	struct nl_msg *req;
	int maxattr;
	ctl_reply_fn fn;
	void *arg;
	bool done;
	int fn_error;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct exchange *x = arg;
	struct nlattr *tb[x->maxattr + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, x->maxattr, NULL))
		return NL_SKIP;
	if (x->fn && !x->fn_error)
		x->fn_error = x->fn(tb, x->arg);
	return NL_OK;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	struct exchange *x = arg;

	(void)msg;
	x->done = true;
	return NL_STOP;
}

/* The attribute of our request that the kernel's error points at. */
static void blame(struct exchange *x, __u32 offs)
{
	struct nlmsghdr *req = nlmsg_hdr(x->req);

	if (offs >= NLMSG_HDRLEN + GENL_HDRLEN && offs + NLA_HDRLEN <= req->nlmsg_len) {
		x->c->err_attr = nla_type((struct nlattr *)((char *)req + offs));
		x->c->err_offs = offs;
	}
}

/* The range of values the policy allows the blamed attribute. */
static void policy_range(struct ctl *c, struct nlattr *nest)
{
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, nest, rem) {
		if (nla_len(a) != sizeof(__u64))
			continue;
		if (nla_type(a) == NL_POLICY_TYPE_ATTR_MIN_VALUE_U) {
			c->err_min = nla_get_u64(a);
			c->err_range = true;
		} else if (nla_type(a) == NL_POLICY_TYPE_ATTR_MAX_VALUE_U) {
			c->err_max = nla_get_u64(a);
			c->err_range = true;
		}
	}
}

/* The extack TLVs follow the error (and the request, unless capped). */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)err - NLMSG_HDRLEN);
	struct exchange *x = arg;
	struct nlattr *tlv;
	size_t skip = sizeof(*err);
	int rem;

	(void)nla;
	x->c->error = -err->error;
	x->done = true;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		skip += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (NLMSG_HDRLEN + skip > nlh->nlmsg_len)
		return NL_STOP;
	tlv = (struct nlattr *)((char *)err + skip);
	rem = nlh->nlmsg_len - NLMSG_HDRLEN - skip;
	for (; nla_ok(tlv, rem); tlv = nla_next(tlv, &rem)) {
		if (nla_type(tlv) == NLMSGERR_ATTR_MSG)
			snprintf(x->c->errmsg, sizeof(x->c->errmsg), "%.*s",
				 nla_len(tlv), (const char *)nla_data(tlv));
		else if (nla_type(tlv) == NLMSGERR_ATTR_OFFS && nla_len(tlv) == 4)
			blame(x, nla_get_u32(tlv));
		else if (nla_type(tlv) == NLMSGERR_ATTR_MISS_TYPE && nla_len(tlv) == 4)
			x->c->err_attr = nla_get_u32(tlv);
		else if (nla_type(tlv) == NLMSGERR_ATTR_POLICY)
			policy_range(x->c, tlv);
	}
	return NL_STOP;
}

/*
 * Send @msg (freed here) and read until its ACK, error or end of dump,
 * handing each reply to @fn. Returns 0, -errno from the kernel (with
 * c->errmsg), or the first nonzero return of @fn.
 */
int ctl_request(struct ctl *c, struct nl_msg *msg, int maxattr, ctl_reply_fn fn, void *arg)
{
	struct exchange x = { .c = c, .req = msg, .maxattr = maxattr, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int ret;

	c->error = 0;
	c->errmsg[0] = '\0';
	c->err_attr = 0;
	c->err_offs = 0;
	c->err_range = false;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &x);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, &x);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, &x);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &x);
	ret = nl_send_auto(c->sk, msg);
	while (ret >= 0 && !x.done)
		ret = nl_recvmsgs(c->sk, cb);
	nl_cb_put(cb);
	nlmsg_free(msg);
	if (c->error)
		return -c->error;
	if (ret < 0 && !x.done)
		return -EIO;
	return x.fn_error;
}

/* A second socket, subscribed to the events group. */
struct nl_sock *ctl_events_open(struct ctl *c)
{
	struct nl_sock *sk = nl_socket_alloc();
	int grp;

	if (!sk)
		return NULL;
	grp = genl_ctrl_resolve_grp(c->sk, VMMIG_GENL_NAME, VMMIG_MCGRP_EVENTS);
	if (grp < 0 || genl_connect(sk) || nl_socket_add_membership(sk, grp)) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/* Notifications carry no sequence number to check. */
static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/* Read what is there (blocking for the first message) and hand it to @fn. */
int ctl_events_read(struct nl_sock *sk, int maxattr, ctl_reply_fn fn, void *arg)
{
	struct exchange x = { .maxattr = maxattr, .fn = fn, .arg = arg };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &x);
	ret = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	return ret < 0 ? -EIO : x.fn_error;
}
