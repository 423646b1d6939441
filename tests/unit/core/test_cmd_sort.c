/*
 * test_cmd_sort.c - SORT and SORT_RO of core/cmd_sort.c through the
 * command table (cmd_harness.h): numeric and ALPHA order, ties, every
 * LIMIT clamp, BY patterns (strings, hash fields, nosort), GET patterns
 * (#, strings, hash fields, absent keys, wrong types, pattern quirks),
 * STORE (replace, delete on empty, in place, encodings, dirty counts),
 * every error and its precedence, lists of both encodings, sets of the
 * three encodings, sorted sets of both encodings, RESP2 and RESP3 nils,
 * the key specs (getkeys), LIMIT windows of a big list against its full
 * sort, and a randomized run against a reference model.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/core/cmd_harness.h"

#include "core/set.h"
#include "core/zset.h"

#define E_SCORES   "-ERR One or more scores can't be converted into double\r\n"
#define E_ARITY(n) "-ERR wrong number of arguments for '" n "' command\r\n"

/* Failure-only assertion for hot loops. */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

/* --- helpers ---------------------------------------------------------- */

/* The end of an expected-reply list (NULL in it stands for nil). */
static const char END_MARK[] = "<end>";
#define END    END_MARK
#define NIL    NULL
#define W(...) ((const char *const[]){__VA_ARGS__, NULL})
/* A_EXPECT(W("sort", "l"), "1", "2"): the reply is that array. */
#define A_EXPECT(cmd, ...) \
	expect_arr(__LINE__, cmd, (const char *const[]){__VA_ARGS__, END})

#define OUT_MAX (1 << 20)
static char out_buf[OUT_MAX];

/* Writes the RESP array of exp (up to END; NULL is nil in the current
 * protocol) into out_buf; returns its length. */
static size_t build_arr(const char *const *exp)
{
	size_t n = 0, o = 0;

	while (exp[n] != END)
		n++;
	o += (size_t)snprintf(out_buf + o, OUT_MAX - o, "*%zu\r\n", n);
	for (size_t i = 0; i < n; i++) {
		if (exp[i] == NULL)
			o += (size_t)snprintf(out_buf + o, OUT_MAX - o, "%s",
					      h_proto == 3 ? "_\r\n"
							   : "$-1\r\n");
		else
			o += (size_t)snprintf(out_buf + o, OUT_MAX - o,
					      "$%zu\r\n%s\r\n", strlen(exp[i]),
					      exp[i]);
		ck_assert_uint_lt(o, OUT_MAX);
	}
	return o;
}

/* Runs cmd and compares its reply with the array exp. */
static void expect_arr(int line, const char *const *cmd, const char *const *exp)
{
	size_t elen = build_arr(exp), len;
	char *got = h_run(cmd, &len);

	h_compare(line, out_buf, elen, got, len);
	ap_free(got);
}

/* Runs argv given with explicit lengths (NUL bytes allowed). */
static char *run_bin(const struct ap_arg *argv, int argc, size_t *len)
{
	return h_run_argv(argv, argc, len);
}

#define ARG(s) ((struct ap_arg){s, sizeof(s) - 1})

/* Asserts the encoding of key's value. */
static void expect_enc(const char *key, enum ap_enc enc)
{
	struct ap_entry *e = h_peek(key);

	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(ap_enc_name(ap_entry_enc(e)), ap_enc_name(enc));
}

/* A parsed reply: an array of bulk strings / nils, an integer, or an
 * error. Strings are NUL-terminated copies (no NUL bytes in them). */
#define ITEMS_MAX 65536
struct reply {
	char kind; /* '*', ':', '-' */
	long long num;
	size_t n;
	char *s[ITEMS_MAX]; /* NULL: nil */
};

/* Frees the strings of r. */
static void reply_clear(struct reply *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->s[i]);
	r->n = 0;
}

/* Parses one line's number after its type byte. */
static const char *parse_num(const char *p, long long *v)
{
	char *end;

	*v = strtoll(p + 1, &end, 10);
	CK(end[0] == '\r' && end[1] == '\n');
	return end + 2;
}

/* Parses the flat reply buf into r. */
static void reply_parse(const char *buf, size_t len, struct reply *r)
{
	const char *p = buf;
	long long v;

	r->n = 0;
	r->kind = *p;
	if (*p == '-') {
		return;
	}
	if (*p == ':') {
		parse_num(p, &r->num);
		return;
	}
	CK(*p == '*');
	p = parse_num(p, &r->num);
	for (long long i = 0; i < r->num; i++) {
		CK(r->n < ITEMS_MAX);
		if (*p == '_') {
			r->s[r->n++] = NULL;
			p += 3;
			continue;
		}
		CK(*p == '$');
		p = parse_num(p, &v);
		if (v < 0) {
			r->s[r->n++] = NULL;
			continue;
		}
		char *s = malloc((size_t)v + 1);
		memcpy(s, p, (size_t)v);
		s[v] = '\0';
		r->s[r->n++] = s;
		p += v + 2;
	}
	CK(p == buf + len);
}

/* Runs a command and parses its reply into r. */
static void run_parse(const char *const *cmd, struct reply *r)
{
	size_t len;
	char *got = h_run(cmd, &len);

	reply_parse(got, len, r);
	ap_free(got);
}

/* Deletes every key of the current database. */
static void flush(void)
{
	ap_db_flush(h_dbp());
}

/* --- numeric order ------------------------------------------------------ */

START_TEST(test_numeric)
{
	H_EXPECT(":5\r\n", "rpush", "l", "3", "1", "2", "10", "1.0");
	A_EXPECT(W("sort", "l"), "1", "1.0", "2", "3", "10");
	ck_assert_uint_eq(h_last_dirty, 0);
	A_EXPECT(W("sort", "l", "asc"), "1", "1.0", "2", "3", "10");
	/* DESC reverses the whole order, the ties' byte order included. */
	A_EXPECT(W("sort", "l", "desc"), "10", "3", "2", "1.0", "1");
	A_EXPECT(W("sort", "l", "DESC", "ASC"), "1", "1.0", "2", "3", "10");
	A_EXPECT(W("sort_ro", "l", "desc"), "10", "3", "2", "1.0", "1");
	/* strtod's syntax: blanks before, hex, exponents, infinities; the
	 * empty string is 0. */
	H_EXPECT(":8\r\n", "rpush", "n", " 1", "", "0x10", "2e0", "-inf",
		 "+inf", "-3.5", "\t-0");
	A_EXPECT(W("sort", "n"), "-inf", "-3.5", "", "\t-0", " 1", "2e0",
		 "0x10", "+inf");
	A_EXPECT(W("sort", "n", "desc"), "+inf", "0x10", "2e0", " 1", "\t-0",
		 "", "-3.5", "-inf");
	/* Big integers compare as doubles, then by bytes. */
	H_EXPECT(":3\r\n", "rpush", "big", "9007199254740993",
		 "9007199254740992", "-9223372036854775808");
	A_EXPECT(W("sort", "big"), "-9223372036854775808", "9007199254740992",
		 "9007199254740993");
	/* Duplicates in a list. */
	H_EXPECT(":4\r\n", "rpush", "dup", "2", "1", "2", "1");
	A_EXPECT(W("sort", "dup"), "1", "1", "2", "2");
}
END_TEST

START_TEST(test_numeric_errors)
{
	const char *bad[] = {"x",  "1 ",  "nan", "1e400", "-1e400",
			     "1x", "--1", "0x",	 "inf1"};

	for (size_t i = 0; i < AP_ARRAY_LEN(bad); i++) {
		flush();
		H_EXPECT(":2\r\n", "rpush", "l", "1", bad[i]);
		H_EXPECT(E_SCORES, "sort", "l");
		H_EXPECT(E_SCORES, "sort_ro", "l", "desc");
		H_EXPECT(E_SCORES, "sort", "l", "limit", "0", "1");
		H_OK("set", "dst", "keep");
		H_EXPECT(E_SCORES, "sort", "l", "store", "dst");
		ck_assert_uint_eq(h_last_dirty, 0);
		H_EXPECT("$4\r\nkeep\r\n", "get", "dst");
		/* Not sorting or ALPHA reads no score. */
		if (strcmp(bad[i], "1") < 0)
			A_EXPECT(W("sort", "l", "alpha"), bad[i], "1");
		else
			A_EXPECT(W("sort", "l", "alpha"), "1", bad[i]);
		A_EXPECT(W("sort", "l", "by", "nosort"), "1", bad[i]);
	}
	/* An embedded NUL ends the number, as strtod sees a C string. */
	flush();
	struct ap_arg push[] = {ARG("rpush"), ARG("z"), ARG("2\0x"), ARG("1")};
	size_t len;
	ap_free(run_bin(push, 4, &len));
	char *got = h_run(W("sort", "z"), &len);
	h_compare(__LINE__, "*2\r\n$1\r\n1\r\n$3\r\n2\0x\r\n", 20, got, len);
	ap_free(got);
	/* A bad BY value is an error too; an absent one is 0. */
	H_EXPECT(":2\r\n", "rpush", "k", "1", "2");
	H_OK("set", "w_1", "abc");
	H_EXPECT(E_SCORES, "sort", "k", "by", "w_*");
	H_OK("set", "w_1", "5");
	A_EXPECT(W("sort", "k", "by", "w_*"), "2", "1");
	H_EXPECT(":1\r\n", "hset", "h_2", "f", "zz");
	H_EXPECT(E_SCORES, "sort", "k", "by", "h_*->f");
	A_EXPECT(W("sort", "k", "by", "h_*->f", "alpha"), "1", "2");
}
END_TEST

/* --- ALPHA ---------------------------------------------------------------- */

START_TEST(test_alpha)
{
	H_EXPECT(":7\r\n", "rpush", "l", "b", "a", "B", "", "ab", "\xff",
		 "a b");
	A_EXPECT(W("sort", "l", "alpha"), "", "B", "a", "a b", "ab", "b",
		 "\xff");
	A_EXPECT(W("sort", "l", "ALPHA", "desc"), "\xff", "b", "ab", "a b", "a",
		 "B", "");
	A_EXPECT(W("sort_ro", "l", "alpha", "limit", "1", "2"), "B", "a");
	/* Integers as text. */
	H_EXPECT(":4\r\n", "rpush", "i", "10", "9", "100", "-1");
	A_EXPECT(W("sort", "i", "alpha"), "-1", "10", "100", "9");
	/* Equal elements keep their order; DESC too. */
	H_EXPECT(":3\r\n", "rpush", "e", "x", "x", "a");
	A_EXPECT(W("sort", "e", "alpha", "desc"), "x", "x", "a");
}
END_TEST

/* A reply compares up to a NUL (strcoll in the C locale); STORE compares
 * every byte. */
START_TEST(test_alpha_nul)
{
	struct ap_arg push[] = {ARG("rpush"), ARG("l"), ARG("a\0b"),
				ARG("a\0a"), ARG("a")};
	struct ap_arg sort[] = {ARG("sort"), ARG("l"), ARG("alpha")};
	struct ap_arg desc[] = {ARG("sort"), ARG("l"), ARG("alpha"),
				ARG("desc")};
	static const char keep[] =
		"*3\r\n$3\r\na\0b\r\n$3\r\na\0a\r\n$1\r\na\r\n";
	static const char bin[] =
		"*3\r\n$1\r\na\r\n$3\r\na\0a\r\n$3\r\na\0b\r\n";
	size_t len;
	char *got;

	ap_free(run_bin(push, 5, &len));
	got = run_bin(sort, 3, &len);
	h_compare(__LINE__, keep, sizeof(keep) - 1, got, len);
	ap_free(got);
	got = run_bin(desc, 4, &len);
	h_compare(__LINE__, keep, sizeof(keep) - 1, got, len);
	ap_free(got);
	H_EXPECT(":3\r\n", "sort", "l", "alpha", "store", "d");
	got = h_run(W("lrange", "d", "0", "-1"), &len);
	h_compare(__LINE__, bin, sizeof(bin) - 1, got, len);
	ap_free(got);
}
END_TEST

/* --- LIMIT ---------------------------------------------------------------- */

START_TEST(test_limit)
{
	H_EXPECT(":5\r\n", "rpush", "l", "5", "4", "3", "2", "1");
	A_EXPECT(W("sort", "l", "limit", "0", "2"), "1", "2");
	A_EXPECT(W("sort", "l", "limit", "1", "2"), "2", "3");
	A_EXPECT(W("sort", "l", "limit", "3", "10"), "4", "5");
	A_EXPECT(W("sort", "l", "limit", "4", "1"), "5");
	A_EXPECT(W("sort", "l", "limit", "-5", "2"), "1", "2");
	A_EXPECT(W("sort", "l", "limit", "2", "-1"), "3", "4", "5");
	A_EXPECT(W("sort", "l", "limit", "0", "-5"), "1", "2", "3", "4", "5");
	A_EXPECT(W("sort", "l", "LIMIT", "0", "5"), "1", "2", "3", "4", "5");
	A_EXPECT(W("sort", "l", "limit", "-9223372036854775808",
		   "9223372036854775807"),
		 "1", "2", "3", "4", "5");
	H_EXPECT("*0\r\n", "sort", "l", "limit", "5", "1");
	H_EXPECT("*0\r\n", "sort", "l", "limit", "100", "1");
	H_EXPECT("*0\r\n", "sort", "l", "limit", "2", "0");
	H_EXPECT("*0\r\n", "sort", "l", "limit", "9223372036854775807",
		 "9223372036854775807");
	A_EXPECT(W("sort", "l", "limit", "0", "2", "desc"), "5", "4");
	A_EXPECT(W("sort", "l", "desc", "limit", "3", "5"), "2", "1");
	/* The last LIMIT wins. */
	A_EXPECT(W("sort", "l", "limit", "0", "1", "limit", "3", "1"), "4");
	/* Errors. */
	H_EXPECT(H_E_NOT_INT, "sort", "l", "limit", "a", "1");
	H_EXPECT(H_E_NOT_INT, "sort", "l", "limit", "1", "a");
	H_EXPECT(H_E_NOT_INT, "sort", "l", "limit", "1.5", "2");
	H_EXPECT(H_E_NOT_INT, "sort", "l", "limit", "9223372036854775808", "1");
	H_EXPECT(H_E_NOT_INT, "sort", "l", "limit", "0",
		 "-9223372036854775809");
	H_EXPECT(H_E_SYNTAX, "sort", "l", "limit", "1");
	H_EXPECT(H_E_SYNTAX, "sort", "l", "limit");
	/* Absent key. */
	H_EXPECT("*0\r\n", "sort", "nokey", "limit", "0", "1");
	H_EXPECT("*0\r\n", "sort", "nokey", "limit", "-1", "-1");
	H_EXPECT("*0\r\n", "sort", "nokey");
	H_EXPECT("*0\r\n", "sort_ro", "nokey", "by", "nosort", "desc");
	/* One element. */
	H_EXPECT(":1\r\n", "rpush", "one", "7");
	A_EXPECT(W("sort", "one", "limit", "0", "1"), "7");
	H_EXPECT("*0\r\n", "sort", "one", "limit", "1", "1");
	H_EXPECT("*0\r\n", "sort", "one", "by", "nosort", "limit", "1", "1");
	A_EXPECT(W("sort", "one", "by", "nosort", "limit", "0", "9"), "7");
}
END_TEST

/* --- BY ---------------------------------------------------------------------
 */

START_TEST(test_by)
{
	H_EXPECT(":5\r\n", "rpush", "l", "3", "1", "2", "10", "1.0");
	H_OK("mset", "w_3", "1", "w_1", "3", "w_10", "0");
	/* Absent weights score 0; ties order by the element's bytes. */
	A_EXPECT(W("sort", "l", "by", "w_*"), "1.0", "10", "2", "3", "1");
	A_EXPECT(W("sort", "l", "by", "w_*", "desc"), "1", "3", "2", "10",
		 "1.0");
	A_EXPECT(W("sort", "l", "by", "w_*", "limit", "3", "1"), "3");
	/* Hash fields, integer-encoded or not. */
	H_EXPECT(":1\r\n", "hset", "h_3", "f", "1.5");
	H_EXPECT(":1\r\n", "hset", "h_1", "f", "3");
	H_EXPECT(":1\r\n", "hset", "h_2", "g", "-1");
	A_EXPECT(W("sort", "l", "by", "h_*->f"), "1.0", "10", "2", "3", "1");
	A_EXPECT(W("sort", "l", "by", "h_*->g"), "2", "1", "1.0", "10", "3");
	/* A string key read as a hash, or a hash as a string: absent. */
	A_EXPECT(W("sort", "l", "by", "w_*->f"), "1", "1.0", "10", "2", "3");
	A_EXPECT(W("sort", "l", "by", "h_*"), "1", "1.0", "10", "2", "3");
	/* A pattern without '*' does not sort: the list's order. */
	A_EXPECT(W("sort", "l", "by", "nosort"), "3", "1", "2", "10", "1.0");
	A_EXPECT(W("sort", "l", "by", "w_"), "3", "1", "2", "10", "1.0");
	A_EXPECT(W("sort", "l", "by", "#"), "3", "1", "2", "10", "1.0");
	A_EXPECT(W("sort", "l", "by", "nosort", "desc"), "1.0", "10", "2", "1",
		 "3");
	A_EXPECT(W("sort", "l", "by", "nosort", "limit", "1", "2"), "1", "2");
	A_EXPECT(W("sort", "l", "by", "nosort", "limit", "1", "2", "desc"),
		 "10", "2");
	A_EXPECT(W("sort", "l", "by", "nosort", "limit", "-3", "-1"), "3", "1",
		 "2", "10", "1.0");
	H_EXPECT("*0\r\n", "sort", "l", "by", "nosort", "limit", "5", "1");
	A_EXPECT(W("sort", "l", "by", "nosort", "alpha"), "3", "1", "2", "10",
		 "1.0");
	/* nosort is remembered even if a later BY has a '*' (as Redis). */
	A_EXPECT(W("sort", "l", "by", "nosort", "by", "w_*"), "3", "1", "2",
		 "10", "1.0");
	/* The last BY wins otherwise. */
	A_EXPECT(W("sort", "l", "by", "x_*", "by", "w_*"), "1.0", "10", "2",
		 "3", "1");
	/* BY with ALPHA: absent values first, ties in the list's order. */
	A_EXPECT(W("sort", "l", "by", "w_*", "alpha"), "2", "1.0", "10", "3",
		 "1");
	A_EXPECT(W("sort", "l", "by", "w_*", "alpha", "desc"), "1", "3", "10",
		 "2", "1.0");
	H_OK("mset", "w_2", "b", "w_1.0", "B");
	A_EXPECT(W("sort", "l", "by", "w_*", "alpha"), "10", "3", "1", "1.0",
		 "2");
	/* Only the first '*' is replaced. */
	H_OK("set", "x_1_*", "-1");
	A_EXPECT(W("sort", "l", "by", "x_*_*"), "1", "1.0", "10", "2", "3");
	/* A prefix and a postfix; the element alone. */
	H_EXPECT(":2\r\n", "rpush", "m", "a", "b");
	H_OK("mset", "pre_a_post", "2", "pre_b_post", "1", "a", "1", "b", "2");
	A_EXPECT(W("sort", "m", "by", "pre_*_post"), "b", "a");
	A_EXPECT(W("sort", "m", "by", "*"), "a", "b");
	/* A missing sort key reads nothing. */
	H_EXPECT("*0\r\n", "sort", "nokey", "by", "w_*");
}
END_TEST

/* --- GET --------------------------------------------------------------------
 */

START_TEST(test_get)
{
	H_EXPECT(":3\r\n", "rpush", "l", "1", "2", "3");
	H_OK("mset", "o_1", "one", "o_2", "two", "o_3", "33");
	H_EXPECT(":1\r\n", "hset", "h_1", "f", "A");
	H_EXPECT(":1\r\n", "hset", "h_3", "f", "7");
	A_EXPECT(W("sort", "l", "get", "o_*"), "one", "two", "33");
	A_EXPECT(W("sort", "l", "get", "#", "get", "o_*", "GET", "h_*->f"), "1",
		 "one", "A", "2", "two", NIL, "3", "33", "7");
	A_EXPECT(W("sort", "l", "get", "nokey"), NIL, NIL, NIL);
	A_EXPECT(W("sort", "l", "get", "h_*->g"), NIL, NIL, NIL);
	A_EXPECT(W("sort", "l", "get", "o_*->f"), NIL, NIL, NIL);
	A_EXPECT(W("sort", "l", "get", "h_*"), NIL, NIL, NIL);
	A_EXPECT(W("sort", "l", "get", "l"), NIL, NIL, NIL);
	A_EXPECT(W("sort", "l", "desc", "limit", "0", "2", "get", "o_*"), "33",
		 "two");
	A_EXPECT(W("sort", "l", "by", "nosort", "get", "#"), "1", "2", "3");
	A_EXPECT(W("sort_ro", "l", "get", "o_*", "get", "#"), "one", "1", "two",
		 "2", "33", "3");
	/* A key of another type reads as absent. */
	H_EXPECT(":1\r\n", "rpush", "q_1", "x");
	H_EXPECT(":1\r\n", "sadd", "q_2", "x");
	H_OK("set", "q_3", "s");
	A_EXPECT(W("sort", "l", "get", "q_*"), NIL, NIL, "s");
	/* RESP3 nil. */
	h_proto = 3;
	A_EXPECT(W("sort", "l", "get", "h_*->f"), "A", NIL, "7");
	h_proto = 2;
	/* "->" with nothing after it is part of the key name. */
	H_OK("set", "o_1->", "arrow");
	A_EXPECT(W("sort", "l", "get", "o_*->"), "arrow", NIL, NIL);
	/* The field runs to the end, "->" included. */
	H_EXPECT(":1\r\n", "hset", "h_2", "f->g", "fg");
	A_EXPECT(W("sort", "l", "get", "h_*->f->g"), NIL, "fg", NIL);
	/* An arrow before the '*' is part of the key name. */
	H_OK("set", "a->b2", "ab");
	A_EXPECT(W("sort", "l", "get", "a->b*"), NIL, "ab", NIL);
	/* "#" only alone; "#*" is a pattern. */
	H_OK("set", "#2", "hash2");
	A_EXPECT(W("sort", "l", "get", "#*"), NIL, "hash2", NIL);
	A_EXPECT(W("sort", "l", "get", "##"), NIL, NIL, NIL);
	/* GET on an absent sort key. */
	H_EXPECT("*0\r\n", "sort", "nokey", "get", "o_*");
}
END_TEST

/* Patterns are C strings to Redis: '*' and "->" count before a NUL; "#"
 * followed by a NUL is "#". */
START_TEST(test_pattern_nul)
{
	struct ap_arg get_self[] = {ARG("sort"), ARG("l"), ARG("get"),
				    ARG("#\0x")};
	struct ap_arg get_star[] = {ARG("sort"), ARG("l"), ARG("get"),
				    ARG("k\0*")};
	struct ap_arg by_star[] = {ARG("sort"), ARG("l"), ARG("by"),
				   ARG("w\0*")};
	struct ap_arg get_field[] = {ARG("sort"), ARG("l"), ARG("get"),
				     ARG("h_*->f\0g")};
	size_t len;
	char *got;

	H_EXPECT(":2\r\n", "rpush", "l", "2", "1");
	got = run_bin(get_self, 4, &len);
	h_compare(__LINE__, "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", 18, got, len);
	ap_free(got);
	got = run_bin(get_star, 4, &len);
	h_compare(__LINE__, "*2\r\n$-1\r\n$-1\r\n", 14, got, len);
	ap_free(got);
	/* BY "w\0*" has no '*': not sorted. */
	got = run_bin(by_star, 4, &len);
	h_compare(__LINE__, "*2\r\n$1\r\n2\r\n$1\r\n1\r\n", 18, got, len);
	ap_free(got);
	/* The field keeps the bytes after the NUL. */
	struct ap_arg hset[] = {ARG("hset"), ARG("h_1"), ARG("f\0g"), ARG("v")};
	ap_free(run_bin(hset, 4, &len));
	got = run_bin(get_field, 4, &len);
	h_compare(__LINE__, "*2\r\n$1\r\nv\r\n$-1\r\n", 16, got, len);
	ap_free(got);
}
END_TEST

/* --- STORE ------------------------------------------------------------------
 */

START_TEST(test_store)
{
	H_EXPECT(":3\r\n", "rpush", "l", "3", "1", "2");
	H_EXPECT(":3\r\n", "sort", "l", "store", "d");
	ck_assert_uint_eq(h_last_dirty, 3);
	A_EXPECT(W("lrange", "d", "0", "-1"), "1", "2", "3");
	expect_enc("d", AP_ENC_LISTPACK);
	/* Replaces any type and its TTL. */
	H_OK("set", "d", "x", "ex", "100");
	H_EXPECT(":3\r\n", "sort", "l", "desc", "store", "d");
	A_EXPECT(W("lrange", "d", "0", "-1"), "3", "2", "1");
	ck_assert_int_eq(ap_entry_expire(h_peek("d")), AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "del", "d");
	H_EXPECT(":1\r\n", "hset", "d", "f", "v");
	H_EXPECT(":2\r\n", "sort", "l", "limit", "0", "2", "store", "d");
	A_EXPECT(W("lrange", "d", "0", "-1"), "1", "2");
	/* An empty result deletes the destination. */
	H_EXPECT(":0\r\n", "sort", "nokey", "store", "d");
	ck_assert_uint_eq(h_last_dirty, 1);
	ck_assert_ptr_null(h_peek("d"));
	H_EXPECT(":0\r\n", "sort", "nokey", "store", "d");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_OK("set", "d", "x");
	H_EXPECT(":0\r\n", "sort", "l", "limit", "5", "5", "store", "d");
	ck_assert_ptr_null(h_peek("d"));
	/* GET values; an absent one is stored as "". */
	H_OK("mset", "o_1", "one", "o_3", "three");
	H_EXPECT(":6\r\n", "sort", "l", "get", "o_*", "get", "#", "store", "d");
	ck_assert_uint_eq(h_last_dirty, 6);
	A_EXPECT(W("lrange", "d", "0", "-1"), "one", "1", "", "2", "three",
		 "3");
	/* The last STORE wins. */
	H_EXPECT(":3\r\n", "sort", "l", "store", "d1", "store", "d2");
	ck_assert_ptr_null(h_peek("d1"));
	A_EXPECT(W("lrange", "d2", "0", "-1"), "1", "2", "3");
	/* In place. */
	H_EXPECT(":3\r\n", "sort", "l", "desc", "store", "l");
	A_EXPECT(W("lrange", "l", "0", "-1"), "3", "2", "1");
	/* BY nosort on a list keeps its order. */
	H_EXPECT(":3\r\n", "sort", "l", "by", "nosort", "store", "d");
	A_EXPECT(W("lrange", "d", "0", "-1"), "3", "2", "1");
	/* SORT_RO has no STORE. */
	H_EXPECT(H_E_SYNTAX, "sort_ro", "l", "store", "d");
	H_EXPECT(H_E_SYNTAX, "sort", "l", "store");
	/* A big result is a quicklist. */
	flush();
	for (int i = 0; i < 3000; i++) {
		char v[16];
		snprintf(v, sizeof(v), "%d", (i * 7919) % 3000);
		const char *const cmd[] = {"rpush", "big", v, NULL};
		size_t len;
		ap_free(h_run(cmd, &len));
	}
	H_EXPECT(":3000\r\n", "sort", "big", "store", "sorted");
	ck_assert_uint_eq(h_last_dirty, 3000);
	expect_enc("sorted", AP_ENC_QUICKLIST);
	A_EXPECT(W("lrange", "sorted", "0", "2"), "0", "1", "2");
	A_EXPECT(W("lrange", "sorted", "-2", "-1"), "2998", "2999");
	H_EXPECT(":3000\r\n", "llen", "sorted");
	/* A small result stays a listpack. */
	H_EXPECT(":10\r\n", "sort", "big", "limit", "0", "10", "store",
		 "sorted");
	expect_enc("sorted", AP_ENC_LISTPACK);
}
END_TEST

/* --- errors ------------------------------------------------------------ */

START_TEST(test_errors)
{
	H_EXPECT(E_ARITY("sort"), "sort");
	H_EXPECT(E_ARITY("sort_ro"), "sort_ro");
	H_EXPECT(":1\r\n", "rpush", "l", "1");
	const char *const *bad[] = {
		W("sort", "l", "foo"),
		W("sort", "l", "by"),
		W("sort", "l", "get"),
		W("sort", "l", "store"),
		W("sort", "l", "asc", "desc", "bar"),
		W("sort", "l", "limit", "0"),
		W("sort", "l", "alpha", "by", "x", "get"),
		W("sort", "l", "nosort"),
		W("sort_ro", "l", "store", "x"),
		W("sort_ro", "l", "get"),
	};
	for (size_t i = 0; i < AP_ARRAY_LEN(bad); i++) {
		size_t len;
		char *got = h_run(bad[i], &len);
		h_compare(__LINE__, H_E_SYNTAX, strlen(H_E_SYNTAX), got, len);
		ap_free(got);
	}
	/* Options are parsed before the key is looked up. */
	H_OK("set", "str", "x");
	H_EXPECT(H_E_SYNTAX, "sort", "str", "foo");
	H_EXPECT(H_E_NOT_INT, "sort", "str", "limit", "x", "1");
	H_EXPECT(H_E_WRONGTYPE, "sort", "str");
	H_EXPECT(H_E_WRONGTYPE, "sort_ro", "str", "alpha");
	H_EXPECT(":1\r\n", "hset", "h", "f", "v");
	H_EXPECT(H_E_WRONGTYPE, "sort", "h", "by", "nosort");
	/* WRONGTYPE with STORE changes nothing. */
	H_OK("set", "d", "keep");
	H_EXPECT(H_E_WRONGTYPE, "sort", "h", "store", "d");
	H_EXPECT("$4\r\nkeep\r\n", "get", "d");
	/* Option words in any case. */
	A_EXPECT(W("sort", "l", "Limit", "0", "1", "Desc", "Alpha", "Get", "#",
		   "By", "nosort"),
		 "1");
}
END_TEST

/* --- sets -------------------------------------------------------------------
 */

START_TEST(test_sets)
{
	/* intset: iterates in order. */
	H_EXPECT(":4\r\n", "sadd", "si", "5", "1", "30", "-2");
	expect_enc("si", AP_ENC_INTSET);
	A_EXPECT(W("sort", "si"), "-2", "1", "5", "30");
	A_EXPECT(W("sort", "si", "desc"), "30", "5", "1", "-2");
	A_EXPECT(W("sort", "si", "alpha"), "-2", "1", "30", "5");
	A_EXPECT(W("sort", "si", "by", "nosort"), "-2", "1", "5", "30");
	/* Not sorted: DESC does not apply to a set. */
	A_EXPECT(W("sort", "si", "by", "nosort", "desc"), "-2", "1", "5", "30");
	A_EXPECT(W("sort", "si", "by", "nosort", "limit", "1", "2"), "1", "5");
	A_EXPECT(W("sort", "si", "limit", "1", "2", "desc"), "5", "1");
	/* listpack: insertion order when not sorted. */
	H_EXPECT(":3\r\n", "sadd", "sl", "c", "a", "b");
	expect_enc("sl", AP_ENC_LISTPACK);
	A_EXPECT(W("sort", "sl", "alpha"), "a", "b", "c");
	A_EXPECT(W("sort", "sl", "alpha", "desc"), "c", "b", "a");
	A_EXPECT(W("sort", "sl", "by", "nosort"), "c", "a", "b");
	A_EXPECT(W("sort", "sl", "by", "nosort", "limit", "1", "1"), "a");
	H_EXPECT(E_SCORES, "sort", "sl");
	/* A set stored unsorted is sorted ALPHA instead (deterministic). */
	H_EXPECT(":3\r\n", "sort", "sl", "by", "nosort", "store", "d");
	A_EXPECT(W("lrange", "d", "0", "-1"), "a", "b", "c");
	H_EXPECT(":3\r\n", "sort", "sl", "by", "nosort", "desc", "store", "d");
	A_EXPECT(W("lrange", "d", "0", "-1"), "c", "b", "a");
	H_EXPECT(":4\r\n", "sort", "si", "by", "nosort", "store", "d");
	A_EXPECT(W("lrange", "d", "0", "-1"), "-2", "1", "30", "5");
	/* ... GET still applies, BY does not. */
	H_OK("mset", "o_a", "A", "o_c", "C");
	H_EXPECT(":3\r\n", "sort", "sl", "by", "w_", "get", "o_*", "store",
		 "d");
	A_EXPECT(W("lrange", "d", "0", "-1"), "A", "", "C");
	/* Integers in a listpack set. */
	H_EXPECT(":3\r\n", "sadd", "sm", "10", "x9", "7");
	expect_enc("sm", AP_ENC_LISTPACK);
	A_EXPECT(W("sort", "sm", "alpha"), "10", "7", "x9");
	H_OK("set", "w_x9", "-1");
	A_EXPECT(W("sort", "sm", "by", "w_*"), "x9", "10", "7");
	A_EXPECT(W("sort", "sm", "by", "w_*", "get", "#", "get", "w_*"), "x9",
		 "-1", "10", NIL, "7", NIL);
	/* hashtable. */
	h_cfg.set_max_listpack_entries = 2;
	h_cfg.set_max_intset_entries = 2;
	H_EXPECT(":5\r\n", "sadd", "sh", "e", "b", "d", "a", "c");
	expect_enc("sh", AP_ENC_HASHTABLE);
	A_EXPECT(W("sort", "sh", "alpha"), "a", "b", "c", "d", "e");
	A_EXPECT(W("sort", "sh", "alpha", "limit", "1", "3", "desc"), "d", "c",
		 "b");
	H_EXPECT(":5\r\n", "sort", "sh", "by", "nosort", "store", "d");
	A_EXPECT(W("lrange", "d", "0", "-1"), "a", "b", "c", "d", "e");
	H_EXPECT(":5\r\n", "sadd", "sn", "5", "3", "1", "4", "2");
	expect_enc("sn", AP_ENC_HASHTABLE);
	A_EXPECT(W("sort", "sn"), "1", "2", "3", "4", "5");
	A_EXPECT(W("sort", "sn", "limit", "4", "1"), "5");
	/* Unsorted windows of a hashtable cover it exactly once. */
	struct reply *all = malloc(sizeof(*all)), *part = malloc(sizeof(*part));
	run_parse(W("sort", "sh", "by", "nosort"), all);
	ck_assert_uint_eq(all->n, 5);
	for (size_t i = 0; i < 5; i++) {
		char off[8];
		snprintf(off, sizeof(off), "%zu", i);
		run_parse(W("sort", "sh", "by", "nosort", "limit", off, "1"),
			  part);
		ck_assert_uint_eq(part->n, 1);
		ck_assert_str_eq(part->s[0], all->s[i]);
		reply_clear(part);
	}
	reply_clear(all);
	free(all);
	free(part);
}
END_TEST

/* --- sorted sets ------------------------------------------------------------
 */

/* The checks of test_zsets on zset keys z (members a b c with scores 3 1
 * 2) and zn (members 10 9 100 with scores 1 2 3). */
static void check_zsets(void)
{
	A_EXPECT(W("sort", "z", "by", "nosort"), "b", "c", "a");
	A_EXPECT(W("sort", "z", "by", "nosort", "desc"), "a", "c", "b");
	A_EXPECT(W("sort", "z", "by", "nosort", "limit", "1", "1"), "c");
	A_EXPECT(W("sort", "z", "by", "nosort", "limit", "1", "5"), "c", "a");
	A_EXPECT(W("sort", "z", "by", "nosort", "limit", "0", "2", "desc"), "a",
		 "c");
	A_EXPECT(W("sort", "z", "by", "nosort", "limit", "2", "1", "desc"),
		 "b");
	H_EXPECT("*0\r\n", "sort", "z", "by", "nosort", "limit", "3", "1");
	A_EXPECT(W("sort", "z", "alpha"), "a", "b", "c");
	A_EXPECT(W("sort", "z", "alpha", "desc", "limit", "0", "1"), "c");
	H_EXPECT(E_SCORES, "sort", "z");
	H_EXPECT(":3\r\n", "sort", "z", "by", "nosort", "store", "d");
	A_EXPECT(W("lrange", "d", "0", "-1"), "b", "c", "a");
	A_EXPECT(W("sort", "zn"), "9", "10", "100");
	A_EXPECT(W("sort", "zn", "by", "nosort"), "10", "9", "100");
	A_EXPECT(W("sort", "zn", "by", "nosort", "desc"), "100", "9", "10");
	A_EXPECT(W("sort", "zn", "alpha"), "10", "100", "9");
	H_OK("mset", "w_10", "3", "w_9", "2", "w_100", "1");
	A_EXPECT(W("sort", "zn", "by", "w_*", "get", "#", "get", "w_*"), "100",
		 "1", "9", "2", "10", "3");
	A_EXPECT(W("sort_ro", "zn", "by", "nosort", "get", "w_*"), "3", "2",
		 "1");
}

START_TEST(test_zsets)
{
	H_EXPECT(":3\r\n", "zadd", "z", "3", "a", "1", "b", "2", "c");
	H_EXPECT(":3\r\n", "zadd", "zn", "1", "10", "2", "9", "3", "100");
	expect_enc("z", AP_ENC_LISTPACK);
	expect_enc("zn", AP_ENC_LISTPACK);
	check_zsets();
	/* Sorting does not change the encoding (Redis converts it). */
	expect_enc("z", AP_ENC_LISTPACK);
	flush();
	h_cfg.zset_max_listpack_entries = 0;
	H_EXPECT(":3\r\n", "zadd", "z", "3", "a", "1", "b", "2", "c");
	H_EXPECT(":3\r\n", "zadd", "zn", "1", "10", "2", "9", "3", "100");
	expect_enc("z", AP_ENC_SKIPLIST);
	expect_enc("zn", AP_ENC_SKIPLIST);
	check_zsets();
	/* A bigger skiplist: unsorted windows follow the scores. */
	for (int i = 0; i < 300; i++) {
		char sc[16], m[16];
		snprintf(sc, sizeof(sc), "%d", 300 - i);
		snprintf(m, sizeof(m), "m%03d", i);
		const char *const cmd[] = {"zadd", "zb", sc, m, NULL};
		size_t len;
		ap_free(h_run(cmd, &len));
	}
	A_EXPECT(W("sort", "zb", "by", "nosort", "limit", "10", "3"), "m289",
		 "m288", "m287");
	A_EXPECT(W("sort", "zb", "by", "nosort", "limit", "10", "3", "desc"),
		 "m010", "m011", "m012");
	A_EXPECT(W("sort", "zb", "alpha", "limit", "298", "5"), "m298", "m299");
}
END_TEST

/* --- lists of both encodings ------------------------------------------------
 */

START_TEST(test_quicklist)
{
	h_cfg.list_max_listpack_size = 4;
	for (int i = 0; i < 50; i++) {
		char v[16];
		snprintf(v, sizeof(v), "%d", 49 - i);
		const char *const cmd[] = {"rpush", "l", v, NULL};
		size_t len;
		ap_free(h_run(cmd, &len));
	}
	expect_enc("l", AP_ENC_QUICKLIST);
	A_EXPECT(W("sort", "l", "limit", "0", "3"), "0", "1", "2");
	A_EXPECT(W("sort", "l", "limit", "47", "3"), "47", "48", "49");
	A_EXPECT(W("sort", "l", "by", "nosort", "limit", "10", "2"), "39",
		 "38");
	A_EXPECT(W("sort", "l", "by", "nosort", "limit", "10", "2", "desc"),
		 "10", "11");
	A_EXPECT(W("sort", "l", "alpha", "limit", "0", "4"), "0", "1", "10",
		 "11");
	H_EXPECT(":50\r\n", "sort", "l", "store", "l");
	expect_enc("l", AP_ENC_QUICKLIST);
	A_EXPECT(W("lrange", "l", "0", "2"), "0", "1", "2");
	H_EXPECT(":3\r\n", "sort", "l", "limit", "0", "3", "store", "l");
	expect_enc("l", AP_ENC_LISTPACK);
}
END_TEST

/* --- key specs --------------------------------------------------------------
 */

/* Asserts that cmd's keys (ap_cmd_keys, room for max) are exp[0..n). */
static void expect_keys(int line, const char *const *words, size_t max,
			const int *exp, size_t n)
{
	struct ap_arg argv[32];
	int idx[32];
	int argc = 0;

	for (; words[argc] != NULL; argc++)
		argv[argc] = (struct ap_arg){words[argc], strlen(words[argc])};
	const struct ap_cmd *cmd = ap_cmd_lookup(argv[0].p, argv[0].len);
	size_t got = ap_cmd_keys(cmd, argc, argv, idx, max);
	ck_assert_msg(got == n, "line %d: %zu keys, expected %zu", line, got,
		      n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(idx[i] == exp[i], "line %d: key %zu at %d", line,
			      i, idx[i]);
}

#define KEYS(max, cmd, ...)                                         \
	expect_keys(__LINE__, cmd, max, (const int[]){__VA_ARGS__}, \
		    sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

START_TEST(test_keys)
{
	const struct ap_cmd *s = ap_cmd_lookup("sort", 4);
	const struct ap_cmd *ro = ap_cmd_lookup("sort_ro", 7);

	ck_assert(s->flags & AP_CMD_MOVABLE_KEYS);
	ck_assert(s->flags & AP_CMD_WRITE);
	ck_assert(ro->flags & AP_CMD_READONLY);
	ck_assert(!(ro->flags & AP_CMD_WRITE));
	ck_assert_int_eq(s->arity, -2);
	ck_assert_int_eq(ro->arity, -2);
	KEYS(8, W("sort", "a"), 1);
	KEYS(8, W("sort", "a", "store", "b"), 1, 3);
	KEYS(8, W("sort", "a", "store", "b", "store", "c"), 1, 5);
	KEYS(8, W("sort", "a", "limit", "0", "1", "store", "b"), 1, 6);
	KEYS(8, W("sort", "a", "by", "x", "get", "y", "desc", "store", "b"), 1,
	     8);
	KEYS(8, W("sort", "a", "get", "store"), 1);
	KEYS(8, W("sort", "a", "by", "store", "alpha"), 1);
	KEYS(8, W("sort", "a", "store"), 1);
	KEYS(8, W("sort", "a", "bad", "store", "b"), 1);
	KEYS(1, W("sort", "a", "store", "b"), 1);
	KEYS(8, W("sort_ro", "a"), 1);
	KEYS(8, W("sort_ro", "a", "store", "b"), 1);
	KEYS(8, W("sort_ro", "a", "get", "x"), 1);
}
END_TEST

/* --- big lists: LIMIT windows against the full sort -------------------- */

/* Checks that every window of `key` sorted with opts (appended after the
 * key) equals the same slice of the full sort. */
static void check_windows(const char *key, const char *o1, const char *o2,
			  uint64_t *rng)
{
	struct reply *full = malloc(sizeof(*full));
	struct reply *part = malloc(sizeof(*part));

	run_parse(W("sort", key, o1, o2), full);
	CK(full->kind == '*');
	for (int round = 0; round < 40; round++) {
		*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t n = full->n;
		size_t off = (size_t)(*rng >> 33) % (n + 2);
		size_t cnt = (size_t)(*rng >> 13) % 64;
		if (round % 10 == 0)
			cnt = n; /* a wide window */
		char so[24], sc[24];
		snprintf(so, sizeof(so), "%zu", off);
		snprintf(sc, sizeof(sc), "%zu", cnt);
		run_parse(W("sort", key, o1, o2, "limit", so, sc), part);
		size_t exp = off >= n ? 0 : AP_MIN(cnt, n - off);
		CK(part->n == exp);
		for (size_t i = 0; i < part->n; i++)
			CK(strcmp(part->s[i], full->s[off + i]) == 0);
		reply_clear(part);
	}
	reply_clear(full);
	free(full);
	free(part);
}

/* Checks that the sort of key is ordered (numeric unless alpha). */
static void check_ordered(const char *key, bool alpha, bool desc)
{
	struct reply *r = malloc(sizeof(*r));

	run_parse(
		W("sort", key, alpha ? "alpha" : "asc", desc ? "desc" : "asc"),
		r);
	CK(r->kind == '*');
	for (size_t i = 1; i < r->n; i++) {
		int c;
		if (alpha) {
			c = strcmp(r->s[i - 1], r->s[i]);
		} else {
			double a = strtod(r->s[i - 1], NULL);
			double b = strtod(r->s[i], NULL);
			c = a < b   ? -1
			    : a > b ? 1
				    : strcmp(r->s[i - 1], r->s[i]);
		}
		CK(desc ? c >= 0 : c <= 0);
	}
	reply_clear(r);
	free(r);
}

START_TEST(test_big_windows)
{
	uint64_t rng = 42;
	const char *shapes[] = {"random", "sorted", "reversed", "equal",
				"organ"};
	const int n = 5000;

	for (size_t s = 0; s < AP_ARRAY_LEN(shapes); s++) {
		flush();
		for (int i = 0; i < n; i++) {
			char v[32];
			long long x;
			rng = rng * 6364136223846793005ULL +
			      1442695040888963407ULL;
			switch (s) {
			case 0:
				x = (long long)(rng >> 40) % 1000;
				break;
			case 1:
				x = i;
				break;
			case 2:
				x = n - i;
				break;
			case 3:
				x = 7;
				break;
			default:
				x = i < n / 2 ? i : n - i;
				break;
			}
			snprintf(v, sizeof(v), "%lld", x);
			const char *const cmd[] = {"rpush", "l", v, NULL};
			size_t len;
			ap_free(h_run(cmd, &len));
		}
		check_ordered("l", false, false);
		check_ordered("l", false, true);
		check_ordered("l", true, false);
		check_ordered("l", true, true);
		check_windows("l", "asc", "asc", &rng);
		check_windows("l", "desc", "asc", &rng);
		check_windows("l", "alpha", "asc", &rng);
		check_windows("l", "alpha", "desc", &rng);
	}
}
END_TEST

/* --- randomized run against a reference model ------------------------ */

/* The model's view of one element's sort key. */
struct model_item {
	const char *elem;
	size_t idx;
	bool has; /* a BY value was found */
	double score;
	const char *text;
};

static bool model_alpha, model_desc, model_by;

/* Redis's sortCompare with the collection order as the last tie-break. */
static int model_cmp(const void *pa, const void *pb)
{
	const struct model_item *a = pa, *b = pb;
	int c;

	if (!model_alpha) {
		c = a->score > b->score	  ? 1
		    : a->score < b->score ? -1
					  : strcmp(a->elem, b->elem);
	} else if (model_by) {
		if (!a->has || !b->has)
			c = (int)a->has - (int)b->has;
		else
			c = strcmp(a->text, b->text);
	} else {
		c = strcmp(a->elem, b->elem);
	}
	c = c < 0 ? -1 : c > 0;
	if (model_desc)
		c = -c;
	if (c == 0)
		c = a->idx < b->idx ? -1 : 1;
	return c;
}

/* The model's keyspace: string values w_<elem> and hash fields h_<elem>
 * f, as arrays indexed like the pool. */
#define POOL_N 24
static const char *const pool[POOL_N] = {
	"0",	"1",   "2",  "3",   "10",   "-1",  "-7",  "1.5",
	"2.25", "1e2", "07", "0x1", "-0.5", "100", "999", "a",
	"B",	"ab",  "b",  "",    "zz",   "a b", "12",  "5"};
static const char *const values[] = {"0", "1",	 "-1", "3.5", "2",    "10",
				     "x", "1e1", "b",  "a",   "-2.5", ""};

/* The model's lookup of pattern for element e: "#", w_*, h_*->f, or a
 * pattern that finds nothing. */
static const char *model_value(int pat, int e, const int *w, const int *h)
{
	switch (pat) {
	case 0:
		return pool[e];
	case 1:
		return w[e] >= 0 ? values[w[e]] : NULL;
	case 2:
		return h[e] >= 0 ? values[h[e]] : NULL;
	default:
		return NULL;
	}
}

static const char *const pat_names[] = {"#", "w_*", "h_*->f", "nokey_*"};

START_TEST(test_random_model)
{
	uint64_t rng = 7;
	struct reply *r = malloc(sizeof(*r)), *lr = malloc(sizeof(*lr));

#define RND(n)                                                          \
	((rng = rng * 6364136223846793005ULL + 1442695040888963407ULL), \
	 (int)((rng >> 33) % (uint64_t)(n)))

	for (int round = 0; round < 1500; round++) {
		int w[POOL_N], h[POOL_N], elems[64];
		int type = RND(3); /* list, set, zset */
		int n = RND(4) == 0 ? 0 : RND(40);
		size_t len;

		flush();
		h_cfg.list_max_listpack_size = RND(2) ? -2 : 3;
		h_cfg.set_max_listpack_entries = RND(2) ? 128 : 4;
		h_cfg.zset_max_listpack_entries = RND(2) ? 128 : 4;
		for (int i = 0; i < POOL_N; i++) {
			char key[32];
			w[i] = RND(3) ? RND(AP_ARRAY_LEN(values)) : -1;
			h[i] = RND(3) ? RND(AP_ARRAY_LEN(values)) : -1;
			if (w[i] >= 0) {
				snprintf(key, sizeof(key), "w_%s", pool[i]);
				ap_free(h_run(W("set", key, values[w[i]]),
					      &len));
			}
			if (h[i] >= 0) {
				snprintf(key, sizeof(key), "h_%s", pool[i]);
				ap_free(h_run(W("hset", key, "f", values[h[i]]),
					      &len));
			}
		}
		for (int i = 0; i < n; i++) {
			int e = RND(POOL_N);
			char sc[16];
			snprintf(sc, sizeof(sc), "%d", RND(5));
			if (type == 0)
				ap_free(h_run(W("rpush", "k", pool[e]), &len));
			else if (type == 1)
				ap_free(h_run(W("sadd", "k", pool[e]), &len));
			else
				ap_free(h_run(W("zadd", "k", sc, pool[e]),
					      &len));
		}
		/* The collection's order, as the model sees it. */
		int count = 0;
		const char *const *order =
			type == 0   ? W("lrange", "k", "0", "-1")
			: type == 1 ? W("smembers", "k")
				    : W("zrange", "k", "0", "-1");
		run_parse(order, lr);
		for (size_t i = 0; i < lr->n; i++) {
			for (int e = 0; e < POOL_N; e++)
				if (strcmp(pool[e], lr->s[i]) == 0)
					elems[count] = e;
			count++;
		}
		reply_clear(lr);

		/* Options. */
		const char *argv[40];
		int argc = 0, by = RND(4), ngets = RND(3), gets[2];
		bool desc = RND(2), alpha = RND(2), store = RND(4) == 0;
		bool limit = RND(2);
		long long lstart = RND(n + 4) - 2, lcount = RND(n + 4) - 2;
		char ls[24], lc[24];
		argv[argc++] = RND(2) || store ? "sort" : "sort_ro";
		argv[argc++] = "k";
		if (by == 1)
			argv[argc++] = "by", argv[argc++] = "w_*";
		else if (by == 2)
			argv[argc++] = "by", argv[argc++] = "h_*->f";
		else if (by == 3)
			argv[argc++] = "by", argv[argc++] = "nosort";
		if (limit) {
			snprintf(ls, sizeof(ls), "%lld", lstart);
			snprintf(lc, sizeof(lc), "%lld", lcount);
			argv[argc++] = "limit";
			argv[argc++] = ls;
			argv[argc++] = lc;
		}
		for (int g = 0; g < ngets; g++) {
			gets[g] = RND(4);
			argv[argc++] = "get";
			argv[argc++] = pat_names[gets[g]];
		}
		if (desc)
			argv[argc++] = "desc";
		if (alpha)
			argv[argc++] = "alpha";
		if (store)
			argv[argc++] = "store", argv[argc++] = "dst";
		argv[argc] = NULL;

		/* The model. */
		bool dontsort = by == 3, use_by = by == 1 || by == 2;
		if (dontsort && type == 1 && store) {
			dontsort = false;
			alpha = true;
			use_by = false;
		}
		long long vlen = count;
		long long st = limit ? AP_MIN(AP_MAX(lstart, 0LL), vlen) : 0;
		long long ct = limit ? AP_MIN(AP_MAX(lcount, -1LL), vlen) : -1;
		long long end = ct < 0 ? vlen - 1 : st + ct - 1;
		if (st >= vlen) {
			st = vlen - 1;
			end = vlen - 2;
		}
		if (end >= vlen)
			end = vlen - 1;
		struct model_item items[64];
		bool bad = false;
		for (int i = 0; i < count; i++) {
			int e = elems[i];
			struct model_item *it = &items[i];
			*it = (struct model_item){.elem = pool[e], .idx = i};
			if (dontsort)
				continue;
			const char *v =
				use_by ? model_value(by, e, w, h) : pool[e];
			it->has = v != NULL;
			it->text = v;
			if (alpha || v == NULL)
				continue;
			char *endp;
			errno = 0;
			it->score = strtod(v, &endp);
			if (*endp != '\0' || errno == ERANGE ||
			    isnan(it->score))
				bad = true;
		}
		if (dontsort && type != 1 && desc) {
			for (int i = 0; i < count / 2; i++) {
				struct model_item t = items[i];
				items[i] = items[count - 1 - i];
				items[count - 1 - i] = t;
			}
		}
		if (!dontsort && !bad) {
			model_alpha = alpha;
			model_desc = desc;
			model_by = use_by;
			qsort(items, (size_t)count, sizeof(items[0]),
			      model_cmp);
		}
		const char *exp[256];
		size_t nexp = 0;
		for (long long i = st; i <= end; i++) {
			int e = -1;
			for (int p = 0; p < POOL_N; p++)
				if (strcmp(pool[p], items[i].elem) == 0)
					e = p;
			if (ngets == 0)
				exp[nexp++] = items[i].elem;
			for (int g = 0; g < ngets; g++) {
				const char *v = model_value(gets[g], e, w, h);
				exp[nexp++] = v ? v : store ? "" : NULL;
			}
		}

		/* The command. */
		run_parse(argv, r);
		if (bad) {
			ck_assert_msg(r->kind == '-', "round %d: no error",
				      round);
			continue;
		}
		if (store) {
			ck_assert_msg(r->kind == ':' &&
					      r->num == (long long)nexp,
				      "round %d: stored %lld, expected %zu",
				      round, r->num, nexp);
			run_parse(W("lrange", "dst", "0", "-1"), r);
			if (nexp == 0)
				ck_assert_ptr_null(h_peek("dst"));
		}
		ck_assert_msg(r->kind == '*' && r->n == nexp,
			      "round %d: %zu items, expected %zu", round, r->n,
			      nexp);
		for (size_t i = 0; i < nexp; i++) {
			bool same =
				exp[i] == NULL
					? r->s[i] == NULL
					: r->s[i] != NULL &&
						  strcmp(exp[i], r->s[i]) == 0;
			ck_assert_msg(same, "round %d: item %zu is %s, not %s",
				      round, i, r->s[i] ? r->s[i] : "(nil)",
				      exp[i] ? exp[i] : "(nil)");
		}
		reply_clear(r);
	}
#undef RND
	free(r);
	free(lr);
}
END_TEST

/* --- suite ---------------------------------------------------------------- */

static Suite *cmd_sort_suite(void)
{
	Suite *s = suite_create("cmd_sort");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_add_test(tc, test_numeric);
	tcase_add_test(tc, test_numeric_errors);
	tcase_add_test(tc, test_alpha);
	tcase_add_test(tc, test_alpha_nul);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_by);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_pattern_nul);
	tcase_add_test(tc, test_store);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_sets);
	tcase_add_test(tc, test_zsets);
	tcase_add_test(tc, test_quicklist);
	tcase_add_test(tc, test_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_add_test(tc, test_big_windows);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(cmd_sort_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
