/*
 * cmd_info.c - INFO and its sections (Redis 7 field names and order).
 *
 * INFO runs on the calling client's shard (AP_CMD_SERVER) and fans out to
 * every shard: each shard snapshots its own counters on its own thread
 * (info_collect), then the home shard sums the snapshots, renders the
 * requested sections as text and replies one verbatim string (info_done).
 * Nothing here touches another shard's fields directly.
 *
 * The snapshots are allocated by each shard and freed by the home shard;
 * mimalloc takes cross-thread frees. Helpers shared with CLIENT, CONFIG
 * and COMMAND are in cmd_introspect.c (see introspect_int.h).
 */
#include "shards/introspect_int.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/version.h"

/* Reverse lookup of the command statistics index (server.c). */
const struct ap_cmd *ap_shard_cmdstat_cmd(size_t idx);

/* --- text buffer and formatting helpers ---------------------------------- */

/* A growable NUL-terminated text buffer; free p with ap_free. */
struct text {
	char *p;
	size_t len, cap;
};

/* Ensures room for n more bytes and a NUL. */
static void text_reserve(struct text *t, size_t n)
{
	size_t need;
	AP_ASSERT(!__builtin_add_overflow(t->len, n + 1, &need));
	if (need <= t->cap)
		return;
	size_t cap = t->cap ? t->cap : 1024;
	while (cap < need)
		cap *= 2;
	t->p = ap_realloc(t->p, cap);
	t->cap = cap;
}

/* Appends s[0..n). */
static void text_add(struct text *t, const char *s, size_t n)
{
	text_reserve(t, n);
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* Appends printf-formatted text. */
static void text_addf(struct text *t, const char *fmt, ...) AP_PRINTF(2, 3);
static void text_addf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	text_reserve(t, 256);
	va_start(ap, fmt);
	int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	AP_ASSERT(n >= 0);
	if ((size_t)n >= t->cap - t->len) {
		text_reserve(t, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
	}
	t->len += (size_t)n;
}

/* The container of a subcommand, or NULL for a top-level command. */
static const struct ap_cmd *parent_of(const struct ap_cmd *cmd)
{
	for (size_t i = 0; i < ap_cmd_count(); i++) {
		const struct ap_cmd *p = ap_cmd_at(i);
		if (p == cmd)
			return NULL;
		for (const struct ap_cmd *s = p->subcmds; s && s->name; s++)
			if (s == cmd)
				return p;
	}
	return NULL;
}

/* Redis's human-readable byte count: 512B, 1.50K, 2.00M ... */
static const char *bytes_human(unsigned long long n, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	double d = (double)n;
	if (n < 1024) {
		snprintf(buf, size, "%lluB", n);
		return buf;
	}
	int u = -1;
	while (d >= 1024.0 && u < (int)sizeof(units) - 2) {
		d /= 1024.0;
		u++;
	}
	snprintf(buf, size, "%.2f%c", d, units[u]);
	return buf;
}

/* Resident set size from /proc/self/statm, 0 if unreadable. */
static unsigned long long rss_bytes(void)
{
	char buf[128];
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	unsigned long long size, resident;
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return resident * (unsigned long long)sysconf(_SC_PAGESIZE);
}

/* --- sections and snapshots ---------------------------------------------- */

enum info_section {
	SEC_SERVER = 1 << 0,
	SEC_CLIENTS = 1 << 1,
	SEC_MEMORY = 1 << 2,
	SEC_PERSISTENCE = 1 << 3,
	SEC_STATS = 1 << 4,
	SEC_REPLICATION = 1 << 5,
	SEC_CPU = 1 << 6,
	SEC_COMMANDSTATS = 1 << 7,
	SEC_ERRORSTATS = 1 << 8,
	SEC_CLUSTER = 1 << 9,
	SEC_KEYSPACE = 1 << 10,
};
#define SEC_ALL	    ((1u << 11) - 1)
#define SEC_DEFAULT (SEC_ALL & ~(unsigned)SEC_COMMANDSTATS)

static const struct {
	const char *name;
	unsigned bits;
} info_section_names[] = {
	{"server", SEC_SERVER},
	{"clients", SEC_CLIENTS},
	{"memory", SEC_MEMORY},
	{"persistence", SEC_PERSISTENCE},
	{"stats", SEC_STATS},
	{"replication", SEC_REPLICATION},
	{"cpu", SEC_CPU},
	{"commandstats", SEC_COMMANDSTATS},
	{"errorstats", SEC_ERRORSTATS},
	{"cluster", SEC_CLUSTER},
	{"keyspace", SEC_KEYSPACE},
	{"default", SEC_DEFAULT},
	{"all", SEC_ALL},
	{"everything", SEC_ALL},
};

/* The sections named by argv (case-insensitive); none means default.
 * Unknown names select nothing, as Redis. */
static unsigned info_sections_parse(int argc, const struct ap_arg *argv)
{
	unsigned mask = 0;
	if (argc == 0)
		return SEC_DEFAULT;
	for (int i = 0; i < argc; i++)
		for (size_t k = 0; k < AP_ARRAY_LEN(info_section_names); k++)
			if (ap_arg_eq(&argv[i], info_section_names[k].name))
				mask |= info_section_names[k].bits;
	return mask;
}

/* One shard's numbers, taken on its own thread. */
struct info_snap {
	int64_t mem_used;
	int64_t mem_peak;
	struct timeval cpu_sys, cpu_user;
	struct ap_shard_stats st;
	struct ap_keyspace_stats ks;
	uint32_t clients;
	uint64_t blocked;	 /* waiters here, and spanning waiters */
	uint64_t blocking_keys;	 /* keys with waiters here */
	uint64_t lazy_pending;	 /* lazy-free items queued */
	uint64_t streams_active; /* streamed replies being written */
	size_t max_qbuf, max_obuf;
	uint64_t errors_total;
	/* The append-only log (plog.c). */
	uint64_t aof_size, aof_buffer, aof_writes, aof_fsyncs, aof_errors;
	int aof_err;
	unsigned db_count;
	uint64_t *dbs;		     /* [db_count * 2]: keys, keys with TTL */
	struct ap_cmdstat *cmdstats; /* [ap_shard_cmdstat_count()] or NULL */
	unsigned errstat_count;
	struct ap_errstat *errstats; /* [errstat_count] or NULL */
};

/* Frees snapshot sn and its arrays; NULL is a no-op. */
static void info_snap_free(struct info_snap *sn)
{
	if (!sn)
		return;
	ap_free(sn->dbs);
	ap_free(sn->cmdstats);
	ap_free(sn->errstats);
	ap_free(sn);
}

/* Fan-out step: snapshots shard s's counters (opt[0]: section mask). */
static void info_collect(struct ap_shard *s, struct ap_fanout *f)
{
	unsigned mask = (unsigned)f->opt[0];
	struct info_snap *sn = ap_calloc(1, sizeof(*sn));
	struct rusage ru;
	sn->mem_used = ap_mem_thread_used();
	sn->mem_peak = s->mem_peak;
	if (getrusage(RUSAGE_THREAD, &ru) == 0) {
		sn->cpu_sys = ru.ru_stime;
		sn->cpu_user = ru.ru_utime;
	}
	s->st.net_out = ap_net_loop_bytes_out(s->loop) - s->st.net_out_base;
	sn->st = s->st;
	sn->ks = *ap_keyspace_stats(s->ks);
	sn->clients = s->client_count;
	sn->errors_total = s->errors_total;
	sn->blocked = s->blk.count;
	for (struct ap_client *c = s->span_waiters; c; c = c->span_next)
		sn->blocked++;
	sn->blocking_keys = s->blk.key_count;
	sn->lazy_pending = ap_keyspace_lazy_count(s->ks);
	sn->streams_active = s->streams.count;
	sn->aof_size = s->plog.end;
	sn->aof_buffer =
		s->plog.cur.b.len + (s->plog.out.b.len - s->plog.out_done);
	sn->aof_writes = s->plog.stat_writes;
	sn->aof_fsyncs = s->plog.stat_fsyncs;
	sn->aof_errors = s->plog.write_errors;
	sn->aof_err = s->plog.err;
	for (struct ap_client *c = s->clients; c; c = c->next) {
		sn->max_qbuf = AP_MAX(sn->max_qbuf, c->qcap);
		sn->max_obuf = AP_MAX(sn->max_obuf, c->nc.out.len);
	}
	if (mask & SEC_KEYSPACE) {
		sn->db_count = ap_keyspace_db_count(s->ks);
		sn->dbs = ap_calloc((size_t)sn->db_count * 2, sizeof(uint64_t));
		for (unsigned i = 0; i < sn->db_count; i++) {
			struct ap_db *db = ap_keyspace_db(s->ks, i);
			sn->dbs[2 * i] = ap_db_size(db);
			sn->dbs[2 * i + 1] = ap_db_volatile_size(db);
		}
	}
	if (mask & SEC_COMMANDSTATS)
		sn->cmdstats =
			ap_memdup(s->cmdstats, ap_shard_cmdstat_count() *
						       sizeof(*s->cmdstats));
	if ((mask & SEC_ERRORSTATS) && s->errstat_count) {
		sn->errstat_count = s->errstat_count;
		sn->errstats = ap_memdup(
			s->errstats, s->errstat_count * sizeof(*s->errstats));
	}
	ap_fanout_part_of(f, s)->ptr = sn;
}

/* The snapshot of fan-out f's part i (set by info_collect). */
static struct info_snap *snap_at(struct ap_fanout *f, int i)
{
	return f->parts[i].ptr;
}

/* Sum of a uint64_t field over all snapshots. */
#define SNAP_SUM(f, field)                               \
	({                                               \
		unsigned long long sum_ = 0;             \
		for (int i_ = 0; i_ < (f)->nparts; i_++) \
			sum_ += snap_at((f), i_)->field; \
		sum_;                                    \
	})

/* "# Server": version, OS, process, port, uptime and shard count. */
static void info_server(struct text *t, struct ap_shard *home,
			struct ap_fanout *f)
{
	struct ap_server *srv = home->srv;
	struct utsname un;
	int64_t now_us = ap_unix_us();
	int64_t up_s = (now_us / 1000 - srv->start_ms) / 1000;
	if (uname(&un) != 0)
		memset(&un, 0, sizeof(un));
	text_addf(t,
		  "# Server\r\n"
		  "redis_version:%s\r\n"
		  "apiary_version:%s\r\n"
		  "redis_git_sha1:00000000\r\n"
		  "redis_git_dirty:0\r\n"
		  "redis_mode:standalone\r\n"
		  "os:%s %s %s\r\n"
		  "arch_bits:%d\r\n"
		  "monotonic_clock:POSIX clock_gettime\r\n"
		  "multiplexing_api:%s\r\n"
		  "atomicvar_api:c11-builtin\r\n"
		  "gcc_version:%d.%d.%d\r\n"
		  "process_id:%ld\r\n"
		  "process_supervised:no\r\n"
		  "run_id:%s\r\n"
		  "tcp_port:%d\r\n"
		  "server_time_usec:%lld\r\n"
		  "uptime_in_seconds:%lld\r\n"
		  "uptime_in_days:%lld\r\n"
		  "hz:%d\r\n"
		  "configured_hz:%d\r\n"
		  "lru_clock:%u\r\n"
		  "executable:%s\r\n"
		  "config_file:%s\r\n"
		  "io_threads_active:0\r\n"
		  "shards:%d\r\n",
		  AP_REDIS_COMPAT_VERSION, AP_VERSION_STRING, un.sysname,
		  un.release, un.machine, (int)(sizeof(void *) * 8),
		  ap_net_loop_kind_name(home->loop),
#ifdef __GNUC__
		  __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
		  0, 0, 0,
#endif
		  (long)getpid(), srv->run_id, srv->port, (long long)now_us,
		  (long long)up_s, (long long)(up_s / 86400), home->cfg.hz,
		  home->cfg.hz, ap_keyspace_lru_clock(home->ks),
		  srv->executable, home->cfg.config_file, srv->nshards);
}

/* "# Clients": connected and blocked clients summed over shards, the
 * largest buffers, then each shard's connected clients. */
static void info_clients(struct text *t, struct ap_shard *home,
			 struct ap_fanout *f)
{
	size_t max_q = 0, max_o = 0;
	for (int i = 0; i < f->nparts; i++) {
		max_q = AP_MAX(max_q, snap_at(f, i)->max_qbuf);
		max_o = AP_MAX(max_o, snap_at(f, i)->max_obuf);
	}
	text_addf(t,
		  "# Clients\r\n"
		  "connected_clients:%llu\r\n"
		  "cluster_connections:0\r\n"
		  "maxclients:%d\r\n"
		  "client_recent_max_input_buffer:%zu\r\n"
		  "client_recent_max_output_buffer:%zu\r\n"
		  "blocked_clients:%llu\r\n"
		  "tracking_clients:0\r\n"
		  "clients_in_timeout_table:%llu\r\n"
		  "total_blocking_keys:%llu\r\n"
		  "total_blocking_keys_on_nokey:0\r\n",
		  SNAP_SUM(f, clients), home->cfg.maxclients, max_q, max_o,
		  SNAP_SUM(f, blocked), SNAP_SUM(f, blocked),
		  SNAP_SUM(f, blocking_keys));
	for (int i = 0; i < f->nparts; i++)
		text_addf(t, "shard%d_connected_clients:%u\r\n", f->first + i,
			  snap_at(f, i)->clients);
}

/* Sum of used memory over shards; also raises the home shard's peak. */
static int64_t info_used_memory(struct ap_shard *home, struct ap_fanout *f,
				int64_t *peak)
{
	int64_t used = 0;
	*peak = home->mem_peak;
	for (int i = 0; i < f->nparts; i++) {
		used += snap_at(f, i)->mem_used;
		*peak = AP_MAX(*peak, snap_at(f, i)->mem_peak);
	}
	if (used < 0)
		used = 0; /* only possible while counts are in flight */
	*peak = AP_MAX(*peak, used);
	home->mem_peak = *peak;
	return used;
}

/* "# Memory": used memory summed over shards (and its peak, which this
 * raises on home), RSS, system memory, maxmemory, then each shard's used
 * memory. */
static void info_memory(struct text *t, struct ap_shard *home,
			struct ap_fanout *f)
{
	char h1[32], h2[32], h3[32], h4[32], h5[32];
	int64_t peak;
	unsigned long long used =
		(unsigned long long)info_used_memory(home, f, &peak);
	unsigned long long rss = rss_bytes();
	unsigned long long sys = (unsigned long long)sysconf(_SC_PHYS_PAGES) *
				 (unsigned long long)sysconf(_SC_PAGESIZE);
	unsigned long long maxmem = (unsigned long long)home->cfg.maxmemory;
	text_addf(t,
		  "# Memory\r\n"
		  "used_memory:%llu\r\n"
		  "used_memory_human:%s\r\n"
		  "used_memory_rss:%llu\r\n"
		  "used_memory_rss_human:%s\r\n"
		  "used_memory_peak:%llu\r\n"
		  "used_memory_peak_human:%s\r\n"
		  "used_memory_peak_perc:%.2f%%\r\n"
		  "total_system_memory:%llu\r\n"
		  "total_system_memory_human:%s\r\n"
		  "maxmemory:%llu\r\n"
		  "maxmemory_human:%s\r\n"
		  "maxmemory_policy:noeviction\r\n"
		  "mem_fragmentation_ratio:%.2f\r\n"
		  "mem_allocator:mimalloc\r\n"
		  "lazyfree_pending_objects:%llu\r\n",
		  used, bytes_human(used, h1, sizeof(h1)), rss,
		  bytes_human(rss, h2, sizeof(h2)), (unsigned long long)peak,
		  bytes_human((unsigned long long)peak, h3, sizeof(h3)),
		  peak ? (double)used * 100.0 / (double)peak : 100.0, sys,
		  bytes_human(sys, h4, sizeof(h4)), maxmem,
		  bytes_human(maxmem, h5, sizeof(h5)),
		  used ? (double)rss / (double)used : 0.0,
		  SNAP_SUM(f, lazy_pending));
	for (int i = 0; i < f->nparts; i++)
		text_addf(t, "shard%d_used_memory:%lld\r\n", f->first + i,
			  (long long)snap_at(f, i)->mem_used);
}

/* "# Persistence": changes since start (the keyspaces' dirty counts);
 * the fields of saves that do not exist here are constants. */
static void info_persistence(struct text *t, struct ap_shard *home,
			     struct ap_fanout *f)
{
	struct ap_server *srv = home->srv;
	int busy = atomic_load(&srv->snap_busy);
	int sched = atomic_load(&srv->snap_scheduled);
	int status = atomic_load(&srv->snap_status);
	unsigned long long snaps = atomic_load(&srv->snap_count);
	long long last_s =
		snaps ? (long long)(atomic_load(&srv->snap_last_ms) / 1000)
		      : -1;
	/* Changes after the last snapshot's cut (exact there, psnap.c). */
	unsigned long long dirty = SNAP_SUM(f, ks.dirty);
	unsigned long long at_save = atomic_load(&srv->dirty_at_save);
	unsigned long long changes = dirty > at_save ? dirty - at_save : 0;
	text_addf(t,
		  "# Persistence\r\n"
		  "loading:0\r\n"
		  "async_loading:0\r\n"
		  "current_cow_peak:0\r\n"
		  "current_cow_size:0\r\n"
		  "current_fork_perc:0.00\r\n"
		  "current_save_keys_processed:0\r\n"
		  "current_save_keys_total:0\r\n"
		  "rdb_changes_since_last_save:%llu\r\n"
		  "rdb_bgsave_in_progress:%d\r\n"
		  "rdb_last_save_time:%lld\r\n"
		  "rdb_last_bgsave_status:%s\r\n"
		  "rdb_last_bgsave_time_sec:%lld\r\n"
		  "rdb_current_bgsave_time_sec:-1\r\n"
		  "rdb_saves:%llu\r\n"
		  "aof_enabled:%d\r\n"
		  "aof_rewrite_in_progress:%d\r\n"
		  "aof_rewrite_scheduled:%d\r\n"
		  "aof_last_rewrite_time_sec:%lld\r\n"
		  "aof_current_rewrite_time_sec:-1\r\n"
		  "aof_last_bgrewrite_status:%s\r\n"
		  "aof_rewrites:%llu\r\n"
		  "aof_last_write_status:%s\r\n",
		  changes, busy, (long long)atomic_load(&srv->lastsave_s),
		  status ? "err" : "ok", last_s, snaps,
		  home->cfg.appendonly ? 1 : 0, busy && home->cfg.appendonly,
		  sched && home->cfg.appendonly,
		  home->cfg.appendonly ? last_s : -1LL, status ? "err" : "ok",
		  home->cfg.appendonly ? snaps : 0ULL,
		  SNAP_SUM(f, aof_err) ? "err" : "ok");
	if (!home->cfg.appendonly)
		return;
	int err = 0;
	for (int i = 0; i < f->nparts; i++)
		if (snap_at(f, i)->aof_err)
			err = snap_at(f, i)->aof_err;
	text_addf(t,
		  "aof_last_cow_size:0\r\n"
		  "aof_current_size:%llu\r\n"
		  "aof_base_size:0\r\n"
		  "aof_pending_rewrite:0\r\n"
		  "aof_buffer_length:%llu\r\n"
		  "aof_pending_bio_fsync:0\r\n"
		  "aof_delayed_fsync:0\r\n"
		  "aof_fsync:%s\r\n"
		  "aof_writes:%llu\r\n"
		  "aof_fsyncs:%llu\r\n"
		  "aof_write_errors:%llu\r\n"
		  "aof_last_write_error:%s\r\n",
		  SNAP_SUM(f, aof_size), SNAP_SUM(f, aof_buffer),
		  home->cfg.appendfsync, SNAP_SUM(f, aof_writes),
		  SNAP_SUM(f, aof_fsyncs), SNAP_SUM(f, aof_errors),
		  err ? strerror(err) : "");
	for (int i = 0; i < f->nparts; i++)
		text_addf(t, "shard%d_aof_size:%llu\r\n", f->first + i,
			  (unsigned long long)snap_at(f, i)->aof_size);
}

/* "# Stats": connection, command, network, keyspace and error counters
 * summed over shards, and the cross-shard message counters. */
static void info_stats(struct text *t, struct ap_shard *home,
		       struct ap_fanout *f)
{
	double ops = 0;
	for (int i = 0; i < f->nparts; i++)
		ops += snap_at(f, i)->st.ops_per_sec;
	text_addf(t,
		  "# Stats\r\n"
		  "total_connections_received:%llu\r\n"
		  "total_commands_processed:%llu\r\n"
		  "instantaneous_ops_per_sec:%llu\r\n"
		  "total_net_input_bytes:%llu\r\n"
		  "total_net_output_bytes:%llu\r\n"
		  "rejected_connections:%llu\r\n"
		  "sync_full:0\r\n"
		  "sync_partial_ok:0\r\n"
		  "sync_partial_err:0\r\n"
		  "expired_keys:%llu\r\n"
		  "evicted_keys:0\r\n"
		  "keyspace_hits:%llu\r\n"
		  "keyspace_misses:%llu\r\n"
		  "pubsub_channels:0\r\n"
		  "pubsub_patterns:0\r\n"
		  "latest_fork_usec:0\r\n"
		  "total_forks:0\r\n"
		  "total_error_replies:%llu\r\n"
		  "eventloop_cycles:%llu\r\n"
		  "xshard_messages:%llu\r\n"
		  "xshard_batches:%llu\r\n"
		  "xshard_wakeups:%llu\r\n"
		  "reply_streams:%llu\r\n"
		  "reply_streams_active:%llu\r\n",
		  SNAP_SUM(f, st.conns_received), SNAP_SUM(f, st.commands),
		  (unsigned long long)(ops + 0.5), SNAP_SUM(f, st.net_in),
		  SNAP_SUM(f, st.net_out), SNAP_SUM(f, st.conns_rejected),
		  SNAP_SUM(f, ks.expired), SNAP_SUM(f, ks.hits),
		  SNAP_SUM(f, ks.misses), SNAP_SUM(f, errors_total),
		  SNAP_SUM(f, st.ticks), SNAP_SUM(f, st.msgs_out),
		  SNAP_SUM(f, st.batches_out), SNAP_SUM(f, st.wakeups_sent),
		  SNAP_SUM(f, st.reply_streams), SNAP_SUM(f, streams_active));
}

/* "# Replication": always a master without replicas. */
static void info_replication(struct text *t, struct ap_shard *home,
			     struct ap_fanout *f)
{
	text_addf(t,
		  "# Replication\r\n"
		  "role:master\r\n"
		  "connected_slaves:0\r\n"
		  "master_failover_state:no-failover\r\n"
		  "master_replid:%s\r\n"
		  "master_replid2:0000000000000000000000000000000000000000\r\n"
		  "master_repl_offset:0\r\n"
		  "second_repl_offset:-1\r\n"
		  "repl_backlog_active:0\r\n"
		  "repl_backlog_size:1048576\r\n"
		  "repl_backlog_first_byte_offset:0\r\n"
		  "repl_backlog_histlen:0\r\n",
		  home->srv->run_id);
}

/* "# CPU": the process's and its children's CPU time, then each
 * shard thread's. */
static void info_cpu(struct text *t, struct ap_shard *home, struct ap_fanout *f)
{
	struct rusage self, children;
	if (getrusage(RUSAGE_SELF, &self) != 0)
		memset(&self, 0, sizeof(self));
	if (getrusage(RUSAGE_CHILDREN, &children) != 0)
		memset(&children, 0, sizeof(children));
	text_addf(t,
		  "# CPU\r\n"
		  "used_cpu_sys:%ld.%06ld\r\n"
		  "used_cpu_user:%ld.%06ld\r\n"
		  "used_cpu_sys_children:%ld.%06ld\r\n"
		  "used_cpu_user_children:%ld.%06ld\r\n",
		  (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec,
		  (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec,
		  (long)children.ru_stime.tv_sec,
		  (long)children.ru_stime.tv_usec,
		  (long)children.ru_utime.tv_sec,
		  (long)children.ru_utime.tv_usec);
	for (int i = 0; i < f->nparts; i++) {
		struct info_snap *sn = snap_at(f, i);
		text_addf(t,
			  "shard%d_cpu_sys:%ld.%06ld\r\n"
			  "shard%d_cpu_user:%ld.%06ld\r\n",
			  f->first + i, (long)sn->cpu_sys.tv_sec,
			  (long)sn->cpu_sys.tv_usec, f->first + i,
			  (long)sn->cpu_user.tv_sec,
			  (long)sn->cpu_user.tv_usec);
	}
}

/* "# Commandstats": per command (and subcommand) ever called, rejected
 * or failed, its counts summed over shards. */
static void info_commandstats(struct text *t, struct ap_shard *home,
			      struct ap_fanout *f)
{
	char name[AP_INTROSPECT_FULLNAME_MAX];
	text_addf(t, "# Commandstats\r\n");
	for (size_t k = 0; k < ap_shard_cmdstat_count(); k++) {
		const struct ap_cmd *cmd = ap_shard_cmdstat_cmd(k);
		struct ap_cmdstat sum = {0};
		if (!cmd)
			continue;
		for (int i = 0; i < f->nparts; i++) {
			const struct ap_cmdstat *cs =
				&snap_at(f, i)->cmdstats[k];
			sum.calls += cs->calls;
			sum.cycles += cs->cycles;
			sum.rejected += cs->rejected;
			sum.failed += cs->failed;
		}
		if (!sum.calls && !sum.rejected && !sum.failed)
			continue;
		unsigned long long usec = ap_cycles_to_ns(sum.cycles) / 1000;
		text_addf(t,
			  "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,"
			  "rejected_calls=%llu,failed_calls=%llu\r\n",
			  ap_introspect_full_name(cmd, parent_of(cmd), name,
						  sizeof(name)),
			  (unsigned long long)sum.calls, usec,
			  sum.calls ? (double)usec / (double)sum.calls : 0.0,
			  (unsigned long long)sum.rejected,
			  (unsigned long long)sum.failed);
	}
}

/* "# Errorstats": each error code once, in the order the shards first
 * list it, with its count summed over shards. */
static void info_errorstats(struct text *t, struct ap_shard *home,
			    struct ap_fanout *f)
{
	text_addf(t, "# Errorstats\r\n");
	/* Each code once, in the order first seen, with its total. */
	for (int i = 0; i < f->nparts; i++) {
		struct info_snap *sn = snap_at(f, i);
		for (unsigned e = 0; e < sn->errstat_count; e++) {
			const char *code = sn->errstats[e].code;
			bool seen = false;
			for (int j = 0; j < i && !seen; j++) {
				struct info_snap *o = snap_at(f, j);
				for (unsigned k = 0; k < o->errstat_count; k++)
					if (!strcmp(o->errstats[k].code, code))
						seen = true;
			}
			if (seen)
				continue;
			unsigned long long count = 0;
			for (int j = i; j < f->nparts; j++) {
				struct info_snap *o = snap_at(f, j);
				for (unsigned k = 0; k < o->errstat_count; k++)
					if (!strcmp(o->errstats[k].code, code))
						count += o->errstats[k].count;
			}
			text_addf(t, "errorstat_%s:count=%llu\r\n", code,
				  count);
		}
	}
}

/* "# Cluster": cluster mode is off. */
static void info_cluster(struct text *t, struct ap_shard *home,
			 struct ap_fanout *f)
{
	text_addf(t, "# Cluster\r\ncluster_enabled:0\r\n");
}

/* "# Keyspace": per non-empty database, keys and keys with a TTL summed
 * over shards. */
static void info_keyspace(struct text *t, struct ap_shard *home,
			  struct ap_fanout *f)
{
	unsigned dbs = snap_at(f, 0)->db_count;
	text_addf(t, "# Keyspace\r\n");
	for (unsigned d = 0; d < dbs; d++) {
		unsigned long long keys = 0, expires = 0;
		for (int i = 0; i < f->nparts; i++) {
			struct info_snap *sn = snap_at(f, i);
			AP_ASSERT(sn->db_count == dbs);
			keys += sn->dbs[2 * d];
			expires += sn->dbs[2 * d + 1];
		}
		if (keys)
			text_addf(t,
				  "db%u:keys=%llu,expires=%llu,avg_ttl=0\r\n",
				  d, keys, expires);
	}
}

/* Renders one section (its "# Title" line and fields, each ending in CRLF)
 * into t from the snapshots of fan-out f; home is the replying shard. */
typedef void info_render_fn(struct text *t, struct ap_shard *home,
			    struct ap_fanout *f);

/* Sections in Redis's order. */
static const struct {
	unsigned bit;
	info_render_fn *render;
} info_renderers[] = {
	{SEC_SERVER, info_server},
	{SEC_CLIENTS, info_clients},
	{SEC_MEMORY, info_memory},
	{SEC_PERSISTENCE, info_persistence},
	{SEC_STATS, info_stats},
	{SEC_REPLICATION, info_replication},
	{SEC_CPU, info_cpu},
	{SEC_COMMANDSTATS, info_commandstats},
	{SEC_ERRORSTATS, info_errorstats},
	{SEC_CLUSTER, info_cluster},
	{SEC_KEYSPACE, info_keyspace},
};

/* Fan-out end: renders the requested sections and replies them as one
 * verbatim string; frees the snapshots. */
static void info_done(struct ap_shard *home, struct ap_fanout *f)
{
	unsigned mask = (unsigned)f->opt[0];
	struct ap_client *c = f->client;
	int64_t peak;
	(void)info_used_memory(home, f, &peak); /* keeps the peak current */
	if (!(c->flags & AP_CF_CLOSED)) {
		struct text t = {0};
		int n = 0;
		for (size_t k = 0; k < AP_ARRAY_LEN(info_renderers); k++) {
			if (!(mask & info_renderers[k].bit))
				continue;
			if (n++)
				text_add(&t, "\r\n", 2);
			info_renderers[k].render(&t, home, f);
		}
		ap_reply_verbatim(&c->reply, t.p ? t.p : "", t.len, "txt");
		ap_free(t.p);
	}
	for (int i = 0; i < f->nparts; i++)
		info_snap_free(f->parts[i].ptr);
	ap_fanout_finish(home, f);
}

/* Replies INFO for the sections named by argv[0..argc) (no names: the
 * default sections) to client c, which waits until the reply is in its
 * output. Runs on c's shard. */
void ap_info_reply(struct ap_client *c, int argc, const struct ap_arg *argv)
{
	long long opt[4] = {(long long)info_sections_parse(argc, argv)};
	ap_fanout_start(c, 0, c->shard->srv->nshards, info_collect, info_done,
			0, NULL, opt);
}

/* INFO [section ...]: see ap_info_reply. */
void ap_introspect_cmd_info(struct ap_cmd_ctx *c)
{
	ap_info_reply(c->client, c->argc - 1, c->argv + 1);
}
