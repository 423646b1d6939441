/*
 * cmd_hash.c - the Redis 7 hash commands: HSET HSETNX HMSET HGET HMGET
 * HDEL HLEN HSTRLEN HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT
 * HRANDFIELD HSCAN, and the hash type's value operations.
 *
 * The value is a hash object (core/hobj.h): a listpack while small, a
 * hashtable beyond hash-max-listpack-entries / hash-max-listpack-value.
 * Semantics, replies (RESP2 and RESP3) and error texts follow the Redis
 * command reference. As in Redis, any write converts a listpack whose
 * field or value would grow too long, HINCRBY and HINCRBYFLOAT results
 * included.
 *
 * Writes follow one shape: open the key for writing (an absent key gets
 * a fresh empty hash not yet in the keyspace), mutate the handle, then
 * close, which stores the handle back in the entry (the listpack may have
 * moved, the encoding changed), inserts a new non-empty hash, and deletes
 * a hash that became empty: Redis never keeps empty collections. Every
 * changed field counts one change in ctx->dirty.
 *
 * One deviation: HRANDFIELD with a negative count (repetitions) answers
 * "value is out of range" beyond AP_RAND_COUNT_MAX elements, where Redis
 * builds the reply until memory runs out.
 *
 * Threading: commands run on the shard thread that owns ctx->ks.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/cmd.h"
#include "core/hobj.h"
#include "core/limits.h"

#define ERR_HASH_NOT_INT   "ERR hash value is not an integer"
#define ERR_HASH_NOT_FLOAT "ERR hash value is not a float"
#define ERR_NAN_INF	   "ERR value is NaN or Infinity"
#define ERR_RESULT_NAN	   "ERR increment would produce NaN or Infinity"
#define ERR_RANGE	   "ERR value is out of range"

/* --- small helpers --------------------------------------------------- */

/* Looks up argv[1], the key of every hash command. */
static struct ap_entry *lookup(struct ap_cmd_ctx *c, unsigned flags)
{
	return ap_db_lookup(c->db, c->argv[1].p, c->argv[1].len, flags);
}

/*
 * Returns true if e (which may be NULL) is absent or a hash; otherwise
 * replies WRONGTYPE and returns false.
 */
static bool check_hash(struct ap_cmd_ctx *c, const struct ap_entry *e)
{
	if (e == NULL || ap_entry_type(e) == AP_TYPE_HASH)
		return true;
	ap_reply_error(c->r, AP_ERR_WRONGTYPE);
	return false;
}

/* The hash object of a hash entry. */
static struct ap_hobj hobj_of(const struct ap_entry *e)
{
	AP_ASSERT(ap_entry_type(e) == AP_TYPE_HASH);
	return (struct ap_hobj){.ptr = ap_entry_obj(e), .enc = ap_entry_enc(e)};
}

/* The listpack limits of this shard's configuration. */
static struct ap_hobj_limits limits_of(const struct ap_cmd_ctx *c)
{
	AP_ASSERT(c->cfg->hash_max_listpack_entries >= 0 &&
		  c->cfg->hash_max_listpack_value >= 0);
	return (struct ap_hobj_limits){
		.entries_max = (size_t)c->cfg->hash_max_listpack_entries,
		.value_max = (size_t)c->cfg->hash_max_listpack_value,
	};
}

/* A hash opened for writing: the entry (NULL for a new hash) and the
 * handle being mutated. */
struct hash_w {
	struct ap_entry *e;
	struct ap_hobj h;
	struct ap_hobj_limits lim;
};

/*
 * Opens argv[1] for writing: an existing hash, or a new empty one that
 * hash_close inserts if it gained fields. Replies WRONGTYPE and returns
 * false for another type. A successful open must be closed.
 */
static bool hash_open(struct ap_cmd_ctx *c, struct hash_w *w)
{
	w->e = lookup(c, 0);
	if (!check_hash(c, w->e))
		return false;
	if (w->e != NULL)
		w->h = hobj_of(w->e);
	else
		ap_hobj_init(&w->h);
	w->lim = limits_of(c);
	return true;
}

/*
 * Stores the handle back: into the entry it came from (then deletes the
 * key if the hash became empty), or as a new key if it has fields (else
 * the empty object is freed).
 */
static void hash_close(struct ap_cmd_ctx *c, struct hash_w *w)
{
	const struct ap_arg *k = &c->argv[1];
	bool empty = ap_hobj_len(&w->h) == 0;

	if (w->e != NULL) {
		ap_entry_obj_set(w->e, w->h.ptr, w->h.enc);
		if (empty)
			(void)ap_db_delete(c->db, k->p, k->len);
	} else if (!empty) {
		(void)ap_db_set_object(c->db, k->p, k->len, AP_TYPE_HASH,
				       w->h.enc, w->h.ptr, AP_NO_EXPIRE);
	} else {
		ap_hobj_free(w->h.ptr, w->h.enc);
	}
	w->e = NULL;
	w->h.ptr = NULL;
}

/*
 * Opens argv[1] for reading: returns false after replying WRONGTYPE, else
 * true with *found telling whether the hash exists (and *h its handle).
 */
static bool hash_read(struct ap_cmd_ctx *c, struct ap_hobj *h, bool *found)
{
	struct ap_entry *e = lookup(c, AP_LK_READ);

	if (!check_hash(c, e))
		return false;
	*found = e != NULL;
	if (e != NULL)
		*h = hobj_of(e);
	return true;
}

/* Replies "wrong number of arguments" for the field/value pair commands
 * whose arity the table cannot express. */
static void reply_arity(struct ap_cmd_ctx *c)
{
	ap_reply_errorf(c->r, "ERR wrong number of arguments for '%s' command",
			c->cmd->name);
}

/* --- HSET HMSET HSETNX ----------------------------------------------- */

/*
 * Sets every field/value pair from argv[2] on; returns the fields that
 * were new. An odd number of arguments replies the arity error and
 * returns -1 without writing.
 */
static long long set_pairs(struct ap_cmd_ctx *c)
{
	struct hash_w w;
	long long added = 0;

	if (c->argc % 2 != 0) {
		reply_arity(c);
		return -1;
	}
	if (!hash_open(c, &w))
		return -1;
	for (int i = 2; i < c->argc; i += 2) {
		const struct ap_arg *f = &c->argv[i];
		const struct ap_arg *v = &c->argv[i + 1];

		added += ap_hobj_set(&w.h, f->p, f->len, v->p, v->len, &w.lim);
	}
	hash_close(c, &w);
	c->dirty += (uint64_t)(c->argc - 2) / 2;
	return added;
}

/* HSET key field value [field value ...]: replies the new fields. */
static void cmd_hset(struct ap_cmd_ctx *c)
{
	long long added = set_pairs(c);

	if (added >= 0)
		ap_reply_int(c->r, added);
}

/* HMSET key field value [field value ...]: as HSET, replies +OK. */
static void cmd_hmset(struct ap_cmd_ctx *c)
{
	if (set_pairs(c) >= 0)
		ap_reply_ok(c->r);
}

/* HSETNX key field value: sets the field only if absent; 1 if set. */
static void cmd_hsetnx(struct ap_cmd_ctx *c)
{
	const struct ap_arg *f = &c->argv[2];
	const struct ap_arg *v = &c->argv[3];
	struct hash_w w;
	bool set = false;

	if (!hash_open(c, &w))
		return;
	if (!ap_hobj_exists(&w.h, f->p, f->len)) {
		(void)ap_hobj_set(&w.h, f->p, f->len, v->p, v->len, &w.lim);
		set = true;
		c->dirty++;
	}
	hash_close(c, &w);
	ap_reply_int(c->r, set);
}

/* --- reads ----------------------------------------------------------- */

/* Replies the value of field f of h as a bulk string, nil if absent. */
static void reply_field(struct ap_cmd_ctx *c, struct ap_hobj *h,
			const struct ap_arg *f)
{
	char buf[AP_HOBJ_BUF_SIZE];
	size_t vlen;
	const char *v = ap_hobj_get(h, f->p, f->len, &vlen, buf);

	if (v == NULL)
		ap_reply_null(c->r);
	else
		ap_reply_bulk(c->r, v, vlen);
}

/* HGET key field: the value, nil if the key or field is missing. */
static void cmd_hget(struct ap_cmd_ctx *c)
{
	struct ap_hobj h;
	bool found;

	if (!hash_read(c, &h, &found))
		return;
	if (!found)
		ap_reply_null(c->r);
	else
		reply_field(c, &h, &c->argv[2]);
}

/* HMGET key field [field ...]: one value or nil per field. */
static void cmd_hmget(struct ap_cmd_ctx *c)
{
	struct ap_hobj h;
	bool found;

	if (!hash_read(c, &h, &found))
		return;
	ap_reply_array(c->r, (size_t)c->argc - 2);
	for (int i = 2; i < c->argc; i++) {
		if (!found)
			ap_reply_null(c->r);
		else
			reply_field(c, &h, &c->argv[i]);
	}
}

/* HLEN key: the number of fields, 0 for a missing key. */
static void cmd_hlen(struct ap_cmd_ctx *c)
{
	struct ap_hobj h;
	bool found;

	if (!hash_read(c, &h, &found))
		return;
	ap_reply_int(c->r, found ? (long long)ap_hobj_len(&h) : 0);
}

/* HSTRLEN key field: the value's length, 0 if key or field is missing. */
static void cmd_hstrlen(struct ap_cmd_ctx *c)
{
	const struct ap_arg *f = &c->argv[2];
	struct ap_hobj h;
	bool found;

	if (!hash_read(c, &h, &found))
		return;
	ap_reply_int(c->r,
		     found ? (long long)ap_hobj_strlen(&h, f->p, f->len) : 0);
}

/* HEXISTS key field: 1 if the field exists, else 0. */
static void cmd_hexists(struct ap_cmd_ctx *c)
{
	const struct ap_arg *f = &c->argv[2];
	struct ap_hobj h;
	bool found;

	if (!hash_read(c, &h, &found))
		return;
	ap_reply_int(c->r, found && ap_hobj_exists(&h, f->p, f->len));
}

/* What reply_all writes. */
enum all_what {
	ALL_KEYS = 1,
	ALL_VALUES = 2,
	ALL_PAIRS = 3,
};

/* HKEYS, HVALS, HGETALL of a huge hash, streamed (struct
 * ap_cmd_stream): the pairs left and a walk open across steps (a
 * hashtable's rehash is paused meanwhile; the executor keeps writers
 * away). */
struct all_stream {
	struct ap_hobj_iter it;
	enum all_what what;
	size_t left;
};

/* ap_cmd_stream_step_fn of HKEYS/HVALS/HGETALL: the next pairs, in the
 * order reply_all writes them in one go. */
static bool all_step(void *state, struct ap_reply *r, size_t budget)
{
	struct all_stream *as = state;
	struct ap_hobj_pair p;
	size_t start = r->out->len;

	for (size_t done = 0;
	     as->left > 0 && ap_cmd_stream_more(r, start, done, budget);
	     done++) {
		bool more = ap_hobj_iter_next(&as->it, &p);

		AP_ASSERT(more); /* the hash cannot change under the stream */
		if (as->what & ALL_KEYS)
			ap_reply_bulk(r, p.f, p.flen);
		if (as->what & ALL_VALUES)
			ap_reply_bulk(r, p.v, p.vlen);
		as->left--;
	}
	return as->left == 0;
}

/* ap_cmd_stream_free_fn of HKEYS/HVALS/HGETALL: ends the walk. */
static void all_free(void *state)
{
	struct all_stream *as = state;

	ap_hobj_iter_deinit(&as->it);
	ap_free(as);
}

/*
 * HKEYS, HVALS, HGETALL: every field, value, or pair of argv[1]. Pairs
 * are a map in RESP3 (flat array in RESP2); a missing key is empty. A
 * huge hash's reply is streamed when the executor allows it.
 */
static void reply_all(struct ap_cmd_ctx *c, enum all_what what)
{
	struct ap_hobj h;
	struct ap_hobj_iter it;
	struct ap_hobj_pair p;
	struct ap_entry *e = lookup(c, AP_LK_READ);

	if (!check_hash(c, e))
		return;
	size_t n = 0;
	if (e != NULL) {
		h = hobj_of(e);
		n = ap_hobj_len(&h);
	}
	if (what == ALL_PAIRS)
		ap_reply_map(c->r, n);
	else
		ap_reply_array(c->r, n);
	if (e == NULL)
		return;
	if (ap_cmd_stream_wanted(c, n)) {
		struct all_stream *as = ap_malloc(sizeof(*as));

		as->what = what;
		as->left = n;
		ap_hobj_iter_init(&as->it, &h);
		ap_cmd_stream_start(c, all_step, all_free, as, e);
		return;
	}
	ap_hobj_iter_init(&it, &h);
	while (ap_hobj_iter_next(&it, &p)) {
		if (what & ALL_KEYS)
			ap_reply_bulk(c->r, p.f, p.flen);
		if (what & ALL_VALUES)
			ap_reply_bulk(c->r, p.v, p.vlen);
		n--;
	}
	ap_hobj_iter_deinit(&it);
	AP_ASSERT(n == 0);
}

/* HKEYS key. */
static void cmd_hkeys(struct ap_cmd_ctx *c)
{
	reply_all(c, ALL_KEYS);
}

/* HVALS key. */
static void cmd_hvals(struct ap_cmd_ctx *c)
{
	reply_all(c, ALL_VALUES);
}

/* HGETALL key. */
static void cmd_hgetall(struct ap_cmd_ctx *c)
{
	reply_all(c, ALL_PAIRS);
}

/* --- HDEL ------------------------------------------------------------ */

/* HDEL key field [field ...]: deletes the fields, replies how many
 * existed; the key goes when its last field does. */
static void cmd_hdel(struct ap_cmd_ctx *c)
{
	struct ap_entry *e = lookup(c, 0);
	long long deleted = 0;

	if (!check_hash(c, e))
		return;
	if (e == NULL) {
		ap_reply_int(c->r, 0);
		return;
	}
	struct hash_w w = {.e = e, .h = hobj_of(e), .lim = limits_of(c)};
	for (int i = 2; i < c->argc && ap_hobj_len(&w.h) > 0; i++) {
		const struct ap_arg *f = &c->argv[i];

		deleted += ap_hobj_delete(&w.h, f->p, f->len);
	}
	hash_close(c, &w);
	c->dirty += (uint64_t)deleted;
	ap_reply_int(c->r, deleted);
}

/* --- HINCRBY HINCRBYFLOAT -------------------------------------------- */

/*
 * HINCRBY key field increment: adds to the field's integer value (0 if
 * absent) in place and replies the result. The increment is parsed before
 * the key is looked at, as Redis.
 */
static void cmd_hincrby(struct ap_cmd_ctx *c)
{
	const struct ap_arg *f = &c->argv[2];
	struct hash_w w;
	long long incr;
	long long v = 0;

	if (!ap_arg_ll(c, &c->argv[3], &incr) || !hash_open(c, &w))
		return;
	enum ap_hobj_incr st =
		ap_hobj_incr_ll(&w.h, f->p, f->len, incr, &w.lim, &v);
	hash_close(c, &w);
	if (st == AP_HOBJ_INCR_NOT_INT) {
		ap_reply_error(c->r, ERR_HASH_NOT_INT);
	} else if (st == AP_HOBJ_INCR_OVERFLOW) {
		ap_reply_error(c->r, AP_ERR_OVERFLOW);
	} else {
		c->dirty++;
		ap_reply_int(c->r, v);
	}
}

/*
 * HINCRBYFLOAT key field increment: long double arithmetic, the result
 * stored and replied in Redis's %.17Lf-trimmed form. Checks in Redis's
 * order: increment syntax, an infinite increment, the key's type, the
 * current value, a NaN or infinite result. Recorded (ap_cmd_propagate) as
 * "HSET key field result": the arithmetic is done once, its text
 * replayed, as Redis propagates it.
 */
static void cmd_hincrbyfloat(struct ap_cmd_ctx *c)
{
	const struct ap_arg *f = &c->argv[2];
	struct hash_w w;
	long double incr;
	long double v = 0;

	if (!ap_arg_ld(c, &c->argv[3], &incr))
		return;
	if (isnan(incr) || isinf(incr)) {
		ap_reply_error(c->r, ERR_NAN_INF);
		return;
	}
	if (!hash_open(c, &w))
		return;

	char ibuf[AP_HOBJ_BUF_SIZE];
	size_t len;
	const char *cur = ap_hobj_get(&w.h, f->p, f->len, &len, ibuf);
	const char *err = NULL;
	if (cur != NULL && !ap_str_to_ld(cur, len, &v))
		err = ERR_HASH_NOT_FLOAT;
	v += incr;
	if (err == NULL && (isnan(v) || isinf(v)))
		err = ERR_RESULT_NAN;
	if (err != NULL) {
		hash_close(c, &w);
		ap_reply_error(c->r, err);
		return;
	}
	char buf[AP_LD_STR_SIZE];
	size_t n = ap_ld_to_str(buf, v);
	(void)ap_hobj_set(&w.h, f->p, f->len, buf, n, &w.lim);
	hash_close(c, &w);
	c->dirty++;
	ap_reply_bulk(c->r, buf, n);

	struct ap_arg argv[4] = {
		{.p = "HSET", .len = 4}, c->argv[1], *f, {.p = buf, .len = n}};
	ap_cmd_propagate(c, 4, argv);
}

/* --- HRANDFIELD ------------------------------------------------------ */

struct rand_reply {
	struct ap_reply *r;
	bool withvalues;
};

/* Replies one sampled pair: the field, or field and value (a 2-element
 * array each in RESP3, flat in RESP2). */
static void reply_rand_pair(void *arg, const struct ap_hobj_pair *p)
{
	struct rand_reply *rr = arg;

	if (rr->withvalues && rr->r->proto == 3)
		ap_reply_array(rr->r, 2);
	ap_reply_bulk(rr->r, p->f, p->flen);
	if (rr->withvalues)
		ap_reply_bulk(rr->r, p->v, p->vlen);
}

/* Writes the header of an HRANDFIELD reply of n pairs. */
static void reply_rand_header(struct rand_reply *rr, size_t n)
{
	if (rr->withvalues && rr->r->proto == 2)
		ap_reply_array(rr->r, 2 * n);
	else
		ap_reply_array(rr->r, n);
}

/* HRANDFIELD key: one random field, nil for a missing key. */
static void hrandfield_one(struct ap_cmd_ctx *c)
{
	struct ap_hobj h;
	bool found;
	struct ap_hobj_pair p;
	char fbuf[AP_HOBJ_BUF_SIZE], vbuf[AP_HOBJ_BUF_SIZE];

	if (!hash_read(c, &h, &found))
		return;
	if (!found) {
		ap_reply_null(c->r);
		return;
	}
	uint64_t rng = ap_dict_rng_seed();
	ap_hobj_random(&h, &rng, &p, fbuf, vbuf);
	ap_reply_bulk(c->r, p.f, p.flen);
}

/*
 * Parses HRANDFIELD's count and WITHVALUES as Redis: count in
 * [-LONG_MAX, LONG_MAX], then the option, then (with WITHVALUES) count
 * within LONG_MAX / 2; and ours: a negative count within
 * AP_RAND_COUNT_MAX. Replies the error and returns false.
 */
static bool hrandfield_args(struct ap_cmd_ctx *c, long long *count,
			    bool *withvalues)
{
	if (!ap_arg_ll_range(c, &c->argv[2], -LLONG_MAX, LLONG_MAX, count))
		return false;
	*withvalues = false;
	if (c->argc >= 4) {
		if (c->argc > 4 || !ap_arg_eq(&c->argv[3], "withvalues")) {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
		if (*count < -LLONG_MAX / 2 || *count > LLONG_MAX / 2) {
			ap_reply_error(c->r, ERR_RANGE);
			return false;
		}
		*withvalues = true;
	}
	if (*count < -AP_RAND_COUNT_MAX) {
		ap_reply_error(c->r, ERR_RANGE);
		return false;
	}
	return true;
}

/*
 * HRANDFIELD key [count [WITHVALUES]]: with a positive count, that many
 * distinct fields (all of them if fewer); with a negative one, -count
 * fields drawn independently (repetitions possible); a missing key gives
 * an empty array.
 */
static void cmd_hrandfield(struct ap_cmd_ctx *c)
{
	long long count;
	struct rand_reply rr = {.r = c->r};
	struct ap_hobj h;
	bool found;

	if (c->argc == 2) {
		hrandfield_one(c);
		return;
	}
	if (!hrandfield_args(c, &count, &rr.withvalues) ||
	    !hash_read(c, &h, &found))
		return;
	if (!found || count == 0) {
		ap_reply_array(c->r, 0);
		return;
	}
	uint64_t rng = ap_dict_rng_seed();
	size_t len = ap_hobj_len(&h);
	if (count < 0) {
		reply_rand_header(&rr, (size_t)-count);
		ap_hobj_random_repeat(&h, (size_t)-count, &rng, reply_rand_pair,
				      &rr);
	} else if ((unsigned long long)count >= len) {
		struct ap_hobj_iter it;
		struct ap_hobj_pair p;

		reply_rand_header(&rr, len);
		ap_hobj_iter_init(&it, &h);
		while (ap_hobj_iter_next(&it, &p))
			reply_rand_pair(&rr, &p);
		ap_hobj_iter_deinit(&it);
	} else {
		reply_rand_header(&rr, (size_t)count);
		ap_hobj_random_distinct(&h, (size_t)count, &rng,
					reply_rand_pair, &rr);
	}
}

/* --- HSCAN ----------------------------------------------------------- */

struct scan_out {
	struct ap_reply r;	    /* into a side buffer */
	const struct ap_arg *match; /* NULL: every field */
	size_t pairs;		    /* pairs written */
};

/* Writes a visited pair to the side buffer if its field matches. */
static void scan_emit(void *arg, const struct ap_hobj_pair *p)
{
	struct scan_out *so = arg;

	if (so->match != NULL &&
	    !ap_glob_match(so->match->p, so->match->len, p->f, p->flen, false))
		return;
	ap_reply_bulk(&so->r, p->f, p->flen);
	ap_reply_bulk(&so->r, p->v, p->vlen);
	so->pairs++;
}

/*
 * HSCAN key cursor [MATCH pattern] [COUNT count]: the next cursor and a
 * flat array of field, value pairs. Checks in Redis's order: the cursor,
 * the key (a missing key is an empty, finished scan whatever the
 * options), the options. The pairs are written to a side buffer first
 * (the cursor, known last, goes first), then spliced after the header.
 */
static void cmd_hscan(struct ap_cmd_ctx *c)
{
	uint64_t cursor;
	struct ap_scan_args args;
	struct ap_hobj h;
	bool found;

	if (!ap_scan_cursor_parse(c, &c->argv[2], &cursor) ||
	    !hash_read(c, &h, &found))
		return;
	if (!found) {
		ap_scan_reply_write(c->r, 0, 0, NULL);
		return;
	}
	if (!ap_scan_args_parse(c, 3, false, &args))
		return;

	struct ap_obuf side;
	struct scan_out so = {.match = args.match, .pairs = 0};
	ap_obuf_init(&side);
	ap_reply_init(&so.r, &side, c->r->proto);
	uint64_t next = ap_hobj_scan(&h, cursor, args.count, scan_emit, &so);
	ap_scan_reply_write(c->r, next, 2 * so.pairs, &side);
	ap_obuf_deinit(&side);
}

/* --- type operations ------------------------------------------------- */

static const struct ap_type_ops hash_ops = {
	.name = "hash",
	.free = ap_hobj_free,
	.dup = ap_hobj_dup,
	.length = ap_hobj_len_of,
	.mem = ap_hobj_mem,
	.free_some = ap_hobj_free_some,
};

const struct ap_type_ops *const ap_hash_type_ops = &hash_ops;

/* --- the table ------------------------------------------------------- */

#define HASH_CMD(nm, ar, fl, f, sum, sin, cx, acl)                             \
	{                                                                      \
		.name = nm, .arity = ar, .flags = fl, .first_key = 1,          \
		.last_key = 1, .key_step = 1, .split = AP_SPLIT_NONE, .fn = f, \
		.group = "hash", .summary = sum, .since = sin,                 \
		.complexity = cx, .acl_categories = acl, .subcmds = NULL,      \
	}

#define W_DENY_FAST (AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST)
#define W_FAST	    (AP_CMD_WRITE | AP_CMD_FAST)
#define R_FAST	    (AP_CMD_READONLY | AP_CMD_FAST)
#define R_SLOW	    AP_CMD_READONLY
#define ACL_RF	    "@read @hash @fast"
#define ACL_RS	    "@read @hash @slow"
#define ACL_WF	    "@write @hash @fast"
#define O1	    "O(1)"
#define ON_HASH	    "O(N) where N is the size of the hash."

const struct ap_cmd ap_cmds_hash[] = {
	HASH_CMD("hset", -4, W_DENY_FAST, cmd_hset,
		 "Creates or modifies the value of a field in a hash.", "2.0.0",
		 "O(1) for each field/value pair added, so O(N) to add N "
		 "field/value pairs when the command is called with multiple "
		 "field/value pairs.",
		 ACL_WF),
	HASH_CMD("hsetnx", 4, W_DENY_FAST, cmd_hsetnx,
		 "Sets the value of a field in a hash only when the field "
		 "doesn't exist.",
		 "2.0.0", O1, ACL_WF),
	HASH_CMD("hmset", -4, W_DENY_FAST, cmd_hmset,
		 "Sets the values of multiple fields.", "2.0.0",
		 "O(N) where N is the number of fields being set.", ACL_WF),
	HASH_CMD("hget", 3, R_FAST, cmd_hget,
		 "Returns the value of a field in a hash.", "2.0.0", O1,
		 ACL_RF),
	HASH_CMD("hmget", -3, R_FAST, cmd_hmget,
		 "Returns the values of all fields in a hash.", "2.0.0",
		 "O(N) where N is the number of fields being requested.",
		 ACL_RF),
	HASH_CMD("hdel", -3, W_FAST, cmd_hdel,
		 "Deletes one or more fields and their values from a hash. "
		 "Deletes the hash if no fields remain.",
		 "2.0.0", "O(N) where N is the number of fields to be removed.",
		 ACL_WF),
	HASH_CMD("hlen", 2, R_FAST, cmd_hlen,
		 "Returns the number of fields in a hash.", "2.0.0", O1,
		 ACL_RF),
	HASH_CMD("hstrlen", 3, R_FAST, cmd_hstrlen,
		 "Returns the length of the value of a field.", "3.2.0", O1,
		 ACL_RF),
	HASH_CMD("hexists", 3, R_FAST, cmd_hexists,
		 "Determines whether a field exists in a hash.", "2.0.0", O1,
		 ACL_RF),
	HASH_CMD("hkeys", 2, R_SLOW, cmd_hkeys, "Returns all fields in a hash.",
		 "2.0.0", ON_HASH, ACL_RS),
	HASH_CMD("hvals", 2, R_SLOW, cmd_hvals, "Returns all values in a hash.",
		 "2.0.0", ON_HASH, ACL_RS),
	HASH_CMD("hgetall", 2, R_SLOW, cmd_hgetall,
		 "Returns all fields and values in a hash.", "2.0.0", ON_HASH,
		 ACL_RS),
	HASH_CMD("hincrby", 4, W_DENY_FAST, cmd_hincrby,
		 "Increments the integer value of a field in a hash by a "
		 "number. Uses 0 as initial value if the field doesn't exist.",
		 "2.0.0", O1, ACL_WF),
	HASH_CMD("hincrbyfloat", 4, W_DENY_FAST, cmd_hincrbyfloat,
		 "Increments the floating point value of a field by a number. "
		 "Uses 0 as initial value if the field doesn't exist.",
		 "2.6.0", O1, ACL_WF),
	HASH_CMD("hrandfield", -2, R_SLOW, cmd_hrandfield,
		 "Returns one or more random fields from a hash.", "6.2.0",
		 "O(N) where N is the number of fields returned", ACL_RS),
	HASH_CMD("hscan", -3, R_SLOW, cmd_hscan,
		 "Iterates over fields and values of a hash.", "2.8.0",
		 "O(1) for every call. O(N) for a complete iteration, "
		 "including enough command calls for the cursor to return "
		 "back to 0. N is the number of elements inside the "
		 "collection.",
		 ACL_RS),
	{.name = NULL},
};
