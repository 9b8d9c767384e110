// SPDX-License-Identifier: GPL-2.0
/*
 * Frame header encode/decode. Decoding is the first thing done with bytes
 * from the network, so it checks everything that does not need session
 * state; region and page bounds are checked by the receiver.
 */
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/vmmig.h>
#include <kunit/visibility.h>

#include "protocol.h"

void vmmig_frame_encode(struct vmmig_wire_hdr *hdr, const struct vmmig_frame *f)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->magic = cpu_to_be32(VMMIG_WIRE_MAGIC);
	hdr->version = VMMIG_WIRE_VERSION;
	hdr->type = f->type;
	hdr->region = cpu_to_be32(f->region);
	hdr->count = cpu_to_be32(f->count);
	hdr->len = cpu_to_be32(f->len);
	hdr->page = cpu_to_be64(f->page);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_frame_encode);

/**
 * vmmig_frame_decode - check and decode a frame header
 * @hdr: the header as received
 * @f: the decoded header
 *
 * Return: 0; -EPROTO for a bad magic, version, type, flags or reserved
 * field; -EBADMSG for a length or count that does not fit the type.
 */
int vmmig_frame_decode(const struct vmmig_wire_hdr *hdr, struct vmmig_frame *f)
{
	if (be32_to_cpu(hdr->magic) != VMMIG_WIRE_MAGIC ||
	    hdr->version != VMMIG_WIRE_VERSION || hdr->flags || hdr->reserved)
		return -EPROTO;

	f->type = hdr->type;
	f->region = be32_to_cpu(hdr->region);
	f->count = be32_to_cpu(hdr->count);
	f->len = be32_to_cpu(hdr->len);
	f->page = be64_to_cpu(hdr->page);

	switch (f->type) {
	case VMMIG_FRAME_HELLO:
		if (f->len < sizeof(struct vmmig_wire_hello) ||
		    f->len > VMMIG_HELLO_MAX_LEN || f->count || f->region)
			return -EBADMSG;
		return 0;
	case VMMIG_FRAME_WELCOME:
		if ((f->len != sizeof(struct vmmig_wire_welcome) &&
		     f->len != VMMIG_WELCOME_AUTH_LEN) || f->count || f->region)
			return -EBADMSG;
		return 0;
	case VMMIG_FRAME_AUTH:
		if (f->len != sizeof(struct vmmig_wire_auth) || f->count || f->region ||
		    f->page)
			return -EBADMSG;
		return 0;
	case VMMIG_FRAME_PAGES:
		if (!f->count || f->count > VMMIG_RUN_PAGES ||
		    f->len != f->count * VMMIG_PAGE_SIZE)
			return -EBADMSG;
		return 0;
	case VMMIG_FRAME_COMP:
		/* a table of @count lengths, then at most @count whole pages */
		if (!f->count || f->count > VMMIG_RUN_PAGES ||
		    f->len < f->count * 2 || f->len > f->count * (2 + VMMIG_PAGE_SIZE))
			return -EBADMSG;
		return 0;
	case VMMIG_FRAME_SPARSE:
		/* the map, then 1 to @count - 1 pages (the map says which) */
		if (f->count < 2 || f->count > VMMIG_RUN_PAGES ||
		    f->len < VMMIG_SPARSE_MAP_LEN + VMMIG_PAGE_SIZE ||
		    (f->len - VMMIG_SPARSE_MAP_LEN) % VMMIG_PAGE_SIZE ||
		    (f->len - VMMIG_SPARSE_MAP_LEN) / VMMIG_PAGE_SIZE >= f->count)
			return -EBADMSG;
		return 0;
	case VMMIG_FRAME_ZERO:
		if (!f->count || f->count > VMMIG_RUN_PAGES || f->len)
			return -EBADMSG;
		return 0;
	case VMMIG_FRAME_BLOB:
		if (f->len > VMMIG_MAX_BLOB || f->count || f->region)
			return -EBADMSG;
		return 0;
	case VMMIG_FRAME_SYNC:
	case VMMIG_FRAME_SYNC_ACK:
	case VMMIG_FRAME_FIN:
		if (f->len || f->count || f->region)
			return -EBADMSG;
		return 0;
	case VMMIG_FRAME_RDMA_KEYS:
		if (f->len > VMMIG_MAX_BLOB || f->region || f->page ||
		    f->len != f->count * sizeof(struct vmmig_wire_rkey))
			return -EBADMSG;
		return 0;
	case VMMIG_FRAME_ABORT:
		if (f->len || f->region || f->page || !f->count || f->count > MAX_ERRNO)
			return -EBADMSG;
		return 0;
	default:
		return -EPROTO;
	}
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_frame_decode);
