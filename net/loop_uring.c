/*
 * loop_uring.c - the io_uring backend of the event loop.
 *
 * One ring per loop, created by the thread that runs it (SINGLE_ISSUER
 * binds the ring to its creator). Receives are multishot into a provided
 * buffer ring; a buffer goes back to the kernel right after the owner's
 * recv callback returns, so few buffers serve many connections. Sends are
 * queued during the tick and submitted together with the wait, so a tick
 * costs one io_uring_enter.
 *
 * user_data: a pointer with an operation tag in its low 3 bits.
 */
#include "net/loop_int.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/limits.h"

enum op_tag {
	OP_RECV = 1,
	OP_SEND = 2,
	OP_ACCEPT = 3,
	OP_WAKE = 4,
	OP_IGNORE = 5,
	OP_FWRITE = 6, /* pointer: a struct ap_net_file_op */
	OP_FSYNC = 7,
};

#define BGID	 1
#define SEND_IOV 16

struct send_state {
	struct msghdr msg;
	struct iovec iov[SEND_IOV];
};

struct uring {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	size_t br_size;
	char *bufs;
	unsigned buf_count;
	unsigned buf_returned; /* returned since the last advance */
	uint64_t wake_val;
	bool rearm_recv_needed;	    /* some recv ended with ENOBUFS */
	struct ap_net_conn **nobuf; /* connections to re-arm */
	unsigned nobuf_count, nobuf_cap;
	/* Listening fds (for multishot re-arm). */
	int listen_fd[AP_BIND_MAX];
	int listen_count;
};

static inline uint64_t ud_make(void *p, enum op_tag tag)
{
	AP_ASSERT(((uintptr_t)p & 7) == 0);
	return (uint64_t)(uintptr_t)p | (uint64_t)tag;
}

/* Gets an SQE, submitting what is queued if the SQ is full. */
static struct io_uring_sqe *get_sqe(struct uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (AP_UNLIKELY(!sqe)) {
		(void)io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	AP_ASSERT(sqe);
	return sqe;
}

static void arm_recv(struct uring *u, struct ap_net_conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, ud_make(c, OP_RECV));
	c->flags |= AP_NC_RECV_ARMED;
	c->inflight++;
}

static void arm_accept(struct uring *u, int idx)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	io_uring_prep_multishot_accept(sqe, u->listen_fd[idx], NULL, NULL,
				       SOCK_NONBLOCK | SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, ((uint64_t)idx << 3) | OP_ACCEPT);
}

static void arm_wake(struct ap_net_loop *l, struct uring *u)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	io_uring_prep_read(sqe, l->wake_fd, &u->wake_val, sizeof(u->wake_val),
			   0);
	io_uring_sqe_set_data64(sqe, OP_WAKE);
}

static void return_buf(struct uring *u, unsigned bid)
{
	io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * AP_RECV_BUF_SIZE,
			      AP_RECV_BUF_SIZE, (unsigned short)bid,
			      io_uring_buf_ring_mask(u->buf_count),
			      (int)u->buf_returned);
	u->buf_returned++;
}

static void publish_bufs(struct uring *u)
{
	if (u->buf_returned) {
		io_uring_buf_ring_advance(u->br, (int)u->buf_returned);
		u->buf_returned = 0;
	}
}

static int uring_listen(struct ap_net_loop *l, int fd)
{
	struct uring *u = l->impl;
	if (u->listen_count >= AP_BIND_MAX)
		return -ENOSPC;
	u->listen_fd[u->listen_count] = fd;
	arm_accept(u, u->listen_count);
	u->listen_count++;
	return 0;
}

static int uring_conn_start(struct ap_net_loop *l, struct ap_net_conn *c)
{
	arm_recv(l->impl, c);
	return 0;
}

static void uring_send(struct ap_net_loop *l, struct ap_net_conn *c)
{
	struct uring *u = l->impl;
	struct io_uring_sqe *sqe = get_sqe(u);
	struct ap_obuf_chunk *h = c->out.head;
	while (h && h->len <= h->sent)
		h = h->next; /* skip drained chunks not yet freed */
	AP_ASSERT(h);
	if (!h->next || h->next->len == 0) {
		c->send_len = h->len - h->sent;
		io_uring_prep_send(sqe, c->fd, h->data + h->sent, c->send_len,
				   MSG_NOSIGNAL);
	} else {
		/* Several chunks: one sendmsg over their iovecs, whose
		 * state lives as long as the connection. */
		struct send_state *ss = c->send_state;
		if (!ss) {
			ss = ap_calloc(1, sizeof(*ss));
			c->send_state = ss;
		}
		size_t len;
		int n = ap_net_conn_iov(c, ss->iov, SEND_IOV, &len);
		memset(&ss->msg, 0, sizeof(ss->msg));
		ss->msg.msg_iov = ss->iov;
		ss->msg.msg_iovlen = (size_t)n;
		c->send_len = len;
		io_uring_prep_sendmsg(sqe, c->fd, &ss->msg, MSG_NOSIGNAL);
	}
	io_uring_sqe_set_data64(sqe, ud_make(c, OP_SEND));
	c->flags |= AP_NC_SENDING;
	c->inflight++;
}

static void uring_cancel(struct ap_net_loop *l, struct ap_net_conn *c)
{
	struct uring *u = l->impl;
	if (!(c->flags & AP_NC_RECV_ARMED))
		return;
	struct io_uring_sqe *sqe = get_sqe(u);
	io_uring_prep_cancel64(sqe, ud_make(c, OP_RECV), 0);
	io_uring_sqe_set_data64(sqe, OP_IGNORE);
	/* Stop reading at once: the peer may not be closing. */
	(void)shutdown(c->fd, SHUT_RD);
}

/* Pause: cancel the multishot receive (data already completed still
 * arrives and is delivered). Resume: arm it again unless it is still
 * armed (the cancel has not landed yet: its completion re-arms). */
static void uring_recv_pause(struct ap_net_loop *l, struct ap_net_conn *c)
{
	struct uring *u = l->impl;
	if (!(c->flags & AP_NC_RECV_ARMED))
		return;
	struct io_uring_sqe *sqe = get_sqe(u);
	io_uring_prep_cancel64(sqe, ud_make(c, OP_RECV), 0);
	io_uring_sqe_set_data64(sqe, OP_IGNORE);
}

static void uring_recv_resume(struct ap_net_loop *l, struct ap_net_conn *c)
{
	if (!(c->flags & AP_NC_RECV_ARMED))
		arm_recv(l->impl, c);
}

static void nobuf_add(struct uring *u, struct ap_net_conn *c)
{
	if (u->nobuf_count == u->nobuf_cap) {
		u->nobuf_cap = u->nobuf_cap ? u->nobuf_cap * 2 : 16;
		u->nobuf =
			ap_realloc(u->nobuf, u->nobuf_cap * sizeof(*u->nobuf));
	}
	u->nobuf[u->nobuf_count++] = c;
	c->inflight++; /* keeps the connection alive until re-armed */
}

static void rearm_nobuf(struct ap_net_loop *l, struct uring *u)
{
	for (unsigned i = 0; i < u->nobuf_count; i++) {
		struct ap_net_conn *c = u->nobuf[i];
		c->inflight--;
		if (c->flags & AP_NC_CLOSING)
			ap_net_conn_try_finish(l, c);
		else
			arm_recv(u, c);
	}
	u->nobuf_count = 0;
}

static void on_recv(struct ap_net_loop *l, struct uring *u,
		    struct ap_net_conn *c, struct io_uring_cqe *cqe)
{
	bool more = cqe->flags & IORING_CQE_F_MORE;
	if (!more) {
		c->flags &= ~AP_NC_RECV_ARMED;
		c->inflight--;
	}
	if (cqe->res > 0) {
		AP_ASSERT(cqe->flags & IORING_CQE_F_BUFFER);
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		c->bytes_in += (uint64_t)cqe->res;
		if (!(c->flags & AP_NC_CLOSING))
			l->ops->recv(l->owner, c,
				     u->bufs + (size_t)bid * AP_RECV_BUF_SIZE,
				     (size_t)cqe->res);
		return_buf(u, bid);
		if (!more && !(c->flags & (AP_NC_CLOSING | AP_NC_RECV_PAUSED)))
			arm_recv(u, c); /* the kernel ended it: re-arm */
	} else if (cqe->res == -ENOBUFS) {
		if (!more && !(c->flags & AP_NC_CLOSING))
			nobuf_add(u, c);
	} else if (cqe->res == -ECANCELED && !(c->flags & AP_NC_CLOSING)) {
		/* A pause's cancel; resumed meanwhile: receive again. */
		if (!(c->flags & AP_NC_RECV_PAUSED) &&
		    !(c->flags & AP_NC_RECV_ARMED))
			arm_recv(u, c);
	} else if (cqe->res != -ECANCELED) {
		if (!(c->flags & AP_NC_EOF)) {
			c->flags |= AP_NC_EOF;
			if (!(c->flags & AP_NC_CLOSING))
				l->ops->eof(l->owner, c, cqe->res);
		}
	}
	ap_net_conn_try_finish(l, c);
}

static void on_accept(struct ap_net_loop *l, struct uring *u,
		      struct io_uring_cqe *cqe)
{
	int idx = (int)(cqe->user_data >> 3);
	if (cqe->res >= 0)
		l->ops->accept(l->owner, cqe->res);
	else if (cqe->res != -EAGAIN && cqe->res != -ECONNABORTED)
		ap_log(AP_LOG_WARNING, "accept: %s", strerror(-cqe->res));
	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_accept(u, idx);
}

static void dispatch(struct ap_net_loop *l, struct uring *u,
		     struct io_uring_cqe *cqe)
{
	uint64_t ud = cqe->user_data;
	enum op_tag tag = (enum op_tag)(ud & 7);
	struct ap_net_conn *c = (struct ap_net_conn *)(uintptr_t)(ud & ~7ULL);
	switch (tag) {
	case OP_RECV:
		on_recv(l, u, c, cqe);
		break;
	case OP_SEND:
		c->inflight--;
		ap_net_conn_sent(l, c, cqe->res);
		break;
	case OP_ACCEPT:
		on_accept(l, u, cqe);
		break;
	case OP_WAKE:
		arm_wake(l, u);
		l->ops->wake(l->owner);
		break;
	case OP_FWRITE: {
		struct ap_net_file_op *op = (void *)c;
		op->write_res = cqe->res;
		ap_net_file_complete(l, op);
		break;
	}
	case OP_FSYNC: {
		struct ap_net_file_op *op = (void *)c;
		op->sync_res = cqe->res;
		ap_net_file_complete(l, op);
		break;
	}
	case OP_IGNORE:
		break;
	default:
		AP_ASSERT(!"unknown io_uring operation tag");
	}
}

/* The biggest single write (io_uring's length is 32 bits); a longer op
 * completes short and its owner goes on from there. */
#define FILE_WRITE_MAX (1u << 30)

static void uring_file_submit(struct ap_net_loop *l, struct ap_net_file_op *op)
{
	struct uring *u = l->impl;
	/* The write and its fsync go in one submission: a link never spans
	 * two. */
	if (io_uring_sq_space_left(&u->ring) < 2)
		(void)io_uring_submit(&u->ring);
	if (op->len > 0) {
		struct io_uring_sqe *sqe = get_sqe(u);
		unsigned n = op->len > FILE_WRITE_MAX ? FILE_WRITE_MAX
						      : (unsigned)op->len;
		io_uring_prep_write(sqe, op->fd, op->buf, n, op->off);
		io_uring_sqe_set_data64(sqe, ud_make(op, OP_FWRITE));
		if (op->sync)
			sqe->flags |= IOSQE_IO_LINK;
	}
	if (op->sync) {
		struct io_uring_sqe *sqe = get_sqe(u);
		io_uring_prep_fsync(sqe, op->fd, IORING_FSYNC_DATASYNC);
		io_uring_sqe_set_data64(sqe, ud_make(op, OP_FSYNC));
	}
}

static void uring_run_once(struct ap_net_loop *l, int64_t timeout_us)
{
	struct uring *u = l->impl;
	ap_net_loop_flush_sends(l);
	publish_bufs(u);
	if (u->nobuf_count)
		rearm_nobuf(l, u);
	struct io_uring_cqe *cqe = NULL;
	if (timeout_us == 0) {
		(void)io_uring_submit_and_get_events(&u->ring);
	} else if (timeout_us < 0) {
		(void)io_uring_submit_and_wait(&u->ring, 1);
	} else {
		struct __kernel_timespec ts = {
			.tv_sec = timeout_us / 1000000,
			.tv_nsec = (timeout_us % 1000000) * 1000,
		};
		(void)io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts,
						       NULL);
	}
	unsigned head, seen = 0;
	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		dispatch(l, u, cqe);
		seen++;
	}
	io_uring_cq_advance(&u->ring, seen);
	publish_bufs(u);
	ap_net_loop_reap(l);
}

static void uring_destroy(struct ap_net_loop *l)
{
	struct uring *u = l->impl;
	io_uring_queue_exit(&u->ring);
	munmap(u->br, u->br_size);
	ap_free(u->bufs);
	ap_free(u->nobuf);
	ap_free(u);
}

static const struct ap_net_backend uring_backend = {
	.name = "io_uring",
	.listen = uring_listen,
	.conn_start = uring_conn_start,
	.send = uring_send,
	.cancel = uring_cancel,
	.recv_pause = uring_recv_pause,
	.recv_resume = uring_recv_resume,
	.run_once = uring_run_once,
	.file_submit = uring_file_submit,
	.destroy = uring_destroy,
};

/* Sets up the ring with the recommended flags, dropping the ones an older
 * kernel refuses. */
static int ring_setup(struct uring *u, char *why, size_t why_size)
{
	static const unsigned flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL |
			IORING_SETUP_CQSIZE,
		IORING_SETUP_CQSIZE,
	};
	int rc = -EINVAL;
	for (size_t i = 0; i < AP_ARRAY_LEN(flag_sets); i++) {
		struct io_uring_params p;
		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i];
		p.cq_entries = AP_URING_ENTRIES * 4;
		rc = io_uring_queue_init_params(AP_URING_ENTRIES, &u->ring, &p);
		if (rc == 0) {
			/* File writes run on io-wq workers: a few per ring,
			 * never a thread per request (best effort). */
			unsigned workers[2] = {AP_URING_IOWQ_MAX,
					       AP_URING_IOWQ_MAX};
			(void)io_uring_register_iowq_max_workers(&u->ring,
								 workers);
			return 0;
		}
		if (rc != -EINVAL)
			break;
	}
	snprintf(why, why_size, "io_uring_setup failed: %s%s", strerror(-rc),
		 rc == -EPERM ? " (is kernel.io_uring_disabled set, or a "
				"seccomp profile blocking io_uring?)"
			      : "");
	return rc;
}

int ap_net_uring_create(struct ap_net_loop *l, char *why, size_t why_size)
{
	struct uring *u = ap_calloc(1, sizeof(*u));
	int rc = ring_setup(u, why, why_size);
	if (rc < 0) {
		ap_free(u);
		return rc;
	}
	u->buf_count = AP_RECV_BUF_COUNT;
	u->br_size = u->buf_count * sizeof(struct io_uring_buf);
	u->br = mmap(NULL, u->br_size, PROT_READ | PROT_WRITE,
		     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (u->br == MAP_FAILED) {
		snprintf(why, why_size, "mmap: %s", strerror(errno));
		io_uring_queue_exit(&u->ring);
		ap_free(u);
		return -ENOMEM;
	}
	struct io_uring_buf_reg reg = {
		.ring_addr = (uint64_t)(uintptr_t)u->br,
		.ring_entries = u->buf_count,
		.bgid = BGID,
	};
	rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (rc < 0) {
		snprintf(why, why_size,
			 "io_uring provided buffer rings unsupported: %s",
			 strerror(-rc));
		munmap(u->br, u->br_size);
		io_uring_queue_exit(&u->ring);
		ap_free(u);
		return rc;
	}
	io_uring_buf_ring_init(u->br);
	u->bufs = ap_malloc((size_t)u->buf_count * AP_RECV_BUF_SIZE);
	for (unsigned i = 0; i < u->buf_count; i++)
		return_buf(u, i);
	publish_bufs(u);
	(void)io_uring_register_ring_fd(&u->ring);
	l->impl = u;
	l->be = &uring_backend;
	arm_wake(l, u);
	return 0;
}
