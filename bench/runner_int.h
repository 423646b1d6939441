/*
 * runner_int.h - private to apiary-bench's load threads: the structures
 * shared by runner.c (threads, phases, request accounting), runner_io.c
 * (the io_uring and epoll back ends) and runner_cluster.c (slot routing,
 * MOVED/ASK). Nothing outside those three files includes it.
 *
 * Model: a thread has --clients *clients*, each with its own place in the
 * workload (key generator, schedule, request limit) and a window of
 * --pipeline requests in flight. A client sends over *connections*: one
 * to the server, or in cluster mode one to every node, each with its own
 * send buffer, FIFO of requests in flight and reply parser (replies come
 * back in order per connection). Connections are numbered per thread;
 * the back ends tag completions and events with that number.
 *
 * Threading: everything here belongs to one load thread. The connection
 * array may grow (cluster mode, a node learnt from MOVED) but only at the
 * start of a tick, when no pointer into it is held.
 */
#ifndef AP_BENCH_RUNNER_INT_H
#define AP_BENCH_RUNNER_INT_H

#include "bench/runner.h"

#include <liburing.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#define NS_PER_SEC 1000000000ULL
/* Seconds a connect plus handshake (HELLO, AUTH, SELECT) may take. */
#define HANDSHAKE_TIMEOUT_S 5
/* Largest send buffer per connection. */
#define SEND_BUF_MAX (8u * 1024 * 1024)

/* struct req flags. */
#define REQ_ASKING 1u /* the ASKING sent before a request redirected by ASK */

/* A request in flight (32 bytes): enough to encode it again. */
struct req {
	uint64_t t0;	   /* start (closed) or intended (open) time */
	uint64_t key;	   /* key number */
	uint32_t len;	   /* request bytes */
	uint32_t dsize;	   /* value size */
	uint32_t client;   /* the client it belongs to */
	uint8_t cmd;	   /* workload command index */
	uint8_t redirects; /* MOVED/ASK followed so far */
	uint8_t flags;	   /* REQ_* */
};

/* Cluster mode: a request waiting to be (re)sent to a node. */
struct retry {
	struct req r;
	uint16_t node;
	bool ask; /* send ASKING first */
};

struct bconn {
	int fd;
	int ci;	       /* index in the thread's connections */
	int fixed_idx; /* io_uring registered-file index, -1: plain fd */
	int client;    /* the client it serves */
	int node;      /* cluster node (0 outside cluster mode) */
	char *sbuf;
	size_t scap, s_off, s_fill; /* [s_off, s_fill) not yet acknowledged */
	bool sending;		    /* a send in flight (epoll: EAGAIN seen) */
	bool recv_armed, dead;
	struct req *q; /* requests in flight, oldest at q_head */
	uint32_t q_head, q_tail, q_mask;
	struct ap_client_parser parser; /* RESP, memcached binary */
	struct ap_bench_mct_parser mct; /* memcached text */
	char *rbuf;			/* io_uring one-shot receive buffer */
};

struct bclient {
	int idx;       /* index in the thread */
	unsigned gidx; /* index over all threads */
	bool dirty;    /* queued for this tick's fill */
	uint32_t inflight;
	uint64_t due;	  /* open loop: requests due but not yet encoded */
	uint64_t next_j;  /* requests drawn in this phase */
	uint64_t counted; /* drawn requests inside the measured window */
	uint64_t limit;	  /* request-count mode: counted requests to draw */
	struct ap_bench_wl_conn wc;
	struct retry *retry; /* cluster mode: FIFO of requests to (re)send */
	uint32_t r_head, r_tail, r_mask;
};

enum io_kind {
	IO_URING = 1,
	IO_EPOLL = 2,
};

struct bthread {
	struct ap_bench_run *run;
	int idx;
	pthread_t tid;
	/* I/O back end */
	enum io_kind io;
	struct io_uring ring;
	bool ring_ok, fixed, multishot;
	struct io_uring_buf_ring *br;
	size_t br_size;
	char *bufs;
	unsigned buf_count, buf_size;
	int br_pending; /* buffers re-added, not yet published */
	int epfd;
	struct epoll_event *events;
	int events_max, events_ready;
	char *ep_buf;
	size_t ep_buf_size;
	/* clients and connections */
	struct bclient *clients;
	int nclients;
	struct bconn *conns;
	int nconns, conns_cap;
	int *dirty; /* clients to fill this tick */
	int ndirty;
	/* cluster mode */
	bool cluster;
	struct ap_bench_slots *slots; /* this thread's copy */
	int *node_conn;		      /* [node * nclients + client] */
	int nodes_open;		      /* nodes with connections */
	/* per phase */
	const struct ap_bench_phase *ph;
	uint64_t now;
	double period;	 /* open loop: ns between this thread's requests */
	uint64_t t_base; /* open loop: intended time of request 0 */
	uint64_t sched_n;
	bool sched_done, stopping, measuring;
	uint64_t inflight, due_total;
	int active; /* clients still below their request limit */
	size_t sbuf_want;
	uint32_t qcap_want, rcap_want;
	struct ap_bench_cmd_stats stats[AP_BENCH_CMDS_MAX];
	struct ap_bench_hist lag; /* open loop: how late requests became due */
	uint64_t unanswered, enobufs, last_done;
	struct rusage ru0;
	double cpu_s;
	uint64_t spin_ns; /* poll rather than sleep this close to a deadline */
	uint64_t idle_ns; /* polling that found nothing to do */
	int64_t epoch;	  /* the second being recorded */
	struct ap_bench_pub pub;
	_Atomic int finished;
	int conn_errors;
	char err[256];
	char first_error[128]; /* the first error reply seen */
	char io_desc[256];
};

struct ap_bench_run {
	const struct ap_bench_opts *o;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const struct ap_bench_slots *slots; /* cluster mode: the start map */
	int nthreads;
	struct bthread *th;
	pthread_barrier_t bar;
	const struct ap_bench_phase *ph;
	bool quit;
};

/* ---------------------------------------------------- runner.c services */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ap_bench_now_ns(void);
/* Queues a client for this tick's fill. */
void ap_bench_client_dirty(struct bthread *th, struct bclient *cl);
/* Marks a connection failed, keeps the first reason, stops the run. */
void ap_bench_conn_fail(struct bthread *th, struct bconn *c, const char *why);
/* Parses received bytes; every complete reply is accounted. */
void ap_bench_conn_data(struct bthread *th, struct bconn *c, const char *data,
			size_t len);
/* Start time of the client's next request, or 0 if none may go now. */
uint64_t ap_bench_client_next_start(struct bthread *th, struct bclient *cl);
/* Accounts a request drawn for the client with start time t0. */
void ap_bench_client_issue(struct bthread *th, struct bclient *cl, uint64_t t0);
/* Appends a request to the connection's FIFO. */
void ap_bench_conn_push(struct bconn *c, const struct req *r);
/* Moves unsent bytes to the front of the send buffer when no send is in
 * flight. */
void ap_bench_conn_compact(struct bconn *c);
/* Sends what is buffered (one send in flight) and arms the receive. */
void ap_bench_conn_flush(struct bthread *th, struct bconn *c);
/* Opens connection to `node` for `client` (blocking connect and
 * handshake), sized for the current phase when one runs. Returns its
 * index, or -errno with th->err set. */
int ap_bench_conn_open(struct bthread *th, int client, int node);

/* ----------------------------------------------------------- runner_io.c */

/* Sets up the back end --io asks for (auto: io_uring, else epoll) for the
 * connections open so far; fills th->io_desc. -errno with th->err set. */
int ap_bench_io_setup(struct bthread *th);
void ap_bench_io_teardown(struct bthread *th);
/* Adds a connection opened after set-up. */
int ap_bench_io_conn_add(struct bthread *th, struct bconn *c);
/* Sends c->sbuf[s_off, s_fill). */
void ap_bench_io_send(struct bthread *th, struct bconn *c);
/* Makes sure replies on c will be read. */
void ap_bench_io_recv_arm(struct bthread *th, struct bconn *c);
/* Submits this tick's work and waits for events until `wake`. Returns 0 or
 * -errno (a back-end failure). */
int ap_bench_io_wait(struct bthread *th, uint64_t wake);
/* Handles every completion or event of this tick. */
void ap_bench_io_reap(struct bthread *th);

/* ------------------------------------------------------ runner_cluster.c */

/* Loads the start map into the thread and says which nodes to open. */
void ap_bench_cluster_init(struct bthread *th);
/* Fills a client's windows in cluster mode: redirected requests first,
 * then new ones, each to the node serving its key's slot. */
void ap_bench_cluster_fill(struct bthread *th, struct bclient *cl,
			   uint32_t window);
/* An error reply to request r on c: if it is a MOVED or ASK to follow,
 * queues r again for the named node and returns true (r stays in flight);
 * false when the reply is an ordinary error. */
bool ap_bench_cluster_redirect(struct bthread *th, struct bconn *c,
			       const struct req *r,
			       const struct ap_client_reply *rep);
/* Opens connections to nodes learnt since the last tick. -errno with
 * th->err set. */
int ap_bench_cluster_open_pending(struct bthread *th);
/* Makes room for the phase's redirect FIFO in every client. */
void ap_bench_cluster_phase(struct bthread *th);

#endif
