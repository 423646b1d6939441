/*
 * test_propagate.c - the deterministic form in which write commands are
 * logged. Commands run on keyspace A with a recorder in ctx->prop; the
 * runner collects what the log would hold: the form a command recorded
 * with ap_cmd_propagate, or, when it changed data (dirty > 0) without
 * recording one, its arguments as called. The records are then replayed,
 * as the loader does, on a fresh keyspace B in loading mode (nothing
 * expires) with a clock 10 s and 1 day later, and A and B must hold the
 * same data: every key, its type, value and absolute expire time, seen
 * at A's last clock and at the later ones.
 *
 * Covered: each rewrite (SET/SETEX/PSETEX with an expire time -> SET
 * PXAT, the EXPIRE family and GETEX -> PEXPIREAT, DEL or PERSIST, GETDEL
 * -> DEL, INCRBYFLOAT -> SET KEEPTTL, HINCRBYFLOAT -> HSET, SPOP -> SREM
 * or DEL, RESTORE -> RESTORE ABSTTL REPLACE, the blocking pops -> their
 * non-blocking forms, SORT of a set ALPHA BY ... STORE -> DEL and RPUSH),
 * records whose time passed before the replay, the commands that change
 * nothing (dirty 0, nothing logged), and a randomized workload over every
 * type with expiry times in the near past and future.
 *
 * The runner also logs "DEL key" when a key a command names has expired
 * by the time it runs, before the command: a log replayed in loading mode
 * (where nothing expires) must hold the expiries, as Redis's AOF holds
 * them, or a later command would find the key still there (SET k v PX
 * 100; 200 ms later SET k w NX: replayed, the NX would find k and skip).
 * Recording that is the shards layer's job; the runner models it.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmd.h"
#include "core/config.h"
#include "core/keyspace.h"
#include "core/limits.h"
#include "core/reply.h"

/* A's clock at the start of every test: 2023-11-14T22:13:20Z. */
#define T0	 1700000000000LL
#define NDB	 2 /* databases the tests use (MOVE, COPY DB) */
#define ARGS_MAX 64
#define CK(x)	 ck_assert(x)

/* --- the log ------------------------------------------------------------ */

/* One record: a command and the database it runs in. */
struct rec {
	unsigned db;
	int argc;
	struct ap_arg *argv; /* one block: the arguments, then their bytes */
};

struct log {
	struct rec *v;
	size_t n;
	size_t cap;
};

/* Appends a copy of argv to the log. */
static void log_add(struct log *lg, unsigned db, int argc,
		    const struct ap_arg *argv)
{
	size_t bytes = 0;

	CK(argc >= 1);
	for (int i = 0; i < argc; i++)
		bytes += argv[i].len;
	struct ap_arg *a = malloc((size_t)argc * sizeof(*a) + bytes + 1);
	char *p = (char *)(a + argc);
	ck_assert_ptr_nonnull(a);
	for (int i = 0; i < argc; i++) {
		if (argv[i].len > 0)
			memcpy(p, argv[i].p, argv[i].len);
		a[i] = (struct ap_arg){.p = p, .len = argv[i].len};
		p += argv[i].len;
	}
	if (lg->n == lg->cap) {
		lg->cap = lg->cap ? 2 * lg->cap : 64;
		lg->v = realloc(lg->v, lg->cap * sizeof(*lg->v));
		ck_assert_ptr_nonnull(lg->v);
	}
	lg->v[lg->n++] = (struct rec){.db = db, .argc = argc, .argv = a};
}

/* The recorder behind ctx->prop: arg is the log. */
static void log_cmd(void *arg, unsigned db, int argc, const struct ap_arg *argv)
{
	log_add(arg, db, argc, argv);
}

static const struct ap_cmd_prop_ops log_ops = {.cmd = log_cmd};

static void log_clear(struct log *lg)
{
	for (size_t i = 0; i < lg->n; i++)
		free(lg->v[i].argv);
	free(lg->v);
	memset(lg, 0, sizeof(*lg));
}

/* --- keyspaces and the runner ------------------------------------------ */

struct side {
	struct ap_keyspace *ks;
	struct ap_config cfg;
};

/* A keyspace at clock now, with small encoding limits so that values
 * change encoding often (the same limits on both sides, as a server
 * loads with its own configuration). */
static void side_init(struct side *s, int64_t now)
{
	s->ks = ap_keyspace_create(16);
	ap_keyspace_set_now(s->ks, now);
	ap_config_init(&s->cfg);
	s->cfg.list_max_listpack_size = 4;
	s->cfg.hash_max_listpack_entries = 6;
	s->cfg.hash_max_listpack_value = 16;
	s->cfg.set_max_intset_entries = 6;
	s->cfg.set_max_listpack_entries = 6;
	s->cfg.set_max_listpack_value = 16;
	s->cfg.zset_max_listpack_entries = 6;
	s->cfg.zset_max_listpack_value = 16;
}

static void side_deinit(struct side *s)
{
	ap_keyspace_destroy(s->ks);
	s->ks = NULL;
}

/* What one command did. */
struct out {
	char *reply; /* RESP2 bytes (ap_free) */
	size_t len;
	uint64_t dirty;
	bool propagated;
	bool blocked;
	size_t first; /* index of its first record in the log */
	size_t recs;  /* records it made (expiry DELs not counted) */
};

/*
 * Logs "DEL key" in every database where a key the command names has
 * expired (the lookup reclaims it, as the command's own would): what the
 * log must hold for a loading replay to see the key gone too.
 */
static void log_expired(struct side *s, struct log *lg,
			const struct ap_cmd *cmd, int argc,
			const struct ap_arg *argv)
{
	struct ap_keyspace_stats *st = ap_keyspace_stats(s->ks);
	struct ap_keyidx k;

	ap_keyidx_init(&k, cmd, argc, argv);
	for (size_t i = 0; i < k.n; i++) {
		const struct ap_arg *key = &argv[k.idx[i]];

		for (unsigned d = 0; d < NDB; d++) {
			uint64_t before = st->expired;
			(void)ap_db_lookup(ap_keyspace_db(s->ks, d), key->p,
					   key->len, AP_LK_NOTOUCH);
			if (st->expired != before) {
				struct ap_arg del[2] = {{"DEL", 3}, *key};
				log_add(lg, d, 2, del);
			}
		}
	}
	ap_keyidx_deinit(&k);
}

/*
 * Runs argv on s in database db. With a log: logs expiries first, gives
 * the command the recorder, and logs the command as called when it
 * changed data without recording its own form. Fills *o (free o->reply).
 */
static void run_on(struct side *s, unsigned db, struct log *lg, int argc,
		   const struct ap_arg *argv, struct out *o)
{
	const struct ap_cmd *cmd = ap_cmd_lookup(argv[0].p, argv[0].len);
	struct ap_obuf ob;
	struct ap_reply r;

	ck_assert_msg(cmd != NULL, "no command %.*s", (int)argv[0].len,
		      argv[0].p);
	memset(o, 0, sizeof(*o));
	ap_obuf_init(&ob);
	ap_reply_init(&r, &ob, 2);
	if (lg != NULL)
		log_expired(s, lg, cmd, argc, argv);
	o->first = lg != NULL ? lg->n : 0;
	if (!ap_cmd_arity_ok(cmd, argc)) {
		ap_reply_error(&r, "ERR wrong number of arguments");
	} else {
		struct ap_cmd_ctx c = {
			.ks = s->ks,
			.db = ap_keyspace_db(s->ks, db),
			.db_idx = db,
			.r = &r,
			.cfg = &s->cfg,
			.argc = argc,
			.argv = argv,
			.cmd = cmd,
			.prop = lg != NULL ? &log_ops : NULL,
			.prop_arg = lg,
		};
		cmd->fn(&c);
		o->dirty = c.dirty;
		o->propagated = c.propagated;
		o->blocked = c.block;
		/* A command records its own form only when data changed. */
		ck_assert_msg(!c.propagated || c.dirty > 0,
			      "%s recorded without a change", cmd->name);
		if (lg != NULL && c.dirty > 0 && !c.propagated)
			log_add(lg, db, argc, argv);
	}
	o->reply = ap_obuf_flatten(&ob, &o->len);
	ap_obuf_deinit(&ob);
	o->recs = lg != NULL ? lg->n - o->first : 0;
}

/*
 * Replays the log on b as the loader does: in loading mode, with no
 * recorder. Every record must name a non-blocking command and succeed.
 */
static void replay(struct side *b, const struct log *lg)
{
	ap_keyspace_set_loading(b->ks, true);
	for (size_t i = 0; i < lg->n; i++) {
		const struct rec *rc = &lg->v[i];
		const struct ap_cmd *cmd =
			ap_cmd_lookup(rc->argv[0].p, rc->argv[0].len);
		struct out o;

		ck_assert_msg(cmd != NULL && !(cmd->flags & AP_CMD_BLOCKING),
			      "record %zu: %.*s", i, (int)rc->argv[0].len,
			      rc->argv[0].p);
		run_on(b, rc->db, NULL, rc->argc, rc->argv, &o);
		ck_assert_msg(o.len > 0 && o.reply[0] != '-',
			      "record %zu (%.*s %.*s) replied %.*s", i,
			      (int)rc->argv[0].len, rc->argv[0].p,
			      (int)(rc->argc > 1 ? rc->argv[1].len : 0),
			      rc->argc > 1 ? rc->argv[1].p : "", (int)o.len,
			      o.reply);
		ap_free(o.reply);
	}
	ap_keyspace_set_loading(b->ks, false);
}

/* --- comparing two keyspaces -------------------------------------------- */

/* Byte strings, for key lists and parsed replies. */
struct strs {
	struct ap_arg *v;
	size_t n;
	size_t cap;
};

static void strs_add(struct strs *s, const char *p, size_t len)
{
	char *copy = malloc(len + 1);

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, p, len);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		ck_assert_ptr_nonnull(s->v);
	}
	s->v[s->n++] = (struct ap_arg){.p = copy, .len = len};
}

static void strs_clear(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free((char *)s->v[i].p);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int bytes_cmp(const struct ap_arg *a, const struct ap_arg *b)
{
	int c = memcmp(a->p, b->p, AP_MIN(a->len, b->len));

	return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

static int arg_cmp(const void *a, const void *b)
{
	return bytes_cmp(a, b);
}

/* Pairs (field, value) compare by field. */
static int pair_cmp(const void *a, const void *b)
{
	return bytes_cmp(a, b);
}

static void collect_key(void *arg, const struct ap_entry *e)
{
	size_t len;
	const char *k = ap_entry_key(e, &len);

	strs_add(arg, k, len);
}

/* The keys of a database (a scan may repeat some: harmless here). */
static void db_keys(struct ap_db *db, struct strs *out)
{
	uint64_t cur = 0;

	do
		cur = ap_db_scan(db, cur, 64, collect_key, out);
	while (cur != 0);
}

/* Parses a RESP2 array of bulk strings into out. */
static void parse_bulks(const char *r, size_t len, struct strs *out)
{
	const char *end = r + len;
	long long n;
	const char *eol = memchr(r, '\r', len);

	ck_assert_msg(r[0] == '*' && eol != NULL, "not an array: %.*s",
		      (int)len, r);
	CK(ap_str_to_ll(r + 1, (size_t)(eol - r - 1), &n));
	r = eol + 2;
	for (long long i = 0; i < n; i++) {
		long long blen;

		eol = memchr(r, '\r', (size_t)(end - r));
		CK(r[0] == '$' && eol != NULL);
		CK(ap_str_to_ll(r + 1, (size_t)(eol - r - 1), &blen));
		CK(blen >= 0 && eol + 2 + blen + 2 <= end);
		strs_add(out, eol + 2, (size_t)blen);
		r = eol + 2 + blen + 2;
	}
	CK(r == end);
}

/* Runs a read command given as words plus the key (at position 1). */
static struct out read_cmd(struct side *s, unsigned db,
			   const struct ap_arg *key, const char *const *words)
{
	struct ap_arg argv[8];
	int argc = 0;
	struct out o;

	argv[argc++] = (struct ap_arg){words[0], strlen(words[0])};
	argv[argc++] = *key;
	for (int i = 1; words[i] != NULL; i++)
		argv[argc++] = (struct ap_arg){words[i], strlen(words[i])};
	run_on(s, db, NULL, argc, argv, &o);
	return o;
}

/*
 * The value of key (of type t) as comparable bytes: the RESP2 reply of
 * GET, LRANGE, ZRANGE WITHSCORES (ordered values); for sets and hashes
 * the members or pairs sorted, each as "<len>:" and its bytes. ap_free
 * the result.
 */
static char *value_of(struct side *s, unsigned db, const struct ap_arg *key,
		      enum ap_type t, size_t *len)
{
	static const char *const get[] = {"get", NULL};
	static const char *const lrange[] = {"lrange", "0", "-1", NULL};
	static const char *const zrange[] = {"zrange", "0", "-1", "withscores",
					     NULL};
	static const char *const smembers[] = {"smembers", NULL};
	static const char *const hgetall[] = {"hgetall", NULL};
	const char *const *words = t == AP_TYPE_STRING ? get
				   : t == AP_TYPE_LIST ? lrange
				   : t == AP_TYPE_ZSET ? zrange
				   : t == AP_TYPE_SET  ? smembers
						       : hgetall;
	struct out o = read_cmd(s, db, key, words);

	if (t != AP_TYPE_SET && t != AP_TYPE_HASH) {
		*len = o.len;
		return o.reply;
	}
	struct strs items = {0};
	parse_bulks(o.reply, o.len, &items);
	ap_free(o.reply);
	if (t == AP_TYPE_SET) {
		qsort(items.v, items.n, sizeof(*items.v), arg_cmp);
	} else {
		CK(items.n % 2 == 0);
		qsort(items.v, items.n / 2, 2 * sizeof(*items.v), pair_cmp);
	}
	size_t size = 1;
	for (size_t i = 0; i < items.n; i++)
		size += items.v[i].len + 24;
	char *buf = ap_malloc(size);
	size_t used = 0;
	for (size_t i = 0; i < items.n; i++) {
		used += (size_t)snprintf(buf + used, size - used,
					 "%zu:", items.v[i].len);
		memcpy(buf + used, items.v[i].p, items.v[i].len);
		used += items.v[i].len;
	}
	strs_clear(&items);
	*len = used;
	return buf;
}

/* Checks that key in db is the same in a and b (both present or both
 * absent, same type, expire time and value). True if present. */
static bool check_key(struct side *a, struct side *b, unsigned db,
		      const struct ap_arg *key)
{
	struct ap_db *da = ap_keyspace_db(a->ks, db);
	struct ap_db *dbb = ap_keyspace_db(b->ks, db);
	struct ap_entry *ea = ap_db_lookup(da, key->p, key->len, AP_LK_NOTOUCH);
	struct ap_entry *eb =
		ap_db_lookup(dbb, key->p, key->len, AP_LK_NOTOUCH);

	ck_assert_msg((ea == NULL) == (eb == NULL),
		      "db %u key %.*s: %s in A, %s in B", db, (int)key->len,
		      key->p, ea ? "present" : "absent",
		      eb ? "present" : "absent");
	if (ea == NULL)
		return false;
	enum ap_type t = ap_entry_type(ea);
	ck_assert_msg(t == ap_entry_type(eb), "db %u key %.*s: type %d vs %d",
		      db, (int)key->len, key->p, t, ap_entry_type(eb));
	ck_assert_msg(ap_entry_expire(ea) == ap_entry_expire(eb),
		      "db %u key %.*s: expire %lld vs %lld", db, (int)key->len,
		      key->p, (long long)ap_entry_expire(ea),
		      (long long)ap_entry_expire(eb));
	ck_assert_msg(ap_entry_enc(ea) == ap_entry_enc(eb),
		      "db %u key %.*s: encoding %s vs %s", db, (int)key->len,
		      key->p, ap_enc_name(ap_entry_enc(ea)),
		      ap_enc_name(ap_entry_enc(eb)));
	size_t la, lb;
	char *va = value_of(a, db, key, t, &la);
	char *vb = value_of(b, db, key, t, &lb);
	ck_assert_msg(la == lb && memcmp(va, vb, la) == 0,
		      "db %u key %.*s: value\n%.*s\nvs\n%.*s", db,
		      (int)key->len, key->p, (int)AP_MIN(la, 300), va,
		      (int)AP_MIN(lb, 300), vb);
	ap_free(va);
	ap_free(vb);
	return true;
}

/* Checks that a and b hold the same data as seen at clock `at`: every
 * key live on either side is live on both, with the same type, expire
 * time, encoding and value. (Table sizes may differ: a key expired on
 * both sides may still be held, unreclaimed, on one.) Returns how many
 * keys were live (a key listed twice counts twice). */
static size_t compare_at(struct side *a, struct side *b, int64_t at)
{
	size_t live = 0;

	ap_keyspace_set_now(a->ks, at);
	ap_keyspace_set_now(b->ks, at);
	for (unsigned db = 0; db < NDB; db++) {
		struct strs keys = {0};

		db_keys(ap_keyspace_db(a->ks, db), &keys);
		db_keys(ap_keyspace_db(b->ks, db), &keys);
		for (size_t i = 0; i < keys.n; i++)
			live += check_key(a, b, db, &keys.v[i]);
		strs_clear(&keys);
	}
	return live;
}

/* --- the test's keyspace A --------------------------------------------- */

static struct side A;
static struct log L;
static struct out last;

static void setup(void)
{
	side_init(&A, T0);
	memset(&L, 0, sizeof(L));
	memset(&last, 0, sizeof(last));
}

static void teardown(void)
{
	ap_free(last.reply);
	last.reply = NULL;
	log_clear(&L);
	side_deinit(&A);
}

/*
 * Replays L on two fresh keyspaces whose clocks are 10 s and 1 day past
 * A's, then checks that each holds A's data seen at A's clock, then at
 * the later clocks (A's keys expire as the clock moves on). Ends the
 * test's use of A.
 */
static void replay_check(void)
{
	int64_t end = ap_keyspace_now(A.ks);
	const int64_t later[2] = {10 * 1000, 24LL * 3600 * 1000};
	struct side b[2];

	for (int i = 0; i < 2; i++) {
		side_init(&b[i], end + later[i]);
		replay(&b[i], &L);
	}
	for (int i = 0; i < 2; i++)
		CK(compare_at(&A, &b[i], end) > 0);
	for (int i = 0; i < 2; i++)
		compare_at(&A, &b[i], end + later[0]);
	compare_at(&A, &b[1], end + later[1]);
	for (int i = 0; i < 2; i++)
		side_deinit(&b[i]);
}

/* Runs words on A in database db with the log; the result in `last`. */
static void a_run(unsigned db, const char *const *words)
{
	struct ap_arg argv[ARGS_MAX];
	int argc = 0;

	for (; words[argc] != NULL; argc++) {
		CK(argc < ARGS_MAX);
		argv[argc] = (struct ap_arg){words[argc], strlen(words[argc])};
	}
	ap_free(last.reply);
	run_on(&A, db, &L, argc, argv, &last);
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})
/* Runs a command on A (database 0). */
#define RUN(...) a_run(0, W(__VA_ARGS__))

/* Fails unless the last reply is exp. */
static void check_reply(int line, const char *exp, size_t len)
{
	ck_assert_msg(last.len == len && memcmp(last.reply, exp, len) == 0,
		      "line %d: reply %.*s, expected %s", line, (int)last.len,
		      last.reply, exp);
}
#define REPLY(exp) check_reply(__LINE__, exp, sizeof(exp) - 1)

/* Fails unless the last command made exactly the records given (each a
 * NULL-terminated word list). */
static void check_recs(int line, size_t n, const char *const *const *recs)
{
	ck_assert_msg(last.recs == n, "line %d: %zu records, expected %zu",
		      line, last.recs, n);
	for (size_t i = 0; i < n; i++) {
		const struct rec *rc = &L.v[last.first + i];
		int argc = 0;

		for (; recs[i][argc] != NULL; argc++) {
			const char *w = recs[i][argc];
			ck_assert_msg(argc < rc->argc &&
					      rc->argv[argc].len == strlen(w) &&
					      memcmp(rc->argv[argc].p, w,
						     strlen(w)) == 0,
				      "line %d: record %zu word %d is not %s",
				      line, i, argc, w);
		}
		ck_assert_msg(argc == rc->argc,
			      "line %d: record %zu has %d words, not %d", line,
			      i, rc->argc, argc);
	}
}
#define RECS(...)                                                             \
	check_recs(__LINE__,                                                  \
		   AP_ARRAY_LEN(((const char *const *const[]){__VA_ARGS__})), \
		   (const char *const *const[]){__VA_ARGS__})
/* The last command changed data and was logged as called. */
#define AS_CALLED()                                     \
	do {                                            \
		CK(last.dirty > 0 && !last.propagated); \
		CK(last.recs == 1);                     \
	} while (0)
/* The last command changed nothing and logged nothing. */
#define NO_CHANGE()                                                         \
	do {                                                                \
		ck_assert_msg(last.dirty == 0 && last.recs == 0,            \
			      "line %d: dirty %llu, %zu records", __LINE__, \
			      (unsigned long long)last.dirty, last.recs);   \
	} while (0)

static void advance(int64_t ms)
{
	ap_keyspace_set_now(A.ks, ap_keyspace_now(A.ks) + ms);
}

/* The bulk string of the last reply ($len\r\n...): its bytes. */
static const char *last_bulk(size_t *len)
{
	const char *eol = memchr(last.reply, '\r', last.len);
	long long n;

	CK(last.reply[0] == '$' && eol != NULL);
	CK(ap_str_to_ll(last.reply + 1, (size_t)(eol - last.reply - 1), &n));
	CK(n >= 0);
	*len = (size_t)n;
	return eol + 2;
}

/* --- SET, SETEX, PSETEX ------------------------------------------------- */

START_TEST(test_set_expire)
{
	RUN("set", "k", "v", "ex", "10");
	REPLY("+OK\r\n");
	RECS(W("SET", "k", "v", "PXAT", "1700000010000"));
	RUN("set", "k", "v", "px", "1500", "nx");
	REPLY("$-1\r\n");
	NO_CHANGE();
	RUN("set", "k2", "v", "px", "1500", "nx", "get");
	REPLY("$-1\r\n");
	RECS(W("SET", "k2", "v", "PXAT", "1700000001500"));
	RUN("set", "k", "w", "exat", "1700000100", "xx");
	RECS(W("SET", "k", "w", "PXAT", "1700000100000"));
	RUN("set", "k", "w2", "pxat", "1700000100123", "get");
	REPLY("$1\r\nw\r\n");
	RECS(W("SET", "k", "w2", "PXAT", "1700000100123"));
	RUN("set", "k", "x", "keepttl");
	AS_CALLED();
	RUN("set", "k", "y", "xx", "get");
	AS_CALLED();
	RUN("set", "p", "1");
	AS_CALLED();
	RUN("set", "p", "2", "nx");
	NO_CHANGE();
	RUN("set", "p", "2", "exat", "1");
	RECS(W("DEL", "p"));
	CK(last.dirty == 1);
	RUN("set", "p", "3", "pxat", "1700000000000");
	NO_CHANGE();
	RUN("exists", "p");
	REPLY(":0\r\n");
	RUN("setex", "s", "5", "v");
	RECS(W("SET", "s", "v", "PXAT", "1700000005000"));
	RUN("psetex", "s2", "5", "v");
	RECS(W("SET", "s2", "v", "PXAT", "1700000000005"));
	RUN("setex", "s", "0", "v");
	NO_CHANGE();
	advance(3);
	RUN("append", "s2", "x");
	AS_CALLED();
	RUN("getset", "s", "g");
	AS_CALLED();
	RUN("set", "int", "12", "px", "100");
	RUN("incr", "int");
	AS_CALLED();
	replay_check();
}
END_TEST

/* --- EXPIRE family, PERSIST, GETEX, GETDEL ------------------------------ */

START_TEST(test_expire_family)
{
	RUN("set", "k", "v");
	RUN("expire", "k", "100");
	REPLY(":1\r\n");
	RECS(W("PEXPIREAT", "k", "1700000100000"));
	RUN("pexpire", "k", "5000", "gt");
	REPLY(":0\r\n");
	NO_CHANGE();
	RUN("pexpire", "k", "200000", "gt");
	RECS(W("PEXPIREAT", "k", "1700000200000"));
	RUN("expireat", "k", "1700000150", "lt");
	RECS(W("PEXPIREAT", "k", "1700000150000"));
	RUN("pexpireat", "k", "1700000150001", "xx");
	RECS(W("PEXPIREAT", "k", "1700000150001"));
	RUN("expire", "k", "10", "nx");
	NO_CHANGE();
	RUN("expire", "missing", "10");
	REPLY(":0\r\n");
	NO_CHANGE();
	RUN("persist", "k");
	AS_CALLED();
	RUN("persist", "k");
	NO_CHANGE();
	RUN("expire", "k", "10", "xx");
	NO_CHANGE();

	/* Times not after now delete the key: logged as DEL. */
	const char *const *past[] = {
		W("expire", "d", "-1"),
		W("pexpire", "d", "0"),
		W("expireat", "d", "1700000000"),
		W("pexpireat", "d", "1"),
		W("pexpireat", "d", "-1"),
		W("pexpireat", "d", "-9223372036854775807"),
	};
	for (size_t i = 0; i < AP_ARRAY_LEN(past); i++) {
		RUN("set", "d", "v");
		a_run(0, past[i]);
		REPLY(":1\r\n");
		RECS(W("DEL", "d"));
		RUN("exists", "d");
		REPLY(":0\r\n");
	}
	CK(ap_keyspace_stats(A.ks)->expired == 0);

	RUN("rpush", "l", "a");
	RUN("pexpire", "l", "50");
	RECS(W("PEXPIREAT", "l", "1700000000050"));
	advance(20);
	RUN("rpush", "l", "b");
	replay_check();
}
END_TEST

START_TEST(test_getex_getdel)
{
	RUN("set", "g", "v");
	RUN("getex", "g");
	REPLY("$1\r\nv\r\n");
	NO_CHANGE();
	RUN("getex", "g", "persist");
	NO_CHANGE();
	RUN("getex", "g", "ex", "7");
	RECS(W("PEXPIREAT", "g", "1700000007000"));
	RUN("getex", "g", "px", "70");
	RECS(W("PEXPIREAT", "g", "1700000000070"));
	RUN("getex", "g", "exat", "1700000009");
	RECS(W("PEXPIREAT", "g", "1700000009000"));
	RUN("getex", "g", "pxat", "1700000009999");
	RECS(W("PEXPIREAT", "g", "1700000009999"));
	RUN("getex", "g", "persist");
	RECS(W("PERSIST", "g"));
	RUN("getex", "g", "pxat", "5");
	REPLY("$1\r\nv\r\n");
	RECS(W("DEL", "g"));
	RUN("getex", "g", "ex", "5");
	REPLY("$-1\r\n");
	NO_CHANGE();
	RUN("set", "h", "v", "px", "30");
	RUN("getdel", "h");
	REPLY("$1\r\nv\r\n");
	RECS(W("DEL", "h"));
	RUN("getdel", "h");
	NO_CHANGE();
	RUN("set", "t", "1");
	RUN("getex", "t", "px", "40");
	advance(30);
	RUN("incr", "t");
	replay_check();
}
END_TEST

/* Records whose absolute time has passed by the replay: the loading
 * keyspace keeps the key (it lived on when the command ran), so the
 * commands after it see it. */
START_TEST(test_time_passed_before_replay)
{
	RUN("set", "k", "v", "px", "100");
	RUN("rpush", "l", "a");
	RUN("pexpire", "l", "20");
	RUN("hset", "h", "f", "1");
	RUN("expireat", "h", "1700000001");
	RUN("set", "g", "v");
	RUN("getex", "g", "px", "60");
	advance(10);
	RUN("append", "k", "x");
	RUN("lpush", "l", "b");
	RUN("hincrby", "h", "f", "5");
	RUN("append", "g", "y");
	RUN("set", "k2", "v", "keepttl");
	RUN("rename", "k", "k3");
	RUN("copy", "l", "l2");
	RUN("setex", "e", "1", "v");
	RUN("get", "k3");
	REPLY("$2\r\nvx\r\n");
	replay_check();
}
END_TEST

/* --- INCRBYFLOAT, HINCRBYFLOAT ------------------------------------------ */

/* The last record's word i equals the last reply's bulk. */
static void check_rec_is_reply(int word)
{
	size_t len;
	const char *v = last_bulk(&len);
	const struct rec *rc = &L.v[L.n - 1];

	CK(rc->argc > word);
	ck_assert_msg(rc->argv[word].len == len &&
			      memcmp(rc->argv[word].p, v, len) == 0,
		      "recorded %.*s, replied %.*s", (int)rc->argv[word].len,
		      rc->argv[word].p, (int)len, v);
}

START_TEST(test_incrbyfloat)
{
	RUN("incrbyfloat", "f", "0.1");
	RECS(W("SET", "f", "0.1", "KEEPTTL"));
	RUN("incrbyfloat", "f", "0.2");
	REPLY("$3\r\n0.3\r\n");
	RECS(W("SET", "f", "0.3", "KEEPTTL"));
	RUN("set", "f", "1.5", "ex", "100");
	RUN("incrbyfloat", "f", "1e2");
	RECS(W("SET", "f", "101.5", "KEEPTTL"));
	RUN("incrbyfloat", "f", "-101.5");
	RECS(W("SET", "f", "0", "KEEPTTL"));
	RUN("set", "n", "5.0e3");
	RUN("incrbyfloat", "n", "3.0e-5");
	check_rec_is_reply(2);
	CK(last.recs == 1);
	RUN("incrbyfloat", "n", "abc");
	NO_CHANGE();
	RUN("set", "s", "abc");
	RUN("incrbyfloat", "s", "1");
	NO_CHANGE();

	RUN("hincrbyfloat", "h", "f", "2.5e3");
	RECS(W("HSET", "h", "f", "2500"));
	RUN("hincrbyfloat", "h", "f", "0.1");
	check_rec_is_reply(3);
	CK(last.recs == 1);
	RUN("hincrbyfloat", "h", "g", "-1.25");
	check_rec_is_reply(3);
	RUN("hincrbyfloat", "h", "g", "x");
	NO_CHANGE();
	RUN("hset", "h", "s", "abc");
	RUN("hincrbyfloat", "h", "s", "1");
	NO_CHANGE();
	/* A result too long for the listpack converts both sides. */
	RUN("hincrbyfloat", "h", "g", "0.000000000001");
	check_rec_is_reply(3);
	replay_check();
}
END_TEST

/* --- SPOP ----------------------------------------------------------------- */

START_TEST(test_spop)
{
	RUN("sadd", "s", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
	RUN("spop", "s");
	size_t len;
	const char *m = last_bulk(&len);
	char member[32];
	CK(len < sizeof(member));
	memcpy(member, m, len);
	member[len] = '\0';
	RECS(W("SREM", "s", member));
	RUN("spop", "s", "0");
	NO_CHANGE();
	RUN("spop", "missing");
	NO_CHANGE();
	RUN("spop", "missing", "3");
	NO_CHANGE();
	RUN("spop", "s", "3");
	CK(last.recs == 1 && last.dirty == 3);
	{
		struct strs got = {0};
		const struct rec *rc = &L.v[last.first];

		parse_bulks(last.reply, last.len, &got);
		CK(got.n == 3 && rc->argc == 5);
		CK(rc->argv[0].len == 4 &&
		   memcmp(rc->argv[0].p, "SREM", 4) == 0);
		for (size_t i = 0; i < 3; i++)
			CK(bytes_cmp(&got.v[i], &rc->argv[2 + i]) == 0);
		strs_clear(&got);
	}
	RUN("scard", "s");
	REPLY(":6\r\n");
	RUN("spop", "s", "6");
	RECS(W("DEL", "s"));
	RUN("sadd", "t", "a", "b");
	RUN("spop", "t");
	RUN("spop", "t");
	CK(last.recs == 1 && L.v[last.first].argc == 3);
	RUN("exists", "t");
	REPLY(":0\r\n");
	RUN("sadd", "u", "x", "y", "z", "1", "2", "3", "4", "5", "6", "7");
	RUN("spop", "u", "4");
	RUN("spop", "u");
	replay_check();
}
END_TEST

/* SPOP of more than AP_PROPAGATE_BATCH members: several SREMs holding
 * together exactly the members popped. */
START_TEST(test_spop_big)
{
	const size_t n = 2 * AP_PROPAGATE_BATCH + 700;
	const size_t pop = 2 * AP_PROPAGATE_BATCH + 300;

	for (size_t i = 0; i < n; i += 50) {
		const char *w[53] = {"sadd", "big"};
		char buf[50][16];
		for (size_t j = 0; j < 50; j++) {
			snprintf(buf[j], sizeof(buf[j]), "m%zu", i + j);
			w[2 + j] = buf[j];
		}
		w[52] = NULL;
		a_run(0, w);
	}
	char cnt[24];
	snprintf(cnt, sizeof(cnt), "%zu", pop);
	RUN("spop", "big", cnt);
	CK(last.dirty == pop);
	CK(last.recs == 3);
	struct strs got = {0}, recorded = {0};
	parse_bulks(last.reply, last.len, &got);
	CK(got.n == pop);
	for (size_t r = 0; r < last.recs; r++) {
		const struct rec *rc = &L.v[last.first + r];
		CK(rc->argc - 2 == (r < 2 ? AP_PROPAGATE_BATCH : 300));
		for (int i = 2; i < rc->argc; i++)
			strs_add(&recorded, rc->argv[i].p, rc->argv[i].len);
	}
	qsort(got.v, got.n, sizeof(*got.v), arg_cmp);
	qsort(recorded.v, recorded.n, sizeof(*recorded.v), arg_cmp);
	CK(recorded.n == got.n);
	for (size_t i = 0; i < got.n; i++) {
		CK(bytes_cmp(&got.v[i], &recorded.v[i]) == 0);
		CK(i == 0 || bytes_cmp(&got.v[i - 1], &got.v[i]) < 0);
	}
	strs_clear(&got);
	strs_clear(&recorded);
	replay_check();
}
END_TEST

/* --- RESTORE ------------------------------------------------------------ */

/* DUMPs key on A; the payload is copied into buf. */
static size_t dump_of(const char *key, char *buf, size_t size)
{
	size_t len;
	const char *p;

	RUN("dump", key);
	p = last_bulk(&len);
	CK(len < size);
	memcpy(buf, p, len);
	buf[len] = '\0';
	return len;
}

/* Runs RESTORE key ttl <payload> opts... on A. */
static void restore(const char *key, const char *ttl, const char *pl,
		    size_t plen, const char *const *opts)
{
	struct ap_arg argv[ARGS_MAX] = {{"restore", 7},
					{key, strlen(key)},
					{ttl, strlen(ttl)},
					{pl, plen}};
	int argc = 4;

	for (; opts[argc - 4] != NULL; argc++)
		argv[argc] =
			(struct ap_arg){opts[argc - 4], strlen(opts[argc - 4])};
	ap_free(last.reply);
	run_on(&A, 0, &L, argc, argv, &last);
}

/* Fails unless the last command made one record: RESTORE key when
 * <payload> ABSTTL REPLACE. */
static void check_restore_rec(int line, const char *key, const char *when,
			      const char *pl, size_t plen)
{
	const struct ap_arg exp[6] = {
		{"RESTORE", 7}, {key, strlen(key)}, {when, strlen(when)},
		{pl, plen},	{"ABSTTL", 6},	    {"REPLACE", 7},
	};

	ck_assert_msg(last.recs == 1, "line %d: %zu records", line, last.recs);
	const struct rec *rc = &L.v[last.first];
	ck_assert_msg(rc->argc == 6, "line %d: %d words", line, rc->argc);
	for (int i = 0; i < 6; i++)
		ck_assert_msg(bytes_cmp(&rc->argv[i], &exp[i]) == 0,
			      "line %d: word %d", line, i);
}
#define RESTORE_REC(key, when, pl, plen) \
	check_restore_rec(__LINE__, key, when, pl, plen)

START_TEST(test_restore)
{
	static char pl[4096], lpl[4096];

	RUN("set", "src", "value");
	size_t plen = dump_of("src", pl, sizeof(pl));
	RUN("rpush", "lsrc", "a", "b", "c");
	size_t lplen = dump_of("lsrc", lpl, sizeof(lpl));

	restore("r", "0", pl, plen, W(NULL));
	REPLY("+OK\r\n");
	RESTORE_REC("r", "0", pl, plen);
	restore("r2", "5000", pl, plen, W("idletime", "10"));
	RESTORE_REC("r2", "1700000005000", pl, plen);
	restore("r3", "1700000009000", pl, plen, W("absttl", "freq", "3"));
	RESTORE_REC("r3", "1700000009000", pl, plen);
	restore("r3", "0", lpl, lplen, W("replace"));
	RESTORE_REC("r3", "0", lpl, lplen);
	/* Times already past: the old key goes (DEL), or nothing happens. */
	restore("r", "1", pl, plen, W("absttl", "replace"));
	REPLY("+OK\r\n");
	RECS(W("DEL", "r"));
	restore("r4", "1", pl, plen, W("absttl"));
	REPLY("+OK\r\n");
	NO_CHANGE();
	restore("r4", "1700000000000", pl, plen, W("absttl", "replace"));
	NO_CHANGE();
	restore("r4", "9223372036854775807", pl, plen, W(NULL));
	NO_CHANGE();
	RUN("exists", "r", "r4");
	REPLY(":0\r\n");
	CK(ap_keyspace_stats(A.ks)->expired == 0);
	/* Errors change nothing. */
	restore("r2", "0", pl, plen, W(NULL));
	REPLY("-BUSYKEY Target key name already exists.\r\n");
	NO_CHANGE();
	restore("r5", "0", "bad", 3, W(NULL));
	NO_CHANGE();
	/* A list whose TTL passes before the replay, then changed. */
	restore("lr", "100", lpl, lplen, W("replace"));
	RESTORE_REC("lr", "1700000000100", lpl, lplen);
	advance(50);
	RUN("rpush", "lr", "d");
	AS_CALLED();
	replay_check();
}
END_TEST

/* --- blocking pops ---------------------------------------------------------
 */

START_TEST(test_blocking_pops)
{
	RUN("rpush", "l", "a", "b", "c", "d", "e", "f");
	RUN("blpop", "none", "l", "0");
	REPLY("*2\r\n$1\r\nl\r\n$1\r\na\r\n");
	RECS(W("LPOP", "l"));
	RUN("brpop", "l", "none", "1.5");
	RECS(W("RPOP", "l"));
	RUN("blmove", "l", "d", "left", "right", "0");
	RECS(W("LMOVE", "l", "d", "LEFT", "RIGHT"));
	RUN("blmove", "l", "d", "RIGHT", "LEFT", "0");
	RECS(W("LMOVE", "l", "d", "RIGHT", "LEFT"));
	RUN("brpoplpush", "d", "l", "0");
	RECS(W("LMOVE", "d", "l", "RIGHT", "LEFT"));
	RUN("rpush", "m", "1", "2", "3", "4");
	RUN("blmpop", "0", "2", "none", "m", "right", "count", "3");
	RECS(W("LMPOP", "1", "m", "RIGHT", "COUNT", "3"));
	RUN("lmpop", "3", "none", "x", "m", "left", "count", "10");
	RECS(W("LMPOP", "1", "m", "LEFT", "COUNT", "1"));
	RUN("lmpop", "1", "m", "left");
	NO_CHANGE();
	/* Nothing to pop: the command asks to block, changes nothing. */
	RUN("blpop", "none", "m", "0");
	CK(last.blocked && last.len == 0);
	NO_CHANGE();
	RUN("blmove", "none", "d", "left", "left", "0");
	CK(last.blocked);
	NO_CHANGE();
	RUN("set", "str", "v");
	RUN("blpop", "str", "0");
	NO_CHANGE();

	RUN("zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e");
	RUN("bzpopmin", "none", "z", "0");
	RECS(W("ZPOPMIN", "z"));
	RUN("bzpopmax", "z", "0");
	RECS(W("ZPOPMAX", "z"));
	RUN("bzmpop", "0", "2", "none", "z", "min", "count", "2");
	RECS(W("ZMPOP", "1", "z", "MIN", "COUNT", "2"));
	RUN("zmpop", "2", "none", "z", "max");
	RECS(W("ZMPOP", "1", "z", "MAX", "COUNT", "1"));
	RUN("exists", "z");
	REPLY(":0\r\n");
	RUN("bzpopmin", "z", "0");
	CK(last.blocked);
	NO_CHANGE();
	RUN("bzmpop", "0", "1", "z", "max");
	CK(last.blocked);
	NO_CHANGE();
	replay_check();
}
END_TEST

/* --- SORT ... STORE of a set ------------------------------------------------
 */

/* Fails unless records [first, first + n) of the last command are RPUSH
 * dst with, together, exactly the elements of the stored list. */
static void check_rpush_recs(const char *dst, size_t first, size_t batches)
{
	struct strs stored = {0};
	const char *const lrange[] = {"lrange", "0", "-1", NULL};
	struct ap_arg key = {dst, strlen(dst)};
	struct out o = read_cmd(&A, 0, &key, lrange);
	size_t k = 0;

	parse_bulks(o.reply, o.len, &stored);
	ap_free(o.reply);
	CK(last.recs == first + batches);
	for (size_t r = first; r < first + batches; r++) {
		const struct rec *rc = &L.v[last.first + r];

		CK(rc->argc >= 3 && rc->argc - 2 <= AP_PROPAGATE_BATCH);
		CK(rc->argv[0].len == 5 &&
		   memcmp(rc->argv[0].p, "RPUSH", 5) == 0);
		CK(bytes_cmp(&rc->argv[1], &key) == 0);
		for (int i = 2; i < rc->argc; i++, k++)
			CK(k < stored.n &&
			   bytes_cmp(&rc->argv[i], &stored.v[k]) == 0);
	}
	CK(k == stored.n);
	strs_clear(&stored);
}

START_TEST(test_sort_store_set)
{
	char m[16], w[16];

	/* Weights with many ties: equal values keep the set's order. */
	for (int i = 0; i < 40; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		snprintf(w, sizeof(w), "w_m%d", i);
		RUN("sadd", "s", m);
		if (i % 5 != 0)
			a_run(0, W("set", w, i % 3 == 0 ? "1" : "2"));
	}
	RUN("sort", "s", "by", "w_*", "alpha", "store", "d");
	REPLY(":40\r\n");
	check_rpush_recs("d", 1, 1);
	CK(L.v[last.first].argc == 2 &&
	   memcmp(L.v[last.first].argv[0].p, "DEL", 3) == 0);
	RUN("sort", "s", "by", "w_*", "alpha", "store", "d");
	check_rpush_recs("d", 1, 1);
	RUN("sort", "s", "by", "w_*", "alpha", "desc", "limit", "3", "10",
	    "get", "#", "get", "w_*", "store", "d2");
	check_rpush_recs("d2", 1, 1);
	/* Other sorts are deterministic: logged as called. */
	RUN("sort", "s", "alpha", "store", "d3");
	AS_CALLED();
	RUN("sort", "s", "by", "w_*", "store", "d4");
	AS_CALLED();
	RUN("sort", "s", "by", "nosort", "store", "d5");
	AS_CALLED();
	RUN("rpush", "l", "b", "a", "c");
	RUN("sort", "l", "by", "w_*", "alpha", "store", "d6");
	AS_CALLED();
	/* An empty result deletes the destination: as called. */
	RUN("sort", "none", "by", "w_*", "alpha", "store", "d");
	AS_CALLED();
	RUN("sort", "none", "by", "w_*", "alpha", "store", "d");
	NO_CHANGE();

	/* More elements than a record holds. */
	for (size_t i = 0; i < AP_PROPAGATE_BATCH + 100; i++) {
		snprintf(m, sizeof(m), "b%zu", i);
		RUN("sadd", "big", m);
	}
	RUN("sort", "big", "by", "w_*", "alpha", "store", "bigd");
	CK(last.recs == 3);
	check_rpush_recs("bigd", 1, 2);
	replay_check();
}
END_TEST

/* --- commands that change nothing ---------------------------------------- */

START_TEST(test_no_change)
{
	const char *const *const setup_cmds[] = {
		W("set", "str", "v"),
		W("set", "ttl", "v", "ex", "100"),
		W("rpush", "list", "a", "b", "c"),
		W("hset", "hash", "f", "1", "g", "x"),
		W("sadd", "set", "a", "b"),
		W("zadd", "zset", "1", "a", "2", "b"),
	};
	const char *const *const cmds[] = {
		W("set", "str", "w", "nx"),
		W("set", "nokey", "w", "xx"),
		W("set", "nokey", "w", "xx", "get"),
		W("set", "list", "w", "get"),
		W("setnx", "str", "w"),
		W("msetnx", "a", "1", "str", "2"),
		W("getex", "str"),
		W("getex", "str", "persist"),
		W("getex", "nokey", "ex", "10"),
		W("getdel", "nokey"),
		W("incr", "hash"),
		W("incrby", "str", "1"),
		W("incrbyfloat", "str", "1"),
		W("append", "str", ""),
		W("append", "list", "x"),
		W("setrange", "str", "0", ""),
		W("setrange", "nokey", "5", ""),
		W("del", "nokey", "nokey2"),
		W("unlink", "nokey"),
		W("expire", "nokey", "10"),
		W("pexpireat", "nokey", "1"),
		W("expire", "ttl", "10", "nx"),
		W("expire", "str", "10", "xx"),
		W("expire", "ttl", "10", "gt"),
		W("expire", "ttl", "1000", "lt"),
		W("expire", "str", "10", "gt"),
		W("persist", "str"),
		W("persist", "nokey"),
		W("rename", "str", "str"),
		W("renamenx", "str", "list"),
		W("renamenx", "str", "str"),
		W("copy", "str", "list"),
		W("copy", "nokey", "x"),
		W("move", "nokey", "1"),
		W("lpushx", "nokey", "a"),
		W("rpushx", "str", "a"),
		W("lpop", "nokey"),
		W("rpop", "list", "0"),
		W("lrem", "list", "0", "zz"),
		W("lrem", "nokey", "0", "a"),
		W("ltrim", "list", "0", "-1"),
		W("ltrim", "nokey", "0", "1"),
		W("linsert", "list", "before", "zz", "x"),
		W("linsert", "nokey", "before", "a", "x"),
		W("lset", "list", "10", "x"),
		W("lmove", "nokey", "list", "left", "left"),
		W("rpoplpush", "nokey", "list"),
		W("lmpop", "1", "nokey", "left"),
		W("hdel", "hash", "zz"),
		W("hdel", "nokey", "f"),
		W("hsetnx", "hash", "f", "2"),
		W("hincrby", "hash", "g", "1"),
		W("hincrbyfloat", "hash", "g", "1"),
		W("hset", "str", "f", "1"),
		W("sadd", "set", "a"),
		W("srem", "set", "zz"),
		W("srem", "nokey", "a"),
		W("spop", "set", "0"),
		W("smove", "set", "set2", "zz"),
		W("smove", "nokey", "set2", "a"),
		W("smove", "set", "set", "a"),
		W("sinterstore", "nokey2", "set", "nokey"),
		W("sdiffstore", "nokey2", "set", "set"),
		W("zadd", "zset", "nx", "5", "a"),
		W("zadd", "zset", "xx", "5", "c"),
		W("zadd", "nokey", "xx", "5", "c"),
		W("zadd", "zset", "gt", "0", "b"),
		W("zadd", "zset", "1", "a"),
		W("zincrby", "str", "1", "a"),
		W("zrem", "zset", "zz"),
		W("zremrangebyscore", "zset", "5", "10"),
		W("zremrangebyrank", "zset", "5", "10"),
		W("zremrangebylex", "zset", "[x", "[y"),
		W("zpopmin", "nokey"),
		W("zpopmax", "zset", "0"),
		W("zmpop", "1", "nokey", "min"),
		W("zrangestore", "nokey2", "zset", "5", "10"),
		W("zunionstore", "nokey2", "1", "nokey"),
		W("zinterstore", "nokey2", "2", "zset", "nokey"),
		W("sort", "nokey", "store", "nokey2"),
		W("restore", "str", "0", "x"),
	};

	for (size_t i = 0; i < AP_ARRAY_LEN(setup_cmds); i++)
		a_run(0, setup_cmds[i]);
	RUN("set", "s1", "v");
	RUN("move", "s1", "1");
	RUN("set", "s1", "v");
	for (size_t i = 0; i < AP_ARRAY_LEN(cmds); i++) {
		a_run(0, cmds[i]);
		ck_assert_msg(last.dirty == 0 && last.recs == 0,
			      "%s %s: dirty %llu, %zu records", cmds[i][0],
			      cmds[i][1], (unsigned long long)last.dirty,
			      last.recs);
	}
	RUN("move", "s1", "1");
	NO_CHANGE();
	RUN("copy", "s1", "s1", "db", "1");
	NO_CHANGE();
	replay_check();
}
END_TEST

/* --- the expiry model ---------------------------------------------------- */

/* A key that expired before a command that names it: the runner logs the
 * DEL first, so the replay (where nothing expires) sees it gone too. */
START_TEST(test_expired_before_command)
{
	RUN("set", "k", "v", "px", "100");
	RUN("rpush", "l", "a");
	RUN("pexpire", "l", "100");
	RUN("set", "m", "v");
	RUN("pexpire", "m", "50");
	a_run(1, W("set", "m", "in-db-1"));
	a_run(1, W("pexpire", "m", "50"));
	advance(200);
	RUN("set", "k", "w", "nx");
	RECS(W("set", "k", "w", "nx"));
	CK(L.v[last.first - 1].argc == 2 &&
	   memcmp(L.v[last.first - 1].argv[1].p, "k", 1) == 0);
	RUN("lpushx", "l", "b");
	NO_CHANGE();
	RUN("set", "m2", "v");
	RUN("move", "m2", "1");
	RUN("set", "m", "v2");
	RUN("move", "m", "1");
	REPLY(":1\r\n");
	replay_check();
}
END_TEST

/* --- randomized workload ------------------------------------------------- */

/* A generated command: words in an arena. */
struct gen {
	uint64_t rng;
	int64_t now;
	int argc;
	struct ap_arg argv[ARGS_MAX];
	char arena[1 << 16];
	size_t used;
};

static uint64_t rnd(struct gen *g, uint64_t n)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng % n;
}

static void g_add(struct gen *g, const char *p, size_t len)
{
	CK(g->argc < ARGS_MAX && g->used + len <= sizeof(g->arena));
	memcpy(g->arena + g->used, p, len);
	g->argv[g->argc++] = (struct ap_arg){g->arena + g->used, len};
	g->used += len;
}

static void g_str(struct gen *g, const char *s)
{
	g_add(g, s, strlen(s));
}

static void g_fmt(struct gen *g, const char *fmt, ...) AP_PRINTF(2, 3);
static void g_fmt(struct gen *g, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	CK(n >= 0 && (size_t)n < sizeof(buf));
	g_add(g, buf, (size_t)n);
}

/* A key of the given kind ('s'tring, 'l'ist, 'h'ash, 'S'et, 'z'set, or
 * '*' any), now and then one of a few keys every type shares. */
static void g_key(struct gen *g, char kind)
{
	static const char kinds[] = "slhSz";

	if (kind == '*')
		kind = kinds[rnd(g, 5)];
	if (rnd(g, 8) == 0)
		g_fmt(g, "mix:%d", (int)rnd(g, 3));
	else
		g_fmt(g, "%c:%d", kind, (int)rnd(g, 5));
}

/* A value: short strings, integers, floats, empty, long. */
static void g_val(struct gen *g)
{
	static const char *const vals[] = {
		"a",
		"b",
		"hello",
		"",
		"0",
		"1",
		"-5",
		"42",
		"3.5",
		"1e3",
		"x y",
		"12345678901234567890",
		"9223372036854775807",
		"a-longer-value-past-the-listpack-limit"};

	if (rnd(g, 3) == 0)
		g_fmt(g, "%d", (int)rnd(g, 30));
	else
		g_str(g, vals[rnd(g, AP_ARRAY_LEN(vals))]);
}

/* A member or field: few distinct ones, so that commands collide. */
static void g_member(struct gen *g)
{
	if (rnd(g, 2) == 0)
		g_fmt(g, "%d", (int)rnd(g, 12));
	else if (rnd(g, 6) == 0)
		g_fmt(g, "long-member-%d-past-the-limit", (int)rnd(g, 3));
	else
		g_fmt(g, "m%d", (int)rnd(g, 12));
}

static void g_score(struct gen *g)
{
	static const char *const scores[] = {"1",  "2",	   "2.5", "-1",
					     "0",  "1e10", "inf", "-inf",
					     "-0", "3.25", "7"};

	g_str(g, scores[rnd(g, AP_ARRAY_LEN(scores))]);
}

/* An expire option of SET / GETEX with its value near now. */
static void g_expire_opt(struct gen *g)
{
	switch (rnd(g, 4)) {
	case 0:
		g_str(g, "EX");
		g_fmt(g, "%d", 1 + (int)rnd(g, 3));
		break;
	case 1:
		g_str(g, "PX");
		g_fmt(g, "%d", 1 + (int)rnd(g, 2500));
		break;
	case 2:
		g_str(g, "EXAT");
		g_fmt(g, "%lld", (long long)(g->now / 1000 + 3 - rnd(g, 6)));
		break;
	default:
		g_str(g, "PXAT");
		g_fmt(g, "%lld", (long long)(g->now + 2500 - rnd(g, 4000)));
		break;
	}
}

static void gen_string(struct gen *g)
{
	switch (rnd(g, 12)) {
	case 0:
		g_str(g, "SET");
		g_key(g, 's');
		g_val(g);
		if (rnd(g, 3) == 0)
			g_str(g, rnd(g, 2) ? "NX" : "XX");
		if (rnd(g, 3) == 0)
			g_str(g, "GET");
		if (rnd(g, 4) == 0)
			g_str(g, "KEEPTTL");
		else if (rnd(g, 2) == 0)
			g_expire_opt(g);
		break;
	case 1:
		g_str(g, rnd(g, 2) ? "SETEX" : "PSETEX");
		g_key(g, 's');
		g_fmt(g, "%d", 1 + (int)rnd(g, 2000));
		g_val(g);
		break;
	case 2:
		g_str(g, "GETEX");
		g_key(g, 's');
		if (rnd(g, 4) == 0)
			g_str(g, "PERSIST");
		else if (rnd(g, 4) != 0)
			g_expire_opt(g);
		break;
	case 3:
		g_str(g, rnd(g, 2) ? "GETDEL" : "GETSET");
		g_key(g, 's');
		if (g->argv[0].len == 6)
			g_val(g);
		break;
	case 4:
		g_str(g, rnd(g, 3) ? "MSET" : "MSETNX");
		for (int i = 0, n = 1 + (int)rnd(g, 3); i < n; i++) {
			g_key(g, 's');
			g_val(g);
		}
		break;
	case 5:
		g_str(g, rnd(g, 2) ? "INCR" : "DECR");
		g_key(g, 's');
		break;
	case 6:
		g_str(g, "INCRBY");
		g_key(g, 's');
		g_fmt(g, "%d", (int)rnd(g, 200) - 100);
		break;
	case 7: {
		static const char *const incr[] = {"0.1", "-1.5",   "3",
						   "1e2", "2.5e-3", "7.77"};
		g_str(g, "INCRBYFLOAT");
		g_key(g, 's');
		g_str(g, incr[rnd(g, AP_ARRAY_LEN(incr))]);
		break;
	}
	case 8:
		g_str(g, "APPEND");
		g_key(g, 's');
		g_val(g);
		break;
	case 9:
		g_str(g, "SETRANGE");
		g_key(g, 's');
		g_fmt(g, "%d", (int)rnd(g, 10));
		g_val(g);
		break;
	case 10:
		g_str(g, "SETNX");
		g_key(g, 's');
		g_val(g);
		break;
	default:
		g_str(g, "SET");
		g_key(g, 's');
		g_val(g);
		break;
	}
}

static void gen_keys(struct gen *g)
{
	static const char *const opts[] = {"NX", "XX", "GT", "LT"};

	switch (rnd(g, 9)) {
	case 0:
		g_str(g, rnd(g, 2) ? "DEL" : "UNLINK");
		for (int i = 0, n = 1 + (int)rnd(g, 2); i < n; i++)
			g_key(g, '*');
		break;
	case 1:
	case 2:
		switch (rnd(g, 4)) {
		case 0:
			g_str(g, "EXPIRE");
			g_key(g, '*');
			g_fmt(g, "%d", (int)rnd(g, 5) - 1);
			break;
		case 1:
			g_str(g, "PEXPIRE");
			g_key(g, '*');
			g_fmt(g, "%d", (int)rnd(g, 2600) - 100);
			break;
		case 2:
			g_str(g, "EXPIREAT");
			g_key(g, '*');
			g_fmt(g, "%lld",
			      (long long)(g->now / 1000 + 3 - rnd(g, 6)));
			break;
		default:
			g_str(g, "PEXPIREAT");
			g_key(g, '*');
			g_fmt(g, "%lld",
			      (long long)(g->now + 2500 - rnd(g, 4000)));
			break;
		}
		if (rnd(g, 3) == 0)
			g_str(g, opts[rnd(g, 4)]);
		break;
	case 3:
		g_str(g, "PERSIST");
		g_key(g, '*');
		break;
	case 4:
		g_str(g, rnd(g, 2) ? "RENAME" : "RENAMENX");
		g_key(g, '*');
		g_key(g, '*');
		break;
	case 5:
		g_str(g, "COPY");
		g_key(g, '*');
		g_key(g, '*');
		if (rnd(g, 3) == 0) {
			g_str(g, "DB");
			g_fmt(g, "%d", (int)rnd(g, NDB));
		}
		if (rnd(g, 2) == 0)
			g_str(g, "REPLACE");
		break;
	case 6:
		g_str(g, "MOVE");
		g_key(g, '*');
		g_fmt(g, "%d", (int)rnd(g, NDB));
		break;
	case 7: {
		/* RESTORE of a payload DUMPed from A now. */
		struct ap_arg dump[2] = {{"DUMP", 4}};
		struct out o;
		g_key(g, '*');
		dump[1] = g->argv[0];
		g->argc = 0;
		run_on(&A, 0, NULL, 2, dump, &o);
		if (o.reply[0] != '$' || o.reply[1] == '-' ||
		    o.len > sizeof(g->arena) / 2) {
			ap_free(o.reply);
			g_str(g, "EXISTS");
			g_key(g, '*');
			return;
		}
		g_str(g, "RESTORE");
		g_key(g, '*');
		int abs = rnd(g, 3) == 0;
		if (rnd(g, 4) == 0)
			g_str(g, "0");
		else if (abs)
			g_fmt(g, "%lld",
			      (long long)(g->now + 2500 - rnd(g, 4000)));
		else
			g_fmt(g, "%d", 1 + (int)rnd(g, 2500));
		const char *p = memchr(o.reply, '\n', o.len) + 1;
		g_add(g, p, (size_t)(o.reply + o.len - 2 - p));
		ap_free(o.reply);
		if (abs)
			g_str(g, "ABSTTL");
		if (rnd(g, 4) != 0)
			g_str(g, "REPLACE");
		if (rnd(g, 4) == 0) {
			g_str(g, "IDLETIME");
			g_str(g, "100");
		}
		break;
	}
	default:
		g_str(g, "SORT");
		g_key(g, rnd(g, 2) ? 'S' : 'l');
		if (rnd(g, 2) == 0) {
			g_str(g, "BY");
			g_str(g, rnd(g, 4) ? "w_*" : "nosort");
		}
		if (rnd(g, 2) == 0)
			g_str(g, "ALPHA");
		if (rnd(g, 3) == 0)
			g_str(g, "DESC");
		if (rnd(g, 4) == 0) {
			g_str(g, "LIMIT");
			g_str(g, "1");
			g_str(g, "5");
		}
		g_str(g, "STORE");
		g_key(g, 'l');
		break;
	}
}

static void gen_list(struct gen *g)
{
	static const char *const ends[] = {"LEFT", "RIGHT"};
	static const char *const push[] = {"LPUSH", "RPUSH", "LPUSHX",
					   "RPUSHX"};

	switch (rnd(g, 12)) {
	case 0:
	case 1:
		g_str(g, push[rnd(g, 4)]);
		g_key(g, 'l');
		for (int i = 0, n = 1 + (int)rnd(g, 4); i < n; i++)
			g_val(g);
		break;
	case 2:
		g_str(g, rnd(g, 2) ? "LPOP" : "RPOP");
		g_key(g, 'l');
		if (rnd(g, 2) == 0)
			g_fmt(g, "%d", (int)rnd(g, 4));
		break;
	case 3:
		g_str(g, "LSET");
		g_key(g, 'l');
		g_fmt(g, "%d", (int)rnd(g, 8) - 4);
		g_val(g);
		break;
	case 4:
		g_str(g, "LINSERT");
		g_key(g, 'l');
		g_str(g, rnd(g, 2) ? "BEFORE" : "AFTER");
		g_val(g);
		g_val(g);
		break;
	case 5:
		g_str(g, "LREM");
		g_key(g, 'l');
		g_fmt(g, "%d", (int)rnd(g, 5) - 2);
		g_val(g);
		break;
	case 6:
		g_str(g, "LTRIM");
		g_key(g, 'l');
		g_fmt(g, "%d", (int)rnd(g, 4) - 1);
		g_fmt(g, "%d", (int)rnd(g, 8) - 3);
		break;
	case 7:
		if (rnd(g, 2)) {
			g_str(g, "LMOVE");
			g_key(g, 'l');
			g_key(g, 'l');
			g_str(g, ends[rnd(g, 2)]);
			g_str(g, ends[rnd(g, 2)]);
		} else {
			g_str(g, "RPOPLPUSH");
			g_key(g, 'l');
			g_key(g, 'l');
		}
		break;
	case 8:
		g_str(g, "LMPOP");
		g_str(g, "2");
		g_key(g, 'l');
		g_key(g, 'l');
		g_str(g, ends[rnd(g, 2)]);
		if (rnd(g, 2)) {
			g_str(g, "COUNT");
			g_fmt(g, "%d", 1 + (int)rnd(g, 4));
		}
		break;
	case 9:
		g_str(g, rnd(g, 2) ? "BLPOP" : "BRPOP");
		g_key(g, 'l');
		g_key(g, 'l');
		g_str(g, "0");
		break;
	case 10:
		if (rnd(g, 2)) {
			g_str(g, "BLMOVE");
			g_key(g, 'l');
			g_key(g, 'l');
			g_str(g, ends[rnd(g, 2)]);
			g_str(g, ends[rnd(g, 2)]);
		} else {
			g_str(g, "BRPOPLPUSH");
			g_key(g, 'l');
			g_key(g, 'l');
		}
		g_str(g, "0");
		break;
	default:
		g_str(g, "BLMPOP");
		g_str(g, "0");
		g_str(g, "2");
		g_key(g, 'l');
		g_key(g, 'l');
		g_str(g, ends[rnd(g, 2)]);
		g_str(g, "COUNT");
		g_fmt(g, "%d", 1 + (int)rnd(g, 4));
		break;
	}
}

static void gen_hash(struct gen *g)
{
	switch (rnd(g, 5)) {
	case 0:
	case 1:
		g_str(g, rnd(g, 4) ? "HSET" : "HMSET");
		g_key(g, 'h');
		for (int i = 0, n = 1 + (int)rnd(g, 3); i < n; i++) {
			g_member(g);
			g_val(g);
		}
		break;
	case 2:
		g_str(g, rnd(g, 2) ? "HSETNX" : "HDEL");
		g_key(g, 'h');
		g_member(g);
		if (g->argv[0].len == 6)
			g_val(g);
		break;
	case 3:
		g_str(g, "HINCRBY");
		g_key(g, 'h');
		g_member(g);
		g_fmt(g, "%d", (int)rnd(g, 20) - 10);
		break;
	default:
		g_str(g, "HINCRBYFLOAT");
		g_key(g, 'h');
		g_member(g);
		g_str(g, rnd(g, 2) ? "0.1" : "-2.75");
		break;
	}
}

static void gen_set(struct gen *g)
{
	static const char *const store[] = {"SINTERSTORE", "SUNIONSTORE",
					    "SDIFFSTORE"};

	switch (rnd(g, 6)) {
	case 0:
	case 1:
		g_str(g, "SADD");
		g_key(g, 'S');
		for (int i = 0, n = 1 + (int)rnd(g, 5); i < n; i++)
			g_member(g);
		break;
	case 2:
		g_str(g, "SREM");
		g_key(g, 'S');
		g_member(g);
		g_member(g);
		break;
	case 3:
		g_str(g, "SPOP");
		g_key(g, 'S');
		if (rnd(g, 2))
			g_fmt(g, "%d", (int)rnd(g, 6));
		break;
	case 4:
		g_str(g, "SMOVE");
		g_key(g, 'S');
		g_key(g, 'S');
		g_member(g);
		break;
	default:
		g_str(g, store[rnd(g, 3)]);
		g_key(g, 'S');
		g_key(g, 'S');
		g_key(g, 'S');
		break;
	}
}

static void gen_zset(struct gen *g)
{
	static const char *const opts[] = {"NX", "XX", "GT", "LT", "CH"};
	static const char *const store[] = {"ZUNIONSTORE", "ZINTERSTORE",
					    "ZDIFFSTORE"};

	switch (rnd(g, 10)) {
	case 0:
	case 1:
		g_str(g, "ZADD");
		g_key(g, 'z');
		if (rnd(g, 3) == 0)
			g_str(g, opts[rnd(g, 5)]);
		for (int i = 0, n = 1 + (int)rnd(g, 4); i < n; i++) {
			g_score(g);
			g_member(g);
		}
		break;
	case 2:
		g_str(g, "ZINCRBY");
		g_key(g, 'z');
		g_score(g);
		g_member(g);
		break;
	case 3:
		g_str(g, "ZREM");
		g_key(g, 'z');
		g_member(g);
		break;
	case 4:
		g_str(g, rnd(g, 2) ? "ZPOPMIN" : "ZPOPMAX");
		g_key(g, 'z');
		if (rnd(g, 2))
			g_fmt(g, "%d", (int)rnd(g, 4));
		break;
	case 5:
		switch (rnd(g, 4)) {
		case 0:
			g_str(g, "ZMPOP");
			g_str(g, "2");
			break;
		case 1:
			g_str(g, "BZMPOP");
			g_str(g, "0");
			g_str(g, "2");
			break;
		default:
			g_str(g, rnd(g, 2) ? "BZPOPMIN" : "BZPOPMAX");
			g_key(g, 'z');
			g_key(g, 'z');
			g_str(g, "0");
			return;
		}
		g_key(g, 'z');
		g_key(g, 'z');
		g_str(g, rnd(g, 2) ? "MIN" : "MAX");
		if (rnd(g, 2)) {
			g_str(g, "COUNT");
			g_fmt(g, "%d", 1 + (int)rnd(g, 3));
		}
		break;
	case 6:
		switch (rnd(g, 3)) {
		case 0:
			g_str(g, "ZREMRANGEBYRANK");
			g_key(g, 'z');
			g_str(g, "0");
			g_str(g, "1");
			break;
		case 1:
			g_str(g, "ZREMRANGEBYSCORE");
			g_key(g, 'z');
			g_str(g, "-inf");
			g_str(g, "(1");
			break;
		default:
			g_str(g, "ZREMRANGEBYLEX");
			g_key(g, 'z');
			g_str(g, "-");
			g_str(g, "[m3");
			break;
		}
		break;
	case 7:
		g_str(g, "ZRANGESTORE");
		g_key(g, 'z');
		g_key(g, 'z');
		g_str(g, "0");
		g_str(g, "3");
		if (rnd(g, 2))
			g_str(g, "REV");
		break;
	default:
		g_str(g, store[rnd(g, 3)]);
		g_key(g, 'z');
		g_str(g, "2");
		g_key(g, rnd(g, 3) ? 'z' : 'S');
		g_key(g, 'z');
		if (rnd(g, 3) == 0) {
			g_str(g, "WEIGHTS");
			g_str(g, "2");
			g_str(g, "0.5");
		}
		if (rnd(g, 3) == 0) {
			g_str(g, "AGGREGATE");
			g_str(g, rnd(g, 2) ? "MIN" : "MAX");
		}
		break;
	}
}

/* Runs n generated commands on A (clock moving on by 0 to 120 ms each,
 * now and then by seconds), then replays and compares. */
static void random_run(uint64_t seed, int n)
{
	static struct gen g;

	memset(&g, 0, sizeof(g));
	g.rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	/* SORT ... BY w_* weights: strings with ties, never a TTL. */
	for (int i = 0; i < 12; i++) {
		char k[16], v[8];
		snprintf(k, sizeof(k), "w_m%d", i);
		snprintf(v, sizeof(v), "%d", i % 3);
		if (i % 4 != 0)
			a_run(0, W("set", k, v));
	}
	size_t changed = 0, rewritten = 0;
	for (int i = 0; i < n; i++) {
		g.argc = 0;
		g.used = 0;
		g.now = ap_keyspace_now(A.ks);
		switch (rnd(&g, 6)) {
		case 0:
			gen_string(&g);
			break;
		case 1:
			gen_keys(&g);
			break;
		case 2:
			gen_list(&g);
			break;
		case 3:
			gen_hash(&g);
			break;
		case 4:
			gen_set(&g);
			break;
		default:
			gen_zset(&g);
			break;
		}
		unsigned db = rnd(&g, 8) == 0 ? 1 : 0;
		ap_free(last.reply);
		run_on(&A, db, &L, g.argc, g.argv, &last);
		changed += last.dirty > 0;
		rewritten += last.propagated;
		advance(rnd(&g, 20) == 0 ? 500 + (int64_t)rnd(&g, 3000)
					 : (int64_t)rnd(&g, 120));
	}
	/* The workload did exercise changes and rewrites. */
	CK(changed > (size_t)n / 4);
	CK(rewritten > (size_t)n / 50);
	replay_check();
}

START_TEST(test_random_workload)
{
	random_run((uint64_t)_i + 1, 3000);
}
END_TEST

static Suite *propagate_suite(void)
{
	Suite *s = suite_create("propagate");
	TCase *tc = tcase_create("rewrites");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_set_expire);
	tcase_add_test(tc, test_expire_family);
	tcase_add_test(tc, test_getex_getdel);
	tcase_add_test(tc, test_time_passed_before_replay);
	tcase_add_test(tc, test_incrbyfloat);
	tcase_add_test(tc, test_spop);
	tcase_add_test(tc, test_spop_big);
	tcase_add_test(tc, test_restore);
	tcase_add_test(tc, test_blocking_pops);
	tcase_add_test(tc, test_sort_store_set);
	tcase_add_test(tc, test_no_change);
	tcase_add_test(tc, test_expired_before_command);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_random_workload, 0, 6);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	ap_core_setup();

	SRunner *sr = srunner_create(propagate_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures != 0;
}
