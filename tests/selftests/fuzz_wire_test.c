// SPDX-License-Identifier: GPL-2.0
/*
 * The destination module against a fuzzing peer (fuzz.h for the seed and
 * the budget): a userspace source in netns A speaks the wire protocol
 * (Documentation/wire-protocol.md) and sends what a correct source never
 * would, before the handshake is done and after it. Valid frame streams
 * (PAGES, ZERO, COMP, BLOB, SYNC, FIN) are mutated: bit flips, header
 * fields set to edge values (bad region ids, page numbers out of range,
 * lengths past the end), COMP tables that lie about their sizes, frames
 * swapped, garbage inserted, the stream cut short. Checked: each session
 * ends FINISHED or ABORTED with a documented errno, nothing lands outside
 * the destination region, and the listener still takes a good source
 * after each batch. The test run checks dmesg and kmemleak afterwards.
 */
#include <assert.h>
#include <endian.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>

#include "wire_peer.h"
#include "fuzz.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define RID		7
#define RPAGES		512UL
#define RBYTES		(RPAGES * PG)
#define FILL		0x5a
#define PORT		6640

/* A growing byte stream, and where each frame starts in it. */
struct stream {
	unsigned char *b;
	size_t len, cap;
	size_t frame[512];
	unsigned int nframes;
};

static void put(struct stream *s, const void *p, size_t len)
{
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->b = realloc(s->b, s->cap);
	}
	memcpy(s->b + s->len, p, len);
	s->len += len;
}

static void frame(struct stream *s, struct vt_hdr h, const void *payload, size_t len)
{
	if (s->nframes < 512)
		s->frame[s->nframes++] = s->len;
	put(s, &h, sizeof(h));
	if (len)
		put(s, payload, len);
}

/*
 * The HELLO of a source with one channel and one region; the one place
 * that knows the handshake's layout (the auth work will extend it).
 */
static size_t build_hello(unsigned char *buf, __u64 cookie, __u32 region_pages,
			  __u32 compression)
{
	struct {
		__u64 cookie;
		__u16 channel;
		__u16 channels;
		__u32 nregions;
		__u32 compression;
		__u32 reserved;
		__u32 id;
		__u32 id_reserved;
		__u64 pages;
	} hello = {
		.cookie = htobe64(cookie), .channels = htobe16(1), .nregions = htobe32(1),
		.compression = htobe32(compression), .id = htobe32(RID),
		.pages = htobe64(region_pages),
	};
	struct vt_hdr h = vt_mkhdr(VT_F_HELLO, 0, 0, sizeof(hello), 0);

	static_assert(sizeof(hello) == 40, "HELLO with one region is 40 bytes");
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &hello, sizeof(hello));
	return sizeof(h) + sizeof(hello);
}

/* Returns the WELCOME status (0: accepted, >0: errno) or -1. */
static int handshake(int s, const unsigned char *hello, size_t len)
{
	struct vt_hdr h;
	__u32 status;

	if (vt_send_all(s, hello, len) ||
	    recv(s, &h, sizeof(h), MSG_WAITALL) != sizeof(h) || h.type != VT_F_WELCOME ||
	    recv(s, &status, 4, MSG_WAITALL) != 4)
		return -1;
	return be32toh(status);
}

/* The destination, one session per job, in its own thread in netns B. */
struct dest {
	unsigned char *mem;	/* guard page, region, guard page */
	__u32 accept_ms;
	int accept_rc;
	int end;		/* 0 FINISHED, errno ABORTED, -1 nothing */
	unsigned int blobs, syncs;
	int done;		/* __atomic: read while the thread runs */
};

static void *dest_thread(void *arg)
{
	static unsigned char blob[1 << 16];
	struct dest *d = arg;
	struct vmmig_event ev;
	int fd, rc;

	d->end = -1;
	if (vt_enter_netns(VT_NS_B))
		goto out;
	fd = vt_open();
	if (fd < 0)
		goto out;
	if (vt_add_region(fd, RID, d->mem + PG, RBYTES, 0))
		goto out_close;
	d->accept_rc = vt_accept(fd, PORT, d->accept_ms);
	if (d->accept_rc)
		goto out_close;
	for (;;) {
		rc = vt_wait_event(fd, &ev, blob, sizeof(blob), 20000);
		if (rc)
			break;
		if (ev.type == VMMIG_EVENT_BLOB) {
			d->blobs++;
		} else if (ev.type == VMMIG_EVENT_SYNC) {
			d->syncs++;
		} else {
			d->end = ev.type == VMMIG_EVENT_FINISHED ? 0 : ev.error;
			break;
		}
	}
out_close:
	close(fd);
out:
	__atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static bool guards_untouched(const unsigned char *mem)
{
	size_t i;

	for (i = 0; i < PG; i++)
		if (mem[i] != FILL || mem[PG + RBYTES + i] != FILL)
			return false;
	return true;
}

/* An LZ4 block that decodes to @n bytes of 'A' (n >= 22). */
static size_t lz4_block(unsigned char *b, size_t n)
{
	size_t len = 0, ext = n - 6 - 4 - 15;

	b[len++] = 0x1f;
	b[len++] = 'A';
	b[len++] = 1;
	b[len++] = 0;
	for (; ext >= 255; ext -= 255)
		b[len++] = 255;
	b[len++] = ext;
	b[len++] = 0x50;
	memset(b + len, 'A', 5);
	return len + 5;
}

/* A valid stream for a session with @comp: pages, blobs, syncs, FIN. */
static void valid_stream(struct fz *r, struct stream *s, bool comp)
{
	static unsigned char pages[64 * PG];
	unsigned int i, n = 1 + fz_below(r, 12);
	__u64 seq = 0;

	for (i = 0; i < n; i++) {
		__u64 chunk = fz_below(r, RPAGES / 64), off = fz_below(r, 64);
		__u32 count = 1 + fz_below(r, 64 - off);
		unsigned char tbl[128], blk[64];

		switch (fz_below(r, comp ? 6 : 5)) {
		case 0:
		case 1:
			count = count > 8 ? 8 : count;
			memset(pages, 0x10 + i, count * PG);
			frame(s, vt_mkhdr(VT_F_PAGES, RID, count, count * PG, chunk * 64 + off),
			      pages, count * PG);
			break;
		case 2:
			frame(s, vt_mkhdr(VT_F_ZERO, RID, count, 0, chunk * 64 + off), NULL, 0);
			break;
		case 3:
			fz_bytes(r, pages, 64);
			count = fz_below(r, 65);
			frame(s, vt_mkhdr(VT_F_BLOB, 0, 0, count, fz_next(r)), pages, count);
			break;
		case 4:
			frame(s, vt_mkhdr(VT_F_SYNC, 0, 0, 0, ++seq), NULL, 0);
			break;
		default: {
			size_t bl = lz4_block(blk, PG), k;

			count = count > 8 ? 8 : count;
			for (k = 0; k < count; k++) {
				tbl[2 * k] = bl >> 8;
				tbl[2 * k + 1] = bl;
			}
			for (k = 0; k < count; k++)
				memcpy(pages + k * bl, blk, bl);
			memmove(pages + 2 * count, pages, count * bl);
			memcpy(pages, tbl, 2 * count);
			frame(s, vt_mkhdr(VT_F_COMP, RID, count, 2 * count + count * bl,
					  chunk * 64 + off),
			      pages, 2 * count + count * bl);
			break;
		}
		}
	}
	frame(s, vt_mkhdr(VT_F_FIN, 0, 0, 0, 0), NULL, 0);
}

/* One mutation of a stream; returns its name for the log. */
static const char *mutate(struct fz *r, struct stream *s)
{
	unsigned int f = fz_below(r, s->nframes);
	struct vt_hdr *h = (struct vt_hdr *)(s->b + s->frame[f]);
	__u64 v = fz_u64(r);

	if (s->frame[f] + sizeof(*h) > s->len)
		return "none (cut before)";
	switch (fz_below(r, 11)) {
	case 0:
		s->b[fz_below(r, s->len)] ^= 1 << fz_below(r, 8);
		return "bit flip";
	case 1:
		((unsigned char *)h)[fz_below(r, sizeof(*h))] ^= 1 << fz_below(r, 8);
		return "header bit flip";
	case 2:
		h->region = htobe32(fz_one_in(r, 2) ? RID + 1 : v);
		return "region";
	case 3:
		h->page = htobe64(fz_one_in(r, 2) ? RPAGES - fz_below(r, 3) : v);
		return "page";
	case 4:
		h->count = htobe32(v);
		return "count";
	case 5:
		h->len = htobe32(fz_one_in(r, 2) ? be32toh(h->len) + fz_below(r, 9) - 4 : v);
		return "len";
	case 6:
		h->type = fz_below(r, 12);
		return "type";
	case 7:
		s->len = fz_below(r, s->len);
		return "truncated";
	case 8:
		if (s->frame[f] + sizeof(*h) + 2 <= s->len && h->type == VT_F_COMP) {
			unsigned char *t = (unsigned char *)(h + 1);

			t[fz_below(r, 2)] = fz_next(r);
			return "comp table";
		}
		fz_bytes(r, h, sizeof(*h));
		return "garbage header";
	case 9: {	/* swap two frames' headers: out of order */
		unsigned int g = fz_below(r, s->nframes);
		struct vt_hdr tmp, *o = (struct vt_hdr *)(s->b + s->frame[g]);

		if (s->frame[g] + sizeof(*h) > s->len)
			return "none (cut before)";
		tmp = *h;
		*h = *o;
		*o = tmp;
		return "reordered";
	}
	default: {
		size_t at = s->frame[f], n = 1 + fz_below(r, 64);
		unsigned char *nb = malloc(s->len + n);

		memcpy(nb, s->b, at);
		fz_bytes(r, nb + at, n);
		memcpy(nb + at + n, s->b + at, s->len - at);
		free(s->b);
		s->b = nb;
		s->len += n;
		s->cap = s->len;
		return "garbage inserted";
	}
	}
}

static bool end_documented(int e)
{
	/*
	 * EPIPE: the peer left while the destination answered a SYNC.
	 * ECANCELED: an ABORT frame whose errno is ECANCELED.
	 */
	return e == 0 || e == EBADMSG || e == EPROTO || e == ECONNRESET ||
	       e == ECONNABORTED || e == ENOBUFS || e == EPIPE || e == ECANCELED;
}

static unsigned char *dst_mem;

FIXTURE(wf) {
	int dummy;
};

FIXTURE_SETUP(wf)
{
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	dst_mem = mmap(NULL, RBYTES + 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst_mem);
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
}

FIXTURE_TEARDOWN(wf)
{
	vt_netns_teardown();
}

/*
 * A session with a fuzzing source. @stream NULL: a good run of one PAGES
 * frame and FIN. Returns how it ended (as struct dest.end).
 */
static int run_session(struct __test_metadata *_metadata, struct stream *st, bool comp,
		       bool close_early)
{
	unsigned char hello[128];
	struct dest d = { .mem = dst_mem, .accept_ms = 10000 };
	pthread_t th;
	int s, i;

	memset(dst_mem, FILL, RBYTES + 2 * PG);
	pthread_create(&th, NULL, dest_thread, &d);
	s = vt_dial(VT_ADDR_B, PORT, 200);
	EXPECT_LE(0, s);
	if (s >= 0) {
		size_t len = build_hello(hello, 1 + (unsigned long)st, RPAGES,
					 comp ? VMMIG_COMP_LZ4 : VMMIG_COMP_NONE);

		EXPECT_EQ(0, handshake(s, hello, len));
		vt_send_all(s, st->b, st->len);
		/* A stream that ends in the middle of a frame waits for the rest. */
		for (i = 0; i < 50 && !close_early &&
		     !__atomic_load_n(&d.done, __ATOMIC_ACQUIRE); i++)
			usleep(10000);
		close(s);
	}
	pthread_join(th, NULL);
	EXPECT_EQ(0, d.accept_rc);
	EXPECT_TRUE(guards_untouched(dst_mem)) TH_LOG("bytes outside the region");
	return d.end;
}

TEST_F_TIMEOUT(wf, after_handshake, 1800)
{
	unsigned long i, n = fz_iters(60), ended[3] = {};
	struct fz r;

	fz_init(&r, "after_handshake");
	for (i = 0; i < n; i++) {
		struct stream st = {};
		bool comp = fz_one_in(&r, 3);
		const char *what = "none";
		unsigned int k = fz_below(&r, 4);
		int end;

		valid_stream(&r, &st, comp);
		while (k--)
			what = mutate(&r, &st);
		end = run_session(_metadata, &st, comp, fz_one_in(&r, 4));
		EXPECT_TRUE(end_documented(end))
			TH_LOG("stream %lu (last mutation: %s) ended with %d", i, what, end);
		ended[end == 0 ? 0 : end == EBADMSG || end == EPROTO ? 1 : 2]++;
		free(st.b);
		if (i % 25 == 24) {	/* the listener still takes a good source */
			struct stream good = {};

			valid_stream(&r, &good, false);
			EXPECT_EQ(0, run_session(_metadata, &good, false, false));
			free(good.b);
		}
	}
	printf("# wire after handshake: %lu streams, %lu finished, %lu malformed, %lu other\n",
	       n, ended[0], ended[1], ended[2]);
}

/*
 * Before the handshake is done: garbage, cut HELLOs, HELLOs with bad
 * fields. Each connection is dropped (or, if the mutation left a valid
 * HELLO, becomes a session that ends when the peer leaves); the waiting
 * session then still takes a good source.
 */
TEST_F_TIMEOUT(wf, before_handshake, 1800)
{
	unsigned long i, n = fz_iters(100), refused = 0, dropped = 0, bound = 0;
	struct stream good = {};
	struct fz r;

	fz_init(&r, "before_handshake");
	valid_stream(&r, &good, false);
	for (i = 0; i < n; i++) {
		struct dest d = { .mem = dst_mem, .accept_ms = 600 };
		unsigned char hello[256];
		size_t len = build_hello(hello, fz_next(&r) | 1, RPAGES, VMMIG_COMP_NONE);
		pthread_t th;
		int s, k, st;

		memset(dst_mem, FILL, RBYTES + 2 * PG);
		pthread_create(&th, NULL, dest_thread, &d);
		s = vt_dial(VT_ADDR_B, PORT, 200);
		ASSERT_LE(0, s);
		/* A HELLO cut to nothing has nothing left to mutate. */
		for (k = 1 + fz_below(&r, 4); k && len; k--) {
			switch (fz_below(&r, 5)) {
			case 0:
				hello[fz_below(&r, len)] ^= 1 << fz_below(&r, 8);
				break;
			case 1:
				len = fz_below(&r, len);
				break;
			case 2:
				memcpy(hello + 32 + 4 * fz_below(&r, 10),
				       &(__u32){ fz_u64(&r) }, 4);
				break;
			case 3:
				fz_bytes(&r, hello, len);
				break;
			default:
				memcpy(hello + 16 + 4 * fz_below(&r, 3), &(__u32){ fz_u64(&r) }, 4);
				break;
			}
		}
		if (len && vt_send_all(s, hello, len))
			dropped++;
		shutdown(s, SHUT_WR);
		st = len >= 32 ? handshake(s, NULL, 0) : -1;
		if (st > 0)
			refused++;
		else if (st == 0)
			bound++;
		else
			dropped++;
		close(s);
		pthread_join(th, NULL);
		EXPECT_TRUE(d.accept_rc == -ETIMEDOUT || d.accept_rc == 0)
			TH_LOG("ACCEPT: %d", d.accept_rc);
		EXPECT_TRUE(d.accept_rc || end_documented(d.end));
		EXPECT_TRUE(guards_untouched(dst_mem));
		if (i % 50 == 49)
			EXPECT_EQ(0, run_session(_metadata, &good, false, false));
	}
	free(good.b);
	printf("# wire before handshake: %lu connections, %lu refused, %lu dropped, %lu valid\n",
	       n, refused, dropped, bound);
}

TEST_HARNESS_MAIN
