/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration file of vmmigctl apply, vmmig.conf(5). conf.c parses
 * it; apply.c turns it into one SET_HOST request.
 *
 * A new key (the authentication settings, say) is an enum conf_key entry,
 * its name in conf_key_names[], a field in struct conf with its default in
 * conf_defaults(), a case in conf.c's parse_value() and the attributes it
 * becomes in apply.c's put_conf().
 */
#ifndef VMMIGCTL_CONF_H
#define VMMIGCTL_CONF_H

#include <stdbool.h>
#include <stdio.h>

#include <linux/types.h>
#include <linux/vmmig.h>

#define CONF_DEFAULT_PATH	"/etc/vmmig/vmmig.conf"
#define CONF_MAX_LINE		1024

enum conf_key {
	CONF_INCOMING,
	CONF_OUTGOING,
	CONF_PORT,
	CONF_NETWORKS,
	CONF_PERFORMANCE,
	CONF_CHANNELS,
	CONF_COMPRESSION,
	CONF_MAX_MIGRATIONS,
	CONF_NKEYS
};

struct conf_net {
	int family;			/* AF_INET or AF_INET6 */
	unsigned int prefix;
	unsigned char addr[16];
};

/* A whole host configuration: what the file says, defaults for the rest. */
struct conf {
	bool incoming, outgoing;
	__u16 port;
	__u32 networks;			/* enum vmmig_networks */
	unsigned int nnets;
	struct conf_net nets[VMMIG_MAX_NETWORKS];
	__u32 perf;			/* enum vmmig_perf */
	__u32 channels;
	__u32 compression;		/* enum vmmig_comp */
	__u32 max_migrations;
	unsigned int line[CONF_NKEYS];	/* where each key was given; 0: not given */
};

extern const char *const conf_key_names[CONF_NKEYS];

void conf_defaults(struct conf *c);
int conf_parse(FILE *f, const char *path, struct conf *c);
int conf_net_format(const struct conf_net *n, char *buf, size_t len);

#endif
