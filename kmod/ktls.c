// SPDX-License-Identifier: GPL-2.0
/*
 * Encryption of a TCP channel: the kernel's TLS record layer (kTLS) on the
 * channel's socket, TLS 1.3 with AES-128-GCM, keyed from the handshake.
 * There is no TLS handshake: vmmig's own did the key agreement, kTLS only
 * protects the records. The sender keeps splicing pages (tls_sw copies them
 * into the record as it encrypts), the receiver keeps receiving into bio_vecs.
 */
#include <linux/module.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <linux/tls.h>
#include <net/sock.h>

#include "auth.h"

/* The "tls" ULP lives in tls.ko on distribution kernels. */
MODULE_SOFTDEP("pre: tls");

static void vmmig_ktls_info(struct tls12_crypto_info_aes_gcm_128 *ci,
			    const struct vmmig_traffic_key *k)
{
	BUILD_BUG_ON(sizeof(ci->salt) + sizeof(ci->iv) != VMMIG_TLS_IV_LEN);
	BUILD_BUG_ON(sizeof(ci->key) != VMMIG_TLS_KEY_LEN);

	memset(ci, 0, sizeof(*ci));
	ci->info.version = TLS_1_3_VERSION;
	ci->info.cipher_type = TLS_CIPHER_AES_GCM_128;
	/* TLS 1.3 nonce: (salt || iv) XOR the record number, from 0. */
	memcpy(ci->salt, k->iv, sizeof(ci->salt));
	memcpy(ci->iv, k->iv + sizeof(ci->salt), sizeof(ci->iv));
	memcpy(ci->key, k->key, sizeof(ci->key));
}

/**
 * vmmig_ktls_start - protect every byte sent and received from now on
 * @sock: a connected TCP socket with nothing unread past the handshake
 * @tx: the key for what we send
 * @rx: the key for what we receive
 *
 * Data the peer already sent under its key and that sits unread in the
 * socket is decrypted too: kTLS parses the receive queue from where the
 * reader stopped.
 *
 * Return: 0, or the -errno of setting the ULP or the keys; the socket is
 * then unusable and must be closed.
 */
int vmmig_ktls_start(struct socket *sock, const struct vmmig_traffic_key *tx,
		     const struct vmmig_traffic_key *rx)
{
	char ulp[] = "tls";
	struct tls12_crypto_info_aes_gcm_128 ci;
	int ret;

	ret = sock->ops->setsockopt(sock, SOL_TCP, TCP_ULP, KERNEL_SOCKPTR(ulp),
				    sizeof(ulp) - 1);
	if (ret)
		return ret;
	vmmig_ktls_info(&ci, tx);
	ret = sock->ops->setsockopt(sock, SOL_TLS, TLS_TX, KERNEL_SOCKPTR(&ci), sizeof(ci));
	if (!ret) {
		vmmig_ktls_info(&ci, rx);
		ret = sock->ops->setsockopt(sock, SOL_TLS, TLS_RX, KERNEL_SOCKPTR(&ci),
					    sizeof(ci));
	}
	memzero_explicit(&ci, sizeof(ci));
	return ret;
}
