/*
 * runner.c - apiary-bench's load threads: one io_uring ring per thread,
 * one loop per thread, one kernel entry per loop tick.
 *
 * A tick: read the clock, publish the finished second if one ended, make
 * open-loop requests due, let every connection that changed ("dirty")
 * encode requests straight into its send buffer and queue one send (never
 * two in flight per socket) and, if needed, re-arm its receive; then a
 * single io_uring_submit_and_wait_timeout() submits everything and waits
 * for completions or the next deadline; then every completion is handled
 * and the provided buffers go back to the kernel in one ring update.
 *
 * Receives are multishot into one provided-buffer ring per thread (one-shot
 * into a per-connection buffer where the kernel cannot). Replies are
 * parsed straight out of the kernel's buffer by the incremental parser,
 * which keeps no reference to it, so every buffer is recycled at once.
 *
 * Latency: a request's start time is the tick at which it was encoded
 * (closed loop) or the time it was scheduled for (open loop, --rate): a
 * request that waits behind a stalled server counts its whole wait. Each
 * reply is matched to the oldest request of its connection (RESP and the
 * non-quiet memcached commands answer in order).
 */
#include "bench/runner.h"

#include <errno.h>
#include <liburing.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SEC 1000000000ULL
/* user_data: connection index << 2 | operation. */
#define UD_RECV 1u
#define UD_SEND 2u
/* The provided-buffer group of each thread's ring. */
#define BGID 0
/* Seconds a handshake (HELLO, AUTH, SELECT) may take. */
#define HANDSHAKE_TIMEOUT_S 5
/* Longest reply to a handshake or probe command. */
#define SYNC_CAPTURE_MAX (1024 * 1024)
/* Largest send buffer per connection. */
#define SEND_BUF_MAX (8u * 1024 * 1024)

/*
 * Set by a signal handler or a failed connection: every thread stops at its
 * next tick. The only mutable global, as a signal handler needs one.
 */
static _Atomic int run_stop;

struct req {
	uint64_t t0;  /* start (closed) or intended (open) time */
	uint32_t cmd; /* workload command index */
	uint32_t len; /* request bytes */
};

struct bconn {
	int fd;
	int ci;	       /* index in the thread */
	unsigned gidx; /* index over all threads */
	char *sbuf;
	size_t scap, s_off, s_fill; /* [s_off, s_fill) not yet acknowledged */
	bool sending, recv_armed, dirty, dead;
	struct req *q; /* requests in flight, oldest at q_head */
	uint32_t q_head, q_tail, q_mask;
	uint64_t due;	  /* open loop: requests due but not yet encoded */
	uint64_t next_j;  /* requests encoded in this phase */
	uint64_t counted; /* encoded requests inside the measured window */
	uint64_t limit;	  /* request-count mode: counted requests to send */
	struct ap_client_parser parser;
	struct ap_bench_wl_conn wc;
	char *rbuf; /* one-shot receive buffer (no provided buffers) */
};

struct bthread {
	struct ap_bench_run *run;
	int idx;
	pthread_t tid;
	struct io_uring ring;
	bool ring_ok, fixed, multishot;
	struct io_uring_buf_ring *br;
	size_t br_size;
	char *bufs;
	unsigned buf_count, buf_size;
	int br_pending; /* buffers re-added, not yet published */
	struct bconn *conns;
	int nconns;
	int *dirty;
	int ndirty;
	/* per phase */
	const struct ap_bench_phase *ph;
	uint64_t now;
	double period;	 /* open loop: ns between this thread's requests */
	uint64_t t_base; /* open loop: intended time of request 0 */
	uint64_t sched_n;
	bool sched_done, stopping, measuring;
	uint64_t inflight, due_total;
	int active; /* connections still below their request limit */
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
	char io_desc[128];
};

struct ap_bench_run {
	const struct ap_bench_opts *o;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int nthreads;
	struct bthread *th;
	pthread_barrier_t bar;
	const struct ap_bench_phase *ph;
	bool quit;
};

/* ------------------------------------------------------------- helpers */

static uint64_t now_ns(void)
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

/* HELLO 3 / AUTH / SELECT as the options ask. */
static int handshake(const struct ap_bench_opts *o, int fd, char *err,
		     size_t err_size)
{
	struct ap_client_parser p;
	char user[256] = "default", pass[256] = "", db[16];
	bool acl = false;
	int rc = 0;

	if (o->proto == AP_BENCH_PROTO_MC_BIN)
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

/* ------------------------------------------------------- ring set-up */

/* Creates the ring with the best flags the kernel accepts. */
static int ring_setup(struct bthread *th, unsigned entries, unsigned cq)
{
	static const struct {
		unsigned flags;
		const char *name;
	} tries[] = {
		{IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			 IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
			 IORING_SETUP_SUBMIT_ALL,
		 "single_issuer+defer_taskrun"},
		{IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
			 IORING_SETUP_SUBMIT_ALL,
		 "coop_taskrun"},
		{0, "no task-run flags"},
	};
	int rc = -EINVAL;

	for (size_t i = 0; i < AP_ARRAY_LEN(tries) && rc == -EINVAL; i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = tries[i].flags | IORING_SETUP_CQSIZE;
		p.cq_entries = cq;
		rc = io_uring_queue_init_params(entries, &th->ring, &p);
		if (rc == 0)
			snprintf(th->io_desc, sizeof(th->io_desc),
				 "io_uring (%s)", tries[i].name);
	}
	if (rc < 0) {
		snprintf(th->err, sizeof(th->err),
			 "io_uring_queue_init failed: %s%s", strerror(-rc),
			 rc == -EPERM ? " (is kernel.io_uring_disabled set, "
					"or a seccomp profile in the way?)"
				      : "");
		return rc;
	}
	th->ring_ok = true;
	(void)io_uring_register_ring_fd(&th->ring);
	return 0;
}

/* Registers a provided-buffer ring; false where the kernel cannot. */
static bool bufring_setup(struct bthread *th)
{
	struct io_uring_buf_reg reg;
	int mask = io_uring_buf_ring_mask(th->buf_count);

	th->br_size = th->buf_count * sizeof(struct io_uring_buf);
	th->br = mmap(NULL, th->br_size, PROT_READ | PROT_WRITE,
		      MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (th->br == MAP_FAILED) {
		th->br = NULL;
		return false;
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)th->br;
	reg.ring_entries = th->buf_count;
	reg.bgid = BGID;
	if (io_uring_register_buf_ring(&th->ring, &reg, 0) != 0) {
		munmap(th->br, th->br_size);
		th->br = NULL;
		return false;
	}
	io_uring_buf_ring_init(th->br);
	th->bufs = ap_malloc((size_t)th->buf_count * th->buf_size);
	for (unsigned i = 0; i < th->buf_count; i++)
		io_uring_buf_ring_add(
			th->br, th->bufs + (size_t)i * th->buf_size,
			th->buf_size, (unsigned short)i, mask, (int)i);
	io_uring_buf_ring_advance(th->br, (int)th->buf_count);
	return true;
}

/* Connects and hands the thread's connections to its ring. */
static int thread_setup(struct bthread *th)
{
	const struct ap_bench_opts *o = th->run->o;
	int n = o->clients;
	unsigned qcap = pow2_ceil((unsigned)o->pipeline);
	int *fds = ap_calloc((size_t)n, sizeof(int));
	int rc;

	th->nconns = n;
	th->conns = ap_calloc((size_t)n, sizeof(*th->conns));
	th->dirty = ap_calloc((size_t)n, sizeof(int));
	for (int i = 0; i < n; i++) {
		struct bconn *c = &th->conns[i];

		c->fd = -1;
		c->ci = i;
		c->gidx = (unsigned)(th->idx * n + i);
		c->q = ap_calloc(qcap, sizeof(*c->q));
		c->q_mask = qcap - 1;
		ap_client_parser_init(&c->parser,
				      o->proto == AP_BENCH_PROTO_MC_BIN
					      ? AP_CLIENT_PROTO_MC_BIN
					      : AP_CLIENT_PROTO_RESP);
	}
	for (int i = 0; i < n; i++) {
		struct bconn *c = &th->conns[i];
		struct timeval tv = {.tv_sec = HANDSHAKE_TIMEOUT_S};
		struct timeval zero = {0};

		c->fd = ap_bench_connect((struct sockaddr *)&th->run->addr,
					 th->run->addr_len);
		if (c->fd < 0) {
			snprintf(th->err, sizeof(th->err),
				 "connection %d: connect failed: %s", i,
				 strerror(-c->fd));
			ap_free(fds);
			return c->fd;
		}
		fds[i] = c->fd;
		(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				 sizeof(tv));
		rc = handshake(o, c->fd, th->err, sizeof(th->err));
		(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &zero,
				 sizeof(zero));
		if (rc < 0) {
			ap_free(fds);
			return rc;
		}
	}
	th->buf_size = AP_BENCH_RECV_BUF_SIZE;
	th->buf_count =
		pow2_ceil((unsigned)AP_MAX(4 * n, AP_BENCH_RECV_BUF_COUNT));
	if (th->buf_count > 8192)
		th->buf_count = 8192;
	rc = ring_setup(th, pow2_ceil((unsigned)AP_MAX(2 * n + 8, 64)),
			pow2_ceil((unsigned)AP_MAX(8 * n, 4096)));
	if (rc == 0) {
		th->multishot = !o->no_multishot && bufring_setup(th);
		th->fixed = io_uring_register_files(&th->ring, fds,
						    (unsigned)n) == 0;
		size_t len = strlen(th->io_desc);

		snprintf(th->io_desc + len, sizeof(th->io_desc) - len,
			 ", %s recv%s",
			 th->multishot ? "multishot" : "one-shot",
			 th->fixed ? ", fixed files" : "");
	}
	ap_free(fds);
	return rc;
}

/* Closes everything the thread opened. */
static void thread_teardown(struct bthread *th)
{
	if (th->ring_ok)
		io_uring_queue_exit(&th->ring);
	if (th->br != NULL)
		munmap(th->br, th->br_size);
	ap_free(th->bufs);
	for (int i = 0; i < th->nconns; i++) {
		struct bconn *c = &th->conns[i];

		if (c->fd >= 0)
			close(c->fd);
		ap_client_parser_deinit(&c->parser);
		ap_free(c->q);
		ap_free(c->sbuf);
		ap_free(c->rbuf);
	}
	ap_free(th->conns);
	ap_free(th->dirty);
}

/* --------------------------------------------------------- the tick */

/* Queues c for this tick's fill. */
static void mark_dirty(struct bthread *th, struct bconn *c)
{
	if (!c->dirty && !c->dead) {
		c->dirty = true;
		th->dirty[th->ndirty++] = c->ci;
	}
}

/* Marks a connection failed and stops the run. */
static void conn_fail(struct bthread *th, struct bconn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	th->conn_errors++;
	if (th->err[0] == '\0')
		snprintf(th->err, sizeof(th->err), "connection %u: %s", c->gidx,
			 why);
	atomic_store(&run_stop, 1);
}

/* An SQE, submitting first if the queue is full. */
static struct io_uring_sqe *get_sqe(struct bthread *th)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&th->ring);

	if (sqe == NULL) {
		(void)io_uring_submit(&th->ring);
		sqe = io_uring_get_sqe(&th->ring);
		AP_ASSERT(sqe != NULL);
	}
	return sqe;
}

/* Sets the file of an SQE: fixed-file index or plain descriptor. */
static void sqe_target(struct bthread *th, struct io_uring_sqe *sqe,
		       const struct bconn *c, uint32_t op)
{
	if (th->fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, ((uint64_t)c->ci << 2) | op);
}

/* Arms the connection's receive. */
static void conn_recv_arm(struct bthread *th, struct bconn *c)
{
	struct io_uring_sqe *sqe = get_sqe(th);
	int fd = th->fixed ? c->ci : c->fd;

	if (th->multishot) {
		io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	} else {
		if (c->rbuf == NULL)
			c->rbuf = ap_malloc(th->buf_size);
		io_uring_prep_recv(sqe, fd, c->rbuf, th->buf_size, 0);
	}
	sqe_target(th, sqe, c, UD_RECV);
	c->recv_armed = true;
}

/* Sends everything not yet sent (one send in flight per connection). */
static void conn_send(struct bthread *th, struct bconn *c)
{
	struct io_uring_sqe *sqe = get_sqe(th);

	io_uring_prep_send(sqe, th->fixed ? c->ci : c->fd, c->sbuf + c->s_off,
			   c->s_fill - c->s_off, MSG_NOSIGNAL);
	sqe_target(th, sqe, c, UD_SEND);
	c->sending = true;
}

/* Start time of the connection's next request, or 0 if none may go. */
static uint64_t next_start(struct bthread *th, struct bconn *c)
{
	const struct ap_bench_phase *ph = th->ph;

	if (ph->rate > 0) {
		if (c->due == 0)
			return 0;
		double n = (double)c->next_j * th->nconns + c->ci;

		return th->t_base + (uint64_t)(n * th->period);
	}
	if (th->stopping || (ph->t_end == 0 && c->counted >= c->limit))
		return 0;
	return th->now;
}

/* Encodes as many requests as the window, schedule and buffer allow. */
static void conn_fill(struct bthread *th, struct bconn *c)
{
	const struct ap_bench_phase *ph = th->ph;
	const struct ap_bench_wl *wl = ph->wl;
	uint32_t window = (uint32_t)ph->pipeline;

	/* Batch mode (redis-benchmark's way): nothing new until the whole
	 * previous batch is answered. Default (memtier's way): keep the
	 * window full. */
	if (ph->batch && ph->rate == 0 && c->q_tail != c->q_head)
		window = 0;
	if (!c->sending && c->s_off > 0) {
		memmove(c->sbuf, c->sbuf + c->s_off, c->s_fill - c->s_off);
		c->s_fill -= c->s_off;
		c->s_off = 0;
	}
	while (c->q_tail - c->q_head < window &&
	       c->scap - c->s_fill >= wl->req_max) {
		uint64_t t0 = next_start(th, c);
		int cmd;

		if (t0 == 0)
			break;
		size_t len =
			ap_bench_wl_next(wl, &c->wc, c->sbuf + c->s_fill, &cmd);
		struct req *r = &c->q[c->q_tail++ & c->q_mask];

		r->t0 = t0;
		r->cmd = (uint32_t)cmd;
		r->len = (uint32_t)len;
		c->s_fill += len;
		c->next_j++;
		th->inflight++;
		if (ph->rate > 0) {
			c->due--;
			th->due_total--;
		}
		if (t0 >= ph->t_measure && ++c->counted == c->limit &&
		    ph->t_end == 0)
			th->active--;
	}
	if (!c->sending && c->s_fill > c->s_off)
		conn_send(th, c);
	if (!c->recv_armed)
		conn_recv_arm(th, c);
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

/* One reply: match it to the oldest request and record its latency. */
static void on_reply(struct bthread *th, struct bconn *c,
		     const struct ap_client_reply *rep)
{
	const struct ap_bench_phase *ph = th->ph;

	if (c->q_head == c->q_tail) {
		conn_fail(th, c, "reply without a request");
		return;
	}
	const struct req *r = &c->q[c->q_head++ & c->q_mask];

	th->inflight--;
	mark_dirty(th, c);
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
static void on_data(struct bthread *th, struct bconn *c, const char *data,
		    size_t len)
{
	while (len > 0 && !c->dead) {
		struct ap_client_reply rep;
		size_t used;
		int rc = ap_client_parse(&c->parser, data, len, &used, &rep);

		data += used;
		len -= used;
		if (rc == AP_CLIENT_NEED_MORE)
			break;
		if (rc < 0) {
			conn_fail(th, c, c->parser.err);
			break;
		}
		if (!rep.is_push)
			on_reply(th, c, &rep);
	}
}

/* Gives a provided buffer back (published at the end of the tick). */
static void buf_recycle(struct bthread *th, unsigned bid)
{
	io_uring_buf_ring_add(th->br, th->bufs + (size_t)bid * th->buf_size,
			      th->buf_size, (unsigned short)bid,
			      io_uring_buf_ring_mask(th->buf_count),
			      th->br_pending++);
}

/* A receive completion. */
static void on_recv(struct bthread *th, struct bconn *c,
		    const struct io_uring_cqe *cqe)
{
	if (!(cqe->flags & IORING_CQE_F_MORE))
		c->recv_armed = false;
	if (cqe->res > 0) {
		const char *data = c->rbuf;
		bool has_buf = cqe->flags & IORING_CQE_F_BUFFER;
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

		if (has_buf)
			data = th->bufs + (size_t)bid * th->buf_size;
		on_data(th, c, data, (size_t)cqe->res);
		if (has_buf)
			buf_recycle(th, bid);
	} else if (cqe->res == -ENOBUFS) {
		th->enobufs++;
	} else if (cqe->res == 0) {
		conn_fail(th, c, "the server closed the connection");
	} else {
		conn_fail(th, c, strerror(-cqe->res));
	}
	if (!c->recv_armed)
		mark_dirty(th, c);
}

/* A send completion: short sends continue from where they stopped. */
static void on_send(struct bthread *th, struct bconn *c, int res)
{
	c->sending = false;
	if (res < 0) {
		conn_fail(th, c, strerror(-res));
		return;
	}
	c->s_off += (size_t)res;
	if (c->s_off == c->s_fill)
		c->s_off = c->s_fill = 0;
	mark_dirty(th, c);
}

/* Handles every completion of this tick. */
static void reap(struct bthread *th)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&th->ring, head, cqe)
	{
		uint64_t ud = io_uring_cqe_get_data64(cqe);

		n++;
		if (ud == LIBURING_UDATA_TIMEOUT)
			continue;
		struct bconn *c = &th->conns[ud >> 2];

		if ((ud & 3) == UD_RECV)
			on_recv(th, c, cqe);
		else
			on_send(th, c, cqe->res);
	}
	io_uring_cq_advance(&th->ring, n);
	if (th->br_pending > 0) {
		io_uring_buf_ring_advance(th->br, th->br_pending);
		th->br_pending = 0;
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
		struct bconn *c =
			&th->conns[th->sched_n % (uint64_t)th->nconns];

		if (!c->dead) {
			c->due++;
			th->due_total++;
			mark_dirty(th, c);
		}
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

/* Resets the thread's per-phase state. */
static void phase_begin(struct bthread *th, const struct ap_bench_phase *ph)
{
	const struct ap_bench_opts *o = th->run->o;
	unsigned total = (unsigned)(th->run->nthreads * th->nconns);

	th->ph = ph;
	th->inflight = th->due_total = th->sched_n = 0;
	th->unanswered = th->last_done = th->idle_ns = th->enobufs = 0;
	th->spin_ns = ph->rate > 0 ? (uint64_t)o->spin_us * 1000 : 0;
	th->sched_done = th->stopping = th->measuring = false;
	th->active = th->nconns;
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
	size_t want = (size_t)ph->pipeline * ph->wl->req_max * 2;

	want = AP_MAX(want, 2 * ph->wl->req_max);
	want = AP_MAX(want, 4096);
	want = AP_MIN(want, AP_MAX(SEND_BUF_MAX, 2 * ph->wl->req_max));
	for (int i = 0; i < th->nconns; i++) {
		struct bconn *c = &th->conns[i];

		ap_bench_wl_conn_init(ph->wl, &c->wc, c->gidx, total,
				      o->seed + (uint64_t)th->idx);
		if (c->scap < want) {
			c->sbuf = ap_realloc(c->sbuf, want);
			c->scap = want;
		}
		c->q_head = c->q_tail = 0;
		c->due = c->next_j = c->counted = 0;
		c->limit = ph->per_part ? c->wc.part_len : ph->requests;
		c->dirty = false;
		if (c->limit == 0 && ph->t_end == 0)
			th->active--;
		else
			mark_dirty(th, c);
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

/*
 * Submits this tick's requests and waits for completions until `wake`.
 *
 * A timed sleep is costly where the kernel runs in a VM (about 15 us of
 * CPU per timer wake-up and as much lateness, measured on the project's
 * VM), so in open loop the thread sleeps until spin_ns before the
 * deadline and polls from there: sends leave on time. Polls that find
 * nothing to do are counted as idle, so the CPU report still says how
 * busy the bench was. A zero wait never sleeps.
 */
static int tick_wait(struct bthread *th, uint64_t wake)
{
	uint64_t wait = wake > th->now ? wake - th->now : 0;
	uint64_t spin = th->spin_ns;
	struct io_uring_cqe *cqe;
	int rc;

	if (wait <= spin) {
		bool idle = wait > 0 && io_uring_sq_ready(&th->ring) == 0;

		rc = io_uring_submit_and_get_events(&th->ring);
		if (idle && io_uring_cq_ready(&th->ring) == 0)
			th->idle_ns += now_ns() - th->now;
		return rc < 0 ? rc : 0;
	}
	wait -= spin;
	struct __kernel_timespec ts = {
		.tv_sec = (long long)(wait / NS_PER_SEC),
		.tv_nsec = (long long)(wait % NS_PER_SEC),
	};

	rc = io_uring_submit_and_wait_timeout(&th->ring, &cqe, 1, &ts, NULL);
	return rc == -ETIME || rc == -EINTR ? 0 : rc;
}

/* Runs one phase: the loop described at the top of the file. */
static void phase_run(struct bthread *th, const struct ap_bench_phase *ph)
{
	struct rusage ru1;

	phase_begin(th, ph);
	/* Every thread starts the load at the same instant, and no request
	 * goes out before the phase's clock starts. */
	for (uint64_t t = now_ns(); t < ph->t_start; t = now_ns()) {
		struct timespec ts = {.tv_nsec = (long)(ph->t_start - t)};

		nanosleep(&ts, NULL);
	}
	for (;;) {
		th->now = now_ns();
		if (!th->measuring && th->now >= ph->t_measure) {
			th->measuring = true;
			getrusage(RUSAGE_THREAD, &th->ru0);
		}
		pub_check(th);
		if (ph->t_end != 0 && th->now >= ph->t_end)
			th->stopping = true;
		if (ph->rate > 0)
			schedule_due(th);
		for (int i = 0; i < th->ndirty; i++) {
			struct bconn *c = &th->conns[th->dirty[i]];

			c->dirty = false;
			if (!c->dead)
				conn_fill(th, c);
		}
		th->ndirty = 0;
		if (phase_done(th))
			break;
		int rc = tick_wait(th, next_wake(th));

		if (rc < 0 && rc != -EAGAIN && rc != -EBUSY) {
			snprintf(th->err, sizeof(th->err),
				 "io_uring_submit_and_wait: %s", strerror(-rc));
			atomic_store(&run_stop, 1);
			break;
		}
		th->now = now_ns();
		reap(th);
	}
	th->unanswered = th->inflight + th->due_total;
	getrusage(RUSAGE_THREAD, &ru1);
	th->cpu_s = th->measuring ? ru_cpu(&th->ru0, &ru1) : 0;
	/* Requests still in the kernel are abandoned with the phase: the
	 * next phase starts from empty windows. */
	for (int i = 0; i < th->nconns; i++)
		th->conns[i].dirty = false;
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
					 socklen_t addr_len, char *err,
					 size_t err_size)
{
	struct ap_bench_run *run = ap_calloc(1, sizeof(*run));
	int started = 0;

	run->o = o;
	memcpy(&run->addr, addr, addr_len);
	run->addr_len = addr_len;
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
		uint64_t now = now_ns();

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
		       now_ns() < give_up) {
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
