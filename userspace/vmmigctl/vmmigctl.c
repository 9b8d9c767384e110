// SPDX-License-Identifier: GPL-2.0
/*
 * vmmigctl: show and change the host settings of vmmig (VM live migration
 * in the kernel) in the current network namespace. The grammar follows
 * ip(8) and wg(8); vmmigctl(8) documents it, its output and exit codes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include <linux/vmmig.h>

#include "vmmigctl.h"

static bool json;

/* The words for the uapi enums, by value, up to NULL. */
static const char *const perf_names[] = { "tcp", "compression", "rdma", NULL };
static const char *const networks_names[] = { "any", "listed", NULL };
static const char *const comp_names[] = { "none", "lz4", "zstd", NULL };
static const char *const dir_names[] = { "none", "outgoing", "incoming", NULL };
static const char *const state_names[] = { "new", "active", "finished", "aborted", NULL };
static const char *const notify_names[] = { "?", "started", "finished", "aborted", "refused",
					    NULL };

static const char *name_of(const char *const *names, unsigned int v)
{
	unsigned int i;

	for (i = 0; names[i]; i++)
		if (i == v)
			return names[i];
	return "?";
}

static void usage(FILE *f)
{
	fputs("Usage: vmmigctl [-j] COMMAND [ARGUMENTS]\n"
	      "\n"
	      "Host settings of vmmig (VM live migration) in this network namespace.\n"
	      "\n"
	      "  show                           settings, network list and counters\n"
	      "  enable [incoming | outgoing]   allow migrations (both directions if\n"
	      "                                 neither is named)\n"
	      "  disable [incoming | outgoing]  refuse new migrations\n"
	      "  set SETTING VALUE [SETTING VALUE]...\n"
	      "      port PORT                  1..65535, default 6600\n"
	      "      networks any | listed      who may migrate in: anyone, or the network list\n"
	      "      performance tcp | compression | rdma\n"
	      "      channels N                 1..16, default 2\n"
	      "      compression lz4 | zstd     codec of the compression option\n"
	      "      max-migrations N           1..256, default 2\n"
	      "  network add CIDR               e.g. 192.168.10.0/24 or fd00:10::/64\n"
	      "  network del CIDR\n"
	      "  network list\n"
	      "  sessions [-w]                  migrations and their progress; -w: live\n"
	      "  monitor                        print migration events as they happen\n"
	      "  help                           this text\n"
	      "\n"
	      "  -j, --json                     JSON output for show, network list,\n"
	      "                                 sessions and monitor\n"
	      "\n"
	      "Exit status: 0 done, 1 bad command line, 2 refused by the kernel, 3 vmmig\n"
	      "not loaded, 4 not permitted, 5 system error. See vmmigctl(8).\n", f);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fputs("vmmigctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'vmmigctl help'.\n", stderr);
	return EXIT_USAGE;
}

/* What the attributes of the request being sent are called on our command line. */
static const char *const host_attr_names[VMMIG_A_HOST_MAX + 1] = {
	[VMMIG_A_HOST_INCOMING] = "incoming",
	[VMMIG_A_HOST_OUTGOING] = "outgoing",
	[VMMIG_A_HOST_PORT] = "port",
	[VMMIG_A_HOST_NETWORKS] = "networks",
	[VMMIG_A_HOST_PERFORMANCE] = "performance",
	[VMMIG_A_HOST_CHANNELS] = "channels",
	[VMMIG_A_HOST_COMPRESSION] = "compression",
	[VMMIG_A_HOST_MAX_MIGRATIONS] = "max-migrations",
};

static const char *const net_attr_names[VMMIG_A_NET_MAX + 1] = {
	[VMMIG_A_NET_ADDR4] = "address",
	[VMMIG_A_NET_ADDR6] = "address",
	[VMMIG_A_NET_PREFIX_LEN] = "prefix length",
};

static const char *const *attr_names;
static int attr_max;

static const char perm_hint[] =
	"vmmigctl: changing settings needs CAP_NET_ADMIN in the user namespace that\n"
	"vmmigctl: owns this network namespace\n";

/*
 * A failed request: say what, why (the kernel's words first, with the
 * setting it blamed and the values it allows), and pick the exit code.
 */
static int fail(struct ctl *c, const char *what, int err)
{
	const char *attr = NULL;

	err = err < 0 ? -err : err;
	/* The kernel's own texts may name it already. */
	if (attr_names && c->err_attr > 0 && c->err_attr <= attr_max)
		attr = attr_names[c->err_attr];
	if (attr && strstr(c->errmsg, attr))
		attr = NULL;
	fprintf(stderr, "vmmigctl: %s: ", what);
	if (attr)
		fprintf(stderr, "%s: ", attr);
	if (c->errmsg[0])
		fprintf(stderr, "%s", c->errmsg);
	if (c->errmsg[0] && c->err_range)
		fprintf(stderr, ", allowed %llu..%llu", (unsigned long long)c->err_min,
			(unsigned long long)c->err_max);
	fprintf(stderr, c->errmsg[0] ? " (%s)\n" : "%s\n", strerror(err));
	if (err == EPERM) {
		fputs(perm_hint, stderr);
		return EXIT_PERM;
	}
	return err == ENOMEM || err == EIO ? EXIT_SYSTEM : EXIT_REFUSED;
}

static int lookup(const char *const *names, const char *word)
{
	unsigned int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(names[i], word))
			return i;
	return -1;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out <= max;
}

static void fmt_addr(char *buf, size_t len, struct nlattr *a4, struct nlattr *a6)
{
	if (a4 && nla_len(a4) == 4)
		inet_ntop(AF_INET, nla_data(a4), buf, len);
	else if (a6 && nla_len(a6) == 16)
		inet_ntop(AF_INET6, nla_data(a6), buf, len);
	else
		snprintf(buf, len, "-");
}

static __u32 get_u32(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u32(tb[type]) : 0;
}

static __u64 get_u64(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u64(tb[type]) : 0;
}

/* ---- show ---- */

struct host_info {
	bool have;
	__u8 incoming, outgoing;
	__u16 port;
	__u32 networks, perf, channels, compression, max, active;
	__u64 refused_network, refused_disabled, refused_busy;
};

static int on_host(struct nlattr **tb, void *arg)
{
	struct host_info *h = arg;

	h->have = true;
	h->incoming = tb[VMMIG_A_HOST_INCOMING] ? nla_get_u8(tb[VMMIG_A_HOST_INCOMING]) : 0;
	h->outgoing = tb[VMMIG_A_HOST_OUTGOING] ? nla_get_u8(tb[VMMIG_A_HOST_OUTGOING]) : 0;
	h->port = tb[VMMIG_A_HOST_PORT] ? nla_get_u16(tb[VMMIG_A_HOST_PORT]) : 0;
	h->networks = get_u32(tb, VMMIG_A_HOST_NETWORKS);
	h->perf = get_u32(tb, VMMIG_A_HOST_PERFORMANCE);
	h->channels = get_u32(tb, VMMIG_A_HOST_CHANNELS);
	h->compression = get_u32(tb, VMMIG_A_HOST_COMPRESSION);
	h->max = get_u32(tb, VMMIG_A_HOST_MAX_MIGRATIONS);
	h->active = get_u32(tb, VMMIG_A_HOST_ACTIVE_MIGRATIONS);
	h->refused_network = get_u64(tb, VMMIG_A_HOST_REFUSED_NETWORK);
	h->refused_disabled = get_u64(tb, VMMIG_A_HOST_REFUSED_DISABLED);
	h->refused_busy = get_u64(tb, VMMIG_A_HOST_REFUSED_BUSY);
	return 0;
}

struct net_list {
	unsigned int n;
	char cidr[VMMIG_MAX_NETWORKS][INET6_ADDRSTRLEN + 4];
};

static int on_network(struct nlattr **tb, void *arg)
{
	struct net_list *l = arg;
	char addr[INET6_ADDRSTRLEN];

	if (l->n == VMMIG_MAX_NETWORKS)
		return 0;
	fmt_addr(addr, sizeof(addr), tb[VMMIG_A_NET_ADDR4], tb[VMMIG_A_NET_ADDR6]);
	snprintf(l->cidr[l->n++], sizeof(l->cidr[0]), "%s/%u", addr,
		 tb[VMMIG_A_NET_PREFIX_LEN] ? nla_get_u8(tb[VMMIG_A_NET_PREFIX_LEN]) : 0);
	return 0;
}

static int get_networks(struct ctl *c, struct net_list *l)
{
	struct nl_msg *msg = ctl_msg(c, VMMIG_CMD_GET_NETWORK, NLM_F_DUMP);

	l->n = 0;
	if (!msg)
		return -ENOMEM;
	return ctl_request(c, msg, VMMIG_A_NET_MAX, on_network, l);
}

static void print_networks_json(const struct net_list *l)
{
	unsigned int i;

	putchar('[');
	for (i = 0; i < l->n; i++) {
		if (i)
			putchar(',');
		json_str(stdout, l->cidr[i]);
	}
	putchar(']');
}

static int cmd_show(struct ctl *c)
{
	struct host_info h = { 0 };
	static struct net_list l;
	struct nl_msg *msg;
	unsigned int i;
	bool first = true;
	int ret;

	msg = ctl_msg(c, VMMIG_CMD_GET_HOST, 0);
	if (!msg)
		return fail(c, "show", ENOMEM);
	ret = ctl_request(c, msg, VMMIG_A_HOST_MAX, on_host, &h);
	if (!ret && !h.have)
		ret = -EIO;
	if (!ret)
		ret = get_networks(c, &l);
	if (ret)
		return fail(c, "show", ret);

	if (json) {
		putchar('{');
		json_key(stdout, &first, "incoming");
		printf("%s", h.incoming ? "true" : "false");
		json_key(stdout, &first, "outgoing");
		printf("%s", h.outgoing ? "true" : "false");
		json_key(stdout, &first, "port");
		printf("%u", h.port);
		json_key(stdout, &first, "networks");
		json_str(stdout, name_of(networks_names, h.networks));
		json_key(stdout, &first, "network-list");
		print_networks_json(&l);
		json_key(stdout, &first, "performance");
		json_str(stdout, name_of(perf_names, h.perf));
		json_key(stdout, &first, "channels");
		printf("%u", h.channels);
		json_key(stdout, &first, "compression");
		json_str(stdout, name_of(comp_names, h.compression));
		json_key(stdout, &first, "max-migrations");
		printf("%u", h.max);
		json_key(stdout, &first, "active-migrations");
		printf("%u", h.active);
		json_key(stdout, &first, "refused-network");
		printf("%llu", (unsigned long long)h.refused_network);
		json_key(stdout, &first, "refused-disabled");
		printf("%llu", (unsigned long long)h.refused_disabled);
		json_key(stdout, &first, "refused-busy");
		printf("%llu", (unsigned long long)h.refused_busy);
		puts("}");
		return EXIT_OK;
	}
	printf("incoming: %s\n", h.incoming ? "enabled" : "disabled");
	printf("outgoing: %s\n", h.outgoing ? "enabled" : "disabled");
	printf("port: %u\n", h.port);
	printf("networks: %s\n", name_of(networks_names, h.networks));
	for (i = 0; i < l.n; i++)
		printf("  %s%s\n", l.cidr[i], h.networks == VMMIG_NETWORKS_ANY ?
		       " (not enforced: networks any)" : "");
	printf("performance: %s\n", name_of(perf_names, h.perf));
	printf("channels: %u\n", h.channels);
	printf("compression: %s\n", name_of(comp_names, h.compression));
	printf("max-migrations: %u\n", h.max);
	printf("active-migrations: %u\n", h.active);
	printf("refused: %llu network, %llu disabled, %llu busy\n",
	       (unsigned long long)h.refused_network,
	       (unsigned long long)h.refused_disabled,
	       (unsigned long long)h.refused_busy);
	return EXIT_OK;
}

/* ---- enable, disable, set ---- */

static int send_set(struct ctl *c, struct nl_msg *msg, const char *what)
{
	int ret = ctl_request(c, msg, 0, NULL, NULL);

	return ret ? fail(c, what, ret) : EXIT_OK;
}

static int cmd_enable(struct ctl *c, int argc, char **argv, __u8 on)
{
	const char *what = on ? "enable" : "disable";
	bool in = true, out = true;
	struct nl_msg *msg;

	if (argc > 1)
		return bad_usage("%s: one direction at most", what);
	if (argc == 1) {
		in = !strcmp(argv[0], "incoming");
		out = !strcmp(argv[0], "outgoing");
		if (!in && !out)
			return bad_usage("'%s': not incoming or outgoing", argv[0]);
	}
	attr_names = host_attr_names;
	attr_max = VMMIG_A_HOST_MAX;
	msg = ctl_msg(c, VMMIG_CMD_SET_HOST, 0);
	if (!msg)
		return fail(c, what, ENOMEM);
	if ((in && nla_put_u8(msg, VMMIG_A_HOST_INCOMING, on)) ||
	    (out && nla_put_u8(msg, VMMIG_A_HOST_OUTGOING, on))) {
		nlmsg_free(msg);
		return fail(c, what, ENOMEM);
	}
	return send_set(c, msg, what);
}

static const char comp_usage[] =
	"compression '%s': not lz4 or zstd (for no compression: set performance tcp)";

/* Put one "SETTING VALUE" pair; returns EXIT_OK, EXIT_USAGE or EXIT_SYSTEM. */
static int put_setting(struct nl_msg *msg, const char *key, const char *val)
{
	unsigned long n;
	int i;

	if (!strcmp(key, "port")) {
		/* 0 goes to the kernel, which says why not. */
		if (!parse_uint(val, USHRT_MAX, &n))
			return bad_usage("port '%s': not a number from 1 to 65535", val);
		return nla_put_u16(msg, VMMIG_A_HOST_PORT, n) ? EXIT_SYSTEM : EXIT_OK;
	}
	if (!strcmp(key, "channels") || !strcmp(key, "max-migrations")) {
		if (!parse_uint(val, UINT_MAX, &n))
			return bad_usage("'%s': not a number", val);
		return nla_put_u32(msg, key[0] == 'c' ? VMMIG_A_HOST_CHANNELS :
				   VMMIG_A_HOST_MAX_MIGRATIONS, n) ? EXIT_SYSTEM : EXIT_OK;
	}
	if (!strcmp(key, "networks")) {
		i = lookup(networks_names, val);
		if (i < 0)
			return bad_usage("networks '%s': not any or listed", val);
		return nla_put_u32(msg, VMMIG_A_HOST_NETWORKS, i) ? EXIT_SYSTEM : EXIT_OK;
	}
	if (!strcmp(key, "performance")) {
		i = lookup(perf_names, val);
		if (i < 0)
			return bad_usage("performance '%s': not tcp, compression or rdma", val);
		return nla_put_u32(msg, VMMIG_A_HOST_PERFORMANCE, i) ? EXIT_SYSTEM : EXIT_OK;
	}
	if (!strcmp(key, "compression")) {
		i = lookup(comp_names, val);
		if (i <= 0)
			return bad_usage(comp_usage, val);
		return nla_put_u32(msg, VMMIG_A_HOST_COMPRESSION, i) ? EXIT_SYSTEM : EXIT_OK;
	}
	return bad_usage("'%s': no such setting", key);
}

static int cmd_set(struct ctl *c, int argc, char **argv)
{
	struct nl_msg *msg;
	int i, ret;

	if (!argc || argc % 2)
		return bad_usage("set: %s", argc ? "a setting without a value" :
				 "which setting?");
	attr_names = host_attr_names;
	attr_max = VMMIG_A_HOST_MAX;
	msg = ctl_msg(c, VMMIG_CMD_SET_HOST, 0);
	if (!msg)
		return fail(c, "set", ENOMEM);
	for (i = 0; i < argc; i += 2) {
		ret = put_setting(msg, argv[i], argv[i + 1]);
		if (ret) {
			nlmsg_free(msg);
			return ret == EXIT_SYSTEM ? fail(c, "set", ENOMEM) : ret;
		}
	}
	return send_set(c, msg, "set");
}

/* ---- network ---- */

/* "ADDR/PREFIX" or a bare address (one host); the kernel checks the rest. */
static int put_cidr(struct nl_msg *msg, const char *arg)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned char addr[16];
	unsigned long prefix;
	bool v6;

	if (strlen(arg) >= sizeof(buf))
		return bad_usage("'%s': not a network", arg);
	snprintf(buf, sizeof(buf), "%s", arg);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	v6 = strchr(buf, ':');
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, addr) != 1)
		return bad_usage("'%s': not an IPv4 or IPv6 address", buf);
	prefix = v6 ? 128 : 32;
	if (slash && !parse_uint(slash, 255, &prefix))
		return bad_usage("'%s': not a prefix length", slash);
	if (nla_put(msg, v6 ? VMMIG_A_NET_ADDR6 : VMMIG_A_NET_ADDR4, v6 ? 16 : 4, addr) ||
	    nla_put_u8(msg, VMMIG_A_NET_PREFIX_LEN, prefix))
		return EXIT_SYSTEM;
	return EXIT_OK;
}

static int cmd_network(struct ctl *c, int argc, char **argv)
{
	static struct net_list l;
	char what[128];
	struct nl_msg *msg;
	unsigned int i;
	bool add;
	int ret;

	if (argc == 1 && !strcmp(argv[0], "list")) {
		ret = get_networks(c, &l);
		if (ret)
			return fail(c, "network list", ret);
		if (json) {
			print_networks_json(&l);
			putchar('\n');
		}
		for (i = 0; !json && i < l.n; i++)
			puts(l.cidr[i]);
		return EXIT_OK;
	}
	if (argc != 2 || (strcmp(argv[0], "add") && strcmp(argv[0], "del")))
		return bad_usage("network: %s", "add CIDR, del CIDR or list");
	add = !strcmp(argv[0], "add");
	snprintf(what, sizeof(what), "network %s %s", argv[0], argv[1]);
	attr_names = net_attr_names;
	attr_max = VMMIG_A_NET_MAX;
	msg = ctl_msg(c, add ? VMMIG_CMD_ADD_NETWORK : VMMIG_CMD_DEL_NETWORK, 0);
	if (!msg)
		return fail(c, what, ENOMEM);
	ret = put_cidr(msg, argv[1]);
	if (ret) {
		nlmsg_free(msg);
		return ret == EXIT_SYSTEM ? fail(c, what, ENOMEM) : ret;
	}
	return send_set(c, msg, what);
}

/* ---- sessions ---- */

static void fmt_peer(char *buf, size_t len, struct nlattr **tb, int a4, int a6, int port)
{
	char addr[INET6_ADDRSTRLEN];

	fmt_addr(addr, sizeof(addr), tb[a4], tb[a6]);
	if (!tb[port])
		snprintf(buf, len, "%s", addr);
	else if (tb[a6])
		snprintf(buf, len, "[%s]:%u", addr, nla_get_u16(tb[port]));
	else
		snprintf(buf, len, "%s:%u", addr, nla_get_u16(tb[port]));
}

static void fmt_bytes(char *buf, size_t len, __u64 n, const char *suffix)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = n;
	unsigned int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s%s" : "%.0f %s%s", v, units[u], suffix);
}

/* JSON "peer" and "peer-port", if the message has them. */
static void json_peer(bool *first, struct nlattr **tb, int a4, int a6, int port)
{
	char addr[INET6_ADDRSTRLEN];

	if (!tb[a4] && !tb[a6])
		return;
	fmt_addr(addr, sizeof(addr), tb[a4], tb[a6]);
	json_key(stdout, first, "peer");
	json_str(stdout, addr);
	if (tb[port]) {
		json_key(stdout, first, "peer-port");
		printf("%u", nla_get_u16(tb[port]));
	}
}

struct sess_print {
	unsigned int n;
};

static int on_session(struct nlattr **tb, void *arg)
{
	struct sess_print *p = arg;
	__u32 state = get_u32(tb, VMMIG_A_SESS_STATE);
	__u32 dir = get_u32(tb, VMMIG_A_SESS_DIRECTION);
	char peer[INET6_ADDRSTRLEN + 16], bytes[32], rate[32];
	bool first = true;

	if (json) {
		putchar(p->n ? ',' : '[');
		putchar('{');
		json_key(stdout, &first, "id");
		printf("%u", get_u32(tb, VMMIG_A_SESS_ID));
		json_key(stdout, &first, "direction");
		json_str(stdout, name_of(dir_names, dir));
		json_key(stdout, &first, "state");
		json_str(stdout, name_of(state_names, state));
		json_peer(&first, tb, VMMIG_A_SESS_PEER_ADDR4, VMMIG_A_SESS_PEER_ADDR6,
			  VMMIG_A_SESS_PEER_PORT);
		json_key(stdout, &first, "channels");
		printf("%u", get_u32(tb, VMMIG_A_SESS_CHANNELS));
		json_key(stdout, &first, "compression");
		json_str(stdout, name_of(comp_names, get_u32(tb, VMMIG_A_SESS_COMPRESSION)));
		json_key(stdout, &first, "rounds");
		printf("%llu", (unsigned long long)get_u64(tb, VMMIG_A_SESS_ROUNDS));
		json_key(stdout, &first, "pages");
		printf("%llu", (unsigned long long)get_u64(tb, VMMIG_A_SESS_PAGES));
		json_key(stdout, &first, "bytes");
		printf("%llu", (unsigned long long)get_u64(tb, VMMIG_A_SESS_BYTES));
		json_key(stdout, &first, "throughput");
		printf("%llu", (unsigned long long)get_u64(tb, VMMIG_A_SESS_THROUGHPUT));
		json_key(stdout, &first, "elapsed-ms");
		printf("%llu", (unsigned long long)get_u64(tb, VMMIG_A_SESS_ELAPSED_MS));
		if (tb[VMMIG_A_SESS_ERROR]) {
			json_key(stdout, &first, "error");
			printf("%u", get_u32(tb, VMMIG_A_SESS_ERROR));
		}
		putchar('}');
		p->n++;
		return 0;
	}
	if (!p->n++)
		printf("%-4s %-9s %-9s %-24s %6s %10s %11s %13s %3s %s\n", "ID", "DIRECTION",
		       "STATE", "PEER", "ROUNDS", "PAGES", "BYTES", "THROUGHPUT", "CH", "CODEC");
	fmt_peer(peer, sizeof(peer), tb, VMMIG_A_SESS_PEER_ADDR4, VMMIG_A_SESS_PEER_ADDR6,
		 VMMIG_A_SESS_PEER_PORT);
	fmt_bytes(bytes, sizeof(bytes), get_u64(tb, VMMIG_A_SESS_BYTES), "");
	fmt_bytes(rate, sizeof(rate), get_u64(tb, VMMIG_A_SESS_THROUGHPUT), "/s");
	printf("%-4u %-9s %-9s %-24s %6llu %10llu %11s %13s %3u %s",
	       get_u32(tb, VMMIG_A_SESS_ID), name_of(dir_names, dir), name_of(state_names, state),
	       peer, (unsigned long long)get_u64(tb, VMMIG_A_SESS_ROUNDS),
	       (unsigned long long)get_u64(tb, VMMIG_A_SESS_PAGES), bytes, rate,
	       get_u32(tb, VMMIG_A_SESS_CHANNELS),
	       name_of(comp_names, get_u32(tb, VMMIG_A_SESS_COMPRESSION)));
	if (tb[VMMIG_A_SESS_ERROR])
		printf(" (%s)", strerror(get_u32(tb, VMMIG_A_SESS_ERROR)));
	putchar('\n');
	return 0;
}

static int print_sessions(struct ctl *c)
{
	struct nl_msg *msg = ctl_msg(c, VMMIG_CMD_GET_SESSION, NLM_F_DUMP);
	struct sess_print p = { 0 };
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = ctl_request(c, msg, VMMIG_A_SESS_MAX, on_session, &p);
	if (ret)
		return ret;
	if (json)
		puts(p.n ? "]" : "[]");
	else if (!p.n)
		puts("no sessions");
	fflush(stdout);
	return 0;
}

static int drain_events(struct nlattr **tb, void *arg)
{
	(void)tb;
	(void)arg;
	return 0;
}

/*
 * -w: the table again every second, and at once when a migration starts,
 * ends or is refused; a JSON array per line with -j. Until killed.
 */
static int cmd_sessions(struct ctl *c, int argc, char **argv)
{
	struct nl_sock *ev;
	struct pollfd pfd;
	bool tty = isatty(STDOUT_FILENO);
	int ret;

	if (argc > 1 || (argc == 1 && strcmp(argv[0], "-w")))
		return bad_usage("sessions: %s", "the only option is -w");
	if (!argc) {
		ret = print_sessions(c);
		return ret ? fail(c, "sessions", ret) : EXIT_OK;
	}
	ev = ctl_events_open(c);
	if (!ev)
		return fail(c, "sessions -w: events group", EIO);
	pfd = (struct pollfd){ .fd = nl_socket_get_fd(ev), .events = POLLIN };
	for (;;) {
		if (tty && !json)
			fputs("\033[H\033[2J", stdout);
		ret = print_sessions(c);
		if (ret)
			break;
		if (!tty && !json)
			putchar('\n');
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		ret = ctl_events_read(ev, VMMIG_A_SESS_MAX, drain_events, NULL);
		if (ret)
			break;
	}
	nl_socket_free(ev);
	return fail(c, "sessions", ret);
}

/* ---- monitor ---- */

static int on_event(struct nlattr **tb, void *arg)
{
	__u32 event = get_u32(tb, VMMIG_A_SESS_EVENT);
	__u32 dir = get_u32(tb, VMMIG_A_SESS_DIRECTION);
	char peer[INET6_ADDRSTRLEN + 16];
	bool first = true;

	(void)arg;
	if (json) {
		putchar('{');
		json_key(stdout, &first, "event");
		json_str(stdout, name_of(notify_names, event));
		json_key(stdout, &first, "direction");
		json_str(stdout, name_of(dir_names, dir));
		if (tb[VMMIG_A_SESS_ID]) {
			json_key(stdout, &first, "id");
			printf("%u", get_u32(tb, VMMIG_A_SESS_ID));
		}
		json_peer(&first, tb, VMMIG_A_SESS_PEER_ADDR4, VMMIG_A_SESS_PEER_ADDR6,
			  VMMIG_A_SESS_PEER_PORT);
		if (tb[VMMIG_A_SESS_ERROR]) {
			json_key(stdout, &first, "error");
			printf("%u", get_u32(tb, VMMIG_A_SESS_ERROR));
		}
		if (tb[VMMIG_A_SESS_MESSAGE]) {
			json_key(stdout, &first, "message");
			json_str(stdout, nla_get_string(tb[VMMIG_A_SESS_MESSAGE]));
		}
		puts("}");
	} else {
		printf("%s %s", name_of(notify_names, event), name_of(dir_names, dir));
		if (tb[VMMIG_A_SESS_ID])
			printf(" session %u", get_u32(tb, VMMIG_A_SESS_ID));
		if (tb[VMMIG_A_SESS_PEER_ADDR4] || tb[VMMIG_A_SESS_PEER_ADDR6]) {
			fmt_peer(peer, sizeof(peer), tb, VMMIG_A_SESS_PEER_ADDR4,
				 VMMIG_A_SESS_PEER_ADDR6, VMMIG_A_SESS_PEER_PORT);
			printf(" peer %s", peer);
		}
		if (tb[VMMIG_A_SESS_MESSAGE])
			printf(": %s", nla_get_string(tb[VMMIG_A_SESS_MESSAGE]));
		if (tb[VMMIG_A_SESS_ERROR])
			printf(" (%s)", strerror(get_u32(tb, VMMIG_A_SESS_ERROR)));
		putchar('\n');
	}
	fflush(stdout);
	return 0;
}

static int cmd_monitor(struct ctl *c, int argc)
{
	struct nl_sock *ev;
	int ret;

	if (argc)
		return bad_usage("monitor: %s", "takes no arguments");
	ev = ctl_events_open(c);
	if (!ev)
		return fail(c, "monitor: events group", EIO);
	do
		ret = ctl_events_read(ev, VMMIG_A_SESS_MAX, on_event, NULL);
	while (!ret);
	nl_socket_free(ev);
	return fail(c, "monitor", ret);
}

int main(int argc, char **argv)
{
	struct ctl c;
	const char *cmd;
	int i = 1, ret;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			return bad_usage("'%s': no such option", argv[i]);
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[i++];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "show") && strcmp(cmd, "enable") && strcmp(cmd, "disable") &&
	    strcmp(cmd, "set") && strcmp(cmd, "network") && strcmp(cmd, "sessions") &&
	    strcmp(cmd, "monitor"))
		return bad_usage("'%s': no such command", cmd);
	if (!strcmp(cmd, "show") && argc)
		return bad_usage("show: %s", "takes no arguments");

	ret = ctl_open(&c);
	if (ret == -ENOENT) {
		fprintf(stderr, "vmmigctl: no generic netlink family \"%s\": %s\n",
			VMMIG_GENL_NAME, "is the vmmig module loaded?");
		return EXIT_NOVMMIG;
	}
	if (ret) {
		fprintf(stderr, "vmmigctl: generic netlink: %s\n", strerror(-ret));
		return EXIT_SYSTEM;
	}
	if (!strcmp(cmd, "show"))
		ret = cmd_show(&c);
	else if (!strcmp(cmd, "enable"))
		ret = cmd_enable(&c, argc, argv, 1);
	else if (!strcmp(cmd, "disable"))
		ret = cmd_enable(&c, argc, argv, 0);
	else if (!strcmp(cmd, "set"))
		ret = cmd_set(&c, argc, argv);
	else if (!strcmp(cmd, "network"))
		ret = cmd_network(&c, argc, argv);
	else if (!strcmp(cmd, "sessions"))
		ret = cmd_sessions(&c, argc, argv);
	else
		ret = cmd_monitor(&c, argc);
	ctl_close(&c);
	return ret;
}
