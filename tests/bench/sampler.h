/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small CPU profiler for the benchmarks: perf cpu-clock samples on every
 * CPU (the instruction pointer and process of each), counted by what the
 * CPU was doing, from the kernel symbol the address is in (/proc/kallsyms)
 * or, in userspace, from the library it is in (/proc/self/maps).
 *
 * Why: with one CPU, a transfer's CPU time is the sender's, the receiver's
 * and the network's together; only samples tell how much of it the codec
 * took. A share counted from n samples is good to about 1/sqrt(n).
 *
 * A codec's memcpy and memset are the codec's: a kernel sample in a copy or
 * a memset counts for the codec if one of its two callers (kernel call
 * chain) is a codec function; a userspace sample outside the codec
 * libraries (glibc's memcpy, say) if a return address into one of them is
 * in the top SAMPLER_STACK_PEEK bytes of the user stack.
 *
 * Codec samples in userspace (liblz4, libzstd) count as compressing in the
 * benchmark's own process and as decompressing in its children, which is
 * where the benchmark's userspace senders and receivers run.
 */
#ifndef _VMMIG_SAMPLER_H
#define _VMMIG_SAMPLER_H

#include <errno.h>
#include <linux/perf_event.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <asm/perf_regs.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define SAMPLER_PERIOD_NS	1000000ULL	/* one sample per ms of CPU time */
#define SAMPLER_MAX_CPUS	64
#define SAMPLER_RING_PAGES	512	/* 2 MiB: ~85000 samples between drains */
#define SAMPLER_MAX_LIBS	8
#define SAMPLER_CALLERS		2	/* kernel callers looked at for a codec */
#define SAMPLER_STACK_PEEK	64	/* user stack bytes looked at likewise */

enum sample_cat {
	SC_IDLE,	/* the idle task */
	SC_COMP,	/* a codec compressing */
	SC_DECOMP,	/* a codec decompressing */
	SC_COPY,	/* memcpy, copies to and from user and iterators */
	SC_ZERO,	/* finding zero pages (memchr_inv) */
	SC_CLEAR,	/* clearing pages, memset */
	SC_VMMIG,	/* the module's own code */
	SC_KERNEL,	/* the rest of the kernel: network, scheduler, ... */
	SC_USER,	/* the rest of userspace */
	SC_NCAT,
};

static const char *const sample_cat_names[SC_NCAT] = {
	"idle", "codec-c", "codec-d", "copy", "zero-chk", "clear", "vmmig", "kernel", "user",
};

struct profile {
	unsigned long long n[SC_NCAT];
	unsigned long long lost;	/* samples the kernel dropped */
	unsigned long long bad;		/* records that did not parse */
	unsigned int *hits;		/* optional: kernel samples per symbol */
};

/* Samples of everything but the idle task. */
static inline unsigned long long profile_busy(const struct profile *p)
{
	unsigned long long busy = 0;
	int i;

	for (i = SC_IDLE + 1; i < SC_NCAT; i++)
		busy += p->n[i];
	return busy;
}

struct ksym {
	unsigned long addr;
	int cat;
	char *name;
};

struct sampler {
	int ncpu;
	int fd[SAMPLER_MAX_CPUS];
	void *ring[SAMPLER_MAX_CPUS];
	size_t ring_len;
	pid_t self;
	struct ksym *ksyms;
	size_t nksyms;
	unsigned long lib_lo[SAMPLER_MAX_LIBS], lib_hi[SAMPLER_MAX_LIBS];
	int nlibs;
};

/* zstd's decoder side, by the names lib/zstd gives its functions. */
static inline bool zstd_sym_decodes(const char *name)
{
	static const char *const marks[] = {
		"decompress", "Decompress", "DCtx", "DDict", "DStream", "decode", "Decode",
		"DTable", "execSequence", "buildFSETable", "buildSeqTable", "readNCount",
		"readStats", "rameHeader", "getFrame", "initDState", "safecopy", "overlapCopy",
		"dParam", "getcBlockSize", "checkContinuity", "allocateLiteralsBuffer",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(marks); i++)
		if (strstr(name, marks[i]))
			return true;
	return false;
}

static inline int ksym_cat(const char *name, bool module)
{
	static const char *const zstd[] = { "ZSTD_", "zstd_", "HUF_", "FSE_", "HIST_" };
	static const char *const copy[] = {
		"memcpy", "memmove", "rep_movs", "copy_user", "copy_page", "copy_to_iter",
		"copy_from_iter", "copy_mc",
	};
	size_t i;

	if (module)
		return SC_VMMIG;
	if (!strncmp(name, "LZ4_", 4))
		return strstr(name, "decompress") ? SC_DECOMP : SC_COMP;
	for (i = 0; i < ARRAY_SIZE(zstd); i++)
		if (!strncmp(name, zstd[i], strlen(zstd[i])))
			return zstd_sym_decodes(name) ? SC_DECOMP : SC_COMP;
	if (strstr(name, "memchr_inv") || !strcmp(name, "check_bytes8"))
		return SC_ZERO;
	if (strstr(name, "clear_page") || strstr(name, "memset") || strstr(name, "rep_stos"))
		return SC_CLEAR;
	for (i = 0; i < ARRAY_SIZE(copy); i++)
		if (strstr(name, copy[i]))
			return SC_COPY;
	return SC_KERNEL;
}

static inline int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Text symbols of the kernel and of the modules loaded now. */
static inline int sampler_load_ksyms(struct sampler *s)
{
	char line[512], name[256], type, mod[64];
	size_t cap = 0;
	unsigned long addr;
	struct ksym *k;
	FILE *f;
	int n;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		mod[0] = 0;
		n = sscanf(line, "%lx %c %255s %63s", &addr, &type, name, mod);
		if (n < 3 || !addr || (type != 't' && type != 'T' && type != 'w' && type != 'W'))
			continue;
		if (s->nksyms == cap) {
			cap = cap ? 2 * cap : 65536;
			k = realloc(s->ksyms, cap * sizeof(*k));
			if (!k) {
				fclose(f);
				return -ENOMEM;
			}
			s->ksyms = k;
		}
		k = &s->ksyms[s->nksyms++];
		k->addr = addr;
		k->cat = ksym_cat(name, !strcmp(mod, "[vmmig]"));
		k->name = strdup(name);
		if (!k->name) {
			fclose(f);
			return -ENOMEM;
		}
	}
	fclose(f);
	if (!s->nksyms)
		return -ENOENT;	/* kptr_restrict hides the addresses */
	qsort(s->ksyms, s->nksyms, sizeof(*s->ksyms), ksym_cmp);
	return 0;
}

/* Where liblz4 and libzstd are mapped; children forked later share it. */
static inline void sampler_load_libs(struct sampler *s)
{
	unsigned long lo, hi;
	char line[512], perm[8];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && s->nlibs < SAMPLER_MAX_LIBS) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) != 3 || perm[2] != 'x')
			continue;
		if (strstr(line, "/liblz4.") || strstr(line, "/libzstd.")) {
			s->lib_lo[s->nlibs] = lo;
			s->lib_hi[s->nlibs++] = hi;
		}
	}
	fclose(f);
}

/* The index of the kernel symbol @ip is in, or -1. */
static inline long sampler_ksym(const struct sampler *s, __u64 ip)
{
	size_t lo = 0, hi = s->nksyms;

	if (!hi || ip < s->ksyms[0].addr)
		return -1;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (s->ksyms[mid].addr <= ip)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static inline int sampler_ksym_cat(const struct sampler *s, __u64 ip)
{
	long k = sampler_ksym(s, ip);

	return k < 0 ? SC_KERNEL : s->ksyms[k].cat;
}

static inline bool sampler_in_lib(const struct sampler *s, __u64 ip)
{
	int i;

	for (i = 0; i < s->nlibs; i++)
		if (ip >= s->lib_lo[i] && ip < s->lib_hi[i])
			return true;
	return false;
}

/*
 * What one sample was doing. @chain: the kernel call chain, innermost
 * first, context markers left out; @stack: the top of the user stack.
 */
static inline int sampler_cat(const struct sampler *s, __u64 ip, __u32 pid, __u16 misc,
			      const __u64 *chain, unsigned int nchain,
			      const __u64 *stack, unsigned int nstack)
{
	int codec = (pid_t)pid == s->self ? SC_COMP : SC_DECOMP, cat;
	unsigned int i;

	if (!pid)
		return SC_IDLE;
	if ((misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_USER) {
		if (sampler_in_lib(s, ip))
			return codec;
		for (i = 0; i < nstack; i++)
			if (sampler_in_lib(s, stack[i]))
				return codec;
		return SC_USER;
	}
	cat = sampler_ksym_cat(s, ip);
	if (cat != SC_COPY && cat != SC_CLEAR)
		return cat;
	/* chain[0] is @ip itself */
	for (i = 1; i < nchain && i <= SAMPLER_CALLERS; i++) {
		codec = sampler_ksym_cat(s, chain[i]);
		if (codec == SC_COMP || codec == SC_DECOMP)
			return codec;
	}
	return cat;
}

static inline void sampler_close(struct sampler *s)
{
	int i;

	for (i = 0; i < s->ncpu; i++) {
		if (s->ring[i])
			munmap(s->ring[i], s->ring_len);
		close(s->fd[i]);
	}
	s->ncpu = 0;
	while (s->nksyms)
		free(s->ksyms[--s->nksyms].name);
	free(s->ksyms);
	s->ksyms = NULL;
}

/* One disabled cpu-clock sampling event per online CPU; 0 or -errno. */
static inline int sampler_open(struct sampler *s)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = SAMPLER_PERIOD_NS,
		.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_CALLCHAIN |
			       PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER,
		.sample_regs_user = 1ULL << PERF_REG_X86_SP,
		.sample_stack_user = SAMPLER_STACK_PEEK,
		.sample_max_stack = SAMPLER_CALLERS + 1,
		.exclude_callchain_user = 1,
		.disabled = 1,
	};
	long cpu, ncpu = sysconf(_SC_NPROCESSORS_CONF);
	int fd, rc;

	memset(s, 0, sizeof(*s));
	s->self = getpid();
	s->ring_len = (SAMPLER_RING_PAGES + 1) * sysconf(_SC_PAGESIZE);
	rc = sampler_load_ksyms(s);
	if (rc) {
		sampler_close(s);
		return rc;
	}
	sampler_load_libs(s);
	for (cpu = 0; cpu < ncpu && cpu < SAMPLER_MAX_CPUS; cpu++) {
		fd = syscall(SYS_perf_event_open, &attr, -1, (int)cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0 && errno == ENODEV)
			continue;	/* offline */
		if (fd < 0) {
			rc = -errno;
			sampler_close(s);
			return rc;
		}
		s->fd[s->ncpu] = fd;
		s->ring[s->ncpu] = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED,
					fd, 0);
		if (s->ring[s->ncpu++] == MAP_FAILED) {
			s->ring[s->ncpu - 1] = NULL;
			rc = -errno;
			sampler_close(s);
			return rc;
		}
	}
	return s->ncpu ? 0 : -ENODEV;
}

/* Print the @n kernel symbols with most samples in @p, as % of @busy. */
static inline void sampler_print_top(const struct sampler *s, const struct profile *p,
				     unsigned long long busy, int n)
{
	size_t i, best;
	unsigned int *h;

	if (!p->hits || !busy)
		return;
	h = malloc(s->nksyms * sizeof(*h));
	if (!h)
		return;
	memcpy(h, p->hits, s->nksyms * sizeof(*h));
	while (n--) {
		for (i = 0, best = 0; i < s->nksyms; i++)
			if (h[i] > h[best])
				best = i;
		if (!h[best])
			break;
		printf("   %5.1f%% %s\n", 100.0 * h[best] / busy, s->ksyms[best].name);
		h[best] = 0;
	}
	free(h);
}

static inline void sampler_enable(struct sampler *s, bool on)
{
	int i;

	for (i = 0; i < s->ncpu; i++)
		ioctl(s->fd[i], on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}

/*
 * One PERF_RECORD_SAMPLE: ip, pid/tid, callchain (nr, ips), user regs (abi,
 * sp if abi), user stack (size, bytes, dyn_size if size). 0, or -EINVAL if
 * it is shorter than it says.
 */
static inline int sampler_sample(const struct sampler *s, const struct perf_event_header *h,
				 struct profile *p)
{
	const __u64 *w = (const __u64 *)(h + 1);
	const __u64 *end = (const __u64 *)((const unsigned char *)h + h->size);
	__u64 ip, chain[SAMPLER_CALLERS + 1], nr, size = 0, i;
	const __u64 *stack = NULL;
	unsigned int nchain = 0;
	__u32 pid;

	if (end - w < 3)
		return -EINVAL;
	ip = *w++;
	pid = (__u32)*w++;
	nr = *w++;
	if ((__u64)(end - w) < nr)
		return -EINVAL;
	for (i = 0; i < nr; i++, w++)
		if (*w < PERF_CONTEXT_MAX && nchain < SAMPLER_CALLERS + 1)
			chain[nchain++] = *w;
	if (w >= end)
		return -EINVAL;
	if (*w++) {		/* abi: the task has user registers, here sp */
		if (w >= end)
			return -EINVAL;
		w++;
	}
	if (w < end) {
		size = *w++;
		if ((__u64)(end - w) < size / 8)
			return -EINVAL;
		stack = w;
		if (size && w + size / 8 < end)
			size = w[size / 8] < size ? w[size / 8] : size;	/* dyn_size */
	}
	p->n[sampler_cat(s, ip, pid, h->misc, chain, nchain, stack, size / 8)]++;
	if (p->hits && pid && (h->misc & PERF_RECORD_MISC_CPUMODE_MASK) != PERF_RECORD_MISC_USER) {
		long k = sampler_ksym(s, ip);

		if (k >= 0)
			p->hits[k]++;
	}
	return 0;
}

/* Count the samples taken since the last drain into @p (NULL: drop them). */
static inline void sampler_drain(struct sampler *s, struct profile *p)
{
	union {
		struct perf_event_header h;
		struct {
			struct perf_event_header h;
			__u64 id, lost;
		} lost;
		__u64 raw[1024];
	} rec;
	struct perf_event_mmap_page *mp;
	__u64 head, tail, size, off, first;
	unsigned char *data;
	int i;

	for (i = 0; i < s->ncpu; i++) {
		mp = s->ring[i];
		data = (unsigned char *)mp + mp->data_offset;
		size = mp->data_size;
		head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
		for (tail = mp->data_tail; tail < head; tail += rec.h.size) {
			off = tail % size;
			first = size - off < sizeof(rec.h) ? size - off : sizeof(rec.h);
			memcpy(&rec, data + off, first);
			memcpy((unsigned char *)&rec + first, data, sizeof(rec.h) - first);
			if (rec.h.size < sizeof(rec.h))
				break;	/* cannot happen; do not spin on it */
			if (rec.h.size > sizeof(rec) || !p)
				continue;
			first = size - off < rec.h.size ? size - off : rec.h.size;
			memcpy(&rec, data + off, first);
			memcpy((unsigned char *)&rec + first, data, rec.h.size - first);
			if (rec.h.type == PERF_RECORD_SAMPLE && sampler_sample(s, &rec.h, p))
				p->bad++;
			else if (rec.h.type == PERF_RECORD_LOST)
				p->lost += rec.lost.lost;
		}
		__atomic_store_n(&mp->data_tail, head, __ATOMIC_RELEASE);
	}
}

#endif /* _VMMIG_SAMPLER_H */
