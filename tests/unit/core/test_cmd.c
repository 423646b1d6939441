/*
 * test_cmd.c - unit tests for core/cmd.c: registration and
 * case-insensitive lookup, subcommands, arity, key positions (fixed,
 * negative last key, step 2, too few arguments) and the argument helpers,
 * the SCAN family's among them (the cursor also against strtoul, the
 * reference Redis uses, on random texts).
 */
#include "core/cmd.h"

#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fn_nop(struct ap_cmd_ctx *c)
{
	(void)c;
}

static const struct ap_cmd config_subs[] = {
	{.name = "get", .arity = -3, .fn = fn_nop},
	{.name = "config|set", .arity = -4, .fn = fn_nop},
	{.name = NULL},
};

static const struct ap_cmd test_cmds[] = {
	{.name = "get",
	 .arity = 2,
	 .first_key = 1,
	 .last_key = 1,
	 .key_step = 1,
	 .fn = fn_nop},
	{.name = "set",
	 .arity = -3,
	 .first_key = 1,
	 .last_key = 1,
	 .key_step = 1,
	 .fn = fn_nop},
	{.name = "mset",
	 .arity = -3,
	 .first_key = 1,
	 .last_key = -1,
	 .key_step = 2,
	 .split = AP_SPLIT_OK,
	 .fn = fn_nop},
	{.name = "mget",
	 .arity = -2,
	 .first_key = 1,
	 .last_key = -1,
	 .key_step = 1,
	 .split = AP_SPLIT_ARRAY,
	 .fn = fn_nop},
	{.name = "blpop",
	 .arity = -3,
	 .first_key = 1,
	 .last_key = -2,
	 .key_step = 1,
	 .fn = fn_nop},
	{.name = "rpoplpush",
	 .arity = 3,
	 .first_key = 1,
	 .last_key = 2,
	 .key_step = 1,
	 .fn = fn_nop},
	{.name = "ping", .arity = -1, .fn = fn_nop},
	{.name = "config", .arity = -2, .fn = fn_nop, .subcmds = config_subs},
	{.name = NULL},
};

static const struct ap_cmd more_cmds[] = {
	{.name = "georadiusbymember_ro",
	 .arity = -6,
	 .first_key = 1,
	 .last_key = 1,
	 .key_step = 1,
	 .fn = fn_nop},
	{.name = NULL},
};

static void table_setup(void)
{
	ap_cmd_table_add(test_cmds);
	ap_cmd_table_add(more_cmds);
}

/* ap_keyidx: on the stack up to AP_KEYIDX_SMALL arguments, allocated
 * beyond, the same positions either way. */
START_TEST(test_keyidx)
{
	static struct ap_arg argv[2 * AP_KEYIDX_SMALL + 1];
	const struct ap_cmd *mset = ap_cmd_lookup("mset", 4);
	struct ap_keyidx ki;

	for (size_t i = 0; i < AP_ARRAY_LEN(argv); i++)
		argv[i] = (struct ap_arg){.p = "x", .len = 1};
	ck_assert_ptr_nonnull(mset);
	ap_keyidx_init(&ki, mset, 5, argv); /* mset k v k v */
	ck_assert_ptr_eq(ki.idx, ki.small);
	ck_assert_uint_eq(ki.n, 2);
	ck_assert_int_eq(ki.idx[0], 1);
	ck_assert_int_eq(ki.idx[1], 3);
	ap_keyidx_deinit(&ki);
	ap_keyidx_init(&ki, mset, (int)AP_ARRAY_LEN(argv), argv);
	ck_assert_ptr_ne(ki.idx, ki.small);
	ck_assert_uint_eq(ki.n, AP_KEYIDX_SMALL);
	ck_assert_int_eq(ki.idx[AP_KEYIDX_SMALL - 1], 2 * AP_KEYIDX_SMALL - 1);
	ap_keyidx_deinit(&ki);
	ck_assert_uint_eq(ki.n, 0);
}
END_TEST

START_TEST(test_lookup)
{
	const struct ap_cmd *get = ap_cmd_lookup("get", 3);

	ck_assert_ptr_eq(get, &test_cmds[0]);
	ck_assert_ptr_eq(ap_cmd_lookup("GET", 3), get);
	ck_assert_ptr_eq(ap_cmd_lookup("gEt", 3), get);
	ck_assert_ptr_eq(ap_cmd_lookup("getx", 3), get); /* len counts */
	ck_assert_ptr_eq(ap_cmd_lookup("MSET", 4), &test_cmds[2]);
	ck_assert_ptr_eq(ap_cmd_lookup("GeoRadiusByMember_RO", 20),
			 &more_cmds[0]);
	ck_assert_ptr_null(ap_cmd_lookup("ge", 2));
	ck_assert_ptr_null(ap_cmd_lookup("gett", 4));
	ck_assert_ptr_null(ap_cmd_lookup("", 0));
	ck_assert_ptr_null(ap_cmd_lookup("get\0", 4));
	ck_assert_ptr_null(ap_cmd_lookup("g\xc5t", 3));
	ck_assert_ptr_null(ap_cmd_lookup("get|x", 5));

	char longname[300];
	memset(longname, 'g', sizeof(longname));
	ck_assert_ptr_null(ap_cmd_lookup(longname, sizeof(longname)));
}
END_TEST

START_TEST(test_count_and_at)
{
	ck_assert_uint_eq(ap_cmd_count(), 9);
	for (size_t i = 0; i < 8; i++)
		ck_assert_ptr_eq(ap_cmd_at(i), &test_cmds[i]);
	ck_assert_ptr_eq(ap_cmd_at(8), &more_cmds[0]);
}
END_TEST

START_TEST(test_at_out_of_range_aborts)
{
	ap_cmd_at(ap_cmd_count());
}
END_TEST

START_TEST(test_many_commands)
{
	enum { N = 600 };
	static char names[N][16];
	static struct ap_cmd cmds[N + 1];

	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "cmd%d", i);
		cmds[i] = (struct ap_cmd){
			.name = names[i], .arity = -1, .fn = fn_nop};
	}
	ap_cmd_table_add(cmds);
	ck_assert_uint_eq(ap_cmd_count(), 9 + N);
	for (int i = 0; i < N; i++) {
		char upper[16];
		int n = snprintf(upper, sizeof(upper), "CMD%d", i);
		ck_assert_ptr_eq(ap_cmd_lookup(upper, (size_t)n), &cmds[i]);
	}
	/* The earlier tables survive the index growing. */
	ck_assert_ptr_eq(ap_cmd_lookup("PING", 4), &test_cmds[6]);
	ck_assert_ptr_null(ap_cmd_lookup("cmd600", 6));
}
END_TEST

START_TEST(test_duplicate_aborts)
{
	static const struct ap_cmd dup[] = {
		{.name = "Get", .arity = 2, .fn = fn_nop},
		{.name = NULL},
	};
	ap_cmd_table_add(dup);
}
END_TEST

START_TEST(test_sub_lookup)
{
	const struct ap_cmd *config = ap_cmd_lookup("config", 6);

	ck_assert_ptr_nonnull(config);
	ck_assert_ptr_eq(ap_cmd_sub_lookup(config, "GET", 3), &config_subs[0]);
	ck_assert_ptr_eq(ap_cmd_sub_lookup(config, "set", 3), &config_subs[1]);
	ck_assert_ptr_eq(ap_cmd_sub_lookup(config, "SeT", 3), &config_subs[1]);
	ck_assert_ptr_null(ap_cmd_sub_lookup(config, "rewrite", 7));
	ck_assert_ptr_null(ap_cmd_sub_lookup(config, "ge", 2));
	ck_assert_ptr_null(ap_cmd_sub_lookup(config, "", 0));
	ck_assert_ptr_null(
		ap_cmd_sub_lookup(ap_cmd_lookup("get", 3), "get", 3));
}
END_TEST

START_TEST(test_arity)
{
	const struct ap_cmd *get = ap_cmd_lookup("get", 3);
	const struct ap_cmd *set = ap_cmd_lookup("set", 3);
	const struct ap_cmd *ping = ap_cmd_lookup("ping", 4);

	ck_assert(!ap_cmd_arity_ok(get, 1));
	ck_assert(ap_cmd_arity_ok(get, 2));
	ck_assert(!ap_cmd_arity_ok(get, 3));
	ck_assert(!ap_cmd_arity_ok(set, 2));
	ck_assert(ap_cmd_arity_ok(set, 3));
	ck_assert(ap_cmd_arity_ok(set, 100));
	ck_assert(ap_cmd_arity_ok(ping, 1));
	ck_assert(ap_cmd_arity_ok(ping, 2));
	ck_assert(!ap_cmd_arity_ok(ping, 0));
}
END_TEST

/* Key positions of cmd for argc arguments, compared with want[0..n). */
static void keys_check(const char *cmd, int argc, const int *want, size_t n)
{
	struct ap_arg argv[16];
	int idx[16];

	for (int i = 0; i < argc; i++)
		argv[i] = (struct ap_arg){.p = "x", .len = 1};
	memset(idx, -1, sizeof(idx));
	size_t got = ap_cmd_keys(ap_cmd_lookup(cmd, strlen(cmd)), argc, argv,
				 idx, 16);
	ck_assert_msg(got == n, "%s argc %d: %zu keys, want %zu", cmd, argc,
		      got, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(idx[i], want[i]);
	ck_assert_int_eq(idx[n], -1); /* nothing written past the keys */
}

START_TEST(test_keys)
{
	keys_check("get", 2, (int[]){1}, 1);
	keys_check("set", 5, (int[]){1}, 1);
	/* step 2, last -1: MSET k1 v1 k2 v2 k3 v3 */
	keys_check("mset", 7, (int[]){1, 3, 5}, 3);
	keys_check("mset", 3, (int[]){1}, 1);
	keys_check("mget", 4, (int[]){1, 2, 3}, 3);
	keys_check("mget", 2, (int[]){1}, 1);
	/* last -2: BLPOP a b c timeout */
	keys_check("blpop", 5, (int[]){1, 2, 3}, 3);
	keys_check("blpop", 3, (int[]){1}, 1);
	keys_check("rpoplpush", 3, (int[]){1, 2}, 2);
	/* No keys: first_key 0, or too few arguments. */
	keys_check("ping", 2, NULL, 0);
	keys_check("config", 3, NULL, 0);
	keys_check("get", 1, NULL, 0);
	keys_check("mget", 1, NULL, 0);
	keys_check("blpop", 2, NULL, 0);
	keys_check("rpoplpush", 2, NULL, 0);
	keys_check("rpoplpush", 0, NULL, 0);
}
END_TEST

START_TEST(test_keys_max)
{
	struct ap_arg argv[10];
	int idx[4] = {-1, -1, -1, -1};

	for (int i = 0; i < 10; i++)
		argv[i] = (struct ap_arg){.p = "k", .len = 1};
	size_t n = ap_cmd_keys(ap_cmd_lookup("mget", 4), 10, argv, idx, 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(idx[0], 1);
	ck_assert_int_eq(idx[2], 3);
	ck_assert_int_eq(idx[3], -1);
	ck_assert_uint_eq(
		ap_cmd_keys(ap_cmd_lookup("mget", 4), 10, argv, idx, 0), 0);
}
END_TEST

/* A command context with a RESP2 writer over a fresh obuf. */
struct fixture {
	struct ap_obuf out;
	struct ap_reply r;
	struct ap_cmd_ctx c;
};

static void fixture_init(struct fixture *f)
{
	ap_obuf_init(&f->out);
	ap_reply_init(&f->r, &f->out, 2);
	memset(&f->c, 0, sizeof(f->c));
	f->c.r = &f->r;
}

/* Asserts the fixture's output is exactly want, then clears it. */
static void fixture_out(struct fixture *f, const char *want)
{
	size_t len;
	char *got = ap_obuf_flatten(&f->out, &len);

	ck_assert_uint_eq(len, strlen(want));
	ck_assert(memcmp(got, want, len) == 0);
	ap_free(got);
	ap_obuf_deinit(&f->out);
}

START_TEST(test_arg_ll)
{
	struct fixture f;
	long long v = 0;

	fixture_init(&f);
	ck_assert(ap_arg_ll(&f.c, &(struct ap_arg){"-42", 3}, &v));
	ck_assert_int_eq(v, -42);
	ck_assert(ap_arg_ll(&f.c, &(struct ap_arg){"9223372036854775807", 19},
			    &v));
	ck_assert(v == LLONG_MAX);
	fixture_out(&f, "");

	ck_assert(!ap_arg_ll(&f.c, &(struct ap_arg){"9223372036854775808", 19},
			     &v));
	fixture_out(&f, "-" AP_ERR_NOT_INT "\r\n");
	ck_assert(!ap_arg_ll(&f.c, &(struct ap_arg){"1.5", 3}, &v));
	ck_assert(!ap_arg_ll(&f.c, &(struct ap_arg){"", 0}, &v));
	fixture_out(&f, "-" AP_ERR_NOT_INT "\r\n-" AP_ERR_NOT_INT "\r\n");
	ck_assert_uint_eq(f.r.errors, 3);
	ck_assert(v == LLONG_MAX);
}
END_TEST

START_TEST(test_arg_ld)
{
	struct fixture f;
	long double v = 0;

	fixture_init(&f);
	ck_assert(ap_arg_ld(&f.c, &(struct ap_arg){"1.5", 3}, &v));
	ck_assert(v == 1.5L);
	ck_assert(ap_arg_ld(&f.c, &(struct ap_arg){"-inf", 4}, &v));
	fixture_out(&f, "");
	ck_assert(!ap_arg_ld(&f.c, &(struct ap_arg){"nan", 3}, &v));
	ck_assert(!ap_arg_ld(&f.c, &(struct ap_arg){"1.5 ", 4}, &v));
	fixture_out(&f, "-" AP_ERR_NOT_FLOAT "\r\n-" AP_ERR_NOT_FLOAT "\r\n");
	ck_assert_uint_eq(f.r.errors, 2);
}
END_TEST

START_TEST(test_arg_eq)
{
	ck_assert(ap_arg_eq(&(struct ap_arg){"NX", 2}, "nx"));
	ck_assert(ap_arg_eq(&(struct ap_arg){"withscores", 10}, "WITHSCORES"));
	ck_assert(!ap_arg_eq(&(struct ap_arg){"NXX", 3}, "nx"));
	ck_assert(!ap_arg_eq(&(struct ap_arg){"N", 1}, "nx"));
	ck_assert(!ap_arg_eq(&(struct ap_arg){"", 0}, "nx"));
}
END_TEST

START_TEST(test_arg_ll_range)
{
	struct fixture f;
	long long v = 0;

	fixture_init(&f);
	ck_assert(ap_arg_ll_range(&f.c, &(struct ap_arg){"0", 1}, 0, 10, &v));
	ck_assert_int_eq(v, 0);
	ck_assert(ap_arg_ll_range(&f.c, &(struct ap_arg){"10", 2}, 0, 10, &v));
	ck_assert_int_eq(v, 10);
	ck_assert(ap_arg_ll_range(&f.c,
				  &(struct ap_arg){"-9223372036854775807", 20},
				  -LLONG_MAX, LLONG_MAX, &v));
	ck_assert(v == -LLONG_MAX);
	fixture_out(&f, "");
	ck_assert(!ap_arg_ll_range(&f.c, &(struct ap_arg){"11", 2}, 0, 10, &v));
	ck_assert(!ap_arg_ll_range(&f.c, &(struct ap_arg){"-1", 2}, 0, 10, &v));
	fixture_out(&f, "-ERR value is out of range, value must between 0 and "
			"10\r\n-ERR value is out of range, value must between "
			"0 and 10\r\n");
	ck_assert(!ap_arg_ll_range(&f.c,
				   &(struct ap_arg){"-9223372036854775808", 20},
				   -LLONG_MAX, LLONG_MAX, &v));
	fixture_out(&f, "-ERR value is out of range, value must between "
			"-9223372036854775807 and 9223372036854775807\r\n");
	ck_assert(!ap_arg_ll_range(&f.c, &(struct ap_arg){"x", 1}, 0, 10, &v));
	ck_assert(!ap_arg_ll_range(&f.c, &(struct ap_arg){"", 0}, 0, 10, &v));
	fixture_out(&f, "-" AP_ERR_NOT_INT "\r\n-" AP_ERR_NOT_INT "\r\n");
	ck_assert_uint_eq(f.r.errors, 5);
}
END_TEST

/* --- the SCAN family ------------------------------------------------ */

#define E_CURSOR "-ERR invalid cursor\r\n"

/* Parses the cursor p[0..len): true and *v, or false having replied the
 * error (checked and cleared). */
static bool cursor_of(const char *p, size_t len, uint64_t *v)
{
	struct fixture f;
	bool ok;

	fixture_init(&f);
	*v = 12345;
	ok = ap_scan_cursor_parse(&f.c, &(struct ap_arg){p, len}, v);
	fixture_out(&f, ok ? "" : E_CURSOR);
	if (!ok)
		ck_assert(*v == 12345);
	return ok;
}

#define CURSOR_OK(lit, want)                                              \
	do {                                                              \
		uint64_t v_;                                              \
		ck_assert_msg(cursor_of(lit, sizeof(lit) - 1, &v_), "%s", \
			      lit);                                       \
		ck_assert_msg(v_ == (uint64_t)(want), "%s", lit);         \
	} while (0)
#define CURSOR_BAD(lit)                                                    \
	do {                                                               \
		uint64_t v_;                                               \
		ck_assert_msg(!cursor_of(lit, sizeof(lit) - 1, &v_), "%s", \
			      lit);                                        \
	} while (0)

START_TEST(test_scan_cursor)
{
	CURSOR_OK("0", 0);
	CURSOR_OK("007", 7);
	CURSOR_OK("+5", 5);
	CURSOR_OK("-0", 0);
	/* Empty: strtoul converts nothing and nothing is left over. */
	CURSOR_OK("", 0);
	/* A negative cursor wraps modulo 2^64, as strtoul's. */
	CURSOR_OK("-1", UINT64_MAX);
	CURSOR_OK("18446744073709551615", UINT64_MAX);
	CURSOR_OK("-18446744073709551615", 1);
	/* The text ends at a NUL byte, as a C string. */
	CURSOR_OK("5\0x", 5);
	CURSOR_OK("\0"
		  "1",
		  0);
	CURSOR_BAD("18446744073709551616");
	CURSOR_BAD("-18446744073709551616");
	CURSOR_BAD("99999999999999999999");
	CURSOR_BAD("-");
	CURSOR_BAD("+");
	CURSOR_BAD("+-1");
	CURSOR_BAD(" 1");
	CURSOR_BAD("\t1");
	CURSOR_BAD("1 ");
	CURSOR_BAD("0x1");
	CURSOR_BAD("1e3");
	CURSOR_BAD("abc");
	CURSOR_BAD("x\0"
		   "1");
}
END_TEST

/*
 * The reference: Redis 7's rule over strtoul (unsigned long is 64 bits
 * here): invalid if the text starts with a space, if anything is left
 * after the number, or on ERANGE.
 */
static bool cursor_reference(const char *text, uint64_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (isspace((unsigned char)text[0]) || *end != '\0' || errno == ERANGE)
		return false;
	*out = v;
	return true;
}

START_TEST(test_scan_cursor_random)
{
	static const char alphabet[] = "0123456789999+- \tx";
	uint64_t rng = 42;
	int valid = 0;

	ck_assert_uint_eq(sizeof(unsigned long), 8);
	for (int round = 0; round < 200000; round++) {
		char text[32];
		size_t len;
		uint64_t want = 0, got = 0;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		len = (size_t)(rng >> 59); /* 0..31 */
		for (size_t i = 0; i < len; i++) {
			rng = rng * 6364136223846793005ULL +
			      1442695040888963407ULL;
			/* Mostly digits, so that long numbers occur. */
			size_t k = (rng >> 33) % 100;
			text[i] = k < 85 ? (char)('0' + k % 10)
					 : alphabet[10 + k % 8];
		}
		text[len] = '\0';
		bool ok_ref = cursor_reference(text, &want);
		struct fixture f;
		fixture_init(&f);
		bool ok = ap_scan_cursor_parse(
			&f.c, &(struct ap_arg){text, len}, &got);
		ap_obuf_deinit(&f.out);
		if (ok != ok_ref || (ok && got != want))
			ck_abort_msg("cursor \"%s\": got %d %llu, want %d %llu",
				     text, ok, (unsigned long long)got, ok_ref,
				     (unsigned long long)want);
		valid += ok;
	}
	/* Both outcomes are well represented. */
	ck_assert_int_gt(valid, 20000);
	ck_assert_int_lt(valid, 180000);
}
END_TEST

/* A context over the NULL-terminated words, writing into f. */
static void scan_ctx(struct fixture *f, struct ap_arg *argv,
		     const char *const *words)
{
	int argc = 0;

	fixture_init(f);
	for (; words[argc] != NULL; argc++) {
		argv[argc].p = words[argc];
		argv[argc].len = strlen(words[argc]);
	}
	f->c.argc = argc;
	f->c.argv = argv;
}

/* Parses the options of words from first; the reply must be want (""
 * on success). */
static bool scan_args_of(const char *const *words, int first, bool with_type,
			 struct ap_scan_args *out, const char *want)
{
	struct fixture f;
	struct ap_arg argv[16];
	bool ok;

	scan_ctx(&f, argv, words);
	ok = ap_scan_args_parse(&f.c, first, with_type, out);
	fixture_out(&f, want);
	ck_assert(ok == (want[0] == '\0'));
	return ok;
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(test_scan_args)
{
	struct ap_scan_args a;
	struct fixture f;
	struct ap_arg argv[16];

	/* Defaults. */
	scan_args_of(W("scan", "0"), 2, true, &a, "");
	ck_assert_uint_eq(a.count, 10);
	ck_assert_ptr_null(a.match);
	ck_assert_ptr_null(a.type);
	/* Every option, any case; the pointers are into argv. */
	scan_ctx(&f, argv,
		 W("scan", "0", "MaTcH", "a*", "count", "5", "TYPE", "set"));
	ck_assert(ap_scan_args_parse(&f.c, 2, true, &a));
	fixture_out(&f, "");
	ck_assert_uint_eq(a.count, 5);
	ck_assert_ptr_eq(a.match, &argv[3]);
	ck_assert_ptr_eq(a.type, &argv[7]);
	/* MATCH * is no pattern; the last of each option wins. */
	scan_args_of(W("hscan", "k", "0", "match", "a", "match", "*", "count",
		       "5", "COUNT", "7"),
		     3, false, &a, "");
	ck_assert_ptr_null(a.match);
	ck_assert_uint_eq(a.count, 7);
	/* COUNT boundaries. */
	scan_args_of(W("scan", "0", "count", "1"), 2, true, &a, "");
	ck_assert_uint_eq(a.count, 1);
	scan_args_of(W("scan", "0", "count", "9223372036854775807"), 2, true,
		     &a, "");
	ck_assert_uint_eq(a.count, (size_t)LLONG_MAX);
	scan_args_of(W("scan", "0", "count", "0"), 2, true, &a,
		     "-" AP_ERR_SYNTAX "\r\n");
	scan_args_of(W("scan", "0", "count", "-1"), 2, true, &a,
		     "-" AP_ERR_SYNTAX "\r\n");
	scan_args_of(W("scan", "0", "count", "x"), 2, true, &a,
		     "-" AP_ERR_NOT_INT "\r\n");
	scan_args_of(W("scan", "0", "count", "9223372036854775808"), 2, true,
		     &a, "-" AP_ERR_NOT_INT "\r\n");
	/* An option without its value, or unknown: a syntax error. */
	scan_args_of(W("scan", "0", "count"), 2, true, &a,
		     "-" AP_ERR_SYNTAX "\r\n");
	scan_args_of(W("scan", "0", "match"), 2, true, &a,
		     "-" AP_ERR_SYNTAX "\r\n");
	scan_args_of(W("scan", "0", "type"), 2, true, &a,
		     "-" AP_ERR_SYNTAX "\r\n");
	scan_args_of(W("scan", "0", "foo", "bar"), 2, true, &a,
		     "-" AP_ERR_SYNTAX "\r\n");
	scan_args_of(W("scan", "0", "match", "a", "count"), 2, true, &a,
		     "-" AP_ERR_SYNTAX "\r\n");
	/* TYPE only where allowed (SCAN, not a key's scan). */
	scan_args_of(W("sscan", "k", "0", "type", "set"), 3, false, &a,
		     "-" AP_ERR_SYNTAX "\r\n");
	/* The first bad option decides. */
	scan_args_of(W("scan", "0", "count", "x", "foo"), 2, true, &a,
		     "-" AP_ERR_NOT_INT "\r\n");
	scan_args_of(W("scan", "0", "foo", "count", "x"), 2, true, &a,
		     "-" AP_ERR_SYNTAX "\r\n");
}
END_TEST

START_TEST(test_scan_reply)
{
	struct fixture f;
	struct ap_obuf items;
	struct ap_reply ir;

	fixture_init(&f);
	ap_scan_reply_write(&f.r, 0, 0, NULL);
	fixture_out(&f, "*2\r\n$1\r\n0\r\n*0\r\n");

	ap_obuf_init(&items);
	ap_reply_init(&ir, &items, 2);
	ap_reply_bulk(&ir, "a", 1);
	ap_reply_bulk(&ir, "bc", 2);
	fixture_init(&f);
	ap_scan_reply_write(&f.r, UINT64_MAX, 2, &items);
	ck_assert_uint_eq(items.len, 0);
	ck_assert_ptr_null(items.head);
	fixture_out(&f, "*2\r\n$20\r\n18446744073709551615\r\n*2\r\n"
			"$1\r\na\r\n$2\r\nbc\r\n");
	/* The same arrays in RESP3. */
	fixture_init(&f);
	ap_reply_init(&f.r, &f.out, 3);
	ap_scan_reply_write(&f.r, 42, 0, &items);
	fixture_out(&f, "*2\r\n$2\r\n42\r\n*0\r\n");
	ap_obuf_deinit(&items);
}
END_TEST

START_TEST(test_empty_table)
{
	ck_assert_uint_eq(ap_cmd_count(), 0);
	ck_assert_ptr_null(ap_cmd_lookup("get", 3));
}
END_TEST

static Suite *cmd_suite(void)
{
	Suite *s = suite_create("cmd");
	TCase *tc = tcase_create("empty");

	tcase_add_test(tc, test_empty_table);
	suite_add_tcase(s, tc);

	/* Each test runs in its own forked process: a fresh table. */
	tc = tcase_create("table");
	tcase_add_checked_fixture(tc, table_setup, NULL);
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_count_and_at);
	tcase_add_test_raise_signal(tc, test_at_out_of_range_aborts, SIGABRT);
	tcase_add_test(tc, test_many_commands);
	tcase_add_test_raise_signal(tc, test_duplicate_aborts, SIGABRT);
	tcase_add_test(tc, test_sub_lookup);
	tcase_add_test(tc, test_arity);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_keys_max);
	tcase_add_test(tc, test_arg_ll);
	tcase_add_test(tc, test_arg_ld);
	tcase_add_test(tc, test_arg_eq);
	tcase_add_test(tc, test_arg_ll_range);
	tcase_add_test(tc, test_scan_cursor);
	tcase_add_test(tc, test_scan_cursor_random);
	tcase_add_test(tc, test_scan_args);
	tcase_add_test(tc, test_scan_reply);
	tcase_add_test(tc, test_keyidx);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cmd_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
