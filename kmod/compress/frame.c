// SPDX-License-Identifier: GPL-2.0
/*
 * The payload of a frame of many compressed pages (layout in compress.h):
 * the sender's writer and the receiver's checks and reader.
 *
 * The writer builds the table at the start of the context's buffer and the
 * pages' bytes after room for a full table, since it does not know how many
 * pages the frame will get; finishing moves the table up against the data.
 */
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/unaligned.h>
#include <kunit/visibility.h>

#include "compress.h"
#include "../zero.h"

/**
 * vmmig_comp_frame_check - check a frame's table against its length
 * @table: the table, vmmig_comp_frame_table_size(@npages) bytes
 * @npages: pages in the frame, from its header
 * @payload_len: payload bytes, from its header, table included
 *
 * After this the receiver may trust every entry: each is at most PAGE_SIZE
 * and together they account for the payload exactly.
 *
 * Return: 0, or -EBADMSG.
 */
int vmmig_comp_frame_check(const __be16 *table, unsigned int npages,
			   size_t payload_len)
{
	size_t len = vmmig_comp_frame_table_size(npages);
	unsigned int i, n;

	if (!npages || payload_len < len)
		return -EBADMSG;
	for (i = 0; i < npages; i++) {
		n = vmmig_comp_frame_entry(table, i);
		if (n > PAGE_SIZE)
			return -EBADMSG;
		len += n;
	}
	return len == payload_len ? 0 : -EBADMSG;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_frame_check);

static u8 *vmmig_comp_writer_data(struct vmmig_comp_writer *w)
{
	return w->ctx->buf + vmmig_comp_frame_table_size(w->ctx->max_pages);
}

/**
 * vmmig_comp_writer_init - start an empty frame
 * @w: the writer
 * @ctx: the channel's context, created with room for a frame
 */
void vmmig_comp_writer_init(struct vmmig_comp_writer *w,
			    struct vmmig_comp_ctx *ctx)
{
	w->ctx = ctx;
	w->npages = 0;
	w->zero_pages = 0;
	w->data_len = 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_writer_init);

static void vmmig_comp_writer_put(struct vmmig_comp_writer *w, unsigned int len)
{
	__be16 *table = w->ctx->buf;

	put_unaligned_be16(len, &table[w->npages++]);
	w->data_len += len;
	if (!len)
		w->zero_pages++;
}

/**
 * vmmig_comp_writer_add - append a page to the frame
 * @w: the writer
 * @page: PAGE_SIZE bytes, not all zero (vmmig_comp_writer_add_zero())
 *
 * The page goes in compressed if vmmig_comp_page() finds that worth it,
 * else copied as it is.
 *
 * Return: the bytes it takes in the frame, PAGE_SIZE if raw; -ENOSPC if
 * the frame already holds the context's max_pages; another -errno if the
 * codec failed.
 */
int vmmig_comp_writer_add(struct vmmig_comp_writer *w, const void *page)
{
	u8 *dst;
	int len;

	if (w->npages >= w->ctx->max_pages)
		return -ENOSPC;
	dst = vmmig_comp_writer_data(w) + w->data_len;
	/* Every page before this one took at most PAGE_SIZE: a page fits. */
	len = vmmig_comp_page(w->ctx, page, dst, PAGE_SIZE);
	if (len < 0)
		return len;
	if (!len) {
		memcpy(dst, page, PAGE_SIZE);
		len = PAGE_SIZE;
	}
	vmmig_comp_writer_put(w, len);
	return len;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_writer_add);

/**
 * vmmig_comp_writer_add_zero - append a zero page to the frame
 * @w: the writer
 *
 * Return: 0, or -ENOSPC if the frame already holds the context's max_pages.
 */
int vmmig_comp_writer_add_zero(struct vmmig_comp_writer *w)
{
	if (w->npages >= w->ctx->max_pages)
		return -ENOSPC;
	vmmig_comp_writer_put(w, 0);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_writer_add_zero);

/**
 * vmmig_comp_writer_finish - close the frame and empty the writer
 * @w: the writer
 * @payload: set to the payload, which stays in the context's buffer until
 *	the next page is added
 *
 * Zero pages cost nothing in PAGES and ZERO frames either, so only the
 * other pages count: together, table included, they must save at least
 * VMMIG_COMP_MIN_SAVING each on average.
 *
 * Return: the payload's length; or 0 if the frame does not save that much
 * (an empty or all-zero frame never does): send its pages the usual way,
 * in PAGES and ZERO frames, instead.
 */
size_t vmmig_comp_writer_finish(struct vmmig_comp_writer *w,
				const void **payload)
{
	size_t table = vmmig_comp_frame_table_size(w->npages);
	size_t len = table + w->data_len;
	size_t worth = (w->npages - w->zero_pages) *
		       (PAGE_SIZE - VMMIG_COMP_MIN_SAVING);
	u8 *start;

	if (len > worth) {
		vmmig_comp_writer_init(w, w->ctx);
		return 0;
	}
	start = vmmig_comp_writer_data(w) - table;
	memmove(start, w->ctx->buf, table);
	*payload = start;
	vmmig_comp_writer_init(w, w->ctx);
	return len;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_writer_finish);

/**
 * vmmig_comp_reader_init - start reading a payload that is all in memory
 * @r: the reader
 * @payload: the payload
 * @len: its length, from the frame header
 * @npages: pages in the frame, from the frame header
 *
 * Return: 0, or -EBADMSG if the table does not match @len.
 */
int vmmig_comp_reader_init(struct vmmig_comp_reader *r, const void *payload,
			   size_t len, unsigned int npages)
{
	int ret;

	ret = vmmig_comp_frame_check(payload, npages, len);
	if (ret)
		return ret;
	r->table = payload;
	r->data = payload + vmmig_comp_frame_table_size(npages);
	r->npages = npages;
	r->next = 0;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_reader_init);

/**
 * vmmig_comp_reader_next - place the frame's next page
 * @r: the reader
 * @ctx: the channel's context
 * @dst: the destination page; nothing is written outside it. NULL for a
 *	page known to be zero already, if the next entry is a zero page.
 *
 * Return: 0; -EBADMSG if the page does not decompress to exactly one page;
 * -ENODATA if every page was read already.
 */
int vmmig_comp_reader_next(struct vmmig_comp_reader *r,
			   struct vmmig_comp_ctx *ctx, void *dst)
{
	unsigned int len;
	int ret = 0;

	if (r->next >= r->npages)
		return -ENODATA;
	len = vmmig_comp_frame_entry(r->table, r->next++);
	if (!dst)
		return len ? -EINVAL : 0;
	/* A page that is zero already (a fresh guest) is only read, not stored. */
	if (!len && !vmmig_mem_page_zero(dst))
		memset(dst, 0, PAGE_SIZE);
	else if (len == PAGE_SIZE)
		memcpy(dst, r->data, PAGE_SIZE);
	else if (len)
		ret = vmmig_decomp_page(ctx, r->data, len, dst);
	r->data += len;
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_comp_reader_next);
