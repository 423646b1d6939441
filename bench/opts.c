/*
 * opts.c - apiary-bench's command line. Flags follow memtier_benchmark's
 * names where the concept is the same, so habits and scripts carry over;
 * new ideas have new names (--rate, --html, --compare, --cpus, --warmup,
 * --prefill, --server-pid). Every value is checked against its bound in
 * core/limits.h before anything runs.
 */
#include "bench/bench.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_TEST_TIME = 1000,
	OPT_RATIO,
	OPT_PIPELINE,
	OPT_KEY_MIN,
	OPT_KEY_MAX,
	OPT_KEY_PREFIX,
	OPT_KEY_PATTERN,
	OPT_KEY_STDDEV,
	OPT_KEY_MEDIAN,
	OPT_KEY_ZIPF_EXP,
	OPT_DATA_SIZE_RANGE,
	OPT_DATA_SIZE_LIST,
	OPT_EXPIRY_RANGE,
	OPT_JSON_OUT,
	OPT_HTML,
	OPT_COMPARE,
	OPT_RATE,
	OPT_CPUS,
	OPT_WARMUP,
	OPT_PREFILL,
	OPT_COMMAND,
	OPT_COMMAND_RATIO,
	OPT_COMMAND_KEY_PATTERN,
	OPT_SERVER_PID,
	OPT_LABEL,
	OPT_SELECT_DB,
	OPT_SEED,
	OPT_NO_MULTISHOT,
	OPT_SPIN_US,
	OPT_PIPELINE_BATCH,
	OPT_IO,
	OPT_CLUSTER_MODE,
};

static const struct option long_opts[] = {
	{"server", required_argument, NULL, 's'},
	{"port", required_argument, NULL, 'p'},
	{"threads", required_argument, NULL, 't'},
	{"clients", required_argument, NULL, 'c'},
	{"requests", required_argument, NULL, 'n'},
	{"data-size", required_argument, NULL, 'd'},
	{"protocol", required_argument, NULL, 'P'},
	{"authenticate", required_argument, NULL, 'a'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'v'},
	{"test-time", required_argument, NULL, OPT_TEST_TIME},
	{"ratio", required_argument, NULL, OPT_RATIO},
	{"pipeline", required_argument, NULL, OPT_PIPELINE},
	{"key-minimum", required_argument, NULL, OPT_KEY_MIN},
	{"key-maximum", required_argument, NULL, OPT_KEY_MAX},
	{"key-prefix", required_argument, NULL, OPT_KEY_PREFIX},
	{"key-pattern", required_argument, NULL, OPT_KEY_PATTERN},
	{"key-stddev", required_argument, NULL, OPT_KEY_STDDEV},
	{"key-median", required_argument, NULL, OPT_KEY_MEDIAN},
	{"key-zipf-exp", required_argument, NULL, OPT_KEY_ZIPF_EXP},
	{"data-size-range", required_argument, NULL, OPT_DATA_SIZE_RANGE},
	{"data-size-list", required_argument, NULL, OPT_DATA_SIZE_LIST},
	{"expiry-range", required_argument, NULL, OPT_EXPIRY_RANGE},
	{"json-out-file", required_argument, NULL, OPT_JSON_OUT},
	{"html", required_argument, NULL, OPT_HTML},
	{"compare", no_argument, NULL, OPT_COMPARE},
	{"rate", required_argument, NULL, OPT_RATE},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"warmup", required_argument, NULL, OPT_WARMUP},
	{"prefill", no_argument, NULL, OPT_PREFILL},
	{"command", required_argument, NULL, OPT_COMMAND},
	{"command-ratio", required_argument, NULL, OPT_COMMAND_RATIO},
	{"command-key-pattern", required_argument, NULL,
	 OPT_COMMAND_KEY_PATTERN},
	{"server-pid", required_argument, NULL, OPT_SERVER_PID},
	{"label", required_argument, NULL, OPT_LABEL},
	{"select-db", required_argument, NULL, OPT_SELECT_DB},
	{"seed", required_argument, NULL, OPT_SEED},
	{"no-multishot", no_argument, NULL, OPT_NO_MULTISHOT},
	{"spin-us", required_argument, NULL, OPT_SPIN_US},
	{"pipeline-batch", no_argument, NULL, OPT_PIPELINE_BATCH},
	{"io", required_argument, NULL, OPT_IO},
	{"cluster-mode", no_argument, NULL, OPT_CLUSTER_MODE},
	{NULL, 0, NULL, 0},
};

static const char usage_text[] =
	"Usage: apiary-bench [options]\n"
	"       apiary-bench --html OUT.html --compare A.json B.json ...\n"
	"Connection:\n"
	"  -s, --server HOST        server address (127.0.0.1)\n"
	"  -p, --port PORT          server port (6379)\n"
	"  -P, --protocol P         redis|resp2|resp3|memcache_text|\n"
	"                           memcache_binary (redis)\n"
	"  -a, --authenticate PASS  AUTH first (\"user:pass\" for ACL users)\n"
	"      --select-db N        SELECT N first\n"
	"      --cluster-mode       Redis Cluster: map slots with CLUSTER\n"
	"                           SLOTS, connect to every primary, route\n"
	"                           each request by its key's slot, follow\n"
	"                           MOVED (and remap) and ASK (ASKING first)\n"
	"Load:\n"
	"  -t, --threads N          threads, one io_uring ring each (1)\n"
	"  -c, --clients N          connections per thread (50)\n"
	"      --pipeline N         requests in flight per connection (1)\n"
	"      --pipeline-batch     send the next N only when all N are\n"
	"                           answered (redis-benchmark's way); the\n"
	"                           default refills as replies arrive\n"
	"  -n, --requests N         requests per connection (10000)\n"
	"      --test-time SECS     run for SECS instead of -n\n"
	"      --rate R             open loop: R requests/s in total; latency\n"
	"                           counts from the intended send time\n"
	"      --warmup SECS        load before measuring (not recorded)\n"
	"      --prefill            SET every key of the range once first\n"
	"      --cpus LIST          pin thread i to the i-th CPU (\"0,2-3\")\n"
	"      --spin-us N          open loop: poll instead of sleeping when\n"
	"                           the next send is under N us away (50)\n"
	"Workload:\n"
	"      --ratio SET:GET      SET to GET ratio (1:10)\n"
	"      --command \"CMD ...\"  any command; __key__, __data__ and\n"
	"                           __expiry__ are replaced (repeatable)\n"
	"      --command-ratio N    weight of the last --command (1)\n"
	"      --command-key-pattern R|S|G|Z|P  its key pattern (R)\n"
	"      --key-prefix S       key prefix (memtier-)\n"
	"      --key-minimum N      smallest key number (0)\n"
	"      --key-maximum N      largest key number (10000000)\n"
	"      --key-pattern S:G    SET:GET key patterns (R:R): R uniform,\n"
	"                           S sequential, G gaussian, Z zipf,\n"
	"                           P parallel (each connection its own part)\n"
	"      --key-median N       gaussian center (middle of the range)\n"
	"      --key-stddev N       gaussian deviation (range / 6)\n"
	"      --key-zipf-exp E     zipf exponent, > 0 (0.99)\n"
	"  -d, --data-size N        value size in bytes (32)\n"
	"      --data-size-range A-B  value sizes uniform in [A, B]\n"
	"      --data-size-list S:W,...  value sizes with weights\n"
	"      --expiry-range A-B   SET with EX uniform in [A, B] seconds\n"
	"Output:\n"
	"      --json-out-file FILE write the result as JSON\n"
	"      --html FILE          write a self-contained page with plots\n"
	"      --compare            plot the JSON files given as arguments\n"
	"      --label NAME         name of this run in plots\n"
	"      --server-pid PID     report the server's CPU time (/proc)\n"
	"  -q, --quiet              no progress lines\n"
	"      --seed N             random seed (the same seed repeats a run)\n"
	"      --no-multishot       one-shot receives (for comparisons)\n"
	"      --io auto|uring|epoll  load-thread I/O: io_uring, or epoll\n"
	"                           where io_uring cannot be set up (auto)\n"
	"  -h, --help, -v, --version\n";

/* Formats an error message. */
static int opt_fail(char *err, size_t err_size, const char *fmt, ...)
	AP_PRINTF(3, 4);

static int opt_fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Strict unsigned decimal in [lo, hi]. */
static bool get_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Strict int in [lo, hi]. */
static bool get_int(const char *s, int lo, int hi, int *out)
{
	uint64_t v;

	if (!get_u64(s, (uint64_t)lo, (uint64_t)hi, &v))
		return false;
	*out = (int)v;
	return true;
}

/* Strict finite double in [lo, hi]. */
static bool get_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo ||
	    v > hi)
		return false;
	*out = v;
	return true;
}

/* "A<sep>B" into two unsigned numbers within [lo, hi]. */
static bool get_pair(const char *s, char sep, uint64_t lo, uint64_t hi,
		     uint64_t *a, uint64_t *b)
{
	const char *m = strchr(s, sep);
	char first[32];

	if (m == NULL || (size_t)(m - s) >= sizeof(first))
		return false;
	memcpy(first, s, (size_t)(m - s));
	first[m - s] = '\0';
	return get_u64(first, lo, hi, a) && get_u64(m + 1, lo, hi, b);
}

/* Parses "0,2-3" into CPU numbers. */
int ap_bench_cpus_parse(const char *s, int *cpus, int max)
{
	int n = 0;
	const char *p = s;

	while (*p != '\0') {
		char item[32];
		size_t len = strcspn(p, ",");
		uint64_t a, b;

		if (len == 0 || len >= sizeof(item))
			return -EINVAL;
		memcpy(item, p, len);
		item[len] = '\0';
		if (strchr(item, '-')) {
			if (!get_pair(item, '-', 0, 4095, &a, &b) || a > b)
				return -EINVAL;
		} else if (!get_u64(item, 0, 4095, &a)) {
			return -EINVAL;
		} else {
			b = a;
		}
		for (uint64_t c = a; c <= b; c++) {
			if (n == max)
				return -EINVAL;
			cpus[n++] = (int)c;
		}
		p += len;
		if (*p == ',' && *++p == '\0')
			return -EINVAL;
	}
	return n > 0 ? n : -EINVAL;
}

/* One key pattern letter. */
static bool get_keypat(const char *s, char *out)
{
	if (strlen(s) != 1 || strchr("RSGZP", s[0]) == NULL)
		return false;
	*out = s[0];
	return true;
}

/* "SIZE:WEIGHT,..." */
static int get_size_list(struct ap_bench_opts *o, const char *s)
{
	const char *p = s;

	o->size_list_count = 0;
	while (*p != '\0') {
		char item[64];
		size_t len = strcspn(p, ",");
		uint64_t size, weight;

		if (len == 0 || len >= sizeof(item) ||
		    o->size_list_count == AP_BENCH_CMDS_MAX)
			return -EINVAL;
		memcpy(item, p, len);
		item[len] = '\0';
		if (!get_pair(item, ':', 0, AP_BENCH_DATA_SIZE_MAX, &size,
			      &weight) ||
		    weight == 0 || weight > AP_BENCH_WEIGHT_SUM_MAX)
			return -EINVAL;
		o->size_list[o->size_list_count] = size;
		o->size_weight[o->size_list_count++] = (unsigned)weight;
		p += len;
		if (*p == ',' && *++p == '\0')
			return -EINVAL;
	}
	return o->size_list_count > 0 ? 0 : -EINVAL;
}

/* The defaults: memtier_benchmark's where they carry over. */
static void opts_defaults(struct ap_bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->server, sizeof(o->server), "127.0.0.1");
	o->port = 6379;
	o->threads = 1;
	o->clients = 50;
	o->pipeline = 1;
	o->requests = 10000;
	o->ratio_set = 1;
	o->ratio_get = 10;
	o->key_min = 0;
	o->key_max = 10000000;
	snprintf(o->key_prefix, sizeof(o->key_prefix), "memtier-");
	o->keypat_set = o->keypat_get = 'R';
	o->key_median = -1;
	o->key_stddev = -1;
	o->zipf_exp = 0.99;
	o->data_size = 32;
	o->proto = AP_BENCH_PROTO_RESP2;
	o->server_pid = -1;
	o->seed = 0x5EEDBEEFULL;
	o->spin_us = 50;
}

/* Applies a protocol name. */
static int set_protocol(struct ap_bench_opts *o, const char *s, char *err,
			size_t err_size)
{
	if (strcmp(s, "redis") == 0 || strcmp(s, "resp2") == 0)
		o->proto = AP_BENCH_PROTO_RESP2;
	else if (strcmp(s, "resp3") == 0)
		o->proto = AP_BENCH_PROTO_RESP3;
	else if (strcmp(s, "memcache_binary") == 0)
		o->proto = AP_BENCH_PROTO_MC_BIN;
	else if (strcmp(s, "memcache_text") == 0)
		o->proto = AP_BENCH_PROTO_MC_TEXT;
	else
		return opt_fail(err, err_size, "unknown --protocol '%s'", s);
	return 0;
}

/* Handles the options about the command mix. Returns 1 if not one of
 * them, 0 or -EINVAL otherwise. */
static int opt_workload(struct ap_bench_opts *o, int c, const char *arg,
			char *err, size_t err_size)
{
	uint64_t a, b;

	switch (c) {
	case OPT_RATIO:
		if (!get_pair(arg, ':', 0, AP_BENCH_WEIGHT_SUM_MAX, &a, &b) ||
		    a + b == 0)
			return opt_fail(err, err_size,
					"--ratio wants SET:GET, "
					"e.g. 1:10");
		o->ratio_set = (unsigned)a;
		o->ratio_get = (unsigned)b;
		return 0;
	case OPT_COMMAND:
		if (o->cmd_count == AP_BENCH_CMDS_MAX)
			return opt_fail(err, err_size, "at most %d --command",
					AP_BENCH_CMDS_MAX);
		o->cmd_text[o->cmd_count] = arg;
		o->cmd_weight[o->cmd_count] = 1;
		o->cmd_keypat[o->cmd_count++] = 'R';
		return 0;
	case OPT_COMMAND_RATIO:
		if (o->cmd_count == 0 ||
		    !get_u64(arg, 1, AP_BENCH_WEIGHT_SUM_MAX, &a))
			return opt_fail(err, err_size,
					"--command-ratio follows "
					"a --command and is "
					"1..%d",
					AP_BENCH_WEIGHT_SUM_MAX);
		o->cmd_weight[o->cmd_count - 1] = (unsigned)a;
		return 0;
	case OPT_COMMAND_KEY_PATTERN:
		if (o->cmd_count == 0 ||
		    !get_keypat(arg, &o->cmd_keypat[o->cmd_count - 1]))
			return opt_fail(err, err_size,
					"--command-key-pattern follows a "
					"--command and is R, S, G, Z or P");
		return 0;
	case OPT_KEY_PATTERN: {
		char s[2] = {arg[0], '\0'};

		if (strlen(arg) != 3 || arg[1] != ':' ||
		    !get_keypat(s, &o->keypat_set) ||
		    !get_keypat(arg + 2, &o->keypat_get))
			return opt_fail(err, err_size,
					"--key-pattern wants "
					"SET:GET letters, e.g. "
					"R:R");
		return 0;
	}
	default:
		return 1;
	}
}

/* Handles the options about keys and values. Returns 1 if not one of
 * them, 0 or -EINVAL otherwise. */
static int opt_keys(struct ap_bench_opts *o, int c, const char *arg, char *err,
		    size_t err_size)
{
	uint64_t a, b;

	switch (c) {
	case OPT_KEY_MIN:
		if (!get_u64(arg, 0, UINT64_MAX, &o->key_min))
			return opt_fail(err, err_size, "bad --key-minimum");
		return 0;
	case OPT_KEY_MAX:
		if (!get_u64(arg, 0, UINT64_MAX, &o->key_max))
			return opt_fail(err, err_size, "bad --key-maximum");
		return 0;
	case OPT_KEY_PREFIX:
		if (strlen(arg) >= sizeof(o->key_prefix))
			return opt_fail(err, err_size,
					"--key-prefix longer than "
					"%zu bytes",
					sizeof(o->key_prefix) - 1);
		snprintf(o->key_prefix, sizeof(o->key_prefix), "%s", arg);
		return 0;
	case OPT_KEY_STDDEV:
		if (!get_double(arg, 1e-9, 1e19, &o->key_stddev))
			return opt_fail(err, err_size, "bad --key-stddev");
		return 0;
	case OPT_KEY_MEDIAN:
		if (!get_double(arg, 0, 1.8e19, &o->key_median))
			return opt_fail(err, err_size, "bad --key-median");
		return 0;
	case OPT_KEY_ZIPF_EXP:
		if (!get_double(arg, 1e-6, 10, &o->zipf_exp))
			return opt_fail(err, err_size,
					"--key-zipf-exp must be "
					"in (0, 10]");
		return 0;
	case 'd':
		if (!get_u64(arg, 0, AP_BENCH_DATA_SIZE_MAX, &a))
			return opt_fail(err, err_size,
					"--data-size must be "
					"0..%d",
					AP_BENCH_DATA_SIZE_MAX);
		o->data_size = a;
		return 0;
	case OPT_DATA_SIZE_RANGE:
		if (!get_pair(arg, '-', 0, AP_BENCH_DATA_SIZE_MAX, &a, &b) ||
		    a > b)
			return opt_fail(err, err_size,
					"--data-size-range wants "
					"MIN-MAX within 0..%d",
					AP_BENCH_DATA_SIZE_MAX);
		o->data_min = a;
		o->data_max = b;
		if (b == 0)
			o->data_size = 0;
		return 0;
	case OPT_DATA_SIZE_LIST:
		if (get_size_list(o, arg) < 0)
			return opt_fail(err, err_size,
					"--data-size-list wants "
					"SIZE:WEIGHT,...");
		return 0;
	case OPT_EXPIRY_RANGE:
		if (!get_pair(arg, '-', 0, INT32_MAX, &a, &b) || a > b ||
		    (b > 0 && a == 0))
			return opt_fail(err, err_size,
					"--expiry-range wants "
					"MIN-MAX seconds, MIN "
					">= 1 (0-0: none)");
		o->expiry_min = (unsigned)a;
		o->expiry_max = (unsigned)b;
		return 0;
	default:
		return 1;
	}
}

/* Handles the options about how the load runs. Returns 1 if not one of
 * them, 0 or -EINVAL otherwise. */
static int opt_load(struct ap_bench_opts *o, int c, const char *arg, char *err,
		    size_t err_size)
{
	switch (c) {
	case 't':
		if (!get_int(arg, 1, AP_BENCH_THREADS_MAX, &o->threads))
			return opt_fail(err, err_size,
					"--threads must be 1..%d",
					AP_BENCH_THREADS_MAX);
		return 0;
	case 'c':
		if (!get_int(arg, 1, AP_BENCH_CLIENTS_MAX, &o->clients))
			return opt_fail(err, err_size,
					"--clients must be 1..%d",
					AP_BENCH_CLIENTS_MAX);
		return 0;
	case OPT_PIPELINE:
		if (!get_int(arg, 1, AP_BENCH_PIPELINE_MAX, &o->pipeline))
			return opt_fail(err, err_size,
					"--pipeline must be 1..%d",
					AP_BENCH_PIPELINE_MAX);
		return 0;
	case 'n':
		if (!get_u64(arg, 1, UINT64_MAX / 2, &o->requests))
			return opt_fail(err, err_size,
					"--requests must be >= 1");
		o->test_time = 0;
		return 0;
	case OPT_TEST_TIME:
		if (!get_double(arg, 0.001, AP_BENCH_DURATION_MAX,
				&o->test_time))
			return opt_fail(err, err_size,
					"--test-time must be in "
					"(0, %d] seconds",
					AP_BENCH_DURATION_MAX);
		return 0;
	case OPT_WARMUP:
		if (!get_double(arg, 0, AP_BENCH_DURATION_MAX, &o->warmup))
			return opt_fail(err, err_size,
					"--warmup must be in "
					"[0, %d] seconds",
					AP_BENCH_DURATION_MAX);
		return 0;
	case OPT_RATE:
		if (!get_double(arg, 0.001, 1e10, &o->rate))
			return opt_fail(err, err_size,
					"--rate must be > 0 "
					"requests/s");
		return 0;
	case OPT_CPUS:
		o->cpu_count =
			ap_bench_cpus_parse(arg, o->cpus, AP_BENCH_THREADS_MAX);
		if (o->cpu_count < 0)
			return opt_fail(err, err_size, "bad --cpus list '%s'",
					arg);
		return 0;
	case OPT_PREFILL:
		o->prefill = true;
		return 0;
	case OPT_NO_MULTISHOT:
		o->no_multishot = true;
		return 0;
	case OPT_PIPELINE_BATCH:
		o->pipeline_batch = true;
		return 0;
	case OPT_IO:
		if (strcmp(arg, "auto") == 0)
			o->io = AP_BENCH_IO_AUTO;
		else if (strcmp(arg, "uring") == 0 ||
			 strcmp(arg, "io_uring") == 0)
			o->io = AP_BENCH_IO_URING;
		else if (strcmp(arg, "epoll") == 0)
			o->io = AP_BENCH_IO_EPOLL;
		else
			return opt_fail(err, err_size,
					"--io must be auto, uring or epoll");
		return 0;
	case OPT_SPIN_US: {
		int v;

		if (!get_int(arg, 0, 1000000, &v))
			return opt_fail(err, err_size,
					"--spin-us must be "
					"0..1000000");
		o->spin_us = (unsigned)v;
		return 0;
	}
	default:
		return 1;
	}
}

/* Handles connection and output options. Returns 1 if not one of them,
 * 0 or -EINVAL otherwise. */
static int opt_misc(struct ap_bench_opts *o, int c, const char *arg, char *err,
		    size_t err_size)
{
	switch (c) {
	case 's':
		if (strlen(arg) == 0 || strlen(arg) >= sizeof(o->server))
			return opt_fail(err, err_size, "bad --server");
		snprintf(o->server, sizeof(o->server), "%s", arg);
		return 0;
	case 'p':
		if (!get_int(arg, 1, 65535, &o->port))
			return opt_fail(err, err_size,
					"--port must be 1..65535");
		return 0;
	case 'P':
		return set_protocol(o, arg, err, err_size);
	case 'a':
		o->auth = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_CLUSTER_MODE:
		o->cluster = true;
		return 0;
	case OPT_SELECT_DB:
		if (!get_int(arg, 0, 1 << 20, &o->db))
			return opt_fail(err, err_size, "bad --select-db");
		return 0;
	case OPT_JSON_OUT:
		o->json_out = arg;
		return 0;
	case OPT_HTML:
		o->html_out = arg;
		return 0;
	case OPT_COMPARE:
		o->compare = true;
		return 0;
	case OPT_SERVER_PID:
		if (!get_int(arg, 1, INT32_MAX, &o->server_pid))
			return opt_fail(err, err_size, "bad --server-pid");
		return 0;
	case OPT_LABEL:
		snprintf(o->label, sizeof(o->label), "%s", arg);
		return 0;
	case OPT_SEED:
		if (!get_u64(arg, 0, UINT64_MAX, &o->seed))
			return opt_fail(err, err_size, "bad --seed");
		return 0;
	default:
		return 1;
	}
}

/* Cross-option checks once everything is parsed. */
static int opts_check(struct ap_bench_opts *o, int argc, char **argv, char *err,
		      size_t err_size)
{
	if (o->compare) {
		if (o->html_out == NULL || optind >= argc)
			return opt_fail(err, err_size,
					"--compare wants --html "
					"FILE and JSON files");
		o->compare_files = (const char *const *)(argv + optind);
		o->compare_count = argc - optind;
		return 0;
	}
	if (optind < argc)
		return opt_fail(err, err_size, "unexpected argument '%s'",
				argv[optind]);
	if (o->key_max < o->key_min)
		return opt_fail(err, err_size,
				"--key-maximum is below --key-minimum");
	if (ap_bench_proto_is_mc(o->proto) && o->cmd_count > 0)
		return opt_fail(err, err_size,
				"--command needs a RESP protocol");
	if (ap_bench_proto_is_mc(o->proto) && o->cluster)
		return opt_fail(err, err_size,
				"--cluster-mode needs a RESP protocol");
	if (o->cpu_count > 0 && o->cpu_count < o->threads)
		return opt_fail(err, err_size,
				"--cpus lists %d CPUs for %d "
				"threads",
				o->cpu_count, o->threads);
	return 0;
}

/* Records the command line for the JSON report. */
static void opts_cmdline(struct ap_bench_opts *o, int argc, char **argv)
{
	size_t n = 0;

	for (int i = 0; i < argc && n + 1 < sizeof(o->cmdline); i++)
		n += (size_t)snprintf(o->cmdline + n, sizeof(o->cmdline) - n,
				      "%s%s", i ? " " : "", argv[i]);
}

/* Parses argv into o; see bench.h. */
int ap_bench_opts_parse(struct ap_bench_opts *o, int argc, char **argv,
			FILE *out, char *err, size_t err_size)
{
	int c, rc;

	opts_defaults(o);
	opts_cmdline(o, argc, argv);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:p:t:c:n:d:P:a:qhv", long_opts,
				NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, out);
			return 1;
		}
		if (c == 'v') {
			fprintf(out, "apiary-bench %s\n", AP_BENCH_VERSION);
			return 1;
		}
		if (c == '?' || c == ':')
			return opt_fail(err, err_size,
					"%s option '%s' (try "
					"--help)",
					c == ':' ? "missing value for"
						 : "unknown",
					argv[optind - 1]);
		rc = opt_load(o, c, optarg, err, err_size);
		if (rc == 1)
			rc = opt_keys(o, c, optarg, err, err_size);
		if (rc == 1)
			rc = opt_workload(o, c, optarg, err, err_size);
		if (rc == 1)
			rc = opt_misc(o, c, optarg, err, err_size);
		if (rc != 0)
			return rc < 0 ? rc
				      : opt_fail(err, err_size, "bad option");
	}
	return opts_check(o, argc, argv, err, err_size);
}
