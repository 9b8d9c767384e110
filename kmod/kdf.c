// SPDX-License-Identifier: GPL-2.0
/*
 * The cryptography of the handshake: HMAC-SHA256 from the crypto API,
 * HKDF (RFC 5869) on top of it, X25519 (RFC 7748) from the kernel's
 * curve25519 library, and the key schedule that turns one channel's
 * handshake into its two proofs and its two kTLS keys
 * (Documentation/security.md, "Key schedule").
 *
 * A struct crypto_shash holds the HMAC key between setkey and the digest,
 * so a tfm is never shared: each handshake allocates its own.
 */
#include <crypto/algapi.h>
#include <crypto/curve25519.h>
#include <crypto/hash.h>
#include <kunit/visibility.h>
#include <linux/err.h>
#include <linux/string.h>

#include "auth.h"

struct crypto_shash *vmmig_hmac_alloc(void)
{
	return crypto_alloc_shash("hmac(sha256)", 0, 0);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_hmac_alloc);

/* HMAC-SHA256(@key, @a || @b); @b may be NULL. */
int vmmig_hmac_sha256(struct crypto_shash *tfm, const u8 *key, size_t key_len,
		      const u8 *a, size_t a_len, const u8 *b, size_t b_len,
		      u8 out[VMMIG_MAC_LEN])
{
	SHASH_DESC_ON_STACK(desc, tfm);
	int ret;

	ret = crypto_shash_setkey(tfm, key, key_len);
	if (ret)
		return ret;
	desc->tfm = tfm;
	ret = crypto_shash_init(desc);
	if (!ret)
		ret = crypto_shash_update(desc, a, a_len);
	if (!ret && b)
		ret = crypto_shash_update(desc, b, b_len);
	if (!ret)
		ret = crypto_shash_final(desc, out);
	shash_desc_zero(desc);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_hmac_sha256);

/* HKDF-Extract: PRK = HMAC(salt, IKM), an empty salt being 32 zero bytes. */
int vmmig_hkdf_extract(struct crypto_shash *tfm, const u8 *salt, size_t salt_len,
		       const u8 *ikm, size_t ikm_len, u8 prk[VMMIG_MAC_LEN])
{
	static const u8 zero_salt[VMMIG_MAC_LEN];

	if (!salt_len)
		return vmmig_hmac_sha256(tfm, zero_salt, sizeof(zero_salt), ikm, ikm_len,
					 NULL, 0, prk);
	return vmmig_hmac_sha256(tfm, salt, salt_len, ikm, ikm_len, NULL, 0, prk);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_hkdf_extract);

/* HKDF-Expand: T(i) = HMAC(PRK, T(i-1) || info || i), OKM = T(1) || T(2) ... */
int vmmig_hkdf_expand(struct crypto_shash *tfm, const u8 prk[VMMIG_MAC_LEN],
		      const u8 *info, size_t info_len, u8 *okm, size_t okm_len)
{
	SHASH_DESC_ON_STACK(desc, tfm);
	u8 t[VMMIG_MAC_LEN];
	size_t done = 0, n;
	u8 i;
	int ret;

	if (okm_len > 255 * VMMIG_MAC_LEN)
		return -EINVAL;
	ret = crypto_shash_setkey(tfm, prk, VMMIG_MAC_LEN);
	if (ret)
		return ret;
	desc->tfm = tfm;
	for (i = 1; !ret && done < okm_len; i++) {
		ret = crypto_shash_init(desc);
		if (!ret && i > 1)
			ret = crypto_shash_update(desc, t, sizeof(t));
		if (!ret)
			ret = crypto_shash_update(desc, info, info_len);
		if (!ret)
			ret = crypto_shash_update(desc, &i, 1);
		if (!ret)
			ret = crypto_shash_final(desc, t);
		n = min(okm_len - done, sizeof(t));
		if (!ret)
			memcpy(okm + done, t, n);
		done += n;
	}
	memzero_explicit(t, sizeof(t));
	shash_desc_zero(desc);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_hkdf_expand);

/*
 * X25519(@scalar, @point). A point of small order gives the all-zero
 * shared secret whatever the scalar: a peer that sends one is refused.
 */
int vmmig_x25519(u8 out[VMMIG_KEY_LEN], const u8 scalar[VMMIG_KEY_LEN],
		 const u8 point[VMMIG_KEY_LEN])
{
	return curve25519(out, scalar, point) ? 0 : -EKEYREJECTED;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_x25519);

static int vmmig_expand_label(struct crypto_shash *tfm, const u8 prk[VMMIG_MAC_LEN],
			      const char *label, u8 *out, size_t len)
{
	return vmmig_hkdf_expand(tfm, prk, label, strlen(label), out, len);
}

/**
 * vmmig_kdf_handshake - the key schedule of one channel's handshake
 * @tfm: from vmmig_hmac_alloc()
 * @ikm: the input keying material: PSK || ee, or ee || es || se || ss
 * @ikm_len: its length
 * @transcript: SHA-256 of the HELLO and WELCOME frames, as on the wire
 * @k: the proofs and the traffic keys
 *
 *	PRK     = HKDF-Extract(salt = transcript, IKM)
 *	K_auth  = HKDF-Expand(PRK, "vmmig v1 auth", 32)
 *	mac_src = HMAC(K_auth, "vmmig src" || transcript)
 *	mac_dst = HMAC(K_auth, "vmmig dst" || transcript)
 *	s2d.key = HKDF-Expand(PRK, "vmmig v1 s2d key", 16), s2d.iv ... "s2d iv", 12
 *	d2s.key = HKDF-Expand(PRK, "vmmig v1 d2s key", 16), d2s.iv ... "d2s iv", 12
 *
 * The two proofs differ only by their label, so that neither side's proof
 * is ever the other's: a reflected proof fails.
 */
int vmmig_kdf_handshake(struct crypto_shash *tfm, const u8 *ikm, size_t ikm_len,
			const u8 transcript[VMMIG_MAC_LEN], struct vmmig_hs_keys *k)
{
	static const char src[] = "vmmig src", dst[] = "vmmig dst";
	u8 prk[VMMIG_MAC_LEN], kauth[VMMIG_MAC_LEN];
	int ret;

	ret = vmmig_hkdf_extract(tfm, transcript, VMMIG_MAC_LEN, ikm, ikm_len, prk);
	if (!ret)
		ret = vmmig_expand_label(tfm, prk, "vmmig v1 auth", kauth, sizeof(kauth));
	if (!ret)
		ret = vmmig_hmac_sha256(tfm, kauth, sizeof(kauth), src, strlen(src),
					transcript, VMMIG_MAC_LEN, k->mac_src);
	if (!ret)
		ret = vmmig_hmac_sha256(tfm, kauth, sizeof(kauth), dst, strlen(dst),
					transcript, VMMIG_MAC_LEN, k->mac_dst);
	if (!ret)
		ret = vmmig_expand_label(tfm, prk, "vmmig v1 s2d key", k->s2d.key,
					 sizeof(k->s2d.key));
	if (!ret)
		ret = vmmig_expand_label(tfm, prk, "vmmig v1 s2d iv", k->s2d.iv,
					 sizeof(k->s2d.iv));
	if (!ret)
		ret = vmmig_expand_label(tfm, prk, "vmmig v1 d2s key", k->d2s.key,
					 sizeof(k->d2s.key));
	if (!ret)
		ret = vmmig_expand_label(tfm, prk, "vmmig v1 d2s iv", k->d2s.iv,
					 sizeof(k->d2s.iv));
	memzero_explicit(prk, sizeof(prk));
	memzero_explicit(kauth, sizeof(kauth));
	if (ret)
		memzero_explicit(k, sizeof(*k));
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_kdf_handshake);
