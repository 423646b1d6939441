/*
 * test_cmd_dump.c - DUMP and RESTORE through the command table
 * (cmd_harness.h): round trips of every type and encoding (contents,
 * encodings, TTL handling), every option (REPLACE, ABSTTL, IDLETIME,
 * FREQ) and every error text in Redis's order of checks, TTLs in the past
 * and at the edge of the 64-bit range, payloads from Redis or damaged
 * ones, conversion to the encodings of the configuration in force, dirty
 * counts, and a randomized run of DUMP/RESTORE against the originals.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/core/cmd_harness.h"

#include "core/serial.h"

#define E_BUSY	    "-BUSYKEY Target key name already exists.\r\n"
#define E_TTL	    "-ERR Invalid TTL value, must be >= 0\r\n"
#define E_IDLE	    "-ERR Invalid IDLETIME value, must be >= 0\r\n"
#define E_FREQ	    "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
#define E_PAYLOAD   "-ERR DUMP payload version or checksum are wrong\r\n"
#define E_BADFORMAT "-ERR Bad data format\r\n"

/* Failure-only assertion for hot loops (ck_assert writes per pass). */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

/* --- helpers ---------------------------------------------------------- */

/* A payload: bytes and length (malloc'd). */
struct payload {
	char *p;
	size_t len;
};

/* DUMP key: the payload of an existing key. */
static struct payload dump_of(const char *key)
{
	size_t len;
	char *r = h_run((const char *const[]){"dump", key, NULL}, &len);
	char *end;
	long n;
	struct payload pl;

	ck_assert_msg(r[0] == '$', "DUMP %s replied %c", key, r[0]);
	n = strtol(r + 1, &end, 10);
	ck_assert(n > 0 && end[0] == '\r' && end[1] == '\n');
	end += 2;
	ck_assert_uint_eq(len, (size_t)(end - r) + (size_t)n + 2);
	pl.p = malloc((size_t)n);
	memcpy(pl.p, end, (size_t)n);
	pl.len = (size_t)n;
	ap_free(r);
	return pl;
}

/* RESTORE key ttl <payload> [opts...]; returns the reply (ap_free). */
static char *restore_raw(const char *key, const char *ttl, const void *p,
			 size_t plen, const char *const *opts, size_t *rlen)
{
	struct ap_arg argv[16] = {
		{"restore", 7},
		{key, strlen(key)},
		{ttl, strlen(ttl)},
		{p, plen},
	};
	int argc = 4;

	for (; opts != NULL && opts[argc - 4] != NULL; argc++)
		argv[argc] =
			(struct ap_arg){opts[argc - 4], strlen(opts[argc - 4])};
	return h_run_argv(argv, argc, rlen);
}

/* RESTORE with an expected reply. */
static void restore_expect(int line, const char *exp, const char *key,
			   const char *ttl, const struct payload *pl,
			   const char *const *opts)
{
	size_t len;
	char *got = restore_raw(key, ttl, pl->p, pl->len, opts, &len);

	h_compare(line, exp, strlen(exp), got, len);
	ap_free(got);
}

#define RESTORE(exp, key, ttl, pl, ...)             \
	restore_expect(__LINE__, exp, key, ttl, pl, \
		       (const char *const[]){__VA_ARGS__ __VA_OPT__(, ) NULL})

/* The encoding of key (which must exist). */
static enum ap_enc enc_of(const char *key)
{
	struct ap_entry *e = h_peek(key);

	ck_assert_msg(e != NULL, "no key %s", key);
	return ap_entry_enc(e);
}

/* Replies of cmd over key a and key b are equal (read commands). */
static void same_reply(const char *cmd, const char *a, const char *b,
		       const char *extra1, const char *extra2)
{
	size_t la, lb;
	char *ra =
		h_run((const char *const[]){cmd, a, extra1, extra2, NULL}, &la);
	char *rb =
		h_run((const char *const[]){cmd, b, extra1, extra2, NULL}, &lb);

	h_compare(__LINE__, ra, la, rb, lb);
	ap_free(ra);
	ap_free(rb);
}

/* DUMP src, RESTORE into dst with ttl 0; dst must not exist. */
static void copy_by_dump(const char *src, const char *dst)
{
	struct payload pl = dump_of(src);

	RESTORE("+OK\r\n", dst, "0", &pl);
	ck_assert_uint_eq(h_last_dirty, 1);
	free(pl.p);
}

/* A payload with a correct footer around the given value bytes. */
static struct payload framed(const void *value, size_t len)
{
	struct payload pl = {.p = malloc(len + AP_SERIAL_FOOTER_SIZE),
			     .len = len + AP_SERIAL_FOOTER_SIZE};
	uint16_t ver = AP_SERIAL_DUMP_VERSION;
	uint64_t crc;

	memcpy(pl.p, value, len);
	memcpy(pl.p + len, &ver, 2);
	crc = ap_serial_crc64(0, pl.p, len + 2);
	memcpy(pl.p + len + 2, &crc, 8);
	return pl;
}

/* --- DUMP ---------------------------------------------------------------- */

START_TEST(test_dump_basics)
{
	H_EXPECT(H_NIL, "dump", "missing");
	h_proto = 3;
	H_EXPECT("_\r\n", "dump", "missing");
	h_proto = 2;
	H_EXPECT("-ERR wrong number of arguments for 'dump' command\r\n",
		 "dump");
	H_EXPECT("-ERR wrong number of arguments for 'dump' command\r\n",
		 "dump", "a", "b");
	H_OK("set", "s", "hello");
	/* [0][0][5]hello, then version 0xA001 and the CRC-64. */
	{
		struct payload pl = dump_of("s");
		uint64_t crc;

		ck_assert_uint_eq(pl.len, 18);
		ck_assert(memcmp(pl.p, "\x00\x00\x05hello\x01\xA0", 10) == 0);
		memcpy(&crc, pl.p + 10, 8);
		ck_assert(crc == ap_serial_crc64(0, pl.p, 10));
		free(pl.p);
	}
	/* DUMP writes nothing. */
	free(dump_of("s").p);
	ck_assert_uint_eq(h_last_dirty, 0);
	/* RESP3 replies the same bulk string. */
	{
		struct payload p2 = dump_of("s");

		h_proto = 3;
		struct payload p3 = dump_of("s");
		ck_assert(p2.len == p3.len && memcmp(p2.p, p3.p, p2.len) == 0);
		free(p2.p);
		free(p3.p);
		h_proto = 2;
	}
}
END_TEST

/* --- round trips --------------------------------------------------------- */

START_TEST(test_round_trip_strings)
{
	char big[300];

	H_OK("set", "e", "short");
	H_OK("set", "i", "-123456789012");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	H_OK("set", "r", big);
	H_OK("set", "z", "");
	copy_by_dump("e", "e2");
	copy_by_dump("i", "i2");
	copy_by_dump("r", "r2");
	copy_by_dump("z", "z2");
	same_reply("get", "e", "e2", NULL, NULL);
	same_reply("get", "i", "i2", NULL, NULL);
	same_reply("get", "r", "r2", NULL, NULL);
	same_reply("get", "z", "z2", NULL, NULL);
	ck_assert_int_eq(enc_of("e2"), AP_ENC_EMBSTR);
	ck_assert_int_eq(enc_of("i2"), AP_ENC_INT);
	ck_assert_int_eq(enc_of("r2"), AP_ENC_RAW);
	/* Binary bytes survive. */
	{
		struct ap_arg argv[3] = {
			{"set", 3}, {"b", 1}, {"\0\r\n\xff", 4}};
		size_t len;

		ap_free(h_run_argv(argv, 3, &len));
		copy_by_dump("b", "b2");
		same_reply("get", "b", "b2", NULL, NULL);
	}
}
END_TEST

/* Adds n members / elements named <prefix><i> with cmd to key. */
static void fill(const char *cmd, const char *key, const char *prefix, int n,
		 bool pairs)
{
	for (int i = 0; i < n; i++) {
		char m[32], v[32];
		size_t len;

		snprintf(m, sizeof(m), "%s%d", prefix, i);
		snprintf(v, sizeof(v), "%d", i * 3);
		if (pairs && strcmp(cmd, "zadd") == 0)
			ap_free(h_run(
				(const char *const[]){cmd, key, v, m, NULL},
				&len));
		else if (pairs)
			ap_free(h_run(
				(const char *const[]){cmd, key, m, v, NULL},
				&len));
		else
			ap_free(h_run((const char *const[]){cmd, key, m, NULL},
				      &len));
	}
}

START_TEST(test_round_trip_collections)
{
	/* Lists: listpack and quicklist. */
	fill("rpush", "l1", "", 10, false);
	fill("rpush", "l2", "element-", 3000, false);
	ck_assert_int_eq(enc_of("l1"), AP_ENC_LISTPACK);
	ck_assert_int_eq(enc_of("l2"), AP_ENC_QUICKLIST);
	copy_by_dump("l1", "l1c");
	copy_by_dump("l2", "l2c");
	same_reply("lrange", "l1", "l1c", "0", "-1");
	same_reply("lrange", "l2", "l2c", "0", "-1");
	ck_assert_int_eq(enc_of("l1c"), AP_ENC_LISTPACK);
	ck_assert_int_eq(enc_of("l2c"), AP_ENC_QUICKLIST);

	/* Sets: intset, listpack, hashtable. */
	fill("sadd", "s1", "", 20, false);
	fill("sadd", "s2", "m", 20, false);
	fill("sadd", "s3", "m", 1000, false);
	ck_assert_int_eq(enc_of("s1"), AP_ENC_INTSET);
	ck_assert_int_eq(enc_of("s2"), AP_ENC_LISTPACK);
	ck_assert_int_eq(enc_of("s3"), AP_ENC_HASHTABLE);
	copy_by_dump("s1", "s1c");
	copy_by_dump("s2", "s2c");
	copy_by_dump("s3", "s3c");
	for (int i = 1; i <= 3; i++) {
		char a[4], b[4];

		snprintf(a, sizeof(a), "s%d", i);
		snprintf(b, sizeof(b), "s%dc", i);
		ck_assert_int_eq(enc_of(a), enc_of(b));
		same_reply("scard", a, b, NULL, NULL);
		H_EXPECT("*0\r\n", "sdiff", a, b);
		H_EXPECT("*0\r\n", "sdiff", b, a);
	}

	/* Hashes: listpack, hashtable. */
	fill("hset", "h1", "f", 10, true);
	fill("hset", "h2", "f", 1000, true);
	ck_assert_int_eq(enc_of("h1"), AP_ENC_LISTPACK);
	ck_assert_int_eq(enc_of("h2"), AP_ENC_HASHTABLE);
	copy_by_dump("h1", "h1c");
	copy_by_dump("h2", "h2c");
	same_reply("hgetall", "h1", "h1c", NULL, NULL);
	ck_assert_int_eq(enc_of("h2c"), AP_ENC_HASHTABLE);
	same_reply("hlen", "h2", "h2c", NULL, NULL);
	for (int i = 0; i < 1000; i += 7) {
		char f[16];

		snprintf(f, sizeof(f), "f%d", i);
		same_reply("hget", "h2", "h2c", f, NULL);
	}

	/* Sorted sets: listpack, skiplist. */
	fill("zadd", "z1", "m", 10, true);
	fill("zadd", "z2", "m", 1000, true);
	H_EXPECT(":1\r\n", "zadd", "z2", "1.5e300", "huge");
	H_EXPECT(":1\r\n", "zadd", "z2", "-inf", "low");
	ck_assert_int_eq(enc_of("z1"), AP_ENC_LISTPACK);
	ck_assert_int_eq(enc_of("z2"), AP_ENC_SKIPLIST);
	copy_by_dump("z1", "z1c");
	copy_by_dump("z2", "z2c");
	same_reply("zrange", "z1", "z1c", "0", "-1");
	same_reply("zrange", "z2", "z2c", "0", "-1");
	ck_assert_int_eq(enc_of("z2c"), AP_ENC_SKIPLIST);
	{
		size_t la, lb;
		char *ra =
			h_run((const char *const[]){"zrange", "z2", "0", "-1",
						    "withscores", NULL},
			      &la);
		char *rb =
			h_run((const char *const[]){"zrange", "z2c", "0", "-1",
						    "withscores", NULL},
			      &lb);

		h_compare(__LINE__, ra, la, rb, lb);
		ap_free(ra);
		ap_free(rb);
	}
	/* A dump of the copy is the dump of the original for compact
	 * encodings and ordered ones. */
	static const char *const same[][2] = {
		{"l1", "l1c"}, {"l2", "l2c"}, {"s1", "s1c"}, {"s2", "s2c"},
		{"h1", "h1c"}, {"z1", "z1c"}, {"z2", "z2c"},
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		struct payload a = dump_of(same[i][0]), b = dump_of(same[i][1]);

		ck_assert_msg(a.len == b.len && memcmp(a.p, b.p, a.len) == 0,
			      "%s", same[i][0]);
		free(a.p);
		free(b.p);
	}
}
END_TEST

START_TEST(test_restore_converts)
{
	struct payload pl;

	/* A 3-field listpack hash restored where the limit is 2. */
	fill("hset", "h", "f", 3, true);
	pl = dump_of("h");
	h_cfg.hash_max_listpack_entries = 2;
	RESTORE("+OK\r\n", "h2", "0", &pl);
	ck_assert_int_eq(enc_of("h2"), AP_ENC_HASHTABLE);
	H_EXPECT(":3\r\n", "hlen", "h2");
	same_reply("hget", "h", "h2", "f2", NULL);
	h_cfg.hash_max_listpack_entries = 512;
	free(pl.p);
	/* A hashtable set of a few members becomes compact on restore. */
	h_cfg.set_max_intset_entries = 0;
	h_cfg.set_max_listpack_entries = 0;
	fill("sadd", "s", "", 5, false);
	ck_assert_int_eq(enc_of("s"), AP_ENC_HASHTABLE);
	pl = dump_of("s");
	h_cfg.set_max_intset_entries = 512;
	h_cfg.set_max_listpack_entries = 128;
	RESTORE("+OK\r\n", "s2", "0", &pl);
	ck_assert_int_eq(enc_of("s2"), AP_ENC_INTSET);
	H_EXPECT("*0\r\n", "sdiff", "s", "s2");
	free(pl.p);
	/* A listpack sorted set restored under a 2-member limit. */
	fill("zadd", "z", "m", 3, true);
	pl = dump_of("z");
	h_cfg.zset_max_listpack_entries = 2;
	RESTORE("+OK\r\n", "z2", "0", &pl);
	ck_assert_int_eq(enc_of("z2"), AP_ENC_SKIPLIST);
	same_reply("zrange", "z", "z2", "0", "-1");
	h_cfg.zset_max_listpack_entries = 128;
	free(pl.p);
	/* A listpack list restored with 2 elements a node. */
	fill("rpush", "l", "", 5, false);
	pl = dump_of("l");
	h_cfg.list_max_listpack_size = 2;
	RESTORE("+OK\r\n", "l2", "0", &pl);
	ck_assert_int_eq(enc_of("l2"), AP_ENC_QUICKLIST);
	same_reply("lrange", "l", "l2", "0", "-1");
	h_cfg.list_max_listpack_size = -2;
	free(pl.p);
}
END_TEST

/* --- options and errors ----------------------------------------------------
 */

START_TEST(test_restore_errors)
{
	struct payload pl, bad;
	static const unsigned char redis[] = {0x00, 0xc0, 0x01, 0x0a, 0x00,
					      0x26, 0x78, 0xe7, 0xb6, 0xd1,
					      0x01, 0x11, 0xfc};

	H_OK("set", "src", "v");
	pl = dump_of("src");
	H_EXPECT("-ERR wrong number of arguments for 'restore' command\r\n",
		 "restore", "k", "0");
	/* Options come first: a bad one beats a busy key and a bad TTL. */
	RESTORE(H_E_SYNTAX, "src", "abc", &pl, "nope");
	RESTORE(H_E_SYNTAX, "k", "0", &pl, "idletime");
	RESTORE(H_E_SYNTAX, "k", "0", &pl, "freq");
	RESTORE(H_E_SYNTAX, "k", "0", &pl, "replace", "idletime");
	RESTORE(H_E_SYNTAX, "k", "0", &pl, "idletime", "1", "freq", "1");
	RESTORE(H_E_SYNTAX, "k", "0", &pl, "freq", "1", "idletime", "1");
	RESTORE(H_E_NOT_INT, "k", "0", &pl, "idletime", "abc");
	RESTORE(H_E_NOT_INT, "k", "0", &pl, "freq", "1.5");
	RESTORE(E_IDLE, "k", "0", &pl, "idletime", "-1");
	RESTORE(E_FREQ, "k", "0", &pl, "freq", "-1");
	RESTORE(E_FREQ, "k", "0", &pl, "freq", "256");
	RESTORE(E_FREQ, "src", "0", &pl, "freq", "256");
	/* Then the busy key (before the TTL and the payload). */
	RESTORE(E_BUSY, "src", "0", &pl);
	RESTORE(E_BUSY, "src", "-5", &pl);
	RESTORE(E_BUSY, "src", "abc", &pl);
	RESTORE(E_BUSY, "src", "0", &pl, "absttl");
	/* Then the TTL. */
	RESTORE(H_E_NOT_INT, "k", "abc", &pl);
	RESTORE(H_E_NOT_INT, "k", "99999999999999999999", &pl);
	RESTORE(E_TTL, "k", "-1", &pl);
	RESTORE(E_TTL, "src", "-1", &pl, "replace");
	/* Then the footer: garbage, too short, Redis's own payload, a
	 * flipped bit anywhere. */
	bad = (struct payload){.p = "garbage", .len = 7};
	RESTORE(E_PAYLOAD, "k", "0", &bad);
	RESTORE(H_E_SYNTAX, "k", "-1", &bad, "nope");
	bad = (struct payload){.p = "", .len = 0};
	RESTORE(E_PAYLOAD, "k", "0", &bad);
	bad = (struct payload){.p = (char *)redis, .len = sizeof(redis)};
	RESTORE(E_PAYLOAD, "k", "0", &bad);
	for (size_t i = 0; i < pl.len; i++) {
		pl.p[i] ^= 0x10;
		RESTORE(E_PAYLOAD, "k", "0", &pl);
		pl.p[i] ^= 0x10;
	}
	/* Then the value: a sound footer around bad bytes, or around a
	 * value followed by more bytes. */
	bad = framed("\x09\x00", 2);
	RESTORE(E_BADFORMAT, "k", "0", &bad);
	free(bad.p);
	bad = framed("\x00\x00\x01x\x00", 5);
	RESTORE(E_BADFORMAT, "k", "0", &bad);
	free(bad.p);
	bad = framed("", 0);
	RESTORE(E_BADFORMAT, "k", "0", &bad);
	free(bad.p);
	bad = framed("\x00\x00\x01x", 4);
	RESTORE("+OK\r\n", "k", "0", &bad);
	H_EXPECT("$1\r\nx\r\n", "get", "k");
	free(bad.p);
	/* No error changed anything. */
	ck_assert_ptr_null(h_peek("nokey"));
	H_EXPECT("$1\r\nv\r\n", "get", "src");
	free(pl.p);
}
END_TEST

START_TEST(test_restore_replace_and_types)
{
	struct payload pl;

	H_OK("set", "s", "str");
	fill("rpush", "l", "", 3, false);
	pl = dump_of("l");
	/* REPLACE over a string of another type, and its TTL. */
	H_OK("set", "s", "old", "px", "5000");
	RESTORE("+OK\r\n", "s", "0", &pl, "replace");
	ck_assert_uint_eq(h_last_dirty, 1);
	H_EXPECT("+list\r\n", "type", "s");
	H_EXPECT(":-1\r\n", "pttl", "s");
	same_reply("lrange", "l", "s", "0", "-1");
	/* REPLACE on a missing key is a plain restore; options repeat. */
	RESTORE("+OK\r\n", "n", "0", &pl, "REPLACE", "replace", "AbsTtl");
	H_EXPECT(":3\r\n", "llen", "n");
	/* Then a busy key without REPLACE. */
	RESTORE(E_BUSY, "n", "0", &pl);
	ck_assert_uint_eq(h_last_dirty, 0);
	/* Another database. */
	h_db = 3;
	RESTORE("+OK\r\n", "l", "0", &pl);
	H_EXPECT(":3\r\n", "llen", "l");
	h_db = 0;
	free(pl.p);
}
END_TEST

START_TEST(test_restore_ttl)
{
	struct payload pl;
	char when[32];

	H_OK("set", "src", "v");
	pl = dump_of("src");
	/* Relative TTL in ms. */
	RESTORE("+OK\r\n", "a", "5000", &pl);
	H_EXPECT(":5000\r\n", "pttl", "a");
	/* TTL 0: no expiry, also with ABSTTL. */
	RESTORE("+OK\r\n", "b", "0", &pl);
	H_EXPECT(":-1\r\n", "pttl", "b");
	RESTORE("+OK\r\n", "b2", "0", &pl, "absttl");
	H_EXPECT(":-1\r\n", "pttl", "b2");
	/* ABSTTL: an absolute Unix time in ms. */
	snprintf(when, sizeof(when), "%lld", H_NOW + 7000);
	RESTORE("+OK\r\n", "c", when, &pl, "absttl");
	H_EXPECT(":7000\r\n", "pttl", "c");
	/* A time already past (or exactly now) creates nothing and
	 * changes nothing... */
	RESTORE("+OK\r\n", "d", "1", &pl, "absttl");
	ck_assert_ptr_null(h_peek("d"));
	ck_assert_uint_eq(h_last_dirty, 0);
	snprintf(when, sizeof(when), "%lld", H_NOW);
	RESTORE("+OK\r\n", "d", when, &pl, "absttl");
	ck_assert_ptr_null(h_peek("d"));
	snprintf(when, sizeof(when), "%lld", H_NOW + 1);
	RESTORE("+OK\r\n", "d", when, &pl, "absttl");
	ck_assert_ptr_nonnull(h_peek("d"));
	/* ...except that REPLACE deletes the old key. */
	H_OK("set", "old", "x");
	RESTORE("+OK\r\n", "old", "1", &pl, "absttl", "replace");
	ck_assert_ptr_null(h_peek("old"));
	ck_assert_uint_eq(h_last_dirty, 1);
	/* now + TTL past 2^63: expired, as Redis's wrapping sum. */
	RESTORE("+OK\r\n", "e", "9223372036854775807", &pl);
	ck_assert_ptr_null(h_peek("e"));
	/* The largest ABSTTL is fine. */
	RESTORE("+OK\r\n", "f", "9223372036854775807", &pl, "absttl");
	ck_assert_ptr_nonnull(h_peek("f"));
	ck_assert(ap_entry_expire(h_peek("f")) == INT64_MAX);
	free(pl.p);
}
END_TEST

START_TEST(test_restore_idletime_freq)
{
	struct payload pl;

	H_OK("set", "src", "v");
	pl = dump_of("src");
	RESTORE("+OK\r\n", "a", "0", &pl, "idletime", "1000");
	ck_assert_uint_eq(ap_entry_idle_s(h_ks, h_peek("a")), 1000);
	H_EXPECT(":1000\r\n", "object", "idletime", "a");
	/* The keyspace clock is back where it was. */
	ck_assert(ap_keyspace_now(h_ks) == H_NOW);
	/* Without IDLETIME: just accessed. */
	RESTORE("+OK\r\n", "b", "0", &pl);
	ck_assert_uint_eq(ap_entry_idle_s(h_ks, h_peek("b")), 0);
	/* The 24-bit clock wraps, as Redis's (100000000 mod 2^24). */
	RESTORE("+OK\r\n", "c", "0", &pl, "idletime", "100000000");
	ck_assert_uint_eq(ap_entry_idle_s(h_ks, h_peek("c")), 16113920);
	/* The last IDLETIME wins; with a TTL and REPLACE. */
	RESTORE("+OK\r\n", "c", "60000", &pl, "replace", "idletime", "5",
		"idletime", "7");
	ck_assert_uint_eq(ap_entry_idle_s(h_ks, h_peek("c")), 7);
	H_EXPECT(":60000\r\n", "pttl", "c");
	/* FREQ is accepted (0..255) and changes nothing visible. */
	RESTORE("+OK\r\n", "d", "0", &pl, "freq", "0");
	RESTORE("+OK\r\n", "e", "0", &pl, "freq", "255", "freq", "3");
	H_EXPECT("$1\r\nv\r\n", "get", "e");
	free(pl.p);
}
END_TEST

/* --- randomized ------------------------------------------------------------
 */

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

START_TEST(test_random_dump_restore)
{
	/* Random values of every type built by commands, copied by
	 * DUMP/RESTORE, compared by their sorted or ordered replies. */
	for (int round = 0; round < 200; round++) {
		int type = (int)(rnd() % 5), n = 1 + (int)(rnd() % 300);
		char key[16], copy[16];
		size_t len;

		snprintf(key, sizeof(key), "k%d", round);
		snprintf(copy, sizeof(copy), "c%d", round);
		for (int i = 0; i < n; i++) {
			char m[32], sc[32];

			if (rnd() % 2)
				snprintf(m, sizeof(m), "%lld",
					 (long long)(rnd() % 1000) - 500);
			else
				snprintf(m, sizeof(m), "m%llu",
					 (unsigned long long)(rnd() % 5000));
			snprintf(sc, sizeof(sc), "%.3f",
				 (double)(rnd() % 10000) / 7);
			const char *const cmds[5][5] = {
				{"append", key, m, NULL},
				{"rpush", key, m, NULL},
				{"sadd", key, m, NULL},
				{"hset", key, m, sc, NULL},
				{"zadd", key, sc, m, NULL},
			};
			ap_free(h_run(cmds[type], &len));
		}
		copy_by_dump(key, copy);
		switch (type) {
		case 0:
			same_reply("get", key, copy, NULL, NULL);
			break;
		case 1:
			same_reply("lrange", key, copy, "0", "-1");
			break;
		case 2:
			H_EXPECT("*0\r\n", "sdiff", key, copy);
			same_reply("scard", key, copy, NULL, NULL);
			break;
		case 3:
			same_reply("hlen", key, copy, NULL, NULL);
			break;
		default:
			same_reply("zrange", key, copy, "0", "-1");
			break;
		}
		/* Strings built by APPEND are raw; a restored one takes the
		 * encoding SET would give it, as in Redis. */
		if (type != 0)
			CK(ap_entry_enc(h_peek(key)) ==
			   ap_entry_enc(h_peek(copy)));
	}
}
END_TEST

static Suite *dump_suite(void)
{
	Suite *s = suite_create("cmd_dump");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_dump_basics);
	tcase_add_test(tc, test_round_trip_strings);
	tcase_add_test(tc, test_round_trip_collections);
	tcase_add_test(tc, test_restore_converts);
	tcase_add_test(tc, test_restore_errors);
	tcase_add_test(tc, test_restore_replace_and_types);
	tcase_add_test(tc, test_restore_ttl);
	tcase_add_test(tc, test_restore_idletime_freq);
	tcase_add_test(tc, test_random_dump_restore);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(dump_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
