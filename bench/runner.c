/*
 * runner.c - apiary-bench's load threads: one loop per thread, one kernel
 * entry per loop tick, over io_uring or (where io_uring cannot be set up,
 * or with --io epoll) epoll; the back ends are in runner_io.c.
 *
 * A tick: read the clock, publish the finished second if one ended, open
 * connections to cluster nodes learnt since the last tick, make open-loop
 * requests due, let every client that changed ("dirty") encode requests
 * straight into its connections' send buffers and queue one send per
 * connection (never two in flight per socket) and, if needed, re-arm its
 * receives; then one io_uring_submit_and_wait_timeout() (or epoll_pwait2)
 * submits everything and waits for completions or the next deadline; then
 * every completion is handled.
 *
 * Replies are parsed straight out of the receive buffer by an incremental
 * parser (RESP and memcached binary: net/client.c; memcached text:
 * mctext.c) that keeps no reference to it, so every buffer is recycled at
 * once.
 *
 * Latency: a request's start time is the tick at which it was encoded
 * (closed loop) or the time it was scheduled for (open loop, --rate): a
 * request that waits behind a stalled server counts its whole wait, and
 * one redirected by MOVED or ASK counts the detour. Each reply is matched
 * to the oldest request of its connection (RESP and the non-quiet
 * memcached commands answer in order).
 */
#include "bench/runner_int.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Longest reply to a handshake or probe command. */
#define SYNC_CAPTURE_MAX (1024 * 1024)

/*
 * Set by a signal handler or a failed connection: every thread stops at its
 * next tick. The only mutable global, as a signal handler needs one.
 */
static _Atomic int run_stop;

/* ------------------------------------------------------------- helpers */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ap_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Smallest power of two >= v (v >= 1). */
static unsigned pow2_ceil(unsigned v)
{
	unsigned p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* CPU seconds (user + system) between two rusage samples. */
static double ru_cpu(const struct rusage *a, const struct rusage *b)
{
	return (double)(b->ru_utime.tv_sec - a->ru_utime.tv_sec) +
	       (double)(b->ru_utime.tv_usec - a->ru_utime.tv_usec) / 1e6 +
	       (double)(b->ru_stime.tv_sec - a->ru_stime.tv_sec) +
	       (double)(b->ru_stime.tv_usec - a->ru_stime.tv_usec) / 1e6;
}

/* End of epoch e: epochs are seconds counted from the measured start. */
static uint64_t epoch_end(const struct ap_bench_phase *ph, int64_t e)
{
	return (uint64_t)((int64_t)ph->t_measure + e * (int64_t)NS_PER_SEC);
}

/* The first epoch that ends after the phase starts. */
static int64_t epoch_first(const struct ap_bench_phase *ph)
{
	uint64_t d = ph->t_measure - ph->t_start;

	return 1 - (int64_t)((d + NS_PER_SEC - 1) / NS_PER_SEC);
}

/* Asks every thread to stop at its next tick. */
void ap_bench_run_interrupt(void)
{
	atomic_store(&run_stop, 1);
}

/* ------------------------------------------------- blocking connections */

/* Connects a blocking TCP socket with TCP_NODELAY. */
int ap_bench_connect(const struct sockaddr *addr, socklen_t addr_len)
{
	int one = 1;
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, addr, addr_len) != 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Writes all of buf to a blocking socket. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sends raw request bytes and reads one reply (pushes skipped). */
static int sync_raw(int fd, struct ap_client_parser *p, const char *req,
		    size_t req_len, struct ap_client_reply *rep)
{
	char buf[16384];
	int rc = write_all(fd, req, req_len);

	while (rc == 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		for (size_t off = 0; off < (size_t)n;) {
			size_t used;
			int prc = ap_client_parse(p, buf + off, (size_t)n - off,
						  &used, rep);

			off += used;
			if (prc < 0)
				return -EPROTO;
			if (prc == AP_CLIENT_REPLY && !rep->is_push)
				return 0;
			if (prc == AP_CLIENT_NEED_MORE)
				break;
		}
	}
	return rc;
}

/* Encodes argv and runs it synchronously. */
int ap_bench_sync_cmd(int fd, struct ap_client_parser *p, int argc,
		      const char *const *argv, struct ap_client_reply *rep)
{
	size_t lens[AP_BENCH_CMD_ARGS_MAX];

	AP_ASSERT(argc > 0 && argc <= AP_BENCH_CMD_ARGS_MAX);
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	size_t len = ap_client_cmd_len(argc, lens);
	char *buf = ap_malloc(len);

	ap_client_cmd_encode(buf, argc, argv, lens);
	int rc = sync_raw(fd, p, buf, len, rep);

	ap_free(buf);
	return rc;
}

/* Runs one handshake command; an error reply fails with its text. */
static int handshake_cmd(int fd, struct ap_client_parser *p, int argc,
			 const char *const *argv, char *err, size_t err_size)
{
	struct ap_client_reply rep;
	int rc = ap_bench_sync_cmd(fd, p, argc, argv, &rep);

	if (rc < 0) {
		snprintf(err, err_size, "%s failed: %s", argv[0],
			 rc == -EPROTO ? p->err : strerror(-rc));
		return rc;
	}
	if (rep.is_error) {
		snprintf(err, err_size, "%s failed: %.*s", argv[0],
			 (int)rep.text_len, rep.text);
		return -EPROTO;
	}
	return 0;
}

/* HELLO 3 / AUTH / SELECT as the options ask; see runner.h. */
int ap_bench_handshake(const struct ap_bench_opts *o, int fd, char *err,
		       size_t err_size)
{
	struct ap_client_parser p;
	char user[256] = "default", pass[256] = "", db[16];
	bool acl = false;
	int rc = 0;

	if (ap_bench_proto_is_mc(o->proto))
		return 0;
	if (o->auth != NULL) {
		const char *colon = strchr(o->auth, ':');

		acl = colon != NULL;
		if (acl)
			snprintf(user, sizeof(user), "%.*s",
				 (int)(colon - o->auth), o->auth);
		snprintf(pass, sizeof(pass), "%s", acl ? colon + 1 : o->auth);
	}
	ap_client_parser_init(&p, AP_CLIENT_PROTO_RESP);
	ap_client_parser_capture(&p, SYNC_CAPTURE_MAX);
	if (o->proto == AP_BENCH_PROTO_RESP3) {
		const char *hello[] = {"HELLO", "3", "AUTH", user, pass};

		rc = handshake_cmd(fd, &p, o->auth ? 5 : 2, hello, err,
				   err_size);
	} else if (o->auth != NULL) {
		const char *auth[] = {"AUTH", user, pass};

		rc = acl ? handshake_cmd(fd, &p, 3, auth, err, err_size)
			 : handshake_cmd(fd, &p, 2,
					 (const char *[]){"AUTH", pass}, err,
					 err_size);
	}
	if (rc == 0 && o->db > 0) {
		snprintf(db, sizeof(db), "%d", o->db);
		rc = handshake_cmd(fd, &p, 2, (const char *[]){"SELECT", db},
				   err, err_size);
	}
	ap_client_parser_deinit(&p);
	return rc;
}

/* ---------------------------------------------------------- connections */

/* The address of a node: the run's server, or a cluster node's host:port
 * resolved now (a blocking lookup; hosts are usually numeric). */
static int node_addr(struct bthread *th, int node, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res;
	char port[16];

	if (!th->cluster) {
		memcpy(ss, &th->run->addr, th->run->addr_len);
		*len = th->run->addr_len;
		return 0;
	}
	const struct ap_bench_node *n = &th->slots->nodes[node];

	snprintf(port, sizeof(port), "%d", n->port);
	int rc = getaddrinfo(n->host, port, &hints, &res);

	if (rc != 0) {
		snprintf(th->err, sizeof(th->err),
			 "cannot resolve cluster node %s:%d: %s", n->host,
			 n->port, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Grows a connection's send buffer and FIFO to what the phase needs. */
static void conn_size(struct bthread *th, struct bconn *c)
{
	if (c->scap < th->sbuf_want) {
		c->sbuf = ap_realloc(c->sbuf, th->sbuf_want);
		c->scap = th->sbuf_want;
	}
	if (c->q_mask + 1 < th->qcap_want) {
		AP_ASSERT(c->q_head == c->q_tail);
		ap_free(c->q);
		c->q = ap_calloc(th->qcap_want, sizeof(*c->q));
		c->q_mask = th->qcap_want - 1;
		c->q_head = c->q_tail = 0;
	}
}

/* Opens a connection for a client to a node; see runner_int.h. */
int ap_bench_conn_open(struct bthread *th, int client, int node)
{
	const struct ap_bench_opts *o = th->run->o;
	struct sockaddr_storage ss;
	socklen_t ss_len;
	struct timeval tv = {.tv_sec = HANDSHAKE_TIMEOUT_S};
	struct timeval zero = {0};

	if (th->nconns == th->conns_cap) {
		th->conns_cap = th->conns_cap ? 2 * th->conns_cap : 16;
		th->conns = ap_realloc(th->conns, (size_t)th->conns_cap *
							  sizeof(*th->conns));
	}
	struct bconn *c = &th->conns[th->nconns];

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->ci = th->nconns++;
	c->fixed_idx = -1;
	c->client = client;
	c->node = node;
	c->q = ap_calloc(1, sizeof(*c->q));
	ap_client_parser_init(&c->parser, o->proto == AP_BENCH_PROTO_MC_BIN
						  ? AP_CLIENT_PROTO_MC_BIN
						  : AP_CLIENT_PROTO_RESP);
	ap_bench_mct_parser_init(&c->mct);
	if (th->cluster)
		th->node_conn[node * th->nclients + client] = c->ci;
	conn_size(th, c);
	int rc = node_addr(th, node, &ss, &ss_len);

	if (rc < 0)
		return rc;
	c->fd = ap_bench_connect((struct sockaddr *)&ss, ss_len);
	if (c->fd < 0) {
		rc = c->fd;
		c->fd = -1;
		snprintf(th->err, sizeof(th->err),
			 "connection %d (node %d): connect failed: %s", c->ci,
			 node, strerror(-rc));
		return rc;
	}
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	rc = ap_bench_handshake(o, c->fd, th->err, sizeof(th->err));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero));
	return rc < 0 ? rc : c->ci;
}

/* Makes the clients, connects them (to every node in cluster mode) and
 * sets up the I/O back end. */
static int thread_setup(struct bthread *th)
{
	const struct ap_bench_opts *o = th->run->o;
	int n = o->clients;
	int rc = 0;

	th->epfd = -1;
	th->nclients = n;
	th->clients = ap_calloc((size_t)n, sizeof(*th->clients));
	th->dirty = ap_calloc((size_t)n, sizeof(int));
	for (int i = 0; i < n; i++) {
		th->clients[i].idx = i;
		th->clients[i].gidx = (unsigned)(th->idx * n + i);
	}
	th->cluster = th->run->slots != NULL;
	if (th->cluster)
		ap_bench_cluster_init(th);
	else
		th->nodes_open = 1;
	for (int node = 0; node < th->nodes_open && rc >= 0; node++)
		for (int i = 0; i < n && rc >= 0; i++)
			rc = ap_bench_conn_open(th, i, node);
	return rc < 0 ? rc : ap_bench_io_setup(th);
}

/* Closes everything the thread opened. */
static void thread_teardown(struct bthread *th)
{
	ap_bench_io_teardown(th);
	for (int i = 0; i < th->nconns; i++) {
		struct bconn *c = &th->conns[i];

		if (c->fd >= 0)
			close(c->fd);
		ap_client_parser_deinit(&c->parser);
		ap_free(c->q);
		ap_free(c->sbuf);
		ap_free(c->rbuf);
	}
	for (int i = 0; i < th->nclients; i++)
		ap_free(th->clients[i].retry);
	ap_free(th->conns);
	ap_free(th->clients);
	ap_free(th->dirty);
	ap_free(th->node_conn);
	ap_free(th->slots);
}

/* --------------------------------------------------------- the tick */

/* Queues a client for this tick's fill. */
void ap_bench_client_dirty(struct bthread *th, struct bclient *cl)
{
	if (!cl->dirty) {
		cl->dirty = true;
		th->dirty[th->ndirty++] = cl->idx;
	}
}

/* Marks a connection failed and stops the run. */
void ap_bench_conn_fail(struct bthread *th, struct bconn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	th->conn_errors++;
	if (th->err[0] == '\0')
		snprintf(th->err, sizeof(th->err), "connection %d: %s", c->ci,
			 why);
	atomic_store(&run_stop, 1);
}

/* Start time of the client's next request, or 0 if none may go. */
uint64_t ap_bench_client_next_start(struct bthread *th, struct bclient *cl)
{
	const struct ap_bench_phase *ph = th->ph;

	if (ph->rate > 0) {
		if (cl->due == 0)
			return 0;
		double n = (double)cl->next_j * th->nclients + cl->idx;

		return th->t_base + (uint64_t)(n * th->period);
	}
	if (th->stopping || (ph->t_end == 0 && cl->counted >= cl->limit))
		return 0;
	return th->now;
}

/* Accounts a request drawn for the client. */
void ap_bench_client_issue(struct bthread *th, struct bclient *cl, uint64_t t0)
{
	const struct ap_bench_phase *ph = th->ph;

	cl->next_j++;
	cl->inflight++;
	th->inflight++;
	if (ph->rate > 0) {
		cl->due--;
		th->due_total--;
	}
	if (t0 >= ph->t_measure && ++cl->counted == cl->limit && ph->t_end == 0)
		th->active--;
}

/* Appends a request to the connection's FIFO. */
void ap_bench_conn_push(struct bconn *c, const struct req *r)
{
	AP_ASSERT(c->q_tail - c->q_head <= c->q_mask);
	c->q[c->q_tail++ & c->q_mask] = *r;
}

/* Moves unsent bytes to the front when no send is in flight. */
void ap_bench_conn_compact(struct bconn *c)
{
	if (!c->sending && c->s_off > 0) {
		memmove(c->sbuf, c->sbuf + c->s_off, c->s_fill - c->s_off);
		c->s_fill -= c->s_off;
		c->s_off = 0;
	}
}

/* Sends what is buffered and arms the receive. */
void ap_bench_conn_flush(struct bthread *th, struct bconn *c)
{
	if (c->dead)
		return;
	if (!c->sending && c->s_fill > c->s_off)
		ap_bench_io_send(th, c);
	if (!c->recv_armed && !c->dead)
		ap_bench_io_recv_arm(th, c);
}

/* Encodes as many requests as the client's window, schedule and buffer
 * allow (one connection; cluster mode routes in runner_cluster.c). */
static void client_fill(struct bthread *th, struct bclient *cl)
{
	const struct ap_bench_phase *ph = th->ph;
	const struct ap_bench_wl *wl = ph->wl;
	uint32_t window = (uint32_t)ph->pipeline;

	/* Batch mode (redis-benchmark's way): nothing new until the whole
	 * previous batch is answered. Default (memtier's way): keep the
	 * window full. */
	if (ph->batch && ph->rate == 0 && cl->inflight > 0)
		window = 0;
	if (th->cluster) {
		ap_bench_cluster_fill(th, cl, window);
		return;
	}
	struct bconn *c = &th->conns[cl->idx];

	ap_bench_conn_compact(c);
	while (cl->inflight < window && c->scap - c->s_fill >= wl->req_max) {
		uint64_t t0 = ap_bench_client_next_start(th, cl);
		struct ap_bench_draw d;

		if (t0 == 0)
			break;
		ap_bench_wl_draw(wl, &cl->wc, &d);
		struct req r = {
			.t0 = t0,
			.key = d.key,
			.dsize = (uint32_t)d.dsize,
			.client = (uint32_t)cl->idx,
			.cmd = (uint8_t)d.cmd,
		};

		r.len = (uint32_t)ap_bench_wl_encode(wl, &cl->wc, &d,
						     c->sbuf + c->s_fill);
		c->s_fill += r.len;
		ap_bench_conn_push(c, &r);
		ap_bench_client_issue(th, cl, t0);
	}
	ap_bench_conn_flush(th, c);
}

/* Counts an error reply; keeps the first one's text for the report. */
static void count_error(struct bthread *th, struct ap_bench_cmd_stats *s,
			const struct ap_client_reply *rep)
{
	struct ap_client_redirect rd;

	s->errors++;
	switch (ap_client_redirect_parse(rep->text, rep->text_len, &rd)) {
	case AP_CLIENT_REDIRECT_MOVED:
		s->moved++;
		break;
	case AP_CLIENT_REDIRECT_ASK:
		s->ask++;
		break;
	default:
		break;
	}
	if (th->first_error[0] == '\0')
		snprintf(th->first_error, sizeof(th->first_error), "%.*s",
			 (int)AP_MIN(rep->text_len, 100), rep->text);
}

/* One reply: match it to the oldest request of the connection and record
 * its latency (a redirect to follow sends it again instead). */
static void on_reply(struct bthread *th, struct bconn *c,
		     const struct ap_client_reply *rep)
{
	const struct ap_bench_phase *ph = th->ph;

	if (c->q_head == c->q_tail) {
		ap_bench_conn_fail(th, c, "reply without a request");
		return;
	}
	const struct req *r = &c->q[c->q_head++ & c->q_mask];

	if (r->flags & REQ_ASKING) {
		if (rep->is_error && th->first_error[0] == '\0')
			snprintf(th->first_error, sizeof(th->first_error),
				 "ASKING: %.*s",
				 (int)AP_MIN(rep->text_len, 100), rep->text);
		return;
	}
	if (th->cluster && rep->is_error &&
	    ap_bench_cluster_redirect(th, c, r, rep))
		return;
	struct bclient *cl = &th->clients[r->client];

	th->inflight--;
	cl->inflight--;
	ap_bench_client_dirty(th, cl);
	if (r->t0 < ph->t_measure)
		return;
	struct ap_bench_cmd_stats *s = &th->stats[r->cmd];
	struct ap_bench_pub *pub = &th->pub;
	uint64_t lat = th->now > r->t0 ? th->now - r->t0 : 0;

	ap_bench_hist_record(&s->hist, lat);
	ap_bench_hist_record(&pub->hist[pub->cur], lat);
	pub->ops[pub->cur]++;
	s->bytes_out += r->len;
	s->bytes_in += rep->wire_len;
	if (ph->t_end == 0 || th->now <= ph->t_end)
		s->ops++;
	if (rep->is_error) {
		count_error(th, s, rep);
		pub->errors[pub->cur]++;
	} else if (rep->is_null) {
		s->misses++;
	}
	th->last_done = th->now;
}

/* Parses received bytes; every complete reply is accounted. */
void ap_bench_conn_data(struct bthread *th, struct bconn *c, const char *data,
			size_t len)
{
	bool text = th->run->o->proto == AP_BENCH_PROTO_MC_TEXT;

	while (len > 0 && !c->dead) {
		struct ap_client_reply rep;
		size_t used;
		int rc = text ? ap_bench_mct_parse(&c->mct, data, len, &used,
						   &rep)
			      : ap_client_parse(&c->parser, data, len, &used,
						&rep);

		data += used;
		len -= used;
		if (rc == AP_CLIENT_NEED_MORE)
			break;
		if (rc < 0) {
			ap_bench_conn_fail(th, c,
					   text ? c->mct.err : c->parser.err);
			break;
		}
		if (!rep.is_push)
			on_reply(th, c, &rep);
	}
}

/* Publishes the finished second if the main thread took the last one. */
static void pub_check(struct bthread *th)
{
	struct ap_bench_pub *pub = &th->pub;

	if (th->now < epoch_end(th->ph, th->epoch))
		return;
	uint64_t seq =
		atomic_load_explicit(&pub->pub_seq, memory_order_relaxed);

	if (atomic_load_explicit(&pub->ack_seq, memory_order_acquire) != seq)
		return; /* the main thread is behind: keep accumulating */
	pub->epoch = th->epoch;
	pub->pub_slot = pub->cur;
	atomic_store_explicit(&pub->pub_seq, seq + 1, memory_order_release);
	pub->cur ^= 1;
	ap_bench_hist_reset(&pub->hist[pub->cur]);
	pub->ops[pub->cur] = pub->errors[pub->cur] = 0;
	while (th->now >= epoch_end(th->ph, th->epoch))
		th->epoch++;
}

/* Open loop: makes every request whose time has come due. */
static void schedule_due(struct bthread *th)
{
	const struct ap_bench_phase *ph = th->ph;

	while (!th->sched_done) {
		uint64_t t = th->t_base +
			     (uint64_t)((double)th->sched_n * th->period);

		if (ph->t_end != 0 && t >= ph->t_end) {
			th->sched_done = true;
			break;
		}
		if (t > th->now)
			break;
		struct bclient *cl =
			&th->clients[th->sched_n % (uint64_t)th->nclients];

		cl->due++;
		th->due_total++;
		ap_bench_client_dirty(th, cl);
		if (t >= ph->t_measure)
			ap_bench_hist_record(&th->lag, th->now - t);
		th->sched_n++;
	}
}

/* When the loop must wake up next, at the latest. */
static uint64_t next_wake(const struct bthread *th)
{
	const struct ap_bench_phase *ph = th->ph;
	uint64_t wake = epoch_end(ph, th->epoch);

	if (!th->measuring)
		wake = AP_MIN(wake, ph->t_measure);
	if (ph->t_end != 0)
		wake = AP_MIN(wake, th->stopping ? ph->t_end + ph->drain_ns
						 : ph->t_end);
	if (ph->rate > 0 && !th->sched_done)
		wake = AP_MIN(wake,
			      th->t_base + (uint64_t)((double)th->sched_n *
						      th->period));
	return wake;
}

/* The send buffer, FIFO and redirect sizes a phase needs. */
static void phase_sizes(struct bthread *th, const struct ap_bench_phase *ph)
{
	size_t want = (size_t)ph->pipeline * ph->wl->req_max * 2;

	want = AP_MAX(want, 2 * ph->wl->req_max);
	want = AP_MAX(want, 4096);
	want = AP_MIN(want, AP_MAX(SEND_BUF_MAX, 2 * ph->wl->req_max));
	th->sbuf_want = want;
	/* Cluster mode: a connection may hold a client's whole window plus
	 * one ASKING per redirected request. */
	th->qcap_want =
		pow2_ceil((unsigned)ph->pipeline * (th->cluster ? 2 : 1));
	th->rcap_want = pow2_ceil((unsigned)ph->pipeline + 1);
}

/* Resets the thread's per-phase state. */
static void phase_begin(struct bthread *th, const struct ap_bench_phase *ph)
{
	const struct ap_bench_opts *o = th->run->o;
	unsigned total = (unsigned)(th->run->nthreads * th->nclients);

	th->ph = ph;
	th->inflight = th->due_total = th->sched_n = 0;
	th->unanswered = th->last_done = th->idle_ns = th->enobufs = 0;
	th->spin_ns = ph->rate > 0 ? (uint64_t)o->spin_us * 1000 : 0;
	th->sched_done = th->stopping = th->measuring = false;
	th->active = th->nclients;
	th->epoch = epoch_first(ph);
	for (int i = 0; i < ph->wl->cmd_count; i++)
		ap_bench_cmd_stats_reset(&th->stats[i]);
	ap_bench_hist_reset(&th->lag);
	th->pub.cur = 0;
	for (int k = 0; k < 2; k++) {
		ap_bench_hist_reset(&th->pub.hist[k]);
		th->pub.ops[k] = th->pub.errors[k] = 0;
	}
	if (ph->rate > 0) {
		th->period = 1e9 * th->run->nthreads / ph->rate;
		th->t_base = ph->t_start + (uint64_t)(th->period * th->idx /
						      th->run->nthreads);
	}
	phase_sizes(th, ph);
	for (int i = 0; i < th->nconns; i++) {
		struct bconn *c = &th->conns[i];

		c->q_head = c->q_tail = 0;
		conn_size(th, c);
	}
	if (th->cluster)
		ap_bench_cluster_phase(th);
	for (int i = 0; i < th->nclients; i++) {
		struct bclient *cl = &th->clients[i];

		ap_bench_wl_conn_init(ph->wl, &cl->wc, cl->gidx, total,
				      o->seed + (uint64_t)th->idx);
		cl->due = cl->next_j = cl->counted = 0;
		cl->inflight = 0;
		cl->r_head = cl->r_tail = 0;
		cl->limit = ph->per_part ? cl->wc.part_len : ph->requests;
		cl->dirty = false;
		if (cl->limit == 0 && ph->t_end == 0)
			th->active--;
		else
			ap_bench_client_dirty(th, cl);
	}
}

/* True when the thread has nothing left to do in this phase. */
static bool phase_done(struct bthread *th)
{
	const struct ap_bench_phase *ph = th->ph;

	if (atomic_load_explicit(&run_stop, memory_order_relaxed))
		return true;
	if (th->inflight == 0 && th->due_total == 0 &&
	    (th->stopping || (ph->t_end == 0 && th->active == 0)) &&
	    (ph->rate == 0 || th->sched_done || ph->t_end == 0))
		return true;
	return ph->t_end != 0 && th->now >= ph->t_end + ph->drain_ns;
}

/* Fills every client that changed since the last tick. */
static void fill_dirty(struct bthread *th)
{
	for (int i = 0; i < th->ndirty; i++) {
		struct bclient *cl = &th->clients[th->dirty[i]];

		cl->dirty = false;
		client_fill(th, cl);
	}
	th->ndirty = 0;
}

/* Runs one phase: the loop described at the top of the file. */
static void phase_run(struct bthread *th, const struct ap_bench_phase *ph)
{
	struct rusage ru1;

	phase_begin(th, ph);
	/* Every thread starts the load at the same instant, and no request
	 * goes out before the phase's clock starts. */
	for (uint64_t t = ap_bench_now_ns(); t < ph->t_start;
	     t = ap_bench_now_ns()) {
		struct timespec ts = {.tv_nsec = (long)(ph->t_start - t)};

		nanosleep(&ts, NULL);
	}
	for (;;) {
		th->now = ap_bench_now_ns();
		if (!th->measuring && th->now >= ph->t_measure) {
			th->measuring = true;
			getrusage(RUSAGE_THREAD, &th->ru0);
		}
		pub_check(th);
		if (ph->t_end != 0 && th->now >= ph->t_end)
			th->stopping = true;
		if (th->cluster && th->nodes_open < th->slots->node_count &&
		    ap_bench_cluster_open_pending(th) < 0)
			atomic_store(&run_stop, 1);
		if (ph->rate > 0)
			schedule_due(th);
		fill_dirty(th);
		if (phase_done(th))
			break;
		int rc = ap_bench_io_wait(th, next_wake(th));

		if (rc < 0) {
			if (th->err[0] == '\0')
				snprintf(th->err, sizeof(th->err),
					 "waiting for I/O: %s", strerror(-rc));
			atomic_store(&run_stop, 1);
			break;
		}
		th->now = ap_bench_now_ns();
		ap_bench_io_reap(th);
	}
	th->unanswered = th->inflight + th->due_total;
	getrusage(RUSAGE_THREAD, &ru1);
	th->cpu_s = th->measuring ? ru_cpu(&th->ru0, &ru1) : 0;
	/* Requests still in the kernel are abandoned with the phase: the
	 * next phase starts from empty windows. */
	for (int i = 0; i < th->nclients; i++)
		th->clients[i].dirty = false;
	th->ndirty = 0;
}

/* Pins the thread to its CPU when --cpus asks. */
static void thread_pin(struct bthread *th)
{
	const struct ap_bench_opts *o = th->run->o;
	cpu_set_t set;

	if (o->cpu_count == 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(o->cpus[th->idx % o->cpu_count], &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		ap_log(AP_LOG_WARNING, "cannot pin thread %d to CPU %d",
		       th->idx, o->cpus[th->idx % o->cpu_count]);
}

/* A load thread: set up, then run phases until told to quit. */
static void *thread_main(void *arg)
{
	struct bthread *th = arg;
	struct ap_bench_run *run = th->run;

	thread_pin(th);
	/* Wake at the deadline asked, not up to 50 us later (the default
	 * timer slack): open-loop sends depend on it. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	(void)thread_setup(th);
	pthread_barrier_wait(&run->bar); /* connected (or failed) */
	for (;;) {
		pthread_barrier_wait(&run->bar); /* phase start */
		if (run->quit)
			break;
		phase_run(th, run->ph);
		atomic_store(&th->finished, 1);
		pthread_barrier_wait(&run->bar); /* phase end */
	}
	thread_teardown(th);
	return NULL;
}

/* ----------------------------------------------------- main-thread side */

/* Starts the threads and waits until they are connected. */
struct ap_bench_run *ap_bench_run_create(const struct ap_bench_opts *o,
					 const struct sockaddr *addr,
					 socklen_t addr_len,
					 const struct ap_bench_slots *slots,
					 char *err, size_t err_size)
{
	struct ap_bench_run *run = ap_calloc(1, sizeof(*run));
	int started = 0;

	run->o = o;
	memcpy(&run->addr, addr, addr_len);
	run->addr_len = addr_len;
	run->slots = slots;
	run->nthreads = o->threads;
	run->th = ap_calloc((size_t)o->threads, sizeof(*run->th));
	pthread_barrier_init(&run->bar, NULL, (unsigned)o->threads + 1);
	for (int i = 0; i < o->threads; i++) {
		struct bthread *th = &run->th[i];

		th->run = run;
		th->idx = i;
		for (int c = 0; c < AP_BENCH_CMDS_MAX; c++)
			ap_bench_cmd_stats_init(&th->stats[c]);
		ap_bench_hist_init(&th->lag);
		ap_bench_hist_init(&th->pub.hist[0]);
		ap_bench_hist_init(&th->pub.hist[1]);
		if (pthread_create(&th->tid, NULL, thread_main, th) != 0)
			ap_fatal("pthread_create failed");
		started++;
	}
	pthread_barrier_wait(&run->bar);
	for (int i = 0; i < started; i++) {
		if (run->th[i].err[0] != '\0') {
			snprintf(err, err_size, "thread %d: %s", i,
				 run->th[i].err);
			ap_bench_run_destroy(run);
			return NULL;
		}
	}
	return run;
}

/* Reads utime + stime of a process from /proc, in seconds; < 0 if gone. */
static double proc_cpu_s(int pid)
{
	char path[64], buf[2048];
	unsigned long long ut, st;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);

	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which may hold spaces: state is
	 * field 3, utime 14, stime 15. */
	const char *p = strrchr(buf, ')');

	if (p == NULL || sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
				"%llu %llu",
				&ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Progress state of the main thread during a phase. */
struct progress {
	struct ap_bench_hist hist;
	uint64_t acked[AP_BENCH_THREADS_MAX];
	bool sampled;
	struct rusage ru0;
	double server0;
};

/* Takes the CPU samples at the start of the measured window. */
static void sample_start(struct ap_bench_run *run, struct progress *pg)
{
	getrusage(RUSAGE_SELF, &pg->ru0);
	pg->server0 = proc_cpu_s(run->o->server_pid);
	pg->sampled = true;
}

/* Takes one published second from every thread that has one. Returns
 * how many threads are still expected to publish. */
static int collect(struct ap_bench_run *run, struct progress *pg, uint64_t *ops,
		   uint64_t *errors)
{
	int missing = 0;

	for (int i = 0; i < run->nthreads; i++) {
		struct ap_bench_pub *pub = &run->th[i].pub;
		uint64_t seq = atomic_load_explicit(&pub->pub_seq,
						    memory_order_acquire);

		if (seq == pg->acked[i]) {
			if (!atomic_load(&run->th[i].finished))
				missing++;
			continue;
		}
		ap_bench_hist_merge(&pg->hist, &pub->hist[pub->pub_slot]);
		*ops += pub->ops[pub->pub_slot];
		*errors += pub->errors[pub->pub_slot];
		pg->acked[i] = seq;
		atomic_store_explicit(&pub->ack_seq, seq, memory_order_release);
	}
	return missing;
}

/* True once every thread finished the phase. */
static bool all_finished(struct ap_bench_run *run)
{
	for (int i = 0; i < run->nthreads; i++)
		if (!atomic_load(&run->th[i].finished))
			return false;
	return true;
}

/* Sleeps until t (ns) or until every thread finished. */
static void sleep_until(struct ap_bench_run *run, uint64_t t)
{
	for (;;) {
		uint64_t now = ap_bench_now_ns();

		if (now >= t || all_finished(run))
			return;
		uint64_t d = AP_MIN(t - now, 20 * 1000 * 1000ULL);
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)d};

		nanosleep(&ts, NULL);
	}
}

/* Prints one progress line and adds measured seconds to the timeline. */
static void progress_line(struct ap_bench_run *run,
			  const struct ap_bench_phase *ph,
			  struct ap_bench_result *res, int64_t e,
			  const struct ap_bench_hist *h, uint64_t ops,
			  uint64_t errors)
{
	struct ap_bench_tick t = {
		.t = (double)e,
		.ops = ops,
		.errors = errors,
		.p50 = ap_bench_hist_percentile(h, 50),
		.p99 = ap_bench_hist_percentile(h, 99),
		.p999 = ap_bench_hist_percentile(h, 99.9),
		.max = h->count ? h->max : 0,
	};

	if (!run->o->quiet)
		fprintf(stderr,
			"[%-7s %4lld s] %10llu ops/s  p50 %8.3f ms  p99 %8.3f "
			"ms  max %8.3f ms  errors %llu\n",
			e <= 0 ? "warmup" : ph->name, (long long)e,
			(unsigned long long)ops, (double)t.p50 / 1e6,
			(double)t.p99 / 1e6, (double)t.max / 1e6,
			(unsigned long long)errors);
	if (res != NULL && e > 0)
		ap_bench_result_add_tick(res, &t);
}

/* The main thread's side of a phase: one line per second. */
static void progress_run(struct ap_bench_run *run,
			 const struct ap_bench_phase *ph,
			 struct ap_bench_result *res, struct progress *pg)
{
	for (int64_t e = epoch_first(ph);; e++) {
		uint64_t ops = 0, errors = 0;
		uint64_t end = epoch_end(ph, e);
		uint64_t give_up = end + NS_PER_SEC / 2;

		if (!pg->sampled && end > ph->t_measure) {
			sleep_until(run, ph->t_measure);
			sample_start(run, pg);
		}
		sleep_until(run, end + 2 * 1000 * 1000);
		ap_bench_hist_reset(&pg->hist);
		while (collect(run, pg, &ops, &errors) > 0 &&
		       ap_bench_now_ns() < give_up) {
			struct timespec ts = {.tv_nsec = 1000 * 1000};

			nanosleep(&ts, NULL);
		}
		if (pg->hist.count == 0 && ops == 0 && all_finished(run))
			return;
		progress_line(run, ph, res, e, &pg->hist, ops, errors);
	}
}

/* Merges the threads' results of the phase into res. */
static void phase_merge(struct ap_bench_run *run,
			const struct ap_bench_phase *ph,
			struct ap_bench_result *res, struct progress *pg)
{
	struct rusage ru1;
	uint64_t last = 0;

	getrusage(RUSAGE_SELF, &ru1);
	double server1 = proc_cpu_s(run->o->server_pid);

	for (int i = 0; i < run->nthreads; i++) {
		struct bthread *th = &run->th[i];

		for (int c = 0; c < ph->wl->cmd_count; c++) {
			ap_bench_cmd_stats_merge(&res->cmds[c], &th->stats[c]);
			ap_bench_cmd_stats_merge(&res->total, &th->stats[c]);
		}
		ap_bench_hist_merge(&res->sched_lag, &th->lag);
		res->incomplete += th->unanswered;
		res->recv_nobufs += th->enobufs;
		res->conn_errors += (uint64_t)th->conn_errors;
		res->thread_cpu_s[i] = th->cpu_s;
		res->idle_poll_s += (double)th->idle_ns / 1e9;
		if (th->cluster)
			res->cluster_nodes = AP_MAX(res->cluster_nodes,
						    th->slots->node_count);
		last = AP_MAX(last, th->last_done);
	}
	res->thread_count = run->nthreads;
	uint64_t end = ph->t_end != 0 ? ph->t_end : last;

	if (ph->t_end != 0 && atomic_load(&run_stop) && last < ph->t_end)
		end = AP_MAX(last, ph->t_measure);
	res->duration_s =
		end > ph->t_measure ? (double)(end - ph->t_measure) / 1e9 : 0;
	if (!pg->sampled)
		sample_start(run, pg);
	res->bench_user_s =
		(double)(ru1.ru_utime.tv_sec - pg->ru0.ru_utime.tv_sec) +
		(double)(ru1.ru_utime.tv_usec - pg->ru0.ru_utime.tv_usec) / 1e6;
	res->bench_sys_s =
		(double)(ru1.ru_stime.tv_sec - pg->ru0.ru_stime.tv_sec) +
		(double)(ru1.ru_stime.tv_usec - pg->ru0.ru_stime.tv_usec) / 1e6;
	if (pg->server0 >= 0 && server1 >= 0)
		res->server_cpu_s = server1 - pg->server0;
	snprintf(res->io_desc, sizeof(res->io_desc), "%s", run->th[0].io_desc);
}

/* Runs a phase on every thread; see runner.h. */
int ap_bench_run_phase(struct ap_bench_run *run,
		       const struct ap_bench_phase *ph,
		       struct ap_bench_result *res, char *err, size_t err_size)
{
	struct progress pg;

	memset(&pg, 0, sizeof(pg));
	ap_bench_hist_init(&pg.hist);
	run->ph = ph;
	for (int i = 0; i < run->nthreads; i++) {
		atomic_store(&run->th[i].pub.pub_seq, 0);
		atomic_store(&run->th[i].pub.ack_seq, 0);
		atomic_store(&run->th[i].finished, 0);
	}
	pthread_barrier_wait(&run->bar); /* start */
	progress_run(run, ph, res, &pg);
	pthread_barrier_wait(&run->bar); /* end */
	if (res != NULL)
		phase_merge(run, ph, res, &pg);
	ap_bench_hist_deinit(&pg.hist);
	for (int i = 0; i < run->nthreads; i++) {
		struct bthread *th = &run->th[i];

		if (th->first_error[0] != '\0' && !run->o->quiet) {
			fprintf(stderr, "thread %d: first error reply: %s\n", i,
				th->first_error);
			th->first_error[0] = '\0';
		}
		if (th->err[0] != '\0') {
			snprintf(err, err_size, "thread %d: %s", i, th->err);
			return -EIO;
		}
	}
	if (atomic_load(&run_stop)) {
		snprintf(err, err_size, "interrupted");
		return -EINTR;
	}
	return 0;
}

/* Stops the threads, closes connections, frees everything. */
void ap_bench_run_destroy(struct ap_bench_run *run)
{
	run->quit = true;
	pthread_barrier_wait(&run->bar);
	for (int i = 0; i < run->nthreads; i++) {
		struct bthread *th = &run->th[i];

		pthread_join(th->tid, NULL);
		for (int c = 0; c < AP_BENCH_CMDS_MAX; c++)
			ap_bench_cmd_stats_deinit(&th->stats[c]);
		ap_bench_hist_deinit(&th->lag);
		ap_bench_hist_deinit(&th->pub.hist[0]);
		ap_bench_hist_deinit(&th->pub.hist[1]);
	}
	pthread_barrier_destroy(&run->bar);
	ap_free(run->th);
	ap_free(run);
}
