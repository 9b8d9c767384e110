// SPDX-License-Identifier: GPL-2.0
/*
 * vmmigctl apply [-n] [FILE]: make the host's settings what a vmmig.conf(5)
 * file says. The whole file becomes one SET_HOST request (with the network
 * list as NETWORK_LIST, the peer list as PEER_LIST, the keys of the key
 * files), which the kernel applies all or nothing: a file
 * the kernel refuses changes nothing, and the attribute it blames is
 * traced back to the line that gave it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "vmmigctl.h"
#include "conf.h"

/*
 * Where in the request each key's attributes are, to name its line; each
 * peer has its own span, inside the one of the peer list.
 */
struct span {
	__u32 start, end;
	enum conf_key key;
	unsigned int line;	/* 0: not in the file */
	const char *peer;	/* the peer's name, for a peer's span */
};

struct request {
	struct nl_msg *msg;
	unsigned int n;
	struct span spans[CONF_NKEYS + VMMIG_MAX_PEERS];
};

static __u32 msg_len(struct nl_msg *msg)
{
	return nlmsg_hdr(msg)->nlmsg_len;
}

static struct span *span_open(struct request *r, enum conf_key key, unsigned int line)
{
	struct span *s = &r->spans[r->n++];

	s->start = msg_len(r->msg);
	s->key = key;
	s->line = line;
	return s;
}

static void span_close(struct request *r, struct span *s)
{
	s->end = msg_len(r->msg);
}

static int put_networks(struct nl_msg *msg, const struct conf *c)
{
	struct nlattr *list, *e;
	unsigned int i;

	if (nla_put_u32(msg, VMMIG_A_HOST_NETWORKS, c->networks))
		return -1;
	/* libnl drops a nest that stays empty: an empty list is put as it is. */
	if (!c->nnets)
		return nla_put(msg, VMMIG_A_HOST_NETWORK_LIST | NLA_F_NESTED, 0, NULL);
	list = nla_nest_start(msg, VMMIG_A_HOST_NETWORK_LIST | NLA_F_NESTED);
	if (!list)
		return -1;
	for (i = 0; i < c->nnets; i++) {
		const struct conf_net *n = &c->nets[i];
		bool v6 = n->family == AF_INET6;

		e = nla_nest_start(msg, VMMIG_A_NETLIST_ENTRY | NLA_F_NESTED);
		if (!e || nla_put(msg, v6 ? VMMIG_A_NETENT_ADDR6 : VMMIG_A_NETENT_ADDR4,
				  v6 ? 16 : 4, n->addr) ||
		    nla_put_u8(msg, VMMIG_A_NETENT_PREFIX_LEN, n->prefix))
			return -1;
		nla_nest_end(msg, e);
	}
	nla_nest_end(msg, list);
	return 0;
}

/* The whole peer list, each peer in its own span. */
static int put_peers(struct request *r, const struct conf *c)
{
	struct nl_msg *msg = r->msg;
	struct nlattr *list, *e;
	struct span *s;
	unsigned int i;

	if (!c->npeers)
		return nla_put(msg, VMMIG_A_HOST_PEER_LIST | NLA_F_NESTED, 0, NULL);
	list = nla_nest_start(msg, VMMIG_A_HOST_PEER_LIST | NLA_F_NESTED);
	if (!list)
		return -1;
	for (i = 0; i < c->npeers; i++) {
		const struct conf_peer *p = &c->peers[i];
		bool v6 = p->family == AF_INET6;

		s = span_open(r, CONF_PEER, p->line);
		s->peer = p->name;
		e = nla_nest_start(msg, VMMIG_A_PEERLIST_ENTRY | NLA_F_NESTED);
		if (!e || nla_put_string(msg, VMMIG_A_PEERENT_NAME, p->name) ||
		    nla_put(msg, VMMIG_A_PEERENT_PUBLIC_KEY, VMMIG_KEY_LEN, p->key) ||
		    nla_put_u32(msg, VMMIG_A_PEERENT_ALLOW, p->allow) ||
		    (p->family && nla_put(msg, v6 ? VMMIG_A_PEERENT_ADDR6 : VMMIG_A_PEERENT_ADDR4,
					  v6 ? 16 : 4, p->addr)))
			return -1;
		nla_nest_end(msg, e);
		span_close(r, s);
	}
	nla_nest_end(msg, list);
	return 0;
}

/*
 * Every setting, given or default: the request leaves nothing as it was,
 * but for the keys, which stay when the file names no key file.
 */
static int put_conf(struct request *r, const struct conf *c)
{
	struct nl_msg *msg = r->msg;
	int key, ret = 0;
	struct span *s;

	for (key = 0; key < CONF_NKEYS && !ret; key++) {
		s = span_open(r, key, c->line[key]);
		switch (key) {
		case CONF_INCOMING:
			ret = nla_put_u8(msg, VMMIG_A_HOST_INCOMING, c->incoming);
			break;
		case CONF_OUTGOING:
			ret = nla_put_u8(msg, VMMIG_A_HOST_OUTGOING, c->outgoing);
			break;
		case CONF_PORT:
			ret = nla_put_u16(msg, VMMIG_A_HOST_PORT, c->port);
			break;
		case CONF_NETWORKS:
			ret = put_networks(msg, c);
			break;
		case CONF_PERFORMANCE:
			ret = nla_put_u32(msg, VMMIG_A_HOST_PERFORMANCE, c->perf);
			break;
		case CONF_CHANNELS:
			ret = nla_put_u32(msg, VMMIG_A_HOST_CHANNELS, c->channels);
			break;
		case CONF_COMPRESSION:
			ret = nla_put_u32(msg, VMMIG_A_HOST_COMPRESSION, c->compression);
			break;
		case CONF_MAX_MIGRATIONS:
			ret = nla_put_u32(msg, VMMIG_A_HOST_MAX_MIGRATIONS, c->max_migrations);
			break;
		case CONF_AUTH:
			ret = nla_put_u32(msg, VMMIG_A_HOST_AUTH_MODE, c->auth);
			break;
		case CONF_PSK_FILE:
			if (c->has_psk)
				ret = nla_put(msg, VMMIG_A_HOST_PSK, VMMIG_KEY_LEN, c->psk);
			break;
		case CONF_PRIVATE_KEY_FILE:
			if (c->has_private_key)
				ret = nla_put(msg, VMMIG_A_HOST_PRIVATE_KEY, VMMIG_KEY_LEN,
					      c->private_key);
			break;
		case CONF_ENCRYPTION:
			ret = nla_put_u8(msg, VMMIG_A_HOST_ENCRYPTION, c->encryption);
			break;
		case CONF_HANDSHAKE_TIMEOUT_MS:
			ret = nla_put_u32(msg, VMMIG_A_HOST_HANDSHAKE_TIMEOUT_MS,
					  c->handshake_timeout_ms);
			break;
		case CONF_MAX_HANDSHAKES:
			ret = nla_put_u32(msg, VMMIG_A_HOST_MAX_HANDSHAKES, c->max_handshakes);
			break;
		case CONF_PEER:
			ret = put_peers(r, c);
			break;
		case CONF_BANDWIDTH:
			ret = nla_put_u64(msg, VMMIG_A_HOST_BANDWIDTH, c->bandwidth);
			break;
		}
		span_close(r, s);
	}
	return ret ? -ENOMEM : 0;
}

/* "vmmigctl: FILE:LINE: KEY: what the kernel said (errno)". */
static int refused(struct ctl *ctl, const struct request *r, const char *path, int err)
{
	const struct span *s = NULL;
	unsigned int i;

	err = err < 0 ? -err : err;
	/* The narrowest span: a peer's rather than the peer list's. */
	for (i = 0; ctl->err_offs && i < r->n; i++)
		if (ctl->err_offs >= r->spans[i].start && ctl->err_offs < r->spans[i].end &&
		    (!s || r->spans[i].end - r->spans[i].start < s->end - s->start))
			s = &r->spans[i];
	fprintf(stderr, "vmmigctl: %s", path);
	if (s && s->peer)
		fprintf(stderr, ":%u: peer %s", s->line, s->peer);
	else if (s && s->line)
		fprintf(stderr, ":%u: %s", s->line, conf_key_names[s->key]);
	else if (s)
		fprintf(stderr, ": %s (not in the file: its default)", conf_key_names[s->key]);
	fputs(": ", stderr);
	if (ctl->errmsg[0])
		fprintf(stderr, "%s", ctl->errmsg);
	if (ctl->errmsg[0] && ctl->err_range)
		fprintf(stderr, ", allowed %llu..%llu", (unsigned long long)ctl->err_min,
			(unsigned long long)ctl->err_max);
	fprintf(stderr, ctl->errmsg[0] ? " (%s)\n" : "%s\n", strerror(err));
	fprintf(stderr, "vmmigctl: %s: nothing applied\n", path);
	if (err == EPERM) {
		fputs("vmmigctl: changing settings needs CAP_NET_ADMIN in the user namespace that\n"
		      "vmmigctl: owns this network namespace\n", stderr);
		return EXIT_PERM;
	}
	return err == ENOMEM || err == EIO ? EXIT_SYSTEM : EXIT_REFUSED;
}

/* The keys of a struct conf go before its memory does. */
static void conf_free(struct conf *c)
{
	explicit_bzero(c, sizeof(*c));
	free(c);
}

static int has_keys(struct nlattr **tb, void *arg)
{
	bool *has = arg;

	has[0] = tb[VMMIG_A_HOST_PSK_FINGERPRINT];
	has[1] = tb[VMMIG_A_HOST_PUBLIC_KEY_FINGERPRINT];
	return 0;
}

/*
 * A mode without its key file keeps the host's key: say so clearly when
 * the host has none, rather than pass on the kernel's refusal. EXIT_OK,
 * EXIT_USAGE or EXIT_SYSTEM.
 */
static int check_host_keys(struct ctl *ctl, const struct conf *c, const char *path)
{
	bool need_psk = c->auth == VMMIG_AUTH_PSK && !c->has_psk;
	bool need_priv = c->auth == VMMIG_AUTH_KEYPAIR && !c->has_private_key;
	bool has[2] = { false, false };
	struct nl_msg *msg;
	int ret;

	if (!need_psk && !need_priv)
		return 0;
	msg = ctl_msg(ctl, VMMIG_CMD_GET_HOST, 0);
	ret = msg ? ctl_request(ctl, msg, VMMIG_A_HOST_MAX, has_keys, has) : -ENOMEM;
	if (ret) {
		fprintf(stderr, "vmmigctl: %s: reading the host's settings: %s\n", path,
			strerror(ret < 0 ? -ret : ret));
		return EXIT_SYSTEM;
	}
	if ((need_psk && !has[0]) || (need_priv && !has[1])) {
		fprintf(stderr, "vmmigctl: %s:%u: auth = %s needs %s: the host has no %s\n",
			path, c->line[CONF_AUTH], need_psk ? "psk" : "keypair",
			need_psk ? "psk-file" : "private-key-file",
			need_psk ? "pre-shared key" : "private key");
		fprintf(stderr, "vmmigctl: %s: nothing applied\n", path);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_apply(int argc, char **argv)
{
	const char *path = CONF_DEFAULT_PATH;
	struct request r = { 0 };
	bool check = false;
	struct conf *c;
	struct ctl ctl;
	FILE *f;
	int ret;

	if (argc && !strcmp(argv[0], "-n")) {
		check = true;
		argc--;
		argv++;
	}
	if (argc > 1 || (argc == 1 && argv[0][0] == '-' && argv[0][1])) {
		fprintf(stderr, "vmmigctl: apply: %s\nTry 'vmmigctl help'.\n",
			"apply [-n] [FILE]");
		return EXIT_USAGE;
	}
	if (argc)
		path = argv[0];
	c = malloc(sizeof(*c));
	if (!c)
		return EXIT_SYSTEM;
	f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	if (!f) {
		fprintf(stderr, "vmmigctl: %s: %s\n", path, strerror(errno));
		free(c);
		return EXIT_USAGE;
	}
	ret = conf_parse(f, path, c);
	if (f != stdin)
		fclose(f);
	if (ret) {
		fprintf(stderr, "vmmigctl: %s: nothing applied\n", path);
		conf_free(c);
		return EXIT_USAGE;
	}
	if (check) {
		printf("%s: ok\n", path);
		conf_free(c);
		return EXIT_OK;
	}

	ret = ctl_open(&ctl);
	if (ret) {
		conf_free(c);
		return ctl_open_failed(ret);
	}
	ret = check_host_keys(&ctl, c, path);
	if (ret) {
		ctl_close(&ctl);
		conf_free(c);
		return ret;
	}
	r.msg = ctl_msg(&ctl, VMMIG_CMD_SET_HOST, 0);
	if (!r.msg || put_conf(&r, c)) {
		fprintf(stderr, "vmmigctl: %s: %s\n", path, strerror(ENOMEM));
		nlmsg_free(r.msg);
		ret = EXIT_SYSTEM;
	} else {
		ret = ctl_request(&ctl, r.msg, 0, NULL, NULL);
		ret = ret ? refused(&ctl, &r, path, ret) : EXIT_OK;
	}
	ctl_close(&ctl);
	conf_free(c);
	return ret;
}
