/*
 * test_keyspace.c - unit tests for core/keyspace.c: entries and their
 * encodings, replacement across types, TTLs with lazy and active expiry,
 * the volatile vector through entry moves, SCAN across resizes, random
 * keys, detach/attach/dup, SWAPDB, FLUSHDB, memory per key and APPEND
 * linearity.
 */
#include "core/keyspace.h"
#include "core/limits.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000000LL /* a fixed "now" for controlled clocks */

/* ------------------------------------------------ a fake collection type */

struct fake_obj {
	int value;
};

static int fake_frees;
static int fake_dups;

static void fake_free(void *obj, enum ap_enc enc)
{
	(void)enc;
	fake_frees++;
	ap_free(obj);
}

static void *fake_dup(const void *obj, enum ap_enc enc)
{
	(void)enc;
	fake_dups++;
	return ap_memdup(obj, sizeof(struct fake_obj));
}

static size_t fake_length(const void *obj, enum ap_enc enc)
{
	(void)obj;
	(void)enc;
	return 1;
}

static const struct ap_type_ops fake_list_ops = {
	.name = "list",
	.free = fake_free,
	.dup = fake_dup,
	.length = fake_length,
};

static struct fake_obj *fake_new(int value)
{
	struct fake_obj *o = ap_malloc(sizeof(*o));

	o->value = value;
	return o;
}

/* ----------------------------------------------------------- helpers */

static struct ap_keyspace *ks_new(void)
{
	struct ap_keyspace *ks = ap_keyspace_create(AP_DATABASES_DEFAULT);

	ap_keyspace_set_now(ks, T0);
	return ks;
}

/* Sets a NUL-terminated key to a NUL-terminated value. */
static struct ap_entry *set_s(struct ap_db *db, const char *k, const char *v,
			      int64_t expire)
{
	return ap_db_set_string(db, k, strlen(k), v, strlen(v), expire);
}

static struct ap_entry *get(struct ap_db *db, const char *k)
{
	return ap_db_lookup(db, k, strlen(k), 0);
}

/* Asserts the string value of e equals v. */
static void check_str(const struct ap_entry *e, const char *v)
{
	char buf[AP_INT_STR_SIZE];
	size_t len;
	const char *s;

	ck_assert_ptr_nonnull(e);
	s = ap_entry_str(e, &len, buf);
	ck_assert_uint_eq(len, strlen(v));
	ck_assert(memcmp(s, v, len) == 0);
	ck_assert_uint_eq(ap_entry_str_len(e), strlen(v));
}

static size_t key_name(char *buf, const char *prefix, size_t i)
{
	return (size_t)sprintf(buf, "%s%zu", prefix, i);
}

/* ------------------------------------------------------------- basics */

START_TEST(test_set_lookup_delete)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	struct ap_keyspace_stats *st = ap_keyspace_stats(ks);
	size_t klen;

	ck_assert_uint_eq(ap_keyspace_db_count(ks), AP_DATABASES_DEFAULT);
	ck_assert_uint_eq(ap_db_size(db), 0);
	ck_assert_ptr_null(get(db, "a"));
	struct ap_entry *e = set_s(db, "a", "hello", AP_NO_EXPIRE);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_eq(get(db, "a"), e);
	const char *k = ap_entry_key(e, &klen);
	ck_assert_uint_eq(klen, 1);
	ck_assert(k[0] == 'a');
	ck_assert_int_eq(ap_entry_type(e), AP_TYPE_STRING);
	ck_assert_int_eq(ap_entry_expire(e), AP_NO_EXPIRE);
	check_str(e, "hello");
	ck_assert_uint_eq(ap_db_size(db), 1);
	ck_assert_uint_eq(ap_db_size(ap_keyspace_db(ks, 1)), 0);

	/* Hits and misses only with AP_LK_READ. */
	ck_assert_ptr_nonnull(ap_db_lookup(db, "a", 1, AP_LK_READ));
	ck_assert_ptr_null(ap_db_lookup(db, "b", 1, AP_LK_READ));
	ck_assert_ptr_null(ap_db_lookup(db, "b", 1, 0));
	ck_assert_uint_eq(st->hits, 1);
	ck_assert_uint_eq(st->misses, 1);

	/* Empty key and binary keys with NULs are distinct keys. */
	set_s(db, "", "empty", AP_NO_EXPIRE);
	ap_db_set_string(db, "a\0b", 3, "bin", 3, AP_NO_EXPIRE);
	ap_db_set_string(db, "a\0c", 3, "bin2", 4, AP_NO_EXPIRE);
	check_str(ap_db_lookup(db, "", 0, 0), "empty");
	check_str(ap_db_lookup(db, "a\0b", 3, 0), "bin");
	check_str(ap_db_lookup(db, "a\0c", 3, 0), "bin2");
	ck_assert_uint_eq(ap_db_size(db), 4);

	ck_assert(ap_db_delete(db, "a", 1));
	ck_assert(!ap_db_delete(db, "a", 1));
	ck_assert_ptr_null(get(db, "a"));
	ck_assert(ap_db_delete(db, "", 0));
	ck_assert(ap_db_delete(db, "a\0b", 3));
	check_str(ap_db_lookup(db, "a\0c", 3, 0), "bin2");
	ck_assert_uint_eq(ap_db_size(db), 1);
	ap_keyspace_destroy(ks);
}
END_TEST

START_TEST(test_many_keys_rehash)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	char k[32], v[32];
	const size_t n = 20000;
	bool saw_rehash = false;

	for (size_t i = 0; i < n; i++) {
		size_t kl = key_name(k, "k", i);
		size_t vl = key_name(v, "v", i);
		ap_db_set_string(db, k, kl, v, vl, AP_NO_EXPIRE);
		saw_rehash |= ap_db_is_rehashing(db);
		ck_assert_uint_eq(ap_db_size(db), i + 1);
	}
	ck_assert(saw_rehash);
	/* Every key findable, during or after a rehash. */
	for (size_t i = 0; i < n; i++) {
		size_t kl = key_name(k, "k", i);
		key_name(v, "v", i);
		check_str(ap_db_lookup(db, k, kl, 0), v);
	}
	while (ap_db_is_rehashing(db))
		ap_keyspace_cron(ks, 1000);
	/* Load factor at most 1 once settled. */
	ck_assert_uint_ge(ap_db_buckets(db), n);
	ck_assert_uint_le(ap_db_buckets(db), 4 * n);
	size_t big = ap_db_buckets(db);

	/* Delete down to 10 keys: the table shrinks. */
	for (size_t i = 10; i < n; i++) {
		size_t kl = key_name(k, "k", i);
		ck_assert(ap_db_delete(db, k, kl));
	}
	/* A shrink may follow a rehash that the deletes left unfinished. */
	for (int i = 0; i < 100; i++)
		ap_keyspace_cron(ks, 1000);
	ck_assert(!ap_db_is_rehashing(db));
	ck_assert_uint_lt(ap_db_buckets(db), big / 64);
	ck_assert_uint_ge(ap_db_buckets(db), 10);
	for (size_t i = 0; i < 10; i++) {
		size_t kl = key_name(k, "k", i);
		key_name(v, "v", i);
		check_str(ap_db_lookup(db, k, kl, 0), v);
	}
	ck_assert_uint_eq(ap_db_size(db), 10);
	ap_keyspace_destroy(ks);
}
END_TEST

START_TEST(test_table_boundaries)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	char k[8];

	ck_assert_uint_eq(ap_db_buckets(db), 0);
	for (size_t i = 0; i < 4; i++) {
		size_t kl = key_name(k, "k", i);
		ap_db_set_int(db, k, kl, (long long)i, AP_NO_EXPIRE);
	}
	/* 4 keys in 4 buckets: load factor 1 reached, not passed. */
	ck_assert_uint_eq(ap_db_buckets(db), 4);
	ck_assert(!ap_db_is_rehashing(db));
	ap_db_set_int(db, "k4", 2, 4, AP_NO_EXPIRE);
	/* The fifth key grows the table to 8 (both tables while moving). */
	ck_assert(ap_db_buckets(db) == 8 || ap_db_buckets(db) == 12);
	ap_keyspace_cron(ks, 1000);
	ck_assert_uint_eq(ap_db_buckets(db), 8);
	ck_assert(!ap_db_is_rehashing(db));
	ap_keyspace_destroy(ks);
}
END_TEST

/* ---------------------------------------------------------- encodings */

START_TEST(test_encodings)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	char big[AP_EMBSTR_MAX + 2];
	long long v;
	struct {
		const char *val;
		enum ap_enc enc;
	} cases[] = {
		{"0", AP_ENC_INT},
		{"12345", AP_ENC_INT},
		{"-1", AP_ENC_INT},
		{"9223372036854775807", AP_ENC_INT},
		{"-9223372036854775808", AP_ENC_INT},
		{"9223372036854775808", AP_ENC_EMBSTR},	 /* overflow */
		{"-9223372036854775809", AP_ENC_EMBSTR}, /* overflow */
		{"-0", AP_ENC_EMBSTR},
		{"007", AP_ENC_EMBSTR},
		{"+7", AP_ENC_EMBSTR},
		{" 7", AP_ENC_EMBSTR},
		{"7 ", AP_ENC_EMBSTR},
		{"1e3", AP_ENC_EMBSTR},
		{"", AP_ENC_EMBSTR},
		{"hello", AP_ENC_EMBSTR},
	};

	for (size_t i = 0; i < AP_ARRAY_LEN(cases); i++) {
		struct ap_entry *e = set_s(db, "k", cases[i].val, AP_NO_EXPIRE);
		ck_assert_msg(ap_entry_enc(e) == cases[i].enc, "value '%s'",
			      cases[i].val);
		check_str(e, cases[i].val);
		ck_assert(ap_entry_int(e, &v) == (cases[i].enc == AP_ENC_INT));
	}
	ck_assert(ap_entry_int(set_s(db, "k", "-42", AP_NO_EXPIRE), &v));
	ck_assert_int_eq(v, -42);

	/* AP_EMBSTR_MAX inline, one more byte is RAW. */
	memset(big, 'x', sizeof(big));
	struct ap_entry *e =
		ap_db_set_string(db, "k", 1, big, AP_EMBSTR_MAX, AP_NO_EXPIRE);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_EMBSTR);
	ck_assert_uint_eq(ap_entry_str_len(e), AP_EMBSTR_MAX);
	e = ap_db_set_string(db, "k", 1, big, AP_EMBSTR_MAX + 1, AP_NO_EXPIRE);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_RAW);
	ck_assert_uint_eq(ap_entry_str_len(e), AP_EMBSTR_MAX + 1);
	ck_assert_uint_gt(ap_entry_mem(e), ap_alloc_size(e));

	/* set_int extremes. */
	e = ap_db_set_int(db, "i", 1, LLONG_MIN, AP_NO_EXPIRE);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_INT);
	check_str(e, "-9223372036854775808");
	e = ap_db_set_int(db, "i", 1, LLONG_MAX, AP_NO_EXPIRE);
	check_str(e, "9223372036854775807");

	/* A long key (2-byte varint length, 127/128 boundary). */
	char key[300];
	memset(key, 'q', sizeof(key));
	for (size_t kl = 126; kl <= 129; kl++) {
		e = ap_db_set_string(db, key, kl, "v", 1, AP_NO_EXPIRE);
		size_t got;
		ap_entry_key(e, &got);
		ck_assert_uint_eq(got, kl);
	}
	e = ap_db_set_string(db, key, sizeof(key), big, AP_EMBSTR_MAX,
			     T0 + 1000);
	size_t got;
	ck_assert(memcmp(ap_entry_key(e, &got), key, sizeof(key)) == 0);
	ck_assert_uint_eq(got, sizeof(key));
	ck_assert_int_eq(ap_entry_expire(e), T0 + 1000);
	ck_assert_ptr_eq(ap_db_lookup(db, key, 129, 0),
			 ap_db_lookup(db, key, 129, 0));
	ck_assert_uint_eq(ap_db_size(db), 7);
	ap_keyspace_destroy(ks);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(ap_type_name(AP_TYPE_STRING), "string");
	ck_assert_str_eq(ap_type_name(AP_TYPE_LIST), "list");
	ck_assert_str_eq(ap_type_name(AP_TYPE_SET), "set");
	ck_assert_str_eq(ap_type_name(AP_TYPE_ZSET), "zset");
	ck_assert_str_eq(ap_type_name(AP_TYPE_HASH), "hash");
	ck_assert_str_eq(ap_type_name(AP_TYPE_STREAM), "stream");
	ck_assert_str_eq(ap_enc_name(AP_ENC_RAW), "raw");
	ck_assert_str_eq(ap_enc_name(AP_ENC_INT), "int");
	ck_assert_str_eq(ap_enc_name(AP_ENC_EMBSTR), "embstr");
	ck_assert_str_eq(ap_enc_name(AP_ENC_HASHTABLE), "hashtable");
	ck_assert_str_eq(ap_enc_name(AP_ENC_LISTPACK), "listpack");
	ck_assert_str_eq(ap_enc_name(AP_ENC_QUICKLIST), "quicklist");
	ck_assert_str_eq(ap_enc_name(AP_ENC_INTSET), "intset");
	ck_assert_str_eq(ap_enc_name(AP_ENC_SKIPLIST), "skiplist");
	ck_assert_str_eq(ap_enc_name(AP_ENC_STREAM), "stream");
}
END_TEST

START_TEST(test_replace_across_types)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);

	ap_type_register(AP_TYPE_LIST, &fake_list_ops);
	fake_frees = 0;
	struct ap_entry *e =
		ap_db_set_object(db, "k", 1, AP_TYPE_LIST, AP_ENC_QUICKLIST,
				 fake_new(7), T0 + 5000);
	ck_assert_int_eq(ap_entry_type(e), AP_TYPE_LIST);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_QUICKLIST);
	ck_assert_int_eq(((struct fake_obj *)ap_entry_obj(e))->value, 7);
	ck_assert_uint_eq(ap_db_volatile_size(db), 1);

	/* Encoding conversion in place. */
	struct fake_obj *old = ap_entry_obj(e);
	struct fake_obj *conv = fake_new(8);
	ap_entry_obj_set(e, conv, AP_ENC_LISTPACK);
	ap_free(old);
	ck_assert_int_eq(ap_entry_enc(get(db, "k")), AP_ENC_LISTPACK);
	ck_assert_ptr_eq(ap_entry_obj(get(db, "k")), conv);

	/* A string replaces the list: the object is freed, TTL dropped. */
	e = set_s(db, "k", "str", AP_NO_EXPIRE);
	ck_assert_int_eq(fake_frees, 1);
	ck_assert_int_eq(ap_entry_type(get(db, "k")), AP_TYPE_STRING);
	ck_assert_int_eq(ap_entry_expire(e), AP_NO_EXPIRE);
	ck_assert_uint_eq(ap_db_volatile_size(db), 0);

	/* And back: a list replaces a RAW string (its buffer freed: ASan). */
	char raw[100];
	memset(raw, 'r', sizeof(raw));
	ap_db_set_string(db, "k", 1, raw, sizeof(raw), T0 + 1);
	ck_assert_uint_eq(ap_db_volatile_size(db), 1);
	e = ap_db_set_object(db, "k", 1, AP_TYPE_LIST, AP_ENC_LISTPACK,
			     fake_new(9), T0 + 2);
	ck_assert_uint_eq(ap_db_volatile_size(db), 1);
	ck_assert_int_eq(ap_entry_expire(e), T0 + 2);
	ck_assert(ap_db_delete(db, "k", 1));
	ck_assert_int_eq(fake_frees, 2);
	ck_assert_uint_eq(ap_db_volatile_size(db), 0);

	/* Destroy frees objects too. */
	ap_db_set_object(db, "x", 1, AP_TYPE_LIST, AP_ENC_LISTPACK, fake_new(1),
			 AP_NO_EXPIRE);
	ap_keyspace_destroy(ks);
	ck_assert_int_eq(fake_frees, 3);
}
END_TEST

/* --------------------------------------------------------------- TTLs */

START_TEST(test_ttl_lazy_expiry)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	struct ap_keyspace_stats *st = ap_keyspace_stats(ks);

	ck_assert_int_eq(ap_keyspace_now(ks), T0);
	set_s(db, "a", "1", T0 + 1000);
	set_s(db, "b", "2", T0 + 1000);
	set_s(db, "c", "3", T0 + 1000);
	set_s(db, "d", "4", T0 + 1000);
	set_s(db, "p", "persist", AP_NO_EXPIRE);
	ck_assert_uint_eq(ap_db_volatile_size(db), 4);
	ck_assert_int_eq(ap_entry_expire(get(db, "a")), T0 + 1000);

	/* Exactly at the expire time the key still lives (Redis: now > when).
	 */
	ap_keyspace_set_now(ks, T0 + 1000);
	ck_assert_ptr_nonnull(get(db, "a"));
	ap_keyspace_set_now(ks, T0 + 1001);
	ck_assert_ptr_null(ap_db_lookup(db, "a", 1, AP_LK_READ));
	ck_assert_uint_eq(st->misses, 1);
	ck_assert_uint_eq(st->expired, 1);
	ck_assert_uint_eq(ap_db_size(db), 4);
	/* Delete of an expired key: not a live key. */
	ck_assert(!ap_db_delete(db, "b", 1));
	ck_assert_uint_eq(st->expired, 2);
	/* Detach of an expired key: nothing. */
	ck_assert_ptr_null(ap_db_detach(db, "c", 1));
	ck_assert_uint_eq(st->expired, 3);
	/* Set over an expired key: a fresh key without the old TTL. */
	struct ap_entry *e = set_s(db, "d", "new", AP_NO_EXPIRE);
	ck_assert_uint_eq(st->expired, 4);
	ck_assert_int_eq(ap_entry_expire(e), AP_NO_EXPIRE);
	ck_assert_uint_eq(ap_db_volatile_size(db), 0);
	ck_assert_uint_eq(ap_db_size(db), 2);
	ck_assert_uint_ge(st->dirty, 4);
	/* A TTL set in the past expires at the next access. */
	e = get(db, "p");
	ap_db_set_expire(db, &e, T0);
	ck_assert_uint_eq(ap_db_volatile_size(db), 1);
	ck_assert_ptr_null(get(db, "p"));
	ck_assert_uint_eq(ap_db_volatile_size(db), 0);
	ap_keyspace_destroy(ks);
}
END_TEST

START_TEST(test_active_expiry)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db0 = ap_keyspace_db(ks, 0);
	struct ap_db *db3 = ap_keyspace_db(ks, 3);
	struct ap_keyspace_stats *st = ap_keyspace_stats(ks);
	char k[32];
	const size_t n = 100000;
	const uint64_t budget = 1000;

	for (size_t i = 0; i < n; i++) {
		size_t kl = key_name(k, "e", i);
		ap_db_set_string(i % 2 ? db0 : db3, k, kl, "v", 1, T0 + 10);
	}
	for (size_t i = 0; i < 1000; i++) {
		size_t kl = key_name(k, "live", i);
		ap_db_set_string(db0, k, kl, "v", 1, T0 + 1000000);
		kl = key_name(k, "keep", i);
		ap_db_set_string(db3, k, kl, "v", 1, AP_NO_EXPIRE);
	}
	ap_keyspace_set_now(ks, T0 + 11);

	/* Disabled: nothing happens. */
	ap_keyspace_set_active_expire(ks, false);
	ck_assert_uint_eq(ap_keyspace_cron(ks, budget), 0);
	ck_assert_uint_eq(ap_db_size(db0) + ap_db_size(db3), n + 2000);
	ap_keyspace_set_active_expire(ks, true);

	size_t calls = 0, total = 0;
	uint64_t worst = 0;
	while (total < n && calls < 1000000) {
		uint64_t t = ap_time_us();
		total += ap_keyspace_cron(ks, budget);
		t = ap_time_us() - t;
		worst = AP_MAX(worst, t);
		calls++;
	}
	printf("active expiry: %zu keys in %zu cron calls of %llu us budget, "
	       "worst call %llu us\n",
	       total, calls, (unsigned long long)budget,
	       (unsigned long long)worst);
	ck_assert_uint_eq(total, n);
	ck_assert_uint_gt(calls, 1);
	/* Bounded: well under the budget plus scheduling/sanitizer slack. */
	ck_assert_uint_lt(worst, budget + 100000);
	ck_assert_uint_eq(st->expired, n);
	ck_assert_uint_ge(st->expire_cycles, calls);
	ck_assert_uint_eq(ap_db_size(db0), 1000);
	ck_assert_uint_eq(ap_db_size(db3), 1000);
	ck_assert_uint_eq(ap_db_volatile_size(db0), 1000);
	ck_assert_uint_eq(ap_db_volatile_size(db3), 0);
	/* The tables shrank back. */
	for (int i = 0;
	     i < 1000 && (ap_db_is_rehashing(db0) || ap_db_is_rehashing(db3));
	     i++)
		ap_keyspace_cron(ks, budget);
	ck_assert_uint_le(ap_db_buckets(db0), 4096);
	ck_assert_uint_le(ap_db_buckets(db3), 4096);
	/* Further calls find nothing to expire. */
	ck_assert_uint_eq(ap_keyspace_cron(ks, budget), 0);
	ap_keyspace_destroy(ks);
}
END_TEST

/*
 * Random operations that move entries (set_expire on/off, str_resize,
 * str_set_int, replace, delete, detach/attach) against a shadow model of
 * which keys have a TTL. The vector's own assertions check slots on every
 * removal; finally every volatile key is expired through the vector.
 */
START_TEST(test_volatile_moves)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	enum { N = 3000 };
	static bool has_ttl[N], present[N];
	char k[32];
	unsigned seed = 12345;

	memset(has_ttl, 0, sizeof(has_ttl));
	memset(present, 0, sizeof(present));
	for (int round = 0; round < 60000; round++) {
		size_t i = (size_t)rand_r(&seed) % N;
		size_t kl = key_name(k, "m", i);
		struct ap_entry *e = ap_db_lookup(db, k, kl, 0);
		int op = rand_r(&seed) % 8;

		ck_assert((e != NULL) == present[i]);
		if (e == NULL || op == 0) {
			bool ttl = rand_r(&seed) % 2;
			ap_db_set_string(db, k, kl, "abc", 3,
					 ttl ? T0 + 100 : AP_NO_EXPIRE);
			present[i] = true;
			has_ttl[i] = ttl;
			continue;
		}
		switch (op) {
		case 1:
			ap_db_set_expire(db, &e, T0 + 50);
			has_ttl[i] = true;
			break;
		case 2:
			ap_db_set_expire(db, &e, AP_NO_EXPIRE);
			has_ttl[i] = false;
			break;
		case 3: {
			size_t len = ap_entry_str_len(e);
			char *p = ap_db_str_resize(db, &e, len + 1);
			p[len] = 'z';
			break;
		}
		case 4:
			ap_db_str_set_int(db, &e, round);
			break;
		case 5:
			ck_assert(ap_db_delete(db, k, kl));
			present[i] = false;
			has_ttl[i] = false;
			break;
		case 6: {
			struct ap_entry *d = ap_db_detach(db, k, kl);
			ck_assert_ptr_nonnull(d);
			ck_assert_ptr_nonnull(
				ap_db_attach(db, d, k, kl, false));
			break;
		}
		default:
			if (has_ttl[i])
				ap_db_set_expire(db, &e, T0 + 60);
			break;
		}
		if (present[i]) {
			e = ap_db_lookup(db, k, kl, AP_LK_NOTOUCH);
			ck_assert_ptr_nonnull(e);
			ck_assert((ap_entry_expire(e) != AP_NO_EXPIRE) ==
				  has_ttl[i]);
		}
	}
	size_t want_vol = 0, want = 0;
	for (size_t i = 0; i < N; i++) {
		want += present[i];
		want_vol += present[i] && has_ttl[i];
	}
	ck_assert_uint_eq(ap_db_size(db), want);
	ck_assert_uint_eq(ap_db_volatile_size(db), want_vol);
	ap_keyspace_set_now(ks, T0 + 1000);
	size_t expired = 0;
	for (int c = 0; c < 100000 && ap_db_volatile_size(db) > 0; c++)
		expired += ap_keyspace_cron(ks, 1000);
	ck_assert_uint_eq(expired, want_vol);
	ck_assert_uint_eq(ap_db_size(db), want - want_vol);
	ap_keyspace_destroy(ks);
}
END_TEST

START_TEST(test_set_expire_moves)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);

	struct ap_entry *a = set_s(db, "a", "va", T0 + 1);
	struct ap_entry *b = set_s(db, "b", "vb", T0 + 2);
	struct ap_entry *c = set_s(db, "c", "vc", AP_NO_EXPIRE);
	ck_assert_uint_eq(ap_db_volatile_size(db), 2);

	/* Updating an existing TTL is in place. */
	struct ap_entry *e = a;
	ap_db_set_expire(db, &e, T0 + 100);
	ck_assert_ptr_eq(e, a);
	ck_assert_int_eq(ap_entry_expire(get(db, "a")), T0 + 100);
	/* Adding a TTL moves the entry; removing one moves it back. */
	e = c;
	ap_db_set_expire(db, &e, T0 + 200);
	ck_assert_ptr_eq(get(db, "c"), e);
	ck_assert_int_eq(ap_entry_expire(e), T0 + 200);
	check_str(e, "vc");
	ck_assert_uint_eq(ap_db_volatile_size(db), 3);
	ap_db_set_expire(db, &e, AP_NO_EXPIRE);
	ck_assert_ptr_eq(get(db, "c"), e);
	ck_assert_int_eq(ap_entry_expire(e), AP_NO_EXPIRE);
	ck_assert_uint_eq(ap_db_volatile_size(db), 2);
	/* Clearing a missing TTL is a no-op. */
	struct ap_entry *same = e;
	ap_db_set_expire(db, &e, AP_NO_EXPIRE);
	ck_assert_ptr_eq(e, same);
	e = b;
	ap_db_set_expire(db, &e, AP_NO_EXPIRE);
	ck_assert_uint_eq(ap_db_volatile_size(db), 1);
	ap_keyspace_set_now(ks, T0 + 101);
	ck_assert_uint_eq(ap_keyspace_cron(ks, 1000), 1);
	ck_assert_ptr_null(get(db, "a"));
	check_str(get(db, "b"), "vb");
	check_str(get(db, "c"), "vc");
	ap_keyspace_destroy(ks);
}
END_TEST

/* --------------------------------------------------------- strings */

START_TEST(test_str_resize)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);

	/* INT -> RAW keeps the digits, zero-fills, keeps the TTL. */
	struct ap_entry *e = set_s(db, "k", "123", T0 + 9);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_INT);
	char *p = ap_db_str_resize(db, &e, 5);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_RAW);
	ck_assert_ptr_eq(get(db, "k"), e);
	ck_assert(memcmp(p, "123\0\0", 5) == 0);
	ck_assert_int_eq(ap_entry_expire(e), T0 + 9);
	ck_assert_uint_eq(ap_db_volatile_size(db), 1);
	/* RAW shrink and grow. */
	p = ap_db_str_resize(db, &e, 2);
	ck_assert_uint_eq(ap_entry_str_len(e), 2);
	p = ap_db_str_resize(db, &e, 4);
	ck_assert(memcmp(p, "12\0\0", 4) == 0);
	/* EMBSTR -> shorter RAW. */
	e = set_s(db, "s", "hello", AP_NO_EXPIRE);
	p = ap_db_str_resize(db, &e, 3);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_RAW);
	check_str(e, "hel");
	/* Resize to empty. */
	ap_db_str_resize(db, &e, 0);
	check_str(get(db, "s"), "");
	/* str_set_int: RAW -> INT (buffer freed), INT in place. */
	ap_db_str_set_int(db, &e, 77);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_INT);
	check_str(get(db, "s"), "77");
	struct ap_entry *before = e;
	ap_db_str_set_int(db, &e, -5);
	ck_assert_ptr_eq(e, before);
	check_str(get(db, "s"), "-5");
	/* EMBSTR -> INT keeps TTL and LRU. */
	e = set_s(db, "t", "abc", T0 + 50);
	ap_keyspace_set_now(ks, T0 + 7000);
	ap_db_str_set_int(db, &e, 1);
	ck_assert_int_eq(ap_entry_expire(e), T0 + 50);
	ck_assert_uint_eq(ap_entry_idle_s(ks, e), 7);
	ck_assert_uint_eq(ap_db_volatile_size(db), 2);
	ap_keyspace_destroy(ks);
}
END_TEST

START_TEST(test_append_linear)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	const size_t n = 1000000;
	struct ap_entry *e = set_s(db, "k", "", AP_NO_EXPIRE);
	uint64_t t = ap_time_us();

	for (size_t i = 0; i < n; i++) {
		char *p = ap_db_str_resize(db, &e, i + 1);
		p[i] = (char)('a' + i % 26);
	}
	t = ap_time_us() - t;
	printf("append: %zu one-byte appends in %llu us\n", n,
	       (unsigned long long)t);
	/* Quadratic copying would move ~5e11 bytes: far beyond this. */
	ck_assert_uint_lt(t, 20 * 1000 * 1000);
	char buf[AP_INT_STR_SIZE];
	size_t len;
	const char *s = ap_entry_str(get(db, "k"), &len, buf);
	ck_assert_uint_eq(len, n);
	for (size_t i = 0; i < n; i += 4999)
		ck_assert_int_eq(s[i], 'a' + (int)(i % 26));
	/* Slack stays geometric, not unbounded. */
	ck_assert_uint_le(ap_entry_mem(e), 2 * n + 4096);
	ap_keyspace_destroy(ks);
}
END_TEST

/* ---------------------------------------------------------------- scan */

struct seen {
	unsigned char *hits; /* per original key */
	size_t n;
	size_t calls;
};

static void scan_cb(void *arg, const struct ap_entry *e)
{
	struct seen *s = arg;
	size_t klen;
	const char *k = ap_entry_key(e, &klen);
	char buf[32];

	s->calls++;
	if (klen < 2 || k[0] != 'o' || klen >= sizeof(buf))
		return;
	memcpy(buf, k + 1, klen - 1);
	buf[klen - 1] = '\0';
	size_t i = strtoul(buf, NULL, 10);
	ck_assert_uint_lt(i, s->n);
	s->hits[i] = 1;
}

START_TEST(test_scan_full)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	const size_t n = 5000;
	struct seen s = {calloc(n, 1), n, 0};
	char k[32];

	ck_assert_uint_eq(ap_db_scan(db, 0, 10, scan_cb, &s), 0);
	ck_assert_uint_eq(s.calls, 0);
	for (size_t i = 0; i < n; i++) {
		size_t kl = key_name(k, "o", i);
		ap_db_set_string(db, k, kl, "v", 1, AP_NO_EXPIRE);
	}
	/* count bounds the keys per call roughly. */
	uint64_t cur = 0;
	size_t calls = 0;
	do {
		size_t before = s.calls;
		cur = ap_db_scan(db, cur, 100, scan_cb, &s);
		ck_assert_uint_le(s.calls - before, 100 + 32);
		calls++;
	} while (cur != 0);
	ck_assert_uint_ge(calls, n / 132);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(s.hits[i], "key %zu not seen", i);
	/* count 0 still makes progress. */
	ck_assert_uint_ne(ap_db_scan(db, 0, 0, scan_cb, &s), 0);
	/* Expired keys are not emitted. */
	ap_db_flush(db);
	set_s(db, "old", "v", T0 - 1);
	s.calls = 0;
	cur = 0;
	do {
		cur = ap_db_scan(db, cur, 10, scan_cb, &s);
	} while (cur != 0);
	ck_assert_uint_eq(s.calls, 0);
	free(s.hits);
	ap_keyspace_destroy(ks);
}
END_TEST

START_TEST(test_scan_across_resizes)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	const size_t n = 2000;
	struct seen s = {calloc(n, 1), n, 0};
	char k[32];
	size_t other = 0, other_live = 0;
	bool saw_grow = false, saw_shrink = false, saw_rehash = false;

	for (size_t i = 0; i < n; i++) {
		size_t kl = key_name(k, "o", i);
		ap_db_set_string(db, k, kl, "v", 1, AP_NO_EXPIRE);
	}
	uint64_t cur = 0;
	int step = 0;
	do {
		size_t buckets = ap_db_buckets(db);
		saw_rehash |= ap_db_is_rehashing(db);
		cur = ap_db_scan(db, cur, 20, scan_cb, &s);
		/* Phases: grow a lot, shrink back, grow again. */
		int phase = (step / 15) % 3;
		if (phase != 1) {
			for (int j = 0; j < 700; j++) {
				size_t kl = key_name(k, "x", other++);
				ap_db_set_string(db, k, kl, "v", 1,
						 AP_NO_EXPIRE);
				other_live++;
			}
		} else {
			for (size_t j = other - other_live; j < other; j++) {
				size_t kl = key_name(k, "x", j);
				ck_assert(ap_db_delete(db, k, kl));
			}
			other_live = 0;
			ap_keyspace_cron(ks, 200);
		}
		saw_grow |= ap_db_buckets(db) > buckets;
		saw_shrink |= ap_db_buckets(db) < buckets;
		step++;
	} while (cur != 0);
	ck_assert(saw_grow);
	ck_assert(saw_shrink);
	ck_assert(saw_rehash);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(s.hits[i], "key %zu not seen", i);
	free(s.hits);
	ap_keyspace_destroy(ks);
}
END_TEST

/* -------------------------------------------------------------- random */

START_TEST(test_random)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	char k[32];
	int seen[3] = {0, 0, 0};

	ck_assert_ptr_null(ap_db_random(db));
	set_s(db, "r0", "v", AP_NO_EXPIRE);
	set_s(db, "r1", "v", AP_NO_EXPIRE);
	set_s(db, "r2", "v", AP_NO_EXPIRE);
	for (int i = 0; i < 300; i++) {
		size_t klen;
		const char *key = ap_entry_key(ap_db_random(db), &klen);
		ck_assert_uint_eq(klen, 2);
		seen[key[1] - '0']++;
	}
	ck_assert(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);

	/* Expired keys are never returned and get deleted. */
	ap_db_flush(db);
	for (size_t i = 0; i < 500; i++) {
		size_t kl = key_name(k, "x", i);
		ap_db_set_string(db, k, kl, "v", 1, T0 + 1);
	}
	set_s(db, "live", "v", AP_NO_EXPIRE);
	ap_keyspace_set_now(ks, T0 + 2);
	struct ap_entry *e = ap_db_random(db);
	ck_assert_ptr_nonnull(e);
	size_t klen;
	ck_assert(memcmp(ap_entry_key(e, &klen), "live", 4) == 0);
	ck_assert_uint_lt(ap_db_size(db), 501);
	/* Only expired keys: NULL, and they are gone. */
	ap_db_delete(db, "live", 4);
	ck_assert_ptr_null(ap_db_random(db));
	ck_assert_uint_eq(ap_db_size(db), 0);

	/* Sparse table while a shrink is in progress. */
	for (size_t i = 0; i < 50000; i++) {
		size_t kl = key_name(k, "s", i);
		ap_db_set_string(db, k, kl, "v", 1, AP_NO_EXPIRE);
	}
	for (size_t i = 1; i < 50000; i++) {
		size_t kl = key_name(k, "s", i);
		ap_db_delete(db, k, kl);
	}
	e = ap_db_random(db);
	ck_assert_ptr_nonnull(e);
	ck_assert(memcmp(ap_entry_key(e, &klen), "s0", 2) == 0);
	ap_keyspace_destroy(ks);
}
END_TEST

/* -------------------------------------------- detach, attach, dup, swap */

START_TEST(test_detach_attach)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	struct ap_db *db1 = ap_keyspace_db(ks, 1);

	ap_keyspace_set_now(ks, T0 - 5000);
	set_s(db, "a", "va", T0 + 500);
	ap_keyspace_set_now(ks, T0 + 100);
	set_s(db, "b", "vb", AP_NO_EXPIRE);
	ck_assert_ptr_null(ap_db_detach(db, "zz", 2));

	/* RENAME-like: detach a, attach as "renamed"; TTL and LRU kept. */
	struct ap_entry *e = ap_db_detach(db, "a", 1);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(ap_db_size(db), 1);
	ck_assert_uint_eq(ap_db_volatile_size(db), 0);
	ck_assert_int_eq(ap_entry_expire(e), T0 + 500);
	e = ap_db_attach(db, e, "renamed", 7, false);
	ck_assert_ptr_nonnull(e);
	size_t klen;
	ck_assert(memcmp(ap_entry_key(e, &klen), "renamed", 7) == 0);
	ck_assert_int_eq(ap_entry_expire(e), T0 + 500);
	ck_assert_uint_eq(ap_entry_idle_s(ks, e), 5);
	ck_assert_uint_eq(ap_db_volatile_size(db), 1);
	ck_assert_ptr_eq(ap_db_lookup(db, "renamed", 7, AP_LK_NOTOUCH), e);
	ck_assert_ptr_null(get(db, "a"));
	check_str(e, "va");

	/* Attach without replace over a live key fails; entry stays ours. */
	struct ap_entry *d = ap_db_detach(db, "renamed", 7);
	ck_assert_ptr_null(ap_db_attach(db, d, "b", 1, false));
	check_str(get(db, "b"), "vb");
	/* With replace it wins, TTL included. */
	e = ap_db_attach(db, d, "b", 1, true);
	check_str(get(db, "b"), "va");
	ck_assert_int_eq(ap_entry_expire(e), T0 + 500);
	ck_assert_uint_eq(ap_db_size(db), 1);
	ck_assert_uint_eq(ap_db_volatile_size(db), 1);

	/* MOVE-like: same key into another db. */
	d = ap_db_detach(db, "b", 1);
	ck_assert_ptr_eq(ap_db_attach(db1, d, "b", 1, false), d);
	ck_assert_uint_eq(ap_db_volatile_size(db1), 1);
	ck_assert_uint_eq(ap_db_size(db), 0);

	/* An entry whose TTL passed is attached, then lazily expired. */
	d = ap_db_detach(db1, "b", 1);
	ap_keyspace_set_now(ks, T0 + 600);
	ck_assert_ptr_nonnull(ap_db_attach(db, d, "late", 4, false));
	ck_assert_uint_eq(ap_db_size(db), 1);
	ck_assert_ptr_null(get(db, "late"));
	ck_assert_uint_eq(ap_db_size(db), 0);
	ck_assert_uint_eq(ap_db_volatile_size(db), 0);

	/* A detached entry can simply be freed. */
	set_s(db, "f", "x", AP_NO_EXPIRE);
	ap_entry_free(ap_db_detach(db, "f", 1));
	ck_assert_uint_eq(ap_db_size(db), 0);
	ap_keyspace_destroy(ks);
}
END_TEST

START_TEST(test_dup)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	char raw[200];

	ap_type_register(AP_TYPE_LIST, &fake_list_ops);
	fake_dups = 0;
	memset(raw, 'r', sizeof(raw));
	struct ap_entry *src =
		ap_db_set_string(db, "raw", 3, raw, sizeof(raw), T0 + 77);
	struct ap_entry *c = ap_entry_dup(src);
	ck_assert_ptr_ne(c, src);
	/* The copy's buffer is its own. */
	char *p = ap_db_str_resize(db, &src, 10);
	p[0] = 'Z';
	char buf[AP_INT_STR_SIZE];
	size_t len;
	const char *s = ap_entry_str(c, &len, buf);
	ck_assert_uint_eq(len, sizeof(raw));
	ck_assert_int_eq(s[0], 'r');
	ck_assert_int_eq(ap_entry_expire(c), T0 + 77);
	c = ap_db_attach(db, c, "copy", 4, false);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(ap_db_volatile_size(db), 2);
	ck_assert_uint_eq(ap_entry_str_len(get(db, "copy")), sizeof(raw));

	/* Collections go through the registered dup. */
	ap_db_set_object(db, "l", 1, AP_TYPE_LIST, AP_ENC_QUICKLIST,
			 fake_new(5), AP_NO_EXPIRE);
	struct ap_entry *lc = ap_entry_dup(get(db, "l"));
	ck_assert_int_eq(fake_dups, 1);
	ck_assert_ptr_ne(ap_entry_obj(lc), ap_entry_obj(get(db, "l")));
	ck_assert_int_eq(((struct fake_obj *)ap_entry_obj(lc))->value, 5);
	ap_entry_free(lc);
	/* INT and EMBSTR copies. */
	struct ap_entry *ic = ap_entry_dup(set_s(db, "i", "42", AP_NO_EXPIRE));
	struct ap_entry *ec = ap_entry_dup(set_s(db, "e", "emb", AP_NO_EXPIRE));
	ap_db_delete(db, "i", 1);
	ap_db_delete(db, "e", 1);
	check_str(ic, "42");
	check_str(ec, "emb");
	ck_assert_int_eq(ap_entry_expire(ic), AP_NO_EXPIRE);
	ap_entry_free(ic);
	ap_entry_free(ec);
	ap_keyspace_destroy(ks);
}
END_TEST

START_TEST(test_swap_flush)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *a = ap_keyspace_db(ks, 0);
	struct ap_db *b = ap_keyspace_db(ks, 15);
	char k[32];

	for (size_t i = 0; i < 100; i++) {
		size_t kl = key_name(k, "a", i);
		ap_db_set_string(a, k, kl, "va", 2, i % 2 ? T0 + 5 : -1);
	}
	set_s(b, "b", "vb", AP_NO_EXPIRE);
	ap_keyspace_swap_db(ks, 0, 15);
	ck_assert_ptr_eq(ap_keyspace_db(ks, 0), a);
	ck_assert_uint_eq(ap_db_size(a), 1);
	ck_assert_uint_eq(ap_db_size(b), 100);
	ck_assert_uint_eq(ap_db_volatile_size(b), 50);
	check_str(get(a, "b"), "vb");
	check_str(get(b, "a7"), "va");
	ck_assert_ptr_null(get(a, "a7"));
	/* Expiry works on the swapped tables. */
	ap_keyspace_set_now(ks, T0 + 6);
	size_t x = 0;
	for (int i = 0; i < 1000 && ap_db_volatile_size(b) > 0; i++)
		x += ap_keyspace_cron(ks, 1000);
	ck_assert_uint_eq(x, 50);
	ck_assert_uint_eq(ap_db_size(b), 50);
	/* Swapping a db with itself changes nothing. */
	ap_keyspace_swap_db(ks, 3, 3);
	ap_db_flush(b);
	ck_assert_uint_eq(ap_db_size(b), 0);
	ck_assert_uint_eq(ap_db_volatile_size(b), 0);
	ck_assert_uint_eq(ap_db_buckets(b), 0);
	ck_assert_ptr_null(get(b, "a0"));
	/* Usable after a flush. */
	set_s(b, "n", "1", T0 + 100);
	ck_assert_uint_eq(ap_db_size(b), 1);
	ck_assert_uint_eq(ap_db_volatile_size(b), 1);
	check_str(get(a, "b"), "vb");
	ap_keyspace_destroy(ks);
}
END_TEST

/* --------------------------------------------------------- LRU, memory */

START_TEST(test_lru)
{
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);

	ck_assert_uint_eq(ap_keyspace_lru_clock(ks),
			  (uint32_t)(T0 / 1000) & 0xFFFFFF);
	set_s(db, "k", "v", AP_NO_EXPIRE);
	ap_keyspace_set_now(ks, T0 + 10000);
	ck_assert_uint_eq(ap_entry_idle_s(ks, get(db, "k")), 0);
	ap_keyspace_set_now(ks, T0 + 25500);
	struct ap_entry *e = ap_db_lookup(db, "k", 1, AP_LK_NOTOUCH);
	ck_assert_uint_eq(ap_entry_idle_s(ks, e), 15);
	/* Wraps at 24 bits. */
	ap_keyspace_set_now(ks, T0 + 10000 + 0x1000000LL * 1000 + 3000);
	ck_assert_uint_eq(ap_entry_idle_s(ks, e), 3);
	ap_keyspace_destroy(ks);
}
END_TEST

START_TEST(test_memory_1m)
{
	const size_t n = 1000000;
	char key[17], val[33];

	memset(val, 'v', 32);
	val[32] = '\0';
	int64_t before = ap_mem_thread_used();
	struct ap_keyspace *ks = ks_new();
	struct ap_db *db = ap_keyspace_db(ks, 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "key:%012zu", i);
		ap_db_set_string(db, key, 16, val, 32, AP_NO_EXPIRE);
	}
	int64_t used = ap_mem_thread_used() - before;
	double per_key = (double)used / (double)n;
	printf("memory: %zu keys (16-byte key, 32-byte value): %lld bytes, "
	       "%.1f bytes/key, %zu buckets%s\n",
	       n, (long long)used, per_key, ap_db_buckets(db),
	       ap_db_is_rehashing(db) ? " (rehashing)" : "");
	ck_assert_uint_eq(ap_db_size(db), n);
	struct ap_entry *e = ap_db_lookup(db, "key:000000000042", 16, 0);
	ck_assert_uint_le(ap_entry_mem(e), 64);
	ck_assert_int_eq(ap_entry_enc(e), AP_ENC_EMBSTR);
	ck_assert(per_key <= 80.0);
	ap_keyspace_destroy(ks);
	ck_assert_int_eq(ap_mem_thread_used(), before);
}
END_TEST

/* ---------------------------------------------------------------- main */

static Suite *keyspace_suite(void)
{
	Suite *s = suite_create("keyspace");
	TCase *tc = tcase_create("basic");
	TCase *heavy = tcase_create("heavy");

	tcase_add_test(tc, test_set_lookup_delete);
	tcase_add_test(tc, test_table_boundaries);
	tcase_add_test(tc, test_encodings);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_replace_across_types);
	tcase_add_test(tc, test_ttl_lazy_expiry);
	tcase_add_test(tc, test_set_expire_moves);
	tcase_add_test(tc, test_str_resize);
	tcase_add_test(tc, test_scan_full);
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_detach_attach);
	tcase_add_test(tc, test_dup);
	tcase_add_test(tc, test_swap_flush);
	tcase_add_test(tc, test_lru);
	suite_add_tcase(s, tc);

	tcase_set_timeout(heavy, 300);
	tcase_add_test(heavy, test_many_keys_rehash);
	tcase_add_test(heavy, test_active_expiry);
	tcase_add_test(heavy, test_volatile_moves);
	tcase_add_test(heavy, test_scan_across_resizes);
	tcase_add_test(heavy, test_append_linear);
	tcase_add_test(heavy, test_memory_1m);
	suite_add_tcase(s, heavy);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(keyspace_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
