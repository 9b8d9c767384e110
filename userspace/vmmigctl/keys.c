// SPDX-License-Identifier: GPL-2.0
/*
 * Keys as people handle them, like wg(8): 32 bytes written as 44
 * characters of base64, one per line or file; genkey, genpsk and pubkey
 * (X25519, from OpenSSL's libcrypto).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vmmigctl.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void key_to_base64(char out[KEY_B64_LEN + 1], const __u8 key[KEY_LEN])
{
	unsigned int i, o = 0;
	__u32 v;

	for (i = 0; i < KEY_LEN; i += 3) {
		v = key[i] << 16;
		if (i + 1 < KEY_LEN)
			v |= key[i + 1] << 8;
		if (i + 2 < KEY_LEN)
			v |= key[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < KEY_LEN ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < KEY_LEN ? b64[v & 63] : '=';
	}
	out[o] = '\0';
}

/*
 * Strict: exactly one key, 44 characters ending in '=', surrounding
 * whitespace ignored. Returns 0, or -EINVAL with *why set.
 */
int key_from_base64(__u8 key[KEY_LEN], const char *text, const char **why)
{
	unsigned int bits = 0, nbits = 0, n = 0;
	size_t i, len, pad = 0;
	const char *p;

	while (*text && strchr(" \t\r\n", *text))
		text++;
	len = strlen(text);
	while (len && strchr(" \t\r\n", text[len - 1]))
		len--;
	if (!len) {
		*why = "empty, expected a base64 key (44 characters, as genkey prints)";
		return -EINVAL;
	}
	while (len && text[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	for (i = 0; i < len; i++) {
		p = strchr(b64, text[i]);
		if (!p) {
			*why = "not base64 (A-Z, a-z, 0-9, +, / and a final =)";
			return -EINVAL;
		}
		bits = (bits << 6 | (unsigned int)(p - b64)) & 0xffff;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			if (n < KEY_LEN)
				key[n] = bits >> nbits & 0xff;
			n++;
		}
	}
	if (n != KEY_LEN) {
		*why = "wrong length: a key is 32 bytes (44 characters of base64)";
		return -EINVAL;
	}
	if (pad != 1 || (bits & ((1U << nbits) - 1))) {
		*why = "not a canonical base64 key (44 characters ending in one =)";
		return -EINVAL;
	}
	return 0;
}

/* The key in file @path (one base64 key); 0, or -errno with *why set. */
int key_from_file(__u8 key[KEY_LEN], const char *path, const char **why)
{
	char buf[256];
	size_t n;
	FILE *f = fopen(path, "r");
	int ret;

	if (!f) {
		ret = -errno;
		*why = strerror(errno);
		return ret;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (ret) {
		*why = "read error";
		return ret;
	}
	if (n == sizeof(buf) - 1) {
		*why = "too long for a key file (one base64 key of 44 characters)";
		return -EINVAL;
	}
	buf[n] = '\0';
	if (strlen(buf) != n) {
		*why = "binary data, expected a base64 key (44 characters, as genkey prints)";
		return -EINVAL;
	}
	ret = key_from_base64(key, buf, why);
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

/* X25519 public key of @priv (clamped as RFC 7748 says, by OpenSSL). */
int key_public(__u8 pub[KEY_LEN], const __u8 priv[KEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, KEY_LEN);
	size_t len = KEY_LEN;
	int ret = -EINVAL;

	if (k && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == KEY_LEN)
		ret = 0;
	EVP_PKEY_free(k);
	return ret;
}

/* genkey (clamped X25519 private key) or genpsk (32 random bytes). */
int cmd_genkey(bool clamp)
{
	char text[KEY_B64_LEN + 1];
	__u8 key[KEY_LEN];

	if (getrandom(key, sizeof(key), 0) != sizeof(key)) {
		fprintf(stderr, "vmmigctl: getrandom: %s\n", strerror(errno));
		return EXIT_SYSTEM;
	}
	if (clamp) {
		key[0] &= 248;
		key[31] = (key[31] & 127) | 64;
	}
	key_to_base64(text, key);
	puts(text);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(text, sizeof(text));
	return EXIT_OK;
}

/* pubkey: a private key on stdin, its public key on stdout. */
int cmd_pubkey(void)
{
	char text[256], out[KEY_B64_LEN + 1];
	__u8 priv[KEY_LEN], pub[KEY_LEN];
	const char *why;
	size_t n = fread(text, 1, sizeof(text) - 1, stdin);
	int ret;

	text[n] = '\0';
	ret = key_from_base64(priv, text, &why);
	explicit_bzero(text, sizeof(text));
	if (ret) {
		fprintf(stderr, "vmmigctl: pubkey: private key on stdin: %s\n", why);
		return EXIT_USAGE;
	}
	ret = key_public(pub, priv);
	explicit_bzero(priv, sizeof(priv));
	if (ret) {
		fputs("vmmigctl: pubkey: X25519 failed in libcrypto\n", stderr);
		return EXIT_SYSTEM;
	}
	key_to_base64(out, pub);
	puts(out);
	return EXIT_OK;
}
