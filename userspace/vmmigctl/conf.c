// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing vmmig.conf(5): "KEY = VALUE" lines, '#' to the end of a line is
 * a comment, blank lines are fine. Every key at most once, but for peer
 * (one line per peer). Key files are read here, so that a missing or bad
 * one is a mistake of the line that names it; their keys are never
 * printed. Values are
 * checked as fully as the kernel would check them, so that "apply -n"
 * finds every mistake a file can have without asking the kernel; the
 * first mistake is printed as "FILE:LINE: why" and nothing is applied.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vmmigctl.h"
#include "conf.h"

const char *const conf_key_names[CONF_NKEYS] = {
	[CONF_INCOMING] = "incoming",
	[CONF_OUTGOING] = "outgoing",
	[CONF_PORT] = "port",
	[CONF_NETWORKS] = "networks",
	[CONF_PERFORMANCE] = "performance",
	[CONF_CHANNELS] = "channels",
	[CONF_COMPRESSION] = "compression",
	[CONF_MAX_MIGRATIONS] = "max-migrations",
	[CONF_AUTH] = "auth",
	[CONF_PSK_FILE] = "psk-file",
	[CONF_PRIVATE_KEY_FILE] = "private-key-file",
	[CONF_ENCRYPTION] = "encryption",
	[CONF_HANDSHAKE_TIMEOUT_MS] = "handshake-timeout-ms",
	[CONF_MAX_HANDSHAKES] = "max-handshakes",
	[CONF_PEER] = "peer",
	[CONF_BANDWIDTH] = "bandwidth",
};

/* The kernel's defaults: a key the file leaves out is reset to its default. */
void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->port = VMMIG_DEFAULT_PORT;
	c->networks = VMMIG_NETWORKS_ANY;
	c->perf = VMMIG_PERF_COMPRESSION;
	c->channels = VMMIG_DEFAULT_CHANNELS;
	c->compression = VMMIG_COMP_LZ4;
	c->max_migrations = VMMIG_DEFAULT_MAX_MIGRATIONS;
	c->auth = VMMIG_AUTH_NONE;
	c->handshake_timeout_ms = CONF_HS_TIMEOUT_MS_DEFAULT;
	c->max_handshakes = CONF_MAX_HANDSHAKES_DEFAULT;
}

static void conf_error(const char *path, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmmigctl: %s:%u: ", path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out >= min && *out <= max;
}

static int lookup(const char *const *names, const char *word)
{
	int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(names[i], word))
			return i;
	return -1;
}

int conf_net_format(const struct conf_net *n, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(n->family, n->addr, addr, sizeof(addr));
	return snprintf(buf, len, "%s/%u", addr, n->prefix);
}

/* Bits of @addr past @prefix; the kernel refuses them rather than mask them. */
static bool host_bits(const unsigned char *addr, unsigned int bytes, unsigned int prefix)
{
	unsigned int i;

	for (i = prefix / 8; i < bytes; i++) {
		unsigned char keep = i == prefix / 8 ? (unsigned char)(0xff00 >> (prefix % 8)) : 0;

		if (addr[i] & ~keep)
			return true;
	}
	return false;
}

/* One "ADDR[/PREFIX]" of a networks list; the reason on failure. */
static const char *parse_net(const char *word, struct conf_net *n)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned long prefix;
	unsigned int bits;

	if (strlen(word) >= sizeof(buf))
		return "not an IPv4 or IPv6 network";
	snprintf(buf, sizeof(buf), "%s", word);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(n, 0, sizeof(*n));
	n->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(n->family, buf, n->addr) != 1)
		return "not an IPv4 or IPv6 network";
	bits = n->family == AF_INET ? 32 : 128;
	prefix = bits;
	if (slash && !parse_num(slash, 0, ULONG_MAX, &prefix))
		return "not a prefix length after the '/'";
	if (prefix > bits)
		return "prefix length longer than the address";
	n->prefix = prefix;
	if (host_bits(n->addr, bits / 8, n->prefix))
		return "address has bits set past the prefix length";
	return NULL;
}

/* "any", or networks separated by commas or blanks. */
static int parse_networks(struct conf *c, char *val, const char *path, unsigned int line)
{
	const char *why;
	char *word, *save;
	unsigned int i;

	if (!strcmp(val, "any")) {
		c->networks = VMMIG_NETWORKS_ANY;
		return 0;
	}
	c->networks = VMMIG_NETWORKS_LISTED;
	for (word = strtok_r(val, ", \t", &save); word; word = strtok_r(NULL, ", \t", &save)) {
		struct conf_net *n = &c->nets[c->nnets];

		if (!strcmp(word, "any")) {
			conf_error(path, line, "networks: 'any' in a list of networks");
			return -1;
		}
		if (c->nnets == VMMIG_MAX_NETWORKS) {
			conf_error(path, line, "networks: more than %d", VMMIG_MAX_NETWORKS);
			return -1;
		}
		why = parse_net(word, n);
		if (why) {
			conf_error(path, line, "networks: '%s': %s", word, why);
			return -1;
		}
		for (i = 0; i < c->nnets; i++) {
			if (!memcmp(&c->nets[i], n, sizeof(*n))) {
				conf_error(path, line, "networks: '%s' listed twice", word);
				return -1;
			}
		}
		c->nnets++;
	}
	return 0;
}

#define PEER_USAGE	"NAME pubkey KEY allow send|receive|both [address ADDR]"

/* "NAME pubkey KEY allow send|receive|both [address ADDR]": one more peer. */
static int parse_peer(struct conf *c, char *val, const char *path, unsigned int line)
{
	static const char *const allow[] = { "?", "send", "receive", "both", NULL };
	struct conf_peer *p = &c->peers[c->npeers];
	char *name, *word, *arg, *save;
	bool key = false;
	const char *why;
	unsigned int i;
	int a;

	if (c->npeers == VMMIG_MAX_PEERS) {
		conf_error(path, line, "peer: more than %d peers", VMMIG_MAX_PEERS);
		return -1;
	}
	memset(p, 0, sizeof(*p));
	p->line = line;
	name = strtok_r(val, " \t", &save);
	if (strlen(name) > CONF_PEER_NAME_MAX) {
		conf_error(path, line, "peer '%s': a name is 1 to %d bytes", name,
			   CONF_PEER_NAME_MAX);
		return -1;
	}
	memcpy(p->name, name, strlen(name) + 1);
	while ((word = strtok_r(NULL, " \t", &save))) {
		arg = strtok_r(NULL, " \t", &save);
		if (!arg || (strcmp(word, "pubkey") && strcmp(word, "allow") &&
			     strcmp(word, "address"))) {
			conf_error(path, line, "peer %s: '%s'%s; expected %s", name, word,
				   arg ? " unknown" : " without a value", PEER_USAGE);
			return -1;
		}
		if (!strcmp(word, "pubkey")) {
			if (key_from_base64(p->key, arg, &why)) {
				conf_error(path, line, "peer %s: pubkey: %s", name, why);
				return -1;
			}
			key = true;
		} else if (!strcmp(word, "allow")) {
			a = lookup(allow, arg);
			if (a <= 0) {
				conf_error(path, line, "peer %s: allow '%s': not %s", name, arg,
					   "send, receive or both");
				return -1;
			}
			p->allow = a;
		} else {
			p->family = strchr(arg, ':') ? AF_INET6 : AF_INET;
			if (inet_pton(p->family, arg, p->addr) != 1) {
				conf_error(path, line,
					   "peer %s: address '%s': not an IPv4 or IPv6 address",
					   name, arg);
				return -1;
			}
		}
	}
	if (!key || !p->allow) {
		conf_error(path, line, "peer %s: %s missing; expected %s", name,
			   key ? "allow" : "pubkey", PEER_USAGE);
		return -1;
	}
	for (i = 0; i < c->npeers; i++) {
		if (!strcmp(c->peers[i].name, p->name)) {
			conf_error(path, line, "peer %s listed twice (first on line %u)", name,
				   c->peers[i].line);
			return -1;
		}
		if (!memcmp(c->peers[i].key, p->key, sizeof(p->key))) {
			conf_error(path, line, "peer %s: the public key of peer %s (line %u)",
				   name, c->peers[i].name, c->peers[i].line);
			return -1;
		}
	}
	c->npeers++;
	return 0;
}

/* psk-file or private-key-file: the key it holds, read now. */
static int parse_key_file(struct conf *c, enum conf_key key, const char *val,
			  const char *path, unsigned int line)
{
	__u8 *k = key == CONF_PSK_FILE ? c->psk : c->private_key;
	const char *why;

	if (key_from_file(k, val, &why)) {
		conf_error(path, line, "%s %s: %s", conf_key_names[key], val, why);
		return -1;
	}
	*(key == CONF_PSK_FILE ? &c->has_psk : &c->has_private_key) = true;
	return 0;
}

static int parse_value(struct conf *c, enum conf_key key, char *val, const char *path,
		       unsigned int line)
{
	static const char *const auth[] = { "none", "psk", "keypair", NULL };
	static const char *const onoff[] = { "off", "on", NULL };
	static const char *const perf[] = { "tcp", "compression", "rdma", NULL };
	static const char *const comp[] = { "none", "lz4", "zstd", NULL };
	const char *name = conf_key_names[key];
	const char *why;
	unsigned long n;
	int i;

	switch (key) {
	case CONF_INCOMING:
	case CONF_OUTGOING:
	case CONF_ENCRYPTION:
		i = lookup(onoff, val);
		if (i < 0)
			break;
		*(key == CONF_INCOMING ? &c->incoming : key == CONF_OUTGOING ? &c->outgoing :
		  &c->encryption) = i;
		return 0;
	case CONF_AUTH:
		i = lookup(auth, val);
		if (i < 0) {
			conf_error(path, line, "auth '%s': not none, psk or keypair", val);
			return -1;
		}
		c->auth = i;
		return 0;
	case CONF_PSK_FILE:
	case CONF_PRIVATE_KEY_FILE:
		return parse_key_file(c, key, val, path, line);
	case CONF_HANDSHAKE_TIMEOUT_MS:
		if (!parse_num(val, CONF_HS_TIMEOUT_MS_MIN, CONF_HS_TIMEOUT_MS_MAX, &n)) {
			conf_error(path, line, "%s '%s': not a number from %d to %d", name, val,
				   CONF_HS_TIMEOUT_MS_MIN, CONF_HS_TIMEOUT_MS_MAX);
			return -1;
		}
		c->handshake_timeout_ms = n;
		return 0;
	case CONF_MAX_HANDSHAKES:
		if (!parse_num(val, 1, CONF_MAX_HANDSHAKES_MAX, &n)) {
			conf_error(path, line, "%s '%s': not a number from 1 to %d", name, val,
				   CONF_MAX_HANDSHAKES_MAX);
			return -1;
		}
		c->max_handshakes = n;
		return 0;
	case CONF_PEER:
		return parse_peer(c, val, path, line);
	case CONF_BANDWIDTH:
		if (rate_parse(val, &c->bandwidth, &why)) {
			conf_error(path, line, "bandwidth '%s': %s", val, why);
			return -1;
		}
		return 0;
	case CONF_PORT:
		if (!parse_num(val, 1, USHRT_MAX, &n)) {
			conf_error(path, line, "port '%s': not a number from 1 to 65535", val);
			return -1;
		}
		c->port = n;
		return 0;
	case CONF_CHANNELS:
	case CONF_MAX_MIGRATIONS:
		if (!parse_num(val, 1, key == CONF_CHANNELS ? VMMIG_MAX_CHANNELS :
			       VMMIG_MAX_MIGRATIONS_CAP, &n)) {
			conf_error(path, line, "%s '%s': not a number from 1 to %d", name, val,
				   key == CONF_CHANNELS ? VMMIG_MAX_CHANNELS :
				   VMMIG_MAX_MIGRATIONS_CAP);
			return -1;
		}
		*(key == CONF_CHANNELS ? &c->channels : &c->max_migrations) = n;
		return 0;
	case CONF_NETWORKS:
		return parse_networks(c, val, path, line);
	case CONF_PERFORMANCE:
		i = lookup(perf, val);
		if (i < 0)
			break;
		c->perf = i;
		return 0;
	case CONF_COMPRESSION:
		i = lookup(comp, val);
		if (i <= 0) {
			conf_error(path, line, "compression '%s': not lz4 or zstd %s", val,
				   "(for no compression: performance = tcp)");
			return -1;
		}
		c->compression = i;
		return 0;
	case CONF_NKEYS:
		break;
	}
	conf_error(path, line, "%s '%s': not %s", name, val,
		   key == CONF_PERFORMANCE ? "tcp, compression or rdma" : "on or off");
	return -1;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/**
 * conf_parse - read a configuration file
 * @f: the file
 * @path: its name, for messages
 * @c: filled in: the file's settings, and defaults for the keys it leaves out
 *
 * Return: 0; or -1 after printing "vmmigctl: PATH:LINE: why" for the first
 * mistake.
 */
int conf_parse(FILE *f, const char *path, struct conf *c)
{
	char buf[CONF_MAX_LINE + 1], *key, *val, *hash, *eq;
	unsigned int line = 0;
	int k;

	conf_defaults(c);
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			conf_error(path, line, "longer than %d characters", CONF_MAX_LINE - 1);
			return -1;
		}
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		key = trim(buf);
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			conf_error(path, line, "'%s': not KEY = VALUE", key);
			return -1;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		for (k = 0; k < CONF_NKEYS; k++)
			if (!strcmp(key, conf_key_names[k]))
				break;
		if (k == CONF_NKEYS) {
			conf_error(path, line, "'%s': no such key", key);
			return -1;
		}
		if (c->line[k] && k != CONF_PEER) {
			conf_error(path, line, "%s given twice (first on line %u)", key,
				   c->line[k]);
			return -1;
		}
		if (!*val) {
			conf_error(path, line, "%s: no value", key);
			return -1;
		}
		if (!c->line[k])
			c->line[k] = line;
		if (parse_value(c, k, val, path, line))
			return -1;
	}
	if (ferror(f)) {
		fprintf(stderr, "vmmigctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (c->encryption && c->auth == VMMIG_AUTH_NONE) {
		conf_error(path, c->line[CONF_ENCRYPTION], "encryption = on needs %s",
			   "auth = psk or auth = keypair");
		return -1;
	}
	return 0;
}
