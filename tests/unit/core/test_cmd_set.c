/*
 * test_cmd_set.c - the set commands of core/cmd_set.c run through the
 * command table (cmd_harness.h): every command, option and error text,
 * RESP2 and RESP3 reply shapes, dirty counts, encodings and their
 * conversion thresholds (Redis 7.2), emptied sets deleted, random member
 * distribution, SSCAN over a big set, the type operations (TYPE, COPY,
 * OBJECT ENCODING), and a randomized run against a reference model.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/core/cmd_harness.h"

#include "core/limits.h"
#include "core/set.h"

#define E_RANGE	   "-ERR value is out of range\r\n"
#define E_POSITIVE "-ERR value is out of range, must be positive\r\n"
#define E_CURSOR   "-ERR invalid cursor\r\n"

/* Failure-only assertion for hot loops (ck_assert writes per pass). */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

/* --- helpers ---------------------------------------------------------- */

/* The encoding of set key (which must exist). */
static enum ap_enc enc_of(const char *key)
{
	struct ap_entry *e = h_peek(key);

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ap_entry_type(e), AP_TYPE_SET);
	return ap_entry_enc(e);
}

/* Members of a set key (0 if absent). */
static size_t card_of(const char *key)
{
	struct ap_entry *e = h_peek(key);

	if (e == NULL)
		return 0;
	return ap_set_len_of(ap_entry_obj(e), ap_entry_enc(e));
}

#define MAX_ITEMS 4096

/* The bulk strings of a flat reply (array or set; the SSCAN shape's
 * nested array is walked), each NUL-terminated in its own allocation. */
struct items {
	char *s[MAX_ITEMS];
	size_t n;
	long long top; /* the top-level aggregate's count */
	char kind;     /* the top-level aggregate's type byte */
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
	char kind = *p;

	if (kind == '$') {
		p = parse_line(p, &v);
		ck_assert_int_ge(v, 0);
		CK(it->n < MAX_ITEMS);
		it->s[it->n] = malloc((size_t)v + 1);
		memcpy(it->s[it->n], p, (size_t)v);
		it->s[it->n][v] = '\0';
		it->n++;
		return p + v + 2;
	}
	ck_assert_msg(kind == '*' || kind == '~', "unexpected %c", kind);
	p = parse_line(p, &v);
	if (depth == 0) {
		it->top = v;
		it->kind = kind;
	}
	for (long long i = 0; i < v; i++)
		p = parse_item(p, it, depth + 1);
	return p;
}

/* Runs a command and parses its reply into it. */
static void run_items(struct items *it, const char *const *words)
{
	size_t len;
	char *got = h_run(words, &len);
	const char *end;

	memset(it, 0, sizeof(*it));
	end = parse_item(got, it, 0);
	ck_assert_ptr_eq(end, got + len);
	ap_free(got);
}

#define RUN_ITEMS(it, ...) \
	run_items(it, (const char *const[]){__VA_ARGS__, NULL})

static void items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->s[i]);
	it->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Deletes key, whatever it held. */
static void h_run_free_del(const char *key)
{
	size_t len;

	ap_free(h_run((const char *const[]){"del", key, NULL}, &len));
}

/* SADD (add) or SREM one member, ignoring the reply. */
static void h_run_free_del_member(const char *key, const char *m, bool add)
{
	size_t len;

	ap_free(h_run(
		(const char *const[]){add ? "sadd" : "srem", key, m, NULL},
		&len));
}

/* Adds members "<prefix><i>" for i in [0, n) to key. */
static void fill(const char *key, const char *prefix, int n)
{
	char m[64];

	for (int i = 0; i < n; i++) {
		snprintf(m, sizeof(m), "%s%d", prefix, i);
		H_EXPECT(":1\r\n", "sadd", key, m);
	}
}

/* --- SADD SREM SCARD SISMEMBER SMISMEMBER ------------------------------ */

START_TEST(test_sadd_basic)
{
	H_EXPECT(":3\r\n", "sadd", "s", "a", "b", "c");
	ck_assert_uint_eq(h_last_dirty, 3);
	H_EXPECT(":1\r\n", "sadd", "s", "a", "d", "d");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":0\r\n", "sadd", "s", "a");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(":4\r\n", "scard", "s");
	H_EXPECT(":0\r\n", "scard", "nokey");
	H_EXPECT(":1\r\n", "sismember", "s", "a");
	H_EXPECT(":0\r\n", "sismember", "s", "z");
	H_EXPECT(":0\r\n", "sismember", "nokey", "a");
	H_EXPECT("*3\r\n:1\r\n:0\r\n:1\r\n", "smismember", "s", "a", "z", "d");
	H_EXPECT("*2\r\n:0\r\n:0\r\n", "smismember", "nokey", "a", "b");
	H_EXPECT(":1\r\n", "sadd", "e", "");
	H_EXPECT(":1\r\n", "sismember", "e", "");
	H_EXPECT("+set\r\n", "type", "s");
	/* arity */
	H_EXPECT(H_E_ARITY("sadd"), "sadd", "s");
	H_EXPECT(H_E_ARITY("srem"), "srem", "s");
	H_EXPECT(H_E_ARITY("scard"), "scard", "s", "x");
	H_EXPECT(H_E_ARITY("sismember"), "sismember", "s");
	H_EXPECT(H_E_ARITY("smismember"), "smismember", "s");
	H_EXPECT(H_E_ARITY("smembers"), "smembers");
	H_EXPECT(H_E_ARITY("spop"), "spop");
	H_EXPECT(H_E_ARITY("srandmember"), "srandmember");
	H_EXPECT(H_E_ARITY("smove"), "smove", "a", "b");
	H_EXPECT(H_E_ARITY("sinter"), "sinter");
	H_EXPECT(H_E_ARITY("sintercard"), "sintercard", "1");
	H_EXPECT(H_E_ARITY("sinterstore"), "sinterstore", "d");
	H_EXPECT(H_E_ARITY("sunion"), "sunion");
	H_EXPECT(H_E_ARITY("sunionstore"), "sunionstore", "d");
	H_EXPECT(H_E_ARITY("sdiff"), "sdiff");
	H_EXPECT(H_E_ARITY("sdiffstore"), "sdiffstore", "d");
	H_EXPECT(H_E_ARITY("sscan"), "sscan", "s");
}
END_TEST

START_TEST(test_wrongtype)
{
	H_OK("set", "str", "v");
	H_EXPECT(H_E_WRONGTYPE, "sadd", "str", "a");
	H_EXPECT(H_E_WRONGTYPE, "srem", "str", "a");
	H_EXPECT(H_E_WRONGTYPE, "scard", "str");
	H_EXPECT(H_E_WRONGTYPE, "sismember", "str", "a");
	H_EXPECT(H_E_WRONGTYPE, "smismember", "str", "a");
	H_EXPECT(H_E_WRONGTYPE, "smembers", "str");
	H_EXPECT(H_E_WRONGTYPE, "spop", "str");
	H_EXPECT(H_E_WRONGTYPE, "spop", "str", "2");
	H_EXPECT(H_E_WRONGTYPE, "srandmember", "str");
	H_EXPECT(H_E_WRONGTYPE, "srandmember", "str", "-2");
	H_EXPECT(H_E_WRONGTYPE, "sscan", "str", "0");
	H_EXPECT(":1\r\n", "sadd", "s", "a");
	H_EXPECT(H_E_WRONGTYPE, "sinter", "s", "str");
	/* A missing key before a wrong one: still WRONGTYPE. */
	H_EXPECT(H_E_WRONGTYPE, "sinter", "nokey", "str");
	H_EXPECT(H_E_WRONGTYPE, "sintercard", "2", "nokey", "str");
	H_EXPECT(H_E_WRONGTYPE, "sunion", "s", "str");
	H_EXPECT(H_E_WRONGTYPE, "sdiff", "nokey", "str");
	H_EXPECT(H_E_WRONGTYPE, "sinterstore", "d", "s", "str");
	H_EXPECT(H_E_WRONGTYPE, "sunionstore", "d", "s", "str");
	H_EXPECT(H_E_WRONGTYPE, "sdiffstore", "d", "s", "str");
	/* The destination's type does not matter for *STORE. */
	H_EXPECT(":1\r\n", "sunionstore", "str", "s");
	H_EXPECT("+set\r\n", "type", "str");
	H_OK("set", "str", "v");
	H_EXPECT(":0\r\n", "sinterstore", "str", "s", "nokey");
	H_EXPECT(":0\r\n", "exists", "str");
}
END_TEST

START_TEST(test_srem)
{
	H_EXPECT(":0\r\n", "srem", "nokey", "a");
	H_EXPECT(":4\r\n", "sadd", "s", "1", "2", "a", "b");
	H_EXPECT(":2\r\n", "srem", "s", "1", "a", "zz", "a");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT(":0\r\n", "srem", "s", "zz");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(":2\r\n", "srem", "s", "2", "b", "c");
	H_EXPECT(":0\r\n", "exists", "s"); /* emptied: deleted */
	/* intset members removed by integer text only in canonical form */
	H_EXPECT(":2\r\n", "sadd", "i", "10", "-3");
	H_EXPECT(":0\r\n", "srem", "i", "010", "+10", "-03", "1e1");
	H_EXPECT(":2\r\n", "srem", "i", "10", "-3");
	H_EXPECT(":0\r\n", "exists", "i");
}
END_TEST

/* --- encodings ----------------------------------------------------------- */

START_TEST(test_encodings_default)
{
	char m[80];

	/* New set: by its first member and the member count. */
	H_EXPECT(":3\r\n", "sadd", "i", "1", "2", "3");
	ck_assert_int_eq(enc_of("i"), AP_ENC_INTSET);
	H_EXPECT(":1\r\n", "sadd", "i", "x");
	ck_assert_int_eq(enc_of("i"), AP_ENC_LISTPACK);
	H_EXPECT(":2\r\n", "sadd", "l", "a", "1");
	ck_assert_int_eq(enc_of("l"), AP_ENC_LISTPACK);
	/* 512 integers stay an intset; the 513th makes a hashtable. */
	for (int i = 0; i < 512; i++) {
		snprintf(m, sizeof(m), "%d", i);
		H_EXPECT(":1\r\n", "sadd", "big", m);
	}
	ck_assert_int_eq(enc_of("big"), AP_ENC_INTSET);
	H_EXPECT(":1\r\n", "sadd", "big", "512");
	ck_assert_int_eq(enc_of("big"), AP_ENC_HASHTABLE);
	/* 128 strings stay a listpack; the 129th converts. */
	fill("lp", "m", 128);
	ck_assert_int_eq(enc_of("lp"), AP_ENC_LISTPACK);
	H_EXPECT(":1\r\n", "sadd", "lp", "m128");
	ck_assert_int_eq(enc_of("lp"), AP_ENC_HASHTABLE);
	/* A 64-byte member fits a listpack, 65 bytes does not. */
	memset(m, 'v', 65);
	m[64] = '\0';
	H_EXPECT(":1\r\n", "sadd", "v", m);
	ck_assert_int_eq(enc_of("v"), AP_ENC_LISTPACK);
	m[64] = 'v';
	m[65] = '\0';
	H_EXPECT(":1\r\n", "sadd", "v", m);
	ck_assert_int_eq(enc_of("v"), AP_ENC_HASHTABLE);
	/* Never back down. */
	H_EXPECT(":1\r\n", "srem", "v", m);
	ck_assert_int_eq(enc_of("v"), AP_ENC_HASHTABLE);
	/* An intset of 128 members meeting a string: hashtable; of 127:
	 * listpack. */
	for (int i = 0; i < 128; i++) {
		snprintf(m, sizeof(m), "%d", i);
		H_EXPECT(":1\r\n", "sadd", "i128", m);
		if (i < 127)
			H_EXPECT(":1\r\n", "sadd", "i127", m);
	}
	H_EXPECT(":1\r\n", "sadd", "i128", "s");
	H_EXPECT(":1\r\n", "sadd", "i127", "s");
	ck_assert_int_eq(enc_of("i128"), AP_ENC_HASHTABLE);
	ck_assert_int_eq(enc_of("i127"), AP_ENC_LISTPACK);
}
END_TEST

/* Runs SADD key with members "<prefix><i>", i < n, in one command;
 * returns the reply (free with ap_free). */
static char *sadd_many(const char *key, const char *prefix, int n, size_t *len)
{
	struct ap_arg argv[H_ARGS_MAX];
	static char bufs[H_ARGS_MAX][16];

	ck_assert_int_le(n + 2, H_ARGS_MAX);
	argv[0] = (struct ap_arg){"sadd", 4};
	argv[1] = (struct ap_arg){key, strlen(key)};
	for (int i = 0; i < n; i++) {
		int l = snprintf(bufs[i], sizeof(bufs[i]), "%s%d", prefix, i);

		argv[2 + i] = (struct ap_arg){bufs[i], (size_t)l};
	}
	return h_run_argv(argv, n + 2, len);
}

/* SADD of many members at once picks the encoding up front from the
 * first member and the count (Redis 7.2's size hint). */
START_TEST(test_encodings_created_by_count)
{
	size_t len;
	char *r;

	h_cfg.set_max_intset_entries = 100;
	h_cfg.set_max_listpack_entries = 50;
	r = sadd_many("a", "", 100, &len);
	ck_assert_mem_eq(r, ":100\r\n", 6);
	ap_free(r);
	ck_assert_int_eq(enc_of("a"), AP_ENC_INTSET);
	r = sadd_many("b", "", 101, &len);
	ap_free(r);
	ck_assert_int_eq(enc_of("b"), AP_ENC_HASHTABLE);
	r = sadd_many("c", "m", 50, &len);
	ap_free(r);
	ck_assert_int_eq(enc_of("c"), AP_ENC_LISTPACK);
	r = sadd_many("d", "m", 51, &len);
	ck_assert_mem_eq(r, ":51\r\n", 5);
	ap_free(r);
	ck_assert_int_eq(enc_of("d"), AP_ENC_HASHTABLE);
	/* The hint counts arguments, duplicates included (as Redis). */
	h_cfg.set_max_intset_entries = 2;
	H_EXPECT(":1\r\n", "sadd", "e", "1", "1", "1");
	ck_assert_int_eq(enc_of("e"), AP_ENC_LISTPACK);
}
END_TEST

START_TEST(test_encodings_config)
{
	h_cfg.set_max_intset_entries = 2;
	h_cfg.set_max_listpack_entries = 3;
	h_cfg.set_max_listpack_value = 4;
	H_EXPECT(":2\r\n", "sadd", "a", "1", "2");
	ck_assert_int_eq(enc_of("a"), AP_ENC_INTSET);
	H_EXPECT(":1\r\n", "sadd", "a", "3");
	ck_assert_int_eq(enc_of("a"), AP_ENC_HASHTABLE);
	/* Three integers at once: past intset, within listpack. */
	H_EXPECT(":3\r\n", "sadd", "b", "1", "2", "3");
	ck_assert_int_eq(enc_of("b"), AP_ENC_LISTPACK);
	H_EXPECT(":4\r\n", "sadd", "c", "1", "2", "3", "4");
	ck_assert_int_eq(enc_of("c"), AP_ENC_HASHTABLE);
	/* An integer wider than the value limit blocks the listpack. */
	H_EXPECT(":1\r\n", "sadd", "d", "12345");
	ck_assert_int_eq(enc_of("d"), AP_ENC_INTSET);
	H_EXPECT(":1\r\n", "sadd", "d", "x");
	ck_assert_int_eq(enc_of("d"), AP_ENC_HASHTABLE);
	/* Zero limits: straight to hashtable. */
	h_cfg.set_max_intset_entries = 0;
	h_cfg.set_max_listpack_entries = 0;
	H_EXPECT(":1\r\n", "sadd", "e", "1");
	ck_assert_int_eq(enc_of("e"), AP_ENC_HASHTABLE);
	H_EXPECT(":1\r\n", "sismember", "e", "1");
}
END_TEST

/* --- SMEMBERS ------------------------------------------------------------ */

START_TEST(test_smembers)
{
	struct items it;

	H_EXPECT("*0\r\n", "smembers", "nokey");
	H_EXPECT(":3\r\n", "sadd", "i", "3", "-1", "2");
	/* intset: ascending */
	H_EXPECT("*3\r\n$2\r\n-1\r\n$1\r\n2\r\n$1\r\n3\r\n", "smembers", "i");
	H_EXPECT(":2\r\n", "sadd", "l", "b", "a");
	/* listpack: insertion order */
	H_EXPECT("*2\r\n$1\r\nb\r\n$1\r\na\r\n", "smembers", "l");
	h_proto = 3;
	H_EXPECT("~0\r\n", "smembers", "nokey");
	H_EXPECT("~2\r\n$1\r\nb\r\n$1\r\na\r\n", "smembers", "l");
	h_proto = 2;
	fill("h", "m", 300);
	RUN_ITEMS(&it, "smembers", "h");
	ck_assert_int_eq(it.top, 300);
	ck_assert_uint_eq(it.n, 300);
	qsort(it.s, it.n, sizeof(char *), cmp_str);
	for (size_t i = 1; i < it.n; i++)
		CK(strcmp(it.s[i - 1], it.s[i]) < 0);
	items_free(&it);
}
END_TEST

/* --- SPOP ------------------------------------------------------------ */

START_TEST(test_spop)
{
	struct items it;

	H_EXPECT(H_NIL, "spop", "nokey");
	H_EXPECT("*0\r\n", "spop", "nokey", "3");
	H_EXPECT(E_POSITIVE, "spop", "nokey", "x");
	H_EXPECT(E_POSITIVE, "spop", "nokey", "-1");
	H_EXPECT(H_E_SYNTAX, "spop", "nokey", "1", "2");
	H_EXPECT(":1\r\n", "sadd", "one", "7");
	H_EXPECT("$1\r\n7\r\n", "spop", "one");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":0\r\n", "exists", "one");
	H_EXPECT(":3\r\n", "sadd", "s", "a", "b", "c");
	H_EXPECT("*0\r\n", "spop", "s", "0");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(E_POSITIVE, "spop", "s", "-5");
	RUN_ITEMS(&it, "spop", "s", "2");
	ck_assert_int_eq(it.top, 2);
	ck_assert_uint_eq(h_last_dirty, 2);
	ck_assert_uint_eq(card_of("s"), 1);
	ck_assert_str_ne(it.s[0], it.s[1]);
	for (size_t i = 0; i < 2; i++) {
		size_t len;
		char *r = h_run(
			(const char *const[]){"sismember", "s", it.s[i], NULL},
			&len);

		ck_assert_mem_eq(r, ":0\r\n", 4);
		ap_free(r);
	}
	items_free(&it);
	/* count >= size: everything, key deleted (RESP3 set reply). */
	H_EXPECT(":2\r\n", "sadd", "t", "1", "2");
	h_proto = 3;
	H_EXPECT("~2\r\n$1\r\n1\r\n$1\r\n2\r\n", "spop", "t", "2");
	H_EXPECT("~0\r\n", "spop", "t", "2");
	H_EXPECT("_\r\n", "spop", "t");
	h_proto = 2;
	H_EXPECT(":0\r\n", "exists", "t");
	H_EXPECT(":1\r\n", "sadd", "t", "x");
	H_EXPECT("*1\r\n$1\r\nx\r\n", "spop", "t", "9223372036854775807");
	H_EXPECT(E_POSITIVE, "spop", "t", "9223372036854775808");
}
END_TEST

/* SPOP with a count pops distinct members in every encoding, until the
 * set is gone. */
START_TEST(test_spop_all_encodings)
{
	const char *prefixes[] = {"", "m", "member-"};
	const int sizes[] = {100, 100, 1000};

	for (int c = 0; c < 3; c++) {
		int total = 0;
		struct items it;
		char *seen[1000] = {0};
		size_t nseen = 0;

		fill("p", prefixes[c], sizes[c]);
		if (c == 2)
			ck_assert_int_eq(enc_of("p"), AP_ENC_HASHTABLE);
		while (total < sizes[c]) {
			RUN_ITEMS(&it, "spop", "p", "7");
			ck_assert_int_eq(it.top, AP_MIN(7, sizes[c] - total));
			for (size_t i = 0; i < it.n; i++) {
				for (size_t j = 0; j < nseen; j++)
					CK(strcmp(seen[j], it.s[i]) != 0);
				seen[nseen++] = strdup(it.s[i]);
			}
			total += (int)it.n;
			CK(card_of("p") == (size_t)(sizes[c] - total));
			items_free(&it);
		}
		H_EXPECT(":0\r\n", "exists", "p");
		for (size_t j = 0; j < nseen; j++)
			free(seen[j]);
	}
}
END_TEST

/* --- SRANDMEMBER ----------------------------------------------------- */

START_TEST(test_srandmember_errors)
{
	H_EXPECT(H_NIL, "srandmember", "nokey");
	H_EXPECT("*0\r\n", "srandmember", "nokey", "5");
	H_EXPECT("*0\r\n", "srandmember", "nokey", "-5");
	H_EXPECT(H_E_NOT_INT, "srandmember", "nokey", "x");
	H_EXPECT(H_E_SYNTAX, "srandmember", "nokey", "1", "2");
	H_EXPECT("-ERR value is out of range, value must between "
		 "-9223372036854775807 and 9223372036854775807\r\n",
		 "srandmember", "nokey", "-9223372036854775808");
	H_EXPECT(E_RANGE, "srandmember", "nokey", "-10000001");
	H_EXPECT(":1\r\n", "sadd", "s", "a");
	H_EXPECT(E_RANGE, "srandmember", "s", "-10000001");
	H_EXPECT("*0\r\n", "srandmember", "s", "0");
	H_EXPECT("$1\r\na\r\n", "srandmember", "s");
	H_EXPECT("*1\r\n$1\r\na\r\n", "srandmember", "s",
		 "9223372036854775807");
	H_EXPECT("*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n", "srandmember", "s",
		 "-3");
	h_proto = 3;
	H_EXPECT("*1\r\n$1\r\na\r\n", "srandmember", "s", "1");
	H_EXPECT("_\r\n", "srandmember", "nokey");
	h_proto = 2;
	ck_assert_uint_eq(h_last_dirty, 0);
	ck_assert_uint_eq(card_of("s"), 1);
}
END_TEST

/* The largest negative count accepted is AP_RAND_COUNT_MAX. */
START_TEST(test_srandmember_count_max)
{
	size_t len;
	char cnt[32];
	char *r;

	H_EXPECT(":1\r\n", "sadd", "s", "a");
	snprintf(cnt, sizeof(cnt), "-%lld", (long long)AP_RAND_COUNT_MAX);
	r = h_run((const char *const[]){"srandmember", "s", cnt, NULL}, &len);
	ck_assert_mem_eq(r, "*10000000\r\n$1\r\na\r\n", 18);
	ck_assert_uint_eq(len, 11 + 7 * (size_t)AP_RAND_COUNT_MAX);
	ap_free(r);
}
END_TEST

/* Draws SRANDMEMBER key count `rounds` times and checks the replies:
 * the right length, distinct members for a positive count, members of
 * the form "<prefix><i>" with i < n; counts[i] accumulates draws. */
static void sample_rounds(const char *prefix, int n, int k, int rounds,
			  int *counts)
{
	struct items it;
	char cnt[16];
	size_t plen = strlen(prefix);
	long long want = k < 0 ? -k : AP_MIN(k, n);

	snprintf(cnt, sizeof(cnt), "%d", k);
	for (int r = 0; r < rounds; r++) {
		RUN_ITEMS(&it, "srandmember", "s", cnt);
		CK(it.top == want && it.n == (size_t)want);
		for (size_t i = 0; i < it.n; i++) {
			int idx = atoi(it.s[i] + plen);

			CK(idx >= 0 && idx < n);
			counts[idx]++;
		}
		if (k > 0) {
			qsort(it.s, it.n, sizeof(char *), cmp_str);
			for (size_t i = 1; i < it.n; i++)
				CK(strcmp(it.s[i - 1], it.s[i]) != 0);
		}
		items_free(&it);
	}
}

/* Every count shape in every encoding and both strategies for distinct
 * samples (a walk, or draws with repeats skipped): each member about
 * equally likely. */
START_TEST(test_srandmember_distribution)
{
	const struct {
		const char *prefix;
		int n, k, rounds;
		enum ap_enc enc;
	} cases[] = {
		{"", 50, 10, 2000, AP_ENC_INTSET},	   /* walk */
		{"m", 100, 30, 1000, AP_ENC_LISTPACK},	   /* walk */
		{"h", 1000, 500, 200, AP_ENC_HASHTABLE},   /* k > n/3: walk */
		{"h", 1000, 100, 2000, AP_ENC_HASHTABLE},  /* draw */
		{"h", 1000, 2000, 2, AP_ENC_HASHTABLE},	   /* k > n: all */
		{"m", 100, -100, 300, AP_ENC_LISTPACK},	   /* repeats */
		{"h", 1000, -1000, 300, AP_ENC_HASHTABLE}, /* repeats */
	};

	for (size_t c = 0; c < AP_ARRAY_LEN(cases); c++) {
		int n = cases[c].n, k = cases[c].k;
		int *counts = calloc((size_t)n, sizeof(int));
		double mean;
		int lo = INT_MAX, hi = 0;

		h_run_free_del("s");
		fill("s", cases[c].prefix, n);
		ck_assert_int_eq(enc_of("s"), cases[c].enc);
		sample_rounds(cases[c].prefix, n, k, cases[c].rounds, counts);
		mean = (double)cases[c].rounds * (k < 0 ? -k : AP_MIN(k, n)) /
		       n;
		for (int i = 0; i < n; i++) {
			lo = AP_MIN(lo, counts[i]);
			hi = AP_MAX(hi, counts[i]);
		}
		ck_assert_msg(lo >= mean * 0.6 && hi <= mean * 1.4,
			      "case %zu: mean %.1f min %d max %d", c, mean, lo,
			      hi);
		free(counts);
	}
}
END_TEST

/* --- SMOVE ------------------------------------------------------------ */

START_TEST(test_smove)
{
	H_OK("set", "str", "v");
	/* A missing source answers 0 before any type check. */
	H_EXPECT(":0\r\n", "smove", "nokey", "str", "a");
	H_EXPECT(H_E_WRONGTYPE, "smove", "str", "d", "a");
	H_EXPECT(":2\r\n", "sadd", "s", "a", "b");
	H_EXPECT(H_E_WRONGTYPE, "smove", "s", "str", "a");
	/* Same key: membership only, nothing changes. */
	H_EXPECT(":1\r\n", "smove", "s", "s", "a");
	H_EXPECT(":0\r\n", "smove", "s", "s", "zz");
	ck_assert_uint_eq(h_last_dirty, 0);
	ck_assert_uint_eq(card_of("s"), 2);
	/* Not a member of the source. */
	H_EXPECT(":0\r\n", "smove", "s", "d", "zz");
	H_EXPECT(":0\r\n", "exists", "d");
	/* Moves, creating the destination. */
	H_EXPECT(":1\r\n", "smove", "s", "d", "a");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT(":0\r\n", "sismember", "s", "a");
	H_EXPECT(":1\r\n", "sismember", "d", "a");
	ck_assert_int_eq(enc_of("d"), AP_ENC_LISTPACK);
	/* Destination already has it: removed from the source only. */
	H_EXPECT(":1\r\n", "sadd", "d", "b");
	H_EXPECT(":1\r\n", "smove", "s", "d", "b");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":0\r\n", "exists", "s"); /* emptied source deleted */
	H_EXPECT(":2\r\n", "scard", "d");
	/* Integer member into a new destination: intset. */
	H_EXPECT(":1\r\n", "sadd", "s2", "42");
	H_EXPECT(":1\r\n", "smove", "s2", "n", "42");
	ck_assert_int_eq(enc_of("n"), AP_ENC_INTSET);
	/* A string into an intset destination converts it. */
	H_EXPECT(":1\r\n", "sadd", "s3", "x");
	H_EXPECT(":1\r\n", "smove", "s3", "n", "x");
	ck_assert_int_eq(enc_of("n"), AP_ENC_LISTPACK);
	H_EXPECT("*2\r\n$2\r\n42\r\n$1\r\nx\r\n", "smembers", "n");
}
END_TEST

/* --- the algebra ------------------------------------------------------- */

START_TEST(test_sinter_sunion_sdiff)
{
	H_EXPECT(":4\r\n", "sadd", "a", "1", "2", "3", "4");
	H_EXPECT(":3\r\n", "sadd", "b", "2", "3", "5");
	H_EXPECT(":3\r\n", "sadd", "c", "3", "2", "x");
	H_EXPECT(":1\r\n", "sadd", "i4", "4");
	/* intsets reply in ascending order; the smallest set leads */
	H_EXPECT("*2\r\n$1\r\n2\r\n$1\r\n3\r\n", "sinter", "a", "b");
	H_EXPECT(":3\r\n", "sadd", "d", "x", "3", "2");
	H_EXPECT("*2\r\n$1\r\n3\r\n$1\r\n2\r\n", "sinter", "a", "d");
	H_EXPECT("*2\r\n$1\r\n2\r\n$1\r\n3\r\n", "sinter", "a", "b", "c");
	H_EXPECT("*0\r\n", "sinter", "a", "nokey");
	H_EXPECT("*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", "sinter",
		 "a");
	H_EXPECT("*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", "sinter",
		 "a", "a");
	H_EXPECT(
		"*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n",
		"sunion", "a", "b", "nokey");
	H_EXPECT("*0\r\n", "sunion", "nokey");
	H_EXPECT("*2\r\n$1\r\n1\r\n$1\r\n4\r\n", "sdiff", "a", "b");
	H_EXPECT("*2\r\n$1\r\n1\r\n$1\r\n4\r\n", "sdiff", "a", "b", "c",
		 "nokey");
	H_EXPECT("*1\r\n$1\r\n1\r\n", "sdiff", "a", "nokey", "b", "i4");
	H_EXPECT("*0\r\n", "sdiff", "nokey", "a");
	H_EXPECT("*0\r\n", "sdiff", "a", "a");
	H_EXPECT("*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", "sdiff",
		 "a", "nokey");
	h_proto = 3;
	H_EXPECT("~2\r\n$1\r\n2\r\n$1\r\n3\r\n", "sinter", "a", "b");
	H_EXPECT("~0\r\n", "sinter", "a", "nokey");
	H_EXPECT("~0\r\n", "sunion", "nokey");
	H_EXPECT("~1\r\n$1\r\n1\r\n", "sdiff", "a", "b", "i4");
	H_EXPECT("~0\r\n", "sdiff", "nokey");
	h_proto = 2;
	ck_assert_uint_eq(h_last_dirty, 0);
}
END_TEST

START_TEST(test_algebra_store)
{
	H_EXPECT(":4\r\n", "sadd", "a", "1", "2", "3", "4");
	H_EXPECT(":3\r\n", "sadd", "b", "2", "3", "x");
	H_EXPECT(":2\r\n", "sinterstore", "d", "a", "b");
	ck_assert_uint_eq(h_last_dirty, 1);
	ck_assert_int_eq(enc_of("d"), AP_ENC_INTSET);
	H_EXPECT("*2\r\n$1\r\n2\r\n$1\r\n3\r\n", "smembers", "d");
	H_EXPECT(":5\r\n", "sunionstore", "d", "a", "b", "nokey");
	ck_assert_int_eq(enc_of("d"), AP_ENC_LISTPACK);
	H_EXPECT(":2\r\n", "sdiffstore", "d", "a", "b");
	H_EXPECT("*2\r\n$1\r\n1\r\n$1\r\n4\r\n", "smembers", "d");
	/* The destination among the sources. */
	H_EXPECT(":0\r\n", "sdiffstore", "d", "d", "a", "nokey");
	H_EXPECT(":0\r\n", "exists", "d");
	H_EXPECT(":4\r\n", "sunionstore", "a", "a", "nokey");
	H_EXPECT(":2\r\n", "sinterstore", "a", "b", "a");
	H_EXPECT("*2\r\n$1\r\n2\r\n$1\r\n3\r\n", "smembers", "a");
	/* Empty results delete the destination (one change if it
	 * existed, none otherwise). */
	H_EXPECT(":0\r\n", "sinterstore", "a", "a", "nokey");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":0\r\n", "exists", "a");
	H_EXPECT(":0\r\n", "sunionstore", "a", "nokey");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(":0\r\n", "sdiffstore", "a", "nokey", "b");
	/* The destination's TTL goes with its old value. */
	H_OK("set", "t", "v", "ex", "100");
	H_EXPECT(":3\r\n", "sunionstore", "t", "b");
	H_EXPECT(":-1\r\n", "ttl", "t");
	H_EXPECT(":3\r\n", "scard", "t");
}
END_TEST

START_TEST(test_algebra_big)
{
	struct items it;
	char m[16];

	/* a: 0..1999, b: even numbers as "e<i>" and the multiples of 3 as
	 * integers; both hashtables. */
	h_cfg.set_max_intset_entries = 0;
	h_cfg.set_max_listpack_entries = 0;
	for (int i = 0; i < 2000; i++) {
		snprintf(m, sizeof(m), "%d", i);
		H_EXPECT(":1\r\n", "sadd", "a", m);
		if (i % 3 == 0)
			H_EXPECT(":1\r\n", "sadd", "b", m);
	}
	H_EXPECT(":667\r\n", "sintercard", "2", "a", "b");
	H_EXPECT(":667\r\n", "sinterstore", "d", "a", "b");
	H_EXPECT(":1333\r\n", "sdiffstore", "d", "a", "b");
	H_EXPECT(":2000\r\n", "sunionstore", "d", "a", "b");
	RUN_ITEMS(&it, "sinter", "b", "a");
	ck_assert_int_eq(it.top, 667);
	for (size_t i = 0; i < it.n; i++)
		CK(atoi(it.s[i]) % 3 == 0);
	items_free(&it);
	RUN_ITEMS(&it, "sdiff", "a", "b");
	ck_assert_int_eq(it.top, 1333);
	for (size_t i = 0; i < it.n; i++)
		CK(atoi(it.s[i]) % 3 != 0);
	items_free(&it);
	/* Back to defaults: the union of small ones is compact again. */
	h_cfg.set_max_intset_entries = 512;
	h_cfg.set_max_listpack_entries = 128;
	H_EXPECT(":667\r\n", "sinterstore", "d", "a", "b");
	ck_assert_int_eq(enc_of("d"), AP_ENC_HASHTABLE);
	H_EXPECT(":1\r\n", "sadd", "one", "3");
	H_EXPECT(":1\r\n", "sinterstore", "d", "a", "one");
	ck_assert_int_eq(enc_of("d"), AP_ENC_INTSET);
}
END_TEST

START_TEST(test_sintercard)
{
	H_EXPECT(":4\r\n", "sadd", "a", "1", "2", "3", "4");
	H_EXPECT(":3\r\n", "sadd", "b", "2", "3", "4");
	H_EXPECT(":3\r\n", "sintercard", "2", "a", "b");
	H_EXPECT(":4\r\n", "sintercard", "1", "a");
	H_EXPECT(":0\r\n", "sintercard", "2", "a", "nokey");
	H_EXPECT(":0\r\n", "sintercard", "1", "nokey");
	H_EXPECT(":2\r\n", "sintercard", "2", "a", "b", "limit", "2");
	H_EXPECT(":3\r\n", "sintercard", "2", "a", "b", "limit", "3");
	H_EXPECT(":3\r\n", "sintercard", "2", "a", "b", "LIMIT", "4");
	H_EXPECT(":3\r\n", "sintercard", "2", "a", "b", "limit", "0");
	H_EXPECT(":1\r\n", "sintercard", "2", "a", "b", "limit", "5", "limit",
		 "1");
	/* errors, in Redis's order */
	H_EXPECT("-ERR numkeys should be greater than 0\r\n", "sintercard", "0",
		 "a");
	H_EXPECT("-ERR numkeys should be greater than 0\r\n", "sintercard",
		 "-1", "a");
	H_EXPECT("-ERR numkeys should be greater than 0\r\n", "sintercard", "x",
		 "a");
	H_EXPECT("-ERR Number of keys can't be greater than number of "
		 "args\r\n",
		 "sintercard", "3", "a", "b");
	H_EXPECT("-ERR LIMIT can't be negative\r\n", "sintercard", "1", "a",
		 "limit", "-1");
	H_EXPECT("-ERR LIMIT can't be negative\r\n", "sintercard", "1", "a",
		 "limit", "x");
	H_EXPECT(H_E_SYNTAX, "sintercard", "1", "a", "limit");
	H_EXPECT(H_E_SYNTAX, "sintercard", "1", "a", "foo", "1");
	H_EXPECT(H_E_SYNTAX, "sintercard", "1", "a", "b");
	/* key positions for routing */
	{
		const struct ap_cmd *cmd = ap_cmd_lookup("sintercard", 10);
		struct ap_arg argv[] = {{"sintercard", 10}, {"2", 1},
					{"k1", 2},	    {"k2", 2},
					{"limit", 5},	    {"1", 1}};
		int idx[8];

		ck_assert_uint_eq(ap_cmd_keys(cmd, 6, argv, idx, 8), 2);
		ck_assert_int_eq(idx[0], 2);
		ck_assert_int_eq(idx[1], 3);
	}
}
END_TEST

/* --- SSCAN ------------------------------------------------------------ */

START_TEST(test_sscan_small)
{
	H_EXPECT(E_CURSOR, "sscan", "nokey", "x");
	H_EXPECT(E_CURSOR, "sscan", "nokey", "1x");
	H_EXPECT(E_CURSOR, "sscan", "nokey", "-");
	H_EXPECT(E_CURSOR, "sscan", "nokey", "18446744073709551616");
	/* A missing key: an empty finished scan, options unchecked. */
	H_EXPECT("*2\r\n$1\r\n0\r\n*0\r\n", "sscan", "nokey", "0", "count",
		 "0");
	H_EXPECT(":3\r\n", "sadd", "s", "1", "22", "3");
	H_EXPECT("*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n3\r\n$2\r\n22\r\n",
		 "sscan", "s", "0");
	/* Compact encodings ignore the cursor value and return all. */
	H_EXPECT("*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n3\r\n$2\r\n22\r\n",
		 "sscan", "s", "18446744073709551615", "count", "1");
	H_EXPECT("*2\r\n$1\r\n0\r\n*1\r\n$2\r\n22\r\n", "sscan", "s", "0",
		 "match", "2*");
	H_EXPECT("*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n3\r\n$2\r\n22\r\n",
		 "sscan", "s", "-1", "MATCH", "*", "COUNT", "5");
	H_EXPECT(H_E_SYNTAX, "sscan", "s", "0", "count", "0");
	H_EXPECT(H_E_NOT_INT, "sscan", "s", "0", "count", "x");
	H_EXPECT(H_E_SYNTAX, "sscan", "s", "0", "type", "set");
	H_EXPECT(H_E_SYNTAX, "sscan", "s", "0", "match");
	H_EXPECT(H_E_SYNTAX, "sscan", "s", "0", "novalues");
	h_proto = 3;
	H_EXPECT("*2\r\n$1\r\n0\r\n*1\r\n$1\r\n3\r\n", "sscan", "s", "0",
		 "match", "3");
	h_proto = 2;
}
END_TEST

/* A full SSCAN of a hashtable, with writes between calls that resize
 * it, returns every member present throughout. */
START_TEST(test_sscan_big)
{
	char m[16];
	char *seen = calloc(3000, 1);
	char cur[32] = "0";
	int calls = 0, extra = 0;

	fill("s", "", 3000);
	ck_assert_int_eq(enc_of("s"), AP_ENC_HASHTABLE);
	do {
		struct items it;
		size_t len;
		char *r = h_run((const char *const[]){"sscan", "s", cur,
						      "count", "20", NULL},
				&len);
		const char *p = r;
		long long v;

		/* the cursor: *2 $n cursor */
		ck_assert_mem_eq(p, "*2\r\n$", 5);
		p = parse_line(p + 4, &v);
		memcpy(cur, p, (size_t)v);
		cur[v] = '\0';
		memset(&it, 0, sizeof(it));
		(void)parse_item(p + v + 2, &it, 0);
		CK(it.n >= 1 || strcmp(cur, "0") == 0);
		for (size_t i = 0; i < it.n; i++) {
			int idx = atoi(it.s[i]);

			if (idx < 3000)
				seen[idx] = 1;
		}
		items_free(&it);
		ap_free(r);
		/* grow then shrink with transient members */
		if (calls < 40) {
			snprintf(m, sizeof(m), "%d", 10000 + extra++);
			for (int k = 0; k < 100; k++) {
				snprintf(m, sizeof(m), "%d", 10000 + extra++);
				h_run_free_del_member("s", m, true);
			}
		} else if (extra > 0) {
			for (int k = 0; k < 100 && extra > 0; k++) {
				snprintf(m, sizeof(m), "%d", 10000 + --extra);
				h_run_free_del_member("s", m, false);
			}
		}
		calls++;
	} while (strcmp(cur, "0") != 0);
	for (int i = 0; i < 3000; i++)
		CK(seen[i]);
	ck_assert_int_gt(calls, 50);
	free(seen);
}
END_TEST

/* --- type operations -------------------------------------------------- */

START_TEST(test_type_ops)
{
	H_EXPECT(":3\r\n", "sadd", "i", "1", "2", "3");
	H_EXPECT(":2\r\n", "sadd", "l", "a", "b");
	fill("h", "m", 500);
	H_EXPECT(":1\r\n", "copy", "i", "i2");
	H_EXPECT(":1\r\n", "copy", "l", "l2");
	H_EXPECT(":1\r\n", "copy", "h", "h2");
	H_EXPECT(":1\r\n", "srem", "h", "m0");
	H_EXPECT(":500\r\n", "scard", "h2");
	H_EXPECT(":1\r\n", "sismember", "h2", "m0");
	H_EXPECT("*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", "smembers", "i2");
	H_EXPECT("*2\r\n$1\r\na\r\n$1\r\nb\r\n", "smembers", "l2");
	ck_assert_int_eq(enc_of("h2"), AP_ENC_HASHTABLE);
	ck_assert_int_eq(enc_of("l2"), AP_ENC_LISTPACK);
	ck_assert_int_eq(enc_of("i2"), AP_ENC_INTSET);
	ck_assert_uint_gt(ap_entry_mem(h_peek("h2")), 500 * 16);
	H_EXPECT(":6\r\n", "del", "i", "l", "h", "i2", "l2", "h2");
}
END_TEST

/* --- randomized against a model ---------------------------------------- */

/* Random SADD / SREM / SPOP / SMOVE / SISMEMBER / SCARD between two keys
 * against a bitmap model over 300 possible members. */
START_TEST(test_random_model)
{
	enum { UNIVERSE = 300 };
	bool model[2][UNIVERSE] = {{false}};
	const char *keys[2] = {"x", "y"};
	unsigned seed = 99;

	h_cfg.set_max_intset_entries = 20;
	h_cfg.set_max_listpack_entries = 40;
	for (int step = 0; step < 20000; step++) {
		int k = rand_r(&seed) % 2;
		int v = rand_r(&seed) % UNIVERSE;
		unsigned op = (unsigned)rand_r(&seed) % 10;
		char m[16], exp[16];
		size_t len, card = 0;
		char *r;

		/* members: integers below 200, strings above */
		snprintf(m, sizeof(m), v < 200 ? "%d" : "s%d", v);
		if (op < 4) {
			snprintf(exp, sizeof(exp), ":%d\r\n", !model[k][v]);
			r = h_run(
				(const char *const[]){"sadd", keys[k], m, NULL},
				&len);
			model[k][v] = true;
		} else if (op < 7) {
			snprintf(exp, sizeof(exp), ":%d\r\n", model[k][v]);
			r = h_run(
				(const char *const[]){"srem", keys[k], m, NULL},
				&len);
			model[k][v] = false;
		} else if (op < 8) {
			bool in = model[k][v];

			snprintf(exp, sizeof(exp), ":%d\r\n", in);
			r = h_run((const char *const[]){"smove", keys[k],
							keys[1 - k], m, NULL},
				  &len);
			if (in) {
				model[k][v] = false;
				model[1 - k][v] = true;
			}
		} else {
			snprintf(exp, sizeof(exp), ":%d\r\n", model[k][v]);
			r = h_run((const char *const[]){"sismember", keys[k], m,
							NULL},
				  &len);
		}
		CK(len == strlen(exp) && memcmp(r, exp, len) == 0);
		ap_free(r);
		for (int i = 0; i < UNIVERSE; i++)
			card += model[k][i];
		CK(card_of(keys[k]) == card);
		CK((h_peek(keys[k]) != NULL) == (card > 0));
	}
}
END_TEST

static Suite *set_cmd_suite(void)
{
	Suite *s = suite_create("cmd_set");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sadd_basic);
	tcase_add_test(tc, test_wrongtype);
	tcase_add_test(tc, test_srem);
	tcase_add_test(tc, test_encodings_default);
	tcase_add_test(tc, test_encodings_created_by_count);
	tcase_add_test(tc, test_encodings_config);
	tcase_add_test(tc, test_smembers);
	tcase_add_test(tc, test_spop);
	tcase_add_test(tc, test_spop_all_encodings);
	tcase_add_test(tc, test_srandmember_errors);
	tcase_add_test(tc, test_srandmember_count_max);
	tcase_add_test(tc, test_srandmember_distribution);
	tcase_add_test(tc, test_smove);
	tcase_add_test(tc, test_sinter_sunion_sdiff);
	tcase_add_test(tc, test_algebra_store);
	tcase_add_test(tc, test_algebra_big);
	tcase_add_test(tc, test_sintercard);
	tcase_add_test(tc, test_sscan_small);
	tcase_add_test(tc, test_sscan_big);
	tcase_add_test(tc, test_type_ops);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(set_cmd_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
