// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the wire frame header codec (kmod/frame.c): every valid
 * frame round-trips, the byte layout is the documented big-endian one, and
 * every malformed header is refused with the documented error.
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/string.h>

#include "../protocol.h"
#include <linux/vmmig.h>

struct frame_case {
	const char *name;
	struct vmmig_frame f;
	int expect;		/* what decoding the encoded header returns */
};

#define PG	VMMIG_PAGE_SIZE
#define HELLO_MIN	((u32)sizeof(struct vmmig_wire_hello))
#define WELCOME_LEN	((u32)sizeof(struct vmmig_wire_welcome))
#define AUTH_LEN	((u32)sizeof(struct vmmig_wire_auth))
#define RKEY_LEN	((u32)sizeof(struct vmmig_wire_rkey))
#define SMAP		((u32)VMMIG_SPARSE_MAP_LEN)

static const struct frame_case frame_cases[] = {
	/* valid */
	{ "hello_no_region",	{ VMMIG_FRAME_HELLO, 0, 0, HELLO_MIN, 0 }, 0 },
	{ "hello_max",		{ VMMIG_FRAME_HELLO, 0, 0, VMMIG_HELLO_MAX_LEN, 0 }, 0 },
	{ "welcome",		{ VMMIG_FRAME_WELCOME, 0, 0, WELCOME_LEN, 0 }, 0 },
	{ "welcome_auth",	{ VMMIG_FRAME_WELCOME, 0, 0, VMMIG_WELCOME_AUTH_LEN, 0 }, 0 },
	{ "auth",		{ VMMIG_FRAME_AUTH, 0, 0, AUTH_LEN, 0 }, 0 },
	{ "pages_one",		{ VMMIG_FRAME_PAGES, 7, 1, PG, 0 }, 0 },
	{ "pages_run",		{ VMMIG_FRAME_PAGES, 7, 64, 64 * PG, 1ULL << 40 }, 0 },
	{ "zero_run",		{ VMMIG_FRAME_ZERO, ~0U, 64, 0, 128 }, 0 },
	{ "blob_empty",		{ VMMIG_FRAME_BLOB, 0, 0, 0, 3 }, 0 },
	{ "blob_max",		{ VMMIG_FRAME_BLOB, 0, 0, VMMIG_MAX_BLOB, 0xffffffff }, 0 },
	{ "sync",		{ VMMIG_FRAME_SYNC, 0, 0, 0, 1 }, 0 },
	{ "sync_ack",		{ VMMIG_FRAME_SYNC_ACK, 0, 0, 0, ~0ULL }, 0 },
	{ "fin",		{ VMMIG_FRAME_FIN, 0, 0, 0, 0 }, 0 },
	{ "abort",		{ VMMIG_FRAME_ABORT, 0, ECONNABORTED, 0, 0 }, 0 },
	{ "abort_max_errno",	{ VMMIG_FRAME_ABORT, 0, MAX_ERRNO, 0, 0 }, 0 },
	{ "comp_one",		{ VMMIG_FRAME_COMP, 3, 1, 2 + 100, 64 }, 0 },
	{ "comp_all_zero",	{ VMMIG_FRAME_COMP, 3, 64, 128, 64 }, 0 },
	{ "comp_all_raw",	{ VMMIG_FRAME_COMP, 3, 64, 64 * (2 + PG), 64 }, 0 },
	{ "rkeys_none",		{ VMMIG_FRAME_RDMA_KEYS, 0, 0, 0, 0 }, 0 },
	{ "rkeys_two",		{ VMMIG_FRAME_RDMA_KEYS, 0, 2, 2 * RKEY_LEN, 0 }, 0 },
	{ "sparse_one_data",	{ VMMIG_FRAME_SPARSE, 3, 2, SMAP + PG, 64 }, 0 },
	{ "sparse_one_zero",	{ VMMIG_FRAME_SPARSE, 3, 64, SMAP + 63 * PG, 0 }, 0 },
	/* malformed type */
	{ "type_zero",		{ 0, 0, 0, 0, 0 }, -EPROTO },
	{ "type_past_max",	{ __VMMIG_FRAME_MAX, 0, 0, 0, 0 }, -EPROTO },
	{ "type_255",		{ 255, 0, 0, 0, 0 }, -EPROTO },
	/* lengths and counts that do not fit the type */
	{ "hello_short",	{ VMMIG_FRAME_HELLO, 0, 0, HELLO_MIN - 1, 0 }, -EBADMSG },
	{ "hello_long",		{ VMMIG_FRAME_HELLO, 0, 0, VMMIG_HELLO_MAX_LEN + 1, 0 }, -EBADMSG },
	{ "hello_count",	{ VMMIG_FRAME_HELLO, 0, 1, HELLO_MIN, 0 }, -EBADMSG },
	{ "hello_region",	{ VMMIG_FRAME_HELLO, 1, 0, HELLO_MIN, 0 }, -EBADMSG },
	{ "welcome_short",	{ VMMIG_FRAME_WELCOME, 0, 0, WELCOME_LEN - 1, 0 }, -EBADMSG },
	{ "welcome_long",	{ VMMIG_FRAME_WELCOME, 0, 0, WELCOME_LEN + 1, 0 }, -EBADMSG },
	{ "welcome_auth_long",	{ VMMIG_FRAME_WELCOME, 0, 0, VMMIG_WELCOME_AUTH_LEN + 1, 0 },
				-EBADMSG },
	{ "auth_short",		{ VMMIG_FRAME_AUTH, 0, 0, AUTH_LEN - 1, 0 }, -EBADMSG },
	{ "auth_long",		{ VMMIG_FRAME_AUTH, 0, 0, AUTH_LEN + 1, 0 }, -EBADMSG },
	{ "auth_count",		{ VMMIG_FRAME_AUTH, 0, 1, AUTH_LEN, 0 }, -EBADMSG },
	{ "auth_page",		{ VMMIG_FRAME_AUTH, 0, 0, AUTH_LEN, 1 }, -EBADMSG },
	{ "pages_count_zero",	{ VMMIG_FRAME_PAGES, 1, 0, 0, 0 }, -EBADMSG },
	{ "pages_count_65",	{ VMMIG_FRAME_PAGES, 1, 65, 65 * PG, 0 }, -EBADMSG },
	{ "pages_len_short",	{ VMMIG_FRAME_PAGES, 1, 2, 2 * PG - 1, 0 }, -EBADMSG },
	{ "pages_len_long",	{ VMMIG_FRAME_PAGES, 1, 2, 3 * PG, 0 }, -EBADMSG },
	{ "pages_count_wraps",	{ VMMIG_FRAME_PAGES, 1, 0x100001, 4096, 0 }, -EBADMSG },
	{ "zero_count_zero",	{ VMMIG_FRAME_ZERO, 1, 0, 0, 0 }, -EBADMSG },
	{ "zero_count_65",	{ VMMIG_FRAME_ZERO, 1, 65, 0, 0 }, -EBADMSG },
	{ "zero_payload",	{ VMMIG_FRAME_ZERO, 1, 1, PG, 0 }, -EBADMSG },
	{ "comp_count_zero",	{ VMMIG_FRAME_COMP, 1, 0, 0, 0 }, -EBADMSG },
	{ "comp_count_65",	{ VMMIG_FRAME_COMP, 1, 65, 130, 0 }, -EBADMSG },
	{ "comp_no_table",	{ VMMIG_FRAME_COMP, 1, 4, 7, 0 }, -EBADMSG },
	{ "comp_too_long",	{ VMMIG_FRAME_COMP, 1, 2, 2 * (2 + PG) + 1, 0 }, -EBADMSG },
	{ "rkeys_short",	{ VMMIG_FRAME_RDMA_KEYS, 0, 2, 2 * RKEY_LEN - 1, 0 }, -EBADMSG },
	{ "rkeys_region",	{ VMMIG_FRAME_RDMA_KEYS, 1, 1, RKEY_LEN, 0 }, -EBADMSG },
	{ "rkeys_page",		{ VMMIG_FRAME_RDMA_KEYS, 0, 1, RKEY_LEN, 1 }, -EBADMSG },
	{ "sparse_count_one",	{ VMMIG_FRAME_SPARSE, 1, 1, SMAP + PG, 0 }, -EBADMSG },
	{ "sparse_count_65",	{ VMMIG_FRAME_SPARSE, 1, 65, SMAP + PG, 0 }, -EBADMSG },
	{ "sparse_no_map",	{ VMMIG_FRAME_SPARSE, 1, 4, 2 * PG, 0 }, -EBADMSG },
	{ "sparse_no_data",	{ VMMIG_FRAME_SPARSE, 1, 4, SMAP, 0 }, -EBADMSG },
	{ "sparse_no_zero",	{ VMMIG_FRAME_SPARSE, 1, 4, SMAP + 4 * PG, 0 }, -EBADMSG },
	{ "sparse_part_page",	{ VMMIG_FRAME_SPARSE, 1, 4, SMAP + PG + 1, 0 }, -EBADMSG },
	{ "sparse_short_map",	{ VMMIG_FRAME_SPARSE, 1, 4, SMAP - 1 + PG, 0 }, -EBADMSG },
	{ "blob_too_big",	{ VMMIG_FRAME_BLOB, 0, 0, VMMIG_MAX_BLOB + 1, 0 }, -EBADMSG },
	{ "blob_count",		{ VMMIG_FRAME_BLOB, 0, 1, 8, 0 }, -EBADMSG },
	{ "blob_region",	{ VMMIG_FRAME_BLOB, 1, 0, 8, 0 }, -EBADMSG },
	{ "sync_payload",	{ VMMIG_FRAME_SYNC, 0, 0, 1, 1 }, -EBADMSG },
	{ "sync_count",		{ VMMIG_FRAME_SYNC, 0, 1, 0, 1 }, -EBADMSG },
	{ "sync_ack_region",	{ VMMIG_FRAME_SYNC_ACK, 1, 0, 0, 1 }, -EBADMSG },
	{ "fin_payload",	{ VMMIG_FRAME_FIN, 0, 0, 4, 0 }, -EBADMSG },
	{ "abort_no_errno",	{ VMMIG_FRAME_ABORT, 0, 0, 0, 0 }, -EBADMSG },
	{ "abort_errno_huge",	{ VMMIG_FRAME_ABORT, 0, MAX_ERRNO + 1, 0, 0 }, -EBADMSG },
	{ "abort_payload",	{ VMMIG_FRAME_ABORT, 0, EIO, 4, 0 }, -EBADMSG },
	{ "abort_page",		{ VMMIG_FRAME_ABORT, 0, EIO, 0, 1 }, -EBADMSG },
};

static void frame_case_desc(const struct frame_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(frame, frame_cases, frame_case_desc);

static void frame_roundtrip(struct kunit *test)
{
	const struct frame_case *c = test->param_value;
	struct vmmig_wire_hdr hdr;
	struct vmmig_frame out;

	memset(&out, 0xa5, sizeof(out));
	vmmig_frame_encode(&hdr, &c->f);
	KUNIT_ASSERT_EQ(test, vmmig_frame_decode(&hdr, &out), c->expect);
	if (c->expect)
		return;
	KUNIT_EXPECT_EQ(test, out.type, c->f.type);
	KUNIT_EXPECT_EQ(test, out.region, c->f.region);
	KUNIT_EXPECT_EQ(test, out.count, c->f.count);
	KUNIT_EXPECT_EQ(test, out.len, c->f.len);
	KUNIT_EXPECT_EQ(test, out.page, c->f.page);
}

/* The header on the wire is the documented one, byte for byte. */
static void frame_layout(struct kunit *test)
{
	static const u8 want[32] = {
		0x56, 0x4d, 0x4d, 0x47,		/* magic "VMMG" */
		VMMIG_WIRE_VERSION, VMMIG_FRAME_PAGES, 0, 0,
		0x01, 0x02, 0x03, 0x04,		/* region */
		0x00, 0x00, 0x00, 0x02,		/* count */
		0x00, 0x00, 0x20, 0x00,		/* len */
		0, 0, 0, 0,			/* reserved */
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,	/* page */
	};
	struct vmmig_frame f = {
		.type = VMMIG_FRAME_PAGES, .region = 0x01020304, .count = 2,
		.len = 2 * PG, .page = 0x1122334455667788ULL,
	};
	struct vmmig_wire_hdr hdr;

	KUNIT_ASSERT_EQ(test, sizeof(hdr), sizeof(want));
	vmmig_frame_encode(&hdr, &f);
	KUNIT_EXPECT_MEMEQ(test, &hdr, want, sizeof(want));
}

/* Damage to the fixed fields is refused whatever the type. */
static void frame_bad_fixed_fields(struct kunit *test)
{
	struct vmmig_frame f = { .type = VMMIG_FRAME_SYNC, .page = 1 }, out;
	struct vmmig_wire_hdr good, hdr;

	vmmig_frame_encode(&good, &f);
	KUNIT_ASSERT_EQ(test, vmmig_frame_decode(&good, &out), 0);

	hdr = good;
	hdr.magic = cpu_to_be32(VMMIG_WIRE_MAGIC ^ 1);
	KUNIT_EXPECT_EQ(test, vmmig_frame_decode(&hdr, &out), -EPROTO);
	hdr = good;
	hdr.version = VMMIG_WIRE_VERSION + 1;
	KUNIT_EXPECT_EQ(test, vmmig_frame_decode(&hdr, &out), -EPROTO);
	hdr = good;
	hdr.version = 0;
	KUNIT_EXPECT_EQ(test, vmmig_frame_decode(&hdr, &out), -EPROTO);
	hdr = good;
	hdr.flags = cpu_to_be16(0x8000);
	KUNIT_EXPECT_EQ(test, vmmig_frame_decode(&hdr, &out), -EPROTO);
	hdr = good;
	hdr.reserved = cpu_to_be32(1);
	KUNIT_EXPECT_EQ(test, vmmig_frame_decode(&hdr, &out), -EPROTO);
}

static struct kunit_case frame_test_cases[] = {
	KUNIT_CASE_PARAM(frame_roundtrip, frame_gen_params),
	KUNIT_CASE(frame_layout),
	KUNIT_CASE(frame_bad_fixed_fields),
	{}
};

static struct kunit_suite frame_suite = {
	.name = "vmmig_frame",
	.test_cases = frame_test_cases,
};

kunit_test_suite(frame_suite);
