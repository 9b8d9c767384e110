/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmigctl: the host settings of vmmig over its generic netlink family
 * (uapi/linux/vmmig.h, HOST SETTINGS). See vmmigctl(8).
 */
#ifndef VMMIGCTL_H
#define VMMIGCTL_H

#include <stdbool.h>
#include <stdio.h>

#include <linux/types.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

/* Exit codes, as vmmigctl(8) documents them. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,		/* bad command line */
	EXIT_REFUSED = 2,	/* the kernel refused the request */
	EXIT_NOVMMIG = 3,	/* no vmmig family: module not loaded */
	EXIT_PERM = 4,		/* not allowed to change settings */
	EXIT_SYSTEM = 5,	/* netlink or memory failure */
};

/* netlink.c */
struct ctl {
	struct nl_sock *sk;
	int family;
	/* What the kernel said about the last request that failed: */
	int error;		/* positive errno */
	char errmsg[256];	/* extack message, or "" */
	int err_attr;		/* type of the attribute it blamed, or 0 */
	bool err_range;		/* the values that attribute allows: */
	__u64 err_min, err_max;
};

/* Called for each reply message with its attributes, indexed by type. */
typedef int (*ctl_reply_fn)(struct nlattr **tb, void *arg);

int ctl_open(struct ctl *c);
void ctl_close(struct ctl *c);
struct nl_msg *ctl_msg(struct ctl *c, __u8 cmd, int flags);
int ctl_request(struct ctl *c, struct nl_msg *msg, int maxattr, ctl_reply_fn fn, void *arg);
struct nl_sock *ctl_events_open(struct ctl *c);
int ctl_events_read(struct nl_sock *sk, int maxattr, ctl_reply_fn fn, void *arg);

/* json.c: one JSON value per call; commas are the caller's business. */
void json_str(FILE *f, const char *s);
void json_key(FILE *f, bool *first, const char *key);

#endif
