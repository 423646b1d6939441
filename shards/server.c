/*
 * server.c - the server object, the shard threads and their loop, and the
 * SPSC mesh that carries messages between shards.
 *
 * A shard's tick: drain inbound rings (run messages), run clients left
 * over by the per-tick budget, publish outbound messages (one release
 * store and at most one wake-up per destination per tick), background
 * work when due (expiry, rehash, stats), then one event-loop turn: submit
 * all sends and wait for I/O or a wake-up. A shard sleeps in the kernel
 * when it has nothing to do; it never spins.
 *
 * Sleep/wake handshake (Dekker): the consumer stores sleeping=1, then
 * re-checks its inbound rings; the producer publishes, fences, then reads
 * sleeping and writes the consumer's eventfd once (wake_pending).
 */
#include "shards/shards_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mimalloc.h>

#include "core/version.h"

#define INBOUND_BATCH 64

/* --- command statistics index ---------------------------------------- */

/* Maps a command (or subcommand) pointer to a dense index, built once at
 * start before threads. Open addressing on the pointer value. */
static const struct ap_cmd **cmdidx_keys;
static size_t cmdidx_cap;
static size_t cmdidx_count;

static size_t ptr_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static void cmdidx_insert(const struct ap_cmd *cmd)
{
	size_t i = ptr_hash(cmd) & (cmdidx_cap - 1);
	while (cmdidx_keys[i])
		i = (i + 1) & (cmdidx_cap - 1);
	cmdidx_keys[i] = cmd;
	cmdidx_count++;
}

void ap_server_setup_cmdstat_index(void)
{
	size_t n = 0;
	for (size_t i = 0; i < ap_cmd_count(); i++) {
		const struct ap_cmd *c = ap_cmd_at(i);
		n++;
		for (const struct ap_cmd *sc = c->subcmds; sc && sc->name; sc++)
			n++;
	}
	cmdidx_cap = 16;
	while (cmdidx_cap < n * 2)
		cmdidx_cap *= 2;
	cmdidx_keys = ap_calloc(cmdidx_cap, sizeof(*cmdidx_keys));
	for (size_t i = 0; i < ap_cmd_count(); i++) {
		const struct ap_cmd *c = ap_cmd_at(i);
		cmdidx_insert(c);
		for (const struct ap_cmd *sc = c->subcmds; sc && sc->name; sc++)
			cmdidx_insert(sc);
	}
}

size_t ap_shard_cmdstat_idx(const struct ap_cmd *cmd)
{
	size_t i = ptr_hash(cmd) & (cmdidx_cap - 1);
	while (cmdidx_keys[i] != cmd) {
		AP_ASSERT(cmdidx_keys[i] != NULL);
		i = (i + 1) & (cmdidx_cap - 1);
	}
	return i;
}

size_t ap_shard_cmdstat_count(void)
{
	return cmdidx_cap;
}

/* Reverse lookup for INFO commandstats: the command at a slot, or NULL. */
const struct ap_cmd *ap_shard_cmdstat_cmd(size_t idx);
const struct ap_cmd *ap_shard_cmdstat_cmd(size_t idx)
{
	return idx < cmdidx_cap ? cmdidx_keys[idx] : NULL;
}

/* --- errors ------------------------------------------------------------ */

void ap_shard_count_error(void *shard, const char *msg, size_t len)
{
	struct ap_shard *s = shard;
	size_t n = 0;
	while (n < len && n < sizeof(s->errstats[0].code) - 1 && msg[n] != ' ')
		n++;
	s->errors_total++;
	for (unsigned i = 0; i < s->errstat_count; i++) {
		if (strlen(s->errstats[i].code) == n &&
		    memcmp(s->errstats[i].code, msg, n) == 0) {
			s->errstats[i].count++;
			return;
		}
	}
	if (s->errstat_count == AP_ERRSTATS_MAX)
		return;
	struct ap_errstat *e = &s->errstats[s->errstat_count++];
	memcpy(e->code, msg, n);
	e->code[n] = '\0';
	e->count = 1;
}

/* --- mesh ---------------------------------------------------------------- */

static inline struct ap_spsc *ring(struct ap_server *srv, int from, int to)
{
	return &srv->mesh[(size_t)from * (size_t)srv->nshards + (size_t)to];
}

void ap_shard_send(struct ap_shard *s, int to, struct ap_msg *m)
{
	/* While the log fails, only a message after new records waits (the
	 * reply of a write); reads and errors go. */
	if (AP_UNLIKELY(ap_plog_must_hold(s)) &&
	    (!s->plog.err || s->plog.wrote)) {
		s->plog.wrote = false;
		ap_plog_hold_msg(s, to, m);
		return;
	}
	s->plog.wrote = false;
	ap_shard_send_now(s, to, m);
}

void ap_shard_send_now(struct ap_shard *s, int to, struct ap_msg *m)
{
	struct ap_outbox *ob = &s->outbox[to];
	m->from = (uint16_t)s->id;
	m->next = NULL;
	s->st.msgs_out++;
	if (!ob->spill_head && ap_spsc_push(ring(s->srv, s->id, to), m)) {
		ob->dirty = true;
		return;
	}
	if (ob->spill_tail)
		ob->spill_tail->next = m;
	else
		ob->spill_head = m;
	ob->spill_tail = m;
	ob->dirty = true;
}

/* Publishes staged messages to every destination; wakes sleepers. */
static bool flush_outboxes(struct ap_shard *s)
{
	struct ap_server *srv = s->srv;
	bool spilled = false;
	for (int to = 0; to < srv->nshards; to++) {
		struct ap_outbox *ob = &s->outbox[to];
		if (!ob->dirty)
			continue;
		struct ap_spsc *q = ring(srv, s->id, to);
		while (ob->spill_head && ap_spsc_push(q, ob->spill_head)) {
			ob->spill_head = ob->spill_head->next;
			if (!ob->spill_head)
				ob->spill_tail = NULL;
		}
		ob->dirty = ob->spill_head != NULL;
		spilled |= ob->dirty;
		if (!ap_spsc_publish(q))
			continue;
		struct ap_shard *d = &srv->shards[to];
		if (atomic_load_explicit(&d->sleeping, memory_order_seq_cst) &&
		    !atomic_exchange(&d->wake_pending, 1)) {
			ap_net_loop_wake(d->loop);
			s->st.wakeups_sent++;
		}
	}
	return spilled;
}

/* Runs inbound messages; returns how many. */
static size_t drain_inbound(struct ap_shard *s)
{
	struct ap_server *srv = s->srv;
	size_t total = 0;
	void *batch[INBOUND_BATCH];
	for (int from = 0; from < srv->nshards; from++) {
		struct ap_spsc *q = ring(srv, from, s->id);
		size_t n = ap_spsc_pop(q, batch, INBOUND_BATCH);
		for (size_t i = 0; i < n; i++) {
			struct ap_msg *m = batch[i];
			s->plog.wrote = false; /* what this message records */
			m->run(s, m);
		}
		total += n;
	}
	s->st.msgs_in += total;
	return total;
}

static bool inbound_empty_sc(struct ap_shard *s)
{
	struct ap_server *srv = s->srv;
	for (int from = 0; from < srv->nshards; from++)
		if (!ap_spsc_empty_sc(ring(srv, from, s->id)))
			return false;
	return true;
}

/* --- net callbacks ---------------------------------------------------------
 */

static struct ap_shard *least_loaded(struct ap_server *srv)
{
	struct ap_shard *best = &srv->shards[0];
	uint32_t best_n =
		atomic_load_explicit(&best->conn_count, memory_order_relaxed);
	for (int i = 1; i < srv->nshards; i++) {
		uint32_t n = atomic_load_explicit(&srv->shards[i].conn_count,
						  memory_order_relaxed);
		if (n < best_n) {
			best = &srv->shards[i];
			best_n = n;
		}
	}
	return best;
}

struct conn_msg {
	struct ap_msg m;
	int fd;
};

static void run_conn_msg(struct ap_shard *s, struct ap_msg *m)
{
	struct conn_msg *cm = (struct conn_msg *)m;
	int fd = cm->fd;
	ap_free(cm);
	ap_client_accept(s, fd);
}

static void on_accept(void *owner, int fd)
{
	struct ap_shard *s = owner;
	struct ap_server *srv = s->srv;
	s->st.conns_received++;
	if ((int)atomic_load(&srv->clients) >= s->cfg.maxclients) {
		static const char msg[] =
			"-ERR max number of clients reached\r\n";
		ssize_t w = write(fd, msg, sizeof(msg) - 1);
		(void)w;
		close(fd);
		s->st.conns_rejected++;
		return;
	}
	atomic_fetch_add(&srv->clients, 1);
	struct ap_shard *to = least_loaded(srv);
	/* Count it now so that a burst of accepts spreads out. */
	atomic_fetch_add_explicit(&to->conn_count, 1, memory_order_relaxed);
	if (to == s) {
		ap_client_accept(s, fd);
		return;
	}
	struct conn_msg *cm = ap_malloc(sizeof(*cm));
	cm->m.run = run_conn_msg;
	cm->m.home = (uint16_t)s->id;
	cm->fd = fd;
	ap_shard_send(s, to->id, &cm->m);
}

static void on_recv(void *owner, struct ap_net_conn *nc, const char *data,
		    size_t len)
{
	ap_client_on_recv(owner, (struct ap_client *)nc, data, len);
}

static void on_eof(void *owner, struct ap_net_conn *nc, int err)
{
	ap_client_close((struct ap_client *)nc, false);
}

static void on_closed(void *owner, struct ap_net_conn *nc)
{
	ap_client_on_closed(owner, (struct ap_client *)nc);
}

static void on_wake(void *owner)
{
	struct ap_shard *s = owner;
	atomic_store_explicit(&s->wake_pending, 0, memory_order_relaxed);
}

static const struct ap_net_ops shard_net_ops = {
	.accept = on_accept,
	.recv = on_recv,
	.eof = on_eof,
	.closed = on_closed,
	.wake = on_wake,
};

/* --- the shard loop --------------------------------------------------------
 */

static void shard_cron(struct ap_shard *s, uint64_t now_us)
{
	int hz = s->cfg.hz;
	uint64_t period_us = 1000000u / (unsigned)hz;
	/* Background work gets a quarter of the period, as Redis. */
	ap_keyspace_set_now(s->ks, s->now_ms);
	ap_keyspace_cron(s->ks, period_us / 4);
	int64_t dt = s->now_ms - s->st.ops_sample_ms;
	if (dt >= 100) {
		uint64_t ops = s->st.commands - s->st.ops_sample_prev;
		s->st.ops_per_sec = (double)ops * 1000.0 / (double)dt;
		s->st.ops_sample_prev = s->st.commands;
		s->st.ops_sample_ms = s->now_ms;
	}
	/* Idle client timeout. */
	if (s->cfg.timeout_s > 0) {
		int64_t limit = s->now_ms - (int64_t)s->cfg.timeout_s * 1000;
		for (struct ap_client *c = s->clients; c; c = c->next)
			if (c->last_ms < limit && !(c->flags & AP_CF_WAITING))
				ap_client_close(c, false);
	}
	atomic_store_explicit(&s->pub_dirty, ap_keyspace_stats(s->ks)->dirty,
			      memory_order_relaxed);
	atomic_store_explicit(&s->pub_aof_size, s->plog.end,
			      memory_order_relaxed);
	if (AP_UNLIKELY(s->shutdown != NULL) ||
	    (s->id == 0 && atomic_load_explicit(&s->srv->shutdown_signals,
						memory_order_relaxed)))
		ap_shutdown_cron(s);
	if (s->id == 0 &&
	    !atomic_load_explicit(&s->srv->shutdown_busy, memory_order_relaxed))
		ap_psnap_cron(s);
	s->next_cron_us = (int64_t)(now_us + period_us);
}

static void pin_cpu(struct ap_shard *s)
{
	if (s->cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		ap_log(AP_LOG_WARNING, "shard %d: cannot pin to CPU %d", s->id,
		       s->cpu);
}

static void *shard_main(void *arg)
{
	struct ap_shard *s = arg;
	struct ap_server *srv = s->srv;
	ap_thread_shard_id = s->id;
	pin_cpu(s);
	s->loop = ap_net_loop_create(s->cfg.reactor, &shard_net_ops, s,
				     s->loop_why, sizeof(s->loop_why));
	if (!s->loop) {
		atomic_store(&s->ready, -1);
		return NULL;
	}
	s->ks = ap_keyspace_create((unsigned)s->cfg.databases);
	ap_keyspace_set_lazyfree(s->ks, true);
	ap_keyspace_set_active_expire(s->ks, s->cfg.active_expire);
	s->now_ms = ap_unix_ms();
	s->st.ops_sample_ms = s->now_ms;
	if (ap_persist_shard_start(s, s->loop_why, sizeof(s->loop_why)) < 0) {
		atomic_store(&s->ready, -1);
		return NULL;
	}
	if (s->id == 0) {
		/* Clients come once every shard has its data and the data
		 * set's manifest names the files being written. */
		atomic_store(&s->ready, 2);
		while (!atomic_load(&srv->persist_go) &&
		       !atomic_load(&srv->stop))
			usleep(1000);
		for (int i = 0; i < srv->listen_count; i++) {
			int rc = ap_net_listen(s->loop, srv->listen_fd[i]);
			if (rc < 0) {
				snprintf(s->loop_why, sizeof(s->loop_why),
					 "listen: %s", strerror(-rc));
				atomic_store(&s->ready, -1);
				return NULL;
			}
		}
	}
	atomic_store(&s->ready, 1);

	while (!s->stopping) {
		s->now_ms = ap_unix_ms();
		ap_keyspace_set_now(s->ks, s->now_ms);
		drain_inbound(s);
		if (AP_UNLIKELY(s->blk.next_deadline_ms))
			ap_blk_timeouts(s);
		if (AP_UNLIKELY(s->span_waiters != NULL))
			ap_xshard_span_retry(s);
		bool lazy = AP_UNLIKELY(ap_keyspace_lazy_pending(s->ks)) &&
			    ap_keyspace_lazy_step(s->ks, AP_LAZYFREE_BUDGET);
		if (AP_UNLIKELY(s->paused_clients))
			ap_client_pause_check(s);
		ap_client_run_pending(s);
		bool streams = AP_UNLIKELY(s->streams.head != NULL) &&
			       ap_stream_tick(s);
		if (s->plog.on | s->plog.stopping)
			ap_plog_tick(s);
		bool snap = AP_UNLIKELY(ap_psnap_busy(s));
		if (snap)
			ap_psnap_tick(s);
		bool spilled = flush_outboxes(s);
		uint64_t now_us = ap_time_us();
		if ((int64_t)now_us >= s->next_cron_us)
			shard_cron(s, now_us);
		if (atomic_load_explicit(&srv->stop, memory_order_relaxed))
			break;
		int64_t timeout_us = s->next_cron_us - (int64_t)now_us;
		if (s->span_waiters &&
		    timeout_us > AP_SPAN_BLOCK_RETRY_MS * 1000)
			timeout_us = AP_SPAN_BLOCK_RETRY_MS * 1000;
		if (s->blk.next_deadline_ms) { /* wake for a blocked timeout */
			int64_t left_us =
				(s->blk.next_deadline_ms - ap_unix_ms()) * 1000;
			if (left_us < timeout_us)
				timeout_us = left_us;
		}
		if (timeout_us < 0)
			timeout_us = 0;
		if (s->pending || spilled || lazy || streams ||
		    (snap && ap_keyspace_snap_active(s->ks))) {
			timeout_us = 0;
		} else {
			atomic_store(&s->sleeping, 1);
			if (!inbound_empty_sc(s))
				timeout_us = 0;
		}
		ap_net_loop_run_once(s->loop, timeout_us);
		atomic_store_explicit(&s->sleeping, 0, memory_order_relaxed);
		s->st.ticks++;
	}
	/* Stop: what the log holds goes to disk, then clients close and the
	 * loop delivers the closes. */
	ap_stream_shard_stop(s);
	ap_psnap_stop(s);
	if (s->plog.on | s->plog.stopping)
		ap_plog_close(s);
	for (struct ap_client *c = s->clients; c; c = c->next)
		ap_client_close(c, true);
	for (int i = 0; i < 100 && s->clients; i++) {
		ap_net_loop_run_once(s->loop, 10000);
		drain_inbound(s);
	}
	return NULL;
}

/* --- server -----------------------------------------------------------------
 */

static int allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		int k = 0;
		for (long i = 0; i < n && k < max; i++)
			cpus[k++] = (int)i;
		return k;
	}
	int k = 0;
	for (int i = 0; i < CPU_SETSIZE && k < max; i++)
		if (CPU_ISSET(i, &set))
			cpus[k++] = i;
	return k;
}

static void make_run_id(char *out)
{
	unsigned char raw[20];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(raw)) {
		uint64_t t = ap_time_ns();
		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)(t >> ((i % 8) * 8)) ^
				 (unsigned char)(i * 37);
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(out + 2 * i, "%02x", raw[i]);
	out[40] = '\0';
}

static int open_listeners(struct ap_server *srv, char *err, size_t err_size)
{
	const struct ap_config *cfg = &srv->cfg;
	srv->port = cfg->port;
	for (int i = 0; i < cfg->bind_count && cfg->port >= 0; i++) {
		const char *addr = cfg->bind[i];
		if (addr[0] == '-')
			addr++; /* "-addr": optional, as Redis */
		int fd = ap_net_tcp_listen(addr, srv->port, cfg->tcp_backlog);
		if (fd < 0) {
			if (cfg->bind[i][0] == '-')
				continue;
			snprintf(err, err_size,
				 "could not listen on %s:%d: %s%s", addr,
				 srv->port, strerror(-fd),
				 fd == -EADDRINUSE
					 ? " (is another server running on "
					   "this port? choose one with --port)"
					 : "");
			return fd;
		}
		if (srv->port == 0)
			srv->port = ap_net_sock_port(fd);
		srv->listen_fd[srv->listen_count++] = fd;
	}
	if (srv->listen_count == 0) {
		snprintf(err, err_size, "no address to listen on (bind)");
		return -EINVAL;
	}
	return 0;
}

static void raise_fd_limit(struct ap_config *cfg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t want = (rlim_t)cfg->maxclients + 64;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		int n = (int)rl.rlim_cur - 64;
		ap_log(AP_LOG_WARNING,
		       "maxclients lowered from %d to %d: the open file limit "
		       "is %llu (raise it with ulimit -n)",
		       cfg->maxclients, n, (unsigned long long)rl.rlim_cur);
		cfg->maxclients = n > 1 ? n : 1;
	}
}

struct ap_server *ap_server_create(const struct ap_config *cfg, char *err,
				   size_t err_size)
{
	struct ap_server *srv = ap_calloc(1, sizeof(*srv));
	srv->cfg = *cfg;
	raise_fd_limit(&srv->cfg);
	srv->start_ms = ap_unix_ms();
	make_run_id(srv->run_id);
	atomic_init(&srv->next_client_id, 1);
	atomic_init(&srv->next_txn_id, 1); /* 0 means "no owner" */
	ssize_t n = readlink("/proc/self/exe", srv->executable,
			     sizeof(srv->executable) - 1);
	srv->executable[n > 0 ? n : 0] = '\0';

	int cpus[AP_SHARDS_MAX];
	int ncpu = allowed_cpus(cpus, AP_SHARDS_MAX);
	if (ncpu < 1)
		ncpu = 1;
	srv->nshards = srv->cfg.shards > 0 ? srv->cfg.shards : ncpu;
	for (int sl = 0; sl < AP_SLOTS; sl++)
		srv->slot_owner[sl] =
			(uint16_t)((long)sl * srv->nshards / AP_SLOTS);
	ap_server_setup_cmdstat_index();

	if (open_listeners(srv, err, err_size) < 0) {
		ap_free(srv);
		return NULL;
	}
	size_t nrings = (size_t)srv->nshards * (size_t)srv->nshards;
	srv->mesh = mi_malloc_aligned(nrings * sizeof(struct ap_spsc),
				      AP_PAD_ALIGN);
	for (size_t i = 0; i < nrings; i++)
		ap_spsc_init(&srv->mesh[i]);
	srv->shards = mi_malloc_aligned(
		(size_t)srv->nshards * sizeof(struct ap_shard), AP_PAD_ALIGN);
	memset(srv->shards, 0, (size_t)srv->nshards * sizeof(struct ap_shard));
	for (int i = 0; i < srv->nshards; i++) {
		struct ap_shard *s = &srv->shards[i];
		s->id = i;
		s->srv = srv;
		s->cfg = srv->cfg;
		s->cpu = srv->cfg.pin_threads ? cpus[i % ncpu] : -1;
		s->outbox = ap_calloc((size_t)srv->nshards, sizeof(*s->outbox));
		s->cmdstats = ap_calloc(ap_shard_cmdstat_count(),
					sizeof(*s->cmdstats));
		ap_plog_init(s);
		ap_psnap_init(s);
	}
	if (ap_persist_server_prepare(srv, err, err_size) < 0)
		return NULL;
	/* All shards start at once: each loads its part of the data set in
	 * parallel (persistence), then shard 0 waits for go to accept. */
	for (int i = 0; i < srv->nshards; i++) {
		struct ap_shard *s = &srv->shards[i];
		if (pthread_create(&s->thread, NULL, shard_main, s) != 0)
			ap_fatal("pthread_create failed: %s", strerror(errno));
	}
	bool failed = false;
	for (int i = 0; i < srv->nshards; i++) {
		struct ap_shard *s = &srv->shards[i];
		while (atomic_load(&s->ready) == 0)
			usleep(1000);
		if (atomic_load(&s->ready) < 0 && !failed) {
			snprintf(err, err_size, "shard %d failed to start: %s",
				 i, s->loop_why);
			failed = true;
		}
	}
	if (!failed && ap_persist_server_ready(srv, err, err_size) < 0)
		failed = true;
	if (!failed) {
		atomic_store(&srv->persist_go, 1);
		while (atomic_load(&srv->shards[0].ready) == 2)
			usleep(1000);
		if (atomic_load(&srv->shards[0].ready) < 0) {
			snprintf(err, err_size, "shard 0 failed to start: %s",
				 srv->shards[0].loop_why);
			failed = true;
		}
	}
	if (failed) {
		atomic_store(&srv->stop, 1);
		return NULL;
	}
	if (srv->shards[0].loop_why[0])
		ap_log(AP_LOG_WARNING, "event loop: epoll, because %s",
		       srv->shards[0].loop_why);
	ap_log(AP_LOG_NOTICE,
	       "Apiary %s ready: %d shard%s on %s, port %d, pid %d",
	       AP_VERSION_STRING, srv->nshards, srv->nshards > 1 ? "s" : "",
	       ap_net_loop_kind_name(srv->shards[0].loop), srv->port,
	       (int)getpid());
	return srv;
}

void ap_server_request_stop(struct ap_server *srv)
{
	atomic_store(&srv->stop, 1);
	for (int i = 0; i < srv->nshards; i++) {
		struct ap_shard *s = &srv->shards[i];
		if (atomic_load(&s->ready) == 1 && s->loop)
			ap_net_loop_wake(s->loop);
	}
}

int ap_server_wait(struct ap_server *srv)
{
	for (int i = 0; i < srv->nshards; i++)
		pthread_join(srv->shards[i].thread, NULL);
	return 0;
}

void ap_server_destroy(struct ap_server *srv)
{
	for (int i = 0; i < srv->listen_count; i++)
		close(srv->listen_fd[i]);
	for (int i = 0; i < srv->nshards; i++) {
		struct ap_shard *s = &srv->shards[i];
		ap_net_loop_destroy(s->loop);
		ap_keyspace_destroy(s->ks);
		for (int k = 0; k < s->scratch_count; k++)
			ap_keyspace_destroy(s->scratch[k]);
		ap_txn_shard_deinit(s);
		ap_blk_shard_deinit(s);
		ap_stream_shard_deinit(s);
		ap_plog_deinit(s);
		ap_psnap_deinit(s);
		ap_shutdown_deinit(s);
		ap_free(s->outbox);
		ap_free(s->cmdstats);
	}
	mi_free(srv->shards);
	mi_free(srv->mesh);
	ap_free(srv->mstate);
	if (srv->rewrite) /* stopped in the middle of one */
		ap_psnap_rewrite_free(srv->rewrite);
	ap_free(srv);
}
