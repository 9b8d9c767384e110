// SPDX-License-Identifier: GPL-2.0
/*
 * Compression benchmark: what compressing pages costs the module, against
 * the same libraries compressing the same pages in userspace (the ceiling)
 * and against a userspace sender that compresses the way QEMU's multifd
 * does. Everything runs in one process, on the same memory, in the same
 * boot, and is reported as ratios between numbers of the same run.
 *
 * Memory, three regions that every module session registers:
 *   mixed    1/4 zero, 1/2 text-like (words of a small vocabulary), 1/4
 *            random pages, interleaved page by page like migrate_test's
 *            mixed fixture
 *   zero     all zero
 *   random   all random
 *
 * Variants:
 *   lib-lz4   the ceiling: liblz4 LZ4_compress_fast() (acceleration 1, the
 *   lib-zstd  module's default) and libzstd ZSTD_compressCCtx() (level 3,
 *             likewise) on the non-zero pages of the mixed memory, one page
 *             per call, one thread; then each page that shrank by 1/8 (the
 *             ones the module sends compressed, compress.h) decompressed
 *             again. Thread CPU time of each half.
 *   lib-lz4-ctx  the same with the lz4 stream kept from page to page, as
 *             the kernel keeps its workspace and zstd its context.
 *   mod-C     the module, codec C, one channel: SEND_DIRTY(VMMIG_DIRTY_ALL)
 *             of one region and SYNC, the destination forked into host B
 *   us-C      multifd-style userspace sender, one TCP connection: packets of
 *             128 pages, zero pages named in the header only, the others
 *             sent as they are (none) or compressed with a per-connection
 *             context: zstd as QEMU's multifd-zstd (ZSTD_compressStream2,
 *             flushed at the end of each packet, the stream kept across
 *             packets), lz4 with LZ4_compress_fast_continue (each packet
 *             a new stream, QEMU has no multifd-lz4). The receiver reads a
 *             packet and decompresses page by page into the destination.
 *             A round ends with a SYNC packet that the receiver answers
 *             once everything before it is placed.
 *
 * CPU time: busy jiffies of all CPUs from /proc/stat around each timed
 * round: the CPU time of every transfer is the source's and the
 * destination's together. To tell the
 * codec's part from the rest, perf cpu-clock samples are taken on every
 * CPU during the timed rounds and counted by function (sampler.h).
 *
 * Derived in the report:
 *   codec speed       the codec's share of a transfer's samples times its
 *                     CPU time, per byte the codec was given
 *                     (comp_bytes_in), against the library's own time for
 *                     the same pages
 *   compression cost  CPU(mod-C on mixed) - CPU(mod-none on mixed) of the
 *                     same round, per byte the codec was given: sender and
 *                     receiver together, net of what a smaller payload
 *                     saves the network
 *   zero vs raw       CPU per page of mod-none on the zero and on the
 *                     random region
 *
 * The destination is reset to 0xee before every round and compared with
 * the source after it (the library's decompressed pages likewise), so a
 * broken path cannot report a number. The zero region is also sent onto a
 * destination that is zero already (mod-none-z), and onto one that is zero
 * in a region registered VMMIG_REGION_FRESH, as a receiving VMM's new RAM
 * is (mod-none-f). Rounds go variant after variant, the
 * order reversed every other round, so that a change in the host's load
 * (the VM is emulated) hits all of them alike.
 *
 * Usage: compress_bench [-m MiB] [-z MiB] [-Z MiB] [-r runs] [-w warmup] [-v]
 */
#include <getopt.h>
#include <lz4.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <zstd.h>

#include "bench.h"
#include "sampler.h"

#define BATCH_PAGES	128	/* QEMU multifd: 512 KiB packets of 4 KiB pages */
#define PKT_BUF		(2 * BATCH_PAGES * PG)	/* QEMU's zstd buffer: twice a packet */
#define HDR_MAGIC	0x4d464443	/* "MFDC" */
#define PORT_MODULE	6710
#define PORT_USER	6810
#define LZ4_ACCEL	1	/* the module's lz4 default */
#define ZSTD_LEVEL	3	/* the module's zstd default */
/* The module sends a page compressed only if it shrinks by 1/8 (compress.h). */
#define COMP_MAX	(PG - PG / 8)
#define NCODECS		3
/* A module session per codec, and one more whose destination is FRESH. */
#define MS_FRESH	NCODECS
#define NMSESS		(NCODECS + 1)
#define MAX_VARIANTS	16
#define REGION_GPA(id)	((__u64)(id) << 32)

enum { MIXED, ZERO, RANDOM, NAREAS };

/*
 * The destination before a round: 0xee (every zero page must be cleared),
 * zero (each is read, found zero and left alone), or zero in a region
 * registered VMMIG_REGION_FRESH (not even read).
 */
enum dst_kind { DST_FILLED, DST_ZERO, DST_FRESH };

struct area {
	const char *name;
	__u32 id;		/* region id on both sides */
	size_t npages;
	size_t zero_pages;	/* of which all zero */
	unsigned char *src, *dst;
};

static struct area areas[NAREAS] = {
	[MIXED] = { .name = "mixed", .id = 1 },
	[ZERO] = { .name = "zero", .id = 2 },
	[RANDOM] = { .name = "random", .id = 3 },
};

static const char *const codec_names[NCODECS] = {
	[VMMIG_COMP_NONE] = "none",
	[VMMIG_COMP_LZ4] = "lz4",
	[VMMIG_COMP_ZSTD] = "zstd",
};

/* The library variants: the mixed memory's non-zero pages, in order. */
static size_t *nz_page, n_nz;
static unsigned char *lib_out, *lib_dec;	/* compressed slots, decoded pages */
static size_t lib_slot;
static int *lib_len;

static int runs = 4, warmup = 1;	/* 4: two rounds in each order */
static bool verbose;

/* CPU samples of every timed round; the report says why if there are none. */
static struct sampler smp;
static int smp_err = -ENODEV;

/* multifd-style packet: the page indices, the data pages' first. */
struct pkt_hdr {
	__u32 magic;
	__u32 normal;		/* data pages: page[0 .. normal - 1] */
	__u32 zero;		/* zero pages: page[normal .. normal + zero - 1] */
	__u32 len;		/* payload bytes after the header */
	__u64 page[BATCH_PAGES];	/* a SYNC (normal = zero = 0): page[0] = seq */
	__u32 clen[BATCH_PAGES];	/* lz4: each data page's compressed block */
};

/* One module session per codec; its variants share it. */
struct msess {
	unsigned int codec;
	bool fresh;		/* destination regions VMMIG_REGION_FRESH */
	__u16 port;
	pid_t pid;		/* the destination host's process */
	int fd;
};

/* One userspace connection per codec. */
struct uchan {
	unsigned int codec;
	__u16 port;
	pid_t pid;		/* the receiver, in host B */
	int fd;
	__u64 seq;
	LZ4_stream_t *lz4;
	ZSTD_CCtx *zstd;
	unsigned char *buf;	/* one compressed packet */
};

/* K_LIB_CTX: lz4 with its stream kept from page to page (see lib_compress) */
enum kind { K_LIB, K_LIB_CTX, K_MODULE, K_USER };

struct variant {
	char name[24];
	enum kind kind;
	unsigned int codec;
	int area;
	struct msess *ms;
	struct uchan *uc;
	int nruns;
	double wall[MAX_RUNS];
	double cpu[MAX_RUNS];	/* /proc/stat, all CPUs */
	double ctime[MAX_RUNS];	/* library: thread CPU s compressing */
	double dtime[MAX_RUNS];	/* and decompressing */
	/* every round moves the same pages the same way: the last round's */
	__u64 bytes_in;		/* non-zero page bytes given to the codec */
	__u64 bytes_out;	/* what it made of them */
	__u64 dec_bytes;	/* library: page bytes decompressed */
	__u64 adapt_out;	/* library: bytes_out with the module's 1/8 rule */
	__u64 comp_pages;	/* pages that went compressed */
	__u64 raw_pages;	/* non-zero pages that went as they are */
	struct profile prof;	/* CPU samples of the timed rounds */
	enum dst_kind dst;	/* what the destination holds before a round */
	bool ok;
	char err[160];
};

static void fail(struct variant *v, const char *what, int err)
{
	if (!v->err[0])
		snprintf(v->err, sizeof(v->err), "%s: %s", what, strerror(err));
	v->ok = false;
}

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- memory ---- */

/* Text-like: words of a small vocabulary, as migrate_test's fill_text(). */
static void fill_text(unsigned char *p, unsigned int seed)
{
	static const char *const words[] = {
		"migrate ", "guest ", "page ", "dirty ", "round ", "vcpu ", "kernel ",
		"memory ", "the ", "of ", "and ", "0x1000 ", "struct ", "return ",
	};
	size_t off = 0, n;

	while (off < PG) {
		seed = seed * 1103515245 + 12345;
		n = strlen(words[(seed >> 16) % ARRAY_SIZE(words)]);
		memcpy(p + off, words[(seed >> 16) % ARRAY_SIZE(words)],
		       off + n > PG ? PG - off : n);
		off += n;
	}
}

/* xorshift64: no zero word, nothing for a codec to find. */
static void fill_random(unsigned char *p, __u64 seed)
{
	__u64 x = seed * 0x9e3779b97f4a7c15ULL + 1, *w = (__u64 *)p;
	size_t i;

	for (i = 0; i < PG / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
}

static void fill_areas(void)
{
	struct area *a;
	size_t i;

	a = &areas[MIXED];
	for (i = 0; i < a->npages; i++) {
		if (i % 4 == 0)
			memset(a->src + i * PG, 0, PG);
		else if (i % 4 == 1)
			fill_random(a->src + i * PG, i);
		else
			fill_text(a->src + i * PG, i);
		if (i % 4)
			nz_page[n_nz++] = i;
	}
	a->zero_pages = a->npages - n_nz;

	a = &areas[ZERO];
	memset(a->src, 0, a->npages * PG);	/* populated, as guest RAM is */
	a->zero_pages = a->npages;

	a = &areas[RANDOM];
	for (i = 0; i < a->npages; i++)
		fill_random(a->src + i * PG, areas[MIXED].npages + i);
}

/* Compare a region after a round; on a mismatch say where. */
static void check_dst(struct variant *v, const struct area *a)
{
	size_t i;

	for (i = 0; i < a->npages; i++) {
		if (memcmp(a->src + i * PG, a->dst + i * PG, PG)) {
			snprintf(v->err, sizeof(v->err),
				 "%s: destination differs from source at page %zu", a->name, i);
			v->ok = false;
			return;
		}
	}
}

/* A round's timed part: samples from before it are dropped. */
static void round_start(struct mark *m)
{
	if (!smp_err)
		sampler_drain(&smp, NULL);
	mark_start(m);
}

static void round_stop(struct variant *v, const struct mark *m)
{
	mark_read(m, &v->wall[v->nruns], &v->cpu[v->nruns]);
	v->nruns++;
	if (!smp_err)
		sampler_drain(&smp, &v->prof);
}

/* ---- the library, one page per call ---- */

/*
 * One page. LZ4_compress_fast() initializes its 16 KiB state for every
 * call; with @ctx the state is kept and only reset the cheap way
 * (LZ4_resetStream_fast(), the exported form of
 * LZ4_compress_fast_extState_fastReset()), each page still compressed on
 * its own. zstd always keeps its context.
 */
static int lib_compress(unsigned int codec, bool ctx, ZSTD_CCtx *cctx, LZ4_stream_t *ls,
			const void *page, void *out)
{
	size_t ret;
	int n;

	if (codec == VMMIG_COMP_LZ4) {
		if (ctx) {
			LZ4_resetStream_fast(ls);
			n = LZ4_compress_fast_continue(ls, page, out, PG, lib_slot, LZ4_ACCEL);
		} else {
			n = LZ4_compress_fast(page, out, PG, lib_slot, LZ4_ACCEL);
		}
		return n > 0 ? n : -EIO;
	}
	ret = ZSTD_compressCCtx(cctx, out, lib_slot, page, PG, ZSTD_LEVEL);
	return ZSTD_isError(ret) ? -EIO : (int)ret;
}

static bool lib_decompress(unsigned int codec, ZSTD_DCtx *dctx, const void *in, int len,
			   void *page)
{
	if (codec == VMMIG_COMP_LZ4)
		return LZ4_decompress_safe(in, page, len, PG) == (int)PG;
	return ZSTD_decompressDCtx(dctx, page, PG, in, len) == PG;
}

static void lib_round(struct variant *v, bool timed)
{
	const struct area *a = &areas[MIXED];
	static ZSTD_CCtx *cctx;
	static ZSTD_DCtx *dctx;
	static LZ4_stream_t *ls;
	double t0, t1, t2;
	struct mark m;
	size_t k;
	int n;

	if (!cctx)
		cctx = ZSTD_createCCtx();
	if (!dctx)
		dctx = ZSTD_createDCtx();
	if (!ls)
		ls = LZ4_createStream();
	if (!cctx || !dctx || !ls) {
		fail(v, "codec contexts", ENOMEM);
		return;
	}
	v->bytes_in = n_nz * PG;
	v->bytes_out = 0;
	v->adapt_out = 0;
	v->dec_bytes = 0;
	v->comp_pages = 0;

	round_start(&m);
	t0 = thread_cpu();
	for (k = 0; k < n_nz; k++) {
		n = lib_compress(v->codec, v->kind == K_LIB_CTX, cctx, ls,
				 a->src + nz_page[k] * PG, lib_out + k * lib_slot);
		if (n < 0) {
			fail(v, "compress", -n);
			return;
		}
		lib_len[k] = n;
	}
	t1 = thread_cpu();
	for (k = 0; k < n_nz; k++) {
		if (lib_len[k] > (int)COMP_MAX)
			continue;
		if (!lib_decompress(v->codec, dctx, lib_out + k * lib_slot, lib_len[k],
				    lib_dec + k * PG)) {
			snprintf(v->err, sizeof(v->err), "page %zu does not decompress",
				 nz_page[k]);
			v->ok = false;
			return;
		}
	}
	t2 = thread_cpu();
	if (timed) {
		v->ctime[v->nruns] = t1 - t0;
		v->dtime[v->nruns] = t2 - t1;
		round_stop(v, &m);
	}

	for (k = 0; k < n_nz; k++) {
		v->bytes_out += lib_len[k];
		if (lib_len[k] > (int)COMP_MAX) {
			v->adapt_out += PG;
			continue;
		}
		v->adapt_out += lib_len[k];
		v->dec_bytes += PG;
		v->comp_pages++;
		if (memcmp(lib_dec + k * PG, a->src + nz_page[k] * PG, PG)) {
			snprintf(v->err, sizeof(v->err),
				 "page %zu decompressed differs from the original", nz_page[k]);
			v->ok = false;
			return;
		}
	}
	v->raw_pages = n_nz - v->comp_pages;
	memset(lib_dec, 0xee, n_nz * PG);
}

/* ---- the module ---- */

/* Destination host: register the regions, accept, wait for the end. */
static void module_dest(const struct msess *s)
{
	int fd = bench_dest_open(VT_NS_B), i;

	for (i = 0; i < NAREAS; i++)
		bench_dest_add_region(fd, areas[i].id, areas[i].dst, areas[i].npages * PG,
				      REGION_GPA(areas[i].id), s->fresh ? VMMIG_REGION_FRESH : 0);
	bench_dest_serve(fd, s->port);
}

/* The source side of a session: 0 or -errno, *@what says which step. */
static int module_setup(struct msess *s, const char **what)
{
	int rc, i;

	*what = "open /dev/vmmig";
	s->fd = vt_open();
	if (s->fd < 0)
		return -errno;
	*what = "ADD_REGION";
	for (i = 0; i < NAREAS; i++) {
		rc = vt_add_region(s->fd, areas[i].id, areas[i].src, areas[i].npages * PG,
				   REGION_GPA(areas[i].id));
		if (rc)
			return rc;
	}
	*what = "CONNECT";
	return vt_connect_comp_retry(s->fd, NULL, s->port, 1, s->codec, 200);
}

static void module_round(struct variant *v, bool timed)
{
	const struct area *a = &areas[v->area];
	struct vmmig_stats s0, s1;
	struct vmmig_dirty d;
	struct mark m;
	int rc;

	rc = vt_stats(v->ms->fd, &s0);
	if (rc) {
		fail(v, "GET_STATS", -rc);
		return;
	}
	round_start(&m);
	rc = vt_send_dirty(v->ms->fd, a->id, 0, a->npages, NULL, &d);
	if (rc) {
		fail(v, "SEND_DIRTY", -rc);
		return;
	}
	rc = vt_ioctl(v->ms->fd, VMMIG_IOC_SYNC, NULL);
	if (rc) {
		fail(v, "SYNC", -rc);
		return;
	}
	if (timed)
		round_stop(v, &m);
	rc = vt_stats(v->ms->fd, &s1);
	if (rc) {
		fail(v, "GET_STATS", -rc);
		return;
	}
	if (d.pages != a->npages || d.zero_pages != a->zero_pages) {
		snprintf(v->err, sizeof(v->err),
			 "SEND_DIRTY sent %llu pages (%llu zero), expected %zu (%zu zero)",
			 (unsigned long long)d.pages, (unsigned long long)d.zero_pages,
			 a->npages, a->zero_pages);
		v->ok = false;
	}
	v->bytes_in = s1.comp_bytes_in - s0.comp_bytes_in;
	v->bytes_out = s1.comp_bytes_out - s0.comp_bytes_out;
	v->comp_pages = s1.comp_pages - s0.comp_pages;
	v->raw_pages = s1.incompressible_pages - s0.incompressible_pages;
	if (v->codec != VMMIG_COMP_NONE &&
	    v->bytes_in != (a->npages - a->zero_pages) * PG) {
		snprintf(v->err, sizeof(v->err), "comp_bytes_in %llu, expected %zu",
			 (unsigned long long)v->bytes_in, (a->npages - a->zero_pages) * PG);
		v->ok = false;
	}
}

static int module_teardown(struct msess *s, bool ok)
{
	int rc = 0, st;

	if (s->fd >= 0 && ok)
		rc = vt_ioctl(s->fd, VMMIG_IOC_FINISH, NULL);
	if (s->fd >= 0)
		close(s->fd);
	if (s->pid <= 0)
		return rc;
	if (!ok || rc)
		kill(s->pid, SIGKILL);
	st = wait_child(s->pid);
	return rc ?: (ok && st ? -ECHILD : 0);
}

/* ---- the userspace sender and receiver ---- */

static bool page_is_zero(const unsigned char *p)
{
	const __u64 *w = (const __u64 *)p;
	size_t i;

	for (i = 0; i < PG / 8; i++)
		if (w[i])
			return false;
	return true;
}

static int send_all(int fd, struct iovec *iov, int cnt)
{
	struct msghdr msg = {};
	ssize_t n;

	while (cnt) {
		msg.msg_iov = iov;
		msg.msg_iovlen = cnt;
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		iov_advance(&iov, &cnt, n);
	}
	return 0;
}

/* Packet payload, QEMU multifd-zstd's way: one stream, flushed per packet. */
static int zstd_pack(struct uchan *c, const struct pkt_hdr *h, const unsigned char *mem,
		     size_t *len)
{
	ZSTD_outBuffer out = { .dst = c->buf, .size = PKT_BUF };
	ZSTD_inBuffer in;
	ZSTD_EndDirective mode;
	size_t ret;
	__u32 i;

	for (i = 0; i < h->normal; i++) {
		mode = i == h->normal - 1 ? ZSTD_e_flush : ZSTD_e_continue;
		in = (ZSTD_inBuffer){ .src = mem + h->page[i] * PG, .size = PG };
		do {
			ret = ZSTD_compressStream2(c->zstd, &out, &in, mode);
			if (ZSTD_isError(ret))
				return -EIO;
		} while ((in.pos < in.size || (mode == ZSTD_e_flush && ret)) && out.pos < out.size);
		if (in.pos < in.size || (mode == ZSTD_e_flush && ret))
			return -ENOSPC;
	}
	*len = out.pos;
	return 0;
}

/*
 * lz4 has no multifd method in QEMU; this one is zlib's shape: one stream
 * per packet, each page a block that may refer to the page before it.
 */
static int lz4_pack(struct uchan *c, struct pkt_hdr *h, const unsigned char *mem,
		    size_t *len)
{
	size_t pos = 0;
	__u32 i;
	int n;

	LZ4_resetStream_fast(c->lz4);
	for (i = 0; i < h->normal; i++) {
		n = LZ4_compress_fast_continue(c->lz4, (const char *)mem + h->page[i] * PG,
					       (char *)c->buf + pos, PG, PKT_BUF - pos,
					       LZ4_ACCEL);
		if (n <= 0)
			return -ENOSPC;
		h->clen[i] = n;
		pos += n;
	}
	*len = pos;
	return 0;
}

/* Send pages [@first, @first + @n) of @a as one packet. */
static int user_send_packet(struct uchan *c, struct variant *v, const struct area *a,
			    size_t first, size_t n)
{
	struct iovec iov[1 + BATCH_PAGES];
	__u64 zero[BATCH_PAGES];
	struct pkt_hdr h = { .magic = HDR_MAGIC };
	size_t i, len = 0;
	int cnt = 1, rc = 0;

	for (i = first; i < first + n; i++) {
		if (page_is_zero(a->src + i * PG))
			zero[h.zero++] = i;
		else
			h.page[h.normal++] = i;
	}
	memcpy(&h.page[h.normal], zero, h.zero * sizeof(zero[0]));

	if (c->codec == VMMIG_COMP_NONE) {
		for (i = 0; i < h.normal; i++, cnt++) {
			iov[cnt].iov_base = a->src + h.page[i] * PG;
			iov[cnt].iov_len = PG;
		}
		len = h.normal * PG;
	} else if (h.normal) {
		if (c->codec == VMMIG_COMP_LZ4)
			rc = lz4_pack(c, &h, a->src, &len);
		else
			rc = zstd_pack(c, &h, a->src, &len);
		if (rc)
			return rc;
		iov[cnt].iov_base = c->buf;
		iov[cnt++].iov_len = len;
		v->bytes_in += h.normal * PG;
		v->bytes_out += len;
	}
	h.len = len;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	return send_all(c->fd, iov, cnt);
}

static int user_sync(struct uchan *c)
{
	struct pkt_hdr h = { .magic = HDR_MAGIC };
	struct iovec iov = { .iov_base = &h, .iov_len = sizeof(h) };
	__u64 ack;
	int rc;

	h.page[0] = ++c->seq;
	rc = send_all(c->fd, &iov, 1);
	if (rc)
		return rc;
	iov.iov_base = &ack;
	iov.iov_len = sizeof(ack);
	rc = recv_iov(c->fd, &iov, 1, NULL);
	if (rc)
		return rc;
	return ack == c->seq ? 0 : -EPROTO;
}

static void user_round(struct variant *v, bool timed)
{
	const struct area *a = &areas[v->area];
	struct uchan *c = v->uc;
	struct mark m;
	size_t p, n;
	int rc = 0;

	v->bytes_in = 0;
	v->bytes_out = 0;
	round_start(&m);
	for (p = 0; p < a->npages && !rc; p += n) {
		n = a->npages - p < BATCH_PAGES ? a->npages - p : BATCH_PAGES;
		rc = user_send_packet(c, v, a, p, n);
	}
	if (!rc)
		rc = user_sync(c);
	if (rc) {
		fail(v, "send", -rc);
		return;
	}
	if (timed)
		round_stop(v, &m);
}

static int unpack_lz4(LZ4_streamDecode_t *ld, const struct pkt_hdr *h,
		      const unsigned char *buf, unsigned char *mem)
{
	size_t pos = 0;
	__u32 i;

	LZ4_setStreamDecode(ld, NULL, 0);
	for (i = 0; i < h->normal; i++) {
		if (h->clen[i] > h->len - pos)
			return -EPROTO;
		/* Decoded in place: the page before stays where it was decoded. */
		if (LZ4_decompress_safe_continue(ld, (const char *)buf + pos,
						 (char *)mem + h->page[i] * PG,
						 h->clen[i], PG) != (int)PG)
			return -EBADMSG;
		pos += h->clen[i];
	}
	return pos == h->len ? 0 : -EBADMSG;
}

static int unpack_zstd(ZSTD_DCtx *zd, const struct pkt_hdr *h, const unsigned char *buf,
		       unsigned char *mem)
{
	ZSTD_inBuffer in = { .src = buf, .size = h->len };
	ZSTD_outBuffer out;
	size_t ret, ipos, opos;
	__u32 i;

	for (i = 0; i < h->normal; i++) {
		out = (ZSTD_outBuffer){ .dst = mem + h->page[i] * PG, .size = PG };
		while (out.pos < out.size) {
			ipos = in.pos;
			opos = out.pos;
			ret = ZSTD_decompressStream(zd, &out, &in);
			if (ZSTD_isError(ret) || (in.pos == ipos && out.pos == opos))
				return -EBADMSG;
		}
	}
	return in.pos == in.size ? 0 : -EBADMSG;
}

/* Host B's receiver: place packets into the destination until EOF. */
static void user_dest(const struct uchan *c)
{
	const struct area *a = &areas[MIXED];
	LZ4_streamDecode_t *ld = LZ4_createStreamDecode();
	ZSTD_DCtx *zd = ZSTD_createDCtx();
	unsigned char *buf = malloc(PKT_BUF);
	struct iovec iov[BATCH_PAGES];
	bool eof = false;
	struct pkt_hdr h;
	int fd = -1, rc;
	__u32 i;

	bench_dest_enter(VT_NS_B);
	if (!ld || !zd || !buf)
		_exit(11);
	rc = user_accept(c->port, &fd, 1);
	if (rc) {
		fprintf(stderr, "user dest: listen/accept: %s\n", strerror(-rc));
		_exit(12);
	}
	for (;;) {
		iov[0].iov_base = &h;
		iov[0].iov_len = sizeof(h);
		rc = recv_iov(fd, iov, 1, &eof);
		if (rc || eof)
			break;
		rc = -EPROTO;
		if (h.magic != HDR_MAGIC || h.normal + h.zero > BATCH_PAGES || h.len > PKT_BUF ||
		    (c->codec == VMMIG_COMP_NONE && h.len != h.normal * PG))
			break;
		if (!h.normal && !h.zero) {
			iov[0].iov_base = &h.page[0];
			iov[0].iov_len = sizeof(h.page[0]);
			rc = send_all(fd, iov, 1);
			if (rc)
				break;
			continue;
		}
		for (i = 0; i < h.normal + h.zero; i++)
			if (h.page[i] >= a->npages)
				break;
		if (i < h.normal + h.zero)
			break;
		if (c->codec == VMMIG_COMP_NONE) {
			for (i = 0; i < h.normal; i++) {
				iov[i].iov_base = a->dst + h.page[i] * PG;
				iov[i].iov_len = PG;
			}
			rc = recv_iov(fd, iov, h.normal, NULL);
		} else {
			iov[0].iov_base = buf;
			iov[0].iov_len = h.len;
			rc = recv_iov(fd, iov, 1, NULL);
			if (!rc && c->codec == VMMIG_COMP_LZ4)
				rc = unpack_lz4(ld, &h, buf, a->dst);
			else if (!rc)
				rc = unpack_zstd(zd, &h, buf, a->dst);
		}
		if (rc)
			break;
		for (i = h.normal; i < h.normal + h.zero; i++)
			memset(a->dst + h.page[i] * PG, 0, PG);
	}
	if (rc)
		fprintf(stderr, "user dest %s: %s\n", codec_names[c->codec], strerror(-rc));
	_exit(rc ? 13 : 0);
}

static int user_setup(struct uchan *c, const char **what)
{
	*what = "connect";
	c->fd = user_connect(c->port);
	if (c->fd < 0)
		return c->fd;
	*what = "codec context";
	c->buf = malloc(PKT_BUF);
	if (!c->buf)
		return -ENOMEM;
	if (c->codec == VMMIG_COMP_LZ4) {
		c->lz4 = LZ4_createStream();
		if (!c->lz4)
			return -ENOMEM;
	} else if (c->codec == VMMIG_COMP_ZSTD) {
		c->zstd = ZSTD_createCCtx();
		if (!c->zstd ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel,
							ZSTD_LEVEL)))
			return -ENOMEM;
	}
	return 0;
}

static int user_teardown(struct uchan *c, bool ok)
{
	int st;

	if (c->fd >= 0)
		shutdown(c->fd, SHUT_WR);
	if (c->pid > 0) {
		if (!ok)
			kill(c->pid, SIGKILL);
		st = wait_child(c->pid);
		if (ok && st)
			return -ECHILD;
	}
	if (c->fd >= 0)
		close(c->fd);
	LZ4_freeStream(c->lz4);
	ZSTD_freeCCtx(c->zstd);
	free(c->buf);
	return 0;
}

/* ---- rounds ---- */

static void variant_round(struct variant *v, bool timed)
{
	const struct area *a = &areas[v->area];

	if (!v->ok)
		return;
	if (v->kind == K_LIB || v->kind == K_LIB_CTX) {
		lib_round(v, timed);
	} else {
		memset(a->dst, v->dst == DST_FILLED ? 0xee : 0, a->npages * PG);
		if (v->kind == K_MODULE)
			module_round(v, timed);
		else
			user_round(v, timed);
		if (v->ok)
			check_dst(v, a);
	}
	if (v->ok && timed)
		fprintf(stderr, "[bench]   %-12s %-6s %8.3f s\n", v->name, a->name,
			v->wall[v->nruns - 1]);
	if (!v->ok)
		fprintf(stderr, "[bench] %s %s FAILED: %s\n", v->name, a->name, v->err);
}

/* ---- report ---- */

static struct variant vs[MAX_VARIANTS];
static int nv;

static struct variant *find_dst(enum kind kind, unsigned int codec, int area,
				enum dst_kind dst)
{
	int i;

	for (i = 0; i < nv; i++)
		if (vs[i].kind == kind && vs[i].codec == codec && vs[i].area == area &&
		    vs[i].dst == dst)
			return vs[i].ok && vs[i].nruns == runs ? &vs[i] : NULL;
	return NULL;
}

static struct variant *find(enum kind kind, unsigned int codec, int area)
{
	return find_dst(kind, codec, area, DST_FILLED);
}

static double mbs(double bytes, double s)
{
	return s > 0 ? bytes / s / 1e6 : 0;
}

/* Median and range of a per-round quantity. */
struct spread {
	double med, lo, hi;
};

static struct spread spread(const double *x, int n)
{
	struct spread s = { median(x, n), 1e300, -1e300 };
	int i;

	for (i = 0; i < n; i++) {
		s.lo = x[i] < s.lo ? x[i] : s.lo;
		s.hi = x[i] > s.hi ? x[i] : s.hi;
	}
	return s;
}

static void print_library(void)
{
	double c[MAX_RUNS], d[MAX_RUNS], cd[MAX_RUNS];
	const struct variant *v;
	int i, j;

	printf("\n1. library ceiling: the %zu non-zero pages of the mixed memory,\n", n_nz);
	printf("   one page per call, one thread\n");
	printf("%-12s %7s %8s %13s %15s %9s\n", "library", "out/in", "out/in*",
	       "compress MB/s", "decompress MB/s", "c+d MB/s");
	for (j = 0; j < nv; j++) {
		v = &vs[j];
		if (v->kind != K_LIB && v->kind != K_LIB_CTX)
			continue;
		if (!v->ok) {
			printf("%-12s FAILED: %s\n", v->name, v->err);
			continue;
		}
		for (i = 0; i < v->nruns; i++) {
			c[i] = mbs(v->bytes_in, v->ctime[i]);
			d[i] = mbs(v->dec_bytes, v->dtime[i]);
			cd[i] = mbs(v->bytes_in, v->ctime[i] + v->dtime[i]);
		}
		printf("%-12s %6.1f%% %7.1f%% %13.1f %15.1f %9.1f\n", v->name,
		       100.0 * v->bytes_out / v->bytes_in, 100.0 * v->adapt_out / v->bytes_in,
		       median(c, v->nruns), median(d, v->nruns), median(cd, v->nruns));
	}
	printf("lib-lz4: LZ4_compress_fast(), lib-lz4-ctx: its stream kept from page to\n");
	printf("  page (LZ4_resetStream_fast + LZ4_compress_fast_continue), lib-zstd:\n");
	printf("  ZSTD_compressCCtx() on a kept context; decoding: LZ4_decompress_safe(),\n");
	printf("  ZSTD_decompressDCtx()\n");
	printf("out/in = compressed bytes / page bytes; out/in* = the same with the\n");
	printf("  module's rule (a page that does not shrink by 1/8 counts as 4096 bytes)\n");
	printf("MB/s = 10^6 bytes of page data per second of thread CPU time (one core)\n");
	printf("decompress = the pages that shrank by 1/8, the ones the module decodes;\n");
	printf("c+d = all non-zero page bytes / (compress + decompress time)\n");
}

static void print_transfers(void)
{
	const struct variant *v;
	const struct area *a;
	char ratio[16], pages[32];
	struct spread w;
	double cpu;
	int i;

	printf("\n2. transfers, netns A -> B, 1 channel, medians of %d rounds\n", runs);
	printf("%-10s %-6s %4s %8s %-17s %7s %7s %8s %8s %7s %13s\n", "variant", "memory",
	       "MiB", "wall s", "  min-max s", "MB/s", "CPU s", "CPUs/GiB", "us/page",
	       "out/in", "comp/raw pg");
	for (i = 0; i < nv; i++) {
		v = &vs[i];
		a = &areas[v->area];
		if (v->kind == K_LIB || v->kind == K_LIB_CTX)
			continue;
		if (!v->ok) {
			printf("%-10s %-6s %4zu  FAILED: %s\n", v->name, a->name,
			       a->npages * PG / MIB, v->err);
			continue;
		}
		w = spread(v->wall, v->nruns);
		cpu = median(v->cpu, v->nruns);
		snprintf(ratio, sizeof(ratio), "-");
		snprintf(pages, sizeof(pages), "-");
		if (v->bytes_in) {
			snprintf(ratio, sizeof(ratio), "%.1f%%",
				 100.0 * v->bytes_out / v->bytes_in);
			if (v->kind == K_MODULE)
				snprintf(pages, sizeof(pages), "%llu/%llu",
					 (unsigned long long)v->comp_pages,
					 (unsigned long long)v->raw_pages);
		}
		printf("%-10s %-6s %4zu %8.3f %8.3f-%-8.3f %7.1f %7.3f %8.2f %8.1f %7s %13s\n",
		       v->name, a->name, a->npages * PG / MIB, w.med, w.lo, w.hi,
		       mbs(a->npages * PG, w.med), cpu, cpu / (a->npages * PG / GIB),
		       cpu / a->npages * 1e6, ratio, pages);
	}
	printf("MB/s = 10^6 bytes of memory moved (zero pages included) per wall second\n");
	printf("CPU s = busy CPU seconds of all CPUs (/proc/stat): sender and receiver, one CPU\n");
	printf("out/in = codec output / non-zero page bytes given to it (module: GET_STATS\n");
	printf("  comp_bytes_out / comp_bytes_in; userspace: packet payloads)\n");
	printf("comp/raw pg = module: comp_pages / incompressible_pages per round\n");
}

static void print_profile(void)
{
	const struct variant *v;
	unsigned long long busy;
	int i, c;

	printf("\n3. where the CPU went: %% of the busy CPU samples of the timed rounds\n");
	if (smp_err) {
		printf("  n/a: no CPU samples (%s)\n", strerror(-smp_err));
		return;
	}
	printf("   (one sample per %llu us of CPU time on every CPU)\n",
	       SAMPLER_PERIOD_NS / 1000);
	printf("%-10s %-6s %7s", "variant", "memory", "busy");
	for (c = SC_IDLE + 1; c < SC_NCAT; c++)
		printf(" %8s", sample_cat_names[c]);
	printf(" %9s\n", "lost/bad");
	for (i = 0; i < nv; i++) {
		v = &vs[i];
		busy = profile_busy(&v->prof);
		if (!v->ok || !busy) {
			printf("%-10s %-6s  n/a\n", v->name, areas[v->area].name);
			continue;
		}
		printf("%-10s %-6s %7llu", v->name, areas[v->area].name, busy);
		for (c = SC_IDLE + 1; c < SC_NCAT; c++)
			printf(" %7.1f%%", 100.0 * v->prof.n[c] / busy);
		printf(" %4llu/%-4llu\n", v->prof.lost, v->prof.bad);
	}
	if (verbose) {
		printf("kernel symbols with most samples, %% of the busy samples:\n");
		for (i = 0; i < nv; i++) {
			v = &vs[i];
			if (!v->ok || !profile_busy(&v->prof))
				continue;
			printf("  %s %s\n", v->name, areas[v->area].name);
			sampler_print_top(&smp, &v->prof, profile_busy(&v->prof), 12);
		}
	}
	printf("codec-c/-d: the kernel's lz4/zstd compressors/decoders; in userspace,\n");
	printf("  liblz4/libzstd in the sender (library rounds: both) / in the receiver\n");
	printf("  (a copy or memset a codec calls counts as the codec's)\n");
	printf("copy: memcpy, user and iterator copies; zero-chk: memchr_inv;\n");
	printf("  clear: clear_page, memset; vmmig: the module's own code;\n");
	printf("  kernel: the rest (network, scheduler, ...)\n");
}

struct speed {
	double c, d, cd;	/* MB/s compressing, decompressing, both */
	unsigned long long nc, nd;	/* samples they come from */
};

/* The library: its own thread CPU time, all timed rounds together. */
static bool lib_speed(const struct variant *v, struct speed *sp)
{
	double tc = 0, td = 0;
	int i;

	for (i = 0; i < v->nruns; i++) {
		tc += v->ctime[i];
		td += v->dtime[i];
	}
	if (tc <= 0 || td <= 0)
		return false;
	sp->c = mbs((double)v->bytes_in * v->nruns, tc);
	sp->d = mbs((double)v->dec_bytes * v->nruns, td);
	sp->cd = mbs((double)v->bytes_in * v->nruns, tc + td);
	return true;
}

/*
 * The library rounds' codec time on the transfers' clock (/proc/stat busy
 * time x the codec's share of the samples) over their thread CPU time: 1
 * on a quiet host; under TCG on a busy one the guest loses ticks, and
 * /proc/stat counts about half of what the thread clock does. 0 if unknown.
 */
static double lib_clock(const struct variant *v)
{
	unsigned long long busy = profile_busy(&v->prof);
	double cpu = 0, t = 0;
	int i;

	for (i = 0; i < v->nruns; i++) {
		cpu += v->cpu[i];
		t += v->ctime[i] + v->dtime[i];
	}
	if (!busy || t <= 0)
		return 0;
	return cpu * (v->prof.n[SC_COMP] + v->prof.n[SC_DECOMP]) / busy / t;
}

/* lib_speed() on the transfers' clock, so that the two compare. */
static bool lib_speed_stat(const struct variant *v, struct speed *sp)
{
	double k = lib_clock(v);

	if (k <= 0 || !lib_speed(v, sp))
		return false;
	sp->c /= k;
	sp->d /= k;
	sp->cd /= k;
	return true;
}

/*
 * A transfer: the codec's time is its share of the busy samples times the
 * rounds' CPU time. @dec_bytes: page bytes decompressed per round.
 */
static bool sampled_speed(const struct variant *v, __u64 dec_bytes, struct speed *sp)
{
	unsigned long long busy = profile_busy(&v->prof);
	double cpu = 0, tc, td;
	int i;

	for (i = 0; i < v->nruns; i++)
		cpu += v->cpu[i];
	sp->nc = v->prof.n[SC_COMP];
	sp->nd = v->prof.n[SC_DECOMP];
	if (!busy || !sp->nc || !sp->nd)
		return false;
	tc = cpu * sp->nc / busy;
	td = cpu * sp->nd / busy;
	sp->c = mbs((double)v->bytes_in * v->nruns, tc);
	sp->d = mbs((double)dec_bytes * v->nruns, td);
	sp->cd = mbs((double)v->bytes_in * v->nruns, tc + td);
	return true;
}

static void print_speed_row(const char *who, const struct speed *sp,
			    const struct speed *base, bool sampled)
{
	printf("%-5s %-12s %9.1f %9.1f %9.1f", "", who, sp->c, sp->d, sp->cd);
	if (base)
		printf("   %5.1f%% %5.1f%% %5.1f%%", 100 * sp->c / base->c,
		       100 * sp->d / base->d, 100 * sp->cd / base->cd);
	if (sampled)
		printf("  (%llu+%llu samples)", sp->nc, sp->nd);
	printf("\n");
}

static void print_codec_speed(void)
{
	const struct variant *lib, *ctx, *m, *u;
	struct speed ls, cs, ms, us;
	unsigned int codec;
	int j;

	printf("\n4. the codec's own speed on the mixed memory: module and userspace sender\n");
	printf("   against the library on the same pages (MB/s of page bytes per CPU second)\n");
	if (smp_err) {
		printf("  n/a: no CPU samples (%s)\n", strerror(-smp_err));
		return;
	}
	printf("   transfers: time = the codec's share of the busy samples x the rounds' CPU\n");
	printf("%-5s %-12s %9s %9s %9s   %s\n", "codec", "who", "compress", "decomp", "c+d",
	       "% of the library's: compress, decomp, c+d");
	for (codec = VMMIG_COMP_LZ4; codec < NCODECS; codec++) {
		lib = find(K_LIB, codec, MIXED);
		ctx = find(K_LIB_CTX, codec, MIXED);
		m = find(K_MODULE, codec, MIXED);
		u = find(K_USER, codec, MIXED);
		printf("%s\n", codec_names[codec]);
		if (!lib || !lib_speed_stat(lib, &ls)) {
			printf("%-5s n/a (the library variant failed)\n", "");
			continue;
		}
		print_speed_row("library", &ls, NULL, false);
		if (ctx && lib_speed_stat(ctx, &cs))
			print_speed_row("library-ctx", &cs, &ls, false);
		/* the module decodes the pages that went compressed */
		if (m && sampled_speed(m, m->comp_pages * PG, &ms))
			print_speed_row("module", &ms, &ls, true);
		else
			printf("%-5s %-12s n/a\n", "", "module");
		/* the stream decodes every page it carries */
		if (u && sampled_speed(u, u->bytes_in, &us))
			print_speed_row("userspace", &us, &ls, true);
		else
			printf("%-5s %-12s n/a\n", "", "userspace");
		if (ctx && m && lib_speed_stat(ctx, &cs) &&
		    sampled_speed(m, m->comp_pages * PG, &ms))
			printf("%-5s module / library-ctx: %.1f%% %.1f%% %.1f%%\n", "",
			       100 * ms.c / cs.c, 100 * ms.d / cs.d, 100 * ms.cd / cs.cd);
	}
	printf("library: lib-lz4 / lib-zstd of section 1; library-ctx: lib-lz4-ctx; their\n");
	printf("  thread CPU time put on the transfers' clock by the factor below\n");
	printf("decomp: module and library over the pages that went compressed, userspace\n");
	printf("  over every data page (its stream carries the random pages too)\n");
	printf("goal: the module's lz4 at >= 85%% of the library's speed\n");

	/* The same share x CPU estimate, where the true time is known. */
	printf("clock factor (sampler check), library rounds: codec share x CPU / thread CPU time:\n ");
	for (j = 0; j < nv; j++) {
		lib = &vs[j];
		if (lib->kind != K_LIB && lib->kind != K_LIB_CTX)
			continue;
		if (!lib->ok || lib_clock(lib) <= 0)
			printf(" %s n/a", lib->name);
		else
			printf(" %s %.3f", lib->name, lib_clock(lib));
	}
	printf("\n");
}

/*
 * What the codec costs the module (or the userspace sender): CPU of the
 * codec's round minus CPU of the no-codec round on the same memory, round by
 * round, over the bytes given to the codec.
 */
static void print_cost(enum kind kind, unsigned int codec)
{
	const struct variant *vc = find(kind, codec, MIXED);
	const struct variant *vn = find(kind, VMMIG_COMP_NONE, MIXED);
	const struct variant *lib = find(K_LIB, codec, MIXED);
	const char *who = kind == K_MODULE ? "module" : "userspace";
	double delta[MAX_RUNS], speed;
	struct speed ls;
	struct spread d;
	int i;

	if (!vc || !vn || !lib || !lib_speed(lib, &ls)) {
		printf("  %-9s %-4s  n/a (a variant failed)\n", who, codec_names[codec]);
		return;
	}
	for (i = 0; i < runs; i++)
		delta[i] = vc->cpu[i] - vn->cpu[i];
	d = spread(delta, runs);
	printf("  %-9s %-4s  %+.3f CPU s (rounds %+.3f..%+.3f) for %.1f MiB", who,
	       codec_names[codec], d.med, d.lo, d.hi, vc->bytes_in / (double)MIB);
	if (d.med <= 0) {
		printf(": no cost to measure,\n");
		printf("  %-15s the codec's rounds took less CPU than the plain ones\n", "");
		return;
	}
	speed = mbs(vc->bytes_in, d.med);
	printf(": %.1f MB/s per core\n", speed);
	printf("  %-15s = %.1f%% of the library's compress+decompress speed, %.1f%% of\n",
	       "", 100 * speed / ls.cd, 100 * speed / ls.c);
	printf("  %-15s   its compress-only speed\n", "");
}

/* What trying a codec on memory that does not compress costs the module. */
static void print_incompressible(void)
{
	const struct variant *n = find(K_MODULE, VMMIG_COMP_NONE, RANDOM), *c;
	double x[MAX_RUNS];
	unsigned int codec;
	int i;

	printf("\n   incompressible memory (random region): CPU(codec) - CPU(none), same round\n");
	for (codec = VMMIG_COMP_LZ4; codec < NCODECS; codec++) {
		c = find(K_MODULE, codec, RANDOM);
		if (!n || !c) {
			printf("  module    %-4s  n/a (a variant failed)\n", codec_names[codec]);
			continue;
		}
		for (i = 0; i < runs; i++)
			x[i] = (c->cpu[i] - n->cpu[i]) / areas[RANDOM].npages * 1e6;
		printf("  module    %-4s  %+.2f us a page (none: %.2f us), %llu of %zu sent raw\n",
		       codec_names[codec], median(x, runs),
		       median(n->cpu, runs) / areas[RANDOM].npages * 1e6,
		       (unsigned long long)c->raw_pages, areas[RANDOM].npages);
	}
}

static void print_costs(void)
{
	unsigned int codec;

	printf("\n5. compression cost on the mixed memory: CPU(codec) - CPU(none), same round\n");
	printf("   Both sides run on the one CPU, so the difference holds: compressing on the\n");
	printf("   source, decompressing on the destination, the frame copies (module: the\n");
	printf("   payload into the receive buffer, incompressible pages into the frame),\n");
	printf("   minus the network work the smaller payload saves. It is compared with the\n");
	printf("   library's compress + decompress time for the same pages (section 1).\n");
	printf("   Speed = bytes given to the codec / that CPU time (median difference).\n");
	for (codec = VMMIG_COMP_LZ4; codec < NCODECS; codec++)
		print_cost(K_MODULE, codec);
	for (codec = VMMIG_COMP_LZ4; codec < NCODECS; codec++)
		print_cost(K_USER, codec);
	print_incompressible();
}

static void print_zero_vs(const char *what, const struct variant *z,
			  const struct variant *r)
{
	double x[MAX_RUNS];
	struct spread s;
	int i;

	if (!z || !r) {
		printf("  %s: n/a (a variant failed)\n", what);
		return;
	}
	for (i = 0; i < runs; i++)
		x[i] = z->cpu[i] > 0 ? (r->cpu[i] / areas[RANDOM].npages) /
				       (z->cpu[i] / areas[ZERO].npages) : 0;
	s = spread(x, runs);
	printf("  %s: zero page %.2f us, random page %.2f us\n", what,
	       median(z->cpu, runs) / areas[ZERO].npages * 1e6,
	       median(r->cpu, runs) / areas[RANDOM].npages * 1e6);
	printf("    a zero page costs %.1fx less (rounds %.1f..%.1f); goal >= 10x\n",
	       s.med, s.lo, s.hi);
	printf("    (a round of the zero region: %.3f CPU s; /proc/stat counts in %ld ms ticks)\n",
	       median(z->cpu, runs), 1000 / sysconf(_SC_CLK_TCK));
}

static void print_zero(void)
{
	const struct variant *r = find(K_MODULE, VMMIG_COMP_NONE, RANDOM);

	printf("\n6. zero pages vs raw pages: module, no codec, CPU per page (both sides)\n");
	print_zero_vs("destination FRESH, a fresh guest's (mod-none-f)",
		      find_dst(K_MODULE, VMMIG_COMP_NONE, ZERO, DST_FRESH), r);
	print_zero_vs("destination page zero already, not FRESH (mod-none-z)",
		      find_dst(K_MODULE, VMMIG_COMP_NONE, ZERO, DST_ZERO), r);
	print_zero_vs("destination page not zero (it must be cleared)",
		      find(K_MODULE, VMMIG_COMP_NONE, ZERO), r);
}

static void print_vs_user(void)
{
	const struct variant *m, *u;
	double x[MAX_RUNS];
	unsigned int codec;
	struct spread s;
	int i;

	printf("\n7. module / userspace multifd-style sender, mixed memory, 1 channel\n");
	printf("   (MB/s > 1: module faster; CPU s/GiB < 1: module cheaper)\n");
	for (codec = 0; codec < NCODECS; codec++) {
		m = find(K_MODULE, codec, MIXED);
		u = find(K_USER, codec, MIXED);
		if (!m || !u) {
			printf("  %-4s  n/a (a variant failed)\n", codec_names[codec]);
			continue;
		}
		for (i = 0; i < runs; i++)
			x[i] = u->wall[i] / m->wall[i];
		s = spread(x, runs);
		printf("  %-4s  MB/s x%5.2f (rounds %.2f..%.2f)  CPU s/GiB x%5.2f",
		       codec_names[codec], s.med, s.lo, s.hi,
		       median(m->cpu, runs) / median(u->cpu, runs));
		if (codec != VMMIG_COMP_NONE)
			printf("  out/in %.1f%% vs %.1f%%", 100.0 * m->bytes_out / m->bytes_in,
			       100.0 * u->bytes_out / u->bytes_in);
		printf("\n");
	}
}

static void print_help(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-m MiB] [-z MiB] [-Z MiB] [-r runs] [-w warmup] [-v]\n"
		"  -m  mixed memory, 1/4 zero, 1/2 text, 1/4 random (default 64)\n"
		"  -z  size of the all-random region (default 32)\n"
		"  -Z  size of the all-zero region (default 128: a round of it must be\n"
		"      many of /proc/stat's 10 ms ticks)\n"
		"  -r  timed rounds per variant, the median is reported (default 4, max %d)\n"
		"  -w  untimed warm-up rounds (default 1)\n"
		"  -v  also list the kernel functions each transfer spent its CPU in\n",
		prog, MAX_RUNS);
	exit(2);
}

static struct variant *add_variant(enum kind kind, unsigned int codec, int area)
{
	static const char *const prefix[] = { "lib", "lib", "mod", "us" };
	struct variant *v = &vs[nv++];

	v->kind = kind;
	v->codec = codec;
	v->area = area;
	v->ok = true;
	snprintf(v->name, sizeof(v->name), "%s-%s", prefix[kind], codec_names[codec]);
	return v;
}

int main(int argc, char **argv)
{
	static struct msess ms[NMSESS];
	static struct uchan uc[NCODECS];
	size_t mib = 64, zmib = 32, zeromib = 128, len, off, i;
	const char *what;
	struct utsname uts;
	struct variant *v;
	int opt, round, idx, rc, j;
	unsigned int codec;
	bool failed = false;
	unsigned char *src, *dst;

	while ((opt = getopt(argc, argv, "m:z:Z:r:w:vh")) != -1) {
		switch (opt) {
		case 'm':
			mib = strtoul(optarg, NULL, 0);
			break;
		case 'z':
			zmib = strtoul(optarg, NULL, 0);
			break;
		case 'Z':
			zeromib = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'v':
			verbose = true;
			break;
		default:
			print_help(argv[0]);
		}
	}
	if (!mib || !zmib || !zeromib || mib > 4096 || zmib > 4096 || zeromib > 4096 || runs < 1 || runs > MAX_RUNS ||
	    warmup < 0)
		print_help(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (geteuid()) {
		fprintf(stderr, "needs root (network namespaces, /dev/vmmig)\n");
		return 1;
	}
	/* A session per codec at once on each host: above the default limit, 2. */
	if (bench_hosts_setup(8)) {
		fprintf(stderr, "network namespace setup failed\n");
		return 1;
	}

	areas[MIXED].npages = mib * MIB / PG;
	areas[ZERO].npages = zeromib * MIB / PG;
	areas[RANDOM].npages = zmib * MIB / PG;
	len = (mib + zeromib + zmib) * MIB;

	/*
	 * The destination processes are forked while the source memory does
	 * not exist yet: a fork after the source pages are pinned would copy
	 * them all (pinned anonymous pages are not shared copy-on-write), and
	 * the test kernel has no madvise(MADV_DONTFORK). The destination is
	 * MAP_SHARED, so the checks here see what they placed.
	 */
	dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (off = 0, j = 0; j < NAREAS; off += areas[j].npages * PG, j++)
		areas[j].dst = dst + off;
	memset(dst, 0xee, len);

	ms[MS_FRESH] = (struct msess){ .codec = VMMIG_COMP_NONE, .fresh = true, .fd = -1,
				       .port = PORT_MODULE + MS_FRESH };
	for (codec = 0; codec < NCODECS; codec++) {
		ms[codec] = (struct msess){ .codec = codec, .fd = -1,
					    .port = PORT_MODULE + codec };
		uc[codec] = (struct uchan){ .codec = codec, .fd = -1,
					    .port = PORT_USER + codec };
	}
	add_variant(K_LIB, VMMIG_COMP_LZ4, MIXED);
	snprintf(add_variant(K_LIB_CTX, VMMIG_COMP_LZ4, MIXED)->name, sizeof(vs[0].name),
		 "lib-lz4-ctx");
	add_variant(K_LIB, VMMIG_COMP_ZSTD, MIXED);
	for (codec = 0; codec < NCODECS; codec++)
		add_variant(K_MODULE, codec, MIXED)->ms = &ms[codec];
	add_variant(K_MODULE, VMMIG_COMP_NONE, ZERO)->ms = &ms[VMMIG_COMP_NONE];
	v = add_variant(K_MODULE, VMMIG_COMP_NONE, ZERO);
	v->ms = &ms[VMMIG_COMP_NONE];
	v->dst = DST_ZERO;
	strcat(v->name, "-z");
	v = add_variant(K_MODULE, VMMIG_COMP_NONE, ZERO);
	v->ms = &ms[MS_FRESH];
	v->dst = DST_FRESH;
	strcat(v->name, "-f");
	for (codec = 0; codec < NCODECS; codec++)
		add_variant(K_MODULE, codec, RANDOM)->ms = &ms[codec];
	for (codec = 0; codec < NCODECS; codec++)
		add_variant(K_USER, codec, MIXED)->uc = &uc[codec];

	for (codec = 0; codec < NMSESS; codec++) {
		ms[codec].pid = fork();
		if (!ms[codec].pid)
			module_dest(&ms[codec]);
		if (ms[codec].pid < 0) {
			fprintf(stderr, "fork: %s\n", strerror(errno));
			return 1;
		}
	}
	for (codec = 0; codec < NCODECS; codec++) {
		uc[codec].pid = fork();
		if (!uc[codec].pid)
			user_dest(&uc[codec]);
		if (uc[codec].pid < 0) {
			fprintf(stderr, "fork: %s\n", strerror(errno));
			return 1;
		}
	}

	smp_err = sampler_open(&smp);

	src = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	nz_page = calloc(areas[MIXED].npages, sizeof(*nz_page));
	lib_len = calloc(areas[MIXED].npages, sizeof(*lib_len));
	lib_slot = LZ4_compressBound(PG) > (int)ZSTD_compressBound(PG) ?
		   LZ4_compressBound(PG) : ZSTD_compressBound(PG);
	lib_out = malloc(areas[MIXED].npages * lib_slot);
	lib_dec = malloc(areas[MIXED].npages * PG);
	if (src == MAP_FAILED || !nz_page || !lib_len || !lib_out || !lib_dec) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (off = 0, j = 0; j < NAREAS; off += areas[j].npages * PG, j++)
		areas[j].src = src + off;
	fill_areas();
	memset(lib_out, 0, areas[MIXED].npages * lib_slot);
	memset(lib_dec, 0xee, areas[MIXED].npages * PG);

	uname(&uts);
	printf("compress_bench: mixed %zu MiB = %zu pages (%zu zero, %zu text, %zu random,\n",
	       mib, areas[MIXED].npages, areas[MIXED].zero_pages,
	       areas[MIXED].npages / 2, n_nz - areas[MIXED].npages / 2);
	printf("  interleaved), zero %zu MiB, random %zu MiB\n", zeromib, zmib);
	printf("%d timed rounds (+%d warm-up) per variant, medians\n", runs, warmup);
	printf("lz4 acceleration %d, zstd level %d (the module's defaults)\n",
	       LZ4_ACCEL, ZSTD_LEVEL);
	printf("kernel %s, %ld CPUs online, liblz4 %s, libzstd %s, veth between netns %s and %s\n",
	       uts.release, sysconf(_SC_NPROCESSORS_ONLN), LZ4_versionString(),
	       ZSTD_versionString(), VT_NS_A, VT_NS_B);

	for (codec = 0; codec < NMSESS; codec++) {
		rc = module_setup(&ms[codec], &what);
		for (j = 0; rc && j < nv; j++)
			if (vs[j].ms == &ms[codec])
				fail(&vs[j], what, -rc);
	}
	for (codec = 0; codec < NCODECS; codec++) {
		rc = user_setup(&uc[codec], &what);
		for (j = 0; rc && j < nv; j++)
			if (vs[j].uc == &uc[codec])
				fail(&vs[j], what, -rc);
	}
	for (j = 0; j < nv; j++)
		if (!vs[j].ok)
			fprintf(stderr, "[bench] %s setup FAILED: %s\n", vs[j].name, vs[j].err);
	if (smp_err)
		fprintf(stderr, "[bench] no CPU samples: %s\n", strerror(-smp_err));
	else
		sampler_enable(&smp, true);
	for (j = 0; verbose && !smp_err && j < nv; j++) {
		vs[j].prof.hits = calloc(smp.nksyms, sizeof(*vs[j].prof.hits));
		if (!vs[j].prof.hits) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
	}

	for (round = 0; round < warmup + runs; round++) {
		fprintf(stderr, "[bench] round %d/%d%s\n", round + 1, warmup + runs,
			round < warmup ? " (warm-up)" : "");
		for (j = 0; j < nv; j++) {
			idx = round % 2 ? nv - 1 - j : j;
			variant_round(&vs[idx], round >= warmup);
		}
	}

	for (codec = 0; codec < NMSESS; codec++) {
		bool ok_m = true;

		for (j = 0; j < nv; j++)
			if (vs[j].ms == &ms[codec])
				ok_m &= vs[j].ok;
		rc = module_teardown(&ms[codec], ok_m);
		for (j = 0; rc && j < nv; j++)
			if (vs[j].ms == &ms[codec])
				fail(&vs[j], rc == -ECHILD ? "destination exited" : "FINISH",
				     rc == -ECHILD ? EIO : -rc);
	}
	for (codec = 0; codec < NCODECS; codec++) {
		bool ok_u = true;

		for (j = 0; j < nv; j++)
			if (vs[j].uc == &uc[codec])
				ok_u &= vs[j].ok;
		rc = user_teardown(&uc[codec], ok_u);
		for (j = 0; rc && j < nv; j++)
			if (vs[j].uc == &uc[codec])
				fail(&vs[j], "receiver exited", EIO);
	}

	print_library();
	print_transfers();
	print_profile();
	print_codec_speed();
	print_costs();
	print_zero();
	print_vs_user();

	if (!smp_err)
		sampler_close(&smp);

	vt_netns_teardown();
	for (i = 0; i < (size_t)nv; i++)
		failed |= !vs[i].ok;
	return failed;
}
