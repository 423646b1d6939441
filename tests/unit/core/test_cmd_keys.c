/*
 * test_cmd_keys.c - the generic key commands of core/cmd_keys.c, run by
 * argv lists through the command table against a 16-database keyspace
 * with a controlled clock; replies are compared byte for byte in RESP2
 * (and RESP3 where the two differ).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/core/cmd_harness.h"

/* --- a collection type, to exercise TYPE, COPY and OBJECT on objects -- */

struct fake_list {
	long n;
};

static int fake_dups;

static void fake_free(void *obj, enum ap_enc enc)
{
	(void)enc;
	ap_free(obj);
}

static void *fake_dup(const void *obj, enum ap_enc enc)
{
	(void)enc;
	fake_dups++;
	return ap_memdup(obj, sizeof(struct fake_list));
}

static size_t fake_length(const void *obj, enum ap_enc enc)
{
	(void)enc;
	return (size_t)((const struct fake_list *)obj)->n;
}

static const struct ap_type_ops fake_list_ops = {
	.name = "list",
	.free = fake_free,
	.dup = fake_dup,
	.length = fake_length,
};

/* --- helpers ------------------------------------------------------------ */

/* The fixture: the harness's keyspace, and no copies made yet. */
static void setup(void)
{
	h_setup();
	fake_dups = 0;
}

/* Database idx of the harness's keyspace. */
static struct ap_db *db(unsigned idx)
{
	return ap_keyspace_db(h_ks, idx);
}

static void set_str(unsigned idx, const char *k, const char *v, int64_t exp)
{
	ap_db_set_string(db(idx), k, strlen(k), v, strlen(v), exp);
}

/* The string value of k in database idx, or NULL; caller frees. */
static char *get_str(unsigned idx, const char *k)
{
	struct ap_entry *e = ap_db_lookup(db(idx), k, strlen(k), AP_LK_NOTOUCH);
	char buf[AP_INT_STR_SIZE];
	const char *p;
	size_t len;

	if (!e)
		return NULL;
	ck_assert_int_eq(ap_entry_type(e), AP_TYPE_STRING);
	p = ap_entry_str(e, &len, buf);
	return strndup(p, len);
}

static void expect_str(int line, unsigned idx, const char *k, const char *exp)
{
	char *got = get_str(idx, k);

	if (!exp) {
		ck_assert_msg(got == NULL, "line %d: %s should be missing",
			      line, k);
		return;
	}
	ck_assert_msg(got && strcmp(got, exp) == 0,
		      "line %d: %s: expected \"%s\", got \"%s\"", line, k, exp,
		      got ? got : "(nil)");
	free(got);
}

#define EXPECT_STR(idx, k, v) expect_str(__LINE__, idx, k, v)

static int64_t expire_of(unsigned idx, const char *k)
{
	struct ap_entry *e = ap_db_lookup(db(idx), k, strlen(k), AP_LK_NOTOUCH);

	ck_assert_ptr_nonnull(e);
	return ap_entry_expire(e);
}

/* --- DEL UNLINK EXISTS TOUCH TYPE --------------------------------------- */

START_TEST(test_del_unlink)
{
	set_str(0, "a", "1", AP_NO_EXPIRE);
	set_str(0, "b", "2", AP_NO_EXPIRE);
	set_str(0, "c", "3", AP_NO_EXPIRE);
	H_EXPECT(":0\r\n", "del", "missing");
	ck_assert_uint_eq(h_last_dirty, 0);
	H_EXPECT(":2\r\n", "DEL", "a", "missing", "b", "a");
	ck_assert_uint_eq(h_last_dirty, 2);
	EXPECT_STR(0, "a", NULL);
	EXPECT_STR(0, "c", "3");
	H_EXPECT(":1\r\n", "unlink", "c", "c");
	ck_assert_uint_eq(h_last_dirty, 1);
	ck_assert_uint_eq(ap_db_size(db(0)), 0);
	/* An expired key is not counted. */
	set_str(0, "t", "x", H_NOW + 10);
	ap_keyspace_set_now(h_ks, H_NOW + 11);
	H_EXPECT(":0\r\n", "del", "t");
	H_EXPECT(H_E_ARITY("del"), "del");
}
END_TEST

START_TEST(test_exists_touch)
{
	set_str(0, "a", "1", AP_NO_EXPIRE);
	set_str(0, "b", "2", H_NOW + 1000);
	H_EXPECT(":0\r\n", "exists", "nope");
	H_EXPECT(":4\r\n", "exists", "a", "a", "b", "nope", "a");
	H_EXPECT(":2\r\n", "touch", "a", "b", "nope");
	H_EXPECT(":2\r\n", "TOUCH", "a", "a");
	ck_assert_uint_eq(h_last_dirty, 0);
	/* At the expiry instant the key still lives; 1 ms later it is gone. */
	ap_keyspace_set_now(h_ks, H_NOW + 1000);
	H_EXPECT(":1\r\n", "exists", "b");
	ap_keyspace_set_now(h_ks, H_NOW + 1001);
	H_EXPECT(":0\r\n", "exists", "b");
	H_EXPECT(":0\r\n", "touch", "b");
}
END_TEST

START_TEST(test_type)
{
	struct fake_list *l = ap_malloc(sizeof(*l));

	l->n = 3;
	set_str(0, "s", "hello", AP_NO_EXPIRE);
	ap_db_set_int(db(0), "i", 1, 42, AP_NO_EXPIRE);
	ap_db_set_object(db(0), "l", 1, AP_TYPE_LIST, AP_ENC_QUICKLIST, l,
			 AP_NO_EXPIRE);
	H_EXPECT("+none\r\n", "type", "missing");
	H_EXPECT("+string\r\n", "type", "s");
	H_EXPECT("+string\r\n", "type", "i");
	H_EXPECT("+list\r\n", "type", "l");
	H_EXPECT(H_E_ARITY("type"), "type", "s", "x");
}
END_TEST

/* --- EXPIRE family ------------------------------------------------------ */

START_TEST(test_expire_basic)
{
	H_EXPECT(":0\r\n", "expire", "missing", "10");
	H_EXPECT(":0\r\n", "pexpire", "missing", "10");
	H_EXPECT(":0\r\n", "expireat", "missing", "9999999999");
	H_EXPECT(":0\r\n", "pexpireat", "missing", "9999999999999");
	ck_assert_uint_eq(h_last_dirty, 0);
	set_str(0, "k", "v", AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "expire", "k", "10");
	ck_assert_uint_eq(h_last_dirty, 1);
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 10000);
	H_EXPECT(":1\r\n", "pexpire", "k", "1234");
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 1234);
	H_EXPECT(":1\r\n", "expireat", "k", "1800000000");
	ck_assert_int_eq(expire_of(0, "k"), 1800000000000LL);
	H_EXPECT(":1\r\n", "pexpireat", "k", "1800000000123");
	ck_assert_int_eq(expire_of(0, "k"), 1800000000123LL);
	EXPECT_STR(0, "k", "v");
	/* The key expires lazily when the clock passes its time. */
	H_EXPECT(":1\r\n", "pexpire", "k", "50");
	ap_keyspace_set_now(h_ks, H_NOW + 51);
	H_EXPECT(":-2\r\n", "ttl", "k");
	H_EXPECT(":0\r\n", "expire", "k", "10");
}
END_TEST

START_TEST(test_expire_errors)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	H_EXPECT("-ERR value is not an integer or out of range\r\n", "expire",
		 "k", "1.5");
	H_EXPECT("-ERR value is not an integer or out of range\r\n", "pexpire",
		 "k", "abc");
	H_EXPECT("-ERR value is not an integer or out of range\r\n", "expire",
		 "k", "9223372036854775808");
	H_EXPECT("-ERR Unsupported option FOO\r\n", "expire", "k", "10", "FOO");
	/* Options are checked before the time. */
	H_EXPECT("-ERR Unsupported option bar\r\n", "pexpireat", "k", "abc",
		 "nx", "bar");
	H_EXPECT("-ERR NX and XX, GT or LT options at the same time are not "
		 "compatible\r\n",
		 "expire", "k", "10", "NX", "XX");
	H_EXPECT("-ERR NX and XX, GT or LT options at the same time are not "
		 "compatible\r\n",
		 "expire", "k", "10", "gt", "nx");
	H_EXPECT("-ERR NX and XX, GT or LT options at the same time are not "
		 "compatible\r\n",
		 "expire", "k", "10", "nx", "lt");
	H_EXPECT("-ERR GT and LT options at the same time are not "
		 "compatible\r\n",
		 "expire", "k", "10", "GT", "LT");
	H_EXPECT(H_E_ARITY("expire"), "expire", "k");
	/* Nothing changed. */
	ck_assert_int_eq(expire_of(0, "k"), AP_NO_EXPIRE);
	ck_assert_uint_eq(h_last_dirty, 0);
}
END_TEST

START_TEST(test_expire_nx_xx)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	H_EXPECT(":0\r\n", "expire", "k", "10", "XX");
	ck_assert_int_eq(expire_of(0, "k"), AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "expire", "k", "10", "NX");
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 10000);
	H_EXPECT(":0\r\n", "expire", "k", "20", "nx");
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 10000);
	H_EXPECT(":1\r\n", "expire", "k", "20", "xx");
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 20000);
	/* Repeated options are accepted. */
	H_EXPECT(":1\r\n", "expire", "k", "30", "XX", "XX");
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 30000);
}
END_TEST

START_TEST(test_expire_gt_lt)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	/* No TTL counts as an infinite one. */
	H_EXPECT(":0\r\n", "expire", "k", "100", "GT");
	ck_assert_int_eq(expire_of(0, "k"), AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "expire", "k", "100", "LT");
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 100000);
	/* GT: strictly greater only. */
	H_EXPECT(":0\r\n", "expire", "k", "100", "GT");
	H_EXPECT(":0\r\n", "pexpire", "k", "99999", "GT");
	H_EXPECT(":1\r\n", "pexpire", "k", "100001", "GT");
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 100001);
	/* LT: strictly less only. */
	H_EXPECT(":0\r\n", "pexpire", "k", "100001", "LT");
	H_EXPECT(":0\r\n", "pexpire", "k", "100002", "lt");
	H_EXPECT(":1\r\n", "pexpire", "k", "100000", "LT");
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 100000);
	/* XX combines with GT and LT. */
	H_EXPECT(":1\r\n", "expire", "k", "200", "XX", "GT");
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 200000);
	H_EXPECT(":1\r\n", "expire", "k", "50", "LT", "XX");
	ck_assert_int_eq(expire_of(0, "k"), H_NOW + 50000);
	set_str(0, "p", "v", AP_NO_EXPIRE);
	H_EXPECT(":0\r\n", "expire", "p", "50", "XX", "LT");
	ck_assert_int_eq(expire_of(0, "p"), AP_NO_EXPIRE);
	/* The absolute forms compare absolute times. */
	H_EXPECT(":1\r\n", "pexpireat", "k", "1800000000000", "GT");
	H_EXPECT(":0\r\n", "expireat", "k", "1800000000", "GT");
	H_EXPECT(":1\r\n", "expireat", "k", "1799999999", "LT");
	ck_assert_int_eq(expire_of(0, "k"), 1799999999000LL);
}
END_TEST

START_TEST(test_expire_past_deletes)
{
	set_str(0, "a", "v", AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "expire", "a", "0");
	ck_assert_uint_eq(h_last_dirty, 1);
	EXPECT_STR(0, "a", NULL);
	set_str(0, "a", "v", AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "expire", "a", "-5");
	EXPECT_STR(0, "a", NULL);
	/* Exactly now is in the past; now + 1 is not. */
	set_str(0, "a", "v", AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "pexpireat", "a", "1700000000001");
	H_EXPECT(":1\r\n", "pttl", "a");
	H_EXPECT(":1\r\n", "pexpireat", "a", "1700000000000");
	EXPECT_STR(0, "a", NULL);
	set_str(0, "a", "v", AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "expireat", "a", "1");
	EXPECT_STR(0, "a", NULL);
	/* GT refuses a past time on a key without TTL; LT takes it. */
	set_str(0, "a", "v", AP_NO_EXPIRE);
	H_EXPECT(":0\r\n", "expire", "a", "-1", "GT");
	EXPECT_STR(0, "a", "v");
	H_EXPECT(":1\r\n", "expire", "a", "-1", "LT");
	EXPECT_STR(0, "a", NULL);
	/* NX on a volatile key refuses even a past time. */
	set_str(0, "a", "v", H_NOW + 5000);
	H_EXPECT(":0\r\n", "expire", "a", "-1", "NX");
	EXPECT_STR(0, "a", "v");
	H_EXPECT(":1\r\n", "pexpire", "a", "0", "XX");
	EXPECT_STR(0, "a", NULL);
}
END_TEST

START_TEST(test_expire_overflow)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	/* seconds * 1000 overflows. */
	H_EXPECT("-ERR invalid expire time in 'expire' command\r\n", "expire",
		 "k", "9223372036854775807");
	H_EXPECT("-ERR invalid expire time in 'expire' command\r\n", "expire",
		 "k", "9223372036854776");
	H_EXPECT("-ERR invalid expire time in 'expireat' command\r\n",
		 "expireat", "k", "9223372036854776");
	H_EXPECT("-ERR invalid expire time in 'expire' command\r\n", "expire",
		 "k", "-9223372036854776");
	H_EXPECT("-ERR invalid expire time in 'expireat' command\r\n",
		 "expireat", "k", "-9223372036854775808");
	/* The largest second count that fits, but now + it overflows. */
	H_EXPECT("-ERR invalid expire time in 'expire' command\r\n", "expire",
		 "k", "9223372036854775");
	H_EXPECT("-ERR invalid expire time in 'pexpire' command\r\n", "pexpire",
		 "k", "9223372036854775807");
	/* now + delta == LLONG_MAX fits exactly; one more does not. */
	H_EXPECT(":1\r\n", "pexpire", "k", "9223370336854775807");
	ck_assert_int_eq(expire_of(0, "k"), INT64_MAX);
	H_EXPECT("-ERR invalid expire time in 'pexpire' command\r\n", "pexpire",
		 "k", "9223370336854775808");
	ck_assert_uint_eq(h_last_dirty, 0);
	/* Absolute forms have no base to overflow. */
	H_EXPECT(":1\r\n", "expireat", "k", "9223372036854775");
	ck_assert_int_eq(expire_of(0, "k"), 9223372036854775000LL);
	H_EXPECT(":1\r\n", "pexpireat", "k", "9223372036854775807");
	ck_assert_int_eq(expire_of(0, "k"), INT64_MAX);
	H_EXPECT(":9223372036854775807\r\n", "pexpiretime", "k");
	H_EXPECT(":9223372036854776\r\n", "expiretime", "k");
	/* Very negative but representable: a past time, the key goes. */
	H_EXPECT(":1\r\n", "expire", "k", "-9223372036854775");
	EXPECT_STR(0, "k", NULL);
	set_str(0, "k", "v", AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "pexpireat", "k", "-9223372036854775808");
	EXPECT_STR(0, "k", NULL);
}
END_TEST

/* --- TTL PTTL EXPIRETIME PEXPIRETIME PERSIST ----------------------------- */

START_TEST(test_ttl_family)
{
	H_EXPECT(":-2\r\n", "ttl", "missing");
	H_EXPECT(":-2\r\n", "pttl", "missing");
	H_EXPECT(":-2\r\n", "expiretime", "missing");
	H_EXPECT(":-2\r\n", "pexpiretime", "missing");
	set_str(0, "k", "v", AP_NO_EXPIRE);
	H_EXPECT(":-1\r\n", "ttl", "k");
	H_EXPECT(":-1\r\n", "pttl", "k");
	H_EXPECT(":-1\r\n", "expiretime", "k");
	H_EXPECT(":-1\r\n", "pexpiretime", "k");
	/* Seconds are rounded to the nearest. */
	set_str(0, "k", "v", H_NOW + 1499);
	H_EXPECT(":1\r\n", "ttl", "k");
	H_EXPECT(":1499\r\n", "pttl", "k");
	set_str(0, "k", "v", H_NOW + 1500);
	H_EXPECT(":2\r\n", "ttl", "k");
	set_str(0, "k", "v", H_NOW + 499);
	H_EXPECT(":0\r\n", "ttl", "k");
	H_EXPECT(":1700000000499\r\n", "pexpiretime", "k");
	H_EXPECT(":1700000000\r\n", "expiretime", "k");
	set_str(0, "k", "v", H_NOW + 1500);
	H_EXPECT(":1700000002\r\n", "expiretime", "k");
	/* At the expiry instant: still there with 0 left. */
	ap_keyspace_set_now(h_ks, H_NOW + 1500);
	H_EXPECT(":0\r\n", "pttl", "k");
	H_EXPECT(":0\r\n", "ttl", "k");
	ap_keyspace_set_now(h_ks, H_NOW + 1501);
	H_EXPECT(":-2\r\n", "pttl", "k");
	H_EXPECT(H_E_ARITY("ttl"), "ttl");
	H_EXPECT(H_E_ARITY("pttl"), "pttl", "a", "b");
}
END_TEST

START_TEST(test_persist)
{
	H_EXPECT(":0\r\n", "persist", "missing");
	set_str(0, "k", "v", AP_NO_EXPIRE);
	H_EXPECT(":0\r\n", "persist", "k");
	ck_assert_uint_eq(h_last_dirty, 0);
	set_str(0, "k", "v", H_NOW + 10000);
	H_EXPECT(":1\r\n", "persist", "k");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT(":-1\r\n", "ttl", "k");
	H_EXPECT(":0\r\n", "persist", "k");
	ap_keyspace_set_now(h_ks, H_NOW + 100000);
	EXPECT_STR(0, "k", "v");
	ck_assert_uint_eq(ap_db_volatile_size(db(0)), 0);
}
END_TEST

/* --- RENAME RENAMENX ----------------------------------------------------- */

START_TEST(test_rename)
{
	H_EXPECT("-ERR no such key\r\n", "rename", "missing", "x");
	H_EXPECT("-ERR no such key\r\n", "rename", "missing", "missing");
	H_EXPECT("-ERR no such key\r\n", "renamenx", "missing", "x");
	set_str(0, "a", "va", H_NOW + 100000);
	H_EXPECT("+OK\r\n", "rename", "a", "b");
	ck_assert_uint_eq(h_last_dirty, 1);
	EXPECT_STR(0, "a", NULL);
	EXPECT_STR(0, "b", "va");
	/* The TTL moved with the value. */
	H_EXPECT(":100000\r\n", "pttl", "b");
	ck_assert_uint_eq(ap_db_size(db(0)), 1);
	/* Onto an existing key: its value and TTL are replaced. */
	set_str(0, "c", "vc", AP_NO_EXPIRE);
	H_EXPECT("+OK\r\n", "rename", "c", "b");
	EXPECT_STR(0, "b", "vc");
	H_EXPECT(":-1\r\n", "ttl", "b");
	ck_assert_uint_eq(ap_db_size(db(0)), 1);
	ck_assert_uint_eq(ap_db_volatile_size(db(0)), 0);
	/* To itself: nothing changes. */
	set_str(0, "s", "vs", H_NOW + 5000);
	H_EXPECT("+OK\r\n", "rename", "s", "s");
	ck_assert_uint_eq(h_last_dirty, 0);
	EXPECT_STR(0, "s", "vs");
	H_EXPECT(":5000\r\n", "pttl", "s");
	/* Integer encoding survives. */
	ap_db_set_int(db(0), "n", 1, -77, AP_NO_EXPIRE);
	H_EXPECT("+OK\r\n", "rename", "n", "m");
	H_EXPECT("$3\r\nint\r\n", "object", "encoding", "m");
	EXPECT_STR(0, "m", "-77");
	/* An expired source does not exist. */
	set_str(0, "e", "ve", H_NOW + 10);
	ap_keyspace_set_now(h_ks, H_NOW + 11);
	H_EXPECT("-ERR no such key\r\n", "rename", "e", "f");
	EXPECT_STR(0, "f", NULL);
}
END_TEST

START_TEST(test_renamenx)
{
	set_str(0, "a", "va", H_NOW + 7000);
	set_str(0, "b", "vb", AP_NO_EXPIRE);
	H_EXPECT(":0\r\n", "renamenx", "a", "b");
	ck_assert_uint_eq(h_last_dirty, 0);
	EXPECT_STR(0, "a", "va");
	EXPECT_STR(0, "b", "vb");
	H_EXPECT(":0\r\n", "renamenx", "a", "a");
	EXPECT_STR(0, "a", "va");
	H_EXPECT(":1\r\n", "RENAMENX", "a", "c");
	ck_assert_uint_eq(h_last_dirty, 1);
	EXPECT_STR(0, "a", NULL);
	EXPECT_STR(0, "c", "va");
	H_EXPECT(":7000\r\n", "pttl", "c");
	/* An expired destination counts as missing. */
	set_str(0, "d", "vd", H_NOW + 10);
	ap_keyspace_set_now(h_ks, H_NOW + 11);
	H_EXPECT(":1\r\n", "renamenx", "b", "d");
	EXPECT_STR(0, "d", "vb");
	H_EXPECT(":-1\r\n", "ttl", "d");
	H_EXPECT(H_E_ARITY("renamenx"), "renamenx", "a");
}
END_TEST

/* --- COPY ---------------------------------------------------------------- */

START_TEST(test_copy_same_db)
{
	H_EXPECT(":0\r\n", "copy", "missing", "x");
	ck_assert_uint_eq(h_last_dirty, 0);
	set_str(0, "a", "hello", H_NOW + 60000);
	H_EXPECT(":1\r\n", "copy", "a", "b");
	ck_assert_uint_eq(h_last_dirty, 1);
	EXPECT_STR(0, "a", "hello");
	EXPECT_STR(0, "b", "hello");
	H_EXPECT(":60000\r\n", "pttl", "b");
	H_EXPECT(":60000\r\n", "pttl", "a");
	/* The copy is independent of the source. */
	ap_db_set_int(db(0), "b", 1, 5, AP_NO_EXPIRE);
	EXPECT_STR(0, "a", "hello");
	/* Destination exists: 0 without REPLACE. */
	H_EXPECT(":0\r\n", "copy", "a", "b");
	EXPECT_STR(0, "b", "5");
	H_EXPECT(":1\r\n", "copy", "a", "b", "REPLACE");
	EXPECT_STR(0, "b", "hello");
	H_EXPECT(":60000\r\n", "pttl", "b");
	/* REPLACE of a volatile destination by a persistent source. */
	set_str(0, "p", "persist", AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "copy", "p", "b", "replace");
	H_EXPECT(":-1\r\n", "ttl", "b");
	EXPECT_STR(0, "b", "persist");
	/* Same key in the same database. */
	H_EXPECT("-ERR source and destination objects are the same\r\n", "copy",
		 "a", "a");
	H_EXPECT("-ERR source and destination objects are the same\r\n", "copy",
		 "a", "a", "DB", "0", "REPLACE");
	H_EXPECT("-ERR source and destination objects are the same\r\n", "copy",
		 "missing", "missing");
}
END_TEST

START_TEST(test_copy_other_db)
{
	set_str(0, "a", "hello", H_NOW + 1000);
	H_EXPECT(":1\r\n", "copy", "a", "a", "DB", "1");
	EXPECT_STR(1, "a", "hello");
	ck_assert_int_eq(expire_of(1, "a"), H_NOW + 1000);
	EXPECT_STR(0, "a", "hello");
	H_EXPECT(":0\r\n", "copy", "a", "a", "db", "1");
	set_str(15, "x", "old", AP_NO_EXPIRE);
	H_EXPECT(":0\r\n", "copy", "a", "x", "db", "15");
	H_EXPECT(":1\r\n", "copy", "a", "x", "db", "15", "replace");
	EXPECT_STR(15, "x", "hello");
	ck_assert_uint_eq(ap_db_size(db(0)), 1);
	/* The last DB option wins. */
	H_EXPECT(":1\r\n", "copy", "a", "y", "db", "15", "db", "3");
	EXPECT_STR(3, "y", "hello");
	EXPECT_STR(15, "y", NULL);
	/* From a non-zero database back to 0. */
	h_db = 3;
	H_EXPECT(":1\r\n", "copy", "y", "z", "DB", "0");
	EXPECT_STR(0, "z", "hello");
	H_EXPECT("-ERR source and destination objects are the same\r\n", "copy",
		 "y", "y", "db", "3");
}
END_TEST

START_TEST(test_copy_errors)
{
	set_str(0, "a", "v", AP_NO_EXPIRE);
	H_EXPECT("-ERR DB index is out of range\r\n", "copy", "a", "b", "db",
		 "16");
	H_EXPECT("-ERR DB index is out of range\r\n", "copy", "a", "b", "db",
		 "-1");
	H_EXPECT("-ERR value is not an integer or out of range\r\n", "copy",
		 "a", "b", "db", "x");
	H_EXPECT("-ERR value is out of range, value must between -2147483648 "
		 "and 2147483647\r\n",
		 "copy", "a", "b", "db", "2147483648");
	H_EXPECT("-ERR value is out of range, value must between -2147483648 "
		 "and 2147483647\r\n",
		 "copy", "a", "b", "db", "-2147483649");
	H_EXPECT("-ERR DB index is out of range\r\n", "copy", "a", "b", "db",
		 "2147483647");
	H_EXPECT("-ERR syntax error\r\n", "copy", "a", "b", "db");
	H_EXPECT("-ERR syntax error\r\n", "copy", "a", "b", "replace", "db");
	H_EXPECT("-ERR syntax error\r\n", "copy", "a", "b", "foo");
	H_EXPECT(H_E_ARITY("copy"), "copy", "a");
	ck_assert_uint_eq(ap_db_size(db(0)), 1);
	for (unsigned i = 1; i < 16; i++)
		ck_assert_uint_eq(ap_db_size(db(i)), 0);
}
END_TEST

START_TEST(test_copy_encodings_and_objects)
{
	struct fake_list *l = ap_malloc(sizeof(*l));
	char raw[101];
	struct ap_entry *e1, *e2;

	memset(raw, 'r', 100);
	raw[100] = '\0';
	ap_db_set_int(db(0), "i", 1, 123456789, AP_NO_EXPIRE);
	set_str(0, "r", raw, AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "copy", "i", "i2");
	H_EXPECT("$3\r\nint\r\n", "object", "encoding", "i2");
	EXPECT_STR(0, "i2", "123456789");
	H_EXPECT(":1\r\n", "copy", "r", "r2", "db", "2");
	H_EXPECT("$3\r\nraw\r\n", "object", "encoding", "r");
	EXPECT_STR(2, "r2", raw);
	l->n = 7;
	ap_db_set_object(db(0), "l", 1, AP_TYPE_LIST, AP_ENC_QUICKLIST, l,
			 H_NOW + 3000);
	H_EXPECT(":1\r\n", "copy", "l", "l2");
	ck_assert_int_eq(fake_dups, 1);
	H_EXPECT("+list\r\n", "type", "l2");
	H_EXPECT("$9\r\nquicklist\r\n", "object", "encoding", "l2");
	H_EXPECT(":3000\r\n", "pttl", "l2");
	e1 = ap_db_lookup(db(0), "l", 1, AP_LK_NOTOUCH);
	e2 = ap_db_lookup(db(0), "l2", 2, AP_LK_NOTOUCH);
	ck_assert_ptr_ne(ap_entry_obj(e1), ap_entry_obj(e2));
	ck_assert_int_eq(((struct fake_list *)ap_entry_obj(e2))->n, 7);
}
END_TEST

/* --- MOVE ---------------------------------------------------------------- */

START_TEST(test_move)
{
	H_EXPECT(":0\r\n", "move", "missing", "1");
	set_str(0, "k", "v", H_NOW + 9000);
	H_EXPECT(":1\r\n", "move", "k", "1");
	ck_assert_uint_eq(h_last_dirty, 1);
	EXPECT_STR(0, "k", NULL);
	EXPECT_STR(1, "k", "v");
	ck_assert_int_eq(expire_of(1, "k"), H_NOW + 9000);
	ck_assert_uint_eq(ap_db_volatile_size(db(0)), 0);
	ck_assert_uint_eq(ap_db_volatile_size(db(1)), 1);
	/* Target holds the key: nothing moves. */
	set_str(0, "k", "other", AP_NO_EXPIRE);
	H_EXPECT(":0\r\n", "move", "k", "1");
	ck_assert_uint_eq(h_last_dirty, 0);
	EXPECT_STR(0, "k", "other");
	EXPECT_STR(1, "k", "v");
	/* The highest database. */
	H_EXPECT(":1\r\n", "move", "k", "15");
	EXPECT_STR(15, "k", "other");
	/* An expired target key does not block the move. */
	h_db = 1;
	set_str(2, "k", "stale", H_NOW + 5);
	ap_keyspace_set_now(h_ks, H_NOW + 6);
	H_EXPECT(":1\r\n", "move", "k", "2");
	EXPECT_STR(2, "k", "v");
	EXPECT_STR(1, "k", NULL);
}
END_TEST

START_TEST(test_move_errors)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	H_EXPECT("-ERR source and destination objects are the same\r\n", "move",
		 "k", "0");
	/* The database is checked before the key. */
	H_EXPECT("-ERR source and destination objects are the same\r\n", "move",
		 "missing", "0");
	H_EXPECT("-ERR DB index is out of range\r\n", "move", "k", "16");
	H_EXPECT("-ERR DB index is out of range\r\n", "move", "missing", "-1");
	H_EXPECT("-ERR value is not an integer or out of range\r\n", "move",
		 "k", "one");
	H_EXPECT("-ERR value is out of range, value must between -2147483648 "
		 "and 2147483647\r\n",
		 "move", "k", "2147483648");
	H_EXPECT(H_E_ARITY("move"), "move", "k");
	H_EXPECT(H_E_ARITY("move"), "move", "k", "1", "2");
	EXPECT_STR(0, "k", "v");
	h_db = 5;
	set_str(5, "k", "v5", AP_NO_EXPIRE);
	H_EXPECT("-ERR source and destination objects are the same\r\n", "move",
		 "k", "5");
	/* db 0 holds k already. */
	H_EXPECT(":0\r\n", "move", "k", "0");
	EXPECT_STR(5, "k", "v5");
	ck_assert(ap_db_delete(db(0), "k", 1));
	H_EXPECT(":1\r\n", "move", "k", "0");
	EXPECT_STR(0, "k", "v5");
	H_EXPECT(":0\r\n", "move", "k", "0");
}
END_TEST

/* --- OBJECT -------------------------------------------------------------- */

START_TEST(test_object_encoding)
{
	char s44[45], s45[46];

	memset(s44, 'x', 44);
	s44[44] = '\0';
	memset(s45, 'y', 45);
	s45[45] = '\0';
	set_str(0, "int", "12345", AP_NO_EXPIRE);
	set_str(0, "neg", "-9223372036854775808", AP_NO_EXPIRE);
	set_str(0, "big", "9223372036854775808", AP_NO_EXPIRE);
	set_str(0, "lead0", "012", AP_NO_EXPIRE);
	set_str(0, "emb", "hello", AP_NO_EXPIRE);
	set_str(0, "empty", "", AP_NO_EXPIRE);
	set_str(0, "s44", s44, AP_NO_EXPIRE);
	set_str(0, "s45", s45, AP_NO_EXPIRE);
	ap_db_set_int(db(0), "setint", 6, 0, AP_NO_EXPIRE);
	H_EXPECT("$3\r\nint\r\n", "object", "encoding", "int");
	H_EXPECT("$3\r\nint\r\n", "OBJECT", "ENCODING", "neg");
	H_EXPECT("$3\r\nint\r\n", "object", "encoding", "setint");
	H_EXPECT("$6\r\nembstr\r\n", "object", "encoding", "big");
	H_EXPECT("$6\r\nembstr\r\n", "object", "encoding", "lead0");
	H_EXPECT("$6\r\nembstr\r\n", "object", "encoding", "emb");
	H_EXPECT("$6\r\nembstr\r\n", "object", "encoding", "empty");
	H_EXPECT("$6\r\nembstr\r\n", "object", "encoding", "s44");
	H_EXPECT("$3\r\nraw\r\n", "object", "encoding", "s45");
	H_EXPECT("$-1\r\n", "object", "encoding", "missing");
	H_EXPECT(H_E_ARITY("object|encoding"), "object", "encoding");
	H_EXPECT(H_E_ARITY("object|encoding"), "object", "encoding", "int",
		 "x");
	h_proto = 3;
	H_EXPECT("_\r\n", "object", "encoding", "missing");
	H_EXPECT("$3\r\nint\r\n", "object", "encoding", "int");
	/* No change, no dirty. */
	ck_assert_uint_eq(h_last_dirty, 0);
}
END_TEST

START_TEST(test_object_others)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	H_EXPECT(":1\r\n", "object", "refcount", "k");
	H_EXPECT("$-1\r\n", "object", "refcount", "missing");
	H_EXPECT(":0\r\n", "object", "idletime", "k");
	H_EXPECT("$-1\r\n", "object", "idletime", "missing");
	H_EXPECT("-ERR An LFU maxmemory policy is not selected, access "
		 "frequency not tracked. Please note that when switching "
		 "between policies at runtime LRU and LFU data will take some "
		 "time to adjust.\r\n",
		 "object", "freq", "k");
	H_EXPECT("$-1\r\n", "object", "freq", "missing");
	h_proto = 3;
	H_EXPECT("_\r\n", "object", "freq", "missing");
	H_EXPECT("_\r\n", "object", "idletime", "missing");
	H_EXPECT("_\r\n", "object", "refcount", "missing");
	H_EXPECT(":1\r\n", "object", "refcount", "k");
}
END_TEST

START_TEST(test_object_idletime)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	set_str(0, "t", "v", AP_NO_EXPIRE);
	ap_keyspace_set_now(h_ks, H_NOW + 100000);
	/* OBJECT and TTL/EXISTS/TYPE do not touch the key; TOUCH does. */
	H_EXPECT(":100\r\n", "object", "idletime", "k");
	H_EXPECT(":1\r\n", "exists", "k");
	H_EXPECT(":-1\r\n", "ttl", "k");
	H_EXPECT("+string\r\n", "type", "k");
	H_EXPECT(":100\r\n", "object", "idletime", "k");
	H_EXPECT(":1\r\n", "touch", "t");
	H_EXPECT(":0\r\n", "object", "idletime", "t");
	H_EXPECT(":100\r\n", "object", "idletime", "k");
}
END_TEST

START_TEST(test_object_help)
{
	static const char head[] =
		"*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. "
		"Subcommands are:\r\n+ENCODING <key>\r\n";
	static const char tail[] = "\r\n+HELP\r\n+    Print this help.\r\n";
	size_t len;
	char *bytes =
		h_run((const char *const[]){"object", "help", NULL}, &len);
	char *got = strndup(bytes, len);

	ap_free(bytes);
	ck_assert_uint_eq(strlen(got), len);
	ck_assert_msg(strncmp(got, head, strlen(head)) == 0, "got %s", got);
	ck_assert_ptr_nonnull(strstr(got, "\r\n+FREQ <key>\r\n"));
	ck_assert_ptr_nonnull(strstr(got, "\r\n+IDLETIME <key>\r\n"));
	ck_assert_ptr_nonnull(strstr(got, "\r\n+REFCOUNT <key>\r\n"));
	ck_assert(len > strlen(tail) &&
		  strcmp(got + len - strlen(tail), tail) == 0);
	/* Each of the 15 elements is one status line. */
	{
		int lines = 0;

		for (const char *p = got; (p = strstr(p, "\r\n+")); p += 3)
			lines++;
		ck_assert_int_eq(lines, 15);
	}
	free(got);
	H_EXPECT(H_E_ARITY("object|help"), "object", "help", "x");
}
END_TEST

/* --- the table ----------------------------------------------------------- */

/* Docs complete and consistent; the group is Redis's: "generic", but
 * "server" for MEMORY and its subcommands. */
static void check_docs(const struct ap_cmd *c)
{
	const char *group =
		strncmp(c->name, "memory", 6) == 0 ? "server" : "generic";

	ck_assert_msg(c->group && strcmp(c->group, group) == 0, "%s", c->name);
	ck_assert_msg(c->summary && c->since && c->complexity &&
			      c->acl_categories,
		      "%s", c->name);
	for (const char *p = c->name; *p; p++)
		ck_assert_msg(*p < 'A' || *p > 'Z', "%s not lower case",
			      c->name);
	ck_assert_msg(
		!((c->flags & AP_CMD_WRITE) && (c->flags & AP_CMD_READONLY)),
		"%s", c->name);
	ck_assert_msg(c->fn != NULL || c->subcmds != NULL, "%s", c->name);
}

START_TEST(test_table)
{
	static const char *const names[] = {
		"del",	       "unlink",  "exists",   "touch",	   "type",
		"expire",      "pexpire", "expireat", "pexpireat", "expiretime",
		"pexpiretime", "ttl",	  "pttl",     "persist",   "rename",
		"renamenx",    "copy",	  "move",     "object",	   "memory",
	};
	size_t n = 0;

	for (const struct ap_cmd *c = ap_cmds_keys; c->name; c++, n++) {
		check_docs(c);
		for (const struct ap_cmd *s = c->subcmds; s && s->name; s++)
			check_docs(s);
	}
	ck_assert_uint_eq(n, AP_ARRAY_LEN(names));
	for (size_t i = 0; i < AP_ARRAY_LEN(names); i++)
		ck_assert_ptr_nonnull(
			ap_cmd_lookup(names[i], strlen(names[i])));
	ck_assert_int_eq(ap_cmd_lookup("del", 3)->split, AP_SPLIT_SUM);
	ck_assert_int_eq(ap_cmd_lookup("exists", 6)->split, AP_SPLIT_SUM);
	ck_assert_int_eq(ap_cmd_lookup("rename", 6)->split, AP_SPLIT_CUSTOM);
	ck_assert_int_eq(ap_cmd_lookup("copy", 4)->split, AP_SPLIT_CUSTOM);
	ck_assert(ap_cmd_lookup("ttl", 3)->flags & AP_CMD_READONLY);
	ck_assert(ap_cmd_lookup("expire", 6)->flags & AP_CMD_WRITE);
	ck_assert(ap_cmd_lookup("move", 4)->flags & AP_CMD_FAST);
	ck_assert(!(ap_cmd_lookup("del", 3)->flags & AP_CMD_FAST));
}
END_TEST

START_TEST(test_key_specs)
{
	const struct ap_arg del[] = {{"del", 3}, {"a", 1}, {"b", 1}, {"c", 1}};
	const struct ap_arg ren[] = {{"rename", 6}, {"a", 1}, {"b", 1}};
	const struct ap_arg cp[] = {{"copy", 4}, {"a", 1}, {"b", 1},
				    {"db", 2},	 {"1", 1}, {"replace", 7}};
	const struct ap_arg obj[] = {{"object", 6}, {"encoding", 8}, {"k", 1}};
	const struct ap_arg exp[] = {
		{"expire", 6}, {"k", 1}, {"10", 2}, {"nx", 2}};
	const struct ap_cmd *c;
	int idx[8];

	c = ap_cmd_lookup("del", 3);
	ck_assert_uint_eq(ap_cmd_keys(c, 4, del, idx, 8), 3);
	ck_assert(idx[0] == 1 && idx[1] == 2 && idx[2] == 3);
	c = ap_cmd_lookup("rename", 6);
	ck_assert_uint_eq(ap_cmd_keys(c, 3, ren, idx, 8), 2);
	ck_assert(idx[0] == 1 && idx[1] == 2);
	c = ap_cmd_lookup("copy", 4);
	ck_assert_uint_eq(ap_cmd_keys(c, 6, cp, idx, 8), 2);
	ck_assert(idx[0] == 1 && idx[1] == 2);
	c = ap_cmd_lookup("expire", 6);
	ck_assert_uint_eq(ap_cmd_keys(c, 4, exp, idx, 8), 1);
	ck_assert_int_eq(idx[0], 1);
	c = ap_cmd_lookup("object", 6);
	ck_assert_int_eq(c->first_key, 2);
	ck_assert_uint_eq(ap_cmd_keys(c, 3, obj, idx, 8), 1);
	ck_assert_int_eq(idx[0], 2);
	c = ap_cmd_sub_lookup(c, "ENCODING", 8);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(ap_cmd_keys(c, 3, obj, idx, 8), 1);
	ck_assert_int_eq(idx[0], 2);
	ck_assert_ptr_null(
		ap_cmd_sub_lookup(ap_cmd_lookup("object", 6), "nosuch", 6));
}
END_TEST

static Suite *cmd_keys_suite(void)
{
	Suite *s = suite_create("cmd_keys");
	TCase *tc = tcase_create("keys");

	tcase_add_checked_fixture(tc, setup, h_teardown);
	tcase_add_test(tc, test_del_unlink);
	tcase_add_test(tc, test_exists_touch);
	tcase_add_test(tc, test_type);
	tcase_add_test(tc, test_expire_basic);
	tcase_add_test(tc, test_expire_errors);
	tcase_add_test(tc, test_expire_nx_xx);
	tcase_add_test(tc, test_expire_gt_lt);
	tcase_add_test(tc, test_expire_past_deletes);
	tcase_add_test(tc, test_expire_overflow);
	tcase_add_test(tc, test_ttl_family);
	tcase_add_test(tc, test_persist);
	tcase_add_test(tc, test_rename);
	tcase_add_test(tc, test_renamenx);
	tcase_add_test(tc, test_copy_same_db);
	tcase_add_test(tc, test_copy_other_db);
	tcase_add_test(tc, test_copy_errors);
	tcase_add_test(tc, test_copy_encodings_and_objects);
	tcase_add_test(tc, test_move);
	tcase_add_test(tc, test_move_errors);
	tcase_add_test(tc, test_object_encoding);
	tcase_add_test(tc, test_object_others);
	tcase_add_test(tc, test_object_idletime);
	tcase_add_test(tc, test_object_help);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_key_specs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	ap_type_register(AP_TYPE_LIST, &fake_list_ops);
	ap_cmd_table_add(ap_cmds_keys);
	sr = srunner_create(cmd_keys_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
