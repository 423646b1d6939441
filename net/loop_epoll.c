/*
 * loop_epoll.c - the epoll backend of the event loop, for kernels or
 * sandboxes without io_uring. Level-triggered: one read per ready socket
 * per tick (fairness between connections), into one loop-wide buffer;
 * sends are writev() straight from the output chunks, falling back to
 * EPOLLOUT when the socket buffer is full.
 */
#include "net/loop_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/limits.h"

#define EVENTS_MAX 256
#define SEND_IOV   64

/* Markers for the non-connection fds in epoll_event.data.u64. A pointer
 * is 8-aligned, so small odd values never collide with one. */
#define MARK_WAKE      1ULL
#define MARK_LISTEN(i) (3ULL + ((uint64_t)(i) << 1))

struct epl {
	int epfd;
	int listen_fd[AP_BIND_MAX];
	int listen_count;
	char *rbuf;
};

static int epoll_listen(struct ap_net_loop *l, int fd)
{
	struct epl *e = l->impl;
	if (e->listen_count >= AP_BIND_MAX)
		return -ENOSPC;
	struct epoll_event ev = {.events = EPOLLIN,
				 .data.u64 = MARK_LISTEN(e->listen_count)};
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	e->listen_fd[e->listen_count++] = fd;
	return 0;
}

static int epoll_conn_start(struct ap_net_loop *l, struct ap_net_conn *c)
{
	struct epl *e = l->impl;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -errno;
	c->flags |= AP_NC_RECV_ARMED;
	return 0;
}

/* The interest set of a connection: input unless paused, output while
 * a send waits for room. */
static bool set_interest(struct epl *e, struct ap_net_conn *c, bool write)
{
	uint32_t in =
		(c->flags & AP_NC_RECV_PAUSED) ? 0u : EPOLLIN | EPOLLRDHUP;
	struct epoll_event ev = {.events = in | (write ? EPOLLOUT : 0u),
				 .data.ptr = c};
	return epoll_ctl(e->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

static void set_want_write(struct epl *e, struct ap_net_conn *c, bool on)
{
	if (!!(c->flags & AP_NC_WANT_WRITE) == on)
		return;
	if (set_interest(e, c, on)) {
		if (on)
			c->flags |= AP_NC_WANT_WRITE;
		else
			c->flags &= ~AP_NC_WANT_WRITE;
	}
}

static void epoll_recv_toggle(struct ap_net_loop *l, struct ap_net_conn *c)
{
	if (c->flags & AP_NC_RECV_ARMED)
		(void)set_interest(l->impl, c, c->flags & AP_NC_WANT_WRITE);
}

static void epoll_send(struct ap_net_loop *l, struct ap_net_conn *c)
{
	struct epl *e = l->impl;
	while (c->out.len > 0) {
		struct iovec iov[SEND_IOV];
		size_t len;
		int n = ap_net_conn_iov(c, iov, SEND_IOV, &len);
		ssize_t w = writev(c->fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_want_write(e, c, true);
			return;
		}
		if (w < 0) {
			ap_net_conn_sent(l, c, -errno);
			return;
		}
		ap_obuf_consume(&c->out, (size_t)w);
		c->bytes_out += (uint64_t)w;
		l->bytes_out += (uint64_t)w;
		if ((size_t)w < len) {
			set_want_write(e, c, true);
			return;
		}
	}
	set_want_write(e, c, false);
	ap_net_conn_try_finish(l, c);
}

static void epoll_cancel(struct ap_net_loop *l, struct ap_net_conn *c)
{
	struct epl *e = l->impl;
	if (c->flags & AP_NC_RECV_ARMED) {
		(void)epoll_ctl(e->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		c->flags &= ~(AP_NC_RECV_ARMED | AP_NC_WANT_WRITE);
	}
	if (!(c->flags & AP_NC_EOF) && c->out.len > 0) {
		/* Flushing before close: keep writing when it drains. */
		struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
		if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, c->fd, &ev) == 0) {
			c->flags |= AP_NC_RECV_ARMED | AP_NC_WANT_WRITE;
			(void)shutdown(c->fd, SHUT_RD);
		}
	}
}

static void conn_eof(struct ap_net_loop *l, struct ap_net_conn *c, int err)
{
	if (c->flags & AP_NC_EOF)
		return;
	c->flags |= AP_NC_EOF;
	if (!(c->flags & AP_NC_CLOSING))
		l->ops->eof(l->owner, c, err);
	ap_net_conn_try_finish(l, c);
}

static void conn_readable(struct ap_net_loop *l, struct epl *e,
			  struct ap_net_conn *c)
{
	ssize_t n = recv(c->fd, e->rbuf, AP_RECV_BUF_SIZE, 0);
	if (n > 0) {
		c->bytes_in += (uint64_t)n;
		l->ops->recv(l->owner, c, e->rbuf, (size_t)n);
	} else if (n == 0) {
		conn_eof(l, c, 0);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		conn_eof(l, c, -errno);
	}
}

static void do_accept(struct ap_net_loop *l, int lfd)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != ECONNABORTED && errno != EINTR)
				ap_log(AP_LOG_WARNING, "accept: %s",
				       strerror(errno));
			return;
		}
		l->ops->accept(l->owner, fd);
	}
}

/* epoll has no asynchronous file I/O: the write and the fdatasync run
 * here, and the done call comes from the next ap_net_loop_run_once. */
static void epoll_file_submit(struct ap_net_loop *l, struct ap_net_file_op *op)
{
	if (op->len > 0) {
		ssize_t n;
		do
			n = pwrite(op->fd, op->buf, op->len, (off_t)op->off);
		while (n < 0 && errno == EINTR);
		op->write_res = n < 0 ? -errno : (long)n;
		ap_net_file_complete(l, op);
	}
	if (op->sync) {
		if (op->len > 0 && op->write_res != (long)op->len)
			op->sync_res = -ECANCELED;
		else
			op->sync_res = fdatasync(op->fd) < 0 ? -errno : 0;
		ap_net_file_complete(l, op);
	}
}

static void epoll_run_once(struct ap_net_loop *l, int64_t timeout_us)
{
	struct epl *e = l->impl;
	ap_net_loop_flush_sends(l);
	ap_net_loop_reap(l);
	int timeout_ms = timeout_us < 0	   ? -1
			 : timeout_us == 0 ? 0
					   : (int)((timeout_us + 999) / 1000);
	struct epoll_event evs[EVENTS_MAX];
	int n = epoll_wait(e->epfd, evs, EVENTS_MAX, timeout_ms);
	for (int i = 0; i < n; i++) {
		uint64_t mark = evs[i].data.u64;
		if (mark == MARK_WAKE) {
			uint64_t v;
			ssize_t r = read(l->wake_fd, &v, sizeof(v));
			(void)r;
			l->ops->wake(l->owner);
			continue;
		}
		if (mark & 1) {
			do_accept(l, e->listen_fd[(mark - 3) >> 1]);
			continue;
		}
		struct ap_net_conn *c = evs[i].data.ptr;
		if (c->flags & AP_NC_CLOSED)
			continue;
		uint32_t ev = evs[i].events;
		if ((ev & EPOLLOUT) && !(c->flags & AP_NC_EOF))
			epoll_send(l, c);
		if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
		    !(c->flags &
		      (AP_NC_CLOSING | AP_NC_EOF | AP_NC_RECV_PAUSED)))
			conn_readable(l, e, c);
		else if ((ev & (EPOLLHUP | EPOLLERR)) &&
			 !(c->flags & AP_NC_EOF))
			conn_eof(l, c, -EPIPE);
	}
	ap_net_loop_reap(l);
}

static void epoll_destroy(struct ap_net_loop *l)
{
	struct epl *e = l->impl;
	close(e->epfd);
	ap_free(e->rbuf);
	ap_free(e);
}

static const struct ap_net_backend epoll_backend = {
	.name = "epoll",
	.listen = epoll_listen,
	.conn_start = epoll_conn_start,
	.send = epoll_send,
	.cancel = epoll_cancel,
	.recv_pause = epoll_recv_toggle,
	.recv_resume = epoll_recv_toggle,
	.run_once = epoll_run_once,
	.file_submit = epoll_file_submit,
	.destroy = epoll_destroy,
};

int ap_net_epoll_create(struct ap_net_loop *l, char *why, size_t why_size)
{
	struct epl *e = ap_calloc(1, sizeof(*e));
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0) {
		snprintf(why, why_size, "epoll_create1: %s", strerror(errno));
		ap_free(e);
		return -errno;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = MARK_WAKE};
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev) < 0) {
		snprintf(why, why_size, "epoll_ctl: %s", strerror(errno));
		close(e->epfd);
		ap_free(e);
		return -errno;
	}
	e->rbuf = ap_malloc(AP_RECV_BUF_SIZE);
	l->impl = e;
	l->be = &epoll_backend;
	return 0;
}
