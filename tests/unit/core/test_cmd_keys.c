/*
 * test_cmd_keys.c - the generic key commands of core/cmd_keys.c, run by
 * argv lists through the command table against a 16-database keyspace
 * with a controlled clock; replies are compared byte for byte in RESP2
 * (and RESP3 where the two differ).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmd.h"
#include "core/config.h"
#include "core/keyspace.h"
#include "core/reply.h"

/* A fixed "now" (ms): 2023-11-14T22:13:20Z. */
#define NOW 1700000000000LL

static struct ap_keyspace *ks;
static struct ap_config cfg;
static unsigned cur_db;
static int cur_proto = 2;
static uint64_t last_dirty;

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

/* --- harness ------------------------------------------------------------ */

static void setup(void)
{
	ks = ap_keyspace_create(16);
	ap_keyspace_set_now(ks, NOW);
	ap_config_init(&cfg);
	cur_db = 0;
	cur_proto = 2;
	last_dirty = 0;
	fake_dups = 0;
}

static void teardown(void)
{
	ap_keyspace_destroy(ks);
	ks = NULL;
}

static struct ap_db *db(unsigned idx)
{
	return ap_keyspace_db(ks, idx);
}

/* Runs a NULL-terminated argv through the command table as the
 * dispatcher would (lookup, subcommand, arity) and returns the reply
 * bytes, NUL-terminated; the caller frees them with ap_free. */
static char *run(const char *const *words)
{
	struct ap_arg argv[32];
	int argc = 0;
	struct ap_obuf ob;
	struct ap_reply r;
	struct ap_cmd_ctx c;
	const struct ap_cmd *cmd;
	size_t len;
	char *flat, *out;

	while (words[argc]) {
		ck_assert_int_lt(argc, 32);
		argv[argc].p = words[argc];
		argv[argc].len = strlen(words[argc]);
		argc++;
	}
	ap_obuf_init(&ob);
	ap_reply_init(&r, &ob, cur_proto);
	cmd = ap_cmd_lookup(argv[0].p, argv[0].len);
	ck_assert_msg(cmd != NULL, "no command %s", words[0]);
	if (cmd->subcmds) {
		ck_assert_int_ge(argc, 2);
		cmd = ap_cmd_sub_lookup(cmd, argv[1].p, argv[1].len);
		ck_assert_msg(cmd != NULL, "no subcommand %s", words[1]);
	}
	if (!ap_cmd_arity_ok(cmd, argc)) {
		ap_reply_error(&r, "ERR wrong number of arguments");
	} else {
		memset(&c, 0, sizeof(c));
		c.ks = ks;
		c.db = db(cur_db);
		c.db_idx = cur_db;
		c.r = &r;
		c.cfg = &cfg;
		c.argc = argc;
		c.argv = argv;
		c.cmd = cmd;
		ck_assert_ptr_nonnull(cmd->fn);
		cmd->fn(&c);
		last_dirty = c.dirty;
	}
	flat = ap_obuf_flatten(&ob, &len);
	out = ap_malloc(len + 1);
	memcpy(out, flat, len);
	out[len] = '\0';
	ck_assert_uint_eq(strlen(out), len);
	ap_free(flat);
	ap_obuf_deinit(&ob);
	return out;
}

static void expect_reply(int line, const char *exp, const char *const *words)
{
	char *got = run(words);

	ck_assert_msg(strcmp(got, exp) == 0,
		      "line %d: %s ...: expected \"%s\", got \"%s\"", line,
		      words[0], exp, got);
	ap_free(got);
}

#define EXPECT(exp, ...) \
	expect_reply(__LINE__, exp, (const char *const[]){__VA_ARGS__, NULL})

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
	EXPECT(":0\r\n", "del", "missing");
	ck_assert_uint_eq(last_dirty, 0);
	EXPECT(":2\r\n", "DEL", "a", "missing", "b", "a");
	ck_assert_uint_eq(last_dirty, 2);
	EXPECT_STR(0, "a", NULL);
	EXPECT_STR(0, "c", "3");
	EXPECT(":1\r\n", "unlink", "c", "c");
	ck_assert_uint_eq(last_dirty, 1);
	ck_assert_uint_eq(ap_db_size(db(0)), 0);
	/* An expired key is not counted. */
	set_str(0, "t", "x", NOW + 10);
	ap_keyspace_set_now(ks, NOW + 11);
	EXPECT(":0\r\n", "del", "t");
	EXPECT("-ERR wrong number of arguments\r\n", "del");
}
END_TEST

START_TEST(test_exists_touch)
{
	set_str(0, "a", "1", AP_NO_EXPIRE);
	set_str(0, "b", "2", NOW + 1000);
	EXPECT(":0\r\n", "exists", "nope");
	EXPECT(":4\r\n", "exists", "a", "a", "b", "nope", "a");
	EXPECT(":2\r\n", "touch", "a", "b", "nope");
	EXPECT(":2\r\n", "TOUCH", "a", "a");
	ck_assert_uint_eq(last_dirty, 0);
	/* At the expiry instant the key still lives; 1 ms later it is gone. */
	ap_keyspace_set_now(ks, NOW + 1000);
	EXPECT(":1\r\n", "exists", "b");
	ap_keyspace_set_now(ks, NOW + 1001);
	EXPECT(":0\r\n", "exists", "b");
	EXPECT(":0\r\n", "touch", "b");
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
	EXPECT("+none\r\n", "type", "missing");
	EXPECT("+string\r\n", "type", "s");
	EXPECT("+string\r\n", "type", "i");
	EXPECT("+list\r\n", "type", "l");
	EXPECT("-ERR wrong number of arguments\r\n", "type", "s", "x");
}
END_TEST

/* --- EXPIRE family ------------------------------------------------------ */

START_TEST(test_expire_basic)
{
	EXPECT(":0\r\n", "expire", "missing", "10");
	EXPECT(":0\r\n", "pexpire", "missing", "10");
	EXPECT(":0\r\n", "expireat", "missing", "9999999999");
	EXPECT(":0\r\n", "pexpireat", "missing", "9999999999999");
	ck_assert_uint_eq(last_dirty, 0);
	set_str(0, "k", "v", AP_NO_EXPIRE);
	EXPECT(":1\r\n", "expire", "k", "10");
	ck_assert_uint_eq(last_dirty, 1);
	ck_assert_int_eq(expire_of(0, "k"), NOW + 10000);
	EXPECT(":1\r\n", "pexpire", "k", "1234");
	ck_assert_int_eq(expire_of(0, "k"), NOW + 1234);
	EXPECT(":1\r\n", "expireat", "k", "1800000000");
	ck_assert_int_eq(expire_of(0, "k"), 1800000000000LL);
	EXPECT(":1\r\n", "pexpireat", "k", "1800000000123");
	ck_assert_int_eq(expire_of(0, "k"), 1800000000123LL);
	EXPECT_STR(0, "k", "v");
	/* The key expires lazily when the clock passes its time. */
	EXPECT(":1\r\n", "pexpire", "k", "50");
	ap_keyspace_set_now(ks, NOW + 51);
	EXPECT(":-2\r\n", "ttl", "k");
	EXPECT(":0\r\n", "expire", "k", "10");
}
END_TEST

START_TEST(test_expire_errors)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	EXPECT("-ERR value is not an integer or out of range\r\n", "expire",
	       "k", "1.5");
	EXPECT("-ERR value is not an integer or out of range\r\n", "pexpire",
	       "k", "abc");
	EXPECT("-ERR value is not an integer or out of range\r\n", "expire",
	       "k", "9223372036854775808");
	EXPECT("-ERR Unsupported option FOO\r\n", "expire", "k", "10", "FOO");
	/* Options are checked before the time. */
	EXPECT("-ERR Unsupported option bar\r\n", "pexpireat", "k", "abc", "nx",
	       "bar");
	EXPECT("-ERR NX and XX, GT or LT options at the same time are not "
	       "compatible\r\n",
	       "expire", "k", "10", "NX", "XX");
	EXPECT("-ERR NX and XX, GT or LT options at the same time are not "
	       "compatible\r\n",
	       "expire", "k", "10", "gt", "nx");
	EXPECT("-ERR NX and XX, GT or LT options at the same time are not "
	       "compatible\r\n",
	       "expire", "k", "10", "nx", "lt");
	EXPECT("-ERR GT and LT options at the same time are not "
	       "compatible\r\n",
	       "expire", "k", "10", "GT", "LT");
	EXPECT("-ERR wrong number of arguments\r\n", "expire", "k");
	/* Nothing changed. */
	ck_assert_int_eq(expire_of(0, "k"), AP_NO_EXPIRE);
	ck_assert_uint_eq(last_dirty, 0);
}
END_TEST

START_TEST(test_expire_nx_xx)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	EXPECT(":0\r\n", "expire", "k", "10", "XX");
	ck_assert_int_eq(expire_of(0, "k"), AP_NO_EXPIRE);
	EXPECT(":1\r\n", "expire", "k", "10", "NX");
	ck_assert_int_eq(expire_of(0, "k"), NOW + 10000);
	EXPECT(":0\r\n", "expire", "k", "20", "nx");
	ck_assert_int_eq(expire_of(0, "k"), NOW + 10000);
	EXPECT(":1\r\n", "expire", "k", "20", "xx");
	ck_assert_int_eq(expire_of(0, "k"), NOW + 20000);
	/* Repeated options are accepted. */
	EXPECT(":1\r\n", "expire", "k", "30", "XX", "XX");
	ck_assert_int_eq(expire_of(0, "k"), NOW + 30000);
}
END_TEST

START_TEST(test_expire_gt_lt)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	/* No TTL counts as an infinite one. */
	EXPECT(":0\r\n", "expire", "k", "100", "GT");
	ck_assert_int_eq(expire_of(0, "k"), AP_NO_EXPIRE);
	EXPECT(":1\r\n", "expire", "k", "100", "LT");
	ck_assert_int_eq(expire_of(0, "k"), NOW + 100000);
	/* GT: strictly greater only. */
	EXPECT(":0\r\n", "expire", "k", "100", "GT");
	EXPECT(":0\r\n", "pexpire", "k", "99999", "GT");
	EXPECT(":1\r\n", "pexpire", "k", "100001", "GT");
	ck_assert_int_eq(expire_of(0, "k"), NOW + 100001);
	/* LT: strictly less only. */
	EXPECT(":0\r\n", "pexpire", "k", "100001", "LT");
	EXPECT(":0\r\n", "pexpire", "k", "100002", "lt");
	EXPECT(":1\r\n", "pexpire", "k", "100000", "LT");
	ck_assert_int_eq(expire_of(0, "k"), NOW + 100000);
	/* XX combines with GT and LT. */
	EXPECT(":1\r\n", "expire", "k", "200", "XX", "GT");
	ck_assert_int_eq(expire_of(0, "k"), NOW + 200000);
	EXPECT(":1\r\n", "expire", "k", "50", "LT", "XX");
	ck_assert_int_eq(expire_of(0, "k"), NOW + 50000);
	set_str(0, "p", "v", AP_NO_EXPIRE);
	EXPECT(":0\r\n", "expire", "p", "50", "XX", "LT");
	ck_assert_int_eq(expire_of(0, "p"), AP_NO_EXPIRE);
	/* The absolute forms compare absolute times. */
	EXPECT(":1\r\n", "pexpireat", "k", "1800000000000", "GT");
	EXPECT(":0\r\n", "expireat", "k", "1800000000", "GT");
	EXPECT(":1\r\n", "expireat", "k", "1799999999", "LT");
	ck_assert_int_eq(expire_of(0, "k"), 1799999999000LL);
}
END_TEST

START_TEST(test_expire_past_deletes)
{
	set_str(0, "a", "v", AP_NO_EXPIRE);
	EXPECT(":1\r\n", "expire", "a", "0");
	ck_assert_uint_eq(last_dirty, 1);
	EXPECT_STR(0, "a", NULL);
	set_str(0, "a", "v", AP_NO_EXPIRE);
	EXPECT(":1\r\n", "expire", "a", "-5");
	EXPECT_STR(0, "a", NULL);
	/* Exactly now is in the past; now + 1 is not. */
	set_str(0, "a", "v", AP_NO_EXPIRE);
	EXPECT(":1\r\n", "pexpireat", "a", "1700000000001");
	EXPECT(":1\r\n", "pttl", "a");
	EXPECT(":1\r\n", "pexpireat", "a", "1700000000000");
	EXPECT_STR(0, "a", NULL);
	set_str(0, "a", "v", AP_NO_EXPIRE);
	EXPECT(":1\r\n", "expireat", "a", "1");
	EXPECT_STR(0, "a", NULL);
	/* GT refuses a past time on a key without TTL; LT takes it. */
	set_str(0, "a", "v", AP_NO_EXPIRE);
	EXPECT(":0\r\n", "expire", "a", "-1", "GT");
	EXPECT_STR(0, "a", "v");
	EXPECT(":1\r\n", "expire", "a", "-1", "LT");
	EXPECT_STR(0, "a", NULL);
	/* NX on a volatile key refuses even a past time. */
	set_str(0, "a", "v", NOW + 5000);
	EXPECT(":0\r\n", "expire", "a", "-1", "NX");
	EXPECT_STR(0, "a", "v");
	EXPECT(":1\r\n", "pexpire", "a", "0", "XX");
	EXPECT_STR(0, "a", NULL);
}
END_TEST

START_TEST(test_expire_overflow)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	/* seconds * 1000 overflows. */
	EXPECT("-ERR invalid expire time in 'expire' command\r\n", "expire",
	       "k", "9223372036854775807");
	EXPECT("-ERR invalid expire time in 'expire' command\r\n", "expire",
	       "k", "9223372036854776");
	EXPECT("-ERR invalid expire time in 'expireat' command\r\n", "expireat",
	       "k", "9223372036854776");
	EXPECT("-ERR invalid expire time in 'expire' command\r\n", "expire",
	       "k", "-9223372036854776");
	EXPECT("-ERR invalid expire time in 'expireat' command\r\n", "expireat",
	       "k", "-9223372036854775808");
	/* The largest second count that fits, but now + it overflows. */
	EXPECT("-ERR invalid expire time in 'expire' command\r\n", "expire",
	       "k", "9223372036854775");
	EXPECT("-ERR invalid expire time in 'pexpire' command\r\n", "pexpire",
	       "k", "9223372036854775807");
	/* now + delta == LLONG_MAX fits exactly; one more does not. */
	EXPECT(":1\r\n", "pexpire", "k", "9223370336854775807");
	ck_assert_int_eq(expire_of(0, "k"), INT64_MAX);
	EXPECT("-ERR invalid expire time in 'pexpire' command\r\n", "pexpire",
	       "k", "9223370336854775808");
	ck_assert_uint_eq(last_dirty, 0);
	/* Absolute forms have no base to overflow. */
	EXPECT(":1\r\n", "expireat", "k", "9223372036854775");
	ck_assert_int_eq(expire_of(0, "k"), 9223372036854775000LL);
	EXPECT(":1\r\n", "pexpireat", "k", "9223372036854775807");
	ck_assert_int_eq(expire_of(0, "k"), INT64_MAX);
	EXPECT(":9223372036854775807\r\n", "pexpiretime", "k");
	EXPECT(":9223372036854776\r\n", "expiretime", "k");
	/* Very negative but representable: a past time, the key goes. */
	EXPECT(":1\r\n", "expire", "k", "-9223372036854775");
	EXPECT_STR(0, "k", NULL);
	set_str(0, "k", "v", AP_NO_EXPIRE);
	EXPECT(":1\r\n", "pexpireat", "k", "-9223372036854775808");
	EXPECT_STR(0, "k", NULL);
}
END_TEST

/* --- TTL PTTL EXPIRETIME PEXPIRETIME PERSIST ----------------------------- */

START_TEST(test_ttl_family)
{
	EXPECT(":-2\r\n", "ttl", "missing");
	EXPECT(":-2\r\n", "pttl", "missing");
	EXPECT(":-2\r\n", "expiretime", "missing");
	EXPECT(":-2\r\n", "pexpiretime", "missing");
	set_str(0, "k", "v", AP_NO_EXPIRE);
	EXPECT(":-1\r\n", "ttl", "k");
	EXPECT(":-1\r\n", "pttl", "k");
	EXPECT(":-1\r\n", "expiretime", "k");
	EXPECT(":-1\r\n", "pexpiretime", "k");
	/* Seconds are rounded to the nearest. */
	set_str(0, "k", "v", NOW + 1499);
	EXPECT(":1\r\n", "ttl", "k");
	EXPECT(":1499\r\n", "pttl", "k");
	set_str(0, "k", "v", NOW + 1500);
	EXPECT(":2\r\n", "ttl", "k");
	set_str(0, "k", "v", NOW + 499);
	EXPECT(":0\r\n", "ttl", "k");
	EXPECT(":1700000000499\r\n", "pexpiretime", "k");
	EXPECT(":1700000000\r\n", "expiretime", "k");
	set_str(0, "k", "v", NOW + 1500);
	EXPECT(":1700000002\r\n", "expiretime", "k");
	/* At the expiry instant: still there with 0 left. */
	ap_keyspace_set_now(ks, NOW + 1500);
	EXPECT(":0\r\n", "pttl", "k");
	EXPECT(":0\r\n", "ttl", "k");
	ap_keyspace_set_now(ks, NOW + 1501);
	EXPECT(":-2\r\n", "pttl", "k");
	EXPECT("-ERR wrong number of arguments\r\n", "ttl");
	EXPECT("-ERR wrong number of arguments\r\n", "pttl", "a", "b");
}
END_TEST

START_TEST(test_persist)
{
	EXPECT(":0\r\n", "persist", "missing");
	set_str(0, "k", "v", AP_NO_EXPIRE);
	EXPECT(":0\r\n", "persist", "k");
	ck_assert_uint_eq(last_dirty, 0);
	set_str(0, "k", "v", NOW + 10000);
	EXPECT(":1\r\n", "persist", "k");
	ck_assert_uint_eq(last_dirty, 1);
	EXPECT(":-1\r\n", "ttl", "k");
	EXPECT(":0\r\n", "persist", "k");
	ap_keyspace_set_now(ks, NOW + 100000);
	EXPECT_STR(0, "k", "v");
	ck_assert_uint_eq(ap_db_volatile_size(db(0)), 0);
}
END_TEST

/* --- RENAME RENAMENX ----------------------------------------------------- */

START_TEST(test_rename)
{
	EXPECT("-ERR no such key\r\n", "rename", "missing", "x");
	EXPECT("-ERR no such key\r\n", "rename", "missing", "missing");
	EXPECT("-ERR no such key\r\n", "renamenx", "missing", "x");
	set_str(0, "a", "va", NOW + 100000);
	EXPECT("+OK\r\n", "rename", "a", "b");
	ck_assert_uint_eq(last_dirty, 1);
	EXPECT_STR(0, "a", NULL);
	EXPECT_STR(0, "b", "va");
	/* The TTL moved with the value. */
	EXPECT(":100000\r\n", "pttl", "b");
	ck_assert_uint_eq(ap_db_size(db(0)), 1);
	/* Onto an existing key: its value and TTL are replaced. */
	set_str(0, "c", "vc", AP_NO_EXPIRE);
	EXPECT("+OK\r\n", "rename", "c", "b");
	EXPECT_STR(0, "b", "vc");
	EXPECT(":-1\r\n", "ttl", "b");
	ck_assert_uint_eq(ap_db_size(db(0)), 1);
	ck_assert_uint_eq(ap_db_volatile_size(db(0)), 0);
	/* To itself: nothing changes. */
	set_str(0, "s", "vs", NOW + 5000);
	EXPECT("+OK\r\n", "rename", "s", "s");
	ck_assert_uint_eq(last_dirty, 0);
	EXPECT_STR(0, "s", "vs");
	EXPECT(":5000\r\n", "pttl", "s");
	/* Integer encoding survives. */
	ap_db_set_int(db(0), "n", 1, -77, AP_NO_EXPIRE);
	EXPECT("+OK\r\n", "rename", "n", "m");
	EXPECT("$3\r\nint\r\n", "object", "encoding", "m");
	EXPECT_STR(0, "m", "-77");
	/* An expired source does not exist. */
	set_str(0, "e", "ve", NOW + 10);
	ap_keyspace_set_now(ks, NOW + 11);
	EXPECT("-ERR no such key\r\n", "rename", "e", "f");
	EXPECT_STR(0, "f", NULL);
}
END_TEST

START_TEST(test_renamenx)
{
	set_str(0, "a", "va", NOW + 7000);
	set_str(0, "b", "vb", AP_NO_EXPIRE);
	EXPECT(":0\r\n", "renamenx", "a", "b");
	ck_assert_uint_eq(last_dirty, 0);
	EXPECT_STR(0, "a", "va");
	EXPECT_STR(0, "b", "vb");
	EXPECT(":0\r\n", "renamenx", "a", "a");
	EXPECT_STR(0, "a", "va");
	EXPECT(":1\r\n", "RENAMENX", "a", "c");
	ck_assert_uint_eq(last_dirty, 1);
	EXPECT_STR(0, "a", NULL);
	EXPECT_STR(0, "c", "va");
	EXPECT(":7000\r\n", "pttl", "c");
	/* An expired destination counts as missing. */
	set_str(0, "d", "vd", NOW + 10);
	ap_keyspace_set_now(ks, NOW + 11);
	EXPECT(":1\r\n", "renamenx", "b", "d");
	EXPECT_STR(0, "d", "vb");
	EXPECT(":-1\r\n", "ttl", "d");
	EXPECT("-ERR wrong number of arguments\r\n", "renamenx", "a");
}
END_TEST

/* --- COPY ---------------------------------------------------------------- */

START_TEST(test_copy_same_db)
{
	EXPECT(":0\r\n", "copy", "missing", "x");
	ck_assert_uint_eq(last_dirty, 0);
	set_str(0, "a", "hello", NOW + 60000);
	EXPECT(":1\r\n", "copy", "a", "b");
	ck_assert_uint_eq(last_dirty, 1);
	EXPECT_STR(0, "a", "hello");
	EXPECT_STR(0, "b", "hello");
	EXPECT(":60000\r\n", "pttl", "b");
	EXPECT(":60000\r\n", "pttl", "a");
	/* The copy is independent of the source. */
	ap_db_set_int(db(0), "b", 1, 5, AP_NO_EXPIRE);
	EXPECT_STR(0, "a", "hello");
	/* Destination exists: 0 without REPLACE. */
	EXPECT(":0\r\n", "copy", "a", "b");
	EXPECT_STR(0, "b", "5");
	EXPECT(":1\r\n", "copy", "a", "b", "REPLACE");
	EXPECT_STR(0, "b", "hello");
	EXPECT(":60000\r\n", "pttl", "b");
	/* REPLACE of a volatile destination by a persistent source. */
	set_str(0, "p", "persist", AP_NO_EXPIRE);
	EXPECT(":1\r\n", "copy", "p", "b", "replace");
	EXPECT(":-1\r\n", "ttl", "b");
	EXPECT_STR(0, "b", "persist");
	/* Same key in the same database. */
	EXPECT("-ERR source and destination objects are the same\r\n", "copy",
	       "a", "a");
	EXPECT("-ERR source and destination objects are the same\r\n", "copy",
	       "a", "a", "DB", "0", "REPLACE");
	EXPECT("-ERR source and destination objects are the same\r\n", "copy",
	       "missing", "missing");
}
END_TEST

START_TEST(test_copy_other_db)
{
	set_str(0, "a", "hello", NOW + 1000);
	EXPECT(":1\r\n", "copy", "a", "a", "DB", "1");
	EXPECT_STR(1, "a", "hello");
	ck_assert_int_eq(expire_of(1, "a"), NOW + 1000);
	EXPECT_STR(0, "a", "hello");
	EXPECT(":0\r\n", "copy", "a", "a", "db", "1");
	set_str(15, "x", "old", AP_NO_EXPIRE);
	EXPECT(":0\r\n", "copy", "a", "x", "db", "15");
	EXPECT(":1\r\n", "copy", "a", "x", "db", "15", "replace");
	EXPECT_STR(15, "x", "hello");
	ck_assert_uint_eq(ap_db_size(db(0)), 1);
	/* The last DB option wins. */
	EXPECT(":1\r\n", "copy", "a", "y", "db", "15", "db", "3");
	EXPECT_STR(3, "y", "hello");
	EXPECT_STR(15, "y", NULL);
	/* From a non-zero database back to 0. */
	cur_db = 3;
	EXPECT(":1\r\n", "copy", "y", "z", "DB", "0");
	EXPECT_STR(0, "z", "hello");
	EXPECT("-ERR source and destination objects are the same\r\n", "copy",
	       "y", "y", "db", "3");
}
END_TEST

START_TEST(test_copy_errors)
{
	set_str(0, "a", "v", AP_NO_EXPIRE);
	EXPECT("-ERR DB index is out of range\r\n", "copy", "a", "b", "db",
	       "16");
	EXPECT("-ERR DB index is out of range\r\n", "copy", "a", "b", "db",
	       "-1");
	EXPECT("-ERR value is not an integer or out of range\r\n", "copy", "a",
	       "b", "db", "x");
	EXPECT("-ERR value is out of range, value must between -2147483648 "
	       "and 2147483647\r\n",
	       "copy", "a", "b", "db", "2147483648");
	EXPECT("-ERR value is out of range, value must between -2147483648 "
	       "and 2147483647\r\n",
	       "copy", "a", "b", "db", "-2147483649");
	EXPECT("-ERR DB index is out of range\r\n", "copy", "a", "b", "db",
	       "2147483647");
	EXPECT("-ERR syntax error\r\n", "copy", "a", "b", "db");
	EXPECT("-ERR syntax error\r\n", "copy", "a", "b", "replace", "db");
	EXPECT("-ERR syntax error\r\n", "copy", "a", "b", "foo");
	EXPECT("-ERR wrong number of arguments\r\n", "copy", "a");
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
	EXPECT(":1\r\n", "copy", "i", "i2");
	EXPECT("$3\r\nint\r\n", "object", "encoding", "i2");
	EXPECT_STR(0, "i2", "123456789");
	EXPECT(":1\r\n", "copy", "r", "r2", "db", "2");
	EXPECT("$3\r\nraw\r\n", "object", "encoding", "r");
	EXPECT_STR(2, "r2", raw);
	l->n = 7;
	ap_db_set_object(db(0), "l", 1, AP_TYPE_LIST, AP_ENC_QUICKLIST, l,
			 NOW + 3000);
	EXPECT(":1\r\n", "copy", "l", "l2");
	ck_assert_int_eq(fake_dups, 1);
	EXPECT("+list\r\n", "type", "l2");
	EXPECT("$9\r\nquicklist\r\n", "object", "encoding", "l2");
	EXPECT(":3000\r\n", "pttl", "l2");
	e1 = ap_db_lookup(db(0), "l", 1, AP_LK_NOTOUCH);
	e2 = ap_db_lookup(db(0), "l2", 2, AP_LK_NOTOUCH);
	ck_assert_ptr_ne(ap_entry_obj(e1), ap_entry_obj(e2));
	ck_assert_int_eq(((struct fake_list *)ap_entry_obj(e2))->n, 7);
}
END_TEST

/* --- MOVE ---------------------------------------------------------------- */

START_TEST(test_move)
{
	EXPECT(":0\r\n", "move", "missing", "1");
	set_str(0, "k", "v", NOW + 9000);
	EXPECT(":1\r\n", "move", "k", "1");
	ck_assert_uint_eq(last_dirty, 1);
	EXPECT_STR(0, "k", NULL);
	EXPECT_STR(1, "k", "v");
	ck_assert_int_eq(expire_of(1, "k"), NOW + 9000);
	ck_assert_uint_eq(ap_db_volatile_size(db(0)), 0);
	ck_assert_uint_eq(ap_db_volatile_size(db(1)), 1);
	/* Target holds the key: nothing moves. */
	set_str(0, "k", "other", AP_NO_EXPIRE);
	EXPECT(":0\r\n", "move", "k", "1");
	ck_assert_uint_eq(last_dirty, 0);
	EXPECT_STR(0, "k", "other");
	EXPECT_STR(1, "k", "v");
	/* The highest database. */
	EXPECT(":1\r\n", "move", "k", "15");
	EXPECT_STR(15, "k", "other");
	/* An expired target key does not block the move. */
	cur_db = 1;
	set_str(2, "k", "stale", NOW + 5);
	ap_keyspace_set_now(ks, NOW + 6);
	EXPECT(":1\r\n", "move", "k", "2");
	EXPECT_STR(2, "k", "v");
	EXPECT_STR(1, "k", NULL);
}
END_TEST

START_TEST(test_move_errors)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	EXPECT("-ERR source and destination objects are the same\r\n", "move",
	       "k", "0");
	/* The database is checked before the key. */
	EXPECT("-ERR source and destination objects are the same\r\n", "move",
	       "missing", "0");
	EXPECT("-ERR DB index is out of range\r\n", "move", "k", "16");
	EXPECT("-ERR DB index is out of range\r\n", "move", "missing", "-1");
	EXPECT("-ERR value is not an integer or out of range\r\n", "move", "k",
	       "one");
	EXPECT("-ERR value is out of range, value must between -2147483648 "
	       "and 2147483647\r\n",
	       "move", "k", "2147483648");
	EXPECT("-ERR wrong number of arguments\r\n", "move", "k");
	EXPECT("-ERR wrong number of arguments\r\n", "move", "k", "1", "2");
	EXPECT_STR(0, "k", "v");
	cur_db = 5;
	set_str(5, "k", "v5", AP_NO_EXPIRE);
	EXPECT("-ERR source and destination objects are the same\r\n", "move",
	       "k", "5");
	/* db 0 holds k already. */
	EXPECT(":0\r\n", "move", "k", "0");
	EXPECT_STR(5, "k", "v5");
	ck_assert(ap_db_delete(db(0), "k", 1));
	EXPECT(":1\r\n", "move", "k", "0");
	EXPECT_STR(0, "k", "v5");
	EXPECT(":0\r\n", "move", "k", "0");
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
	EXPECT("$3\r\nint\r\n", "object", "encoding", "int");
	EXPECT("$3\r\nint\r\n", "OBJECT", "ENCODING", "neg");
	EXPECT("$3\r\nint\r\n", "object", "encoding", "setint");
	EXPECT("$6\r\nembstr\r\n", "object", "encoding", "big");
	EXPECT("$6\r\nembstr\r\n", "object", "encoding", "lead0");
	EXPECT("$6\r\nembstr\r\n", "object", "encoding", "emb");
	EXPECT("$6\r\nembstr\r\n", "object", "encoding", "empty");
	EXPECT("$6\r\nembstr\r\n", "object", "encoding", "s44");
	EXPECT("$3\r\nraw\r\n", "object", "encoding", "s45");
	EXPECT("$-1\r\n", "object", "encoding", "missing");
	EXPECT("-ERR wrong number of arguments\r\n", "object", "encoding");
	EXPECT("-ERR wrong number of arguments\r\n", "object", "encoding",
	       "int", "x");
	cur_proto = 3;
	EXPECT("_\r\n", "object", "encoding", "missing");
	EXPECT("$3\r\nint\r\n", "object", "encoding", "int");
	/* No change, no dirty. */
	ck_assert_uint_eq(last_dirty, 0);
}
END_TEST

START_TEST(test_object_others)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	EXPECT(":1\r\n", "object", "refcount", "k");
	EXPECT("$-1\r\n", "object", "refcount", "missing");
	EXPECT(":0\r\n", "object", "idletime", "k");
	EXPECT("$-1\r\n", "object", "idletime", "missing");
	EXPECT("-ERR An LFU maxmemory policy is not selected, access "
	       "frequency not tracked. Please note that when switching "
	       "between policies at runtime LRU and LFU data will take some "
	       "time to adjust.\r\n",
	       "object", "freq", "k");
	EXPECT("$-1\r\n", "object", "freq", "missing");
	cur_proto = 3;
	EXPECT("_\r\n", "object", "freq", "missing");
	EXPECT("_\r\n", "object", "idletime", "missing");
	EXPECT("_\r\n", "object", "refcount", "missing");
	EXPECT(":1\r\n", "object", "refcount", "k");
}
END_TEST

START_TEST(test_object_idletime)
{
	set_str(0, "k", "v", AP_NO_EXPIRE);
	set_str(0, "t", "v", AP_NO_EXPIRE);
	ap_keyspace_set_now(ks, NOW + 100000);
	/* OBJECT and TTL/EXISTS/TYPE do not touch the key; TOUCH does. */
	EXPECT(":100\r\n", "object", "idletime", "k");
	EXPECT(":1\r\n", "exists", "k");
	EXPECT(":-1\r\n", "ttl", "k");
	EXPECT("+string\r\n", "type", "k");
	EXPECT(":100\r\n", "object", "idletime", "k");
	EXPECT(":1\r\n", "touch", "t");
	EXPECT(":0\r\n", "object", "idletime", "t");
	EXPECT(":100\r\n", "object", "idletime", "k");
}
END_TEST

START_TEST(test_object_help)
{
	static const char head[] =
		"*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. "
		"Subcommands are:\r\n+ENCODING <key>\r\n";
	static const char tail[] = "\r\n+HELP\r\n+    Print this help.\r\n";
	char *got = run((const char *const[]){"object", "help", NULL});
	size_t len = strlen(got);

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
	ap_free(got);
	EXPECT("-ERR wrong number of arguments\r\n", "object", "help", "x");
}
END_TEST

/* --- the table ----------------------------------------------------------- */

static void check_docs(const struct ap_cmd *c)
{
	ck_assert_msg(c->group && strcmp(c->group, "generic") == 0, "%s",
		      c->name);
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
		"renamenx",    "copy",	  "move",     "object",
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

	tcase_add_checked_fixture(tc, setup, teardown);
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
