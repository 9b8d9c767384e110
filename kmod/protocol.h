/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vmmig wire protocol (Documentation/wire-protocol.md): every frame is
 * a 32-byte big-endian header, then @len bytes of payload.
 */
#ifndef _VMMIG_PROTOCOL_H
#define _VMMIG_PROTOCOL_H

#include <linux/types.h>

#define VMMIG_WIRE_MAGIC	0x564d4d47	/* "VMMG" */
#define VMMIG_WIRE_VERSION	1

/* Pages in one PAGES/ZERO frame; also the unit that picks a channel. */
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
	VMMIG_FRAME_RDMA_KEYS,	/* dest -> source, RDMA only: @count struct vmmig_wire_rkey */
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

/* HELLO payload: this, then @nregions struct vmmig_wire_region. */
struct vmmig_wire_hello {
	__be64 cookie;		/* random, the same on every channel of a session */
	__be16 channel;		/* this channel's index */
	__be16 channels;	/* how many the session has */
	__be32 nregions;
	__be32 compression;	/* enum vmmig_comp of the COMP frames */
	__be32 reserved;	/* must be 0 */
} __packed;

struct vmmig_wire_region {
	__be32 id;
	__be32 reserved;
	__be64 pages;
} __packed;

/* WELCOME payload */
struct vmmig_wire_welcome {
	__be32 status;		/* 0, or the positive errno the dest refuses with */
} __packed;

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
				 VMMIG_MAX_REGIONS * sizeof(struct vmmig_wire_region))

void vmmig_frame_encode(struct vmmig_wire_hdr *hdr, const struct vmmig_frame *f);
int vmmig_frame_decode(const struct vmmig_wire_hdr *hdr, struct vmmig_frame *f);

#endif /* _VMMIG_PROTOCOL_H */
