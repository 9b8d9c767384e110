/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the hand-written peers of the tests share: the wire header
 * (Documentation/wire-protocol.md), sending whole buffers, reading whole
 * frames, and dialling the destination.
 */
#ifndef _VMMIG_WIRE_PEER_H
#define _VMMIG_WIRE_PEER_H

#include <assert.h>
#include <endian.h>
#include <netinet/in.h>

#include "vmmig_test.h"

enum {
	VT_F_HELLO = 1, VT_F_WELCOME, VT_F_PAGES, VT_F_ZERO, VT_F_BLOB, VT_F_SYNC,
	VT_F_SYNC_ACK, VT_F_FIN, VT_F_ABORT, VT_F_COMP, VT_F_AUTH, VT_F_RDMA_KEYS,
	VT_F_SPARSE,
};

#define VT_WIRE_MAGIC	0x564d4d47

/* Naturally aligned: the layout is the wire layout without packing. */
struct vt_hdr {
	__u32 magic;
	__u8 version;
	__u8 type;
	__u16 flags;
	__u32 region;
	__u32 count;
	__u32 len;
	__u32 reserved;
	__u64 page;
};

static_assert(sizeof(struct vt_hdr) == 32, "wire header is 32 bytes");

static inline struct vt_hdr vt_mkhdr(__u8 type, __u32 region, __u32 count, __u32 len,
				     __u64 page)
{
	struct vt_hdr h = {
		.magic = htobe32(VT_WIRE_MAGIC), .version = 1, .type = type,
		.region = htobe32(region), .count = htobe32(count),
		.len = htobe32(len), .page = htobe64(page),
	};

	return h;
}

static inline int vt_send_all(int s, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(s, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* A whole frame: its header and payload in @buf; returns the payload length. */
static inline int vt_recv_frame(int s, void *buf, size_t max, __u8 *type)
{
	struct vt_hdr *h = buf;
	__u32 len;

	if (recv(s, h, sizeof(*h), MSG_WAITALL) != sizeof(*h))
		return -1;
	len = be32toh(h->len);
	if (len > max - sizeof(*h) ||
	    (len && recv(s, (char *)buf + sizeof(*h), len, MSG_WAITALL) != (ssize_t)len))
		return -1;
	*type = h->type;
	return len;
}

/* A TCP connection to @addr:@port, retried for @tries of 20 ms. */
static inline int vt_dial(const char *addr, __u16 port, int tries)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s;

	inet_pton(AF_INET, addr, &sin.sin_addr);
	do {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || !connect(s, (void *)&sin, sizeof(sin)))
			return s;
		close(s);
		usleep(20000);
	} while (--tries > 0);
	return -1;
}

#endif /* _VMMIG_WIRE_PEER_H */
