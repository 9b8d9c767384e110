/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page compression for the data path: codecs behind one ops table (one file
 * each: none.c, lz4.c, zstd.c), per-channel contexts (compress.c) and the
 * payload of a frame of many compressed pages (frame.c).
 *
 * Contexts: vmmig_comp_ctx_create() allocates every workspace and the frame
 * buffer once, when a channel is set up; compressing and decompressing never
 * allocate. A context has no lock: it belongs to one channel, and only that
 * channel's sending (or receiving) thread uses it. Nothing here sleeps
 * except creating and destroying a context.
 *
 * Zero pages are the caller's to find (the sender already does, for ZERO
 * frames) and must never be handed to a compressor: a ZERO frame, or a zero
 * entry in a compressed frame, costs nothing to send or to decode.
 *
 * Adaptive: a page is sent compressed only if that saves at least
 * VMMIG_COMP_MIN_SAVING bytes, a frame only if it saves that much per
 * non-zero page on average. Below that the wire time saved does not pay for
 * decompressing on the receiver, nor, for a whole frame, for copying pages
 * that PAGES frames would send without a copy.
 *
 * Backends and levels (0 always picks the default):
 *	none	level 0 only. Compresses nothing; every page goes raw.
 *	lz4	level = acceleration, 1 (default, best ratio) to 65537
 *		(upstream's LZ4_ACCELERATION_MAX); higher is faster and
 *		compresses less.
 *	zstd	level 1 to 22 (zstd_max_clevel()), default 3.
 */
#ifndef _VMMIG_COMPRESS_H
#define _VMMIG_COMPRESS_H

#include <linux/build_bug.h>
#include <linux/limits.h>
#include <linux/types.h>
#include <linux/unaligned.h>
#include <linux/vmmig.h>
#include <asm/page.h>

/* A page must shrink by at least 1/8 to be sent compressed. */
#define VMMIG_COMP_MIN_SAVING	(PAGE_SIZE / 8)

/* Most pages in one frame: keeps the frame buffer a modest vmalloc. */
#define VMMIG_COMP_MAX_PAGES	1024

struct vmmig_comp_ctx;

/**
 * struct vmmig_comp_ops - one codec
 * @name: as shown to people
 * @min_level: lowest level accepted
 * @max_level: highest level accepted
 * @default_level: what level 0 stands for
 * @create: allocate the workspaces for @level (already checked) and hang
 *	them on @ctx->priv; optional
 * @destroy: free @ctx->priv, also when a failed @create left it half set
 *	up; only called if @ctx->priv is set
 * @compress: compress @src_len bytes into @dst, which has room for *@dst_len
 *	bytes; set *@dst_len to the bytes produced. -ENOSPC if they do not
 *	fit. The data path only ever passes one page.
 * @decompress: decompress @src_len bytes into @dst, writing at most
 *	@dst_len bytes. -EBADMSG unless the input is well formed and
 *	decodes to exactly @dst_len bytes.
 */
struct vmmig_comp_ops {
	const char *name;
	int min_level;
	int max_level;
	int default_level;
	int (*create)(struct vmmig_comp_ctx *ctx, int level);
	void (*destroy)(struct vmmig_comp_ctx *ctx);
	int (*compress)(struct vmmig_comp_ctx *ctx, const void *src, size_t src_len,
			void *dst, size_t *dst_len);
	int (*decompress)(struct vmmig_comp_ctx *ctx, const void *src, size_t src_len,
			  void *dst, size_t dst_len);
};

extern const struct vmmig_comp_ops vmmig_comp_none_ops;
extern const struct vmmig_comp_ops vmmig_comp_lz4_ops;
extern const struct vmmig_comp_ops vmmig_comp_zstd_ops;

/**
 * struct vmmig_comp_ctx - one channel's compression state
 * @ops: the codec
 * @level: the level in use, never 0 for a codec that has levels
 * @priv: the codec's workspaces
 * @buf: frame buffer, @buf_size bytes: the sender builds frames here
 *	(struct vmmig_comp_writer), the receiver may read a payload into it
 * @buf_size: vmmig_comp_frame_bound(@max_pages)
 * @max_pages: most pages in a frame that @buf holds
 */
struct vmmig_comp_ctx {
	const struct vmmig_comp_ops *ops;
	int level;
	void *priv;
	void *buf;
	size_t buf_size;
	unsigned int max_pages;
};

int vmmig_comp_check(unsigned int alg, int level);
struct vmmig_comp_ctx *vmmig_comp_ctx_create(unsigned int alg, int level,
					     size_t max_src_bytes);
void vmmig_comp_ctx_destroy(struct vmmig_comp_ctx *ctx);
int vmmig_comp_page(struct vmmig_comp_ctx *ctx, const void *page,
		    void *out, size_t out_cap);
int vmmig_decomp_page(struct vmmig_comp_ctx *ctx, const void *src,
		      size_t src_len, void *dst);

/*
 * The payload of a frame of @n compressed pages (@n from the frame header):
 *
 *	__be16 len[n];	for each page, in order:
 *			0: a zero page, no bytes for it below
 *			1 .. PAGE_SIZE - 1: that many bytes, the page compressed
 *			PAGE_SIZE: the page as it is
 *	u8 data[];	the pages' bytes, one after the other
 *
 * Each page is compressed on its own, so the receiver decodes every page
 * straight into its destination and never needs the others. With the table
 * first, a receiver may also read the payload page by page from the socket:
 * vmmig_comp_frame_check() the table, then each entry on its own.
 *
 * Per-page independence costs a little ratio against compressing a whole
 * 64-page run at once. Measured on runs of 1/4 zero, 1/2 text-like and 1/4
 * random pages: lz4 sends 50.5% of the bytes page by page against 46.6% for
 * whole runs, zstd level 3 40.3% against 38.3%.
 */
static_assert(PAGE_SIZE <= U16_MAX);

static inline size_t vmmig_comp_frame_table_size(unsigned int npages)
{
	return npages * sizeof(__be16);
}

/* Longest valid payload for @npages: every page raw. */
static inline size_t vmmig_comp_frame_bound(unsigned int npages)
{
	return vmmig_comp_frame_table_size(npages) + npages * PAGE_SIZE;
}

static inline unsigned int vmmig_comp_frame_entry(const __be16 *table,
						  unsigned int i)
{
	return get_unaligned_be16(&table[i]);
}

int vmmig_comp_frame_check(const __be16 *table, unsigned int npages,
			   size_t payload_len);

/*
 * Sender: builds one frame at a time in its context's buffer. After
 * vmmig_comp_writer_finish() the writer is empty again, ready for the next
 * frame.
 */
struct vmmig_comp_writer {
	struct vmmig_comp_ctx *ctx;
	unsigned int npages;
	unsigned int zero_pages;
	size_t data_len;
};

void vmmig_comp_writer_init(struct vmmig_comp_writer *w,
			    struct vmmig_comp_ctx *ctx);
int vmmig_comp_writer_add(struct vmmig_comp_writer *w, const void *page);
int vmmig_comp_writer_add_zero(struct vmmig_comp_writer *w);
size_t vmmig_comp_writer_finish(struct vmmig_comp_writer *w,
				const void **payload);

/* Receiver: walks a whole payload that is in memory. */
struct vmmig_comp_reader {
	const __be16 *table;
	const u8 *data;
	unsigned int npages;
	unsigned int next;
};

int vmmig_comp_reader_init(struct vmmig_comp_reader *r, const void *payload,
			   size_t len, unsigned int npages);
int vmmig_comp_reader_next(struct vmmig_comp_reader *r,
			   struct vmmig_comp_ctx *ctx, void *dst);

#endif /* _VMMIG_COMPRESS_H */
