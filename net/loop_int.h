/*
 * loop_int.h - internals shared by the event loop's backends (net/ only).
 */
#ifndef AP_NET_LOOP_INT_H
#define AP_NET_LOOP_INT_H

#include <sys/uio.h>

#include "net/net.h"

struct ap_net_loop;

/* What a backend implements; loop.c holds the parts common to both. */
struct ap_net_backend {
	const char *name;
	int (*listen)(struct ap_net_loop *l, int fd);
	int (*conn_start)(struct ap_net_loop *l, struct ap_net_conn *c);
	/* Starts sending c->out (c is not SENDING). */
	void (*send)(struct ap_net_loop *l, struct ap_net_conn *c);
	/* Asks the kernel to drop c's pending operations. */
	void (*cancel)(struct ap_net_loop *l, struct ap_net_conn *c);
	/* Stops / restarts receiving on c (AP_NC_RECV_PAUSED is set or
	 * cleared by the caller first). */
	void (*recv_pause)(struct ap_net_loop *l, struct ap_net_conn *c);
	void (*recv_resume)(struct ap_net_loop *l, struct ap_net_conn *c);
	void (*run_once)(struct ap_net_loop *l, int64_t timeout_us);
	/* Starts a file op (see net.h); its completion ends in
	 * ap_net_file_complete. */
	void (*file_submit)(struct ap_net_loop *l, struct ap_net_file_op *op);
	void (*destroy)(struct ap_net_loop *l);
};

struct ap_net_loop {
	const struct ap_net_backend *be;
	const struct ap_net_ops *ops;
	void *owner;
	int wake_fd;			/* eventfd written by other threads */
	struct ap_net_conn *send_head;	/* connections with output queued */
	struct ap_net_conn *close_head; /* closed, callback pending */
	void *impl;			/* backend state */
	uint64_t bytes_out;		/* sent by every connection */
	unsigned files_inflight;	/* file ops before their done call */
	/* File ops completed, their done calls pending (oldest first). */
	struct ap_net_file_op *file_done_head, *file_done_tail;
};

/* Common steps the backends call. */
void ap_net_loop_flush_sends(struct ap_net_loop *l);
/* Bookkeeping after a send of `res` bytes completed (or failed). */
void ap_net_conn_sent(struct ap_net_loop *l, struct ap_net_conn *c, long res);
/* Closes the fd and queues the closed callback once nothing is inflight. */
void ap_net_conn_try_finish(struct ap_net_loop *l, struct ap_net_conn *c);
/* A file op's completion (one of its op->pending parts finished); the
 * last one queues its done call. */
void ap_net_file_complete(struct ap_net_loop *l, struct ap_net_file_op *op);
/* Runs the done calls of completed file ops. */
void ap_net_file_reap(struct ap_net_loop *l);
/* Delivers queued closed callbacks. */
void ap_net_loop_reap(struct ap_net_loop *l);
/* Fills iov from c->out (at most max entries); returns the count and the
 * bytes covered in *len. */
int ap_net_conn_iov(struct ap_net_conn *c, struct iovec *iov, int max,
		    size_t *len);

int ap_net_uring_create(struct ap_net_loop *l, char *why, size_t why_size);
int ap_net_epoll_create(struct ap_net_loop *l, char *why, size_t why_size);

#endif
