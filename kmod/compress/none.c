// SPDX-License-Identifier: GPL-2.0
/*
 * The "none" codec: nothing ever shrinks, so every page goes raw, and no
 * peer using it ever sends a compressed page to decode.
 */
#include <linux/errno.h>

#include "compress.h"

static int none_compress(struct vmmig_comp_ctx *ctx, const void *src,
			 size_t src_len, void *dst, size_t *dst_len)
{
	return -ENOSPC;
}

static int none_decompress(struct vmmig_comp_ctx *ctx, const void *src,
			   size_t src_len, void *dst, size_t dst_len)
{
	return -EBADMSG;
}

const struct vmmig_comp_ops vmmig_comp_none_ops = {
	.name		= "none",
	.compress	= none_compress,
	.decompress	= none_decompress,
};
