/*
 * test_cmd_string.c - the string commands of core/cmd_string.c, run by
 * argument lists through the command table against a 16-database keyspace
 * with a fixed clock. Replies are compared byte for byte in RESP2, and in
 * RESP3 where the two differ; TTLs, encodings and the dirty count are
 * checked on the keyspace directly.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "tests/unit/core/cmd_harness.h"

/* --- a dummy collection type for WRONGTYPE ----------------------------- */

static void dummy_free(void *obj, enum ap_enc enc)
{
	(void)enc;
	ap_free(obj);
}

static void *dummy_dup(const void *obj, enum ap_enc enc)
{
	(void)enc;
	return ap_memdup(obj, 8);
}

static size_t dummy_length(const void *obj, enum ap_enc enc)
{
	(void)obj;
	(void)enc;
	return 1;
}

static const struct ap_type_ops dummy_ops = {
	.name = "list",
	.free = dummy_free,
	.dup = dummy_dup,
	.length = dummy_length,
};

/* --- helpers ------------------------------------------------------------ */

/* Creates key as a non-string value (the dummy "list"). */
static void make_list(const char *key)
{
	void *obj = ap_calloc(1, 8);

	(void)ap_db_set_object(h_dbp(), key, strlen(key), AP_TYPE_LIST,
			       AP_ENC_QUICKLIST, obj, AP_NO_EXPIRE);
}

/* The key's absolute expire time, AP_NO_EXPIRE, or -2 if absent. */
static int64_t expire_of(const char *key)
{
	struct ap_entry *e = h_peek(key);

	return e != NULL ? ap_entry_expire(e) : -2;
}

#define E_OVERFLOW "-ERR increment or decrement would overflow\r\n"
#define E_TOO_LONG \
	"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
#define E_EXPIRE(cmd) "-ERR invalid expire time in '" cmd "' command\r\n"

/* --- the table ----------------------------------------------------------- */

START_TEST(test_table_entries)
{
	static const struct {
		const char *name;
		int arity, first, last, step;
		uint32_t flags;
		enum ap_cmd_split split;
		const char *acl;
	} want[] = {
		{"get", 2, 1, 1, 1, AP_CMD_READONLY | AP_CMD_FAST,
		 AP_SPLIT_NONE, "@read @string @fast"},
		{"set", -3, 1, 1, 1, AP_CMD_WRITE | AP_CMD_DENYOOM,
		 AP_SPLIT_NONE, "@write @string @slow"},
		{"setnx", 3, 1, 1, 1,
		 AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST, AP_SPLIT_NONE,
		 "@write @string @fast"},
		{"setex", 4, 1, 1, 1, AP_CMD_WRITE | AP_CMD_DENYOOM,
		 AP_SPLIT_NONE, "@write @string @slow"},
		{"psetex", 4, 1, 1, 1, AP_CMD_WRITE | AP_CMD_DENYOOM,
		 AP_SPLIT_NONE, "@write @string @slow"},
		{"getex", -2, 1, 1, 1, AP_CMD_WRITE | AP_CMD_FAST,
		 AP_SPLIT_NONE, "@write @string @fast"},
		{"getdel", 2, 1, 1, 1, AP_CMD_WRITE | AP_CMD_FAST,
		 AP_SPLIT_NONE, "@write @string @fast"},
		{"getset", 3, 1, 1, 1,
		 AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST, AP_SPLIT_NONE,
		 "@write @string @fast"},
		{"mget", -2, 1, -1, 1, AP_CMD_READONLY | AP_CMD_FAST,
		 AP_SPLIT_ARRAY, "@read @string @fast"},
		{"mset", -3, 1, -1, 2, AP_CMD_WRITE | AP_CMD_DENYOOM,
		 AP_SPLIT_OK, "@write @string @slow"},
		{"msetnx", -3, 1, -1, 2, AP_CMD_WRITE | AP_CMD_DENYOOM,
		 AP_SPLIT_NONE, "@write @string @slow"},
		{"incr", 2, 1, 1, 1,
		 AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST, AP_SPLIT_NONE,
		 "@write @string @fast"},
		{"decr", 2, 1, 1, 1,
		 AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST, AP_SPLIT_NONE,
		 "@write @string @fast"},
		{"incrby", 3, 1, 1, 1,
		 AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST, AP_SPLIT_NONE,
		 "@write @string @fast"},
		{"decrby", 3, 1, 1, 1,
		 AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST, AP_SPLIT_NONE,
		 "@write @string @fast"},
		{"incrbyfloat", 3, 1, 1, 1,
		 AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST, AP_SPLIT_NONE,
		 "@write @string @fast"},
		{"append", 3, 1, 1, 1,
		 AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST, AP_SPLIT_NONE,
		 "@write @string @fast"},
		{"strlen", 2, 1, 1, 1, AP_CMD_READONLY | AP_CMD_FAST,
		 AP_SPLIT_NONE, "@read @string @fast"},
		{"getrange", 4, 1, 1, 1, AP_CMD_READONLY, AP_SPLIT_NONE,
		 "@read @string @slow"},
		{"substr", 4, 1, 1, 1, AP_CMD_READONLY, AP_SPLIT_NONE,
		 "@read @string @slow"},
		{"setrange", 4, 1, 1, 1, AP_CMD_WRITE | AP_CMD_DENYOOM,
		 AP_SPLIT_NONE, "@write @string @slow"},
		{"lcs", -3, 1, 2, 1, AP_CMD_READONLY, AP_SPLIT_NONE,
		 "@read @string @slow"},
	};
	size_t n = 0;

	for (const struct ap_cmd *c = ap_cmds_string; c->name != NULL; c++)
		n++;
	ck_assert_uint_eq(n, AP_ARRAY_LEN(want));
	for (size_t i = 0; i < AP_ARRAY_LEN(want); i++) {
		const struct ap_cmd *c =
			ap_cmd_lookup(want[i].name, strlen(want[i].name));

		ck_assert_msg(c != NULL, "%s missing", want[i].name);
		ck_assert_str_eq(c->name, want[i].name);
		ck_assert_int_eq(c->arity, want[i].arity);
		ck_assert_int_eq(c->first_key, want[i].first);
		ck_assert_int_eq(c->last_key, want[i].last);
		ck_assert_int_eq(c->key_step, want[i].step);
		ck_assert_msg(c->flags == want[i].flags, "%s flags %x", c->name,
			      c->flags);
		ck_assert_int_eq(c->split, want[i].split);
		ck_assert_str_eq(c->acl_categories, want[i].acl);
		ck_assert_str_eq(c->group, "string");
		ck_assert_ptr_nonnull(c->fn);
		ck_assert_ptr_nonnull(c->summary);
		ck_assert_ptr_nonnull(c->since);
		ck_assert_ptr_nonnull(c->complexity);
		ck_assert_ptr_null(c->subcmds);
	}
	ck_assert_str_eq(ap_cmd_lookup("lcs", 3)->since, "7.0.0");
	ck_assert_str_eq(ap_cmd_lookup("GETEX", 5)->since, "6.2.0");
}
END_TEST

START_TEST(test_arity)
{
	H_EXPECT("-ERR wrong number of arguments for 'get' command\r\n", "get");
	H_EXPECT("-ERR wrong number of arguments for 'set' command\r\n", "set",
		 "k");
	H_EXPECT("-ERR wrong number of arguments for 'setex' command\r\n",
		 "setex", "k", "1");
	H_EXPECT("-ERR wrong number of arguments for 'lcs' command\r\n", "lcs",
		 "a");
	H_EXPECT("-ERR wrong number of arguments for 'mset' command\r\n",
		 "mset", "a", "1", "b");
	H_EXPECT("-ERR wrong number of arguments for 'msetnx' command\r\n",
		 "msetnx", "a", "1", "b");
	ck_assert_uint_eq(ap_db_size(h_dbp()), 0);
}
END_TEST

/* --- GET / SET ----------------------------------------------------------- */

START_TEST(test_get_set_basic)
{
	struct ap_keyspace_stats *st = ap_keyspace_stats(h_ks);
	uint64_t hits = st->hits, misses = st->misses;

	H_EXPECT(H_NIL, "get", "k");
	ck_assert_uint_eq(st->misses, misses + 1);
	H_OK("set", "k", "hello");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("$5\r\nhello\r\n", "get", "k");
	ck_assert_uint_eq(st->hits, hits + 1);
	ck_assert_uint_eq(h_last_dirty, 0);
	H_OK("SET", "k", "");
	H_EXPECT("$0\r\n\r\n", "GeT", "k");
	H_OK("set", "n", "12345");
	ck_assert_int_eq(ap_entry_enc(h_peek("n")), AP_ENC_INT);
	H_EXPECT("$5\r\n12345\r\n", "get", "n");
	/* SET overwrites any type. */
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "get", "l");
	H_OK("set", "l", "v");
	H_EXPECT("$1\r\nv\r\n", "get", "l");
	h_proto = 3;
	H_EXPECT("_\r\n", "get", "missing");
}
END_TEST

START_TEST(test_set_nx_xx)
{
	H_EXPECT(H_NIL, "set", "k", "v", "xx");
	ck_assert_ptr_null(h_peek("k"));
	ck_assert_uint_eq(h_last_dirty, 0);
	H_OK("set", "k", "v1", "nx");
	H_EXPECT(H_NIL, "set", "k", "v2", "NX");
	H_EXPECT("$2\r\nv1\r\n", "get", "k");
	H_OK("set", "k", "v3", "XX");
	H_EXPECT("$2\r\nv3\r\n", "get", "k");
	/* Repeating a flag is accepted; NX with XX is not. */
	H_OK("set", "k2", "v", "nx", "nx");
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "nx", "xx");
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "xx", "nx");
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "bogus");
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "persist");
	H_EXPECT("$2\r\nv3\r\n", "get", "k");
	/* NX on a key of another type: it exists. */
	make_list("l");
	H_EXPECT(H_NIL, "set", "l", "v", "nx");
	H_OK("set", "l", "v", "xx");
	h_proto = 3;
	H_EXPECT("_\r\n", "set", "k", "v", "nx");
}
END_TEST

START_TEST(test_set_expire_options)
{
	H_OK("set", "k", "v", "ex", "10");
	ck_assert_int_eq(expire_of("k"), H_NOW + 10000);
	H_OK("set", "k", "v", "px", "1500");
	ck_assert_int_eq(expire_of("k"), H_NOW + 1500);
	H_OK("set", "k", "v", "exat", "1700000100");
	ck_assert_int_eq(expire_of("k"), 1700000100000LL);
	H_OK("set", "k", "v", "pxat", "1700000100123");
	ck_assert_int_eq(expire_of("k"), 1700000100123LL);
	/* The same expire option twice: the last wins. */
	H_OK("set", "k", "v", "ex", "10", "ex", "20");
	ck_assert_int_eq(expire_of("k"), H_NOW + 20000);
	/* KEEPTTL keeps it, a plain SET clears it. */
	H_OK("set", "k", "v2", "keepttl");
	ck_assert_int_eq(expire_of("k"), H_NOW + 20000);
	H_OK("set", "k", "v3");
	ck_assert_int_eq(expire_of("k"), AP_NO_EXPIRE);
	H_OK("set", "fresh", "v", "keepttl");
	ck_assert_int_eq(expire_of("fresh"), AP_NO_EXPIRE);
	/* NX/XX combine with an expire. */
	H_OK("set", "k", "v4", "xx", "px", "100");
	ck_assert_int_eq(expire_of("k"), H_NOW + 100);
	H_OK("set", "n", "v", "nx", "ex", "5");
	ck_assert_int_eq(expire_of("n"), H_NOW + 5000);
}
END_TEST

START_TEST(test_set_expire_errors)
{
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "ex", "10", "px", "10");
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "exat", "10", "pxat", "10");
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "ex", "10", "keepttl");
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "keepttl", "ex", "10");
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "ex");
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "nx", "px");
	/* Syntax is reported before the expire value. */
	H_EXPECT(H_E_SYNTAX, "set", "k", "v", "ex", "-1", "bogus");
	H_EXPECT(H_E_NOT_INT, "set", "k", "v", "ex", "abc");
	H_EXPECT(H_E_NOT_INT, "set", "k", "v", "ex", "1.5");
	H_EXPECT(H_E_NOT_INT, "set", "k", "v", "px", "99999999999999999999");
	H_EXPECT(E_EXPIRE("set"), "set", "k", "v", "ex", "0");
	H_EXPECT(E_EXPIRE("set"), "set", "k", "v", "px", "-1");
	H_EXPECT(E_EXPIRE("set"), "set", "k", "v", "exat", "0");
	H_EXPECT(E_EXPIRE("set"), "set", "k", "v", "pxat", "-100");
	/* Seconds that overflow as ms; relative times that overflow with
	 * now added. */
	H_EXPECT(E_EXPIRE("set"), "set", "k", "v", "exat", "9223372036854776");
	H_EXPECT(E_EXPIRE("set"), "set", "k", "v", "ex", "9223372036854775");
	H_EXPECT(E_EXPIRE("set"), "set", "k", "v", "px", "9223372036854775807");
	ck_assert_ptr_null(h_peek("k"));
	/* The largest absolute times are fine. */
	H_OK("set", "k", "v", "exat", "9223372036854775");
	ck_assert_int_eq(expire_of("k"), 9223372036854775000LL);
	H_OK("set", "k", "v", "pxat", "9223372036854775807");
	ck_assert_int_eq(expire_of("k"), LLONG_MAX);
	/* The largest relative time that does not overflow. */
	char px[32];
	snprintf(px, sizeof(px), "%lld", LLONG_MAX - H_NOW);
	H_OK("set", "k", "v", "px", px);
	ck_assert_int_eq(expire_of("k"), LLONG_MAX);
	snprintf(px, sizeof(px), "%lld", LLONG_MAX - H_NOW + 1);
	H_EXPECT(E_EXPIRE("set"), "set", "k", "v", "px", px);
}
END_TEST

START_TEST(test_set_expire_in_past)
{
	H_OK("set", "old", "x");
	H_OK("set", "old", "v", "exat", "1");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(H_NIL, "get", "old");
	ck_assert_ptr_null(h_peek("old"));
	H_OK("set", "k", "v", "pxat", "1699999999999");
	H_EXPECT(H_NIL, "get", "k");
	/* At exactly now the key is already gone (as EXPIREAT). */
	H_OK("set", "k", "v", "pxat", "1700000000000");
	H_EXPECT(H_NIL, "get", "k");
	H_OK("set", "k", "v", "pxat", "1700000000001");
	H_EXPECT("$1\r\nv\r\n", "get", "k");
	ck_assert_uint_eq(ap_db_size(h_dbp()), 1);
}
END_TEST

START_TEST(test_set_get_option)
{
	H_EXPECT(H_NIL, "set", "k", "v1", "get");
	H_EXPECT("$2\r\nv1\r\n", "get", "k");
	H_EXPECT("$2\r\nv1\r\n", "set", "k", "v2", "GET");
	H_EXPECT("$2\r\nv2\r\n", "get", "k");
	H_OK("set", "n", "42");
	H_EXPECT("$2\r\n42\r\n", "set", "n", "x", "get");
	/* NX with GET (Redis 7): old value replied, nothing written. */
	H_EXPECT("$2\r\nv2\r\n", "set", "k", "v3", "nx", "get");
	H_EXPECT("$2\r\nv2\r\n", "get", "k");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(H_NIL, "set", "new", "v", "nx", "get");
	H_EXPECT("$1\r\nv\r\n", "get", "new");
	H_EXPECT(H_NIL, "set", "absent", "v", "xx", "get");
	ck_assert_ptr_null(h_peek("absent"));
	/* GET on a non-string: WRONGTYPE and no write. */
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "set", "l", "v", "get");
	ck_assert_uint_eq(h_last_dirty, 0);
	ck_assert_int_eq(ap_entry_type(h_peek("l")), AP_TYPE_LIST);
	/* Invalid expire comes before the type check. */
	H_EXPECT(E_EXPIRE("set"), "set", "l", "v", "get", "ex", "0");
	/* GET with KEEPTTL and EX. */
	H_OK("set", "t", "a", "ex", "100");
	H_EXPECT("$1\r\na\r\n", "set", "t", "b", "get", "keepttl");
	ck_assert_int_eq(expire_of("t"), H_NOW + 100000);
	H_EXPECT("$1\r\nb\r\n", "set", "t", "c", "get", "px", "5");
	ck_assert_int_eq(expire_of("t"), H_NOW + 5);
	h_proto = 3;
	H_EXPECT("_\r\n", "set", "r3", "v", "get");
}
END_TEST

START_TEST(test_setnx)
{
	H_EXPECT(":1\r\n", "setnx", "k", "a");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":0\r\n", "setnx", "k", "b");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("$1\r\na\r\n", "get", "k");
	make_list("l");
	H_EXPECT(":0\r\n", "setnx", "l", "b");
	ck_assert_int_eq(ap_entry_type(h_peek("l")), AP_TYPE_LIST);
}
END_TEST

START_TEST(test_setex_psetex)
{
	H_OK("set", "k", "old", "px", "5");
	H_OK("setex", "k", "10", "v");
	ck_assert_int_eq(expire_of("k"), H_NOW + 10000);
	H_EXPECT("$1\r\nv\r\n", "get", "k");
	H_OK("psetex", "k", "250", "w");
	ck_assert_int_eq(expire_of("k"), H_NOW + 250);
	H_EXPECT("$1\r\nw\r\n", "get", "k");
	H_EXPECT(E_EXPIRE("setex"), "setex", "k", "0", "v");
	H_EXPECT(E_EXPIRE("setex"), "setex", "k", "-5", "v");
	H_EXPECT(E_EXPIRE("setex"), "setex", "k", "9223372036854775", "v");
	H_EXPECT(E_EXPIRE("psetex"), "psetex", "k", "0", "v");
	H_EXPECT(E_EXPIRE("psetex"), "psetex", "k", "9223372036854775807", "v");
	H_EXPECT(H_E_NOT_INT, "setex", "k", "ten", "v");
	H_EXPECT(H_E_NOT_INT, "psetex", "k", "", "v");
	H_EXPECT("$1\r\nw\r\n", "get", "k");
	ck_assert_int_eq(expire_of("k"), H_NOW + 250);
	make_list("l");
	H_OK("setex", "l", "1", "s");
	H_EXPECT("$1\r\ns\r\n", "get", "l");
	ck_assert_int_eq(expire_of("l"), H_NOW + 1000);
}
END_TEST

/* --- GETEX GETDEL GETSET ------------------------------------------------- */

START_TEST(test_getex)
{
	H_EXPECT(H_NIL, "getex", "k");
	H_EXPECT(H_NIL, "getex", "k", "ex", "-1");
	H_OK("set", "k", "v", "ex", "100");
	H_EXPECT("$1\r\nv\r\n", "getex", "k");
	ck_assert_int_eq(expire_of("k"), H_NOW + 100000);
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("$1\r\nv\r\n", "getex", "k", "ex", "5");
	ck_assert_int_eq(expire_of("k"), H_NOW + 5000);
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("$1\r\nv\r\n", "getex", "k", "PX", "7");
	ck_assert_int_eq(expire_of("k"), H_NOW + 7);
	H_EXPECT("$1\r\nv\r\n", "getex", "k", "exat", "1700000200");
	ck_assert_int_eq(expire_of("k"), 1700000200000LL);
	H_EXPECT("$1\r\nv\r\n", "getex", "k", "pxat", "1700000200001");
	ck_assert_int_eq(expire_of("k"), 1700000200001LL);
	H_EXPECT("$1\r\nv\r\n", "getex", "k", "persist");
	ck_assert_int_eq(expire_of("k"), AP_NO_EXPIRE);
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("$1\r\nv\r\n", "getex", "k", "persist");
	ck_assert_uint_eq(h_last_dirty, 0);
	/* An absolute time in the past: value replied, key deleted. */
	H_EXPECT("$1\r\nv\r\n", "getex", "k", "exat", "1");
	ck_assert_ptr_null(h_peek("k"));
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(H_NIL, "get", "k");
	H_OK("set", "n", "7");
	H_EXPECT("$1\r\n7\r\n", "getex", "n", "pxat", "1700000000000");
	ck_assert_ptr_null(h_peek("n"));
}
END_TEST

START_TEST(test_getex_errors)
{
	H_OK("set", "k", "v", "ex", "100");
	H_EXPECT(H_E_SYNTAX, "getex", "k", "ex", "10", "persist");
	H_EXPECT(H_E_SYNTAX, "getex", "k", "persist", "ex", "10");
	H_EXPECT(H_E_SYNTAX, "getex", "k", "ex", "10", "px", "10");
	H_EXPECT(H_E_SYNTAX, "getex", "k", "nx");
	H_EXPECT(H_E_SYNTAX, "getex", "k", "xx");
	H_EXPECT(H_E_SYNTAX, "getex", "k", "get");
	H_EXPECT(H_E_SYNTAX, "getex", "k", "keepttl");
	H_EXPECT(H_E_SYNTAX, "getex", "k", "ex");
	H_EXPECT(H_E_SYNTAX, "getex", "missing", "bogus");
	H_EXPECT(E_EXPIRE("getex"), "getex", "k", "ex", "0");
	H_EXPECT(E_EXPIRE("getex"), "getex", "k", "pxat", "-1");
	H_EXPECT(E_EXPIRE("getex"), "getex", "k", "ex", "9223372036854775");
	H_EXPECT(H_E_NOT_INT, "getex", "k", "px", "x");
	ck_assert_int_eq(expire_of("k"), H_NOW + 100000);
	H_EXPECT("$1\r\nv\r\n", "getex", "k", "persist", "persist");
	ck_assert_int_eq(expire_of("k"), AP_NO_EXPIRE);
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "getex", "l");
	H_EXPECT(H_E_WRONGTYPE, "getex", "l", "ex", "0");
	h_proto = 3;
	H_EXPECT("_\r\n", "getex", "nothing", "persist");
}
END_TEST

START_TEST(test_getdel)
{
	H_EXPECT(H_NIL, "getdel", "k");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_OK("set", "k", "v", "ex", "10");
	H_EXPECT("$1\r\nv\r\n", "getdel", "k");
	ck_assert_uint_eq(h_last_dirty, 1);
	ck_assert_ptr_null(h_peek("k"));
	H_OK("set", "n", "-17");
	H_EXPECT("$3\r\n-17\r\n", "getdel", "n");
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "getdel", "l");
	ck_assert_ptr_nonnull(h_peek("l"));
	h_proto = 3;
	H_EXPECT("_\r\n", "getdel", "k");
}
END_TEST

START_TEST(test_getset)
{
	H_EXPECT(H_NIL, "getset", "k", "a");
	H_EXPECT("$1\r\na\r\n", "get", "k");
	H_OK("set", "k", "b", "ex", "10");
	H_EXPECT("$1\r\nb\r\n", "getset", "k", "c");
	ck_assert_uint_eq(h_last_dirty, 1);
	ck_assert_int_eq(expire_of("k"), AP_NO_EXPIRE);
	H_EXPECT("$1\r\nc\r\n", "get", "k");
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "getset", "l", "v");
	ck_assert_uint_eq(h_last_dirty, 0);
	ck_assert_int_eq(ap_entry_type(h_peek("l")), AP_TYPE_LIST);
}
END_TEST

/* --- MGET MSET MSETNX ---------------------------------------------------- */

START_TEST(test_mget)
{
	H_OK("set", "a", "1");
	H_OK("set", "b", "two");
	make_list("l");
	H_EXPECT("*4\r\n$1\r\n1\r\n$-1\r\n$3\r\ntwo\r\n$-1\r\n", "mget", "a",
		 "missing", "b", "l");
	H_EXPECT("*1\r\n$-1\r\n", "mget", "x");
	h_proto = 3;
	H_EXPECT("*3\r\n_\r\n$1\r\n1\r\n_\r\n", "mget", "x", "a", "l");
}
END_TEST

START_TEST(test_mset)
{
	H_OK("set", "a", "old", "ex", "10");
	make_list("l");
	H_OK("mset", "a", "1", "b", "2", "l", "3");
	ck_assert_uint_eq(h_last_dirty, 3);
	H_EXPECT("*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", "mget", "a", "b",
		 "l");
	ck_assert_int_eq(expire_of("a"), AP_NO_EXPIRE);
	/* The same key twice: the last value wins. */
	H_OK("mset", "d", "x", "d", "y");
	H_EXPECT("$1\r\ny\r\n", "get", "d");
}
END_TEST

START_TEST(test_msetnx)
{
	H_EXPECT(":1\r\n", "msetnx", "a", "1", "b", "2");
	ck_assert_uint_eq(h_last_dirty, 2);
	H_EXPECT(":0\r\n", "msetnx", "c", "3", "b", "9");
	ck_assert_uint_eq(h_last_dirty, 0);
	ck_assert_ptr_null(h_peek("c"));
	H_EXPECT("$1\r\n2\r\n", "get", "b");
	make_list("l");
	H_EXPECT(":0\r\n", "msetnx", "l", "1");
	H_EXPECT(":1\r\n", "msetnx", "e", "x", "e", "y");
	H_EXPECT("$1\r\ny\r\n", "get", "e");
}
END_TEST

/* --- INCR family --------------------------------------------------------- */

START_TEST(test_incr_decr)
{
	H_EXPECT(":1\r\n", "incr", "n");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":2\r\n", "incr", "n");
	H_EXPECT(":1\r\n", "decr", "n");
	H_EXPECT(":-1\r\n", "decr", "m");
	H_EXPECT(":10\r\n", "incrby", "n", "9");
	H_EXPECT(":-5\r\n", "incrby", "n", "-15");
	H_EXPECT(":0\r\n", "decrby", "n", "-5");
	H_EXPECT(":-100\r\n", "decrby", "p", "100");
	ck_assert_int_eq(ap_entry_enc(h_peek("n")), AP_ENC_INT);
	H_EXPECT("$1\r\n0\r\n", "get", "n");
	/* Embedded and raw strings holding integers count too. */
	H_OK("set", "s", "12");
	H_EXPECT(":13\r\n", "incr", "s");
	H_EXPECT(":1\r\n", "append", "r", "4");
	H_EXPECT(":2\r\n", "append", "r", "2");
	H_EXPECT(":43\r\n", "incr", "r");
	H_EXPECT("$2\r\n43\r\n", "get", "r");
}
END_TEST

START_TEST(test_incr_keeps_ttl)
{
	H_OK("set", "n", "5", "ex", "100");
	H_EXPECT(":6\r\n", "incr", "n");
	ck_assert_int_eq(expire_of("n"), H_NOW + 100000);
	H_EXPECT(":2\r\n", "incrby", "n", "-4");
	H_EXPECT(":1\r\n", "decr", "n");
	H_EXPECT(":0\r\n", "decrby", "n", "1");
	ck_assert_int_eq(expire_of("n"), H_NOW + 100000);
	ck_assert_int_eq(ap_entry_enc(h_peek("n")), AP_ENC_INT);
}
END_TEST

START_TEST(test_incr_errors)
{
	H_OK("set", "s", "abc");
	H_EXPECT(H_E_NOT_INT, "incr", "s");
	H_OK("set", "s", " 1");
	H_EXPECT(H_E_NOT_INT, "incr", "s");
	H_OK("set", "s", "1.5");
	H_EXPECT(H_E_NOT_INT, "decr", "s");
	H_OK("set", "s", "01");
	H_EXPECT(H_E_NOT_INT, "incrby", "s", "1");
	H_OK("set", "s", "");
	H_EXPECT(H_E_NOT_INT, "incr", "s");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("$0\r\n\r\n", "get", "s");
	H_EXPECT(H_E_NOT_INT, "incrby", "n", "x");
	H_EXPECT(H_E_NOT_INT, "incrby", "n", "9223372036854775808");
	H_EXPECT(H_E_NOT_INT, "decrby", "n", "");
	ck_assert_ptr_null(h_peek("n"));
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "incr", "l");
	H_EXPECT(H_E_WRONGTYPE, "decrby", "l", "3");
	/* The increment is parsed before the key is looked at. */
	H_EXPECT(H_E_NOT_INT, "incrby", "l", "x");
}
END_TEST

START_TEST(test_incr_boundaries)
{
	H_OK("set", "n", "9223372036854775806");
	H_EXPECT(":9223372036854775807\r\n", "incr", "n");
	H_EXPECT(E_OVERFLOW, "incr", "n");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT("$19\r\n9223372036854775807\r\n", "get", "n");
	H_EXPECT(E_OVERFLOW, "incrby", "n", "1");
	H_EXPECT(":-1\r\n", "incrby", "n", "-9223372036854775808");
	H_OK("set", "m", "-9223372036854775807");
	H_EXPECT(":-9223372036854775808\r\n", "decr", "m");
	H_EXPECT(E_OVERFLOW, "decr", "m");
	H_EXPECT(E_OVERFLOW, "decrby", "m", "1");
	H_EXPECT(E_OVERFLOW, "incrby", "m", "-1");
	H_EXPECT(":-1\r\n", "incrby", "m", "9223372036854775807");
	H_EXPECT(":9223372036854775807\r\n", "incrby", "z",
		 "9223372036854775807");
	H_EXPECT(":-9223372036854775808\r\n", "incrby", "y",
		 "-9223372036854775808");
	H_EXPECT(":-9223372036854775807\r\n", "decrby", "x",
		 "9223372036854775807");
	H_EXPECT("-ERR decrement would overflow\r\n", "decrby", "x",
		 "-9223372036854775808");
	H_EXPECT("$20\r\n-9223372036854775807\r\n", "get", "x");
}
END_TEST

START_TEST(test_incrbyfloat)
{
	H_OK("set", "f", "10.50");
	H_EXPECT("$4\r\n10.6\r\n", "incrbyfloat", "f", "0.1");
	H_EXPECT("$4\r\n10.6\r\n", "get", "f");
	H_EXPECT("$5\r\n-5.25\r\n", "incrbyfloat", "f", "-15.85");
	H_OK("set", "g", "5.0e3");
	H_EXPECT("$4\r\n5200\r\n", "incrbyfloat", "g", "2.0e2");
	ck_assert_int_eq(ap_entry_enc(h_peek("g")), AP_ENC_INT);
	H_EXPECT("$4\r\n3000\r\n", "incrbyfloat", "new", "3.0e3");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_OK("set", "i", "7");
	H_EXPECT("$3\r\n7.5\r\n", "incrbyfloat", "i", ".5");
	H_EXPECT("$1\r\n8\r\n", "incrbyfloat", "i", "0.5");
	/* TTL kept. */
	H_OK("set", "t", "1", "px", "999");
	H_EXPECT("$3\r\n1.5\r\n", "incrbyfloat", "t", "0.5");
	ck_assert_int_eq(expire_of("t"), H_NOW + 999);
	/* RESP3 replies the same bulk string. */
	h_proto = 3;
	H_EXPECT("$3\r\n2.5\r\n", "incrbyfloat", "t", "1");
}
END_TEST

START_TEST(test_incrbyfloat_errors)
{
	H_OK("set", "s", "abc");
	H_EXPECT(H_E_NOT_FLOAT, "incrbyfloat", "s", "1");
	H_OK("set", "s", " 1");
	H_EXPECT(H_E_NOT_FLOAT, "incrbyfloat", "s", "1");
	H_EXPECT(H_E_NOT_FLOAT, "incrbyfloat", "n", "x");
	H_EXPECT(H_E_NOT_FLOAT, "incrbyfloat", "n", "nan");
	H_EXPECT(H_E_NOT_FLOAT, "incrbyfloat", "n", "");
	ck_assert_ptr_null(h_peek("n"));
	H_EXPECT("-ERR increment would produce NaN or Infinity\r\n",
		 "incrbyfloat", "n", "inf");
	H_EXPECT("-ERR increment would produce NaN or Infinity\r\n",
		 "incrbyfloat", "n", "-inf");
	ck_assert_ptr_null(h_peek("n"));
	ck_assert_uint_eq(h_last_dirty, 0);
	H_OK("set", "big", "1e4932");
	H_EXPECT("-ERR increment would produce NaN or Infinity\r\n",
		 "incrbyfloat", "big", "1e4932");
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "incrbyfloat", "l", "1");
	H_EXPECT(H_E_WRONGTYPE, "incrbyfloat", "l", "x");
}
END_TEST

/* --- APPEND STRLEN ------------------------------------------------------- */

START_TEST(test_append)
{
	H_EXPECT(":5\r\n", "append", "k", "Hello");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":11\r\n", "append", "k", " World");
	H_EXPECT("$11\r\nHello World\r\n", "get", "k");
	H_EXPECT(":11\r\n", "append", "k", "");
	H_EXPECT("$11\r\nHello World\r\n", "get", "k");
	H_OK("set", "n", "12", "ex", "50");
	H_EXPECT(":4\r\n", "append", "n", "34");
	H_EXPECT("$4\r\n1234\r\n", "get", "n");
	ck_assert_int_eq(expire_of("n"), H_NOW + 50000);
	H_EXPECT(":0\r\n", "append", "e", "");
	/* As Redis, appending nothing to a missing key creates it empty. */
	ck_assert_ptr_nonnull(h_peek("e"));
	ck_assert_uint_eq(ap_entry_str_len(h_peek("e")), 0);
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "append", "l", "x");
	/* Long values grow past the embedded size. */
	char big[200];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	H_EXPECT(":203\r\n", "append", "n", big);
	H_EXPECT(":402\r\n", "append", "n", big);
	ck_assert_uint_eq(ap_entry_str_len(h_peek("n")), 402);
}
END_TEST

START_TEST(test_append_max_len)
{
	char v[101];

	h_cfg.proto_max_bulk_len = 100;
	memset(v, 'a', 100);
	v[100] = '\0';
	v[90] = '\0';
	H_EXPECT(":90\r\n", "append", "k", v);
	v[90] = 'a';
	v[10] = '\0';
	H_EXPECT(":100\r\n", "append", "k", v);
	H_EXPECT(E_TOO_LONG, "append", "k", "b");
	ck_assert_uint_eq(h_last_dirty, 0);
	ck_assert_uint_eq(ap_entry_str_len(h_peek("k")), 100);
	H_EXPECT(":100\r\n", "append", "k", "");
	v[10] = 'a';
	H_EXPECT(E_TOO_LONG, "append", "fresh",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaa");
	ck_assert_ptr_null(h_peek("fresh"));
}
END_TEST

START_TEST(test_strlen)
{
	H_EXPECT(":0\r\n", "strlen", "k");
	H_OK("set", "k", "Hello world");
	H_EXPECT(":11\r\n", "strlen", "k");
	H_OK("set", "n", "-12345");
	H_EXPECT(":6\r\n", "strlen", "n");
	H_OK("set", "e", "");
	H_EXPECT(":0\r\n", "strlen", "e");
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "strlen", "l");
}
END_TEST

/* --- GETRANGE SUBSTR SETRANGE -------------------------------------------- */

START_TEST(test_getrange)
{
	H_OK("set", "k", "This is a string");
	H_EXPECT("$4\r\nThis\r\n", "getrange", "k", "0", "3");
	H_EXPECT("$3\r\ning\r\n", "getrange", "k", "-3", "-1");
	H_EXPECT("$16\r\nThis is a string\r\n", "getrange", "k", "0", "-1");
	H_EXPECT("$6\r\nstring\r\n", "getrange", "k", "10", "100");
	H_EXPECT("$0\r\n\r\n", "getrange", "k", "5", "3");
	H_EXPECT("$0\r\n\r\n", "getrange", "k", "-1", "-5");
	H_EXPECT("$0\r\n\r\n", "getrange", "k", "16", "20");
	H_EXPECT("$1\r\ng\r\n", "getrange", "k", "15", "20");
	/* Redis 7 clamps a too-negative end to 0. */
	H_EXPECT("$1\r\nT\r\n", "getrange", "k", "0", "-100");
	H_EXPECT("$1\r\nT\r\n", "getrange", "k", "-100", "-50");
	H_EXPECT("$16\r\nThis is a string\r\n", "getrange", "k",
		 "-9223372036854775808", "9223372036854775807");
	H_EXPECT("$0\r\n\r\n", "getrange", "k", "9223372036854775807",
		 "9223372036854775807");
	H_EXPECT("$4\r\nThis\r\n", "substr", "k", "0", "3");
	H_OK("set", "n", "12345");
	H_EXPECT("$2\r\n23\r\n", "getrange", "n", "1", "2");
	H_OK("set", "e", "");
	H_EXPECT("$0\r\n\r\n", "getrange", "e", "0", "-1");
	H_EXPECT("$0\r\n\r\n", "getrange", "missing", "0", "-1");
	H_EXPECT(H_E_NOT_INT, "getrange", "k", "a", "1");
	H_EXPECT(H_E_NOT_INT, "getrange", "k", "0", "1x");
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "getrange", "l", "0", "1");
	H_EXPECT(H_E_NOT_INT, "getrange", "l", "0", "z");
	h_proto = 3;
	H_EXPECT("$0\r\n\r\n", "substr", "missing", "0", "-1");
}
END_TEST

START_TEST(test_setrange)
{
	H_OK("set", "k", "Hello World");
	H_EXPECT(":11\r\n", "setrange", "k", "6", "Redis");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("$11\r\nHello Redis\r\n", "get", "k");
	H_EXPECT(":13\r\n", "setrange", "k", "10", "!!!");
	H_EXPECT("$13\r\nHello Redi!!!\r\n", "get", "k");
	H_EXPECT(":11\r\n", "setrange", "n", "6", "Redis");
	H_EXPECT("$11\r\n\0\0\0\0\0\0Redis\r\n", "get", "n");
	H_EXPECT(":3\r\n", "setrange", "z", "0", "abc");
	H_EXPECT("$3\r\nabc\r\n", "get", "z");
	/* Empty value: nothing changes, nothing is created. */
	H_EXPECT(":0\r\n", "setrange", "none", "5", "");
	ck_assert_ptr_null(h_peek("none"));
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(":13\r\n", "setrange", "k", "100", "");
	/* TTL kept; an integer value is rewritten as bytes. */
	H_OK("set", "i", "1234", "ex", "9");
	H_EXPECT(":4\r\n", "setrange", "i", "1", "x");
	H_EXPECT("$4\r\n1x34\r\n", "get", "i");
	ck_assert_int_eq(expire_of("i"), H_NOW + 9000);
	H_EXPECT(":6\r\n", "setrange", "i", "5", "y");
	H_EXPECT("$6\r\n1x34\0y\r\n", "get", "i");
}
END_TEST

START_TEST(test_setrange_errors)
{
	H_OK("set", "k", "abc");
	H_EXPECT("-ERR offset is out of range\r\n", "setrange", "k", "-1", "x");
	H_EXPECT("-ERR offset is out of range\r\n", "setrange", "missing", "-1",
		 "");
	H_EXPECT(H_E_NOT_INT, "setrange", "k", "x", "y");
	make_list("l");
	H_EXPECT(H_E_WRONGTYPE, "setrange", "l", "0", "x");
	H_EXPECT(H_E_WRONGTYPE, "setrange", "l", "0", "");
	H_EXPECT(E_TOO_LONG, "setrange", "k", "9223372036854775807", "x");
	H_EXPECT(E_TOO_LONG, "setrange", "new", "536870912", "x");
	ck_assert_ptr_null(h_peek("new"));
	H_EXPECT("$3\r\nabc\r\n", "get", "k");
}
END_TEST

START_TEST(test_setrange_max_len)
{
	h_cfg.proto_max_bulk_len = 100;
	H_EXPECT(":100\r\n", "setrange", "k", "95", "12345");
	H_EXPECT(E_TOO_LONG, "setrange", "k", "96", "12345");
	H_EXPECT(E_TOO_LONG, "setrange", "new", "100", "x");
	ck_assert_ptr_null(h_peek("new"));
	H_EXPECT(":100\r\n", "setrange", "new", "99", "x");
	/* Overwriting inside the limit is fine at the limit. */
	H_EXPECT(":100\r\n", "setrange", "k", "0", "abc");
	H_EXPECT("$5\r\n12345\r\n", "getrange", "k", "-5", "-1");
	H_EXPECT("$3\r\nabc\r\n", "getrange", "k", "0", "2");
}
END_TEST

/* --- LCS ----------------------------------------------------------------- */

#define LCS_IDX_BODY                                                        \
	"$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n" \
	"*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"

START_TEST(test_lcs_reference_example)
{
	H_OK("mset", "key1", "ohmytext", "key2", "mynewtext");
	H_EXPECT("$6\r\nmytext\r\n", "lcs", "key1", "key2");
	H_EXPECT(":6\r\n", "lcs", "key1", "key2", "LEN");
	H_EXPECT("*4\r\n" LCS_IDX_BODY, "lcs", "key1", "key2", "IDX");
	H_EXPECT("*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n"
		 ":5\r\n:8\r\n$3\r\nlen\r\n:6\r\n",
		 "lcs", "key1", "key2", "IDX", "MINMATCHLEN", "4");
	H_EXPECT("*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n"
		 ":5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n"
		 ":2\r\n$3\r\nlen\r\n:6\r\n",
		 "lcs", "key1", "key2", "IDX", "WITHMATCHLEN");
	H_EXPECT("*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n"
		 ":5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n",
		 "lcs", "key1", "key2", "IDX", "MINMATCHLEN", "4",
		 "WITHMATCHLEN");
	/* A negative minimum counts as 0; too large a minimum keeps none. */
	H_EXPECT("*4\r\n" LCS_IDX_BODY, "lcs", "key1", "key2", "idx",
		 "minmatchlen", "-3");
	H_EXPECT("*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:6\r\n", "lcs",
		 "key1", "key2", "idx", "minmatchlen", "7");
	/* MINMATCHLEN and WITHMATCHLEN without IDX are ignored. */
	H_EXPECT("$6\r\nmytext\r\n", "lcs", "key1", "key2", "withmatchlen",
		 "minmatchlen", "3");
	H_EXPECT(":6\r\n", "lcs", "key2", "key1", "len");
	h_proto = 3;
	H_EXPECT("%2\r\n" LCS_IDX_BODY, "lcs", "key1", "key2", "IDX");
	H_EXPECT("$6\r\nmytext\r\n", "lcs", "key1", "key2");
}
END_TEST

START_TEST(test_lcs_edge_cases)
{
	H_EXPECT("$0\r\n\r\n", "lcs", "a", "b");
	H_EXPECT(":0\r\n", "lcs", "a", "b", "len");
	H_EXPECT("*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n", "lcs", "a",
		 "b", "idx");
	H_OK("set", "a", "abc");
	H_EXPECT("$0\r\n\r\n", "lcs", "a", "b");
	H_EXPECT("$3\r\nabc\r\n", "lcs", "a", "a");
	H_OK("set", "b", "xyz");
	H_EXPECT("$0\r\n\r\n", "lcs", "a", "b");
	H_EXPECT("*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n", "lcs", "a",
		 "b", "idx");
	H_OK("set", "n1", "12345");
	H_OK("set", "n2", "2x4");
	H_EXPECT("$2\r\n24\r\n", "lcs", "n1", "n2");
	/* Whole-string match: one range reaching both starts. */
	H_EXPECT("*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:0\r\n:2\r\n*2\r\n"
		 ":0\r\n:2\r\n$3\r\nlen\r\n:3\r\n",
		 "lcs", "a", "a", "idx");
}
END_TEST

START_TEST(test_lcs_errors)
{
	H_OK("set", "a", "abc");
	make_list("l");
	H_EXPECT("-ERR The specified keys must contain string values\r\n",
		 "lcs", "a", "l");
	H_EXPECT("-ERR The specified keys must contain string values\r\n",
		 "lcs", "l", "missing", "bogus");
	H_EXPECT("-ERR If you want both the length and indexes, please just "
		 "use IDX.\r\n",
		 "lcs", "a", "a", "len", "idx");
	H_EXPECT(H_E_SYNTAX, "lcs", "a", "a", "bogus");
	H_EXPECT(H_E_SYNTAX, "lcs", "a", "a", "idx", "minmatchlen");
	H_EXPECT(H_E_NOT_INT, "lcs", "a", "a", "idx", "minmatchlen", "x");
}
END_TEST

/* Sets key to len bytes drawn from a small alphabet. */
static void set_random(const char *key, size_t len, unsigned *seed)
{
	char *v = ap_malloc(len + 1);

	for (size_t i = 0; i < len; i++) {
		*seed = *seed * 1103515245u + 12345u;
		v[i] = (char)('a' + (*seed >> 16) % 3);
	}
	(void)ap_db_set_string(h_dbp(), key, strlen(key), v, len, AP_NO_EXPIRE);
	ap_free(v);
}

/*
 * The reference: the full (alen+1) x (blen+1) table and the walk the LCS
 * documentation describes (diagonal on equal bytes, else towards the
 * larger neighbour, ties decrementing the second index), written into r
 * as the IDX reply.
 */
static void lcs_reference(struct ap_reply *r, const char *a, size_t alen,
			  const char *b, size_t blen, long long minlen,
			  bool withlen)
{
	uint32_t *t = ap_calloc((alen + 1) * (blen + 1), sizeof(*t));
#define T(i, j) t[(i) * (blen + 1) + (j)]
	for (size_t i = 1; i <= alen; i++)
		for (size_t j = 1; j <= blen; j++)
			T(i, j) = a[i - 1] == b[j - 1]
					  ? T(i - 1, j - 1) + 1
					  : AP_MAX(T(i - 1, j), T(i, j - 1));
	/* Collect runs as (a_end, b_end, len), from the end. */
	size_t runs[256][3], nruns = 0;
	size_t i = alen, j = blen;
	bool in_run = false;
	while (i > 0 && j > 0) {
		if (a[i - 1] == b[j - 1]) {
			if (!in_run) {
				ck_assert_uint_lt(nruns, 256);
				runs[nruns][0] = i - 1;
				runs[nruns][1] = j - 1;
				runs[nruns][2] = 0;
				nruns++;
			}
			runs[nruns - 1][2]++;
			in_run = true;
			i--, j--;
		} else {
			in_run = false;
			if (T(i - 1, j) > T(i, j - 1))
				i--;
			else
				j--;
		}
	}
	size_t kept = 0;
	for (size_t k = 0; k < nruns; k++)
		kept += (long long)runs[k][2] >= minlen;
	ap_reply_map(r, 2);
	ap_reply_bulk_cstr(r, "matches");
	ap_reply_array(r, kept);
	for (size_t k = 0; k < nruns; k++) {
		size_t ae = runs[k][0], be = runs[k][1], n = runs[k][2];
		if ((long long)n < minlen)
			continue;
		ap_reply_array(r, withlen ? 3 : 2);
		ap_reply_array(r, 2);
		ap_reply_int(r, (long long)(ae + 1 - n));
		ap_reply_int(r, (long long)ae);
		ap_reply_array(r, 2);
		ap_reply_int(r, (long long)(be + 1 - n));
		ap_reply_int(r, (long long)be);
		if (withlen)
			ap_reply_int(r, (long long)n);
	}
	ap_reply_bulk_cstr(r, "len");
	ap_reply_int(r, T(alen, blen));
#undef T
	ap_free(t);
}

START_TEST(test_lcs_random_against_reference)
{
	unsigned seed = 12345;

	for (int round = 0; round < 400; round++) {
		size_t alen = (seed >> 8) % 41, blen;
		seed = seed * 1103515245u + 12345u;
		blen = (seed >> 8) % 41;
		set_random("a", alen, &seed);
		set_random("b", blen, &seed);
		long long minlen = round % 4;
		bool withlen = round % 3 == 0;
		char mbuf[8];
		snprintf(mbuf, sizeof(mbuf), "%lld", minlen);

		size_t alen2, blen2, glen, elen;
		char abuf[AP_INT_STR_SIZE], bbuf[AP_INT_STR_SIZE];
		const char *a = ap_entry_str(h_peek("a"), &alen2, abuf);
		const char *b = ap_entry_str(h_peek("b"), &blen2, bbuf);
		ck_assert_uint_eq(alen2, alen);
		ck_assert_uint_eq(blen2, blen);

		struct ap_obuf ob;
		struct ap_reply r;
		ap_obuf_init(&ob);
		ap_reply_init(&r, &ob, 2);
		lcs_reference(&r, a, alen, b, blen, minlen, withlen);
		char *exp = ap_obuf_flatten(&ob, &elen);
		ap_obuf_deinit(&ob);

		const char *w[] = {"lcs",
				   "a",
				   "b",
				   "idx",
				   "minmatchlen",
				   mbuf,
				   withlen ? "withmatchlen" : NULL,
				   NULL};
		char *got = h_run(w, &glen);
		h_compare(__LINE__, exp, elen, got, glen);
		ap_free(got);
		ap_free(exp);

		/* The plain reply has the reported length. */
		got = h_run((const char *const[]){"lcs", "a", "b", NULL},
			    &glen);
		char hdr[32];
		size_t lcs_len;
		{
			const char *w2[] = {"lcs", "a", "b", "len", NULL};
			char *l = h_run(w2, &elen);
			lcs_len = strtoull(l + 1, NULL, 10);
			ap_free(l);
		}
		int h = snprintf(hdr, sizeof(hdr), "$%zu\r\n", lcs_len);
		ck_assert_uint_eq(glen, (size_t)h + lcs_len + 2);
		ck_assert(memcmp(got, hdr, (size_t)h) == 0);
		ap_free(got);
	}
}
END_TEST

START_TEST(test_lcs_cell_limit)
{
	/* 16384 * 32768 = AP_LCS_MAX_CELLS exactly: computed. */
	size_t alen = 16384, blen = 32768;
	char *a = ap_malloc(blen + 1);

	ck_assert_int_eq((long long)alen * (long long)blen, AP_LCS_MAX_CELLS);
	memset(a, 'x', blen);
	(void)ap_db_set_string(h_dbp(), "a", 1, a, alen, AP_NO_EXPIRE);
	memset(a, 'y', blen);
	a[blen - 1] = 'x';
	(void)ap_db_set_string(h_dbp(), "b", 1, a, blen, AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "lcs", "a", "b", "len");
	H_EXPECT("$1\r\nx\r\n", "lcs", "b", "a");
	/* One byte more on either side exceeds the limit. */
	(void)ap_db_set_string(h_dbp(), "c", 1, a, alen + 1, AP_NO_EXPIRE);
	H_EXPECT("-ERR Insufficient memory, transient memory for LCS exceeds "
		 "the table limit\r\n",
		 "lcs", "c", "b", "len");
	H_EXPECT("-ERR Insufficient memory, transient memory for LCS exceeds "
		 "the table limit\r\n",
		 "lcs", "b", "c", "idx");
	ap_free(a);
}
END_TEST

/* --- the suite ----------------------------------------------------------- */

static Suite *string_suite(void)
{
	Suite *s = suite_create("cmd_string");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_table_entries);
	tcase_add_test(tc, test_arity);
	tcase_add_test(tc, test_get_set_basic);
	tcase_add_test(tc, test_set_nx_xx);
	tcase_add_test(tc, test_set_expire_options);
	tcase_add_test(tc, test_set_expire_errors);
	tcase_add_test(tc, test_set_expire_in_past);
	tcase_add_test(tc, test_set_get_option);
	tcase_add_test(tc, test_setnx);
	tcase_add_test(tc, test_setex_psetex);
	tcase_add_test(tc, test_getex);
	tcase_add_test(tc, test_getex_errors);
	tcase_add_test(tc, test_getdel);
	tcase_add_test(tc, test_getset);
	tcase_add_test(tc, test_mget);
	tcase_add_test(tc, test_mset);
	tcase_add_test(tc, test_msetnx);
	tcase_add_test(tc, test_incr_decr);
	tcase_add_test(tc, test_incr_keeps_ttl);
	tcase_add_test(tc, test_incr_errors);
	tcase_add_test(tc, test_incr_boundaries);
	tcase_add_test(tc, test_incrbyfloat);
	tcase_add_test(tc, test_incrbyfloat_errors);
	tcase_add_test(tc, test_append);
	tcase_add_test(tc, test_append_max_len);
	tcase_add_test(tc, test_strlen);
	tcase_add_test(tc, test_getrange);
	tcase_add_test(tc, test_setrange);
	tcase_add_test(tc, test_setrange_errors);
	tcase_add_test(tc, test_setrange_max_len);
	tcase_add_test(tc, test_lcs_reference_example);
	tcase_add_test(tc, test_lcs_edge_cases);
	tcase_add_test(tc, test_lcs_errors);
	tcase_add_test(tc, test_lcs_random_against_reference);
	tcase_add_test(tc, test_lcs_cell_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_type_register(AP_TYPE_LIST, &dummy_ops);
	ap_cmd_table_add(ap_cmds_string);

	SRunner *sr = srunner_create(string_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
