// SPDX-License-Identifier: GPL-2.0
/*
 * The control connection between the source and the destination VMM (see
 * control.h for the conversation): plain TCP, with keepalives and a user
 * timeout so that a dead peer or a cut link shows within seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "vmm.h"

/* A peer silent for this long is gone. */
#define CTL_USER_TIMEOUT_MS	10000

static socklen_t ctl_sockaddr(const struct vml_addr *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(a->port);
	memcpy(&sin6->sin6_addr, a->addr, 16);
	return sizeof(*sin6);
}

static void ctl_sockopts(int fd)
{
	int one = 1, idle = 2, intvl = 1, cnt = 5, uto = CTL_USER_TIMEOUT_MS;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

static int ctl_poll(int fd, short events, unsigned int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret;

	do {
		ret = poll(&p, 1, timeout_ms ? (int)timeout_ms : -1);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	return ret ? 0 : -ETIMEDOUT;
}

int ctl_connect(const struct vml_addr *to, unsigned int timeout_ms)
{
	u64 deadline = now_ns() + (u64)timeout_ms * 1000000;
	struct sockaddr_storage ss;
	socklen_t len = ctl_sockaddr(to, &ss);
	int fd, err;
	socklen_t elen = sizeof(err);

	for (;;) {
		fd = socket(to->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		err = 0;
		if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
			err = errno;
			if (err == EINPROGRESS) {
				u64 now = now_ns();
				int ret = now < deadline ?
					  ctl_poll(fd, POLLOUT, (deadline - now) / 1000000 + 1) :
					  -ETIMEDOUT;

				err = ret ? -ret : 0;
				if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
					err = errno;
			}
		}
		if (!err)
			break;
		close(fd);
		/* The destination may still be setting up: retry a refusal. */
		if (err != ECONNREFUSED || now_ns() >= deadline)
			return -err;
		usleep(50000);
	}
	/* Blocking from here on; ctl_recv() polls with its own timeouts. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	ctl_sockopts(fd);
	return fd;
}

int ctl_listen(const struct vml_addr *at)
{
	struct sockaddr_storage ss;
	socklen_t len = ctl_sockaddr(at, &ss);
	int fd, one = 1, err;

	fd = socket(at->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1)) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int ctl_accept(int lfd, unsigned int timeout_ms, struct vml_addr *peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, ret;

	ret = ctl_poll(lfd, POLLIN, timeout_ms);
	if (ret)
		return ret;
	fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	ctl_sockopts(fd);
	if (peer) {
		memset(peer, 0, sizeof(*peer));
		peer->family = ss.ss_family;
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			peer->port = ntohs(sin->sin_port);
			memcpy(peer->addr, &sin->sin_addr, 4);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			peer->port = ntohs(sin6->sin6_port);
			memcpy(peer->addr, &sin6->sin6_addr, 16);
		}
	}
	return fd;
}

static int ctl_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int ctl_send(int fd, u32 type, const void *payload, u32 len)
{
	struct ctl_hdr h = { .magic = CTL_MAGIC, .type = type, .len = len };
	char buf[sizeof(h) + CTL_MAX_PAYLOAD];

	if (len > CTL_MAX_PAYLOAD)
		return -EMSGSIZE;
	/* One send per message: a message never waits for a delayed ACK. */
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, len);
	return ctl_write_all(fd, buf, sizeof(h) + len);
}

int ctl_send_error(int fd, const char *msg)
{
	struct ctl_error e;

	memset(&e, 0, sizeof(e));
	snprintf(e.msg, sizeof(e.msg), "%s", msg);
	return ctl_send(fd, CTL_ERROR, &e, sizeof(e));
}

static int ctl_read_all(int fd, void *buf, size_t len, u64 deadline)
{
	char *p = buf;

	while (len) {
		u64 now = now_ns();
		ssize_t n;
		int ret;

		if (deadline) {
			if (now >= deadline)
				return -ETIMEDOUT;
			ret = ctl_poll(fd, POLLIN, (deadline - now) / 1000000 + 1);
			if (ret)
				return ret;
		}
		n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ECONNRESET;
		p += n;
		len -= n;
	}
	return 0;
}

int ctl_recv(int fd, unsigned int timeout_ms, u32 *type, void *buf, u32 size,
	     u32 *len)
{
	u64 deadline = timeout_ms ? now_ns() + (u64)timeout_ms * 1000000 : 0;
	char payload[CTL_MAX_PAYLOAD];
	struct ctl_hdr h;
	int ret;

	ret = ctl_read_all(fd, &h, sizeof(h), deadline);
	if (ret)
		return ret;
	if (h.magic != CTL_MAGIC || h.len > CTL_MAX_PAYLOAD)
		return -EPROTO;
	ret = ctl_read_all(fd, payload, h.len, deadline);
	if (ret)
		return ret;
	memset(buf, 0, size);
	memcpy(buf, payload, h.len < size ? h.len : size);
	*type = h.type;
	if (len)
		*len = h.len;
	return 0;
}

int ctl_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}
