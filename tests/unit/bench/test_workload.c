/*
 * test_workload.c - apiary-bench's workload generator and options: command
 * ratios, key ranges and patterns (uniform, sequential, parallel, gaussian,
 * zipf), value sizes, request encoding (checked by decoding it back), and
 * option bounds.
 */
#include "bench/bench.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARGS(...) ((char *[]){"apiary-bench", __VA_ARGS__, NULL})

/* Parses argv[1..n]; returns the parser's result. */
static int parse(struct ap_bench_opts *o, char **argv, int n)
{
	char err[256];
	FILE *devnull = fopen("/dev/null", "w");
	int rc = ap_bench_opts_parse(o, n + 1, argv, devnull, err, sizeof(err));

	fclose(devnull);
	return rc;
}

/* Options and workload from arguments; fails the test if invalid. */
static void build(struct ap_bench_opts *o, struct ap_bench_wl *wl, char **argv,
		  int argc)
{
	char err[256];

	ck_assert_int_eq(parse(o, argv, argc), 0);
	ck_assert_msg(ap_bench_wl_build(wl, o, err, sizeof(err)) == 0, "%s",
		      err);
}

/* --ratio 1:10 is exact over every cycle, per connection. */
START_TEST(test_ratio_exact)
{
	char **argv = ARGS("--ratio", "1:10");
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn wc;
	char *buf;
	int cmd, counts[2] = {0};

	build(&o, &wl, argv, 2);
	ck_assert_int_eq(wl.cmd_count, 2);
	ck_assert_str_eq(wl.cmds[0].name, "SET");
	ck_assert_str_eq(wl.cmds[1].name, "GET");
	buf = malloc(wl.req_max);
	for (unsigned c = 0; c < 5; c++) {
		ap_bench_wl_conn_init(&wl, &wc, c, 5, 1);
		counts[0] = counts[1] = 0;
		for (int i = 0; i < 11 * 100; i++) {
			ap_bench_wl_next(&wl, &wc, buf, &cmd);
			counts[cmd]++;
			/* every window of one cycle has exactly one SET */
			if (i % 11 == 10)
				ck_assert_int_eq(counts[0], i / 11 + 1);
		}
		ck_assert_int_eq(counts[0], 100);
		ck_assert_int_eq(counts[1], 1000);
	}
	free(buf);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* Weighted --command mix, smooth: no command twice in a row when its
 * weight is at most half. */
START_TEST(test_command_ratio)
{
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn wc;
	char *argv[] = {"apiary-bench",
			"--command",
			"SET __key__ __data__",
			"--command-ratio",
			"2",
			"--command",
			"GET __key__",
			"--command-ratio",
			"3",
			"--command",
			"INCR counter",
			"--command-ratio",
			"5",
			NULL};
	int counts[3] = {0}, cmd, prev = -1;
	char *buf;

	build(&o, &wl, argv, 12);
	ck_assert_int_eq(wl.cmd_count, 3);
	ck_assert_uint_eq(wl.sched_len, 10);
	ck_assert_str_eq(wl.cmds[2].name, "INCR");
	ck_assert(!wl.cmds[2].has_key);
	buf = malloc(wl.req_max);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 1);
	for (int i = 0; i < 1000; i++) {
		ap_bench_wl_next(&wl, &wc, buf, &cmd);
		counts[cmd]++;
		if (cmd != 2)
			ck_assert_int_ne(cmd, prev);
		prev = cmd;
	}
	ck_assert_int_eq(counts[0], 200);
	ck_assert_int_eq(counts[1], 300);
	ck_assert_int_eq(counts[2], 500);
	free(buf);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* Uniform keys cover [min, max] inclusive and never leave it. */
START_TEST(test_key_range_uniform)
{
	char **argv = ARGS("--key-minimum", "5", "--key-maximum", "9");
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn wc;
	int seen[16] = {0};

	build(&o, &wl, argv, 4);
	ck_assert_uint_eq(wl.key_range, 5);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 3);
	for (int i = 0; i < 10000; i++) {
		uint64_t k = ap_bench_wl_key_next(&wl, &wc, 1);

		ck_assert_uint_ge(k, 5);
		ck_assert_uint_le(k, 9);
		seen[k]++;
	}
	for (int k = 5; k <= 9; k++)
		ck_assert_int_gt(seen[k], 1700); /* about 2000 each */
	ap_bench_wl_destroy(&wl);
	/* a single key */
	char **one = ARGS("--key-minimum", "7", "--key-maximum", "7");

	build(&o, &wl, one, 4);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 3);
	for (int i = 0; i < 100; i++)
		ck_assert_uint_eq(ap_bench_wl_key_next(&wl, &wc, 0), 7);
	ap_bench_wl_destroy(&wl);
	/* the top of the 64-bit space */
	char **top = ARGS("--key-minimum", "18446744073709551614",
			  "--key-maximum", "18446744073709551615");

	build(&o, &wl, top, 4);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 3);
	for (int i = 0; i < 100; i++)
		ck_assert_uint_ge(ap_bench_wl_key_next(&wl, &wc, 0),
				  UINT64_MAX - 1);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* Sequential keys walk the range and wrap; connections start apart. */
START_TEST(test_key_sequential)
{
	char **argv = ARGS("--key-minimum", "10", "--key-maximum", "19",
			   "--key-pattern", "S:S");
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn a, b;

	build(&o, &wl, argv, 6);
	ap_bench_wl_conn_init(&wl, &a, 0, 2, 1);
	ap_bench_wl_conn_init(&wl, &b, 1, 2, 1);
	for (uint64_t i = 0; i < 25; i++) {
		ck_assert_uint_eq(ap_bench_wl_key_next(&wl, &a, 0),
				  10 + i % 10);
		ck_assert_uint_eq(ap_bench_wl_key_next(&wl, &b, 0),
				  10 + (5 + i) % 10);
	}
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* Parallel parts are disjoint and together cover the range once. */
START_TEST(test_key_parallel)
{
	char **argv = ARGS("--key-minimum", "1", "--key-maximum", "100",
			   "--key-pattern", "P:P");
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn wc;
	int hits[101] = {0};
	uint64_t total = 0;

	build(&o, &wl, argv, 6);
	for (unsigned c = 0; c < 7; c++) {
		ap_bench_wl_conn_init(&wl, &wc, c, 7, 1);
		total += wc.part_len;
		for (uint64_t i = 0; i < wc.part_len; i++)
			hits[ap_bench_wl_key_next(&wl, &wc, 0)]++;
		/* and then it wraps inside its own part */
		uint64_t again = ap_bench_wl_key_next(&wl, &wc, 0);

		ck_assert_uint_eq(again, 1 + wc.part_lo);
	}
	ck_assert_uint_eq(total, 100);
	for (int k = 1; k <= 100; k++)
		ck_assert_int_eq(hits[k], 1);
	ap_bench_wl_destroy(&wl);
	/* The prefill workload is the same split, SET only, no expiry. */
	char **pre = ARGS("--key-maximum", "99", "--expiry-range", "5-10");
	char err[128];

	ck_assert_int_eq(parse(&o, pre, 4), 0);
	ck_assert_int_eq(ap_bench_wl_build_prefill(&wl, &o, err, sizeof(err)),
			 0);
	ck_assert_int_eq(wl.cmd_count, 1);
	ck_assert_int_eq(wl.cmds[0].keypat, AP_BENCH_KEY_PARALLEL);
	ck_assert_int_eq(wl.cmds[0].argc, 3);
	ck_assert_uint_eq(wl.expiry_max, 0);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* Gaussian keys center on the median with the asked deviation. */
START_TEST(test_key_gaussian)
{
	char **argv = ARGS("--key-maximum", "1000000", "--key-pattern", "G:G",
			   "--key-stddev", "1000", "--key-median", "300000");
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn wc;
	double sum = 0, sq = 0;
	const int n = 200000;

	build(&o, &wl, argv, 8);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 5);
	for (int i = 0; i < n; i++) {
		double k = (double)ap_bench_wl_key_next(&wl, &wc, 0);

		sum += k;
		sq += k * k;
	}
	double mean = sum / n, sd = sqrt(sq / n - mean * mean);

	ck_assert(fabs(mean - 300000) < 20);
	ck_assert(fabs(sd - 1000) < 20);
	ap_bench_wl_destroy(&wl);
	/* Near an edge, keys stay inside the range. */
	char **edge = ARGS("--key-maximum", "100", "--key-pattern", "G:G",
			   "--key-stddev", "50", "--key-median", "0");

	build(&o, &wl, edge, 8);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 5);
	for (int i = 0; i < 10000; i++)
		ck_assert_uint_le(ap_bench_wl_key_next(&wl, &wc, 0), 100);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* Zipf frequencies match k^-s / H(n, s) for several exponents. */
START_TEST(test_zipf_skew)
{
	const double exps[] = {0.5, 0.99, 1.0, 1.5, 3.0};
	const uint64_t n = 1000;
	const int draws = 400000;

	for (size_t e = 0; e < AP_ARRAY_LEN(exps); e++) {
		struct ap_bench_zipf z;
		struct ap_bench_rng r = {.s = 11 + e};
		static int freq[1001];
		double norm = 0;

		memset(freq, 0, sizeof(freq));
		ap_bench_zipf_init(&z, n, exps[e]);
		for (uint64_t k = 1; k <= n; k++)
			norm += pow((double)k, -exps[e]);
		for (int i = 0; i < draws; i++) {
			uint64_t k = ap_bench_zipf_next(&z, &r);

			ck_assert_uint_ge(k, 1);
			ck_assert_uint_le(k, n);
			freq[k]++;
		}
		for (uint64_t k = 1; k <= 5; k++) {
			double want = draws * pow((double)k, -exps[e]) / norm;

			ck_assert_msg(fabs(freq[k] - want) < 5 * sqrt(want) + 5,
				      "s=%g rank %llu: %d vs %.0f", exps[e],
				      (unsigned long long)k, freq[k], want);
		}
		/* the hottest key is hotter than the tenth, which is hotter
		 * than the hundredth */
		ck_assert_int_gt(freq[1], freq[10]);
		if (exps[e] < 2)
			ck_assert_int_gt(freq[10], freq[100]);
	}
	/* n = 1: always rank 1 */
	struct ap_bench_zipf z;
	struct ap_bench_rng r = {.s = 1};

	ap_bench_zipf_init(&z, 1, 0.99);
	for (int i = 0; i < 100; i++)
		ck_assert_uint_eq(ap_bench_zipf_next(&z, &r), 1);
}
END_TEST

/* The Z key pattern maps rank 1 to --key-minimum. */
START_TEST(test_key_zipf_pattern)
{
	char **argv = ARGS("--key-minimum", "1000", "--key-maximum", "1999",
			   "--key-pattern", "Z:Z", "--key-zipf-exp", "1.2");
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn wc;
	int low = 0;

	build(&o, &wl, argv, 8);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 9);
	for (int i = 0; i < 10000; i++) {
		uint64_t k = ap_bench_wl_key_next(&wl, &wc, 0);

		ck_assert_uint_ge(k, 1000);
		ck_assert_uint_le(k, 1999);
		low += k < 1010;
	}
	ck_assert_int_gt(low, 5000); /* the first 1% of keys is the majority */
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* Value sizes: fixed, range (both ends reached), weighted list. */
START_TEST(test_value_sizes)
{
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn wc;
	bool lo = false, hi = false;
	int big = 0;

	build(&o, &wl, ARGS("--data-size-range", "10-20"), 2);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 9);
	for (int i = 0; i < 10000; i++) {
		size_t s = ap_bench_wl_size_next(&wl, &wc);

		ck_assert_uint_ge(s, 10);
		ck_assert_uint_le(s, 20);
		lo |= s == 10;
		hi |= s == 20;
	}
	ck_assert(lo && hi);
	ap_bench_wl_destroy(&wl);
	build(&o, &wl, ARGS("--data-size-list", "32:1,64:3"), 2);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 9);
	for (int i = 0; i < 40000; i++) {
		size_t s = ap_bench_wl_size_next(&wl, &wc);

		ck_assert(s == 32 || s == 64);
		big += s == 64;
	}
	ck_assert(abs(big - 30000) < 600);
	ck_assert_uint_eq(wl.data_max, 64);
	ap_bench_wl_destroy(&wl);
	build(&o, &wl, ARGS("-d", "0"), 2);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 9);
	ck_assert_uint_eq(ap_bench_wl_size_next(&wl, &wc), 0);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* Encoded requests decode back to the intended command. */
START_TEST(test_encode_resp)
{
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn wc;
	struct ap_client_value v;
	const char *err;
	int cmd;

	build(&o, &wl,
	      ARGS("--ratio", "1:0", "--key-prefix", "k:", "--expiry-range",
		   "5-9", "--data-size-range", "0-100", "--key-maximum",
		   "18446744073709551615"),
	      10);
	char *buf = malloc(wl.req_max);

	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 2);
	for (int i = 0; i < 2000; i++) {
		size_t n = ap_bench_wl_next(&wl, &wc, buf, &cmd);

		ck_assert_uint_le(n, wl.req_max);
		ck_assert_int_eq(ap_client_value_decode(buf, n, &v, &err),
				 (long long)n);
		ck_assert_uint_eq(v.elem_count, 5);
		ck_assert(memcmp(v.elems[0].str, "SET", 3) == 0);
		ck_assert(memcmp(v.elems[1].str, "k:", 2) == 0);
		ck_assert_uint_le(v.elems[2].str_len, 100);
		ck_assert(memcmp(v.elems[3].str, "EX", 2) == 0);
		ck_assert_uint_eq(v.elems[4].str_len, 1);
		ck_assert(v.elems[4].str[0] >= '5' && v.elems[4].str[0] <= '9');
		ap_client_value_free(&v);
	}
	free(buf);
	ap_bench_wl_destroy(&wl);
	/* Quoted arguments survive as one argument each. */
	char *argv[] = {"apiary-bench", "--command",
			"HSET \"my key\" 'a b' __key__ __data__", NULL};

	build(&o, &wl, argv, 2);
	buf = malloc(wl.req_max);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 2);
	size_t n = ap_bench_wl_next(&wl, &wc, buf, &cmd);

	ck_assert_int_eq(ap_client_value_decode(buf, n, &v, &err),
			 (long long)n);
	ck_assert_uint_eq(v.elem_count, 5);
	ck_assert_uint_eq(v.elems[1].str_len, 6);
	ck_assert(memcmp(v.elems[1].str, "my key", 6) == 0);
	ck_assert(memcmp(v.elems[2].str, "a b", 3) == 0);
	ck_assert(memcmp(v.elems[3].str, "memtier-", 8) == 0);
	ck_assert_uint_eq(v.elems[4].str_len, 32);
	ap_client_value_free(&v);
	free(buf);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* memcached binary requests: SET with extras and GET. */
START_TEST(test_encode_memcache)
{
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn wc;
	int cmd;

	build(&o, &wl,
	      ARGS("--protocol", "memcache_binary", "--ratio", "1:1",
		   "--key-minimum", "42", "--key-maximum", "42", "-d", "10",
		   "--expiry-range", "7-7"),
	      12);
	char *buf = malloc(wl.req_max);

	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 2);
	size_t n = ap_bench_wl_next(&wl, &wc, buf, &cmd);

	ck_assert_int_eq(cmd, 0);
	ck_assert_uint_eq(n, 24 + 8 + 10 + 10); /* "memtier-42" */
	ck_assert_uint_eq((uint8_t)buf[0], AP_CLIENT_MC_REQ_MAGIC);
	ck_assert_uint_eq((uint8_t)buf[1], AP_CLIENT_MC_SET);
	ck_assert_uint_eq((uint8_t)buf[3], 10);
	ck_assert_uint_eq((uint8_t)buf[31], 7); /* expiration */
	ck_assert(memcmp(buf + 32, "memtier-42", 10) == 0);
	n = ap_bench_wl_next(&wl, &wc, buf, &cmd);
	ck_assert_int_eq(cmd, 1);
	ck_assert_uint_eq(n, 24 + 10);
	ck_assert_uint_eq((uint8_t)buf[1], AP_CLIENT_MC_GET);
	free(buf);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* memcached text requests: "set K 0 exptime bytes" + value, "get K". */
START_TEST(test_encode_memcache_text)
{
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	struct ap_bench_wl_conn wc;
	int cmd;

	build(&o, &wl,
	      ARGS("--protocol", "memcache_text", "--ratio", "1:1",
		   "--key-minimum", "42", "--key-maximum", "42", "-d", "10",
		   "--expiry-range", "7-7"),
	      12);
	char *buf = malloc(wl.req_max + 1);

	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 2);
	size_t n = ap_bench_wl_next(&wl, &wc, buf, &cmd);

	ck_assert_int_eq(cmd, 0);
	buf[n] = '\0';
	ck_assert_uint_eq(n, strlen("set memtier-42 0 7 10\r\n") + 12);
	ck_assert(memcmp(buf, "set memtier-42 0 7 10\r\n", 23) == 0);
	ck_assert(memcmp(buf + 23, wl.data, 10) == 0);
	ck_assert(memcmp(buf + 33, "\r\n", 2) == 0);
	n = ap_bench_wl_next(&wl, &wc, buf, &cmd);
	ck_assert_int_eq(cmd, 1);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "get memtier-42\r\n");
	ap_bench_wl_destroy(&wl);
	/* The longest request fits req_max exactly at the bounds: the
	 * largest key number and value, a 10-digit expiry. */
	build(&o, &wl,
	      ARGS("--protocol", "memcache_text", "--ratio", "1:0",
		   "--key-minimum", "18446744073709551615", "--key-maximum",
		   "18446744073709551615", "-d", "1000", "--expiry-range",
		   "2147483647-2147483647"),
	      12);
	free(buf);
	buf = malloc(wl.req_max);
	ap_bench_wl_conn_init(&wl, &wc, 0, 1, 2);
	n = ap_bench_wl_next(&wl, &wc, buf, &cmd);
	ck_assert_uint_le(n, wl.req_max);
	ck_assert_uint_eq(n, strlen("set memtier-18446744073709551615 0 "
				    "2147483647 1000\r\n") +
				     1000 + 2);
	free(buf);
	ap_bench_wl_destroy(&wl);
	/* Keys with spaces or control characters cannot be sent. */
	char err[256];

	ck_assert_int_eq(parse(&o,
			       ARGS("--protocol", "memcache_text",
				    "--key-prefix", "a b"),
			       4),
			 0);
	ck_assert_int_lt(ap_bench_wl_build(&wl, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(parse(&o,
			       ARGS("--protocol", "memcache_text",
				    "--key-prefix", "a\x01"),
			       4),
			 0);
	ck_assert_int_lt(ap_bench_wl_build(&wl, &o, err, sizeof(err)), 0);
}
END_TEST

/* draw + encode is ap_bench_wl_next, and a drawn request encodes again
 * to the same bytes (a redirected request is re-sent that way). */
START_TEST(test_draw_encode)
{
	static const char *const protos[] = {"redis", "memcache_text",
					     "memcache_binary"};

	for (size_t pi = 0; pi < AP_ARRAY_LEN(protos); pi++) {
		struct ap_bench_opts o;
		struct ap_bench_wl wl;
		struct ap_bench_wl_conn a, b, again;

		build(&o, &wl,
		      ARGS("--protocol", (char *)protos[pi], "--ratio", "3:7",
			   "--key-maximum", "999", "--data-size-range",
			   "0-300"),
		      8);
		char *x = malloc(wl.req_max), *y = malloc(wl.req_max);

		ap_bench_wl_conn_init(&wl, &a, 3, 8, 77);
		ap_bench_wl_conn_init(&wl, &b, 3, 8, 77);
		for (int i = 0; i < 2000; i++) {
			struct ap_bench_draw d;
			int cmd;
			size_t nx = ap_bench_wl_next(&wl, &a, x, &cmd);

			ap_bench_wl_draw(&wl, &b, &d);
			ck_assert_int_eq(d.cmd, cmd);
			ck_assert_uint_le(d.key, 999);
			ck_assert_uint_le(d.dsize, 300);
			size_t ny = ap_bench_wl_encode(&wl, &b, &d, y);

			ck_assert_uint_eq(nx, ny);
			ck_assert(memcmp(x, y, nx) == 0);
			again = b;
			ck_assert_uint_eq(
				ap_bench_wl_encode(&wl, &again, &d, y), nx);
			ck_assert(memcmp(x, y, nx) == 0);
		}
		free(x);
		free(y);
		ap_bench_wl_destroy(&wl);
	}
}
END_TEST

/* A key number's slot is the CRC16 slot of prefix + digits, hashtags
 * included (values from Redis's CLUSTER KEYSLOT). */
START_TEST(test_key_slot)
{
	struct ap_bench_opts o;
	struct ap_bench_wl wl;

	build(&o, &wl, ARGS("--key-prefix", "key:"), 2);
	ck_assert_uint_eq(ap_bench_wl_key_slot(&wl, 1),
			  ap_key_slot("key:1", 5));
	ck_assert_uint_eq(ap_bench_wl_key_slot(&wl, 0), 2592);
	ap_bench_wl_destroy(&wl);
	build(&o, &wl, ARGS("--key-prefix", "{user1000}."), 2);
	ck_assert_uint_eq(ap_bench_wl_key_slot(&wl, 5), 3443);
	ck_assert_uint_eq(ap_bench_wl_key_slot(&wl, 123456), 3443);
	ap_bench_wl_destroy(&wl);
	build(&o, &wl, ARGS("--key-prefix", "memtier-"), 2);
	ck_assert_uint_eq(ap_bench_wl_key_slot(&wl, 0), 7563);
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* Bad workload definitions are refused with a message. */
START_TEST(test_workload_errors)
{
	struct ap_bench_opts o;
	struct ap_bench_wl wl;
	char err[256];
	char cmd[AP_BENCH_CMD_ARGS_MAX * 2 + 8];
	char *argv[] = {"apiary-bench", "--command", cmd, NULL};

	/* exactly AP_BENCH_CMD_ARGS_MAX arguments, then one more */
	size_t n = 0;

	for (int i = 0; i < AP_BENCH_CMD_ARGS_MAX; i++)
		n += (size_t)sprintf(cmd + n, "%sa", i ? " " : "");
	ck_assert_int_eq(parse(&o, argv, 2), 0);
	ck_assert_int_eq(ap_bench_wl_build(&wl, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(wl.cmds[0].argc, AP_BENCH_CMD_ARGS_MAX);
	ap_bench_wl_destroy(&wl);
	sprintf(cmd + n, " a");
	ck_assert_int_eq(parse(&o, argv, 2), 0);
	ck_assert_int_lt(ap_bench_wl_build(&wl, &o, err, sizeof(err)), 0);
	ap_bench_wl_destroy(&wl);
	static const char *const bad[] = {"SET \"unterminated", "   ",
					  "SET __key__ __expiry__"};

	for (size_t i = 0; i < AP_ARRAY_LEN(bad); i++) {
		snprintf(cmd, sizeof(cmd), "%s", bad[i]);
		ck_assert_int_eq(parse(&o, argv, 2), 0);
		ck_assert_msg(ap_bench_wl_build(&wl, &o, err, sizeof(err)) < 0,
			      "accepted %s", bad[i]);
		ck_assert(err[0] != '\0');
		ap_bench_wl_destroy(&wl);
	}
	/* Same first word twice: distinct labels. */
	char *two[] = {"apiary-bench", "--command", "SET a b",
		       "--command",    "set c d",   NULL};

	build(&o, &wl, two, 4);
	ck_assert_str_eq(wl.cmds[0].name, "SET");
	ck_assert_str_eq(wl.cmds[1].name, "SET#2");
	ap_bench_wl_destroy(&wl);
}
END_TEST

/* Option bounds: MAX accepted, MAX + 1 and nonsense refused. */
START_TEST(test_opts_bounds)
{
	struct ap_bench_opts o;
	char max_threads[16], over_threads[16], max_pipe[16], over_pipe[16];
	char max_w[16], over_w[16];

	snprintf(max_threads, sizeof(max_threads), "%d", AP_BENCH_THREADS_MAX);
	snprintf(over_threads, sizeof(over_threads), "%d",
		 AP_BENCH_THREADS_MAX + 1);
	snprintf(max_pipe, sizeof(max_pipe), "%d", AP_BENCH_PIPELINE_MAX);
	snprintf(over_pipe, sizeof(over_pipe), "%d", AP_BENCH_PIPELINE_MAX + 1);
	snprintf(max_w, sizeof(max_w), "%d", AP_BENCH_WEIGHT_SUM_MAX);
	snprintf(over_w, sizeof(over_w), "%d", AP_BENCH_WEIGHT_SUM_MAX + 1);
	ck_assert_int_eq(parse(&o, ARGS("-t", max_threads), 2), 0);
	ck_assert_int_eq(o.threads, AP_BENCH_THREADS_MAX);
	ck_assert_int_lt(parse(&o, ARGS("-t", over_threads), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("-t", "0"), 2), 0);
	ck_assert_int_eq(parse(&o, ARGS("--pipeline", max_pipe), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("--pipeline", over_pipe), 2), 0);
	ck_assert_int_eq(
		parse(&o, ARGS("--command", "PING", "--command-ratio", max_w),
		      4),
		0);
	ck_assert_int_lt(
		parse(&o, ARGS("--command", "PING", "--command-ratio", over_w),
		      4),
		0);
	ck_assert_int_lt(parse(&o, ARGS("--command-ratio", "2"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("-p", "65536"), 2), 0);
	ck_assert_int_eq(parse(&o, ARGS("-p", "65535"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("-c", "-1"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("-c", "12x"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("--key-pattern", "X:R"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("--key-pattern", "RR"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("--ratio", "0:0"), 2), 0);
	ck_assert_int_eq(parse(&o, ARGS("--protocol", "memcache_text"), 2), 0);
	ck_assert_int_eq(o.proto, AP_BENCH_PROTO_MC_TEXT);
	ck_assert_int_lt(parse(&o, ARGS("--protocol", "memcache"), 2), 0);
	ck_assert_int_eq(parse(&o, ARGS("--io", "epoll"), 2), 0);
	ck_assert_int_eq(o.io, AP_BENCH_IO_EPOLL);
	ck_assert_int_eq(parse(&o, ARGS("--io", "uring"), 2), 0);
	ck_assert_int_eq(o.io, AP_BENCH_IO_URING);
	ck_assert_int_eq(parse(&o, ARGS("--io", "auto"), 2), 0);
	ck_assert_int_eq(o.io, AP_BENCH_IO_AUTO);
	ck_assert_int_lt(parse(&o, ARGS("--io", "poll"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("--io"), 1), 0);
	ck_assert_int_eq(parse(&o, ARGS("--cluster-mode"), 1), 0);
	ck_assert(o.cluster);
	ck_assert_int_lt(
		parse(&o, ARGS("--cluster-mode", "--protocol", "memcache_text"),
		      3),
		0);
	ck_assert_int_lt(parse(&o,
			       ARGS("--protocol", "memcache_text", "--command",
				    "GET __key__"),
			       4),
			 0);
	ck_assert_int_lt(parse(&o, ARGS("--data-size-range", "10-5"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("--expiry-range", "0-5"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("--key-zipf-exp", "0"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("--test-time", "0"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("--rate", "-1"), 2), 0);
	ck_assert_int_lt(
		parse(&o, ARGS("--key-minimum", "9", "--key-maximum", "8"), 4),
		0);
	ck_assert_int_lt(parse(&o, ARGS("--compare", "a.json"), 2), 0);
	ck_assert_int_lt(parse(&o, ARGS("stray"), 1), 0);
	ck_assert_int_lt(parse(&o, ARGS("--no-such-flag"), 1), 0);
	ck_assert_int_lt(parse(&o, ARGS("-t", "2", "--cpus", "0"), 4), 0);
	ck_assert_int_eq(parse(&o, ARGS("--help"), 1), 1);
	ck_assert_int_eq(parse(&o, ARGS("--version"), 1), 1);
	/* --compare takes the remaining arguments */
	char *cmp[] = {"apiary-bench", "--html", "x.html", "--compare",
		       "a.json",       "b.json", NULL};

	ck_assert_int_eq(parse(&o, cmp, 5), 0);
	ck_assert_int_eq(o.compare_count, 2);
	ck_assert_str_eq(o.compare_files[1], "b.json");
}
END_TEST

/* Defaults follow memtier_benchmark's where the concept is the same. */
START_TEST(test_opts_defaults)
{
	struct ap_bench_opts o;

	ck_assert_int_eq(parse(&o, ARGS("-q"), 1), 0);
	ck_assert_str_eq(o.server, "127.0.0.1");
	ck_assert_int_eq(o.port, 6379);
	ck_assert_int_eq(o.clients, 50);
	ck_assert_uint_eq(o.requests, 10000);
	ck_assert_uint_eq(o.ratio_set, 1);
	ck_assert_uint_eq(o.ratio_get, 10);
	ck_assert_uint_eq(o.key_max, 10000000);
	ck_assert_str_eq(o.key_prefix, "memtier-");
	ck_assert_uint_eq(o.data_size, 32);
	ck_assert_int_eq(o.keypat_set, 'R');
	ck_assert(o.quiet);
}
END_TEST

/* CPU lists. */
START_TEST(test_cpus_parse)
{
	int cpus[8];

	ck_assert_int_eq(ap_bench_cpus_parse("0,2-3", cpus, 8), 3);
	ck_assert_int_eq(cpus[0], 0);
	ck_assert_int_eq(cpus[1], 2);
	ck_assert_int_eq(cpus[2], 3);
	ck_assert_int_eq(ap_bench_cpus_parse("0-7", cpus, 8), 8);
	ck_assert_int_lt(ap_bench_cpus_parse("0-8", cpus, 8), 0);
	ck_assert_int_lt(ap_bench_cpus_parse("3-1", cpus, 8), 0);
	ck_assert_int_lt(ap_bench_cpus_parse("", cpus, 8), 0);
	ck_assert_int_lt(ap_bench_cpus_parse("1,", cpus, 8), 0);
	ck_assert_int_lt(ap_bench_cpus_parse(",1", cpus, 8), 0);
	ck_assert_int_lt(ap_bench_cpus_parse("a", cpus, 8), 0);
}
END_TEST

static Suite *workload_suite(void)
{
	Suite *s = suite_create("bench_workload");
	TCase *tc = tcase_create("workload");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ratio_exact);
	tcase_add_test(tc, test_command_ratio);
	tcase_add_test(tc, test_key_range_uniform);
	tcase_add_test(tc, test_key_sequential);
	tcase_add_test(tc, test_key_parallel);
	tcase_add_test(tc, test_key_gaussian);
	tcase_add_test(tc, test_zipf_skew);
	tcase_add_test(tc, test_key_zipf_pattern);
	tcase_add_test(tc, test_value_sizes);
	tcase_add_test(tc, test_encode_resp);
	tcase_add_test(tc, test_encode_memcache);
	tcase_add_test(tc, test_encode_memcache_text);
	tcase_add_test(tc, test_draw_encode);
	tcase_add_test(tc, test_key_slot);
	tcase_add_test(tc, test_workload_errors);
	tcase_add_test(tc, test_opts_bounds);
	tcase_add_test(tc, test_opts_defaults);
	tcase_add_test(tc, test_cpus_parse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(workload_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
