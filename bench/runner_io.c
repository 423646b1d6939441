/*
 * runner_io.c - apiary-bench's two I/O back ends for the load threads.
 *
 * io_uring (the default): one ring per thread, created with the best
 * flags the kernel accepts (SINGLE_ISSUER + DEFER_TASKRUN where it can);
 * multishot receives into a provided-buffer ring (one-shot into a
 * per-connection buffer where the kernel cannot), connections registered
 * as fixed files, at most one send in flight per connection, and the
 * whole tick submitted with the wait in one io_uring_enter.
 *
 * epoll (--io epoll, or --io auto when no ring can be created: a seccomp
 * profile, kernel.io_uring_disabled, an old kernel): non-blocking sockets
 * registered once, edge-triggered for input and output; a send is written
 * at once from the tick's fill and, if the socket is full, resumed on
 * EPOLLOUT; input is read into one per-thread buffer until a short read.
 * One epoll_pwait2 per tick (nanosecond timeout). The report's I/O line
 * says which back end ran and why.
 */
#include "bench/runner_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* user_data of io_uring requests: connection index << 2 | operation. */
#define UD_RECV 1u
#define UD_SEND 2u
/* The provided-buffer group of each thread's ring. */
#define BGID 0
/* epoll: bytes read per recv() into the thread's buffer. */
#define EPOLL_READ_SIZE (4 * AP_BENCH_RECV_BUF_SIZE)
/* epoll: events taken per wait, at most. */
#define EPOLL_EVENTS_MAX 4096

/* Smallest power of two >= v (v >= 1). */
static unsigned pow2_ceil(unsigned v)
{
	unsigned p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* ------------------------------------------------------------ io_uring */

/* Creates the ring with the best flags the kernel accepts. */
static int ring_setup(struct bthread *th, unsigned entries, unsigned cq,
		      char *why, size_t why_size)
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
		snprintf(why, why_size, "io_uring_queue_init failed: %s%s",
			 strerror(-rc),
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

/* Sets up the ring, its receive buffers and fixed files for the
 * connections open now; why says what failed. */
static int uring_setup(struct bthread *th, char *why, size_t why_size)
{
	const struct ap_bench_opts *o = th->run->o;
	unsigned n = (unsigned)th->nconns;
	int rc;

	th->buf_size = AP_BENCH_RECV_BUF_SIZE;
	th->buf_count = pow2_ceil(AP_MAX(4 * n, AP_BENCH_RECV_BUF_COUNT));
	if (th->buf_count > 8192)
		th->buf_count = 8192;
	rc = ring_setup(th, pow2_ceil(AP_MAX(2 * n + 8, 64)),
			pow2_ceil(AP_MAX(8 * n, 4096)), why, why_size);
	if (rc < 0)
		return rc;
	th->multishot = !o->no_multishot && bufring_setup(th);
	int *fds = ap_calloc(n, sizeof(int));

	for (unsigned i = 0; i < n; i++)
		fds[i] = th->conns[i].fd;
	th->fixed = io_uring_register_files(&th->ring, fds, n) == 0;
	ap_free(fds);
	for (unsigned i = 0; th->fixed && i < n; i++)
		th->conns[i].fixed_idx = (int)i;
	size_t len = strlen(th->io_desc);

	snprintf(th->io_desc + len, sizeof(th->io_desc) - len, ", %s recv%s",
		 th->multishot ? "multishot" : "one-shot",
		 th->fixed ? ", fixed files" : "");
	return 0;
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

/* The descriptor an SQE names: the fixed-file index, or the plain fd. */
static int sqe_fd(const struct bconn *c)
{
	return c->fixed_idx >= 0 ? c->fixed_idx : c->fd;
}

/* Tags an SQE with its connection and operation. */
static void sqe_target(struct io_uring_sqe *sqe, const struct bconn *c,
		       uint32_t op)
{
	if (c->fixed_idx >= 0)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, ((uint64_t)c->ci << 2) | op);
}

/* Arms the connection's receive. */
static void uring_recv_arm(struct bthread *th, struct bconn *c)
{
	struct io_uring_sqe *sqe = get_sqe(th);

	if (th->multishot) {
		io_uring_prep_recv_multishot(sqe, sqe_fd(c), NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	} else {
		if (c->rbuf == NULL)
			c->rbuf = ap_malloc(th->buf_size);
		io_uring_prep_recv(sqe, sqe_fd(c), c->rbuf, th->buf_size, 0);
	}
	sqe_target(sqe, c, UD_RECV);
	c->recv_armed = true;
}

/* Queues one send of everything not yet sent. */
static void uring_send(struct bthread *th, struct bconn *c)
{
	struct io_uring_sqe *sqe = get_sqe(th);

	io_uring_prep_send(sqe, sqe_fd(c), c->sbuf + c->s_off,
			   c->s_fill - c->s_off, MSG_NOSIGNAL);
	sqe_target(sqe, c, UD_SEND);
	c->sending = true;
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
		ap_bench_conn_data(th, c, data, (size_t)cqe->res);
		if (has_buf)
			buf_recycle(th, bid);
	} else if (cqe->res == -ENOBUFS) {
		th->enobufs++;
	} else if (cqe->res == 0) {
		ap_bench_conn_fail(th, c, "the server closed the connection");
	} else {
		ap_bench_conn_fail(th, c, strerror(-cqe->res));
	}
	if (!c->recv_armed)
		ap_bench_client_dirty(th, &th->clients[c->client]);
}

/* A send completion: short sends continue from where they stopped. */
static void on_send(struct bthread *th, struct bconn *c, int res)
{
	c->sending = false;
	if (res < 0) {
		ap_bench_conn_fail(th, c, strerror(-res));
		return;
	}
	c->s_off += (size_t)res;
	if (c->s_off == c->s_fill)
		c->s_off = c->s_fill = 0;
	ap_bench_client_dirty(th, &th->clients[c->client]);
}

/* Handles every completion of this tick. */
static void uring_reap(struct bthread *th)
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
static int uring_wait(struct bthread *th, uint64_t wake)
{
	uint64_t wait = wake > th->now ? wake - th->now : 0;
	uint64_t spin = th->spin_ns;
	struct io_uring_cqe *cqe;
	int rc;

	if (wait <= spin) {
		bool idle = wait > 0 && io_uring_sq_ready(&th->ring) == 0;

		rc = io_uring_submit_and_get_events(&th->ring);
		if (idle && io_uring_cq_ready(&th->ring) == 0)
			th->idle_ns += ap_bench_now_ns() - th->now;
		return rc < 0 && rc != -EAGAIN && rc != -EBUSY ? rc : 0;
	}
	wait -= spin;
	struct __kernel_timespec ts = {
		.tv_sec = (long long)(wait / NS_PER_SEC),
		.tv_nsec = (long long)(wait % NS_PER_SEC),
	};

	rc = io_uring_submit_and_wait_timeout(&th->ring, &cqe, 1, &ts, NULL);
	if (rc == -ETIME || rc == -EINTR || rc == -EAGAIN || rc == -EBUSY)
		return 0;
	return rc < 0 ? rc : 0;
}

/* --------------------------------------------------------------- epoll */

/* Makes the socket non-blocking and watches it, edge-triggered. */
static int epoll_conn_add(struct bthread *th, struct bconn *c)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.u64 = (uint64_t)c->ci,
	};
	int fl = fcntl(c->fd, F_GETFL);

	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    epoll_ctl(th->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		int e = errno;

		snprintf(th->err, sizeof(th->err),
			 "connection %d: epoll set-up failed: %s", c->ci,
			 strerror(e));
		return -e;
	}
	c->recv_armed = true;
	return 0;
}

/* Creates the epoll instance and adds the connections open now. */
static int epoll_setup(struct bthread *th)
{
	th->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (th->epfd < 0) {
		int e = errno;

		snprintf(th->err, sizeof(th->err), "epoll_create1 failed: %s",
			 strerror(e));
		return -e;
	}
	th->events_max = AP_MIN(AP_MAX(th->nconns, 64), EPOLL_EVENTS_MAX);
	th->events = ap_calloc((size_t)th->events_max, sizeof(*th->events));
	th->ep_buf_size = EPOLL_READ_SIZE;
	th->ep_buf = ap_malloc(th->ep_buf_size);
	for (int i = 0; i < th->nconns; i++) {
		int rc = epoll_conn_add(th, &th->conns[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Writes what the connection has buffered until done or the socket is
 * full (then EPOLLOUT resumes it). */
static void epoll_send(struct bthread *th, struct bconn *c)
{
	while (c->s_off < c->s_fill) {
		ssize_t n =
			send(c->fd, c->sbuf + c->s_off, c->s_fill - c->s_off,
			     MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->s_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->sending = true;
			return;
		} else {
			ap_bench_conn_fail(th, c,
					   n == 0 ? "send wrote nothing"
						  : strerror(errno));
			return;
		}
	}
	c->s_off = c->s_fill = 0;
}

/* Reads everything the socket has (until a short read: with edge
 * triggering, later data raises a new event). */
static void epoll_read(struct bthread *th, struct bconn *c)
{
	while (!c->dead) {
		ssize_t n =
			recv(c->fd, th->ep_buf, th->ep_buf_size, MSG_DONTWAIT);

		if (n > 0) {
			ap_bench_conn_data(th, c, th->ep_buf, (size_t)n);
			if ((size_t)n < th->ep_buf_size)
				return;
		} else if (n == 0) {
			ap_bench_conn_fail(th, c,
					   "the server closed the connection");
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		} else if (errno != EINTR) {
			ap_bench_conn_fail(th, c, strerror(errno));
		}
	}
}

/* Waits for events until `wake`, polling for the last spin_ns as the
 * io_uring wait does. */
static int epoll_tick_wait(struct bthread *th, uint64_t wake)
{
	uint64_t wait = wake > th->now ? wake - th->now : 0;
	uint64_t spin = th->spin_ns;
	uint64_t sleep = wait > spin ? wait - spin : 0;
	struct timespec ts = {.tv_sec = (time_t)(sleep / NS_PER_SEC),
			      .tv_nsec = (long)(sleep % NS_PER_SEC)};
	int n = epoll_pwait2(th->epfd, th->events, th->events_max, &ts, NULL);

	if (n < 0 && errno == ENOSYS)
		n = epoll_wait(th->epfd, th->events, th->events_max,
			       (int)((sleep + 999999) / 1000000));
	if (n < 0 && errno != EINTR)
		return -errno;
	th->events_ready = n < 0 ? 0 : n;
	if (sleep == 0 && wait > 0 && th->events_ready == 0)
		th->idle_ns += ap_bench_now_ns() - th->now;
	return 0;
}

/* Handles the events of this tick. */
static void epoll_reap(struct bthread *th)
{
	for (int i = 0; i < th->events_ready; i++) {
		uint32_t ev = th->events[i].events;
		struct bconn *c = &th->conns[th->events[i].data.u64];

		if (c->dead)
			continue;
		if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
			epoll_read(th, c);
		if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->sending &&
		    !c->dead) {
			c->sending = false;
			ap_bench_client_dirty(th, &th->clients[c->client]);
		}
	}
	th->events_ready = 0;
}

/* ---------------------------------------------------------- dispatch */

/* Chooses and sets up the back end; see runner_int.h. */
int ap_bench_io_setup(struct bthread *th)
{
	enum ap_bench_io want = th->run->o->io;
	char why[200] = "";
	int rc;

	if (want != AP_BENCH_IO_EPOLL) {
		rc = uring_setup(th, why, sizeof(why));
		if (rc == 0) {
			th->io = IO_URING;
			return 0;
		}
		if (want == AP_BENCH_IO_URING) {
			snprintf(th->err, sizeof(th->err), "%s", why);
			return rc;
		}
	}
	th->io = IO_EPOLL;
	if (want == AP_BENCH_IO_EPOLL)
		snprintf(th->io_desc, sizeof(th->io_desc),
			 "epoll, edge-triggered (--io epoll)");
	else
		snprintf(th->io_desc, sizeof(th->io_desc),
			 "epoll, edge-triggered (io_uring unavailable: %s)",
			 why);
	return epoll_setup(th);
}

/* Releases the back end. */
void ap_bench_io_teardown(struct bthread *th)
{
	if (th->ring_ok)
		io_uring_queue_exit(&th->ring);
	th->ring_ok = false;
	if (th->br != NULL)
		munmap(th->br, th->br_size);
	th->br = NULL;
	ap_free(th->bufs);
	th->bufs = NULL;
	if (th->epfd >= 0)
		close(th->epfd);
	th->epfd = -1;
	ap_free(th->events);
	th->events = NULL;
	ap_free(th->ep_buf);
	th->ep_buf = NULL;
}

/* Adds a connection opened mid-run (a plain descriptor for io_uring). */
int ap_bench_io_conn_add(struct bthread *th, struct bconn *c)
{
	return th->io == IO_EPOLL ? epoll_conn_add(th, c) : 0;
}

/* Sends what the connection has buffered. */
void ap_bench_io_send(struct bthread *th, struct bconn *c)
{
	if (th->io == IO_EPOLL)
		epoll_send(th, c);
	else
		uring_send(th, c);
}

/* Makes sure replies will be read. */
void ap_bench_io_recv_arm(struct bthread *th, struct bconn *c)
{
	if (th->io == IO_EPOLL)
		c->recv_armed = true;
	else
		uring_recv_arm(th, c);
}

/* Submits and waits; see runner_int.h. */
int ap_bench_io_wait(struct bthread *th, uint64_t wake)
{
	return th->io == IO_EPOLL ? epoll_tick_wait(th, wake)
				  : uring_wait(th, wake);
}

/* Handles completions or events. */
void ap_bench_io_reap(struct bthread *th)
{
	if (th->io == IO_EPOLL)
		epoll_reap(th);
	else
		uring_reap(th);
}
