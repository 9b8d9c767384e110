// SPDX-License-Identifier: GPL-2.0
/*
 * memcheck - guest memory integrity checker for vmmig live-migration tests.
 *
 * Runs inside the test guest (tests/linux-guest). It maps MEM MiB:
 *
 *  - the frozen region (MEM - WS MiB) is filled once with a pattern keyed by
 *    the seed and never written again. SIGUSR1 asks for a digest of it (a
 *    64-bit FNV-1a over 64-bit words), written to the digest file. Every
 *    ~10 s the whole region is re-verified against its pattern.
 *  - the working set (WS MiB) is rewritten continuously at RATE pages/s:
 *    generation g verifies each 4 KiB page still holds generation g - 1 and
 *    then writes generation g into it, so a page that arrives wrong after
 *    a migration is detected.
 *
 * After every generation and every frozen-region check it atomically
 * replaces the status file with one line "STATUS gen=N errors=E ...".
 * Errors are reported on stderr as "MEMCHECK ERROR ...", rate limited.
 *
 * The same binary is the disk pattern generator:
 *   memcheck pattern SEED MIB	writes MIB MiB of the seed's pattern to stdout
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SZ		4096UL
#define PAGE_WORDS	(PAGE_SZ / sizeof(uint64_t))
#define MIB		(1024UL * 1024UL)
#define FROZEN_PERIOD	10.0	/* seconds between frozen-region checks */
#define ERR_BURST	20	/* error lines printed per second at most */

static volatile sig_atomic_t digest_wanted;
static volatile sig_atomic_t stop_wanted;

static const char *status_path = "/run/memcheck.status";
static const char *digest_path = "/run/memcheck.digest";

static uint64_t gen;		/* generations completed */
static uint64_t ws_errors;	/* bad working-set pages */
static uint64_t frozen_errors;	/* bad frozen pages */
static uint64_t frozen_checks;	/* completed frozen-region checks */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Word w of the frozen region or of the disk stream for a seed. */
static inline uint64_t frozen_word(uint64_t seed, uint64_t w)
{
	return splitmix64(seed * 0xd1342543de82ef95ULL + w);
}

/* Base of working-set page i in generation g; word j is base ^ (j * K). */
static inline uint64_t ws_base(uint64_t seed, uint64_t i, uint64_t g)
{
	return splitmix64(splitmix64(seed ^ (g << 32)) + i);
}

#define WS_K 0x2545f4914f6cdd1dULL

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* At most ERR_BURST error lines per second; says how many it suppressed. */
static int err_ratelimit(void)
{
	static double window;
	static unsigned int printed;
	static uint64_t suppressed;
	double t = now();

	if (t - window >= 1.0) {
		if (suppressed)
			fprintf(stderr, "MEMCHECK ERROR suppressed=%" PRIu64 "\n", suppressed);
		window = t;
		printed = 0;
		suppressed = 0;
	}
	if (printed < ERR_BURST) {
		printed++;
		return 1;
	}
	suppressed++;
	return 0;
}

/* Write path atomically: a temporary file, then rename() over it. */
static void write_file(const char *path, const char *text)
{
	char tmp[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "memcheck: %s: %s\n", tmp, strerror(errno));
		return;
	}
	fputs(text, f);
	if (fclose(f) || rename(tmp, path))
		fprintf(stderr, "memcheck: %s: %s\n", path, strerror(errno));
}

static void write_status(void)
{
	char buf[256];

	snprintf(buf, sizeof(buf),
		 "STATUS gen=%" PRIu64 " errors=%" PRIu64 " ws_errors=%" PRIu64
		 " frozen_errors=%" PRIu64 " frozen_checks=%" PRIu64 "\n",
		 gen, ws_errors + frozen_errors, ws_errors, frozen_errors, frozen_checks);
	write_file(status_path, buf);
}

static void fill_frozen(uint64_t *p, size_t words, uint64_t seed)
{
	size_t w;

	for (w = 0; w < words; w++)
		p[w] = frozen_word(seed, w);
}

static void verify_frozen(const uint64_t *p, size_t words, uint64_t seed)
{
	size_t w, pages = words / PAGE_WORDS, i;

	for (i = 0; i < pages; i++) {
		const uint64_t *pg = p + i * PAGE_WORDS;

		for (w = 0; w < PAGE_WORDS; w++) {
			if (pg[w] != frozen_word(seed, i * PAGE_WORDS + w))
				break;
		}
		if (w < PAGE_WORDS) {
			frozen_errors++;
			if (err_ratelimit())
				fprintf(stderr, "MEMCHECK ERROR frozen page=%zu check=%" PRIu64 "\n",
					i, frozen_checks);
		}
	}
	frozen_checks++;
}

static uint64_t digest(const uint64_t *p, size_t words)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t w;

	for (w = 0; w < words; w++)
		h = (h ^ p[w]) * 0x100000001b3ULL;
	return h;
}

static void do_digest(const uint64_t *p, size_t words)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "DIGEST %016" PRIx64 "\n", digest(p, words));
	write_file(digest_path, buf);
}

static void ws_write(uint64_t *pg, uint64_t seed, uint64_t i, uint64_t g)
{
	uint64_t base = ws_base(seed, i, g);
	size_t j;

	for (j = 0; j < PAGE_WORDS; j++)
		pg[j] = base ^ (j * WS_K);
}

static int ws_ok(const uint64_t *pg, uint64_t seed, uint64_t i, uint64_t g)
{
	uint64_t base = ws_base(seed, i, g);
	size_t j;

	for (j = 0; j < PAGE_WORDS; j++) {
		if (pg[j] != (base ^ (j * WS_K)))
			return 0;
	}
	return 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	digest_wanted = 1;
}

static void on_term(int sig)
{
	(void)sig;
	stop_wanted = 1;
}

static int pattern(uint64_t seed, unsigned long mib)
{
	static uint64_t buf[MIB / sizeof(uint64_t)];
	const size_t n = MIB / sizeof(uint64_t);
	unsigned long m;
	size_t w;

	for (m = 0; m < mib; m++) {
		for (w = 0; w < n; w++)
			buf[w] = frozen_word(seed, m * n + w);
		if (fwrite(buf, sizeof(buf), 1, stdout) != 1) {
			perror("memcheck: write");
			return 1;
		}
	}
	return fflush(stdout) ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: memcheck [-m MEM_MIB] [-w WS_MIB] [-r PAGES_PER_S] [-s SEED]\n"
		"                [-o STATUS_FILE] [-d DIGEST_FILE]\n"
		"       memcheck pattern SEED MIB\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long mem = 64, ws = 16, rate = 2000;
	uint64_t seed = 1, *area, *frozen, *wset;
	size_t frozen_words, ws_pages, i;
	double t0, next_frozen;
	uint64_t done = 0;
	struct sigaction sa;
	int c;

	if (argc == 4 && !strcmp(argv[1], "pattern"))
		return pattern(strtoull(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));

	while ((c = getopt(argc, argv, "m:w:r:s:o:d:")) != -1) {
		switch (c) {
		case 'm':
			mem = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			ws = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			rate = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			status_path = optarg;
			break;
		case 'd':
			digest_path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || ws == 0 || mem <= ws)
		usage();

	area = mmap(NULL, mem * MIB, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (area == MAP_FAILED) {
		perror("memcheck: mmap");
		return 1;
	}
	frozen = area;
	frozen_words = (mem - ws) * MIB / sizeof(uint64_t);
	wset = area + frozen_words;
	ws_pages = ws * MIB / PAGE_SZ;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fill_frozen(frozen, frozen_words, seed);
	for (i = 0; i < ws_pages; i++)
		ws_write(wset + i * PAGE_WORDS, seed, i, 0);
	write_status();
	fprintf(stderr, "memcheck: mem=%lu MiB ws=%lu MiB rate=%lu pages/s seed=%" PRIu64
		" area=%p\n", mem, ws, rate, seed, (void *)area);

	t0 = now();
	next_frozen = t0 + FROZEN_PERIOD;
	while (!stop_wanted) {
		uint64_t g = gen + 1;

		for (i = 0; i < ws_pages && !stop_wanted; i++) {
			uint64_t *pg = wset + i * PAGE_WORDS;

			if (digest_wanted) {
				digest_wanted = 0;
				do_digest(frozen, frozen_words);
			}
			if (!ws_ok(pg, seed, i, g - 1)) {
				ws_errors++;
				if (err_ratelimit())
					fprintf(stderr, "MEMCHECK ERROR page=%zu gen=%" PRIu64 "\n",
						i, g);
			}
			ws_write(pg, seed, i, g);
			done++;

			/* Pace to rate pages/s; a backlog over 1 s is forgiven. */
			if (rate && (done & 15) == 0) {
				double due = t0 + (double)done / rate, t = now();

				if (due > t) {
					struct timespec ts = {
						.tv_sec = (time_t)(due - t),
						.tv_nsec = (long)((due - t - (time_t)(due - t)) * 1e9),
					};

					nanosleep(&ts, NULL);
				} else if (t - due > 1.0) {
					t0 = t;
					done = 0;
				}
			}
		}
		if (i < ws_pages)
			break;
		gen = g;
		if (now() >= next_frozen) {
			verify_frozen(frozen, frozen_words, seed);
			next_frozen = now() + FROZEN_PERIOD;
		}
		write_status();
	}
	write_status();
	return 0;
}
