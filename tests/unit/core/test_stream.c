/*
 * test_stream.c - streamed replies (core/cmd.h, struct ap_cmd_stream):
 * SMEMBERS, HGETALL, HKEYS, HVALS, ZRANGE (rank, REV, WITHSCORES,
 * BYSCORE with LIMIT), ZREVRANGE and LRANGE over huge collections of
 * every encoding, stepped with various budgets, in RESP2 and RESP3, must
 * give exactly the bytes of the same reply written in one go (the
 * reference), with other readers of the same keys running between steps
 * (iterators of their own, list loans taken back). Also: the exact
 * threshold (AP_REPLY_STREAM_MIN), the byte budget of a step, what is
 * never streamed (BYLEX, ZRANGESTORE, may_stream off), and the entry pin
 * of core/keyspace.h (an expired pinned key reads as absent and is not
 * deleted until unpinned).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/core/cmd_harness.h"

#include "core/limits.h"

#define MIN_N AP_REPLY_STREAM_MIN

/* Failure-only assertion for hot loops. */
#define CK(x)                                                              \
	do {                                                               \
		if (!(x))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #x); \
	} while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* splitmix64: deterministic test randomness. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* --- building big collections ------------------------------------------ */

/* How element i of a collection is spelled. */
enum spell {
	SP_INT = 0,  /* decimal integers (intsets, listpack integers) */
	SP_STR = 1,  /* short strings */
	SP_MIX = 2,  /* integers and strings of random lengths */
	SP_BIG = 3,  /* 2 KB strings (the byte budget) */
	SP_SAME = 4, /* ZADD: every score equal (lex order) */
};

/* Writes element i into buf (which has room for 2100 bytes); returns
 * its length. */
static size_t spell(enum spell sp, size_t i, char *buf)
{
	switch (sp) {
	case SP_INT:
		return (size_t)sprintf(buf, "%zu", i * 7 + 3);
	case SP_BIG: {
		int n = sprintf(buf, "big:%zu:", i);
		memset(buf + n, 'x', 2048);
		return (size_t)n + 2048;
	}
	case SP_MIX:
		if (i % 3 == 0)
			return (size_t)sprintf(buf, "%zu", i);
		return (size_t)sprintf(
			buf, "m:%zu:%.*s", i, (int)(i % 40),
			"abcdefghijklmnopqrstuvwxyz0123456789ABCD");
	default:
		return (size_t)sprintf(buf, "member:%zu", i);
	}
}

/* Runs `cmd key` followed by the elements [from, to) (with a score or
 * value before/after each as the command wants) in one command. */
static void fill_chunk(const char *cmd, const char *key, enum spell sp,
		       size_t from, size_t to)
{
	size_t per = strcmp(cmd, "sadd") && strcmp(cmd, "rpush") ? 2 : 1;
	size_t argc = 2 + (to - from) * per;
	struct ap_arg *argv = calloc(argc, sizeof(*argv));
	char *bufs = malloc((to - from) * per * 2100);
	size_t a = 2;

	argv[0] = (struct ap_arg){cmd, strlen(cmd)};
	argv[1] = (struct ap_arg){key, strlen(key)};
	for (size_t i = from; i < to; i++) {
		char *m = bufs + (i - from) * per * 2100;
		size_t mlen = spell(sp == SP_SAME ? SP_STR : sp, i, m);
		if (!strcmp(cmd, "zadd")) {
			char *sc = m + 2080;
			size_t slen =
				sp == SP_SAME
					? (size_t)sprintf(sc, "1")
					: (size_t)sprintf(
						  sc, "%.17g",
						  (double)(rnd() % 1000) / 8);
			argv[a++] = (struct ap_arg){sc, slen};
		}
		argv[a++] = (struct ap_arg){m, mlen};
		if (!strcmp(cmd, "hset")) {
			char *v = bufs + ((i - from) * per + 1) * 2100;
			size_t vlen = spell(sp, i * 13 + 1, v);
			argv[a++] = (struct ap_arg){v, vlen};
		}
	}
	ck_assert_uint_eq(a, argc);
	size_t len;
	char *got = h_run_argv(argv, (int)argc, &len);
	CK(len > 0 && got[0] == ':');
	ap_free(got);
	free(bufs);
	free(argv);
}

/* Makes key a collection of n elements via cmd (sadd, hset, zadd,
 * rpush). */
static void fill(const char *cmd, const char *key, enum spell sp, size_t n)
{
	for (size_t i = 0; i < n; i += 1000)
		fill_chunk(cmd, key, sp, i, i + 1000 < n ? i + 1000 : n);
}

/* --- running a command streamed ----------------------------------------- */

/* Steps after the command's own of a stream of n elements stepped by
 * budget (when the byte budget does not bind). */
static size_t steps_for(size_t n, size_t budget)
{
	if (n <= AP_REPLY_STREAM_BUDGET)
		return 0;
	return (n - AP_REPLY_STREAM_BUDGET + budget - 1) / budget;
}

/* Reads run between the steps of a stream: they must leave it alone. */
static const char *const *const interleaved[] = {
	(const char *const[]){"sismember", "s", "member:5", NULL},
	(const char *const[]){"scard", "s", NULL},
	(const char *const[]){"smembers", "s", NULL}, /* one go, same set */
	(const char *const[]){"hget", "h", "member:7", NULL},
	(const char *const[]){"hgetall", "h", NULL},
	(const char *const[]){"zscore", "z", "member:3", NULL},
	(const char *const[]){"zrange", "z", "5", "20", "withscores", NULL},
	(const char *const[]){"lindex", "l", "4321", NULL},
	(const char *const[]){"lrange", "l", "100", "2000", NULL},
	(const char *const[]){"lrange", "l", "0", "-1", NULL},
	(const char *const[]){"llen", "l", NULL},
	(const char *const[]){"get", "nokey", NULL},
};
#define INTERLEAVED (sizeof(interleaved) / sizeof(interleaved[0]))

/* What run_streamed saw. */
struct run_info {
	size_t steps;	   /* steps after the command's own (0: not streamed) */
	size_t max_step;   /* most bytes one later step wrote */
	size_t first_step; /* bytes of the command's own call */
};

/* Runs words with may_stream set, then steps the stream (budget elements
 * a step) until complete, running an interleaved read between steps when
 * `mix` is set; returns the reply bytes (free with ap_free). */
static char *run_streamed(const char *const *words, size_t budget, bool mix,
			  size_t *len, struct run_info *info)
{
	struct ap_arg argv[H_ARGS_MAX] = {{0}};
	int argc = 0;
	struct ap_obuf ob;
	struct ap_reply r;

	for (; words[argc] != NULL; argc++)
		argv[argc] = (struct ap_arg){words[argc], strlen(words[argc])};
	const struct ap_cmd *cmd = h_resolve(argv, argc);
	ck_assert(ap_cmd_arity_ok(cmd, argc));
	ap_obuf_init(&ob);
	ap_reply_init(&r, &ob, h_proto);
	struct ap_cmd_ctx c = {
		.ks = h_ks,
		.db = h_dbp(),
		.db_idx = h_db,
		.r = &r,
		.cfg = &h_cfg,
		.argc = argc,
		.argv = argv,
		.cmd = cmd,
		.may_stream = true,
	};
	cmd->fn(&c);
	memset(info, 0, sizeof(*info));
	info->first_step = ob.len;
	if (c.stream.step != NULL) {
		ck_assert_ptr_nonnull(c.stream.free);
		/* The key it reads is the command's key, as it is now. */
		ck_assert_ptr_eq(c.stream.entry, h_peek(words[1]));
		bool done = false;
		while (!done) {
			if (mix) {
				size_t n;
				char *o = h_run(
					interleaved[rnd() % INTERLEAVED], &n);
				ap_free(o);
			}
			size_t before = ob.len;
			done = c.stream.step(c.stream.state, &r, budget);
			info->steps++;
			info->max_step =
				AP_MAX(info->max_step, ob.len - before);
			CK(info->steps < 100000000);
		}
		c.stream.free(c.stream.state);
	}
	char *flat = ap_obuf_flatten(&ob, len);
	ap_obuf_deinit(&ob);
	return flat;
}

/* Runs words streamed (budget, mix) and in one go; the bytes must be
 * equal. Returns what the streamed run saw. */
static struct run_info check_same(int line, const char *const *words,
				  size_t budget, bool mix)
{
	struct run_info info;
	size_t slen, olen;
	char *streamed = run_streamed(words, budget, mix, &slen, &info);
	char *once = h_run(words, &olen);

	if (slen != olen || memcmp(streamed, once, slen) != 0) {
		size_t i = 0;
		while (i < slen && i < olen && streamed[i] == once[i])
			i++;
		ck_abort_msg("line %d: %s %s: streamed reply (%zu bytes, %zu "
			     "steps) differs from the one-go reply (%zu bytes) "
			     "at byte %zu",
			     line, words[0], words[1], slen, info.steps, olen,
			     i);
	}
	ap_free(streamed);
	ap_free(once);
	return info;
}

#define SAME(budget, mix, ...)                                                 \
	check_same(__LINE__, (const char *const[]){__VA_ARGS__, NULL}, budget, \
		   mix)

/* Sets a configuration integer of the harness. */
static void cfg_set(int *field, int v)
{
	*field = v;
}

/* The encoding of key (which must exist). */
static enum ap_enc enc_of(const char *key)
{
	struct ap_entry *e = h_peek(key);

	ck_assert_ptr_nonnull(e);
	return ap_entry_enc(e);
}

/* --- SMEMBERS --------------------------------------------------------- */

/* Every set encoding, both protocols, several budgets, readers between
 * the steps. */
START_TEST(test_smembers_encodings)
{
	static const struct {
		int intset_max, lp_max;
		enum spell sp;
		enum ap_enc enc;
	} cases[] = {
		{20000, 128, SP_INT, AP_ENC_INTSET},
		{512, 20000, SP_STR, AP_ENC_LISTPACK},
		{512, 128, SP_MIX, AP_ENC_HASHTABLE},
		{512, 128, SP_INT, AP_ENC_HASHTABLE},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		h_teardown();
		h_setup();
		cfg_set(&h_cfg.set_max_intset_entries, cases[k].intset_max);
		cfg_set(&h_cfg.set_max_listpack_entries, cases[k].lp_max);
		fill("sadd", "s", cases[k].sp, 12000);
		fill("hset", "h", SP_STR, 300);
		fill("zadd", "z", SP_STR, 300);
		fill("rpush", "l", SP_STR, 5000);
		ck_assert_int_eq(enc_of("s"), cases[k].enc);
		for (int proto = 2; proto <= 3; proto++) {
			h_proto = proto;
			struct run_info i = SAME(1000, false, "smembers", "s");
			/* The command's step, then 1000 a step (short
			 * members: the byte budget does not bind). */
			if (cases[k].sp != SP_MIX)
				ck_assert_uint_eq(i.steps,
						  steps_for(12000, 1000));
			SAME(1, false, "smembers", "s");
			SAME(29, true, "smembers", "s");
			SAME(777, true, "smembers", "s");
			i = SAME(AP_REPLY_STREAM_BUDGET, false, "smembers",
				 "s");
			if (cases[k].sp != SP_MIX)
				ck_assert_uint_eq(
					i.steps,
					steps_for(12000,
						  AP_REPLY_STREAM_BUDGET));
		}
	}
}
END_TEST

/* The threshold: up to AP_REPLY_STREAM_MIN members are written in one go
 * even with may_stream; one more is streamed. */
START_TEST(test_threshold)
{
	fill("sadd", "s", SP_STR, MIN_N);
	struct run_info i = SAME(100, false, "smembers", "s");
	ck_assert_uint_eq(i.steps, 0);
	H_EXPECT(":1\r\n", "sadd", "s", "one-more");
	i = SAME(100, false, "smembers", "s");
	ck_assert_uint_gt(i.steps, 0);
	/* The first step is the command's own: header + budget members. */
	fill("rpush", "l", SP_INT, MIN_N);
	i = SAME(100, false, "lrange", "l", "0", "-1");
	ck_assert_uint_eq(i.steps, 0);
	i = SAME(100, false, "lrange", "l", "0", "-2");
	ck_assert_uint_eq(i.steps, 0);
	H_EXPECT(":8193\r\n", "rpush", "l", "x");
	i = SAME(100, false, "lrange", "l", "0", "-1");
	ck_assert_uint_eq(i.steps, steps_for(MIN_N + 1, 100));
	i = SAME(100, false, "lrange", "l", "1", "-1");
	ck_assert_uint_eq(i.steps, 0);
	/* A missing key or another type is never streamed. */
	i = SAME(100, false, "smembers", "nokey");
	ck_assert_uint_eq(i.steps, 0);
	i = SAME(100, false, "smembers", "l");
	ck_assert_uint_eq(i.steps, 0);
}
END_TEST

/* A step stops once it wrote AP_REPLY_STREAM_BUDGET_BYTES bytes. */
START_TEST(test_byte_budget)
{
	cfg_set(&h_cfg.hash_max_listpack_value, 64);
	fill("hset", "h", SP_BIG, MIN_N + 10);
	ck_assert_int_eq(enc_of("h"), AP_ENC_HASHTABLE);
	for (int proto = 2; proto <= 3; proto++) {
		h_proto = proto;
		struct run_info i =
			SAME(AP_REPLY_STREAM_BUDGET, false, "hgetall", "h");
		/* Two 2 KB bulks per pair: a step is about 64 KB, never much
		 * more (one pair past the mark at most). */
		ck_assert_uint_lt(i.first_step,
				  AP_REPLY_STREAM_BUDGET_BYTES + 5000);
		ck_assert_uint_lt(i.max_step,
				  AP_REPLY_STREAM_BUDGET_BYTES + 5000);
		ck_assert_uint_gt(
			i.steps,
			(MIN_N * 4096) / (AP_REPLY_STREAM_BUDGET_BYTES + 5000));
		SAME(3, false, "hvals", "h");
		SAME(AP_REPLY_STREAM_BUDGET, false, "hkeys", "h");
	}
}
END_TEST

/* --- HGETALL HKEYS HVALS -------------------------------------------- */

START_TEST(test_hash_encodings)
{
	static const struct {
		int lp_max;
		enum spell sp;
		enum ap_enc enc;
	} cases[] = {
		{20000, SP_MIX, AP_ENC_LISTPACK},
		{128, SP_MIX, AP_ENC_HASHTABLE},
		{128, SP_INT, AP_ENC_HASHTABLE},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		h_teardown();
		h_setup();
		cfg_set(&h_cfg.hash_max_listpack_entries, cases[k].lp_max);
		fill("hset", "h", cases[k].sp, 10000);
		fill("sadd", "s", SP_STR, 300);
		fill("rpush", "l", SP_STR, 5000);
		ck_assert_int_eq(enc_of("h"), cases[k].enc);
		for (int proto = 2; proto <= 3; proto++) {
			h_proto = proto;
			struct run_info i = SAME(500, true, "hgetall", "h");
			ck_assert_uint_gt(i.steps, 0);
			SAME(1, false, "hkeys", "h");
			SAME(41, true, "hkeys", "h");
			SAME(4999, false, "hvals", "h");
			SAME(AP_REPLY_STREAM_BUDGET, true, "hgetall", "h");
		}
	}
}
END_TEST

/* --- ZRANGE and its family ------------------------------------------- */

START_TEST(test_zrange_encodings)
{
	static const struct {
		int lp_max;
		enum spell sp;
		enum ap_enc enc;
	} cases[] = {
		{20000, SP_MIX, AP_ENC_LISTPACK},
		{128, SP_MIX, AP_ENC_SKIPLIST},
		{128, SP_SAME, AP_ENC_SKIPLIST},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		h_teardown();
		h_setup();
		cfg_set(&h_cfg.zset_max_listpack_entries, cases[k].lp_max);
		fill("zadd", "z", cases[k].sp, 11000);
		fill("sadd", "s", SP_STR, 300);
		fill("rpush", "l", SP_STR, 5000);
		ck_assert_int_eq(enc_of("z"), cases[k].enc);
		for (int proto = 2; proto <= 3; proto++) {
			h_proto = proto;
			struct run_info i =
				SAME(700, true, "zrange", "z", "0", "-1");
			ck_assert_uint_gt(i.steps, 0);
			SAME(701, true, "zrange", "z", "0", "-1", "withscores");
			SAME(1, false, "zrange", "z", "5", "-7", "rev",
			     "withscores");
			SAME(999, true, "zrevrange", "z", "100", "10000",
			     "withscores");
			SAME(999, true, "zrevrange", "z", "0", "-1");
			i = SAME(333, true, "zrange", "z", "-inf", "+inf",
				 "byscore", "withscores");
			ck_assert_uint_gt(i.steps, 0);
			SAME(333, true, "zrange", "z", "(1", "100", "byscore",
			     "limit", "7", "10500");
			SAME(333, true, "zrange", "z", "+inf", "-inf",
			     "byscore", "rev", "limit", "3", "-1",
			     "withscores");
			SAME(333, false, "zrangebyscore", "z", "-inf", "+inf",
			     "withscores", "limit", "1", "100000");
			SAME(333, false, "zrevrangebyscore", "z", "+inf",
			     "-inf");
			/* A small range of a big set: one go. */
			i = SAME(10, false, "zrange", "z", "0", "8191");
			ck_assert_uint_eq(i.steps, 0);
			i = SAME(10, false, "zrange", "z", "0", "8192");
			ck_assert_uint_gt(i.steps, 0);
			/* BYLEX's length is known only once walked: never
			 * streamed. */
			i = SAME(10, false, "zrange", "z", "-", "+", "bylex");
			ck_assert_uint_eq(i.steps, 0);
			i = SAME(10, false, "zrangebylex", "z", "-", "+");
			ck_assert_uint_eq(i.steps, 0);
		}
	}
}
END_TEST

/* ZRANGESTORE writes: nothing to stream, the store happens in full. */
START_TEST(test_zrangestore_not_streamed)
{
	size_t len;
	struct run_info i;

	fill("zadd", "z", SP_STR, MIN_N + 100);
	char *got = run_streamed(
		(const char *const[]){"zrangestore", "d", "z", "0", "-1", NULL},
		10, false, &len, &i);
	ck_assert_uint_eq(i.steps, 0);
	ck_assert_uint_eq(len, 7);
	ck_assert(memcmp(got, ":8292\r\n", 7) == 0);
	ap_free(got);
	SAME(100, false, "zrange", "d", "0", "-1");
}
END_TEST

/* --- LRANGE ------------------------------------------------------------- */

/* A bare listpack, a quicklist, a compressed quicklist (steps end on
 * nodes decompressed on loan, and other readers take loans back between
 * steps), single-element nodes. */
START_TEST(test_lrange_encodings)
{
	static const struct {
		int fill, depth;
		enum spell sp;
		enum ap_enc enc;
	} cases[] = {
		{-5, 0, SP_INT, AP_ENC_LISTPACK},
		{-2, 0, SP_MIX, AP_ENC_QUICKLIST},
		{-2, 1, SP_STR, AP_ENC_QUICKLIST},
		{64, 2, SP_MIX, AP_ENC_QUICKLIST},
		{1, 1, SP_STR, AP_ENC_QUICKLIST},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		h_teardown();
		h_setup();
		cfg_set(&h_cfg.list_max_listpack_size, cases[k].fill);
		cfg_set(&h_cfg.list_compress_depth, cases[k].depth);
		fill("rpush", "l", cases[k].sp, 12000);
		fill("sadd", "s", SP_STR, 300);
		ck_assert_int_eq(enc_of("l"), cases[k].enc);
		for (int proto = 2; proto <= 3; proto++) {
			h_proto = proto;
			struct run_info i =
				SAME(1000, true, "lrange", "l", "0", "-1");
			if (cases[k].sp != SP_MIX)
				ck_assert_uint_eq(i.steps,
						  steps_for(12000, 1000));
			SAME(1, false, "lrange", "l", "17", "-23");
			SAME(23, true, "lrange", "l", "17", "-23");
			SAME(313, true, "lrange", "l", "-10000", "100000");
			SAME(AP_REPLY_STREAM_BUDGET, false, "lrange", "l", "0",
			     "-1");
		}
	}
}
END_TEST

/* --- randomized: any collection, any budget, readers in between --------- */

START_TEST(test_random_model)
{
	static const char *const cmds[] = {"sadd", "hset", "zadd", "rpush"};
	for (int round = 0; round < 24; round++) {
		h_teardown();
		h_setup();
		cfg_set(&h_cfg.set_max_intset_entries, (int)(rnd() % 20000));
		cfg_set(&h_cfg.set_max_listpack_entries, (int)(rnd() % 20000));
		cfg_set(&h_cfg.hash_max_listpack_entries, (int)(rnd() % 20000));
		cfg_set(&h_cfg.zset_max_listpack_entries, (int)(rnd() % 20000));
		cfg_set(&h_cfg.list_max_listpack_size,
			rnd() % 2 ? -(int)(rnd() % 5 + 1)
				  : (int)(rnd() % 500 + 1));
		cfg_set(&h_cfg.list_compress_depth, (int)(rnd() % 3));
		h_proto = rnd() % 2 ? 3 : 2;
		size_t n = MIN_N - 2 + rnd() % 4000;
		enum spell sp = (enum spell)(rnd() % 3);
		const char *cmd = cmds[rnd() % 4];
		const char *key = cmd[0] == 's'	  ? "s"
				  : cmd[0] == 'h' ? "h"
				  : cmd[0] == 'z' ? "z"
						  : "l";
		fill(cmd, key, sp, n);
		/* Neighbours for the interleaved reads. */
		if (strcmp(key, "s"))
			fill("sadd", "s", SP_STR, 200);
		if (strcmp(key, "l"))
			fill("rpush", "l", SP_STR, 3000);
		size_t budget = rnd() % 3 ? rnd() % 3000 + 1 : rnd() % 5 + 1;
		bool mix = budget >= 50 && rnd() % 2;
		char a[24], b[24];
		snprintf(a, sizeof(a), "%lld", (long long)(rnd() % 50) - 10);
		snprintf(b, sizeof(b), "%lld", -(long long)(rnd() % 50) - 1);
		switch (key[0]) {
		case 's':
			SAME(budget, mix, "smembers", "s");
			break;
		case 'h':
			SAME(budget, mix, "hgetall", "h");
			SAME(budget, mix, rnd() % 2 ? "hkeys" : "hvals", "h");
			break;
		case 'z':
			SAME(budget, mix, "zrange", "z", a, b, "withscores");
			SAME(budget, mix, "zrevrange", "z", a, b);
			SAME(budget, mix, "zrange", "z", "-inf", "+inf",
			     "byscore", "limit", a, "-1");
			break;
		default:
			SAME(budget, mix, "lrange", "l", a, b);
			break;
		}
	}
}
END_TEST

/* --- pinning (core/keyspace.h) ----------------------------------------- */

/* A pinned key whose TTL passes reads as absent but is not deleted:
 * not by lookups, SCAN, RANDOMKEY or active expiry; once unpinned, the
 * next lookup deletes it. A copy is never pinned. */
START_TEST(test_pin_expiry)
{
	struct ap_db *db = h_dbp();

	fill("sadd", "s", SP_STR, 100);
	H_EXPECT(":1\r\n", "pexpire", "s", "1000");
	struct ap_entry *e = h_peek("s");
	ck_assert(!ap_entry_pinned(e));
	ap_entry_pin_set(e, true);
	ck_assert(ap_entry_pinned(e));
	struct ap_entry *copy = ap_entry_dup(e);
	ck_assert(!ap_entry_pinned(copy));
	ap_entry_free(copy);

	ap_keyspace_set_now(h_ks, H_NOW + 5000);
	uint64_t expired = ap_keyspace_stats(h_ks)->expired;
	ck_assert_ptr_null(ap_db_lookup(db, "s", 1, AP_LK_READ));
	H_EXPECT("*0\r\n", "smembers", "s");
	H_EXPECT(":0\r\n", "exists", "s");
	H_EXPECT(":-2\r\n", "ttl", "s");
	ck_assert_uint_eq(ap_db_size(db), 1); /* still there */
	ck_assert_ptr_null(ap_db_random(db));
	ck_assert_uint_eq(ap_db_size(db), 1);
	for (int i = 0; i < 5; i++)
		(void)ap_keyspace_cron(h_ks, 1000);
	ck_assert_uint_eq(ap_db_size(db), 1);
	ck_assert_uint_eq(ap_keyspace_stats(h_ks)->expired, expired);
	/* The value is intact under the pin. */
	ck_assert_uint_eq(ap_entry_expire(e), H_NOW + 1000);
	ck_assert_int_eq(ap_entry_type(e), AP_TYPE_SET);

	ap_entry_pin_set(e, false);
	ck_assert_ptr_null(ap_db_lookup(db, "s", 1, AP_LK_READ));
	ck_assert_uint_eq(ap_db_size(db), 0);
	ck_assert_uint_eq(ap_keyspace_stats(h_ks)->expired, expired + 1);
}
END_TEST

/* A pinned key that has not expired is an ordinary key for readers, and
 * the stream of a key reads it whatever its TTL does meanwhile. */
START_TEST(test_pin_stream_outlives_ttl)
{
	struct ap_arg argv[2] = {{"smembers", 8}, {"s", 1}};
	struct ap_obuf ob;
	struct ap_reply r;
	size_t len, once_len;

	fill("sadd", "s", SP_MIX, MIN_N * 2);
	char *once =
		h_run((const char *const[]){"smembers", "s", NULL}, &once_len);
	H_EXPECT(":1\r\n", "pexpire", "s", "10");
	ap_obuf_init(&ob);
	ap_reply_init(&r, &ob, 2);
	struct ap_cmd_ctx c = {
		.ks = h_ks,
		.db = h_dbp(),
		.r = &r,
		.cfg = &h_cfg,
		.argc = 2,
		.argv = argv,
		.cmd = h_resolve(argv, 2),
		.may_stream = true,
	};
	c.cmd->fn(&c);
	ck_assert_ptr_nonnull(c.stream.step);
	ap_entry_pin_set(c.stream.entry, true); /* as the executor does */
	H_EXPECT(":1\r\n", "sismember", "s", "m:1:a");
	ap_keyspace_set_now(h_ks, H_NOW + 100);
	while (!c.stream.step(c.stream.state, &r, 100)) {
		H_EXPECT(":0\r\n", "sismember", "s", "m:1:a");
		(void)ap_keyspace_cron(h_ks, 1000);
	}
	c.stream.free(c.stream.state);
	char *got = ap_obuf_flatten(&ob, &len);
	ck_assert_uint_eq(len, once_len);
	ck_assert(memcmp(got, once, len) == 0);
	ap_entry_pin_set(c.stream.entry, false);
	H_EXPECT(":0\r\n", "exists", "s");
	ck_assert_uint_eq(ap_db_size(h_dbp()), 0);
	ap_free(got);
	ap_free(once);
	ap_obuf_deinit(&ob);
}
END_TEST

static Suite *stream_suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, h_setup, h_teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_smembers_encodings);
	tcase_add_test(tc, test_threshold);
	tcase_add_test(tc, test_byte_budget);
	tcase_add_test(tc, test_hash_encodings);
	tcase_add_test(tc, test_zrange_encodings);
	tcase_add_test(tc, test_zrangestore_not_streamed);
	tcase_add_test(tc, test_lrange_encodings);
	tcase_add_test(tc, test_random_model);
	tcase_add_test(tc, test_pin_expiry);
	tcase_add_test(tc, test_pin_stream_outlives_ttl);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(stream_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
