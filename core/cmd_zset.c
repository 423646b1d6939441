/*
 * cmd_zset.c - the Redis 7.2 sorted-set commands (the blocking
 * BZPOPMIN/BZPOPMAX/BZMPOP included: they ask the shards layer to block
 * with ap_cmd_block) and the zset type's value operations.
 *
 * The value is a sorted set (core/zset.h): a listpack while small, a
 * skiplist with a member index beyond zset-max-listpack-entries /
 * zset-max-listpack-value. Semantics, replies (RESP2 and RESP3: nested
 * [member, score] pairs and doubles in RESP3) and error texts follow the
 * Redis command reference; where 7.0 and 7.2 differ, 7.2 (ZRANK and
 * ZREVRANK take WITHSCORE; a new set's encoding is chosen from all the
 * pairs of the ZADD that creates it).
 *
 * The blocking pops are recorded (ap_cmd_propagate) as the non-blocking
 * command on the key they served (ZPOPMIN key, ZMPOP 1 key MIN COUNT n),
 * so a log replay never blocks; ZMPOP is recorded the same way.
 *
 * Writes follow one shape: open the key for writing (an absent key gets
 * a fresh set not yet in the keyspace), mutate the handle, then close,
 * which stores the handle back into the entry (a listpack moves as it
 * grows; an add may convert it), inserts a new non-empty set, and deletes
 * a set that became empty. Every changed member counts one change in
 * ctx->dirty; a store command counts one.
 *
 * Store commands (ZUNIONSTORE, ZRANGESTORE, ...) and multi-key reads are
 * plain single-keyspace commands: the shards layer gathers their keys in
 * one keyspace first. Their keys are found by getkeys (numkeys shapes).
 * ZUNION/ZINTER/ZDIFF, their STORE forms, ZINTERCARD and ZSCAN live in
 * cmd_zset_algebra.c; the table below lists them all.
 *
 * Deviations: ZRANDMEMBER with a negative count answers "value is out of
 * range" beyond AP_RAND_COUNT_MAX elements (Redis builds the reply until
 * memory runs out); a -0 score is kept as -0 in skiplists and as 0 in
 * listpacks, as Redis does.
 *
 * Threading: commands run on the shard thread that owns ctx->ks.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/cmd.h"
#include "core/limits.h"
#include "core/cmd_zset_int.h"

#define ERR_NAN		"ERR resulting score is not a number (NaN)"
#define ERR_RANGE_FLOAT "ERR min or max is not a float"
#define ERR_RANGE_LEX	"ERR min or max not valid string range item"
#define ERR_POSITIVE	"ERR value is out of range, must be positive"
#define ERR_OUT_RANGE	"ERR value is out of range"
#define ERR_NUMKEYS	"ERR numkeys should be greater than 0"
#define ERR_COUNT	"ERR count should be greater than 0"
#define ERR_LIMIT_RANK                                                   \
	"ERR syntax error, LIMIT is only supported in combination with " \
	"either BYSCORE or BYLEX"
#define ERR_LEX_SCORES \
	"ERR syntax error, WITHSCORES not supported in combination with BYLEX"

/* Scores parsed on the stack by ZADD before it falls back to parsing
 * twice (validate all, then apply): most ZADDs carry a few pairs. */
#define ZADD_STACK_SCORES 16

/* --- small helpers ----------------------------------------------------- */

/* Looks up argv[idx] as a key in the command's database. */
struct ap_entry *ap_zcmd_lookup(struct ap_cmd_ctx *c, int idx, unsigned flags)
{
	AP_ASSERT(idx > 0 && idx < c->argc);
	return ap_db_lookup(c->db, c->argv[idx].p, c->argv[idx].len, flags);
}

/*
 * Returns true if e (which may be NULL) is absent or a sorted set;
 * otherwise replies WRONGTYPE and returns false.
 */
static bool check_zset(struct ap_cmd_ctx *c, const struct ap_entry *e)
{
	if (e == NULL || ap_entry_type(e) == AP_TYPE_ZSET)
		return true;
	ap_reply_error(c->r, AP_ERR_WRONGTYPE);
	return false;
}

/* zset-max-listpack-entries / -value of this shard's configuration. */
size_t ap_zcmd_lp_max(const struct ap_cmd_ctx *c)
{
	AP_ASSERT(c->cfg->zset_max_listpack_entries >= 0);
	return (size_t)c->cfg->zset_max_listpack_entries;
}

/* zset-max-listpack-value of this shard's configuration. */
size_t ap_zcmd_lp_value(const struct ap_cmd_ctx *c)
{
	AP_ASSERT(c->cfg->zset_max_listpack_value >= 0);
	return (size_t)c->cfg->zset_max_listpack_value;
}

/* The handle of a sorted-set entry. */
void ap_zcmd_zset_of(const struct ap_cmd_ctx *c, const struct ap_entry *e,
		     struct ap_zset *z)
{
	AP_ASSERT(ap_entry_type(e) == AP_TYPE_ZSET);
	ap_zset_open(z, ap_entry_obj(e), ap_entry_enc(e), ap_zcmd_lp_max(c),
		     ap_zcmd_lp_value(c));
}

/* An empty set with this shard's limits and Redis's creation hints. */
static void zset_new(const struct ap_cmd_ctx *c, struct ap_zset *z,
		     size_t size_hint, size_t len_hint)
{
	ap_zset_create(z, ap_zcmd_lp_max(c), ap_zcmd_lp_value(c), size_hint,
		       len_hint);
}

/*
 * Opens argv[idx] for reading: returns false after replying WRONGTYPE,
 * else true with *found telling whether the set exists (and *z its
 * handle).
 */
bool ap_zcmd_zset_read(struct ap_cmd_ctx *c, int idx, struct ap_zset *z,
		       bool *found)
{
	struct ap_entry *e = ap_zcmd_lookup(c, idx, AP_LK_READ);

	if (!check_zset(c, e))
		return false;
	*found = e != NULL;
	if (e != NULL)
		ap_zcmd_zset_of(c, e, z);
	return true;
}

/* A sorted set opened for writing: the entry (NULL for a new set), the
 * handle being mutated and the key's argument index. */
struct zset_w {
	struct ap_entry *e;
	struct ap_zset z;
	int key;
};

enum open_result {
	OPEN_ERR = 0,	  /* WRONGTYPE was replied */
	OPEN_MISSING = 1, /* no such key and !create: nothing replied */
	OPEN_OK = 2,
};

/*
 * Opens argv[idx] for writing: an existing set, or (if create) a new one
 * made with the hints that zset_close inserts if it gained members.
 * OPEN_OK must be followed by zset_close.
 */
static enum open_result zset_open(struct ap_cmd_ctx *c, int idx,
				  struct zset_w *w, bool create,
				  size_t size_hint, size_t len_hint)
{
	w->key = idx;
	w->e = ap_zcmd_lookup(c, idx, 0);
	if (!check_zset(c, w->e))
		return OPEN_ERR;
	if (w->e != NULL)
		ap_zcmd_zset_of(c, w->e, &w->z);
	else if (create)
		zset_new(c, &w->z, size_hint, len_hint);
	else
		return OPEN_MISSING;
	return OPEN_OK;
}

/*
 * Stores the handle back: into the entry it came from (then deletes the
 * key if the set became empty), or as a new key if it has members (else
 * the empty object is freed).
 */
static void zset_close(struct ap_cmd_ctx *c, struct zset_w *w)
{
	const struct ap_arg *k = &c->argv[w->key];
	bool empty = ap_zset_len(&w->z) == 0;

	if (w->e != NULL) {
		ap_entry_obj_set(w->e, w->z.obj, w->z.enc);
		if (empty)
			(void)ap_db_delete(c->db, k->p, k->len);
	} else if (!empty) {
		(void)ap_db_set_object(c->db, k->p, k->len, AP_TYPE_ZSET,
				       w->z.enc, w->z.obj, AP_NO_EXPIRE);
	} else {
		ap_zset_destroy(&w->z);
	}
	w->e = NULL;
	w->z.obj = NULL;
}

/*
 * Stores z (owned by the caller until now) as the value of argv[idx],
 * replacing any value of any type, or deletes the key if z is empty. One
 * change is counted if anything was stored or deleted. Replies the
 * number of members stored.
 */
void ap_zcmd_store(struct ap_cmd_ctx *c, int idx, struct ap_zset *z)
{
	const struct ap_arg *k = &c->argv[idx];
	size_t n = ap_zset_len(z);

	if (n > 0) {
		(void)ap_db_set_object(c->db, k->p, k->len, AP_TYPE_ZSET,
				       z->enc, z->obj, AP_NO_EXPIRE);
		c->dirty++;
	} else {
		ap_zset_destroy(z);
		if (ap_db_delete(c->db, k->p, k->len))
			c->dirty++;
	}
	z->obj = NULL;
	ap_reply_int(c->r, (long long)n);
}

/* Replies the "wrong number of arguments" error for cmd. */
static void reply_arity(struct ap_cmd_ctx *c)
{
	ap_reply_errorf(c->r, "ERR wrong number of arguments for '%s' command",
			c->cmd->name);
}

/* Parses a score argument (Redis's string2d); replies and returns false
 * if it is not a float. */
static bool arg_score(struct ap_cmd_ctx *c, const struct ap_arg *a, double *out)
{
	if (ap_str_to_d(a->p, a->len, out))
		return true;
	ap_reply_error(c->r, AP_ERR_NOT_FLOAT);
	return false;
}

/* --- reply shapes ----------------------------------------------------- */

/*
 * Header of a list of n members, with scores or not: RESP2 flattens
 * member, score; RESP3 nests [member, score] pairs.
 */
void ap_zcmd_reply_header(struct ap_reply *r, size_t n, bool scores)
{
	ap_reply_array(r, scores && r->proto == 2 ? n * 2 : n);
}

/* One member of such a list. */
static void reply_member(struct ap_reply *r, const char *m, size_t len,
			 double score, bool scores)
{
	if (scores && r->proto == 3)
		ap_reply_array(r, 2);
	ap_reply_bulk(r, m, len);
	if (scores)
		ap_reply_double(r, score);
}

/* The reply writer of struct ap_zcmd_emit. */
void ap_zcmd_emit_visit(void *arg, const char *m, size_t len, double score)
{
	struct ap_zcmd_emit *em = arg;

	reply_member(em->r, m, len, score, em->scores);
}

/* --- ZADD, ZINCRBY, ZREM ------------------------------------------------ */

struct zadd_opts {
	unsigned flags; /* enum ap_zadd_flags */
	bool ch;
	int first; /* argv index of the first score */
	size_t pairs;
};

/* Parses ZADD's options and checks the pairs' shape and the options'
 * compatibility, replying the Redis error and returning false. */
static bool zadd_opts_parse(struct ap_cmd_ctx *c, struct zadd_opts *o)
{
	static const struct {
		const char *name;
		unsigned flag;
	} opts[] = {{"nx", AP_ZADD_NX},
		    {"xx", AP_ZADD_XX},
		    {"gt", AP_ZADD_GT},
		    {"lt", AP_ZADD_LT},
		    {"incr", AP_ZADD_INCR}};
	int i = 2;
	size_t k;

	o->flags = 0;
	o->ch = false;
	for (; i < c->argc; i++) {
		if (ap_arg_eq(&c->argv[i], "ch")) {
			o->ch = true;
			continue;
		}
		for (k = 0; k < AP_ARRAY_LEN(opts); k++)
			if (ap_arg_eq(&c->argv[i], opts[k].name))
				break;
		if (k == AP_ARRAY_LEN(opts))
			break;
		o->flags |= opts[k].flag;
	}
	o->first = i;
	if (c->argc == i || (c->argc - i) % 2 != 0) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return false;
	}
	o->pairs = (size_t)(c->argc - i) / 2;
	if ((o->flags & AP_ZADD_NX) && (o->flags & AP_ZADD_XX)) {
		ap_reply_error(c->r, "ERR XX and NX options at the same time "
				     "are not compatible");
		return false;
	}
	if (((o->flags & AP_ZADD_GT) &&
	     (o->flags & (AP_ZADD_NX | AP_ZADD_LT))) ||
	    ((o->flags & AP_ZADD_LT) && (o->flags & AP_ZADD_NX))) {
		ap_reply_error(c->r,
			       "ERR GT, LT, and/or NX options at the same "
			       "time are not compatible");
		return false;
	}
	if ((o->flags & AP_ZADD_INCR) && o->pairs > 1) {
		ap_reply_error(c->r, "ERR INCR option supports a single "
				     "increment-element pair");
		return false;
	}
	return true;
}

/* Validates every score (into scores[] when it is not NULL) and finds the
 * longest member. Replies and returns false on a bad score. */
static bool zadd_scores_parse(struct ap_cmd_ctx *c, const struct zadd_opts *o,
			      double *scores, size_t *maxlen)
{
	*maxlen = 0;
	for (size_t i = 0; i < o->pairs; i++) {
		const struct ap_arg *a = &c->argv[o->first + 2 * (int)i];
		double s;

		if (!arg_score(c, a, &s))
			return false;
		if (scores != NULL)
			scores[i] = s;
		*maxlen = AP_MAX(*maxlen, a[1].len);
	}
	return true;
}

/* The reply of a ZADD / ZINCRBY that did not get to add anything. */
static void zadd_reply_none(struct ap_cmd_ctx *c, const struct zadd_opts *o)
{
	if (o->flags & AP_ZADD_INCR)
		ap_reply_null(c->r);
	else
		ap_reply_int(c->r, 0);
}

/* Runs ZADD with parsed options: the shared body of ZADD and ZINCRBY. */
static void zadd_run(struct ap_cmd_ctx *c, const struct zadd_opts *o)
{
	double stack[ZADD_STACK_SCORES];
	double *scores = o->pairs <= ZADD_STACK_SCORES ? stack : NULL;
	double newscore = 0;
	size_t maxlen, added = 0, updated = 0;
	bool processed = false;
	struct zset_w w;

	if (!zadd_scores_parse(c, o, scores, &maxlen))
		return;
	enum open_result opened =
		zset_open(c, 1, &w, !(o->flags & AP_ZADD_XX), o->pairs, maxlen);

	if (opened != OPEN_OK) {
		if (opened == OPEN_MISSING)
			zadd_reply_none(c, o);
		return;
	}
	for (size_t i = 0; i < o->pairs; i++) {
		const struct ap_arg *a = &c->argv[o->first + 2 * (int)i];
		double s;
		enum ap_zadd_result res;

		if (scores != NULL)
			s = scores[i];
		else
			AP_ASSERT(ap_str_to_d(a->p, a->len, &s));
		res = ap_zset_add(&w.z, a[1].p, a[1].len, s, o->flags,
				  &newscore);
		if (res == AP_ZADD_NAN) {
			zset_close(c, &w);
			c->dirty += added + updated;
			ap_reply_error(c->r, ERR_NAN);
			return;
		}
		added += res == AP_ZADD_ADDED;
		updated += res == AP_ZADD_UPDATED;
		processed = res != AP_ZADD_NOP;
	}
	zset_close(c, &w);
	c->dirty += added + updated;
	if (!(o->flags & AP_ZADD_INCR))
		ap_reply_int(c->r,
			     (long long)(o->ch ? added + updated : added));
	else if (processed)
		ap_reply_double(c->r, newscore);
	else
		ap_reply_null(c->r);
}

/* ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] */
static void cmd_zadd(struct ap_cmd_ctx *c)
{
	struct zadd_opts o;

	if (zadd_opts_parse(c, &o))
		zadd_run(c, &o);
}

/* ZINCRBY key increment member: ZADD key INCR increment member. */
static void cmd_zincrby(struct ap_cmd_ctx *c)
{
	struct zadd_opts o = {
		.flags = AP_ZADD_INCR,
		.first = 2,
		.pairs = 1,
	};

	zadd_run(c, &o);
}

/* ZREM key member [member ...]: how many were removed. */
static void cmd_zrem(struct ap_cmd_ctx *c)
{
	struct zset_w w;
	long long n = 0;

	enum open_result opened = zset_open(c, 1, &w, false, 0, 0);

	if (opened != OPEN_OK) {
		if (opened == OPEN_MISSING)
			ap_reply_int(c->r, 0);
		return;
	}
	for (int i = 2; i < c->argc && ap_zset_len(&w.z) > 0; i++)
		n += ap_zset_del(&w.z, c->argv[i].p, c->argv[i].len);
	zset_close(c, &w);
	c->dirty += (uint64_t)n;
	ap_reply_int(c->r, n);
}

/* --- single-member reads ------------------------------------------------ */

/* ZCARD key */
static void cmd_zcard(struct ap_cmd_ctx *c)
{
	struct ap_zset z;
	bool found;

	if (ap_zcmd_zset_read(c, 1, &z, &found))
		ap_reply_int(c->r, found ? (long long)ap_zset_len(&z) : 0);
}

/* ZSCORE key member: the score as a double, or null. */
static void cmd_zscore(struct ap_cmd_ctx *c)
{
	struct ap_zset z;
	bool found;
	double s;

	if (!ap_zcmd_zset_read(c, 1, &z, &found))
		return;
	if (found && ap_zset_score(&z, c->argv[2].p, c->argv[2].len, &s))
		ap_reply_double(c->r, s);
	else
		ap_reply_null(c->r);
}

/* ZMSCORE key member [member ...]: a score or null per member. */
static void cmd_zmscore(struct ap_cmd_ctx *c)
{
	struct ap_zset z;
	bool found;

	if (!ap_zcmd_zset_read(c, 1, &z, &found))
		return;
	ap_reply_array(c->r, (size_t)(c->argc - 2));
	for (int i = 2; i < c->argc; i++) {
		double s;

		if (found &&
		    ap_zset_score(&z, c->argv[i].p, c->argv[i].len, &s))
			ap_reply_double(c->r, s);
		else
			ap_reply_null(c->r);
	}
}

/* ZRANK / ZREVRANK key member [WITHSCORE]: the rank, or [rank, score];
 * null (a null array with WITHSCORE) for a missing member. */
static void rank_generic(struct ap_cmd_ctx *c, bool rev)
{
	bool withscore = false, found;
	struct ap_zset z;
	size_t rank;
	double s;

	if (c->argc > 4) {
		reply_arity(c);
		return;
	}
	if (c->argc == 4) {
		if (!ap_arg_eq(&c->argv[3], "withscore")) {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return;
		}
		withscore = true;
	}
	if (!ap_zcmd_zset_read(c, 1, &z, &found))
		return;
	if (!found ||
	    !ap_zset_rank(&z, c->argv[2].p, c->argv[2].len, rev, &rank, &s)) {
		if (withscore)
			ap_reply_null_array(c->r);
		else
			ap_reply_null(c->r);
		return;
	}
	if (withscore) {
		ap_reply_array(c->r, 2);
		ap_reply_int(c->r, (long long)rank);
		ap_reply_double(c->r, s);
	} else {
		ap_reply_int(c->r, (long long)rank);
	}
}

/* ZRANK key member [WITHSCORE] */
static void cmd_zrank(struct ap_cmd_ctx *c)
{
	rank_generic(c, false);
}

/* ZREVRANK key member [WITHSCORE] */
static void cmd_zrevrank(struct ap_cmd_ctx *c)
{
	rank_generic(c, true);
}

/* --- counts ------------------------------------------------------------- */

/* ZCOUNT key min max */
static void cmd_zcount(struct ap_cmd_ctx *c)
{
	struct ap_zset_range r;
	struct ap_zset z;
	bool found;

	if (!ap_zset_range_parse(c->argv[2].p, c->argv[2].len, c->argv[3].p,
				 c->argv[3].len, &r)) {
		ap_reply_error(c->r, ERR_RANGE_FLOAT);
		return;
	}
	if (ap_zcmd_zset_read(c, 1, &z, &found))
		ap_reply_int(c->r,
			     found ? (long long)ap_zset_count(&z, &r) : 0);
}

/* ZLEXCOUNT key min max */
static void cmd_zlexcount(struct ap_cmd_ctx *c)
{
	struct ap_zset_lex r;
	struct ap_zset z;
	bool found;

	if (!ap_zset_lex_parse(c->argv[2].p, c->argv[2].len, c->argv[3].p,
			       c->argv[3].len, &r)) {
		ap_reply_error(c->r, ERR_RANGE_LEX);
		return;
	}
	if (ap_zcmd_zset_read(c, 1, &z, &found))
		ap_reply_int(c->r,
			     found ? (long long)ap_zset_lex_count(&z, &r) : 0);
}

/* --- ZRANGE and its family -------------------------------------------- */

enum range_kind {
	RANGE_AUTO = 0,
	RANGE_RANK,
	RANGE_SCORE,
	RANGE_LEX,
};

/* One range request, as every member of the ZRANGE family describes it. */
struct range_req {
	enum range_kind kind;
	int dir;		    /* 0: not given, 1: forward, -1: reverse */
	bool scores;		    /* WITHSCORES */
	long long offset, limit;    /* LIMIT; limit -1: none */
	int key;		    /* argv index of the source */
	long long start, end;	    /* RANK */
	struct ap_zset_range range; /* SCORE */
	struct ap_zset_lex lex;	    /* LEX */
};

/*
 * Parses the options after "key min max" (at argv[first]) and the range
 * itself, in Redis's order: options, their conflicts, then the range.
 * store: ZRANGESTORE (no WITHSCORES). Replies and returns false on error.
 */
static bool range_parse(struct ap_cmd_ctx *c, struct range_req *q, int first,
			bool store)
{
	int lo = q->key + 1, hi = q->key + 2;

	for (int j = first; j < c->argc; j++) {
		const struct ap_arg *a = &c->argv[j];
		int left = c->argc - j - 1;

		if (!store && ap_arg_eq(a, "withscores")) {
			q->scores = true;
		} else if (ap_arg_eq(a, "limit") && left >= 2) {
			if (!ap_arg_ll(c, &a[1], &q->offset) ||
			    !ap_arg_ll(c, &a[2], &q->limit))
				return false;
			j += 2;
		} else if (q->dir == 0 && ap_arg_eq(a, "rev")) {
			q->dir = -1;
		} else if (q->kind == RANGE_AUTO && ap_arg_eq(a, "bylex")) {
			q->kind = RANGE_LEX;
		} else if (q->kind == RANGE_AUTO && ap_arg_eq(a, "byscore")) {
			q->kind = RANGE_SCORE;
		} else {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
	}
	if (q->dir == 0)
		q->dir = 1;
	if (q->kind == RANGE_AUTO)
		q->kind = RANGE_RANK;
	if (q->limit != -1 && q->kind == RANGE_RANK) {
		ap_reply_error(c->r, ERR_LIMIT_RANK);
		return false;
	}
	if (q->scores && q->kind == RANGE_LEX) {
		ap_reply_error(c->r, ERR_LEX_SCORES);
		return false;
	}
	if (q->dir < 0 && q->kind != RANGE_RANK) {
		int t = lo; /* the range is given as max, min */
		lo = hi;
		hi = t;
	}
	switch (q->kind) {
	case RANGE_SCORE:
		if (ap_zset_range_parse(c->argv[lo].p, c->argv[lo].len,
					c->argv[hi].p, c->argv[hi].len,
					&q->range))
			return true;
		ap_reply_error(c->r, ERR_RANGE_FLOAT);
		return false;
	case RANGE_LEX:
		if (ap_zset_lex_parse(c->argv[lo].p, c->argv[lo].len,
				      c->argv[hi].p, c->argv[hi].len, &q->lex))
			return true;
		ap_reply_error(c->r, ERR_RANGE_LEX);
		return false;
	default:
		return ap_arg_ll(c, &c->argv[lo], &q->start) &&
		       ap_arg_ll(c, &c->argv[hi], &q->end);
	}
}

/*
 * Clamps a rank range [start, end] (negative from the end) to a set of
 * len members; false if it selects nothing.
 */
static bool rank_clamp(long long start, long long end, size_t len, size_t *from,
		       size_t *count)
{
	long long n = (long long)len;

	if (start < 0)
		start += n;
	if (end < 0)
		end += n;
	if (start < 0)
		start = 0;
	if (start > end || start >= n)
		return false;
	if (end >= n)
		end = n - 1;
	*from = (size_t)start;
	*count = (size_t)(end - start + 1);
	return true;
}

/* "The walk's length is not known in advance" (lex walks). */
#define WALK_UNKNOWN SIZE_MAX

/*
 * Opens the walk a parsed request selects on z and returns how many
 * members it yields, computed first so the reply header is exact; or
 * WALK_UNKNOWN for lex walks, whose members need not be in member order
 * when scores differ (then only walking tells).
 */
static size_t range_walk(const struct range_req *q, const struct ap_zset *z,
			 struct ap_zset_iter *it)
{
	size_t from, count, total = WALK_UNKNOWN;
	bool rev = q->dir < 0;

	if (q->kind == RANGE_RANK) {
		if (!rank_clamp(q->start, q->end, ap_zset_len(z), &from,
				&count))
			count = 0;
		ap_zset_iter_rank(it, z, count ? from : SIZE_MAX, count, rev);
		return count;
	}
	if (q->kind == RANGE_SCORE) {
		total = ap_zset_count(z, &q->range);
		ap_zset_iter_score(it, z, &q->range, rev);
	} else {
		ap_zset_iter_lex(it, z, &q->lex, rev);
	}
	if (q->offset < 0 || (unsigned long long)q->offset >= total) {
		ap_zset_iter_limit(it, 0);
		return 0;
	}
	ap_zset_iter_skip(it, (size_t)q->offset);
	if (q->limit >= 0)
		ap_zset_iter_limit(it, (size_t)q->limit);
	if (total == WALK_UNKNOWN)
		return WALK_UNKNOWN;
	count = total - (size_t)q->offset;
	if (q->limit >= 0 && (unsigned long long)q->limit < count)
		count = (size_t)q->limit;
	return count;
}

/* Replies the members of an open walk of n members (WALK_UNKNOWN: the
 * header is written once they are counted). */
static void range_reply(struct ap_cmd_ctx *c, const struct range_req *q,
			struct ap_zset_iter *it, size_t n)
{
	struct ap_reply_deferred d;
	const char *m;
	size_t len, k = 0;
	double s;

	if (n == WALK_UNKNOWN)
		ap_reply_deferred_begin(c->r, &d, '*');
	else
		ap_zcmd_reply_header(c->r, n, q->scores);
	while (k < n && ap_zset_iter_next(it, &m, &len, &s)) {
		reply_member(c->r, m, len, s, q->scores);
		k++;
	}
	if (n == WALK_UNKNOWN)
		ap_reply_deferred_end(c->r, &d, k);
	AP_ASSERT(n == WALK_UNKNOWN || k == n);
}

/* A ZRANGE-family reply of a known length, streamed (struct
 * ap_cmd_stream): the walk (which points at z, so the state never moves)
 * and the members left. The executor keeps writers away. */
struct range_stream {
	struct ap_zset z;
	struct ap_zset_iter it;
	size_t left;
	bool scores;
};

/* ap_cmd_stream_step_fn of the ZRANGE family: the next members, as
 * range_reply writes them in one go. */
static bool range_step(void *state, struct ap_reply *r, size_t budget)
{
	struct range_stream *rs = state;
	const char *m;
	size_t len, start = r->out->len;
	double s;

	for (size_t done = 0;
	     rs->left > 0 && ap_cmd_stream_more(r, start, done, budget);
	     done++) {
		bool more = ap_zset_iter_next(&rs->it, &m, &len, &s);

		AP_ASSERT(more); /* the set cannot change under the stream */
		reply_member(r, m, len, s, rs->scores);
		rs->left--;
	}
	return rs->left == 0;
}

/* ap_cmd_stream_free_fn of the ZRANGE family (a walk needs no end). */
static void range_stream_free(void *state)
{
	ap_free(state);
}

/* Starts the streamed reply of a walk of n members that range_walk
 * counted on z: the walk is opened again on the state's own handle. */
static void range_stream_start(struct ap_cmd_ctx *c, const struct range_req *q,
			       const struct ap_zset *z, size_t n)
{
	struct range_stream *rs = ap_malloc(sizeof(*rs));
	size_t again;

	rs->z = *z;
	rs->scores = q->scores;
	rs->left = n;
	again = range_walk(q, &rs->z, &rs->it);
	AP_ASSERT(again == n);
	ap_zcmd_reply_header(c->r, n, q->scores);
	ap_cmd_stream_start(c, range_step, range_stream_free, rs,
			    ap_zcmd_lookup(c, q->key, AP_LK_NOTOUCH));
}

/* Runs a parsed range request: replies the members, or (dst > 0) stores
 * them at argv[dst] and replies their count. A long reply of a known
 * length (by rank or by score) is streamed when the executor allows it;
 * a lex walk's length is known only once walked, so it is not. */
static void range_run(struct ap_cmd_ctx *c, struct range_req *q, int dst)
{
	struct ap_zset z, out;
	struct ap_zset_iter it;
	const char *m;
	size_t len, n;
	double s;
	bool found;

	if (!ap_zcmd_zset_read(c, q->key, &z, &found))
		return;
	n = found ? range_walk(q, &z, &it) : 0;
	if (dst == 0 && n != WALK_UNKNOWN && ap_cmd_stream_wanted(c, n)) {
		range_stream_start(c, q, &z, n);
		return;
	}
	if (dst == 0) {
		range_reply(c, q, &it, n);
		return;
	}
	zset_new(c, &out, n == WALK_UNKNOWN ? 0 : n, 0);
	while (n > 0 && ap_zset_iter_next(&it, &m, &len, &s)) {
		if (q->dir > 0)
			ap_zset_append(&out, m, len, s);
		else
			(void)ap_zset_add(&out, m, len, s, 0, &s);
	}
	ap_zset_finish(&out);
	ap_zcmd_store(c, dst, &out);
}

/* Parses and runs a ZRANGE-family command whose source is argv[key]. */
static void range_generic(struct ap_cmd_ctx *c, enum range_kind kind, int dir,
			  int key, int dst)
{
	struct range_req q = {
		.kind = kind, .dir = dir, .limit = -1, .key = key};

	if (range_parse(c, &q, key + 3, dst > 0))
		range_run(c, &q, dst);
}

/* ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT o c] [WITHSCORES] */
static void cmd_zrange(struct ap_cmd_ctx *c)
{
	range_generic(c, RANGE_AUTO, 0, 1, 0);
}

/* ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT o c] */
static void cmd_zrangestore(struct ap_cmd_ctx *c)
{
	range_generic(c, RANGE_AUTO, 0, 2, 1);
}

/* ZREVRANGE key start stop [WITHSCORES] */
static void cmd_zrevrange(struct ap_cmd_ctx *c)
{
	range_generic(c, RANGE_RANK, -1, 1, 0);
}

/* ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] */
static void cmd_zrangebyscore(struct ap_cmd_ctx *c)
{
	range_generic(c, RANGE_SCORE, 1, 1, 0);
}

/* ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] */
static void cmd_zrevrangebyscore(struct ap_cmd_ctx *c)
{
	range_generic(c, RANGE_SCORE, -1, 1, 0);
}

/* ZRANGEBYLEX key min max [LIMIT offset count] */
static void cmd_zrangebylex(struct ap_cmd_ctx *c)
{
	range_generic(c, RANGE_LEX, 1, 1, 0);
}

/* ZREVRANGEBYLEX key max min [LIMIT offset count] */
static void cmd_zrevrangebylex(struct ap_cmd_ctx *c)
{
	range_generic(c, RANGE_LEX, -1, 1, 0);
}

/* --- range deletes ------------------------------------------------------ */

/* ZREMRANGEBYRANK / BYSCORE / BYLEX key min max: parses the range first,
 * then deletes it; replies how many went. */
static void remrange_generic(struct ap_cmd_ctx *c, enum range_kind kind)
{
	struct range_req q = {.kind = kind, .dir = 1, .limit = -1, .key = 1};
	struct zset_w w;
	size_t from, count, n = 0;

	if (!range_parse(c, &q, c->argc, false))
		return;
	enum open_result opened = zset_open(c, 1, &w, false, 0, 0);

	if (opened != OPEN_OK) {
		if (opened == OPEN_MISSING)
			ap_reply_int(c->r, 0);
		return;
	}
	if (kind == RANGE_RANK) {
		if (rank_clamp(q.start, q.end, ap_zset_len(&w.z), &from,
			       &count))
			n = ap_zset_del_rank(&w.z, from, from + count - 1);
	} else if (kind == RANGE_SCORE) {
		n = ap_zset_del_range(&w.z, &q.range);
	} else {
		n = ap_zset_del_lex(&w.z, &q.lex);
	}
	zset_close(c, &w);
	c->dirty += n;
	ap_reply_int(c->r, (long long)n);
}

/* ZREMRANGEBYRANK key start stop */
static void cmd_zremrangebyrank(struct ap_cmd_ctx *c)
{
	remrange_generic(c, RANGE_RANK);
}

/* ZREMRANGEBYSCORE key min max */
static void cmd_zremrangebyscore(struct ap_cmd_ctx *c)
{
	remrange_generic(c, RANGE_SCORE);
}

/* ZREMRANGEBYLEX key min max */
static void cmd_zremrangebylex(struct ap_cmd_ctx *c)
{
	remrange_generic(c, RANGE_LEX);
}

/* --- pops ---------------------------------------------------------------- */

/* ap_zset_visit_fn writing a flat member, score (ZPOPMIN without count:
 * the same shape in both protocols). */
static void emit_flat(void *arg, const char *m, size_t len, double score)
{
	struct ap_reply *r = arg;

	ap_reply_bulk(r, m, len);
	ap_reply_double(r, score);
}

/* ap_zset_visit_fn writing a nested [member, score] pair (ZMPOP: the
 * same shape in both protocols). */
static void emit_pair(void *arg, const char *m, size_t len, double score)
{
	struct ap_reply *r = arg;

	ap_reply_array(r, 2);
	emit_flat(r, m, len, score);
}

/* ZPOPMIN / ZPOPMAX key [count]: without count a flat [member, score]
 * (an empty array if there is none); with count a list of members with
 * scores. */
static void pop_generic(struct ap_cmd_ctx *c, bool max)
{
	struct ap_zcmd_emit em = {.r = c->r, .scores = true};
	long long count = 1;
	struct zset_w w;
	size_t n;

	if (c->argc > 3) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	if (c->argc == 3 &&
	    (!ap_str_to_ll(c->argv[2].p, c->argv[2].len, &count) ||
	     count < 0)) {
		ap_reply_error(c->r, ERR_POSITIVE);
		return;
	}
	enum open_result opened = zset_open(c, 1, &w, false, 0, 0);

	if (opened != OPEN_OK) {
		if (opened == OPEN_MISSING)
			ap_reply_array(c->r, 0);
		return;
	}
	n = AP_MIN((unsigned long long)count, ap_zset_len(&w.z));
	if (c->argc == 3) {
		ap_zcmd_reply_header(c->r, n, true);
		(void)ap_zset_pop(&w.z, max, n, ap_zcmd_emit_visit, &em);
	} else {
		ap_reply_array(c->r, 2);
		(void)ap_zset_pop(&w.z, max, 1, emit_flat, c->r);
	}
	zset_close(c, &w);
	c->dirty += n;
}

/* ZPOPMIN key [count] */
static void cmd_zpopmin(struct ap_cmd_ctx *c)
{
	pop_generic(c, false);
}

/* ZPOPMAX key [count] */
static void cmd_zpopmax(struct ap_cmd_ctx *c)
{
	pop_generic(c, true);
}

/* Records a pop of n members from the key argv[k] as "ZMPOP 1 key
 * MIN|MAX COUNT n". */
static void propagate_mpop(struct ap_cmd_ctx *c, int k, bool max, size_t n)
{
	char buf[AP_INT_STR_SIZE];
	struct ap_arg argv[6] = {
		{.p = "ZMPOP", .len = 5},
		{.p = "1", .len = 1},
		c->argv[k],
		{.p = max ? "MAX" : "MIN", .len = 3},
		{.p = "COUNT", .len = 5},
		{.p = buf},
	};

	argv[5].len = ap_ull_to_str(buf, n);
	ap_cmd_propagate(c, 6, argv);
}

/*
 * ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: pops up to count
 * members from the first non-empty set; replies [key, [[member, score],
 * ...]] (nested in both protocols) or a null array. A pop is recorded as
 * ZMPOP on the one key served.
 */
static void zmpop_generic(struct ap_cmd_ctx *c, int nk, int64_t timeout_ms)
{
	long long numkeys, count = 1;
	bool max, counted = false;
	int where;

	if (!ap_str_to_ll(c->argv[nk].p, c->argv[nk].len, &numkeys) ||
	    numkeys <= 0) {
		ap_reply_error(c->r, ERR_NUMKEYS);
		return;
	}
	if (numkeys > c->argc - nk - 2) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	where = nk + 1 + (int)numkeys;
	max = ap_arg_eq(&c->argv[where], "max");
	if (!max && !ap_arg_eq(&c->argv[where], "min")) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return;
	}
	for (int j = where + 1; j < c->argc; j++) {
		if (counted || !ap_arg_eq(&c->argv[j], "count") ||
		    j + 1 >= c->argc) {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return;
		}
		if (!ap_str_to_ll(c->argv[j + 1].p, c->argv[j + 1].len,
				  &count) ||
		    count <= 0) {
			ap_reply_error(c->r, ERR_COUNT);
			return;
		}
		counted = true;
		j++;
	}
	for (int k = nk + 1; k < where; k++) {
		struct zset_w w;
		size_t n;

		enum open_result res = zset_open(c, k, &w, false, 0, 0);

		if (res == OPEN_ERR)
			return;
		if (res == OPEN_MISSING)
			continue;
		n = AP_MIN((unsigned long long)count, ap_zset_len(&w.z));
		ap_reply_array(c->r, 2);
		ap_reply_bulk(c->r, c->argv[k].p, c->argv[k].len);
		ap_reply_array(c->r, n);
		(void)ap_zset_pop(&w.z, max, n, emit_pair, c->r);
		zset_close(c, &w);
		c->dirty += n;
		propagate_mpop(c, k, max, n);
		return;
	}
	if (timeout_ms >= 0 && ap_cmd_block(c, timeout_ms))
		return;
	ap_reply_null_array(c->r);
}

static void cmd_zmpop(struct ap_cmd_ctx *c)
{
	zmpop_generic(c, 1, -1);
}

/* BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]. */
static void cmd_bzmpop(struct ap_cmd_ctx *c)
{
	int64_t ms;

	if (!ap_arg_timeout(c, &c->argv[1], &ms))
		return;
	zmpop_generic(c, 2, ms);
}

/*
 * BZPOPMIN / BZPOPMAX key [key ...] timeout: [key, member, score] from the
 * first non-empty set in argument order (WRONGTYPE on the way), else
 * block; the timeout answers a null array. A pop is recorded as "ZPOPMIN
 * key" / "ZPOPMAX key".
 */
static void bzpop_generic(struct ap_cmd_ctx *c, bool max)
{
	int64_t ms;

	if (!ap_arg_timeout(c, &c->argv[c->argc - 1], &ms))
		return;
	for (int k = 1; k < c->argc - 1; k++) {
		struct zset_w w;
		enum open_result res = zset_open(c, k, &w, false, 0, 0);

		if (res == OPEN_ERR)
			return;
		if (res == OPEN_MISSING)
			continue;
		struct ap_arg argv[2] = {
			{.p = max ? "ZPOPMAX" : "ZPOPMIN", .len = 7},
			c->argv[k],
		};
		ap_reply_array(c->r, 3);
		ap_reply_bulk(c->r, c->argv[k].p, c->argv[k].len);
		(void)ap_zset_pop(&w.z, max, 1, emit_flat, c->r);
		zset_close(c, &w);
		c->dirty++;
		ap_cmd_propagate(c, 2, argv);
		return;
	}
	if (ap_cmd_block(c, ms))
		return;
	ap_reply_null_array(c->r);
}

static void cmd_bzpopmin(struct ap_cmd_ctx *c)
{
	bzpop_generic(c, false);
}

static void cmd_bzpopmax(struct ap_cmd_ctx *c)
{
	bzpop_generic(c, true);
}

/* --- ZRANDMEMBER ------------------------------------------------------ */

/*
 * ZRANDMEMBER key [count [WITHSCORES]]: one random member (or null), or
 * with a count that many distinct members (count > 0) or members drawn
 * with repetition (count < 0).
 */
static void cmd_zrandmember(struct ap_cmd_ctx *c)
{
	struct ap_zcmd_emit em = {.r = c->r};
	long long count = 0;
	struct ap_zset z;
	bool found;
	size_t n;

	if (c->argc >= 3) {
		if (!ap_arg_ll(c, &c->argv[2], &count))
			return;
		if (count == LLONG_MIN) {
			ap_reply_error(c->r,
				       "ERR value is out of range, value must "
				       "between -9223372036854775807 and "
				       "9223372036854775807");
			return;
		}
		if (c->argc > 4 ||
		    (c->argc == 4 && !ap_arg_eq(&c->argv[3], "withscores"))) {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return;
		}
		em.scores = c->argc == 4;
		if ((em.scores && count < -LLONG_MAX / 2) ||
		    count < -AP_RAND_COUNT_MAX) {
			ap_reply_error(c->r, ERR_OUT_RANGE);
			return;
		}
	}
	if (!ap_zcmd_zset_read(c, 1, &z, &found))
		return;
	if (c->argc == 2) {
		if (found)
			(void)ap_zset_random(&z, 1, true, ap_zcmd_emit_visit,
					     &em);
		else
			ap_reply_null(c->r);
		return;
	}
	n = !found	 ? 0
	    : count >= 0 ? AP_MIN((unsigned long long)count, ap_zset_len(&z))
			 : (size_t)-count;
	ap_zcmd_reply_header(c->r, n, em.scores);
	if (n > 0)
		(void)ap_zset_random(&z, n, count >= 0, ap_zcmd_emit_visit,
				     &em);
}

/* --- key positions ------------------------------------------------------ */

/* ZUNION, ZINTER, ZDIFF, ZINTERCARD, ZMPOP: numkeys at argv[1]. */
static size_t keys_numkeys(int argc, const struct ap_arg *argv, int *idx,
			   size_t max)
{
	return ap_cmd_keys_numkeys(argc, argv, idx, max, 0, 1);
}

/* BZMPOP: numkeys at argv[2]. */
static size_t keys_bzmpop(int argc, const struct ap_arg *argv, int *idx,
			  size_t max)
{
	return ap_cmd_keys_numkeys(argc, argv, idx, max, 0, 2);
}

/* The STORE forms: the destination at argv[1], numkeys at argv[2]. */
static size_t keys_store(int argc, const struct ap_arg *argv, int *idx,
			 size_t max)
{
	return ap_cmd_keys_numkeys(argc, argv, idx, max, 1, 2);
}

/* --- the table ------------------------------------------------------------ */

const struct ap_type_ops *const ap_zset_type_ops = &ap_zset_ops;

#define KEY1   .first_key = 1, .last_key = 1, .key_step = 1
#define KEYS_2 .first_key = 1, .last_key = 2, .key_step = 1
#define MOVABLE(fn)                                                  \
	.first_key = 0, .last_key = 0, .key_step = 0, .getkeys = fn, \
	.split = AP_SPLIT_NONE
#define MOVABLE_STORE(fn)                                            \
	.first_key = 1, .last_key = 1, .key_step = 1, .getkeys = fn, \
	.split = AP_SPLIT_NONE

#define ACL_WF "@write @sortedset @fast"
#define ACL_WS "@write @sortedset @slow"
#define ACL_RF "@read @sortedset @fast"
#define ACL_RS "@read @sortedset @slow"

#define C_LOGN "O(log(N)) where N is the number of elements in the sorted set."
#define C_RANGE                                                              \
	"O(log(N)+M) with N being the number of elements in the sorted set " \
	"and M the number of elements returned."
#define C_RANGE_LIMIT                                                        \
	"O(log(N)+M) with N being the number of elements in the sorted set " \
	"and M the number of elements being returned. If M is constant "     \
	"(e.g. always asking for the first 10 elements with LIMIT), you "    \
	"can consider it O(log(N))."
#define C_REMRANGE                                                           \
	"O(log(N)+M) with N being the number of elements in the sorted set " \
	"and M the number of elements removed by the operation."
#define C_UNION                                                             \
	"O(N)+O(M*log(M)) with N being the sum of the sizes of the input "  \
	"sorted sets, and M being the number of elements in the resulting " \
	"sorted set."
#define C_INTER                                                            \
	"O(N*K)+O(M*log(M)) worst case with N being the smallest input "   \
	"sorted set, K being the number of input sorted sets and M being " \
	"the number of elements in the resulting sorted set."
#define C_DIFF                                                                \
	"O(L + (N-K)log(N)) worst case where L is the total number of "       \
	"elements in all the sets, N is the size of the first set, and K is " \
	"the size of the result set."
#define C_POP                                                                 \
	"O(log(N)*M) with N being the number of elements in the sorted set, " \
	"and M being the number of elements popped."

const struct ap_cmd ap_cmds_zset[] = {
	{.name = "zadd",
	 .arity = -4,
	 .flags = AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zadd,
	 .group = "sorted-set",
	 .summary = "Adds one or more members to a sorted set, or updates "
		    "their scores. Creates the key if it doesn't exist.",
	 .since = "1.2.0",
	 .complexity = "O(log(N)) for each item added, where N is the number "
		       "of elements in the sorted set.",
	 .acl_categories = ACL_WF},
	{.name = "zincrby",
	 .arity = 4,
	 .flags = AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zincrby,
	 .group = "sorted-set",
	 .summary = "Increments the score of a member in a sorted set.",
	 .since = "1.2.0",
	 .complexity = C_LOGN,
	 .acl_categories = ACL_WF},
	{.name = "zrem",
	 .arity = -3,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zrem,
	 .group = "sorted-set",
	 .summary = "Removes one or more members from a sorted set. Deletes "
		    "the sorted set if all members were removed.",
	 .since = "1.2.0",
	 .complexity = "O(M*log(N)) with N being the number of elements in "
		       "the sorted set and M the number of elements to be "
		       "removed.",
	 .acl_categories = ACL_WF},
	{.name = "zcard",
	 .arity = 2,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zcard,
	 .group = "sorted-set",
	 .summary = "Returns the number of members in a sorted set.",
	 .since = "1.2.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RF},
	{.name = "zscore",
	 .arity = 3,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zscore,
	 .group = "sorted-set",
	 .summary = "Returns the score of a member in a sorted set.",
	 .since = "1.2.0",
	 .complexity = "O(1)",
	 .acl_categories = ACL_RF},
	{.name = "zmscore",
	 .arity = -3,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zmscore,
	 .group = "sorted-set",
	 .summary = "Returns the score of one or more members in a sorted "
		    "set.",
	 .since = "6.2.0",
	 .complexity = "O(N) where N is the number of members being "
		       "requested.",
	 .acl_categories = ACL_RF},
	{.name = "zrank",
	 .arity = -3,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zrank,
	 .group = "sorted-set",
	 .summary = "Returns the index of a member in a sorted set ordered "
		    "by ascending scores.",
	 .since = "2.0.0",
	 .complexity = "O(log(N))",
	 .acl_categories = ACL_RF},
	{.name = "zrevrank",
	 .arity = -3,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zrevrank,
	 .group = "sorted-set",
	 .summary = "Returns the index of a member in a sorted set ordered "
		    "by descending scores.",
	 .since = "2.0.0",
	 .complexity = "O(log(N))",
	 .acl_categories = ACL_RF},
	{.name = "zcount",
	 .arity = 4,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zcount,
	 .group = "sorted-set",
	 .summary = "Returns the count of members in a sorted set that have "
		    "scores within a range.",
	 .since = "2.0.0",
	 .complexity = "O(log(N)) with N being the number of elements in "
		       "the sorted set.",
	 .acl_categories = ACL_RF},
	{.name = "zlexcount",
	 .arity = 4,
	 .flags = AP_CMD_READONLY | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zlexcount,
	 .group = "sorted-set",
	 .summary = "Returns the number of members in a sorted set within a "
		    "lexicographical range.",
	 .since = "2.8.9",
	 .complexity = "O(log(N)) with N being the number of elements in "
		       "the sorted set.",
	 .acl_categories = ACL_RF},
	{.name = "zrange",
	 .arity = -4,
	 .flags = AP_CMD_READONLY,
	 KEY1,
	 .fn = cmd_zrange,
	 .group = "sorted-set",
	 .summary = "Returns members in a sorted set within a range of "
		    "indexes.",
	 .since = "1.2.0",
	 .complexity = C_RANGE,
	 .acl_categories = ACL_RS},
	{.name = "zrangestore",
	 .arity = -5,
	 .flags = AP_CMD_WRITE | AP_CMD_DENYOOM,
	 KEYS_2,
	 .fn = cmd_zrangestore,
	 .group = "sorted-set",
	 .summary = "Stores a range of members from sorted set in a key.",
	 .since = "6.2.0",
	 .complexity = "O(log(N)+M) with N being the number of elements in "
		       "the sorted set and M the number of elements stored "
		       "into the destination key.",
	 .acl_categories = ACL_WS},
	{.name = "zrevrange",
	 .arity = -4,
	 .flags = AP_CMD_READONLY,
	 KEY1,
	 .fn = cmd_zrevrange,
	 .group = "sorted-set",
	 .summary = "Returns members in a sorted set within a range of "
		    "indexes in reverse order.",
	 .since = "1.2.0",
	 .complexity = C_RANGE,
	 .acl_categories = ACL_RS},
	{.name = "zrangebyscore",
	 .arity = -4,
	 .flags = AP_CMD_READONLY,
	 KEY1,
	 .fn = cmd_zrangebyscore,
	 .group = "sorted-set",
	 .summary = "Returns members in a sorted set within a range of "
		    "scores.",
	 .since = "1.0.5",
	 .complexity = C_RANGE_LIMIT,
	 .acl_categories = ACL_RS},
	{.name = "zrevrangebyscore",
	 .arity = -4,
	 .flags = AP_CMD_READONLY,
	 KEY1,
	 .fn = cmd_zrevrangebyscore,
	 .group = "sorted-set",
	 .summary = "Returns members in a sorted set within a range of "
		    "scores in reverse order.",
	 .since = "2.2.0",
	 .complexity = C_RANGE_LIMIT,
	 .acl_categories = ACL_RS},
	{.name = "zrangebylex",
	 .arity = -4,
	 .flags = AP_CMD_READONLY,
	 KEY1,
	 .fn = cmd_zrangebylex,
	 .group = "sorted-set",
	 .summary = "Returns members in a sorted set within a "
		    "lexicographical range.",
	 .since = "2.8.9",
	 .complexity = C_RANGE_LIMIT,
	 .acl_categories = ACL_RS},
	{.name = "zrevrangebylex",
	 .arity = -4,
	 .flags = AP_CMD_READONLY,
	 KEY1,
	 .fn = cmd_zrevrangebylex,
	 .group = "sorted-set",
	 .summary = "Returns members in a sorted set within a "
		    "lexicographical range in reverse order.",
	 .since = "2.8.9",
	 .complexity = C_RANGE_LIMIT,
	 .acl_categories = ACL_RS},
	{.name = "zremrangebyrank",
	 .arity = 4,
	 .flags = AP_CMD_WRITE,
	 KEY1,
	 .fn = cmd_zremrangebyrank,
	 .group = "sorted-set",
	 .summary = "Removes members in a sorted set within a range of "
		    "indexes. Deletes the sorted set if all members were "
		    "removed.",
	 .since = "2.0.0",
	 .complexity = C_REMRANGE,
	 .acl_categories = ACL_WS},
	{.name = "zremrangebyscore",
	 .arity = 4,
	 .flags = AP_CMD_WRITE,
	 KEY1,
	 .fn = cmd_zremrangebyscore,
	 .group = "sorted-set",
	 .summary = "Removes members in a sorted set within a range of "
		    "scores. Deletes the sorted set if all members were "
		    "removed.",
	 .since = "1.2.0",
	 .complexity = C_REMRANGE,
	 .acl_categories = ACL_WS},
	{.name = "zremrangebylex",
	 .arity = 4,
	 .flags = AP_CMD_WRITE,
	 KEY1,
	 .fn = cmd_zremrangebylex,
	 .group = "sorted-set",
	 .summary = "Removes members in a sorted set within a "
		    "lexicographical range. Deletes the sorted set if all "
		    "members were removed.",
	 .since = "2.8.9",
	 .complexity = C_REMRANGE,
	 .acl_categories = ACL_WS},
	{.name = "zpopmin",
	 .arity = -2,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zpopmin,
	 .group = "sorted-set",
	 .summary = "Returns the lowest-scoring members from a sorted set "
		    "after removing them. Deletes the sorted set if the last "
		    "member was popped.",
	 .since = "5.0.0",
	 .complexity = C_POP,
	 .acl_categories = ACL_WF},
	{.name = "zpopmax",
	 .arity = -2,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST,
	 KEY1,
	 .fn = cmd_zpopmax,
	 .group = "sorted-set",
	 .summary = "Returns the highest-scoring members from a sorted set "
		    "after removing them. Deletes the sorted set if the last "
		    "member was popped.",
	 .since = "5.0.0",
	 .complexity = C_POP,
	 .acl_categories = ACL_WF},
	{.name = "zmpop",
	 .arity = -4,
	 .flags = AP_CMD_WRITE | AP_CMD_MOVABLE_KEYS,
	 MOVABLE(keys_numkeys),
	 .fn = cmd_zmpop,
	 .group = "sorted-set",
	 .summary = "Returns the highest- or lowest-scoring members from one "
		    "or more sorted sets after removing them. Deletes the "
		    "sorted set if the last member was popped.",
	 .since = "7.0.0",
	 .complexity = "O(K) + O(M*log(N)) where K is the number of "
		       "provided keys, N being the number of elements in the "
		       "sorted set, and M being the number of elements "
		       "popped.",
	 .acl_categories = ACL_WS},
	{.name = "bzpopmin",
	 .arity = -3,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST | AP_CMD_BLOCKING,
	 .first_key = 1,
	 .last_key = -2,
	 .key_step = 1,
	 .fn = cmd_bzpopmin,
	 .group = "sorted-set",
	 .summary = "Removes and returns the member with the lowest score "
		    "from one or more sorted sets. Blocks until a member is "
		    "available otherwise. Deletes the sorted set if the last "
		    "element was popped.",
	 .since = "5.0.0",
	 .complexity = "O(log(N)) with N being the number of elements in "
		       "the sorted set.",
	 .acl_categories = "@write @sortedset @fast @blocking"},
	{.name = "bzpopmax",
	 .arity = -3,
	 .flags = AP_CMD_WRITE | AP_CMD_FAST | AP_CMD_BLOCKING,
	 .first_key = 1,
	 .last_key = -2,
	 .key_step = 1,
	 .fn = cmd_bzpopmax,
	 .group = "sorted-set",
	 .summary = "Removes and returns the member with the highest score "
		    "from one or more sorted sets. Blocks until a member "
		    "available otherwise.  Deletes the sorted set if the last "
		    "element was popped.",
	 .since = "5.0.0",
	 .complexity = "O(log(N)) with N being the number of elements in "
		       "the sorted set.",
	 .acl_categories = "@write @sortedset @fast @blocking"},
	{.name = "bzmpop",
	 .arity = -5,
	 .flags = AP_CMD_WRITE | AP_CMD_BLOCKING | AP_CMD_MOVABLE_KEYS,
	 MOVABLE(keys_bzmpop),
	 .fn = cmd_bzmpop,
	 .group = "sorted-set",
	 .summary = "Removes and returns a member by score from one or more "
		    "sorted sets. Blocks until a member is available "
		    "otherwise. Deletes the sorted set if the last element "
		    "was popped.",
	 .since = "7.0.0",
	 .complexity = "O(K) + O(M*log(N)) where K is the number of "
		       "provided keys, N being the number of elements in the "
		       "sorted set, and M being the number of elements "
		       "popped.",
	 .acl_categories = "@write @sortedset @slow @blocking"},
	{.name = "zrandmember",
	 .arity = -2,
	 .flags = AP_CMD_READONLY,
	 KEY1,
	 .fn = cmd_zrandmember,
	 .group = "sorted-set",
	 .summary = "Returns one or more random members from a sorted set.",
	 .since = "6.2.0",
	 .complexity = "O(N) where N is the number of members returned",
	 .acl_categories = ACL_RS},
	{.name = "zunion",
	 .arity = -3,
	 .flags = AP_CMD_READONLY | AP_CMD_MOVABLE_KEYS,
	 MOVABLE(keys_numkeys),
	 .fn = ap_zcmd_zunion,
	 .group = "sorted-set",
	 .summary = "Returns the union of multiple sorted sets.",
	 .since = "6.2.0",
	 .complexity = C_UNION,
	 .acl_categories = ACL_RS},
	{.name = "zinter",
	 .arity = -3,
	 .flags = AP_CMD_READONLY | AP_CMD_MOVABLE_KEYS,
	 MOVABLE(keys_numkeys),
	 .fn = ap_zcmd_zinter,
	 .group = "sorted-set",
	 .summary = "Returns the intersect of multiple sorted sets.",
	 .since = "6.2.0",
	 .complexity = C_INTER,
	 .acl_categories = ACL_RS},
	{.name = "zdiff",
	 .arity = -3,
	 .flags = AP_CMD_READONLY | AP_CMD_MOVABLE_KEYS,
	 MOVABLE(keys_numkeys),
	 .fn = ap_zcmd_zdiff,
	 .group = "sorted-set",
	 .summary = "Returns the difference between multiple sorted sets.",
	 .since = "6.2.0",
	 .complexity = C_DIFF,
	 .acl_categories = ACL_RS},
	{.name = "zunionstore",
	 .arity = -4,
	 .flags = AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_MOVABLE_KEYS,
	 MOVABLE_STORE(keys_store),
	 .fn = ap_zcmd_zunionstore,
	 .group = "sorted-set",
	 .summary = "Stores the union of multiple sorted sets in a key.",
	 .since = "2.0.0",
	 .complexity = C_UNION,
	 .acl_categories = ACL_WS},
	{.name = "zinterstore",
	 .arity = -4,
	 .flags = AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_MOVABLE_KEYS,
	 MOVABLE_STORE(keys_store),
	 .fn = ap_zcmd_zinterstore,
	 .group = "sorted-set",
	 .summary = "Stores the intersect of multiple sorted sets in a key.",
	 .since = "2.0.0",
	 .complexity = C_INTER,
	 .acl_categories = ACL_WS},
	{.name = "zdiffstore",
	 .arity = -4,
	 .flags = AP_CMD_WRITE | AP_CMD_DENYOOM | AP_CMD_MOVABLE_KEYS,
	 MOVABLE_STORE(keys_store),
	 .fn = ap_zcmd_zdiffstore,
	 .group = "sorted-set",
	 .summary = "Stores the difference of multiple sorted sets in a key.",
	 .since = "6.2.0",
	 .complexity = C_DIFF,
	 .acl_categories = ACL_WS},
	{.name = "zintercard",
	 .arity = -3,
	 .flags = AP_CMD_READONLY | AP_CMD_MOVABLE_KEYS,
	 MOVABLE(keys_numkeys),
	 .fn = ap_zcmd_zintercard,
	 .group = "sorted-set",
	 .summary = "Returns the number of members of the intersect of "
		    "multiple sorted sets.",
	 .since = "7.0.0",
	 .complexity = "O(N*K) worst case with N being the smallest input "
		       "sorted set, K being the number of input sorted sets.",
	 .acl_categories = ACL_RS},
	{.name = "zscan",
	 .arity = -3,
	 .flags = AP_CMD_READONLY,
	 KEY1,
	 .fn = ap_zcmd_zscan,
	 .group = "sorted-set",
	 .summary = "Iterates over members and scores of a sorted set.",
	 .since = "2.8.0",
	 .complexity = "O(1) for every call. O(N) for a complete iteration, "
		       "including enough command calls for the cursor to "
		       "return back to 0. N is the number of elements inside "
		       "the collection.",
	 .acl_categories = ACL_RS},
	{.name = NULL},
};
