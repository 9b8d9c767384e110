// SPDX-License-Identifier: GPL-2.0
/*
 * Authentication settings: the host's, one per network namespace, and a
 * session's own from VMMIG_IOC_SET_AUTH. How they are changed and read is
 * written at the top of auth.h.
 */
#include <crypto/curve25519.h>
#include <crypto/sha2.h>
#include <kunit/visibility.h>
#include <linux/hex.h>
#include <linux/in.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/ipv6.h>

#include "vmmig.h"
#include "auth.h"

static struct vmmig_auth_config *vmmig_auth_alloc(void)
{
	struct vmmig_auth_config *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return NULL;
	kref_init(&c->ref);
	c->handshake_timeout_ms = VMMIG_HS_TIMEOUT_MS_DEFAULT;
	c->max_handshakes = VMMIG_MAX_HANDSHAKES_DEFAULT;
	return c;
}

static void vmmig_auth_release(struct kref *ref)
{
	struct vmmig_auth_config *c = container_of(ref, struct vmmig_auth_config, ref);

	kfree_sensitive(c->peers);
	kfree_sensitive(c);
}

void vmmig_auth_put(struct vmmig_auth_config *c)
{
	if (c)
		kref_put(&c->ref, vmmig_auth_release);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_put);

/* Default settings: mode NONE, encryption off, the default limits. */
int vmmig_auth_net_init(struct vmmig_auth_net *an)
{
	struct vmmig_auth_config *c = vmmig_auth_alloc();
	int i;

	if (!c)
		return -ENOMEM;
	mutex_init(&an->lock);
	an->config = c;
	an->gen = 1;
	for (i = 0; i < __VMMIG_HS_COUNTERS; i++)
		atomic64_set(&an->counters[i], 0);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_net_init);

void vmmig_auth_net_exit(struct vmmig_auth_net *an)
{
	vmmig_auth_put(an->config);
	an->config = NULL;
	mutex_destroy(&an->lock);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_net_exit);

/**
 * vmmig_auth_get - the current settings, with a reference
 * @an: the namespace's settings
 *
 * Return: never NULL; drop with vmmig_auth_put().
 */
struct vmmig_auth_config *vmmig_auth_get(struct vmmig_auth_net *an)
{
	struct vmmig_auth_config *c;

	mutex_lock(&an->lock);
	c = vmmig_auth_hold(an->config);
	mutex_unlock(&an->lock);
	return c;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_get);

static struct vmmig_auth_config *vmmig_auth_dup(const struct vmmig_auth_config *old)
{
	struct vmmig_auth_config *c = kmemdup(old, sizeof(*old), GFP_KERNEL);

	if (!c)
		return NULL;
	kref_init(&c->ref);
	c->peers = NULL;
	if (old->npeers) {
		c->peers = kmemdup(old->peers, old->npeers * sizeof(*old->peers), GFP_KERNEL);
		if (!c->peers) {
			kfree_sensitive(c);
			return NULL;
		}
	}
	return c;
}

/**
 * vmmig_auth_edit - a private copy of the current settings, to change
 * @an: the namespace's settings
 *
 * Return: the copy (publish it with vmmig_auth_commit(), or drop it with
 * vmmig_auth_put()), or ERR_PTR(-ENOMEM).
 */
struct vmmig_auth_config *vmmig_auth_edit(struct vmmig_auth_net *an)
{
	struct vmmig_auth_config *c;

	mutex_lock(&an->lock);
	c = vmmig_auth_dup(an->config);
	if (c)
		c->gen = an->gen;
	mutex_unlock(&an->lock);
	return c ?: ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_edit);

/* The settings as a whole: what no single setter can see. */
static int vmmig_auth_check(const struct vmmig_auth_config *c, const char **msg)
{
	unsigned int i;

	if (c->mode == VMMIG_AUTH_PSK && !c->has_psk) {
		*msg = "psk mode needs a pre-shared key";
		return -EINVAL;
	}
	if (c->mode == VMMIG_AUTH_KEYPAIR && !c->has_keypair) {
		*msg = "keypair mode needs this host's private key";
		return -EINVAL;
	}
	if (c->encrypt && c->mode == VMMIG_AUTH_NONE) {
		*msg = "encryption needs an authentication mode (psk or keypair)";
		return -EINVAL;
	}
	for (i = 0; c->has_keypair && i < c->npeers; i++) {
		if (!memcmp(c->peers[i].key, c->public_key, VMMIG_KEY_LEN)) {
			*msg = "a peer has this host's own public key";
			return -EINVAL;
		}
	}
	return 0;
}

/**
 * vmmig_auth_commit - check a changed copy and publish it
 * @an: the namespace's settings
 * @c: from vmmig_auth_edit(); consumed, whatever the result
 * @msg: on error, why
 *
 * New handshakes use the new settings; those in flight finish with the
 * ones they started with.
 *
 * Return: 0; -EINVAL if the settings do not hold together; -EAGAIN if
 * another commit came between vmmig_auth_edit() and this one.
 */
int vmmig_auth_commit(struct vmmig_auth_net *an, struct vmmig_auth_config *c,
		      const char **msg)
{
	struct vmmig_auth_config *old;
	int ret;

	ret = vmmig_auth_check(c, msg);
	if (ret) {
		vmmig_auth_put(c);
		return ret;
	}
	mutex_lock(&an->lock);
	if (c->gen != an->gen) {
		mutex_unlock(&an->lock);
		vmmig_auth_put(c);
		*msg = "the settings changed meanwhile: read them again and retry";
		return -EAGAIN;
	}
	old = an->config;
	an->config = c;
	c->gen = ++an->gen;
	mutex_unlock(&an->lock);
	vmmig_auth_put(old);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_commit);

int vmmig_auth_set_mode(struct vmmig_auth_config *c, u32 mode, const char **msg)
{
	if (mode >= __VMMIG_AUTH_MAX) {
		*msg = "unknown authentication mode";
		return -EINVAL;
	}
	c->mode = mode;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_set_mode);

/* Needs a mode other than NONE; vmmig_auth_commit() checks that. */
int vmmig_auth_set_encryption(struct vmmig_auth_config *c, bool on, const char **msg)
{
	c->encrypt = on;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_set_encryption);

enum vmmig_key_kind { VMMIG_KEY_PSK, VMMIG_KEY_PRIVATE, VMMIG_KEY_PUBLIC };

static int vmmig_key_check(const u8 *key, size_t len, enum vmmig_key_kind kind,
			   const char **msg)
{
	static const char *const wrong_len[] = {
		[VMMIG_KEY_PSK] = "a pre-shared key is exactly 32 bytes",
		[VMMIG_KEY_PRIVATE] = "a private key is exactly 32 bytes",
		[VMMIG_KEY_PUBLIC] = "a public key is exactly 32 bytes",
	};
	static const char *const all_zero[] = {
		[VMMIG_KEY_PSK] = "the pre-shared key is all zero",
		[VMMIG_KEY_PRIVATE] = "the private key is all zero",
		[VMMIG_KEY_PUBLIC] = "the public key is all zero",
	};

	if (!key || len != VMMIG_KEY_LEN) {
		*msg = wrong_len[kind];
		return -EINVAL;
	}
	if (!memchr_inv(key, 0, len)) {
		*msg = all_zero[kind];
		return -EINVAL;
	}
	return 0;
}

/**
 * vmmig_auth_set_psk - set or clear the pre-shared key
 * @c: a copy from vmmig_auth_edit()
 * @key: 32 bytes, not all zero; NULL (with @len 0) clears the key
 * @len: its length
 * @msg: on error, why
 */
int vmmig_auth_set_psk(struct vmmig_auth_config *c, const u8 *key, size_t len,
		       const char **msg)
{
	int ret;

	if (!key && !len) {
		memzero_explicit(c->psk, sizeof(c->psk));
		c->has_psk = false;
		return 0;
	}
	ret = vmmig_key_check(key, len, VMMIG_KEY_PSK, msg);
	if (ret)
		return ret;
	memcpy(c->psk, key, VMMIG_KEY_LEN);
	c->has_psk = true;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_set_psk);

/**
 * vmmig_auth_set_private_key - set or clear this host's X25519 key pair
 * @c: a copy from vmmig_auth_edit()
 * @key: the private key, 32 bytes; NULL (with @len 0) clears the pair
 * @len: its length
 * @msg: on error, why
 *
 * The public key is computed from it; the key is kept clamped (RFC 7748).
 */
int vmmig_auth_set_private_key(struct vmmig_auth_config *c, const u8 *key, size_t len,
			       const char **msg)
{
	u8 priv[VMMIG_KEY_LEN], pub[VMMIG_KEY_LEN];
	int ret;

	if (!key && !len) {
		memzero_explicit(c->private_key, sizeof(c->private_key));
		memset(c->public_key, 0, sizeof(c->public_key));
		c->has_keypair = false;
		return 0;
	}
	ret = vmmig_key_check(key, len, VMMIG_KEY_PRIVATE, msg);
	if (ret)
		return ret;
	memcpy(priv, key, VMMIG_KEY_LEN);
	curve25519_clamp_secret(priv);
	if (!curve25519_generate_public(pub, priv)) {
		memzero_explicit(priv, sizeof(priv));
		*msg = "the private key gives no usable public key";
		return -EINVAL;
	}
	memcpy(c->private_key, priv, VMMIG_KEY_LEN);
	memcpy(c->public_key, pub, VMMIG_KEY_LEN);
	memzero_explicit(priv, sizeof(priv));
	c->has_keypair = true;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_set_private_key);

/**
 * vmmig_auth_set_limits - handshake timeout and handshakes in flight
 * @c: a copy from vmmig_auth_edit()
 * @timeout_ms: VMMIG_HS_TIMEOUT_MS_MIN..MAX; 0 keeps the current value
 * @max_handshakes: 1..VMMIG_MAX_HANDSHAKES_MAX; 0 keeps the current value
 * @msg: on error, why
 */
int vmmig_auth_set_limits(struct vmmig_auth_config *c, u32 timeout_ms,
			  u32 max_handshakes, const char **msg)
{
	if (timeout_ms && (timeout_ms < VMMIG_HS_TIMEOUT_MS_MIN ||
			   timeout_ms > VMMIG_HS_TIMEOUT_MS_MAX)) {
		*msg = "the handshake timeout is 100 to 60000 ms";
		return -EINVAL;
	}
	if (max_handshakes > VMMIG_MAX_HANDSHAKES_MAX) {
		*msg = "at most 1024 handshakes in flight";
		return -EINVAL;
	}
	if (timeout_ms)
		c->handshake_timeout_ms = timeout_ms;
	if (max_handshakes)
		c->max_handshakes = max_handshakes;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_set_limits);

static struct vmmig_auth_peer *vmmig_peer_find(struct vmmig_auth_config *c,
					       const char *name)
{
	unsigned int i;

	for (i = 0; i < c->npeers; i++)
		if (!strcmp(c->peers[i].name, name))
			return &c->peers[i];
	return NULL;
}

/* An address for a peer entry; IPv4-mapped IPv6 is stored as IPv4. */
static int vmmig_peer_addr_set(struct vmmig_auth_peer *p, const struct sockaddr_storage *ss,
			       const char **msg)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	p->family = 0;
	memset(&p->addr, 0, sizeof(p->addr));
	if (!ss)
		return 0;
	if (ss->ss_family == AF_INET) {
		p->family = AF_INET;
		p->addr.v4 = ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
		return 0;
	}
	if (ss->ss_family == AF_INET6 && ipv6_addr_v4mapped(&sin6->sin6_addr)) {
		p->family = AF_INET;
		p->addr.v4 = sin6->sin6_addr.s6_addr32[3];
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		p->family = AF_INET6;
		p->addr.v6 = sin6->sin6_addr;
		return 0;
	}
	*msg = "a peer address is IPv4 or IPv6";
	return -EINVAL;
}

/**
 * vmmig_auth_peer_set - add a peer to the list, or change the one of that name
 * @c: a copy from vmmig_auth_edit()
 * @name: 1..31 bytes, unique in the list
 * @key: its X25519 public key, 32 bytes, unique in the list
 * @len: the key's length
 * @allow: VMMIG_PEER_SEND, VMMIG_PEER_RECEIVE or both
 * @addr: NULL: any address; else the only address it may use (port ignored)
 * @msg: on error, why
 *
 * Return: 0; -EINVAL for a bad argument; -EEXIST if another peer has the
 * key; -ENOSPC if the list holds VMMIG_MAX_PEERS already; -ENOMEM.
 */
int vmmig_auth_peer_set(struct vmmig_auth_config *c, const char *name, const u8 *key,
			size_t len, u32 allow, const struct sockaddr_storage *addr,
			const char **msg)
{
	struct vmmig_auth_peer p = {}, *old, *peers;
	size_t nlen = name ? strnlen(name, VMMIG_PEER_NAME_MAX) : 0;
	unsigned int i;
	int ret;

	if (!nlen || nlen >= VMMIG_PEER_NAME_MAX) {
		*msg = "a peer name is 1 to 31 bytes";
		return -EINVAL;
	}
	ret = vmmig_key_check(key, len, VMMIG_KEY_PUBLIC, msg);
	if (ret)
		return ret;
	if (!allow || (allow & ~(VMMIG_PEER_SEND | VMMIG_PEER_RECEIVE))) {
		*msg = "a peer is allowed to send, receive, or both";
		return -EINVAL;
	}
	ret = vmmig_peer_addr_set(&p, addr, msg);
	if (ret)
		return ret;
	memcpy(p.name, name, nlen);
	memcpy(p.key, key, VMMIG_KEY_LEN);
	p.allow = allow;

	old = vmmig_peer_find(c, p.name);
	for (i = 0; i < c->npeers; i++) {
		if (&c->peers[i] != old && !memcmp(c->peers[i].key, p.key, VMMIG_KEY_LEN)) {
			*msg = "another peer has this public key";
			return -EEXIST;
		}
	}
	if (old) {
		*old = p;
		return 0;
	}
	if (c->npeers >= VMMIG_MAX_PEERS) {
		*msg = "the peer list is full (256 peers)";
		return -ENOSPC;
	}
	peers = krealloc_array(c->peers, c->npeers + 1, sizeof(*peers), GFP_KERNEL);
	if (!peers) {
		*msg = "out of memory";
		return -ENOMEM;
	}
	peers[c->npeers++] = p;
	c->peers = peers;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_peer_set);

int vmmig_auth_peer_del(struct vmmig_auth_config *c, const char *name, const char **msg)
{
	struct vmmig_auth_peer *p = vmmig_peer_find(c, name);

	if (!p) {
		*msg = "no peer of that name";
		return -ENOENT;
	}
	memmove(p, p + 1, (c->peers + c->npeers - (p + 1)) * sizeof(*p));
	c->npeers--;
	memset(&c->peers[c->npeers], 0, sizeof(*p));
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_peer_del);

void vmmig_auth_peers_clear(struct vmmig_auth_config *c)
{
	kfree_sensitive(c->peers);
	c->peers = NULL;
	c->npeers = 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_peers_clear);

/**
 * vmmig_auth_fingerprint - how a dump shows a key
 * @key: a PSK or a public key (for this host's pair, the public key)
 * @out: the first 8 bytes of SHA-256(@key) in lower-case hex
 *
 * Both hosts show the same fingerprint for one PSK, and a host's own
 * public key has the fingerprint its peers show for it.
 */
void vmmig_auth_fingerprint(const u8 key[VMMIG_KEY_LEN], char out[VMMIG_FPR_LEN])
{
	u8 digest[SHA256_DIGEST_SIZE];

	sha256(key, VMMIG_KEY_LEN, digest);
	bin2hex(out, digest, (VMMIG_FPR_LEN - 1) / 2);
	out[VMMIG_FPR_LEN - 1] = '\0';
	memzero_explicit(digest, sizeof(digest));
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_fingerprint);

static bool vmmig_peer_addr_match(const struct vmmig_auth_peer *p,
				  const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	if (!p->family)
		return true;
	if (!ss)
		return false;
	if (p->family == AF_INET) {
		if (ss->ss_family == AF_INET)
			return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == p->addr.v4;
		return ss->ss_family == AF_INET6 && ipv6_addr_v4mapped(&sin6->sin6_addr) &&
		       sin6->sin6_addr.s6_addr32[3] == p->addr.v4;
	}
	return ss->ss_family == AF_INET6 && ipv6_addr_equal(&sin6->sin6_addr, &p->addr.v6);
}

/**
 * vmmig_auth_peer_check - may this peer take part in this direction?
 * @c: KEYPAIR settings
 * @key: the public key the peer proved it holds
 * @need: VMMIG_PEER_SEND (we are the destination) or VMMIG_PEER_RECEIVE
 * @addr: the peer's address (its port is ignored); NULL: unknown
 *
 * Return: 0; -ENOKEY if no peer has @key; -EPERM if the peer may not do
 * @need, or not from @addr.
 */
int vmmig_auth_peer_check(const struct vmmig_auth_config *c, const u8 key[VMMIG_KEY_LEN],
			  u32 need, const struct sockaddr_storage *addr)
{
	unsigned int i;

	for (i = 0; i < c->npeers; i++) {
		const struct vmmig_auth_peer *p = &c->peers[i];

		if (memcmp(p->key, key, VMMIG_KEY_LEN))
			continue;
		if (!(p->allow & need) || !vmmig_peer_addr_match(p, addr))
			return -EPERM;
		return 0;
	}
	return -ENOKEY;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_peer_check);

void vmmig_auth_count(struct vmmig_auth_net *an, enum vmmig_auth_counter which)
{
	atomic64_inc(&an->counters[which]);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_count);

/* For a dump: the counters since the namespace was created. */
void vmmig_auth_counters(struct vmmig_auth_net *an, u64 out[__VMMIG_HS_COUNTERS])
{
	int i;

	for (i = 0; i < __VMMIG_HS_COUNTERS; i++)
		out[i] = atomic64_read(&an->counters[i]);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_counters);

/**
 * vmmig_auth_from_user - a session's own settings from VMMIG_IOC_SET_AUTH
 * @ua: the checked-in argument (size and reserved bytes already checked)
 *
 * A KEYPAIR session gets a peer list of one, named "session".
 *
 * Return: the settings, or ERR_PTR(-EINVAL / -ENOMEM).
 */
struct vmmig_auth_config *vmmig_auth_from_user(const struct vmmig_auth *ua)
{
	struct vmmig_auth_config *c;
	const char *msg;
	int ret;

	if (ua->flags & ~VMMIG_AUTH_ENCRYPT)
		return ERR_PTR(-EINVAL);
	if (ua->mode == VMMIG_AUTH_PSK &&
	    (ua->peer_allow || memchr_inv(ua->peer_key, 0, VMMIG_KEY_LEN)))
		return ERR_PTR(-EINVAL);
	if (ua->mode != VMMIG_AUTH_PSK && ua->mode != VMMIG_AUTH_KEYPAIR)
		return ERR_PTR(-EINVAL);

	c = vmmig_auth_alloc();
	if (!c)
		return ERR_PTR(-ENOMEM);
	c->mode = ua->mode;
	c->encrypt = ua->flags & VMMIG_AUTH_ENCRYPT;
	if (ua->mode == VMMIG_AUTH_PSK) {
		ret = vmmig_auth_set_psk(c, ua->key, VMMIG_KEY_LEN, &msg);
	} else {
		ret = vmmig_auth_set_private_key(c, ua->key, VMMIG_KEY_LEN, &msg);
		if (!ret)
			ret = vmmig_auth_peer_set(c, "session", ua->peer_key, VMMIG_KEY_LEN,
						  ua->peer_allow, NULL, &msg);
	}
	if (!ret)
		ret = vmmig_auth_check(c, &msg);
	if (ret) {
		vmmig_auth_put(c);
		return ERR_PTR(ret);
	}
	return c;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_auth_from_user);

/* Caller holds s->lock; the session is NEW. */
int vmmig_session_set_auth(struct vmmig_session *s, const struct vmmig_auth *ua)
{
	struct vmmig_auth_config *c = vmmig_auth_from_user(ua);

	if (IS_ERR(c))
		return PTR_ERR(c);
	vmmig_auth_put(s->auth);
	s->auth = c;
	return 0;
}
