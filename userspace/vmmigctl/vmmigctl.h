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

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

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
	__u32 err_offs;		/* and where it is in the request, or 0 */
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

/* keys.c */
#define KEY_LEN		32	/* VMMIG_KEY_LEN */
#define KEY_B64_LEN	44

void key_to_base64(char out[KEY_B64_LEN + 1], const __u8 key[KEY_LEN]);
int key_from_base64(__u8 key[KEY_LEN], const char *text, const char **why);
int key_from_file(__u8 key[KEY_LEN], const char *path, const char **why);
int key_public(__u8 pub[KEY_LEN], const __u8 priv[KEY_LEN]);
int cmd_genkey(bool clamp);
int cmd_pubkey(void);
/* vmmigctl.c: the message and exit code for a failed ctl_open(). */
int ctl_open_failed(int err);

/* rate.c: tc(8)'s rate units; bytes per second for the kernel. */
#define RATE_LEN	32

int rate_parse(const char *s, __u64 *bytes, const char **why);
void rate_format(char *buf, size_t len, __u64 bytes);

/* apply.c */
int cmd_apply(int argc, char **argv);

/* json.c: one JSON value per call; commas are the caller's business. */
void json_str(FILE *f, const char *s);
void json_key(FILE *f, bool *first, const char *key);

#endif
