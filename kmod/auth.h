/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Authentication and encryption settings, and the handshake that uses them
 * (Documentation/security.md).
 *
 * SETTINGS
 * --------
 * A struct vmmig_auth_config is one complete set of settings: the mode
 * (NONE, PSK, KEYPAIR), the pre-shared key, this host's X25519 key pair,
 * the peer list, encryption on/off, and the handshake limits. Each network
 * namespace has one (the host's settings); a session may carry its own,
 * built from VMMIG_IOC_SET_AUTH, which then replaces the host's for it.
 *
 * A published config never changes: readers take a reference and use it
 * without a lock for as long as they like (a handshake keeps the one it
 * started with). A change is made on a private copy and published whole:
 *
 *	c = vmmig_auth_edit(&vn->auth);		a copy of the current settings
 *	if (IS_ERR(c))
 *		return PTR_ERR(c);
 *	err = vmmig_auth_set_psk(c, key, len, &msg);	any setters, in any
 *	if (!err)					order; each checks its
 *		err = vmmig_auth_set_mode(c, mode, &msg);	own argument
 *	...
 *	if (err) {
 *		vmmig_auth_put(c);		nothing changed
 *		NL_SET_ERR_MSG(extack, msg);
 *		return err;
 *	}
 *	err = vmmig_auth_commit(&vn->auth, c, &msg);	checks the whole, publishes
 *	if (err)				(and drops c either way)
 *		NL_SET_ERR_MSG(extack, msg);
 *
 * so that one netlink SET is all or nothing, whatever order its attributes
 * come in. Every setter and vmmig_auth_commit() returns 0 or -errno and,
 * on error, points *msg at a static sentence for the netlink extack (each
 * one is listed in Documentation/security.md). A "replace peers" flag is
 * vmmig_auth_peers_clear() before the peer_set calls.
 *
 * Keys are write-only. A dump takes vmmig_auth_get() and shows @mode,
 * @encrypt, vmmig_auth_fingerprint() of @psk if @has_psk and of
 * @public_key if @has_keypair, the limits, and per peer its name, the
 * fingerprint of its key, @allow and its address; never @psk or
 * @private_key. vmmig_auth_counters() gives the handshake counters.
 *
 * Locking: vmmig_auth_net.lock guards the published pointer: commits swap
 * it, vmmig_auth_get() takes a reference under it. A config is freed, its
 * keys wiped, when its last reference goes. A session's own settings are
 * set under the session's lock while it is NEW, and only read after.
 */
#ifndef _VMMIG_AUTH_H
#define _VMMIG_AUTH_H

#include <linux/atomic.h>
#include <linux/in6.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/socket.h>
#include <linux/types.h>
#include <linux/vmmig.h>

struct crypto_shash;
struct vmmig_channel;
struct vmmig_net;
struct vmmig_session;

#define VMMIG_PEER_NAME_MAX		32	/* bytes, with the NUL */
#define VMMIG_FPR_LEN			17	/* 16 hex digits and a NUL */

/* Handshake limits, per listener (a host's port). */
#define VMMIG_HS_TIMEOUT_MS_DEFAULT	5000
#define VMMIG_HS_TIMEOUT_MS_MIN		100
#define VMMIG_HS_TIMEOUT_MS_MAX		60000
#define VMMIG_MAX_HANDSHAKES_DEFAULT	16
#define VMMIG_MAX_HANDSHAKES_MAX	1024

/* One entry of a KEYPAIR peer list. */
struct vmmig_auth_peer {
	char name[VMMIG_PEER_NAME_MAX];
	u8 key[VMMIG_KEY_LEN];		/* its X25519 public key */
	u32 allow;			/* VMMIG_PEER_SEND | VMMIG_PEER_RECEIVE */
	u16 family;			/* 0: any address; AF_INET, AF_INET6 */
	union {
		__be32 v4;
		struct in6_addr v6;
	} addr;
};

struct vmmig_auth_config {
	struct kref ref;
	u64 gen;			/* of the published config it was copied from */
	u32 mode;			/* enum vmmig_auth_mode */
	bool encrypt;
	bool has_psk;
	bool has_keypair;
	u8 psk[VMMIG_KEY_LEN];
	u8 private_key[VMMIG_KEY_LEN];
	u8 public_key[VMMIG_KEY_LEN];
	u32 handshake_timeout_ms;
	u32 max_handshakes;		/* in flight per listener */
	unsigned int npeers;
	struct vmmig_auth_peer *peers;	/* kmalloc'ed, @npeers of them */
};

/* Handshakes the destination refused, or that went wrong, by reason. */
enum vmmig_auth_counter {
	VMMIG_HS_OK,			/* authenticated and joined a session */
	VMMIG_HS_BAD_KEY,		/* EKEYREJECTED: a proof that did not verify */
	VMMIG_HS_MODE_MISMATCH,		/* EKEYREJECTED: other mode than ours */
	VMMIG_HS_UNKNOWN_PEER,		/* ENOKEY */
	VMMIG_HS_NOT_ALLOWED,		/* EPERM */
	VMMIG_HS_ENCRYPT_MISMATCH,	/* ENOPROTOOPT */
	VMMIG_HS_REFUSED,		/* no session for it, regions differ, ... */
	VMMIG_HS_PROTOCOL,		/* malformed, or the peer closed */
	VMMIG_HS_TIMEOUT,		/* not done within the handshake timeout */
	VMMIG_HS_BUSY,			/* over max_handshakes: closed at once */
	__VMMIG_HS_COUNTERS,
};

/* Per network namespace: embedded in struct vmmig_net. */
struct vmmig_auth_net {
	struct mutex lock;		/* guards @config and @gen */
	struct vmmig_auth_config *config;
	u64 gen;			/* bumped by every commit */
	atomic64_t counters[__VMMIG_HS_COUNTERS];
};

/* auth.c: settings */
int vmmig_auth_net_init(struct vmmig_auth_net *an);
void vmmig_auth_net_exit(struct vmmig_auth_net *an);

struct vmmig_auth_config *vmmig_auth_get(struct vmmig_auth_net *an);
struct vmmig_auth_config *vmmig_auth_edit(struct vmmig_auth_net *an);
int vmmig_auth_commit(struct vmmig_auth_net *an, struct vmmig_auth_config *c,
		      const char **msg);

static inline struct vmmig_auth_config *vmmig_auth_hold(struct vmmig_auth_config *c)
{
	kref_get(&c->ref);
	return c;
}

void vmmig_auth_put(struct vmmig_auth_config *c);

int vmmig_auth_set_mode(struct vmmig_auth_config *c, u32 mode, const char **msg);
int vmmig_auth_set_encryption(struct vmmig_auth_config *c, bool on, const char **msg);
int vmmig_auth_set_psk(struct vmmig_auth_config *c, const u8 *key, size_t len,
		       const char **msg);
int vmmig_auth_set_private_key(struct vmmig_auth_config *c, const u8 *key, size_t len,
			       const char **msg);
int vmmig_auth_set_limits(struct vmmig_auth_config *c, u32 timeout_ms,
			  u32 max_handshakes, const char **msg);
int vmmig_auth_peer_set(struct vmmig_auth_config *c, const char *name, const u8 *key,
			size_t len, u32 allow, const struct sockaddr_storage *addr,
			const char **msg);
int vmmig_auth_peer_del(struct vmmig_auth_config *c, const char *name, const char **msg);
void vmmig_auth_peers_clear(struct vmmig_auth_config *c);

void vmmig_auth_fingerprint(const u8 key[VMMIG_KEY_LEN], char out[VMMIG_FPR_LEN]);
int vmmig_auth_peer_check(const struct vmmig_auth_config *c, const u8 key[VMMIG_KEY_LEN],
			  u32 need, const struct sockaddr_storage *addr);

void vmmig_auth_count(struct vmmig_auth_net *an, enum vmmig_auth_counter which);
void vmmig_auth_counters(struct vmmig_auth_net *an, u64 out[__VMMIG_HS_COUNTERS]);

struct vmmig_auth_config *vmmig_auth_from_user(const struct vmmig_auth *ua);
int vmmig_session_set_auth(struct vmmig_session *s, const struct vmmig_auth *ua);

/* kdf.c: the primitives and the key schedule */
#define VMMIG_MAC_LEN			32
#define VMMIG_TLS_KEY_LEN		16	/* AES-128-GCM */
#define VMMIG_TLS_IV_LEN		12	/* salt (4) and IV (8) */

/* One direction's record protection keys, as kTLS takes them. */
struct vmmig_traffic_key {
	u8 key[VMMIG_TLS_KEY_LEN];
	u8 iv[VMMIG_TLS_IV_LEN];
};

/* Everything one channel's handshake derives. */
struct vmmig_hs_keys {
	u8 mac_src[VMMIG_MAC_LEN];	/* the source's proof */
	u8 mac_dst[VMMIG_MAC_LEN];	/* the destination's proof */
	struct vmmig_traffic_key s2d;	/* source to destination */
	struct vmmig_traffic_key d2s;
};

struct crypto_shash *vmmig_hmac_alloc(void);
int vmmig_hmac_sha256(struct crypto_shash *tfm, const u8 *key, size_t key_len,
		      const u8 *a, size_t a_len, const u8 *b, size_t b_len,
		      u8 out[VMMIG_MAC_LEN]);
int vmmig_hkdf_extract(struct crypto_shash *tfm, const u8 *salt, size_t salt_len,
		       const u8 *ikm, size_t ikm_len, u8 prk[VMMIG_MAC_LEN]);
int vmmig_hkdf_expand(struct crypto_shash *tfm, const u8 prk[VMMIG_MAC_LEN],
		      const u8 *info, size_t info_len, u8 *okm, size_t okm_len);
int vmmig_x25519(u8 out[VMMIG_KEY_LEN], const u8 scalar[VMMIG_KEY_LEN],
		 const u8 point[VMMIG_KEY_LEN]);
int vmmig_kdf_handshake(struct crypto_shash *tfm, const u8 *ikm, size_t ikm_len,
			const u8 transcript[VMMIG_MAC_LEN], struct vmmig_hs_keys *k);

/* handshake.c */
struct vmmig_hs;

int vmmig_hs_connect(struct vmmig_session *s, struct vmmig_channel *ch,
		     const struct vmmig_auth_config *cfg,
		     const struct sockaddr_storage *addr);

struct vmmig_hs *vmmig_hs_alloc(void);
void vmmig_hs_free(struct vmmig_hs *hs);
int vmmig_hs_recv_hello(struct vmmig_hs *hs, struct vmmig_channel *ch);
const struct vmmig_wire_hello *vmmig_hs_hello(const struct vmmig_hs *hs);
u32 vmmig_hs_mode(const struct vmmig_hs *hs);
bool vmmig_hs_encrypt(const struct vmmig_hs *hs);
const u8 *vmmig_hs_peer_static(const struct vmmig_hs *hs);
int vmmig_hs_offer_check(const struct vmmig_hs *hs, const struct vmmig_auth_config *cfg);
int vmmig_hs_send_welcome(struct vmmig_hs *hs, struct vmmig_channel *ch, int status,
			  const struct vmmig_auth_config *cfg);
int vmmig_hs_recv_proof(struct vmmig_hs *hs, struct vmmig_channel *ch);
int vmmig_hs_verify(struct vmmig_hs *hs, const struct vmmig_auth_config *cfg);
int vmmig_hs_send_answer(struct vmmig_hs *hs, struct vmmig_channel *ch, int status);
int vmmig_hs_start_encryption(struct vmmig_hs *hs, struct vmmig_channel *ch);

/* ktls.c */
int vmmig_ktls_start(struct socket *sock, const struct vmmig_traffic_key *tx,
		     const struct vmmig_traffic_key *rx);

#endif /* _VMMIG_AUTH_H */
