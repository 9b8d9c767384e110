// SPDX-License-Identifier: GPL-2.0
/*
 * Compression contexts and single pages: picks the codec, checks the level,
 * allocates every workspace once, and decides per page whether compressing
 * it was worth it.
 */
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "compress.h"

static const struct vmmig_comp_ops *const vmmig_comp_backends[__VMMIG_COMP_MAX] = {
	[VMMIG_COMP_NONE]	= &vmmig_comp_none_ops,
	[VMMIG_COMP_LZ4]	= &vmmig_comp_lz4_ops,
	[VMMIG_COMP_ZSTD]	= &vmmig_comp_zstd_ops,
};

/**
 * vmmig_comp_check - check a codec and level before using them
 * @alg: an enum vmmig_comp value, as userspace or the peer gave it
 * @level: 0 for the codec's default, else one in its range (compress.h)
 *
 * Return: 0, or -EINVAL.
 */
int vmmig_comp_check(unsigned int alg, int level)
{
	const struct vmmig_comp_ops *ops;

	if (alg >= __VMMIG_COMP_MAX)
		return -EINVAL;
	ops = vmmig_comp_backends[alg];
	if (level && (level < ops->min_level || level > ops->max_level))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_check);

/**
 * vmmig_comp_ctx_create - allocate one channel's compression context
 * @alg: an enum vmmig_comp value
 * @level: 0 for the codec's default, else one in its range (compress.h)
 * @max_src_bytes: the most page bytes one frame will carry, at most
 *	VMMIG_COMP_MAX_PAGES pages; 0 if frames are not used
 *
 * Everything the context will ever need is allocated here, so that the data
 * path never allocates. May sleep.
 *
 * Return: the context, or ERR_PTR(-EINVAL) for a bad codec, level or size,
 * ERR_PTR(-ENOMEM).
 */
struct vmmig_comp_ctx *vmmig_comp_ctx_create(unsigned int alg, int level,
					     size_t max_src_bytes)
{
	struct vmmig_comp_ctx *ctx;
	int ret;

	ret = vmmig_comp_check(alg, level);
	if (ret)
		return ERR_PTR(ret);
	if (max_src_bytes > VMMIG_COMP_MAX_PAGES * PAGE_SIZE)
		return ERR_PTR(-EINVAL);

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	ctx->ops = vmmig_comp_backends[alg];
	ctx->level = level ?: ctx->ops->default_level;
	ctx->max_pages = DIV_ROUND_UP(max_src_bytes, PAGE_SIZE);
	if (ctx->max_pages) {
		ctx->buf_size = vmmig_comp_frame_bound(ctx->max_pages);
		ctx->buf = kvmalloc(ctx->buf_size, GFP_KERNEL);
		if (!ctx->buf) {
			ret = -ENOMEM;
			goto err;
		}
	}
	if (ctx->ops->create) {
		ret = ctx->ops->create(ctx, ctx->level);
		if (ret)
			goto err;
	}
	return ctx;

err:
	vmmig_comp_ctx_destroy(ctx);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_ctx_create);

/**
 * vmmig_comp_ctx_destroy - free a context and everything in it
 * @ctx: from vmmig_comp_ctx_create(), or NULL
 */
void vmmig_comp_ctx_destroy(struct vmmig_comp_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->priv)
		ctx->ops->destroy(ctx);
	kvfree(ctx->buf);
	kfree(ctx);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_ctx_destroy);

/**
 * vmmig_comp_page - compress one page, if that is worth it
 * @ctx: the channel's context
 * @page: PAGE_SIZE bytes, not all zero (see compress.h)
 * @out: where the compressed page goes
 * @out_cap: room at @out; nothing is written past it
 *
 * Return: the compressed length, 1 to PAGE_SIZE - VMMIG_COMP_MIN_SAVING;
 * 0 if the page does not shrink that much, or not into @out_cap: send it
 * raw; another -errno only if the codec fails in a way it never should.
 */
int vmmig_comp_page(struct vmmig_comp_ctx *ctx, const void *page,
		    void *out, size_t out_cap)
{
	/*
	 * Capping the output at the margin lets a codec give up on a page
	 * that will not shrink enough as soon as it knows.
	 */
	size_t len = min_t(size_t, out_cap, PAGE_SIZE - VMMIG_COMP_MIN_SAVING);
	int ret;

	ret = ctx->ops->compress(ctx, page, PAGE_SIZE, out, &len);
	if (ret)
		return ret == -ENOSPC ? 0 : ret;
	return len;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_page);

/**
 * vmmig_decomp_page - decompress one page straight into its destination
 * @ctx: the channel's context
 * @src: a page as vmmig_comp_page() compressed it
 * @src_len: its length, 1 to PAGE_SIZE - 1
 * @dst: the destination page
 *
 * Nothing is written outside the PAGE_SIZE bytes at @dst, whatever @src
 * holds. After an error @dst holds garbage: the caller aborts the session.
 *
 * Return: 0, or -EBADMSG unless @src decodes to exactly one page.
 */
int vmmig_decomp_page(struct vmmig_comp_ctx *ctx, const void *src,
		      size_t src_len, void *dst)
{
	/*
	 * A frame says "raw" with a length of PAGE_SIZE and no sender makes
	 * a compressed page that long, so one length has one meaning.
	 */
	if (!src_len || src_len >= PAGE_SIZE)
		return -EBADMSG;
	return ctx->ops->decompress(ctx, src, src_len, dst, PAGE_SIZE);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_decomp_page);
