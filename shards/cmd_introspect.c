/*
 * cmd_introspect.c - the commands that describe and tune the running
 * server: INFO, CLIENT, CONFIG and COMMAND (Redis 7 semantics).
 *
 * Every command here runs on the calling client's own shard
 * (AP_CMD_SERVER). State that belongs to other shards (their clients,
 * counters, memory, configuration copy, pause state) is read or changed
 * only on those shards' own threads, through a fan-out (xshard.c): each
 * shard fills its part or applies a change, then the home shard merges and
 * replies. Nothing here touches another shard's fields directly.
 *
 * Memory handed from a shard to the home shard (INFO snapshots) is freed
 * by the home shard; mimalloc takes cross-thread frees.
 */
#include "shards/shards_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/version.h"

/* Reverse lookup of the command statistics index (server.c). */
const struct ap_cmd *ap_shard_cmdstat_cmd(size_t idx);

#define SRV AP_CMD_SERVER
/* Longest "container|subcommand" name (cmd.c bounds names at 64). */
#define FULLNAME_MAX 160
/* One CLIENT LIST line: the name and library fields are bounded by the
 * client struct; the rest is numbers and addresses. */
#define CLIENT_LINE_MAX (AP_CLIENT_NAME_MAX + 1024)
/* ACL categories of one command. */
#define ACL_CATS_MAX 32

/* --- small helpers ------------------------------------------------------ */

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

/* Replies err (a full Redis error text, code first) through the reply
 * writer; a helper so that formatted errors stay one line. */
static void reply_errf(struct ap_reply *r, const char *fmt, ...)
	AP_PRINTF(2, 3);
static void reply_errf(struct ap_reply *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ap_reply_error(r, buf);
}

/* Printable, bounded copy of a client argument for an error message. */
static const char *arg_show(const struct ap_arg *a, char *buf, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < a->len && n + 1 < size && i < 128; i++) {
		char ch = a->p[i];
		buf[n++] = (ch >= 32 && ch < 127) ? ch : '?';
	}
	buf[n] = '\0';
	return buf;
}

/* Writes "parent|cmd" (or cmd's own name when parent is NULL or the name
 * already carries its container) into buf. */
static const char *full_name(const struct ap_cmd *cmd,
			     const struct ap_cmd *parent, char *buf,
			     size_t size)
{
	if (!parent || strchr(cmd->name, '|'))
		snprintf(buf, size, "%s", cmd->name);
	else
		snprintf(buf, size, "%s|%s", parent->name, cmd->name);
	return buf;
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

/* Full name of the command whose name pointer is `name` (a client's last
 * command). Subcommand names are short words that several containers may
 * share (and the compiler may merge), so a name owned by more than one
 * command is shown bare. */
static const char *last_cmd_name(const char *name, char *buf, size_t size)
{
	const struct ap_cmd *hit = NULL, *hit_parent = NULL;
	int hits = 0;
	if (!name)
		return "NULL";
	for (size_t i = 0; i < ap_cmd_count(); i++) {
		const struct ap_cmd *p = ap_cmd_at(i);
		if (p->name == name) {
			hit = p;
			hit_parent = NULL;
			hits++;
		}
		for (const struct ap_cmd *s = p->subcmds; s && s->name; s++) {
			if (s->name == name) {
				hit = s;
				hit_parent = p;
				hits++;
			}
		}
	}
	if (hits != 1)
		return name;
	return full_name(hit, hit_parent, buf, size);
}

/* Finds a command by "name" or "container|sub" (COMMAND INFO/DOCS). */
static const struct ap_cmd *lookup_full(const struct ap_arg *a,
					const struct ap_cmd **parent)
{
	const char *bar = memchr(a->p, '|', a->len);
	*parent = NULL;
	if (!bar)
		return ap_cmd_lookup(a->p, a->len);
	const struct ap_cmd *base = ap_cmd_lookup(a->p, (size_t)(bar - a->p));
	size_t rlen = a->len - (size_t)(bar - a->p) - 1;
	if (!base || !base->subcmds || memchr(bar + 1, '|', rlen))
		return NULL;
	const struct ap_cmd *sub = ap_cmd_sub_lookup(base, bar + 1, rlen);
	if (sub)
		*parent = base;
	return sub;
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

/* True if every byte is printable and not a space (client names and
 * library attributes, as Redis). */
static bool attr_valid(const struct ap_arg *a)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->p[i] < '!' || a->p[i] > '~')
			return false;
	return true;
}

/* Starts a fan-out over every shard for the client running ctx. */
static void all_shards(struct ap_cmd_ctx *c, ap_fanout_fn *fn,
		       ap_fanout_done_fn *done, int argc,
		       const struct ap_arg *argv, const long long *opt)
{
	struct ap_client *cl = c->client;
	AP_ASSERT(cl != NULL);
	ap_fanout_start(cl, 0, cl->shard->srv->nshards, fn, done, argc, argv,
			opt);
}

/* Fan-out end that answers +OK. */
static void fo_ok_done(struct ap_shard *home, struct ap_fanout *f)
{
	if (!(f->client->flags & AP_CF_CLOSED))
		ap_reply_ok(&f->client->reply);
	ap_fanout_finish(home, f);
}

/* Replies a HELP text: one status line per entry. */
static void reply_help(struct ap_reply *r, const char *const *lines)
{
	size_t n = 0;
	while (lines[n])
		n++;
	ap_reply_array(r, n);
	for (size_t i = 0; i < n; i++)
		ap_reply_status(r, lines[i]);
}

/* ======================= INFO ========================================== */

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
	uint64_t blocked;	/* waiters here, and spanning waiters */
	uint64_t blocking_keys; /* keys with waiters here */
	uint64_t lazy_pending;	/* lazy-free items queued */
	size_t max_qbuf, max_obuf;
	uint64_t errors_total;
	unsigned db_count;
	uint64_t *dbs;		     /* [db_count * 2]: keys, keys with TTL */
	struct ap_cmdstat *cmdstats; /* [ap_shard_cmdstat_count()] or NULL */
	unsigned errstat_count;
	struct ap_errstat *errstats; /* [errstat_count] or NULL */
};

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

static void info_persistence(struct text *t, struct ap_shard *home,
			     struct ap_fanout *f)
{
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
		  "rdb_bgsave_in_progress:0\r\n"
		  "rdb_last_save_time:%lld\r\n"
		  "rdb_last_bgsave_status:ok\r\n"
		  "rdb_last_bgsave_time_sec:-1\r\n"
		  "rdb_current_bgsave_time_sec:-1\r\n"
		  "rdb_saves:0\r\n"
		  "aof_enabled:%d\r\n"
		  "aof_rewrite_in_progress:0\r\n"
		  "aof_rewrite_scheduled:0\r\n"
		  "aof_last_rewrite_time_sec:-1\r\n"
		  "aof_current_rewrite_time_sec:-1\r\n"
		  "aof_last_bgrewrite_status:ok\r\n"
		  "aof_rewrites:0\r\n"
		  "aof_last_write_status:ok\r\n",
		  SNAP_SUM(f, ks.dirty),
		  (long long)(home->srv->start_ms / 1000),
		  home->cfg.appendonly ? 1 : 0);
}

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
		  "xshard_wakeups:%llu\r\n",
		  SNAP_SUM(f, st.conns_received), SNAP_SUM(f, st.commands),
		  (unsigned long long)(ops + 0.5), SNAP_SUM(f, st.net_in),
		  SNAP_SUM(f, st.net_out), SNAP_SUM(f, st.conns_rejected),
		  SNAP_SUM(f, ks.expired), SNAP_SUM(f, ks.hits),
		  SNAP_SUM(f, ks.misses), SNAP_SUM(f, errors_total),
		  SNAP_SUM(f, st.ticks), SNAP_SUM(f, st.msgs_out),
		  SNAP_SUM(f, st.batches_out), SNAP_SUM(f, st.wakeups_sent));
}

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

static void info_commandstats(struct text *t, struct ap_shard *home,
			      struct ap_fanout *f)
{
	char name[FULLNAME_MAX];
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
			  full_name(cmd, parent_of(cmd), name, sizeof(name)),
			  (unsigned long long)sum.calls, usec,
			  sum.calls ? (double)usec / (double)sum.calls : 0.0,
			  (unsigned long long)sum.rejected,
			  (unsigned long long)sum.failed);
	}
}

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

static void info_cluster(struct text *t, struct ap_shard *home,
			 struct ap_fanout *f)
{
	text_addf(t, "# Cluster\r\ncluster_enabled:0\r\n");
}

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

static void cmd_info(struct ap_cmd_ctx *c)
{
	ap_info_reply(c->client, c->argc - 1, c->argv + 1);
}

/* ======================= CLIENT ======================================== */

enum client_type {
	CT_ANY = -1,
	CT_NORMAL = 0,
	CT_MASTER,
	CT_REPLICA,
	CT_PUBSUB,
};

/* A client's type for LIST/KILL TYPE. Every connection is a normal
 * client until replication and pub/sub state exist on struct
 * ap_client. */
static int client_type(const struct ap_client *c)
{
	(void)c;
	return CT_NORMAL;
}

static int client_type_by_name(const struct ap_arg *a)
{
	if (ap_arg_eq(a, "normal"))
		return CT_NORMAL;
	if (ap_arg_eq(a, "master"))
		return CT_MASTER;
	if (ap_arg_eq(a, "replica") || ap_arg_eq(a, "slave"))
		return CT_REPLICA;
	if (ap_arg_eq(a, "pubsub"))
		return CT_PUBSUB;
	return CT_ANY;
}

/* Redis's flag letters for CLIENT LIST. */
static void client_flags_str(const struct ap_client *c, char *out)
{
	char *p = out;
	if (c->flags & AP_CF_KILLED)
		*p++ = 'A';
	if (c->flags & AP_CF_CLOSE_ASAP)
		*p++ = 'c';
	if (c->flags & AP_CF_NO_EVICT)
		*p++ = 'e';
	if (c->flags & AP_CF_NO_TOUCH)
		*p++ = 'T';
	if (p == out)
		*p++ = 'N';
	*p = '\0';
}

/* Writes c's CLIENT LIST line (with its trailing newline) into buf and
 * returns its length. cmd overrides the last command's name (the caller's
 * own line) when not NULL. Runs on c's shard. */
static size_t client_line(const struct ap_client *c, const char *cmd, char *buf,
			  size_t size)
{
	char flags[8], name[FULLNAME_MAX];
	int64_t now = c->shard->now_ms;
	size_t oll = 0, omem = 0;
	for (const struct ap_obuf_chunk *ch = c->nc.out.head; ch;
	     ch = ch->next) {
		oll++;
		omem += sizeof(*ch) + ch->cap;
	}
	size_t argv_mem = (size_t)c->argv_cap * sizeof(struct ap_arg);
	size_t tot = sizeof(*c) + c->qcap + argv_mem + omem;
	client_flags_str(c, flags);
	if (!cmd)
		cmd = last_cmd_name(c->last_cmd, name, sizeof(name));
	int n = snprintf(
		buf, size,
		"id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld "
		"flags=%s db=%u sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu "
		"qbuf-free=%zu argv-mem=%zu multi-mem=0 obl=0 oll=%zu omem=%zu "
		"tot-mem=%zu events=%s cmd=%s user=default redir=-1 resp=%d "
		"lib-name=%s lib-ver=%s\n",
		(unsigned long long)c->id, c->addr, c->laddr, c->nc.fd, c->name,
		(long long)((now - c->ctime_ms) / 1000),
		(long long)((now - c->last_ms) / 1000), flags, c->db_idx,
		c->qlen - c->qpos, c->qcap - c->qlen, argv_mem, oll, omem, tot,
		c->nc.out.len ? "rw" : "r", cmd, c->proto, c->lib_name,
		c->lib_ver);
	AP_ASSERT(n > 0);
	return AP_MIN((size_t)n, size - 1);
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Fan-out step of CLIENT LIST: opt[0] the type filter, argv the wanted
 * ids (already validated); lines go to the part's out, oldest first. */
static void client_list_collect(struct ap_shard *s, struct ap_fanout *f)
{
	struct ap_fanout_part *p = ap_fanout_part_of(f, s);
	int type = (int)f->opt[0];
	long long *ids = NULL;
	char line[CLIENT_LINE_MAX];
	if (f->argc > 0) {
		ids = ap_malloc((size_t)f->argc * sizeof(*ids));
		/* Validated by the command; a bad one would match nothing. */
		for (int i = 0; i < f->argc; i++)
			if (!ap_str_to_ll(f->argv[i].p, f->argv[i].len,
					  &ids[i]))
				ids[i] = -1;
		qsort(ids, (size_t)f->argc, sizeof(*ids), cmp_ll);
	}
	struct ap_client *c = s->clients;
	while (c && c->next)
		c = c->next;
	for (; c; c = c->prev) {
		long long id = (long long)c->id;
		if (c->flags & AP_CF_CLOSED)
			continue;
		if (type != CT_ANY && client_type(c) != type)
			continue;
		if (ids &&
		    !bsearch(&id, ids, (size_t)f->argc, sizeof(*ids), cmp_ll))
			continue;
		size_t n = client_line(c, c == f->client ? "client|list" : NULL,
				       line, sizeof(line));
		ap_obuf_append(&p->out, line, n);
	}
	ap_free(ids);
}

/* Fan-out end: concatenates the shards' lines into one verbatim reply. */
static void client_list_done(struct ap_shard *home, struct ap_fanout *f)
{
	if (!(f->client->flags & AP_CF_CLOSED)) {
		struct ap_obuf all;
		size_t len;
		ap_obuf_init(&all);
		for (int i = 0; i < f->nparts; i++)
			ap_obuf_splice(&all, &f->parts[i].out);
		char *text = ap_obuf_flatten(&all, &len);
		ap_reply_verbatim(&f->client->reply, text, len, "txt");
		ap_free(text);
		ap_obuf_deinit(&all);
	}
	ap_fanout_finish(home, f);
}

static void cmd_client_list(struct ap_cmd_ctx *c)
{
	char a[130];
	long long opt[4] = {CT_ANY};
	int argc = 0;
	const struct ap_arg *ids = NULL;
	if (c->argc == 4 && ap_arg_eq(&c->argv[2], "type")) {
		opt[0] = client_type_by_name(&c->argv[3]);
		if (opt[0] == CT_ANY) {
			reply_errf(c->r, "ERR Unknown client type '%s'",
				   arg_show(&c->argv[3], a, sizeof(a)));
			return;
		}
	} else if (c->argc > 3 && ap_arg_eq(&c->argv[2], "id")) {
		for (int i = 3; i < c->argc; i++) {
			long long v;
			if (!ap_str_to_ll(c->argv[i].p, c->argv[i].len, &v)) {
				ap_reply_error(c->r, "ERR Invalid client ID");
				return;
			}
		}
		ids = &c->argv[3];
		argc = c->argc - 3;
	} else if (c->argc != 2) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	all_shards(c, client_list_collect, client_list_done, argc, ids, opt);
}

static void cmd_client_info(struct ap_cmd_ctx *c)
{
	char line[CLIENT_LINE_MAX];
	size_t n = client_line(c->client, "client|info", line, sizeof(line));
	ap_reply_verbatim(c->r, line, n, "txt");
}

static void cmd_client_id(struct ap_cmd_ctx *c)
{
	ap_reply_int(c->r, (long long)c->client->id);
}

static void cmd_client_setname(struct ap_cmd_ctx *c)
{
	const struct ap_arg *a = &c->argv[2];
	if (!attr_valid(a)) {
		ap_reply_error(c->r, "ERR Client names cannot contain spaces, "
				     "newlines or special characters.");
		return;
	}
	if (a->len > AP_CLIENT_NAME_MAX) {
		reply_errf(c->r,
			   "ERR Client names cannot be longer than %d "
			   "bytes",
			   AP_CLIENT_NAME_MAX);
		return;
	}
	memcpy(c->client->name, a->p, a->len);
	c->client->name[a->len] = '\0';
	ap_reply_ok(c->r);
}

static void cmd_client_getname(struct ap_cmd_ctx *c)
{
	if (c->client->name[0])
		ap_reply_bulk_cstr(c->r, c->client->name);
	else
		ap_reply_null(c->r);
}

static void cmd_client_setinfo(struct ap_cmd_ctx *c)
{
	const struct ap_arg *attr = &c->argv[2], *val = &c->argv[3];
	char *dst;
	size_t cap;
	const char *what;
	char a[130];
	if (ap_arg_eq(attr, "lib-name")) {
		dst = c->client->lib_name;
		cap = sizeof(c->client->lib_name);
		what = "lib-name";
	} else if (ap_arg_eq(attr, "lib-ver")) {
		dst = c->client->lib_ver;
		cap = sizeof(c->client->lib_ver);
		what = "lib-ver";
	} else {
		reply_errf(c->r, "ERR Unrecognized option '%s'",
			   arg_show(attr, a, sizeof(a)));
		return;
	}
	if (!attr_valid(val)) {
		reply_errf(c->r,
			   "ERR %s cannot contain spaces, newlines or special "
			   "characters.",
			   what);
		return;
	}
	if (val->len >= cap) {
		reply_errf(c->r, "ERR %s cannot be longer than %zu bytes", what,
			   cap - 1);
		return;
	}
	memcpy(dst, val->p, val->len);
	dst[val->len] = '\0';
	ap_reply_ok(c->r);
}

/* The KILL filters (Redis 7: ID, TYPE, ADDR, LADDR, SKIPME, USER), or the
 * legacy form with one address. */
struct kill_filter {
	bool legacy;
	bool skipme;
	int type;
	long long id; /* 0: any */
	const struct ap_arg *addr, *laddr;
};

/* Parses KILL's arguments (those after "CLIENT KILL"). On bad input
 * writes the error reply's text to err (when not NULL) and returns
 * false. */
static bool kill_filter_parse(int argc, const struct ap_arg *argv,
			      struct kill_filter *k, char *err, size_t size)
{
	char a[130];
	memset(k, 0, sizeof(*k));
	k->type = CT_ANY;
	if (argc == 1) {
		k->legacy = true;
		k->addr = &argv[0];
		return true;
	}
	k->skipme = true;
	for (int i = 0; i < argc; i += 2) {
		const struct ap_arg *name = &argv[i], *v = &argv[i + 1];
		const char *e = NULL;
		if (i + 1 >= argc) {
			e = AP_ERR_SYNTAX;
		} else if (ap_arg_eq(name, "id")) {
			if (!ap_str_to_ll(v->p, v->len, &k->id) || k->id < 1)
				e = "ERR client-id should be greater than 0";
		} else if (ap_arg_eq(name, "type")) {
			k->type = client_type_by_name(v);
			if (k->type == CT_ANY) {
				if (err)
					snprintf(err, size,
						 "ERR Unknown client type '%s'",
						 arg_show(v, a, sizeof(a)));
				return false;
			}
		} else if (ap_arg_eq(name, "addr")) {
			k->addr = v;
		} else if (ap_arg_eq(name, "laddr")) {
			k->laddr = v;
		} else if (ap_arg_eq(name, "skipme")) {
			if (ap_arg_eq(v, "yes"))
				k->skipme = true;
			else if (ap_arg_eq(v, "no"))
				k->skipme = false;
			else
				e = AP_ERR_SYNTAX;
		} else if (ap_arg_eq(name, "user")) {
			if (!ap_arg_eq(v, "default")) {
				if (err)
					snprintf(err, size,
						 "ERR No such user '%s'",
						 arg_show(v, a, sizeof(a)));
				return false;
			}
		} else {
			e = AP_ERR_SYNTAX;
		}
		if (e) {
			if (err)
				snprintf(err, size, "%s", e);
			return false;
		}
	}
	return true;
}

static bool arg_is(const struct ap_arg *a, const char *s)
{
	return a->len == strlen(s) && memcmp(a->p, s, a->len) == 0;
}

static bool kill_match(const struct kill_filter *k, const struct ap_client *c,
		       const struct ap_client *caller)
{
	if (c->flags & AP_CF_CLOSED)
		return false;
	if (k->skipme && c == caller)
		return false;
	if (k->id && (long long)c->id != k->id)
		return false;
	if (k->type != CT_ANY && client_type(c) != k->type)
		return false;
	if (k->addr && !arg_is(k->addr, c->addr))
		return false;
	if (k->laddr && !arg_is(k->laddr, c->laddr))
		return false;
	return true;
}

/* Fan-out step of CLIENT KILL (argv: the filters). Closes matching
 * clients of shard s; the caller itself is only marked (part ptr) and is
 * closed after its reply. num = clients killed. */
static void client_kill_run(struct ap_shard *s, struct ap_fanout *f)
{
	struct ap_fanout_part *p = ap_fanout_part_of(f, s);
	struct kill_filter k;
	bool ok = kill_filter_parse(f->argc, f->argv, &k, NULL, 0);
	AP_ASSERT(ok);
	for (struct ap_client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (!kill_match(&k, c, f->client))
			continue;
		p->num++;
		if (c == f->client) {
			p->ptr = c;
			continue;
		}
		c->flags |= AP_CF_KILLED;
		ap_client_close(c, false);
	}
}

static void client_kill_done(struct ap_shard *home, struct ap_fanout *f)
{
	struct ap_client *c = f->client;
	long long killed = 0;
	bool self = false;
	for (int i = 0; i < f->nparts; i++) {
		killed += f->parts[i].num;
		self |= f->parts[i].ptr == c;
	}
	if (!(c->flags & AP_CF_CLOSED)) {
		if (f->opt[0] && killed == 0)
			ap_reply_error(&c->reply, "ERR No such client");
		else if (f->opt[0])
			ap_reply_ok(&c->reply);
		else
			ap_reply_int(&c->reply, killed);
		if (self)
			c->flags |= AP_CF_CLOSE_ASAP;
	}
	ap_fanout_finish(home, f);
}

/* CLIENT UNBLOCK on one shard: opt[0] the id, opt[1] 1 for ERROR. */
static void fo_unblock(struct ap_shard *s, struct ap_fanout *f)
{
	ap_fanout_part_of(f, s)->num =
		ap_blk_unblock(s, (uint64_t)f->opt[0], f->opt[1] != 0);
}

static void fo_unblock_done(struct ap_shard *home, struct ap_fanout *f)
{
	long long n = 0;
	for (int i = 0; i < f->nparts; i++)
		n += f->parts[i].num;
	if (!(f->client->flags & AP_CF_CLOSED))
		ap_reply_int(&f->client->reply, n ? 1 : 0);
	ap_fanout_finish(home, f);
}

/* CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: the client's waiter lives
 * on the shard that owns the keys it waits for; every shard looks. */
static void cmd_client_unblock(struct ap_cmd_ctx *c)
{
	long long id, opt[4] = {0};
	if (c->argc > 4) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	if (!ap_str_to_ll(c->argv[2].p, c->argv[2].len, &id)) {
		ap_reply_error(c->r,
			       "ERR value is not an integer or out of range");
		return;
	}
	if (c->argc == 4) {
		if (ap_arg_eq(&c->argv[3], "error")) {
			opt[1] = 1;
		} else if (!ap_arg_eq(&c->argv[3], "timeout")) {
			ap_reply_error(c->r, "ERR CLIENT UNBLOCK reason should "
					     "be TIMEOUT or ERROR");
			return;
		}
	}
	opt[0] = id;
	all_shards(c, fo_unblock, fo_unblock_done, 0, NULL, opt);
}

static void cmd_client_kill(struct ap_cmd_ctx *c)
{
	struct kill_filter k;
	char err[256];
	if (!kill_filter_parse(c->argc - 2, c->argv + 2, &k, err,
			       sizeof(err))) {
		ap_reply_error(c->r, err);
		return;
	}
	long long opt[4] = {k.legacy ? 1 : 0};
	all_shards(c, client_kill_run, client_kill_done, c->argc - 2,
		   c->argv + 2, opt);
}

static void cmd_client_reply(struct ap_cmd_ctx *c)
{
	struct ap_client *cl = c->client;
	const struct ap_arg *a = &c->argv[2];
	if (ap_arg_eq(a, "on")) {
		cl->flags &= ~(uint32_t)(AP_CF_REPLY_OFF | AP_CF_REPLY_SKIP |
					 AP_CF_REPLY_SKIP_NEXT);
		ap_reply_ok(c->r);
	} else if (ap_arg_eq(a, "off")) {
		/* No reply: the connection is silent from now on. */
		cl->flags |= AP_CF_REPLY_OFF;
	} else if (ap_arg_eq(a, "skip")) {
		/* No reply; the next command's reply is dropped too. */
		if (!(cl->flags & AP_CF_REPLY_OFF))
			cl->flags |= AP_CF_REPLY_SKIP_NEXT;
	} else {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
	}
}

/* Fan-out step of CLIENT PAUSE/UNPAUSE: opt[0] end (unix ms), opt[1]
 * 1 = ALL, opt[2] 1 = unpause. A pause never shortens or weakens one
 * already in force. */
static void client_pause_apply(struct ap_shard *s, struct ap_fanout *f)
{
	int64_t end = f->opt[0];
	bool all = f->opt[1] != 0;
	if (f->opt[2]) {
		s->pause_end_ms = 0;
		s->pause_all = false;
	} else if (s->pause_end_ms <= s->now_ms) {
		s->pause_end_ms = end;
		s->pause_all = all;
	} else {
		s->pause_end_ms = AP_MAX(s->pause_end_ms, end);
		s->pause_all |= all;
	}
}

static void cmd_client_pause(struct ap_cmd_ctx *c)
{
	long long ms;
	bool all = true;
	if (c->argc > 4) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	if (!ap_str_to_ll(c->argv[2].p, c->argv[2].len, &ms)) {
		ap_reply_error(c->r,
			       "ERR timeout is not an integer or out of range");
		return;
	}
	if (ms < 0) {
		ap_reply_error(c->r, "ERR timeout is negative");
		return;
	}
	if (c->argc == 4) {
		if (ap_arg_eq(&c->argv[3], "write")) {
			all = false;
		} else if (!ap_arg_eq(&c->argv[3], "all")) {
			ap_reply_error(c->r, "ERR CLIENT PAUSE mode must be "
					     "WRITE or ALL");
			return;
		}
	}
	int64_t now = c->client->shard->now_ms;
	long long opt[4] = {ms > INT64_MAX - now ? INT64_MAX : now + ms, all,
			    0};
	all_shards(c, client_pause_apply, fo_ok_done, 0, NULL, opt);
}

static void cmd_client_unpause(struct ap_cmd_ctx *c)
{
	long long opt[4] = {0, 0, 1};
	all_shards(c, client_pause_apply, fo_ok_done, 0, NULL, opt);
}

/* CLIENT NO-EVICT / NO-TOUCH: sets or clears one flag. */
static void client_flag_onoff(struct ap_cmd_ctx *c, uint32_t flag)
{
	if (ap_arg_eq(&c->argv[2], "on")) {
		c->client->flags |= flag;
	} else if (ap_arg_eq(&c->argv[2], "off")) {
		c->client->flags &= ~flag;
	} else {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	ap_reply_ok(c->r);
}

static void cmd_client_no_evict(struct ap_cmd_ctx *c)
{
	client_flag_onoff(c, AP_CF_NO_EVICT);
}

static void cmd_client_no_touch(struct ap_cmd_ctx *c)
{
	client_flag_onoff(c, AP_CF_NO_TOUCH);
}

static void cmd_client_getredir(struct ap_cmd_ctx *c)
{
	ap_reply_int(c->r, -1); /* no client-side caching redirection */
}

static void cmd_client_help(struct ap_cmd_ctx *c)
{
	static const char *const lines[] = {
		"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands "
		"are:",
		"GETNAME",
		"    Return the name of the current connection.",
		"GETREDIR",
		"    Return the client-side caching redirection id (-1: "
		"none).",
		"ID",
		"    Return the id of the current connection.",
		"INFO",
		"    Return information about the current connection.",
		"KILL <ip:port>",
		"    Kill the connection at <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections matching every filter. Options:",
		"    * ID <client-id>",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"    * ADDR <ip:port>",
		"    * LADDR <ip:port>",
		"    * USER <username>",
		"    * SKIPME (YES|NO)  (default YES: never kill the caller)",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"    * ID <client-id> [<client-id> ...]",
		"NO-EVICT (ON|OFF)",
		"    Protect the current connection from client eviction.",
		"NO-TOUCH (ON|OFF)",
		"    Do not change the keys' access time for this connection.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend clients (or only their writes) for <timeout> "
		"milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Turn replies on or off, or skip the next command's reply.",
		"SETINFO <LIB-NAME|LIB-VER> <value>",
		"    Set the client library name or version.",
		"SETNAME <name>",
		"    Assign a name to the current connection.",
		"UNPAUSE",
		"    End a pause started with PAUSE.",
		"HELP",
		"    Print this help.",
		NULL,
	};
	reply_help(c->r, lines);
}

/* ======================= CONFIG ======================================== */

struct config_pairs {
	struct {
		const char *name;
		char *value;
	} * v;
	size_t n, cap;
};

/* ap_config_get callback: keeps each directive once. */
static void config_get_add(void *arg, const char *name, const char *value)
{
	struct config_pairs *ps = arg;
	for (size_t i = 0; i < ps->n; i++)
		if (!strcmp(ps->v[i].name, name))
			return;
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 32;
		ps->v = ap_realloc(ps->v, ps->cap * sizeof(*ps->v));
	}
	ps->v[ps->n].name = name;
	ps->v[ps->n].value = ap_strdup(value);
	ps->n++;
}

static void cmd_config_get(struct ap_cmd_ctx *c)
{
	struct config_pairs ps = {0};
	for (int i = 2; i < c->argc; i++)
		ap_config_get(c->cfg, c->argv[i].p, c->argv[i].len,
			      config_get_add, &ps);
	ap_reply_map(c->r, ps.n);
	for (size_t i = 0; i < ps.n; i++) {
		ap_reply_bulk_cstr(c->r, ps.v[i].name);
		ap_reply_bulk_cstr(c->r, ps.v[i].value);
		ap_free(ps.v[i].value);
	}
	ap_free(ps.v);
}

/* Fan-out step of CONFIG SET: argv[0] holds a whole struct ap_config;
 * the shard adopts it and applies what has side effects. */
static void config_apply(struct ap_shard *s, struct ap_fanout *f)
{
	AP_ASSERT(f->argc == 1 && f->argv[0].len == sizeof(s->cfg));
	memcpy(&s->cfg, f->argv[0].p, sizeof(s->cfg));
	ap_keyspace_set_active_expire(s->ks, s->cfg.active_expire);
	if (s->id == 0)
		ap_log_set_level(s->cfg.loglevel);
}

/* True if the directive name at argv[i] appears earlier in the call. */
static bool config_set_dup(const struct ap_cmd_ctx *c, int i)
{
	for (int j = 2; j < i; j += 2)
		if (c->argv[j].len == c->argv[i].len &&
		    strncasecmp(c->argv[j].p, c->argv[i].p, c->argv[i].len) ==
			    0)
			return true;
	return false;
}

static void cmd_config_set(struct ap_cmd_ctx *c)
{
	char err[512], a[130];
	if (c->argc % 2) {
		ap_reply_error(c->r, "ERR wrong number of arguments for "
				     "'config|set' command");
		return;
	}
	struct ap_config *scratch = ap_malloc(sizeof(*scratch));
	*scratch = *c->cfg;
	for (int i = 2; i < c->argc; i += 2) {
		const struct ap_arg *n = &c->argv[i], *v = &c->argv[i + 1];
		int rc = 0;
		err[0] = '\0';
		if (config_set_dup(c, i)) {
			snprintf(err, sizeof(err), "duplicate parameter");
			rc = -EINVAL;
		} else {
			rc = ap_config_set(scratch, n->p, n->len, v->p, v->len,
					   err, sizeof(err));
		}
		if (rc == -ENOENT) {
			ap_reply_error(c->r, err);
		} else if (rc != 0) {
			reply_errf(c->r,
				   "ERR CONFIG SET failed (possibly related to "
				   "argument '%s') - %s",
				   arg_show(n, a, sizeof(a)), err);
		}
		if (rc != 0) {
			ap_free(scratch);
			return;
		}
	}
	struct ap_arg blob = {.p = (const char *)scratch,
			      .len = sizeof(*scratch)};
	all_shards(c, config_apply, fo_ok_done, 1, &blob, NULL);
	ap_free(scratch); /* the fan-out holds its own copy */
}

/* Fan-out step of CONFIG RESETSTAT: zeroes the shard's statistics
 * (commands, errors, connections, network, keyspace hits and misses,
 * expired keys, peak memory). */
static void stats_reset(struct ap_shard *s, struct ap_fanout *f)
{
	struct ap_shard_stats *st = &s->st;
	struct ap_keyspace_stats *ks = ap_keyspace_stats(s->ks);
	memset(s->cmdstats, 0, ap_shard_cmdstat_count() * sizeof(*s->cmdstats));
	memset(s->errstats, 0, sizeof(s->errstats));
	s->errstat_count = 0;
	s->errors_total = 0;
	st->commands = 0;
	st->conns_received = 0;
	st->conns_rejected = 0;
	st->msgs_in = 0;
	st->msgs_out = 0;
	st->wakeups_sent = 0;
	st->batches_out = 0;
	st->net_in = 0;
	st->net_out = 0;
	st->net_out_base = ap_net_loop_bytes_out(s->loop);
	st->ops_sample_prev = 0;
	st->ops_sample_ms = s->now_ms;
	st->ops_per_sec = 0;
	ks->hits = 0;
	ks->misses = 0;
	ks->expired = 0;
	ks->expire_cycles = 0;
	s->mem_peak = 0;
}

static void cmd_config_resetstat(struct ap_cmd_ctx *c)
{
	all_shards(c, stats_reset, fo_ok_done, 0, NULL, NULL);
}

static void cmd_config_rewrite(struct ap_cmd_ctx *c)
{
	char err[512];
	if (ap_config_rewrite(c->cfg, err, sizeof(err)) != 0) {
		ap_reply_error(c->r, err);
		return;
	}
	ap_log(AP_LOG_NOTICE, "CONFIG REWRITE executed with success.");
	ap_reply_ok(c->r);
}

static void cmd_config_help(struct ap_cmd_ctx *c)
{
	static const char *const lines[] = {
		"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands "
		"are:",
		"GET <pattern> [<pattern> ...]",
		"    Return the directives matching the glob-like patterns and "
		"their values.",
		"SET <directive> <value> [<directive> <value> ...]",
		"    Set directives to values, all or none of them.",
		"RESETSTAT",
		"    Reset the statistics reported by INFO.",
		"REWRITE",
		"    Write the running configuration back to the config file.",
		"HELP",
		"    Print this help.",
		NULL,
	};
	reply_help(c->r, lines);
}

/* ======================= COMMAND ======================================= */

static const struct {
	uint32_t flag;
	const char *name;
} cmd_flag_names[] = {
	{AP_CMD_WRITE, "write"},
	{AP_CMD_READONLY, "readonly"},
	{AP_CMD_DENYOOM, "denyoom"},
	{AP_CMD_ADMIN, "admin"},
	{AP_CMD_PUBSUB, "pubsub"},
	{AP_CMD_NOSCRIPT, "noscript"},
	{AP_CMD_BLOCKING, "blocking"},
	{AP_CMD_LOADING, "loading"},
	{AP_CMD_STALE, "stale"},
	{AP_CMD_FAST, "fast"},
	{AP_CMD_NO_AUTH, "no_auth"},
	{AP_CMD_MAY_REPLICATE, "may_replicate"},
	{AP_CMD_NO_MULTI, "no_multi"},
	{AP_CMD_MOVABLE_KEYS, "movablekeys"},
	{AP_CMD_ALLOW_BUSY, "allow_busy"},
};

static void reply_cmd_flags(struct ap_reply *r, const struct ap_cmd *cmd)
{
	size_t n = 0;
	for (size_t i = 0; i < AP_ARRAY_LEN(cmd_flag_names); i++)
		n += (cmd->flags & cmd_flag_names[i].flag) != 0;
	ap_reply_set(r, n);
	for (size_t i = 0; i < AP_ARRAY_LEN(cmd_flag_names); i++)
		if (cmd->flags & cmd_flag_names[i].flag)
			ap_reply_status(r, cmd_flag_names[i].name);
}

/* A command's ACL categories ("@write", ...): from its table entry, or
 * derived from its flags as Redis does when none are given. Returns the
 * count written to out (at most ACL_CATS_MAX). */
static size_t acl_cats(const struct ap_cmd *cmd, struct ap_arg *out)
{
	size_t n = 0;
	if (cmd->acl_categories) {
		const char *p = cmd->acl_categories;
		while (*p && n < ACL_CATS_MAX) {
			while (*p == ' ')
				p++;
			const char *b = p;
			while (*p && *p != ' ')
				p++;
			if (p > b)
				out[n++] = (struct ap_arg){b, (size_t)(p - b)};
		}
		return n;
	}
	static const struct {
		uint32_t flag;
		const char *cat;
	} derived[] = {
		{AP_CMD_WRITE, "@write"},	{AP_CMD_READONLY, "@read"},
		{AP_CMD_ADMIN, "@admin"},	{AP_CMD_ADMIN, "@dangerous"},
		{AP_CMD_PUBSUB, "@pubsub"},	{AP_CMD_FAST, "@fast"},
		{AP_CMD_BLOCKING, "@blocking"},
	};
	for (size_t i = 0; i < AP_ARRAY_LEN(derived); i++)
		if (cmd->flags & derived[i].flag)
			out[n++] = (struct ap_arg){derived[i].cat,
						   strlen(derived[i].cat)};
	if (!(cmd->flags & AP_CMD_FAST))
		out[n++] = (struct ap_arg){"@slow", 5};
	return n;
}

static void reply_acl_cats(struct ap_reply *r, const struct ap_cmd *cmd)
{
	struct ap_arg cats[ACL_CATS_MAX];
	size_t n = acl_cats(cmd, cats);
	char buf[64];
	ap_reply_set(r, n);
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%.*s", (int)cats[i].len, cats[i].p);
		ap_reply_status(r, buf);
	}
}

/* Key specifications: one index/range spec from the legacy key range;
 * none for commands without keys or with movable keys. */
static void reply_key_specs(struct ap_reply *r, const struct ap_cmd *cmd)
{
	if (cmd->first_key <= 0 || (cmd->flags & AP_CMD_MOVABLE_KEYS)) {
		ap_reply_array(r, 0);
		return;
	}
	int step = cmd->key_step > 0 ? cmd->key_step : 1;
	int last = cmd->last_key < 0 ? cmd->last_key
				     : cmd->last_key - cmd->first_key;
	ap_reply_array(r, 1);
	ap_reply_map(r, 3);
	ap_reply_bulk_cstr(r, "flags");
	ap_reply_set(r, 1);
	ap_reply_status(r, (cmd->flags & AP_CMD_WRITE) ? "RW" : "RO");
	ap_reply_bulk_cstr(r, "begin_search");
	ap_reply_map(r, 2);
	ap_reply_bulk_cstr(r, "type");
	ap_reply_bulk_cstr(r, "index");
	ap_reply_bulk_cstr(r, "spec");
	ap_reply_map(r, 1);
	ap_reply_bulk_cstr(r, "index");
	ap_reply_int(r, cmd->first_key);
	ap_reply_bulk_cstr(r, "find_keys");
	ap_reply_map(r, 2);
	ap_reply_bulk_cstr(r, "type");
	ap_reply_bulk_cstr(r, "range");
	ap_reply_bulk_cstr(r, "spec");
	ap_reply_map(r, 3);
	ap_reply_bulk_cstr(r, "lastkey");
	ap_reply_int(r, last);
	ap_reply_bulk_cstr(r, "keystep");
	ap_reply_int(r, step);
	ap_reply_bulk_cstr(r, "limit");
	ap_reply_int(r, 0);
}

static size_t subcmd_count(const struct ap_cmd *cmd)
{
	size_t n = 0;
	for (const struct ap_cmd *s = cmd->subcmds; s && s->name; s++)
		n++;
	return n;
}

/* One command in COMMAND INFO's shape (10 fields, Redis 7). */
static void reply_cmd_info(struct ap_reply *r, const struct ap_cmd *cmd,
			   const struct ap_cmd *parent)
{
	char name[FULLNAME_MAX];
	bool keys = cmd->first_key > 0;
	ap_reply_array(r, 10);
	ap_reply_bulk_cstr(r, full_name(cmd, parent, name, sizeof(name)));
	ap_reply_int(r, cmd->arity);
	reply_cmd_flags(r, cmd);
	ap_reply_int(r, keys ? cmd->first_key : 0);
	ap_reply_int(r, keys ? cmd->last_key : 0);
	ap_reply_int(r, keys ? (cmd->key_step > 0 ? cmd->key_step : 1) : 0);
	reply_acl_cats(r, cmd);
	ap_reply_set(r, 0); /* tips */
	reply_key_specs(r, cmd);
	ap_reply_array(r, subcmd_count(cmd));
	for (const struct ap_cmd *s = cmd->subcmds; s && s->name; s++)
		reply_cmd_info(r, s, cmd);
}

/* Every top-level command's info (COMMAND, COMMAND INFO without names). */
static void reply_all_cmd_info(struct ap_reply *r)
{
	ap_reply_array(r, ap_cmd_count());
	for (size_t i = 0; i < ap_cmd_count(); i++)
		reply_cmd_info(r, ap_cmd_at(i), NULL);
}

static void cmd_command(struct ap_cmd_ctx *c)
{
	reply_all_cmd_info(c->r);
}

static void cmd_command_count(struct ap_cmd_ctx *c)
{
	ap_reply_int(c->r, (long long)ap_cmd_count());
}

static void cmd_command_info(struct ap_cmd_ctx *c)
{
	if (c->argc == 2) {
		reply_all_cmd_info(c->r);
		return;
	}
	ap_reply_array(c->r, (size_t)(c->argc - 2));
	for (int i = 2; i < c->argc; i++) {
		const struct ap_cmd *parent;
		const struct ap_cmd *cmd = lookup_full(&c->argv[i], &parent);
		if (cmd)
			reply_cmd_info(c->r, cmd, parent);
		else
			ap_reply_null(c->r);
	}
}

/* One command's COMMAND DOCS map: the fields it has, and its
 * subcommands' docs. */
static void reply_cmd_docs(struct ap_reply *r, const struct ap_cmd *cmd,
			   const struct ap_cmd *parent)
{
	const char *group =
		cmd->group ? cmd->group : (parent ? parent->group : NULL);
	const char *keys[] = {"summary", "since", "group", "complexity"};
	const char *vals[] = {cmd->summary, cmd->since, group, cmd->complexity};
	size_t nsub = subcmd_count(cmd), n = nsub ? 1 : 0;
	char name[FULLNAME_MAX];
	for (size_t i = 0; i < AP_ARRAY_LEN(vals); i++)
		n += vals[i] != NULL;
	ap_reply_map(r, n);
	for (size_t i = 0; i < AP_ARRAY_LEN(vals); i++) {
		if (!vals[i])
			continue;
		ap_reply_bulk_cstr(r, keys[i]);
		ap_reply_bulk_cstr(r, vals[i]);
	}
	if (!nsub)
		return;
	ap_reply_bulk_cstr(r, "subcommands");
	ap_reply_map(r, nsub);
	for (const struct ap_cmd *s = cmd->subcmds; s && s->name; s++) {
		ap_reply_bulk_cstr(r, full_name(s, cmd, name, sizeof(name)));
		reply_cmd_docs(r, s, cmd);
	}
}

static void cmd_command_docs(struct ap_cmd_ctx *c)
{
	char name[FULLNAME_MAX];
	if (c->argc == 2) {
		ap_reply_map(c->r, ap_cmd_count());
		for (size_t i = 0; i < ap_cmd_count(); i++) {
			const struct ap_cmd *cmd = ap_cmd_at(i);
			ap_reply_bulk_cstr(c->r, cmd->name);
			reply_cmd_docs(c->r, cmd, NULL);
		}
		return;
	}
	/* Unknown names are left out. */
	size_t n = 0;
	const struct ap_cmd *parent;
	for (int i = 2; i < c->argc; i++)
		n += lookup_full(&c->argv[i], &parent) != NULL;
	ap_reply_map(c->r, n);
	for (int i = 2; i < c->argc; i++) {
		const struct ap_cmd *cmd = lookup_full(&c->argv[i], &parent);
		if (!cmd)
			continue;
		ap_reply_bulk_cstr(c->r,
				   full_name(cmd, parent, name, sizeof(name)));
		reply_cmd_docs(c->r, cmd, parent);
	}
}

enum list_filter {
	LF_NONE,
	LF_MODULE,
	LF_ACLCAT,
	LF_PATTERN,
};

/* True if the command (full name `name`) passes a COMMAND LIST filter. */
static bool list_match(const struct ap_cmd *cmd, const char *name,
		       enum list_filter lf, const struct ap_arg *arg)
{
	struct ap_arg cats[ACL_CATS_MAX];
	switch (lf) {
	case LF_NONE:
		return true;
	case LF_MODULE:
		return false; /* no modules */
	case LF_PATTERN:
		return ap_glob_match(arg->p, arg->len, name, strlen(name),
				     true);
	case LF_ACLCAT: {
		const char *want = arg->p;
		size_t wlen = arg->len;
		if (wlen && want[0] == '@') {
			want++;
			wlen--;
		}
		size_t n = acl_cats(cmd, cats);
		for (size_t i = 0; i < n; i++) {
			const struct ap_arg *k = &cats[i];
			if (k->len == wlen + 1 && k->p[0] == '@' &&
			    strncasecmp(k->p + 1, want, wlen) == 0)
				return true;
		}
		return false;
	}
	}
	return false;
}

/* Replies (when r is not NULL) and counts the names passing the filter,
 * subcommands included as "container|sub". */
static size_t command_list_emit(struct ap_reply *r, enum list_filter lf,
				const struct ap_arg *arg)
{
	char name[FULLNAME_MAX];
	size_t n = 0;
	for (size_t i = 0; i < ap_cmd_count(); i++) {
		const struct ap_cmd *cmd = ap_cmd_at(i);
		if (list_match(cmd, cmd->name, lf, arg)) {
			if (r)
				ap_reply_bulk_cstr(r, cmd->name);
			n++;
		}
		for (const struct ap_cmd *s = cmd->subcmds; s && s->name; s++) {
			full_name(s, cmd, name, sizeof(name));
			if (!list_match(s, name, lf, arg))
				continue;
			if (r)
				ap_reply_bulk_cstr(r, name);
			n++;
		}
	}
	return n;
}

static void cmd_command_list(struct ap_cmd_ctx *c)
{
	enum list_filter lf = LF_NONE;
	const struct ap_arg *arg = NULL;
	if (c->argc == 5 && ap_arg_eq(&c->argv[2], "filterby")) {
		arg = &c->argv[4];
		if (ap_arg_eq(&c->argv[3], "module"))
			lf = LF_MODULE;
		else if (ap_arg_eq(&c->argv[3], "aclcat"))
			lf = LF_ACLCAT;
		else if (ap_arg_eq(&c->argv[3], "pattern"))
			lf = LF_PATTERN;
		else
			arg = NULL;
	}
	if (c->argc != 2 && !arg) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	ap_reply_array(c->r, command_list_emit(NULL, lf, arg));
	command_list_emit(c->r, lf, arg);
}

static void cmd_command_getkeys(struct ap_cmd_ctx *c)
{
	int argc = c->argc - 2;
	const struct ap_arg *argv = c->argv + 2;
	const struct ap_cmd *cmd = ap_cmd_lookup(argv[0].p, argv[0].len);
	if (cmd && cmd->subcmds && argc > 1)
		cmd = ap_cmd_sub_lookup(cmd, argv[1].p, argv[1].len);
	if (!cmd) {
		ap_reply_error(c->r, "ERR Invalid command specified");
		return;
	}
	if (!ap_cmd_arity_ok(cmd, argc)) {
		ap_reply_error(c->r, "ERR Invalid number of arguments "
				     "specified for command");
		return;
	}
	int *idx = ap_malloc((size_t)argc * sizeof(*idx));
	size_t n = ap_cmd_keys(cmd, argc, argv, idx, (size_t)argc);
	if (n == 0) {
		ap_reply_error(c->r, "ERR The command has no key arguments");
	} else {
		ap_reply_array(c->r, n);
		for (size_t i = 0; i < n; i++)
			ap_reply_bulk(c->r, argv[idx[i]].p, argv[idx[i]].len);
	}
	ap_free(idx);
}

static void cmd_command_help(struct ap_cmd_ctx *c)
{
	static const char *const lines[] = {
		"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands "
		"are:",
		"(no subcommand)",
		"    Return details about all commands.",
		"COUNT",
		"    Return the number of commands.",
		"DOCS [<command-name> ...]",
		"    Return documentation about the named commands (all "
		"commands when none is named).",
		"GETKEYS <full-command>",
		"    Return the keys of a full command line.",
		"INFO [<command-name> ...]",
		"    Return details about the named commands (all commands "
		"when none is named).",
		"LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|"
		"PATTERN <pattern>)]",
		"    Return the names of all commands, or of those passing the "
		"filter.",
		"HELP",
		"    Print this help.",
		NULL,
	};
	reply_help(c->r, lines);
}

/* ======================= tables ======================================== */

#define CLIENT_CMD(n, a, fl, f, sum, snc, cx)                                 \
	{                                                                     \
		.name = n, .arity = a,                                        \
		.flags = SRV | AP_CMD_NOSCRIPT | AP_CMD_LOADING |             \
			 AP_CMD_STALE | (fl),                                 \
		.fn = f, .group = "connection", .summary = sum, .since = snc, \
		.complexity = cx,                                             \
		.acl_categories =                                             \
			((fl)&AP_CMD_ADMIN)                                   \
				? "@admin @slow @dangerous @connection"       \
				: "@slow @connection"                         \
	}

/* clang-format off */
static const struct ap_cmd client_subcmds[] = {
	CLIENT_CMD("id", 2, 0, cmd_client_id,
		   "Returns the unique client ID of the connection.", "5.0.0",
		   "O(1)"),
	CLIENT_CMD("info", 2, 0, cmd_client_info,
		   "Returns information about the connection.", "6.2.0",
		   "O(1)"),
	CLIENT_CMD("list", -2, AP_CMD_ADMIN, cmd_client_list,
		   "Lists open connections.", "2.4.0",
		   "O(N) where N is the number of client connections"),
	CLIENT_CMD("unblock", -3, AP_CMD_ADMIN, cmd_client_unblock,
		   "Unblocks a client blocked by a blocking command from a "
		   "different connection.",
		   "5.0.0",
		   "O(log N) where N is the number of client connections"),
	CLIENT_CMD("kill", -3, AP_CMD_ADMIN, cmd_client_kill,
		   "Terminates open connections.", "2.4.0",
		   "O(N) where N is the number of client connections"),
	CLIENT_CMD("setname", 3, 0, cmd_client_setname,
		   "Sets the connection name.", "2.6.9", "O(1)"),
	CLIENT_CMD("getname", 2, 0, cmd_client_getname,
		   "Returns the name of the connection.", "2.6.9", "O(1)"),
	CLIENT_CMD("setinfo", 4, 0, cmd_client_setinfo,
		   "Sets information specific to the client or connection.",
		   "7.2.0", "O(1)"),
	CLIENT_CMD("reply", 3, 0, cmd_client_reply,
		   "Instructs the server whether to reply to commands.",
		   "3.2.0", "O(1)"),
	CLIENT_CMD("pause", -3, AP_CMD_ADMIN, cmd_client_pause,
		   "Suspends commands processing.", "3.0.0", "O(1)"),
	CLIENT_CMD("unpause", 2, AP_CMD_ADMIN, cmd_client_unpause,
		   "Resumes processing commands from paused clients.",
		   "6.2.0", "O(N) Where N is the number of paused clients"),
	CLIENT_CMD("no-evict", 3, AP_CMD_ADMIN, cmd_client_no_evict,
		   "Sets the client eviction mode of the connection.", "7.0.0",
		   "O(1)"),
	CLIENT_CMD("no-touch", 3, 0, cmd_client_no_touch,
		   "Controls whether commands sent by the client affect the "
		   "LRU/LFU of accessed keys.", "7.2.0", "O(1)"),
	CLIENT_CMD("getredir", 2, 0, cmd_client_getredir,
		   "Returns the client ID to which the connection's tracking "
		   "notifications are redirected.", "6.0.0", "O(1)"),
	{.name = "help", .arity = 2,
	 .flags = SRV | AP_CMD_LOADING | AP_CMD_STALE, .fn = cmd_client_help,
	 .group = "connection", .summary = "Returns helpful text about the "
	 "different subcommands.", .since = "5.0.0", .complexity = "O(1)",
	 .acl_categories = "@slow @connection"},
	{.name = NULL},
};

#define ADMIN_SUB (SRV | AP_CMD_ADMIN | AP_CMD_NOSCRIPT | AP_CMD_LOADING |    \
		   AP_CMD_STALE)

static const struct ap_cmd config_subcmds[] = {
	{.name = "get", .arity = -3, .flags = ADMIN_SUB, .fn = cmd_config_get,
	 .group = "server",
	 .summary = "Returns the effective values of configuration "
		    "parameters.",
	 .since = "2.0.0",
	 .complexity = "O(N) when N is the number of configuration "
		       "parameters provided",
	 .acl_categories = "@admin @slow @dangerous"},
	{.name = "set", .arity = -4, .flags = ADMIN_SUB, .fn = cmd_config_set,
	 .group = "server",
	 .summary = "Sets configuration parameters in-flight.",
	 .since = "2.0.0",
	 .complexity = "O(N) when N is the number of configuration "
		       "parameters provided",
	 .acl_categories = "@admin @slow @dangerous"},
	{.name = "resetstat", .arity = 2, .flags = ADMIN_SUB,
	 .fn = cmd_config_resetstat, .group = "server",
	 .summary = "Resets the server's statistics.", .since = "2.0.0",
	 .complexity = "O(1)", .acl_categories = "@admin @slow @dangerous"},
	{.name = "rewrite", .arity = 2, .flags = ADMIN_SUB,
	 .fn = cmd_config_rewrite, .group = "server",
	 .summary = "Persists the effective configuration to file.",
	 .since = "2.8.0", .complexity = "O(1)",
	 .acl_categories = "@admin @slow @dangerous"},
	{.name = "help", .arity = 2,
	 .flags = SRV | AP_CMD_LOADING | AP_CMD_STALE, .fn = cmd_config_help,
	 .group = "server", .summary = "Returns helpful text about the "
	 "different subcommands.", .since = "5.0.0", .complexity = "O(1)",
	 .acl_categories = "@slow"},
	{.name = NULL},
};

#define COMMAND_SUB (SRV | AP_CMD_LOADING | AP_CMD_STALE)

static const struct ap_cmd command_subcmds[] = {
	{.name = "count", .arity = 2, .flags = COMMAND_SUB,
	 .fn = cmd_command_count, .group = "server",
	 .summary = "Returns a count of commands.", .since = "2.8.13",
	 .complexity = "O(1)", .acl_categories = "@slow @connection"},
	{.name = "docs", .arity = -2, .flags = COMMAND_SUB,
	 .fn = cmd_command_docs, .group = "server",
	 .summary = "Returns documentary information about one, multiple or "
		    "all commands.",
	 .since = "7.0.0",
	 .complexity = "O(N) where N is the number of commands to look up",
	 .acl_categories = "@slow @connection"},
	{.name = "getkeys", .arity = -3, .flags = COMMAND_SUB,
	 .fn = cmd_command_getkeys, .group = "server",
	 .summary = "Extracts the key names from an arbitrary command.",
	 .since = "2.8.13",
	 .complexity = "O(N) where N is the number of arguments to the "
		       "command",
	 .acl_categories = "@slow @connection"},
	{.name = "info", .arity = -2, .flags = COMMAND_SUB,
	 .fn = cmd_command_info, .group = "server",
	 .summary = "Returns information about one, multiple or all "
		    "commands.",
	 .since = "2.8.13",
	 .complexity = "O(N) where N is the number of commands to look up",
	 .acl_categories = "@slow @connection"},
	{.name = "list", .arity = -2, .flags = COMMAND_SUB,
	 .fn = cmd_command_list, .group = "server",
	 .summary = "Returns a list of command names.", .since = "7.0.0",
	 .complexity = "O(N) where N is the total number of Redis commands",
	 .acl_categories = "@slow @connection"},
	{.name = "help", .arity = 2, .flags = COMMAND_SUB,
	 .fn = cmd_command_help, .group = "server",
	 .summary = "Returns helpful text about the different subcommands.",
	 .since = "5.0.0", .complexity = "O(1)",
	 .acl_categories = "@slow @connection"},
	{.name = NULL},
};

const struct ap_cmd ap_cmds_introspect[] = {
	{.name = "info", .arity = -1,
	 .flags = SRV | AP_CMD_LOADING | AP_CMD_STALE, .fn = cmd_info,
	 .group = "server",
	 .summary = "Returns information and statistics about the server.",
	 .since = "1.0.0", .complexity = "O(1)",
	 .acl_categories = "@slow @dangerous"},
	{.name = "client", .arity = -2, .flags = SRV, .group = "connection",
	 .summary = "A container for client connection commands.",
	 .since = "2.4.0", .complexity = "Depends on subcommand.",
	 .acl_categories = "@slow", .subcmds = client_subcmds},
	{.name = "config", .arity = -2, .flags = SRV, .group = "server",
	 .summary = "A container for server configuration commands.",
	 .since = "2.0.0", .complexity = "Depends on subcommand.",
	 .acl_categories = "@slow", .subcmds = config_subcmds},
	/* A bare COMMAND runs the container's fn; a word after it names a
	 * subcommand. */
	{.name = "command", .arity = -1, .flags = COMMAND_SUB,
	 .fn = cmd_command, .group = "server",
	 .summary = "Returns detailed information about all commands.",
	 .since = "2.8.13",
	 .complexity = "O(N) where N is the total number of Redis commands",
	 .acl_categories = "@slow @connection", .subcmds = command_subcmds},
	{.name = NULL},
};
/* clang-format on */
