/*
 * net.h - the network layer: a per-thread event loop (io_uring, or epoll
 * where io_uring cannot be set up) that accepts connections, receives bytes
 * and sends output buffers, plus the protocol codecs (resp.h, client.h).
 *
 * The loop knows sockets and bytes, never commands: it calls its owner (the
 * shard) through struct ap_net_ops. The owner embeds a struct ap_net_conn
 * in its own connection object and gets it back in every callback.
 *
 * io_uring backend (DESIGN.md, shared/notes/io_uring.md): SINGLE_ISSUER +
 * DEFER_TASKRUN where the kernel has them, multishot accept, multishot
 * receive into one provided-buffer ring per loop, every send of a tick
 * submitted at once and the whole tick entered with one io_uring_enter.
 * epoll backend: level-triggered readiness, reads into one loop buffer,
 * writev straight from the output chunks.
 *
 * Lifetime: ap_net_conn_close() starts closing; the owner's `closed`
 * callback runs later, from the loop, once the kernel holds no more
 * references to the connection's memory; only then may the owner free it.
 *
 * Threading: a loop and its connections belong to the thread that created
 * the loop. The only call allowed from other threads is ap_net_loop_wake().
 */
#ifndef AP_NET_NET_H
#define AP_NET_NET_H

#include "core/base.h"
#include "core/config.h"
#include "core/reply.h"

struct ap_net_loop;

enum ap_net_conn_flags {
	AP_NC_RECV_ARMED = 1 << 0,  /* a receive is armed in the kernel */
	AP_NC_SENDING = 1 << 1,	    /* a send is in flight */
	AP_NC_SEND_QUEUED = 1 << 2, /* on the loop's to-send list */
	AP_NC_CLOSING = 1 << 3,	    /* close requested */
	AP_NC_EOF = 1 << 4,	    /* peer closed or error seen */
	AP_NC_CLOSED = 1 << 5,	    /* closed callback delivered */
	AP_NC_WANT_WRITE = 1 << 6,  /* epoll: waiting for EPOLLOUT */
	AP_NC_RECV_PAUSED = 1 << 7, /* the owner asked: no more input */
};

struct ap_net_conn {
	int fd;
	uint32_t flags;
	int inflight;		       /* kernel operations pending */
	struct ap_obuf out;	       /* bytes to send, oldest first */
	size_t send_len;	       /* bytes in the send in flight */
	struct ap_net_conn *send_next; /* loop's to-send list */
	struct ap_net_conn *close_next;
	void *send_state; /* backend's per-connection send state, or NULL */
	uint64_t bytes_in, bytes_out;
};

struct ap_net_ops {
	/* A new connection was accepted on a listening socket of this loop.
	 * The owner takes the fd. */
	void (*accept)(void *owner, int fd);
	/* Bytes arrived; valid only during the call. */
	void (*recv)(void *owner, struct ap_net_conn *c, const char *data,
		     size_t len);
	/* The peer closed the connection or a socket error happened: the
	 * owner should call ap_net_conn_close(). err is 0 or -errno. */
	void (*eof)(void *owner, struct ap_net_conn *c, int err);
	/* The connection is closed and its memory is the owner's again. */
	void (*closed)(void *owner, struct ap_net_conn *c);
	/* Another thread called ap_net_loop_wake(). */
	void (*wake)(void *owner);
};

/* Creates a loop of the requested kind. AUTO tries io_uring and falls
 * back to epoll; `why` then says why io_uring was not used. Returns NULL
 * with a message in why on failure. */
struct ap_net_loop *ap_net_loop_create(enum ap_reactor_kind kind,
				       const struct ap_net_ops *ops,
				       void *owner, char *why, size_t why_size);
void ap_net_loop_destroy(struct ap_net_loop *l);
/* "io_uring" or "epoll". */
const char *ap_net_loop_kind_name(const struct ap_net_loop *l);

/* Starts accepting on a listening socket (non-blocking, bound). */
AP_MUST_CHECK int ap_net_listen(struct ap_net_loop *l, int listen_fd);
/* Takes a connected socket: makes it non-blocking and starts receiving. */
AP_MUST_CHECK int ap_net_conn_start(struct ap_net_loop *l,
				    struct ap_net_conn *c, int fd);
/* Output was appended to c->out: send it at the end of this tick. */
void ap_net_conn_flush(struct ap_net_loop *l, struct ap_net_conn *c);
/* Starts closing (idempotent). Unsent output is dropped unless
 * `after_flush` is set, in which case it is sent first. */
void ap_net_conn_close(struct ap_net_loop *l, struct ap_net_conn *c,
		       bool after_flush);

/* Runs one tick: submits pending sends, waits up to timeout_us for events
 * (0 = do not wait, <0 = forever) and dispatches every completion. */
void ap_net_loop_run_once(struct ap_net_loop *l, int64_t timeout_us);
/* Wakes the loop from another thread (an eventfd write). */
void ap_net_loop_wake(struct ap_net_loop *l);
/* Receive backpressure: stop asking the kernel for c's input (what is
 * already on its way may still arrive) until resumed; the socket's
 * receive window then fills and TCP slows the sender. Idempotent. */
void ap_net_conn_pause_recv(struct ap_net_loop *l, struct ap_net_conn *c);
void ap_net_conn_resume_recv(struct ap_net_loop *l, struct ap_net_conn *c);
/*
 * File I/O on the loop (persistence): a write of len bytes at offset off
 * of fd, then, when sync is set, an fdatasync of fd linked after it (run
 * only if the write completed in full); or, with len 0, the fdatasync
 * alone. io_uring runs both in the kernel (the write is usually punted to
 * an io-wq worker); epoll does them at once with pwrite and fdatasync.
 * Either way `done` runs later, from ap_net_loop_run_once, with
 * write_res (bytes written, which may be fewer than len, or -errno) and
 * sync_res (0, -errno, or -ECANCELED when a short or failed write broke
 * the link). The op is the caller's and stays untouched by it until done
 * runs; one op carries one request at a time.
 */
struct ap_net_file_op {
	void (*done)(void *arg, struct ap_net_file_op *op);
	void *arg;
	int fd;
	bool sync;
	const void *buf;
	size_t len;
	uint64_t off;
	long write_res;
	int sync_res;
	/* The loop's: completions still to come, and its done list. */
	int pending;
	struct ap_net_file_op *next;
};
void ap_net_file_submit(struct ap_net_loop *l, struct ap_net_file_op *op);
/* True while some file op of this loop has not had its done call. */
bool ap_net_file_busy(const struct ap_net_loop *l);

/* Bytes sent by every connection of the loop since it was created. */
uint64_t ap_net_loop_bytes_out(const struct ap_net_loop *l);

/* Opens a listening TCP socket (SO_REUSEADDR, non-blocking). Returns the
 * fd or -errno. */
int ap_net_tcp_listen(const char *addr, int port, int backlog);
/* The bound port of a socket (for --port 0). */
int ap_net_sock_port(int fd);
/* "ip:port" of the peer or the local side. */
void ap_net_peer_name(int fd, bool local, char *buf, size_t size);

#endif
