// SPDX-License-Identifier: GPL-2.0
/*
 * The monitor (see monitor.h): the VMM's main loop with its Unix socket,
 * and the client that renders a move's progress and summary for people.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "migrate.h"
#include "monitor.h"
#include "vmmig_lib.h"

#define MON_LINE_MAX	4096

static int mon_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

static int mon_listen(const char *path)
{
	struct sockaddr_un sun;
	int fd, err;

	err = mon_addr(path, &sun);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);	/* a socket left by an earlier VMM */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 4)) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

static void mon_send(int fd, const char *fmt, ...) __printf(2, 3);

static void mon_send(int fd, const char *fmt, ...)
{
	char buf[MON_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* A client that went away (or stalls) loses its lines; the VMM carries on. */
	if (send(fd, buf, n, MSG_NOSIGNAL) < 0)
		return;
}

/* One line from the client, within a couple of seconds. */
static int mon_read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n < size - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 2000) <= 0)
			return -ETIMEDOUT;
		r = read(fd, buf + n, 1);
		if (r <= 0)
			return -ECONNRESET;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return 0;
}

struct mon_client {
	int fd;
};

static void mon_sink_line(void *ctx, const char *line)
{
	struct mon_client *c = ctx;

	mon_send(c->fd, "%s", line);
	if (!strncmp(line, "log ", 4))
		vmm_log("%s", line + 4);
}

/* The requester hung up (EOF on its socket): the move is cancelled. */
static bool mon_sink_cancelled(void *ctx)
{
	struct mon_client *c = ctx;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	char b;

	if (poll(&p, 1, 0) <= 0)
		return false;
	return recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static void mon_status(struct vm *vm, int fd)
{
	struct guest_info *info = vm_info(vm);
	const char *state;

	pthread_mutex_lock(&vm->lock);
	state = vm->state == VM_STOPPED ? "stopped" : vm->hold ? "held" : "running";
	pthread_mutex_unlock(&vm->lock);
	mon_send(fd, "status state=%s vcpus=%u ram_mib=%llu disk=%s migrations=%llu",
		 state, vm->ncpus, vm->ram_bytes >> 20, vm->disk.fd >= 0 ? vm->disk.path : "-",
		 info->migrations);
	mon_send(fd, "status progress=%llu passes=%llu errors=%llu gap_us=%llu",
		 info->progress, info->passes, info->errors, info->gap_us);
	mon_send(fd, "ok");
}

static void mon_move(struct vm *vm, int fd, char *args)
{
	struct mon_client c = { .fd = fd };
	struct mig_sink sink = {
		.line = mon_sink_line, .cancelled = mon_sink_cancelled, .ctx = &c,
	};
	struct move_opts o;
	char err[1024];

	if (move_opts_parse(&o, args, err, sizeof(err))) {
		mon_send(fd, "error %s", err);
		return;
	}
	vmm_log("moving to %s", o.to);
	if (migrate_move(vm, &o, &sink, err, sizeof(err))) {
		vmm_log("move to %s failed: %s; the VM runs on here", o.to, err);
		mon_send(fd, "error %s; the VM runs on here", err);
		return;
	}
	vmm_log("moved to %s: the VM runs there now", o.to);
	mon_send(fd, "ok moved");
	vm_stop(vm, 0, "moved to %s", o.to);
}

static void mon_client(struct vm *vm, int lfd)
{
	struct timeval tv = { .tv_sec = 2 };
	char line[MON_LINE_MAX];
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (mon_read_line(fd, line, sizeof(line))) {
		close(fd);
		return;
	}
	if (!strcmp(line, "status")) {
		mon_status(vm, fd);
	} else if (!strcmp(line, "quit")) {
		vm_stop(vm, 0, "quit from the monitor");
		mon_send(fd, "ok");
	} else if (!strncmp(line, "move ", 5)) {
		mon_move(vm, fd, line + 5);
	} else {
		mon_send(fd, "error unknown command '%s' (status, quit, move)", line);
	}
	close(fd);
}

int monitor_serve(struct vm *vm, const char *path, int sig_fd)
{
	struct pollfd p[3] = {
		{ .fd = vm->event_fd, .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};
	int code;

	if (path) {
		p[2].fd = mon_listen(path);
		if (p[2].fd < 0) {
			vmm_log("monitor %s: %s", path, strerror(-p[2].fd));
			vm_stop(vm, 1, "no monitor");
		}
	}
	for (;;) {
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				vm_stop(vm, 128 + si.ssi_signo, "killed by signal %u",
					si.ssi_signo);
			continue;
		}
		if (p[2].fd >= 0 && p[2].revents)
			mon_client(vm, p[2].fd);
	}
	if (p[2].fd >= 0) {
		close(p[2].fd);
		unlink(path);
	}
	code = vm_wait(vm);
	vmm_log("%s", vm->exit_reason);
	return code;
}

/* ---- client ---- */

/* The value of KEY in a "KEY=VALUE ..." line, or @def. */
static const char *kv(const char *line, const char *key, char *buf, size_t size,
		      const char *def)
{
	size_t klen = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " ");

			if (n >= size)
				n = size - 1;
			memcpy(buf, p + klen + 1, n);
			buf[n] = 0;
			return buf;
		}
		p += klen;
	}
	return def;
}

static long long kvn(const char *line, const char *key)
{
	char buf[64];

	return strtoll(kv(line, key, buf, sizeof(buf), "0"), NULL, 10);
}

static void render_progress(const char *line, bool tty)
{
	char phase[16], out[256];
	long long rate = kvn(line, "rate");

	kv(line, "phase", phase, sizeof(phase), "precopy");
	if (!strcmp(phase, "final"))
		snprintf(out, sizeof(out), "final copy, guest stopped: %lld pages",
			 kvn(line, "remaining"));
	else
		snprintf(out, sizeof(out),
			 "round %lld  %3lld%%  %lld pages left  %.1f MB/s  ETA %.1f s%s",
			 kvn(line, "round"), kvn(line, "percent"), kvn(line, "remaining"),
			 rate / 1e6, kvn(line, "eta_ms") / 1000.0,
			 kvn(line, "throttle") ? "  (vCPUs throttled)" : "");
	if (tty)
		printf("\r%-78s", out);
	else
		printf("%s\n", out);
	fflush(stdout);
}

static void render_summary(const char *line)
{
	long long in = kvn(line, "comp_in"), out = kvn(line, "comp_out");
	long long gap = kvn(line, "guest_gap_us"), wire = kvn(line, "bytes_wire");
	long long total = kvn(line, "total_ms");
	char to[80], comp[16], storage[16], verify[16];

	kv(line, "to", to, sizeof(to), "?");
	kv(line, "compression", comp, sizeof(comp), "none");
	kv(line, "storage", storage, sizeof(storage), "none");
	kv(line, "verify", verify, sizeof(verify), "off");
	printf("moved to %s in %.2f s\n", to, total / 1000.0);
	printf("  rounds          %lld pre-copy, then %lld pages with the guest stopped\n",
	       kvn(line, "rounds"), kvn(line, "final_pages"));
	printf("  downtime        %.1f ms (source stopped -> destination running)\n",
	       kvn(line, "downtime_us") / 1000.0);
	printf("                  last copy %.1f, restore %.1f, verify %.1f, handover %.1f ms\n",
	       kvn(line, "final_us") / 1000.0, kvn(line, "restore_us") / 1000.0,
	       kvn(line, "verify_us") / 1000.0, kvn(line, "handover_us") / 1000.0);
	if (gap >= 0)
		printf("  guest clock gap %.1f ms (what the guest saw on its own clock)\n",
		       gap / 1000.0);
	else
		printf("  guest clock gap not reported by the guest\n");
	printf("  pages sent      %lld (%lld of them zero pages)\n", kvn(line, "pages"),
	       kvn(line, "zero_pages"));
	printf("  on the wire     %.1f MB over %lld channel(s), %.1f MB/s on average\n",
	       wire / 1e6, kvn(line, "channels"), total ? wire / 1e3 / total : 0.0);
	if (strcmp(comp, "none") && in)
		printf("  compression     %s: %.1f MB -> %.1f MB (%.0f %%)\n", comp, in / 1e6,
		       out / 1e6, out * 100.0 / in);
	else
		printf("  compression     %s\n", comp);
	printf("  storage         %s\n", !strcmp(storage, "copied") ? "copied with the VM" :
	       !strcmp(storage, "shared") ? "shared (not copied)" : "no disk");
	printf("  verify          %s\n", !strcmp(verify, "equal") ?
	       "RAM and disk digests equal on both hosts" : "off");
	if (kvn(line, "throttle_max"))
		printf("  throttle        vCPUs held up to %lld %% of the time\n",
		       kvn(line, "throttle_max"));
}

int monitor_command(const char *path, const char *cmd, bool raw)
{
	bool tty = isatty(STDOUT_FILENO), in_progress = false, answered = false;
	struct sockaddr_un sun;
	char line[MON_LINE_MAX];
	size_t n = 0;
	int fd, ret = 1;
	FILE *f;

	if (mon_addr(path, &sun)) {
		fprintf(stderr, "monitor path too long: %s\n", path);
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		fprintf(stderr, "cannot reach the VMM's monitor at %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	n = strlen(cmd);
	if (send(fd, cmd, n, MSG_NOSIGNAL) != (ssize_t)n || send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		fprintf(stderr, "monitor %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (raw && strncmp(line, "ok", 2) && strncmp(line, "error ", 6)) {
			printf("%s\n", line);
			fflush(stdout);
			continue;
		}
		if (in_progress && tty && strncmp(line, "progress ", 9)) {
			printf("\n");
			in_progress = false;
		}
		if (!strncmp(line, "log ", 4)) {
			printf("%s\n", line + 4);
		} else if (!strncmp(line, "progress ", 9)) {
			render_progress(line + 9, tty);
			in_progress = true;
		} else if (!strncmp(line, "summary ", 8)) {
			render_summary(line + 8);
		} else if (!strncmp(line, "status ", 7)) {
			printf("%s\n", line + 7);
		} else if (!strncmp(line, "ok", 2)) {
			ret = 0;
			answered = true;
			break;
		} else if (!strncmp(line, "error ", 6)) {
			fprintf(stderr, "%s\n", line + 6);
			answered = true;
			break;
		}
		fflush(stdout);
	}
	if (!answered)
		fprintf(stderr, "the VMM closed the monitor without an answer\n");
	fclose(f);
	return ret;
}
