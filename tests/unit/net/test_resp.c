/*
 * test_resp.c - unit tests for the RESP request parser (net/resp.c).
 *
 * Every small input is checked three ways that must agree: parsed in one
 * go, fed byte by byte to one request (the growing prefix presented each
 * time, from a fresh exactly-sized copy so ASan catches any read past the
 * presented length or any pointer kept into an old buffer), and split in
 * two at every possible point. Big inputs (a million arguments, a 64 MiB
 * bulk, header lines at their limit) are fed in pieces to check that the
 * parser resumes instead of rescanning. A micro-benchmark prints the cost
 * of a typical SET; it asserts the parse, never the time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "net/resp.h"

#define OUT_ARGS_MAX 64
/* Inputs up to this size are also fed byte by byte from fresh copies. */
#define COPY_FEED_MAX 4096

/* The result of parsing one input, copied out of the parser. */
struct outcome {
	long long ret;
	char err[128];
	int argc;
	char *argv[OUT_ARGS_MAX];
	size_t lens[OUT_ARGS_MAX];
};

struct sarg {
	const char *p;
	size_t len;
};

#define S(lit)                       \
	{                            \
		lit, sizeof(lit) - 1 \
	}
#define STR(lit) lit, sizeof(lit) - 1

static struct ap_resp_limits lim_default(void)
{
	struct ap_resp_limits lim = {
		.bulk_len_max = AP_PROTO_MAX_BULK_LEN_DEFAULT,
		.argc_max = AP_ARGC_MAX,
		.inline_max = AP_INLINE_MAX_LEN,
	};
	return lim;
}

static void outcome_free(struct outcome *o)
{
	for (int i = 0; i < o->argc && i < OUT_ARGS_MAX; i++)
		free(o->argv[i]);
	memset(o, 0, sizeof(*o));
}

/* Copies the parser's verdict (and arguments, when complete) into o. */
static void outcome_record(struct outcome *o, struct ap_resp_req *rq,
			   const char *buf, long long ret, const char *err)
{
	struct ap_arg argv[OUT_ARGS_MAX];

	memset(o, 0, sizeof(*o));
	o->ret = ret;
	if (ret == AP_RESP_ERROR) {
		ck_assert_ptr_nonnull(err);
		snprintf(o->err, sizeof(o->err), "%s", err);
		return;
	}
	if (ret == AP_RESP_NEED_MORE)
		return;
	o->argc = rq->argc;
	ck_assert_int_le(rq->argc, OUT_ARGS_MAX);
	ap_resp_req_argv(rq, buf, argv);
	for (int i = 0; i < rq->argc; i++) {
		o->lens[i] = argv[i].len;
		o->argv[i] = malloc(argv[i].len + 1);
		memcpy(o->argv[i], argv[i].p, argv[i].len);
	}
}

/* Parses s[0..n) with a fresh request, from an exactly-sized copy. */
static void parse_once(const char *s, size_t n,
		       const struct ap_resp_limits *lim, struct outcome *o)
{
	struct ap_resp_req rq;
	const char *err = NULL;
	char *buf = malloc(n ? n : 1);
	long long r;

	memcpy(buf, s, n);
	ap_resp_req_init(&rq);
	r = ap_resp_parse(&rq, buf, n, lim, &err);
	outcome_record(o, &rq, buf, r, err);
	ap_resp_req_deinit(&rq);
	free(buf);
}

/* Presents s[0..k) for k = 0, 1, 2, ... to one request until it stops
 * asking for more. Each NEED_MORE must ask for more than it was given and
 * no more than the command turns out to need. Small inputs are copied to
 * a fresh buffer each time; big ones are presented in place. */
static void parse_bytewise(const char *s, size_t n,
			   const struct ap_resp_limits *lim, struct outcome *o)
{
	struct ap_resp_req rq;
	const char *err = NULL;
	size_t need_max = 0;
	bool need_low = false;
	bool copy = n <= COPY_FEED_MAX;
	long long r = AP_RESP_NEED_MORE;
	size_t k;

	ap_resp_req_init(&rq);
	for (k = 0; k <= n; k++) {
		char *copy_buf = NULL;
		const char *buf = s;

		if (copy) {
			copy_buf = malloc(k ? k : 1);
			memcpy(copy_buf, s, k);
			buf = copy_buf;
		}
		r = ap_resp_parse(&rq, buf, k, lim, &err);
		if (r != AP_RESP_NEED_MORE) {
			outcome_record(o, &rq, buf, r, err);
			free(copy_buf);
			break;
		}
		/* Checked once after the loop: each ck_assert costs a
		 * write to Check's pipe. */
		if (ap_resp_need(&rq) <= k)
			need_low = true;
		need_max = AP_MAX(need_max, ap_resp_need(&rq));
		free(copy_buf);
	}
	if (r == AP_RESP_NEED_MORE)
		outcome_record(o, &rq, s, r, err);
	ck_assert_msg(!need_low, "ap_resp_need() asked for bytes it had");
	if (r > 0)
		ck_assert_uint_le(need_max, (size_t)r);
	ap_resp_req_deinit(&rq);
}

/* Presents s[0..k), then, if the parser wants more, all of s. */
static void parse_split(const char *s, size_t n, size_t k,
			const struct ap_resp_limits *lim, struct outcome *o)
{
	struct ap_resp_req rq;
	const char *err = NULL;
	char *a = malloc(k ? k : 1), *b = malloc(n ? n : 1);
	long long r;

	memcpy(a, s, k);
	memcpy(b, s, n);
	ap_resp_req_init(&rq);
	r = ap_resp_parse(&rq, a, k, lim, &err);
	if (r != AP_RESP_NEED_MORE) {
		outcome_record(o, &rq, a, r, err);
	} else {
		free(a);
		a = NULL;
		r = ap_resp_parse(&rq, b, n, lim, &err);
		outcome_record(o, &rq, b, r, err);
	}
	ap_resp_req_deinit(&rq);
	free(a);
	free(b);
}

static void outcome_assert_eq(const struct outcome *a, const struct outcome *b,
			      const char *what)
{
	ck_assert_msg(a->ret == b->ret, "%s: ret %lld vs %lld", what, a->ret,
		      b->ret);
	ck_assert_str_eq(a->err, b->err);
	ck_assert_int_eq(a->argc, b->argc);
	for (int i = 0; i < a->argc; i++) {
		ck_assert_uint_eq(a->lens[i], b->lens[i]);
		ck_assert(memcmp(a->argv[i], b->argv[i], a->lens[i]) == 0);
	}
}

/* Parses s all three ways, asserts they agree, and leaves the one-shot
 * outcome in o. Splitting at every point is quadratic, so big inputs are
 * split at a few points only. */
static void parse_all_ways(const char *s, size_t n,
			   const struct ap_resp_limits *lim, struct outcome *o)
{
	struct outcome other;
	size_t step = n <= COPY_FEED_MAX ? 1 : n / 7 + 1;

	parse_once(s, n, lim, o);
	parse_bytewise(s, n, lim, &other);
	outcome_assert_eq(o, &other, "bytewise");
	outcome_free(&other);
	for (size_t k = 0; k <= n; k += step) {
		parse_split(s, n, k, lim, &other);
		outcome_assert_eq(o, &other, "split");
		outcome_free(&other);
	}
}

static void expect_cmd_lim(const char *s, size_t n,
			   const struct ap_resp_limits *lim, long long consumed,
			   const struct sarg *args, int argc)
{
	struct outcome o;

	parse_all_ways(s, n, lim, &o);
	ck_assert_msg(o.ret == consumed,
		      "input '%.*s': ret %lld (%s), want %lld",
		      (int)AP_MIN(n, 80), s, o.ret, o.err, consumed);
	ck_assert_int_eq(o.argc, argc);
	for (int i = 0; i < argc; i++) {
		ck_assert_uint_eq(o.lens[i], args[i].len);
		ck_assert_msg(memcmp(o.argv[i], args[i].p, args[i].len) == 0,
			      "arg %d of '%.*s'", i, (int)AP_MIN(n, 80), s);
	}
	outcome_free(&o);
}

static void expect_cmd(const char *s, size_t n, long long consumed,
		       const struct sarg *args, int argc)
{
	struct ap_resp_limits lim = lim_default();

	expect_cmd_lim(s, n, &lim, consumed, args, argc);
}

static void expect_err_lim(const char *s, size_t n,
			   const struct ap_resp_limits *lim, const char *err)
{
	struct outcome o;

	parse_all_ways(s, n, lim, &o);
	ck_assert_msg(o.ret == AP_RESP_ERROR, "input '%.*s': ret %lld",
		      (int)AP_MIN(n, 80), s, o.ret);
	ck_assert_str_eq(o.err, err);
	outcome_free(&o);
}

static void expect_err(const char *s, size_t n, const char *err)
{
	struct ap_resp_limits lim = lim_default();

	expect_err_lim(s, n, &lim, err);
}

static void expect_need_lim(const char *s, size_t n,
			    const struct ap_resp_limits *lim)
{
	struct outcome o;

	parse_all_ways(s, n, lim, &o);
	ck_assert_msg(o.ret == AP_RESP_NEED_MORE, "input '%.*s': ret %lld (%s)",
		      (int)AP_MIN(n, 80), s, o.ret, o.err);
	outcome_free(&o);
}

#define EXPECT_CMD(lit, consumed, ...)                                      \
	do {                                                                \
		const struct sarg args_[] = {__VA_ARGS__};                  \
		expect_cmd(STR(lit), consumed, args_, AP_ARRAY_LEN(args_)); \
	} while (0)
#define EXPECT_EMPTY(lit, consumed) expect_cmd(STR(lit), consumed, NULL, 0)
#define EXPECT_ERR(lit, err)	    expect_err(STR(lit), err)

static const char E_MBULK_LEN[] = "Protocol error: invalid multibulk length";
static const char E_BULK_LEN[] = "Protocol error: invalid bulk length";
static const char E_MBULK_BIG[] = "Protocol error: too big mbulk count string";
static const char E_BULK_BIG[] = "Protocol error: too big bulk count string";
static const char E_INLINE_BIG[] = "Protocol error: too big inline request";
static const char E_QUOTES[] = "Protocol error: unbalanced quotes in request";

/* ---- multibulk ---------------------------------------------------------- */

START_TEST(test_single_command)
{
	EXPECT_CMD("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", 33,
		   S("SET"), S("key"), S("value"));
	EXPECT_CMD("*1\r\n$4\r\nPING\r\n", 14, S("PING"));
	/* An empty argument and a long-ish one. */
	EXPECT_CMD("*2\r\n$0\r\n\r\n$12\r\nhello world!\r\n", 29, S(""),
		   S("hello world!"));
	/* Bytes after the command are not part of it. */
	EXPECT_CMD("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI", 14, S("PING"));
}
END_TEST

START_TEST(test_binary_payloads)
{
	/* Payloads holding CRLF, NUL, '$' and '*' are taken by length. */
	EXPECT_CMD("*3\r\n$4\r\n\r\n\r\n\r\n$3\r\n\0\r\n\r\n$6\r\n*1\r\n$3\r\n",
		   35, S("\r\n\r\n"), S("\0\r\n"), S("*1\r\n$3"));
	EXPECT_CMD("*1\r\n$5\r\n\xff\x00\x80\x7f\n\r\n", 15,
		   S("\xff\x00\x80\x7f\n"));
}
END_TEST

START_TEST(test_lenient_trailers)
{
	/* As Redis, the two bytes after a payload and the byte after a
	 * header's '\r' are skipped without being checked. */
	EXPECT_CMD("*1\r\n$3\r\nfooXY", 13, S("foo"));
	EXPECT_CMD("*2\rX$3\r\nfoo\r\n$1\rYb\r\n", 20, S("foo"), S("b"));
}
END_TEST

START_TEST(test_empty_multibulk)
{
	EXPECT_EMPTY("*0\r\n", 4);
	EXPECT_EMPTY("*-1\r\n", 5);
	/* Redis takes any count <= 0 as an empty command. */
	EXPECT_EMPTY("*-5\r\n", 5);
	EXPECT_EMPTY("*0\r\n*1\r\n$4\r\nPING\r\n", 4);
}
END_TEST

START_TEST(test_pipelined)
{
	static const char in[] = "*1\r\n$4\r\nPING\r\n"
				 "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"
				 "*0\r\n"
				 "PING\r\n"
				 "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
	static const int argcs[] = {1, 2, 0, 1, 3};
	static const char *first[] = {"PING", "ECHO", NULL, "PING", "SET"};
	struct ap_resp_limits lim = lim_default();
	struct ap_resp_req rq;
	struct ap_arg argv[4];
	const char *err = NULL;
	size_t off = 0, n = sizeof(in) - 1;

	ap_resp_req_init(&rq);
	for (size_t i = 0; i < AP_ARRAY_LEN(argcs); i++) {
		long long r = ap_resp_parse(&rq, in + off, n - off, &lim, &err);

		ck_assert_int_gt(r, 0);
		ck_assert_int_eq(rq.argc, argcs[i]);
		ap_resp_req_argv(&rq, in + off, argv);
		if (first[i]) {
			ck_assert_uint_eq(argv[0].len, strlen(first[i]));
			ck_assert(memcmp(argv[0].p, first[i], argv[0].len) ==
				  0);
		}
		off += (size_t)r;
		ap_resp_req_reset(&rq);
	}
	ck_assert_uint_eq(off, n);
	ck_assert_int_eq(ap_resp_parse(&rq, in + off, 0, &lim, &err),
			 AP_RESP_NEED_MORE);
	ap_resp_req_deinit(&rq);
}
END_TEST

START_TEST(test_buffer_moves)
{
	/* The caller may move its buffer between calls: arguments are
	 * offsets, so argv points into the buffer of the last call. */
	static const char in[] = "*2\r\n$3\r\nGET\r\n$5\r\nmykey\r\n";
	struct ap_resp_limits lim = lim_default();
	struct ap_resp_req rq;
	struct ap_arg argv[2];
	const char *err = NULL;
	size_t n = sizeof(in) - 1;
	char *a = malloc(n), *b = malloc(n);

	memcpy(a, in, n);
	memcpy(b, in, n);
	ap_resp_req_init(&rq);
	ck_assert_int_eq(ap_resp_parse(&rq, a, 20, &lim, &err),
			 AP_RESP_NEED_MORE);
	free(a);
	ck_assert_int_eq(ap_resp_parse(&rq, b, n, &lim, &err), (long long)n);
	ap_resp_req_argv(&rq, b, argv);
	ck_assert_ptr_eq(argv[0].p, b + 8);
	ck_assert_ptr_eq(argv[1].p, b + 17);
	ck_assert_uint_eq(argv[1].len, 5);
	ap_resp_req_deinit(&rq);
	free(b);
}
END_TEST

START_TEST(test_need)
{
	static const char in[] = "*2\r\n$3\r\nSET\r\n$10\r\nab";
	struct ap_resp_limits lim = lim_default();
	struct ap_resp_req rq;
	const char *err = NULL;

	ap_resp_req_init(&rq);
	ck_assert_int_eq(ap_resp_parse(&rq, in, 0, &lim, &err),
			 AP_RESP_NEED_MORE);
	ck_assert_uint_eq(ap_resp_need(&rq), 1);
	ck_assert_int_eq(ap_resp_parse(&rq, in, 3, &lim, &err),
			 AP_RESP_NEED_MORE);
	ck_assert_uint_eq(ap_resp_need(&rq), 4);
	/* "*2\r\n$3\r\nSET\r\n$10\r\n" is 18 bytes: payload 18..28, CRLF. */
	ck_assert_int_eq(ap_resp_parse(&rq, in, sizeof(in) - 1, &lim, &err),
			 AP_RESP_NEED_MORE);
	ck_assert_uint_eq(ap_resp_need(&rq), 30);
	ck_assert_int_eq(rq.argc, 1);
	ap_resp_req_deinit(&rq);
}
END_TEST

START_TEST(test_mbulk_len_errors)
{
	EXPECT_ERR("*abc\r\n", E_MBULK_LEN);
	EXPECT_ERR("*\r\n", E_MBULK_LEN);
	EXPECT_ERR("*+1\r\n", E_MBULK_LEN);
	EXPECT_ERR("*01\r\n", E_MBULK_LEN);
	EXPECT_ERR("*1 \r\n", E_MBULK_LEN);
	EXPECT_ERR("* 1\r\n", E_MBULK_LEN);
	EXPECT_ERR("*-0\r\n", E_MBULK_LEN);
	EXPECT_ERR("*-\r\n", E_MBULK_LEN);
	EXPECT_ERR("*1\n$4\r\nPING\r\n", E_MBULK_LEN);
	EXPECT_ERR("*99999999999999999999\r\n", E_MBULK_LEN);
	EXPECT_ERR("*9223372036854775808\r\n", E_MBULK_LEN);
	EXPECT_ERR("*-9223372036854775809\r\n", E_MBULK_LEN);
	/* Within long long but negative: an empty command, as Redis. */
	EXPECT_EMPTY("*-9223372036854775808\r\n", 23);
}
END_TEST

START_TEST(test_expected_dollar)
{
	EXPECT_ERR("*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'");
	EXPECT_ERR("*2\r\n$1\r\na\r\n:1\r\n",
		   "Protocol error: expected '$', got ':'");
	EXPECT_ERR("*2\r\n$1\r\na\r\n*1\r\n",
		   "Protocol error: expected '$', got '*'");
	/* Bytes an error line cannot carry show as a space. */
	EXPECT_ERR("*1\r\n\r\n", "Protocol error: expected '$', got ' '");
	EXPECT_ERR("*1\r\n\n", "Protocol error: expected '$', got ' '");
	EXPECT_ERR("*1\r\n\0", "Protocol error: expected '$', got ' '");
	/* Reported as soon as the byte arrives. */
	EXPECT_ERR("*1\r\nX", "Protocol error: expected '$', got 'X'");
}
END_TEST

START_TEST(test_bulk_len_errors)
{
	EXPECT_ERR("*1\r\n$-1\r\n", E_BULK_LEN);
	EXPECT_ERR("*1\r\n$-5\r\n", E_BULK_LEN);
	EXPECT_ERR("*1\r\n$abc\r\n", E_BULK_LEN);
	EXPECT_ERR("*1\r\n$\r\n", E_BULK_LEN);
	EXPECT_ERR("*1\r\n$+1\r\n", E_BULK_LEN);
	EXPECT_ERR("*1\r\n$01\r\n", E_BULK_LEN);
	EXPECT_ERR("*1\r\n$1 \r\n", E_BULK_LEN);
	EXPECT_ERR("*1\r\n$-0\r\n", E_BULK_LEN);
	EXPECT_ERR("*1\r\n$99999999999999999999\r\n", E_BULK_LEN);
	EXPECT_ERR("*2\r\n$1\r\na\r\n$x\r\n", E_BULK_LEN);
	/* proto-max-bulk-len at its default: MAX waits, MAX+1 fails. */
	expect_need_lim(STR("*1\r\n$536870912\r\n"),
			&(struct ap_resp_limits){AP_PROTO_MAX_BULK_LEN_DEFAULT,
						 AP_ARGC_MAX,
						 AP_INLINE_MAX_LEN});
	EXPECT_ERR("*1\r\n$536870913\r\n", E_BULK_LEN);
}
END_TEST

START_TEST(test_argc_max)
{
	struct ap_resp_limits lim = lim_default();
	const struct sarg abc[] = {S("a"), S("b"), S("c")};
	struct ap_resp_req rq;
	const char *err = NULL;

	lim.argc_max = 3;
	expect_cmd_lim(STR("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"), &lim, 25,
		       abc, 3);
	expect_err_lim(STR("*4\r\n$1\r\na\r\n"), &lim, E_MBULK_LEN);
	/* The real limit: the header alone is accepted at MAX, refused at
	 * MAX+1, and accepting it allocates nothing for the arguments the
	 * client merely announced. */
	lim = lim_default();
	expect_need_lim(STR("*1048576\r\n"), &lim);
	EXPECT_ERR("*1048577\r\n", E_MBULK_LEN);
	ck_assert_int_eq(AP_ARGC_MAX, 1048576);
	ap_resp_req_init(&rq);
	ck_assert_int_eq(
		ap_resp_parse(&rq, STR("*1048576\r\n$1\r\nx\r\n"), &lim, &err),
		AP_RESP_NEED_MORE);
	ck_assert_int_eq(rq.argc, 1);
	ck_assert_int_le(rq.arg_cap, 16);
	ap_resp_req_deinit(&rq);
}
END_TEST

START_TEST(test_bulk_len_max)
{
	struct ap_resp_limits lim = lim_default();
	const size_t max = AP_PROTO_MAX_BULK_LEN_MIN;
	char hdr[64];
	size_t hlen, n;
	char *in;
	struct outcome o;

	lim.bulk_len_max = (long long)max;
	/* Exactly MAX: accepted and parsed. */
	hlen = (size_t)snprintf(hdr, sizeof(hdr), "*1\r\n$%zu\r\n", max);
	n = hlen + max + 2;
	in = malloc(n);
	memcpy(in, hdr, hlen);
	memset(in + hlen, 'v', max);
	memcpy(in + hlen + max, "\r\n", 2);
	parse_all_ways(in, n, &lim, &o);
	ck_assert_int_eq(o.ret, (long long)n);
	ck_assert_int_eq(o.argc, 1);
	ck_assert_uint_eq(o.lens[0], max);
	ck_assert(o.argv[0][0] == 'v' && o.argv[0][max - 1] == 'v');
	outcome_free(&o);
	free(in);
	/* MAX+1: refused as soon as its header is in. */
	hlen = (size_t)snprintf(hdr, sizeof(hdr), "*1\r\n$%zu\r\n", max + 1);
	expect_err_lim(hdr, hlen, &lim, E_BULK_LEN);
}
END_TEST

/* Builds prefix + `count` bytes of `fill`, optionally followed by "\r\n". */
static char *make_line(const char *prefix, char fill, size_t count, bool crlf,
		       size_t *n)
{
	size_t plen = strlen(prefix);
	char *s = malloc(plen + count + 2);

	memcpy(s, prefix, plen);
	memset(s + plen, fill, count);
	*n = plen + count;
	if (crlf) {
		memcpy(s + *n, "\r\n", 2);
		*n += 2;
	}
	return s;
}

/* A header line of exactly `max` bytes before its '\r' is parsed (and is
 * not a valid number); one byte more without '\r' is "too big". */
static void check_header_limit(const char *prefix, const char *too_big,
			       const char *invalid)
{
	struct ap_resp_limits lim = lim_default();
	const size_t max = AP_PROTO_HEADER_MAX_LEN;
	size_t plen = strlen(prefix), n;
	char *s;

	/* The line starts at the last byte of prefix ('*' or '$'). */
	s = make_line(prefix, '1', max - 1, false, &n);
	expect_need_lim(s, n, &lim);
	free(s);
	s = make_line(prefix, '1', max, false, &n);
	expect_err_lim(s, n, &lim, too_big);
	free(s);
	s = make_line(prefix, '1', max - 1, true, &n);
	ck_assert_uint_eq(n, plen + max + 1);
	expect_err_lim(s, n, &lim, invalid);
	free(s);
	s = make_line(prefix, '1', max, true, &n);
	expect_err_lim(s, n, &lim, too_big);
	free(s);
}

START_TEST(test_header_limit)
{
	check_header_limit("*", E_MBULK_BIG, E_MBULK_LEN);
	check_header_limit("*1\r\n$", E_BULK_BIG, E_BULK_LEN);
	check_header_limit("*2\r\n$1\r\na\r\n$", E_BULK_BIG, E_BULK_LEN);
}
END_TEST

/* ---- inline ------------------------------------------------------------- */

START_TEST(test_inline_basic)
{
	EXPECT_CMD("PING\r\n", 6, S("PING"));
	EXPECT_CMD("PING\n", 5, S("PING"));
	EXPECT_CMD("set  key\tvalue \r\n", 17, S("set"), S("key"), S("value"));
	EXPECT_CMD("  GET k\r\nPING\r\n", 9, S("GET"), S("k"));
	/* '\r' inside a line separates words; only a trailing one is cut. */
	EXPECT_CMD("a\rb\r\r\n", 6, S("a"), S("b"));
	/* Not starting with '*': inline, even if it looks like RESP. */
	EXPECT_CMD("$3\r\n", 4, S("$3"));
	/* A NUL ends the line as Redis sees it. */
	EXPECT_CMD("GET a\0b c\r\n", 11, S("GET"), S("a"));
}
END_TEST

START_TEST(test_inline_empty)
{
	EXPECT_EMPTY("\r\n", 2);
	EXPECT_EMPTY("\n", 1);
	EXPECT_EMPTY(" \t \r\n", 5);
	EXPECT_EMPTY("\0abc\n", 5);
	EXPECT_EMPTY("\n*1\r\n$4\r\nPING\r\n", 1);
}
END_TEST

START_TEST(test_inline_quotes)
{
	EXPECT_CMD("SET key \"hello world\"\r\n", 23, S("SET"), S("key"),
		   S("hello world"));
	EXPECT_CMD("\"\\x41\\x7a\\n\\r\\t\\b\\a\\\\\\\"\\q\"\n", 27,
		   S("Az\n\r\t\b\a\\\"q"));
	/* \x needs two hex digits, else it is an ordinary escape. */
	EXPECT_CMD("\"\\xZZ\" \"\\x4\" \"\\x00\"\n", 20, S("xZZ"), S("x4"),
		   S("\0"));
	EXPECT_CMD("'it\\'s' 'a\\nb' 'c\"d'\n", 21, S("it's"), S("a\\nb"),
		   S("c\"d"));
	/* A quote may open in the middle of a word. */
	EXPECT_CMD("foo\"bar baz\" x'y z'\n", 20, S("foobar baz"), S("xy z"));
	EXPECT_CMD("\"\" ''\n", 6, S(""), S(""));
	EXPECT_CMD("\"a\"\tb\r\n", 7, S("a"), S("b"));
	/* The closing quote at the very end of the line. */
	EXPECT_CMD("ECHO \"x y\"\r\n", 12, S("ECHO"), S("x y"));
}
END_TEST

START_TEST(test_inline_unbalanced)
{
	EXPECT_ERR("SET \"foo\r\n", E_QUOTES);
	EXPECT_ERR("SET 'foo\n", E_QUOTES);
	EXPECT_ERR("SET \"foo\"bar\n", E_QUOTES);
	EXPECT_ERR("'a'b\n", E_QUOTES);
	EXPECT_ERR("\"\\\"\n", E_QUOTES);
	EXPECT_ERR("\"abc\\\n", E_QUOTES);
	EXPECT_ERR("'abc\\'\n", E_QUOTES);
	EXPECT_ERR("\"a\"\"b\"\n", E_QUOTES);
	/* A NUL cuts the line inside the quotes. */
	EXPECT_ERR("\"a\0\"\n", E_QUOTES);
}
END_TEST

START_TEST(test_inline_too_big)
{
	struct ap_resp_limits lim = lim_default();
	const size_t max = AP_INLINE_MAX_LEN;
	struct outcome o;
	size_t n;
	char *s;

	s = make_line("", 'a', max, false, &n);
	expect_need_lim(s, n, &lim);
	free(s);
	s = make_line("", 'a', max + 1, false, &n);
	expect_err_lim(s, n, &lim, E_INLINE_BIG);
	free(s);
	/* A line of MAX bytes before its '\n' (a '\r' included) is fine. */
	s = make_line("", 'a', max, true, &n);
	s[n - 2] = '\n';
	parse_all_ways(s, n - 1, &lim, &o);
	ck_assert_int_eq(o.ret, (long long)max + 1);
	ck_assert_int_eq(o.argc, 1);
	ck_assert_uint_eq(o.lens[0], max);
	outcome_free(&o);
	free(s);
	s = make_line("", 'a', max - 1, true, &n);
	parse_all_ways(s, n, &lim, &o);
	ck_assert_int_eq(o.ret, (long long)max + 1);
	ck_assert_uint_eq(o.lens[0], max - 1);
	outcome_free(&o);
	free(s);
	s = make_line("", 'a', max, true, &n);
	expect_err_lim(s, n, &lim, E_INLINE_BIG);
	free(s);
	/* The limit is the caller's. */
	lim.inline_max = 4;
	expect_cmd_lim(STR("ab\r\n"), &lim, 4, (const struct sarg[]){S("ab")},
		       1);
	expect_err_lim(STR("abcde"), &lim, E_INLINE_BIG);
}
END_TEST

START_TEST(test_inline_argc_max)
{
	struct ap_resp_limits lim = lim_default();
	const struct sarg abc[] = {S("a"), S("b"), S("c")};

	lim.argc_max = 3;
	expect_cmd_lim(STR("a b c\r\n"), &lim, 7, abc, 3);
	expect_err_lim(STR("a b c d\r\n"), &lim,
		       "Protocol error: too many arguments in inline request");
}
END_TEST

/* ---- scale -------------------------------------------------------------- */

static double elapsed_s(uint64_t t0)
{
	return (double)(ap_time_ns() - t0) / 1e9;
}

START_TEST(test_million_args)
{
	const int count = AP_ARGC_MAX;
	const size_t piece = 16 * 1024;
	struct ap_resp_limits lim = lim_default();
	struct ap_resp_req rq;
	struct ap_arg *argv;
	const char *err = NULL;
	size_t n = 0, len = 0;
	long long r = AP_RESP_NEED_MORE;
	int calls = 0;
	uint64_t t0;
	char *in = malloc(32 + (size_t)count * 7);

	n = (size_t)sprintf(in, "*%d\r\n", count);
	for (int i = 0; i < count; i++) {
		memcpy(in + n, "$1\r\nx\r\n", 7);
		in[n + 4] = (char)('a' + i % 26);
		n += 7;
	}
	ap_resp_req_init(&rq);
	t0 = ap_time_ns();
	while (r == AP_RESP_NEED_MORE) {
		len = AP_MIN(len + piece, n);
		r = ap_resp_parse(&rq, in, len, &lim, &err);
		calls++;
		if (calls == 1) /* grown to what arrived, not to `count` */
			ck_assert_int_le(rq.arg_cap, 2 * (int)(piece / 7) + 16);
	}
	ck_assert_msg(elapsed_s(t0) < 2.0, "1M args took %.3f s",
		      elapsed_s(t0));
	ck_assert_int_eq(r, (long long)n);
	ck_assert_int_eq(calls, (int)((n + piece - 1) / piece));
	ck_assert_int_eq(rq.argc, count);
	ck_assert_int_le(rq.arg_cap, 2 * count);
	argv = malloc(sizeof(*argv) * (size_t)count);
	ap_resp_req_argv(&rq, in, argv);
	for (int i = 0; i < count; i += 4099) {
		ck_assert_uint_eq(argv[i].len, 1);
		ck_assert_int_eq(argv[i].p[0], 'a' + i % 26);
	}
	ck_assert_int_eq(argv[count - 1].p[0], 'a' + (count - 1) % 26);
	free(argv);
	ap_resp_req_deinit(&rq);
	free(in);
}
END_TEST

START_TEST(test_big_bulk)
{
	const size_t big = 64u * 1024 * 1024, piece = 16 * 1024;
	struct ap_resp_limits lim = lim_default();
	struct ap_resp_req rq;
	struct ap_arg argv[3];
	const char *err = NULL;
	long long r = AP_RESP_NEED_MORE;
	size_t hlen, n, len = 0;
	int need_wrong = 0;
	uint64_t t0;
	char *in;

	in = malloc(64 + big + 32);
	hlen = (size_t)sprintf(in, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%zu\r\n",
			       big);
	for (size_t i = 0; i < big; i++)
		in[hlen + i] = (char)(i * 131 + (i >> 13));
	memcpy(in + hlen + big, "\r\n*1\r\n$4\r\nPING\r\n", 16);
	n = hlen + big + 2;
	ap_resp_req_init(&rq);
	t0 = ap_time_ns();
	while (r == AP_RESP_NEED_MORE) {
		len = AP_MIN(len + piece, n + 16);
		r = ap_resp_parse(&rq, in, len, &lim, &err);
		if (r == AP_RESP_NEED_MORE && ap_resp_need(&rq) != n)
			need_wrong++;
	}
	ck_assert_msg(elapsed_s(t0) < 2.0, "64 MiB bulk took %.3f s",
		      elapsed_s(t0));
	ck_assert_int_eq(need_wrong, 0); /* it knows what it waits for */
	ck_assert_int_eq(r, (long long)n);
	ck_assert_int_eq(rq.argc, 3);
	ap_resp_req_argv(&rq, in, argv);
	ck_assert_ptr_eq(argv[2].p, in + hlen);
	ck_assert_uint_eq(argv[2].len, big);
	ck_assert(argv[1].len == 1 && argv[1].p[0] == 'k');
	/* The next command follows. */
	ap_resp_req_reset(&rq);
	r = ap_resp_parse(&rq, in + n, 14, &lim, &err);
	ck_assert_int_eq(r, 14);
	ap_resp_req_deinit(&rq);
	free(in);
}
END_TEST

START_TEST(test_no_alloc_per_command)
{
	static const char in[] =
		"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
		"SET k \"v w\"\r\n";
	struct ap_resp_limits lim = lim_default();
	struct ap_resp_req rq;
	struct ap_resp_argoff *args = NULL;
	const char *err = NULL;
	int64_t used = 0;
	long long r;

	ap_resp_req_init(&rq);
	for (int round = 0; round < 1000; round++) {
		size_t off = 0;

		if (round == 1) {
			used = ap_mem_thread_used();
			args = rq.args;
		}
		while (off < sizeof(in) - 1) {
			r = ap_resp_parse(&rq, in + off, sizeof(in) - 1 - off,
					  &lim, &err);
			ck_assert_int_gt(r, 0);
			ck_assert_int_eq(rq.argc, 3);
			off += (size_t)r;
			ap_resp_req_reset(&rq);
		}
	}
	ck_assert_int_eq(ap_mem_thread_used(), used);
	ck_assert_ptr_eq(rq.args, args);
	ap_resp_req_deinit(&rq);
	ck_assert_ptr_null(rq.args);
	ck_assert_ptr_null(rq.inline_buf);
}
END_TEST

/* Prints the cost of parsing "SET <16-byte key> <32-byte value>", in a
 * pipeline of distinct commands and for one command parsed repeatedly.
 * Asserts what was parsed, never the time. */
static void bench_set(void)
{
	static const char cmd[] = "*3\r\n$3\r\nSET\r\n"
				  "$16\r\nkey:000000000000\r\n"
				  "$32\r\nvalue:00000000000000000000000000\r\n";
	const size_t clen = sizeof(cmd) - 1, count = 200000;
	struct ap_resp_limits lim = lim_default();
	struct ap_resp_req rq;
	struct ap_arg argv[3];
	const char *err = NULL;
	size_t off = 0, total = 0, bad = 0;
	char *in = malloc(clen * count);
	uint64_t t0;
	double pipe_ns, hot_ns;

	for (size_t i = 0; i < count; i++) {
		memcpy(in + i * clen, cmd, clen);
		snprintf(in + i * clen + 26, 7, "%06zu", i % 1000000);
		in[i * clen + 32] = '0';
	}
	ap_resp_req_init(&rq);
	t0 = ap_time_ns();
	while (off < clen * count) {
		long long r = ap_resp_parse(&rq, in + off, clen * count - off,
					    &lim, &err);
		if (r != (long long)clen) {
			bad++;
			break;
		}
		ap_resp_req_argv(&rq, in + off, argv);
		total += argv[2].len;
		off += (size_t)r;
		ap_resp_req_reset(&rq);
	}
	pipe_ns = (double)(ap_time_ns() - t0) / (double)count;
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(total, 32 * count);
	t0 = ap_time_ns();
	for (size_t i = 0; i < count; i++) {
		long long r = ap_resp_parse(&rq, cmd, clen, &lim, &err);
		bad += r != (long long)clen;
		ap_resp_req_reset(&rq);
	}
	hot_ns = (double)(ap_time_ns() - t0) / (double)count;
	ck_assert_uint_eq(bad, 0);
	printf("bench resp SET (16 B key, 32 B value): %.1f ns/command "
	       "pipelined, %.1f ns/command same buffer\n",
	       pipe_ns, hot_ns);
	ap_resp_req_deinit(&rq);
	free(in);
}

START_TEST(test_bench_set)
{
	bench_set();
}
END_TEST

static Suite *resp_suite(void)
{
	Suite *s = suite_create("resp");
	TCase *tc = tcase_create("parse");
	TCase *big = tcase_create("scale");

	tcase_add_test(tc, test_single_command);
	tcase_add_test(tc, test_binary_payloads);
	tcase_add_test(tc, test_lenient_trailers);
	tcase_add_test(tc, test_empty_multibulk);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_buffer_moves);
	tcase_add_test(tc, test_need);
	tcase_add_test(tc, test_mbulk_len_errors);
	tcase_add_test(tc, test_expected_dollar);
	tcase_add_test(tc, test_bulk_len_errors);
	tcase_add_test(tc, test_argc_max);
	tcase_add_test(tc, test_inline_basic);
	tcase_add_test(tc, test_inline_empty);
	tcase_add_test(tc, test_inline_quotes);
	tcase_add_test(tc, test_inline_unbalanced);
	tcase_add_test(tc, test_inline_argc_max);
	tcase_add_test(tc, test_no_alloc_per_command);
	suite_add_tcase(s, tc);
	tcase_set_timeout(big, 120);
	tcase_add_test(big, test_bulk_len_max);
	tcase_add_test(big, test_header_limit);
	tcase_add_test(big, test_inline_too_big);
	tcase_add_test(big, test_million_args);
	tcase_add_test(big, test_big_bulk);
	tcase_add_test(big, test_bench_set);
	suite_add_tcase(s, big);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
