/*
 * cmd_zset_algebra.c - the sorted-set commands over several keys: ZUNION,
 * ZINTER, ZDIFF, their STORE forms and ZINTERCARD (plain sets count as
 * sorted sets whose scores are all 1), and ZSCAN. Part of the sorted-set
 * commands of core/cmd_zset.c, which holds their table.
 *
 * Semantics, replies and error texts follow the Redis command reference
 * (see cmd_zset.c); the order of checks is Redis's: numkeys, the types of
 * the input keys, then the options.
 *
 * Threading: commands run on the shard thread that owns ctx->ks.
 */
#include <string.h>

#include "core/cmd_zset_int.h"
#include "core/set.h"

#define ERR_WEIGHT    "ERR weight value is not a float"
#define ERR_LIMIT_NEG "ERR LIMIT can't be negative"

/* --- ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD --------------- */

/* ap_zset_input functions over a plain set (struct ap_set *): every
 * member's score is 1. The set is only read. */
static size_t set_input_len(const void *src)
{
	return ap_set_len(src);
}

/* A plain set's member has score 1. */
static bool set_input_score(const void *src, const char *m, size_t len,
			    double *score)
{
	if (!ap_set_contains((struct ap_set *)src, m, len))
		return false;
	*score = 1;
	return true;
}

/* Walks a plain set's members with score 1. */
static void set_input_each(const void *src, ap_zset_visit_fn *fn, void *arg)
{
	struct ap_set_iter it;
	struct ap_set_elem e;

	ap_set_iter_init(&it, (struct ap_set *)src);
	while (ap_set_iter_next(&it, &e))
		fn(arg, e.str, e.len, 1);
	ap_set_iter_deinit(&it);
}

/* One set operation being run: its kind, inputs and options. */
struct setop {
	enum ap_zset_op op;
	bool card;	/* ZINTERCARD */
	int dst;	/* argv index of the destination; 0: none */
	int numkeys_at; /* argv index of numkeys */
	size_t n;
	struct ap_zset_input *in;
	struct ap_zset *zs; /* the sorted-set handles, n */
	struct ap_set *ss;  /* the plain-set handles, n */
	enum ap_zset_agg agg;
	bool scores;
	long long limit;
};

/* Parses numkeys: replies and returns false unless it is an integer of
 * at least 1 that the arguments can hold. */
static bool setop_numkeys(struct ap_cmd_ctx *c, struct setop *so)
{
	long long n;

	if (!ap_arg_ll(c, &c->argv[so->numkeys_at], &n))
		return false;
	if (n < 1) {
		ap_reply_errorf(c->r,
				"ERR at least 1 input key is needed for '%s' "
				"command",
				c->cmd->name);
		return false;
	}
	if (n > c->argc - so->numkeys_at - 1) {
		ap_reply_error(c->r, AP_ERR_SYNTAX);
		return false;
	}
	so->n = (size_t)n;
	return true;
}

/* Looks up the input keys (a missing key is an empty input; a plain set
 * counts its members with score 1). Replies WRONGTYPE and returns false
 * for another type. */
static bool setop_inputs(struct ap_cmd_ctx *c, struct setop *so)
{
	unsigned flags = so->dst ? 0 : AP_LK_READ;

	for (size_t i = 0; i < so->n; i++) {
		int k = so->numkeys_at + 1 + (int)i;
		struct ap_entry *e = ap_zcmd_lookup(c, k, flags);
		struct ap_zset_input *in = &so->in[i];

		in->src = NULL;
		in->weight = 1;
		if (e == NULL)
			continue;
		if (ap_entry_type(e) == AP_TYPE_ZSET) {
			ap_zcmd_zset_of(c, e, &so->zs[i]);
			ap_zset_input(in, &so->zs[i], 1);
		} else if (ap_entry_type(e) == AP_TYPE_SET) {
			so->ss[i].ptr = ap_entry_obj(e);
			so->ss[i].enc = ap_entry_enc(e);
			in->src = &so->ss[i];
			in->len = set_input_len;
			in->score = set_input_score;
			in->each = set_input_each;
		} else {
			ap_reply_error(c->r, AP_ERR_WRONGTYPE);
			return false;
		}
	}
	return true;
}

/* Parses AGGREGATE's argument. */
static bool agg_parse(const struct ap_arg *a, enum ap_zset_agg *agg)
{
	if (ap_arg_eq(a, "sum"))
		*agg = AP_ZAGG_SUM;
	else if (ap_arg_eq(a, "min"))
		*agg = AP_ZAGG_MIN;
	else if (ap_arg_eq(a, "max"))
		*agg = AP_ZAGG_MAX;
	else
		return false;
	return true;
}

/* Parses the options after the keys: WEIGHTS and AGGREGATE (not for the
 * difference), WITHSCORES (not when storing), LIMIT (ZINTERCARD). */
static bool setop_options(struct ap_cmd_ctx *c, struct setop *so)
{
	bool full = so->op != AP_ZOP_DIFF && !so->card;

	for (int j = so->numkeys_at + 1 + (int)so->n; j < c->argc; j++) {
		const struct ap_arg *a = &c->argv[j];
		size_t left = (size_t)(c->argc - j - 1);

		if (full && left >= so->n && ap_arg_eq(a, "weights")) {
			for (size_t i = 0; i < so->n; i++) {
				const struct ap_arg *w = &a[1 + i];

				if (!ap_str_to_d(w->p, w->len,
						 &so->in[i].weight)) {
					ap_reply_error(c->r, ERR_WEIGHT);
					return false;
				}
			}
			j += (int)so->n;
		} else if (full && left >= 1 && ap_arg_eq(a, "aggregate")) {
			if (!agg_parse(&a[1], &so->agg)) {
				ap_reply_error(c->r, AP_ERR_SYNTAX);
				return false;
			}
			j++;
		} else if (!so->dst && !so->card &&
			   ap_arg_eq(a, "withscores")) {
			so->scores = true;
		} else if (so->card && left >= 1 && ap_arg_eq(a, "limit")) {
			if (!ap_str_to_ll(a[1].p, a[1].len, &so->limit) ||
			    so->limit < 0) {
				ap_reply_error(c->r, ERR_LIMIT_NEG);
				return false;
			}
			j++;
		} else {
			ap_reply_error(c->r, AP_ERR_SYNTAX);
			return false;
		}
	}
	return true;
}

/* Computes the operation and replies (or stores) its result. */
static void setop_compute(struct ap_cmd_ctx *c, struct setop *so)
{
	struct ap_zset out = {.lp_max = ap_zcmd_lp_max(c),
			      .lp_value = ap_zcmd_lp_value(c)};
	struct ap_zcmd_emit em = {.r = c->r, .scores = so->scores};

	if (so->card) {
		ap_reply_int(c->r, (long long)ap_zset_inter_card(
					   so->in, so->n, (size_t)so->limit));
		return;
	}
	ap_zset_combine(&out, so->op, so->in, so->n, so->agg);
	if (so->dst) {
		ap_zcmd_store(c, so->dst, &out);
		return;
	}
	ap_zcmd_reply_header(c->r, ap_zset_len(&out), so->scores);
	ap_zset_each(&out, ap_zcmd_emit_visit, &em);
	ap_zset_destroy(&out);
}

/* The shared body: numkeys, inputs (type errors first, as Redis), then
 * options, then the work. */
static void setop_generic(struct ap_cmd_ctx *c, enum ap_zset_op op, int dst,
			  bool card)
{
	struct setop so = {.op = op,
			   .card = card,
			   .dst = dst,
			   .numkeys_at = dst ? 2 : 1,
			   .agg = AP_ZAGG_SUM};

	if (!setop_numkeys(c, &so))
		return;
	so.in = ap_malloc(so.n * sizeof(*so.in));
	so.zs = ap_malloc(so.n * sizeof(*so.zs));
	so.ss = ap_malloc(so.n * sizeof(*so.ss));
	if (setop_inputs(c, &so) && setop_options(c, &so))
		setop_compute(c, &so);
	ap_free(so.in);
	ap_free(so.zs);
	ap_free(so.ss);
}

/* ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE a] [WITHSCORES] */
void ap_zcmd_zunion(struct ap_cmd_ctx *c)
{
	setop_generic(c, AP_ZOP_UNION, 0, false);
}

/* ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE a] [WITHSCORES] */
void ap_zcmd_zinter(struct ap_cmd_ctx *c)
{
	setop_generic(c, AP_ZOP_INTER, 0, false);
}

/* ZDIFF numkeys key [key ...] [WITHSCORES] */
void ap_zcmd_zdiff(struct ap_cmd_ctx *c)
{
	setop_generic(c, AP_ZOP_DIFF, 0, false);
}

/* ZUNIONSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE a] */
void ap_zcmd_zunionstore(struct ap_cmd_ctx *c)
{
	setop_generic(c, AP_ZOP_UNION, 1, false);
}

/* ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE a] */
void ap_zcmd_zinterstore(struct ap_cmd_ctx *c)
{
	setop_generic(c, AP_ZOP_INTER, 1, false);
}

/* ZDIFFSTORE dst numkeys key [key ...] */
void ap_zcmd_zdiffstore(struct ap_cmd_ctx *c)
{
	setop_generic(c, AP_ZOP_DIFF, 1, false);
}

/* ZINTERCARD numkeys key [key ...] [LIMIT limit] */
void ap_zcmd_zintercard(struct ap_cmd_ctx *c)
{
	setop_generic(c, AP_ZOP_INTER, 0, true);
}

/* --- ZSCAN --------------------------------------------------------------- */

/* A ZSCAN step's output: members written to a side buffer. */
struct scan_out {
	struct ap_reply r;
	const struct ap_arg *match; /* NULL: everything */
	bool listpack;		    /* scores in the listpack's text */
	size_t items;
};

/*
 * A score as ZSCAN shows it, into buf (64 bytes): a listpack keeps an
 * integral score as an integer, so its text is the integer's digits
 * (Redis shows the listpack element); a skiplist's is %.17g.
 */
static size_t scan_score_text(char *buf, double s, bool listpack)
{
	if (listpack && s >= -9223372036854775808.0 &&
	    s < 9223372036854775808.0 && s == (double)(long long)s)
		return ap_ll_to_str(buf, (long long)s);
	return ap_d_to_str(buf, s);
}

/* ap_zset_visit_fn: writes member and score (as text, in both
 * protocols) if the member matches. */
static void scan_emit(void *arg, const char *m, size_t len, double score)
{
	struct scan_out *so = arg;
	char buf[64];

	if (so->match &&
	    !ap_glob_match(so->match->p, so->match->len, m, len, false))
		return;
	ap_reply_bulk(&so->r, m, len);
	ap_reply_bulk(&so->r, buf, scan_score_text(buf, score, so->listpack));
	so->items += 2;
}

/*
 * ZSCAN key cursor [MATCH pattern] [COUNT count]: the next cursor and a
 * flat array of member, score (scores as text in both protocols). Checks
 * in Redis's order: the cursor, the key (a missing key is an empty,
 * finished scan whatever the options), the options.
 */
void ap_zcmd_zscan(struct ap_cmd_ctx *c)
{
	uint64_t cursor;
	struct scan_out so = {.items = 0};
	struct ap_scan_args args;
	struct ap_obuf side;
	struct ap_zset z;
	uint64_t next;
	bool found;

	if (!ap_scan_cursor_parse(c, &c->argv[2], &cursor))
		return;
	if (!ap_zcmd_zset_read(c, 1, &z, &found))
		return;
	if (!found) {
		ap_scan_reply_write(c->r, 0, 0, NULL);
		return;
	}
	if (!ap_scan_args_parse(c, 3, false, &args))
		return;
	so.match = args.match;
	so.listpack = z.enc == AP_ENC_LISTPACK;
	ap_obuf_init(&side);
	ap_reply_init(&so.r, &side, c->r->proto);
	next = ap_zset_scan(&z, cursor, args.count, scan_emit, &so);
	ap_scan_reply_write(c->r, next, so.items, &side);
	ap_obuf_deinit(&side);
}
