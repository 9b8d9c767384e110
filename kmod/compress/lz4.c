// SPDX-License-Identifier: GPL-2.0
/*
 * The lz4 codec, from the kernel's lz4 library. The level is lz4's
 * acceleration: it trades ratio for speed, and its default of 1 already
 * compresses a page in a few microseconds.
 */
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/lz4.h>
#include <linux/minmax.h>
#include <linux/slab.h>

#include "compress.h"

/* Upstream lz4's LZ4_ACCELERATION_MAX, which the kernel's copy lacks. */
#define VMMIG_LZ4_ACCELERATION_MAX	65537

static int lz4_create(struct vmmig_comp_ctx *ctx, int level)
{
	ctx->priv = kvmalloc(LZ4_MEM_COMPRESS, GFP_KERNEL);
	return ctx->priv ? 0 : -ENOMEM;
}

static void lz4_destroy(struct vmmig_comp_ctx *ctx)
{
	kvfree(ctx->priv);
}

static int lz4_compress(struct vmmig_comp_ctx *ctx, const void *src,
			size_t src_len, void *dst, size_t *dst_len)
{
	int ret;

	if (src_len > LZ4_MAX_INPUT_SIZE)
		return -EINVAL;
	ret = LZ4_compress_fast(src, dst, src_len, min_t(size_t, *dst_len, INT_MAX),
				ctx->level, ctx->priv);
	/* lz4 fails only when the output does not fit. */
	if (!ret)
		return -ENOSPC;
	*dst_len = ret;
	return 0;
}

static int lz4_decompress(struct vmmig_comp_ctx *ctx, const void *src,
			  size_t src_len, void *dst, size_t dst_len)
{
	int ret;

	if (src_len > INT_MAX || dst_len > INT_MAX)
		return -EBADMSG;
	/* The _safe variant never reads or writes outside the two buffers. */
	ret = LZ4_decompress_safe(src, dst, src_len, dst_len);
	return ret == (int)dst_len ? 0 : -EBADMSG;
}

const struct vmmig_comp_ops vmmig_comp_lz4_ops = {
	.name		= "lz4",
	.min_level	= 1,
	.max_level	= VMMIG_LZ4_ACCELERATION_MAX,
	.default_level	= LZ4_ACCELERATION_DEFAULT,
	.create		= lz4_create,
	.destroy	= lz4_destroy,
	.compress	= lz4_compress,
	.decompress	= lz4_decompress,
};
