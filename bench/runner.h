/*
 * runner.h - private to apiary-bench: the load threads (runner.c) as
 * main.c drives them.
 *
 * A run owns T threads, each with its own io_uring ring (or epoll
 * instance), its clients and connections and its own statistics. Threads
 * connect at creation, then run phases (prefill, then warm-up + measurement)
 * that main.c starts one at a time; between phases they wait on a barrier.
 * While a phase runs, every thread publishes one interval of statistics per
 * second through a two-slot mailbox (struct ap_bench_pub) that the main thread
 * drains for the progress line and the timeline; nothing else is shared while
 * the load runs.
 */
#ifndef AP_BENCH_RUNNER_H
#define AP_BENCH_RUNNER_H

#include "bench/bench.h"

#include <stdatomic.h>
#include <sys/socket.h>

/* What one phase does. Times are CLOCK_MONOTONIC nanoseconds. */
struct ap_bench_phase {
	const struct ap_bench_wl *wl;
	const char *name;   /* "prefill", "run" */
	uint64_t t_start;   /* load begins */
	uint64_t t_measure; /* requests intended earlier are not recorded */
	uint64_t t_end;	    /* stop issuing; 0: request-count mode */
	uint64_t drain_ns;  /* wait this long for replies after t_end */
	uint64_t requests;  /* per connection, request-count mode */
	bool per_part;	    /* each connection sends its key part once */
	int pipeline;
	bool batch;  /* closed loop: send a new batch only when all answered */
	double rate; /* total requests/s; 0: closed loop */
};

/* One thread's mailbox for per-second statistics. The thread fills
 * hist[cur]; at a second boundary, if the main thread has acknowledged the
 * previous interval, it publishes slot cur (epoch, then pub_seq with
 * release) and switches to the other slot. */
struct ap_bench_pub {
	_Alignas(AP_PAD_ALIGN) _Atomic uint64_t pub_seq;
	_Alignas(AP_PAD_ALIGN) _Atomic uint64_t ack_seq;
	_Alignas(AP_PAD_ALIGN) int64_t epoch; /* of the published slot */
	int pub_slot;
	int cur;
	struct ap_bench_hist hist[2];
	uint64_t ops[2], errors[2];
};

struct ap_bench_run;

/* Starts o->threads threads that connect o->clients connections each to
 * addr (blocking connects and handshakes: HELLO 3, AUTH, SELECT) or, with
 * a slot map (cluster mode, which the run then only reads), to every node
 * the map names. Returns NULL with a message in err if any connection
 * fails. */
struct ap_bench_run *ap_bench_run_create(const struct ap_bench_opts *o,
					 const struct sockaddr *addr,
					 socklen_t addr_len,
					 const struct ap_bench_slots *slots,
					 char *err, size_t err_size);
/* Runs one phase on every thread and reports progress each second (unless
 * quiet). With res, merges the threads' statistics, CPU times and the
 * timeline into it. Returns 0, or -EIO if connections failed (message in
 * err; res still holds what was measured). */
int ap_bench_run_phase(struct ap_bench_run *run,
		       const struct ap_bench_phase *ph,
		       struct ap_bench_result *res, char *err, size_t err_size);
/* Stops the threads and closes every connection. */
void ap_bench_run_destroy(struct ap_bench_run *run);
/* Asks a running phase to stop early (async-signal-safe). */
void ap_bench_run_interrupt(void);

/* Opens a blocking TCP connection with TCP_NODELAY; -errno on failure. */
int ap_bench_connect(const struct sockaddr *addr, socklen_t addr_len);
/* Runs the handshake the options ask for on a blocking connection
 * (HELLO 3, AUTH, SELECT; nothing for memcached). Returns 0, or -errno /
 * -EPROTO with a message in err. */
int ap_bench_handshake(const struct ap_bench_opts *o, int fd, char *err,
		       size_t err_size);
/* Sends one command on a blocking socket and reads its reply with p
 * (whose capture settings apply). Returns 0 with the reply in *rep, or
 * -errno / -EPROTO. */
int ap_bench_sync_cmd(int fd, struct ap_client_parser *p, int argc,
		      const char *const *argv, struct ap_client_reply *rep);

#endif
