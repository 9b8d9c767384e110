// SPDX-License-Identifier: GPL-2.0
/*
 * The TCP transport: kernel sockets, pages sent with MSG_SPLICE_PAGES (the
 * socket takes page references, nothing is copied) and received straight
 * into the destination pages (the one copy, out of the skb).
 */
#include <linux/bvec.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "vmmig.h"
#include "auth.h"

/* A peer that stops acknowledging fails the session instead of hanging it. */
#define VMMIG_TCP_USER_TIMEOUT_MS	30000
/*
 * A destination sends almost nothing, so the user timeout alone would never
 * notice a source gone silent (link down, host dead): probes do, within
 * about the same time.
 */
#define VMMIG_TCP_KEEPIDLE_S		10
#define VMMIG_TCP_KEEPINTVL_S		5
#define VMMIG_TCP_KEEPCNT		4

/*
 * Both ends of every channel: how long an unanswered peer is waited for,
 * and no Nagle. Pages go with MSG_MORE, so segments stay full; what ends a
 * burst (a SYNC, its ACK, FIN, a blob) must leave at once, not wait behind
 * the peer's delayed ACK: that cost a SYNC's round trip 40 to 50 ms.
 */
void vmmig_tcp_sock_setup(struct socket *sock)
{
	tcp_sock_set_nodelay(sock->sk);
	tcp_sock_set_user_timeout(sock->sk, VMMIG_TCP_USER_TIMEOUT_MS);
	sock_set_keepalive(sock->sk);
	tcp_sock_set_keepidle(sock->sk, VMMIG_TCP_KEEPIDLE_S);
	tcp_sock_set_keepintvl(sock->sk, VMMIG_TCP_KEEPINTVL_S);
	tcp_sock_set_keepcnt(sock->sk, VMMIG_TCP_KEEPCNT);
}

static int vmmig_tcp_connect(struct vmmig_channel *ch, struct net *net,
			     struct sockaddr_storage *addr, int addrlen,
			     unsigned long timeout)
{
	struct socket *sock;
	int ret;

	ret = sock_create_kern(net, addr->ss_family, SOCK_STREAM, IPPROTO_TCP, &sock);
	if (ret)
		return ret;
	sock->sk->sk_sndtimeo = timeout;
	sock->sk->sk_rcvtimeo = timeout;
	ret = kernel_connect(sock, (struct sockaddr *)addr, addrlen, 0);
	if (ret) {
		sock_release(sock);
		return ret == -EINPROGRESS || ret == -EAGAIN ? -ETIMEDOUT : ret;
	}
	vmmig_tcp_sock_setup(sock);
	ch->sock = sock;
	return 0;
}

/*
 * A frame cut short by a signal cannot be taken up again by restarting the
 * system call: the session ends, and the reason a person sees is EINTR,
 * not an errno userspace must never get.
 */
static int vmmig_tcp_errno(int ret)
{
	return ret == -ERESTARTSYS ? -EINTR : ret;
}

/*
 * The socket's own error (user timeout, keepalive, reset, a TLS record
 * that fails authentication) is handed out once, to whichever of the
 * channel's sender and receive thread asks first; the other sees only a
 * closed socket, EPIPE or the end of the stream, and may be the first to
 * end the session, naming that instead of the cause. TCP reports the error
 * before it wakes either of them: it is kept here for both.
 */
static void vmmig_tcp_error_report(struct sock *sk)
{
	struct vmmig_channel *ch;

	read_lock_bh(&sk->sk_callback_lock);
	ch = sk->sk_user_data;
	if (ch) {
		if (!ch->sock_err)
			WRITE_ONCE(ch->sock_err, -READ_ONCE(sk->sk_err));
		ch->sk_error_report(sk);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/* The channel is in its place in the session: its sock errors are kept. */
static int vmmig_tcp_start(struct vmmig_channel *ch)
{
	struct sock *sk = ch->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	ch->sock_err = 0;
	ch->sk_error_report = sk->sk_error_report;
	sk->sk_user_data = ch;
	sk->sk_error_report = vmmig_tcp_error_report;
	write_unlock_bh(&sk->sk_callback_lock);
	return 0;
}

/* @ret: what a call on a closed socket returned; better, why it closed. */
static int vmmig_tcp_closed(struct vmmig_channel *ch, int ret)
{
	return READ_ONCE(ch->sock_err) ?: ret;
}

static int vmmig_tcp_sendmsg(struct vmmig_channel *ch, struct msghdr *msg)
{
	int ret;

	/* What the bandwidth caps count: the bytes handed to the (TLS) socket. */
	ret = ch->sess ? vmmig_send_throttle(ch->sess, msg_data_left(msg)) : 0;
	if (ret)
		return ret;
	while (msg_data_left(msg)) {
		ret = sock_sendmsg(ch->sock, msg);
		if (ret == -EAGAIN)
			return -ETIMEDOUT;
		if (ret == -EPIPE || !ret)
			return vmmig_tcp_closed(ch, -EPIPE);
		if (ret < 0)
			return vmmig_tcp_errno(ret);
		if (ch->sess)
			atomic64_add(ret, &ch->sess->bytes_wire);
	}
	return 0;
}

static int vmmig_tcp_send(struct vmmig_channel *ch, const void *buf, size_t len,
			  bool more)
{
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0) };

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &iov, 1, len);
	return vmmig_tcp_sendmsg(ch, &msg);
}

/* bio_vecs on the stack per sendmsg/recvmsg: a run goes in a few calls. */
#define VMMIG_TCP_BVECS	16

static void vmmig_bvec_fill(struct bio_vec *bvec, struct page **pages, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		bvec_set_page(&bvec[i], pages[i], PAGE_SIZE, 0);
}

static int vmmig_tcp_send_pages(struct vmmig_channel *ch, u32 region, u64 page,
				struct page **pages, unsigned int n)
{
	struct bio_vec bvec[VMMIG_TCP_BVECS];
	unsigned int i, k;
	int ret;

	for (i = 0; i < n; i += k) {
		struct msghdr msg = {
			.msg_flags = MSG_SPLICE_PAGES | MSG_NOSIGNAL | MSG_MORE,
		};

		k = min(n - i, VMMIG_TCP_BVECS);
		vmmig_bvec_fill(bvec, pages + i, k);
		iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bvec, k, k * PAGE_SIZE);
		ret = vmmig_tcp_sendmsg(ch, &msg);
		if (ret)
			return ret;
	}
	return 0;
}

static int vmmig_tcp_recvmsg(struct vmmig_channel *ch, struct msghdr *msg)
{
	int ret;

	while (msg_data_left(msg)) {
		ret = sock_recvmsg(ch->sock, msg, MSG_WAITALL);
		if (ret == 0 || ret == -ENOTCONN)
			return vmmig_tcp_closed(ch, -ECONNRESET);
		if (ret == -EAGAIN)
			return -ETIMEDOUT;
		if (ret < 0)
			return vmmig_tcp_errno(ret);
		if (ch->sess)
			atomic64_add(ret, &ch->sess->bytes_wire);
	}
	return 0;
}

static int vmmig_tcp_recv(struct vmmig_channel *ch, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {};

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &iov, 1, len);
	return vmmig_tcp_recvmsg(ch, &msg);
}

static int vmmig_tcp_recv_pages(struct vmmig_channel *ch, struct page **pages,
				unsigned int n)
{
	struct bio_vec bvec[VMMIG_TCP_BVECS];
	unsigned int i, j, k;
	int ret;

	for (i = 0; i < n; i += k) {
		struct msghdr msg = {};

		k = min(n - i, VMMIG_TCP_BVECS);
		vmmig_bvec_fill(bvec, pages + i, k);
		iov_iter_bvec(&msg.msg_iter, ITER_DEST, bvec, k, k * PAGE_SIZE);
		ret = vmmig_tcp_recvmsg(ch, &msg);
		for (j = 0; j < k; j++)
			flush_dcache_page(pages[i + j]);
		if (ret)
			return ret;
	}
	return 0;
}

static void vmmig_tcp_set_timeout(struct vmmig_channel *ch, unsigned long timeout)
{
	WRITE_ONCE(ch->sock->sk->sk_sndtimeo, timeout);
	WRITE_ONCE(ch->sock->sk->sk_rcvtimeo, timeout);
}

static int vmmig_tcp_start_encryption(struct vmmig_channel *ch,
				      const struct vmmig_traffic_key *tx,
				      const struct vmmig_traffic_key *rx)
{
	return vmmig_ktls_start(ch->sock, tx, rx);
}

static void vmmig_tcp_shutdown(struct vmmig_channel *ch)
{
	if (ch->sock)
		kernel_sock_shutdown(ch->sock, SHUT_RDWR);
}

static void vmmig_tcp_release(struct vmmig_channel *ch)
{
	struct sock *sk = ch->sock ? ch->sock->sk : NULL;

	/* An orphaned socket still reports errors, long after the channel. */
	if (sk && sk->sk_user_data == ch) {
		write_lock_bh(&sk->sk_callback_lock);
		sk->sk_user_data = NULL;
		sk->sk_error_report = ch->sk_error_report;
		write_unlock_bh(&sk->sk_callback_lock);
	}
	if (ch->sock)
		sock_release(ch->sock);
	ch->sock = NULL;
}

const struct vmmig_transport_ops vmmig_tcp_ops = {
	.name		= "tcp",
	.connect	= vmmig_tcp_connect,
	.send		= vmmig_tcp_send,
	.send_pages	= vmmig_tcp_send_pages,
	.recv		= vmmig_tcp_recv,
	.recv_pages	= vmmig_tcp_recv_pages,
	.start		= vmmig_tcp_start,
	.set_timeout	= vmmig_tcp_set_timeout,
	.start_encryption = vmmig_tcp_start_encryption,
	.shutdown	= vmmig_tcp_shutdown,
	.release	= vmmig_tcp_release,
};
