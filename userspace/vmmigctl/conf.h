/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration file of vmmigctl apply, vmmig.conf(5). conf.c parses
 * it; apply.c turns it into one SET_HOST request.
 *
 * A new key is an enum conf_key entry,
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
	CONF_AUTH,
	CONF_PSK_FILE,
	CONF_PRIVATE_KEY_FILE,
	CONF_ENCRYPTION,
	CONF_HANDSHAKE_TIMEOUT_MS,
	CONF_MAX_HANDSHAKES,
	CONF_PEER,			/* the only key given once per peer */
	CONF_BANDWIDTH,
	CONF_NKEYS
};

/* Handshake limits, as the kernel checks them (uapi/linux/vmmig.h). */
#define CONF_HS_TIMEOUT_MS_DEFAULT	5000
#define CONF_HS_TIMEOUT_MS_MIN		100
#define CONF_HS_TIMEOUT_MS_MAX		60000
#define CONF_MAX_HANDSHAKES_DEFAULT	16
#define CONF_MAX_HANDSHAKES_MAX		1024

#define CONF_PEER_NAME_MAX		31

struct conf_net {
	int family;			/* AF_INET or AF_INET6 */
	unsigned int prefix;
	unsigned char addr[16];
};

struct conf_peer {
	char name[CONF_PEER_NAME_MAX + 1];
	__u8 key[VMMIG_KEY_LEN];	/* its public key */
	__u32 allow;			/* VMMIG_PEER_SEND | VMMIG_PEER_RECEIVE */
	int family;			/* 0: any address; AF_INET, AF_INET6 */
	unsigned char addr[16];
	unsigned int line;
};

/*
 * A whole host configuration: what the file says, defaults for the rest.
 * Without psk-file or private-key-file the host keeps the key it has
 * (keys are write-only). It holds keys: explicit_bzero() it when done.
 */
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
	__u32 auth;			/* enum vmmig_auth_mode */
	bool has_psk, has_private_key, encryption;
	__u8 psk[VMMIG_KEY_LEN];
	__u8 private_key[VMMIG_KEY_LEN];
	__u32 handshake_timeout_ms;
	__u32 max_handshakes;
	__u64 bandwidth;		/* bytes per second; 0: no cap */
	unsigned int npeers;
	struct conf_peer peers[VMMIG_MAX_PEERS];
	/* Where each key was given (peer: the first); 0: not given. */
	unsigned int line[CONF_NKEYS];
};

extern const char *const conf_key_names[CONF_NKEYS];

void conf_defaults(struct conf *c);
int conf_parse(FILE *f, const char *path, struct conf *c);
int conf_net_format(const struct conf_net *n, char *buf, size_t len);

#endif
