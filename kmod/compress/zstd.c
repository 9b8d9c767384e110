// SPDX-License-Identifier: GPL-2.0
/*
 * The zstd codec, from the kernel's zstd library. Each page is one zstd
 * frame of its own, compressed with parameters tuned for a page-sized
 * input: a small window and small tables, so even level 22 needs little
 * memory. Longer inputs work too, with that same small window.
 */
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/zstd.h>

#include "compress.h"

struct vmmig_zstd {
	zstd_parameters params;
	zstd_cctx *cctx;
	zstd_dctx *dctx;
	void *cmem;
	void *dmem;
};

static void zstd_destroy(struct vmmig_comp_ctx *ctx)
{
	struct vmmig_zstd *z = ctx->priv;

	kvfree(z->cmem);
	kvfree(z->dmem);
	kfree(z);
}

static int zstd_create(struct vmmig_comp_ctx *ctx, int level)
{
	zstd_compression_parameters cparams;
	struct vmmig_zstd *z;
	size_t size;

	z = kzalloc(sizeof(*z), GFP_KERNEL);
	if (!z)
		return -ENOMEM;
	ctx->priv = z;

	/* The same compression parameters zstd_get_params() embeds. */
	cparams = zstd_get_cparams(level, PAGE_SIZE, 0);
	z->params = zstd_get_params(level, PAGE_SIZE);
	size = zstd_cctx_workspace_bound(&cparams);
	z->cmem = kvmalloc(size, GFP_KERNEL);
	if (!z->cmem)
		return -ENOMEM;
	z->cctx = zstd_init_cctx(z->cmem, size);
	if (!z->cctx)
		return -EINVAL;

	size = zstd_dctx_workspace_bound();
	z->dmem = kvmalloc(size, GFP_KERNEL);
	if (!z->dmem)
		return -ENOMEM;
	z->dctx = zstd_init_dctx(z->dmem, size);
	if (!z->dctx)
		return -EINVAL;
	return 0;
}

static int zstd_compress(struct vmmig_comp_ctx *ctx, const void *src,
			 size_t src_len, void *dst, size_t *dst_len)
{
	struct vmmig_zstd *z = ctx->priv;
	size_t ret;

	ret = zstd_compress_cctx(z->cctx, dst, *dst_len, src, src_len, &z->params);
	/*
	 * With room for the worst case no error can be for lack of room; with
	 * less, that is the only one a sound context can hit.
	 */
	if (zstd_is_error(ret))
		return *dst_len < zstd_compress_bound(src_len) ? -ENOSPC : -EINVAL;
	*dst_len = ret;
	return 0;
}

static int zstd_decompress(struct vmmig_comp_ctx *ctx, const void *src,
			   size_t src_len, void *dst, size_t dst_len)
{
	struct vmmig_zstd *z = ctx->priv;
	size_t ret;

	/*
	 * zstd never writes past dst_len, and checks the decoded size against
	 * the one the frame header announces; concatenated frames are decoded
	 * too, which is why the total is checked here.
	 */
	ret = zstd_decompress_dctx(z->dctx, dst, dst_len, src, src_len);
	return !zstd_is_error(ret) && ret == dst_len ? 0 : -EBADMSG;
}

const struct vmmig_comp_ops vmmig_comp_zstd_ops = {
	.name		= "zstd",
	.min_level	= 1,
	.max_level	= 22,		/* zstd_max_clevel(), not a constant */
	.default_level	= ZSTD_CLEVEL_DEFAULT,
	.create		= zstd_create,
	.destroy	= zstd_destroy,
	.compress	= zstd_compress,
	.decompress	= zstd_decompress,
};
