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
#include <stdint.h>
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
static const char *const auth_names[] = { "none", "psk", "keypair", NULL };
/* enum vmmig_peer_allow as words: index = the bits */
static const char *const allow_names[] = { "?", "send", "receive", "both", NULL };
static const char *const onoff_names[] = { "off", "on", NULL };

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
	      "      bandwidth RATE             cap on all outgoing migrations together, in\n"
	      "                                 tc units (500mbit, 1gbit, 100mbps); 0: none\n"
	      "      auth none                  no authentication (the default)\n"
	      "      auth psk [key-file FILE]   pre-shared key (base64, as genpsk prints)\n"
	      "      auth keypair [private-key-file FILE]\n"
	      "                                 this host's X25519 key and the peer list\n"
	      "      encryption on | off        kTLS on every channel (needs psk or keypair)\n"
	      "      handshake-timeout MS       100..60000, default 5000\n"
	      "      max-handshakes N           in flight per port, 1..1024, default 16\n"
	      "  peer add NAME pubkey KEY allow send | receive | both [address ADDR]\n"
	      "                                 add a peer, or change the one of that name\n"
	      "  peer del NAME\n"
	      "  peer list                      names, key fingerprints, what each may do\n"
	      "  genkey                         a new private key, base64, on stdout\n"
	      "  genpsk                         a new pre-shared key, base64, on stdout\n"
	      "  pubkey                         private key on stdin, its public key on stdout\n"
	      "  network add CIDR               e.g. 192.168.10.0/24 or fd00:10::/64\n"
	      "  network del CIDR\n"
	      "  network list\n"
	      "  apply [-n] [FILE]              make the settings what FILE (default\n"
	      "                                 /etc/vmmig/vmmig.conf) says, all or\n"
	      "                                 nothing; -n: only check the file\n"
	      "  sessions [-w]                  migrations and their progress; -w: live\n"
	      "  session abort ID               stop migration ID (as sessions shows it) on\n"
	      "                                 both hosts; the source VM runs on\n"
	      "  monitor                        print migration events as they happen\n"
	      "  help                           this text\n"
	      "\n"
	      "  -j, --json                     JSON output for show, network list,\n"
	      "                                 peer list, sessions and monitor\n"
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
	[VMMIG_A_HOST_AUTH_MODE] = "auth",
	[VMMIG_A_HOST_PSK] = "pre-shared key",
	[VMMIG_A_HOST_PRIVATE_KEY] = "private key",
	[VMMIG_A_HOST_ENCRYPTION] = "encryption",
	[VMMIG_A_HOST_HANDSHAKE_TIMEOUT_MS] = "handshake-timeout",
	[VMMIG_A_HOST_MAX_HANDSHAKES] = "max-handshakes",
	[VMMIG_A_HOST_BANDWIDTH] = "bandwidth",
};

static const char *const peer_attr_names[VMMIG_A_PEER_MAX + 1] = {
	[VMMIG_A_PEER_NAME] = "name",
	[VMMIG_A_PEER_PUBLIC_KEY] = "public key",
	[VMMIG_A_PEER_ALLOW] = "allow",
	[VMMIG_A_PEER_ADDR4] = "address",
	[VMMIG_A_PEER_ADDR6] = "address",
};

static const char *const net_attr_names[VMMIG_A_NET_MAX + 1] = {
	[VMMIG_A_NET_ADDR4] = "address",
	[VMMIG_A_NET_ADDR6] = "address",
	[VMMIG_A_NET_PREFIX_LEN] = "prefix length",
};

static const char *const sess_attr_names[VMMIG_A_SESS_MAX + 1] = {
	[VMMIG_A_SESS_ID] = "id",
};

static const char *const *attr_names;
static int attr_max;

/* What needs the privilege, for the hint after EPERM. */
static const char *perm_what = "changing settings";
static const char perm_hint[] =
	"vmmigctl: %s needs CAP_NET_ADMIN in the user namespace that\n"
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
		fprintf(stderr, perm_hint, perm_what);
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
	__u32 auth, hs_timeout, max_hs;
	__u64 bandwidth;
	__u8 encryption;
	char psk_fpr[32], pub_fpr[32], pub[KEY_B64_LEN + 1];
	__u64 hs[VMMIG_A_HOST_HS_BUSY - VMMIG_A_HOST_HS_OK + 1];
};

/* The handshake counters, VMMIG_A_HOST_HS_OK on, as show names them. */
static const char *const hs_names[] = {
	"ok", "bad-key", "mode-mismatch", "unknown-peer", "not-allowed",
	"encryption-mismatch", "refused", "broken", "timeout", "busy",
};

static void get_str(char *buf, size_t len, struct nlattr **tb, int type)
{
	snprintf(buf, len, "%s", tb[type] ? nla_get_string(tb[type]) : "");
}

static int on_host(struct nlattr **tb, void *arg)
{
	struct host_info *h = arg;
	unsigned int i;

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
	h->auth = get_u32(tb, VMMIG_A_HOST_AUTH_MODE);
	h->encryption = tb[VMMIG_A_HOST_ENCRYPTION] ? nla_get_u8(tb[VMMIG_A_HOST_ENCRYPTION]) : 0;
	h->hs_timeout = get_u32(tb, VMMIG_A_HOST_HANDSHAKE_TIMEOUT_MS);
	h->max_hs = get_u32(tb, VMMIG_A_HOST_MAX_HANDSHAKES);
	h->bandwidth = get_u64(tb, VMMIG_A_HOST_BANDWIDTH);
	get_str(h->psk_fpr, sizeof(h->psk_fpr), tb, VMMIG_A_HOST_PSK_FINGERPRINT);
	get_str(h->pub_fpr, sizeof(h->pub_fpr), tb, VMMIG_A_HOST_PUBLIC_KEY_FINGERPRINT);
	h->pub[0] = '\0';
	if (tb[VMMIG_A_HOST_PUBLIC_KEY] && nla_len(tb[VMMIG_A_HOST_PUBLIC_KEY]) == KEY_LEN)
		key_to_base64(h->pub, nla_data(tb[VMMIG_A_HOST_PUBLIC_KEY]));
	for (i = 0; i < ARRAY_SIZE(h->hs); i++)
		h->hs[i] = get_u64(tb, VMMIG_A_HOST_HS_OK + i);
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

struct peer_info {
	char name[32];
	char fpr[32];
	__u32 allow;
	char addr[INET6_ADDRSTRLEN];
};

struct peer_list {
	unsigned int n;
	struct peer_info p[VMMIG_MAX_PEERS];
};

static int on_peer(struct nlattr **tb, void *arg)
{
	struct peer_list *l = arg;
	struct peer_info *p;

	if (l->n == VMMIG_MAX_PEERS)
		return 0;
	p = &l->p[l->n++];
	get_str(p->name, sizeof(p->name), tb, VMMIG_A_PEER_NAME);
	get_str(p->fpr, sizeof(p->fpr), tb, VMMIG_A_PEER_FINGERPRINT);
	p->allow = get_u32(tb, VMMIG_A_PEER_ALLOW);
	if (tb[VMMIG_A_PEER_ADDR4] || tb[VMMIG_A_PEER_ADDR6])
		fmt_addr(p->addr, sizeof(p->addr), tb[VMMIG_A_PEER_ADDR4], tb[VMMIG_A_PEER_ADDR6]);
	else
		p->addr[0] = '\0';
	return 0;
}

static int get_peers(struct ctl *c, struct peer_list *l)
{
	struct nl_msg *msg = ctl_msg(c, VMMIG_CMD_GET_PEER, NLM_F_DUMP);

	l->n = 0;
	if (!msg)
		return -ENOMEM;
	return ctl_request(c, msg, VMMIG_A_PEER_MAX, on_peer, l);
}

static void print_peers_json(const struct peer_list *l)
{
	unsigned int i;
	bool first;

	putchar('[');
	for (i = 0; i < l->n; i++) {
		first = true;
		printf(i ? ",{" : "{");
		json_key(stdout, &first, "name");
		json_str(stdout, l->p[i].name);
		json_key(stdout, &first, "fingerprint");
		json_str(stdout, l->p[i].fpr);
		json_key(stdout, &first, "allow");
		json_str(stdout, name_of(allow_names, l->p[i].allow));
		if (l->p[i].addr[0]) {
			json_key(stdout, &first, "address");
			json_str(stdout, l->p[i].addr);
		}
		putchar('}');
	}
	putchar(']');
}

static void print_peer(const struct peer_info *p)
{
	printf("%s: key %s, allow %s%s%s\n", p->name, p->fpr, name_of(allow_names, p->allow),
	       p->addr[0] ? ", address " : "", p->addr);
}

static int cmd_show(struct ctl *c)
{
	static struct peer_list pl;
	struct host_info h = { 0 };
	static struct net_list l;
	char rate[RATE_LEN];
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
	if (!ret)
		ret = get_peers(c, &pl);
	if (ret)
		return fail(c, "show", ret);
	rate_format(rate, sizeof(rate), h.bandwidth);

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
		/* Bytes per second, as the kernel has it, and as tc would write it. */
		json_key(stdout, &first, "bandwidth");
		printf("%llu", (unsigned long long)h.bandwidth);
		json_key(stdout, &first, "bandwidth-rate");
		json_str(stdout, rate);
		json_key(stdout, &first, "refused-network");
		printf("%llu", (unsigned long long)h.refused_network);
		json_key(stdout, &first, "refused-disabled");
		printf("%llu", (unsigned long long)h.refused_disabled);
		json_key(stdout, &first, "refused-busy");
		printf("%llu", (unsigned long long)h.refused_busy);
		json_key(stdout, &first, "auth");
		json_str(stdout, name_of(auth_names, h.auth));
		if (h.psk_fpr[0]) {
			json_key(stdout, &first, "psk-fingerprint");
			json_str(stdout, h.psk_fpr);
		}
		if (h.pub[0]) {
			json_key(stdout, &first, "public-key");
			json_str(stdout, h.pub);
			json_key(stdout, &first, "public-key-fingerprint");
			json_str(stdout, h.pub_fpr);
		}
		json_key(stdout, &first, "encryption");
		printf("%s", h.encryption ? "true" : "false");
		json_key(stdout, &first, "handshake-timeout-ms");
		printf("%u", h.hs_timeout);
		json_key(stdout, &first, "max-handshakes");
		printf("%u", h.max_hs);
		json_key(stdout, &first, "peers");
		print_peers_json(&pl);
		json_key(stdout, &first, "handshakes");
		putchar('{');
		for (first = true, i = 0; i < ARRAY_SIZE(h.hs); i++) {
			json_key(stdout, &first, hs_names[i]);
			printf("%llu", (unsigned long long)h.hs[i]);
		}
		puts("}}");
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
	printf("bandwidth: %s\n", rate);
	printf("refused: %llu network, %llu disabled, %llu busy\n",
	       (unsigned long long)h.refused_network,
	       (unsigned long long)h.refused_disabled,
	       (unsigned long long)h.refused_busy);
	printf("auth: %s\n", name_of(auth_names, h.auth));
	if (h.psk_fpr[0])
		printf("  pre-shared key: %s%s\n", h.psk_fpr,
		       h.auth == VMMIG_AUTH_PSK ? "" : " (not in use)");
	if (h.pub[0])
		printf("  public key: %s (%s)%s\n", h.pub, h.pub_fpr,
		       h.auth == VMMIG_AUTH_KEYPAIR ? "" : " (not in use)");
	printf("encryption: %s\n", h.encryption ? "on" : "off");
	printf("handshake-timeout: %u ms\n", h.hs_timeout);
	printf("max-handshakes: %u\n", h.max_hs);
	printf("peers:%s\n", pl.n ? "" : " none");
	for (i = 0; i < pl.n; i++) {
		fputs("  ", stdout);
		print_peer(&pl.p[i]);
	}
	fputs("handshakes:", stdout);
	for (i = 0; i < ARRAY_SIZE(h.hs); i++)
		printf(" %llu %s%s", (unsigned long long)h.hs[i], hs_names[i],
		       i + 1 < ARRAY_SIZE(h.hs) ? "," : "\n");
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
	if (!strcmp(key, "bandwidth")) {
		char m[192];
		const char *why;
		__u64 bw;

		if (rate_parse(val, &bw, &why)) {
			snprintf(m, sizeof(m), "bandwidth '%.64s': %s", val, why);
			return bad_usage("%s", m);
		}
		return nla_put_u64(msg, VMMIG_A_HOST_BANDWIDTH, bw) ? EXIT_SYSTEM : EXIT_OK;
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

/*
 * "auth MODE [key-file F | private-key-file F]" at @argv: the words it
 * took in *used; EXIT_OK, EXIT_USAGE or EXIT_SYSTEM. A key file is read
 * here, and its key goes to the kernel, never to our output.
 */
static int put_auth(struct nl_msg *msg, int argc, char **argv, int *used)
{
	const char *why, *file = NULL;
	__u8 key[KEY_LEN];
	int mode, type = 0, ret;

	mode = lookup(auth_names, argv[1]);
	if (mode < 0)
		return bad_usage("auth '%s': not none, psk or keypair", argv[1]);
	*used = 2;
	if (argc >= 4 && mode == VMMIG_AUTH_PSK && !strcmp(argv[2], "key-file"))
		type = VMMIG_A_HOST_PSK;
	else if (argc >= 4 && mode == VMMIG_AUTH_KEYPAIR && !strcmp(argv[2], "private-key-file"))
		type = VMMIG_A_HOST_PRIVATE_KEY;
	if (type) {
		file = argv[3];
		*used = 4;
		ret = key_from_file(key, file, &why);
		if (ret) {
			fprintf(stderr, "vmmigctl: set auth %s: %s %s: %s\n", argv[1], argv[2],
				file, why);
			return EXIT_USAGE;
		}
		ret = nla_put(msg, type, KEY_LEN, key);
		explicit_bzero(key, sizeof(key));
		if (ret)
			return EXIT_SYSTEM;
	}
	return nla_put_u32(msg, VMMIG_A_HOST_AUTH_MODE, mode) ? EXIT_SYSTEM : EXIT_OK;
}

/* The settings of the authentication part that take one value. */
static int put_auth_setting(struct nl_msg *msg, const char *key, const char *val)
{
	unsigned long n;
	int i;

	if (!strcmp(key, "encryption")) {
		i = lookup(onoff_names, val);
		if (i < 0)
			return bad_usage("encryption '%s': not on or off", val);
		return nla_put_u8(msg, VMMIG_A_HOST_ENCRYPTION, i) ? EXIT_SYSTEM : EXIT_OK;
	}
	if (!parse_uint(val, UINT_MAX, &n))
		return bad_usage("'%s': not a number", val);
	return nla_put_u32(msg, !strcmp(key, "max-handshakes") ? VMMIG_A_HOST_MAX_HANDSHAKES :
			   VMMIG_A_HOST_HANDSHAKE_TIMEOUT_MS, n) ? EXIT_SYSTEM : EXIT_OK;
}

static int cmd_set(struct ctl *c, int argc, char **argv)
{
	struct nl_msg *msg;
	int i, used, ret;

	if (!argc || argc == 1)
		return bad_usage("set: %s", argc ? "a setting without a value" :
				 "which setting?");
	attr_names = host_attr_names;
	attr_max = VMMIG_A_HOST_MAX;
	msg = ctl_msg(c, VMMIG_CMD_SET_HOST, 0);
	if (!msg)
		return fail(c, "set", ENOMEM);
	for (i = 0; i < argc; i += used) {
		used = 2;
		if (i + 1 == argc)
			ret = bad_usage("set: %s", "a setting without a value");
		else if (!strcmp(argv[i], "auth"))
			ret = put_auth(msg, argc - i, argv + i, &used);
		else if (!strcmp(argv[i], "encryption") || !strcmp(argv[i], "max-handshakes") ||
			 !strcmp(argv[i], "handshake-timeout"))
			ret = put_auth_setting(msg, argv[i], argv[i + 1]);
		else
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

/* ---- peer ---- */

static int peer_add(struct ctl *c, int argc, char **argv, const char *what)
{
	const char *why, *name = argv[0], *key = NULL, *allow = NULL, *addr = NULL;
	unsigned char ip[16];
	__u8 pub[KEY_LEN];
	struct nl_msg *msg;
	bool v6 = false;
	int i, a;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "pubkey"))
			key = argv[i + 1];
		else if (!strcmp(argv[i], "allow"))
			allow = argv[i + 1];
		else if (!strcmp(argv[i], "address"))
			addr = argv[i + 1];
		else
			return bad_usage("peer add: '%s': not pubkey, allow or address", argv[i]);
	}
	if (i != argc)
		return bad_usage("peer add: '%s' without a value", argv[i]);
	if (!key || !allow)
		return bad_usage("peer add: %s", "NAME pubkey KEY allow send|receive|both");
	if (key_from_base64(pub, key, &why)) {
		fprintf(stderr, "vmmigctl: %s: pubkey %s: %s\n", what, key, why);
		return EXIT_USAGE;
	}
	a = lookup(allow_names, allow);
	if (a <= 0)
		return bad_usage("allow '%s': not send, receive or both", allow);
	if (addr) {
		v6 = strchr(addr, ':');
		if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, ip) != 1)
			return bad_usage("address '%s': not an IPv4 or IPv6 address", addr);
	}
	msg = ctl_msg(c, VMMIG_CMD_ADD_PEER, 0);
	if (!msg)
		return fail(c, what, ENOMEM);
	if (nla_put_string(msg, VMMIG_A_PEER_NAME, name) ||
	    nla_put(msg, VMMIG_A_PEER_PUBLIC_KEY, KEY_LEN, pub) ||
	    nla_put_u32(msg, VMMIG_A_PEER_ALLOW, a) ||
	    (addr && nla_put(msg, v6 ? VMMIG_A_PEER_ADDR6 : VMMIG_A_PEER_ADDR4,
			     v6 ? 16 : 4, ip))) {
		nlmsg_free(msg);
		return fail(c, what, ENOMEM);
	}
	return send_set(c, msg, what);
}

static int cmd_peer(struct ctl *c, int argc, char **argv)
{
	static struct peer_list l;
	char what[128];
	struct nl_msg *msg;
	unsigned int i;
	int ret;

	attr_names = peer_attr_names;
	attr_max = VMMIG_A_PEER_MAX;
	if (argc == 1 && !strcmp(argv[0], "list")) {
		ret = get_peers(c, &l);
		if (ret)
			return fail(c, "peer list", ret);
		if (json) {
			print_peers_json(&l);
			putchar('\n');
		}
		for (i = 0; !json && i < l.n; i++)
			print_peer(&l.p[i]);
		return EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[0], "add")) {
		snprintf(what, sizeof(what), "peer add %s", argv[1]);
		return peer_add(c, argc - 1, argv + 1, what);
	}
	if (argc != 2 || strcmp(argv[0], "del"))
		return bad_usage("peer: %s", "add NAME pubkey KEY allow DIR, del NAME or list");
	snprintf(what, sizeof(what), "peer del %s", argv[1]);
	msg = ctl_msg(c, VMMIG_CMD_DEL_PEER, 0);
	if (!msg)
		return fail(c, what, ENOMEM);
	if (nla_put_string(msg, VMMIG_A_PEER_NAME, argv[1])) {
		nlmsg_free(msg);
		return fail(c, what, ENOMEM);
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

/* The counters a person reads less often than pages and bytes. */
static void json_counters(bool *first, struct nlattr **tb)
{
	static const struct {
		const char *key;
		int attr;
	} counters[] = {
		{ "zero-pages", VMMIG_A_SESS_ZERO_PAGES },
		{ "blobs", VMMIG_A_SESS_BLOBS },
		{ "comp-pages", VMMIG_A_SESS_COMP_PAGES },
		{ "incompressible-pages", VMMIG_A_SESS_INCOMPRESSIBLE_PAGES },
		{ "comp-bytes-in", VMMIG_A_SESS_COMP_BYTES_IN },
		{ "comp-bytes-out", VMMIG_A_SESS_COMP_BYTES_OUT },
		{ NULL, 0 },
	};
	unsigned int i;

	for (i = 0; counters[i].key; i++) {
		json_key(stdout, first, counters[i].key);
		printf("%llu", (unsigned long long)get_u64(tb, counters[i].attr));
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
		if (tb[VMMIG_A_SESS_BANDWIDTH]) {
			json_key(stdout, &first, "bandwidth");
			printf("%llu", (unsigned long long)get_u64(tb, VMMIG_A_SESS_BANDWIDTH));
		}
		json_counters(&first, tb);
		if (tb[VMMIG_A_SESS_ERROR]) {
			json_key(stdout, &first, "error");
			printf("%u", get_u32(tb, VMMIG_A_SESS_ERROR));
		}
		putchar('}');
		p->n++;
		return 0;
	}
	if (!p->n++)
		printf("%-4s %-9s %-9s %-24s %6s %10s %10s %11s %13s %3s %s\n", "ID", "DIRECTION",
		       "STATE", "PEER", "ROUNDS", "PAGES", "ZERO", "BYTES", "THROUGHPUT", "CH",
		       "CODEC");
	fmt_peer(peer, sizeof(peer), tb, VMMIG_A_SESS_PEER_ADDR4, VMMIG_A_SESS_PEER_ADDR6,
		 VMMIG_A_SESS_PEER_PORT);
	fmt_bytes(bytes, sizeof(bytes), get_u64(tb, VMMIG_A_SESS_BYTES), "");
	fmt_bytes(rate, sizeof(rate), get_u64(tb, VMMIG_A_SESS_THROUGHPUT), "/s");
	printf("%-4u %-9s %-9s %-24s %6llu %10llu %10llu %11s %13s %3u %s",
	       get_u32(tb, VMMIG_A_SESS_ID), name_of(dir_names, dir), name_of(state_names, state),
	       peer, (unsigned long long)get_u64(tb, VMMIG_A_SESS_ROUNDS),
	       (unsigned long long)get_u64(tb, VMMIG_A_SESS_PAGES),
	       (unsigned long long)get_u64(tb, VMMIG_A_SESS_ZERO_PAGES), bytes, rate,
	       get_u32(tb, VMMIG_A_SESS_CHANNELS),
	       name_of(comp_names, get_u32(tb, VMMIG_A_SESS_COMPRESSION)));
	/* What the codec saved, once it has been tried on a page. */
	if (get_u64(tb, VMMIG_A_SESS_COMP_BYTES_IN))
		printf(" %.0f%%", 100.0 * get_u64(tb, VMMIG_A_SESS_COMP_BYTES_OUT) /
		       get_u64(tb, VMMIG_A_SESS_COMP_BYTES_IN));
	if (get_u64(tb, VMMIG_A_SESS_BANDWIDTH)) {
		rate_format(rate, sizeof(rate), get_u64(tb, VMMIG_A_SESS_BANDWIDTH));
		printf(" cap %s", rate);
	}
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

/* session abort ID: the kernel aborts it with ECANCELED, here and at the peer. */
static int cmd_session(struct ctl *c, int argc, char **argv)
{
	unsigned long id;
	char what[64];
	struct nl_msg *msg;

	if (argc != 2 || strcmp(argv[0], "abort"))
		return bad_usage("session: %s", "abort ID");
	if (!parse_uint(argv[1], UINT32_MAX, &id) || !id)
		return bad_usage("session abort: '%s': not a session ID (see vmmigctl sessions)",
				 argv[1]);
	snprintf(what, sizeof(what), "session abort %lu", id);
	attr_names = sess_attr_names;
	attr_max = VMMIG_A_SESS_MAX;
	perm_what = "aborting a session";
	msg = ctl_msg(c, VMMIG_CMD_ABORT_SESSION, 0);
	if (!msg)
		return fail(c, what, ENOMEM);
	if (nla_put_u32(msg, VMMIG_A_SESS_ID, id)) {
		nlmsg_free(msg);
		return fail(c, what, ENOMEM);
	}
	return send_set(c, msg, what);
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

int ctl_open_failed(int err)
{
	if (err == -ENOENT) {
		fprintf(stderr, "vmmigctl: no generic netlink family \"%s\": %s\n",
			VMMIG_GENL_NAME, "is the vmmig module loaded?");
		return EXIT_NOVMMIG;
	}
	fprintf(stderr, "vmmigctl: generic netlink: %s\n", strerror(-err));
	return EXIT_SYSTEM;
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
	/* Key tools, which need no module. */
	if (!strcmp(cmd, "genkey") || !strcmp(cmd, "genpsk") || !strcmp(cmd, "pubkey")) {
		if (argc)
			return bad_usage("%s: takes no arguments", cmd);
		return cmd[0] == 'p' ? cmd_pubkey() : cmd_genkey(cmd[3] == 'k');
	}
	if (strcmp(cmd, "show") && strcmp(cmd, "enable") && strcmp(cmd, "disable") &&
	    strcmp(cmd, "set") && strcmp(cmd, "network") && strcmp(cmd, "sessions") &&
	    strcmp(cmd, "monitor") && strcmp(cmd, "peer") &&
	    strcmp(cmd, "apply") && strcmp(cmd, "session"))
		return bad_usage("'%s': no such command", cmd);
	if (!strcmp(cmd, "show") && argc)
		return bad_usage("show: %s", "takes no arguments");
	/* apply -n needs no module: apply opens the family itself. */
	if (!strcmp(cmd, "apply"))
		return cmd_apply(argc, argv);

	ret = ctl_open(&c);
	if (ret)
		return ctl_open_failed(ret);
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
	else if (!strcmp(cmd, "peer"))
		ret = cmd_peer(&c, argc, argv);
	else if (!strcmp(cmd, "sessions"))
		ret = cmd_sessions(&c, argc, argv);
	else if (!strcmp(cmd, "session"))
		ret = cmd_session(&c, argc, argv);
	else
		ret = cmd_monitor(&c, argc);
	ctl_close(&c);
	return ret;
}
