/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vmmig wire protocol (Documentation/wire-protocol.md): every frame is
 * a 32-byte big-endian header, then @len bytes of payload.
 */
#ifndef _VMMIG_PROTOCOL_H
#define _VMMIG_PROTOCOL_H

#include <linux/types.h>
#include <linux/vmmig.h>

#define VMMIG_WIRE_MAGIC	0x564d4d47	/* "VMMG" */
#define VMMIG_WIRE_VERSION	1

/* Pages in one PAGES/ZERO/SPARSE frame; also the unit that picks a channel. */
#define VMMIG_RUN_PAGES		64

enum vmmig_frame_type {
	VMMIG_FRAME_HELLO = 1,	/* source -> dest, first on each channel */
	VMMIG_FRAME_WELCOME,	/* dest -> source, answer to HELLO */
	VMMIG_FRAME_PAGES,	/* @count raw pages from @page of @region */
	VMMIG_FRAME_ZERO,	/* @count zero pages from @page of @region */
	VMMIG_FRAME_BLOB,	/* @len opaque bytes, tag in @page */
	VMMIG_FRAME_SYNC,	/* barrier number @page */
	VMMIG_FRAME_SYNC_ACK,	/* dest -> source: all before SYNC @page placed */
	VMMIG_FRAME_FIN,	/* no more frames on this channel: done */
	VMMIG_FRAME_ABORT,	/* session aborted, errno in @count */
	VMMIG_FRAME_COMP,	/* @count pages from @page of @region, compressed */
	VMMIG_FRAME_AUTH,	/* handshake proof, source first (struct vmmig_wire_auth) */
	VMMIG_FRAME_RDMA_KEYS,	/* dest -> source, RDMA only: @count struct vmmig_wire_rkey */
	VMMIG_FRAME_SPARSE,	/* @count pages from @page: zero map, non-zero pages */
	__VMMIG_FRAME_MAX,
};

struct vmmig_wire_hdr {
	__be32 magic;
	__u8 version;
	__u8 type;
	__be16 flags;		/* none defined: must be 0 */
	__be32 region;
	__be32 count;
	__be32 len;		/* payload bytes after the header */
	__be32 reserved;	/* must be 0 */
	__be64 page;
} __packed;

/*
 * HELLO payload: this, then @nregions struct vmmig_wire_region, then, if
 * @auth is not 0, struct vmmig_wire_keys.
 */
struct vmmig_wire_hello {
	__be64 cookie;		/* random, the same on every channel of a session */
	__be16 channel;		/* this channel's index */
	__be16 channels;	/* how many the session has */
	__be32 nregions;
	__be32 compression;	/* enum vmmig_comp of the COMP frames */
	__be32 auth;		/* 0: none; else VMMIG_WIRE_AUTH_* */
} __packed;

/*
 * HELLO's @auth: the handshake version, the mode and the encryption flag.
 * Zero for mode NONE, so that a source without authentication sends what
 * the first version of the protocol sent.
 */
#define VMMIG_WIRE_AUTH_VERSION		1
#define VMMIG_WIRE_AUTH_MODE(a)		((a) & 0xff)
#define VMMIG_WIRE_AUTH_ENCRYPT		0x100
#define VMMIG_WIRE_AUTH_VER(a)		((a) >> 16)
#define VMMIG_WIRE_AUTH_KNOWN		(0xffff00ffU | VMMIG_WIRE_AUTH_ENCRYPT)

struct vmmig_wire_region {
	__be32 id;
	__be32 reserved;
	__be64 pages;
} __packed;

#define VMMIG_NONCE_LEN		32

/* One side's handshake values: in HELLO after the regions, in WELCOME. */
struct vmmig_wire_keys {
	u8 nonce[VMMIG_NONCE_LEN];
	u8 ephemeral[VMMIG_KEY_LEN];	/* X25519 public key, fresh per channel */
	u8 static_key[VMMIG_KEY_LEN];	/* KEYPAIR: the host's public key; else 0 */
} __packed;

/* WELCOME payload; with authentication, followed by struct vmmig_wire_keys. */
struct vmmig_wire_welcome {
	__be32 status;		/* 0, or the positive errno the dest refuses with */
} __packed;

/* AUTH payload: the source's proof, then the destination's answer. */
struct vmmig_wire_auth {
	__be32 status;		/* 0, or the positive errno the sender refuses with */
	u8 mac[32];		/* status 0: HMAC-SHA256 proof; else 0 */
} __packed;

/*
 * SPARSE payload: a big-endian 64-bit map (bit i: page @page + i is zero;
 * no bit at or past @count), then the pages whose bit is clear, in order.
 * One frame for a run of zero and data pages interleaved, where PAGES and
 * ZERO frames would need one frame per change.
 */
#define VMMIG_SPARSE_MAP_LEN	sizeof(__be64)

/*
 * RDMA_KEYS payload entry: one memory region the source may RDMA WRITE
 * into on this channel. It maps @pages pages of the channel's share of
 * region @region (its chunks, in order), from the @first-th, at @addr.
 */
struct vmmig_wire_rkey {
	__be32 region;
	__be32 rkey;
	__be64 addr;
	__be32 first;
	__be32 pages;
} __packed;

/* A decoded header, in CPU order. */
struct vmmig_frame {
	u8 type;
	u32 region;
	u32 count;
	u32 len;
	u64 page;
};

#define VMMIG_HELLO_MAX_LEN	(sizeof(struct vmmig_wire_hello) + \
				 VMMIG_MAX_REGIONS * sizeof(struct vmmig_wire_region) + \
				 sizeof(struct vmmig_wire_keys))
#define VMMIG_WELCOME_AUTH_LEN	(sizeof(struct vmmig_wire_welcome) + \
				 sizeof(struct vmmig_wire_keys))

void vmmig_frame_encode(struct vmmig_wire_hdr *hdr, const struct vmmig_frame *f);
int vmmig_frame_decode(const struct vmmig_wire_hdr *hdr, struct vmmig_frame *f);

#endif /* _VMMIG_PROTOCOL_H */
