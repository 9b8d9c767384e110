// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake of one channel (Documentation/wire-protocol.md, "Session
 * setup"; Documentation/security.md):
 *
 *	source				destination
 *	HELLO  [Ns, Es, Ss]	-->
 *				<--	WELCOME [Nd, Ed, Sd]
 *	AUTH   mac_src		-->
 *				<--	AUTH    status, mac_dst
 *	(kTLS on both sockets, if encryption is on)
 *
 * N are fresh 32-byte nonces, E fresh X25519 keys, S the hosts' static
 * public keys (KEYPAIR mode). Both proofs are HMACs over the SHA-256 of
 * HELLO and WELCOME as sent, under a key from HKDF over the Diffie-Hellman
 * results (and the PSK): kdf.c. With mode NONE, HELLO carries no keys,
 * WELCOME has only its status, and there are no AUTH frames: the protocol
 * of the first version.
 *
 * The source side is one call, vmmig_hs_connect(). The destination side
 * is split into steps, because the listener picks the session (and so the
 * settings) between them, under its lock.
 */
#include <crypto/algapi.h>
#include <crypto/curve25519.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "vmmig.h"
#include "auth.h"

/* Absorbed first into every transcript: the protocol and its version. */
static const char vmmig_hs_label[] = "vmmig auth v1";

struct vmmig_hs {
	bool source;
	u32 mode;			/* enum vmmig_auth_mode */
	bool encrypt;
	int hello_err;			/* dest: what is wrong with the HELLO's auth */
	struct vmmig_wire_hello *hello;	/* dest: the HELLO payload */
	size_t hello_len;

	struct sha256_state th;		/* HELLO and WELCOME so far */
	u8 transcript[SHA256_DIGEST_SIZE];
	struct vmmig_wire_keys ours;
	struct vmmig_wire_keys peer;
	u8 e_priv[VMMIG_KEY_LEN];	/* our ephemeral private key */
	u8 ee[VMMIG_KEY_LEN];		/* X25519 of the two ephemerals */
	bool have_ee;
	struct vmmig_wire_auth proof;	/* the AUTH frame received */
	struct crypto_shash *tfm;
	struct vmmig_hs_keys keys;
};

struct vmmig_hs *vmmig_hs_alloc(void)
{
	struct vmmig_hs *hs = kzalloc(sizeof(*hs), GFP_KERNEL);

	if (!hs)
		return NULL;
	sha256_init(&hs->th);
	sha256_update(&hs->th, vmmig_hs_label, strlen(vmmig_hs_label));
	return hs;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_hs_alloc);

void vmmig_hs_free(struct vmmig_hs *hs)
{
	if (!hs)
		return;
	if (!IS_ERR_OR_NULL(hs->tfm))
		crypto_free_shash(hs->tfm);
	kfree(hs->hello);
	kfree_sensitive(hs);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_hs_free);

/* A status from the wire: a positive errno, else a protocol error. */
static int vmmig_wire_errno(__be32 status)
{
	u32 v = be32_to_cpu(status);

	return v && v <= MAX_ERRNO ? -(int)v : -EPROTO;
}

static int vmmig_hs_send(struct vmmig_hs *hs, struct vmmig_channel *ch, u8 type,
			 const void *payload, u32 len, bool absorb)
{
	struct vmmig_frame f = { .type = type, .len = len };
	struct vmmig_wire_hdr hdr;
	int ret;

	vmmig_frame_encode(&hdr, &f);
	if (absorb) {
		sha256_update(&hs->th, (const u8 *)&hdr, sizeof(hdr));
		sha256_update(&hs->th, payload, len);
	}
	ret = ch->ops->send(ch, &hdr, sizeof(hdr), true);
	if (!ret)
		ret = ch->ops->send(ch, payload, len, false);
	return ret;
}

/* One frame of @type, its payload into @buf (@max bytes); *@len its size. */
static int vmmig_hs_recv(struct vmmig_hs *hs, struct vmmig_channel *ch, u8 type,
			 void *buf, u32 max, u32 *len, bool absorb)
{
	struct vmmig_wire_hdr hdr;
	struct vmmig_frame f;
	int ret;

	ret = vmmig_recv_frame(ch, &f);
	if (ret)
		return ret;
	if (f.type != type || f.len > max)
		return -EPROTO;
	ret = ch->ops->recv(ch, buf, f.len);
	if (ret)
		return ret;
	if (absorb) {
		/* a header that decodes encodes back to the bytes received */
		vmmig_frame_encode(&hdr, &f);
		sha256_update(&hs->th, (const u8 *)&hdr, sizeof(hdr));
		sha256_update(&hs->th, buf, f.len);
	}
	*len = f.len;
	return 0;
}

/* Our nonce and ephemeral key; the static key in KEYPAIR mode. */
static void vmmig_hs_make_keys(struct vmmig_hs *hs, const struct vmmig_auth_config *cfg)
{
	get_random_bytes(hs->ours.nonce, sizeof(hs->ours.nonce));
	/* A clamped non-zero scalar always gives a usable public key. */
	do {
		curve25519_generate_secret(hs->e_priv);
	} while (!curve25519_generate_public(hs->ours.ephemeral, hs->e_priv));
	if (hs->mode == VMMIG_AUTH_KEYPAIR)
		memcpy(hs->ours.static_key, cfg->public_key, VMMIG_KEY_LEN);
}

/*
 * The input keying material, then the key schedule. From the source's
 * side, with e/s our ephemeral/static keys and E/S the peer's:
 *	PSK:     IKM = psk || X(e, E)
 *	KEYPAIR: IKM = ee || es || se || ss, where ee = X(e_src, E_dst),
 *		 es = X(e_src, S_dst), se = X(s_src, E_dst), ss = X(s_src, S_dst)
 * and the destination computes the same values from its side.
 */
static int vmmig_hs_derive(struct vmmig_hs *hs, const struct vmmig_auth_config *cfg)
{
	u8 ikm[4 * VMMIG_KEY_LEN];
	size_t len = 2 * VMMIG_KEY_LEN;
	u8 *es = ikm + VMMIG_KEY_LEN, *se = ikm + 2 * VMMIG_KEY_LEN;
	int ret = 0;

	if (!hs->tfm) {
		hs->tfm = vmmig_hmac_alloc();
		if (IS_ERR(hs->tfm)) {
			ret = PTR_ERR(hs->tfm);
			hs->tfm = NULL;
			return ret;
		}
	}
	if (!hs->have_ee) {
		ret = vmmig_x25519(hs->ee, hs->e_priv, hs->peer.ephemeral);
		if (ret)
			return ret;
		hs->have_ee = true;
	}

	if (cfg->mode == VMMIG_AUTH_PSK) {
		memcpy(ikm, cfg->psk, VMMIG_KEY_LEN);
		memcpy(ikm + VMMIG_KEY_LEN, hs->ee, VMMIG_KEY_LEN);
	} else {
		memcpy(ikm, hs->ee, VMMIG_KEY_LEN);
		if (hs->source) {
			ret = vmmig_x25519(es, hs->e_priv, hs->peer.static_key);
			if (!ret)
				ret = vmmig_x25519(se, cfg->private_key, hs->peer.ephemeral);
		} else {
			ret = vmmig_x25519(es, cfg->private_key, hs->peer.ephemeral);
			if (!ret)
				ret = vmmig_x25519(se, hs->e_priv, hs->peer.static_key);
		}
		if (!ret)
			ret = vmmig_x25519(ikm + 3 * VMMIG_KEY_LEN, cfg->private_key,
					   hs->peer.static_key);
		len = sizeof(ikm);
	}
	if (!ret)
		ret = vmmig_kdf_handshake(hs->tfm, ikm, len, hs->transcript, &hs->keys);
	memzero_explicit(ikm, sizeof(ikm));
	return ret;
}

static int vmmig_hs_send_auth(struct vmmig_hs *hs, struct vmmig_channel *ch, int status,
			      const u8 *mac)
{
	struct vmmig_wire_auth a = { .status = cpu_to_be32(-status) };

	if (!status)
		memcpy(a.mac, mac, sizeof(a.mac));
	return vmmig_hs_send(hs, ch, VMMIG_FRAME_AUTH, &a, sizeof(a), false);
}

int vmmig_hs_start_encryption(struct vmmig_hs *hs, struct vmmig_channel *ch)
{
	const struct vmmig_traffic_key *tx = hs->source ? &hs->keys.s2d : &hs->keys.d2s;
	const struct vmmig_traffic_key *rx = hs->source ? &hs->keys.d2s : &hs->keys.s2d;

	if (!hs->encrypt)
		return 0;
	if (!ch->ops->start_encryption)
		return -EOPNOTSUPP;
	return ch->ops->start_encryption(ch, tx, rx);
}

static struct vmmig_wire_hello *vmmig_hs_build_hello(struct vmmig_hs *hs,
						     struct vmmig_session *s,
						     struct vmmig_channel *ch, size_t *lenp)
{
	size_t regions = s->nmems * sizeof(struct vmmig_wire_region);
	size_t len = sizeof(struct vmmig_wire_hello) + regions;
	struct vmmig_wire_hello *hello;
	struct vmmig_wire_region *reg;
	unsigned int i;
	u32 auth = 0;

	if (hs->mode != VMMIG_AUTH_NONE) {
		len += sizeof(struct vmmig_wire_keys);
		auth = VMMIG_WIRE_AUTH_VERSION << 16 | hs->mode |
		       (hs->encrypt ? VMMIG_WIRE_AUTH_ENCRYPT : 0);
	}
	hello = kzalloc(len, GFP_KERNEL);
	if (!hello)
		return NULL;
	hello->cookie = cpu_to_be64(s->cookie);
	hello->channel = cpu_to_be16(ch->index);
	hello->channels = cpu_to_be16(s->nch);
	hello->nregions = cpu_to_be32(s->nmems);
	hello->compression = cpu_to_be32(s->compression);
	hello->auth = cpu_to_be32(auth);
	reg = (struct vmmig_wire_region *)(hello + 1);
	for (i = 0; i < s->nmems; i++) {
		reg[i].id = cpu_to_be32(s->mems[i].id);
		reg[i].pages = cpu_to_be64(s->mems[i].npages);
	}
	if (auth)
		memcpy((u8 *)(reg + s->nmems), &hs->ours, sizeof(hs->ours));
	*lenp = len;
	return hello;
}

/* Source, after WELCOME: check the destination, prove, check its proof. */
static int vmmig_hs_source_auth(struct vmmig_hs *hs, struct vmmig_channel *ch,
				const struct vmmig_auth_config *cfg,
				const struct sockaddr_storage *addr)
{
	bool has_static = memchr_inv(hs->peer.static_key, 0, VMMIG_KEY_LEN);
	bool keypair = hs->mode == VMMIG_AUTH_KEYPAIR;
	struct vmmig_wire_auth answer;
	u32 len;
	int ret;

	if (has_static != keypair)
		return -EPROTO;
	if (keypair) {
		ret = vmmig_auth_peer_check(cfg, hs->peer.static_key, VMMIG_PEER_RECEIVE, addr);
		if (ret)
			goto refuse;
	}
	ret = vmmig_hs_derive(hs, cfg);
	if (ret)
		goto refuse;
	ret = vmmig_hs_send_auth(hs, ch, 0, hs->keys.mac_src);
	if (ret)
		return ret;
	ret = vmmig_hs_recv(hs, ch, VMMIG_FRAME_AUTH, &answer, sizeof(answer), &len, false);
	if (ret)
		return ret;
	if (answer.status)
		return vmmig_wire_errno(answer.status);
	if (crypto_memneq(answer.mac, hs->keys.mac_dst, VMMIG_MAC_LEN))
		return -EKEYREJECTED;
	return vmmig_hs_start_encryption(hs, ch);

refuse:
	/* Tell the destination why, so that it counts the right failure. */
	vmmig_hs_send_auth(hs, ch, ret, NULL);
	return ret;
}

/**
 * vmmig_hs_connect - the source's handshake on one connected channel
 * @s: the session (its cookie, channels, regions and codec go in HELLO)
 * @ch: the channel, connected
 * @cfg: the settings to authenticate with
 * @addr: the address connected to, for a KEYPAIR peer's address check
 *
 * Return: 0 once the destination took the channel (and, with encryption
 * on, kTLS is on it); else the destination's refusal (WELCOME or AUTH
 * status), -EKEYREJECTED, -ENOKEY, -EPERM (our own checks of the
 * destination), or a transport or protocol error.
 */
int vmmig_hs_connect(struct vmmig_session *s, struct vmmig_channel *ch,
		     const struct vmmig_auth_config *cfg,
		     const struct sockaddr_storage *addr)
{
	u8 buf[VMMIG_WELCOME_AUTH_LEN];
	struct vmmig_wire_welcome *welcome = (void *)buf;
	struct vmmig_wire_hello *hello;
	struct vmmig_hs *hs;
	size_t hello_len;
	u32 len;
	int ret = -ENOMEM;

	hs = vmmig_hs_alloc();
	if (!hs)
		return -ENOMEM;
	hs->source = true;
	hs->mode = cfg->mode;
	hs->encrypt = cfg->encrypt;
	if (hs->mode != VMMIG_AUTH_NONE)
		vmmig_hs_make_keys(hs, cfg);
	hello = vmmig_hs_build_hello(hs, s, ch, &hello_len);
	if (!hello)
		goto out;
	ret = vmmig_hs_send(hs, ch, VMMIG_FRAME_HELLO, hello, hello_len, true);
	kfree(hello);
	if (!ret)
		ret = vmmig_hs_recv(hs, ch, VMMIG_FRAME_WELCOME, buf, sizeof(buf), &len, true);
	if (ret)
		goto out;
	if (welcome->status) {
		ret = vmmig_wire_errno(welcome->status);
		goto out;
	}
	if (hs->mode == VMMIG_AUTH_NONE) {
		ret = len == sizeof(*welcome) ? 0 : -EPROTO;
		goto out;
	}
	if (len != VMMIG_WELCOME_AUTH_LEN) {
		ret = -EPROTO;
		goto out;
	}
	memcpy(&hs->peer, welcome + 1, sizeof(hs->peer));
	sha256_final(&hs->th, hs->transcript);
	ret = vmmig_hs_source_auth(hs, ch, cfg, addr);
out:
	vmmig_hs_free(hs);
	return ret;
}

/* What the HELLO's auth field and keys say, checked once it is read. */
static int vmmig_hs_parse_auth(struct vmmig_hs *hs, u32 auth)
{
	bool has_static, keypair;

	if (!auth)
		return 0;
	if (auth & ~VMMIG_WIRE_AUTH_KNOWN)
		return -EPROTO;
	if (VMMIG_WIRE_AUTH_VER(auth) != VMMIG_WIRE_AUTH_VERSION)
		return -EPROTONOSUPPORT;
	hs->mode = VMMIG_WIRE_AUTH_MODE(auth);
	hs->encrypt = auth & VMMIG_WIRE_AUTH_ENCRYPT;
	if (hs->mode == VMMIG_AUTH_NONE)
		return -EPROTO;
	if (hs->mode >= __VMMIG_AUTH_MAX)
		return -EPROTONOSUPPORT;
	has_static = memchr_inv(hs->peer.static_key, 0, VMMIG_KEY_LEN);
	keypair = hs->mode == VMMIG_AUTH_KEYPAIR;
	return has_static == keypair ? 0 : -EPROTO;
}

/**
 * vmmig_hs_recv_hello - destination: read the HELLO
 * @hs: a new handshake
 * @ch: the accepted connection
 *
 * Return: 0 when a whole HELLO was read, even one to refuse (see
 * vmmig_hs_offer_check()); else the connection is useless: close it.
 */
int vmmig_hs_recv_hello(struct vmmig_hs *hs, struct vmmig_channel *ch)
{
	size_t want;
	u32 len, auth;
	int ret;

	hs->hello = kmalloc(VMMIG_HELLO_MAX_LEN, GFP_KERNEL);
	if (!hs->hello)
		return -ENOMEM;
	ret = vmmig_hs_recv(hs, ch, VMMIG_FRAME_HELLO, hs->hello, VMMIG_HELLO_MAX_LEN,
			    &len, true);
	if (ret)
		return ret;
	auth = be32_to_cpu(hs->hello->auth);
	want = sizeof(*hs->hello) +
	       (size_t)be32_to_cpu(hs->hello->nregions) * sizeof(struct vmmig_wire_region);
	if (auth)
		want += sizeof(struct vmmig_wire_keys);
	if (len != want)
		return -EPROTO;
	hs->hello_len = len;
	if (auth)
		memcpy(&hs->peer, (u8 *)hs->hello + len - sizeof(hs->peer), sizeof(hs->peer));
	hs->hello_err = vmmig_hs_parse_auth(hs, auth);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_hs_recv_hello);

const struct vmmig_wire_hello *vmmig_hs_hello(const struct vmmig_hs *hs)
{
	return hs->hello;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_hs_hello);

u32 vmmig_hs_mode(const struct vmmig_hs *hs)
{
	return hs->mode;
}

bool vmmig_hs_encrypt(const struct vmmig_hs *hs)
{
	return hs->encrypt;
}

/* KEYPAIR: the static key the source claims (proven once verified). */
const u8 *vmmig_hs_peer_static(const struct vmmig_hs *hs)
{
	return hs->peer.static_key;
}

/**
 * vmmig_hs_offer_check - can settings @cfg answer this HELLO?
 * @hs: after vmmig_hs_recv_hello()
 * @cfg: the settings of a session that could take the channel; NULL:
 *	check only the HELLO's own auth field and keys
 *
 * Return: 0; -EPROTO or -EPROTONOSUPPORT for a malformed or unknown auth
 * field; -EKEYREJECTED if the modes differ; -ENOPROTOOPT if only one
 * side encrypts.
 */
int vmmig_hs_offer_check(const struct vmmig_hs *hs, const struct vmmig_auth_config *cfg)
{
	if (hs->hello_err || !cfg)
		return hs->hello_err;
	if (hs->mode != cfg->mode)
		return -EKEYREJECTED;
	if (hs->encrypt != cfg->encrypt)
		return -ENOPROTOOPT;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_hs_offer_check);

/**
 * vmmig_hs_send_welcome - destination: answer the HELLO
 * @hs: after vmmig_hs_recv_hello()
 * @ch: the connection
 * @status: 0, or the -errno to refuse with
 * @cfg: the settings to authenticate with (KEYPAIR: our static key)
 */
int vmmig_hs_send_welcome(struct vmmig_hs *hs, struct vmmig_channel *ch, int status,
			  const struct vmmig_auth_config *cfg)
{
	u8 buf[VMMIG_WELCOME_AUTH_LEN] = {};
	struct vmmig_wire_welcome *welcome = (void *)buf;
	u32 len = sizeof(*welcome);
	int ret;

	welcome->status = cpu_to_be32(-status);
	if (!status && hs->mode != VMMIG_AUTH_NONE) {
		vmmig_hs_make_keys(hs, cfg);
		memcpy(welcome + 1, &hs->ours, sizeof(hs->ours));
		len = sizeof(buf);
	}
	ret = vmmig_hs_send(hs, ch, VMMIG_FRAME_WELCOME, buf, len, true);
	sha256_final(&hs->th, hs->transcript);
	return ret;
}

/**
 * vmmig_hs_recv_proof - destination: read the source's AUTH
 * @hs: after vmmig_hs_send_welcome()
 * @ch: the connection
 *
 * Return: 0; the -errno the source refused us with; a transport error.
 */
int vmmig_hs_recv_proof(struct vmmig_hs *hs, struct vmmig_channel *ch)
{
	u32 len;
	int ret;

	ret = vmmig_hs_recv(hs, ch, VMMIG_FRAME_AUTH, &hs->proof, sizeof(hs->proof),
			    &len, false);
	if (ret)
		return ret;
	return hs->proof.status ? vmmig_wire_errno(hs->proof.status) : 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_hs_recv_proof);

/**
 * vmmig_hs_verify - destination: does the source's proof hold under @cfg?
 * @hs: after vmmig_hs_recv_proof()
 * @cfg: the settings to check it with; may be called again with others
 *
 * Return: 0, and the session keys are set; -EKEYREJECTED; -ENOMEM.
 */
int vmmig_hs_verify(struct vmmig_hs *hs, const struct vmmig_auth_config *cfg)
{
	int ret = vmmig_hs_derive(hs, cfg);

	if (ret)
		return ret == -ENOMEM ? ret : -EKEYREJECTED;
	if (crypto_memneq(hs->proof.mac, hs->keys.mac_src, VMMIG_MAC_LEN))
		return -EKEYREJECTED;
	return 0;
}

/* Destination: the last word; with status 0, our own proof. */
int vmmig_hs_send_answer(struct vmmig_hs *hs, struct vmmig_channel *ch, int status)
{
	return vmmig_hs_send_auth(hs, ch, status, hs->keys.mac_dst);
}
