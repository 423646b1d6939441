/*
 * test_cmd_hash.c - the hash commands of core/cmd_hash.c run through the
 * command table (cmd_harness.h): every command, option and error text,
 * RESP2 and RESP3 reply shapes, dirty counts, encodings and their
 * conversion thresholds, empty hashes deleted, and the type operations
 * (TYPE, COPY, DEL) on both encodings.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/core/cmd_harness.h"

#include "core/hobj.h"

#define E_HASH_NOT_INT	 "-ERR hash value is not an integer\r\n"
#define E_HASH_NOT_FLOAT "-ERR hash value is not a float\r\n"
#define E_OVERFLOW	 "-ERR increment or decrement would overflow\r\n"
#define E_RANGE		 "-ERR value is out of range\r\n"
#define E_CURSOR	 "-ERR invalid cursor\r\n"

/* --- helpers ------------------------------------------------------------ */

/* The encoding of key (which must exist). */
static enum ap_enc enc_of(const char *key)
{
	struct ap_entry *e = h_peek(key);

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ap_entry_type(e), AP_TYPE_HASH);
	return ap_entry_enc(e);
}

#define MAX_ITEMS 4096

/* The bulk strings of a reply, flattened in order (nested arrays are
 * walked), each NUL-terminated in its own allocation. */
struct items {
	char *s[MAX_ITEMS];
	size_t n;
	long long top; /* the top-level aggregate's count */
	int nested;    /* nested aggregates seen */
};

static const char *parse_line(const char *p, long long *v)
{
	char *end;

	*v = strtoll(p + 1, &end, 10);
	ck_assert(end[0] == '\r' && end[1] == '\n');
	return end + 2;
}

static const char *parse_item(const char *p, struct items *it, int depth)
{
	long long v;

	if (*p == '$') {
		p = parse_line(p, &v);
		ck_assert_int_ge(v, 0);
		ck_assert_uint_lt(it->n, MAX_ITEMS);
		it->s[it->n] = malloc((size_t)v + 1);
		memcpy(it->s[it->n], p, (size_t)v);
		it->s[it->n][v] = '\0';
		it->n++;
		return p + v + 2;
	}
	ck_assert_msg(*p == '*' || *p == '%', "unexpected %c", *p);
	bool map = *p == '%';
	p = parse_line(p, &v);
	if (depth == 0)
		it->top = v;
	else
		it->nested++;
	for (long long i = 0; i < (map ? 2 * v : v); i++)
		p = parse_item(p, it, depth + 1);
	return p;
}

/* Runs a command and parses its aggregate reply into it. */
static void run_items(struct items *it, const char *const *words)
{
	size_t len;
	char *r = h_run(words, &len);

	it->n = 0;
	it->nested = 0;
	const char *end = parse_item(r, it, 0);
	ck_assert_uint_eq((size_t)(end - r), len);
	ap_free(r);
}
#define RUN_ITEMS(it, ...) \
	run_items(it, (const char *const[]){__VA_ARGS__, NULL})

static void items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->s[i]);
	it->n = 0;
}

/* Creates hash h with fields f0..f<n-1> holding v0..v<n-1>. */
static void fill(const char *key, int n)
{
	for (int i = 0; i < n; i++) {
		char f[32], v[32];
		snprintf(f, sizeof(f), "f%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		H_EXPECT(":1\r\n", "hset", key, f, v);
	}
}

/* --- HSET HMSET HSETNX HGET ------------------------------------------- */

START_TEST(test_hset_hget)
{
	H_EXPECT(":2\r\n", "hset", "h", "a", "1", "b", "2");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT(":1\r\n", "hset", "h", "a", "x", "c", "3");
	ck_assert_uint_eq(h_last_dirty, 2);
	/* a field repeated in one call counts once */
	H_EXPECT(":1\r\n", "hset", "h", "d", "1", "d", "2");
	H_EXPECT("$1\r\n2\r\n", "hget", "h", "d");
	H_EXPECT("$1\r\nx\r\n", "hget", "h", "a");
	H_EXPECT("$1\r\n3\r\n", "hget", "h", "c");
	H_EXPECT(H_NIL, "hget", "h", "zz");
	H_EXPECT(H_NIL, "hget", "nokey", "a");
	/* empty field and value */
	H_EXPECT(":1\r\n", "hset", "h", "", "");
	H_EXPECT("$0\r\n\r\n", "hget", "h", "");
	H_EXPECT("+hash\r\n", "type", "h");
	ck_assert_int_eq(enc_of("h"), AP_ENC_LISTPACK);
	h_proto = 3;
	H_EXPECT("_\r\n", "hget", "h", "zz");
}
END_TEST

START_TEST(test_hset_arity)
{
	H_EXPECT(H_E_ARITY("hset"), "hset", "h", "a");
	H_EXPECT(H_E_ARITY("hset"), "hset", "h", "a", "b", "c");
	H_EXPECT(H_E_ARITY("hmset"), "hmset", "h", "a", "b", "c");
	H_EXPECT(H_E_ARITY("hmset"), "hmset", "h");
	H_EXPECT(H_E_ARITY("hsetnx"), "hsetnx", "h", "a", "b", "c");
	H_EXPECT(H_E_ARITY("hget"), "hget", "h");
	H_EXPECT(H_E_ARITY("hmget"), "hmget", "h");
	H_EXPECT(H_E_ARITY("hdel"), "hdel", "h");
	H_EXPECT(H_E_ARITY("hlen"), "hlen", "h", "x");
	H_EXPECT(H_E_ARITY("hincrby"), "hincrby", "h", "f");
	H_EXPECT(H_E_ARITY("hincrbyfloat"), "hincrbyfloat", "h", "f", "1", "2");
	H_EXPECT(H_E_ARITY("hrandfield"), "hrandfield");
	H_EXPECT(H_E_ARITY("hscan"), "hscan", "h");
	ck_assert_ptr_null(h_peek("h"));
}
END_TEST

START_TEST(test_hmset_hsetnx)
{
	H_OK("hmset", "h", "a", "1", "b", "2");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_OK("hmset", "h", "a", "3");
	H_EXPECT("$1\r\n3\r\n", "hget", "h", "a");
	H_EXPECT(":0\r\n", "hsetnx", "h", "a", "9");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("$1\r\n3\r\n", "hget", "h", "a");
	H_EXPECT(":1\r\n", "hsetnx", "h", "c", "9");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("$1\r\n9\r\n", "hget", "h", "c");
	H_EXPECT(":1\r\n", "hsetnx", "new", "f", "v");
	H_EXPECT(":1\r\n", "hlen", "new");
}
END_TEST

/* --- reads on missing keys and other types ----------------------------- */

START_TEST(test_missing_key)
{
	H_EXPECT("*2\r\n$-1\r\n$-1\r\n", "hmget", "nokey", "a", "b");
	H_EXPECT(":0\r\n", "hlen", "nokey");
	H_EXPECT(":0\r\n", "hstrlen", "nokey", "f");
	H_EXPECT(":0\r\n", "hexists", "nokey", "f");
	H_EXPECT(":0\r\n", "hdel", "nokey", "f");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("*0\r\n", "hkeys", "nokey");
	H_EXPECT("*0\r\n", "hvals", "nokey");
	H_EXPECT("*0\r\n", "hgetall", "nokey");
	H_EXPECT("$-1\r\n", "hrandfield", "nokey");
	H_EXPECT("*0\r\n", "hrandfield", "nokey", "3");
	H_EXPECT("*0\r\n", "hrandfield", "nokey", "-3", "withvalues");
	H_EXPECT("*2\r\n$1\r\n0\r\n*0\r\n", "hscan", "nokey", "0");
	/* options are not parsed for a missing key, as Redis */
	H_EXPECT("*2\r\n$1\r\n0\r\n*0\r\n", "hscan", "nokey", "0", "foo");
	h_proto = 3;
	H_EXPECT("%0\r\n", "hgetall", "nokey");
	H_EXPECT("*0\r\n", "hkeys", "nokey");
	H_EXPECT("_\r\n", "hrandfield", "nokey");
	H_EXPECT("*2\r\n_\r\n_\r\n", "hmget", "nokey", "a", "b");
	ck_assert_ptr_null(h_peek("nokey"));
}
END_TEST

START_TEST(test_wrongtype)
{
	H_OK("set", "s", "x");
	H_EXPECT(H_E_WRONGTYPE, "hset", "s", "a", "b");
	H_EXPECT(H_E_WRONGTYPE, "hmset", "s", "a", "b");
	H_EXPECT(H_E_WRONGTYPE, "hsetnx", "s", "a", "b");
	H_EXPECT(H_E_WRONGTYPE, "hget", "s", "a");
	H_EXPECT(H_E_WRONGTYPE, "hmget", "s", "a");
	H_EXPECT(H_E_WRONGTYPE, "hdel", "s", "a");
	H_EXPECT(H_E_WRONGTYPE, "hlen", "s");
	H_EXPECT(H_E_WRONGTYPE, "hstrlen", "s", "a");
	H_EXPECT(H_E_WRONGTYPE, "hexists", "s", "a");
	H_EXPECT(H_E_WRONGTYPE, "hkeys", "s");
	H_EXPECT(H_E_WRONGTYPE, "hvals", "s");
	H_EXPECT(H_E_WRONGTYPE, "hgetall", "s");
	H_EXPECT(H_E_WRONGTYPE, "hincrby", "s", "a", "1");
	H_EXPECT(H_E_WRONGTYPE, "hincrbyfloat", "s", "a", "1");
	H_EXPECT(H_E_WRONGTYPE, "hrandfield", "s");
	H_EXPECT(H_E_WRONGTYPE, "hrandfield", "s", "1");
	H_EXPECT(H_E_WRONGTYPE, "hscan", "s", "0");
	H_EXPECT(H_E_WRONGTYPE, "hscan", "s", "0", "foo");
	/* argument errors come before the type, as Redis */
	H_EXPECT(H_E_NOT_INT, "hincrby", "s", "a", "x");
	H_EXPECT(H_E_NOT_FLOAT, "hincrbyfloat", "s", "a", "x");
	H_EXPECT("-ERR value is NaN or Infinity\r\n", "hincrbyfloat", "s", "a",
		 "inf");
	H_EXPECT(H_E_NOT_INT, "hrandfield", "s", "x");
	H_EXPECT(H_E_SYNTAX, "hrandfield", "s", "1", "x");
	H_EXPECT(E_CURSOR, "hscan", "s", "x");
	H_EXPECT("$1\r\nx\r\n", "get", "s");
	/* and a hash is the wrong type for string commands */
	H_EXPECT(":1\r\n", "hset", "h", "a", "b");
	H_EXPECT(H_E_WRONGTYPE, "get", "h");
}
END_TEST

/* --- HMGET HLEN HSTRLEN HEXISTS ---------------------------------------- */

START_TEST(test_field_reads)
{
	H_EXPECT(":3\r\n", "hset", "h", "a", "1", "b", "hello", "n",
		 "-9223372036854775808");
	H_EXPECT("*4\r\n$1\r\n1\r\n$-1\r\n$5\r\nhello\r\n$1\r\n1\r\n", "hmget",
		 "h", "a", "zz", "b", "a");
	H_EXPECT(":3\r\n", "hlen", "h");
	H_EXPECT(":5\r\n", "hstrlen", "h", "b");
	H_EXPECT(":20\r\n", "hstrlen", "h", "n");
	H_EXPECT(":1\r\n", "hstrlen", "h", "a");
	H_EXPECT(":0\r\n", "hstrlen", "h", "zz");
	H_EXPECT(":1\r\n", "hexists", "h", "a");
	H_EXPECT(":0\r\n", "hexists", "h", "zz");
	H_EXPECT(":0\r\n", "hexists", "h", "A");
	H_EXPECT("$20\r\n-9223372036854775808\r\n", "hget", "h", "n");
	h_proto = 3;
	H_EXPECT("*2\r\n$1\r\n1\r\n_\r\n", "hmget", "h", "a", "zz");
}
END_TEST

/* --- HDEL ---------------------------------------------------------------- */

START_TEST(test_hdel)
{
	H_EXPECT(":3\r\n", "hset", "h", "a", "1", "b", "2", "c", "3");
	H_EXPECT(":2\r\n", "hdel", "h", "a", "zz", "b", "a");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT(":1\r\n", "hlen", "h");
	H_EXPECT(":0\r\n", "hdel", "h", "a");
	ck_assert_uint_eq(h_last_dirty, 0);
	/* the last field takes the key with it */
	H_EXPECT(":1\r\n", "hdel", "h", "c", "c");
	ck_assert_ptr_null(h_peek("h"));
	H_EXPECT(":0\r\n", "exists", "h");

	/* the same on a hashtable */
	h_cfg.hash_max_listpack_entries = 2;
	fill("t", 5);
	ck_assert_int_eq(enc_of("t"), AP_ENC_HASHTABLE);
	H_EXPECT(":4\r\n", "hdel", "t", "f0", "f1", "f2", "f3");
	ck_assert_int_eq(enc_of("t"), AP_ENC_HASHTABLE);
	H_EXPECT(":1\r\n", "hdel", "t", "f4");
	ck_assert_ptr_null(h_peek("t"));
}
END_TEST

/* --- HKEYS HVALS HGETALL ------------------------------------------------- */

START_TEST(test_getall)
{
	H_EXPECT(":3\r\n", "hset", "h", "a", "1", "b", "two", "c", "3");
	H_EXPECT("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "hkeys", "h");
	H_EXPECT("*3\r\n$1\r\n1\r\n$3\r\ntwo\r\n$1\r\n3\r\n", "hvals", "h");
	H_EXPECT("*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\ntwo\r\n"
		 "$1\r\nc\r\n$1\r\n3\r\n",
		 "hgetall", "h");
	h_proto = 3;
	H_EXPECT("%3\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\ntwo\r\n"
		 "$1\r\nc\r\n$1\r\n3\r\n",
		 "hgetall", "h");
	H_EXPECT("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "hkeys", "h");
}
END_TEST

/* HGETALL, HKEYS, HVALS of a hashtable: every pair exactly once. */
START_TEST(test_getall_table)
{
	struct items it;
	static bool seen[1000];

	fill("h", 1000);
	ck_assert_int_eq(enc_of("h"), AP_ENC_HASHTABLE);
	h_proto = 3;
	RUN_ITEMS(&it, "hgetall", "h");
	ck_assert_int_eq(it.top, 1000);
	ck_assert_uint_eq(it.n, 2000);
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < it.n; i += 2) {
		int k = atoi(it.s[i] + 1);
		ck_assert(!seen[k]);
		seen[k] = true;
		ck_assert_int_eq(atoi(it.s[i + 1] + 1), k);
	}
	items_free(&it);
	RUN_ITEMS(&it, "hkeys", "h");
	ck_assert_uint_eq(it.n, 1000);
	ck_assert_int_eq(it.top, 1000);
	items_free(&it);
	RUN_ITEMS(&it, "hvals", "h");
	ck_assert_uint_eq(it.n, 1000);
	ck_assert_int_eq(it.s[0][0], 'v');
	items_free(&it);
}
END_TEST

/* --- encodings ------------------------------------------------------------ */

START_TEST(test_encoding_thresholds)
{
	char at[65], over[66];

	memset(at, 'a', 64);
	at[64] = '\0';
	memset(over, 'b', 65);
	over[65] = '\0';

	/* 128 fields stay a listpack, 129 convert */
	h_cfg.hash_max_listpack_entries = 128;
	fill("h", 128);
	ck_assert_int_eq(enc_of("h"), AP_ENC_LISTPACK);
	H_EXPECT(":0\r\n", "hset", "h", "f0", at);
	ck_assert_int_eq(enc_of("h"), AP_ENC_LISTPACK);
	H_EXPECT(":1\r\n", "hset", "h", "f128", "x");
	ck_assert_int_eq(enc_of("h"), AP_ENC_HASHTABLE);
	/* never back */
	for (int i = 0; i < 128; i++) {
		char f[16];
		snprintf(f, sizeof(f), "f%d", i);
		H_EXPECT(":1\r\n", "hdel", "h", f);
	}
	ck_assert_int_eq(enc_of("h"), AP_ENC_HASHTABLE);

	/* 64-byte field and value stay, 65 converts */
	H_EXPECT(":1\r\n", "hset", "v", at, at);
	ck_assert_int_eq(enc_of("v"), AP_ENC_LISTPACK);
	H_EXPECT(":0\r\n", "hset", "v", at, over);
	ck_assert_int_eq(enc_of("v"), AP_ENC_HASHTABLE);
	H_EXPECT(":1\r\n", "hset", "w", over, "x");
	ck_assert_int_eq(enc_of("w"), AP_ENC_HASHTABLE);
	H_EXPECT(":1\r\n", "hsetnx", "x", "f", over);
	ck_assert_int_eq(enc_of("x"), AP_ENC_HASHTABLE);

	/* configured limits, including 0 */
	h_cfg.hash_max_listpack_entries = 0;
	H_EXPECT(":1\r\n", "hset", "z", "a", "b");
	ck_assert_int_eq(enc_of("z"), AP_ENC_HASHTABLE);
	h_cfg.hash_max_listpack_entries = 128;
	h_cfg.hash_max_listpack_value = 3;
	H_EXPECT(":1\r\n", "hset", "y", "abc", "def");
	ck_assert_int_eq(enc_of("y"), AP_ENC_LISTPACK);
	/* HINCRBY and HINCRBYFLOAT results convert too, as Redis */
	H_EXPECT(":999\r\n", "hincrby", "y", "n", "999");
	ck_assert_int_eq(enc_of("y"), AP_ENC_LISTPACK);
	H_EXPECT(":1000\r\n", "hincrby", "y", "n", "1");
	ck_assert_int_eq(enc_of("y"), AP_ENC_HASHTABLE);
	H_EXPECT(":1\r\n", "hset", "y2", "a", "1");
	H_EXPECT("$3\r\n1.5\r\n", "hincrbyfloat", "y2", "a", "0.5");
	ck_assert_int_eq(enc_of("y2"), AP_ENC_LISTPACK);
	H_EXPECT("$4\r\n1.75\r\n", "hincrbyfloat", "y2", "a", "0.25");
	ck_assert_int_eq(enc_of("y2"), AP_ENC_HASHTABLE);
	H_EXPECT("$4\r\n1.75\r\n", "hget", "y2", "a");
}
END_TEST

/* --- HINCRBY ------------------------------------------------------------- */

START_TEST(test_hincrby)
{
	H_EXPECT(":5\r\n", "hincrby", "h", "c", "5");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":-2\r\n", "hincrby", "h", "c", "-7");
	H_EXPECT("$2\r\n-2\r\n", "hget", "h", "c");
	H_EXPECT(":9223372036854775807\r\n", "hincrby", "h", "big",
		 "9223372036854775807");
	H_EXPECT(E_OVERFLOW, "hincrby", "h", "big", "1");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(":-9223372036854775808\r\n", "hincrby", "h", "small",
		 "-9223372036854775808");
	H_EXPECT(E_OVERFLOW, "hincrby", "h", "small", "-1");
	H_EXPECT(H_E_NOT_INT, "hincrby", "h", "c", "9223372036854775808");
	H_EXPECT(H_E_NOT_INT, "hincrby", "h", "c", "1.0");
	H_EXPECT(H_E_NOT_INT, "hincrby", "h", "c", "");
	static const char *const bad[] = {"abc", " 1", "1.5", "",
					  "01",	 "-0", "1e3"};
	H_EXPECT(":1\r\n", "hset", "h", "s", "x");
	for (size_t i = 0; i < AP_ARRAY_LEN(bad); i++) {
		H_EXPECT(":0\r\n", "hset", "h", "s", bad[i]);
		H_EXPECT(E_HASH_NOT_INT, "hincrby", "h", "s", "1");
		ck_assert_uint_eq(h_last_dirty, 0);
	}
	/* an error on a missing key creates nothing */
	H_EXPECT(H_E_NOT_INT, "hincrby", "new", "f", "x");
	ck_assert_ptr_null(h_peek("new"));
	/* hashtable encoding */
	h_cfg.hash_max_listpack_entries = 1;
	H_EXPECT(":1\r\n", "hincrby", "t", "a", "1");
	H_EXPECT(":41\r\n", "hincrby", "t", "b", "41");
	ck_assert_int_eq(enc_of("t"), AP_ENC_HASHTABLE);
	H_EXPECT(":-59\r\n", "hincrby", "t", "b", "-100");
	H_EXPECT(":1\r\n", "hset", "t", "s", "x");
	H_EXPECT(E_HASH_NOT_INT, "hincrby", "t", "s", "1");
	H_EXPECT("$3\r\n-59\r\n", "hget", "t", "b");
}
END_TEST

/* --- HINCRBYFLOAT -----------------------------------------------------------
 */

START_TEST(test_hincrbyfloat)
{
	H_EXPECT("$3\r\n2.5\r\n", "hincrbyfloat", "h", "a", "2.5");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("$3\r\n2.6\r\n", "hincrbyfloat", "h", "a", "0.1");
	H_EXPECT("$21\r\n100000000000000000000\r\n", "hincrbyfloat", "h", "b",
		 "1e20");
	H_EXPECT(":1\r\n", "hset", "h", "i", "3");
	H_EXPECT("$1\r\n4\r\n", "hincrbyfloat", "h", "i", "1.0");
	H_EXPECT("$12\r\n3.9999999999\r\n", "hincrbyfloat", "h", "i", "-1e-10");
	H_EXPECT("$4\r\n5000\r\n", "hincrbyfloat", "h", "n", "5.0e3");
	H_EXPECT(":1\r\n", "hset", "h", "e", "1e3");
	H_EXPECT("$4\r\n1001\r\n", "hincrbyfloat", "h", "e", "1");
	H_EXPECT("$1\r\n0\r\n", "hincrbyfloat", "h", "z", "0");

	H_EXPECT(H_E_NOT_FLOAT, "hincrbyfloat", "h", "a", "x");
	H_EXPECT(H_E_NOT_FLOAT, "hincrbyfloat", "h", "a", "nan");
	H_EXPECT(H_E_NOT_FLOAT, "hincrbyfloat", "h", "a", "");
	H_EXPECT("-ERR value is NaN or Infinity\r\n", "hincrbyfloat", "h", "a",
		 "inf");
	H_EXPECT("-ERR value is NaN or Infinity\r\n", "hincrbyfloat", "h", "a",
		 "-inf");
	static const char *const bad[] = {"abc", " 1", "", "1 ", "nan"};
	for (size_t i = 0; i < AP_ARRAY_LEN(bad); i++) {
		H_EXPECT(":1\r\n", "hset", "h", "s", bad[i]);
		H_EXPECT(E_HASH_NOT_FLOAT, "hincrbyfloat", "h", "s", "1");
		ck_assert_uint_eq(h_last_dirty, 0);
		H_EXPECT(":1\r\n", "hdel", "h", "s");
	}
	/* a result too big for a long double */
	H_EXPECT("$3\r\n1.5\r\n", "hincrbyfloat", "big", "f", "1.5");
	H_EXPECT(":0\r\n", "hset", "big", "f", "1.18e4932");
	H_EXPECT("-ERR increment would produce NaN or Infinity\r\n",
		 "hincrbyfloat", "big", "f", "1.18e4932");
	H_EXPECT("$9\r\n1.18e4932\r\n", "hget", "big", "f");
	/* an error on a missing key creates nothing */
	H_EXPECT(H_E_NOT_FLOAT, "hincrbyfloat", "new", "f", "x");
	ck_assert_ptr_null(h_peek("new"));
	/* hashtable encoding */
	h_cfg.hash_max_listpack_entries = 0;
	H_EXPECT("$4\r\n0.25\r\n", "hincrbyfloat", "t", "a", "0.25");
	H_EXPECT("$4\r\n10.5\r\n", "hincrbyfloat", "t", "a", "10.25");
	ck_assert_int_eq(enc_of("t"), AP_ENC_HASHTABLE);
	H_EXPECT("$4\r\n10.5\r\n", "hget", "t", "a");
}
END_TEST

/* --- HRANDFIELD ---------------------------------------------------------- */

START_TEST(test_hrandfield_args)
{
	H_EXPECT(":2\r\n", "hset", "h", "a", "1", "b", "2");
	H_EXPECT(H_E_NOT_INT, "hrandfield", "h", "x");
	H_EXPECT(H_E_NOT_INT, "hrandfield", "h", "x", "withvalues");
	H_EXPECT(H_E_SYNTAX, "hrandfield", "h", "1", "x");
	H_EXPECT(H_E_SYNTAX, "hrandfield", "h", "1", "withvalues", "x");
	H_EXPECT(H_E_SYNTAX, "hrandfield", "nokey", "1", "x");
	H_EXPECT("-ERR value is out of range, value must between "
		 "-9223372036854775807 and 9223372036854775807\r\n",
		 "hrandfield", "h", "-9223372036854775808");
	H_EXPECT("-ERR value is out of range, value must between "
		 "-9223372036854775807 and 9223372036854775807\r\n",
		 "hrandfield", "h", "-9223372036854775808", "withvalues");
	H_EXPECT(E_RANGE, "hrandfield", "h", "-9223372036854775807",
		 "withvalues");
	H_EXPECT(E_RANGE, "hrandfield", "h", "-4611686018427387904",
		 "withvalues");
	H_EXPECT(E_RANGE, "hrandfield", "h", "4611686018427387904",
		 "withvalues");
	/* ours: repetitions are bounded (Redis runs out of memory) */
	H_EXPECT(E_RANGE, "hrandfield", "h", "-4611686018427387903",
		 "withvalues");
	H_EXPECT(E_RANGE, "hrandfield", "h", "-10000001");
	H_EXPECT(E_RANGE, "hrandfield", "nokey", "-10000001");
	/* a huge positive count is the whole hash */
	H_EXPECT("*2\r\n$1\r\na\r\n$1\r\nb\r\n", "hrandfield", "h",
		 "9223372036854775807");
	H_EXPECT("*0\r\n", "hrandfield", "h", "0");
	H_EXPECT("*0\r\n", "hrandfield", "h", "0", "withvalues");
	H_EXPECT("*0\r\n", "hrandfield", "h", "0", "WITHVALUES");
}
END_TEST

START_TEST(test_hrandfield_shapes)
{
	H_EXPECT(":1\r\n", "hset", "one", "f", "v");
	H_EXPECT("$1\r\nf\r\n", "hrandfield", "one");
	H_EXPECT("*1\r\n$1\r\nf\r\n", "hrandfield", "one", "1");
	H_EXPECT("*3\r\n$1\r\nf\r\n$1\r\nf\r\n$1\r\nf\r\n", "hrandfield", "one",
		 "-3");
	H_EXPECT("*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nf\r\n$1\r\nv\r\n",
		 "hrandfield", "one", "-2", "withvalues");
	H_EXPECT("*2\r\n$1\r\nf\r\n$1\r\nv\r\n", "hrandfield", "one", "5",
		 "withvalues");
	h_proto = 3;
	H_EXPECT("$1\r\nf\r\n", "hrandfield", "one");
	H_EXPECT("*2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\n"
		 "v\r\n",
		 "hrandfield", "one", "-2", "withvalues");
	H_EXPECT("*1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", "hrandfield", "one", "1",
		 "withvalues");
	H_EXPECT("*1\r\n$1\r\nf\r\n", "hrandfield", "one", "-1");
}
END_TEST

/* Checks an HRANDFIELD reply of fields f<i> (with values v<i> when
 * withvalues): every field is a member, distinct when unique. */
static void check_rand(struct items *it, int members, size_t expect,
		       bool withvalues, bool unique)
{
	static bool seen[4096];
	size_t step = withvalues ? 2 : 1;

	memset(seen, 0, sizeof(seen));
	ck_assert_uint_eq(it->n, expect * step);
	for (size_t i = 0; i < it->n; i += step) {
		ck_assert_int_eq(it->s[i][0], 'f');
		int k = atoi(it->s[i] + 1);
		ck_assert_int_lt(k, members);
		if (unique)
			ck_assert(!seen[k]);
		seen[k] = true;
		if (withvalues)
			ck_assert_int_eq(atoi(it->s[i + 1] + 1), k);
	}
}

START_TEST(test_hrandfield_counts)
{
	struct items it;
	/* listpack (100 fields) and hashtable (1000 fields) */
	static const int sizes[] = {100, 1000};

	for (size_t s = 0; s < AP_ARRAY_LEN(sizes); s++) {
		int n = sizes[s];
		char key[16], cnt[16], neg[16];
		snprintf(key, sizeof(key), "h%d", n);
		fill(key, n);
		ck_assert_int_eq(enc_of(key),
				 s == 0 ? AP_ENC_LISTPACK : AP_ENC_HASHTABLE);
		for (int proto = 2; proto <= 3; proto++) {
			h_proto = proto;
			/* distinct: few (draws), many (walk), all, more */
			int counts[] = {1, 10, n / 3, n / 2, n - 1, n, n + 5};
			for (size_t k = 0; k < AP_ARRAY_LEN(counts); k++) {
				size_t want = (size_t)AP_MIN(counts[k], n);
				snprintf(cnt, sizeof(cnt), "%d", counts[k]);
				RUN_ITEMS(&it, "hrandfield", key, cnt);
				check_rand(&it, n, want, false, true);
				ck_assert_int_eq(it.nested, 0);
				items_free(&it);
				RUN_ITEMS(&it, "hrandfield", key, cnt,
					  "withvalues");
				check_rand(&it, n, want, true, true);
				ck_assert_int_eq(
					it.top,
					proto == 3 ? (long long)want
						   : (long long)(2 * want));
				ck_assert_int_eq(it.nested,
						 proto == 3 ? (int)want : 0);
				items_free(&it);
			}
			/* repetitions */
			snprintf(neg, sizeof(neg), "-%d", 2 * n);
			RUN_ITEMS(&it, "hrandfield", key, neg, "withvalues");
			check_rand(&it, n, (size_t)(2 * n), true, false);
			items_free(&it);
		}
		h_proto = 2;
	}
}
END_TEST

/* --- HSCAN ---------------------------------------------------------------- */

START_TEST(test_hscan_args)
{
	H_EXPECT(":2\r\n", "hset", "h", "a", "1", "b", "2");
	H_EXPECT(E_CURSOR, "hscan", "h", "x");
	H_EXPECT(E_CURSOR, "hscan", "h", "18446744073709551616");
	H_EXPECT(E_CURSOR, "hscan", "h", "-18446744073709551616");
	H_EXPECT(E_CURSOR, "hscan", "h", " 1");
	H_EXPECT(E_CURSOR, "hscan", "h", "1 ");
	H_EXPECT(E_CURSOR, "hscan", "h", "-");
	H_EXPECT(E_CURSOR, "hscan", "h", "+");
	H_EXPECT(E_CURSOR, "hscan", "h", "0x1");
	/* Redis parses with strtoul: signs, wrap-around and "" are fine */
	static const char *const ok[] = {"",
					 "-1",
					 "+7",
					 "-0",
					 "007",
					 "-18446744073709551615",
					 "18446744073709551615"};
	for (size_t i = 0; i < AP_ARRAY_LEN(ok); i++)
		H_EXPECT("*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n"
			 "$1\r\nb\r\n$1\r\n2\r\n",
			 "hscan", "h", ok[i]);
	H_EXPECT(H_E_SYNTAX, "hscan", "h", "0", "count", "0");
	H_EXPECT(H_E_SYNTAX, "hscan", "h", "0", "count", "-1");
	H_EXPECT(H_E_NOT_INT, "hscan", "h", "0", "count", "x");
	H_EXPECT(H_E_SYNTAX, "hscan", "h", "0", "match");
	H_EXPECT(H_E_SYNTAX, "hscan", "h", "0", "count");
	H_EXPECT(H_E_SYNTAX, "hscan", "h", "0", "novalues");
	H_EXPECT(H_E_SYNTAX, "hscan", "h", "0", "type", "hash");
	H_EXPECT(H_E_SYNTAX, "hscan", "h", "0", "match", "*", "x");
}
END_TEST

START_TEST(test_hscan_listpack)
{
	H_EXPECT(":3\r\n", "hset", "h", "a", "1", "b", "2", "ab", "3");
	/* a listpack comes whole, whatever the cursor */
	H_EXPECT("*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n"
		 "$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n",
		 "hscan", "h", "0");
	H_EXPECT("*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n"
		 "$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n",
		 "hscan", "h", "18446744073709551615", "COUNT", "1");
	H_EXPECT("*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n"
		 "$1\r\n3\r\n",
		 "hscan", "h", "0", "MATCH", "a*");
	H_EXPECT("*2\r\n$1\r\n0\r\n*0\r\n", "hscan", "h", "0", "match", "z*",
		 "count", "100");
	/* MATCH applies to fields, not values */
	H_EXPECT("*2\r\n$1\r\n0\r\n*0\r\n", "hscan", "h", "0", "match", "1");
	/* the last of repeated options wins */
	H_EXPECT("*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n", "hscan", "h",
		 "0", "match", "a*", "match", "b");
	h_proto = 3;
	H_EXPECT("*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n", "hscan", "h",
		 "0", "match", "b");
}
END_TEST

/* A hashtable scanned to the end with the cursor, with COUNT and MATCH:
 * every field at least once, values with their fields. */
START_TEST(test_hscan_table)
{
	static bool seen[2000];
	struct items it;
	int calls = 0;
	char cursor[32] = "0";

	fill("h", 2000);
	memset(seen, 0, sizeof(seen));
	do {
		RUN_ITEMS(&it, "hscan", "h", cursor, "count", "50");
		ck_assert_int_eq(it.top, 2);
		ck_assert_uint_ge(it.n, 1);
		snprintf(cursor, sizeof(cursor), "%s", it.s[0]);
		ck_assert_uint_eq((it.n - 1) % 2, 0);
		for (size_t i = 1; i < it.n; i += 2) {
			int k = atoi(it.s[i] + 1);
			ck_assert_int_eq(atoi(it.s[i + 1] + 1), k);
			seen[k] = true;
		}
		/* COUNT is honoured roughly: no call returns everything */
		ck_assert_uint_lt(it.n, 400);
		items_free(&it);
		calls++;
	} while (strcmp(cursor, "0") != 0);
	ck_assert_int_gt(calls, 10);
	for (int i = 0; i < 2000; i++)
		ck_assert_msg(seen[i], "f%d missed", i);

	/* MATCH on a table: only matching fields */
	strcpy(cursor, "0");
	int matched = 0;
	do {
		RUN_ITEMS(&it, "hscan", "h", cursor, "match", "f1?", "count",
			  "1000");
		snprintf(cursor, sizeof(cursor), "%s", it.s[0]);
		for (size_t i = 1; i < it.n; i += 2) {
			ck_assert_uint_eq(strlen(it.s[i]), 3);
			ck_assert_int_eq(it.s[i][1], '1');
			matched++;
		}
		items_free(&it);
	} while (strcmp(cursor, "0") != 0);
	ck_assert_int_ge(matched, 10);
}
END_TEST

/* --- type operations ----------------------------------------------------- */

START_TEST(test_type_ops)
{
	H_EXPECT(":2\r\n", "hset", "small", "a", "1", "b", "2");
	fill("big", 600); /* over the default 512 entries */
	ck_assert_int_eq(enc_of("big"), AP_ENC_HASHTABLE);

	/* COPY duplicates, independent of the source */
	H_EXPECT(":1\r\n", "copy", "small", "small2");
	H_EXPECT(":1\r\n", "copy", "big", "big2");
	H_EXPECT(":1\r\n", "hset", "small2", "c", "3");
	H_EXPECT(":1\r\n", "hdel", "big2", "f0");
	H_EXPECT(":2\r\n", "hlen", "small");
	H_EXPECT(":3\r\n", "hlen", "small2");
	H_EXPECT(":600\r\n", "hlen", "big");
	H_EXPECT(":599\r\n", "hlen", "big2");
	H_EXPECT("$2\r\nv0\r\n", "hget", "big", "f0");
	ck_assert_int_eq(enc_of("big2"), AP_ENC_HASHTABLE);
	ck_assert_int_eq(enc_of("small2"), AP_ENC_LISTPACK);

	/* memory accounting sees the object */
	ck_assert_uint_gt(ap_entry_mem(h_peek("big")),
			  ap_entry_mem(h_peek("small")) + 600 * 16);

	/* the registered ops */
	ck_assert_str_eq(ap_type_name(AP_TYPE_HASH), "hash");
	ck_assert_ptr_nonnull(ap_hash_type_ops);
	ck_assert_ptr_nonnull(ap_hash_type_ops->free_some);
	ck_assert_ptr_nonnull(ap_hash_type_ops->mem);
	struct ap_entry *e = h_peek("big");
	ck_assert_uint_eq(
		ap_hash_type_ops->length(ap_entry_obj(e), ap_entry_enc(e)),
		600);

	/* DEL and overwrite free both encodings (ASan checks the rest) */
	H_EXPECT(":2\r\n", "del", "small", "big");
	H_OK("set", "big2", "x");
	H_EXPECT("$1\r\nx\r\n", "get", "big2");
}
END_TEST

/* Many fields through the commands: HLEN, HGET and HDEL of all agree. */
START_TEST(test_big_hash)
{
	char f[32], v[32], exp[40];

	for (int i = 0; i < 3000; i++) {
		snprintf(f, sizeof(f), "field:%d", i);
		snprintf(v, sizeof(v), "%d", i);
		int n = snprintf(exp, sizeof(exp), ":%d\r\n", i);
		h_expect_words(
			__LINE__, exp, (size_t)n,
			(const char *const[]){"hincrby", "h", f, v, NULL});
	}
	H_EXPECT(":3000\r\n", "hlen", "h");
	H_EXPECT("$4\r\n2999\r\n", "hget", "h", "field:2999");
	H_EXPECT(":4\r\n", "hstrlen", "h", "field:2999");
	for (int i = 0; i < 3000; i++) {
		snprintf(f, sizeof(f), "field:%d", i);
		H_EXPECT(":1\r\n", "hdel", "h", f);
	}
	ck_assert_ptr_null(h_peek("h"));
}
END_TEST

static Suite *hash_suite(void)
{
	Suite *s = suite_create("cmd_hash");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hset_hget);
	tcase_add_test(tc, test_hset_arity);
	tcase_add_test(tc, test_hmset_hsetnx);
	tcase_add_test(tc, test_missing_key);
	tcase_add_test(tc, test_wrongtype);
	tcase_add_test(tc, test_field_reads);
	tcase_add_test(tc, test_hdel);
	tcase_add_test(tc, test_getall);
	tcase_add_test(tc, test_getall_table);
	tcase_add_test(tc, test_encoding_thresholds);
	tcase_add_test(tc, test_hincrby);
	tcase_add_test(tc, test_hincrbyfloat);
	tcase_add_test(tc, test_hrandfield_args);
	tcase_add_test(tc, test_hrandfield_shapes);
	tcase_add_test(tc, test_hrandfield_counts);
	tcase_add_test(tc, test_hscan_args);
	tcase_add_test(tc, test_hscan_listpack);
	tcase_add_test(tc, test_hscan_table);
	tcase_add_test(tc, test_type_ops);
	tcase_add_test(tc, test_big_hash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(hash_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
