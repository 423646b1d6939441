/*
 * loop.c - the event loop parts common to both backends: creation and
 * backend choice, the to-send list, close bookkeeping, socket helpers.
 */
#include "net/loop_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/limits.h"

struct ap_net_loop *ap_net_loop_create(enum ap_reactor_kind kind,
				       const struct ap_net_ops *ops,
				       void *owner, char *why, size_t why_size)
{
	struct ap_net_loop *l = ap_calloc(1, sizeof(*l));
	l->ops = ops;
	l->owner = owner;
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake_fd < 0) {
		snprintf(why, why_size, "eventfd: %s", strerror(errno));
		ap_free(l);
		return NULL;
	}
	why[0] = '\0';
	int rc = -EINVAL;
	if (kind != AP_REACTOR_EPOLL) {
		rc = ap_net_uring_create(l, why, why_size);
		if (rc < 0 && kind == AP_REACTOR_URING) {
			close(l->wake_fd);
			ap_free(l);
			return NULL;
		}
	} else {
		snprintf(why, why_size, "reactor epoll was configured");
	}
	if (rc < 0) {
		char why2[256];
		rc = ap_net_epoll_create(l, why2, sizeof(why2));
		if (rc < 0) {
			snprintf(why, why_size, "%s", why2);
			close(l->wake_fd);
			ap_free(l);
			return NULL;
		}
	}
	return l;
}

void ap_net_loop_destroy(struct ap_net_loop *l)
{
	if (!l)
		return;
	l->be->destroy(l);
	close(l->wake_fd);
	ap_free(l);
}

const char *ap_net_loop_kind_name(const struct ap_net_loop *l)
{
	return l->be->name;
}

int ap_net_listen(struct ap_net_loop *l, int listen_fd)
{
	return l->be->listen(l, listen_fd);
}

int ap_net_conn_start(struct ap_net_loop *l, struct ap_net_conn *c, int fd)
{
	int one = 1;
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	ap_obuf_init(&c->out);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	/* Best effort: a unix socket has no TCP_NODELAY. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return l->be->conn_start(l, c);
}

void ap_net_conn_flush(struct ap_net_loop *l, struct ap_net_conn *c)
{
	if (c->flags & (AP_NC_SEND_QUEUED | AP_NC_CLOSED))
		return;
	if ((c->flags & AP_NC_CLOSING) && !(c->flags & AP_NC_EOF) &&
	    c->out.len == 0)
		return;
	c->flags |= AP_NC_SEND_QUEUED;
	c->send_next = l->send_head;
	l->send_head = c;
}

void ap_net_conn_close(struct ap_net_loop *l, struct ap_net_conn *c,
		       bool after_flush)
{
	if (c->flags & AP_NC_CLOSING)
		return;
	c->flags |= AP_NC_CLOSING;
	if (!after_flush || (c->flags & AP_NC_EOF)) {
		/* Drop what was not sent yet (but never a chunk the kernel
		 * is reading: the send completion consumes it). */
		if (!(c->flags & AP_NC_SENDING)) {
			ap_obuf_deinit(&c->out);
			ap_obuf_init(&c->out);
		}
		c->flags |= AP_NC_EOF;
	}
	l->be->cancel(l, c);
	ap_net_conn_try_finish(l, c);
}

void ap_net_conn_try_finish(struct ap_net_loop *l, struct ap_net_conn *c)
{
	if (!(c->flags & AP_NC_CLOSING) || (c->flags & AP_NC_CLOSED))
		return;
	if (c->inflight > 0)
		return;
	if (!(c->flags & AP_NC_EOF) && c->out.len > 0)
		return; /* still flushing before the close */
	if (c->flags & AP_NC_SEND_QUEUED)
		return; /* flush_sends will come back here */
	c->flags |= AP_NC_CLOSED;
	close(c->fd);
	c->fd = -1;
	ap_obuf_deinit(&c->out);
	ap_free(c->send_state);
	c->send_state = NULL;
	c->close_next = l->close_head;
	l->close_head = c;
}

void ap_net_loop_reap(struct ap_net_loop *l)
{
	while (l->close_head) {
		struct ap_net_conn *c = l->close_head;
		l->close_head = c->close_next;
		l->ops->closed(l->owner, c);
	}
}

void ap_net_loop_flush_sends(struct ap_net_loop *l)
{
	struct ap_net_conn *c = l->send_head;
	l->send_head = NULL;
	while (c) {
		struct ap_net_conn *next = c->send_next;
		c->flags &= ~AP_NC_SEND_QUEUED;
		if (c->flags & AP_NC_EOF) {
			ap_net_conn_try_finish(l, c);
		} else if (!(c->flags & AP_NC_SENDING) && c->out.len > 0) {
			l->be->send(l, c);
		} else {
			ap_net_conn_try_finish(l, c);
		}
		c = next;
	}
}

void ap_net_conn_sent(struct ap_net_loop *l, struct ap_net_conn *c, long res)
{
	c->flags &= ~AP_NC_SENDING;
	if (res < 0) {
		if (!(c->flags & AP_NC_EOF)) {
			c->flags |= AP_NC_EOF;
			if (!(c->flags & AP_NC_CLOSING))
				l->ops->eof(l->owner, c, (int)res);
		}
		ap_net_conn_try_finish(l, c);
		return;
	}
	ap_obuf_consume(&c->out, (size_t)res);
	c->bytes_out += (uint64_t)res;
	l->bytes_out += (uint64_t)res;
	if (c->flags & AP_NC_EOF) {
		ap_obuf_deinit(&c->out);
		ap_obuf_init(&c->out);
		ap_net_conn_try_finish(l, c);
		return;
	}
	if (c->out.len > 0)
		ap_net_conn_flush(l, c);
	else
		ap_net_conn_try_finish(l, c);
}

int ap_net_conn_iov(struct ap_net_conn *c, struct iovec *iov, int max,
		    size_t *len)
{
	int n = 0;
	size_t total = 0;
	for (struct ap_obuf_chunk *ch = c->out.head; ch && n < max;
	     ch = ch->next) {
		if (ch->len <= ch->sent)
			continue;
		iov[n].iov_base = ch->data + ch->sent;
		iov[n].iov_len = ch->len - ch->sent;
		total += iov[n].iov_len;
		n++;
	}
	*len = total;
	return n;
}

void ap_net_loop_run_once(struct ap_net_loop *l, int64_t timeout_us)
{
	if (l->file_done_head) /* epoll's synchronous file ops are done */
		timeout_us = 0;
	l->be->run_once(l, timeout_us);
	ap_net_file_reap(l);
}

void ap_net_file_submit(struct ap_net_loop *l, struct ap_net_file_op *op)
{
	AP_ASSERT(op->len > 0 || op->sync);
	op->write_res = 0;
	op->sync_res = 0;
	op->next = NULL;
	op->pending = (op->len > 0) + op->sync;
	l->files_inflight++;
	l->be->file_submit(l, op);
}

bool ap_net_file_busy(const struct ap_net_loop *l)
{
	return l->files_inflight > 0;
}

void ap_net_file_complete(struct ap_net_loop *l, struct ap_net_file_op *op)
{
	AP_ASSERT(op->pending > 0);
	if (--op->pending > 0)
		return;
	if (l->file_done_tail)
		l->file_done_tail->next = op;
	else
		l->file_done_head = op;
	l->file_done_tail = op;
}

void ap_net_file_reap(struct ap_net_loop *l)
{
	while (l->file_done_head) {
		struct ap_net_file_op *op = l->file_done_head;
		l->file_done_head = op->next;
		if (!l->file_done_head)
			l->file_done_tail = NULL;
		op->next = NULL;
		l->files_inflight--;
		op->done(op->arg, op); /* may submit op again */
	}
}

void ap_net_conn_pause_recv(struct ap_net_loop *l, struct ap_net_conn *c)
{
	if (c->flags & (AP_NC_RECV_PAUSED | AP_NC_CLOSING | AP_NC_EOF))
		return;
	c->flags |= AP_NC_RECV_PAUSED;
	l->be->recv_pause(l, c);
}

void ap_net_conn_resume_recv(struct ap_net_loop *l, struct ap_net_conn *c)
{
	if (!(c->flags & AP_NC_RECV_PAUSED))
		return;
	c->flags &= ~AP_NC_RECV_PAUSED;
	if (!(c->flags & (AP_NC_CLOSING | AP_NC_EOF)))
		l->be->recv_resume(l, c);
}

uint64_t ap_net_loop_bytes_out(const struct ap_net_loop *l)
{
	return l->bytes_out;
}

void ap_net_loop_wake(struct ap_net_loop *l)
{
	uint64_t one = 1;
	ssize_t n = write(l->wake_fd, &one, sizeof(one));
	(void)n; /* EAGAIN: the counter is already non-zero, so it wakes */
}

int ap_net_tcp_listen(const char *addr, int port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		sl = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	int fd = socket(ss.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				 sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    listen(fd, backlog) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int ap_net_sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

void ap_net_peer_name(int fd, bool local, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int rc = local ? getsockname(fd, (struct sockaddr *)&ss, &sl)
		       : getpeername(fd, (struct sockaddr *)&ss, &sl);
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (rc == 0 && ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
	} else if (rc == 0 && ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
	}
	snprintf(buf, size, "%s:%d", ip, port);
}
