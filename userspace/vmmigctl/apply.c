// SPDX-License-Identifier: GPL-2.0
/*
 * vmmigctl apply [-n] [FILE]: make the host's settings what a vmmig.conf(5)
 * file says. The whole file becomes one SET_HOST request (with the network
 * list as NETWORK_LIST), which the kernel applies all or nothing: a file
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

/* Where in the request each key's attributes are, to name its line. */
struct span {
	__u32 start, end;
	enum conf_key key;
};

struct request {
	struct nl_msg *msg;
	unsigned int n;
	struct span spans[CONF_NKEYS];
};

static __u32 msg_len(struct nl_msg *msg)
{
	return nlmsg_hdr(msg)->nlmsg_len;
}

static void span_open(struct request *r, enum conf_key key)
{
	r->spans[r->n].start = msg_len(r->msg);
	r->spans[r->n].key = key;
}

static void span_close(struct request *r)
{
	r->spans[r->n++].end = msg_len(r->msg);
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

/* Every setting, given or default: the request leaves nothing as it was. */
static int put_conf(struct request *r, const struct conf *c)
{
	struct nl_msg *msg = r->msg;
	int key, ret = 0;

	for (key = 0; key < CONF_NKEYS && !ret; key++) {
		span_open(r, key);
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
		}
		span_close(r);
	}
	return ret ? -ENOMEM : 0;
}

/* "vmmigctl: FILE:LINE: KEY: what the kernel said (errno)". */
static int refused(struct ctl *ctl, const struct request *r, const struct conf *c,
		   const char *path, int err)
{
	const struct span *s = NULL;
	unsigned int i;

	err = err < 0 ? -err : err;
	for (i = 0; ctl->err_offs && i < r->n; i++)
		if (ctl->err_offs >= r->spans[i].start && ctl->err_offs < r->spans[i].end)
			s = &r->spans[i];
	fprintf(stderr, "vmmigctl: %s", path);
	if (s && c->line[s->key])
		fprintf(stderr, ":%u: %s", c->line[s->key], conf_key_names[s->key]);
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
		free(c);
		return EXIT_USAGE;
	}
	if (check) {
		printf("%s: ok\n", path);
		free(c);
		return EXIT_OK;
	}

	ret = ctl_open(&ctl);
	if (ret) {
		free(c);
		return ctl_open_failed(ret);
	}
	r.msg = ctl_msg(&ctl, VMMIG_CMD_SET_HOST, 0);
	if (!r.msg || put_conf(&r, c)) {
		fprintf(stderr, "vmmigctl: %s: %s\n", path, strerror(ENOMEM));
		nlmsg_free(r.msg);
		ret = EXIT_SYSTEM;
	} else {
		ret = ctl_request(&ctl, r.msg, 0, NULL, NULL);
		ret = ret ? refused(&ctl, &r, c, path, ret) : EXIT_OK;
	}
	ctl_close(&ctl);
	free(c);
	return ret;
}
