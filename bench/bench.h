/*
 * bench.h - apiary-bench, the load generator and latency-tuning suite.
 *
 * Everything that can be tested without a server lives in the ap_bench
 * library and is declared here: the latency histogram, the random and
 * key generators, the workload (commands, ratios, keys, values, request
 * encoding), option parsing, and the result reports (table, JSON, HTML).
 * The load loop (io_uring, or epoll where io_uring cannot be set up) and
 * main() are in runner*.c and main.c.
 *
 * Units: latencies are nanoseconds everywhere inside; reports print
 * milliseconds (the table, like memtier_benchmark) or microseconds (JSON).
 *
 * Threading: a histogram, workload connection state or RNG belongs to one
 * thread. A struct ap_bench_wl is built once before threads start and is
 * read-only afterwards, shared by all of them.
 */
#ifndef AP_BENCH_BENCH_H
#define AP_BENCH_BENCH_H

#include "core/base.h"
#include "core/limits.h"
#include "net/client.h"

#include <stdio.h>

#define AP_BENCH_VERSION "0.1.0"

/* ------------------------------------------------------------ histogram */

/*
 * Log-linear buckets in the manner of HdrHistogram: values below 2^SUB_BITS
 * are counted exactly; above, each power of two is split into 2^(SUB_BITS-1)
 * equal sub-buckets, so a bucket's width is at most 1/1024 of its lowest
 * value (better than three significant digits). Values up to
 * AP_BENCH_HIST_VALUE_MAX (about 2.4 hours in ns) are tracked; larger ones
 * are counted in the top bucket and in `overflow`. min, max and sum are
 * exact. Two histograms merge by adding counts.
 */
#define AP_BENCH_HIST_SUB_BITS 11
#define AP_BENCH_HIST_MAX_BITS 43
#define AP_BENCH_HIST_HALF     (1u << (AP_BENCH_HIST_SUB_BITS - 1))
#define AP_BENCH_HIST_BUCKETS                                \
	((1u << AP_BENCH_HIST_SUB_BITS) +                    \
	 (AP_BENCH_HIST_MAX_BITS - AP_BENCH_HIST_SUB_BITS) * \
		 AP_BENCH_HIST_HALF)
#define AP_BENCH_HIST_VALUE_MAX ((1ULL << AP_BENCH_HIST_MAX_BITS) - 1)
/* Largest relative width of a bucket: 1 / AP_BENCH_HIST_HALF. */

struct ap_bench_hist {
	uint64_t count;
	uint64_t min, max; /* exact; min is UINT64_MAX while empty */
	uint64_t sum;	   /* exact (saturating) */
	uint64_t overflow; /* values above AP_BENCH_HIST_VALUE_MAX */
	uint64_t *counts;  /* AP_BENCH_HIST_BUCKETS */
};

void ap_bench_hist_init(struct ap_bench_hist *h);
void ap_bench_hist_deinit(struct ap_bench_hist *h);
void ap_bench_hist_reset(struct ap_bench_hist *h);
/* Bucket index of a value (values above the maximum map to the top). */
static inline size_t ap_bench_hist_index(uint64_t v)
{
	if (v > AP_BENCH_HIST_VALUE_MAX)
		v = AP_BENCH_HIST_VALUE_MAX;
	if (v < (1u << AP_BENCH_HIST_SUB_BITS))
		return (size_t)v;
	unsigned shift = (unsigned)(63 - __builtin_clzll(v)) -
			 (AP_BENCH_HIST_SUB_BITS - 1);

	return (1u << AP_BENCH_HIST_SUB_BITS) +
	       (shift - 1) * AP_BENCH_HIST_HALF +
	       (size_t)((v >> shift) - AP_BENCH_HIST_HALF);
}
/* Smallest and largest value counted in bucket idx. */
uint64_t ap_bench_hist_lowest(size_t idx);
uint64_t ap_bench_hist_highest(size_t idx);
/* Adds src into dst. */
void ap_bench_hist_merge(struct ap_bench_hist *dst,
			 const struct ap_bench_hist *src);
/* The value at percentile pct (0..100): the highest value of the bucket
 * holding the ceil(pct% * count)-th smallest sample, clamped to [min, max];
 * 0 for an empty histogram, min at 0, max at 100. */
uint64_t ap_bench_hist_percentile(const struct ap_bench_hist *h, double pct);
double ap_bench_hist_mean(const struct ap_bench_hist *h);

/* Records one value: the hot path, inline. */
static inline void ap_bench_hist_record(struct ap_bench_hist *h, uint64_t v)
{
	h->counts[ap_bench_hist_index(v)]++;
	h->count++;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->sum = h->sum + v < h->sum ? UINT64_MAX : h->sum + v;
	if (v > AP_BENCH_HIST_VALUE_MAX)
		h->overflow++;
}

/* ------------------------------------------------------- random numbers */

/* splitmix64: one 64-bit word of state, passes BigCrush, a few ns. */
struct ap_bench_rng {
	uint64_t s;
};

static inline uint64_t ap_bench_rng_next(struct ap_bench_rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0), by multiply-shift (bias below 2^-64 * n). */
static inline uint64_t ap_bench_rng_below(struct ap_bench_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)ap_bench_rng_next(r) * n) >> 64);
}

/* Uniform in [0, 1). */
static inline double ap_bench_rng_double(struct ap_bench_rng *r)
{
	return (double)(ap_bench_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal deviate (Box-Muller). */
double ap_bench_rng_gauss(struct ap_bench_rng *r);

/*
 * Zipf over ranks 1..n with P(k) proportional to k^-s (s > 0), sampled by
 * rejection-inversion (Hoermann and Derflinger, "Rejection-inversion to
 * generate variates from monotone discrete distributions", 1996): O(1)
 * per sample and no table, for any n.
 */
struct ap_bench_zipf {
	uint64_t n;
	double s;
	double h_lo, h_hi; /* the sampled interval of the hat's integral */
	double squeeze;	   /* quick acceptance bound */
};

void ap_bench_zipf_init(struct ap_bench_zipf *z, uint64_t n, double s);
uint64_t ap_bench_zipf_next(const struct ap_bench_zipf *z,
			    struct ap_bench_rng *r);

/* ------------------------------------------------------------- workload */

enum ap_bench_proto {
	AP_BENCH_PROTO_RESP2 = 0,
	AP_BENCH_PROTO_RESP3 = 1,   /* HELLO 3 at connect */
	AP_BENCH_PROTO_MC_BIN = 2,  /* memcached binary */
	AP_BENCH_PROTO_MC_TEXT = 3, /* memcached text (ASCII) */
};

/* True for both memcached protocols (SET and GET only, no --command). */
static inline bool ap_bench_proto_is_mc(enum ap_bench_proto p)
{
	return p == AP_BENCH_PROTO_MC_BIN || p == AP_BENCH_PROTO_MC_TEXT;
}

/* How the load threads do I/O (--io). */
enum ap_bench_io {
	AP_BENCH_IO_AUTO = 0,  /* io_uring, epoll if it cannot be set up */
	AP_BENCH_IO_URING = 1, /* io_uring or fail */
	AP_BENCH_IO_EPOLL = 2, /* epoll, edge-triggered */
};

/* Key patterns, by memtier_benchmark's letters. */
enum ap_bench_keypat {
	AP_BENCH_KEY_RANDOM = 'R',   /* uniform over the range */
	AP_BENCH_KEY_SEQ = 'S',	     /* sequential, wrapping */
	AP_BENCH_KEY_GAUSS = 'G',    /* normal around --key-median */
	AP_BENCH_KEY_ZIPF = 'Z',     /* zipf, hottest key = --key-minimum */
	AP_BENCH_KEY_PARALLEL = 'P', /* each connection walks its own part */
};

enum ap_bench_arg_kind {
	AP_BENCH_ARG_LIT = 0,
	AP_BENCH_ARG_KEY = 1,	 /* __key__ */
	AP_BENCH_ARG_DATA = 2,	 /* __data__ */
	AP_BENCH_ARG_EXPIRY = 3, /* __expiry__ (seconds) */
};

struct ap_bench_arg {
	enum ap_bench_arg_kind kind;
	char *enc; /* LIT: the argument pre-encoded as a bulk string */
	size_t enc_len;
};

struct ap_bench_cmd {
	char name[40]; /* statistics label: "SET", "GET", first word */
	int argc;
	struct ap_bench_arg args[AP_BENCH_CMD_ARGS_MAX];
	char head[24]; /* "*argc\r\n" */
	size_t head_len;
	unsigned weight;
	enum ap_bench_keypat keypat;
	uint8_t mc_opcode; /* memcached (both): AP_CLIENT_MC_GET or _SET */
	bool has_key, has_data;
	size_t req_max; /* longest request this command can produce */
};

struct ap_bench_wl {
	enum ap_bench_proto proto;
	int cmd_count;
	struct ap_bench_cmd cmds[AP_BENCH_CMDS_MAX];
	uint8_t *sched; /* command order: smooth weighted round robin */
	unsigned sched_len;
	uint64_t key_min, key_max; /* inclusive */
	uint64_t key_range;	   /* key_max - key_min + 1, at least 1 */
	char key_prefix[128];
	size_t key_prefix_len;
	double key_median, key_stddev;
	struct ap_bench_zipf zipf;
	size_t data_min, data_max; /* value sizes, uniform in range */
	int size_list_count;	   /* --data-size-list: weighted sizes */
	size_t size_list[AP_BENCH_CMDS_MAX];
	uint64_t size_cum[AP_BENCH_CMDS_MAX];
	char *data; /* data_max bytes of value content */
	unsigned expiry_min, expiry_max;
	size_t req_max; /* longest request of any command */
};

/* A connection's position in the workload. */
struct ap_bench_wl_conn {
	unsigned sched_pos;
	uint64_t cursor[AP_BENCH_CMDS_MAX]; /* S and P: next key offset */
	uint64_t part_lo, part_len;	    /* P: this connection's keys */
	struct ap_bench_rng rng;
};

struct ap_bench_opts;

/* Builds the workload the options describe. Returns 0, or -EINVAL with a
 * message in err (unknown placeholder, bad command, key too long ...). */
AP_MUST_CHECK int ap_bench_wl_build(struct ap_bench_wl *wl,
				    const struct ap_bench_opts *o, char *err,
				    size_t err_size);
/* Builds the prefill workload: SET of every key of the range once, the
 * range split between connections (pattern P), no expiry. */
AP_MUST_CHECK int ap_bench_wl_build_prefill(struct ap_bench_wl *wl,
					    const struct ap_bench_opts *o,
					    char *err, size_t err_size);
void ap_bench_wl_destroy(struct ap_bench_wl *wl);
/* Adds a command from its text ("SET __key__ __data__", quotes allowed)
 * with a weight and key pattern. Used by ap_bench_wl_build(). */
AP_MUST_CHECK int ap_bench_wl_add_cmd(struct ap_bench_wl *wl, const char *text,
				      unsigned weight,
				      enum ap_bench_keypat keypat, char *err,
				      size_t err_size);
/* Computes the schedule and sizes once every command is added. */
AP_MUST_CHECK int ap_bench_wl_finish(struct ap_bench_wl *wl, char *err,
				     size_t err_size);

/* Sets up connection number idx of total (over all threads). */
void ap_bench_wl_conn_init(const struct ap_bench_wl *wl,
			   struct ap_bench_wl_conn *wc, unsigned idx,
			   unsigned total, uint64_t seed);
/* The next key (an integer in [key_min, key_max]) for command cmd. */
uint64_t ap_bench_wl_key_next(const struct ap_bench_wl *wl,
			      struct ap_bench_wl_conn *wc, int cmd);
/* The next value size. */
size_t ap_bench_wl_size_next(const struct ap_bench_wl *wl,
			     struct ap_bench_wl_conn *wc);
/* Writes the connection's next request into buf (which holds wl->req_max
 * bytes); returns its length and the command index in *cmd. The same as
 * ap_bench_wl_draw() then ap_bench_wl_encode(). */
size_t ap_bench_wl_next(const struct ap_bench_wl *wl,
			struct ap_bench_wl_conn *wc, char *buf, int *cmd);

/* One request as drawn from the workload, before it is encoded: enough to
 * encode it again (a request redirected by MOVED or ASK is re-sent with
 * the same command, key and value size). */
struct ap_bench_draw {
	int cmd;      /* workload command index */
	uint64_t key; /* key number (0 when the command has no key) */
	size_t dsize; /* value size (0 when the command has no value) */
};

/* Draws the connection's next command, key and value size. */
void ap_bench_wl_draw(const struct ap_bench_wl *wl, struct ap_bench_wl_conn *wc,
		      struct ap_bench_draw *d);
/* Encodes a drawn request into buf (wl->req_max bytes); an expiry, if the
 * command has one, is drawn here from wc. Returns the length. */
size_t ap_bench_wl_encode(const struct ap_bench_wl *wl,
			  struct ap_bench_wl_conn *wc,
			  const struct ap_bench_draw *d, char *buf);
/* The Redis Cluster hash slot of key number `key` (prefix + digits,
 * {hashtag} honoured). */
unsigned ap_bench_wl_key_slot(const struct ap_bench_wl *wl, uint64_t key);

/* ------------------------------------------------- memcached text replies */

/*
 * A resumable parser of memcached text-protocol replies, as the incremental
 * RESP parser in net/client.h: any split of the input, no reference kept
 * to it, one top-level reply at a time into a struct ap_client_reply
 * (type AP_BENCH_MCT_TYPE). A reply is one line (STORED, NOT_STORED,
 * EXISTS, NOT_FOUND, DELETED, TOUCHED, OK, VERSION ..., a number, ERROR,
 * CLIENT_ERROR ..., SERVER_ERROR ...) or any number of VALUE blocks closed
 * by END. Flags of the reply:
 *   is_error  ERROR, CLIENT_ERROR, SERVER_ERROR (text: the line)
 *   is_null   END without VALUE (a GET miss), NOT_STORED, NOT_FOUND,
 *             EXISTS (the command did not apply: counted as a miss)
 *   value     VALUE blocks of a GET, the number of an INCR/DECR reply
 *   text      the first AP_CLIENT_TEXT_KEEP bytes of a one-line reply
 * Bounds: a line is at most AP_CLIENT_LINE_MAX bytes, a VALUE line at most
 * AP_BENCH_MCT_LINE_KEEP; value lengths are skipped, never allocated.
 * Lines end in CRLF; anything else is a protocol error.
 */
#define AP_BENCH_MCT_TYPE      'T'
#define AP_BENCH_MCT_LINE_KEEP 512

struct ap_bench_mct_parser {
	int state;	 /* private: line, value data or its CRLF */
	size_t line_len; /* bytes of the current line seen so far */
	bool line_cr;	 /* the last byte of the line seen was '\r' */
	char line[AP_BENCH_MCT_LINE_KEEP];
	uint64_t data_left; /* value bytes still to skip */
	long long values;   /* VALUE blocks in the current reply */
	uint64_t wire_len;  /* bytes of the current reply so far */
	char text[AP_CLIENT_TEXT_KEEP];
	size_t text_len;
	const char *err; /* protocol error message, static */
};

void ap_bench_mct_parser_init(struct ap_bench_mct_parser *p);
/* Parses buf[0..len) until one reply completes or the input is used up;
 * the same contract and return values as ap_client_parse(). */
AP_MUST_CHECK int ap_bench_mct_parse(struct ap_bench_mct_parser *p,
				     const char *buf, size_t len,
				     size_t *consumed,
				     struct ap_client_reply *out);

/* ------------------------------------------------------ cluster slot map */

/*
 * The bench's view of a Redis Cluster: which node serves each of the 16384
 * slots, learnt from CLUSTER SLOTS at start and corrected by MOVED replies
 * during the run (each load thread keeps its own copy). Nodes are
 * host:port pairs, numbered in the order they were learnt; at most
 * AP_BENCH_NODES_MAX. A host the server leaves empty, NULL or "?" (it does
 * not know its own address) is the host of the node that answered.
 */
#define AP_BENCH_SLOT_NONE 0xFFFFu

struct ap_bench_node {
	char host[64];
	int port;
};

struct ap_bench_slots {
	uint16_t owner[AP_SLOTS]; /* node index or AP_BENCH_SLOT_NONE */
	int node_count;
	struct ap_bench_node nodes[AP_BENCH_NODES_MAX];
};

/* Empty map: no node, no slot served. */
void ap_bench_slots_init(struct ap_bench_slots *m);
/* The index of node host:port, added if new. Returns it, or -ENOSPC when
 * AP_BENCH_NODES_MAX are known, -EINVAL for a host too long. */
int ap_bench_slots_node(struct ap_bench_slots *m, const char *host, int port);
/* Fills the map from a decoded CLUSTER SLOTS reply; from_host replaces
 * unknown hosts. Returns 0, or -EINVAL with a message in err (not an
 * array, a bad range, no slot at all, too many nodes ...). */
AP_MUST_CHECK int ap_bench_slots_load(struct ap_bench_slots *m,
				      const struct ap_client_value *v,
				      const char *from_host, char *err,
				      size_t err_size);
/* The node a redirect names (added if new); a MOVED also makes it the
 * slot's owner, an ASK does not. from_host replaces an unknown host.
 * Returns the node index or a negative errno as ap_bench_slots_node. */
int ap_bench_slots_redirect(struct ap_bench_slots *m,
			    const struct ap_client_redirect *rd,
			    const char *from_host);

/* -------------------------------------------------------------- options */

struct ap_bench_opts {
	char server[256];
	int port;
	int threads;
	int clients; /* per thread */
	int pipeline;
	bool pipeline_batch; /* refill only once the whole batch is answered */
	double test_time;    /* seconds; 0: run -n requests */
	uint64_t requests;   /* per client */
	unsigned ratio_set, ratio_get;
	uint64_t key_min, key_max;
	char key_prefix[128];
	char keypat_set, keypat_get;
	double key_median, key_stddev; /* < 0: default */
	double zipf_exp;
	size_t data_size;
	size_t data_min, data_max; /* --data-size-range, 0 if unset */
	int size_list_count;
	size_t size_list[AP_BENCH_CMDS_MAX];
	unsigned size_weight[AP_BENCH_CMDS_MAX];
	unsigned expiry_min, expiry_max;
	enum ap_bench_proto proto;
	const char *json_out;
	const char *html_out;
	bool compare;
	const char *const *compare_files;
	int compare_count;
	double rate; /* total requests per second; 0 = closed loop */
	int cpus[AP_BENCH_THREADS_MAX];
	int cpu_count;
	double warmup; /* seconds */
	bool prefill;
	int cmd_count;
	const char *cmd_text[AP_BENCH_CMDS_MAX];
	unsigned cmd_weight[AP_BENCH_CMDS_MAX];
	char cmd_keypat[AP_BENCH_CMDS_MAX];
	int server_pid;
	char label[128];
	const char *auth;
	int db;
	uint64_t seed;
	bool quiet;
	bool no_multishot;   /* one-shot receives (for comparison runs) */
	enum ap_bench_io io; /* --io */
	bool cluster;	     /* --cluster-mode */
	unsigned spin_us; /* open loop: poll, not sleep, this close to a send */
	char cmdline[1024];
};

/* Fills defaults, then parses argv. Returns 0 to run, 1 when --help or
 * --version was printed to out, -EINVAL with a message in err. */
AP_MUST_CHECK int ap_bench_opts_parse(struct ap_bench_opts *o, int argc,
				      char **argv, FILE *out, char *err,
				      size_t err_size);
/* Parses a CPU list ("0,2-3") into cpus; returns the count or -EINVAL. */
int ap_bench_cpus_parse(const char *s, int *cpus, int max);

/* -------------------------------------------------------------- results */

/* Counters of one command type. */
struct ap_bench_cmd_stats {
	struct ap_bench_hist hist; /* latency of every completed request */
	uint64_t ops;		   /* completed within the window */
	uint64_t errors, misses, moved, ask;
	uint64_t bytes_out, bytes_in;
};

void ap_bench_cmd_stats_init(struct ap_bench_cmd_stats *s);
void ap_bench_cmd_stats_deinit(struct ap_bench_cmd_stats *s);
void ap_bench_cmd_stats_reset(struct ap_bench_cmd_stats *s);
void ap_bench_cmd_stats_merge(struct ap_bench_cmd_stats *dst,
			      const struct ap_bench_cmd_stats *src);

/* One second of the run, as the progress line printed it. */
struct ap_bench_tick {
	double t; /* seconds since the measured window began, end of tick */
	uint64_t ops, errors;
	uint64_t p50, p99, p999, max; /* ns */
};

struct ap_bench_result {
	const struct ap_bench_opts *opts;
	const struct ap_bench_wl *wl;
	struct ap_bench_cmd_stats cmds[AP_BENCH_CMDS_MAX];
	struct ap_bench_cmd_stats total;
	/* Open loop: how late the bench made requests due (its own lag,
	 * not the server's); empty in closed loop. */
	struct ap_bench_hist sched_lag;
	double duration_s;    /* the measured window */
	uint64_t incomplete;  /* requests never answered */
	uint64_t recv_nobufs; /* receives that found no provided buffer */
	uint64_t conn_errors;
	double bench_user_s, bench_sys_s; /* this process over the window */
	double idle_poll_s; /* of which polling with nothing to do */
	double thread_cpu_s[AP_BENCH_THREADS_MAX];
	int thread_count;
	double server_cpu_s; /* < 0: unknown */
	char server_version[64];
	char io_desc[256]; /* how the I/O was set up */
	int cluster_nodes; /* cluster mode: nodes known at the end; else 0 */
	struct ap_bench_tick *ticks;
	size_t tick_count, tick_cap;
	double prefill_s;
	uint64_t prefill_keys;
};

void ap_bench_result_init(struct ap_bench_result *r,
			  const struct ap_bench_opts *o,
			  const struct ap_bench_wl *wl);
void ap_bench_result_deinit(struct ap_bench_result *r);
void ap_bench_result_add_tick(struct ap_bench_result *r,
			      const struct ap_bench_tick *t);
/* Completed requests per second over the window. */
double ap_bench_result_ops_per_sec(const struct ap_bench_result *r);

/* A growable string. */
struct ap_bench_sb {
	char *buf;
	size_t len, cap;
};
void ap_bench_sb_printf(struct ap_bench_sb *sb, const char *fmt, ...)
	AP_PRINTF(2, 3);
void ap_bench_sb_append(struct ap_bench_sb *sb, const char *s, size_t len);
void ap_bench_sb_free(struct ap_bench_sb *sb);

/* The final summary table (latencies in ms, as memtier_benchmark). */
void ap_bench_report_table(FILE *f, const struct ap_bench_result *r);
/* The result as a JSON document into sb. */
void ap_bench_report_json(struct ap_bench_sb *sb,
			  const struct ap_bench_result *r);
/* Writes a self-contained HTML page plotting the given JSON results
 * (latency by percentile, throughput over time, a summary table); names
 * label them when a result has no label of its own. Returns 0 or -errno
 * with a message in err. */
AP_MUST_CHECK int ap_bench_report_html(const char *path,
				       const char *const *jsons,
				       const char *const *names, int count,
				       char *err, size_t err_size);
/* Reads a whole file (a JSON result) into a NUL-terminated buffer. */
char *ap_bench_file_read(const char *path, size_t *len, char *err,
			 size_t err_size);

#endif
