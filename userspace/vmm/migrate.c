// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration of a vmmig-vm VM over /dev/vmmig.
 *
 * Source (migrate_move): round 0 sends all of RAM (and the disk image,
 * with --include-storage) while the guest runs; each further round takes
 * KVM's dirty log (plus the pages the VMM wrote itself) and the disk's
 * dirty blocks and sends just those, until the pages left would go within
 * the downtime target. Then the vCPUs stop, the last dirty pages, the
 * vCPU and device state go, and the destination resumes the guest. The
 * source VM is destroyed only once the destination said it runs; any
 * failure before leaves it running here.
 *
 * Destination (migrate_receive): learns the VM's shape from the control
 * connection, registers the same regions, places what comes, restores
 * the state, and runs the guest when the source says GO.
 */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "migrate.h"
#include "vmmig_lib.h"

/* Pages per SEND_DIRTY call: progress and pacing happen between calls. */
#define MIG_CHUNK_PAGES		2048
#define MIG_PACED_CHUNK_PAGES	256
#define MIG_PROGRESS_NS		250000000ULL
#define MIG_CONNECT_RETRY_MS	5000
#define MIG_RESTORE_TIMEOUT_MS	60000
#define MIG_RUNNING_TIMEOUT_MS	10000
#define MIG_GAP_TIMEOUT_MS	3000
/* A dirty round with fewer pages times mostly its SYNC: not a page's cost. */
#define MIG_MEASURE_PAGES	16
#define MIG_SMALL_FINAL_PAGES	64
/*
 * Clean pages sent to join two runs of dirty ones: at most a word's worth;
 * a few before a dirty round has measured what a run costs.
 */
#define MIG_FILL_GAP_MAX	(BITS_PER_LONG - 2)
#define MIG_FILL_GAP_FIRST	8
#define MIG_THROTTLE_FIRST	20
#define MIG_THROTTLE_STEP	10
#define MIG_THROTTLE_MAX	99

#define DEV_STATE_MAGIC		0x53564544	/* "DEVS" */

/* The devices' state, and when the source stopped. */
struct dev_state {
	u32 magic;
	u32 ncpus;
	u64 paused_wall_ns;
	u64 disk_blocks;
	struct serial_state serial;
};

static int set_err(char *err, size_t size, int ret, const char *fmt, ...)
	__printf(4, 5);

static int set_err(char *err, size_t size, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return ret;
}

void move_opts_init(struct move_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->compression = VMMIG_COMP_NONE;
	o->channels = VMMIG_DEFAULT_CHANNELS;
	o->downtime_ms = MIG_DEFAULT_DOWNTIME_MS;
	o->max_rounds = MIG_DEFAULT_MAX_ROUNDS;
	o->throttle = true;
}

int move_opts_format(const struct move_opts *o, char *buf, size_t size)
{
	int n = snprintf(buf, size, "to=%s storage=%d storage-path=%s compression=%u level=%d ",
			 o->to, o->include_storage, o->storage_path[0] ? o->storage_path : "-",
			 o->compression, o->level);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	buf += n;
	size -= n;
	n = snprintf(buf, size,
		     "channels=%u downtime=%u max-rounds=%u throttle=%d force=%d max-bandwidth=%u verify=%d",
		     o->channels, o->downtime_ms, o->max_rounds, o->throttle, o->force,
		     o->max_bandwidth, o->verify);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int move_opts_parse(struct move_opts *o, char *line, char *err, size_t errsize)
{
	char *save = NULL, *tok;

	move_opts_init(o);
	for (tok = strtok_r(line, "\n ", &save); tok; tok = strtok_r(NULL, "\n ", &save)) {
		char *v = strchr(tok, '=');
		unsigned long n;

		if (!v)
			return set_err(err, errsize, -EINVAL, "bad move option '%s'", tok);
		*v++ = 0;
		n = strtoul(v, NULL, 10);
		if (!strcmp(tok, "to"))
			snprintf(o->to, sizeof(o->to), "%s", v);
		else if (!strcmp(tok, "storage"))
			o->include_storage = n;
		else if (!strcmp(tok, "storage-path"))
			snprintf(o->storage_path, sizeof(o->storage_path), "%s",
				 strcmp(v, "-") ? v : "");
		else if (!strcmp(tok, "compression"))
			o->compression = n;
		else if (!strcmp(tok, "level"))
			o->level = n;
		else if (!strcmp(tok, "channels"))
			o->channels = n;
		else if (!strcmp(tok, "downtime"))
			o->downtime_ms = n;
		else if (!strcmp(tok, "max-rounds"))
			o->max_rounds = n;
		else if (!strcmp(tok, "throttle"))
			o->throttle = n;
		else if (!strcmp(tok, "force"))
			o->force = n;
		else if (!strcmp(tok, "max-bandwidth"))
			o->max_bandwidth = n;
		else if (!strcmp(tok, "verify"))
			o->verify = n;
		else
			return set_err(err, errsize, -EINVAL, "unknown move option '%s'", tok);
	}
	return move_opts_check(o, err, errsize);
}

int move_opts_check(const struct move_opts *o, char *err, size_t errsize)
{
	struct vml_addr a;

	if (!o->to[0] || vml_parse_addr(o->to, VMM_CONTROL_PORT, &a))
		return set_err(err, errsize, -EINVAL,
			       "destination '%s': want ADDR or ADDR:PORT ([ADDR]:PORT for IPv6)",
			       o->to);
	if (o->include_storage && !o->storage_path[0])
		return set_err(err, errsize, -EINVAL,
			       "--include-storage needs --destination-storage-path DIR");
	if (!o->include_storage && o->storage_path[0])
		return set_err(err, errsize, -EINVAL,
			       "--destination-storage-path is for --include-storage");
	if (o->storage_path[0] && o->storage_path[0] != '/')
		return set_err(err, errsize, -EINVAL,
			       "--destination-storage-path must be absolute");
	if (o->compression != VMMIG_COMP_NONE && o->compression != VMMIG_COMP_LZ4 &&
	    o->compression != VMMIG_COMP_ZSTD)
		return set_err(err, errsize, -EINVAL,
			       "performance option: tcp or compression (lz4 or zstd)");
	/* The ranges of uapi/linux/vmmig.h, so that a bad one fails before the move. */
	if (o->level && (o->compression == VMMIG_COMP_NONE ||
			 (o->compression == VMMIG_COMP_ZSTD && o->level > 22) ||
			 o->level < 0 || o->level > 65537))
		return set_err(err, errsize, -EINVAL,
			       "compression level: lz4 1 to 65537, zstd 1 to 22, with compression only");
	if (!o->channels || o->channels > VMMIG_MAX_CHANNELS)
		return set_err(err, errsize, -EINVAL, "channels: 1 to %u", VMMIG_MAX_CHANNELS);
	if (!o->downtime_ms || o->downtime_ms > 600000)
		return set_err(err, errsize, -EINVAL, "downtime: 1 to 600000 ms");
	if (!o->max_rounds || o->max_rounds > 1000)
		return set_err(err, errsize, -EINVAL, "max-rounds: 1 to 1000");
	return 0;
}

/* ---- source ---- */

struct mover {
	struct vm *vm;
	const struct move_opts *o;
	const struct mig_sink *sink;
	struct vml_session s;
	struct vml_addr to;
	int ctl;
	bool copy_disk;
	bool held;
	bool go_sent;
	unsigned long *ram_map;		/* pages still to send */
	unsigned long *disk_map;
	unsigned long *scratch;
	size_t ram_longs, disk_longs;
	/* --dirty-ring: entries taken from KVM's rings, still to send */
	struct kvm_dirty_gfn *ring;
	size_t nring, ring_cap;

	unsigned int round;
	unsigned int throttle;
	unsigned int throttle_max;
	u64 remaining;		/* pages left to send, as far as we know */
	u64 sent;			/* pages sent, every round */
	u64 round_pages, round_nonzero;
	u64 round_dirty;		/* pages of the dirty log this round sent */
	u64 round_runs;			/* ... in this many runs (frames) */
	u64 ns_per_page;		/* what sending took per dirty page */
	bool measured_dirty;		/* ... in a round of dirty pages */
	u64 page_ns, run_ns;		/* a page's cost, a run's on top */
	unsigned int fill_gap;		/* clean pages sent to join two runs */
	u64 final_pages;
	u64 start_ns, last_progress_ns;
	u64 pace_start_ns, pace_start_bytes;
	u64 rate_ns, rate_bytes;	/* for the MB/s shown */
	u64 rate_bps;
	u64 paused_wall_ns, paused_ns, finished_ns, restored_ns, go_ns, running_ns;
	u64 collect_ns, send_ns, sync_ns;	/* the phases of the round just done */
	u64 sync_min_ns;		/* the quickest SYNC: its round trip */
	char *err;
	size_t errsize;
};

static void mv_line(struct mover *m, const char *fmt, ...) __printf(2, 3);

static void mv_line(struct mover *m, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (m->sink && m->sink->line)
		m->sink->line(m->sink->ctx, buf);
}

static void mv_progress(struct mover *m, const char *phase, bool force)
{
	u64 now = now_ns(), pct, eta_ms;
	struct vmmig_stats st;

	if (!force && now - m->last_progress_ns < MIG_PROGRESS_NS)
		return;
	if (!vml_stats(&m->s, &st) && now > m->rate_ns) {
		/* The rate over the last half second or so, not since the start. */
		if (now - m->rate_ns >= MIG_PROGRESS_NS || !m->rate_bps) {
			m->rate_bps = (st.bytes_wire - m->rate_bytes) * 1000000000ULL /
				      (now - m->rate_ns);
			m->rate_ns = now;
			m->rate_bytes = st.bytes_wire;
		}
	}
	m->last_progress_ns = now;
	pct = m->sent + m->remaining ? m->sent * 100 / (m->sent + m->remaining) : 100;
	eta_ms = m->remaining * m->ns_per_page / 1000000;
	mv_line(m,
		"progress phase=%s round=%u percent=%llu remaining=%llu rate=%llu eta_ms=%llu throttle=%u",
		phase, m->round, pct, m->remaining, m->rate_bps, eta_ms, m->throttle);
}

/* Stay under --max-bandwidth: sleep until the bytes sent fit the budget. */
static void mv_pace(struct mover *m)
{
	u64 bps = (u64)m->o->max_bandwidth * 1000000, want_ns, el;
	struct vmmig_stats st;

	if (!bps || vml_stats(&m->s, &st))
		return;
	want_ns = (st.bytes_wire - m->pace_start_bytes) * 1000000000ULL / bps;
	el = now_ns() - m->pace_start_ns;
	if (want_ns > el)
		usleep((want_ns - el) / 1000);
}

static int mv_fail(struct mover *m, int ret, const char *fmt, ...)
	__printf(3, 4);

static int mv_fail(struct mover *m, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->err, m->errsize, fmt, ap);
	va_end(ap);
	return ret < 0 ? ret : -EIO;
}

/* Between two sends: has the guest or the requester given up? */
static int mv_check(struct mover *m)
{
	if (vm_stopped(m->vm))
		return mv_fail(m, -ESHUTDOWN, "the guest stopped during the move: %s",
			       m->vm->exit_reason);
	if (!m->held && m->sink && m->sink->cancelled && m->sink->cancelled(m->sink->ctx))
		return mv_fail(m, -ECANCELED, "cancelled: the move command went away");
	if (m->ctl >= 0 && ctl_readable(m->ctl)) {
		struct vmmig_stats st;
		struct ctl_error e;
		u32 type;
		int ret;

		/* An administrator's abort: the destination only passes it on. */
		if (!vml_stats(&m->s, &st) && st.state == VMMIG_STATE_ABORTED &&
		    st.error == ECANCELED)
			return mv_fail(m, -ECANCELED, "%s", vml_strerror(ECANCELED));
		ret = ctl_recv(m->ctl, 1000, &type, &e, sizeof(e), NULL);
		if (ret)
			return mv_fail(m, ret, "the destination's VMM went away (control: %s)",
				       strerror(-ret));
		return mv_fail(m, -ECONNABORTED, "the destination gave up: %s",
			       type == CTL_ERROR ? e.msg : "unexpected message");
	}
	return 0;
}

/*
 * Send region @id's pages set in @map (NULL: all of them), chunk by chunk.
 * A call costs a round trip through the channels' tx work whatever it
 * holds, so a sparse map goes in as few calls as hold a chunk's worth of
 * pages each.
 */
static int mv_send(struct mover *m, u32 id, u64 npages, const unsigned long *map,
		   const char *phase)
{
	u64 chunk = m->o->max_bandwidth ? MIG_PACED_CHUNK_PAGES : MIG_CHUNK_PAGES;
	u64 first, end, pages, zero;
	int ret;

	for (first = 0; first < npages; first = end) {
		const unsigned long *sub = map ? map + first / BITS_PER_LONG : NULL;
		u64 bits = 0;

		end = first;
		do {
			u64 n = npages - end < chunk ? npages - end : chunk;
			u64 b = map ? bitmap_weight(map + end / BITS_PER_LONG, bitmap_longs(n)) : n;

			if (bits && bits + b > chunk)
				break;
			bits += b;
			end += n;
		} while (map && end < npages);
		if (!bits)
			continue;
		ret = vml_send_dirty(&m->s, id, first, end - first, sub, &pages, &zero);
		if (ret)
			return mv_fail(m, ret, "%s", m->s.err);
		m->sent += pages;
		m->round_pages += pages;
		m->round_nonzero += pages - zero;
		m->remaining -= bits < m->remaining ? bits : m->remaining;
		mv_pace(m);
		mv_progress(m, phase, false);
		ret = mv_check(m);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Clean pages are sent to join runs only where a run costs more than its
 * pages: the measure decides. Before it, a few on an unpaced link; none on
 * one paced by --max-bandwidth, where every page costs its share of the
 * rate.
 */
static unsigned int mv_fill_gap_first(const struct mover *m)
{
	return m->o->max_bandwidth ? 0 : MIG_FILL_GAP_FIRST;
}

/*
 * Learn what a page costs on this link from the round just done. In a
 * round of dirty pages that is what sending them took, plus what the SYNC
 * after it waited beyond the quickest SYNC seen (the link draining what
 * the socket buffers took in): not the dirty log nor the SYNC's own round
 * trip, which every round and the final copy pay once whatever the number
 * of pages. Counting those per page made a round of a few dozen pages look
 * ten times dearer per page than it was, so that the move went round after
 * round, throttling the guest, where the pages left would have gone in
 * time.
 */
static void mv_measure(struct mover *m, u64 t0)
{
	u64 dt = now_ns() - t0, cost, per_page, run_ns, gap;

	if (!m->round || m->sync_ns < m->sync_min_ns)
		m->sync_min_ns = m->sync_ns;
	cost = m->send_ns + m->sync_ns - m->sync_min_ns;
	if (m->round && m->round_nonzero >= MIG_MEASURE_PAGES && m->round_runs) {
		/* A page costs at most what this round took per page sent. */
		per_page = cost / m->round_pages ?: 1;
		if (!m->page_ns || per_page < m->page_ns)
			m->page_ns = per_page;
		/* Noisy where the CPUs are shared: forget a dear run slowly. */
		run_ns = cost > m->round_pages * m->page_ns ?
			 (cost - m->round_pages * m->page_ns) / m->round_runs : 0;
		m->run_ns = run_ns > m->run_ns / 2 ? run_ns : m->run_ns / 2;
		gap = m->run_ns / m->page_ns;
		m->fill_gap = gap > MIG_FILL_GAP_MAX ? MIG_FILL_GAP_MAX : gap;
		m->measured_dirty = true;
	} else if (!m->round && m->round_nonzero >= 64) {
		m->ns_per_page = dt / m->round_nonzero;
		m->page_ns = m->send_ns / m->round_nonzero ?: 1;
	} else if (!m->ns_per_page) {
		m->ns_per_page = dt / (m->round_pages ? m->round_pages : 1);
	}
	m->round_pages = 0;
	m->round_nonzero = 0;
	m->round_dirty = 0;
	m->round_runs = 0;
}

/*
 * --dirty-ring: what KVM's rings hold now (and what the vCPUs harvested
 * when theirs filled up), appended to @m->ring as KVM wrote it: the module
 * takes the entries as they are, repeats and all.
 */
static int mv_collect_ring(struct mover *m)
{
	struct vm *vm = m->vm;
	size_t need;
	int ret;

	pthread_mutex_lock(&vm->ring_lock);
	ret = kvm_ring_harvest(vm);
	need = m->nring + vm->nharvest;
	if (!ret && need > m->ring_cap) {
		struct kvm_dirty_gfn *p = realloc(m->ring, need * sizeof(*p));

		if (p) {
			m->ring = p;
			m->ring_cap = need;
		} else {
			ret = -ENOMEM;
		}
	}
	if (!ret) {
		memcpy(m->ring + m->nring, vm->harvest, vm->nharvest * sizeof(*vm->harvest));
		m->nring = need;
		vm->nharvest = 0;
	}
	pthread_mutex_unlock(&vm->ring_lock);
	if (ret)
		return mv_fail(m, ret, "harvesting KVM's dirty rings: %s", strerror(-ret));
	return 0;
}

/* This round's dirty set, added to what @ram_map/@disk_map/@ring still hold. */
static int mv_collect(struct mover *m)
{
	struct vm *vm = m->vm;
	int ret;

	u64 t0 = now_ns();

	if (vm->ring_entries) {
		ret = mv_collect_ring(m);
		if (ret)
			return ret;
	} else {
		memset(m->scratch, 0, m->ram_longs * sizeof(long));
		ret = kvm_get_dirty_log(vm, m->scratch);
		if (ret)
			return mv_fail(m, ret, "KVM_GET_DIRTY_LOG: %s", strerror(-ret));
		bitmap_take(m->ram_map, m->scratch, m->ram_longs);
	}
	bitmap_take(m->ram_map, vm->ram_dirty, m->ram_longs);
	if (m->copy_disk)
		bitmap_take(m->disk_map, vm->disk.dirty, m->disk_longs);
	/* Ring entries may repeat a page: at most this many. */
	m->remaining = bitmap_weight(m->ram_map, m->ram_longs) + m->nring +
		       (m->copy_disk ? bitmap_weight(m->disk_map, m->disk_longs) : 0);
	m->collect_ns = now_ns() - t0;
	return 0;
}

/*
 * Dirty pages come scattered, and each run of them is a frame of its own,
 * whose cost on the way (a header, a send, a receive, a wake-up at the
 * other end) is many pages' worth where the CPUs are slow. Where two runs
 * of one 64-page word are at most @gap clean pages apart, send the clean
 * pages between them too: they are the same there already, or newer here
 * and dirty again in the next round's log, which goes on the same channel
 * after them.
 */
static void mv_fill_gaps(unsigned long *map, size_t longs, unsigned int gap)
{
	size_t i;

	for (i = 0; gap && i < longs; i++) {
		unsigned long w = map[i], out = w;
		int b, last = -1;

		for (b = 0; w && b < BITS_PER_LONG; b++) {
			if (!(w & (1UL << b)))
				continue;
			if (last >= 0 && b - last - 1 > 0 && b - last - 1 <= (int)gap)
				out |= ((1UL << b) - 1) & ~((2UL << last) - 1);
			last = b;
		}
		map[i] = out;
	}
}

/* Runs of set bits: frames, as the module cuts a map at each 64th page. */
static u64 bitmap_runs(const unsigned long *map, size_t longs)
{
	u64 n = 0;
	size_t i;

	for (i = 0; i < longs; i++)
		n += __builtin_popcountl(map[i] & ~(map[i] << 1));
	return n;
}

/*
 * What sending the dirty set would take now: its runs, with the gaps
 * filled as the next round would fill them, at a run's and a page's cost.
 * Leaves the filled map in @m->scratch.
 */
static u64 mv_predict(struct mover *m)
{
	u64 runs, pages;

	memcpy(m->scratch, m->ram_map, m->ram_longs * sizeof(long));
	mv_fill_gaps(m->scratch, m->ram_longs, m->fill_gap);
	runs = bitmap_runs(m->scratch, m->ram_longs) + m->nring;
	pages = bitmap_weight(m->scratch, m->ram_longs) + m->nring;
	if (m->copy_disk) {
		runs += bitmap_runs(m->disk_map, m->disk_longs);
		pages += bitmap_weight(m->disk_map, m->disk_longs);
	}
	return runs * m->run_ns + pages * m->page_ns;
}

/*
 * Send the pages of @m->ring's entries, in calls of a chunk's worth of
 * entries (as mv_send() does pages) for progress and pacing. Each entry
 * counts as a run: the module joins neighbours, so this is at most.
 */
static int mv_send_ring(struct mover *m, const char *phase)
{
	const struct vmmig_ring_slot slot = {
		.slot = 0, .region_id = VMM_REGION_RAM, .num_pages = m->vm->ram_pages,
	};
	u64 chunk = m->o->max_bandwidth ? MIG_PACED_CHUNK_PAGES : MIG_CHUNK_PAGES;
	u64 n, pages, zero;
	size_t i;
	int ret;

	m->round_dirty += m->nring;
	m->round_runs += m->nring;
	for (i = 0; i < m->nring; i += n) {
		n = m->nring - i < chunk ? m->nring - i : chunk;
		ret = vml_send_dirty_ring(&m->s, &slot, 1, m->ring + i, n, &pages, &zero);
		if (ret)
			return mv_fail(m, ret, "%s", m->s.err);
		m->sent += pages;
		m->round_pages += pages;
		m->round_nonzero += pages - zero;
		m->remaining -= n < m->remaining ? n : m->remaining;
		mv_pace(m);
		mv_progress(m, phase, false);
		ret = mv_check(m);
		if (ret)
			return ret;
	}
	m->nring = 0;
	return 0;
}

static int mv_send_maps(struct mover *m, const char *phase)
{
	u64 t0 = now_ns();
	int ret;

	ret = mv_send_ring(m, phase);
	if (ret)
		return ret;
	m->round_dirty += bitmap_weight(m->ram_map, m->ram_longs);
	mv_fill_gaps(m->ram_map, m->ram_longs, m->fill_gap);
	m->round_runs += bitmap_runs(m->ram_map, m->ram_longs);
	ret = mv_send(m, VMM_REGION_RAM, m->vm->ram_pages, m->ram_map, phase);
	memset(m->ram_map, 0, m->ram_longs * sizeof(long));
	if (!ret && m->copy_disk) {
		m->round_dirty += bitmap_weight(m->disk_map, m->disk_longs);
		m->round_runs += bitmap_runs(m->disk_map, m->disk_longs);
		ret = mv_send(m, VMM_REGION_DISK, m->vm->disk.blocks, m->disk_map, phase);
		memset(m->disk_map, 0, m->disk_longs * sizeof(long));
	}
	m->send_ns = now_ns() - t0;
	return ret;
}

/*
 * Throttle the vCPUs so that they dirty at most half what the link moves:
 * the guest dirtied @m->remaining pages in @dt_ns at the current throttle,
 * so unthrottled it dirties remaining / (1 - throttle) per dt. Never less
 * than one step up from now, never more than MIG_THROTTLE_MAX.
 */
static void mv_throttle(struct mover *m, u64 dt_ns)
{
	u64 dirty_pps = m->remaining * 1000000000ULL / (dt_ns ? dt_ns : 1);
	u64 link_pps = 1000000000ULL / (m->ns_per_page ? m->ns_per_page : 1);
	u64 full_pps = dirty_pps * 100 / (100 - m->throttle);
	unsigned int want = MIG_THROTTLE_MAX;

	if (full_pps && link_pps < 2 * full_pps)
		want = 100 - link_pps * 100 / (2 * full_pps);
	if (want < m->throttle + (m->throttle ? MIG_THROTTLE_STEP : MIG_THROTTLE_FIRST))
		want = m->throttle + (m->throttle ? MIG_THROTTLE_STEP : MIG_THROTTLE_FIRST);
	if (want > MIG_THROTTLE_MAX)
		want = MIG_THROTTLE_MAX;
	m->throttle = want;
	m->throttle_max = want;
	vm_set_throttle(m->vm, want);
}

/* Wait until the destination placed the round: the next one builds on it. */
static int mv_sync(struct mover *m)
{
	u64 t0 = now_ns();

	if (vml_sync(&m->s))
		return mv_fail(m, -EIO, "%s", m->s.err);
	m->sync_ns = now_ns() - t0;
	return 0;
}

static int mv_precopy(struct mover *m)
{
	u64 target_ns = (u64)m->o->downtime_ms * 1000000, prev = 0, t0, t_prev, predicted;
	u64 pages, dirty, runs;
	unsigned int gap;
	char line[256];
	struct vm *vm = m->vm;
	int ret;

	/* Whatever the VMM or KVM's rings logged before is in round 0 anyway. */
	if (vm->ring_entries) {
		pthread_mutex_lock(&vm->ring_lock);
		ret = kvm_ring_harvest(vm);
		vm->nharvest = 0;
		pthread_mutex_unlock(&vm->ring_lock);
		if (ret)
			return mv_fail(m, ret, "harvesting KVM's dirty rings: %s", strerror(-ret));
	}
	bitmap_take(m->scratch, vm->ram_dirty, m->ram_longs);
	if (m->copy_disk)
		bitmap_take(m->scratch, vm->disk.dirty, m->disk_longs);
	ret = kvm_set_dirty_logging(vm, true);
	if (ret)
		return mv_fail(m, ret, "cannot turn on KVM's dirty log: %s", strerror(-ret));

	m->round = 0;
	m->remaining = vm->ram_pages + (m->copy_disk ? vm->disk.blocks : 0);
	t0 = now_ns();
	ret = mv_send(m, VMM_REGION_RAM, vm->ram_pages, NULL, "precopy");
	if (!ret && m->copy_disk)
		ret = mv_send(m, VMM_REGION_DISK, vm->disk.blocks, NULL, "precopy");
	m->send_ns = now_ns() - t0;
	if (!ret)
		ret = mv_sync(m);
	if (ret)
		return ret;
	vmm_log("round 0: %llu pages (%llu not zero) in %llu ms (sync %llu ms)", m->round_pages,
		m->round_nonzero, (now_ns() - t0) / 1000000, m->sync_ns / 1000000);
	mv_measure(m, t0);
	m->fill_gap = mv_fill_gap_first(m);

	t_prev = now_ns();
	for (m->round = 1;; m->round++) {
		t0 = now_ns();
		ret = mv_collect(m);
		if (ret)
			return ret;
		if (m->measured_dirty) {
			predicted = mv_predict(m);
			m->ns_per_page = predicted / (m->remaining ?: 1);
		} else {
			predicted = m->remaining * m->ns_per_page;
		}
		mv_progress(m, "precopy", true);
		/*
		 * Round 0 sends long runs; dirty pages are scattered, a frame
		 * each, and cost more per page. Trust the estimate once a round
		 * of dirty pages was timed, unless what is left is small anyway.
		 */
		if (predicted <= target_ns &&
		    (m->measured_dirty || m->remaining <= MIG_SMALL_FINAL_PAGES))
			return 0;
		if (m->round >= m->o->max_rounds) {
			if (m->o->force) {
				mv_line(m,
					"log round limit (%u): stopping the guest anyway, for about %llu ms",
					m->o->max_rounds, predicted / 1000000);
				return 0;
			}
			return mv_fail(m, -ETIME,
				       "did not converge in %u rounds: %llu pages still dirty, which would stop the guest for about %llu ms, over the %u ms target (the link moves a page in %llu us%s); use --force, a longer --downtime, or more --max-rounds",
				       m->o->max_rounds, m->remaining,
				       (predicted / 1000000), m->o->downtime_ms,
				       (m->ns_per_page / 1000),
				       m->throttle_max ? ", even with the vCPUs throttled" : "");
		}
		/* The dirty set stopped shrinking: the guest dirties as fast as we send. */
		if (m->o->throttle && m->round >= 2 && m->remaining * 10 > prev * 9 &&
		    m->throttle < MIG_THROTTLE_MAX) {
			mv_throttle(m, now_ns() - t_prev);
			mv_line(m,
				"log round %u: %llu pages dirty again; vCPUs held %u %% of the time",
				m->round, m->remaining, m->throttle);
		}
		t_prev = t0;
		prev = m->remaining;
		ret = mv_send_maps(m, "precopy");
		if (!ret)
			ret = mv_sync(m);
		if (ret)
			return ret;
		pages = m->round_pages;
		dirty = m->round_dirty;
		runs = m->round_runs;
		gap = m->fill_gap;
		mv_measure(m, t0);
		snprintf(line, sizeof(line),
			 "round %u: %llu dirty pages, %llu sent in %llu runs (gaps to %u filled) in %llu ms: dirty log %llu us, send %llu us, sync %llu us; a run %llu us, a page %llu us; throttle %u %%",
			 m->round, dirty, pages, runs, gap, (now_ns() - t0) / 1000000,
			 m->collect_ns / 1000, m->send_ns / 1000, m->sync_ns / 1000,
			 m->run_ns / 1000, m->page_ns / 1000, m->throttle);
		vmm_log("%s", line);
	}
}

static int mv_send_state(struct mover *m)
{
	size_t size = kvm_vcpu_state_size(m->vm);
	struct vcpu_state *st = calloc(1, size);
	struct vm *vm = m->vm;
	struct dev_state dev = {
		.magic = DEV_STATE_MAGIC, .ncpus = vm->ncpus,
		.paused_wall_ns = m->paused_wall_ns, .disk_blocks = vm->disk.blocks,
	};
	unsigned int i;
	int ret = 0;

	if (!st)
		return mv_fail(m, -ENOMEM, "out of memory");
	for (i = 0; i < vm->ncpus && !ret; i++) {
		ret = kvm_vcpu_save(&vm->vcpus[i], st);
		if (ret)
			ret = mv_fail(m, ret, "saving vCPU %u failed", i);
		else if (vml_send_blob(&m->s, MIG_BLOB_VCPU(i), st, size))
			ret = mv_fail(m, -EIO, "%s", m->s.err);
	}
	free(st);
	if (ret)
		return ret;
	serial_save(&vm->serial, &dev.serial);
	if (vml_send_blob(&m->s, MIG_BLOB_DEVICES, &dev, sizeof(dev)))
		return mv_fail(m, -EIO, "%s", m->s.err);
	return 0;
}

static int mv_expect(struct mover *m, u32 want, void *buf, u32 size,
		     unsigned int timeout_ms, const char *what)
{
	char msg[sizeof(struct ctl_error)];
	u32 type;
	int ret;

	ret = ctl_recv(m->ctl, timeout_ms, &type, msg, sizeof(msg), NULL);
	if (ret == -ETIMEDOUT)
		return mv_fail(m, ret, "the destination did not say %s within %u s", what,
			       timeout_ms / 1000);
	if (ret)
		return mv_fail(m, ret, "the destination's VMM went away before %s (%s)", what,
			       strerror(-ret));
	if (type == CTL_ERROR)
		return mv_fail(m, -ECONNABORTED, "the destination failed: %s", msg);
	if (type != want)
		return mv_fail(m, -EPROTO, "the destination sent message %u, not %s", type, what);
	memcpy(buf, msg, size);
	return 0;
}

static u64 disk_digest(struct disk *d)
{
	return d->fd >= 0 ? digest64(d->map, d->bytes, 1) : 0;
}

/* Stop the guest, send the rest and the state, hand over. */
static int mv_final(struct mover *m, struct ctl_running *running)
{
	struct vm *vm = m->vm;
	u64 t_send, t_finish, ram = 0, disk = 0;
	struct ctl_restored r;
	int ret;

	m->paused_wall_ns = wall_ns();
	m->paused_ns = now_ns();
	ret = vm_hold(vm);
	if (ret)
		return mv_fail(m, ret, "the guest stopped during the move: %s", vm->exit_reason);
	m->held = true;
	ret = mv_collect(m);
	if (ret)
		return ret;
	t_send = now_ns();
	m->final_pages = m->remaining;
	vmm_log("guest stopped after %u round(s); %llu pages left, about %llu ms to send",
		m->round, m->remaining, mv_predict(m) / 1000000);
	mv_progress(m, "final", true);
	ret = mv_send_maps(m, "final");
	if (!ret)
		ret = mv_send_state(m);
	if (ret)
		return ret;
	t_finish = now_ns();
	if (vml_finish(&m->s))
		return mv_fail(m, -EIO, "%s", m->s.err);
	m->finished_ns = now_ns();
	vmm_log("memory and state sent in %llu ms", (m->finished_ns - m->paused_ns) / 1000000);
	vmm_log("... park and dirty log %llu us, pages %llu us, finish %llu us",
		(t_send - m->paused_ns) / 1000, m->send_ns / 1000,
		(m->finished_ns - t_finish) / 1000);
	/* The guest is held: take the digests while the destination restores. */
	if (m->o->verify) {
		ram = digest64(vm->ram, vm->ram_bytes, 0);
		disk = disk_digest(&vm->disk);
		vmm_log("digests of RAM and disk here in %llu us, while the destination restores",
			(now_ns() - m->finished_ns) / 1000);
	}

	ret = mv_expect(m, CTL_RESTORED, &r, sizeof(r), MIG_RESTORE_TIMEOUT_MS,
			"it restored the VM");
	if (ret)
		return ret;
	m->restored_ns = now_ns();
	if (m->o->verify) {
		if (!r.verified)
			return mv_fail(m, -EPROTO, "the destination sent no digest to verify");
		if (ram != r.ram_digest || disk != r.disk_digest) {
			ctl_send(m->ctl, CTL_ABORT, NULL, 0);
			return mv_fail(m, -EBADMSG,
				       "verify failed: RAM digest %016llx here, %016llx there; disk %016llx here, %016llx there",
				       ram, r.ram_digest,
				       disk, r.disk_digest);
		}
		mv_line(m, "log verify: RAM and disk digests equal (%016llx, %016llx)",
			ram, disk);
	}
	ret = ctl_send(m->ctl, CTL_GO, NULL, 0);
	if (ret)
		return mv_fail(m, ret, "the destination's VMM went away before GO (%s)",
			       strerror(-ret));
	m->go_sent = true;
	m->go_ns = now_ns();
	ret = mv_expect(m, CTL_RUNNING, running, sizeof(*running), MIG_RUNNING_TIMEOUT_MS,
			"it runs the VM");
	m->running_ns = now_ns();
	return ret;
}

/* The move failed: the guest runs on here as if nothing happened. */
static void mv_undo(struct mover *m)
{
	struct vmmig_stats st;

	vm_set_throttle(m->vm, 0);
	if (m->s.fd >= 0) {
		if (!vml_stats(&m->s, &st) && st.state == VMMIG_STATE_ACTIVE)
			vml_abort(&m->s);
		vml_close(&m->s);
	}
	kvm_set_dirty_logging(m->vm, false);
	if (m->ctl >= 0) {
		/* After GO the destination may have started: ABORT stops it. */
		if (m->go_sent)
			ctl_send(m->ctl, CTL_ABORT, NULL, 0);
		else
			ctl_send_error(m->ctl, m->err);
		close(m->ctl);
		m->ctl = -1;
	}
	if (m->held) {
		vm_release(m->vm);
		m->held = false;
	}
}

/*
 * Connect the data channels. The destination's module refuses while its
 * VMM is not in ACCEPT yet: retry. Its VMM's ACCEPT may have failed
 * instead (its host refuses: disabled, max-migrations): then the reason
 * is on the control connection, and it is what the user needs to read.
 */
static int mv_connect(struct mover *m, const struct vml_addr *data)
{
	u64 deadline = now_ns() + MIG_CONNECT_RETRY_MS * 1000000ULL;
	struct pollfd p = { .events = POLLIN };
	int ret;

	for (;;) {
		ret = vml_connect(&m->s, data, m->o->channels, m->o->compression, m->o->level, 0);
		if (!ret)
			return 0;
		if (ctl_readable(m->ctl) || ret != -ECONNREFUSED || now_ns() >= deadline)
			break;
		usleep(20000);
	}
	/* A refusal from there arrives right after ours: give it a moment. */
	p.fd = m->ctl;
	if (poll(&p, 1, 1000) > 0)
		return mv_check(m) ?: mv_fail(m, ret, "%s", m->s.err);
	return mv_fail(m, ret, "%s", m->s.err);
}

static int mv_hello(struct mover *m)
{
	struct vm *vm = m->vm;
	struct ctl_hello h;
	int ret;

	memset(&h, 0, sizeof(h));
	h.version = CTL_VERSION;
	h.flags = (m->copy_disk ? CTL_HELLO_COPY_STORAGE : 0) |
		  (m->o->verify ? CTL_HELLO_VERIFY : 0);
	h.ncpus = vm->ncpus;
	h.channels = m->o->channels;
	h.ram_bytes = vm->ram_bytes;
	h.cpuid_hash = kvm_cpuid_hash(vm);
	if (vm->disk.fd >= 0) {
		char *abs = realpath(vm->disk.path, NULL);
		int n;

		h.disk_bytes = vm->disk.bytes;
		n = snprintf(h.disk_path, sizeof(h.disk_path), "%s", abs ? abs : vm->disk.path);
		free(abs);
		if (n >= (int)sizeof(h.disk_path))
			return mv_fail(m, -ENAMETOOLONG, "the disk image's path is too long");
	}
	snprintf(h.storage_dir, sizeof(h.storage_dir), "%s", m->o->storage_path);
	ret = ctl_send(m->ctl, CTL_HELLO, &h, sizeof(h));
	if (ret)
		return mv_fail(m, ret, "sending HELLO: %s", strerror(-ret));
	return 0;
}

static void mv_summary(struct mover *m, const struct ctl_running *running)
{
	struct ctl_guest_gap gap = { 0 };
	char where[64], buf[1024];
	struct vmmig_stats st;
	int n;
	s64 downtime_us = ((s64)running->resumed_wall_ns - (s64)m->paused_wall_ns) / 1000;
	u64 gap_ns = now_ns();

	memset(&st, 0, sizeof(st));
	vml_stats(&m->s, &st);
	/* The guest says what it saw once it runs there; it is worth a short wait. */
	if (mv_expect(m, CTL_GUEST_GAP, &gap, sizeof(gap), MIG_GAP_TIMEOUT_MS + 2000,
		      "the guest's clock gap"))
		gap.reported = 0;
	gap_ns = now_ns() - gap_ns;
	n = snprintf(buf, sizeof(buf), "summary to=%s total_ms=%llu downtime_us=%lld",
		     vml_format_addr(&m->to, where, sizeof(where)),
		     (m->running_ns - m->start_ns) / 1000000, downtime_us);
	n += snprintf(buf + n, sizeof(buf) - n, " guest_gap_us=%lld rounds=%u final_pages=%llu",
		      gap.reported ? (s64)gap.gap_us : -1LL, m->round, m->final_pages);
	n += snprintf(buf + n, sizeof(buf) - n, " pages=%llu zero_pages=%llu bytes_wire=%llu",
		      st.pages, st.zero_pages, st.bytes_wire);
	n += snprintf(buf + n, sizeof(buf) - n, " compression=%s comp_in=%llu comp_out=%llu",
		      vml_comp_name(st.compression), st.comp_bytes_in, st.comp_bytes_out);
	n += snprintf(buf + n, sizeof(buf) - n, " channels=%u storage=%s verify=%s", st.channels,
		      m->copy_disk ? "copied" : m->vm->disk.fd >= 0 ? "shared" : "none",
		      m->o->verify ? "equal" : "off");
	n += snprintf(buf + n, sizeof(buf) - n, " throttle_max=%u", m->throttle_max);
	/* Where the downtime went: the last copy, the restore there, the handover. */
	n += snprintf(buf + n, sizeof(buf) - n, " final_us=%llu restore_us=%llu",
		      (m->finished_ns - m->paused_ns) / 1000,
		      (m->restored_ns - m->finished_ns) / 1000);
	n += snprintf(buf + n, sizeof(buf) - n, " verify_us=%llu handover_us=%llu",
		      (m->go_ns - m->restored_ns) / 1000, (m->running_ns - m->go_ns) / 1000);
	/* And where the rest went: connecting, pre-copy, the guest's report. */
	snprintf(buf + n, sizeof(buf) - n, " setup_us=%llu precopy_us=%llu gap_wait_us=%llu",
		 (m->pace_start_ns - m->start_ns) / 1000, (m->paused_ns - m->pace_start_ns) / 1000,
		 gap_ns / 1000);
	mv_line(m, "%s", buf);
}

int migrate_move(struct vm *vm, const struct move_opts *o, const struct mig_sink *sink,
		 char *err, size_t errsize)
{
	struct mover m = {
		.vm = vm, .o = o, .sink = sink, .ctl = -1, .err = err, .errsize = errsize,
	};
	struct ctl_running running;
	struct ctl_ready ready;
	struct vml_addr data;
	u64 t_regions, t_ready;
	char where[64];
	int ret;

	m.s.fd = -1;
	ret = move_opts_check(o, err, errsize);
	if (ret)
		return ret;
	vml_parse_addr(o->to, VMM_CONTROL_PORT, &m.to);
	m.copy_disk = o->include_storage && vm->disk.fd >= 0;
	if (o->include_storage && vm->disk.fd < 0)
		return set_err(err, errsize, -EINVAL, "--include-storage: this VM has no disk");
	m.ram_longs = bitmap_longs(vm->ram_pages);
	m.disk_longs = bitmap_longs(vm->disk.blocks);
	m.ram_map = calloc(m.ram_longs, sizeof(long));
	m.scratch = calloc(m.ram_longs > m.disk_longs ? m.ram_longs : m.disk_longs, sizeof(long));
	m.disk_map = calloc(m.disk_longs ? m.disk_longs : 1, sizeof(long));
	if (!m.ram_map || !m.scratch || !m.disk_map) {
		ret = set_err(err, errsize, -ENOMEM, "out of memory");
		goto out;
	}
	m.start_ns = now_ns();

	ret = ctl_connect(&m.to, 5000);
	if (ret < 0) {
		ret = set_err(err, errsize, ret, "cannot reach the destination's VMM at %s: %s",
			      vml_format_addr(&m.to, where, sizeof(where)), strerror(-ret));
		goto out;
	}
	m.ctl = ret;
	ret = mv_hello(&m);
	if (ret)
		goto fail;
	/* Registered while the destination builds its VM. */
	ret = vml_open(&m.s);
	if (!ret)
		ret = vml_add_region(&m.s, VMM_REGION_RAM, vm->ram, vm->ram_bytes, 0, 0);
	if (!ret && m.copy_disk)
		ret = vml_add_region(&m.s, VMM_REGION_DISK, vm->disk.map, vm->disk.bytes,
				     VMM_DISK_GPA, 0);
	if (ret) {
		ret = mv_fail(&m, ret, "%s", m.s.err);
		goto fail;
	}
	t_regions = now_ns();
	ret = mv_expect(&m, CTL_READY, &ready, sizeof(ready), 30000, "it is ready");
	if (ret)
		goto fail;
	t_ready = now_ns();
	if (m.copy_disk)
		mv_line(&m, "log the disk goes along, to %s there", ready.disk_path);

	data = m.to;
	data.port = ready.data_port;
	ret = mv_connect(&m, &data);
	if (ret)
		goto fail;
	vmm_log("set up in %llu ms: regions added after %llu ms, destination ready after %llu ms",
		(now_ns() - m.start_ns) / 1000000, (t_regions - m.start_ns) / 1000000,
		(t_ready - m.start_ns) / 1000000);
	m.pace_start_ns = now_ns();
	m.rate_ns = m.pace_start_ns;
	mv_line(&m, "log connected %u channel(s) to %s, compression %s", o->channels,
		vml_format_addr(&data, where, sizeof(where)), vml_comp_name(o->compression));

	ret = mv_precopy(&m);
	if (!ret)
		ret = mv_final(&m, &running);
	if (ret)
		goto fail;
	vm_set_throttle(vm, 0);
	ctl_send(m.ctl, CTL_DONE, NULL, 0);
	mv_summary(&m, &running);
	vml_close(&m.s);
	close(m.ctl);
	ret = 0;
	goto out;

fail:
	mv_undo(&m);
out:
	vml_close(&m.s);
	if (m.ctl >= 0)
		close(m.ctl);
	free(m.ram_map);
	free(m.disk_map);
	free(m.scratch);
	free(m.ring);
	return ret;
}

/* ---- destination ---- */

struct receiver {
	struct vm *vm;
	const struct receive_opts *o;
	struct vml_session s;
	int ctl;
	struct ctl_hello hello;
	struct vcpu_state *vcpu[GUEST_MAX_VCPUS];
	struct dev_state dev;
	bool have_dev;
	bool vm_created;
	char disk_path[1024];
	bool disk_created;
	pthread_t prefault;
	bool prefaulting;
	char *err;
	size_t errsize;
};

static int rc_fail(struct receiver *r, int ret, const char *fmt, ...)
	__printf(3, 4);

static int rc_fail(struct receiver *r, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errsize, fmt, ap);
	va_end(ap);
	return ret < 0 ? ret : -EIO;
}

/* Build the VM the source described, with its disk. */
static int rc_setup(struct receiver *r)
{
	struct ctl_hello *h = &r->hello;
	struct vm_config cfg = {
		.ram_bytes = h->ram_bytes, .ncpus = h->ncpus, .serial_fd = r->o->serial_fd,
		.dirty_ring = r->o->dirty_ring,
	};
	struct vm *vm = r->vm;
	struct stat st;
	int ret;

	if (h->version != CTL_VERSION)
		return rc_fail(r, -EPROTO, "the source speaks control version %u, we speak %u",
			       h->version, CTL_VERSION);
	h->disk_path[sizeof(h->disk_path) - 1] = 0;
	h->storage_dir[sizeof(h->storage_dir) - 1] = 0;
	ret = vm_create(vm, &cfg);
	r->vm_created = true;
	if (ret)
		return rc_fail(r, ret, "cannot create a VM of %u vCPU(s) and %llu MiB here (%s)",
			       h->ncpus, (h->ram_bytes >> 20), strerror(-ret));
	if (kvm_cpuid_hash(vm) != h->cpuid_hash)
		return rc_fail(r, -ENOTSUP, "this host's CPU differs from the source's (CPUID)");

	if (h->disk_bytes && (h->flags & CTL_HELLO_COPY_STORAGE)) {
		char base[1024];

		if (stat(h->storage_dir, &st) || !S_ISDIR(st.st_mode))
			return rc_fail(r, -ENOTDIR, "destination storage path %s: not a directory",
				       h->storage_dir);
		snprintf(base, sizeof(base), "%s", h->disk_path);
		if (snprintf(r->disk_path, sizeof(r->disk_path), "%s/%s", h->storage_dir,
			     basename(base)) >= (int)sizeof(r->disk_path))
			return rc_fail(r, -ENAMETOOLONG, "destination storage path too long");
		ret = disk_open(&vm->disk, r->disk_path, h->disk_bytes, true);
		if (ret == -EEXIST)
			return rc_fail(r, ret, "%s exists: a move does not overwrite an image",
				       r->disk_path);
		if (ret)
			return rc_fail(r, ret, "cannot create %s: %s", r->disk_path,
				       strerror(-ret));
		r->disk_created = true;
	} else if (h->disk_bytes) {
		snprintf(r->disk_path, sizeof(r->disk_path), "%s", h->disk_path);
		ret = disk_open(&vm->disk, r->disk_path, 0, false);
		if (ret)
			return rc_fail(r, ret, "shared storage: cannot open the image %s here: %s",
				       r->disk_path, strerror(-ret));
		if (vm->disk.bytes != h->disk_bytes)
			return rc_fail(r, -EINVAL,
				       "shared storage: %s is %llu bytes here, %llu there",
				       r->disk_path, vm->disk.bytes, h->disk_bytes);
	}

	ret = vml_open(&r->s);
	if (!ret)
		/* Just mapped, and a new image: zero pages cost nothing here. */
		ret = vml_add_region(&r->s, VMM_REGION_RAM, vm->ram, vm->ram_bytes, 0,
				     VMMIG_REGION_FRESH);
	if (!ret && r->disk_created)
		ret = vml_add_region(&r->s, VMM_REGION_DISK, vm->disk.map, vm->disk.bytes,
				     VMM_DISK_GPA, VMMIG_REGION_FRESH);
	if (ret)
		return rc_fail(r, ret, "%s", r->s.err);
	return 0;
}

static int rc_blob(struct receiver *r, const struct vml_event *ev)
{
	size_t size = kvm_vcpu_state_size(r->vm);
	unsigned int i = ev->tag - MIG_BLOB_VCPU(0);

	if (ev->tag == MIG_BLOB_DEVICES) {
		if (ev->length != sizeof(r->dev))
			return rc_fail(r, -EBADMSG, "device state of %llu bytes, want %zu",
				       ev->length, sizeof(r->dev));
		memcpy(&r->dev, ev->data, sizeof(r->dev));
		r->have_dev = true;
		return 0;
	}
	if (i >= r->vm->ncpus || ev->length != size)
		return rc_fail(r, -EBADMSG, "unexpected state blob %#x of %llu bytes", ev->tag,
			       ev->length);
	if (!r->vcpu[i])
		r->vcpu[i] = malloc(size);
	if (!r->vcpu[i])
		return rc_fail(r, -ENOMEM, "out of memory");
	memcpy(r->vcpu[i], ev->data, size);
	return 0;
}

/* Place rounds until the source finishes; keep the state blobs. */
static int rc_events(struct receiver *r)
{
	struct vml_event ev;
	u64 rounds = 0, next_log = now_ns() + 1000000000ULL;
	struct vmmig_stats st;
	int ret;

	for (;;) {
		ret = vml_wait_event(&r->s, 1000, &ev);
		if (ret == -ETIMEDOUT) {
			/* The modules see a dead source; this sees one that changed its mind. */
			if (ctl_readable(r->ctl)) {
				struct ctl_error e;
				u32 type;

				ret = ctl_recv(r->ctl, 1000, &type, &e, sizeof(e), NULL);
				return rc_fail(r, -ECONNABORTED, "the source gave up: %s",
					       ret ? "its VMM went away" :
					       type == CTL_ERROR ? e.msg : "unexpected message");
			}
			continue;
		}
		if (ret)
			return rc_fail(r, ret, "%s", r->s.err);
		switch (ev.type) {
		case VMMIG_EVENT_SYNC:
			rounds++;
			if (now_ns() >= next_log && !vml_stats(&r->s, &st)) {
				vmm_log("receiving: %llu pages placed, round %llu", st.pages,
					rounds);
				next_log = now_ns() + 1000000000ULL;
			}
			break;
		case VMMIG_EVENT_BLOB:
			ret = rc_blob(r, &ev);
			if (ret)
				return ret;
			break;
		case VMMIG_EVENT_FINISHED:
			vmm_log("memory complete after %llu round(s)", rounds);
			return 0;
		case VMMIG_EVENT_ABORTED:
			return rc_fail(r, -ev.error, "the move was aborted: %s",
				       vml_strerror(ev.error));
		}
	}
}

static int rc_restore(struct receiver *r)
{
	struct vm *vm = r->vm;
	unsigned int i;
	int ret;

	if (!r->have_dev || r->dev.magic != DEV_STATE_MAGIC || r->dev.ncpus != vm->ncpus)
		return rc_fail(r, -EBADMSG, "the source sent no device state");
	for (i = 0; i < vm->ncpus; i++) {
		const struct vcpu_state *st = r->vcpu[i];

		if (!st)
			return rc_fail(r, -EBADMSG, "the source sent no state for vCPU %u", i);
		/* The guest's clock runs on by the time the move took. */
		ret = kvm_vcpu_restore(&vm->vcpus[i], st, wall_ns() - st->saved_wall_ns);
		if (ret)
			return rc_fail(r, ret, "restoring vCPU %u failed", i);
	}
	serial_restore(&vm->serial, &r->dev.serial);
	return 0;
}

/*
 * With --verify the destination digests all of its RAM and disk before it
 * says RESTORED, with the guest stopped. The module only faults in the
 * pages it writes, so read the others in now, while the pages come: left
 * to the digest, the faults doubled the demo's downtime.
 */
static void rc_touch(const u8 *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += 4096)
		(void)READ_ONCE(p[off]);
}

static void *rc_prefault(void *arg)
{
	struct vm *vm = arg;

	rc_touch(vm->ram, vm->ram_bytes);
	if (vm->disk.map)
		rc_touch(vm->disk.map, vm->disk.bytes);
	return NULL;
}

static void rc_prefault_join(struct receiver *r)
{
	if (r->prefaulting)
		pthread_join(r->prefault, NULL);
	r->prefaulting = false;
}

static void rc_cleanup(struct receiver *r, bool failed)
{
	unsigned int i;

	rc_prefault_join(r);
	vml_close(&r->s);
	for (i = 0; i < GUEST_MAX_VCPUS; i++)
		free(r->vcpu[i]);
	if (!failed)
		return;
	if (r->ctl >= 0)
		ctl_send_error(r->ctl, r->err);
	if (r->vm_created)
		vm_destroy(r->vm);
	/* A half-received image is worth nothing. */
	if (r->disk_created)
		unlink(r->disk_path);
}

/*
 * The VM runs here. Tell the source how long the guest saw itself stopped
 * (once it noticed the move), and wait for the source to let go: DONE, or
 * ABORT if it did not hear RUNNING in time and resumed its own copy.
 */
static int rc_after_start(struct receiver *r)
{
	u64 start = now_ns(), gap_deadline = start + MIG_GAP_TIMEOUT_MS * 1000000ULL;
	u64 done_deadline = start + (MIG_RUNNING_TIMEOUT_MS + 5000) * 1000000ULL;
	struct guest_info *info = vm_info(r->vm);
	struct ctl_guest_gap g = { 0 };
	bool gap_sent = false, done = false;
	u32 type;

	while (!(gap_sent && done) && now_ns() < done_deadline) {
		if (!gap_sent && (now_ns() >= gap_deadline || vm_stopped(r->vm) ||
				  __atomic_load_n(&info->gap_migration, __ATOMIC_ACQUIRE) ==
				  info->migrations)) {
			g.reported = info->gap_migration == info->migrations;
			g.gap_us = info->gap_us;
			ctl_send(r->ctl, CTL_GUEST_GAP, &g, sizeof(g));
			gap_sent = true;
		}
		if (!done && ctl_readable(r->ctl)) {
			if (ctl_recv(r->ctl, 1000, &type, NULL, 0, NULL)) {
				vmm_log("warning: control connection lost before DONE; running on");
				done = true;
			} else if (type == CTL_ABORT) {
				vm_stop(r->vm, 1, "the source took the VM back");
				return rc_fail(r, -ECONNABORTED,
					       "the source did not hear in time that the VM runs here and resumed its copy: stopped ours");
			} else {
				done = true;
			}
		}
		usleep(5000);
	}
	if (!done)
		vmm_log("warning: the source did not say DONE; running on");
	return 0;
}

int migrate_receive(struct vm *vm, const struct receive_opts *o, char *err, size_t errsize)
{
	struct receiver r = { .vm = vm, .o = o, .ctl = -1, .err = err, .errsize = errsize };
	struct ctl_restored restored = { 0 };
	struct ctl_running running;
	struct ctl_ready ready;
	struct vml_addr at, peer;
	char where[64];
	u64 t[4];
	u32 type;
	int lfd, ret;

	r.s.fd = -1;
	if (vml_parse_addr(o->listen, VMM_CONTROL_PORT, &at))
		return set_err(err, errsize, -EINVAL,
			       "listen address '%s': want ADDR or ADDR:PORT", o->listen);
	lfd = ctl_listen(&at);
	if (lfd < 0)
		return set_err(err, errsize, lfd, "cannot listen on %s: %s",
			       vml_format_addr(&at, where, sizeof(where)), strerror(-lfd));
	vmm_log("waiting for a VM on %s", vml_format_addr(&at, where, sizeof(where)));
	r.ctl = ctl_accept(lfd, o->timeout_s * 1000, &peer);
	close(lfd);
	if (r.ctl < 0)
		return set_err(err, errsize, r.ctl, "no source came: %s", strerror(-r.ctl));

	ret = ctl_recv(r.ctl, 10000, &type, &r.hello, sizeof(r.hello), NULL);
	if (!ret && type != CTL_HELLO)
		ret = -EPROTO;
	if (ret) {
		rc_fail(&r, ret, "no HELLO from %s: %s",
			vml_format_addr(&peer, where, sizeof(where)), strerror(-ret));
		goto fail;
	}
	vmm_log("incoming VM from %s: %u vCPU(s), %llu MiB RAM, disk %s",
		vml_format_addr(&peer, where, sizeof(where)), r.hello.ncpus,
		(r.hello.ram_bytes >> 20),
		!r.hello.disk_bytes ? "none" :
		r.hello.flags & CTL_HELLO_COPY_STORAGE ? "copied along" : "shared");
	ret = rc_setup(&r);
	if (ret)
		goto fail;
	if (r.hello.flags & CTL_HELLO_VERIFY)
		r.prefaulting = !pthread_create(&r.prefault, NULL, rc_prefault, vm);

	memset(&ready, 0, sizeof(ready));
	/*
	 * 0: the port setting of each host (vmmigctl set port), which the
	 * hosts of one cluster share; --data-port overrides it on both ends.
	 */
	ready.data_port = o->data_port;
	snprintf(ready.disk_path, sizeof(ready.disk_path), "%s", r.disk_path);
	ret = ctl_send(r.ctl, CTL_READY, &ready, sizeof(ready));
	if (ret) {
		rc_fail(&r, ret, "the source went away: %s", strerror(-ret));
		goto fail;
	}
	ret = vml_accept(&r.s, ready.data_port, 10000, NULL, NULL);
	if (ret) {
		struct ctl_error e;

		/* The source may have said why it did not come. */
		if (ctl_readable(r.ctl) && !ctl_recv(r.ctl, 1000, &type, &e, sizeof(e), NULL) &&
		    type == CTL_ERROR)
			rc_fail(&r, ret, "the source gave up: %s", e.msg);
		else
			rc_fail(&r, ret, "%s", r.s.err);
		goto fail;
	}
	ret = rc_events(&r);
	t[0] = now_ns();
	if (!ret)
		ret = rc_restore(&r);
	if (ret)
		goto fail;
	t[1] = now_ns();
	/* The pages are ours now: unpin them before the guest runs. */
	vml_close(&r.s);
	t[2] = now_ns();
	/* Threads up and parked now, so that GO only has to let them go. */
	ret = vm_start_held(vm);
	if (ret) {
		rc_fail(&r, ret, "cannot start the vCPUs: %s", strerror(-ret));
		goto fail;
	}
	t[3] = now_ns();
	if (r.hello.flags & CTL_HELLO_VERIFY) {
		rc_prefault_join(&r);
		restored.verified = 1;
		restored.ram_digest = digest64(vm->ram, vm->ram_bytes, 0);
		restored.disk_digest = disk_digest(&vm->disk);
	}
	vmm_log("restored: state %llu us, session closed %llu us, vCPUs %llu us, digests %llu us",
		(t[1] - t[0]) / 1000, (t[2] - t[1]) / 1000, (t[3] - t[2]) / 1000,
		(now_ns() - t[3]) / 1000);
	ret = ctl_send(r.ctl, CTL_RESTORED, &restored, sizeof(restored));
	if (!ret)
		ret = ctl_recv(r.ctl, MIG_RESTORE_TIMEOUT_MS, &type, NULL, 0, NULL);
	if (!ret && type != CTL_GO)
		ret = type == CTL_ABORT ? -ECONNABORTED : -EPROTO;
	if (ret) {
		rc_fail(&r, ret, "the source did not hand over: %s",
			ret == -ECONNABORTED ? "it aborted (verify failed?)" : strerror(-ret));
		goto fail;
	}

	/* Only now, with every vCPU stopped: the guest sees it has moved. */
	vm_info(vm)->migrations++;
	vm_release(vm);
	running.resumed_wall_ns = wall_ns();
	ret = ctl_send(r.ctl, CTL_RUNNING, &running, sizeof(running));
	if (ret) {
		/* The source never heard we run, so it runs on: one copy only. */
		rc_fail(&r, ret, "the source left before we could say we run the VM: stopped it");
		goto fail;
	}
	vmm_log("the VM runs here (move #%llu)", vm_info(vm)->migrations);
	ret = rc_after_start(&r);
	if (ret)
		goto fail;
	rc_cleanup(&r, false);
	close(r.ctl);
	return 0;

fail:
	rc_cleanup(&r, true);
	if (r.ctl >= 0)
		close(r.ctl);
	return ret;
}
